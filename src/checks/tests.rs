//! The doctor's checks evaluated on fact structs: healthy hosts (the H200 as recorded, the same with Docker and the
//! toolkit), and each failure of DESIGN.md §3's table. Facts come from the real captures in tests/fixtures/.

use super::doctor::doctor_checks;
use super::{Check, Status};
use crate::compat::knowledge;
use crate::docker::{DaemonFacts, DockerError, Endpoint, ProbeOutcome, ProbeResult};
use crate::host::cdi::{parse_cdi_spec, CdiFacts};
use crate::host::facts::{driver_and_gpus, DaemonJsonFacts, DeviceNodes, HostFacts, ImageRef, ProjectImageFacts};
use crate::host::nvml::{cuda_from_nvml, NvmlFacts, NvmlStatus};
use crate::host::proc_driver::parse_proc_driver_version;
use crate::host::toolkit::{Tool, ToolkitFacts, TOOLS};
use crate::host::{parse_query_gpu, GpuInfo};
use bollard::models::{SystemInfo, SystemVersion};
use std::path::Path;

const H200_PROC: &str = include_str!("../../tests/fixtures/h200/proc-driver-nvidia-version.txt");
const H200_CSV: &str = include_str!("../../tests/fixtures/h200/query-gpu.csv");
const H200_NVML: &str = include_str!("../../tests/fixtures/h200/nvml.json");
const DOCKER_INFO: &str = include_str!("../../tests/fixtures/docker/info-20.10.json");
const DOCKER_VERSION: &str = include_str!("../../tests/fixtures/docker/version-20.10.json");

fn default_endpoint() -> Endpoint {
    Endpoint { url: "unix:///var/run/docker.sock".into(), origin: "the default socket".into(), tls: None }
}

/// NVML as it answered on the H200 (tests/fixtures/h200/nvml.json; the GPU list as the CSV capture has it).
fn h200_nvml() -> NvmlFacts {
    let v: serde_json::Value = serde_json::from_str(H200_NVML).unwrap();
    NvmlFacts {
        status: NvmlStatus::Ok,
        library: Some("/usr/local/nvidia/lib64/libnvidia-ml.so.580.159.04".into()),
        library_version: Some("580.159.04".parse().unwrap()),
        driver_version: Some(v["driver"].as_str().unwrap().parse().unwrap()),
        cuda_version: cuda_from_nvml(v["cuda_driver"].as_i64().unwrap() as i32),
        nvml_version: Some(v["nvml"].as_str().unwrap().into()),
        gpus: parse_query_gpu(H200_CSV).unwrap(),
        ..NvmlFacts::not_found(vec!["libnvidia-ml.so.1".into()])
    }
}

fn no_toolkit() -> ToolkitFacts {
    ToolkitFacts { tools: TOOLS.iter().map(|n| Tool { name: n.to_string(), path: None, version: None, modified_unix: None, error: None }).collect() }
}

fn toolkit() -> ToolkitFacts {
    ToolkitFacts {
        tools: TOOLS
            .iter()
            .map(|n| Tool { name: n.to_string(), path: Some(format!("/usr/bin/{n}")), version: Some("1.17.8".into()), modified_unix: Some(1_700_000_000), error: None })
            .collect(),
    }
}

fn unreachable(e: DockerError) -> DaemonFacts {
    DaemonFacts::unreachable(default_endpoint(), &e)
}

fn socket_missing() -> DaemonFacts {
    unreachable(DockerError::SocketMissing { url: "unix:///var/run/docker.sock".into(), origin: "the default socket".into(), path: "/var/run/docker.sock".into() })
}

/// Debian's Docker 20.10 as recorded here, with `patch` applied to its `/info` answer.
fn docker(patch: serde_json::Value) -> DaemonFacts {
    let mut info: serde_json::Value = serde_json::from_str(DOCKER_INFO).unwrap();
    for (k, v) in patch.as_object().unwrap() {
        info[k] = v.clone();
    }
    let info: SystemInfo = serde_json::from_value(info).unwrap();
    let version: SystemVersion = serde_json::from_str(DOCKER_VERSION).unwrap();
    DaemonFacts::from_api(default_endpoint(), &version, &info)
}

fn docker_with_nvidia_default() -> DaemonFacts {
    docker(serde_json::json!({
        "Runtimes": {"nvidia": {"path": "nvidia-container-runtime"}, "runc": {"path": "runc"}},
        "DefaultRuntime": "nvidia"
    }))
}

fn daemon_json(text: Option<&str>) -> DaemonJsonFacts {
    let p = Path::new("/etc/docker/daemon.json");
    DaemonJsonFacts::from_read(p, text.map(|t| crate::host::daemon_json::parse_daemon_json(t.as_bytes(), "/etc/docker/daemon.json")).transpose())
}

fn dev_nodes() -> DeviceNodes {
    DeviceNodes { nvidiactl: true, nvidia_uvm: true, gpus: vec!["/dev/nvidia0".into()], dev_char_missing: vec![] }
}

