//! PURE: Dev Container Features — from the `features` object of devcontainer.json and each Feature's
//! `devcontainer-feature.json` to the derived image the Dev Containers CLI would build, without any I/O:
//!
//! - references: local (`./name`, a folder under `.devcontainer/`) and OCI (`registry/namespace/id[:tag|@digest]`);
//!   anything else (`https://…tgz` tarballs, the retired GitHub-release and v1 forms) is out of reach and is
//!   handed over to the official CLI with one clear message before anything is built;
//! - the install order of the spec (`dependsOn` hard, `installsAfter` soft, `overrideFeatureInstallOrder`
//!   priorities; rounds sorted as the CLI's `compareTo` sorts them, containerFeaturesOrder.ts);
//! - options → environment (`getSafeId`: upper-cased, non-word characters to `_`), defaults from the Feature,
//!   the built-in `_CONTAINER_USER` / `_REMOTE_USER` (and `_…_HOME`, computed in the image), the CLI's install
//!   wrapper script, the Dockerfile (classic-builder syntax: one COPY + RUN per Feature, `ENV` for each Feature's
//!   `containerEnv` before its install, as the CLI writes it);
//! - the `devcontainer.metadata` entries (`{id, …picked properties}`) and, from a metadata array, the merged
//!   container properties the CLI applies (`mergeConfiguration` in imageMetadata.ts): init, privileged, capAdd,
//!   securityOpt, entrypoints, mounts (last wins per target), containerEnv and the lifecycle hooks in order.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::config::docker_run_args::{parse_mount, MountSpec};
use crate::config::model::LifecycleCommand;
use crate::config::{parse_jsonc, ConfigError};

/// Where the CLI (and so devgpu) unpacks Features in the image while installing them.
pub const FEATURES_DIR: &str = "/tmp/dev-container-features";
/// The file every Feature carries.
pub const FEATURE_FILE: &str = "devcontainer-feature.json";
/// Media type of a Feature's layer in an OCI registry (a plain tar of the Feature's folder).
pub const LAYER_MEDIA_TYPE: &str = "application/vnd.devcontainers.layer.v1+tar";

/// The properties of a Feature the CLI copies into `devcontainer.metadata` (imageMetadata.ts
/// `pickFeatureProperties`), in its order.
const METADATA_PROPERTIES: &[&str] = &[
    "onCreateCommand",
    "updateContentCommand",
    "postCreateCommand",
    "postStartCommand",
    "postAttachCommand",
    "init",
    "privileged",
    "capAdd",
    "securityOpt",
    "entrypoint",
    "mounts",
    "customizations",
];

/// Why Features cannot be installed by devgpu (each error says which Feature and what to do).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeatureError {
    /// A reference devgpu does not fetch (tarball URL, retired forms): the official CLI builds it.
    #[error("{file}: the Feature `{feature}` is {why}; devgpu up installs local (`./name`) and OCI registry Features only, and builds nothing for this config")]
    OutOfReach { file: String, feature: String, why: String },
    #[error("{file}: `{path}`: {message}")]
    InvalidConfig { file: String, path: String, message: String },
    #[error(transparent)]
    InvalidFeatureJson(#[from] ConfigError),
    #[error("{file}: {message}")]
    InvalidFeature { file: String, message: String },
    #[error("the Feature `{feature}` cannot be fetched from {registry}: {message}; nothing was built")]
    Unreachable { feature: String, registry: String, message: String },
    #[error("the Features {features} depend on each other in a cycle (dependsOn/installsAfter); nothing was built")]
    Cycle { features: String },
}

impl crate::error::Coded for FeatureError {
    fn code(&self) -> crate::error::ErrorCode {
        match self {
            FeatureError::OutOfReach { .. } => crate::error::ErrorCode::FeatureOutOfReach,
            FeatureError::InvalidConfig { .. } => crate::error::ErrorCode::DevcontainerInvalidValue,
            FeatureError::InvalidFeatureJson(e) => e.code(),
            FeatureError::InvalidFeature { .. } => crate::error::ErrorCode::FeatureInvalid,
            FeatureError::Unreachable { .. } => crate::error::ErrorCode::FeatureUnreachable,
            FeatureError::Cycle { .. } => crate::error::ErrorCode::FeatureCycle,
        }
    }
    fn hints(&self) -> Vec<String> {
        let official = "build this configuration with the official Dev Containers CLI: `devcontainer up --workspace-folder .` (or VS Code's \"Reopen in Container\"); `devgpu verify` then checks the GPU in that container".to_string();
        match self {
            FeatureError::OutOfReach { .. } => vec![official, "or publish the Feature to an OCI registry, or copy it into a folder under .devcontainer/ and name it \"./folder\"".into()],
            FeatureError::InvalidConfig { path, .. } => vec![format!("fix `{path}` (see https://containers.dev/implementors/features/)")],
            FeatureError::InvalidFeatureJson(e) => e.hints(),
            FeatureError::InvalidFeature { file, .. } => vec![format!("fix {file} (see https://containers.dev/implementors/features/)")],
            FeatureError::Unreachable { registry, .. } => vec![
                format!("check that {registry} is reachable from this machine (proxy settings: HTTPS_PROXY / NO_PROXY), then run `devgpu up` again"),
                official,
            ],
            FeatureError::Cycle { .. } => vec!["remove one of the Features in the cycle, or set `overrideFeatureInstallOrder`".into()],
        }
    }
}

/// An OCI reference to a Feature, parsed as the CLI's `getRef` parses it (lower-cased).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OciRef {
    /// `ghcr.io` or `localhost:5000`.
    pub registry: String,
    /// `devcontainers/features`.
    pub namespace: String,
    /// `node`.
    pub id: String,
    /// `registry/namespace/id`.
    pub resource: String,
    /// `namespace/id` (the repository in the registry).
    pub path: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl OciRef {
    /// What to ask the registry for: the digest, else the tag, else `latest`.
    pub fn reference(&self) -> String {
        self.digest.clone().or_else(|| self.tag.clone()).unwrap_or_else(|| "latest".into())
    }

    /// Whether the registry is this machine (Docker treats loopback registries as insecure: plain HTTP allowed).
    pub fn is_loopback(&self) -> bool {
        let host = self.registry.rsplit_once(':').map(|(h, _)| h).unwrap_or(&self.registry);
        host == "localhost" || host.starts_with("127.") || host == "[::1]"
    }
}

fn valid_tag(t: &str) -> bool {
    let mut chars = t.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric() || c == '_')
        && t.len() <= 128
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

fn valid_path(p: &str) -> bool {
    // ^[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*$
    p.split('/').all(|comp| {
        !comp.is_empty()
            && comp.split(['.', '_', '-']).all(|run| !run.is_empty() && run.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()))
    })
}

