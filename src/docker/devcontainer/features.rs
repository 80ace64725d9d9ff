//! EDGE: Dev Container Features — read local Feature folders (under `.devcontainer/`, never through a symlink
//! that leaves the Feature's folder), fetch OCI Features from their registry (manifest → the one
//! `application/vnd.devcontainers.layer.v1+tar` layer, anonymous Bearer token as for image tags), and build the
//! derived image from the context [`crate::plan::features::plan_build`] plans, sent as an in-memory tar (no
//! temporary files). Order, options and metadata are decided in [`crate::plan::features`].

use std::collections::HashMap;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bollard::query_parameters::BuildImageOptions;
use bytes::Bytes;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::facts::http::{Http, Timeouts};
use crate::facts::registry::{sha256_digest, Registry};
use crate::plan::features::{self, FeatureBuild, FeatureError, FeatureJson, FeatureNode, FeatureSource, Fetched, OciRef, FEATURE_FILE, LAYER_MEDIA_TYPE};
use crate::plan::up::{UpPlan, LABEL_BUILD_HASH, LABEL_IMAGE_WORKSPACE, LABEL_METADATA};
use crate::model::progress::ProgressSink;

use super::UpError;

/// On the derived image: the hash of what decides it (base image, Features as requested, local Features'
/// files, users), so a second `up` finds it without fetching anything.
pub const LABEL_FEATURES_KEY: &str = "devgpu.features_key";

const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json";
/// A Feature is a small folder; a bound keeps a hostile registry from filling memory.
const MAX_FEATURE_BYTES: u64 = 64 << 20;

