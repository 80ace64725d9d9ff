//! PURE: the edit `devgpu host configure-docker` makes to daemon.json — register the `nvidia` runtime, optionally
//! make it the default and enable CDI — as a change to the file's text, not a re-serialisation: every other key,
//! its order, the indentation, the line endings and the spacing stay byte-for-byte, and planning the result again
//! changes nothing.
//!
//! Where things go, following dockerd's own reading of the file (see `host::daemon_json`):
//! - `runtimes.nvidia` goes into the last `runtimes` object (dockerd merges duplicate `runtimes` objects; the
//!   last one is always live). An existing `nvidia` entry is never changed: a different path or arguments are
//!   reported, not overwritten.
//! - `default-runtime` replaces the value of the last string-valued `default-runtime` (the one dockerd uses).
//! - `features.cdi` is set in the last `features` object, other feature flags kept.
//! - New top-level keys are appended after the last one, indented like the file's first key; in a file written
//!   on one line they are added on that line.
//! - Text after the JSON object (which Docker 20.10 ignores but Docker 23 and later refuse) is removed.
//!
//! `{"path": "nvidia-container-runtime", "args": []}` is what `nvidia-ctk runtime configure` writes; dockerd reads
//! arguments from `runtimeArgs` and ignores `args`, which is harmless while empty and keeps the entry identical to
//! the one nvidia-ctk would write (so neither tool changes the other's work).

use crate::model::daemon_json::{analyze, Analysis, DaemonJsonError, RuntimeEntry};
use crate::model::daemon_scan::{line_col, Kind, Member, Node};
use serde::Serialize;
use serde_json::{json, Value};

/// The runtime name devgpu registers.
pub const RUNTIME_NAME: &str = "nvidia";
/// The runtime binary NVIDIA's toolkit installs (found on dockerd's PATH).
pub const DEFAULT_RUNTIME_PATH: &str = "nvidia-container-runtime";

/// What the user asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaemonRequest {
    pub runtime_path: String,
    pub set_default: bool,
    pub cdi: bool,
    /// Rewrite a file dockerd refuses (comments, trailing commas, a byte order mark) as strict JSON.
    pub repair: bool,
}

impl Default for DaemonRequest {
    fn default() -> Self {
        DaemonRequest { runtime_path: DEFAULT_RUNTIME_PATH.to_string(), set_default: false, cdi: false, repair: false }
    }
}

/// The planned file and what changed, for the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DaemonPlan {
    /// The bytes to write (equal to the input when nothing changes).
    #[serde(skip)]
    pub new: Vec<u8>,
    pub changed: bool,
    /// What the edit does, one line each.
    pub changes: Vec<String>,
    /// What was found and kept (an existing nvidia entry with other settings, another default runtime).
    pub notes: Vec<String>,
    /// Dead duplicate values, arguments dockerd ignores.
    pub warnings: Vec<String>,
    /// What `--repair` removed to make the file strict JSON (empty when it was not needed).
    pub repairs: Vec<String>,
    /// The default runtime before the edit (None: runc).
    pub previous_default: Option<String>,
    /// The `nvidia` entry that was already there, if any.
    pub existing_runtime: Option<RuntimeEntryView>,
    /// Why the edit must not be written: `default-runtime` would name an nvidia runtime whose binary is not
    /// installed. Every container would then fail to start, and when the entry has `runtimeArgs` dockerd 20.10
    /// does not start at all ("couldn't create plugin manager: error while looking up the specified runtime
    /// path", seen on 20.10.24). The command refuses to write it (a dry run shows it as a warning).
    pub blocker: Option<String>,
}

/// A runtime entry for the JSON report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuntimeEntryView {
    pub path: String,
    #[serde(rename = "runtimeArgs")]
    pub args: Vec<String>,
}

impl From<&RuntimeEntry> for RuntimeEntryView {
    fn from(e: &RuntimeEntry) -> Self {
        RuntimeEntryView { path: e.path.clone(), args: e.args.clone() }
    }
}