/// /dev as devgpu saw it on the H200 (tests/fixtures/h200/doctor.json): no /dev/char links for the NVIDIA nodes.
fn h200_dev_nodes() -> DeviceNodes {
    DeviceNodes {
        dev_char_missing: ["/dev/nvidia0", "/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools"].map(String::from).to_vec(),
        ..dev_nodes()
    }
}

/// The H200 exactly as recorded: driver 580.159.04, NVML from /usr/local/nvidia/lib64, no Docker, no toolkit.
fn h200_as_recorded() -> HostFacts {
    let kernel_module = parse_proc_driver_version(H200_PROC);
    let nvml = h200_nvml();
    let (gpu_source, driver, driver_cuda, gpus) = driver_and_gpus(&nvml, None, kernel_module.as_ref());
    HostFacts {
        kernel_module,
        kernel_module_error: None,
        nvml,
        nvidia_smi: None,
        gpu_source,
        driver,
        driver_cuda,
        gpus,
        device_nodes: h200_dev_nodes(),
        toolkit: no_toolkit(),
        cdi: CdiFacts { dirs: vec!["/etc/cdi".into(), "/var/run/cdi".into()], specs: vec![] },
        docker: socket_missing(),
        daemon_json: daemon_json(None),
        project: None,
        probe: None,
    }
}

/// The H200 with the toolkit installed and Docker configured with the nvidia runtime as default.
fn h200_healthy() -> HostFacts {
    HostFacts {
        device_nodes: dev_nodes(),
        toolkit: toolkit(),
        docker: docker_with_nvidia_default(),
        daemon_json: daemon_json(Some(r#"{"runtimes": {"nvidia": {"path": "nvidia-container-runtime", "runtimeArgs": []}}, "default-runtime": "nvidia"}"#)),
        ..h200_as_recorded()
    }
}

/// A host with driver 550.54.15 and an RTX 30xx-class GPU (compute capability 8.6).
fn ampere_550() -> HostFacts {
    let gpu = GpuInfo {
        index: 0,
        name: "NVIDIA A40".into(),
        uuid: "GPU-a40".into(),
        pci_bus_id: "00000000:01:00.0".into(),
        driver: "550.54.15".parse().unwrap(),
        compute_cap: Some("8.6".parse().unwrap()),
        memory_mib: Some(46068),
        mig_mode: Some("Disabled".into()),
    };
    let nvml = NvmlFacts {
        status: NvmlStatus::Ok,
        library: Some("/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.550.54.15".into()),
        library_version: Some("550.54.15".parse().unwrap()),
        driver_version: Some("550.54.15".parse().unwrap()),
        cuda_version: cuda_from_nvml(12040),
        nvml_version: Some("12.550.54.15".into()),
        gpus: vec![gpu.clone()],
        ..NvmlFacts::not_found(vec![])
    };
    HostFacts {
        kernel_module: parse_proc_driver_version("NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.15  Tue Mar  5 22:23:56 UTC 2024\n"),
        nvml,
        gpu_source: Some("nvml".into()),
        driver: Some("550.54.15".parse().unwrap()),
        driver_cuda: cuda_from_nvml(12040),
        gpus: vec![gpu],
        ..h200_healthy()
    }
}

fn check<'a>(checks: &'a [Check], id: &str) -> &'a Check {
    checks.iter().find(|c| c.id == id).unwrap_or_else(|| panic!("no check {id}"))
}

fn statuses(checks: &[Check]) -> Vec<(&str, Status)> {
    checks.iter().map(|c| (c.id.as_str(), c.status)).collect()
}

fn run(f: &HostFacts) -> Vec<Check> {
    doctor_checks(f, knowledge())
}

fn project(image: &str) -> ProjectImageFacts {
    ProjectImageFacts {
        devcontainer: ".devcontainer/devcontainer.json".into(),
        images: vec![ImageRef { image: image.into(), source: ".devcontainer/Dockerfile:1".into() }],
        compose: false,
        torch_variant: None,
        errors: vec![],
    }
}

#[test]
fn every_check_has_a_stable_id_in_order() {
    let ids: Vec<String> = run(&h200_as_recorded()).into_iter().map(|c| c.id).collect();
    assert_eq!(
        ids,
        [
            "gpu.kernel-module",
            "gpu.nvml",
            "gpu.driver-library",
            "gpu.devices",
            "gpu.device-nodes",
            "compat.driver-cuda",
            "compat.minor-version",
            "compat.gpu-cuda",
            "toolkit.installed",
            "toolkit.cdi",
            "daemon-json.valid",
            "docker.reachable",
            "docker.engine",
            "docker.nvidia-runtime",
            "docker.default-runtime",
            "docker.cgroups",
            "docker.restarted",
            "project.image",
            "project.framework",
            "probe.gpu",
        ]
    );
}

