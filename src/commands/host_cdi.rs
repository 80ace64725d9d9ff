//! `devgpu host cdi`: the host's GPUs (NVML, else nvidia-smi), their device nodes (`/dev`) and the driver's files
//! (driver root, loader cache) → a CDI spec (pure, `plan::cdi`) → every file it names checked → nothing to do, a
//! dry run (diff), `-` (stdout), or a timestamped backup beside the file and an atomic write (`host undo --config
//! FILE` restores the previous state).
//!
//! Also the edge shared by `init --gpu-mode inject` and `doctor`'s `gpu.mode` check: [`local_gpu`] and
//! [`gather_access`].

use crate::cli::CdiArgs;
use crate::error::{CliError, ErrorCode};
use crate::fsx;
use crate::host::driver_files::{self, Capability, DriverFiles, DriverFilesError, DriverLayout};
use crate::host::gpu_devices::{self, GpuDeviceFacts};
use crate::host::nvidia_smi::GpuInfo;
use crate::host::nvml::{self, NvmlStatus};
use crate::checks::Check;
use crate::docker::devcontainer::UpError;
use crate::plan::up::UpPlan;
use crate::host::driver_files::DEFAULT_CAPABILITIES;
use crate::host::facts::HostFacts;
use crate::host::{cdi, facts, nvidia_smi_xml, proc_driver, toolkit};
use crate::plan::gpu_mode::{self, ModeFacts};
use crate::plan::cdi::{build_spec, missing_paths, spec_text, CDI_KIND};
use crate::report::CdiReport;
use crate::settings::Settings;
use anyhow::Result;
use std::path::Path;
use std::time::SystemTime;

/// Mode of a spec devgpu creates (world-readable, as runtimes running as other users must read it).
const NEW_FILE_MODE: u32 = 0o644;

/// This machine's GPUs and driver, as far as NVML (else nvidia-smi, else the kernel module) tells.
#[derive(Debug, Clone, Default)]
pub struct LocalGpu {
    pub gpus: Vec<GpuInfo>,
    pub driver_version: Option<String>,
    pub nvml_library: Option<String>,
    /// A kernel module is loaded or a driver library answered.
    pub driver_present: bool,
}

/// Asks NVML (in-process), falls back to nvidia-smi, reads the kernel module's version (edge).
pub fn local_gpu() -> LocalGpu {
    let kernel = proc_driver::read_loaded_module().ok().flatten();
    let nvml = nvml::probe();
    let smi = (nvml.status != NvmlStatus::Ok).then(nvidia_smi_xml::run_fallback).filter(|s| s.path.is_some());
    let (_, driver, _, gpus) = facts::driver_and_gpus(&nvml, smi.as_ref(), kernel.as_ref());
    LocalGpu { driver_present: kernel.is_some() || driver.is_some(), gpus, driver_version: driver.map(|d| d.to_string()), nvml_library: nvml.library }
}

/// The device nodes and the driver's files for `caps`.
#[derive(Debug, Clone)]
pub struct GpuAccess {
    pub devices: GpuDeviceFacts,
    pub files: Result<DriverFiles, DriverFilesError>,
}

/// Reads `/dev` (or `dev_dir`, for tests: then the GPUs are the nodes found there) and the driver's files.
pub fn gather_access(dev_dir: Option<&Path>, driver_root: Option<&Path>, local: &LocalGpu, caps: &[Capability]) -> GpuAccess {
    let (dir, gpus, version) = match dev_dir {
        Some(d) => (d, &[][..], None),
        None => (Path::new(gpu_devices::DEV_DIR), &local.gpus[..], local.driver_version.as_deref()),
    };
    let devices = gpu_devices::gather(dir, gpus);
    let scan = driver_files::scan(driver_root, local.nvml_library.as_deref(), version);
    GpuAccess { devices, files: driver_files::resolve(&scan, caps) }
}

/// One line about the driver's files: `driver 580.159.04 in /usr/local/nvidia (bound whole)`.
pub fn describe_files(f: &DriverFiles) -> String {
    match &f.layout {
        DriverLayout::Dedicated { root, .. } => format!("driver {} in {root}, bound whole at {}", f.version, driver_files::CONTAINER_DRIVER_ROOT),
        DriverLayout::Shared => {
            let dir = f.find("libcuda.so").or_else(|| f.find("libnvidia-ml.so")).and_then(|x| x.host_path.rsplit_once('/')).map(|(d, _)| d.to_string()).unwrap_or_default();
            format!("driver {} in {dir}, {} files bound one by one", f.version, f.files.len())
        }
    }
}