fn sha_hex(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
        h.update([0u8]);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The folder holding devcontainer.json, and the `.devcontainer/` folder local Features must live in.
fn local_roots(plan: &UpPlan) -> (PathBuf, PathBuf) {
    let config_dir = Path::new(&plan.config.config_file).parent().unwrap_or(Path::new("/")).to_path_buf();
    (config_dir, Path::new(&plan.config.local_folder).join(".devcontainer"))
}

/// Reads a local Feature: its folder must be under `.devcontainer/` (also after resolving symlinks), and no file
/// is read through a symlink that points out of the folder.
pub fn read_local(plan: &UpPlan, user_id: &str, rel: &str) -> Result<Fetched, FeatureError> {
    let (config_dir, devcontainer_dir) = local_roots(plan);
    let invalid = |message: String| FeatureError::InvalidConfig { file: plan.config.config_file.clone(), path: format!("features.{user_id}"), message };
    let dir = crate::plan::up::normalize(&config_dir.join(rel));
    let real = std::fs::canonicalize(&dir).map_err(|e| invalid(format!("the folder {} cannot be read: {e}", dir.display())))?;
    let real_root = std::fs::canonicalize(&devcontainer_dir).unwrap_or(devcontainer_dir.clone());
    if !real.starts_with(&real_root) || real == real_root {
        return Err(invalid(format!("a local Feature must be a folder under {} (found {})", devcontainer_dir.display(), real.display())));
    }
    let json_path = real.join(FEATURE_FILE);
    let text = std::fs::read_to_string(&json_path).map_err(|e| invalid(format!("{} cannot be read: {e}", json_path.display())))?;
    let json = FeatureJson::parse(&text, &json_path.display().to_string())?;
    let mut files = Vec::new();
    let mut total = 0u64;
    for entry in walkdir::WalkDir::new(&real).follow_links(false).sort_by_file_name().min_depth(1) {
        let entry = entry.map_err(|e| invalid(format!("reading {}: {e}", real.display())))?;
        let ft = entry.file_type();
        if ft.is_dir() {
            continue;
        }
        let path = if ft.is_symlink() {
            let target = std::fs::canonicalize(entry.path()).map_err(|e| invalid(format!("{}: {e}", entry.path().display())))?;
            if !target.starts_with(&real) {
                return Err(invalid(format!("{} is a symlink out of the Feature's folder; devgpu reads nothing outside it", entry.path().display())));
            }
            if target.is_dir() {
                continue;
            }
            target
        } else {
            entry.path().to_path_buf()
        };
        let rel_path = entry.path().strip_prefix(&real).unwrap_or(entry.path()).to_string_lossy().replace('\\', "/");
        let meta = std::fs::metadata(&path).map_err(|e| invalid(format!("{}: {e}", path.display())))?;
        total += meta.len();
        if total > MAX_FEATURE_BYTES {
            return Err(invalid(format!("the Feature's folder {} holds more than {} MiB", real.display(), MAX_FEATURE_BYTES >> 20)));
        }
        let bytes = std::fs::read(&path).map_err(|e| invalid(format!("{}: {e}", path.display())))?;
        files.push((rel_path, bytes, meta.permissions().mode() & 0o7777));
    }
    if !files.iter().any(|(p, _, _)| p == "install.sh") {
        return Err(invalid(format!("{} has no install.sh", real.display())));
    }
    let digest = {
        let mut h = Sha256::new();
        for (p, b, m) in &files {
            h.update(format!("{p}\0{m:o}\0{}\0", b.len()).as_bytes());
            h.update(b);
        }
        format!("local:{}", h.finalize().iter().map(|b| format!("{b:02x}")).collect::<String>())
    };
    Ok(Fetched { source: FeatureSource::Local { rel: rel.to_string() }, digest, json, files })
}

/// A fingerprint of every local Feature the config names (their files); empty when it names none. Read errors
/// are left for the install step, which reports them.
pub fn local_fingerprint(plan: &UpPlan) -> String {
    let mut parts = Vec::new();
    for (user_id, _) in &plan.features.features {
        if let Ok(FeatureSource::Local { rel }) = features::parse_source(user_id, &plan.config.config_file) {
            parts.push(read_local(plan, user_id, &rel).map(|f| f.digest).unwrap_or_else(|e| format!("unreadable:{e}")));
        }
    }
    if parts.is_empty() {
        String::new()
    } else {
        sha_hex(&parts.iter().map(|p| p.as_bytes()).collect::<Vec<_>>())
    }
}

/// Unpacks a Feature layer (a plain tar) into (path, bytes, mode), refusing links and paths that leave it.
fn untar(feature: &str, layer: &[u8]) -> Result<Vec<(String, Vec<u8>, u32)>, String> {
    let mut files = Vec::new();
    let mut archive = tar::Archive::new(layer);
    for entry in archive.entries().map_err(|e| e.to_string())? {
        let mut entry = entry.map_err(|e| e.to_string())?;
        let path = entry.path().map_err(|e| e.to_string())?.to_string_lossy().to_string();
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            continue;
        }
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty() && *p != ".").collect();
        if parts.is_empty() || parts.contains(&"..") || path.starts_with('/') {
            return Err(format!("the layer of {feature} holds a path that leaves its folder: {path}"));
        }
        if !kind.is_file() {
            return Err(format!("the layer of {feature} holds a link or special file ({path}); devgpu unpacks regular files only"));
        }
        let mode = entry.header().mode().unwrap_or(0o644) & 0o7777;
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).map_err(|e| e.to_string())?;
        files.push((parts.join("/"), bytes, mode));
    }
    Ok(files)
}

/// The lockfile beside devcontainer.json, when there is one.
fn lockfile_text(plan: &UpPlan) -> Option<String> {
    let config = Path::new(&plan.config.config_file);
    let name = config.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    std::fs::read_to_string(config.with_file_name(features::lockfile_name(&name))).ok()
}

