//! devgpu against a Docker daemon over TCP with TLS, as `dockerd --tlsverify` serves it: a TLS front on 127.0.0.1
//! (tests/tools/tls-docker-proxy.py, which requires a client certificate signed by the test CA) relays to this
//! machine's dockerd. Certificates are made per test with openssl (a CA, a server certificate for IP 127.0.0.1,
//! a client certificate). The docker CLI's variables (DOCKER_TLS_VERIFY, DOCKER_TLS, DOCKER_CERT_PATH) and a
//! docker context's TLS material select them; each TLS failure says which certificate and what to do.
//!
//! Under `CI` a missing prerequisite (Docker, the stand-in image, openssl, python3) fails the test.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use common::docker::{standin_images_available, STANDIN_IMAGE};
use common::tools::{devgpu, missing_prerequisite};
use serde_json::Value;

struct TlsDaemon {
    dir: tempfile::TempDir,
    child: Child,
    port: u16,
}

impl Drop for TlsDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl").args(args).current_dir(dir).output().expect("openssl");
    assert!(out.status.success(), "openssl {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
}

/// A CA (ca.pem), the daemon's certificate for 127.0.0.1 signed by it, a client certificate (cert.pem, key.pem)
/// signed by it, and the TLS front started with them.
fn tls_daemon() -> Option<TlsDaemon> {
    if !standin_images_available() {
        return None;
    }
    for p in ["openssl", "python3"] {
        if !Command::new("sh").args(["-c", &format!("command -v {p}")]).stdout(Stdio::null()).status().is_ok_and(|s| s.success()) {
            missing_prerequisite(&format!("{p} is not on PATH"), "apt-get install openssl python3");
            return None;
        }
    }
    let dir = tempfile::Builder::new().prefix("devgpu-tls-").tempdir().unwrap();
    let d = dir.path();
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    openssl(d, &[&["req", "-x509"][..], &ec, &["-keyout", "ca-key.pem", "-out", "ca.pem", "-days", "2", "-subj", "/CN=devgpu test CA"]].concat());
    fs::write(d.join("server.ext"), "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n").unwrap();
    fs::write(d.join("client.ext"), "extendedKeyUsage=clientAuth\n").unwrap();
    for (who, key, cert, subj) in [("server", "server-key.pem", "server-cert.pem", "/CN=127.0.0.1"), ("client", "key.pem", "cert.pem", "/CN=devgpu test client")] {
        openssl(d, &[&["req"][..], &ec, &["-keyout", key, "-out", &format!("{who}.csr"), "-subj", subj]].concat());
        openssl(d, &["x509", "-req", "-in", &format!("{who}.csr"), "-CA", "ca.pem", "-CAkey", "ca-key.pem", "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", &format!("{who}.ext")]);
    }
    let script = common::tools::manifest_dir().join("tests/tools/tls-docker-proxy.py");
    let (child, line) = common::tools::start_until_first_line(
        Command::new("python3").arg(&script).args(["server-cert.pem", "server-key.pem", "ca.pem"]).current_dir(d),
        Stdio::null(),
    );
    let port = line.strip_prefix("port ").and_then(|p| p.parse().ok()).unwrap_or_else(|| panic!("the TLS front printed {line:?}"));
    Some(TlsDaemon { dir, child, port })
}

impl TlsDaemon {
    fn url(&self) -> String {
        format!("tcp://127.0.0.1:{}", self.port)
    }
    fn path(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }
    /// A certificate folder with only some of the files (and `ca.pem` from `ca` when given).
    fn cert_dir(&self, files: &[&str], ca: Option<&Path>) -> PathBuf {
        let sub = self.dir.path().join(format!("certs-{}", common::docker::unique_suffix()));
        fs::create_dir_all(&sub).unwrap();
        for f in files {
            fs::copy(self.dir.path().join(f), sub.join(f)).unwrap();
        }
        if let Some(ca) = ca {
            fs::copy(ca, sub.join("ca.pem")).unwrap();
        }
        sub
    }
}

/// `devgpu ARGS --json` with only the given Docker variables: (exit code, envelope).
fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, Value, String) {
    let mut cmd = devgpu();
    cmd.current_dir(dir).args(args).arg("--json");
    for k in ["DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_TLS", "DOCKER_CERT_PATH", "DOCKER_CONFIG"] {
        cmd.env_remove(k);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let v: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("not one JSON object ({e}): {stdout}\n{stderr}"));
    (out.status.code().unwrap_or(-1), v, stderr)
}

