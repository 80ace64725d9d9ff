//! PURE: adding the GPU to a Docker Compose service by editing the YAML text, guided by the parsed tree.
//!
//! No Rust YAML crate writes YAML back with its comments (yaml-rust2 and serde_yaml drop them), so this is a
//! targeted text edit: yaml-rust2's parser gives every key and collection with its line and column, and new lines
//! are inserted after the last content line of the block they belong to — before comments that trail it (often
//! commented-out settings), with the block's own indentation and the file's line ending. Nothing else is touched:
//! comments, key order, quoting and blank lines stay as written, and adding again finds what was added and changes
//! nothing (byte-identical).
//!
//! What is added, per GPU mode (from the `runArgs` the mode would use, see [`crate::plan::gpu_mode`]):
//! - `--gpus …` → `deploy.resources.reservations.devices: [{driver: nvidia, count: all | N, device_ids, capabilities: [gpu]}]`;
//! - `--device nvidia.com/gpu=…` (CDI) and `--device /dev/…` (inject) → `devices:` entries;
//! - `--mount type=bind,…` (inject: the driver's files) → `volumes:` entries; `-e K=V` → `environment:`.
//!
//! Flow-style collections (`devices: [a, b]`) that need a new entry are refused with the place and the fix, rather
//! than rewritten.

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

use super::docker_run_args::{parse_run_args, GpuDeviceRequest, MountSpec};

/// What goes into the service.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ComposeGpu {
    pub reservation: Option<GpuDeviceRequest>,
    pub devices: Vec<String>,
    pub volumes: Vec<String>,
    pub environment: Vec<(String, String)>,
}

impl ComposeGpu {
    /// The compose form of a GPU mode's runArgs (`--gpus`, `--device`, `--mount`/`-v`, `-e`); other flags have no
    /// part in the GPU request and are ignored.
    pub fn from_run_args(args: &[String]) -> Result<ComposeGpu, String> {
        let r = parse_run_args(args).map_err(|e| e.to_string())?;
        let mut g = ComposeGpu { reservation: r.gpus.clone(), ..Default::default() };
        g.devices.extend(r.cdi_devices.iter().cloned());
        for d in &r.devices {
            let perms = (!d.permissions.is_empty() && d.permissions != "rwm").then(|| format!(":{}", d.permissions)).unwrap_or_default();
            g.devices.push(if d.host == d.container && perms.is_empty() { d.host.clone() } else { format!("{}:{}{perms}", d.host, d.container) });
        }
        g.volumes.extend(r.mounts.iter().filter(|m| m.kind == "bind").map(volume));
        g.volumes.extend(r.binds.iter().cloned());
        for e in &r.env {
            if let super::docker_run_args::EnvArg::Set(k, v) = e {
                g.environment.push((k.clone(), v.clone()));
            }
        }
        Ok(g)
    }
}

fn volume(m: &MountSpec) -> String {
    let mut s = format!("{}:{}", m.source.clone().unwrap_or_default(), m.target);
    if m.read_only {
        s.push_str(":ro");
    }
    s
}

/// Why the compose file cannot be edited (nothing was changed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComposeYamlError {
    #[error("{file}:{line}:{column}: not valid YAML: {message}")]
    Syntax { file: String, line: usize, column: usize, message: String },
    #[error("{file}: the service `{service}` is not under `services:`")]
    NoService { file: String, service: String },
    #[error("{file}:{line}:{column}: `{path}` is {found}; devgpu adds to block-style YAML only")]
    Unsupported { file: String, line: usize, column: usize, path: String, found: String },
}

impl ComposeYamlError {
    pub fn file(&self) -> &str {
        match self {
            ComposeYamlError::Syntax { file, .. } | ComposeYamlError::NoService { file, .. } | ComposeYamlError::Unsupported { file, .. } => file,
        }
    }
    pub fn position(&self) -> Option<(usize, usize)> {
        match self {
            ComposeYamlError::Syntax { line, column, .. } | ComposeYamlError::Unsupported { line, column, .. } => Some((*line, *column)),
            ComposeYamlError::NoService { .. } => None,
        }
    }
}

