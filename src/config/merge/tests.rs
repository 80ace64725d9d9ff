use super::*;
use crate::config::{parse_jsonc, run_args};
use serde_json::json;

fn gpu_only() -> GpuSettings {
    GpuSettings { gpu_run_args: vec!["--gpus".into(), "all".into()], ..Default::default() }
}

fn full() -> GpuSettings {
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
        name: Some("GPU".into()),
    }
}

/// Merges, checks the result parses, and checks a second merge changes nothing.
fn merge(text: &str, settings: &GpuSettings) -> MergeOutcome {
    let out = merge_gpu_settings(text, "devcontainer.json", settings).unwrap();
    parse_jsonc(&out.text, "merged").unwrap_or_else(|e| panic!("merged text does not parse: {e}\n{}", out.text));
    let again = merge_gpu_settings(&out.text, "devcontainer.json", settings).unwrap();
    assert_eq!(again.text, out.text, "second merge changed the text");
    assert!(again.changes.is_empty(), "second merge reported changes: {:?}", again.changes);
    assert_eq!(out.changes.is_empty(), out.text == text);
    out
}

fn run_args_of(text: &str) -> Vec<String> {
    let v = parse_jsonc(text, "f").unwrap();
    v["runArgs"].as_array().map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect()).unwrap_or_default()
}

#[test]
fn python_template_gets_everything_after_the_last_property() {
    let text = "// head\n{\n\t\"name\": \"Python 3\",\n\t// Or use a Dockerfile\n\t\"image\": \"mcr.microsoft.com/devcontainers/python:3-${templateOption:imageVariant}\"\n\n\t// Features to add\n\t// \"features\": {},\n\n\t// \"remoteUser\": \"root\"\n}\n";
    let out = merge(text, &full());
    assert_eq!(
        out.text,
        "// head\n{\n\t\"name\": \"Python 3\",\n\t// Or use a Dockerfile\n\t\"build\": {\n\t\t\"dockerfile\": \"Dockerfile\",\n\t\t\"context\": \"..\",\n\t\t\"args\": {\n\t\t\t\"CUDA_VERSION\": \"12.4.1\"\n\t\t}\n\t},\n\t\"runArgs\": [\"--gpus\", \"all\", \"--shm-size\", \"8g\"],\n\t\"hostRequirements\": {\n\t\t\"gpu\": true\n\t},\n\t\"customizations\": {\n\t\t\"vscode\": {\n\t\t\t\"extensions\": [\"ms-python.python\"]\n\t\t}\n\t},\n\t\"remoteUser\": \"vscode\"\n\n\t// Features to add\n\t// \"features\": {},\n\n\t// \"remoteUser\": \"root\"\n}\n"
    );
    assert_eq!(
        out.changes,
        [
            "replaced image \"mcr.microsoft.com/devcontainers/python:3-${templateOption:imageVariant}\" with build (dockerfile \"Dockerfile\", context \"..\", args CUDA_VERSION=12.4.1)",
            "added --gpus all to runArgs",
            "added --shm-size 8g to runArgs",
            "added hostRequirements.gpu true",
            "added ms-python.python to customizations.vscode.extensions",
            "added remoteUser \"vscode\"",
        ]
    );
    assert!(out.notes.is_empty(), "{:?}", out.notes);
}

#[test]
fn empty_object() {
    for text in ["{}", "{}\n", "{ }\n", "// c\n{\n}\n"] {
        let out = merge(text, &gpu_only());
        assert_eq!(run_args_of(&out.text), ["--gpus", "all"], "{text:?}");
        assert!(out.text.ends_with('\n') == text.ends_with('\n'));
    }
    assert_eq!(merge("{}\n", &gpu_only()).text, "{\n  \"runArgs\": [\"--gpus\", \"all\"]\n}\n");
}

#[test]
fn name_goes_first_and_only_when_absent() {
    let out = merge(
        "{\n  // about the image\n  \"image\": \"x\"\n}\n",
        &GpuSettings { name: Some("GPU dev".into()), ..Default::default() },
    );
    assert_eq!(out.text, "{\n  \"name\": \"GPU dev\",\n  // about the image\n  \"image\": \"x\"\n}\n");
    let out = merge("{\"name\": \"mine\"}", &GpuSettings { name: Some("GPU dev".into()), ..Default::default() });
    assert!(out.changes.is_empty() && out.notes.is_empty());
}

