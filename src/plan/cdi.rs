//! PURE: what a container needs to use the GPU without nvidia-container-toolkit — device nodes, read-only mounts
//! of the driver's files, `LD_LIBRARY_PATH` ([`ContainerEdits`]) — built from the host's facts, and the two ways to
//! hand it over:
//!
//! - a CDI spec ([`build_spec`]): kind `nvidia.com/gpu`, one device per GPU index, one per UUID, and `all`, each
//!   carrying its complete edits (every version of the CDI schema accepts per-device edits; runtimes merge the edits
//!   of several requested devices by path). Docker ≥ 25 with `features.cdi` and Podman apply it for
//!   `--device nvidia.com/gpu=all`;
//! - `docker run` arguments ([`inject_run_args`]): `--device` per node (Docker adds the cgroup rule `c M:m rwm` for
//!   each), `--mount type=bind,…,readonly` per driver folder or file, `-e LD_LIBRARY_PATH=…` — what devgpu's
//!   `inject` mode writes into runArgs, so that any Docker (20.10 included) and VS Code's "Reopen in Container"
//!   apply it without devgpu.
//!
//! Container paths: the driver's libraries in `/usr/local/nvidia/lib64`, its binaries in `/usr/local/nvidia/bin`
//! (what `nvidia/cuda` images put on `PATH` and `LD_LIBRARY_PATH`), device nodes at their `/dev` path, firmware
//! where it is on the host.

use crate::model::host::{Capability, DevNode, DriverFiles, DriverLayout, FileKind, GpuDeviceFacts, GpuNode, CONTAINER_DRIVER_ROOT};
use serde::Serialize;
use serde_json::{json, Value};

/// The CDI kind devgpu writes (the one `nvidia-ctk cdi generate` writes too).
pub const CDI_KIND: &str = "nvidia.com/gpu";
/// The CDI spec version: 0.5.0 is the first with `hostPath` on device nodes; Docker 25+, Podman 4.1+ read it.
pub const CDI_VERSION: &str = "0.5.0";
/// Where `devgpu host cdi` writes by default (a name of its own, beside `nvidia-ctk`'s `nvidia.yaml`).
pub const DEFAULT_SPEC_PATH: &str = "/etc/cdi/devgpu-nvidia.json";
/// Mount options of every driver mount (as nvidia-ctk writes them).
pub const MOUNT_OPTIONS: [&str; 4] = ["ro", "nosuid", "nodev", "bind"];

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EditNode {
    /// In the container.
    pub path: String,
    /// On the host, when it differs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_path: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EditMount {
    pub host_path: String,
    pub container_path: String,
    pub options: Vec<String>,
}

/// The CDI `containerEdits` devgpu uses: device nodes, mounts, environment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerEdits {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub device_nodes: Vec<EditNode>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mounts: Vec<EditMount>,
}

impl ContainerEdits {
    /// Every host path the edits name (device nodes and mount sources), for the "does it exist" check.
    pub fn host_paths(&self) -> Vec<String> {
        self.device_nodes.iter().map(|n| n.host_path.clone().unwrap_or_else(|| n.path.clone())).chain(self.mounts.iter().map(|m| m.host_path.clone())).collect()
    }

    fn add_node(&mut self, n: &DevNode) {
        if !self.device_nodes.iter().any(|x| x.path == n.path) {
            self.device_nodes.push(EditNode { path: n.path.clone(), host_path: (n.host_path != n.path).then(|| n.host_path.clone()) });
        }
    }
}

fn mount(host: &str, container: &str) -> EditMount {
    EditMount { host_path: host.to_string(), container_path: container.to_string(), options: MOUNT_OPTIONS.iter().map(|s| s.to_string()).collect() }
}

/// The mounts and environment for the driver's files.
pub fn driver_edits(files: &DriverFiles) -> ContainerEdits {
    let mut e = ContainerEdits::default();
    match &files.layout {
        DriverLayout::Dedicated { root, .. } => e.mounts.push(mount(root, CONTAINER_DRIVER_ROOT)),
        DriverLayout::Shared => {
            for f in files.files.iter().filter(|f| f.kind != FileKind::Firmware) {
                let dir = if f.kind == FileKind::Library { "lib64" } else { "bin" };
                for name in &f.names {
                    e.mounts.push(mount(&f.host_path, &format!("{CONTAINER_DRIVER_ROOT}/{dir}/{name}")));
                }
            }
        }
    }
    for f in files.files.iter().filter(|f| f.kind == FileKind::Firmware) {
        e.mounts.push(mount(&f.host_path, &f.host_path));
    }
    e.env.push(format!("LD_LIBRARY_PATH={}", files.ld_library_path()));
    e
}