/// What doctor's `gpu.mode` check is judged on, read from this machine (edge): `/dev`, the driver's files and the
/// files the CDI specs name. None when Docker runs elsewhere, where this machine's files say nothing.
pub fn gather_mode_facts(host: &HostFacts) -> Option<ModeFacts> {
    if host.docker.reachable() && !host.docker.local {
        return None;
    }
    let local = LocalGpu {
        gpus: host.gpus.clone(),
        driver_version: host.driver.as_ref().map(|d| d.to_string()),
        nvml_library: host.nvml.library.clone(),
        driver_present: host.kernel_module.is_some() || host.driver.is_some(),
    };
    let access = gather_access(None, None, &local, &DEFAULT_CAPABILITIES);
    let mut cdi_missing = Vec::new();
    for s in host.cdi.nvidia_specs() {
        if let Some(v) = cdi::read_spec_value(&s.path) {
            cdi_missing.extend(missing_paths(&v, |p| Path::new(p).exists()).into_iter().map(|(_, f)| (s.path.clone(), f)));
        }
    }
    Some(ModeFacts {
        driver_present: local.driver_present,
        device_nodes: access.devices.require_nodes().map(|_| access.devices.gpus.len()).map_err(|e| e.to_string()),
        driver_files: access.files.as_ref().map(describe_files).map_err(|e| e.to_string()),
        toolkit_hook: host.toolkit.has(toolkit::HOOK),
        docker_reachable: host.docker.reachable(),
        docker_version: host.docker.server_version.clone(),
        daemon_cdi: !host.docker.cdi_spec_dirs.is_empty(),
        cdi_devices: host.cdi.nvidia_specs().flat_map(|s| s.devices.iter().cloned()).collect(),
        cdi_missing,
    })
}

/// doctor's `gpu.mode` check (which of toolkit / cdi / inject works here), placed after `toolkit.cdi` (pure: the
/// facts were gathered first by [`gather_mode_facts`]; None means Docker runs elsewhere).
pub fn with_mode_check(host: &HostFacts, mode: Option<&ModeFacts>, mut checks: Vec<Check>) -> Vec<Check> {
    let check = match mode {
        None => Check::skip("gpu.mode", format!("Docker runs elsewhere ({}): run `devgpu doctor` on the GPU host to see which GPU modes work there", host.docker.endpoint.url)),
        Some(facts) => gpu_mode::mode_check(facts, &gpu_mode::assess(facts)),
    };
    let at = checks.iter().position(|c| c.id == "toolkit.cdi").map(|i| i + 1).unwrap_or(checks.len());
    checks.insert(at, check);
    checks
}

/// Before `up` creates a container on this machine's Docker: the NVIDIA device nodes it passes (inject mode) and
/// the driver files it binds must exist, and a CDI spec on this host that defines a requested `nvidia.com/gpu`
/// device must not name missing files — each refused with the file named and the fix, instead of Docker's
/// later, vaguer error (or an empty folder Docker would create in place of a missing `-v` source).
#[allow(clippy::result_large_err)] // UpError, as everywhere on the up path
pub fn gpu_preflight(plan: &UpPlan) -> Result<(), UpError> {
    let exists = |p: &str| Path::new(p).exists();
    let run_args = &plan.run_args;
    let is_gpu_node = |p: &str| p.starts_with("/dev/nvidia");
    for d in run_args.devices.iter().filter(|d| is_gpu_node(&d.container) || is_gpu_node(&d.host)) {
        if !exists(&d.host) {
            return Err(UpError::GpuUnavailable {
                request: format!("--device {}", d.host),
                message: format!("{} does not exist on this host (no NVIDIA device node)", d.host),
                diagnosis: Some(crate::checks::diagnosis::by_id("no-device-node")),
            });
        }
    }
    let driver_target = |t: &str| t.starts_with(driver_files::CONTAINER_DRIVER_ROOT) || t.starts_with(driver_files::FIRMWARE_DIR);
    let mut sources: Vec<String> = run_args.mounts.iter().filter(|m| m.kind == "bind" && driver_target(&m.target)).filter_map(|m| m.source.clone()).collect();
    sources.extend(run_args.binds.iter().filter_map(|b| {
        let mut parts = b.split(':');
        let (src, dst) = (parts.next()?, parts.next()?);
        driver_target(dst).then(|| src.to_string())
    }));
    if let Some(missing) = sources.iter().find(|s| !exists(s)) {
        return Err(UpError::GpuUnavailable {
            request: format!("a read-only bind of {missing}"),
            message: format!("{missing} does not exist on this host: the driver's files the runArgs bind are gone (bind source path does not exist, nvidia)"),
            diagnosis: Some(crate::checks::diagnosis::by_id("driver-files-missing")),
        });
    }
    let wanted: Vec<&String> = run_args.cdi_devices.iter().filter(|d| d.starts_with(&format!("{CDI_KIND}="))).collect();
    if !wanted.is_empty() {
        for s in cdi::gather(cdi::CDI_DIRS).nvidia_specs() {
            if !wanted.iter().any(|w| s.devices.contains(w)) {
                continue;
            }
            let Some(v) = cdi::read_spec_value(&s.path) else { continue };
            let names: Vec<&str> = wanted.iter().filter_map(|w| w.split_once('=').map(|(_, n)| n)).collect();
            if let Some((_, file)) = missing_paths(&v, exists).into_iter().find(|(dev, _)| dev == "*" || names.contains(&dev.as_str()) || names.contains(&"all")) {
                return Err(UpError::GpuUnavailable {
                    request: format!("--device {}", wanted.iter().map(|w| w.as_str()).collect::<Vec<_>>().join(" --device ")),
                    message: format!("the CDI spec {} names {file}, which does not exist: refused before Docker fails on it", s.path),
                    diagnosis: Some(crate::checks::Diagnosed {
                        id: "cdi-spec-stale".into(),
                        cause: format!("{} was written for files that are gone (another driver version?)", s.path),
                        fix: vec![format!("regenerate it: `sudo devgpu host cdi --output {}`", s.path)],
                        sources: vec![],
                    }),
                });
            }
        }
    }
    Ok(())
}

