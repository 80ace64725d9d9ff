//! The output contract kept in the repository: the error-code list (`docs/error-codes.md`) matches
//! `devgpu::error::ErrorCode`. Run with `DEVGPU_BLESS=1` (outside CI) to rewrite a file, then review the diff.

use devgpu::error::ErrorCode;
use std::path::Path;

/// Compare `actual` with the committed file `rel`; with DEVGPU_BLESS=1 outside CI, write it instead.
fn check_committed(rel: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    let bless = std::env::var_os("DEVGPU_BLESS").is_some() && std::env::var_os("CI").is_none();
    if bless {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{rel}: {e} (DEVGPU_BLESS=1 writes it)"));
    if expected != actual {
        let diff = similar::TextDiff::from_lines(&expected, actual).unified_diff().header(rel, "generated").to_string();
        panic!("{rel} drifted from the Rust types (DEVGPU_BLESS=1 rewrites it):\n{diff}");
    }
}

fn error_codes_markdown() -> String {
    let mut s = String::from(
        "# Error codes\n\n<!-- Generated from `ErrorCode` in src/error.rs; tests/contract.rs fails when they differ. -->\n\n\
         Every failure devgpu reports carries one of these codes: `error.code` in the `--json` envelope, `error[CODE]`\n\
         on stderr. A code keeps its meaning; a new kind of failure gets a new code. Exit status: 130 for\n\
         `interrupted`, 2 for `internal`, 1 for every other code.\n\n| code | meaning |\n| --- | --- |\n",
    );
    for c in ErrorCode::ALL {
        s.push_str(&format!("| `{}` | {} |\n", c.as_str(), c.doc().replace('|', "\\|")));
    }
    s
}

#[test]
fn error_code_list_matches_the_enum() {
    check_committed("docs/error-codes.md", &error_codes_markdown());
}

/// The list in the docs names exactly the enum's codes (a second view of the same check, which also catches a
/// hand edit that keeps the table's shape).
#[test]
fn documented_codes_are_the_enum_codes() {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/error-codes.md")).unwrap();
    let documented: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix("| `")?.split('`').next()).collect();
    let codes: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(documented, codes);
}

/// The committed schema is what the Rust types give today.
#[test]
fn committed_schema_matches_the_rust_types() {
    let text = serde_json::to_string_pretty(&devgpu::report::contract::schema()).unwrap() + "\n";
    check_committed("schema/devgpu-output.schema.json", &text);
}

/// TypeScript declarations for the schema's definitions: what `vscode-ext/src/core/contract.ts` holds. A small
/// generator for the few shapes schemars writes for these types (objects, string unions, tagged unions, arrays,
/// nullable scalars, `$ref`s, open objects); an unknown shape fails the test rather than becoming `any`.
fn typescript(schema: &serde_json::Value) -> String {
    let mut out = String::from(
        "// Generated from schema/devgpu-output.schema.json (itself generated from the Rust types in\n\
         // src/report/contract.rs) by tests/contract.rs: do not edit; `DEVGPU_BLESS=1 cargo test --test contract`\n\
         // rewrites it. The extension's hand-written view of the contract is in types.ts.\n\n",
    );
    doc(&mut out, schema, "");
    out.push_str(&format!("export type Output = {};\n", ts_type(schema, "")));
    for (name, def) in schema["$defs"].as_object().expect("$defs") {
        out.push('\n');
        doc(&mut out, def, "");
        if def.get("properties").is_some() {
            out.push_str(&format!("export interface {name} {}\n", ts_object(def, "")));
        } else {
            out.push_str(&format!("export type {name} = {};\n", ts_type(def, "")));
        }
    }
    out
}

fn doc(out: &mut String, s: &serde_json::Value, indent: &str) {
    if let Some(d) = s.get("description").and_then(|d| d.as_str()) {
        let d = d.replace("*/", "*\\/");
        if d.contains('\n') {
            out.push_str(&format!("{indent}/**\n"));
            for l in d.lines() {
                out.push_str(&format!("{indent} * {l}\n").replace(" \n", "\n"));
            }
            out.push_str(&format!("{indent} */\n"));
        } else {
            out.push_str(&format!("{indent}/** {d} */\n"));
        }
    }
}

