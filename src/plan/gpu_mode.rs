//! PURE: the three ways a container gets the GPU, which of them work on a host, and the runArgs of each.
//!
//! | mode | runArgs | needs on the Docker host |
//! |---|---|---|
//! | `toolkit` | `--gpus all` (a `DeviceRequest`) | nvidia-container-toolkit, Docker restarted after installing it |
//! | `cdi` | `--device nvidia.com/gpu=all` | Docker ≥ 25 with `features.cdi` (or Podman) and a CDI spec (`devgpu host cdi`) |
//! | `inject` | `--device /dev/nvidia0 …`, `--mount …/usr/local/nvidia,readonly`, `-e LD_LIBRARY_PATH=…` | the device nodes and the driver's files: any Docker |
//!
//! Every mode needs the NVIDIA device nodes: a host without them gets the same diagnosis whatever the mode.
//! Selecting GPUs works in each: `--gpus N` / `"device=…"` for toolkit, one `--device nvidia.com/gpu=ID` per GPU for
//! cdi (the spec names GPUs by index and UUID), the selected GPUs' `/dev/nvidiaN` for inject.

use super::cdi::{edits_for, inject_run_args, CDI_KIND};
use super::gpus::GpuSelection;
use crate::checks::Check;
use crate::error::ErrorCode;
use crate::model::host::{DriverFiles, GpuAccessError, GpuDeviceFacts};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GpuMode {
    Toolkit,
    Cdi,
    Inject,
}

impl GpuMode {
    pub const ALL: [GpuMode; 3] = [GpuMode::Toolkit, GpuMode::Cdi, GpuMode::Inject];

    pub fn name(self) -> &'static str {
        match self {
            GpuMode::Toolkit => "toolkit",
            GpuMode::Cdi => "cdi",
            GpuMode::Inject => "inject",
        }
    }

    /// How the mode asks for the GPU, in a few words.
    pub fn how(self) -> &'static str {
        match self {
            GpuMode::Toolkit => "--gpus through nvidia-container-toolkit",
            GpuMode::Cdi => "--device nvidia.com/gpu=… through a CDI spec",
            GpuMode::Inject => "device nodes and the driver's files passed in by runArgs",
        }
    }
}

impl std::fmt::Display for GpuMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What decides which modes work on a host (gathered by the command).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModeFacts {
    /// A driver is there (kernel module or NVML): without one no mode applies and the mode check is skipped.
    pub driver_present: bool,
    /// `/dev/nvidiactl` and at least one `/dev/nvidiaN`: the error otherwise.
    pub device_nodes: Result<usize, String>,
    /// The driver's files for compute,utility: a one-line summary, or the error.
    pub driver_files: Result<String, String>,
    /// nvidia-container-runtime-hook is installed (what `--gpus` needs).
    pub toolkit_hook: bool,
    pub docker_reachable: bool,
    pub docker_version: Option<String>,
    /// The daemon applies CDI devices (`docker info` reports CDI spec folders: Docker ≥ 25 with features.cdi).
    pub daemon_cdi: bool,
    /// `nvidia.com/gpu=…` names defined by the CDI specs on this host.
    pub cdi_devices: Vec<String>,
    /// Files named by those specs that do not exist: (spec, file).
    pub cdi_missing: Vec<(String, String)>,
}

/// One mode on one host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModeAssessment {
    pub mode: GpuMode,
    pub usable: bool,
    pub summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

const NODES_FIX: &str = "`sudo nvidia-modprobe -c 0 -u` creates /dev/nvidiactl, /dev/nvidia0 and /dev/nvidia-uvm (loading the driver or a reboot does too)";