/// What the H200 was seen to be: the GPU layers pass; no toolkit and no Docker fail with their fixes.
#[test]
fn the_h200_as_recorded() {
    let c = run(&h200_as_recorded());
    assert_eq!(check(&c, "gpu.kernel-module").summary, "NVIDIA kernel module 580.159.04 loaded (open kernel module)");
    assert_eq!(check(&c, "gpu.nvml").summary, "NVML 13.580.159.04 loaded from /usr/local/nvidia/lib64/libnvidia-ml.so.580.159.04");
    assert_eq!(check(&c, "gpu.driver-library").summary, "kernel module and user-space library agree: 580.159.04");
    assert_eq!(check(&c, "gpu.devices").summary, "1 GPU: NVIDIA H200 (compute capability 9.0, Hopper (H100, H200), 140.4 GiB)");
    assert!(check(&c, "compat.driver-cuda").summary.starts_with("driver 580.159.04 runs CUDA <= 13.0 as is (as the driver reports)"), "{}", check(&c, "compat.driver-cuda").summary);
    assert!(check(&c, "compat.minor-version").summary.contains(&format!("CUDA 13.1–{} also run", newest_cuda())) && check(&c, "compat.minor-version").summary.contains("also run through minor-version compatibility (any 13.x on driver >= 580.65.06)"), "{}", check(&c, "compat.minor-version").summary);
    assert_eq!(check(&c, "compat.gpu-cuda").summary, "NVIDIA H200 (compute capability 9.0, Hopper (H100, H200)) needs CUDA >= 11.8");
    let expected = [
        ("gpu.kernel-module", Status::Pass),
        ("gpu.nvml", Status::Pass),
        ("gpu.driver-library", Status::Pass),
        ("gpu.devices", Status::Pass),
        ("gpu.device-nodes", Status::Pass),
        ("compat.driver-cuda", Status::Pass),
        ("compat.minor-version", Status::Pass),
        ("compat.gpu-cuda", Status::Pass),
        ("toolkit.installed", Status::Fail),
        ("toolkit.cdi", Status::Skip),
        ("daemon-json.valid", Status::Pass),
        ("docker.reachable", Status::Fail),
        ("docker.engine", Status::Skip),
        ("docker.nvidia-runtime", Status::Skip),
        ("docker.default-runtime", Status::Skip),
        ("docker.cgroups", Status::Skip),
        ("docker.restarted", Status::Skip),
        ("project.image", Status::Skip),
        ("project.framework", Status::Skip),
        ("probe.gpu", Status::Skip),
    ];
    assert_eq!(statuses(&c), expected);
    assert!(check(&c, "docker.reachable").fix.as_ref().unwrap().contains("sudo systemctl start docker"));
    assert!(check(&c, "toolkit.installed").fix.as_ref().unwrap().contains("devgpu host install-toolkit"));
}

/// The checks devgpu reported when it ran on the H200 (tests/fixtures/h200/doctor.json) are exactly the checks the
/// facts recorded there with the GPU tools (nvml.json, query-gpu.csv, /proc/driver/nvidia/version) evaluate to.
#[test]
fn the_h200_run_matches_the_facts_recorded_there() {
    // Recorded with the tables of that day, when the newest CUDA known was 13.2: the range in the minor-version
    // summary follows the tables (cuda.toml), everything else must match the recording as it is.
    let recorded: serde_json::Value = serde_json::from_str(&include_str!("../../tests/fixtures/h200/doctor.json").replace("13.1–13.2", &format!("13.1–{}", newest_cuda()))).unwrap();
    assert_eq!(recorded["outcome"], "error", "no toolkit and no Docker there");
    let computed = serde_json::to_value(run(&h200_as_recorded())).unwrap();
    assert_eq!(recorded["data"]["checks"], computed);
    let human = crate::report::human_checks(&run(&h200_as_recorded()), false);
    assert_eq!(human, include_str!("../../tests/fixtures/h200/doctor.txt").replace("13.1–13.2", &format!("13.1–{}", newest_cuda())), "the human list printed there");
    let host = &recorded["data"]["host"];
    assert_eq!(host["gpuSource"], "nvml");
    assert_eq!(host["nvml"]["library"], "/usr/local/nvidia/lib64/libnvidia-ml.so.580.159.04");
    assert_eq!(host["nvml"]["tried"], serde_json::json!(["libnvidia-ml.so.1"]), "the loader found it first");
    assert_eq!(host["driverCuda"], "13.0");
    assert_eq!(host["gpus"][0]["memoryMib"], 143771);
    assert_eq!(host["gpus"][0]["computeCap"], "9.0");
    assert_eq!(host["docker"]["error"]["code"], "docker-socket-missing");
}