/// Fetches an OCI Feature: `https://` (Docker's rule: a loopback registry may answer plain HTTP), anonymous token;
/// `pinned` (the lockfile's digest) is fetched instead of the tag, as the CLI does.
pub fn fetch_oci(http: &Http, user_id: &str, r: &OciRef, pinned: Option<&str>) -> Result<Fetched, FeatureError> {
    let pinned_ref;
    let r = match pinned {
        Some(d) => {
            pinned_ref = OciRef { digest: Some(d.to_string()), ..r.clone() };
            &pinned_ref
        }
        None => r,
    };
    let unreachable = |message: String| FeatureError::Unreachable { feature: user_id.to_string(), registry: r.registry.clone(), message };
    let bases: Vec<String> =
        if r.is_loopback() { vec![format!("https://{}", r.registry), format!("http://{}", r.registry)] } else { vec![format!("https://{}", r.registry)] };
    let mut last_err = String::new();
    for base in &bases {
        let mut registry = Registry::new(http, base);
        let (manifest, digest) = match registry.manifest(&r.path, &r.reference(), MANIFEST_ACCEPT) {
            Ok(Some(m)) => m,
            Ok(None) => return Err(unreachable(format!("{base}/v2/{}/manifests/{} is not there (check the name and the tag)", r.path, r.reference()))),
            Err(crate::facts::http::HttpError::Unreachable { why, .. }) => {
                last_err = why;
                continue;
            }
            Err(crate::facts::http::HttpError::Status { status: 401 | 403, url }) => {
                return Err(unreachable(format!("{url} asks for credentials: devgpu fetches Features anonymously (a private Feature needs `docker login` and the official CLI)")))
            }
            Err(e) => return Err(unreachable(e.to_string())),
        };
        if let Some(d) = &r.digest {
            if *d != digest && sha256_digest(&manifest) != *d {
                return Err(unreachable(format!("the manifest does not match the digest {d}")));
            }
        }
        let m: Value = serde_json::from_slice(&manifest).map_err(|e| unreachable(format!("the manifest is not JSON: {e}")))?;
        let layer = m["layers"]
            .as_array()
            .and_then(|l| l.iter().find(|x| x["mediaType"] == LAYER_MEDIA_TYPE).or_else(|| l.first()))
            .and_then(|x| x["digest"].as_str())
            .ok_or_else(|| unreachable(format!("the manifest has no layer of type {LAYER_MEDIA_TYPE}: not a Dev Container Feature")))?
            .to_string();
        let bytes = registry.blob(&r.path, &layer).map_err(|e| unreachable(e.to_string()))?;
        let files = untar(user_id, &bytes).map_err(|message| FeatureError::InvalidFeature { file: format!("{user_id} (layer {layer})"), message })?;
        let json_file = format!("{user_id}: {FEATURE_FILE}");
        let text = files
            .iter()
            .find(|(p, _, _)| p == FEATURE_FILE)
            .map(|(_, b, _)| String::from_utf8_lossy(b).into_owned())
            .ok_or_else(|| FeatureError::InvalidFeature { file: user_id.to_string(), message: format!("the layer has no {FEATURE_FILE}") })?;
        let json = FeatureJson::parse(&text, &json_file)?;
        return Ok(Fetched { source: FeatureSource::Oci(r.clone()), digest, json, files });
    }
    Err(unreachable(last_err))
}

/// Resolves the config's Features: fetches each (and its `dependsOn`), and orders them.
pub fn resolve(plan: &UpPlan) -> Result<(Vec<FeatureNode>, Vec<usize>), FeatureError> {
    let http = Http::new(Timeouts { connect: Duration::from_secs(10), total: Duration::from_secs(120) });
    let pins = lockfile_text(plan).map(|t| features::lockfile_pins(&t)).unwrap_or_default();
    let nodes = features::build_graph(&plan.features, &plan.config.config_file, |user_id, source| match source {
        FeatureSource::Local { rel } => read_local(plan, user_id, rel),
        FeatureSource::Oci(r) => fetch_oci(&http, user_id, r, pins.iter().find(|(k, _)| k == user_id).map(|(_, d)| d.as_str())),
    })?;
    let order = features::install_order(&nodes)?;
    Ok((nodes, order))
}

/// The key of the derived image: what it is built from, known before anything is fetched (the lockfile's pins
/// included).
pub fn features_key(plan: &UpPlan, base_image_id: &str, users: &(String, String), image_user: Option<&str>, local_fingerprint: &str) -> String {
    let pins = lockfile_text(plan).map(|t| features::lockfile_pins(&t)).unwrap_or_default();
    let requests = serde_json::json!({"features": plan.features.features, "order": plan.features.override_order, "pins": pins});
    sha_hex(&[
        b"devgpu-features-1",
        base_image_id.as_bytes(),
        requests.to_string().as_bytes(),
        users.0.as_bytes(),
        users.1.as_bytes(),
        image_user.unwrap_or("").as_bytes(),
        local_fingerprint.as_bytes(),
    ])
}