pub fn run(args: &CdiArgs, _settings: &Settings) -> Result<CdiReport> {
    let caps = Capability::parse_list(&args.capabilities).map_err(|e| CliError::user(ErrorCode::InvalidArgument, format!("--capabilities: {e}"), vec![]))?;
    let local = local_gpu();
    let access = gather_access(args.dev_dir.as_deref(), args.driver_root.as_deref(), &local, &caps);
    access.devices.require_nodes().map_err(CliError::from)?;
    let files = access.files.clone().map_err(CliError::from)?;
    let spec = build_spec(&access.devices, &files);
    let text = spec_text(&spec);

    // Every file the spec names must exist: a runtime would refuse the container (or worse, Docker would create
    // an empty folder in place of a missing bind source).
    let missing = missing_paths(&spec, |p| Path::new(p).exists());
    if let Some((_, first)) = missing.first() {
        return Err(CliError::user(
            ErrorCode::CdiFileMissing,
            format!(
                "the spec would name {first}, which does not exist{}; nothing was written",
                if missing.len() > 1 { format!(" (and {} more: {})", missing.len() - 1, missing[1..].iter().map(|(_, p)| p.as_str()).collect::<Vec<_>>().join(", ")) } else { String::new() }
            ),
            vec!["a dangling link or a half-removed driver: reinstall the driver's user-space part, or pass --driver-root for the driver that runs".into()],
        )
        .into());
    }

    let mut warnings: Vec<String> = access.devices.notes.clone();
    warnings.extend(files.warnings.iter().cloned());
    let output = args.output.display().to_string();
    let devices: Vec<String> = spec["devices"].as_array().into_iter().flatten().filter_map(|d| d["name"].as_str()).map(|n| format!("{CDI_KIND}={n}")).collect();
    let mut report = CdiReport {
        output: output.clone(),
        to_stdout: output == "-",
        dry_run: args.dry_run,
        existed: false,
        changed: true,
        written: false,
        backup: None,
        diff: None,
        spec: text.clone(),
        devices,
        gpus: access.devices.gpus.clone(),
        driver: describe_files(&files),
        files: files.clone(),
        warnings,
    };
    if report.to_stdout {
        return Ok(report);
    }

    // Other specs defining the same kind: runtimes refuse devices defined twice.
    let ours = std::fs::canonicalize(&args.output).unwrap_or_else(|_| args.output.clone());
    for s in cdi::gather(cdi::CDI_DIRS).nvidia_specs() {
        if std::fs::canonicalize(&s.path).unwrap_or_else(|_| s.path.clone().into()) != ours {
            report.warnings.push(format!(
                "{} also defines {CDI_KIND} devices: Docker and Podman refuse a device that two specs define — keep one (remove the other, or write over it with --output {})",
                s.path, s.path
            ));
        }
    }

    let target = fsx::resolve_symlinks(&args.output).map_err(|e| CliError::user(ErrorCode::CdiRead, format!("cannot read {output}: {e}"), vec![]))?;
    let existing = match std::fs::read_to_string(&target) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(CliError::user(ErrorCode::CdiRead, format!("cannot read {output}: {e}"), vec![]).into()),
    };
    report.existed = existing.is_some();
    report.changed = existing.as_deref() != Some(text.as_str());
    if !report.changed {
        return Ok(report);
    }
    if args.dry_run {
        report.diff = Some(crate::text::unified_diff(&output, existing.as_deref().map(str::as_bytes), text.as_bytes()));
        return Ok(report);
    }
    let dir = target.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| write_error(&output, dir, e))?;
    let backup = fsx::make_backup(&target, existing.as_deref().map(str::as_bytes), SystemTime::now()).map_err(|e| write_error(&output, &e.path, e.source))?;
    if let Err(e) = fsx::replace_file(&target, text.as_bytes(), NEW_FILE_MODE) {
        let _ = std::fs::remove_file(&backup);
        return Err(write_error(&output, &e.path, e.source));
    }
    report.written = true;
    report.backup = Some(backup.display().to_string());
    Ok(report)
}

fn write_error(file: &str, path: &Path, e: std::io::Error) -> anyhow::Error {
    let hints = if e.kind() == std::io::ErrorKind::PermissionDenied {
        vec![format!("run it as root: `sudo devgpu host cdi --output {file}`, or write it elsewhere with --output PATH (e.g. `--output -`)")]
    } else {
        Vec::new()
    };
    CliError::user(if e.kind() == std::io::ErrorKind::PermissionDenied { ErrorCode::PermissionDenied } else { ErrorCode::WriteFailed }, format!("cannot write {file} ({}): {e}; nothing was changed", path.display()), hints).into()
}