/// Parses `registry/namespace/id[:tag|@sha256:…]` (the CLI's `getRef`).
pub fn parse_oci_ref(input: &str) -> Option<OciRef> {
    let input = input.to_lowercase();
    if input.starts_with('.') {
        return None;
    }
    let (resource, tag, digest) = if let Some(at) = input.rfind('@') {
        let d = &input[at + 1..];
        let (alg, hex) = d.split_once(':')?;
        if alg != "sha256" || hex.is_empty() {
            return None;
        }
        (input[..at].to_string(), None, Some(d.to_string()))
    } else {
        match input.rfind(':') {
            Some(c) if c > input.rfind('/').unwrap_or(0) => (input[..c].to_string(), Some(input[c + 1..].to_string()), None),
            _ => (input.clone(), Some("latest".to_string()), None),
        }
    };
    if tag.as_deref().is_some_and(|t| !valid_tag(t)) {
        return None;
    }
    let parts: Vec<&str> = resource.split('/').collect();
    if parts.len() < 3 {
        return None;
    }
    let registry = parts[0].to_string();
    let id = parts[parts.len() - 1].to_string();
    let namespace = parts[1..parts.len() - 1].join("/");
    let path = format!("{namespace}/{id}");
    if !valid_path(&path) {
        return None;
    }
    Some(OciRef { registry, namespace, id, resource, path, tag, digest })
}

/// How a Feature is referenced in devcontainer.json.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeatureSource {
    /// `./name`: the folder relative to the folder holding devcontainer.json (`/`-separated, normalised).
    Local { rel: String },
    Oci(OciRef),
}

/// Classifies a reference as the CLI's `processFeatureIdentifier` does, refusing what devgpu does not fetch.
pub fn parse_source(user_id: &str, file: &str) -> Result<FeatureSource, FeatureError> {
    let out = |why: &str| FeatureError::OutOfReach { file: file.to_string(), feature: user_id.to_string(), why: why.to_string() };
    if user_id.starts_with("https://") || user_id.starts_with("http://") {
        return Err(out("a tarball URL"));
    }
    if user_id.starts_with('/') {
        return Err(FeatureError::InvalidConfig {
            file: file.into(),
            path: format!("features.{user_id}"),
            message: "an absolute path to a local Feature is not allowed: put the Feature in a folder under .devcontainer/ and name it \"./folder\"".into(),
        });
    }
    if user_id.starts_with("./") || user_id.starts_with("../") {
        let mut parts: Vec<&str> = Vec::new();
        for c in user_id.split('/') {
            match c {
                "" | "." => {}
                // Leading `..` are kept: whether the folder is under .devcontainer/ is checked where the paths are.
                ".." => {
                    if parts.last().is_none_or(|p| *p == "..") {
                        parts.push("..");
                    } else {
                        parts.pop();
                    }
                }
                c => parts.push(c),
            }
        }
        if parts.is_empty() {
            return Err(FeatureError::InvalidConfig { file: file.into(), path: format!("features.{user_id}"), message: "names no folder".into() });
        }
        return Ok(FeatureSource::Local { rel: parts.join("/") });
    }
    if !user_id.contains('/') {
        return Err(out("a retired short Feature id (the v1 form): see https://containers.dev/features for its replacement; a local Feature is written \"./name\""));
    }
    match parse_oci_ref(user_id) {
        // The CLI asks a registry only when its name has a dot or is localhost (else it is the GitHub form).
        Some(r) if r.registry.contains('.') || r.registry.starts_with("localhost") => Ok(FeatureSource::Oci(r)),
        _ => Err(out("not an OCI reference (`registry/namespace/id:tag`): the retired GitHub-release form")),
    }
}

/// The `features` object and `overrideFeatureInstallOrder` of a (substituted) devcontainer.json.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FeatureRequests {
    /// (reference as written, options: a string, a boolean or an object), in the config's order.
    pub features: Vec<(String, Value)>,
    pub override_order: Vec<String>,
}

impl FeatureRequests {
    pub fn from_config(config: &Value, file: &str) -> Result<FeatureRequests, FeatureError> {
        let invalid = |path: &str, message: &str| FeatureError::InvalidConfig { file: file.into(), path: path.into(), message: message.into() };
        let mut out = FeatureRequests::default();
        match config.get("features") {
            None | Some(Value::Null) => {}
            Some(Value::Object(o)) => {
                for (k, v) in o {
                    // A reference devgpu does not fetch is handed over now, before any image (a build config's,
                    // a Compose service's) is built.
                    parse_source(k, file)?;
                    match v {
                        Value::String(_) | Value::Bool(_) | Value::Object(_) => out.features.push((k.clone(), v.clone())),
                        _ => return Err(invalid(&format!("features.{k}"), "expected an object of options, a string or a boolean")),
                    }
                }
            }
            Some(_) => return Err(invalid("features", "expected an object: {\"./my-feature\": {}, \"ghcr.io/owner/features/name:1\": {\"option\": \"value\"}}")),
        }
        match config.get("overrideFeatureInstallOrder") {
            None | Some(Value::Null) => {}
            Some(Value::Array(a)) => {
                for (i, v) in a.iter().enumerate() {
                    out.override_order.push(v.as_str().ok_or_else(|| invalid(&format!("overrideFeatureInstallOrder[{i}]"), "expected a Feature reference (a string)"))?.to_string());
                }
            }
            Some(_) => return Err(invalid("overrideFeatureInstallOrder", "expected an array of Feature references")),
        }
        Ok(out)
    }

    pub fn is_empty(&self) -> bool {
        self.features.is_empty()
    }
}

/// The lockfile next to devcontainer.json (`devcontainer-lock.json`, or `.devcontainer-lock.json` beside a
/// `.devcontainer.json`), which the official CLI writes and honours: it pins each OCI Feature to a digest.
pub fn lockfile_name(config_file_name: &str) -> &'static str {
    if config_file_name.starts_with('.') {
        ".devcontainer-lock.json"
    } else {
        "devcontainer-lock.json"
    }
}

/// The pins of a lockfile: (reference as written in devcontainer.json, `sha256:` digest). A file that is not a
/// lockfile pins nothing (the CLI rewrites it).
pub fn lockfile_pins(text: &str) -> Vec<(String, String)> {
    let Ok(v) = serde_json::from_str::<Value>(text) else { return Vec::new() };
    v.get("features")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(k, f)| f.get("integrity").and_then(Value::as_str).filter(|d| d.starts_with("sha256:")).map(|d| (k.clone(), d.to_string())))
        .collect()
}

/// A Feature's `devcontainer-feature.json`, the parts devgpu uses (the whole object is kept for the metadata).
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureJson {
    pub id: String,
    pub version: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub documentation_url: Option<String>,
    /// (option id, default) in the file's order; options without a default are `None`.
    pub options: Vec<(String, Option<Value>)>,
    pub container_env: Vec<(String, String)>,
    pub depends_on: Vec<(String, Value)>,
    pub installs_after: Vec<String>,
    pub legacy_ids: Vec<String>,
    pub current_id: Option<String>,
    pub raw: Map<String, Value>,
}

