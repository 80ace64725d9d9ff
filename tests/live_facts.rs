//! Live facts end to end, against real servers on loopback (no public host): a PyPI-style simple index
//! (PEP 691 JSON and PEP 503 HTML, negotiated) for PyTorch's wheel index and the Python index, and Debian's
//! reference registry holding stand-in `nvidia/cuda` tags behind a Docker-Hub-like token front with small pages.
//!
//! - the index offering a newer torch changes the choice (and the lock says where it came from);
//! - a tag removed from the registry is never chosen (doctor reports the locked one gone first);
//! - no network: the embedded snapshot, with its date and age in a warning, and quickly;
//! - the embedded snapshot is not older than today's releases (tests/fixtures/live-index/releases.json);
//! - HTTPS_PROXY is honoured (a CONNECT proxy on loopback sees the requests), NO_PROXY bypasses it.
//!
//! Needs python3 (both index and token front) and Debian's `docker-registry` (.ci/run installs it).

mod common;

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use common::live::{devgpu_live, registry_available, Index, Proxy, Registry};
use common::tools::{run_logged, write_file};
use serde_json::Value;

fn envelope(out: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("not one JSON object ({e}):\n{stdout}\nstderr:\n{}", String::from_utf8_lossy(&out.stderr)))
}

fn project(root: &Path, requirements: &str) {
    write_file(root, "requirements.txt", requirements);
    write_file(root, "train.py", "import torch\n");
}

/// The snapshot's newest PyTorch series, and the one after it (which only the served index has).
fn snapshot_and_next_torch() -> (String, String) {
    let k = devgpu::compat::knowledge();
    let newest = k.torch.last().unwrap();
    let (major, minor) = newest.series.split_once('.').unwrap();
    let next = format!("{major}.{}", minor.parse::<u32>().unwrap() + 1);
    (newest.series.clone(), next)
}

const HOPPER: &[&str] = &["--driver", "580.95.05", "--compute-cap", "9.0"];

#[test]
fn the_index_offering_a_newer_torch_changes_the_choice() {
    if !registry_available() {
        return;
    }
    let (known, next) = snapshot_and_next_torch();
    let mut index = Index::start();
    index.add_torch(&format!("{known}.0"), &["cu126", "cu128", "cu130"]).add_torch(&format!("{next}.0"), &["cu126", "cu128", "cu130"]);
    index.add_pypi("torch", &[&format!("{known}.0"), &format!("{next}.0")]).add_pypi("nvidia-cuda-runtime", &["13.0.96"]);
    let registry = Registry::start();
    let digest = registry.push("13.0.2-base-ubuntu24.04");
    for tag in ["13.0.2-base-ubuntu22.04", "12.9.1-base-ubuntu24.04", "12.8.1-base-ubuntu24.04"] {
        registry.push(tag);
    }
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    project(&repo, "torch\nnumpy\n");

    let out = run_logged(devgpu_live(&index, &registry.url(), &tmp.path().join("cache")).arg("init").arg(&repo).arg("--json").args(HOPPER));
    let env = envelope(&out);
    assert_eq!(env["outcome"], "success", "{env:#}");
    let stack = &env["data"]["stack"];
    assert_eq!(stack["framework"]["version"], next.as_str(), "the index's newer torch is chosen: {stack:#}");
    assert_eq!(stack["framework"]["wheelVariant"], "cu130");
    assert_eq!(stack["framework"]["indexUrl"], format!("{}/cu130", index.torch_index()), "wheels from the index the facts came from");
    assert_eq!(stack["image"], "nvidia/cuda:13.0.2-base-ubuntu24.04");
    assert!(stack["framework"]["packages"][0].as_str().unwrap().starts_with(&format!("torch=={next}.")), "{stack:#}");

    let lock: Value = serde_json::from_str(&std::fs::read_to_string(repo.join(".devcontainer/devgpu-lock.json")).unwrap()).unwrap();
    assert_eq!(lock["facts"]["source"], "live", "{lock:#}");
    assert_eq!(lock["framework"]["release"], format!("{next}.0"));
    assert_eq!(lock["image"]["digest"], digest.as_str(), "the digest the registry gives for the tag");
    assert_eq!(lock["driverFloor"], "580.65.06");

    // The index was asked in both forms (JSON where offered, HTML from the wheel index), the registry through
    // its token challenge and page by page.
    let log = index.log();
    assert!(log.contains("GET /pypi/torch/ json") && log.contains("GET /whl/torch/ html"), "{log}");
    let front = registry.front_log();
    assert!(front.contains("\"GET /v2/nvidia/cuda/tags/list?n=1000 HTTP/1.1\" 401") && front.contains("GET /token?"), "{front}");
    assert!(front.contains("last="), "the tag list was followed over its Link pages: {front}");

    // The same project offline, without cached facts: the snapshot's newest torch, and the warning.
    let out = run_logged(devgpu_live(&index, &registry.url(), &tmp.path().join("empty-cache")).arg("--offline").arg("init").arg(&repo).args(["--json", "--dry-run"]).args(HOPPER));
    let env = envelope(&out);
    assert_eq!(env["data"]["stack"]["framework"]["version"], known.as_str());
    assert!(env["data"]["warnings"].to_string().contains("embedded snapshot of"), "{:#}", env["data"]["warnings"]);

    // Offline with the cache of the first run: the live choice again, from the cache.
    let out = run_logged(devgpu_live(&index, &registry.url(), &tmp.path().join("cache")).arg("--offline").arg("facts").arg("show").arg("--json"));
    let env = envelope(&out);
    assert_eq!(env["data"]["provenance"]["source"], "cache", "{env:#}");
}