#[test]
fn a_healthy_gpu_host_has_no_warning_or_failure() {
    let mut f = h200_healthy();
    f.project = Some(project("nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04"));
    f.probe = Some(ProbeResult {
        image: "nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04".into(),
        image_origin: ".devcontainer/Dockerfile:1".into(),
        outcome: ProbeOutcome::Ran { exit_code: 0, output: include_str!("../../tests/fixtures/h200/nvidia-smi-L.txt").into() },
        removed: true,
    });
    let c = run(&f);
    let bad: Vec<_> = c.iter().filter(|c| matches!(c.status, Status::Warn | Status::Fail)).collect();
    assert!(bad.is_empty(), "{bad:#?}");
    assert_eq!(check(&c, "docker.nvidia-runtime").summary, "NVIDIA runtime registered: nvidia (nvidia-container-runtime)");
    assert!(check(&c, "docker.default-runtime").summary.starts_with("default runtime: nvidia"));
    assert!(check(&c, "project.image").summary.contains("suits this host: CUDA 12.8 <= 13.0, compute capability 9.0"));
    assert!(check(&c, "probe.gpu").summary.contains("saw 1 GPU(s) with --gpus all: GPU 0: NVIDIA H200"));
    assert!(!super::any_failed(&c));
}

/// `could not select device driver "" with capabilities: [[gpu]]`: Docker without the toolkit. Predicted from the
/// facts and, with --probe, the daemon's error translated to the same fix.
#[test]
fn failure_could_not_select_device_driver() {
    let mut f = h200_as_recorded();
    f.docker = docker(serde_json::json!({}));
    let c = run(&f);
    let rt = check(&c, "docker.nvidia-runtime");
    assert_eq!(rt.status, Status::Fail);
    assert!(rt.summary.contains("could not select device driver"));
    let fix = rt.fix.clone().unwrap();
    assert!(fix.contains("install nvidia-container-toolkit") && fix.contains("sudo systemctl restart docker") && fix.contains("Docker Engine instead"), "{fix}");
    f.probe = Some(ProbeResult {
        image: "devgpu-test/standin:bookworm".into(),
        image_origin: "--image".into(),
        outcome: ProbeOutcome::DaemonError { stage: "start".into(), message: "could not select device driver \"\" with capabilities: [[gpu]]".into() },
        removed: true,
    });
    let c = run(&f);
    let p = check(&c, "probe.gpu");
    assert_eq!(p.status, Status::Fail);
    assert!(p.summary.contains("failed at start") && p.summary.contains("nvidia-container-toolkit is not installed"), "{}", p.summary);
    assert_eq!(p.fix, Some(fix), "the probe's diagnosis is the predicted one");
}

/// The toolkit is installed but no runtime registered: --gpus works, Dev Containers' detection does not.
#[test]
fn toolkit_without_a_registered_runtime_is_a_warning() {
    let mut f = h200_healthy();
    f.docker = docker(serde_json::json!({}));
    f.daemon_json = daemon_json(None);
    let c = run(&f);
    let rt = check(&c, "docker.nvidia-runtime");
    assert_eq!(rt.status, Status::Warn);
    assert!(rt.fix.as_ref().unwrap().contains("devgpu host configure-docker"));
}

/// daemon.json registers nvidia (and the default), the running daemon does not know: not restarted.
#[test]
fn daemon_json_changed_but_docker_not_restarted() {
    let mut f = h200_healthy();
    f.docker = docker(serde_json::json!({}));
    let c = run(&f);
    assert_eq!(check(&c, "docker.nvidia-runtime").status, Status::Fail);
    assert_eq!(check(&c, "docker.nvidia-runtime").fix.as_deref(), Some("sudo systemctl restart docker"));
    assert_eq!(check(&c, "docker.default-runtime").status, Status::Fail);
}

/// The toolkit was installed after dockerd started: --gpus fails until a restart.
#[test]
fn toolkit_installed_after_docker_started() {
    let mut f = h200_healthy();
    f.docker.started_unix = Some(1_600_000_000);
    let c = run(&f);
    assert_eq!(check(&c, "docker.restarted").status, Status::Warn);
    f.docker.started_unix = Some(1_800_000_000);
    assert_eq!(check(&run(&f), "docker.restarted").status, Status::Pass);
}

/// A runtime named after nvidia-container-runtime that is not installed.
#[test]
fn runtime_binary_missing() {
    let mut f = h200_healthy();
    f.toolkit.tools.retain(|t| t.name != "nvidia-container-runtime");
    let c = run(&f);
    let rt = check(&c, "docker.nvidia-runtime");
    assert_eq!(rt.status, Status::Fail);
    assert!(rt.fix.as_ref().unwrap().contains("install nvidia-container-toolkit"));
}