impl crate::error::Coded for ComposeYamlError {
    fn code(&self) -> crate::error::ErrorCode {
        match self {
            ComposeYamlError::Syntax { .. } => crate::error::ErrorCode::ComposeInvalidYaml,
            ComposeYamlError::NoService { .. } => crate::error::ErrorCode::ComposeServiceMissing,
            ComposeYamlError::Unsupported { .. } => crate::error::ErrorCode::ComposeUnsupportedYaml,
        }
    }
    fn hints(&self) -> Vec<String> {
        match self {
            ComposeYamlError::Syntax { .. } => vec!["fix the YAML at that place (`docker compose config` shows the same error)".into()],
            ComposeYamlError::NoService { service, .. } => {
                vec![format!("add the service `{service}` to the compose file, or fix `service` in devcontainer.json")]
            }
            ComposeYamlError::Unsupported { path, .. } => vec![format!("write `{path}` in block style (one `- item` or `key: value` a line), then run `devgpu init` again")],
        }
    }
    fn is_user_error(&self) -> bool {
        true
    }
}

#[derive(Debug, Clone)]
enum Kind {
    /// (key, key line, key column, value)
    Map(Vec<(String, usize, usize, Node)>),
    Seq(Vec<Node>),
    Scalar(String),
}

#[derive(Debug, Clone)]
struct Node {
    kind: Kind,
    /// 1-based line and 0-based column where the node starts.
    line: usize,
    col: usize,
    /// 1-based line of the event that ended it (the next token at a lower level).
    end_line: usize,
    flow: bool,
}

impl Node {
    fn get(&self, key: &str) -> Option<&(String, usize, usize, Node)> {
        match &self.kind {
            Kind::Map(m) => m.iter().rev().find(|(k, ..)| k == key),
            _ => None,
        }
    }
    fn is_null(&self) -> bool {
        matches!(&self.kind, Kind::Scalar(s) if s.is_empty() || s == "~" || s == "null")
    }
    fn scalars(&self) -> Vec<String> {
        match &self.kind {
            Kind::Seq(items) => items.iter().filter_map(|i| if let Kind::Scalar(s) = &i.kind { Some(s.clone()) } else { None }).collect(),
            _ => Vec::new(),
        }
    }
}

/// Builds the tree from parser events.
struct Builder<'a> {
    lines: &'a [&'a str],
    stack: Vec<Node>,
    pending_key: Vec<Option<(String, usize, usize)>>,
    root: Option<Node>,
}

impl Builder<'_> {
    fn char_at(&self, m: &Marker) -> Option<char> {
        self.lines.get(m.line().checked_sub(1)?).and_then(|l| l.chars().nth(m.col()))
    }

    fn push_value(&mut self, node: Node) {
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(parent) => match &mut parent.kind {
                Kind::Seq(items) => items.push(node),
                Kind::Map(entries) => {
                    let slot = self.pending_key.last_mut().expect("a map level");
                    match slot.take() {
                        None => {
                            // A key: only scalar keys matter here.
                            let key = if let Kind::Scalar(s) = &node.kind { s.clone() } else { String::new() };
                            *slot = Some((key, node.line, node.col));
                        }
                        Some((k, l, c)) => entries.push((k, l, c, node)),
                    }
                }
                Kind::Scalar(_) => {}
            },
        }
    }
}

impl MarkedEventReceiver for Builder<'_> {
    fn on_event(&mut self, ev: Event, m: Marker) {
        match ev {
            Event::Scalar(s, ..) => self.push_value(Node { kind: Kind::Scalar(s), line: m.line(), col: m.col(), end_line: m.line(), flow: false }),
            Event::Alias(_) => self.push_value(Node { kind: Kind::Scalar("*alias".into()), line: m.line(), col: m.col(), end_line: m.line(), flow: false }),
            Event::SequenceStart(..) => {
                let flow = self.char_at(&m) == Some('[');
                self.stack.push(Node { kind: Kind::Seq(Vec::new()), line: m.line(), col: m.col(), end_line: 0, flow });
            }
            Event::MappingStart(..) => {
                let flow = self.char_at(&m) == Some('{');
                self.stack.push(Node { kind: Kind::Map(Vec::new()), line: m.line(), col: m.col(), end_line: 0, flow });
                self.pending_key.push(None);
            }
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some(mut node) = self.stack.pop() {
                    if matches!(node.kind, Kind::Map(_)) {
                        self.pending_key.pop();
                        // A block map starts at its first key.
                        if let Kind::Map(entries) = &node.kind {
                            if let (false, Some((_, l, c, _))) = (node.flow, entries.first()) {
                                node.line = *l;
                                node.col = *c;
                            }
                        }
                    }
                    node.end_line = m.line();
                    self.push_value(node);
                }
            }
            _ => {}
        }
    }
}

