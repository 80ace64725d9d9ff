//! The layers of ARCHITECTURE.md, enforced: every `crate::…` and `super::…` path in each file under `src/`
//! (its test modules left out) is resolved to a top-level module, and an import from a lower layer into a higher
//! or edge one fails here. Known violations are listed in [`ALLOWED`] with their reason; an entry that no longer
//! matches a violation fails too, so the list can only shrink.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The layer of each top-level module, lowest first. A module may import its own layer and those below it, with
/// one more rule: the pure layers (`Facts`, `Core`) import nothing from the edges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Layer {
    /// Plain fact types, value types and text helpers: no I/O.
    Facts,
    /// Pure decisions over facts: knowledge base and resolver, devcontainer.json model, plans, checks, rendering.
    Core,
    /// Code that reads or changes the machine, the repository, Docker or the network.
    Edge,
    /// Output: prints the result types the layers below define.
    Report,
    /// The commands, which order the I/O, and the entry points.
    Commands,
}

fn layer_of(module: &str) -> Layer {
    match module {
        "model" | "text" | "error" => Layer::Facts,
        "compat" | "config" | "plan" | "checks" | "render" | "cli" | "settings" => Layer::Core,
        "host" | "project" | "docker" | "facts" | "fsx" => Layer::Edge,
        "report" => Layer::Report,
        "commands" | "lib" | "main" => Layer::Commands,
        other => panic!("src/{other}: a top-level module the architecture test does not know; give it a layer"),
    }
}

/// Among the edges: the lower ones are clients of one thing (files, the Docker API, the package indexes, the
/// repository), `host/` gathers the machine's facts with them. A lower edge never imports a higher one, which
/// keeps the old `docker/info.rs` ↔ `host/remote.rs` ↔ `docker/probe.rs` circle from coming back.
fn edge_rank(module: &str) -> u8 {
    match module {
        "fsx" => 0,
        "docker" | "facts" | "project" => 1,
        _ => 2,
    }
}

/// (importing file, imported top-level module, why it is still allowed). Empty today; an entry needs a reason and
/// must match a real violation.
const ALLOWED: &[(&str, &str, &str)] = &[
];

struct Violation {
    file: String,
    module: String,
    line: usize,
    path: String,
}

/// The module path of a file: `src/host/remote.rs` → `["host", "remote"]`, `src/docker/devcontainer/mod.rs` →
/// `["docker", "devcontainer"]`, `src/lib.rs` → `[]`.
fn module_path(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel.iter().skip(1).map(|p| p.to_string_lossy().into_owned()).collect();
    let last = parts.pop().unwrap();
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" && stem != "main" {
        parts.push(stem.to_string());
    }
    parts
}

/// The text of a file without its comments, string literals and `#[cfg(test)]` modules (test code may reach
/// anywhere).
fn code_of(text: &str) -> String {
    let mut out = String::new();
    let mut skip_depth: Option<usize> = None;
    let mut depth = 0usize;
    let mut pending_test = false;
    for line in text.lines() {
        let t = line.trim_start();
        let code = t.split("//").next().unwrap_or("");
        if skip_depth.is_none() && t.starts_with("#[cfg(test)]") {
            pending_test = true;
            out.push('\n');
            continue;
        }
        let opens = code.matches('{').count();
        let closes = code.matches('}').count();
        if pending_test && skip_depth.is_none() && (t.starts_with("mod ") || t.starts_with("pub mod ") || t.starts_with("pub(crate) mod ")) {
            pending_test = false;
            if opens > closes {
                skip_depth = Some(depth);
            }
            depth = depth + opens - closes.min(depth + opens);
            out.push('\n');
            continue;
        }
        pending_test = false;
        depth = (depth + opens).saturating_sub(closes);
        if let Some(d) = skip_depth {
            if depth <= d {
                skip_depth = None;
            }
            out.push('\n');
            continue;
        }
        // Drop string literals so that paths in messages do not count.
        let mut cleaned = String::new();
        let mut in_str = false;
        let mut prev = ' ';
        for c in code.chars() {
            if c == '"' && prev != '\\' {
                in_str = !in_str;
            } else if !in_str {
                cleaned.push(c);
            }
            prev = if prev == '\\' && c == '\\' { ' ' } else { c };
        }
        out.push_str(&cleaned);
        out.push('\n');
    }
    out
}