/// `nvidia-container-cli: requirement error: unsatisfied condition: cuda>=12.8`: the image's CUDA is newer than the driver.
#[test]
fn failure_image_cuda_newer_than_the_driver() {
    let mut f = ampere_550();
    f.project = Some(project("nvidia/cuda:12.8.1-cudnn-runtime-ubuntu22.04"));
    let c = run(&f);
    let img = check(&c, "project.image");
    assert_eq!(img.status, Status::Fail);
    assert!(img.summary.contains("CUDA 12.8 needs driver >= 570.26; the target has 550.54.15"), "{}", img.summary);
    assert_eq!(img.fix.as_deref(), Some("use nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04 in .devcontainer/Dockerfile:1\nor upgrade the NVIDIA driver to >= 570.26"));
    // The same failure seen by --probe.
    f.probe = Some(ProbeResult {
        image: "nvidia/cuda:12.8.1-cudnn-runtime-ubuntu22.04".into(),
        image_origin: ".devcontainer/Dockerfile:1".into(),
        outcome: ProbeOutcome::DaemonError {
            stage: "start".into(),
            message: "failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: error during container init: error running hook #0: error running hook: exit status 1, stdout: , stderr: Auto-detected mode as 'legacy'\nnvidia-container-cli: requirement error: unsatisfied condition: cuda>=12.8, please update your driver to a newer version, or use an earlier cuda container: unknown".into(),
        },
        removed: true,
    });
    let p = run(&f).into_iter().find(|c| c.id == "probe.gpu").unwrap();
    assert_eq!(p.status, Status::Fail);
    assert!(p.summary.contains("the image needs CUDA 12.8"), "{}", p.summary);
    assert!(p.fix.unwrap().contains("supports CUDA 12.8"));
}

/// `nvidia-container-cli: initialization error: load library failed: libnvidia-ml.so.1`: no driver on the host.
#[test]
fn failure_no_driver_on_the_host() {
    let mut f = h200_healthy();
    f.kernel_module = None;
    f.nvml = NvmlFacts::not_found(vec!["libnvidia-ml.so.1".into()]);
    let (s, d, dc, g) = driver_and_gpus(&f.nvml, None, None);
    (f.gpu_source, f.driver, f.driver_cuda, f.gpus) = (s, d, dc, g);
    f.device_nodes = DeviceNodes::default();
    let c = run(&f);
    let km = check(&c, "gpu.kernel-module");
    assert_eq!(km.status, Status::Fail);
    assert!(km.fix.as_ref().unwrap().contains("ubuntu-drivers install"));
    for id in ["gpu.nvml", "gpu.driver-library", "gpu.devices", "gpu.device-nodes", "compat.driver-cuda", "compat.minor-version", "compat.gpu-cuda"] {
        assert_eq!(check(&c, id).status, Status::Skip, "{id}");
    }
    f.probe = Some(ProbeResult {
        image: "nvidia/cuda:13.0.2-base-ubuntu24.04".into(),
        image_origin: "default".into(),
        outcome: ProbeOutcome::DaemonError {
            stage: "start".into(),
            message: "OCI runtime create failed: container_linux.go:380: starting container process caused: process_linux.go:545: container init caused: Running hook #0:: error running hook: exit status 1, stdout: , stderr: nvidia-container-cli: initialization error: load library failed: libnvidia-ml.so.1: cannot open shared object file: no such file or directory: unknown".into(),
        },
        removed: true,
    });
    let p = run(&f).into_iter().find(|c| c.id == "probe.gpu").unwrap();
    assert!(p.fix.unwrap().starts_with("install the NVIDIA driver on the host"));
}

/// The driver's libraries are there but the module is not loaded (e.g. Secure Boot refused it).
#[test]
fn libraries_without_the_kernel_module() {
    let mut f = h200_as_recorded();
    f.kernel_module = None;
    f.nvml = NvmlFacts {
        status: NvmlStatus::InitFailed,
        error_code: Some("driver-not-loaded".into()),
        error: Some("NVML: driver not loaded".into()),
        library: Some("/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.550.54.15".into()),
        library_version: Some("550.54.15".parse().unwrap()),
        ..NvmlFacts::not_found(vec!["libnvidia-ml.so.1".into()])
    };
    let (s, d, dc, g) = driver_and_gpus(&f.nvml, None, None);
    (f.gpu_source, f.driver, f.driver_cuda, f.gpus) = (s, d, dc, g);
    let c = run(&f);
    let km = check(&c, "gpu.kernel-module");
    assert_eq!(km.status, Status::Fail);
    assert!(km.summary.contains("libraries 550.54.15 are installed, but its kernel module is not loaded"));
    assert!(km.fix.as_ref().unwrap().contains("sudo modprobe nvidia"));
    assert_eq!(check(&c, "gpu.nvml").status, Status::Skip);
}