fn parse(text: &str, file: &str) -> Result<Node, ComposeYamlError> {
    let lines: Vec<&str> = text.lines().collect();
    let mut b = Builder { lines: &lines, stack: Vec::new(), pending_key: Vec::new(), root: None };
    let mut p = Parser::new_from_str(text);
    p.load(&mut b, false).map_err(|e| ComposeYamlError::Syntax { file: file.into(), line: e.marker().line(), column: e.marker().col() + 1, message: e.info().to_string() })?;
    Ok(b.root.unwrap_or(Node { kind: Kind::Scalar(String::new()), line: 1, col: 0, end_line: 1, flow: false }))
}

/// An insertion: after 1-based line `after` (0 = at the top), these lines (without line endings).
type Insert = (usize, Vec<String>);

struct Editor<'a> {
    lines: Vec<&'a str>,
    file: &'a str,
    /// Indentation step of the file (the service key's column minus `services`').
    unit: usize,
}

impl Editor<'_> {
    fn unsupported(&self, n: &Node, path: &str, found: &str) -> ComposeYamlError {
        ComposeYamlError::Unsupported { file: self.file.into(), line: n.line, column: n.col + 1, path: path.into(), found: found.into() }
    }

    /// The last line of a block node that holds content (not blank, not a comment): new entries go after it,
    /// before the comments that trail the block.
    fn last_content_line(&self, n: &Node) -> usize {
        let end = n.end_line.min(self.lines.len() + 1);
        let mut l = end.saturating_sub(1).max(n.line);
        // The end event sits on the next token's line; when that token shares the line (flow, or end of file),
        // the node's own line is the bound.
        while l > n.line {
            let t = self.lines.get(l - 1).map(|s| s.trim()).unwrap_or("");
            if !t.is_empty() && !t.starts_with('#') {
                break;
            }
            l -= 1;
        }
        l
    }

    fn pad(n: usize) -> String {
        " ".repeat(n)
    }

    /// Ensures the block map `map` (whose keys sit at column `map.col`) holds `keys[0].keys[1]…` ending in a
    /// sequence with `item` (lines of one `- …` entry, relative indentation) unless `present` says it is there.
    fn ensure_seq_item(&self, map: &Node, path: &str, keys: &[&str], item: &[String], out: &mut Vec<Insert>) -> Result<(), ComposeYamlError> {
        let (key, rest) = keys.split_first().expect("a key");
        let here = if path.is_empty() { key.to_string() } else { format!("{path}.{key}") };
        match map.get(key) {
            None => {
                let mut lines = Vec::new();
                let mut indent = map.col;
                for k in keys {
                    lines.push(format!("{}{k}:", Self::pad(indent)));
                    indent += self.unit;
                }
                lines.extend(item.iter().map(|l| format!("{}{l}", Self::pad(indent))));
                out.push((self.last_content_line(map), lines));
            }
            Some((_, kl, kc, child)) if child.is_null() => {
                let mut lines = Vec::new();
                let mut indent = kc + self.unit;
                for k in rest {
                    lines.push(format!("{}{k}:", Self::pad(indent)));
                    indent += self.unit;
                }
                lines.extend(item.iter().map(|l| format!("{}{l}", Self::pad(indent))));
                out.push((*kl, lines));
            }
            Some((_, _, _, child)) if rest.is_empty() => match &child.kind {
                Kind::Seq(_) if child.flow => return Err(self.unsupported(child, &here, "a flow-style list ([…])")),
                Kind::Seq(_) => {
                    // New items line up with the existing dashes.
                    let dash = self.lines.get(child.line - 1).and_then(|l| l[..l.char_indices().nth(child.col).map(|(i, _)| i).unwrap_or(l.len())].rfind('-')).unwrap_or(child.col);
                    out.push((self.last_content_line(child), item.iter().map(|l| format!("{}{l}", Self::pad(dash))).collect()));
                }
                _ => return Err(self.unsupported(child, &here, "not a list")),
            },
            Some((_, _, _, child)) => match &child.kind {
                Kind::Map(_) if child.flow => return Err(self.unsupported(child, &here, "a flow-style mapping ({…})")),
                Kind::Map(_) => self.ensure_seq_item(child, &here, rest, item, out)?,
                _ => return Err(self.unsupported(child, &here, "not a mapping")),
            },
        }
        Ok(())
    }

    /// Ensures `environment` holds `k` (a mapping gets `K: "v"`, a list `- "K=v"`); a value already set is kept.
    fn ensure_env(&self, svc: &Node, service: &str, k: &str, v: &str, out: &mut Vec<Insert>) -> Result<(), ComposeYamlError> {
        let here = format!("services.{service}.environment");
        match svc.get("environment") {
            Some((_, _, _, env)) if !env.is_null() => match &env.kind {
                _ if env.flow => Err(self.unsupported(env, &here, "a flow-style collection")),
                Kind::Map(entries) => {
                    if !entries.iter().any(|(key, ..)| key == k) {
                        out.push((self.last_content_line(env), vec![format!("{}{k}: {}", Self::pad(env.col), quote(v))]));
                    }
                    Ok(())
                }
                Kind::Seq(_) => {
                    if !env.scalars().iter().any(|s| s.split('=').next() == Some(k)) {
                        self.ensure_seq_item(svc, &format!("services.{service}"), &["environment"], &[format!("- {}", quote(&format!("{k}={v}")))], out)?;
                    }
                    Ok(())
                }
                Kind::Scalar(_) => Err(self.unsupported(env, &here, "not a mapping or list")),
            },
            Some((_, kl, kc, _)) => {
                out.push((*kl, vec![format!("{}{k}: {}", Self::pad(kc + self.unit), quote(v))]));
                Ok(())
            }
            None => {
                out.push((self.last_content_line(svc), vec![format!("{}environment:", Self::pad(svc.col)), format!("{}{k}: {}", Self::pad(svc.col + self.unit), quote(v))]));
                Ok(())
            }
        }
    }
}