/// The complete edits for a set of GPUs: control nodes, the GPUs' nodes, the driver's files.
pub fn edits_for(gpus: &[&GpuNode], devices: &GpuDeviceFacts, files: &DriverFiles) -> ContainerEdits {
    let mut e = ContainerEdits::default();
    for g in gpus {
        e.add_node(&g.node);
    }
    for n in devices.control_nodes(files.capabilities.contains(&Capability::Graphics)) {
        e.add_node(n);
    }
    let d = driver_edits(files);
    e.mounts = d.mounts;
    e.env = d.env;
    e
}

/// The CDI spec for every GPU of the host (devices `0`, `1`, …, `GPU-<uuid>`, and `all`), as JSON.
pub fn build_spec(devices: &GpuDeviceFacts, files: &DriverFiles) -> Value {
    let mut list = Vec::new();
    let all: Vec<&GpuNode> = devices.gpus.iter().collect();
    for g in &all {
        list.push(json!({ "name": g.index.to_string(), "containerEdits": edits_for(&[g], devices, files) }));
    }
    for g in &all {
        if let Some(u) = &g.uuid {
            list.push(json!({ "name": u, "containerEdits": edits_for(&[g], devices, files) }));
        }
    }
    list.push(json!({ "name": "all", "containerEdits": edits_for(&all, devices, files) }));
    json!({ "cdiVersion": CDI_VERSION, "kind": CDI_KIND, "devices": list })
}

/// The spec as the file holds it: two-space JSON and a final newline.
pub fn spec_text(spec: &Value) -> String {
    let mut s = serde_json::to_string_pretty(spec).expect("a JSON value serialises");
    s.push('\n');
    s
}

/// Every host path a CDI spec names (device nodes' `hostPath`/`path`, mounts' `hostPath`) with the device it is
/// for, for any spec (ours or nvidia-ctk's; top-level edits are reported for device `*`).
pub fn spec_host_paths(spec: &Value) -> Vec<(String, String)> {
    fn edits(device: &str, e: &Value, out: &mut Vec<(String, String)>) {
        for n in e.get("deviceNodes").and_then(Value::as_array).into_iter().flatten() {
            if let Some(p) = n.get("hostPath").or_else(|| n.get("path")).and_then(Value::as_str) {
                out.push((device.to_string(), p.to_string()));
            }
        }
        for m in e.get("mounts").and_then(Value::as_array).into_iter().flatten() {
            if let Some(p) = m.get("hostPath").and_then(Value::as_str) {
                out.push((device.to_string(), p.to_string()));
            }
        }
    }
    let mut out = Vec::new();
    if let Some(e) = spec.get("containerEdits") {
        edits("*", e, &mut out);
    }
    for d in spec.get("devices").and_then(Value::as_array).into_iter().flatten() {
        let name = d.get("name").and_then(Value::as_str).unwrap_or("?");
        if let Some(e) = d.get("containerEdits") {
            edits(name, e, &mut out);
        }
    }
    out
}

/// The host paths of a spec that `exists` says are missing (the device or `*` they belong to, and the path),
/// without repeats. Glob patterns (`/dev/dri/card*`) are not checked.
pub fn missing_paths(spec: &Value, exists: impl Fn(&str) -> bool) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (dev, p) in spec_host_paths(spec) {
        if p.contains(['*', '?', '[']) || out.iter().any(|(_, q)| *q == p) {
            continue;
        }
        if !exists(&p) {
            out.push((dev, p));
        }
    }
    out
}

/// The edits as `docker run` arguments (separate array items, as devcontainer.json runArgs take them):
/// `--device HOST[:CONTAINER]`, `--mount type=bind,source=…,target=…,readonly`, `-e NAME=VALUE`.
/// GPU nodes come first, so that tools reading runArgs see the GPU request first.
pub fn inject_run_args(edits: &ContainerEdits) -> Vec<String> {
    let mut out = Vec::new();
    let is_gpu = |p: &str| p.strip_prefix("/dev/nvidia").is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
    let mut nodes: Vec<&EditNode> = edits.device_nodes.iter().collect();
    nodes.sort_by_key(|n| !is_gpu(&n.path));
    for n in nodes {
        out.push("--device".to_string());
        out.push(match &n.host_path {
            Some(h) => format!("{h}:{}", n.path),
            None => n.path.clone(),
        });
    }
    for m in &edits.mounts {
        out.push("--mount".to_string());
        let ro = if m.options.iter().any(|o| o == "ro") { ",readonly" } else { "" };
        out.push(format!("type=bind,source={},target={}{ro}", m.host_path, m.container_path));
    }
    for e in &edits.env {
        out.push("-e".to_string());
        out.push(e.clone());
    }
    out
}

