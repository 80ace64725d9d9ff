//! `merge_gpu_settings` against real devcontainer.json files written by others, and against hand-written cases.
//!
//! 1. Every template of `tests/fixtures/devcontainers-templates/*/devcontainer.json` (the official
//!    devcontainers/templates, see SOURCE.md there): the merge keeps every comment line verbatim and every
//!    original key with its value (except `image`, which gives way to devgpu's `build`), asks for the GPU exactly
//!    once, validates against the devcontainer schema, and a second merge is byte-identical. Compose-based
//!    templates are refused with `devcontainer-compose-unsupported`.
//! 2. The hand-written cases in `tests/fixtures/devcontainer/`: `NAME.jsonc` is the input; `NAME.out.jsonc` the
//!    exact merged text and `NAME.report.txt` its change/note lines, or `NAME.error.txt` the expected error.
//!    Run with `DEVGPU_BLESS=1` (outside CI) to (re)write the expectations, then review the diff.
//!
//! The corpus is copied into the repository with its source and licence (SOURCE.md, LICENSE there); a missing
//! folder is a broken checkout: the test panics in CI (`CI` set) and prints a skip note elsewhere.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use devgpu::config::{self, merge_gpu_settings, BuildSettings, ConfigError, GpuSettings, MergeOutcome};
use devgpu::error::Coded;
use serde_json::{json, Value};

const FILE: &str = "devcontainer.json";

fn settings() -> GpuSettings {
    GpuSettings {
        gpu_run_args: vec!["--gpus".into(), "all".into()],
        replace_gpu_request: false,
        shm_run_args: vec!["--shm-size".into(), "8g".into()],
        host_requirements_gpu: Some(json!(true)),
        build: Some(BuildSettings {
            dockerfile: "Dockerfile".into(),
            context: "..".into(),
            args: vec![("CUDA_VERSION".into(), "12.4.1".into())],
        }),
        remote_user: Some("vscode".into()),
        extensions: vec!["ms-python.python".into()],
        name: Some("GPU dev container".into()),
    }
}

/// Paths the merge with [`settings`] may change or remove; everything else must survive with its value.
fn may_change(path: &str) -> bool {
    path == "/image"
        || path.starts_with("/image/")
        || ["/build/dockerfile", "/build/context", "/build/args/CUDA_VERSION"].contains(&path)
}

fn corpus_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/devcontainers-templates");
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var_os("CI").is_some() {
        panic!("the devcontainer corpus is missing in CI: {}", dir.display());
    }
    eprintln!("note: skipping the devcontainer corpus: {} is missing (set CI to make this fail)", dir.display());
    None
}

/// The raw text of every comment (`// …` or `/* … */`) in a JSONC text.
fn comments(text: &str) -> Vec<String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut scanner = jsonc_parser::Scanner::new(text, &Default::default());
    let mut found = Vec::new();
    while let Some(token) = scanner.scan().expect("the corpus scans") {
        if matches!(token, jsonc_parser::tokens::Token::CommentLine(_) | jsonc_parser::tokens::Token::CommentBlock(_)) {
            found.push(text[scanner.token_start()..scanner.token_end()].to_string());
        }
    }
    found
}

/// The lines of a text that hold a comment, whole (indentation included), with how often each occurs.
fn comment_lines(text: &str) -> BTreeMap<String, usize> {
    let mut lines = BTreeMap::new();
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with("//") || t.starts_with("/*") {
            *lines.entry(line.trim_end_matches('\r').to_string()).or_default() += 1;
        }
    }
    lines
}

fn count(haystack: &[String], needle: &str) -> usize {
    haystack.iter().filter(|s| s.as_str() == needle).count()
}

/// Every leaf (and empty container) of a JSON value by JSON-pointer-like path.
fn leaves(value: &Value, path: String, out: &mut BTreeMap<String, Value>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                leaves(v, format!("{path}/{k}"), out);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for (i, v) in items.iter().enumerate() {
                leaves(v, format!("{path}/{i}"), out);
            }
        }
        _ => {
            out.insert(path, value.clone());
        }
    }
}

fn run_args(value: &Value) -> Vec<String> {
    value["runArgs"].as_array().map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect()).unwrap_or_default()
}

/// Which corpus templates fail the schema before devgpu touches them, and why (none at the pinned commit).
/// For these only "not worse" is required: the merged file has no schema error the original lacked.
const SCHEMA_INVALID_ORIGINALS: &[(&str, &str)] = &[];

