//! EDGE+parse: facts about the machine devgpu runs on. For `init`, only the local GPU (to aim the stack at it).

pub mod daemon_json;
pub mod driver_files;
pub mod gpu_devices;
pub mod local_user;
#[cfg(test)]
pub(crate) mod gpu_fixtures;
pub mod cdi;
pub mod facts;
pub mod nvidia_smi;
pub mod nvidia_smi_xml;
pub mod nvml;
pub mod proc_driver;
pub mod remote;
pub mod toolkit;
pub mod os_release;

pub use nvidia_smi::{parse_query_gpu, GpuInfo};

use std::process::Command;

/// The fields `nvidia-smi --query-gpu` is asked for, in this order (the parser reads the header it prints back).
pub const QUERY_GPU_FIELDS: &str = "index,name,uuid,pci.bus_id,driver_version,compute_cap,memory.total,mig.mode.current";

/// The local GPUs through `nvidia-smi`, or an empty list where there is no driver (the common case off the GPU box).
/// A failing `nvidia-smi` is reported as an error string so `init` can say why it assumed nothing.
pub fn local_gpus() -> Result<Vec<GpuInfo>, String> {
    let out = match Command::new("nvidia-smi").arg(format!("--query-gpu={QUERY_GPU_FIELDS}")).arg("--format=csv").output() {
        Ok(o) => o,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("could not run nvidia-smi: {e}")),
    };
    if !out.status.success() {
        let msg = String::from_utf8_lossy(&out.stdout).trim().to_string() + String::from_utf8_lossy(&out.stderr).trim();
        return Err(format!("nvidia-smi failed: {msg}"));
    }
    parse_query_gpu(&String::from_utf8_lossy(&out.stdout))
}
