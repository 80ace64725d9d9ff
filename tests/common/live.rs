//! Real servers on loopback for the live facts (tests/live_facts.rs, bench/init-facts.sh): a PyPI-style simple index
//! (tests/tools/simple-index.py: PEP 503 HTML and PEP 691 JSON, negotiated) with stand-in wheels, and Debian's
//! reference registry (`docker-registry`, the CNCF distribution 2.8) holding stand-in `nvidia/cuda` tags, behind a
//! Docker-Hub-like front (tests/tools/registry-token-proxy.py: Bearer token challenge, small tag pages).
//! Tags are pushed through the registry's own API (blob upload + manifest PUT): no Docker needed.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::tools::{manifest_dir, missing_prerequisite, start_until_first_line};

pub const REGISTRY_BIN: &str = "/usr/bin/docker-registry";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A child process that is killed (by its own id) when dropped.
struct Server {
    child: Child,
    pub port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start a helper that prints `PORT <n>` on its first line.
fn start_with_port(mut cmd: Command, log: &Path) -> Server {
    let (mut child, line) = start_until_first_line(&mut cmd, Stdio::from(fs::File::create(log).unwrap()));
    let port = line.strip_prefix("PORT ").and_then(|p| p.parse().ok()).unwrap_or_else(|| {
        let _ = child.kill();
        panic!("{cmd:?} did not print its port: {line:?}; log: {}", fs::read_to_string(log).unwrap_or_default())
    });
    Server { child, port }
}

/// The index trees: `whl/` (PyTorch's wheel index: HTML only, as download.pytorch.org) and `pypi/` (JSON and HTML).
pub struct Index {
    dir: tempfile::TempDir,
    server: Server,
    /// torch version → variants.
    torch: BTreeMap<String, Vec<String>>,
}

impl Index {
    pub fn start() -> Index {
        let dir = tempfile::Builder::new().prefix("devgpu-index-").tempdir().unwrap();
        fs::create_dir_all(dir.path().join("whl")).unwrap();
        fs::create_dir_all(dir.path().join("pypi")).unwrap();
        let mut cmd = Command::new("python3");
        cmd.arg(manifest_dir().join("tests/tools/simple-index.py")).arg(dir.path());
        let server = start_with_port(cmd, &dir.path().with_extension("log"));
        Index { dir, server, torch: BTreeMap::new() }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.server.port)
    }

    /// `DEVGPU_TORCH_INDEX_URL`
    pub fn torch_index(&self) -> String {
        format!("{}/whl", self.url())
    }

    /// `PIP_INDEX_URL`
    pub fn python_index(&self) -> String {
        format!("{}/pypi", self.url())
    }

    /// What the server was asked (method, path, form served).
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().with_extension("log")).unwrap_or_default()
    }

    /// Publish torch `version` with Linux wheels for each CUDA `variant` (and torchvision/torchaudio beside it).
    pub fn add_torch(&mut self, version: &str, variants: &[&str]) -> &mut Self {
        self.torch.entry(version.into()).or_default().extend(variants.iter().map(|v| v.to_string()));
        let mut files = Vec::new();
        for (v, vs) in &self.torch {
            for variant in vs {
                for py in ["cp311-cp311", "cp312-cp312"] {
                    files.push(format!("torch-{v}+{variant}-{py}-manylinux_2_28_x86_64.whl"));
                }
                files.push(format!("torch-{v}+{variant}-cp312-cp312-win_amd64.whl"));
            }
        }
        self.write_project("whl", "torch", &files, false);
        let (major, minor) = version.split_once('.').unwrap();
        let minor: u32 = minor.split('.').next().unwrap().parse().unwrap();
        let vision = format!("0.{}.0", minor + 15);
        let _ = major;
        self.write_project("whl", "torchvision", &[format!("torchvision-{vision}+{}-cp312-cp312-manylinux_2_28_x86_64.whl", variants[0])], false);
        self.write_project("whl", "torchaudio", &[format!("torchaudio-{version}+{}-cp312-cp312-manylinux_2_28_x86_64.whl", variants[0])], false);
        self
    }

    /// Publish `project` on the Python index with these versions (JSON with a `versions` list, and HTML).
    pub fn add_pypi(&mut self, project: &str, versions: &[&str]) -> &mut Self {
        let files: Vec<String> = versions.iter().map(|v| format!("{}-{v}-py3-none-manylinux_2_28_x86_64.whl", project.replace('-', "_"))).collect();
        self.write_project("pypi", project, &files, true);
        self
    }

    fn write_project(&self, index: &str, project: &str, files: &[String], json: bool) {
        let dir = self.dir.path().join(index).join(project);
        fs::create_dir_all(&dir).unwrap();
        let mut html = format!("<!DOCTYPE html>\n<html><body><h1>Links for {project}</h1>\n");
        for f in files {
            // Stand-in files: the facts read names, never contents; a wheel name's `+` is escaped as the real
            // PyTorch index escapes it.
            fs::write(dir.join(f), b"stand-in wheel for devgpu's live-facts tests\n").unwrap();
            html.push_str(&format!("<a href=\"{}#sha256=00\">{}</a><br/>\n", f.replace('+', "%2B"), f.replace('+', "&#43;")));
        }
        html.push_str("</body></html>\n");
        fs::write(dir.join("index.html"), html).unwrap();
        if json {
            let mut versions: Vec<String> = files.iter().filter_map(|f| f.split('-').nth(1).map(str::to_string)).collect();
            versions.dedup();
            let doc = serde_json::json!({
                "meta": {"api-version": "1.1"},
                "name": project,
                "versions": versions,
                "files": files.iter().map(|f| serde_json::json!({"filename": f, "url": f, "hashes": {}})).collect::<Vec<_>>(),
            });
            fs::write(dir.join("index.json"), serde_json::to_string(&doc).unwrap()).unwrap();
        }
    }
}