impl FeatureJson {
    /// Parses the file's text (JSONC, as the CLI reads it); `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<FeatureJson, FeatureError> {
        let v = parse_jsonc(text, file)?;
        let bad = |message: String| FeatureError::InvalidFeature { file: file.into(), message };
        let Value::Object(raw) = v else { return Err(bad("expected a JSON object".into())) };
        let s = |k: &str| -> Result<Option<String>, FeatureError> {
            match raw.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(bad(format!("`{k}` must be a string"))),
            }
        };
        let id = s("id")?.filter(|i| !i.is_empty()).ok_or_else(|| bad("`id` is missing: every Feature names its id".into()))?;
        let options = match raw.get("options") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Object(o)) => o.iter().map(|(k, spec)| (k.clone(), spec.get("default").cloned())).collect(),
            Some(_) => return Err(bad("`options` must be an object".into())),
        };
        let container_env = match raw.get("containerEnv") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Object(o)) => o
                .iter()
                .map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())).ok_or_else(|| bad(format!("`containerEnv.{k}` must be a string"))))
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(bad("`containerEnv` must be an object of strings".into())),
        };
        let depends_on = match raw.get("dependsOn") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Object(o)) => o.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            Some(_) => return Err(bad("`dependsOn` must be an object".into())),
        };
        let strings = |k: &str| -> Result<Vec<String>, FeatureError> {
            match raw.get(k) {
                None | Some(Value::Null) => Ok(Vec::new()),
                Some(Value::Array(a)) => a.iter().map(|x| x.as_str().map(str::to_string).ok_or_else(|| bad(format!("`{k}` must be an array of strings")))).collect(),
                Some(_) => Err(bad(format!("`{k}` must be an array of strings"))),
            }
        };
        for k in ["capAdd", "securityOpt"] {
            strings(k)?;
        }
        if let Some(m) = raw.get("mounts") {
            let Value::Array(items) = m else { return Err(bad("`mounts` must be an array".into())) };
            for item in items {
                mount_spec(item).map_err(|why| bad(format!("`mounts`: {why}")))?;
            }
        }
        if raw.get("privileged").is_some_and(|v| !v.is_boolean()) || raw.get("init").is_some_and(|v| !v.is_boolean()) {
            return Err(bad("`privileged` and `init` must be true or false".into()));
        }
        FeatureJson {
            id,
            version: s("version")?,
            name: s("name")?,
            description: s("description")?,
            documentation_url: s("documentationURL")?,
            options,
            container_env,
            depends_on,
            installs_after: strings("installsAfter")?,
            legacy_ids: strings("legacyIds")?,
            current_id: s("currentId")?,
            raw,
        }
        .checked(file)
    }

    fn checked(self, file: &str) -> Result<FeatureJson, FeatureError> {
        if self.raw.get("entrypoint").is_some_and(|v| !v.is_string()) {
            return Err(FeatureError::InvalidFeature { file: file.into(), message: "`entrypoint` must be a string".into() });
        }
        Ok(self)
    }
}

/// A mount of a Feature or a metadata entry: the `type=…,source=…,target=…` string or the `{type, source,
/// target}` object.
pub fn mount_spec(v: &Value) -> Result<MountSpec, String> {
    match v {
        Value::String(s) => parse_mount(s),
        Value::Object(o) => {
            let get = |k: &str| o.get(k).and_then(Value::as_str).map(str::to_string);
            let target = get("target").filter(|t| !t.is_empty()).ok_or("a mount needs a target")?;
            Ok(MountSpec { kind: get("type").unwrap_or_else(|| "volume".into()), source: get("source"), target, ..Default::default() })
        }
        _ => Err("expected a mount string or an object {type, source, target}".into()),
    }
}

/// One Feature to install, as fetched by the edge.
#[derive(Debug, Clone, PartialEq)]
pub struct Fetched {
    pub source: FeatureSource,
    /// The manifest digest of an OCI Feature; a hash of a local Feature's files.
    pub digest: String,
    pub json: FeatureJson,
    /// The Feature's files: (path relative to its folder, bytes, mode).
    pub files: Vec<(String, Vec<u8>, u32)>,
}

/// A Feature in the install graph.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureNode {
    /// The reference as written in devcontainer.json (or in a `dependsOn`).
    pub user_id: String,
    pub options: Value,
    pub fetched: Fetched,
    /// Indices of the nodes this one `dependsOn`.
    pub depends_on: Vec<usize>,
    /// `installsAfter` references (kept only when a node of the graph satisfies them).
    pub installs_after: Vec<FeatureSource>,
    pub priority: usize,
}

/// JavaScript's `String(value)` for an option value.
fn js_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "null".into(),
        Value::Array(_) | Value::Object(_) => "[object Object]".into(),
        other => other.to_string(),
    }
}

/// The CLI's `optionsCompareTo`.
fn options_cmp(a: &Value, b: &Value) -> std::cmp::Ordering {
    use std::cmp::Ordering::*;
    match (a, b) {
        (Value::String(x), Value::String(y)) => locale_cmp(x, y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Object(x), Value::Object(y)) => {
            if x.len() != y.len() {
                return x.len().cmp(&y.len());
            }
            let mut xk: Vec<&String> = x.keys().collect();
            let mut yk: Vec<&String> = y.keys().collect();
            xk.sort();
            yk.sort();
            for (ka, kb) in xk.iter().zip(yk.iter()) {
                if ka != kb {
                    return locale_cmp(ka, kb);
                }
                let o = match (&x[ka.as_str()], &y[kb.as_str()]) {
                    (Value::String(p), Value::String(q)) => locale_cmp(p, q),
                    (Value::Bool(p), Value::Bool(q)) => p.cmp(q),
                    _ => Equal,
                };
                if o != Equal {
                    return o;
                }
            }
            Equal
        }
        _ => type_name(a).cmp(type_name(b)),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "string",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::Null => "undefined",
        _ => "object",
    }
}

/// An approximation of ICU's root collation (JavaScript's `localeCompare`) that agrees on Feature references:
/// punctuation before digits before letters, letters case-blind first, then lower case before upper case.
pub fn locale_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let key = |c: char| -> (u8, char) {
        if c.is_ascii_digit() {
            (1, c)
        } else if c.is_alphabetic() {
            (2, c.to_lowercase().next().unwrap_or(c))
        } else {
            (0, c)
        }
    };
    let primary = a.chars().map(key).cmp(b.chars().map(key));
    primary.then_with(|| a.chars().map(|c| c.is_uppercase()).cmp(b.chars().map(|c| c.is_uppercase())))
}