#[test]
fn joined_gpus_item_is_split() {
    let text = "{\n  \"image\": \"x\",\n  \"runArgs\": [\n    \"--init\",\n    \"--gpus all\" // needs a GPU\n  ]\n}\n";
    let out = merge(text, &gpu_only());
    // The comment stays on the line of the item it was written after, now the flag.
    assert_eq!(out.text, "{\n  \"image\": \"x\",\n  \"runArgs\": [\n    \"--init\",\n    \"--gpus\", // needs a GPU\n    \"all\"\n  ]\n}\n");
    assert_eq!(out.changes.len(), 1, "{:?}", out.changes);
    assert!(
        out.changes[0]
            .starts_with("split runArgs item \"--gpus all\" at devcontainer.json:5:5 into \"--gpus\", \"all\""),
        "{:?}",
        out.changes
    );
}

#[test]
fn joined_shm_item_is_split_and_counts() {
    let text = "{\"runArgs\": [\"--shm-size 2g\", \"--gpus=all\"]}";
    let settings = GpuSettings { shm_run_args: vec!["--shm-size".into(), "8g".into()], ..gpu_only() };
    let out = merge(text, &settings);
    assert_eq!(run_args_of(&out.text), ["--shm-size", "2g", "--gpus=all"]);
    assert_eq!(out.changes.len(), 1);
    assert_eq!(out.notes.len(), 1);
    assert!(out.notes[0].contains("`--shm-size 2g`") && out.notes[0].contains("`--shm-size 8g`"), "{:?}", out.notes);
}

#[test]
fn existing_gpus_equals_is_kept_silently() {
    let text = "{\n  \"runArgs\": [\"--gpus=all\"]\n}\n";
    let out = merge(text, &gpu_only());
    assert_eq!(out.text, text);
    assert!(out.changes.is_empty() && out.notes.is_empty());
}

#[test]
fn existing_different_gpus_is_kept_with_a_note() {
    let text = "{\n  \"runArgs\": [\n    \"--gpus\",\n    \"1\"\n  ]\n}\n";
    let out = merge(text, &gpu_only());
    assert_eq!(out.text, text);
    assert_eq!(
        out.notes,
        ["runArgs already requests GPUs with `--gpus 1` (devcontainer.json:3:5); kept it instead of `--gpus all`"]
    );
}

#[test]
fn cdi_and_device_nodes_count_as_requests() {
    for (text, how) in [
        ("{\"runArgs\": [\"--device=nvidia.com/gpu=all\"]}", "through CDI"),
        ("{\"runArgs\": [\"--device\", \"/dev/nvidia0\", \"--device\", \"/dev/nvidiactl\"]}", "device nodes"),
    ] {
        let out = merge(text, &gpu_only());
        assert_eq!(out.text, text);
        assert!(out.notes[0].contains(how), "{:?}", out.notes);
    }
}

#[test]
fn nvidia_runtime_alone_gets_gpus_added() {
    let out = merge("{\"runArgs\": [\"--runtime=nvidia\"]}", &gpu_only());
    assert_eq!(run_args_of(&out.text), ["--runtime=nvidia", "--gpus", "all"]);
    assert!(out.notes[0].contains("--runtime=nvidia"));
}

#[test]
fn dangling_gpus_flag_gets_its_value() {
    let out = merge("{\"runArgs\": [\"--init\", \"--gpus\"]}", &gpu_only());
    assert_eq!(run_args_of(&out.text), ["--init", "--gpus", "all"]);
    assert_eq!(out.changes.len(), 1);
    assert!(out.changes[0].contains("missing value"), "{:?}", out.changes);
}

#[test]
fn shm_not_added_when_ipc_host() {
    let settings = GpuSettings { shm_run_args: vec!["--shm-size".into(), "8g".into()], ..Default::default() };
    // --ipc=host shares the host's /dev/shm: nothing to add, nothing worth a note.
    let out = merge("{\"runArgs\": [\"--ipc=host\"]}", &settings);
    assert!(out.changes.is_empty() && out.notes.is_empty(), "{out:?}");
    // A different size is kept, with a note.
    let out = merge("{\"runArgs\": [\"--shm-size=64m\"]}", &settings);
    assert!(out.changes.is_empty());
    assert_eq!(out.notes.len(), 1);
    let settings = GpuSettings { shm_run_args: vec!["--ipc=host".into()], ..Default::default() };
    let out = merge("{\"runArgs\": [\"--ipc\", \"host\"]}", &settings);
    assert!(out.changes.is_empty() && out.notes.is_empty());
}