#[test]
fn official_templates_merge_cleanly() {
    let Some(dir) = corpus_dir() else { return };
    let mut templates: Vec<(String, PathBuf)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("devcontainer.json").is_file())
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), p.join("devcontainer.json")))
        .collect();
    templates.sort();
    assert!(templates.len() >= 40, "expected the 40 official templates, found {}", templates.len());

    let settings = settings();
    let (mut merged, mut refused) = (Vec::new(), Vec::new());
    let mut failures = Vec::new();
    for (name, path) in &templates {
        let original = std::fs::read_to_string(path).unwrap();
        let value = config::parse_jsonc(&original, FILE).unwrap_or_else(|e| panic!("{name}: {e}"));
        if value.get("dockerComposeFile").is_some() {
            // (e) Compose configs are refused clearly, with the service named in the hint.
            let err = merge_gpu_settings(&original, FILE, &settings).expect_err(name);
            assert_eq!(err.code(), "devcontainer-compose-unsupported", "{name}");
            assert!(err.position().is_some(), "{name}");
            let service = value["service"].as_str().unwrap();
            assert!(err.hints()[0].contains(&format!("`{service}`")), "{name}: {:?}", err.hints());
            assert!(err.hints()[0].contains("driver: nvidia, count: all, capabilities: [gpu]"), "{name}");
            assert!(matches!(config::summarize(&value).source, config::ContainerSource::Compose { .. }), "{name}");
            refused.push(name.clone());
            continue;
        }
        if let Err(problem) = check_template(name, &original, &value, &settings) {
            failures.push(format!("{name}: {problem}"));
        }
        merged.push(name.clone());
    }
    eprintln!(
        "corpus: {} templates merged, {} Compose templates refused ({})",
        merged.len(),
        refused.len(),
        refused.join(", ")
    );
    assert!(failures.is_empty(), "{} templates failed:\n{}", failures.len(), failures.join("\n\n"));
    assert!(!merged.is_empty() && !refused.is_empty());
}

fn check_template(name: &str, original: &str, value: &Value, settings: &GpuSettings) -> Result<(), String> {
    let out = merge_gpu_settings(original, FILE, settings).map_err(|e| format!("merge failed: {e}"))?;
    let show = || format!("\n--- merged ---\n{}", out.text);
    assert!(!out.changes.is_empty(), "{name}: nothing changed");

    // (a) Every comment survives verbatim, and every comment line as a whole line.
    let (before, after) = (comments(original), comments(&out.text));
    for c in &before {
        if count(&after, c) < count(&before, c) {
            return Err(format!("comment lost: {c:?}{}", show()));
        }
    }
    let after_lines = comment_lines(&out.text);
    for (line, n) in comment_lines(original) {
        if after_lines.get(&line).copied().unwrap_or(0) < n {
            return Err(format!("comment line lost or re-indented: {line:?}{}", show()));
        }
    }

    // (c) The result parses; the GPU is requested exactly once, and the rest of the settings are in.
    let merged =
        config::parse_jsonc(&out.text, FILE).map_err(|e| format!("merged text does not parse: {e}{}", show()))?;
    let args = run_args(&merged);
    let gpu = config::gpu_requests(&args);
    if gpu.len() != 1 || count(&args, "--gpus") != 1 || args.windows(2).filter(|w| w == &["--gpus", "all"]).count() != 1
    {
        return Err(format!("GPU request not exactly once: {args:?}"));
    }
    if config::shm_settings(&args).len() != 1 {
        return Err(format!("shared memory not set exactly once: {args:?}"));
    }
    assert_eq!(merged["hostRequirements"]["gpu"], json!(true), "{name}");
    assert_eq!(merged["build"]["dockerfile"], "Dockerfile", "{name}");
    assert_eq!(merged["build"]["args"]["CUDA_VERSION"], "12.4.1", "{name}");
    assert!(merged.get("image").is_none(), "{name}: image and build together");
    let extensions = merged["customizations"]["vscode"]["extensions"].as_array().unwrap();
    assert_eq!(extensions.iter().filter(|e| *e == "ms-python.python").count(), 1, "{name}");
    assert!(merged["remoteUser"].is_string(), "{name}");
    let summary = config::summarize(&merged);
    assert!(matches!(summary.source, config::ContainerSource::Dockerfile { .. }), "{name}: {:?}", summary.source);
    assert!(summary.wants_gpu(), "{name}");

    // (b) Every original key path keeps its value, except what the merge was meant to change.
    let (mut old, mut new) = (BTreeMap::new(), BTreeMap::new());
    leaves(value, String::new(), &mut old);
    leaves(&merged, String::new(), &mut new);
    for (path, v) in &old {
        if may_change(path) {
            continue;
        }
        match new.get(path) {
            Some(n) if n == v => {}
            Some(n) => return Err(format!("{path} changed from {v} to {n}{}", show())),
            None => return Err(format!("{path} disappeared{}", show())),
        }
    }
    // Key order of the original top-level keys is kept (image becomes build in place).
    let keys = |v: &Value| {
        v.as_object()
            .unwrap()
            .keys()
            .map(|k| if k == "image" { "build".to_string() } else { k.clone() })
            .collect::<Vec<_>>()
    };
    let (old_keys, new_keys) = (keys(value), keys(&merged));
    let kept: Vec<_> = new_keys.iter().filter(|k| old_keys.contains(k)).cloned().collect();
    if kept != old_keys {
        return Err(format!("top-level key order changed: {old_keys:?} -> {new_keys:?}"));
    }

    // (d) A second merge changes nothing.
    let again = merge_gpu_settings(&out.text, FILE, settings).map_err(|e| format!("second merge failed: {e}"))?;
    if again.text != out.text || !again.changes.is_empty() {
        return Err(format!("second merge changed {:?}{}", again.changes, show()));
    }

    // The file's style: indentation unit and line endings.
    if original.contains("\r\n") != out.text.contains("\r\n") {
        return Err("line endings changed".into());
    }
    let tab_indented = |t: &str| t.lines().filter(|l| l.starts_with("\t\"")).count();
    if tab_indented(original) > 0 && out.text.lines().any(|l| l.starts_with("  \"")) {
        return Err(format!("space indentation in a tab-indented file{}", show()));
    }

    // (f) The merged file validates against the schema (or, where the original already fails, is no worse).
    if let Err(errors) = common::schema::validate_devcontainer(&merged) {
        let known = SCHEMA_INVALID_ORIGINALS.iter().any(|(n, _)| *n == name);
        let original_errors = common::schema::validate_devcontainer(value).err().unwrap_or_default();
        let worse: Vec<_> = errors.iter().filter(|e| !original_errors.contains(e)).collect();
        if !known || !worse.is_empty() {
            return Err(format!(
                "merged file fails the schema: {errors:#?}\noriginal's errors: {original_errors:#?}{}",
                show()
            ));
        }
    }
    Ok(())
}