/// The CLI's `compareTo`: the order of Features installed in the same round.
fn compare(a: &FeatureNode, b: &FeatureNode) -> std::cmp::Ordering {
    use std::cmp::Ordering::Equal;
    match (&a.fetched.source, &b.fetched.source) {
        (FeatureSource::Oci(x), FeatureSource::Oci(y)) => {
            if a.fetched.digest == b.fetched.digest && options_cmp(&a.options, &b.options) == Equal {
                return Equal;
            }
            let (px, py) = (format!("{}/{}", x.registry, x.namespace), format!("{}/{}", y.registry, y.namespace));
            if px != py {
                return locale_cmp(&px, &py);
            }
            let aliases = |n: &FeatureNode, r: &OciRef| -> Vec<String> {
                let mut v = vec![n.fetched.json.current_id.clone().unwrap_or_else(|| r.id.clone())];
                v.extend(n.fetched.json.legacy_ids.iter().cloned());
                v
            };
            let (ax, ay) = (aliases(a, x), aliases(b, y));
            if !ax.iter().any(|i| ay.contains(i)) && x.id != y.id {
                return locale_cmp(&x.id, &y.id);
            }
            if let (Some(tx), Some(ty)) = (&x.tag, &y.tag) {
                if tx != ty {
                    return locale_cmp(tx, ty);
                }
            }
            options_cmp(&a.options, &b.options).then_with(|| a.fetched.digest.cmp(&b.fetched.digest))
        }
        (FeatureSource::Local { rel: x }, FeatureSource::Local { rel: y }) => locale_cmp(x, y).then_with(|| options_cmp(&a.options, &b.options)),
        _ => locale_cmp(&a.user_id, &b.user_id),
    }
}

/// Whether two references are the same Feature with the same options (the CLI's `equals`): the graph holds each
/// once.
pub fn same_feature(source_a: &FeatureSource, digest_a: &str, options_a: &Value, source_b: &FeatureSource, digest_b: &str, options_b: &Value) -> bool {
    let same_source = match (source_a, source_b) {
        (FeatureSource::Local { rel: x }, FeatureSource::Local { rel: y }) => x == y,
        (FeatureSource::Oci(_), FeatureSource::Oci(_)) => digest_a == digest_b,
        _ => false,
    };
    same_source && options_cmp(options_a, options_b) == std::cmp::Ordering::Equal
}

/// Whether `node` satisfies the soft dependency `dep` (the CLI's `satisfiesSoftDependency`): the same OCI
/// resource, tag aside (or a legacy id of it), or the same local folder.
fn satisfies(node: &FeatureNode, dep: &FeatureSource) -> bool {
    match (&node.fetched.source, dep) {
        (FeatureSource::Oci(n), FeatureSource::Oci(d)) => {
            n.resource == d.resource || {
                let prefix = format!("{}/{}", n.registry, n.namespace);
                let json = &node.fetched.json;
                std::iter::once(json.current_id.as_ref().unwrap_or(&json.id)).chain(json.legacy_ids.iter()).any(|alias| format!("{prefix}/{alias}") == d.resource)
            }
        }
        (FeatureSource::Local { rel: n }, FeatureSource::Local { rel: d }) => n == d,
        _ => false,
    }
}

/// Builds the install graph from the requested Features, fetching each reference (and each `dependsOn`) once
/// through `fetch`, the edge's reader (registry or folder). Pure given `fetch`.
pub fn build_graph(
    requests: &FeatureRequests,
    file: &str,
    mut fetch: impl FnMut(&str, &FeatureSource) -> Result<Fetched, FeatureError>,
) -> Result<Vec<FeatureNode>, FeatureError> {
    let mut nodes: Vec<FeatureNode> = Vec::new();
    // (user id, options, index of the node that depends on it)
    let mut worklist: std::collections::VecDeque<(String, Value, Option<usize>)> = requests.features.iter().map(|(k, v)| (k.clone(), v.clone(), None)).collect();
    let mut fetched_by_id: Vec<(String, Fetched)> = Vec::new();
    let mut guard = 0;
    while let Some((user_id, options, parent)) = worklist.pop_front() {
        guard += 1;
        if guard > 500 {
            return Err(FeatureError::Cycle { features: user_id });
        }
        let source = parse_source(&user_id, file)?;
        let fetched = match fetched_by_id.iter().find(|(u, _)| *u == user_id) {
            Some((_, f)) => f.clone(),
            None => {
                let f = fetch(&user_id, &source)?;
                fetched_by_id.push((user_id.clone(), f.clone()));
                f
            }
        };
        if let Some(i) = nodes.iter().position(|n| same_feature(&n.fetched.source, &n.fetched.digest, &n.options, &fetched.source, &fetched.digest, &options)) {
            if let Some(p) = parent {
                nodes[p].depends_on.push(i);
            }
            continue;
        }
        let idx = nodes.len();
        if let Some(p) = parent {
            nodes[p].depends_on.push(idx);
        }
        for (dep, opts) in &fetched.json.depends_on {
            worklist.push_back((dep.clone(), opts.clone(), Some(idx)));
        }
        let installs_after = fetched.json.installs_after.iter().filter_map(|r| parse_source(r, file).ok()).collect();
        nodes.push(FeatureNode { user_id, options, fetched, depends_on: Vec::new(), installs_after, priority: 0 });
    }
    // overrideFeatureInstallOrder: the first named gets the highest priority.
    let n = requests.override_order.len();
    for (i, r) in requests.override_order.iter().enumerate() {
        let src = parse_source(r, file)?;
        for node in nodes.iter_mut() {
            if satisfies(node, &src) {
                node.priority = node.priority.max(n - i);
            }
        }
    }
    Ok(nodes)
}

/// The install order (indices into `nodes`): rounds of the nodes whose dependencies are installed, the highest
/// override priority first, each round sorted by [`compare`] (containerFeaturesOrder.ts).
pub fn install_order(nodes: &[FeatureNode]) -> Result<Vec<usize>, FeatureError> {
    // Soft dependencies on Features that are not in the graph do not count.
    let soft: Vec<Vec<usize>> = nodes
        .iter()
        .map(|n| n.installs_after.iter().filter(|d| nodes.iter().any(|m| satisfies(m, d))).flat_map(|d| (0..nodes.len()).filter(move |&j| satisfies(&nodes[j], d))).collect())
        .collect();
    let mut installed: Vec<usize> = Vec::new();
    let mut left: Vec<usize> = (0..nodes.len()).collect();
    while !left.is_empty() {
        let mut round: Vec<usize> = left
            .iter()
            .copied()
            .filter(|&i| nodes[i].depends_on.iter().all(|d| installed.contains(d)) && soft[i].iter().all(|d| installed.contains(d) || *d == i))
            .collect();
        if round.is_empty() {
            let names: Vec<&str> = left.iter().map(|&i| nodes[i].user_id.as_str()).collect();
            return Err(FeatureError::Cycle { features: names.join(", ") });
        }
        let max = round.iter().map(|&i| nodes[i].priority).max().unwrap_or(0);
        round.retain(|&i| nodes[i].priority == max);
        round.sort_by(|&a, &b| compare(&nodes[a], &nodes[b]));
        left.retain(|i| !round.contains(i));
        installed.extend(round);
    }
    Ok(installed)
}

