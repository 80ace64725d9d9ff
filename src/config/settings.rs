//! What devgpu wants in a devcontainer.json, and what a merge did.

/// The settings devgpu merges into an existing devcontainer.json (see [`super::merge_gpu_settings`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GpuSettings {
    /// e.g. `["--gpus", "all"]`, `["--gpus", "2"]` or `["--gpus", "\"device=0,2\""]`; empty = don't request a GPU
    /// through runArgs. Added only when runArgs has no GPU request yet (see [`super::run_args`] for what counts).
    pub gpu_run_args: Vec<String>,
    /// When runArgs already request GPUs another way (another GPU mode, or an inject block for other nodes or
    /// driver paths), replace those items with `gpu_run_args` instead of keeping them (see
    /// [`crate::plan::cdi::gpu_items`] for what counts).
    pub replace_gpu_request: bool,
    /// e.g. `["--shm-size", "8g"]` or `["--ipc=host"]`; added only if no `--shm-size`/`--ipc` is present in any form.
    pub shm_run_args: Vec<String>,
    /// Value for `hostRequirements.gpu` (`true`, `"optional"`, or an object); set only when it is absent.
    pub host_requirements_gpu: Option<serde_json::Value>,
    /// When `Some`, devgpu owns the build: `build.dockerfile`, `build.context` and the given `build.args` are set
    /// (other keys of an existing `build` are kept) and a top-level `image` is removed (a config cannot have both).
    /// When `None`, image/build are left alone.
    pub build: Option<BuildSettings>,
    /// Set only when `remoteUser` is absent.
    pub remote_user: Option<String>,
    /// Ensured present in `customizations.vscode.extensions` (appended if missing, existing entries untouched).
    pub extensions: Vec<String>,
    /// Set `name` only when it is absent.
    pub name: Option<String>,
}

/// The build devgpu owns: paths relative to the folder holding devcontainer.json.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildSettings {
    pub dockerfile: String,
    pub context: String,
    /// Build arguments, in the order they are written when added.
    pub args: Vec<(String, String)>,
}

/// The result of [`super::merge_gpu_settings`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MergeOutcome {
    /// The whole file after the merge (byte-identical to the input when `changes` is empty).
    pub text: String,
    /// One human line per edit made, e.g. `added --gpus all to runArgs`. Empty exactly when nothing changed.
    pub changes: Vec<String>,
    /// Things found and kept that the user should know, e.g. an existing `--gpus 1` that differs from the
    /// requested `--gpus all`. Lines here never describe an edit.
    pub notes: Vec<String>,
}

impl MergeOutcome {
    /// True when the merge left the file as it was.
    pub fn is_unchanged(&self) -> bool {
        self.changes.is_empty()
    }
}
