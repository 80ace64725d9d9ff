//! GPU modes without a GPU and without Docker: the CDI spec devgpu builds from the H200 capture and from the
//! stock-Ubuntu fixture validates against the CDI JSON schema (`tests/fixtures/cdi-schema/`, see SOURCE.md there);
//! `devgpu host cdi` on fake device/driver folders (write, idempotence, dry run, `-`, a missing file refused with
//! its name); `devgpu init --gpu-mode …` writes each mode's runArgs, with GPU selection, and switches modes in
//! place; a host without NVIDIA device nodes gets the same diagnosis from `host cdi` and `init --gpu-mode inject`.
//!
//! Fake device nodes need `mknod` (root): under CI a non-root run fails, elsewhere those tests are skipped.

mod common;

use std::path::Path;

use common::fake_gpu::FakeHost;

use devgpu::host::driver_files::{parse_ls, resolve, Capability, DriverScan, DEFAULT_CAPABILITIES, FIRMWARE_DIR};
use devgpu::host::gpu_devices::{map_devices, nodes_from_listings, parse_proc_gpu_information, GpuDeviceFacts, DEV_DIR};
use devgpu::host::parse_query_gpu;
use devgpu::plan::cdi::build_spec;
use serde_json::{json, Value};

fn fixture(rel: &str) -> String {
    std::fs::read_to_string(common::tools::fixture(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn cdi_validator() -> jsonschema::Validator {
    let dir = common::tools::fixture("cdi-schema");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("schema.json")).unwrap()).unwrap();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .with_base_uri(format!("file://{}/schema.json", dir.display()))
        .build(&schema)
        .expect("the CDI schema compiles (defs.json beside it)")
}

fn assert_valid(spec: &Value) {
    let v = cdi_validator();
    let errors: Vec<String> = v.iter_errors(spec).map(|e| format!("{}: {e}", e.instance_path())).collect();
    assert!(errors.is_empty(), "the spec does not validate against the CDI schema:\n{}\n{spec:#}", errors.join("\n"));
}

fn h200() -> (GpuDeviceFacts, DriverScan) {
    let nodes = nodes_from_listings(&parse_ls(&fixture("h200/dev-nvidia.txt")), DEV_DIR);
    let gpus = parse_query_gpu(&fixture("h200/query-gpu.csv")).unwrap();
    let devices = map_devices(DEV_DIR, nodes, &gpus, &[], &[("GPU-7b8238c7-8f23-f0a1-12fc-4a5b75119cb4".into(), 0)]);
    let ls = parse_ls(&fixture("h200/usr-local-nvidia.txt"));
    let scan = DriverScan {
        source: "/usr/local/nvidia".into(),
        root: Some("/usr/local/nvidia".into()),
        lib_dirs: ls.iter().filter(|l| l.dir.ends_with("lib64")).cloned().collect(),
        bin_dirs: ls.iter().filter(|l| l.dir.ends_with("bin")).cloned().collect(),
        driver_version: Some("580.159.04".into()),
        ..Default::default()
    };
    (devices, scan)
}

fn ubuntu() -> (GpuDeviceFacts, DriverScan) {
    let nodes = nodes_from_listings(&parse_ls(&fixture("ubuntu-550/dev-nvidia.txt")), DEV_DIR);
    let gpus = parse_query_gpu(&fixture("ubuntu-550/query-gpu.csv")).unwrap();
    let hints = parse_proc_gpu_information(&fixture("ubuntu-550/proc-gpus-information.txt"));
    let devices = map_devices(DEV_DIR, nodes, &gpus, &hints, &[]);
    let ls = parse_ls(&fixture("ubuntu-550/ls-driver.txt"));
    let scan = DriverScan {
        source: "ldconfig".into(),
        lib_dirs: ls.iter().filter(|l| l.dir == "/usr/lib/x86_64-linux-gnu").cloned().collect(),
        bin_dirs: ls.iter().filter(|l| l.dir == "/usr/bin").cloned().collect(),
        firmware: ls.iter().filter(|l| l.dir.starts_with(FIRMWARE_DIR)).cloned().collect(),
        driver_version: Some("550.54.15".into()),
        ..Default::default()
    };
    (devices, scan)
}

#[test]
fn specs_from_the_h200_and_stock_ubuntu_validate_against_the_cdi_schema() {
    for (name, (devices, scan)) in [("h200", h200()), ("ubuntu-550", ubuntu())] {
        for caps in [DEFAULT_CAPABILITIES.to_vec(), Capability::ALL.to_vec()] {
            let files = resolve(&scan, &caps).unwrap();
            let spec = build_spec(&devices, &files);
            assert_valid(&spec);
            let names: Vec<&str> = spec["devices"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
            assert_eq!(names.last(), Some(&"all"), "{name}");
            assert_eq!(names.len(), 2 * devices.gpus.len() + 1, "{name}: by index, by UUID, all");
        }
    }
    // The spec `devgpu host cdi` wrote on the H200 itself (tests/fixtures/h200/e2e/).
    let captured: Value = serde_json::from_str(&fixture("h200/e2e/cdi-spec.json")).unwrap();
    assert_valid(&captured);
    assert_eq!(captured["devices"][2]["containerEdits"]["mounts"][0]["hostPath"], "/usr/local/nvidia");
    // The validator is not a rubber stamp: what the schema forbids is caught.
    let v = cdi_validator();
    assert!(!v.is_valid(&json!({"cdiVersion": "0.5.0", "devices": []})), "kind is required");
    assert!(!v.is_valid(&json!({"cdiVersion": "0.5.0", "kind": "nvidia.com/gpu", "devices": [{"name": "0"}]})), "containerEdits is required");
    assert!(!v.is_valid(&json!({"cdiVersion": "0.5.0", "kind": "k/d", "devices": [{"name": "0", "containerEdits": {"mounts": [{"hostPath": "/x"}]}}]})));
    assert!(!v.is_valid(&json!({"cdiVersion": "0.5.0", "kind": "k/d", "devices": [{"name": "0", "containerEdits": {"deviceNodes": [{"hostPath": "/dev/x"}]}}]})), "path is required");
}

fn devgpu(args: &[&str], extra: &[String]) -> (i32, Value, String) {
    let mut cmd = common::tools::devgpu();
    cmd.args(args).args(extra).arg("--json");
    let out = common::tools::run_logged(&mut cmd);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let env: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{args:?}: not one JSON object ({e}): {stdout}\n{}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap_or(-1), env, String::from_utf8_lossy(&out.stderr).to_string())
}

#[test]
fn host_cdi_writes_a_valid_spec_safely() {
    let Some(host) = FakeHost::new(2) else { return };
    let out = tempfile::tempdir().unwrap();
    let spec_path = out.path().join("cdi/devgpu-nvidia.json");
    let spec_arg = ["--output".to_string(), spec_path.display().to_string()];
    let extra: Vec<String> = host.args().into_iter().chain(spec_arg.iter().cloned()).collect();

    // Dry run: the diff, nothing written.
    let (code, env, _) = devgpu(&["host", "cdi", "--dry-run"], &extra);
    assert_eq!(code, 0, "{env:#}");
    assert!(env["data"]["diff"].as_str().unwrap().contains("+  \"kind\": \"nvidia.com/gpu\""), "{env:#}");
    assert!(!spec_path.exists());

    let (code, env, _) = devgpu(&["host", "cdi"], &extra);
    assert_eq!(code, 0, "{env:#}");
    let d = &env["data"];
    assert_eq!((d["written"].as_bool(), d["existed"].as_bool()), (Some(true), Some(false)));
    assert_eq!(d["devices"], json!(["nvidia.com/gpu=0", "nvidia.com/gpu=1", "nvidia.com/gpu=all"]));
    assert!(d["backup"].as_str().unwrap().ends_with(".absent"), "undo can remove the file again");
    let text = std::fs::read_to_string(&spec_path).unwrap();
    let spec: Value = serde_json::from_str(&text).unwrap();
    assert_valid(&spec);
    let all = &spec["devices"][2]["containerEdits"];
    assert_eq!(all["deviceNodes"][0], json!({"path": "/dev/nvidia0", "hostPath": host.dev.join("nvidia0").display().to_string()}));
    assert_eq!(all["mounts"][0]["hostPath"], host.root.display().to_string());
    assert_eq!(all["mounts"][0]["containerPath"], "/usr/local/nvidia");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&spec_path).unwrap().permissions().mode() & 0o777, 0o644);

    // Again: byte-identical, nothing written, no new backup.
    let (code, env, _) = devgpu(&["host", "cdi"], &extra);
    assert_eq!((code, env["data"]["changed"].as_bool()), (0, Some(false)), "{env:#}");
    assert_eq!(std::fs::read_to_string(&spec_path).unwrap(), text);
    assert_eq!(std::fs::read_dir(spec_path.parent().unwrap()).unwrap().count(), 2, "the spec and one backup");

    // `host undo --config` restores the state before (here: no file).
    let (code, env, _) = devgpu(&["host", "undo", "--config", &spec_path.display().to_string()], &[]);
    assert_eq!(code, 0, "{env:#}");
    assert!(!spec_path.exists());

    // `--output -`: the spec on stdout.
    let mut cmd = common::tools::devgpu();
    cmd.args(["host", "cdi", "--output", "-"]).args(host.args());
    let out = common::tools::run_logged(&mut cmd);
    assert!(out.status.success());
    assert_valid(&serde_json::from_slice(&out.stdout).unwrap());
}

