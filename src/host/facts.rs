//! [`HostFacts`]: everything `devgpu doctor` knows about the machine, its Docker daemon and (when run in a repository)
//! the dev container's image — the plain struct the pure checks (`checks::doctor`) read. The gathering here is
//! the edge: files read directly, NVML loaded in-process, `nvidia-smi` only when NVML could not be used.

use super::daemon_json::{read_daemon_json, DaemonJson, DaemonJsonError};
use super::nvidia_smi::GpuInfo;
use super::nvidia_smi_xml::SmiFallback;
use super::nvml::{NvmlFacts, NvmlStatus};
use super::proc_driver::KernelModule;
use crate::compat::{CudaVersion, DriverVersion};
use crate::docker::RuntimeFact;
use crate::error::Coded;
use std::path::Path;
pub use crate::model::host::{HostFacts, DeviceNodes, DaemonJsonFacts, DaemonJsonProblem, ProjectImageFacts, ImageRef, ser_cuda};




/// Read `/dev` (edge).
pub fn device_nodes() -> DeviceNodes {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let mut d = DeviceNodes::default();
    let Ok(entries) = std::fs::read_dir("/dev") else { return d };
    let mut names: Vec<String> = entries.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).filter(|n| n.starts_with("nvidia")).collect();
    names.sort_by_key(|n| (n.len(), n.clone()));
    for name in names {
        let path = format!("/dev/{name}");
        let Ok(meta) = std::fs::metadata(&path) else { continue };
        if !meta.file_type().is_char_device() {
            continue;
        }
        match name.as_str() {
            "nvidiactl" => d.nvidiactl = true,
            "nvidia-uvm" => d.nvidia_uvm = true,
            n if n[6..].chars().all(|c| c.is_ascii_digit()) && n.len() > 6 => d.gpus.push(path.clone()),
            _ => {}
        }
        let rdev = meta.rdev();
        let (major, minor) = (((rdev >> 8) & 0xfff) | ((rdev >> 32) & !0xfff), (rdev & 0xff) | ((rdev >> 12) & !0xff));
        if !Path::new(&format!("/dev/char/{major}:{minor}")).exists() {
            d.dev_char_missing.push(path);
        }
    }
    d
}



impl DaemonJsonFacts {
    /// Summarise `read_daemon_json`'s answer (pure).
    pub fn from_read(path: &Path, read: Result<Option<DaemonJson>, DaemonJsonError>) -> Self {
        let file = path.display().to_string();
        let mut f = DaemonJsonFacts {
            path: file.clone(),
            state: "missing".into(),
            runtimes: Vec::new(),
            default_runtime: None,
            features_cdi: None,
            exec_opts: Vec::new(),
            cgroup_driver: None,
            warnings: Vec::new(),
            error: None,
        };
        match read {
            Ok(None) => {}
            Ok(Some(j)) => {
                f.state = "ok".into();
                f.runtimes = j.runtimes.iter().map(|(n, e)| RuntimeFact { name: n.clone(), path: e.path.clone(), args: e.args.clone() }).collect();
                f.default_runtime = j.default_runtime.clone();
                f.features_cdi = j.features_cdi;
                f.exec_opts = j.exec_opts.clone();
                f.cgroup_driver = j.cgroup_driver.clone();
                f.warnings = j.duplicate_warnings(&file);
                for (rt, args) in j.ignored_args() {
                    f.warnings.push(format!("{file}: runtimes.{rt}: dockerd ignores `args` ({}); it reads `runtimeArgs`", args.join(" ")));
                }
            }
            Err(e) => {
                let (line, column, reason) = match &e {
                    DaemonJsonError::Refused { line, column, reason, .. } => (Some(*line), Some(*column), Some(reason.clone())),
                    _ => (None, None, None),
                };
                f.state = if reason.is_some() { "refused" } else { "unreadable" }.into();
                f.error = Some(DaemonJsonProblem { code: e.code().to_string(), message: e.to_string(), line, column, reason, hints: e.hints() });
            }
        }
        f
    }

    pub fn nvidia_runtimes(&self) -> impl Iterator<Item = &RuntimeFact> {
        self.runtimes.iter().filter(|r| r.is_nvidia())
    }
}

/// Read daemon.json (edge).
pub fn daemon_json(path: &Path) -> DaemonJsonFacts {
    DaemonJsonFacts::from_read(path, read_daemon_json(path))
}



impl ProjectImageFacts {
    /// The image the dev container runs: the devcontainer.json image, else the Dockerfile's last `FROM`.
    pub fn runtime_image(&self) -> Option<&ImageRef> {
        self.images.last()
    }
}