#[test]
fn a_tag_removed_from_the_registry_is_never_chosen() {
    if !registry_available() {
        return;
    }
    let mut index = Index::start();
    index.add_pypi("nvidia-cuda-runtime", &["13.0.96"]);
    let registry = Registry::start();
    for tag in ["13.0.2-runtime-ubuntu24.04", "13.0.2-runtime-ubuntu22.04", "13.0.2-base-ubuntu24.04", "12.9.1-runtime-ubuntu24.04"] {
        registry.push(tag);
    }
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let repo = tmp.path().join("repo");
    project(&repo, "numpy\n");
    let init = |extra: &[&str]| envelope(&run_logged(devgpu_live(&index, &registry.url(), &cache).arg("init").arg(&repo).args(["--json", "--framework", "none"]).args(HOPPER).args(extra)));

    let env = init(&[]);
    assert_eq!(env["data"]["stack"]["image"], "nvidia/cuda:13.0.2-runtime-ubuntu24.04", "{env:#}");

    // NVIDIA deletes the tag. Once the facts are refreshed, doctor says the locked image is gone ...
    registry.delete("13.0.2-runtime-ubuntu24.04");
    let refresh = envelope(&run_logged(devgpu_live(&index, &registry.url(), &cache).args(["facts", "refresh", "--json"])));
    assert_eq!(refresh["data"]["provenance"]["source"], "live", "{refresh:#}");
    let doctor = envelope(&run_logged(devgpu_live(&index, &registry.url(), &cache).arg("doctor").arg(&repo).arg("--json")));
    let checks = doctor["data"]["checks"].as_array().unwrap();
    let image = checks.iter().find(|c| c["id"] == "lock.image").unwrap_or_else(|| panic!("no lock.image: {doctor:#}"));
    assert_eq!(image["status"], "fail", "{image:#}");
    assert!(image["summary"].as_str().unwrap().contains("13.0.2-runtime-ubuntu24.04"), "{image:#}");

    // ... and init never chooses it again, although 13.0.2 still has a base tag for Ubuntu 24.04.
    let env = init(&[]);
    let chosen = env["data"]["stack"]["image"].as_str().unwrap();
    assert_ne!(chosen, "nvidia/cuda:13.0.2-runtime-ubuntu24.04");
    assert_eq!(chosen, "nvidia/cuda:13.0.2-runtime-ubuntu22.04", "{env:#}");
    let lock_file = env["data"]["files"].as_array().unwrap().iter().find(|f| f["path"] == ".devcontainer/devgpu-lock.json").unwrap().clone();
    assert_eq!(lock_file["action"], "updated", "{lock_file:#}");
    // An explicit --cuda for a line the registry no longer has at all is refused with the living ones.
    let gone = run_logged(devgpu_live(&index, &registry.url(), &cache).arg("init").arg(&repo).args(["--json", "--framework", "none", "--cuda", "12.4"]).args(HOPPER));
    let gone = envelope(&gone);
    assert_eq!(gone["error"]["code"], "cuda-image-deleted", "{gone:#}");
}

