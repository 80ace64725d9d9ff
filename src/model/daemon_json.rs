//! Docker's daemon.json, read as dockerd 20.10 reads it.
//!
//! [`parse_daemon_json`] accepts exactly the files dockerd starts with (as far as the keys devgpu cares about go)
//! and describes what dockerd sees: the runtimes it registers, its default runtime, `features.cdi`, `exec-opts`
//! and the cgroup driver in them, and the duplicate keys whose values are dead. Whatever dockerd refuses to start
//! on becomes [`DaemonJsonError::Refused`] with file:line:column, dockerd's own words and the exact fix.
//!
//! How dockerd 20.10 reads the file (moby `daemon/config/config.go`, Go's `encoding/json`), each point checked on a
//! real Docker 20.10.24 daemon started with `--config-file` (the inputs and the daemon's messages are in
//! `tests/fixtures/daemon-json/README.md`; the syntax side is documented in `daemon_scan.rs`):
//!
//! - A runtime's arguments are read from `runtimeArgs` (moby `api/types/types.go`:
//!   `type Runtime struct { Path string `json:"path"`; Args []string `json:"runtimeArgs,omitempty"` }`).
//!   The `"args"` key that `nvidia-ctk runtime configure` writes is **ignored** by dockerd (an unknown field of a
//!   struct); `docker info` shows no arguments for it. Field names inside a runtime match case-insensitively
//!   (Go's struct decoding): `"Path"` and `"RuntimeArgs"` work too.
//! - Duplicate keys: the last value wins — except that two `runtimes` (or `features`, or any other object-valued
//!   top-level key) objects are **merged** (Go decodes the second into the same map): `{"runtimes": {"a": …},
//!   "runtimes": {"b": …}}` registers both `a` and `b`. A runtime name written twice keeps only its last entry.
//!   A `null` empties a map or list (`"runtimes": null`) but leaves a string as it was (`"default-runtime": null`).
//! - Top-level keys are case-sensitive and unknown ones are refused ("the following directives don't match any
//!   configuration option"); devgpu does not check that (the set of keys grows with every Docker release).
//! - Types: a wrong type anywhere in the keys devgpu reads is refused, even in a value that a later duplicate
//!   would override: `json: cannot unmarshal number into Go struct field Config.default-runtime of type string`.
//! - Validation: `default-runtime` must name a configured runtime or a built-in one (`runc`,
//!   `io.containerd.runc.v2`, `io.containerd.runtime.v1.linux`): "specified default runtime 'nvidia' does not
//!   exist"; a runtime may not be called `runc`: "runtime name 'runc' is reserved". A runtime called like one of
//!   the other built-ins is accepted and silently shadowed by the built-in.
//! - An empty or whitespace-only file is refused (`EOF`) by 20.10 (Docker 23 and later accept it as `{}`).
//! - A top-level `null` is accepted as an empty configuration.

use super::daemon_scan::{self, line_col, Kind, Member, Node, ScanError};
use crate::error::{Coded, ErrorCode};

/// What dockerd sees in daemon.json.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DaemonJson {
    /// The file as read (BOM etc. included; bytes that are not UTF-8 replaced by U+FFFD).
    pub text: String,
    /// The runtimes dockerd registers from the file, in the order they first appear; each with its last entry.
    pub runtimes: Vec<(String, RuntimeEntry)>,
    /// `default-runtime` (None when absent or empty: dockerd then uses runc).
    pub default_runtime: Option<String>,
    /// `features.cdi` when written (Docker 25+ reads it; older daemons ignore it).
    pub features_cdi: Option<bool>,
    pub exec_opts: Vec<String>,
    /// From `exec-opts` `native.cgroupdriver=…` (the last one wins, as in dockerd).
    pub cgroup_driver: Option<String>,
    /// Values dockerd never sees because a later duplicate replaces them; dockerd (Go's encoding/json) keeps the
    /// LAST. Each names the dead occurrence's key, with its 1-based line and column.
    pub duplicate_keys: Vec<DuplicateKey>,
}