/// Find and read the dev container config of the repository at `root` (edge). None when there is none.
pub fn project_image(root: &Path) -> Option<ProjectImageFacts> {
    let rel = crate::config::find_devcontainer(|r| root.join(r).is_file())?;
    let mut p = ProjectImageFacts { devcontainer: rel.to_string(), images: Vec::new(), compose: false, torch_variant: None, errors: Vec::new() };
    let text = match std::fs::read_to_string(root.join(rel)) {
        Ok(t) => t,
        Err(e) => {
            p.errors.push(format!("cannot read {rel}: {e}"));
            return Some(p);
        }
    };
    let config = match crate::config::parse_jsonc(&text, rel) {
        Ok(c) => c,
        Err(e) => {
            p.errors.push(e.to_string());
            return Some(p);
        }
    };
    let dir = Path::new(rel).parent().unwrap_or(Path::new(""));
    match crate::config::summarize(&config).source {
        crate::config::ContainerSource::Image(image) => p.images.push(ImageRef { image, source: rel.to_string() }),
        crate::config::ContainerSource::Dockerfile { dockerfile, .. } => {
            let df_rel = normalize(&dir.join(&dockerfile));
            match std::fs::read_to_string(root.join(&df_rel)) {
                Ok(t) => {
                    let facts = crate::project::dockerfile::parse_dockerfile(&t, &df_rel);
                    p.images.extend(facts.from.into_iter().map(|f| ImageRef { image: f.image, source: format!("{df_rel}:{}", f.line) }));
                }
                Err(e) => p.errors.push(format!("cannot read {df_rel} (the Dockerfile {rel} builds): {e}")),
            }
        }
        crate::config::ContainerSource::Compose { .. } => p.compose = true,
        crate::config::ContainerSource::Missing => p.errors.push(format!("{rel} names no image, Dockerfile or Compose file")),
    }
    match crate::project::scan(root) {
        Ok(facts) => p.torch_variant = torch_variant(&facts),
        Err(e) => p.errors.push(e.to_string()),
    }
    Some(p)
}

/// The PyTorch CUDA variant a project pins: `torch==2.4.1+cu121`, else a `download.pytorch.org/whl/cu121` index (pure).
pub fn torch_variant(p: &crate::project::ProjectFacts) -> Option<ImageRef> {
    let loc = |s: &crate::project::SourceLoc| match s.line {
        Some(l) => format!("{}:{l}", s.file),
        None => s.file.clone(),
    };
    let torch = ["torch", "torchvision", "torchaudio"];
    p.requirements
        .iter()
        .filter(|r| torch.contains(&r.name.as_str()))
        .find_map(|r| r.local.as_ref().filter(|l| l.starts_with("cu")).map(|l| ImageRef { image: l.clone(), source: loc(&r.source) }))
        .or_else(|| {
            p.requirements.iter().any(|r| torch.contains(&r.name.as_str())).then_some(())?;
            p.index_urls.iter().find_map(|i| i.cuda_variant.as_ref().filter(|_| i.url.contains("pytorch.org")).map(|v| ImageRef { image: v.clone(), source: loc(&i.source) }))
        })
}

/// `a/./b/../c` → `a/c`, with `/` separators (paths relative to the repository).
fn normalize(p: &Path) -> String {
    let mut parts: Vec<String> = Vec::new();
    for c in p.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                parts.pop();
            }
            other => parts.push(other.as_os_str().to_string_lossy().into_owned()),
        }
    }
    parts.join("/")
}

/// Combine what NVML, nvidia-smi and the kernel module said into the driver, its CUDA and the GPUs (pure).
pub fn driver_and_gpus(
    nvml: &NvmlFacts,
    smi: Option<&SmiFallback>,
    kernel: Option<&KernelModule>,
) -> (Option<String>, Option<DriverVersion>, Option<CudaVersion>, Vec<GpuInfo>) {
    if nvml.status == NvmlStatus::Ok {
        return (Some("nvml".into()), nvml.driver_version.clone().or_else(|| nvml.library_version.clone()), nvml.cuda_version, nvml.gpus.clone());
    }
    if let Some(s) = smi.filter(|s| s.error.is_none() && s.driver_version.is_some()) {
        return (Some("nvidia-smi".into()), s.driver_version.clone(), s.cuda_version, s.gpus.clone());
    }
    match kernel {
        Some(k) => (Some("kernel-module".into()), Some(k.version.clone()), None, Vec::new()),
        None => (None, None, None, Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daemon_json_summaries() {
        let p = Path::new("/etc/docker/daemon.json");
        let f = DaemonJsonFacts::from_read(p, Ok(None));
        assert_eq!(f.state, "missing");
        let j = super::super::daemon_json::parse_daemon_json(br#"{"runtimes": {"nvidia": {"path": "runc"}}, "default-runtime": "nvidia"}"#, "daemon.json").unwrap();
        let f = DaemonJsonFacts::from_read(p, Ok(Some(j)));
        assert_eq!(f.state, "ok");
        assert_eq!(f.nvidia_runtimes().count(), 1);
        assert_eq!(f.default_runtime.as_deref(), Some("nvidia"));
        let e = super::super::daemon_json::parse_daemon_json(b"{\n  \"runtimes\": {},\n}\n", "/etc/docker/daemon.json").unwrap_err();
        let f = DaemonJsonFacts::from_read(p, Err(e));
        assert_eq!(f.state, "refused");
        let err = f.error.unwrap();
        assert_eq!((err.line, err.column), (Some(3), Some(1)));
        assert!(err.reason.unwrap().contains("invalid character '}' looking for beginning of object key string"));
    }

    #[test]
    fn paths_normalize() {
        assert_eq!(normalize(Path::new(".devcontainer/../Dockerfile")), "Dockerfile");
        assert_eq!(normalize(Path::new(".devcontainer/./Dockerfile.gpu")), ".devcontainer/Dockerfile.gpu");
    }
}
