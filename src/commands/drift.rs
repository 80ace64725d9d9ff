//! EDGE: the facts of GPU drift ([`crate::checks::drift`]) for `up` and `verify`, read on this machine when the
//! Docker daemon runs here: the loaded kernel module, the device nodes the container gets (their mode and group),
//! the driver files inject-mode runArgs bind, the CDI specs of the container's CDI devices. And what `up` does with
//! them: the container is labelled with the driver it was created with, and gets `--group-add` for nodes whose
//! group it needs.

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use crate::checks::drift::{drift_checks, groups_to_add, versions_in_names, DriftFacts, NodeAccess, LABEL_DRIVER_VERSION};
use crate::checks::Check;
use crate::host::cdi;
use crate::host::driver_files::CONTAINER_DRIVER_ROOT;
use crate::host::proc_driver::read_loaded_module;
use crate::plan::up::UpPlan;

/// The container gets a GPU: a `--gpus` request, device nodes or CDI devices.
pub fn uses_gpu(plan: &UpPlan) -> bool {
    plan.gpu.request.is_some() || plan.injected_gpus().is_some()
}

/// The loaded NVIDIA kernel module's version, for a GPU container on this machine's daemon.
pub fn kernel_version(plan: &UpPlan, local_daemon: bool) -> Option<String> {
    if !local_daemon || !uses_gpu(plan) {
        return None;
    }
    read_loaded_module().ok().flatten().map(|m| m.version.to_string())
}

fn access(path: &Path) -> Option<NodeAccess> {
    let m = std::fs::metadata(path).ok()?;
    m.file_type().is_char_device().then(|| NodeAccess { path: path.display().to_string(), mode: m.mode(), gid: m.gid() })
}

/// The host's NVIDIA device nodes the container gets: the `--device` nodes of the runArgs (inject mode), else,
/// for a `--gpus` request or CDI devices, every `/dev/nvidia*` node (what the toolkit hands in).
pub fn nodes(plan: &UpPlan) -> Vec<NodeAccess> {
    let nvidia = |p: &str| p.starts_with("/dev/nvidia");
    let mapped: Vec<NodeAccess> = plan.run_args.devices.iter().filter(|d| nvidia(&d.container) || nvidia(&d.host)).filter_map(|d| access(Path::new(&d.host))).collect();
    if !mapped.is_empty() || (plan.gpu.request.is_none() && plan.run_args.cdi_devices.is_empty()) {
        return mapped;
    }
    let Ok(entries) = std::fs::read_dir("/dev") else { return Vec::new() };
    let mut out: Vec<NodeAccess> = entries.filter_map(|e| e.ok()).filter(|e| e.file_name().to_string_lossy().starts_with("nvidia")).filter_map(|e| access(&e.path())).collect();
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// Driver versions of the files inject-mode runArgs bind into `/usr/local/nvidia`: a bound file's name, or the
/// library names inside a bound driver root.
pub fn inject_versions(plan: &UpPlan) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for m in plan.run_args.mounts.iter().filter(|m| m.kind == "bind" && m.target.starts_with(CONTAINER_DRIVER_ROOT)) {
        let Some(src) = &m.source else { continue };
        let path = Path::new(src);
        if path.is_dir() {
            for sub in ["lib64", "lib", ""] {
                if let Ok(entries) = std::fs::read_dir(path.join(sub)) {
                    names.extend(entries.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().to_string()));
                }
            }
        } else {
            names.push(src.clone());
        }
    }
    versions_in_names(names.iter().map(String::as_str))
}

/// The NVIDIA CDI specs that define the container's CDI devices: (path, driver versions).
pub fn cdi_specs(plan: &UpPlan) -> Vec<(String, Vec<String>)> {
    if plan.run_args.cdi_devices.is_empty() {
        return Vec::new();
    }
    cdi::gather(cdi::CDI_DIRS)
        .nvidia_specs()
        .filter(|s| plan.run_args.cdi_devices.iter().any(|d| s.devices.contains(d)))
        .map(|s| (s.path.clone(), s.driver_versions.clone()))
        .collect()
}

/// The plan the container is created from, with the driver label and the node groups added (`None`: nothing to
/// add). `remote_user_is_root`: root opens any node, so no group is added for it.
pub fn guarded_plan(plan: &UpPlan, kernel: Option<&str>, nodes: &[NodeAccess], remote_user_is_root: bool) -> Option<UpPlan> {
    let gids: Vec<String> = if remote_user_is_root { Vec::new() } else { groups_to_add(nodes).iter().map(u32::to_string).filter(|g| !plan.run_args.group_add.contains(g)).collect() };
    if gids.is_empty() && kernel.is_none() {
        return None;
    }
    let mut p = plan.clone();
    p.run_args.group_add.extend(gids);
    if let Some(k) = kernel {
        p.run_args.labels.push((LABEL_DRIVER_VERSION.to_string(), k.to_string()));
    }
    Some(p)
}

/// `doctor`'s drift checks for the repository at `path` when its devcontainer.json gives the container a GPU and
/// the daemon runs here: the CDI spec and injected driver files it uses, and its existing container's driver
/// (the remote user's groups are `verify`'s: they need the container). Nothing for other repositories.
pub fn doctor_checks(path: &Path, docker_host: Option<&str>, kernel: Option<String>) -> Vec<Check> {
    let Ok(plan) = super::up::prepare(path, None) else { return Vec::new() };
    if !uses_gpu(&plan) {
        return Vec::new();
    }
    let container_driver = crate::block_on(async {
        let docker = crate::docker::connect(docker_host).await.ok()?;
        if !docker.endpoint.is_local() {
            return None;
        }
        let found = crate::docker::devcontainer::container::find(&docker, &plan.config.id_labels).await.ok()?;
        found.first().and_then(|c| c.label(LABEL_DRIVER_VERSION).map(str::to_string))
    });
    let facts = DriftFacts { kernel, cdi_specs: cdi_specs(&plan), inject_versions: inject_versions(&plan), container_driver, ..Default::default() };
    // The device-group check needs the container's user: left to verify.
    drift_checks(&facts).into_iter().filter(|c| c.id != "drift.device-groups").collect()
}
