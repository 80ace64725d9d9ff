//! Every GPU mode's container against the real Docker daemon (DESIGN.md §4: no GPU here, Docker 20.10):
//!
//! - the container `devgpu up` would create for `toolkit`, `cdi` and `inject` runArgs (as `devgpu init --gpu-mode`
//!   writes them) is created on the daemon, its `HostConfig` inspected (DeviceRequests; Devices with their cgroup
//!   permissions, the read-only driver mount, `LD_LIBRARY_PATH`), and removed;
//! - `inject` end to end on fake device nodes and a fake driver root: `devgpu up` starts it, the nodes, the driver
//!   files and the environment are there inside, and `devgpu verify` passes its GPU checks (the fake nvidia-smi
//!   lists the GPU, libcuda.so.1 resolves through LD_LIBRARY_PATH);
//! - a host without NVIDIA device nodes: `devgpu up` in inject mode stops before Docker with the diagnosis, and the
//!   daemon's own words for it (and for a missing driver folder, and for CDI on a Docker without CDI) are
//!   recognised by the diagnosis table; `toolkit` and `cdi` fail with their diagnoses too.
//!
//! Under CI a missing daemon or stand-in image fails the test; elsewhere it is skipped with a note. Fake nodes need
//! root (mknod), which CI has.

mod common;
mod up_support;

use std::process::Command;

use common::docker::{standin_images_available, STANDIN_IMAGE};
use serde_json::Value;
use up_support::{check, docker_exec, Workspace};

use common::fake_gpu::FakeHost;

fn devcontainer(extra_run_args: &[&str]) -> String {
    let mut args = vec!["--network", "none"];
    args.extend_from_slice(extra_run_args);
    serde_json::json!({ "image": STANDIN_IMAGE, "runArgs": args }).to_string()
}

/// `devgpu init --gpu-mode MODE` on a workspace whose devcontainer.json names the stand-in image: init keeps the
/// image and merges the mode's runArgs.
fn init(ws: &Workspace, mode: &str, extra: &[String]) {
    let mut a: Vec<String> = vec!["init".into(), ".".into(), "--gpu-mode".into(), mode.into()];
    a.extend(extra.iter().cloned());
    let refs: Vec<&str> = a.iter().map(String::as_str).collect();
    let (code, env, stderr) = ws.devgpu(&refs);
    assert_eq!(code, 0, "init --gpu-mode {mode}: {env:#}\n{stderr}");
}

/// Creates (never starts) the container `up` plans for the workspace, returns `docker inspect` of it, removes it.
fn create_and_inspect(ws: &Workspace) -> Value {
    let plan = devgpu::commands::up::prepare(ws.path(), None).unwrap_or_else(|e| panic!("plan: {e:?}"));
    let body = plan.container_body(&devgpu::plan::up::ImageFacts::default(), true);
    let id = devgpu::block_on(async {
        let docker = devgpu::docker::connect(None).await.expect("the local daemon");
        docker.client.create_container(None::<bollard::query_parameters::CreateContainerOptions>, body).await.map(|r| r.id)
    })
    .unwrap_or_else(|e| panic!("the daemon refused the container: {e}"));
    let out = Command::new("docker").args(["inspect", &id]).output().unwrap();
    let _ = Command::new("docker").args(["rm", "-f", &id]).output();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v[0].clone()
}