/// The CLI's `getSafeId`: `[^\w]` → `_`, a leading run of digits and underscores → one `_`, upper case.
pub fn safe_id(s: &str) -> String {
    let replaced: String = s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
    let trimmed = replaced.trim_start_matches(|c: char| c.is_ascii_digit() || c == '_');
    let out = if trimmed.len() < replaced.len() { format!("_{trimmed}") } else { replaced };
    out.to_uppercase()
}

/// The option values a Feature installs with (`getFeatureValueObject`): the defaults, overridden by the
/// options object; a string or boolean is the `version` option when the Feature has one.
pub fn option_values(json: &FeatureJson, options: &Value) -> Vec<(String, Value)> {
    let mut values: Vec<(String, Value)> = json.options.iter().filter_map(|(k, d)| d.clone().map(|d| (k.clone(), d))).collect();
    let mut set = |k: &str, v: Value| match values.iter_mut().find(|(n, _)| n == k) {
        Some(slot) => slot.1 = v,
        None => values.push((k.to_string(), v)),
    };
    match options {
        Value::Object(o) => o.iter().for_each(|(k, v)| set(k, v.clone())),
        other if json.options.iter().any(|(k, _)| k == "version") => set("version", other.clone()),
        _ => {}
    }
    values
}

/// The lines of a Feature's `devcontainer-features.env` (`NAME="value"`, unescaped, as the CLI writes them).
pub fn env_lines(json: &FeatureJson, options: &Value) -> Vec<String> {
    option_values(json, options).iter().map(|(k, v)| format!("{}=\"{}\"", safe_id(k), js_string(v))).collect()
}

fn shell_single(s: &str) -> String {
    s.replace('\'', "'\\''")
}

/// The reference without its tag or digest (`getFeatureIdWithoutVersion`).
fn without_version(user_id: &str) -> String {
    if let Some(at) = user_id.rfind('@') {
        return user_id[..at].to_string();
    }
    match user_id.rfind(':') {
        Some(c) if c > user_id.rfind('/').unwrap_or(0) => user_id[..c].to_string(),
        _ => user_id.to_string(),
    }
}

/// The CLI's `devcontainer-features-install.sh` wrapper for one Feature.
pub fn install_wrapper(node: &FeatureNode, env: &[String]) -> String {
    let json = &node.fetched.json;
    let id = match &node.fetched.source {
        FeatureSource::Oci(_) => shell_single(&without_version(&node.user_id)),
        FeatureSource::Local { .. } => "Unknown".to_string(),
    };
    let name = shell_single(json.name.as_deref().unwrap_or(&node.user_id));
    let description = shell_single(json.description.as_deref().unwrap_or(""));
    let version = shell_single(json.version.as_deref().unwrap_or(""));
    let documentation = shell_single(json.documentation_url.as_deref().unwrap_or(""));
    let options = shell_single(&env.iter().map(|x| format!("    {x}")).collect::<Vec<_>>().join("\n"));
    let mut warning = String::new();
    if json.raw.get("deprecated").and_then(Value::as_bool) == Some(true) {
        warning.push_str(&format!("(!) WARNING: Using the deprecated Feature \"{}\". This Feature will no longer receive any further updates/support.\n", shell_single(&json.id)));
    }
    let echo_warning = if warning.is_empty() { String::new() } else { format!("echo '{warning}'") };
    let trouble = if documentation.is_empty() { String::new() } else { format!(" Look at the documentation at {documentation} for help troubleshooting this error.") };
    format!(
        "#!/bin/sh\nset -e\n\non_exit () {{\n\t[ $? -eq 0 ] && exit\n\techo 'ERROR: Feature \"{name}\" ({id}) failed to install!{trouble}'\n}}\n\ntrap on_exit EXIT\n\n\
echo ===========================================================================\n{echo_warning}\n\
echo 'Feature       : {name}'\necho 'Description   : {description}'\necho 'Id            : {id}'\necho 'Version       : {version}'\n\
echo 'Documentation : {documentation}'\necho 'Options       :'\necho '{options}'\n\
echo ===========================================================================\n\nset -a\n. ../devcontainer-features.builtin.env\n. ./devcontainer-features.env\nset +a\n\nchmod +x ./install.sh\n./install.sh\n"
    )
}

/// `ENV NAME="value"` lines (`generateContainerEnvs`: `"` and `\` escaped).
fn env_instructions(env: &[(String, String)]) -> String {
    env.iter().map(|(k, v)| format!("ENV {k}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))).collect::<Vec<_>>().join("\n")
}

/// ` (getent passwd 'user' || grep … /etc/passwd || true)`: the user's passwd line (`getEntPasswdShellCommand`).
fn passwd_line(user: &str) -> String {
    let shell = user.replace('\\', "\\\\").replace('\'', "\\'");
    let re: String = user
        .chars()
        .map(|c| if ".*+?^${}()|[]\\/".contains(c) { format!("\\{c}") } else if c == '\'' { "\\'".to_string() } else { c.to_string() })
        .collect();
    format!(" (command -v getent >/dev/null 2>&1 && getent passwd '{shell}' || grep -E '^{re}|^[^:]*:[^:]*:{re}:' /etc/passwd || true)")
}

/// The users Features install for (`findContainerUsers`): the last `containerUser` of the metadata, else the
/// image's user (root when it names none); the last `remoteUser`, else the container user.
pub fn feature_users(metadata: &[Value], image_user: Option<&str>) -> (String, String) {
    let last = |k: &str| metadata.iter().rev().find_map(|e| e.get(k).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string));
    let container_user = last("containerUser").unwrap_or_else(|| image_user.filter(|u| !u.is_empty()).unwrap_or("root").to_string());
    let remote_user = last("remoteUser").unwrap_or_else(|| container_user.clone());
    (container_user, remote_user)
}

/// The derived image: its build context (Dockerfile + one folder per Feature) and metadata entries.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureBuild {
    pub dockerfile: String,
    /// (path in the context, bytes, mode), the Dockerfile included.
    pub files: Vec<(String, Vec<u8>, u32)>,
    /// One `devcontainer.metadata` entry per installed Feature, in install order.
    pub metadata: Vec<Value>,
    /// The user references in install order (for reports).
    pub installed: Vec<String>,
}

/// The `devcontainer.metadata` entry of a Feature: `{"id": <reference as written>, …picked properties}`.
pub fn metadata_entry(user_id: &str, json: &FeatureJson) -> Value {
    let mut e = Map::new();
    e.insert("id".into(), Value::String(user_id.into()));
    for k in METADATA_PROPERTIES {
        if let Some(v) = json.raw.get(*k) {
            e.insert(k.to_string(), v.clone());
        }
    }
    Value::Object(e)
}