/// Each mode's verdict, in the order toolkit, cdi, inject.
pub fn assess(f: &ModeFacts) -> Vec<ModeAssessment> {
    if let Err(e) = &f.device_nodes {
        return GpuMode::ALL
            .iter()
            .map(|&mode| ModeAssessment { mode, usable: false, summary: e.clone(), fix: Some(NODES_FIX.into()) })
            .collect();
    }
    let toolkit = if f.toolkit_hook {
        ModeAssessment { mode: GpuMode::Toolkit, usable: true, summary: "nvidia-container-toolkit is installed: --gpus works".into(), fix: None }
    } else {
        ModeAssessment {
            mode: GpuMode::Toolkit,
            usable: false,
            summary: "nvidia-container-toolkit is not installed".into(),
            fix: Some("`devgpu host install-toolkit` prints the install steps; then restart Docker".into()),
        }
    };
    let docker = f.docker_version.as_ref().map(|v| format!("Docker {v}")).unwrap_or_else(|| "the daemon".into());
    let cdi = if !f.docker_reachable {
        ModeAssessment { mode: GpuMode::Cdi, usable: false, summary: "Docker did not answer, so whether it applies CDI devices is unknown".into(), fix: None }
    } else if !f.daemon_cdi {
        ModeAssessment {
            mode: GpuMode::Cdi,
            usable: false,
            summary: format!("{docker} does not apply CDI devices (it needs Docker ≥ 25 with features.cdi)"),
            fix: Some("on Docker ≥ 25: `sudo devgpu host configure-docker --cdi --restart`, then `sudo devgpu host cdi`".into()),
        }
    } else if let Some((spec, file)) = f.cdi_missing.first() {
        ModeAssessment {
            mode: GpuMode::Cdi,
            usable: false,
            summary: format!("the CDI spec {spec} names {file}, which does not exist (written for another driver?)"),
            fix: Some(format!("regenerate it: `sudo devgpu host cdi --output {spec}`")),
        }
    } else if !f.cdi_devices.iter().any(|d| d.starts_with(&format!("{CDI_KIND}="))) {
        ModeAssessment {
            mode: GpuMode::Cdi,
            usable: false,
            summary: format!("{docker} applies CDI devices, but no CDI spec defines {CDI_KIND}"),
            fix: Some("write one: `sudo devgpu host cdi`".into()),
        }
    } else {
        let shown: Vec<&str> = f.cdi_devices.iter().take(3).map(String::as_str).collect();
        ModeAssessment { mode: GpuMode::Cdi, usable: true, summary: format!("{docker} applies CDI devices: {}", shown.join(", ")), fix: None }
    };
    let inject = match &f.driver_files {
        Ok(s) => ModeAssessment { mode: GpuMode::Inject, usable: true, summary: format!("device nodes and driver files found ({s}): works with any Docker"), fix: None },
        Err(e) => ModeAssessment { mode: GpuMode::Inject, usable: false, summary: e.clone(), fix: Some("pass the driver's folder: `devgpu init --gpu-mode inject --driver-root DIR`".into()) },
    };
    vec![toolkit, cdi, inject]
}

/// The mode devgpu recommends: the first usable of toolkit, cdi, inject.
pub fn recommend(assessments: &[ModeAssessment]) -> Option<GpuMode> {
    assessments.iter().find(|a| a.usable).map(|a| a.mode)
}

/// doctor's `gpu.mode` check.
pub fn mode_check(f: &ModeFacts, assessments: &[ModeAssessment]) -> Check {
    const ID: &str = "gpu.mode";
    if !f.driver_present {
        return Check::skip(ID, "no NVIDIA driver: no GPU mode applies");
    }
    if let Err(e) = &f.device_nodes {
        return Check::fail(ID, e.clone(), NODES_FIX);
    }
    let others = |skip: GpuMode| -> String {
        assessments
            .iter()
            .filter(|a| a.mode != skip)
            .map(|a| if a.usable { format!("{} also works", a.mode) } else { format!("{}: {}", a.mode, a.summary) })
            .collect::<Vec<_>>()
            .join("; ")
    };
    match recommend(assessments) {
        Some(mode) => {
            let a = assessments.iter().find(|a| a.mode == mode).expect("recommended from the list");
            Check::pass(ID, format!("GPU mode {mode} ({}): {}. {}", mode.how(), a.summary, others(mode)))
        }
        None => {
            let why = assessments.iter().map(|a| format!("{}: {}", a.mode, a.summary)).collect::<Vec<_>>().join("; ");
            let fix = assessments.iter().filter_map(|a| a.fix.as_ref().map(|f| format!("{}: {f}", a.mode))).collect::<Vec<_>>().join("\n");
            Check::fail(ID, format!("no GPU mode works on this host — {why}"), fix)
        }
    }
}

/// `auto` for `init`: toolkit where it is installed; else inject where this machine has the GPU's nodes and files;
/// else toolkit (init runs away from the GPU host, which most often has the toolkit). The reason comes along.
pub fn auto_mode(toolkit_hook: bool, inject_ready: bool) -> (GpuMode, &'static str) {
    if toolkit_hook {
        (GpuMode::Toolkit, "nvidia-container-toolkit is installed here")
    } else if inject_ready {
        (GpuMode::Inject, "no nvidia-container-toolkit here, but the GPU's device nodes and driver files are: devgpu passes them in (works with any Docker)")
    } else {
        (GpuMode::Toolkit, "no GPU on this machine: assuming the GPU host has nvidia-container-toolkit (--gpu-mode cdi or inject choose otherwise)")
    }
}