#[test]
fn every_mode_creates_the_container_it_should() {
    if !standin_images_available() {
        return;
    }
    // toolkit: a DeviceRequest, as `--gpus all`.
    let ws = Workspace::new(&devcontainer(&[]));
    init(&ws, "toolkit", &[]);
    let c = create_and_inspect(&ws);
    let dr = &c["HostConfig"]["DeviceRequests"][0];
    assert_eq!((dr["Driver"].as_str(), dr["Count"].as_i64(), &dr["Capabilities"]), (Some(""), Some(-1), &serde_json::json!([["gpu"]])), "{c:#}");

    // cdi: the CDI device as a DeviceRequest with driver "cdi" (what the docker CLI ≥ 25 sends for --device
    // nvidia.com/gpu=…), two GPUs by count.
    let ws = Workspace::new(&devcontainer(&[]));
    init(&ws, "cdi", &["--gpus".into(), "2".into()]);
    let c = create_and_inspect(&ws);
    let drs = c["HostConfig"]["DeviceRequests"].as_array().unwrap();
    let ids: Vec<&str> = drs.iter().map(|d| d["DeviceIDs"][0].as_str().unwrap()).collect();
    assert_eq!(ids, ["nvidia.com/gpu=0", "nvidia.com/gpu=1"], "{c:#}");
    assert!(drs.iter().all(|d| d["Driver"] == "cdi"));

    // inject: device nodes with rwm cgroup permissions, the driver root read-only, LD_LIBRARY_PATH; GPU 1 only.
    let Some(host) = FakeHost::new(2) else { return };
    let ws = Workspace::new(&devcontainer(&[]));
    let mut extra = host.args();
    extra.extend(["--gpus".into(), "device=1".into()]);
    init(&ws, "inject", &extra);
    let c = create_and_inspect(&ws);
    let devices = c["HostConfig"]["Devices"].as_array().unwrap();
    let in_container: Vec<&str> = devices.iter().map(|d| d["PathInContainer"].as_str().unwrap()).collect();
    assert_eq!(in_container, ["/dev/nvidia1", "/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools"], "{c:#}");
    assert_eq!(devices[0]["PathOnHost"], host.dev.join("nvidia1").display().to_string());
    assert!(devices.iter().all(|d| d["CgroupPermissions"] == "rwm"));
    let mount = c["HostConfig"]["Mounts"].as_array().unwrap().iter().find(|m| m["Target"] == "/usr/local/nvidia").expect("the driver mount").clone();
    assert_eq!((mount["Type"].as_str(), mount["Source"].as_str(), mount["ReadOnly"].as_bool()), (Some("bind"), Some(host.root.display().to_string().as_str()), Some(true)));
    assert!(c["Config"]["Env"].as_array().unwrap().iter().any(|e| e == "LD_LIBRARY_PATH=/usr/local/nvidia/lib64"), "{c:#}");
    assert_eq!(c["HostConfig"]["DeviceRequests"], Value::Null, "no --gpus in inject mode");
}

#[test]
fn inject_mode_up_and_verify_on_fake_gpu_nodes() {
    if !standin_images_available() {
        return;
    }
    let Some(host) = FakeHost::new(1) else { return };
    let ws = Workspace::new(&devcontainer(&[]));
    init(&ws, "inject", &host.args());
    let (code, env, stderr) = ws.devgpu(&["up"]);
    assert_eq!(code, 0, "{env:#}\n{stderr}");
    let id = env["data"]["containerId"].as_str().unwrap().to_string();
    assert_eq!(
        docker_exec(&id, None, "ls /dev/nvidia0 /dev/nvidiactl /dev/nvidia-uvm; readlink -f /usr/local/nvidia/lib64/libcuda.so.1; echo $LD_LIBRARY_PATH; /usr/local/nvidia/bin/nvidia-smi; touch /usr/local/nvidia/x 2>&1 | grep -c Read-only"),
        "/dev/nvidia-uvm\n/dev/nvidia0\n/dev/nvidiactl\n/usr/local/nvidia/lib64/libcuda.so.999.99.9\n/usr/local/nvidia/lib64\nGPU 0: NVIDIA Fake (UUID: GPU-00000000-fake)\n1"
    );
    let (code, env, stderr) = ws.devgpu(&["verify"]);
    let data = &env["data"];
    assert_eq!(code, 0, "{env:#}\n{stderr}");
    for id in ["gpu.visible", "gpu.device-nodes", "gpu.libcuda"] {
        assert_eq!(check(data, id)["status"], "pass", "{id}: {data:#}");
    }
    assert!(check(data, "gpu.visible")["summary"].as_str().unwrap().contains("NVIDIA Fake"), "{data:#}");
}