/// Plans the derived image on top of `base_image`: `image_user` is the base image's `USER` (None = root),
/// `users` the container and remote users from [`feature_users`].
pub fn plan_build(nodes: &[FeatureNode], order: &[usize], base_image: &str, image_user: Option<&str>, users: &(String, String)) -> FeatureBuild {
    let (container_user, remote_user) = users;
    let builtin = format!("{FEATURES_DIR}/devcontainer-features.builtin.env");
    let mut df = format!(
        "FROM {base_image}\nUSER root\nRUN mkdir -p {FEATURES_DIR}\nCOPY devcontainer-features.builtin.env {FEATURES_DIR}/\nRUN chmod -R 0755 {FEATURES_DIR}/ && \\\necho \"_CONTAINER_USER_HOME=$({} | cut -d: -f6)\" >> {builtin} && \\\necho \"_REMOTE_USER_HOME=$({} | cut -d: -f6)\" >> {builtin}\n",
        passwd_line(container_user),
        passwd_line(remote_user)
    );
    let mut files = vec![("devcontainer-features.builtin.env".to_string(), format!("_CONTAINER_USER={container_user}\n_REMOTE_USER={remote_user}\n").into_bytes(), 0o644)];
    let mut metadata = Vec::new();
    let mut installed = Vec::new();
    for (idx, &i) in order.iter().enumerate() {
        let node = &nodes[i];
        let json = &node.fetched.json;
        let cid = format!("{}_{idx}", json.id);
        let env = env_lines(json, &node.options);
        for (rel, bytes, mode) in &node.fetched.files {
            if rel == "devcontainer-features.env" || rel == "devcontainer-features-install.sh" {
                continue;
            }
            files.push((format!("{cid}/{rel}"), bytes.clone(), *mode));
        }
        files.push((format!("{cid}/devcontainer-features.env"), env.join("\n").into_bytes(), 0o644));
        files.push((format!("{cid}/devcontainer-features-install.sh"), install_wrapper(node, &env).into_bytes(), 0o755));
        let envs = env_instructions(&json.container_env);
        if !envs.is_empty() {
            df.push_str(&envs);
            df.push('\n');
        }
        df.push_str(&format!(
            "COPY --chown=root:root {cid} {FEATURES_DIR}/{cid}\nRUN chmod -R 0755 {FEATURES_DIR}/{cid} \\\n&& cd {FEATURES_DIR}/{cid} \\\n&& chmod +x ./devcontainer-features-install.sh \\\n&& ./devcontainer-features-install.sh\n"
        ));
        metadata.push(metadata_entry(&node.user_id, json));
        installed.push(node.user_id.clone());
    }
    df.push_str(&format!("USER {}\n", image_user.filter(|u| !u.is_empty()).unwrap_or("root")));
    files.insert(0, ("Dockerfile".to_string(), df.clone().into_bytes(), 0o644));
    FeatureBuild { dockerfile: df, files, metadata, installed }
}

/// Loud warnings for the Features (metadata entries with an `id`) that make the container privileged: never
/// added silently.
pub fn privileged_warnings(metadata: &[Value]) -> Vec<String> {
    metadata
        .iter()
        .filter(|e| e.get("privileged").and_then(Value::as_bool) == Some(true))
        .filter_map(|e| e.get("id").and_then(Value::as_str))
        .map(|id| {
            format!(
                "the Feature {id} makes the container privileged (\"privileged\": true in its devcontainer-feature.json): it gets every capability and the host's devices, as VS Code would start it; remove the Feature if you do not need that"
            )
        })
        .collect()
}

