//! OCI Features for the `up` tests: published to the loopback registry as `devcontainer features publish` lays
//! them out, and a test CA with a certificate for 127.0.0.1 (for the official CLI, which speaks only https://).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use crate::common;
use crate::common::live::Registry;

/// The two OCI Features the parity tests install, on Debian's registry on loopback served over TLS with a test CA
/// (the official CLI speaks only https:// to registries): `app` depends on `base`, takes the option `flavor`, sets
/// containerEnv `APP_READY=yes`, adds SYS_PTRACE and a postCreateCommand appending `app` to /tmp/hooks.log.
pub struct TlsFeatures {
    /// The test CA: SSL_CERT_FILE for devgpu, NODE_EXTRA_CA_CERTS for the official CLI.
    pub ca: PathBuf,
    host: String,
    // Dropped in this order: the TLS front, the registry, then the certificates.
    _tls: Box<dyn std::any::Any>,
    _registry: Registry,
    _certs: tempfile::TempDir,
}

impl TlsFeatures {
    /// None (the missing prerequisite said) without openssl.
    pub fn publish() -> Option<TlsFeatures> {
        let certs = tempfile::tempdir().unwrap();
        let (ca, cert, key) = loopback_certificate(certs.path())?;
        let registry = Registry::start();
        let (tls, host) = registry.tls_mirror(&cert, &key);
        let features = TlsFeatures { ca, host, _tls: Box::new(tls), _registry: registry, _certs: certs };
        publish(&features._registry, "base", json!({}));
        let app = json!({"dependsOn": {features.reference("base"): {}}, "containerEnv": {"APP_READY": "yes"}, "capAdd": ["SYS_PTRACE"], "postCreateCommand": "echo app >> /tmp/hooks.log"});
        publish(&features._registry, "app", app);
        Some(features)
    }

    /// `<host>/devgpu-test/features/<id>:1`, as a config names the Feature through the TLS front.
    pub fn reference(&self, id: &str) -> String {
        format!("{}/devgpu-test/features/{id}:1", self.host)
    }

    /// What each tool needs to trust the front: (devgpu's environment, the official CLI's).
    pub fn trust(&self) -> ([(&'static str, &std::ffi::OsStr); 1], [(&'static str, &std::ffi::OsStr); 1]) {
        ([("SSL_CERT_FILE", self.ca.as_os_str())], [("NODE_EXTRA_CA_CERTS", self.ca.as_os_str())])
    }
}

/// A Feature's layer: a plain tar of its folder, entries `./name` as `devcontainer features publish` writes them.
pub fn feature_layer(files: &[(&str, &str)]) -> Vec<u8> {
    let mut t = tar::Builder::new(Vec::new());
    for (name, text) in files {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_mode(0o755);
        h.set_size(text.len() as u64);
        t.append_data(&mut h, format!("./{name}"), text.as_bytes()).unwrap();
    }
    t.into_inner().unwrap()
}

/// Publishes a Feature `<registry>/devgpu-test/features/<id>:1` whose install.sh appends `<id>:<FLAVOR>` to
/// /opt/order.log (`@<version>` after it for a version other than 1.0.0); returns the manifest digest.
pub fn publish(registry: &Registry, id: &str, extra: Value) -> String {
    let mut meta = json!({"id": id, "version": "1.0.0", "options": {"flavor": {"type": "string", "default": "plain"}}});
    meta.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    let version = meta["version"].as_str().unwrap().to_string();
    let suffix = if version == "1.0.0" { String::new() } else { format!("@{version}") };
    let install = format!("#!/bin/sh\nset -e\nmkdir -p /opt\necho \"{id}:$FLAVOR{suffix}\" >> /opt/order.log\n");
    let layer = feature_layer(&[("devcontainer-feature.json", &meta.to_string()), ("install.sh", &install)]);
    let repo = format!("devgpu-test/features/{id}");
    let config = b"{}";
    let config_digest = registry.push_blob(&repo, config);
    let layer_digest = registry.push_blob(&repo, &layer);
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.devcontainers", "digest": config_digest, "size": config.len()},
        "layers": [{"mediaType": "application/vnd.devcontainers.layer.v1+tar", "digest": layer_digest, "size": layer.len(), "annotations": {"org.opencontainers.image.title": format!("devcontainer-feature-{id}.tgz")}}],
        "annotations": {"dev.containers.metadata": meta.to_string(), "com.github.package.type": "devcontainer_feature"},
    });
    registry.put_manifest(&repo, "1", "application/vnd.oci.image.manifest.v1+json", manifest.to_string().as_bytes())
}

/// A CA and a certificate for 127.0.0.1 signed by it (openssl), in `dir`: (ca.pem, cert.pem, key.pem).
pub fn loopback_certificate(dir: &Path) -> Option<(PathBuf, PathBuf, PathBuf)> {
    if !Command::new("sh").args(["-c", "command -v openssl"]).output().is_ok_and(|o| o.status.success()) {
        common::tools::missing_prerequisite("openssl is not on PATH", "apt-get install openssl");
        return None;
    }
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl").args(args).current_dir(dir).output().expect("openssl");
        assert!(out.status.success(), "openssl {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
    };
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    openssl(&[&["req", "-x509"][..], &ec, &["-keyout", "ca-key.pem", "-out", "ca.pem", "-days", "2", "-subj", "/CN=devgpu features test CA"]].concat());
    std::fs::write(dir.join("server.ext"), "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n").unwrap();
    openssl(&[&["req"][..], &ec, &["-keyout", "key.pem", "-out", "server.csr", "-subj", "/CN=127.0.0.1"]].concat());
    openssl(&["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem", "-CAcreateserial", "-out", "cert.pem", "-days", "2", "-extfile", "server.ext"]);
    Some((dir.join("ca.pem"), dir.join("cert.pem"), dir.join("key.pem")))
}

