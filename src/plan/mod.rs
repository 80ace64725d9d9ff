//! PURE: plans. `InitPlan` — the files `init` writes, with their new contents and why.

pub mod cdi;
pub mod compose;
pub mod daemon;
pub mod gpu_mode;
pub mod gpus;
pub mod host_command;
pub mod toolkit;
pub mod init;
pub mod lock;
pub mod podman_spec;
pub mod features;
pub mod remote_user;
pub mod up;
pub mod image_builder;
pub mod workspace;
pub mod verify;

pub use gpus::{GpuSelection, GpuSelectionError};
pub use init::{plan_init, ExistingFiles, FileAction, InitOptions, InitPlan, PlannedFile};