/// Every `crate::a::…` / `super::…::a` path in `code`, resolved to the top-level module it names, with its line.
fn imports(code: &str, here: &[String]) -> Vec<(usize, String, String)> {
    let re = regex::Regex::new(r"\b(crate|super)((?:::super)*)::([a-z_][a-z0-9_]*)").unwrap();
    let mut found = Vec::new();
    for (i, line) in code.lines().enumerate() {
        for m in re.captures_iter(line) {
            let top = if &m[1] == "crate" {
                m[3].to_string()
            } else {
                let ups = 1 + m[2].matches("super").count();
                // `super` from a file module is its parent; from `mod.rs`/inline modules this is close enough for
                // crossing top-level modules, which is all that is checked.
                let base: Vec<String> = here.iter().take(here.len().saturating_sub(ups)).cloned().collect();
                match base.first() {
                    Some(t) => t.clone(),
                    None => m[3].to_string(),
                }
            };
            found.push((i + 1, top, m[0].to_string()));
        }
    }
    found
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") && p.file_name().is_some_and(|n| n != "tests.rs") {
            out.push(p);
        }
    }
}

fn violations() -> Vec<Violation> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    files.sort();
    let top_modules: BTreeSet<String> = std::fs::read_dir(root.join("src"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    let mut found = Vec::new();
    for f in files {
        let rel = f.strip_prefix(root).unwrap();
        let here = module_path(rel);
        let own = here.first().cloned().unwrap_or_else(|| rel.file_stem().unwrap().to_string_lossy().into_owned());
        if rel.components().any(|c| c.as_os_str() == "tests") {
            continue;
        }
        let from = layer_of(&own);
        let text = std::fs::read_to_string(&f).unwrap();
        for (line, module, path) in imports(&code_of(&text), &here) {
            if module == own || matches!(module.as_str(), "self") {
                continue;
            }
            // `crate::block_on` and the like: an item of lib.rs, not a module.
            let module = if top_modules.contains(&module) { module } else { "lib".to_string() };
            if module == own {
                continue;
            }
            let to = layer_of(&module);
            let pure = |l: Layer| l <= Layer::Core;
            let edge_upward = from == Layer::Edge && to == Layer::Edge && edge_rank(&module) > edge_rank(&own);
            if to > from || (pure(from) && !pure(to)) || edge_upward {
                found.push(Violation { file: rel.display().to_string(), module, line, path });
            }
        }
    }
    found
}

#[test]
fn no_layer_imports_upward() {
    let found = violations();
    let unexplained: Vec<String> = found
        .iter()
        .filter(|v| !ALLOWED.iter().any(|(f, m, _)| *f == v.file && *m == v.module))
        .map(|v| format!("{}:{}: `{}` — {} may not import {}", v.file, v.line, v.path, v.file, v.module))
        .collect();
    assert!(unexplained.is_empty(), "imports against the layers of ARCHITECTURE.md:\n{}", unexplained.join("\n"));
}

#[test]
fn the_allowlist_only_shrinks() {
    let found = violations();
    let stale: Vec<String> = ALLOWED
        .iter()
        .filter(|(f, m, _)| !found.iter().any(|v| v.file == *f && v.module == *m))
        .map(|(f, m, _)| format!("{f} → {m}"))
        .collect();
    assert!(stale.is_empty(), "these allowed violations are gone; remove them from ALLOWED:\n{}", stale.join("\n"));
}

/// The checker itself: it sees `use crate::…`, inline `crate::…` paths and `super::super::…`, and ignores test
/// modules, comments and strings.
#[test]
fn the_import_scanner_sees_what_it_must() {
    let src = "use crate::host::facts::HostFacts;\nfn f() { crate::docker::x(); let s = \"crate::report\"; } // crate::commands\n\
               #[cfg(test)]\nmod tests {\n    use crate::fsx;\n}\nfn g() { super::super::report::y(); }\n";
    let code = code_of(src);
    let found: Vec<String> = imports(&code, &["plan".into(), "cdi".into()]).into_iter().map(|(_, m, _)| m).collect();
    assert_eq!(found, ["host", "docker", "report"]);
    let found: Vec<String> = imports("super::super::report::y", &["docker".into(), "devcontainer".into(), "exec".into()]).into_iter().map(|(_, m, _)| m).collect();
    assert_eq!(found, ["docker"]);
    assert!(layer_of("compat") < layer_of("host") && layer_of("host") < layer_of("report"));
}
