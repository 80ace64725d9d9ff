//! PURE: plans. `InitPlan` — the files `init` writes, with their new contents and why.

pub mod gpus;
pub mod init;

pub use gpus::{GpuSelection, GpuSelectionError};
pub use init::{plan_init, ExistingFiles, FileAction, InitOptions, InitPlan, PlannedFile};