#[test]
fn no_network_falls_back_to_the_snapshot_with_its_date_and_quickly() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    project(&repo, "torch\n");
    // Every source unreachable: a closed loopback port answers at once, a black-holed address (TEST-NET-1,
    // RFC 5737) only by the connect timeout.
    for dead in ["http://127.0.0.1:9", "http://192.0.2.1:80"] {
        let started = Instant::now();
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_devgpu"));
        cmd.env_remove("DEVGPU_OFFLINE")
            .env("XDG_CACHE_HOME", tmp.path().join("cache"))
            .env("PIP_INDEX_URL", format!("{dead}/simple"))
            .env_remove("UV_INDEX_URL")
            .env_remove("UV_DEFAULT_INDEX")
            .env("DEVGPU_TORCH_INDEX_URL", format!("{dead}/whl"))
            .env("DEVGPU_REGISTRY_MIRROR", dead)
            .env("NO_PROXY", "*")
            .arg("init")
            .arg(&repo)
            .args(["--json", "--dry-run"])
            .args(HOPPER);
        let env = envelope(&run_logged(&mut cmd));
        let took = started.elapsed();
        assert_eq!(env["outcome"], "success", "{env:#}");
        let warnings = env["data"]["warnings"].to_string();
        let snapshot_date = &devgpu::compat::knowledge().catalog_date;
        assert!(warnings.contains(&format!("embedded snapshot of {snapshot_date}")) && warnings.contains("days old"), "{warnings}");
        assert!(took < Duration::from_secs(2), "{dead}: init took {took:?} with the indexes unreachable");
        let (known, _) = snapshot_and_next_torch();
        assert_eq!(env["data"]["stack"]["framework"]["version"], known.as_str());
    }
}

#[test]
fn the_snapshot_is_not_older_than_todays_releases() {
    // The releases of the day (tests/fixtures/live-index/releases.json), served as the live index.
    let releases: Value = serde_json::from_str(&std::fs::read_to_string(common::tools::fixture("live-index/releases.json")).unwrap()).unwrap();
    let mut index = Index::start();
    for (version, variants) in releases["torch_wheel_index"].as_object().unwrap() {
        let variants: Vec<&str> = variants.as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        index.add_torch(version, &variants);
    }
    for (project, versions) in releases["python_index"].as_object().unwrap() {
        let versions: Vec<&str> = versions.as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        index.add_pypi(project, &versions);
    }
    let tmp = tempfile::tempdir().unwrap();
    let show = |index: &Index, cache: &str| envelope(&run_logged(devgpu_live(index, "http://127.0.0.1:9", &tmp.path().join(cache)).args(["facts", "show", "--json"])));
    let env = show(&index, "today");
    assert_eq!(env["data"]["provenance"]["source"], "live", "{env:#}");
    assert_eq!(
        env["data"]["snapshotBehind"],
        serde_json::json!([]),
        "devgpu's embedded snapshot (templates/compat/) is older than the releases of {}: update it",
        releases["date"]
    );

    // The check itself works: a release newer than the snapshot is reported.
    let (_, next) = snapshot_and_next_torch();
    index.add_torch(&format!("{next}.0"), &["cu130"]).add_pypi("nvidia-cuda-runtime", &["99.1.0"]);
    let env = show(&index, "tomorrow");
    let behind = env["data"]["snapshotBehind"].to_string();
    assert!(behind.contains(&format!("torch {next}.0")) && behind.contains("CUDA 99.1"), "{behind}");
}

#[test]
fn a_proxy_is_used_and_no_proxy_bypasses_it() {
    let mut index = Index::start();
    index.add_torch("2.11.0", &["cu130"]).add_pypi("nvidia-cuda-runtime", &["13.0.96"]);
    let proxy = Proxy::start();
    let tmp = tempfile::tempdir().unwrap();
    let index_host = index.url().trim_start_matches("http://").to_string();

    // Through the proxy: every index request is a tunnel to the index.
    let out = run_logged(devgpu_live(&index, "http://127.0.0.1:9", &tmp.path().join("a")).env("HTTPS_PROXY", proxy.url()).env("NO_PROXY", "").args(["facts", "refresh", "--json"]));
    let env = envelope(&out);
    assert_eq!(env["data"]["provenance"]["source"], "live", "{env:#}");
    let tunnels = proxy.tunnels();
    assert!(tunnels.iter().any(|t| *t == format!("CONNECT {index_host}")), "{tunnels:?}");
    assert!(tunnels.iter().any(|t| t == "CONNECT 127.0.0.1:9"), "the registry request went through the proxy too: {tunnels:?}");

    // NO_PROXY naming the host: straight to the index, the proxy sees nothing more.
    let before = proxy.tunnels().len();
    let out = run_logged(devgpu_live(&index, "http://127.0.0.1:9", &tmp.path().join("b")).env("HTTPS_PROXY", proxy.url()).env("NO_PROXY", "127.0.0.1").args(["facts", "refresh", "--json"]));
    assert_eq!(envelope(&out)["data"]["provenance"]["source"], "live");
    assert_eq!(proxy.tunnels().len(), before, "NO_PROXY=127.0.0.1 must bypass the proxy: {:?}", proxy.tunnels());
}