#[test]
fn a_spec_that_would_name_a_missing_file_is_refused_with_the_file() {
    let Some(host) = FakeHost::new(1) else { return };
    // A dangling nvidia-smi link; the library folder given directly, so files are bound one by one.
    std::fs::remove_file(host.root.join("bin/nvidia-smi")).unwrap();
    std::os::unix::fs::symlink("/nonexistent/nvidia-smi.580", host.root.join("bin/nvidia-smi")).unwrap();
    let out = tempfile::tempdir().unwrap();
    let spec_path = out.path().join("spec.json");
    let extra = vec![
        "--dev-dir".into(),
        host.dev.display().to_string(),
        "--driver-root".into(),
        host.root.join("lib64").display().to_string(),
        "--output".into(),
        spec_path.display().to_string(),
    ];
    let (code, env, _) = devgpu(&["host", "cdi"], &extra);
    assert_eq!(code, 1, "{env:#}");
    assert_eq!(env["error"]["code"], "cdi-file-missing");
    let missing = host.root.join("bin/nvidia-smi").display().to_string();
    assert!(env["error"]["message"].as_str().unwrap().contains(&missing), "{env:#}");
    assert!(!spec_path.exists(), "nothing written");
}

#[test]
fn no_device_nodes_is_diagnosed_alike_by_host_cdi_and_init() {
    let empty = tempfile::tempdir().unwrap();
    let (code, env, _) = devgpu(&["host", "cdi", "--output", "-", "--dev-dir", &empty.path().display().to_string()], &[]);
    assert_eq!(code, 1);
    assert_eq!(env["error"]["code"], "no-gpu-device-nodes", "{env:#}");
    assert!(env["error"]["message"].as_str().unwrap().contains("/dev/nvidiactl"));
    assert!(env["error"]["hints"][0].as_str().unwrap().contains("nvidia-modprobe"));

    let ws = tempfile::tempdir().unwrap();
    std::fs::write(ws.path().join("requirements.txt"), "numpy\n").unwrap();
    let (code, env, _) = devgpu(&["init", &ws.path().display().to_string(), "--gpu-mode", "inject", "--dev-dir", &empty.path().display().to_string()], &[]);
    assert_eq!(code, 1);
    assert_eq!(env["error"]["code"], "no-gpu-device-nodes", "{env:#}");
    assert!(!ws.path().join(".devcontainer").exists(), "nothing written");
}