/// Plans the edit of daemon.json. `existing` is the file's bytes, `None` when it does not exist; `file` names it
/// in errors and notes. A missing, empty or whitespace-only file is treated as `{}`. A file dockerd refuses is an
/// error (nothing to write) unless `request.repair` and the refusal is one repair can fix. `installed` says
/// whether a runtime path names an executable on this host (as dockerd would find it); the caller looks.
pub fn plan_daemon_json(
    existing: Option<&[u8]>,
    file: &str,
    request: &DaemonRequest,
    installed: &dyn Fn(&str) -> bool,
) -> Result<DaemonPlan, DaemonJsonError> {
    let original = existing.unwrap_or_default();
    let mut changes = Vec::new();
    let mut repairs = Vec::new();
    let is_blank = original.iter().all(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n'));
    let mut base: Vec<u8> = original.to_vec();
    if existing.is_some() && is_blank {
        changes.push(format!("{file} was empty (Docker 20.10 refuses to start on an empty daemon.json): wrote a new configuration"));
    }
    let analysis = if is_blank {
        None
    } else {
        match analyze(original, file) {
            Ok(a) => Some(a),
            Err(e @ DaemonJsonError::Refused { .. }) if request.repair => {
                let (repaired, what) = repair_daemon_json(original);
                if repaired.iter().all(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n')) {
                    repairs = what;
                    base = repaired;
                    None
                } else {
                    match analyze(&repaired, file) {
                        Ok(a) if !what.is_empty() => {
                            repairs = what;
                            base = repaired;
                            Some(a)
                        }
                        _ => return Err(not_repairable(e)),
                    }
                }
            }
            Err(e) => return Err(e),
        }
    };

    let style = Style::detect(&base, analysis.as_ref().map(|a| &a.root));
    let mut plan = DaemonPlan {
        new: Vec::new(),
        changed: false,
        changes,
        notes: Vec::new(),
        warnings: Vec::new(),
        repairs,
        previous_default: None,
        existing_runtime: None,
        blocker: None,
    };
    let entry = json!({"path": request.runtime_path, "args": []});

    let mut edits: Vec<Edit> = Vec::new();
    match &analysis {
        // No file, an empty one, or `null`: a new object with what was asked for.
        None => {
            let members = new_members(request, &entry, &mut plan);
            let text = render_object(&members, "", &style);
            edits.push(Edit { start: 0, end: base.len(), text: format!("{text}{}", style.nl) });
        }
        Some(a) if a.root.is_null() => {
            let members = new_members(request, &entry, &mut plan);
            plan.changes.insert(0, format!("{file} held `null`: replaced it with an object"));
            edits.push(Edit { start: a.root.start, end: a.root.end, text: render_object(&members, &indent_of_line(&base, a.root.start), &style) });
        }
        Some(a) => plan_edits(&base, file, a, request, &entry, &style, &mut plan, &mut edits),
    }

    let mut new = apply(&base, edits);
    // What follows the JSON value: dockerd 20.10 never reads it, Docker 23+ (json.Unmarshal) refuses it.
    if let Ok(root) = crate::model::daemon_scan::scan(&new) {
        let rest = &new[root.end..];
        if let Some(p) = rest.iter().position(|c| !matches!(c, b' ' | b'\t' | b'\r' | b'\n')) {
            let at = root.end + p;
            // Report it where it was in the file as read (the edits above never touch the text after the value).
            let original_at = base.len() - (new.len() - at);
            let (l, c) = line_col(&base, original_at);
            plan.changes.push(format!(
                "removed the text after the JSON object at {file}:{l}:{c} (Docker 20.10 ignores it; Docker 23 and later refuse to start on it)"
            ));
            let ends_with_newline = new.ends_with(b"\n");
            new.truncate(root.end);
            if ends_with_newline {
                new.extend_from_slice(style.nl.as_bytes());
            }
        }
    }

    // The result must be a file dockerd starts with, with what was asked for in effect.
    let after = match analyze(&new, file) {
        Ok(a) => a,
        Err(e) => return Err(DaemonJsonError::Refused {
            file: file.to_string(),
            line: 1,
            column: 1,
            reason: format!("internal error: the edited file would not parse ({e})"),
            fix: "please report this with the file attached".to_string(),
        }),
    };
    if let Some(e) = after.validation.into_iter().next() {
        // A problem the edit does not fix (e.g. a runtime named `runc`): report it where it is in the file as read.
        let same = analysis.as_ref().and_then(|a| a.validation.iter().find(|o| reason_of(o) == reason_of(&e)).cloned_refusal());
        return Err(same.unwrap_or(e));
    }
    debug_assert!(after.json.runtime(RUNTIME_NAME).is_some());
    debug_assert!(!request.set_default || after.json.default_runtime.as_deref() == Some(RUNTIME_NAME));
    debug_assert!(!request.cdi || after.json.features_cdi == Some(true));

    plan.changed = new != original;
    if !plan.changed {
        plan.changes.clear();
    }
    if let Some(rt) = after.json.runtime(RUNTIME_NAME) {
        if !installed(&rt.path) {
            let is_default = after.json.default_runtime.as_deref() == Some(RUNTIME_NAME);
            let what = format!("the nvidia runtime's binary {:?} is not installed on this host", rt.path);
            if is_default && plan.changed {
                plan.blocker = Some(format!(
                    "{what}: with default-runtime \"nvidia\" every container would fail to start{}",
                    if rt.args.is_empty() { "" } else { ", and dockerd itself refuses to start (the entry has runtimeArgs)" }
                ));
            } else if is_default {
                plan.warnings.push(format!("{what}, and it is the default runtime: containers fail to start until the NVIDIA Container Toolkit is installed (`devgpu host install-toolkit`)"));
            } else {
                plan.warnings.push(format!("{what} yet: `docker run --runtime nvidia` fails until the NVIDIA Container Toolkit is installed (`devgpu host install-toolkit`)"));
            }
        }
    }
    plan.new = new;
    Ok(plan)
}

fn reason_of(e: &DaemonJsonError) -> Option<&str> {
    match e {
        DaemonJsonError::Refused { reason, .. } => Some(reason),
        _ => None,
    }
}

trait ClonedRefusal {
    fn cloned_refusal(self) -> Option<DaemonJsonError>;
}

impl ClonedRefusal for Option<&DaemonJsonError> {
    fn cloned_refusal(self) -> Option<DaemonJsonError> {
        match self? {
            DaemonJsonError::Refused { file, line, column, reason, fix } => Some(DaemonJsonError::Refused {
                file: file.clone(),
                line: *line,
                column: *column,
                reason: reason.clone(),
                fix: fix.clone(),
            }),
            _ => None,
        }
    }
}

/// The refusal, with a fix that says what `--repair` could not do.
fn not_repairable(e: DaemonJsonError) -> DaemonJsonError {
    match e {
        DaemonJsonError::Refused { file, line, column, reason, fix } => {
            let fix = fix.replace(", or run `devgpu host configure-docker --repair` to rewrite it as strict JSON after showing the diff", "");
            DaemonJsonError::Refused {
                file,
                line,
                column,
                reason,
                fix: format!("{fix} (--repair only removes comments, trailing commas and a byte order mark; this needs a hand edit)"),
            }
        }
        other => other,
    }
}

/// The top-level members to write into a new file.
fn new_members(request: &DaemonRequest, entry: &Value, plan: &mut DaemonPlan) -> Vec<(String, Value)> {
    let mut members = vec![("runtimes".to_string(), json!({ RUNTIME_NAME: entry }))];
    plan.changes.push(format!("registered runtime `{RUNTIME_NAME}` → {}", request.runtime_path));
    if request.set_default {
        members.push(("default-runtime".to_string(), json!(RUNTIME_NAME)));
        plan.changes.push(format!("set default-runtime to \"{RUNTIME_NAME}\" (was runc)"));
    }
    if request.cdi {
        members.push(("features".to_string(), json!({"cdi": true})));
        plan.changes.push("enabled CDI (features.cdi = true)".to_string());
    }
    members
}

#[allow(clippy::too_many_arguments)]
fn plan_edits(
    b: &[u8],
    file: &str,
    a: &Analysis,
    request: &DaemonRequest,
    entry: &Value,
    style: &Style,
    plan: &mut DaemonPlan,
    edits: &mut Vec<Edit>,
) {
    let root = &a.root;
    let top = root.members().unwrap_or_default();
    let last = |key: &str| top.iter().rev().find(|m| m.key == key);
    let at = |offset: usize| {
        let (l, c) = line_col(b, offset);
        format!("{file}:{l}:{c}")
    };
    let mut appended: Vec<(String, Value)> = Vec::new();

    plan.warnings.extend(a.json.duplicate_warnings(file));
    for (name, args) in a.json.ignored_args() {
        plan.warnings.push(format!(
            "runtime `{name}` has \"args\": {:?}, which dockerd ignores (it reads \"runtimeArgs\"): those arguments are not passed",
            args
        ));
    }

    // runtimes.nvidia
    match a.json.runtime(RUNTIME_NAME) {
        Some(existing) => {
            plan.existing_runtime = Some(existing.into());
            let entry_at = top
                .iter()
                .filter(|m| m.key == "runtimes")
                .flat_map(|m| m.value.members().unwrap_or_default())
                .rfind(|r| r.key == RUNTIME_NAME)
                .map(|r| at(r.key_start))
                .unwrap_or_else(|| file.to_string());
            if existing.path != request.runtime_path || !existing.args.is_empty() {
                plan.notes.push(format!(
                    "runtime `{RUNTIME_NAME}` is already registered at {entry_at} with path {:?}{}; kept as it is (devgpu does not overwrite it: edit it there to use {:?})",
                    existing.path,
                    if existing.args.is_empty() { String::new() } else { format!(" and runtimeArgs {:?}", existing.args) },
                    request.runtime_path
                ));
            }
        }
        None => {
            plan.changes.push(format!("registered runtime `{RUNTIME_NAME}` → {}", request.runtime_path));
            match last("runtimes") {
                None => appended.push(("runtimes".to_string(), json!({ RUNTIME_NAME: entry }))),
                Some(m) if m.value.is_null() => edits.push(Edit {
                    start: m.value.start,
                    end: m.value.end,
                    text: render_object(&[(RUNTIME_NAME.to_string(), entry.clone())], &indent_of_line(b, m.key_start), style),
                }),
                Some(m) => edits.push(insert_members(b, &m.value, &[(RUNTIME_NAME.to_string(), entry.clone())], style)),
            }
        }
    }

    // default-runtime
    plan.previous_default = a.json.default_runtime.clone();
    let current = a.json.default_runtime.as_deref();
    if request.set_default {
        if current != Some(RUNTIME_NAME) {
            plan.changes.push(format!("set default-runtime to \"{RUNTIME_NAME}\" (was {})", current.map_or("runc".to_string(), |d| format!("{d:?}"))));
            let target = top.iter().rev().find(|m| m.key == "default-runtime" && matches!(m.value.kind, Kind::String(_))).or_else(|| last("default-runtime"));
            match target {
                Some(m) => edits.push(Edit { start: m.value.start, end: m.value.end, text: quote(RUNTIME_NAME) }),
                None => appended.push(("default-runtime".to_string(), json!(RUNTIME_NAME))),
            }
        }
    } else if let Some(d) = current.filter(|d| *d != RUNTIME_NAME) {
        let m = top.iter().rev().find(|m| m.key == "default-runtime" && matches!(m.value.kind, Kind::String(_)));
        plan.notes.push(format!(
            "default-runtime is {d:?}{} — kept; pass --set-default to make nvidia the default",
            m.map(|m| format!(" at {}", at(m.value.start))).unwrap_or_default()
        ));
    }

    // features.cdi
    if request.cdi && a.json.features_cdi != Some(true) {
        plan.changes.push("enabled CDI (features.cdi = true)".to_string());
        match last("features") {
            None => appended.push(("features".to_string(), json!({"cdi": true}))),
            Some(m) if m.value.is_null() => edits.push(Edit {
                start: m.value.start,
                end: m.value.end,
                text: render_object(&[("cdi".to_string(), json!(true))], &indent_of_line(b, m.key_start), style),
            }),
            Some(m) => match m.value.members().unwrap_or_default().iter().rev().find(|f| f.key == "cdi") {
                Some(cdi) => edits.push(Edit { start: cdi.value.start, end: cdi.value.end, text: "true".to_string() }),
                None => edits.push(insert_members(b, &m.value, &[("cdi".to_string(), json!(true))], style)),
            },
        }
    }

    if !appended.is_empty() {
        edits.push(insert_members(b, root, &appended, style));
    }
}

/// Replace `start..end` with `text` (an insertion when `start == end`).
#[derive(Debug)]
struct Edit {
    start: usize,
    end: usize,
    text: String,
}

fn apply(b: &[u8], mut edits: Vec<Edit>) -> Vec<u8> {
    edits.sort_by_key(|e| std::cmp::Reverse((e.start, e.end)));
    let mut out = b.to_vec();
    for e in edits {
        out.splice(e.start..e.end, e.text.into_bytes());
    }
    out
}

/// How the file is written: line ending, indentation unit, the text between a key and its value.
#[derive(Debug, Clone)]
struct Style {
    nl: &'static str,
    unit: String,
    colon: String,
    /// Between members written on one line: "," in a file written without spaces, else ", ".
    comma: String,
}

impl Style {
    fn detect(b: &[u8], root: Option<&Node>) -> Style {
        let nl = if b.windows(2).any(|w| w == b"\r\n") { "\r\n" } else { "\n" };
        let mut style = Style { nl, unit: "  ".to_string(), colon: ": ".to_string(), comma: ", ".to_string() };
        let Some(root) = root else { return style };
        let Some(first) = root.members().and_then(|m| m.first()) else { return style };
        let key_end = string_end(b, first.key_start);
        let between = &b[key_end..first.value.start];
        if !between.contains(&b'\n') {
            style.colon = String::from_utf8_lossy(between).into_owned();
            if style.colon == ":" {
                style.comma = ",".to_string();
            }
        }
        if b[root.start..first.key_start].contains(&b'\n') {
            let base = indent_of_line(b, root.start);
            let member = indent_of_line(b, first.key_start);
            if let Some(unit) = member.strip_prefix(&base) {
                style.unit = unit.to_string();
            }
        }
        style
    }
}

/// The offset just after the string literal that starts at `start`.
fn string_end(b: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

/// The spaces and tabs that start the line `offset` is on.
fn indent_of_line(b: &[u8], offset: usize) -> String {
    let line_start = b[..offset].iter().rposition(|&c| c == b'\n').map_or(0, |p| p + 1);
    let n = b[line_start..].iter().take_while(|&&c| c == b' ' || c == b'\t').count();
    String::from_utf8_lossy(&b[line_start..line_start + n]).into_owned()
}

use crate::text::json_quote as quote;

/// A value written over several lines at indentation `indent` (objects; arrays and scalars stay on one line).
fn render(v: &Value, indent: &str, style: &Style) -> String {
    match v {
        Value::Object(map) if !map.is_empty() => {
            let members: Vec<(String, Value)> = map.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            render_object(&members, indent, style)
        }
        other => render_inline(other, style),
    }
}

fn render_object(members: &[(String, Value)], indent: &str, style: &Style) -> String {
    let inner = format!("{indent}{}", style.unit);
    let body: Vec<String> =
        members.iter().map(|(k, v)| format!("{inner}{}{}{}", quote(k), style.colon, render(v, &inner, style))).collect();
    format!("{{{nl}{}{nl}{indent}}}", body.join(&format!(",{}", style.nl)), nl = style.nl)
}

fn render_inline(v: &Value, style: &Style) -> String {
    match v {
        Value::Object(map) if !map.is_empty() => {
            let body: Vec<String> = map.iter().map(|(k, v)| format!("{}{}{}", quote(k), style.colon, render_inline(v, style))).collect();
            format!("{{{}}}", body.join(&style.comma))
        }
        Value::Array(items) if !items.is_empty() => {
            format!("[{}]", items.iter().map(|i| render_inline(i, style)).collect::<Vec<_>>().join(&style.comma))
        }
        other => other.to_string(),
    }
}

/// Adds `members` at the end of the object `obj`, in the object's own layout.
fn insert_members(b: &[u8], obj: &Node, members: &[(String, Value)], style: &Style) -> Edit {
    let existing: &[Member] = obj.members().unwrap_or_default();
    match (existing.first(), existing.last()) {
        (Some(first), Some(last)) => {
            let multi_line = b[obj.start..first.key_start].contains(&b'\n');
            let mut text = String::new();
            if multi_line {
                let indent = indent_of_line(b, last.key_start);
                for (k, v) in members {
                    text.push_str(&format!(",{}{indent}{}{}{}", style.nl, quote(k), style.colon, render(v, &indent, style)));
                }
            } else {
                // One line: separate as the file does between its last two members, else ", ".
                let sep = existing
                    .len()
                    .checked_sub(2)
                    .map(|i| &b[existing[i].value.end..last.key_start])
                    .filter(|s| !s.contains(&b'\n'))
                    .map(|s| String::from_utf8_lossy(s).into_owned())
                    .unwrap_or_else(|| style.comma.clone());
                for (k, v) in members {
                    text.push_str(&format!("{sep}{}{}{}", quote(k), style.colon, render_inline(v, style)));
                }
            }
            Edit { start: last.value.end, end: last.value.end, text }
        }
        _ => {
            // An empty object: written out over lines, like the rest of a multi-line file.
            let indent = indent_of_line(b, obj.start);
            Edit { start: obj.start, end: obj.end, text: render_object(members, &indent, style) }
        }
    }
}

/// Makes text dockerd refuses into strict JSON where the only problems are what JSONC editors allow: a UTF-8 byte
/// order mark, `//` and `/* */` comments (a line left empty by removing one goes too), and trailing commas.
/// Returns the new bytes and what was removed; anything else is left for the strict parse to report.
pub fn repair_daemon_json(original: &[u8]) -> (Vec<u8>, Vec<String>) {
    let mut what = Vec::new();
    let bom = original.starts_with(b"\xef\xbb\xbf");
    let b = if bom {
        what.push("removed the UTF-8 byte order mark".to_string());
        &original[3..]
    } else {
        original
    };

    // Tokens outside strings: comments (ranges) and single punctuation bytes.
    let mut remove: Vec<(usize, usize)> = Vec::new();
    let mut comment_lines = Vec::new();
    let mut puncts: Vec<(usize, u8, bool)> = Vec::new(); // (offset, byte, preceded only by comments/space since the last punct)
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                i = string_end(b, i);
                puncts.push((i - 1, b'"', false));
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                let end = b[i..].iter().position(|&c| c == b'\n' || c == b'\r').map_or(b.len(), |p| i + p);
                remove.push((i, end));
                comment_lines.push(line_col(b, i).0);
                i = end;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let Some(close) = b[i + 2..].windows(2).position(|w| w == b"*/") else { break };
                let end = i + 2 + close + 2;
                remove.push((i, end));
                comment_lines.push(line_col(b, i).0);
                i = end;
            }
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            c => {
                puncts.push((i, c, false));
                i += 1;
            }
        }
    }
    let mut comma_lines = Vec::new();
    for w in puncts.windows(2) {
        if w[0].1 == b',' && matches!(w[1].1, b'}' | b']') {
            remove.push((w[0].0, w[0].0 + 1));
            comma_lines.push(line_col(b, w[0].0).0);
        }
    }
    if remove.is_empty() {
        return (b.to_vec(), what);
    }
    remove.sort();
    let removed = |p: usize| remove.iter().any(|&(s, e)| s <= p && p < e);

    // Line by line: drop what is removed; a line that had a comment and is now blank goes entirely; a comment at
    // the end of a line takes the spaces before it.
    let mut out = Vec::with_capacity(b.len());
    let mut start = 0;
    while start < b.len() {
        let nl = b[start..].iter().position(|&c| c == b'\n').map(|p| start + p);
        let end = nl.unwrap_or(b.len());
        let line = start..end;
        let kept: Vec<u8> = line.clone().filter(|&p| !removed(p)).map(|p| b[p]).collect();
        let had_comment = remove.iter().any(|&(s, e)| s < end && e > start && (e - s > 1 || b[s] != b','));
        if had_comment && kept.iter().all(|c| matches!(c, b' ' | b'\t' | b'\r')) {
            start = end + 1;
            continue;
        }
        let mut kept = kept;
        let cr = kept.last() == Some(&b'\r');
        if cr {
            kept.pop();
        }
        if had_comment && remove.iter().any(|&(s, e)| s < end && e >= end.saturating_sub(usize::from(cr)) && e - s > 1) {
            while matches!(kept.last(), Some(b' ' | b'\t')) {
                kept.pop();
            }
        }
        out.extend_from_slice(&kept);
        if cr {
            out.push(b'\r');
        }
        if nl.is_some() {
            out.push(b'\n');
        }
        start = end + 1;
    }
    let lines = |v: &[usize]| v.iter().map(|l| l.to_string()).collect::<Vec<_>>().join(", ");
    if !comment_lines.is_empty() {
        what.push(format!("removed {} comment{} (line {})", comment_lines.len(), if comment_lines.len() == 1 { "" } else { "s" }, lines(&comment_lines)));
    }
    if !comma_lines.is_empty() {
        what.push(format!("removed {} trailing comma{} (line {})", comma_lines.len(), if comma_lines.len() == 1 { "" } else { "s" }, lines(&comma_lines)));
    }
    (out, what)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(text: &str, request: &DaemonRequest) -> DaemonPlan {
        plan_daemon_json(Some(text.as_bytes()), "daemon.json", request, &|_| true).unwrap_or_else(|e| panic!("{e}"))
    }

    fn new_text(text: &str, request: &DaemonRequest) -> String {
        let p = plan(text, request);
        let out = String::from_utf8(p.new).unwrap();
        // Idempotent: planning the result again changes nothing.
        let again = plan(&out, request);
        assert!(!again.changed, "second run changed:\n{out}\n→\n{}", String::from_utf8_lossy(&again.new));
        out
    }

    fn all() -> DaemonRequest {
        DaemonRequest { set_default: true, cdi: true, ..Default::default() }
    }

    #[test]
    fn new_file() {
        let p = plan_daemon_json(None, "daemon.json", &all(), &|_| true).unwrap();
        assert_eq!(
            String::from_utf8(p.new).unwrap(),
            "{\n  \"runtimes\": {\n    \"nvidia\": {\n      \"path\": \"nvidia-container-runtime\",\n      \"args\": []\n    }\n  },\n  \"default-runtime\": \"nvidia\",\n  \"features\": {\n    \"cdi\": true\n  }\n}\n"
        );
        assert!(p.changed);
    }

    #[test]
    fn appends_in_the_files_layout() {
        let out = new_text("{\n    \"log-driver\": \"json-file\",\n    \"log-opts\": {\"max-size\": \"10m\"}\n}\n", &DaemonRequest::default());
        assert_eq!(
            out,
            "{\n    \"log-driver\": \"json-file\",\n    \"log-opts\": {\"max-size\": \"10m\"},\n    \"runtimes\": {\n        \"nvidia\": {\n            \"path\": \"nvidia-container-runtime\",\n            \"args\": []\n        }\n    }\n}\n"
        );
        let out = new_text("{\"debug\":true,\"features\":{\"buildkit\":true}}", &all());
        assert_eq!(
            out,
            "{\"debug\":true,\"features\":{\"buildkit\":true,\"cdi\":true},\"runtimes\":{\"nvidia\":{\"path\":\"nvidia-container-runtime\",\"args\":[]}},\"default-runtime\":\"nvidia\"}"
        );
        let out = new_text("{\r\n\t\"runtimes\": {}\r\n}", &DaemonRequest::default());
        assert_eq!(out, "{\r\n\t\"runtimes\": {\r\n\t\t\"nvidia\": {\r\n\t\t\t\"path\": \"nvidia-container-runtime\",\r\n\t\t\t\"args\": []\r\n\t\t}\r\n\t}\r\n}");
    }

    #[test]
    fn existing_entries_are_kept_and_reported() {
        let text = "{\n  \"runtimes\": {\"nvidia\": {\"path\": \"/usr/bin/nvidia-container-runtime\", \"runtimeArgs\": [\"--debug\"]}, \"runsc\": {\"path\": \"/usr/local/bin/runsc\"}},\n  \"default-runtime\": \"runsc\"\n}\n";
        let p = plan(text, &DaemonRequest::default());
        assert!(!p.changed);
        assert_eq!(p.new, text.as_bytes());
        assert_eq!(p.notes.len(), 2, "{:?}", p.notes);
        assert!(p.notes[0].contains("daemon.json:2:16") && p.notes[0].contains("--debug"), "{}", p.notes[0]);
        assert!(p.notes[1].contains("\"runsc\" at daemon.json:3:22"), "{}", p.notes[1]);
        let out = new_text(text, &DaemonRequest { set_default: true, ..Default::default() });
        assert_eq!(out, text.replace("\"default-runtime\": \"runsc\"", "\"default-runtime\": \"nvidia\""));
    }

    #[test]
    fn duplicates_edit_the_live_value() {
        let text = "{\"runtimes\": {\"a\": {\"path\": \"runc\"}}, \"default-runtime\": \"a\", \"runtimes\": {\"b\": {\"path\": \"runc\"}}, \"default-runtime\": null}";
        let p = plan(text, &DaemonRequest { set_default: true, ..Default::default() });
        assert_eq!(
            String::from_utf8(p.new).unwrap(),
            "{\"runtimes\": {\"a\": {\"path\": \"runc\"}}, \"default-runtime\": \"nvidia\", \"runtimes\": {\"b\": {\"path\": \"runc\"}, \"nvidia\": {\"path\": \"nvidia-container-runtime\", \"args\": []}}, \"default-runtime\": null}"
        );
        assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
    }

    #[test]
    fn nulls_become_objects() {
        let out = new_text("{\n  \"runtimes\": null,\n  \"features\": null\n}", &all());
        assert_eq!(
            out,
            "{\n  \"runtimes\": {\n    \"nvidia\": {\n      \"path\": \"nvidia-container-runtime\",\n      \"args\": []\n    }\n  },\n  \"features\": {\n    \"cdi\": true\n  },\n  \"default-runtime\": \"nvidia\"\n}"
        );
        assert_eq!(new_text("null\n", &DaemonRequest::default()), "{\n  \"runtimes\": {\n    \"nvidia\": {\n      \"path\": \"nvidia-container-runtime\",\n      \"args\": []\n    }\n  }\n}\n");
        let out = new_text("{\"features\": {\"cdi\": false, \"buildkit\": true}}", &DaemonRequest { cdi: true, ..Default::default() });
        assert!(out.starts_with("{\"features\": {\"cdi\": true, \"buildkit\": true}, \"runtimes\""), "{out}");
    }

    #[test]
    fn text_after_the_object_is_removed() {
        let p = plan("{\"runtimes\": {\"nvidia\": {\"path\": \"nvidia-container-runtime\"}}}\n}\n", &DaemonRequest::default());
        assert_eq!(String::from_utf8(p.new).unwrap(), "{\"runtimes\": {\"nvidia\": {\"path\": \"nvidia-container-runtime\"}}}\n");
        assert_eq!(p.changes, ["removed the text after the JSON object at daemon.json:2:1 (Docker 20.10 ignores it; Docker 23 and later refuse to start on it)"]);
    }

    #[test]
    fn refusals_and_repair() {
        let blog = "{\n    \"runtimes\": {\n        \"nvidia\": {\n            \"path\": \"nvidia-container-runtime\",\n            \"runtimeArgs\": []\n        }\n    },\n    \"default-runtime\": \"nvidia\",\n}\n";
        let e = plan_daemon_json(Some(blog.as_bytes()), "daemon.json", &DaemonRequest::default(), &|_| true).unwrap_err();
        assert!(e.to_string().starts_with("daemon.json:9:1: dockerd refuses to start"), "{e}");
        let p = plan(blog, &DaemonRequest { repair: true, ..Default::default() });
        assert_eq!(String::from_utf8(p.new).unwrap(), blog.replace("\"nvidia\",\n}", "\"nvidia\"\n}"));
        assert_eq!(p.repairs, ["removed 1 trailing comma (line 8)"]);

        let commented = "\u{feff}// Docker\n{\n  \"debug\": true, // on\n  /* old:\n  \"x\": 1, */\n  \"features\": {\"buildkit\": true,},\n}\n";
        let (repaired, what) = repair_daemon_json(commented.as_bytes());
        assert_eq!(String::from_utf8(repaired).unwrap(), "{\n  \"debug\": true,\n  \"features\": {\"buildkit\": true}\n}\n");
        assert_eq!(what, ["removed the UTF-8 byte order mark", "removed 3 comments (line 1, 3, 4)", "removed 2 trailing commas (line 6, 6)"]);

        let truncated = "{\n  \"debug\": true,\n  \"runt";
        let e = plan_daemon_json(Some(truncated.as_bytes()), "daemon.json", &DaemonRequest { repair: true, ..Default::default() }, &|_| true).unwrap_err();
        assert!(e.to_string().contains("unexpected EOF"), "{e}");
        let DaemonJsonError::Refused { fix, .. } = e else { panic!() };
        assert!(fix.contains("--repair only removes"), "{fix}");
    }

    #[test]
    fn validation_left_alone_is_reported_where_it_was() {
        let e = plan_daemon_json(Some(b"{\"runtimes\": {\"runc\": {\"path\": \"runc\"}}}"), "daemon.json", &DaemonRequest::default(), &|_| true).unwrap_err();
        assert_eq!(e.to_string(), "daemon.json:1:15: dockerd refuses to start with this daemon.json: configuration validation from file failed: runtime name 'runc' is reserved");
        // A default that names the missing nvidia runtime is what the edit fixes.
        let out = new_text("{\"default-runtime\": \"nvidia\"}", &DaemonRequest::default());
        assert!(out.contains("\"runtimes\""));
    }

    #[test]
    fn empty_and_blank_files_are_new_configurations() {
        for text in ["", "  \n"] {
            let p = plan(text, &DaemonRequest::default());
            assert!(p.changed);
            assert!(p.changes[0].contains("was empty"), "{:?}", p.changes);
            assert!(String::from_utf8(p.new).unwrap().starts_with("{\n  \"runtimes\""));
        }
    }

    #[test]
    fn a_default_runtime_that_is_not_installed_blocks_the_write() {
        let missing = |_: &str| false;
        let p = plan_daemon_json(Some(b"{}"), "daemon.json", &DaemonRequest { set_default: true, ..Default::default() }, &missing).unwrap();
        assert!(p.blocker.as_deref().unwrap().starts_with("the nvidia runtime's binary \"nvidia-container-runtime\" is not installed on this host: with default-runtime"), "{:?}", p.blocker);
        let p = plan_daemon_json(Some(b"{}"), "daemon.json", &DaemonRequest::default(), &missing).unwrap();
        assert!(p.blocker.is_none());
        assert!(p.warnings[0].contains("is not installed on this host yet"), "{:?}", p.warnings);
        let with_args = b"{\"runtimes\": {\"nvidia\": {\"path\": \"/opt/x\", \"runtimeArgs\": [\"-d\"]}}}";
        let p = plan_daemon_json(Some(with_args), "daemon.json", &DaemonRequest { set_default: true, ..Default::default() }, &|p| p != "/opt/x").unwrap();
        assert!(p.blocker.as_deref().unwrap().ends_with("dockerd itself refuses to start (the entry has runtimeArgs)"), "{:?}", p.blocker);
    }
}