/// A hash of the derived image's inputs (the Dockerfile and every file of the context).
pub fn build_hash(build: &FeatureBuild, base_image_id: &str) -> String {
    let mut h = Sha256::new();
    h.update(base_image_id.as_bytes());
    for (p, b, m) in &build.files {
        h.update(format!("\0{p}\0{m:o}\0{}\0", b.len()).as_bytes());
        h.update(b);
    }
    h.update(serde_json::to_string(&build.metadata).unwrap_or_default().as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// A lifecycle command from a metadata value: a string, an argv array, or an object of named commands.
pub fn lifecycle_command(v: &Value) -> Option<LifecycleCommand> {
    let single = |v: &Value| match v {
        Value::String(s) if !s.trim().is_empty() => Some(LifecycleCommand::Shell(s.clone())),
        Value::Array(a) if !a.is_empty() => Some(LifecycleCommand::Exec(a.iter().map(js_string).collect())),
        _ => None,
    };
    match v {
        Value::Object(o) if !o.is_empty() => Some(LifecycleCommand::Parallel(o.iter().filter_map(|(k, c)| single(c).map(|c| (k.clone(), c))).collect())),
        other => single(other),
    }
}

/// The container properties metadata entries add (imageMetadata.ts `mergeConfiguration`), for the entries of
/// the image (a base image's own, then the Features'); the config's own values are applied after them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MergedMetadata {
    pub init: bool,
    pub privileged: bool,
    pub cap_add: Vec<String>,
    pub security_opt: Vec<String>,
    pub entrypoints: Vec<String>,
    pub mounts: Vec<MountSpec>,
    pub container_env: Vec<(String, String)>,
    /// (hook, commands in order) for onCreate, updateContent, postCreate, postStart.
    pub hooks: Vec<(&'static str, Vec<LifecycleCommand>)>,
}

pub const HOOKS: [&str; 4] = ["onCreateCommand", "updateContentCommand", "postCreateCommand", "postStartCommand"];

impl MergedMetadata {
    pub fn from_entries(entries: &[Value]) -> MergedMetadata {
        let mut m = MergedMetadata { hooks: HOOKS.iter().map(|h| (*h, Vec::new())).collect(), ..Default::default() };
        let push_unique = |v: &mut Vec<String>, x: &str| {
            if !v.iter().any(|y| y == x) {
                v.push(x.to_string());
            }
        };
        for e in entries {
            m.init |= e.get("init").and_then(Value::as_bool) == Some(true);
            m.privileged |= e.get("privileged").and_then(Value::as_bool) == Some(true);
            for (k, out) in [("capAdd", &mut m.cap_add), ("securityOpt", &mut m.security_opt)] {
                for x in e.get(k).and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
                    push_unique(out, x);
                }
            }
            if let Some(ep) = e.get("entrypoint").and_then(Value::as_str).filter(|s| !s.is_empty()) {
                m.entrypoints.push(ep.to_string());
            }
            for mount in e.get("mounts").and_then(Value::as_array).into_iter().flatten().filter_map(|v| mount_spec(v).ok()) {
                m.mounts.push(mount);
            }
            for (k, v) in e.get("containerEnv").and_then(Value::as_object).into_iter().flatten() {
                if let Some(v) = v.as_str() {
                    m.container_env.retain(|(n, _)| n != k);
                    m.container_env.push((k.clone(), v.to_string()));
                }
            }
            for (hook, cmds) in m.hooks.iter_mut() {
                if let Some(c) = e.get(*hook).and_then(lifecycle_command) {
                    cmds.push(c);
                }
            }
        }
        m
    }

    /// The commands of one hook.
    pub fn hook(&self, name: &str) -> &[LifecycleCommand] {
        self.hooks.iter().find(|(h, _)| *h == name).map(|(_, c)| c.as_slice()).unwrap_or(&[])
    }
}

/// Mounts merged as the CLI merges them (`mergeMounts`): one per target, the last one wins, in the order of
/// the last occurrences.
pub fn merge_mounts(mounts: Vec<MountSpec>) -> Vec<MountSpec> {
    let mut out: Vec<MountSpec> = Vec::new();
    for m in mounts.into_iter().rev() {
        if !out.iter().any(|o| o.target == m.target) {
            out.push(m);
        }
    }
    out.reverse();
    out
}

/// The keep-alive script with the Features' entrypoints (run before `exec "$@"`, as the CLI runs them).
pub fn keep_alive_script(entrypoints: &[String]) -> String {
    format!("echo Container started\ntrap \"exit 0\" 15\n{}\nexec \"$@\"\nwhile sleep 1 & wait $!; do :; done", entrypoints.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fj(v: Value) -> FeatureJson {
        FeatureJson::parse(&v.to_string(), "f.json").unwrap()
    }

    fn local(id: &str, rel: &str, extra: Value) -> Fetched {
        let mut j = json!({"id": id, "version": "1.0.0"});
        j.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        Fetched { source: FeatureSource::Local { rel: rel.into() }, digest: format!("local:{rel}"), json: fj(j), files: vec![("install.sh".into(), b"true".to_vec(), 0o755)] }
    }

    fn oci(reference: &str, extra: Value) -> Fetched {
        let r = parse_oci_ref(reference).unwrap();
        let mut j = json!({"id": r.id});
        j.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        Fetched { digest: format!("sha256:{}", r.id), source: FeatureSource::Oci(r), json: fj(j), files: vec![] }
    }

    fn order_of(requests: FeatureRequests, pool: &[(&str, Fetched)]) -> Vec<String> {
        let nodes = build_graph(&requests, "d.json", |u, _| Ok(pool.iter().find(|(k, _)| *k == u).unwrap_or_else(|| panic!("fetched {u}")).1.clone())).unwrap();
        install_order(&nodes).unwrap().into_iter().map(|i| nodes[i].user_id.clone()).collect()
    }

    #[test]
    fn oci_references_parse_like_the_cli() {
        let r = parse_oci_ref("ghcr.io/devcontainers/features/Node:1").unwrap();
        assert_eq!((r.registry.as_str(), r.namespace.as_str(), r.id.as_str(), r.tag.as_deref()), ("ghcr.io", "devcontainers/features", "node", Some("1")));
        assert_eq!(r.path, "devcontainers/features/node");
        let r = parse_oci_ref("localhost:5000/team/features/tool").unwrap();
        assert_eq!((r.registry.as_str(), r.reference().as_str()), ("localhost:5000", "latest"));
        assert!(r.is_loopback());
        let r = parse_oci_ref("127.0.0.1:5000/f/x@sha256:abc").unwrap();
        assert_eq!((r.digest.as_deref(), r.tag), (Some("sha256:abc"), None));
        assert!(parse_oci_ref("ghcr.io/x").is_none(), "registry/namespace/id needs three parts");
        assert!(parse_oci_ref("ghcr.io/a/b:bad tag").is_none());
    }

    #[test]
    fn sources_and_what_is_handed_over() {
        assert_eq!(parse_source("./a/../b", "d.json").unwrap(), FeatureSource::Local { rel: "b".into() });
        assert_eq!(parse_source("../.devcontainer/x", "d.json").unwrap(), FeatureSource::Local { rel: "../.devcontainer/x".into() });
        assert_eq!(parse_source("../../x", "d.json").unwrap(), FeatureSource::Local { rel: "../../x".into() }, "left to the edge, which knows the folders");
        assert!(matches!(parse_source("/abs/x", "d.json"), Err(FeatureError::InvalidConfig { .. })));
        for out in ["https://example.com/f.tgz", "node", "owner/repo/feature", "myregistry:5000/ns/f"] {
            let e = parse_source(out, "d.json").unwrap_err();
            assert!(matches!(e, FeatureError::OutOfReach { .. }), "{out}: {e:?}");
            use crate::error::Coded;
            assert!(e.hints()[0].contains("devcontainer up"), "hands over to the official CLI");
        }
        assert!(matches!(parse_source("ghcr.io/devcontainers/features/node:1", "d.json"), Ok(FeatureSource::Oci(_))));
        let e = FeatureRequests::from_config(&json!({"features": {"./a": 3}}), "d.json").unwrap_err();
        assert!(e.to_string().contains("features../a"), "{e}");
    }

    #[test]
    fn lockfiles_pin_digests() {
        let text = r#"{"features": {"ghcr.io/a/f/x:1": {"version": "1.2.0", "resolved": "ghcr.io/a/f/x@sha256:ab", "integrity": "sha256:ab"}, "bad": {"integrity": "md5:x"}}}"#;
        assert_eq!(lockfile_pins(text), [("ghcr.io/a/f/x:1".to_string(), "sha256:ab".to_string())]);
        assert!(lockfile_pins("").is_empty());
        assert_eq!((lockfile_name("devcontainer.json"), lockfile_name(".devcontainer.json")), ("devcontainer-lock.json", ".devcontainer-lock.json"));
    }

    #[test]
    fn options_become_environment_variables() {
        assert_eq!(safe_id("version"), "VERSION");
        assert_eq!(safe_id("install-tools"), "INSTALL_TOOLS");
        assert_eq!(safe_id("2fast.mode"), "_FAST_MODE");
        assert_eq!(safe_id("__x"), "_X");
        let j = fj(json!({"id": "t", "options": {"version": {"type": "string", "default": "lts"}, "withGit": {"type": "boolean", "default": true}, "extra": {"type": "string"}}}));
        assert_eq!(env_lines(&j, &json!({})), ["VERSION=\"lts\"", "WITHGIT=\"true\""]);
        assert_eq!(env_lines(&j, &json!({"withGit": false, "extra": "a b"})), ["VERSION=\"lts\"", "WITHGIT=\"false\"", "EXTRA=\"a b\""]);
        assert_eq!(env_lines(&j, &json!("18")), ["VERSION=\"18\"", "WITHGIT=\"true\""], "a string is the version option");
        let nov = fj(json!({"id": "t", "options": {"flavor": {"default": "x"}}}));
        assert_eq!(env_lines(&nov, &json!(true)), ["FLAVOR=\"x\""]);
    }

    #[test]
    fn feature_json_errors_name_the_file() {
        let e = FeatureJson::parse("{\"id\": \"x\",\n \"options\": [1]}", "/w/.devcontainer/f/devcontainer-feature.json").unwrap_err();
        assert!(e.to_string().starts_with("/w/.devcontainer/f/devcontainer-feature.json: `options`"), "{e}");
        let e = FeatureJson::parse("{\"id\": \"x\",\n \"version\": }", "f.json").unwrap_err();
        assert!(e.to_string().contains("f.json:2"), "{e}");
        assert!(FeatureJson::parse("{\"version\": \"1\"}", "f.json").is_err(), "id is required");
    }

    #[test]
    fn depends_on_is_fetched_and_installed_first() {
        let pool = [
            ("./app", local("app", "app", json!({"dependsOn": {"./base": {}}}))),
            ("./base", local("base", "base", json!({}))),
        ];
        let req = FeatureRequests { features: vec![("./app".into(), json!({}))], override_order: vec![] };
        assert_eq!(order_of(req, &pool), ["./app".to_string(), "./base".to_string()].iter().rev().cloned().collect::<Vec<_>>());
        // Named twice (by the user and by dependsOn, same options): installed once.
        let req = FeatureRequests { features: vec![("./app".into(), json!({})), ("./base".into(), json!({}))], override_order: vec![] };
        assert_eq!(order_of(req, &pool), ["./base", "./app"]);
    }

    #[test]
    fn installs_after_orders_only_features_that_are_there() {
        let pool = [
            ("localhost:5000/f/zeta:1", oci("localhost:5000/f/zeta:1", json!({"installsAfter": ["localhost:5000/f/alpha"]}))),
            ("localhost:5000/f/alpha:1", oci("localhost:5000/f/alpha:1", json!({}))),
            ("localhost:5000/f/beta:1", oci("localhost:5000/f/beta:1", json!({"installsAfter": ["localhost:5000/f/zeta", "localhost:5000/f/absent"]}))),
        ];
        let req = FeatureRequests { features: pool.iter().map(|(k, _)| (k.to_string(), json!({}))).collect(), override_order: vec![] };
        assert_eq!(order_of(req, &pool), ["localhost:5000/f/alpha:1", "localhost:5000/f/zeta:1", "localhost:5000/f/beta:1"]);
        // Without soft dependencies, a round is sorted by resource (the CLI's compareTo), not by the config's order.
        let pool2 = [("localhost:5000/f/zeta:1", oci("localhost:5000/f/zeta:1", json!({}))), ("localhost:5000/f/alpha:1", oci("localhost:5000/f/alpha:1", json!({})))];
        let req = FeatureRequests { features: pool2.iter().map(|(k, _)| (k.to_string(), json!({}))).collect(), override_order: vec![] };
        assert_eq!(order_of(req.clone(), &pool2), ["localhost:5000/f/alpha:1", "localhost:5000/f/zeta:1"]);
        // overrideFeatureInstallOrder: the first named goes first.
        let req = FeatureRequests { override_order: vec!["localhost:5000/f/zeta".into()], ..req };
        assert_eq!(order_of(req, &pool2), ["localhost:5000/f/zeta:1", "localhost:5000/f/alpha:1"]);
    }

    #[test]
    fn cycles_are_an_error() {
        let pool = [("./a", local("a", "a", json!({"installsAfter": ["./b"]}))), ("./b", local("b", "b", json!({"installsAfter": ["./a"]})))];
        let req = FeatureRequests { features: vec![("./a".into(), json!({})), ("./b".into(), json!({}))], override_order: vec![] };
        let nodes = build_graph(&req, "d.json", |u, _| Ok(pool.iter().find(|(k, _)| *k == u).unwrap().1.clone())).unwrap();
        assert!(matches!(install_order(&nodes), Err(FeatureError::Cycle { .. })));
    }

    #[test]
    fn the_build_context_and_metadata() {
        let f = local("tool", "tool", json!({"containerEnv": {"TOOL_HOME": "/opt/tool", "Q": "a\"b"}, "options": {"level": {"default": "2"}}, "capAdd": ["SYS_PTRACE"], "postCreateCommand": "tool --init", "privileged": true, "name": "Tool"}));
        let nodes = vec![FeatureNode { user_id: "./tool".into(), options: json!({"level": "3"}), fetched: f, depends_on: vec![], installs_after: vec![], priority: 0 }];
        let b = plan_build(&nodes, &[0], "base:1", Some("dev"), &("dev".into(), "dev".into()));
        assert!(b.dockerfile.starts_with("FROM base:1\nUSER root\n"), "{}", b.dockerfile);
        let env_at = b.dockerfile.find("ENV TOOL_HOME=\"/opt/tool\"\nENV Q=\"a\\\"b\"").expect("containerEnv as ENV");
        assert!(env_at < b.dockerfile.find("COPY --chown=root:root tool_0 /tmp/dev-container-features/tool_0").unwrap(), "ENV comes before the install");
        assert!(b.dockerfile.ends_with("USER dev\n"));
        let file = |p: &str| String::from_utf8(b.files.iter().find(|(n, _, _)| n == p).unwrap().1.clone()).unwrap();
        assert_eq!(file("tool_0/devcontainer-features.env"), "LEVEL=\"3\"");
        assert_eq!(file("devcontainer-features.builtin.env"), "_CONTAINER_USER=dev\n_REMOTE_USER=dev\n");
        assert!(file("tool_0/devcontainer-features-install.sh").contains("echo 'Feature       : Tool'\n"));
        assert_eq!(b.metadata, vec![json!({"id": "./tool", "postCreateCommand": "tool --init", "privileged": true, "capAdd": ["SYS_PTRACE"]})]);
        assert_eq!(privileged_warnings(&b.metadata).len(), 1);
    }

    #[test]
    fn metadata_merges_like_the_cli() {
        let entries = vec![
            json!({"id": "a", "init": true, "capAdd": ["X"], "entrypoint": "/a.sh", "mounts": ["type=volume,source=v1,target=/data"], "onCreateCommand": "one"}),
            json!({"id": "b", "capAdd": ["X", "Y"], "securityOpt": ["seccomp=unconfined"], "mounts": [{"type": "volume", "source": "v2", "target": "/data"}], "onCreateCommand": ["two", "x"], "containerEnv": {"K": "1"}}),
        ];
        let m = MergedMetadata::from_entries(&entries);
        assert!(m.init && !m.privileged);
        assert_eq!(m.cap_add, ["X", "Y"]);
        assert_eq!(m.entrypoints, ["/a.sh"]);
        assert_eq!(merge_mounts(m.mounts.clone()).iter().map(|x| x.source.clone().unwrap()).collect::<Vec<_>>(), ["v2"], "the last mount of a target wins");
        assert_eq!(m.hook("onCreateCommand"), [LifecycleCommand::Shell("one".into()), LifecycleCommand::Exec(vec!["two".into(), "x".into()])]);
        assert_eq!(m.container_env, [("K".to_string(), "1".to_string())]);
        assert_eq!(keep_alive_script(&[]), crate::plan::up::KEEP_ALIVE_SCRIPT);
        assert!(keep_alive_script(&m.entrypoints).contains("trap \"exit 0\" 15\n/a.sh\nexec \"$@\""));
        assert_eq!(feature_users(&[json!({"remoteUser": "vscode"})], Some("")), ("root".to_string(), "vscode".to_string()));
        assert_eq!(feature_users(&[json!({"containerUser": "c"})], Some("img")), ("c".to_string(), "c".to_string()));
    }
}