/// One `runtimes.<name>` entry as dockerd reads it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RuntimeEntry {
    pub path: String,
    /// From `runtimeArgs` — the key dockerd reads. An `"args"` key (what nvidia-ctk writes) is ignored by dockerd
    /// and so not here; see [`DaemonJson::ignored_args`].
    pub args: Vec<String>,
}

/// A key whose value is dead because a later duplicate replaces it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateKey {
    /// Dotted path of the key, e.g. `default-runtime` or `runtimes.nvidia`.
    pub path: String,
    pub line: usize,
    pub column: usize,
}

/// Why daemon.json could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DaemonJsonError {
    /// dockerd refuses to start with this file: `unable to configure the Docker daemon with file F: {reason}`.
    #[error("{file}:{line}:{column}: dockerd refuses to start with this daemon.json: {reason}")]
    Refused {
        file: String,
        line: usize,
        column: usize,
        /// dockerd's own words after "unable to configure the Docker daemon with file F: ".
        reason: String,
        /// The exact edit (or command) that fixes it.
        fix: String,
    },
    /// The file exists but cannot be read.
    #[error("cannot read {file}: {source}")]
    Read {
        file: String,
        #[source]
        source: std::io::Error,
    },
}

impl Coded for DaemonJsonError {
    fn code(&self) -> ErrorCode {
        match self {
            DaemonJsonError::Refused { .. } => ErrorCode::DaemonJsonRefused,
            DaemonJsonError::Read { source, .. } if source.kind() == std::io::ErrorKind::PermissionDenied => {
                ErrorCode::PermissionDenied
            }
            DaemonJsonError::Read { .. } => ErrorCode::DaemonJsonRead,
        }
    }

    fn hints(&self) -> Vec<String> {
        match self {
            DaemonJsonError::Refused { fix, .. } => vec![fix.clone()],
            DaemonJsonError::Read { source, .. } if source.kind() == std::io::ErrorKind::PermissionDenied => {
                vec!["run the command with sudo (daemon.json belongs to root)".to_string()]
            }
            DaemonJsonError::Read { .. } => Vec::new(),
        }
    }

    fn is_user_error(&self) -> bool {
        match self {
            DaemonJsonError::Refused { .. } => true,
            DaemonJsonError::Read { source, .. } => source.kind() == std::io::ErrorKind::PermissionDenied,
        }
    }
}

/// Runtimes every dockerd 20.10 has without configuration.
pub const BUILTIN_RUNTIMES: [&str; 3] = ["runc", "io.containerd.runc.v2", "io.containerd.runtime.v1.linux"];

/// Parses daemon.json bytes as dockerd 20.10 does (pure). `file` only names the file in errors.
pub fn parse_daemon_json(bytes: &[u8], file: &str) -> Result<DaemonJson, DaemonJsonError> {
    let analysis = analyze(bytes, file)?;
    match analysis.validation.into_iter().next() {
        Some(e) => Err(e),
        None => Ok(analysis.json),
    }
}

impl DaemonJson {
    /// The runtime registered under `name`, if any.
    pub fn runtime(&self, name: &str) -> Option<&RuntimeEntry> {
        self.runtimes.iter().find(|(n, _)| n == name).map(|(_, e)| e)
    }

    /// Runtimes whose entry has an `"args"` key with arguments in it: dockerd ignores `args` (it reads
    /// `runtimeArgs`), so those arguments are never passed. Each: (runtime name, the ignored arguments).
    pub fn ignored_args(&self) -> Vec<(String, Vec<String>)> {
        let Ok(root) = daemon_scan::scan(self.text.as_bytes()) else { return Vec::new() };
        let mut out = Vec::new();
        for m in root.members().unwrap_or_default().iter().filter(|m| m.key == "runtimes") {
            for rt in m.value.members().unwrap_or_default() {
                for f in rt.value.members().unwrap_or_default() {
                    if f.key == "args" {
                        if let Kind::Array(items) = &f.value.kind {
                            let args: Vec<String> = items.iter().filter_map(|i| i.as_str().map(str::to_string)).collect();
                            if !args.is_empty() {
                                out.push((rt.key.clone(), args));
                            }
                        }
                    }
                }
            }
        }
        out
    }