/// `Failed to initialize NVML: Driver/library version mismatch`: upgraded without a reboot.
#[test]
fn failure_driver_library_mismatch() {
    let mut f = h200_healthy();
    f.kernel_module = parse_proc_driver_version("NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.14  Thu Feb 22 01:44:30 UTC 2024\n");
    f.nvml = NvmlFacts {
        status: NvmlStatus::InitFailed,
        error_code: Some("driver-library-mismatch".into()),
        error: Some("Failed to initialize NVML: Driver/library version mismatch".into()),
        library: Some("/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.550.54.15".into()),
        library_version: Some("550.54.15".parse().unwrap()),
        ..NvmlFacts::not_found(vec!["libnvidia-ml.so.1".into()])
    };
    let (s, d, dc, g) = driver_and_gpus(&f.nvml, None, f.kernel_module.as_ref());
    (f.gpu_source, f.driver, f.driver_cuda, f.gpus) = (s, d, dc, g);
    let c = run(&f);
    let m = check(&c, "gpu.driver-library");
    assert_eq!(m.status, Status::Fail);
    assert!(m.summary.contains("kernel module 550.54.14 ≠ user-space library 550.54.15"), "{}", m.summary);
    assert!(m.fix.as_ref().unwrap().starts_with("reboot: `sudo reboot`"));
    assert_eq!(check(&c, "gpu.nvml").status, Status::Skip, "one failure for one cause");
    assert_eq!(check(&c, "gpu.devices").status, Status::Skip);
    // The kernel module still gives the driver version, so the CUDA verdicts stand.
    assert!(check(&c, "compat.driver-cuda").summary.starts_with("driver 550.54.14 runs CUDA <= 12.4"));
}

/// `Failed to initialize NVML: Unknown Error` in running containers: systemd cgroup driver without /dev/char links.
#[test]
fn failure_nvml_unknown_error_risk_with_systemd_cgroups() {
    let mut f = h200_healthy();
    f.docker = docker(serde_json::json!({
        "Runtimes": {"nvidia": {"path": "nvidia-container-runtime"}, "runc": {"path": "runc"}},
        "CgroupDriver": "systemd", "CgroupVersion": "2"
    }));
    f.device_nodes.dev_char_missing = vec!["/dev/nvidia0".into(), "/dev/nvidiactl".into()];
    let c = run(&f);
    let cg = check(&c, "docker.cgroups");
    assert_eq!(cg.status, Status::Warn);
    assert!(cg.summary.contains("Failed to initialize NVML: Unknown Error"));
    assert_eq!(cg.fix.as_deref(), Some("create the /dev/char links systemd resolves devices by: `sudo nvidia-ctk system create-dev-char-symlinks --create-all`, then restart the container"));
    f.device_nodes.dev_char_missing.clear();
    assert_eq!(check(&run(&f), "docker.cgroups").status, Status::Pass);
    // Seen by the probe:
    f.probe = Some(ProbeResult {
        image: "x".into(),
        image_origin: "--image".into(),
        outcome: ProbeOutcome::Ran { exit_code: 255, output: "Failed to initialize NVML: Unknown Error\n".into() },
        removed: true,
    });
    let p = run(&f).into_iter().find(|c| c.id == "probe.gpu").unwrap();
    assert_eq!(p.status, Status::Fail);
    assert!(p.fix.unwrap().contains("create-dev-char-symlinks"));
}

/// `permission denied while trying to connect to the Docker daemon socket`.
#[test]
fn failure_docker_socket_permission_denied() {
    let mut f = h200_healthy();
    f.docker = unreachable(DockerError::PermissionDenied { url: "unix:///var/run/docker.sock".into(), origin: "the default socket".into(), path: "/var/run/docker.sock".into() });
    let c = run(&f);
    let r = check(&c, "docker.reachable");
    assert_eq!(r.status, Status::Fail);
    assert!(r.summary.contains("permission denied while trying to connect to the Docker daemon socket"));
    assert!(r.fix.as_ref().unwrap().contains("sudo usermod -aG docker $USER"));
    for id in ["docker.engine", "docker.nvidia-runtime", "docker.default-runtime", "docker.cgroups", "probe.gpu"] {
        assert_eq!(check(&c, id).status, Status::Skip, "{id}");
    }
}

/// Docker down: the socket exists, nothing listens.
#[test]
fn docker_daemon_down() {
    let mut f = h200_healthy();
    f.docker = unreachable(DockerError::DaemonDown { url: "unix:///var/run/docker.sock".into(), origin: "the default socket".into(), detail: "Connection refused (os error 111)".into() });
    let r = run(&f).into_iter().find(|c| c.id == "docker.reachable").unwrap();
    assert_eq!(r.status, Status::Fail);
    assert!(r.fix.unwrap().contains("sudo systemctl start docker"));
}

/// `no kernel image is available for execution on the device`: a cu118 PyTorch on a Blackwell GPU.
#[test]
fn failure_no_kernel_image_for_the_gpu() {
    let mut f = h200_healthy();
    for g in f.gpus.iter_mut().chain(f.nvml.gpus.iter_mut()) {
        g.name = "NVIDIA B200".into();
        g.compute_cap = Some("10.0".parse().unwrap());
    }
    let mut p = project("nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04");
    p.torch_variant = Some(ImageRef { image: "cu118".into(), source: "requirements.txt:1".into() });
    f.project = Some(p);
    let c = run(&f);
    let fw = check(&c, "project.framework");
    assert_eq!(fw.status, Status::Fail);
    assert!(fw.summary.contains("no kernel image is available for execution on the device"), "{}", fw.summary);
    let fix = fw.fix.clone().unwrap();
    assert!(fix.starts_with("use the cu130 build in requirements.txt:1"), "{fix}");
    // A variant this driver runs and the GPU has kernels in: fine.
    f.project.as_mut().unwrap().torch_variant = Some(ImageRef { image: "cu128".into(), source: "requirements.txt:1".into() });
    assert_eq!(check(&run(&f), "project.framework").status, Status::Pass);
}