/// Debian's reference registry on a loopback port (storage in a temp dir, deletes enabled), behind the
/// Docker-Hub-like token front.
pub struct Registry {
    dir: tempfile::TempDir,
    registry: Server,
    front: Server,
    agent: ureq::Agent,
}

/// Whether the reference registry is installed (else: skip note, or a panic under CI).
pub fn registry_available() -> bool {
    Path::new(REGISTRY_BIN).exists() || missing_prerequisite("Debian's docker-registry is not installed", "apt-get install docker-registry (.ci/run does)")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Registry {
    pub fn start() -> Registry {
        let dir = tempfile::Builder::new().prefix("devgpu-registry-").tempdir().unwrap();
        let port = free_port();
        let config = dir.path().join("config.yml");
        fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
                dir.path().join("data").display()
            ),
        )
        .unwrap();
        let log = dir.path().join("registry.log");
        let child = Command::new(REGISTRY_BIN)
            .arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(fs::File::create(&log).unwrap())
            .stderr(fs::File::create(dir.path().join("registry.err")).unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("start {REGISTRY_BIN}: {e}"));
        let registry = Server { child, port };
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(Duration::from_secs(10))).build().into();
        let started = Instant::now();
        loop {
            if agent.get(&format!("http://127.0.0.1:{port}/v2/")).call().is_ok_and(|r| r.status() == 200) {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(20), "docker-registry did not answer: {}", fs::read_to_string(dir.path().join("registry.err")).unwrap_or_default());
            std::thread::sleep(Duration::from_millis(50));
        }
        let mut cmd = Command::new("python3");
        cmd.arg(manifest_dir().join("tests/tools/registry-token-proxy.py")).arg(port.to_string()).arg("2");
        let front = start_with_port(cmd, &dir.path().join("front.log"));
        Registry { dir, registry, front, agent }
    }

    /// `DEVGPU_REGISTRY_MIRROR`: the token front (as a client meets Docker Hub).
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.front.port)
    }

    fn direct(&self) -> String {
        format!("http://127.0.0.1:{}", self.registry.port)
    }

    pub fn front_log(&self) -> String {
        fs::read_to_string(self.dir.path().join("front.log")).unwrap_or_default()
    }

    /// Upload a blob to `repo`; returns its digest.
    pub fn push_blob(&self, repo: &str, bytes: &[u8]) -> String {
        let digest = format!("sha256:{}", hex(&Sha256::digest(bytes)));
        let start = self.agent.post(&format!("{}/v2/{repo}/blobs/uploads/", self.direct())).send_empty().unwrap();
        assert_eq!(start.status(), 202, "blob upload start");
        let location = start.headers().get("location").unwrap().to_str().unwrap().to_string();
        let location = if location.starts_with("http") { location } else { format!("{}{location}", self.direct()) };
        let sep = if location.contains('?') { '&' } else { '?' };
        let put = self.agent.put(&format!("{location}{sep}digest={digest}")).header("Content-Type", "application/octet-stream").send(bytes).unwrap();
        assert_eq!(put.status(), 201, "blob upload");
        digest
    }

    /// Put a manifest under `repo:tag`; returns its digest.
    pub fn put_manifest(&self, repo: &str, tag: &str, media_type: &str, manifest: &[u8]) -> String {
        let mut resp = self.agent.put(&format!("{}/v2/{repo}/manifests/{tag}", self.direct())).header("Content-Type", media_type).send(manifest).unwrap();
        let status = resp.status();
        let body = resp.body_mut().read_to_string().unwrap_or_default();
        assert_eq!(status, 201, "manifest PUT {repo}:{tag}: {body}");
        format!("sha256:{}", hex(&Sha256::digest(manifest)))
    }

    /// A second registry process over TLS (`cert`/`key` for 127.0.0.1) on the same storage, without the token
    /// front: what the official Dev Containers CLI needs (it speaks only `https://` to registries). Returns the
    /// process (killed on drop) and its `127.0.0.1:<port>`.
    pub fn tls_mirror(&self, cert: &Path, key: &Path) -> (impl Drop, String) {
        let port = free_port();
        let config = self.dir.path().join(format!("tls-{port}.yml"));
        fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n  tls:\n    certificate: {}\n    key: {}\n",
                self.dir.path().join("data").display(),
                cert.display(),
                key.display()
            ),
        )
        .unwrap();
        let child = Command::new(REGISTRY_BIN)
            .arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(fs::File::create(self.dir.path().join(format!("tls-{port}.err"))).unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("start {REGISTRY_BIN}: {e}"));
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(20), "the TLS registry did not listen on {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        (Server { child, port }, format!("127.0.0.1:{port}"))
    }

    /// The registry as a Feature reference names it (`127.0.0.1:<port>` of the token front).
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.front.port)
    }

    /// Push a stand-in `nvidia/cuda:<tag>`: a config blob naming the tag (so every tag has its own manifest, and
    /// deleting one leaves the others) and an OCI manifest without layers. Returns the manifest digest.
    pub fn push(&self, tag: &str) -> String {
        let repo = "nvidia/cuda";
        let config = serde_json::to_vec(&serde_json::json!({"architecture": "amd64", "os": "linux", "config": {"Labels": {"devgpu.stand-in": tag}}, "rootfs": {"type": "layers", "diff_ids": []}})).unwrap();
        let config_digest = self.push_blob(repo, &config);
        let manifest = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
            "layers": [],
        }))
        .unwrap();
        self.put_manifest(repo, tag, "application/vnd.oci.image.manifest.v1+json", &manifest)
    }

    /// Delete a tag the way NVIDIA's end-of-life cleanup does: its manifest goes, `tags/list` stops listing it.
    pub fn delete(&self, tag: &str) {
        let repo = "nvidia/cuda";
        let head = self
            .agent
            .head(&format!("{}/v2/{repo}/manifests/{tag}", self.direct()))
            .header("Accept", "application/vnd.oci.image.manifest.v1+json")
            .call()
            .unwrap();
        let digest = head.headers().get("docker-content-digest").unwrap_or_else(|| panic!("no digest for {tag}")).to_str().unwrap().to_string();
        let del = self.agent.delete(&format!("{}/v2/{repo}/manifests/{digest}", self.direct())).call().unwrap();
        assert_eq!(del.status(), 202, "delete {tag}");
    }
}