/// Every original of the corpus validates against the schema (so SCHEMA_INVALID_ORIGINALS stays honest).
#[test]
fn corpus_originals_validate() {
    let Some(dir) = corpus_dir() else { return };
    if !common::schema::schema_available() {
        return;
    }
    let mut invalid = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path().join("devcontainer.json");
        if !path.is_file() {
            continue;
        }
        let name = path.parent().unwrap().file_name().unwrap().to_string_lossy().into_owned();
        let value = config::parse_jsonc(&std::fs::read_to_string(&path).unwrap(), FILE).unwrap();
        if common::schema::validate_devcontainer(&value).is_err() {
            invalid.push(name);
        }
    }
    invalid.sort();
    let mut expected: Vec<String> = SCHEMA_INVALID_ORIGINALS.iter().map(|(n, _)| n.to_string()).collect();
    expected.sort();
    assert_eq!(invalid, expected, "templates whose original fails the schema");
}

// ---------------------------------------------------------------------------------------------------------------
// Hand-written fixtures

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/devcontainer")
}

fn report(out: &MergeOutcome) -> String {
    let mut s = String::new();
    for c in &out.changes {
        s.push_str(&format!("change: {c}\n"));
    }
    for n in &out.notes {
        s.push_str(&format!("note: {n}\n"));
    }
    s
}

fn describe_error(e: &ConfigError) -> String {
    let (line, column) = e.position().unwrap_or((0, 0));
    let mut s = format!("code: {}\nposition: {line}:{column}\nmessage: {e}\n", e.code());
    for h in e.hints() {
        s.push_str(&format!("hint: {h}\n"));
    }
    s
}