fn ts_object(s: &serde_json::Value, indent: &str) -> String {
    let required: Vec<&str> = s.get("required").and_then(|r| r.as_array()).map(|r| r.iter().filter_map(|v| v.as_str()).collect()).unwrap_or_default();
    let inner = format!("{indent}  ");
    let mut o = String::from("{\n");
    for (k, v) in s["properties"].as_object().expect("properties") {
        doc(&mut o, v, &inner);
        // A field that may be null may also be absent: readers treat both as "nothing" (and older CLIs omit it).
        let ty = ts_type(v, &inner);
        let opt = if required.contains(&k.as_str()) && !ty.ends_with("| null") { "" } else { "?" };
        o.push_str(&format!("{inner}{k}{opt}: {ty};\n"));
    }
    o.push_str(&format!("{indent}}}"));
    o
}

fn ts_type(s: &serde_json::Value, indent: &str) -> String {
    use serde_json::Value;
    let shapes = ["type", "$ref", "const", "oneOf", "anyOf", "enum"];
    if s == &Value::Bool(true) || s.as_object().is_some_and(|o| !shapes.iter().any(|k| o.contains_key(*k))) {
        return "unknown".into();
    }
    if let Some(r) = s.get("$ref").and_then(|r| r.as_str()) {
        return r.rsplit('/').next().unwrap().to_string();
    }
    if let Some(c) = s.get("const") {
        return c.to_string().replace('"', "'");
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(alts) = s.get(key).and_then(|a| a.as_array()) {
            let all_consts = alts.iter().all(|a| a.get("const").is_some());
            let sep = if all_consts && alts.len() > 4 { format!("\n{indent}  | ") } else { " | ".to_string() };
            let parts: Vec<String> = alts.iter().map(|a| ts_type(a, indent)).collect();
            return if sep.starts_with('\n') { format!("{sep}{}", parts.join(&sep)) } else { parts.join(&sep) };
        }
    }
    if let Some(e) = s.get("enum").and_then(|e| e.as_array()) {
        return e.iter().map(|v| v.to_string().replace('"', "'")).collect::<Vec<_>>().join(" | ");
    }
    let types: Vec<&str> = match s.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(|t| t.as_str()).collect(),
        _ => panic!("no TypeScript for the schema {s}"),
    };
    let parts: Vec<String> = types
        .iter()
        .map(|t| match *t {
            "string" => "string".into(),
            "boolean" => "boolean".into(),
            "integer" | "number" => "number".into(),
            "null" => "null".into(),
            "array" => {
                let item = ts_type(&s["items"], indent);
                if item.contains(' ') { format!("Array<{item}>") } else { format!("{item}[]") }
            }
            "object" if s.get("properties").is_some() => ts_object(s, indent),
            "object" if s.get("additionalProperties") == Some(&Value::Bool(true)) || s.get("additionalProperties").is_none() => "Record<string, unknown>".into(),
            other => panic!("no TypeScript for type {other} in {s}"),
        })
        .collect();
    parts.join(" | ")
}

/// The committed TypeScript is what the committed schema gives (and the schema test above ties the schema to Rust).
#[test]
fn committed_typescript_matches_the_schema() {
    let schema = devgpu::report::contract::schema();
    check_committed("vscode-ext/src/core/contract.ts", &typescript(&schema));
}

/// The recorded CLI outputs the extension's unit tests replay (`vscode-ext/test/fake-devgpu/recordings`) are valid
/// output: each envelope against the schema, and its `data` against the command's data type.
#[test]
fn extension_fixtures_follow_the_schema() {
    let schema = devgpu::report::contract::schema();
    let validator = jsonschema::draft202012::new(&schema).expect("the schema compiles");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("vscode-ext/test/fake-devgpu/recordings");
    let mut checked = 0;
    let mut problems = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries.iter().filter(|p| p.extension().is_some_and(|e| e == "json")) {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(path).unwrap();
        let value: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        for e in validator.iter_errors(&value) {
            problems.push(format!("{name}: {e} at {}", e.instance_path()));
        }
        let data_type = match value["command"].as_str() {
            Some("doctor") => Some("DoctorData"),
            Some("init") => Some("InitData"),
            Some("up") => Some("UpData"),
            Some("verify") => Some("VerifyData"),
            _ => None,
        };
        if let (Some(t), Some(data)) = (data_type, value.get("data")) {
            let mut sub = schema.clone();
            sub.as_object_mut().unwrap().remove("anyOf");
            sub["$ref"] = serde_json::Value::String(format!("#/$defs/{t}"));
            let v = jsonschema::draft202012::new(&sub).expect("the data schema compiles");
            for e in v.iter_errors(data) {
                problems.push(format!("{name}: data is not {t}: {e} at {}", e.instance_path()));
            }
        }
        checked += 1;
    }
    assert!(checked >= 5, "only {checked} recordings in {}", dir.display());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