#[test]
fn existing_run_args_single_line_get_appended_inline() {
    let out = merge("{\"image\": \"x\", \"runArgs\": [\"--init\"]}\n", &gpu_only());
    assert!(out.text.contains("\"runArgs\": [\"--init\", \"--gpus\", \"all\"]"), "{}", out.text);
}

#[test]
fn crlf_tabs_and_trailing_commas_are_kept() {
    let text = "{\r\n\t\"image\": \"x\", // the image\r\n\t\"runArgs\": [\r\n\t\t\"--init\",\r\n\t],\r\n}\r\n";
    let out = merge(text, &full());
    assert!(!out.text.replace("\r\n", "").contains('\n'), "a bare LF slipped in:\n{:?}", out.text);
    assert!(out.text.contains("// the image\r\n"));
    assert!(out.text.contains("\t\t\"--init\",\r\n\t\t\"--gpus\",\r\n\t\t\"all\",\r\n"), "{:?}", out.text);
    assert!(!out.text.contains("  "), "spaces used for indentation in a tab file: {:?}", out.text);
    assert!(out.text.ends_with("\t\"remoteUser\": \"vscode\",\r\n}\r\n"), "{:?}", out.text);
}

#[test]
fn byte_order_mark_is_kept() {
    let out = merge("\u{feff}{\"image\": \"x\"}", &gpu_only());
    assert!(out.text.starts_with("\u{feff}{"));
}

#[test]
fn commented_out_properties_after_the_last_one_stay_comments() {
    let text = "{\n  \"image\": \"x\"\n  // \"remoteUser\": \"root\",\n  /* \"runArgs\": [] */\n}\n";
    let out = merge(text, &GpuSettings { remote_user: Some("vscode".into()), ..gpu_only() });
    assert_eq!(
        out.text,
        "{\n  \"image\": \"x\",\n  \"runArgs\": [\"--gpus\", \"all\"],\n  \"remoteUser\": \"vscode\"\n  // \"remoteUser\": \"root\",\n  /* \"runArgs\": [] */\n}\n"
    );
}

#[test]
fn existing_build_is_updated_not_replaced() {
    let text = "{\n  \"build\": {\n    \"dockerfile\": \"Dockerfile\", // ours\n    \"target\": \"dev\",\n    \"args\": {\"EXTRA\": \"1\", \"CUDA_VERSION\": \"11.8.0\"}\n  }\n}\n";
    let out = merge(text, &GpuSettings { build: full().build, ..Default::default() });
    let v = parse_jsonc(&out.text, "f").unwrap();
    assert_eq!(
        v["build"],
        json!({"dockerfile": "Dockerfile", "target": "dev", "args": {"EXTRA": "1", "CUDA_VERSION": "12.4.1"}, "context": ".."})
    );
    assert!(out.text.contains("// ours"));
    assert_eq!(
        out.changes,
        ["added build.context \"..\"", "set build.args.CUDA_VERSION to \"12.4.1\" (was \"11.8.0\")"]
    );
}

#[test]
fn image_and_build_together_lose_the_image() {
    let text = "{\n  \"image\": \"x\",\n  \"build\": {\"dockerfile\": \"Dockerfile\", \"context\": \"..\"}\n}\n";
    let settings = GpuSettings {
        build: Some(BuildSettings { dockerfile: "Dockerfile".into(), context: "..".into(), args: vec![] }),
        ..Default::default()
    };
    let out = merge(text, &settings);
    assert_eq!(out.text, "{\n  \"build\": {\"dockerfile\": \"Dockerfile\", \"context\": \"..\"}\n}\n");
    assert_eq!(out.changes.len(), 1);
}

#[test]
fn legacy_dockerfile_form_is_kept() {
    let text = "{\n  \"dockerFile\": \"Dockerfile.old\"\n}\n";
    let out = merge(text, &GpuSettings { build: full().build, ..Default::default() });
    let v = parse_jsonc(&out.text, "f").unwrap();
    assert_eq!(v, json!({"dockerFile": "Dockerfile", "context": "..", "build": {"args": {"CUDA_VERSION": "12.4.1"}}}));
}

#[test]
fn build_none_leaves_image_alone() {
    let out = merge("{\"image\": \"x\"}", &gpu_only());
    assert_eq!(parse_jsonc(&out.text, "f").unwrap()["image"], "x");
}