/// Why the runArgs of a mode cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModeArgsError {
    #[error(transparent)]
    Access(#[from] GpuAccessError),
    #[error("in cdi mode GPUs are chosen by index or UUID (the names in the CDI spec), not `{id}`")]
    CdiId { id: String },
}

impl crate::error::Coded for ModeArgsError {
    fn code(&self) -> ErrorCode {
        match self {
            ModeArgsError::Access(e) => e.code(),
            ModeArgsError::CdiId { .. } => ErrorCode::InvalidGpus,
        }
    }
    fn hints(&self) -> Vec<String> {
        match self {
            ModeArgsError::Access(e) => e.hints(),
            ModeArgsError::CdiId { .. } => vec!["`nvidia-smi -L` lists each GPU's index and UUID".into()],
        }
    }
}

/// `--device nvidia.com/gpu=…` items for a selection.
pub fn cdi_args(sel: &GpuSelection) -> Result<Vec<String>, ModeArgsError> {
    let ids: Vec<String> = match sel {
        GpuSelection::All => vec!["all".into()],
        GpuSelection::Count(n) => (0..*n).map(|i| i.to_string()).collect(),
        GpuSelection::Devices(ids) => {
            for id in ids {
                if !(id.parse::<u32>().is_ok() || id.to_ascii_lowercase().starts_with("gpu-")) {
                    return Err(ModeArgsError::CdiId { id: id.clone() });
                }
            }
            ids.clone()
        }
    };
    Ok(ids.into_iter().flat_map(|id| ["--device".to_string(), format!("{CDI_KIND}={id}")]).collect())
}