    /// One line per duplicate key: which value is dead and why.
    pub fn duplicate_warnings(&self, file: &str) -> Vec<String> {
        self.duplicate_keys
            .iter()
            .map(|d| {
                format!(
                    "{file}:{}:{}: `{}` is written again later in the same object; dockerd keeps the last value, so this one is ignored",
                    d.line, d.column, d.path
                )
            })
            .collect()
    }
}

/// The parse, the facts, and the validation errors dockerd would stop at (kept apart so that an edit that fixes
/// them, such as adding the runtime a `default-runtime` names, can still be planned).
pub(crate) struct Analysis {
    /// The first JSON value in the file (an object, or `null`).
    pub root: Node,
    pub json: DaemonJson,
    pub validation: Vec<DaemonJsonError>,
}

pub(crate) fn refused(bytes: &[u8], file: &str, offset: usize, reason: impl Into<String>, fix: impl Into<String>) -> DaemonJsonError {
    let (line, column) = line_col(bytes, offset);
    DaemonJsonError::Refused { file: file.to_string(), line, column, reason: reason.into(), fix: fix.into() }
}

const REPAIR: &str = "or run `devgpu host configure-docker --repair` to rewrite it as strict JSON after showing the diff";

/// The error for text Go's decoder stops at, with the fix for the common cases.
fn syntax_refusal(bytes: &[u8], file: &str, e: &ScanError) -> DaemonJsonError {
    let offset = e.offset(bytes.len());
    let (line, column) = line_col(bytes, offset);
    let at = format!("{file}:{line}:{column}");
    let fix = match e {
        ScanError::Eof => format!("write `{{}}` into {file} (an empty daemon.json is refused by Docker 20.10), or delete the file"),
        ScanError::UnexpectedEof { .. } => {
            let (l, c) = line_col(bytes, bytes.len());
            format!("the file ends at {file}:{l}:{c} inside the value opened at {at}: it looks truncated; restore it from a backup (`devgpu host undo` restores devgpu's newest one) or complete it")
        }
        ScanError::TooDeep { .. } => format!("flatten the value at {at}"),
        ScanError::Syntax { offset, byte, trailing_comma, .. } => {
            if *offset == 0 && bytes.starts_with(b"\xef\xbb\xbf") {
                format!("remove the UTF-8 byte order mark at the start of {file} (`sed -i '1s/^\\xEF\\xBB\\xBF//' {file}`), {REPAIR}")
            } else if let Some(comma) = trailing_comma {
                let (l, c) = line_col(bytes, *comma);
                format!("remove the trailing comma at {file}:{l}:{c} (JSON allows no comma before `{}`), {REPAIR}", *byte as char)
            } else if *byte == b'/' && matches!(bytes.get(offset + 1), Some(b'/' | b'*')) {
                format!("remove the comment at {at} (daemon.json is strict JSON: no comments), {REPAIR}")
            } else if *byte == b'\'' {
                format!("use double quotes (\") for the string at {at}")
            } else {
                format!("fix the JSON at {at}")
            }
        }
    };
    DaemonJsonError::Refused { file: file.to_string(), line, column, reason: e.go_message(), fix }
}

/// Go's case-insensitive field matching (`bytes.EqualFold` plus its special folds: `ſ` → s, Kelvin sign → k).
fn field_is(key: &str, field: &str) -> bool {
    let fold = |s: &str| -> String {
        s.chars()
            .map(|c| match c {
                '\u{17f}' => 's',
                '\u{212a}' => 'k',
                c => c.to_ascii_lowercase(),
            })
            .collect()
    };
    fold(key) == fold(field)
}