#[test]
fn host_requirements_merge() {
    let settings = GpuSettings { host_requirements_gpu: Some(json!(true)), ..Default::default() };
    let out = merge("{\"hostRequirements\": {\"cpus\": 4}}", &settings);
    assert_eq!(parse_jsonc(&out.text, "f").unwrap()["hostRequirements"], json!({"cpus": 4, "gpu": true}));
    let out = merge("{\"hostRequirements\": {\"gpu\": \"optional\"}}", &settings);
    assert!(out.changes.is_empty());
    assert_eq!(out.notes, ["kept hostRequirements.gpu \"optional\" (devcontainer.json:1:30) instead of true"]);
    let object =
        GpuSettings { host_requirements_gpu: Some(json!({"cores": 1, "memory": "8gb"})), ..Default::default() };
    let out = merge("{}", &object);
    assert_eq!(parse_jsonc(&out.text, "f").unwrap()["hostRequirements"]["gpu"], json!({"cores": 1, "memory": "8gb"}));
}

#[test]
fn extensions_are_appended_once() {
    let settings = GpuSettings {
        extensions: vec!["ms-python.python".into(), "ms-toolsai.jupyter".into(), "ms-python.python".into()],
        ..Default::default()
    };
    let text = "{\n  \"customizations\": {\n    \"vscode\": {\n      \"extensions\": [\n        \"MS-Python.python\"\n      ]\n    }\n  }\n}\n";
    let out = merge(text, &settings);
    assert_eq!(out.changes, ["added ms-toolsai.jupyter to customizations.vscode.extensions"]);
    assert!(out.text.contains("        \"MS-Python.python\",\n        \"ms-toolsai.jupyter\"\n"), "{}", out.text);
    let out = merge("{\"customizations\": {\"codespaces\": {}}}", &settings);
    assert_eq!(
        parse_jsonc(&out.text, "f").unwrap()["customizations"]["vscode"]["extensions"],
        json!(["ms-python.python", "ms-toolsai.jupyter"])
    );
    let out = merge("{\"customizations\": {\"vscode\": {\"settings\": {}}}}", &settings);
    assert_eq!(parse_jsonc(&out.text, "f").unwrap()["customizations"]["vscode"]["settings"], json!({}));
}

#[test]
fn disabled_extension_is_respected() {
    let settings = GpuSettings { extensions: vec!["ms-python.python".into()], ..Default::default() };
    let out = merge("{\"customizations\": {\"vscode\": {\"extensions\": [\"-ms-python.python\"]}}}", &settings);
    assert!(out.changes.is_empty());
    assert_eq!(out.notes.len(), 1);
}

#[test]
fn remote_user_only_when_absent() {
    let settings = GpuSettings { remote_user: Some("vscode".into()), ..Default::default() };
    let out = merge("{\n  \"remoteUser\": \"root\"\n}", &settings);
    assert!(out.changes.is_empty());
    assert_eq!(out.notes, ["kept remoteUser \"root\" (devcontainer.json:2:17) instead of \"vscode\""]);
}

#[test]
fn placeholders_survive() {
    let text = "{\"image\": \"${localEnv:IMAGE}\", \"runArgs\": [\"--env=A=${localEnv:A}\"], \"remoteUser\": \"${templateOption:user}\"}";
    let out = merge(text, &GpuSettings { remote_user: Some("vscode".into()), ..gpu_only() });
    let v = parse_jsonc(&out.text, "f").unwrap();
    assert_eq!(v["runArgs"], json!(["--env=A=${localEnv:A}", "--gpus", "all"]));
    assert_eq!(v["remoteUser"], "${templateOption:user}");
    assert_eq!(v["image"], "${localEnv:IMAGE}");
}

#[test]
fn nothing_requested_changes_nothing() {
    let text = "{ /* odd */ \"image\":\"x\" ,\n\n}";
    let out = merge(text, &GpuSettings::default());
    assert_eq!(out.text, text);
}

#[test]
fn compose_is_refused() {
    let text = "{\n  \"name\": \"x\",\n  \"dockerComposeFile\": \"docker-compose.yml\",\n  \"service\": \"app\",\n  \"workspaceFolder\": \"/w\"\n}\n";
    let err = merge_gpu_settings(text, "devcontainer.json", &full()).unwrap_err();
    assert_eq!(
        err,
        ConfigError::ComposeUnsupported {
            file: "devcontainer.json".into(),
            line: 3,
            column: 3,
            service: Some("app".into())
        }
    );
    use crate::error::Coded;
    assert_eq!(err.code(), "devcontainer-compose-unsupported");
}