/// A PyTorch variant newer than the driver's CUDA major (cu130 on driver 550): no minor-version compatibility across majors.
#[test]
fn torch_variant_too_new_for_the_driver() {
    let mut f = ampere_550();
    let mut p = project("nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04");
    p.torch_variant = Some(ImageRef { image: "cu130".into(), source: "requirements.txt:2".into() });
    f.project = Some(p.clone());
    let fw = run(&f).into_iter().find(|c| c.id == "project.framework").unwrap();
    assert_eq!(fw.status, Status::Fail);
    assert!(fw.summary.contains("needs a driver for CUDA 13.0; this host has 550.54.15 (CUDA <= 12.4)"), "{}", fw.summary);
    // cu126 on 550 runs through minor-version compatibility.
    p.torch_variant = Some(ImageRef { image: "cu126".into(), source: "requirements.txt:2".into() });
    f.project = Some(p);
    let fw = run(&f).into_iter().find(|c| c.id == "project.framework").unwrap();
    assert_eq!(fw.status, Status::Pass);
    assert!(fw.summary.contains("minor-version compatibility"));
}

/// `manifest unknown` for `nvidia/cuda:10.x…`: the end-of-life tag the blog posts still use.
#[test]
fn failure_deleted_end_of_life_tag() {
    let mut f = h200_healthy();
    f.project = Some(project("nvidia/cuda:10.2-cudnn7-devel-ubuntu18.04"));
    let c = run(&f);
    let img = check(&c, "project.image");
    assert_eq!(img.status, Status::Fail);
    assert!(img.summary.contains("NVIDIA no longer publishes CUDA 10.2 images"), "{}", img.summary);
    assert!(img.summary.contains("glibc 2.27"), "VS Code cannot attach to Ubuntu 18.04: {}", img.summary);
    assert_eq!(img.fix.as_deref(), Some("use nvidia/cuda:13.0.2-cudnn-devel-ubuntu24.04 in .devcontainer/Dockerfile:1"));
    f.probe = Some(ProbeResult {
        image: "nvidia/cuda:10.2-cudnn7-devel-ubuntu18.04".into(),
        image_origin: ".devcontainer/Dockerfile:1".into(),
        outcome: ProbeOutcome::DaemonError { stage: "pull".into(), message: "manifest for nvidia/cuda:10.2-cudnn7-devel-ubuntu18.04 not found: manifest unknown: manifest unknown".into() },
        removed: true,
    });
    let p = run(&f).into_iter().find(|c| c.id == "probe.gpu").unwrap();
    assert!(p.summary.contains("failed at pull") && p.summary.contains("NVIDIA deletes end-of-life nvidia/cuda tags"), "{}", p.summary);
}

#[test]
fn a_superseded_patch_release_is_a_warning() {
    let mut f = h200_healthy();
    f.project = Some(project("nvidia/cuda:12.4.0-runtime-ubuntu22.04"));
    let img = run(&f).into_iter().find(|c| c.id == "project.image").unwrap();
    assert_eq!(img.status, Status::Warn);
    assert!(img.summary.contains("superseded by 12.4.1"));
}

#[test]
fn images_that_are_not_nvidia_cuda_are_not_judged() {
    let mut f = h200_healthy();
    f.project = Some(project("mcr.microsoft.com/devcontainers/python:3.12"));
    assert_eq!(check(&run(&f), "project.image").status, Status::Skip);
}

/// daemon.json with a trailing comma: dockerd 20.10 refuses to start; doctor says where.
#[test]
fn daemon_json_refused_with_line_and_column() {
    let mut f = h200_healthy();
    f.daemon_json = daemon_json(Some("{\n  \"runtimes\": {\n    \"nvidia\": {\"path\": \"nvidia-container-runtime\"}\n  },\n}\n"));
    let c = run(&f);
    let j = check(&c, "daemon-json.valid");
    assert_eq!(j.status, Status::Fail);
    assert!(j.summary.starts_with("/etc/docker/daemon.json:5:1: dockerd will refuse to start with this daemon.json: invalid character '}' looking for beginning of object key string"), "{}", j.summary);
    assert!(j.fix.as_ref().unwrap().contains("remove the trailing comma at /etc/docker/daemon.json:4:4"), "{:?}", j.fix);
}