fn run_args(ws: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(ws.join(".devcontainer/devcontainer.json")).unwrap();
    let v = devgpu::config::parse_jsonc(&text, "devcontainer.json").unwrap();
    v["runArgs"].as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()).collect()
}

#[test]
fn init_writes_each_mode_with_gpu_selection_and_switches_in_place() {
    let Some(host) = FakeHost::new(2) else { return };
    let ws = tempfile::tempdir().unwrap();
    std::fs::write(ws.path().join("requirements.txt"), "numpy\n").unwrap();
    let w = ws.path().display().to_string();
    let init = |args: &[&str]| {
        let mut a = vec!["init", w.as_str()];
        a.extend_from_slice(args);
        let (code, env, stderr) = devgpu(&a, &host.args());
        assert_eq!(code, 0, "{args:?}: {env:#}\n{stderr}");
        env["data"].clone()
    };

    // inject, GPU 1 only: its node, the control nodes, the driver root read-only, LD_LIBRARY_PATH.
    let d = init(&["--gpu-mode", "inject", "--gpus", "device=1"]);
    assert_eq!(d["gpuMode"]["mode"], "inject");
    let a = run_args(ws.path());
    let dev = |n: &str| format!("{}:/dev/{n}", host.dev.join(n).display());
    assert_eq!(
        a,
        [
            "--device", &dev("nvidia1"), "--device", &dev("nvidiactl"), "--device", &dev("nvidia-uvm"), "--device", &dev("nvidia-uvm-tools"),
            "--mount", &format!("type=bind,source={},target=/usr/local/nvidia,readonly", host.root.display()),
            "-e", "LD_LIBRARY_PATH=/usr/local/nvidia/lib64", "--shm-size", "8g"
        ]
    );
    // Idempotent.
    let before = std::fs::read_to_string(ws.path().join(".devcontainer/devcontainer.json")).unwrap();
    let d = init(&["--gpu-mode", "inject", "--gpus", "device=1"]);
    assert_eq!(d["files"][0]["action"], "unchanged", "{d:#}");
    assert_eq!(std::fs::read_to_string(ws.path().join(".devcontainer/devcontainer.json")).unwrap(), before);

    // cdi, two GPUs by count: one CDI device each; the inject block is replaced.
    init(&["--gpu-mode", "cdi", "--gpus", "2"]);
    assert_eq!(run_args(ws.path()), ["--shm-size", "8g", "--device", "nvidia.com/gpu=0", "--device", "nvidia.com/gpu=1"]);
    // toolkit by UUID.
    init(&["--gpu-mode", "toolkit", "--gpus", "GPU-00000001-fake"]);
    assert_eq!(run_args(ws.path()), ["--shm-size", "8g", "--gpus", "\"device=GPU-00000001-fake\""]);
    // auto on this machine keeps what is there (no toolkit, no real /dev/nvidia*: toolkit, same kind).
    let d = init(&[]);
    assert_eq!(d["files"][0]["action"], "unchanged");
    // Every result is a config the Dev Containers schema accepts.
    if common::schema::schema_available() {
        let text = std::fs::read_to_string(ws.path().join(".devcontainer/devcontainer.json")).unwrap();
        let v = devgpu::config::parse_jsonc(&text, "devcontainer.json").unwrap();
        common::schema::validate_devcontainer(&v).unwrap_or_else(|e| panic!("{e:?}\n{text}"));
    }
}