/// Walks the first value as dockerd 20.10 decodes it.
pub(crate) fn analyze(bytes: &[u8], file: &str) -> Result<Analysis, DaemonJsonError> {
    let root = daemon_scan::scan(bytes).map_err(|e| syntax_refusal(bytes, file, &e))?;
    let text = String::from_utf8_lossy(bytes).into_owned();
    let members: &[Member] = match &root.kind {
        Kind::Object(m) => m,
        Kind::Null => &[],
        _ => {
            return Err(refused(
                bytes,
                file,
                root.start,
                format!("json: cannot unmarshal {} into Go value of type map[string]interface {{}}", root.go_kind()),
                format!("daemon.json must be one JSON object: replace the {} at {file}:{}:{} with {{ … }}", root.go_kind(), line_col(bytes, root.start).0, line_col(bytes, root.start).1),
            ))
        }
    };
    check_numbers(bytes, file, &root)?;

    let type_error = |node: &Node, field: &str, go_type: &str, path: &str, expected: &str| {
        let (l, c) = line_col(bytes, node.start);
        refused(
            bytes,
            file,
            node.start,
            format!("json: cannot unmarshal {} into Go struct field {field} of type {go_type}", node.go_kind()),
            format!("`{path}` at {file}:{l}:{c} must be {expected}, not {}", a_kind(node)),
        )
    };

    let mut json = DaemonJson { text, ..Default::default() };
    let mut runtimes: Vec<(String, RuntimeEntry)> = Vec::new();
    let mut features: Vec<(String, bool)> = Vec::new();
    for m in members {
        match m.key.as_str() {
            "runtimes" => match &m.value.kind {
                Kind::Null => runtimes.clear(),
                Kind::Object(rts) => {
                    for rt in rts {
                        let path = format!("runtimes.{}", rt.key);
                        let mut entry = RuntimeEntry::default();
                        match &rt.value.kind {
                            Kind::Null => {}
                            Kind::Object(fields) => {
                                for f in fields {
                                    if field_is(&f.key, "path") {
                                        match &f.value.kind {
                                            Kind::String(s) => entry.path = s.clone(),
                                            Kind::Null => {}
                                            _ => return Err(type_error(&f.value, "Runtime.runtimes.path", "string", &format!("{path}.{}", f.key), "a string")),
                                        }
                                    } else if field_is(&f.key, "runtimeArgs") {
                                        match &f.value.kind {
                                            Kind::Null => entry.args.clear(),
                                            Kind::Array(items) => {
                                                entry.args.clear();
                                                for item in items {
                                                    match &item.kind {
                                                        Kind::String(s) => entry.args.push(s.clone()),
                                                        Kind::Null => entry.args.push(String::new()),
                                                        _ => return Err(type_error(item, "Runtime.runtimes.runtimeArgs", "string", &format!("{path}.{}", f.key), "a list of strings")),
                                                    }
                                                }
                                            }
                                            _ => return Err(type_error(&f.value, "Runtime.runtimes.runtimeArgs", "[]string", &format!("{path}.{}", f.key), "a list of strings")),
                                        }
                                    }
                                }
                            }
                            _ => return Err(type_error(&rt.value, "Config.runtimes", "types.Runtime", &path, "an object like {\"path\": \"…\"}")),
                        }
                        match runtimes.iter_mut().find(|(n, _)| *n == rt.key) {
                            Some(slot) => slot.1 = entry,
                            None => runtimes.push((rt.key.clone(), entry)),
                        }
                    }
                }
                _ => return Err(type_error(&m.value, "Config.runtimes", "map[string]types.Runtime", "runtimes", "an object of runtimes")),
            },
            "default-runtime" => match &m.value.kind {
                Kind::String(s) => json.default_runtime = Some(s.clone()),
                Kind::Null => {}
                _ => return Err(type_error(&m.value, "Config.default-runtime", "string", "default-runtime", "a string")),
            },
            "features" => match &m.value.kind {
                Kind::Null => features.clear(),
                Kind::Object(fs) => {
                    for f in fs {
                        let v = match &f.value.kind {
                            Kind::Bool(b) => *b,
                            Kind::Null => false,
                            _ => return Err(type_error(&f.value, "Config.features", "bool", &format!("features.{}", f.key), "true or false")),
                        };
                        match features.iter_mut().find(|(n, _)| *n == f.key) {
                            Some(slot) => slot.1 = v,
                            None => features.push((f.key.clone(), v)),
                        }
                    }
                }
                _ => return Err(type_error(&m.value, "Config.features", "map[string]bool", "features", "an object of true/false flags")),
            },
            "exec-opts" => match &m.value.kind {
                Kind::Null => json.exec_opts.clear(),
                Kind::Array(items) => {
                    json.exec_opts.clear();
                    for item in items {
                        match &item.kind {
                            Kind::String(s) => json.exec_opts.push(s.clone()),
                            Kind::Null => json.exec_opts.push(String::new()),
                            _ => return Err(type_error(item, "Config.exec-opts", "string", "exec-opts", "a list of strings")),
                        }
                    }
                }
                _ => return Err(type_error(&m.value, "Config.exec-opts", "[]string", "exec-opts", "a list of strings such as [\"native.cgroupdriver=systemd\"]")),
            },
            _ => {}
        }
    }
    json.default_runtime = json.default_runtime.filter(|d| !d.is_empty());
    json.features_cdi = features.iter().find(|(k, _)| k == "cdi").map(|(_, v)| *v);
    json.cgroup_driver = json
        .exec_opts
        .iter()
        .filter_map(|o| o.split_once('='))
        .filter(|(k, _)| k.trim().eq_ignore_ascii_case("native.cgroupdriver"))
        .map(|(_, v)| v.trim().to_string())
        .next_back();
    json.runtimes = runtimes;
    json.duplicate_keys = dead_values(bytes, members);

    let validation = validate(bytes, file, members, &json);
    Ok(Analysis { root, json, validation })
}