#[test]
fn root_must_be_an_object() {
    for (text, found) in [("[1, 2]", "an array"), ("// c\n\"x\"", "a string"), ("42", "a number")] {
        match merge_gpu_settings(text, "d.json", &gpu_only()).unwrap_err() {
            ConfigError::NotObject { found: f, .. } => assert_eq!(f, found),
            other => panic!("{other:?}"),
        }
    }
    assert!(matches!(merge_gpu_settings("// only\n", "d.json", &gpu_only()), Err(ConfigError::Empty { .. })));
}

#[test]
fn wrong_types_are_refused_with_position() {
    let cases = [
        ("{\n  \"runArgs\": \"--gpus all\"\n}", "runArgs", (2, 14)),
        ("{\n  \"runArgs\": [\"--init\", 5]\n}", "runArgs[1]", (2, 25)),
        ("{\"customizations\": []}", "customizations", (1, 20)),
        ("{\"customizations\": {\"vscode\": true}}", "customizations.vscode", (1, 31)),
        ("{\"customizations\": {\"vscode\": {\"extensions\": {}}}}", "customizations.vscode.extensions", (1, 46)),
        ("{\"hostRequirements\": \"gpu\"}", "hostRequirements", (1, 22)),
        ("{\"build\": \"Dockerfile\"}", "build", (1, 11)),
        ("{\"build\": {\"dockerfile\": 1}}", "build.dockerfile", (1, 26)),
        ("{\"build\": {\"args\": []}}", "build.args", (1, 20)),
    ];
    for (text, path, pos) in cases {
        match merge_gpu_settings(text, "d.json", &full()).unwrap_err() {
            ConfigError::WrongType { path: p, line, column, .. } => {
                assert_eq!((p.as_str(), (line, column)), (path, pos), "{text}");
            }
            other => panic!("{text}: {other:?}"),
        }
    }
}

#[test]
fn untouched_parts_are_not_checked() {
    // runArgs is wrong, but nothing asks to touch it.
    let out = merge("{\"runArgs\": \"x\"}", &GpuSettings { remote_user: Some("u".into()), ..Default::default() });
    assert_eq!(out.changes.len(), 1);
}

#[test]
fn duplicate_run_args_refused() {
    let err = merge_gpu_settings("{\"runArgs\": [], \"runArgs\": []}", "d.json", &gpu_only()).unwrap_err();
    assert!(matches!(err, ConfigError::DuplicateKey { .. }), "{err:?}");
}

#[test]
fn syntax_errors_carry_position() {
    let err = merge_gpu_settings("{\n  \"a\": 1\n  \"b\": 2\n}", "d.json", &gpu_only()).unwrap_err();
    assert_eq!(err.position(), Some((2, 9)));
}

#[test]
fn cdi_requested_is_added_as_given() {
    let settings = GpuSettings { gpu_run_args: vec!["--device=nvidia.com/gpu=all".into()], ..Default::default() };
    let out = merge("{}", &settings);
    assert_eq!(run_args_of(&out.text), ["--device=nvidia.com/gpu=all"]);
    assert!(run_args::has_gpu_request(&run_args_of(&out.text)));
}

#[test]
fn odd_layouts_stay_valid() {
    let cases = [
        "{ \"image\": \"x\" /* c */ }",
        "{\"image\": \"x\" // c\n}",
        "{\n  \"image\": /* before the value */ \"x\"\n}\n",
        "{\n  \"runArgs\": []\n}\n",
        "{\n  \"runArgs\": [\n    \"--init\" // c\n  ]\n}\n",
        "{\n  \"runArgs\": [ /* nothing yet */ ],\n  \"customizations\": {}\n}\n",
        "{\"customizations\": {\"vscode\": {\"extensions\": []}}}",
        "{\n  \"image\": \"x\"\n}\n// trailing comment after the root\n",
        "/* a */ { /* b */ } /* c */",
        "{\n\n  \"image\": \"x\",\n\n  \"features\": {}\n}\n",
    ];
    for text in cases {
        let out = merge(text, &full());
        let original_comments: Vec<&str> =
            text.match_indices("/*").map(|(i, _)| &text[i..i + text[i..].find("*/").unwrap() + 2]).collect();
        for c in original_comments {
            assert!(out.text.contains(c), "{text:?}: lost {c:?}\n{}", out.text);
        }
        let v = parse_jsonc(&out.text, "f").unwrap();
        assert_eq!(run_args::gpu_requests(&run_args_of(&out.text)).len(), 1, "{text:?}\n{}", out.text);
        assert_eq!(v["build"]["dockerfile"], "Dockerfile", "{text:?}");
    }
}

