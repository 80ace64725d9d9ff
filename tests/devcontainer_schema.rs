//! The schema helper in `tests/common/schema.rs` must be able to fail: known-bad devcontainer.json values are
//! rejected for the right reason, known-good ones (including what devgpu writes) are accepted.

mod common;

use common::schema::{schema_available, validate_devcontainer};
use serde_json::json;

fn errors_of(value: serde_json::Value) -> Vec<String> {
    match validate_devcontainer(&value) {
        Ok(()) => Vec::new(),
        Err(errors) => errors,
    }
}

#[test]
fn accepts_good_configs() {
    if !schema_available() {
        return;
    }
    let good = [
        json!({"image": "mcr.microsoft.com/devcontainers/base:ubuntu"}),
        json!({"name": "gpu", "build": {"dockerfile": "Dockerfile", "context": "..", "args": {"CUDA": "12.4.1"}},
               "runArgs": ["--gpus", "all", "--shm-size", "8g"], "hostRequirements": {"gpu": true},
               "customizations": {"vscode": {"extensions": ["ms-python.python"]}}, "remoteUser": "vscode"}),
        json!({"image": "x", "hostRequirements": {"gpu": "optional"}}),
        json!({"image": "x", "hostRequirements": {"gpu": {"cores": 2, "memory": "16gb"}}}),
        json!({"dockerFile": "Dockerfile", "context": "..", "build": {"args": {"A": "1"}}}),
        json!({"dockerComposeFile": ["a.yml"], "service": "app", "workspaceFolder": "/w"}),
        json!({"image": "x:${templateOption:imageVariant}", "remoteEnv": {"A": "${localEnv:A}"}}),
    ];
    for value in good {
        assert_eq!(errors_of(value.clone()), Vec::<String>::new(), "{value}");
    }
}

#[test]
fn rejects_bad_configs() {
    if !schema_available() {
        return;
    }
    let bad = [
        (json!({"image": "x", "runArgs": "--gpus all"}), "/runArgs"),
        (json!({"image": "x", "runArgs": ["--gpus", 1]}), "/runArgs/1"),
        (json!({"image": "x", "hostRequirements": {"gpu": "yes"}}), "/hostRequirements/gpu"),
        (json!({"image": "x", "hostRequirements": {"gpu": {"cores": 0}}}), "/hostRequirements/gpu"),
        (json!({"image": "x", "hostRequirements": {"gpus": true}}), "/hostRequirements"),
        (json!({"image": "x", "build": {"dockerfile": "Dockerfile"}}), ""),
        (json!({"build": {"context": ".."}}), ""),
        (json!({"build": {"dockerfile": "D", "unknownKey": 1}}), ""),
        (json!({"build": {"dockerfile": "D", "args": {"A": 1}}}), ""),
        (json!({"image": "x", "notADevcontainerProperty": true}), ""),
        (json!({"dockerComposeFile": "a.yml"}), ""),
        (
            json!({"dockerComposeFile": "a.yml", "service": "app", "workspaceFolder": "/w", "runArgs": ["--gpus", "all"]}),
            "",
        ),
        (json!({"image": 5}), "/image"),
        (json!({"image": "x", "customizations": []}), "/customizations"),
        (json!(["--gpus", "all"]), ""),
        // No image, build or dockerComposeFile: the schema's last branch allows no properties at all
        // (`additionalProperties: false` beside a `$ref`), so such a config is rejected.
        (json!({"name": "x", "remoteUser": "root"}), ""),
    ];
    for (value, path) in bad {
        let errors = errors_of(value.clone());
        assert!(!errors.is_empty(), "accepted a bad config: {value}");
        assert!(
            errors.iter().any(|e| e.trim_start().starts_with(if path.is_empty() { "/" } else { path })),
            "{value}: {errors:?}"
        );
    }
}

#[test]
fn error_names_the_place_and_the_problem() {
    if !schema_available() {
        return;
    }
    let errors = errors_of(json!({"image": "x", "runArgs": "--gpus all"}));
    assert!(errors.iter().any(|e| e.trim_start().starts_with("/runArgs:") && e.contains("\"array\"")), "{errors:?}");
}

#[test]
fn draft_2019_09_keywords_are_honoured() {
    if !schema_available() {
        return;
    }
    // unevaluatedProperties: an unknown top-level key is only caught by a 2019-09 validator.
    assert!(!errors_of(json!({"image": "x", "imagee": "typo"})).is_empty());
    // A draft-07 validator ignores keywords beside $ref and rejects valid files ("valid under each of"):
    // a 2019-09 validator accepts this one.
    assert_eq!(
        errors_of(json!({"image": "x", "runArgs": ["--gpus", "all"], "workspaceFolder": "/w"})),
        Vec::<String>::new()
    );
}
