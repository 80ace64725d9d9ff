//! `devgpu doctor`: gather the host's facts layer by layer (driver, NVML, device nodes, toolkit, CDI, daemon.json,
//! Docker, the repository's dev container, optionally a probe container), evaluate the checks, report.
//!
//! Nothing here fails the command for a missing or broken layer: each becomes a check result. Cheap by design —
//! files are read directly, NVML is loaded in-process (no `nvidia-smi` unless NVML does not answer), Docker is
//! asked twice (`/version`, `/info`).

use crate::checks;
use crate::cli::DoctorArgs;
use crate::compat::knowledge::Knowledge;
use crate::error::{CliError, ErrorCode};
use crate::compat::{image_tag::CUDA_REPO, DriverVersion};
use crate::docker::{self, DaemonFacts, ProbeResult};
use crate::host::facts::{self, HostFacts, ProjectImageFacts};
use crate::host::nvml::NvmlStatus;
use crate::host::{cdi, nvidia_smi_xml, nvml, proc_driver, toolkit};
use crate::report::{DoctorReport, Render};
use crate::settings::Settings;

pub fn run(args: &DoctorArgs, settings: &Settings) -> anyhow::Result<Box<dyn Render>> {
    // The tables: the snapshot overlaid with today's facts. With a lock to judge, the facts are read (cache, else
    // the indexes); without one, doctor stays a local, fast check and uses only what is cached.
    let lock_text = crate::fsx::read_optional(&args.path.join(crate::plan::lock::LOCK_FILE)).ok().flatten();
    let lk = if lock_text.is_some() {
        super::facts::live_knowledge(settings, false)
    } else {
        let cached_only = Settings { facts: crate::facts::FactsSettings { offline: true, ..settings.facts.clone() }, ..settings.clone() };
        super::facts::live_knowledge(&cached_only, false)
    };
    let k = &lk.knowledge;
    if !args.path.is_dir() {
        return Err(CliError::user(
            ErrorCode::PathNotFound,
            format!("{} is not a folder: doctor judges the dev container of the repository there", args.path.display()),
            vec!["pass a repository folder, or leave the path out to use the current one".into()],
        )
        .into());
    }

    // The GPU and its driver.
    let (kernel_module, kernel_module_error) = match proc_driver::read_loaded_module() {
        Ok(m) => (m, None),
        Err(e) => (None, Some(e)),
    };
    let nvml = nvml::probe();
    let nvidia_smi = (nvml.status != NvmlStatus::Ok).then(nvidia_smi_xml::run_fallback).filter(|s| s.path.is_some());
    let (gpu_source, driver, driver_cuda, gpus) = facts::driver_and_gpus(&nvml, nvidia_smi.as_ref(), kernel_module.as_ref());

    let project = facts::project_image(&args.path);

    // Docker: connect (/version), info, and the probe container when asked for.
    let endpoint = docker::endpoint_from_env(settings.docker_host.as_deref());
    let local_daemon = endpoint.is_local();
    // A daemon on another machine: the GPU facts are the server's (host::remote), and so is the probe's image choice.
    let remote_image = (!endpoint.is_local()).then(|| probe_image(args, project.as_ref(), None, k));
    let daemon_json_path = args.daemon_config.display().to_string();
    let (daemon, probe, remote) = crate::block_on(async {
        let client = match docker::connect_endpoint(endpoint.clone()).await {
            Ok(c) => c,
            Err(e) => return (DaemonFacts::unreachable(endpoint, &e), None, None),
        };
        let daemon = match docker::info::gather(&client).await {
            Ok(d) => d,
            Err(e) => return (DaemonFacts::unreachable(endpoint, &e), None, None),
        };
        let mut remote = None;
        let mut probe: Option<ProbeResult> = None;
        if let Some(image) = remote_image {
            let (server, source, container) = crate::host::remote::gather(&client, &daemon_json_path, image, args.probe).await;
            probe = container;
            remote = Some((server, source));
        }
        if probe.is_none() && args.probe {
            let server_driver = remote.as_ref().and_then(|(s, _)| s.as_ref()).and_then(|s| facts::driver_and_gpus(&s.nvml, s.nvidia_smi.as_ref(), s.kernel_module.as_ref()).1);
            let (image, origin) = probe_image(args, project.as_ref(), if remote.is_some() { server_driver.as_ref() } else { driver.as_ref() }, k);
            probe = Some(docker::probe::probe_gpu(&client, &image, &origin).await);
        }
        (daemon, probe, remote)
    });

    let mut host = HostFacts {
        kernel_module,
        kernel_module_error,
        nvml,
        nvidia_smi,
        gpu_source,
        driver,
        driver_cuda,
        gpus,
        device_nodes: facts::device_nodes(),
        toolkit: toolkit::gather(),
        cdi: cdi::gather(cdi::CDI_DIRS),
        docker: daemon,
        daemon_json: facts::daemon_json(&args.daemon_config),
        project,
        probe,
    };
    if let Some((server, source)) = remote {
        crate::host::remote::apply(&mut host, server, source);
    }
    // Gather everything first; the checks below only read facts.
    let mode_facts = super::host_cdi::gather_mode_facts(&host);
    let checks = checks::remote::adjust(&host, checks::doctor_checks(&host, k));
    let mut checks = super::host_cdi::with_mode_check(&host, mode_facts.as_ref(), checks);
    if local_daemon {
        let kernel = host.kernel_module.as_ref().map(|m| m.version.to_string());
        checks.extend(super::drift::doctor_checks(&args.path, settings.docker_host.as_deref(), kernel));
    }
    if let Some(text) = &lock_text {
        checks.extend(checks::lock::lock_checks(&crate::plan::lock::parse(text), host.driver.as_ref(), lk.live.as_ref(), k));
    }
    Ok(Box::new(DoctorReport { host, checks }))
}

/// The image for `--probe`: `--image`, else the dev container's, else the newest `nvidia/cuda` base image this
/// driver runs (it has nvidia-smi through the toolkit's `utility` capability).
fn probe_image(args: &DoctorArgs, project: Option<&ProjectImageFacts>, driver: Option<&DriverVersion>, k: &Knowledge) -> (String, String) {
    if let Some(i) = &args.image {
        return (i.clone(), "--image".into());
    }
    if let Some(i) = project.and_then(|p| p.runtime_image()) {
        return (i.image.clone(), i.source.clone());
    }
    let max = driver.and_then(|d| k.max_cuda_for_driver(d));
    let line = k.images.iter().rev().find(|l| max.is_none_or(|m| l.cuda.minor_only() <= m)).unwrap_or_else(|| k.images.last().expect("the image catalog is not empty"));
    let ubuntu = line.ubuntu.last().cloned().unwrap_or_else(|| "22.04".into());
    (format!("{CUDA_REPO}:{}-base-ubuntu{ubuntu}", line.cuda.full()), "the newest nvidia/cuda base image this driver runs".into())
}