#[test]
fn no_device_nodes_and_missing_driver_files_are_diagnosed_in_every_mode() {
    if !standin_images_available() {
        return;
    }
    let has_gpu = std::path::Path::new("/dev/nvidiactl").exists();
    if has_gpu {
        eprintln!("note: this machine has NVIDIA device nodes; the no-device-node case is checked on the daemon's text only");
    }
    // The daemon's own words, fed to the diagnosis table.
    let said = |args: &[&str]| -> String {
        let out = Command::new("docker").args(["run", "--rm", "--network", "none"]).args(args).arg(STANDIN_IMAGE).arg("true").output().unwrap();
        assert!(!out.status.success());
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    if !has_gpu {
        let text = said(&["--device", "/dev/nvidia0"]);
        assert_eq!(devgpu::checks::diagnose(&text).map(|d| d.id).as_deref(), Some("no-device-node"), "{text}");
    }
    let text = said(&["--mount", "type=bind,source=/nonexistent/nvidia,target=/usr/local/nvidia,readonly"]);
    assert_eq!(devgpu::checks::diagnose(&text).map(|d| d.id).as_deref(), Some("driver-files-missing"), "{text}");
    let text = said(&["--device", "nvidia.com/gpu=all"]);
    assert_eq!(devgpu::checks::diagnose(&text).map(|d| d.id).as_deref(), Some("cdi-unsupported"), "{text}");

    // inject with this host's (absent) nodes: stopped before Docker, the node named, the fix given; no container.
    if !has_gpu {
        let ws = Workspace::new(&devcontainer(&["--device", "/dev/nvidia0", "--device", "/dev/nvidiactl", "-e", "LD_LIBRARY_PATH=/usr/local/nvidia/lib64"]));
        let (code, env, _) = ws.devgpu(&["up"]);
        assert_eq!(code, 1, "{env:#}");
        let e = &env["error"];
        assert_eq!(e["code"], "gpu-unavailable", "{env:#}");
        assert!(e["message"].as_str().unwrap().contains("/dev/nvidia0 does not exist"), "{env:#}");
        assert!(e["hints"][0].as_str().unwrap().contains("nvidia-modprobe"), "{env:#}");
        assert!(ws.containers().is_empty());
    }
    // inject whose driver folder is gone: the folder named.
    let Some(host) = FakeHost::new(1) else { return };
    let ws = Workspace::new(&devcontainer(&[]));
    init(&ws, "inject", &host.args());
    std::fs::rename(&host.root, host.root.with_extension("gone")).unwrap();
    let (code, env, _) = ws.devgpu(&["up"]);
    assert_eq!((code, env["error"]["code"].as_str()), (1, Some("gpu-unavailable")), "{env:#}");
    assert!(env["error"]["message"].as_str().unwrap().contains(&host.root.display().to_string()), "{env:#}");
    assert!(env["error"]["hints"][0].as_str().unwrap().contains("--gpu-mode inject"), "{env:#}");
    std::fs::rename(host.root.with_extension("gone"), &host.root).unwrap();

    // cdi on this Docker (20.10, no CDI): the daemon refuses, devgpu says why.
    let ws = Workspace::new(&devcontainer(&["--device", "nvidia.com/gpu=all"]));
    let (code, env, _) = ws.devgpu(&["up"]);
    assert_eq!(code, 1, "{env:#}");
    let hints = env["error"]["hints"].to_string();
    assert!(hints.contains("configure-docker --cdi") || hints.contains("devgpu host cdi"), "{env:#}");
    assert!(ws.containers().is_empty(), "no container left behind");
    // toolkit on this Docker: the toolkit diagnosis (unchanged behaviour, for completeness).
    let ws = Workspace::new(&devcontainer(&["--gpus", "all"]));
    let (code, env, _) = ws.devgpu(&["up"]);
    assert_eq!((code, env["error"]["code"].as_str()), (1, Some("gpu-unavailable")), "{env:#}");
}