fn check<'a>(v: &'a Value, id: &str) -> &'a Value {
    v["data"]["checks"].as_array().unwrap().iter().find(|c| c["id"] == id).unwrap_or_else(|| panic!("no check {id} in {v:#}"))
}

/// DOCKER_TLS_VERIFY + DOCKER_CERT_PATH: doctor reaches the daemon (and says the server's files are not readable
/// over TCP), and up / down work over it.
#[test]
fn the_docker_cli_tls_variables_reach_the_daemon() {
    let Some(d) = tls_daemon() else { return };
    let certs = d.path().display().to_string();
    let env = [("DOCKER_HOST", d.url()), ("DOCKER_TLS_VERIFY", "1".into()), ("DOCKER_CERT_PATH", certs.clone())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (_, v, stderr) = run(&d.path(), &["doctor", "."], &env);
    let reachable = check(&v, "docker.reachable");
    assert_eq!(reachable["status"], "pass", "{v:#}\n{stderr}");
    assert_eq!(v["data"]["host"]["docker"]["endpoint"]["tls"]["verify"], true);
    assert_eq!(v["data"]["host"]["docker"]["endpoint"]["tls"]["origin"], format!("DOCKER_TLS_VERIFY, DOCKER_CERT_PATH={certs}"));
    let remote = check(&v, "docker.remote");
    assert_eq!(remote["status"], "warn", "no server files over TCP: {remote}");
    assert!(remote["fix"].as_str().unwrap().contains("ssh://"), "{remote}");
    assert_eq!(check(&v, "toolkit.installed")["status"], "skip", "this machine's toolkit does not stand in for the server's");

    // A Dockerfile config: BuildKit's session (an HTTP upgrade beside the build request) goes over TLS too.
    let ws = tempfile::Builder::new().prefix("devgpu-tls-ws-").tempdir().unwrap();
    common::tools::write_file(ws.path(), ".devcontainer/devcontainer.json", r#"{ "build": { "dockerfile": "Dockerfile" }, "runArgs": ["--network", "none"] }"#);
    common::tools::write_file(ws.path(), ".devcontainer/Dockerfile", format!("FROM {STANDIN_IMAGE}\nRUN echo built over TLS > /built\n"));
    let (code, up, stderr) = run(ws.path(), &["up"], &env);
    assert_eq!(code, 0, "{up:#}\n{stderr}");
    assert!(stderr.contains("with BuildKit") && !stderr.contains("refused a BuildKit build"), "{stderr}");
    let id = up["data"]["containerId"].as_str().unwrap();
    let built = Command::new("docker").args(["exec", id, "cat", "/built"]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&built.stdout).trim(), "built over TLS");
    let image = Command::new("docker").args(["inspect", "--format", "{{.Image}}", id]).output().unwrap();
    let (code, down, _) = run(ws.path(), &["down", "--remove"], &env);
    assert_eq!((code, down["data"]["containers"][0]["action"].as_str()), (0, Some("removed")), "{down:#}");
    assert_eq!(up["data"]["containerId"], down["data"]["containers"][0]["containerId"]);
    let _ = Command::new("docker").args(["rmi", String::from_utf8_lossy(&image.stdout).trim()]).output();
}

/// Each TLS failure in words: no client certificate, a CA that did not sign the daemon's certificate, a CA file
/// that is not there; DOCKER_TLS (without verification) accepts the daemon's certificate as `docker --tls` does.
#[test]
fn tls_failures_say_which_certificate() {
    let Some(d) = tls_daemon() else { return };
    let url = d.url();
    let fail = |certs: &Path, verify: &str| -> Value {
        let c = certs.display().to_string();
        let (code, v, _) = run(&d.path(), &["doctor", "."], &[("DOCKER_HOST", &url), (verify, "1"), ("DOCKER_CERT_PATH", &c)]);
        assert_eq!(code, 1, "{v:#}");
        v["data"]["host"]["docker"]["error"].clone()
    };
    let no_client = d.cert_dir(&["ca.pem"], None);
    let e = fail(&no_client, "DOCKER_TLS_VERIFY");
    assert_eq!(e["code"], "docker-tls-failed", "{e:#}");
    assert!(e["message"].as_str().unwrap().contains("requires a client certificate"), "{e:#}");

    // Another CA.
    let other = d.path().join("other");
    fs::create_dir_all(&other).unwrap();
    openssl(&other, &["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "k.pem", "-out", "ca.pem", "-days", "2", "-subj", "/CN=other CA"]);
    let wrong_ca = d.cert_dir(&["cert.pem", "key.pem"], Some(&other.join("ca.pem")));
    let e = fail(&wrong_ca, "DOCKER_TLS_VERIFY");
    assert!(e["message"].as_str().unwrap().contains(&format!("not signed by {}/ca.pem", wrong_ca.display())), "{e:#}");

    let missing = d.cert_dir(&["cert.pem", "key.pem"], None);
    let e = fail(&missing, "DOCKER_TLS_VERIFY");
    assert!(e["message"].as_str().unwrap().contains(&format!("{}/ca.pem does not exist", missing.display())), "{e:#}");

    let c = wrong_ca.display().to_string();
    let (_, v, _) = run(&d.path(), &["doctor", "."], &[("DOCKER_HOST", &url), ("DOCKER_TLS", "1"), ("DOCKER_CERT_PATH", &c)]);
    assert_eq!(check(&v, "docker.reachable")["status"], "pass", "DOCKER_TLS does not verify the daemon: {v:#}");
}

/// A docker context whose endpoint is tcp:// and whose TLS material is under contexts/tls/<id>/docker.
#[test]
fn a_context_brings_its_tls_material() {
    let Some(d) = tls_daemon() else { return };
    use sha2::Digest;
    let config = tempfile::Builder::new().prefix("devgpu-docker-config-").tempdir().unwrap();
    let hash: String = sha2::Sha256::digest(b"gpu-tls").iter().map(|b| format!("{b:02x}")).collect();
    common::tools::write_file(config.path(), "config.json", r#"{"currentContext": "gpu-tls"}"#);
    common::tools::write_file(
        config.path(),
        &format!("contexts/meta/{hash}/meta.json"),
        format!(r#"{{"Name":"gpu-tls","Metadata":{{}},"Endpoints":{{"docker":{{"Host":"{}","SkipTLSVerify":false}}}}}}"#, d.url()),
    );
    for f in ["ca.pem", "cert.pem", "key.pem"] {
        common::tools::write_file(config.path(), &format!("contexts/tls/{hash}/docker/{f}"), fs::read(d.path().join(f)).unwrap());
    }
    let dir = config.path().display().to_string();
    let (_, v, stderr) = run(&d.path(), &["doctor", "."], &[("DOCKER_CONFIG", &dir)]);
    let reachable = check(&v, "docker.reachable");
    assert_eq!(reachable["status"], "pass", "{v:#}\n{stderr}");
    assert!(reachable["summary"].as_str().unwrap().contains("(docker context \"gpu-tls\")"), "{reachable}");
    assert!(v["data"]["host"]["docker"]["endpoint"]["tls"]["origin"].as_str().unwrap().starts_with("docker context \"gpu-tls\""));
}

/// Over TCP the server's GPU facts come from a GPU container there: on this GPU-less daemon it fails with the
/// daemon's own words, which doctor reports as the probe's diagnosis.
#[test]
fn the_gpu_container_on_a_tls_host_reports_the_daemons_words() {
    let Some(d) = tls_daemon() else { return };
    let certs = d.path().display().to_string();
    let url = d.url();
    let (code, v, stderr) = run(&d.path(), &["doctor", ".", "--image", STANDIN_IMAGE], &[("DOCKER_HOST", &url), ("DOCKER_TLS_VERIFY", "1"), ("DOCKER_CERT_PATH", &certs)]);
    assert_eq!(code, 1, "{v:#}\n{stderr}");
    let facts = &v["data"]["host"]["docker"]["serverFacts"];
    assert_eq!(facts["via"], "none", "{facts}");
    assert!(facts["error"].as_str().unwrap().contains("could not select device driver"), "{facts}");
    let probe = check(&v, "probe.gpu");
    assert_eq!(probe["status"], "fail");
    assert!(probe["summary"].as_str().unwrap().contains("nvidia-container-toolkit is not installed"), "{probe}");
    assert_eq!(v["data"]["host"]["probe"]["removed"], true, "the container is gone");
}