/// Compares with the expectation file, or writes it when blessing.
fn expect_file(path: &Path, actual: &str, problems: &mut Vec<String>) {
    let bless = std::env::var_os("DEVGPU_BLESS").is_some() && std::env::var_os("CI").is_none();
    match std::fs::read_to_string(path) {
        Ok(expected) if expected == actual => {}
        _ if bless => std::fs::write(path, actual).unwrap(),
        Ok(expected) => problems.push(format!(
            "{} differs (DEVGPU_BLESS=1 rewrites it)\n--- expected ---\n{expected}\n--- actual ---\n{actual}",
            path.display()
        )),
        Err(_) => {
            problems.push(format!("{} is missing (DEVGPU_BLESS=1 writes it)\n--- actual ---\n{actual}", path.display()))
        }
    }
}

#[test]
fn hand_written_fixtures() {
    let dir = fixtures_dir();
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.ends_with(".jsonc") && !name.ends_with(".out.jsonc")
        })
        .collect();
    inputs.sort();
    assert!(inputs.len() >= 12, "fixtures missing in {}", dir.display());

    let settings = settings();
    let mut problems = Vec::new();
    for input in &inputs {
        let stem = input.file_name().unwrap().to_string_lossy().trim_end_matches(".jsonc").to_string();
        let text = std::fs::read_to_string(input).unwrap();
        match merge_gpu_settings(&text, FILE, &settings) {
            Ok(out) => {
                expect_file(&dir.join(format!("{stem}.out.jsonc")), &out.text, &mut problems);
                expect_file(&dir.join(format!("{stem}.report.txt")), &report(&out), &mut problems);
                let again = merge_gpu_settings(&out.text, FILE, &settings).unwrap();
                if again.text != out.text || !again.changes.is_empty() {
                    problems.push(format!("{stem}: second merge changed {:?}", again.changes));
                }
                let merged = config::parse_jsonc(&out.text, FILE).unwrap();
                if let Err(errors) = common::schema::validate_devcontainer(&merged) {
                    problems.push(format!("{stem}: merged file fails the schema: {errors:#?}"));
                }
                for c in comments(&text) {
                    if !out.text.contains(&c) {
                        problems.push(format!("{stem}: comment lost: {c:?}"));
                    }
                }
            }
            Err(e) => expect_file(&dir.join(format!("{stem}.error.txt")), &describe_error(&e), &mut problems),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

/// Spot checks on the fixtures, so the expectations above say what they must.
#[test]
fn fixture_spot_checks() {
    let read = |name: &str| std::fs::read_to_string(fixtures_dir().join(name)).unwrap();
    let merge = |name: &str| merge_gpu_settings(&read(name), FILE, &settings());

    let out = merge("gpus-joined.jsonc").unwrap();
    let args = run_args(&config::parse_jsonc(&out.text, FILE).unwrap());
    assert_eq!(args, ["--init", "--gpus", "all", "--shm-size=2g"]);
    assert!(out.changes.iter().any(|c| c.starts_with("split runArgs item \"--gpus all\"")));

    let out = merge("gpus-equals.jsonc").unwrap();
    assert!(out.changes.is_empty() && out.notes.is_empty(), "{out:?}");
    assert_eq!(out.text, read("gpus-equals.jsonc"));

    let out = merge("gpus-one.jsonc").unwrap();
    assert!(
        out.notes.iter().any(|n| n.contains("`--gpus 1`") && n.contains("devcontainer.json:6:5")),
        "{:?}",
        out.notes
    );
    assert!(!out.changes.iter().any(|c| c.contains("--gpus")));

    let out = merge("crlf.jsonc").unwrap();
    assert_eq!(out.text.matches('\n').count(), out.text.matches("\r\n").count());

    let out = merge("empty-object.jsonc").unwrap();
    assert_eq!(config::parse_jsonc(&out.text, FILE).unwrap()["name"], "GPU dev container");

    let e = merge("invalid-missing-comma.jsonc").unwrap_err();
    assert_eq!((e.code().as_str(), e.position()), ("jsonc-syntax", Some((3, 57))));
    let e = merge("invalid-unclosed-brace.jsonc").unwrap_err();
    assert_eq!((e.code().as_str(), e.position()), ("jsonc-syntax", Some((3, 21))));
    let e = merge("root-array.jsonc").unwrap_err();
    assert_eq!((e.code().as_str(), e.position()), ("devcontainer-not-object", Some((2, 1))));
    let e = merge("compose.jsonc").unwrap_err();
    assert_eq!((e.code().as_str(), e.position()), ("devcontainer-compose-unsupported", Some((3, 3))));
    let e = merge("run-args-not-array.jsonc").unwrap_err();
    assert_eq!((e.code().as_str(), e.position()), ("devcontainer-wrong-type", Some((3, 14))));
}