#[test]
fn comment_between_key_and_value_survives_image_replacement() {
    let out =
        merge("{\n  \"image\": /* pinned */ \"x\"\n}\n", &GpuSettings { build: full().build, ..Default::default() });
    assert!(out.text.starts_with("{\n  \"build\": /* pinned */ {"), "{}", out.text);
}

#[test]
fn many_setting_combinations_are_idempotent() {
    let texts = [
        "{}",
        "{\"image\": \"x\", \"runArgs\": [\"--gpus all\", \"--shm-size 1g\"]}",
        "{\n\t\"build\": {\"dockerfile\": \"D\"},\n\t\"hostRequirements\": {\"memory\": \"8gb\"},\n}\n",
        "{\r\n  \"dockerFile\": \"D\",\r\n  \"image\": \"x\"\r\n}\r\n",
    ];
    let gpus = [
        vec![],
        vec!["--gpus".to_string(), "all".to_string()],
        vec!["--gpus=2".to_string()],
        vec!["--gpus".to_string(), "\"device=0,2\"".to_string()],
    ];
    let shms = [vec![], vec!["--shm-size".to_string(), "8g".to_string()], vec!["--ipc=host".to_string()]];
    let hosts = [None, Some(json!(true)), Some(json!("optional")), Some(json!({"cores": 2}))];
    for text in texts {
        for gpu in &gpus {
            for shm in &shms {
                for host in &hosts {
                    for build in [None, full().build] {
                        let settings = GpuSettings {
                            gpu_run_args: gpu.clone(),
                            shm_run_args: shm.clone(),
                            host_requirements_gpu: host.clone(),
                            build,
                            ..full()
                        };
                        let out = merge(text, &settings);
                        let args = run_args_of(&out.text);
                        assert!(run_args::gpu_requests(&args).len() <= 1, "{text:?} {settings:?}\n{}", out.text);
                        assert!(run_args::shm_settings(&args).len() <= 1, "{text:?} {settings:?}\n{}", out.text);
                    }
                }
            }
        }
    }
}

#[test]
fn an_explicit_gpu_mode_replaces_another_modes_items() {
    let inject: Vec<String> = ["--device", "/dev/nvidia0", "--device", "/dev/nvidiactl", "--mount", "type=bind,source=/usr/local/nvidia,target=/usr/local/nvidia,readonly", "-e", "LD_LIBRARY_PATH=/usr/local/nvidia/lib64"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let text = "{\n  // mine\n  \"runArgs\": [\"--gpus\", \"all\", \"--network=none\"]\n}\n";
    // Without the flag: kept, with a note (init's auto mode).
    let keep = merge(text, &GpuSettings { gpu_run_args: inject.clone(), ..Default::default() });
    assert!(keep.changes.is_empty() && keep.notes[0].contains("kept it"), "{keep:?}");
    // With it: replaced, the rest kept; a second merge changes nothing (checked by `merge`).
    let out = merge(text, &GpuSettings { gpu_run_args: inject.clone(), replace_gpu_request: true, ..Default::default() });
    assert_eq!(run_args_of(&out.text), ["--network=none"].iter().map(|s| s.to_string()).chain(inject.iter().cloned()).collect::<Vec<_>>());
    assert!(out.text.contains("// mine"));
    assert!(out.text.contains("\"runArgs\": [\"--network=none\", \"--device\""), "no stray space after `[`: {}", out.text);
    assert!(out.changes[0].starts_with("replaced `--gpus all` in runArgs with `--device /dev/nvidia0"), "{:?}", out.changes);
    // The same mode with another count is kept (a user's own --gpus 1 stays).
    let same = merge("{\"runArgs\": [\"--gpus\", \"1\"]}", &GpuSettings { replace_gpu_request: true, ..gpu_only() });
    assert!(same.changes.is_empty(), "{same:?}");
    // An inject block for other nodes is refreshed.
    let mut other = inject.clone();
    other[1] = "/dev/nvidia1".into();
    let old = serde_json::json!({ "runArgs": other }).to_string();
    let out = merge(&old, &GpuSettings { gpu_run_args: inject.clone(), replace_gpu_request: true, ..Default::default() });
    assert_eq!(run_args_of(&out.text), inject);
}