/// The context tar of the derived image, in memory.
fn context_tar(build: &FeatureBuild) -> std::io::Result<Vec<u8>> {
    let mut tar = tar::Builder::new(Vec::new());
    for (path, bytes, mode) in &build.files {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_mode(*mode);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        h.set_size(bytes.len() as u64);
        tar.append_data(&mut h, path, bytes.as_slice())?;
    }
    tar.into_inner()
}

/// What the derived image is built from.
pub struct BuildInputs<'a> {
    pub build: &'a FeatureBuild,
    /// The image's `devcontainer.metadata` entries (a base image's own, then the Features').
    pub image_metadata: &'a [Value],
    pub key: &'a str,
    pub hash: &'a str,
    pub no_cache: bool,
}

/// Builds the derived image [`UpPlan::features_tag`] with the engine's builder (as the config's image); returns its id.
pub async fn build(docker: &crate::docker::Docker, plan: &UpPlan, inputs: BuildInputs<'_>, progress: &dyn ProgressSink) -> Result<String, UpError> {
    let builder = super::build::builder_for(docker, plan.build.as_ref().map(|b| &b.options));
    progress.step("features", &format!("installing the Features {} into {} with {}", inputs.build.installed.join(", "), plan.features_tag, builder.describe()));
    let client = docker.client.clone().with_timeout(Duration::from_secs(24 * 3600));
    let body = context_tar(inputs.build).map_err(|e| UpError::Context { path: plan.features_tag.clone(), message: e.to_string() })?;
    let labels: HashMap<String, String> = [
        (LABEL_BUILD_HASH.to_string(), inputs.hash.to_string()),
        (LABEL_FEATURES_KEY.to_string(), inputs.key.to_string()),
        (LABEL_IMAGE_WORKSPACE.to_string(), plan.config.local_folder.clone()),
        (LABEL_METADATA.to_string(), Value::Array(inputs.image_metadata.to_vec()).to_string()),
    ]
    .into_iter()
    .collect();
    // The official CLI builds the Features in the same `docker build` as the config's Dockerfile, with its
    // build.options: their network and host entry reach the Features' install scripts here too.
    let build_options = plan.build.as_ref().map(|b| &b.options);
    let options = BuildImageOptions {
        dockerfile: "Dockerfile".into(),
        t: Some(plan.features_tag.clone()),
        rm: true,
        forcerm: true,
        nocache: inputs.no_cache || build_options.is_some_and(|o| o.no_cache),
        labels: Some(labels),
        networkmode: build_options.and_then(|o| o.network.clone()),
        extrahosts: build_options.and_then(|o| o.add_host.clone()),
        ..Default::default()
    };
    let body = Bytes::from(body);
    super::build::build_with(&builder, options, |o| client.build_image(o, None, Some(bollard::body_full(body.clone()))), progress).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_of(entries: &[(&str, &[u8], tar::EntryType)]) -> Vec<u8> {
        let mut t = tar::Builder::new(Vec::new());
        for (p, b, k) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(*k);
            h.set_mode(0o755);
            if *k == tar::EntryType::Symlink {
                h.set_size(0);
                t.append_link(&mut h, p, "/etc/passwd").unwrap();
            } else {
                h.set_size(b.len() as u64);
                t.append_data(&mut h, p, *b).unwrap();
            }
        }
        t.into_inner().unwrap()
    }

    #[test]
    fn layers_unpack_regular_files_only() {
        let ok = tar_of(&[("./", b"", tar::EntryType::Directory), ("./install.sh", b"echo hi", tar::EntryType::Regular), ("./devcontainer-feature.json", b"{}", tar::EntryType::Regular)]);
        let files = untar("f", &ok).unwrap();
        assert_eq!(files.iter().map(|(p, _, _)| p.as_str()).collect::<Vec<_>>(), ["install.sh", "devcontainer-feature.json"]);
        assert_eq!(files[0].2, 0o755);
        let link = tar_of(&[("./passwd", b"", tar::EntryType::Symlink)]);
        assert!(untar("f", &link).unwrap_err().contains("link"));
    }
}
