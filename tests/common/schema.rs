//! Validating a devcontainer.json against the official schema (`tests/fixtures/devcontainer-schema/`, copied from
//! devcontainers/spec with its source in SOURCE.md there): `devContainer.base.schema.json`, JSON Schema draft 2019-09 with `unevaluatedProperties`, so the
//! validator is built for draft 2019-09 explicitly (a draft-07 validator rejects valid files). The base schema
//! needs no network: its `$ref`s are all local. Parse the JSONC first (`devgpu::config::parse_jsonc`).
//!
//! The schema is part of the repository, so a missing file is a broken checkout: the helpers panic in CI and
//! otherwise print a skip note once; [`schema_available`] tells which.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::{Once, OnceLock};

/// `<crate>/tests/fixtures/devcontainer-schema/devContainer.base.schema.json`
pub fn schema_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/devcontainer-schema/devContainer.base.schema.json")
}

fn validator() -> Option<&'static jsonschema::Validator> {
    static VALIDATOR: OnceLock<Option<jsonschema::Validator>> = OnceLock::new();
    VALIDATOR
        .get_or_init(|| {
            let path = schema_path();
            let text = match std::fs::read_to_string(&path) {
                Ok(text) => text,
                Err(e) if std::env::var_os("CI").is_some() => {
                    panic!("the devcontainer schema is missing in CI: {}: {e}", path.display())
                }
                Err(_) => return None,
            };
            let schema: serde_json::Value =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
            assert_eq!(
                schema["$schema"], "https://json-schema.org/draft/2019-09/schema",
                "SOURCE.md says the base schema is draft 2019-09; re-check the validator draft if this changed"
            );
            let validator = jsonschema::options()
                .with_draft(jsonschema::Draft::Draft201909)
                .build(&schema)
                .unwrap_or_else(|e| panic!("{} does not compile as a draft 2019-09 schema: {e}", path.display()));
            Some(validator)
        })
        .as_ref()
}

/// True when the shared schema is there (always true in CI, where its absence panics).
pub fn schema_available() -> bool {
    let available = validator().is_some();
    if !available {
        static NOTE: Once = Once::new();
        NOTE.call_once(|| {
            eprintln!(
                "note: skipping devcontainer schema checks: {} is missing (set CI to make this fail)",
                schema_path().display()
            )
        });
    }
    available
}

/// Validates a parsed devcontainer.json. Each error is one line `"<instance path>: <message>"`, e.g.
/// `/runArgs: "x" is not of type "array"`; the schema's `oneOf` failures are followed by what failed in each
/// branch, indented, so the real cause is visible. Accepts everything (after a skip note) when the schema is
/// missing outside CI.
pub fn validate_devcontainer(value: &serde_json::Value) -> Result<(), Vec<String>> {
    if !schema_available() {
        return Ok(());
    }
    let validator = validator().expect("checked above");
    let mut errors = Vec::new();
    for error in validator.iter_errors(value) {
        describe(&error, 0, &mut errors);
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// One line per error, then the errors inside each `oneOf`/`anyOf` branch, indented by depth.
fn describe(error: &jsonschema::ValidationError<'_>, depth: usize, out: &mut Vec<String>) {
    let path = error.instance_path().to_string();
    let line = format!("{}{}: {error}", "  ".repeat(depth), if path.is_empty() { "/" } else { path.as_str() });
    if !out.contains(&line) {
        out.push(line);
    }
    use jsonschema::error::ValidationErrorKind as K;
    if let K::OneOfNotValid { context } | K::AnyOf { context } | K::OneOfMultipleValid { context } = error.kind() {
        for branch in context {
            for inner in branch {
                describe(inner, depth + 1, out);
            }
        }
    }
}