/// An HTTP CONNECT proxy on loopback (tests/tools/connect-proxy.py) that logs each tunnel it opens.
pub struct Proxy {
    dir: tempfile::TempDir,
    server: Server,
}

impl Proxy {
    pub fn start() -> Proxy {
        let dir = tempfile::Builder::new().prefix("devgpu-proxy-").tempdir().unwrap();
        let mut cmd = Command::new("python3");
        cmd.arg(manifest_dir().join("tests/tools/connect-proxy.py")).arg(dir.path().join("tunnels.log"));
        let server = start_with_port(cmd, &dir.path().join("proxy.err"));
        Proxy { dir, server }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.server.port)
    }

    /// `CONNECT host:port` lines, one per tunnel.
    pub fn tunnels(&self) -> Vec<String> {
        fs::read_to_string(self.dir.path().join("tunnels.log")).unwrap_or_default().lines().map(str::to_string).collect()
    }
}

/// A `devgpu` command reading live facts from these servers only, with its own cache.
pub fn devgpu_live(index: &Index, registry_url: &str, cache: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_devgpu"));
    cmd.env("NO_COLOR", "1")
        .env_remove("DEVGPU_OFFLINE")
        .env_remove("UV_DEFAULT_INDEX")
        .env_remove("UV_INDEX_URL")
        .env("XDG_CACHE_HOME", cache)
        .env("PIP_INDEX_URL", index.python_index())
        .env("DEVGPU_TORCH_INDEX_URL", index.torch_index())
        .env("DEVGPU_REGISTRY_MIRROR", registry_url)
        // The Python servers answer a dozen parallel requests one process at a time: on a loaded CI machine that
        // may take longer than init's default 2 s per answer.
        .env("DEVGPU_FACTS_TIMEOUT_MS", "10000")
        // The servers are on loopback: a proxy in the developer's environment must not be asked.
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env_remove("HTTPS_PROXY")
        .env_remove("HTTP_PROXY")
        .env_remove("ALL_PROXY")
        .env_remove("https_proxy")
        .env_remove("http_proxy")
        .env_remove("all_proxy")
        .env_remove("no_proxy");
    cmd
}

/// A temp dir path for caches.
pub fn temp_path(tmp: &tempfile::TempDir, name: &str) -> PathBuf {
    tmp.path().join(name)
}