/// A YAML double-quoted scalar (JSON string syntax is valid YAML).
fn quote(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// The service's GPU reservations (`deploy.resources.reservations.devices` entries with the `gpu` capability).
fn reserves_gpu(svc: &Node) -> bool {
    let Some((_, _, _, deploy)) = svc.get("deploy") else { return false };
    let devices = deploy.get("resources").and_then(|r| r.3.get("reservations")).and_then(|r| r.3.get("devices"));
    let Some((_, _, _, devices)) = devices else { return false };
    let Kind::Seq(items) = &devices.kind else { return false };
    items.iter().any(|d| d.get("capabilities").is_some_and(|c| c.3.scalars().iter().any(|c| c == "gpu")))
}

/// The result of an edit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComposeEdit {
    pub text: String,
    /// What was added, for the user.
    pub changes: Vec<String>,
    /// What was already there.
    pub notes: Vec<String>,
}

/// Adds `gpu` to the service `service` of the compose file `text` (`file` names it in errors and notes).
pub fn add_gpu(text: &str, file: &str, service: &str, gpu: &ComposeGpu) -> Result<ComposeEdit, ComposeYamlError> {
    let root = parse(text, file)?;
    let no_service = || ComposeYamlError::NoService { file: file.into(), service: service.into() };
    let (_, _, services_col, services) = root.get("services").ok_or_else(no_service)?;
    let (_, sl, sc, svc) = services.get(service).ok_or_else(no_service)?;
    let svc_path = format!("services.{service}");
    if svc.flow {
        return Err(ComposeYamlError::Unsupported { file: file.into(), line: svc.line, column: svc.col + 1, path: svc_path, found: "a flow-style mapping ({…})".into() });
    }
    if !matches!(svc.kind, Kind::Map(_)) {
        return Err(ComposeYamlError::Unsupported { file: file.into(), line: *sl, column: sc + 1, path: svc_path, found: "not a mapping".into() });
    }
    let unit = sc.saturating_sub(*services_col).max(2);
    let ed = Editor { lines: text.lines().collect(), file, unit };
    let mut inserts: Vec<Insert> = Vec::new();
    let mut changes = Vec::new();
    let mut notes = Vec::new();

    if let Some(req) = &gpu.reservation {
        if reserves_gpu(svc) {
            notes.push(format!("kept the GPU reservation of `{service}` in {file}"));
        } else {
            let mut item = vec!["- driver: nvidia".to_string()];
            if !req.device_ids.is_empty() {
                item.push(format!("  device_ids: [{}]", req.device_ids.iter().map(|d| quote(d)).collect::<Vec<_>>().join(", ")));
            } else if req.count < 0 {
                item.push("  count: all".into());
            } else {
                item.push(format!("  count: {}", req.count));
            }
            let caps: Vec<String> = req.capabilities.iter().flatten().cloned().collect();
            item.push(format!("  capabilities: [{}]", caps.join(", ")));
            ed.ensure_seq_item(svc, &svc_path, &["deploy", "resources", "reservations", "devices"], &item, &mut inserts)?;
            changes.push(format!("added a GPU reservation (driver: nvidia, {}) to `{service}`", req.describe()));
        }
    }
    let cdi_present = svc.get("devices").is_some_and(|d| d.3.scalars().iter().any(|s| s.starts_with("nvidia.com/gpu=")));
    for (key, wanted) in [("devices", &gpu.devices), ("volumes", &gpu.volumes)] {
        let existing = svc.get(key).map(|d| d.3.scalars()).unwrap_or_default();
        let mut missing: Vec<&String> = wanted.iter().filter(|w| !existing.contains(w)).collect();
        if key == "devices" && cdi_present {
            // One CDI GPU request is enough: a second name would hand the GPUs in twice.
            let before = missing.len();
            missing.retain(|d| !d.starts_with("nvidia.com/gpu="));
            if missing.len() < before {
                notes.push(format!("kept the CDI GPU device of `{service}` in {file}"));
            }
        }
        if missing.is_empty() {
            continue;
        }
        // All new items of one list go in one insertion (after the list's last item, in order).
        let item: Vec<String> = missing.iter().map(|m| format!("- {}", quote(m))).collect();
        ed.ensure_seq_item(svc, &svc_path, &[key], &item, &mut inserts)?;
        changes.push(format!("added {} to `{service}`.{key}", missing.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(", ")));
    }
    for (k, v) in &gpu.environment {
        let before = inserts.len();
        ed.ensure_env(svc, service, k, v, &mut inserts)?;
        if inserts.len() > before {
            changes.push(format!("added {k} to `{service}`.environment"));
        }
    }

    if inserts.is_empty() {
        return Ok(ComposeEdit { text: text.to_string(), changes, notes });
    }
    Ok(ComposeEdit { text: apply(text, inserts), changes, notes })
}

