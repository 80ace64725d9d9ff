//! What the resolver decides: the stack the generated Dockerfile builds on, with a reason for every choice.

use super::image_tag::Flavor;
use super::versions::{ComputeCap, CudaVersion, DriverVersion, PythonVersion};
use serde::Serialize;

/// Which framework the project is built around (`--framework`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Framework {
    Pytorch,
    Tensorflow,
    Jax,
}

impl Framework {
    pub fn as_str(self) -> &'static str {
        match self {
            Framework::Pytorch => "pytorch",
            Framework::Tensorflow => "tensorflow",
            Framework::Jax => "jax",
        }
    }
}

/// `--framework auto|pytorch|tensorflow|jax|none`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FrameworkChoice {
    #[default]
    Auto,
    Exactly(Framework),
    NoFramework,
}

/// Where the target host's facts came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TargetOrigin {
    /// `--driver` / `--compute-cap`.
    Flags,
    /// The GPU of the machine `init` runs on.
    LocalGpu,
    /// The GPU of the Docker host (`init --from-host`: doctor's facts of a daemon on another machine).
    DockerHost,
    /// Nothing known: the newest stack the pins allow.
    Unknown,
}

/// The GPU host the container will run on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetHost {
    pub driver: Option<DriverVersion>,
    pub compute_cap: Option<ComputeCap>,
    pub gpu_name: Option<String>,
    pub origin: TargetOrigin,
}

impl TargetHost {
    pub fn unknown() -> Self {
        TargetHost { driver: None, compute_cap: None, gpu_name: None, origin: TargetOrigin::Unknown }
    }
}

/// The user's explicit choices from the command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StackRequest {
    pub framework: FrameworkChoice,
    pub cuda: Option<CudaVersion>,
    pub python: Option<PythonVersion>,
}

/// How Python gets into the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PythonSource {
    /// The distribution's own `python3`.
    System,
    /// The deadsnakes PPA (signed apt repository) for versions the distribution does not ship.
    Deadsnakes,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FrameworkStack {
    pub name: Framework,
    /// The release series chosen (`2.6`) or the exact pin (`2.4.1`).
    pub version: String,
    /// PyTorch's wheel variant (`cu124`); None where the framework's wheels pick their CUDA themselves.
    pub wheel_variant: Option<String>,
    /// The index the framework wheels come from, e.g. `https://download.pytorch.org/whl/cu124`.
    pub index_url: Option<String>,
    /// pip arguments for the framework install step, e.g. `["torch==2.6.*", "torchvision"]`.
    pub packages: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Stack {
    /// `12.4`
    pub cuda: String,
    /// `12.4.1`
    pub cuda_full: String,
    /// `nvidia/cuda:12.4.1-base-ubuntu22.04`
    pub image: String,
    pub flavor: Flavor,
    pub cudnn: bool,
    pub ubuntu: String,
    pub python: String,
    pub python_source: PythonSource,
    /// The image's CUDA is newer than the driver's and starts only through minor-version compatibility (a devel
    /// image matching a torch wheel's CUDA): the Dockerfile then sets NVIDIA_DISABLE_REQUIRE.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub cuda_minor_compat: bool,
    pub framework: Option<FrameworkStack>,
    /// Why each choice was made, in the order made.
    pub reasons: Vec<String>,
    /// What was assumed for lack of facts.
    pub assumptions: Vec<String>,
    /// Pins that were overruled and problems found in existing files, each with the fix.
    pub warnings: Vec<String>,
}