/// The runArgs of a mode for a selection. `inject` needs the host's device facts and driver files.
pub fn mode_run_args(mode: GpuMode, sel: &GpuSelection, host: Option<(&GpuDeviceFacts, &DriverFiles)>) -> Result<Vec<String>, ModeArgsError> {
    match mode {
        GpuMode::Toolkit => Ok(sel.run_args()),
        GpuMode::Cdi => cdi_args(sel),
        GpuMode::Inject => {
            let (devices, files) = host.expect("inject mode is planned with the host's facts");
            devices.require_nodes()?;
            let gpus = devices.select(sel)?;
            Ok(inject_run_args(&edits_for(&gpus, devices, files)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Status;
    use crate::host::driver_files::{resolve, DEFAULT_CAPABILITIES};
    use crate::host::gpu_fixtures::{h200, h200_scan, ubuntu, ubuntu_scan};

    fn h200_facts() -> ModeFacts {
        ModeFacts {
            driver_present: true,
            device_nodes: Ok(1),
            driver_files: Ok("driver 580.159.04 in /usr/local/nvidia".into()),
            toolkit_hook: false,
            docker_reachable: true,
            docker_version: Some("20.10.24+dfsg1".into()),
            daemon_cdi: false,
            cdi_devices: vec![],
            cdi_missing: vec![],
        }
    }

    #[test]
    fn the_h200_gets_inject() {
        let f = h200_facts();
        let a = assess(&f);
        assert_eq!(a.iter().map(|a| a.usable).collect::<Vec<_>>(), [false, false, true]);
        assert_eq!(recommend(&a), Some(GpuMode::Inject));
        assert!(a[1].summary.contains("Docker 20.10.24+dfsg1 does not apply CDI devices"), "{}", a[1].summary);
        let c = mode_check(&f, &a);
        assert_eq!(c.status, Status::Pass);
        assert!(c.summary.starts_with("GPU mode inject"), "{}", c.summary);
        assert!(c.summary.contains("toolkit: nvidia-container-toolkit is not installed"), "{}", c.summary);
    }

    #[test]
    fn preference_and_cdi_states() {
        let mut f = h200_facts();
        f.toolkit_hook = true;
        assert_eq!(recommend(&assess(&f)), Some(GpuMode::Toolkit));
        f.toolkit_hook = false;
        f.daemon_cdi = true;
        assert!(assess(&f)[1].summary.contains("no CDI spec defines nvidia.com/gpu"));
        f.cdi_devices = vec!["nvidia.com/gpu=all".into()];
        assert_eq!(recommend(&assess(&f)), Some(GpuMode::Cdi));
        f.cdi_missing = vec![("/etc/cdi/nvidia.yaml".into(), "/usr/lib/x86_64-linux-gnu/libcuda.so.535.183.01".into())];
        let a = assess(&f);
        assert!(!a[1].usable && a[1].summary.contains("libcuda.so.535.183.01"));
        assert_eq!(recommend(&a), Some(GpuMode::Inject));
    }

    #[test]
    fn no_device_nodes_fails_every_mode_alike() {
        let mut f = h200_facts();
        f.toolkit_hook = true;
        f.device_nodes = Err("no NVIDIA device nodes on this host: /dev/nvidiactl missing in /dev".into());
        let a = assess(&f);
        assert!(a.iter().all(|a| !a.usable && a.summary.contains("no NVIDIA device nodes")));
        let c = mode_check(&f, &a);
        assert_eq!(c.status, Status::Fail);
        assert!(c.fix.unwrap().contains("nvidia-modprobe"));
        f.driver_present = false;
        assert_eq!(mode_check(&f, &a).status, Status::Skip);
    }

    #[test]
    fn selections_in_every_mode() {
        let sel = |s: &str| s.parse::<GpuSelection>().unwrap();
        // toolkit
        assert_eq!(mode_run_args(GpuMode::Toolkit, &sel("2"), None).unwrap(), ["--gpus", "2"]);
        // cdi
        assert_eq!(mode_run_args(GpuMode::Cdi, &sel("all"), None).unwrap(), ["--device", "nvidia.com/gpu=all"]);
        assert_eq!(mode_run_args(GpuMode::Cdi, &sel("2"), None).unwrap(), ["--device", "nvidia.com/gpu=0", "--device", "nvidia.com/gpu=1"]);
        assert_eq!(mode_run_args(GpuMode::Cdi, &sel("GPU-7b8238c7-8f23-f0a1-12fc-4a5b75119cb4"), None).unwrap()[1], "nvidia.com/gpu=GPU-7b8238c7-8f23-f0a1-12fc-4a5b75119cb4");
        assert!(matches!(mode_run_args(GpuMode::Cdi, &sel("device=0000:01:00.0"), None), Err(ModeArgsError::CdiId { .. })));
        // inject: the selected GPU's node (by UUID → /dev/nvidia0 on the Ubuntu host, whose GPU 1 is minor 0)
        let devices = ubuntu();
        let files = resolve(&ubuntu_scan(), &DEFAULT_CAPABILITIES).unwrap();
        let args = mode_run_args(GpuMode::Inject, &sel("GPU-8e7d6c5b-4a39-4f28-9e17-f0e1d2c3b4a5"), Some((&devices, &files))).unwrap();
        let nodes: Vec<&String> = args.iter().skip(1).step_by(2).take(4).collect();
        assert_eq!(nodes, ["/dev/nvidia0", "/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools"]);
        let args = mode_run_args(GpuMode::Inject, &sel("1"), Some((&devices, &files))).unwrap();
        assert_eq!(args[1], "/dev/nvidia1", "the first GPU by index is minor 1");
        assert!(args.contains(&"type=bind,source=/usr/lib/x86_64-linux-gnu/libcuda.so.550.54.15,target=/usr/local/nvidia/lib64/libcuda.so.1,readonly".to_string()));
        assert!(matches!(mode_run_args(GpuMode::Inject, &sel("device=5"), Some((&devices, &files))), Err(ModeArgsError::Access(GpuAccessError::UnknownGpu { .. }))));
        let h = h200();
        let hf = resolve(&h200_scan(), &DEFAULT_CAPABILITIES).unwrap();
        assert_eq!(mode_run_args(GpuMode::Inject, &sel("all"), Some((&h, &hf))).unwrap().len(), 12);
        // No nodes: the same diagnosis, whichever mode would have been used.
        let empty = crate::host::gpu_devices::map_devices("/dev", vec![], &[], &[], &[]);
        let e = mode_run_args(GpuMode::Inject, &sel("all"), Some((&empty, &hf))).unwrap_err();
        assert_eq!(crate::error::Coded::code(&e), "no-gpu-device-nodes");
    }

    #[test]
    fn auto_mode_choice() {
        assert_eq!(auto_mode(true, true).0, GpuMode::Toolkit);
        assert_eq!(auto_mode(false, true).0, GpuMode::Inject);
        assert_eq!(auto_mode(false, false).0, GpuMode::Toolkit);
    }
}