/// Applies the insertions with the file's own line ending.
fn apply(text: &str, mut inserts: Vec<Insert>) -> String {
    let nl = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_string).collect();
    if let Some(last) = lines.last_mut() {
        if !last.ends_with('\n') {
            last.push_str(nl);
        }
    }
    // At one line, additions to a deeper, existing block (its last item is that line) come before new keys of the
    // enclosing block; otherwise the order they were made in.
    let indent = |v: &[String]| v.first().map(|l| l.len() - l.trim_start().len()).unwrap_or(0);
    inserts.sort_by_key(|(after, v)| (*after, std::cmp::Reverse(indent(v))));
    // Insert from the bottom so earlier line numbers stay valid; equal lines keep their order.
    let mut grouped: Vec<(usize, Vec<String>)> = Vec::new();
    for (after, new) in inserts {
        match grouped.last_mut() {
            Some((a, v)) if *a == after => v.extend(new),
            _ => grouped.push((after, new)),
        }
    }
    for (after, new) in grouped.into_iter().rev() {
        let at = after.min(lines.len());
        for (i, l) in new.into_iter().enumerate() {
            lines.insert(at + i, format!("{l}{nl}"));
        }
    }
    let mut out: String = lines.concat();
    if !text.ends_with('\n') && !text.is_empty() {
        out.truncate(out.len() - nl.len());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toolkit() -> ComposeGpu {
        ComposeGpu::from_run_args(&["--gpus".into(), "all".into()]).unwrap()
    }

    const TEMPLATE: &str = "version: '3.8'\n\n# The dev container.\nservices:\n  app:\n    build:\n      context: ..\n      dockerfile: .devcontainer/Dockerfile\n\n    volumes:\n      - ../..:/workspaces:cached  # the sources\n\n    # Overrides default command so things don't shut down after the process ends.\n    command: sleep infinity\n\n    # Use \"forwardPorts\" in **devcontainer.json** to forward an app port locally.\n    # (Adding the \"ports\" property to this file will not forward from a Codespace.)\n\n  db:\n    image: postgres:latest\n    restart: unless-stopped\n";

    fn added(before: &str, after: &str) -> Vec<String> {
        let b: Vec<&str> = before.lines().collect();
        let diff = similar::TextDiff::from_slices(&b, &after.lines().collect::<Vec<_>>());
        let mut out = Vec::new();
        for c in diff.iter_all_changes() {
            match c.tag() {
                similar::ChangeTag::Insert => out.push(c.value().to_string()),
                similar::ChangeTag::Delete => panic!("a line was removed: {:?}", c.value()),
                similar::ChangeTag::Equal => {}
            }
        }
        out
    }

    #[test]
    fn toolkit_reservation_keeps_comments_and_is_idempotent() {
        let e = add_gpu(TEMPLATE, "docker-compose.yml", "app", &toolkit()).unwrap();
        assert_eq!(
            added(TEMPLATE, &e.text),
            ["    deploy:", "      resources:", "        reservations:", "          devices:", "            - driver: nvidia", "              count: all", "              capabilities: [gpu]"]
        );
        // After the last setting, before the trailing comments; the db service untouched.
        let at = e.text.find("    deploy:").unwrap();
        assert!(e.text[..at].ends_with("    command: sleep infinity\n"), "{}", e.text);
        assert!(e.text[at..].contains("    # Use \"forwardPorts\""));
        let v = crate::text::yaml_to_json(&e.text).unwrap();
        let dev = &v["services"]["app"]["deploy"]["resources"]["reservations"]["devices"][0];
        assert_eq!((dev["driver"].as_str(), dev["count"].as_str(), dev["capabilities"][0].as_str()), (Some("nvidia"), Some("all"), Some("gpu")));
        assert_eq!(v["services"]["db"]["image"], "postgres:latest");
        assert_eq!(e.changes.len(), 1);
        // Again: byte-identical, nothing to do.
        let again = add_gpu(&e.text, "docker-compose.yml", "app", &toolkit()).unwrap();
        assert_eq!(again.text, e.text);
        assert!(again.changes.is_empty());
        assert_eq!(again.notes.len(), 1);
    }

    #[test]
    fn into_existing_blocks_lists_and_crlf() {
        let text = "services:\n    app:\n        image: x\n        deploy:\n            resources:\n                limits:\n                    memory: 8g\n        devices:\n        - /dev/fuse   # fuse\n        environment:\n            A: \"1\"\n# end\n";
        let gpu = ComposeGpu::from_run_args(&["--gpus".into(), "2".into(), "--device".into(), "/dev/nvidia0".into(), "-e".into(), "LD_LIBRARY_PATH=/usr/local/nvidia/lib64".into()]).unwrap();
        let e = add_gpu(text, "c.yml", "app", &gpu).unwrap();
        assert_eq!(
            added(text, &e.text),
            [
                "                reservations:",
                "                    devices:",
                "                        - driver: nvidia",
                "                          count: 2",
                "                          capabilities: [gpu]",
                "        - \"/dev/nvidia0\"",
                "            LD_LIBRARY_PATH: \"/usr/local/nvidia/lib64\"",
            ]
        );
        let v = crate::text::yaml_to_json(&e.text).unwrap();
        assert_eq!(v["services"]["app"]["devices"], serde_json::json!(["/dev/fuse", "/dev/nvidia0"]));
        assert_eq!(v["services"]["app"]["deploy"]["resources"]["limits"]["memory"], "8g");
        assert_eq!(v["services"]["app"]["environment"]["A"], "1");
        assert_eq!(add_gpu(&e.text, "c.yml", "app", &gpu).unwrap().text, e.text);

        let crlf = TEMPLATE.replace('\n', "\r\n");
        let e = add_gpu(&crlf, "c.yml", "app", &toolkit()).unwrap();
        assert!(!e.text.replace("\r\n", "").contains('\n'), "CRLF kept everywhere");
        assert_eq!(e.text.replace("\r\n", "\n"), add_gpu(TEMPLATE, "c.yml", "app", &toolkit()).unwrap().text);
    }

    #[test]
    fn cdi_and_inject_modes() {
        let cdi = ComposeGpu::from_run_args(&["--device".into(), "nvidia.com/gpu=all".into()]).unwrap();
        let e = add_gpu("services:\n  app:\n    image: x\n", "c.yml", "app", &cdi).unwrap();
        assert_eq!(e.text, "services:\n  app:\n    image: x\n    devices:\n      - \"nvidia.com/gpu=all\"\n");
        let other = ComposeGpu::from_run_args(&["--device".into(), "nvidia.com/gpu=0".into()]).unwrap();
        assert_eq!(add_gpu(&e.text, "c.yml", "app", &other).unwrap().text, e.text, "one CDI GPU request is enough");

        let inject = ComposeGpu::from_run_args(&[
            "--device".into(),
            "/dev/nvidiactl".into(),
            "--mount".into(),
            "type=bind,source=/usr/lib/nvidia,target=/usr/local/nvidia,readonly".into(),
            "-e".into(),
            "LD_LIBRARY_PATH=/usr/local/nvidia/lib64".into(),
        ])
        .unwrap();
        let text = "services:\n  app:\n    image: x\n    environment:\n      - A=1\n  other:\n    image: y\n";
        let e = add_gpu(text, "c.yml", "app", &inject).unwrap();
        let v = crate::text::yaml_to_json(&e.text).unwrap();
        assert_eq!(v["services"]["app"]["devices"], serde_json::json!(["/dev/nvidiactl"]));
        assert_eq!(v["services"]["app"]["volumes"], serde_json::json!(["/usr/lib/nvidia:/usr/local/nvidia:ro"]));
        assert_eq!(v["services"]["app"]["environment"], serde_json::json!(["A=1", "LD_LIBRARY_PATH=/usr/local/nvidia/lib64"]));
        assert_eq!(v["services"]["other"]["image"], "y");
        assert_eq!(add_gpu(&e.text, "c.yml", "app", &inject).unwrap().text, e.text);
    }

    #[test]
    fn errors_name_the_place() {
        match add_gpu("services:\n  app:\n    image: [x\n", "c.yml", "app", &toolkit()).unwrap_err() {
            ComposeYamlError::Syntax { line, file, .. } => assert_eq!((file.as_str(), line > 0), ("c.yml", true)),
            other => panic!("{other:?}"),
        }
        assert!(matches!(add_gpu("services:\n  web:\n    image: x\n", "c.yml", "app", &toolkit()), Err(ComposeYamlError::NoService { .. })));
        assert!(matches!(add_gpu("version: '3'\n", "c.yml", "app", &toolkit()), Err(ComposeYamlError::NoService { .. })));
        let cdi = ComposeGpu::from_run_args(&["--device".into(), "nvidia.com/gpu=all".into()]).unwrap();
        match add_gpu("services:\n  app:\n    image: x\n    devices: [/dev/fuse]\n", "c.yml", "app", &cdi).unwrap_err() {
            ComposeYamlError::Unsupported { line, path, .. } => assert_eq!((line, path.as_str()), (4, "services.app.devices")),
            other => panic!("{other:?}"),
        }
        assert!(matches!(add_gpu("services:\n  app: {image: x}\n", "c.yml", "app", &toolkit()), Err(ComposeYamlError::Unsupported { .. })));
    }

    #[test]
    fn empty_keys_and_no_trailing_newline() {
        let e = add_gpu("services:\n  app:\n    image: x\n    deploy:\n", "c.yml", "app", &toolkit()).unwrap();
        let v = crate::text::yaml_to_json(&e.text).unwrap();
        assert_eq!(v["services"]["app"]["deploy"]["resources"]["reservations"]["devices"][0]["driver"], "nvidia");
        let e = add_gpu("services:\n  app:\n    image: x", "c.yml", "app", &toolkit()).unwrap();
        assert!(e.text.starts_with("services:\n  app:\n    image: x\n    deploy:\n") && !e.text.ends_with('\n'), "{:?}", e.text);
    }
}