#[test]
fn docker_desktop_snap_and_rootless() {
    let mut f = h200_healthy();
    f.docker = docker(serde_json::json!({"OperatingSystem": "Docker Desktop"}));
    let e = run(&f).into_iter().find(|c| c.id == "docker.engine").unwrap();
    assert_eq!(e.status, Status::Fail);
    assert!(e.fix.unwrap().contains("docker context use default"));
    f.docker = docker(serde_json::json!({"DockerRootDir": "/var/snap/docker/common/var-lib-docker"}));
    assert_eq!(check(&run(&f), "docker.engine").status, Status::Warn);
    f.docker = docker(serde_json::json!({"SecurityOptions": ["name=seccomp,profile=default", "name=rootless"]}));
    let e = run(&f).into_iter().find(|c| c.id == "docker.engine").unwrap();
    assert_eq!(e.status, Status::Warn);
    assert!(e.fix.unwrap().contains("no-cgroups"));
}

#[test]
fn mig_uvm_and_permission_problems() {
    let mut f = h200_healthy();
    f.gpus[0].mig_mode = Some("Enabled".into());
    let d = run(&f).into_iter().find(|c| c.id == "gpu.devices").unwrap();
    assert_eq!(d.status, Status::Warn);
    assert!(d.fix.unwrap().contains("nvidia-smi -i 0 -mig 0"));

    let mut f = h200_healthy();
    f.device_nodes.nvidia_uvm = false;
    let n = run(&f).into_iter().find(|c| c.id == "gpu.device-nodes").unwrap();
    assert_eq!(n.status, Status::Warn);
    assert!(n.fix.unwrap().contains("modprobe nvidia-uvm"));

    let mut f = h200_healthy();
    f.nvml = NvmlFacts { status: NvmlStatus::InitFailed, error_code: Some("no-permission".into()), error: Some("Failed to initialize NVML: Insufficient Permissions".into()), ..f.nvml.clone() };
    assert_eq!(check(&run(&f), "gpu.nvml").status, Status::Fail);
}

/// NVML not loadable by devgpu, but nvidia-smi works (its driver folder is not on the loader path).
#[test]
fn nvidia_smi_fallback_is_a_warning() {
    let mut f = h200_as_recorded();
    f.nvml = NvmlFacts::not_found(vec!["libnvidia-ml.so.1".into()]);
    let xml = crate::host::nvidia_smi_xml::parse_nvidia_smi_xml(include_str!("../../tests/fixtures/h200/nvidia-smi-q.xml")).unwrap();
    let smi = crate::host::nvidia_smi_xml::SmiFallback {
        path: Some("/usr/local/nvidia/bin/nvidia-smi".into()),
        driver_version: xml.driver_version.clone(),
        cuda_version: xml.cuda_version,
        gpus: crate::host::nvidia_smi_xml::merge_gpus(&xml, &parse_query_gpu(H200_CSV).unwrap()),
        error: None,
    };
    let (s, d, dc, g) = driver_and_gpus(&f.nvml, Some(&smi), f.kernel_module.as_ref());
    assert_eq!(s.as_deref(), Some("nvidia-smi"));
    (f.gpu_source, f.driver, f.driver_cuda, f.gpus, f.nvidia_smi) = (s, d, dc, g, Some(smi));
    let c = run(&f);
    assert_eq!(check(&c, "gpu.nvml").status, Status::Warn);
    assert_eq!(check(&c, "gpu.devices").status, Status::Pass);
    assert_eq!(check(&c, "compat.gpu-cuda").status, Status::Pass);
}

#[test]
fn cdi_specs_current_stale_and_required() {
    let spec = "cdiVersion: 0.5.0\nkind: nvidia.com/gpu\ndevices:\n- name: all\ncontainerEdits:\n  mounts:\n  - hostPath: /usr/lib/x86_64-linux-gnu/libcuda.so.550.54.15\n";
    let mut f = h200_healthy();
    f.cdi.specs = vec![parse_cdi_spec(spec, true, "/etc/cdi/nvidia.yaml")];
    let c = check(&run(&f), "toolkit.cdi").clone();
    assert_eq!(c.status, Status::Warn, "generated for 550.54.15, the host runs 580.159.04");
    assert!(c.fix.unwrap().contains("nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml"));
    f.cdi.specs = vec![parse_cdi_spec(&spec.replace("550.54.15", "580.159.04"), true, "/etc/cdi/nvidia.yaml")];
    assert_eq!(check(&run(&f), "toolkit.cdi").status, Status::Pass);
    f.cdi.specs.clear();
    f.daemon_json = daemon_json(Some(r#"{"features": {"cdi": true}}"#));
    assert_eq!(check(&run(&f), "toolkit.cdi").status, Status::Warn);
}

#[test]
fn the_json_shape_of_a_check() {
    let c = Check::fail("docker.nvidia-runtime", "s", "f");
    assert_eq!(serde_json::to_value(&c).unwrap(), serde_json::json!({"id": "docker.nvidia-runtime", "status": "fail", "summary": "s", "fix": "f"}));
    let c = Check::pass("x.y", "s");
    assert_eq!(serde_json::to_value(&c).unwrap()["fix"], serde_json::Value::Null);
}

/// The newest CUDA minor in the driver table (`13.5`).
fn newest_cuda() -> String {
    crate::compat::knowledge().cuda_releases.last().unwrap().version.short()
}