/// `docker run` flags without a value (every other flag written without `=` takes the next item).
const BOOL_FLAGS: &[&str] = &[
    "--privileged", "--init", "--rm", "--read-only", "-t", "-i", "-d", "-it", "--tty", "--interactive", "--detach", "--no-healthcheck",
    "--oom-kill-disable", "-P", "--publish-all", "--use-api-socket",
];

/// The items of a runArgs list that belong to a GPU request devgpu writes (any mode): `--gpus`, `--device` of an
/// NVIDIA node or CDI device, `--mount` into `/usr/local/nvidia` or of `/lib/firmware/nvidia`, and
/// `-e LD_LIBRARY_PATH=/usr/local/nvidia…`; as (index, number of items), in order. Used to replace one mode's
/// arguments with another's.
pub fn gpu_items(run_args: &[String]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < run_args.len() {
        let item = run_args[i].as_str();
        let (flag, value, n) = match item.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v), 1),
            _ if item.starts_with('-') => (item, run_args.get(i + 1).map(String::as_str), 2),
            _ => {
                i += 1;
                continue;
            }
        };
        let v = value.unwrap_or("");
        let ours = match flag {
            "--gpus" => true,
            "--device" => v.starts_with("/dev/nvidia") || v.starts_with("nvidia.com/") || v.contains(":/dev/nvidia"),
            "--mount" => v.contains(&format!("target={CONTAINER_DRIVER_ROOT}")) || v.contains("target=/lib/firmware/nvidia"),
            "-e" | "--env" => v.starts_with("LD_LIBRARY_PATH=") && v.contains(CONTAINER_DRIVER_ROOT),
            _ => false,
        };
        let takes_value = n == 2 && !BOOL_FLAGS.contains(&flag);
        let width = if takes_value { 2 } else { 1 };
        if ours {
            out.push((i, width.min(run_args.len() - i)));
        }
        i += width;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::driver_files::{resolve, DEFAULT_CAPABILITIES};
    use crate::host::gpu_fixtures::{h200, h200_scan, ubuntu, ubuntu_scan};

    fn schema_check(spec: &Value) {
        // Structural checks here; the JSON Schema validation itself is in tests/gpu_modes.rs (jsonschema is a
        // dev-dependency of the integration tests).
        assert_eq!(spec["cdiVersion"], CDI_VERSION);
        assert_eq!(spec["kind"], CDI_KIND);
        for d in spec["devices"].as_array().unwrap() {
            let name = d["name"].as_str().unwrap();
            assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c)), "{name}");
            assert!(d["containerEdits"]["deviceNodes"].as_array().is_some_and(|a| !a.is_empty()));
        }
    }

    #[test]
    fn h200_spec() {
        let files = resolve(&h200_scan(), &DEFAULT_CAPABILITIES).unwrap();
        let spec = build_spec(&h200(), &files);
        schema_check(&spec);
        let names: Vec<&str> = spec["devices"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["0", "GPU-7b8238c7-8f23-f0a1-12fc-4a5b75119cb4", "all"]);
        let all = &spec["devices"][2]["containerEdits"];
        assert_eq!(
            all["deviceNodes"],
            json!([{"path": "/dev/nvidia0"}, {"path": "/dev/nvidiactl"}, {"path": "/dev/nvidia-uvm"}, {"path": "/dev/nvidia-uvm-tools"}])
        );
        assert_eq!(all["mounts"], json!([{"hostPath": "/usr/local/nvidia", "containerPath": "/usr/local/nvidia", "options": ["ro", "nosuid", "nodev", "bind"]}]));
        assert_eq!(all["env"], json!(["LD_LIBRARY_PATH=/usr/local/nvidia/lib64"]));
        assert_eq!(spec["devices"][0]["containerEdits"], spec["devices"][1]["containerEdits"], "index and UUID name the same GPU");
        assert!(spec_text(&spec).ends_with("}\n"));
    }

    #[test]
    fn ubuntu_spec_binds_files_one_by_one() {
        let devices = ubuntu();
        let files = resolve(&ubuntu_scan(), &DEFAULT_CAPABILITIES).unwrap();
        let spec = build_spec(&devices, &files);
        schema_check(&spec);
        let names: Vec<&str> = spec["devices"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["0", "1", "GPU-3f4a2c1e-9b7d-4e21-8c55-0a1b2c3d4e5f", "GPU-8e7d6c5b-4a39-4f28-9e17-f0e1d2c3b4a5", "all"]);
        // GPU 0 is /dev/nvidia1 (proc's device minor), not /dev/nvidia0.
        assert_eq!(spec["devices"][0]["containerEdits"]["deviceNodes"][0]["path"], "/dev/nvidia1");
        let mounts = spec["devices"][4]["containerEdits"]["mounts"].as_array().unwrap();
        let m = |c: &str| mounts.iter().find(|m| m["containerPath"] == c).map(|m| m["hostPath"].as_str().unwrap().to_string());
        assert_eq!(m("/usr/local/nvidia/lib64/libcuda.so.1").as_deref(), Some("/usr/lib/x86_64-linux-gnu/libcuda.so.550.54.15"));
        assert_eq!(m("/usr/local/nvidia/lib64/libcuda.so").as_deref(), Some("/usr/lib/x86_64-linux-gnu/libcuda.so.550.54.15"));
        assert_eq!(m("/usr/local/nvidia/bin/nvidia-smi").as_deref(), Some("/usr/bin/nvidia-smi"));
        assert_eq!(m("/lib/firmware/nvidia/550.54.15/gsp_ga10x.bin").as_deref(), Some("/lib/firmware/nvidia/550.54.15/gsp_ga10x.bin"));
        assert!(m("/usr/local/nvidia/lib64/libnvidia-encode.so.1").is_none(), "video not asked for");
        assert!(mounts.iter().all(|m| !m["hostPath"].as_str().unwrap().contains("libc.so")), "nothing of the system's");
        // Every path it names, checked against a host that lacks one file: refused with that file.
        let missing = missing_paths(&spec, |p| p != "/usr/bin/nvidia-smi");
        assert_eq!(missing, [("0".to_string(), "/usr/bin/nvidia-smi".to_string())]);
        assert!(missing_paths(&spec, |_| true).is_empty());
    }

    #[test]
    fn inject_args_round_trip_through_the_run_args_parser() {
        let devices = h200();
        let files = resolve(&h200_scan(), &DEFAULT_CAPABILITIES).unwrap();
        let gpus = devices.select(&crate::plan::GpuSelection::All).unwrap();
        let args = inject_run_args(&edits_for(&gpus, &devices, &files));
        assert_eq!(
            args,
            [
                "--device", "/dev/nvidia0", "--device", "/dev/nvidiactl", "--device", "/dev/nvidia-uvm", "--device", "/dev/nvidia-uvm-tools",
                "--mount", "type=bind,source=/usr/local/nvidia,target=/usr/local/nvidia,readonly", "-e", "LD_LIBRARY_PATH=/usr/local/nvidia/lib64"
            ]
        );
        let parsed = crate::config::docker_run_args::parse_run_args(&args).unwrap();
        assert_eq!(parsed.devices.len(), 4);
        assert_eq!(parsed.devices[0].permissions, "rwm");
        assert_eq!((parsed.mounts[0].read_only, parsed.mounts[0].target.as_str()), (true, "/usr/local/nvidia"));
        assert!(crate::config::has_gpu_request(&args));
        assert_eq!(gpu_items(&args).len(), 6);
    }

    #[test]
    fn gpu_items_of_every_mode() {
        let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(gpu_items(&v(&["--gpus", "all", "--shm-size", "8g"])), [(0, 2)]);
        assert_eq!(gpu_items(&v(&["--network=none", "--device=nvidia.com/gpu=all", "--label", "x=--gpus"])), [(1, 1)]);
        assert_eq!(gpu_items(&v(&["-e", "LD_LIBRARY_PATH=/usr/local/nvidia/lib64", "-e", "A=1", "--device", "/dev/fuse"])), [(0, 2)]);
        assert_eq!(gpu_items(&v(&["--mount", "type=bind,source=/x,target=/usr/local/nvidia/bin/nvidia-smi,readonly", "--device", "/tmp/d/nvidia0:/dev/nvidia0"])), [(0, 2), (2, 2)]);
    }

    #[test]
    fn test_dev_dirs_become_host_paths() {
        let mut devices = h200();
        devices.gpus[0].node.host_path = "/tmp/fake/nvidia0".into();
        let files = resolve(&h200_scan(), &DEFAULT_CAPABILITIES).unwrap();
        let e = edits_for(&[&devices.gpus[0]], &devices, &files);
        assert_eq!(e.device_nodes[0], EditNode { path: "/dev/nvidia0".into(), host_path: Some("/tmp/fake/nvidia0".into()) });
        assert_eq!(inject_run_args(&e)[1], "/tmp/fake/nvidia0:/dev/nvidia0");
        assert!(e.host_paths().contains(&"/tmp/fake/nvidia0".to_string()));
    }
}