/// "a string", "a number", … for fixes.
fn a_kind(node: &Node) -> &'static str {
    match node.kind {
        Kind::Object(_) => "an object",
        Kind::Array(_) => "a list",
        Kind::String(_) => "a string",
        Kind::Number => "a number",
        Kind::Bool(_) => "true/false",
        Kind::Null => "null",
    }
}

/// Go decodes every value into `interface{}` first: a number beyond float64's range stops it.
fn check_numbers(bytes: &[u8], file: &str, root: &Node) -> Result<(), DaemonJsonError> {
    let mut pending = vec![root];
    while let Some(node) = pending.pop() {
        match &node.kind {
            Kind::Object(m) => pending.extend(m.iter().map(|m| &m.value)),
            Kind::Array(items) => pending.extend(items.iter()),
            Kind::Number => {
                let text = String::from_utf8_lossy(&bytes[node.start..node.end]);
                if text.parse::<f64>().map_or(true, |f| f.is_infinite()) {
                    let (l, c) = line_col(bytes, node.start);
                    return Err(refused(
                        bytes,
                        file,
                        node.start,
                        format!("json: cannot unmarshal number {text} into Go value of type float64"),
                        format!("the number at {file}:{l}:{c} is too large for dockerd: write a smaller one"),
                    ));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// dockerd's validation of the decoded configuration (what it refuses after the JSON itself was fine).
fn validate(bytes: &[u8], file: &str, members: &[Member], json: &DaemonJson) -> Vec<DaemonJsonError> {
    let mut out = Vec::new();
    let last = |key: &str| members.iter().rev().find(|m| m.key == key);
    if json.runtime("runc").is_some() {
        let at = members
            .iter()
            .filter(|m| m.key == "runtimes")
            .flat_map(|m| m.value.members().unwrap_or_default())
            .rfind(|r| r.key == "runc")
            .map_or(0, |r| r.key_start);
        let (l, c) = line_col(bytes, at);
        out.push(refused(
            bytes,
            file,
            at,
            "configuration validation from file failed: runtime name 'runc' is reserved",
            format!("rename or remove the runtime `runc` at {file}:{l}:{c} (runc is built in)"),
        ));
    }
    if let Some(d) = &json.default_runtime {
        if !BUILTIN_RUNTIMES.contains(&d.as_str()) && json.runtime(d).is_none() {
            let at = last("default-runtime").map_or(0, |m| m.value.start);
            let (l, c) = line_col(bytes, at);
            out.push(refused(
                bytes,
                file,
                at,
                format!("configuration validation from file failed: specified default runtime '{d}' does not exist"),
                format!("register the runtime `{d}` under \"runtimes\" (for nvidia: `devgpu host configure-docker`), or remove `default-runtime` at {file}:{l}:{c}"),
            ));
        }
    }
    out
}

/// Occurrences of duplicate keys whose value dockerd never uses (see the module docs for the rules).
fn dead_values(bytes: &[u8], top: &[Member]) -> Vec<DuplicateKey> {
    let mut dead: Vec<(usize, String)> = Vec::new();
    dead_in(top.iter().collect(), "", true, &mut dead);
    dead.sort_by_key(|(offset, _)| *offset);
    dead.into_iter()
        .map(|(offset, path)| {
            let (line, column) = line_col(bytes, offset);
            DuplicateKey { path, line, column }
        })
        .collect()
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// `members` of one object (or of several merged ones). `merge` is true at the top level, where Go decodes into
/// the struct's maps and structs and so merges two objects under the same key.
fn dead_in(members: Vec<&Member>, prefix: &str, merge: bool, dead: &mut Vec<(usize, String)>) {
    let mut keys: Vec<&str> = Vec::new();
    for m in &members {
        if !keys.contains(&m.key.as_str()) {
            keys.push(&m.key);
        }
    }
    for key in keys {
        let group: Vec<&Member> = members.iter().copied().filter(|m| m.key == key).collect();
        let path = join(prefix, key);
        // Which occurrences still count: a later null empties an object or list but leaves a scalar alone.
        let mut live: Vec<&Member> = Vec::new();
        for m in &group {
            match &m.value.kind {
                Kind::Null => {
                    if live.last().is_some_and(|l| matches!(l.value.kind, Kind::Object(_) | Kind::Array(_))) || live.is_empty() {
                        for l in live.drain(..) {
                            dead.push((l.key_start, path.clone()));
                        }
                        live.push(m);
                    } else {
                        dead.push((m.key_start, path.clone()));
                    }
                }
                Kind::Object(_) if merge && live.iter().all(|l| matches!(l.value.kind, Kind::Object(_))) => live.push(m),
                _ => {
                    for l in live.drain(..) {
                        dead.push((l.key_start, path.clone()));
                    }
                    live.push(m);
                }
            }
        }
        // Inside what is left: one object, or merged objects, looked into as one.
        let inner: Vec<&Member> = live.iter().flat_map(|l| l.value.members().unwrap_or_default()).collect();
        if !inner.is_empty() {
            dead_in(inner, &path, false, dead);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> DaemonJson {
        parse_daemon_json(text.as_bytes(), "daemon.json").unwrap_or_else(|e| panic!("{e}"))
    }

    fn refusal(text: &[u8]) -> (usize, usize, String, String) {
        match parse_daemon_json(text, "daemon.json").unwrap_err() {
            DaemonJsonError::Refused { line, column, reason, fix, .. } => (line, column, reason, fix),
            e => panic!("{e:?}"),
        }
    }

    #[test]
    fn facts() {
        let d = parse(
            r#"{"runtimes": {"nvidia": {"path": "nvidia-container-runtime", "args": []}, "runsc": {"path": "/usr/bin/runsc", "runtimeArgs": ["--platform=kvm"]}},
               "default-runtime": "nvidia", "features": {"buildkit": true, "cdi": true},
               "exec-opts": ["native.cgroupdriver=cgroupfs", " Native.CgroupDriver = systemd "]}"#,
        );
        assert_eq!(
            d.runtimes,
            vec![
                ("nvidia".into(), RuntimeEntry { path: "nvidia-container-runtime".into(), args: vec![] }),
                ("runsc".into(), RuntimeEntry { path: "/usr/bin/runsc".into(), args: vec!["--platform=kvm".into()] }),
            ]
        );
        assert_eq!(d.default_runtime.as_deref(), Some("nvidia"));
        assert_eq!(d.features_cdi, Some(true));
        assert_eq!(d.cgroup_driver.as_deref(), Some("systemd"));
        assert!(d.duplicate_keys.is_empty());
    }

    /// Seen on dockerd 20.10.24: `args` is ignored, field names fold case, `runtimeArgs` is what counts.
    #[test]
    fn runtime_fields_as_go_decodes_them() {
        let d = parse(r#"{"runtimes": {"a": {"path": "runc", "args": ["--x"]}, "b": {"Path": "runc", "RuntimeArgs": ["y"]}, "c": null}}"#);
        assert_eq!(d.runtime("a"), Some(&RuntimeEntry { path: "runc".into(), args: vec![] }));
        assert_eq!(d.runtime("b"), Some(&RuntimeEntry { path: "runc".into(), args: vec!["y".into()] }));
        assert_eq!(d.runtime("c"), Some(&RuntimeEntry::default()));
        assert_eq!(d.ignored_args(), vec![("a".to_string(), vec!["--x".to_string()])]);
    }

    /// Seen on dockerd 20.10.24: two `runtimes` objects are merged; a runtime name twice keeps its last entry;
    /// two `default-runtime`s keep the last.
    #[test]
    fn duplicates_as_dockerd_resolves_them() {
        let d = parse("{\"runtimes\": {\"a1\": {\"path\": \"runc\"}},\n \"runtimes\": {\"b2\": {\"path\": \"runc\"}}}");
        assert_eq!(d.runtimes.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["a1", "b2"]);
        assert!(d.duplicate_keys.is_empty(), "{:?}", d.duplicate_keys);

        let d = parse("{\"runtimes\": {\"nv\": {\"path\": \"runc\", \"runtimeArgs\": [\"--x\"]},\n  \"nv\": {\"path\": \"runc\"}}}");
        assert_eq!(d.runtime("nv"), Some(&RuntimeEntry { path: "runc".into(), args: vec![] }));
        assert_eq!(d.duplicate_keys, vec![DuplicateKey { path: "runtimes.nv".into(), line: 1, column: 15 }]);

        let d = parse("{\"default-runtime\": \"runc\",\n \"default-runtime\": \"nvidia\", \"runtimes\": {\"nvidia\": {\"path\": \"runc\"}}}");
        assert_eq!(d.default_runtime.as_deref(), Some("nvidia"));
        assert_eq!(d.duplicate_keys, vec![DuplicateKey { path: "default-runtime".into(), line: 1, column: 2 }]);
        assert_eq!(
            d.duplicate_warnings("f"),
            ["f:1:2: `default-runtime` is written again later in the same object; dockerd keeps the last value, so this one is ignored"]
        );

        let d = parse(r#"{"runtimes": {"a": {"path": "runc"}}, "runtimes": {"a": {"path": "x"}}, "default-runtime": "a", "default-runtime": null}"#);
        assert_eq!(d.runtime("a").unwrap().path, "x");
        assert_eq!(d.default_runtime.as_deref(), Some("a"));
        let dead: Vec<_> = d.duplicate_keys.iter().map(|k| (k.path.as_str(), k.column)).collect();
        assert_eq!(dead, [("runtimes.a", 15), ("default-runtime", 97)]);

        let d = parse(r#"{"exec-opts": ["native.cgroupdriver=cgroupfs"], "exec-opts": ["native.cgroupdriver=systemd"], "features": {"cdi": true}, "features": null}"#);
        assert_eq!(d.cgroup_driver.as_deref(), Some("systemd"));
        assert_eq!(d.features_cdi, None);
        assert_eq!(d.duplicate_keys.iter().map(|k| k.path.as_str()).collect::<Vec<_>>(), ["exec-opts", "features"]);
    }

    #[test]
    fn syntax_refusals_name_place_reason_and_fix() {
        let (l, c, reason, fix) = refusal(b"");
        assert_eq!((l, c, reason.as_str()), (1, 1, "EOF"));
        assert!(fix.contains("write `{}`"), "{fix}");
        let (l, c, reason, fix) = refusal(b"\xef\xbb\xbf{}");
        assert_eq!((l, c), (1, 1));
        assert_eq!(reason, "invalid character 'ï' looking for beginning of value");
        assert!(fix.contains("byte order mark") && fix.contains("--repair"), "{fix}");
        let (l, c, reason, fix) = refusal(b"{\n  \"default-runtime\": \"runc\",\n}\n");
        assert_eq!((l, c), (3, 1));
        assert_eq!(reason, "invalid character '}' looking for beginning of object key string");
        assert!(fix.starts_with("remove the trailing comma at daemon.json:2:28"), "{fix}");
        let (l, c, _, fix) = refusal(b"{\n  // x\n}");
        assert_eq!((l, c), (2, 3));
        assert!(fix.starts_with("remove the comment at daemon.json:2:3"), "{fix}");
        let (l, c, reason, fix) = refusal(b"{\n  \"debug\": false,\n  \"runtimes\": {\n    \"nvid");
        assert_eq!((l, c, reason.as_str()), (4, 5, "unexpected EOF"));
        assert!(fix.contains("daemon.json:4:10") && fix.contains("truncated"), "{fix}");
    }

    #[test]
    fn type_and_validation_refusals() {
        let (.., reason, _) = refusal(br#"{"default-runtime": 5}"#);
        assert_eq!(reason, "json: cannot unmarshal number into Go struct field Config.default-runtime of type string");
        let (.., reason, _) = refusal(br#"{"default-runtime": "runc", "default-runtime": 5}"#);
        assert_eq!(reason, "json: cannot unmarshal number into Go struct field Config.default-runtime of type string");
        let (.., reason, _) = refusal(br#"{"runtimes": []}"#);
        assert_eq!(reason, "json: cannot unmarshal array into Go struct field Config.runtimes of type map[string]types.Runtime");
        let (.., reason, _) = refusal(br#"{"runtimes": {"nv": {"path": 5}}}"#);
        assert_eq!(reason, "json: cannot unmarshal number into Go struct field Runtime.runtimes.path of type string");
        let (.., reason, _) = refusal(br#"{"runtimes": {"nv": {"path": "runc", "runtimeArgs": "x"}}}"#);
        assert_eq!(reason, "json: cannot unmarshal string into Go struct field Runtime.runtimes.runtimeArgs of type []string");
        let (.., reason, _) = refusal(br#"{"features": {"cdi": "yes"}}"#);
        assert_eq!(reason, "json: cannot unmarshal string into Go struct field Config.features of type bool");
        let (.., reason, _) = refusal(br#"{"exec-opts": "native.cgroupdriver=systemd"}"#);
        assert_eq!(reason, "json: cannot unmarshal string into Go struct field Config.exec-opts of type []string");
        let (.., reason, _) = refusal(br#"{"exec-opts": ["a", 5]}"#);
        assert_eq!(reason, "json: cannot unmarshal number into Go struct field Config.exec-opts of type string");
        let (.., reason, _) = refusal(b"[]");
        assert_eq!(reason, "json: cannot unmarshal array into Go value of type map[string]interface {}");
        let (.., reason, _) = refusal(br#"{"debug": 1e400}"#);
        assert_eq!(reason, "json: cannot unmarshal number 1e400 into Go value of type float64");
        let (l, c, reason, fix) = refusal(b"{\n \"default-runtime\": \"nvidia\"}");
        assert_eq!((l, c), (2, 21));
        assert_eq!(reason, "configuration validation from file failed: specified default runtime 'nvidia' does not exist");
        assert!(fix.contains("devgpu host configure-docker"), "{fix}");
        let (.., reason, _) = refusal(br#"{"runtimes": {"runc": {"path": "runc"}}}"#);
        assert_eq!(reason, "configuration validation from file failed: runtime name 'runc' is reserved");
    }

    #[test]
    fn accepted_oddities() {
        for text in ["null", "{} }", "{}{\"debug\": \"yes\"}", "{\"default-runtime\": \"io.containerd.runc.v2\"}", "{\"default-runtime\": \"\"}", "\n\n{ }\n\n"] {
            parse(text);
        }
        assert_eq!(parse_daemon_json(b"{\"labels\": [\"a=\xff\"]}", "f").unwrap().text, "{\"labels\": [\"a=\u{fffd}\"]}");
    }
}
