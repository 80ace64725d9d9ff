//! PURE: the knowledge base (tables with sources, in `templates/compat/`) and the resolver → [`Stack`].

pub mod image_tag;
pub mod knowledge;
pub mod live;
pub mod pins;
pub mod resolve;
pub mod stack;
/// The version value types are facts (model/); `compat::versions` stays a valid path.
pub use crate::model::versions;

pub use image_tag::{check_image, parse_cuda_image, Flavor};
pub use knowledge::knowledge;
pub use resolve::{resolve, resolve_with, ResolveError};
pub use stack::*;
pub use versions::{ComputeCap, CudaVersion, DriverVersion, PythonVersion};
#[cfg(test)]
mod tests;
