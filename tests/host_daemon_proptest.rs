//! Properties of the daemon.json edit over generated inputs:
//! - arbitrary JSON objects (the keys devgpu edits among others, any value types, several layouts): no panic;
//!   when the edit succeeds the output is strict JSON (serde_json parses it) with every original key and value,
//!   the runtime registered as asked, and planning the output again changes nothing (byte-identical);
//! - arbitrary bytes, and valid files with a byte edited: no panic; whatever is written is what dockerd accepts
//!   (devgpu's Go-compatible reader) and a second run is a no-op.

use devgpu::host::daemon_json::parse_daemon_json;
use devgpu::plan::daemon::{plan_daemon_json, DaemonRequest};
use proptest::prelude::*;
use serde_json::{Map, Value};

fn installed(_: &str) -> bool {
    true
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1e12f64..1e12).prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
        prop_oneof![Just("nvidia"), Just("runc"), Just("runsc"), Just("nvidia-container-runtime")].prop_map(|s| Value::String(s.to_string())),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..4).prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop_oneof![Just("runtimes"), Just("default-runtime"), Just("features"), Just("exec-opts"), Just("log-driver"), Just("cdi"), Just("nvidia"), Just("path"), Just("runtimeArgs"), Just("args")].prop_map(str::to_string),
        2 => "[a-z-]{1,10}",
        1 => ".{0,6}",
    ]
}

/// A well-typed runtime entry, so that many generated files are ones dockerd starts with.
fn runtime_entry() -> impl Strategy<Value = Value> {
    (prop_oneof![Just("runc"), Just("/usr/bin/runsc"), Just("nvidia-container-runtime")], prop::collection::vec("[a-z=-]{1,8}", 0..3), any::<bool>())
        .prop_map(|(path, args, use_args_key)| {
            let mut m = Map::new();
            m.insert("path".into(), Value::from(path));
            m.insert(if use_args_key { "args" } else { "runtimeArgs" }.into(), Value::from(args));
            Value::Object(m)
        })
}

fn object() -> impl Strategy<Value = Map<String, Value>> {
    let runtimes = prop::collection::vec((prop_oneof![Just("nvidia".to_string()), Just("runsc".to_string()), "[a-z]{1,6}"], runtime_entry()), 0..3)
        .prop_map(|rs| Value::Object(rs.into_iter().filter(|(n, _)| n != "runc").collect()));
    let features = prop::collection::vec((prop_oneof![Just("cdi".to_string()), Just("buildkit".to_string()), "[a-z]{1,6}"], any::<bool>()), 0..3)
        .prop_map(|fs| Value::Object(fs.into_iter().map(|(k, b)| (k, Value::Bool(b))).collect()));
    (
        prop::collection::vec((key(), value()), 0..6),
        prop::option::of(runtimes),
        prop::option::of(features),
        prop::option::of(prop_oneof![Just("nvidia"), Just("runc"), Just("runsc")]),
        any::<u8>(),
    )
        .prop_map(|(random, runtimes, features, default, order)| {
            let mut typed = vec![];
            if let Some(r) = runtimes {
                typed.push(("runtimes".to_string(), r));
            }
            if let Some(f) = features {
                typed.push(("features".to_string(), f));
            }
            if let Some(d) = default {
                typed.push(("default-runtime".to_string(), Value::from(d)));
            }
            let mut all: Vec<(String, Value)> = random;
            // Mix the typed keys in at a position that depends on `order` (later duplicates replace earlier ones).
            for (i, kv) in typed.into_iter().enumerate() {
                let at = (order as usize + i * 3) % (all.len() + 1);
                all.insert(at, kv);
            }
            all.into_iter().collect()
        })
}

/// The same object written in one of several layouts.
fn layout(obj: &Map<String, Value>, style: u8) -> Vec<u8> {
    let v = Value::Object(obj.clone());
    let text = match style % 4 {
        0 => serde_json::to_string(&v).unwrap(),
        1 => serde_json::to_string_pretty(&v).unwrap() + "\n",
        2 => serde_json::to_string_pretty(&v).unwrap().replace("  ", "\t").replace('\n', "\r\n"),
        _ => {
            let mut buf = Vec::new();
            let mut ser = serde_json::Serializer::with_formatter(&mut buf, serde_json::ser::PrettyFormatter::with_indent(b"    "));
            serde::Serialize::serialize(&v, &mut ser).unwrap();
            String::from_utf8(buf).unwrap() + "\n"
        }
    };
    text.into_bytes()
}

fn request() -> impl Strategy<Value = DaemonRequest> {
    (any::<bool>(), any::<bool>(), any::<bool>(), prop_oneof![Just("nvidia-container-runtime"), Just("/usr/local/bin/nvidia-container-runtime")])
        .prop_map(|(set_default, cdi, repair, path)| DaemonRequest { runtime_path: path.to_string(), set_default, cdi, repair })
}

/// Planning `bytes` again with the same request changes nothing.
fn assert_second_run_is_a_no_op(bytes: &[u8], req: &DaemonRequest) {
    let again = plan_daemon_json(Some(bytes), "daemon.json", req, &installed).unwrap_or_else(|e| panic!("the output is refused: {e}\n{}", String::from_utf8_lossy(bytes)));
    assert!(!again.changed, "second run changed:\n{}\n→\n{}", String::from_utf8_lossy(bytes), String::from_utf8_lossy(&again.new));
    assert_eq!(again.new, bytes);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn json_objects_keep_every_key_and_value(obj in object(), style in any::<u8>(), req in request()) {
        let input = layout(&obj, style);
        let Ok(plan) = plan_daemon_json(Some(&input), "daemon.json", &req, &installed) else {
            // Refused: then dockerd refuses the input too, or the edit cannot make it valid (e.g. a default
            // runtime that does not exist and --set-default was not asked for).
            prop_assert!(parse_daemon_json(&input, "daemon.json").is_err());
            return Ok(());
        };
        let out: Value = serde_json::from_slice(&plan.new).unwrap_or_else(|e| panic!("not strict JSON ({e}):\n{}", String::from_utf8_lossy(&plan.new)));
        let out = out.as_object().unwrap();
        for (k, v) in &obj {
            match k.as_str() {
                "runtimes" if v.is_object() => {
                    for (name, entry) in v.as_object().unwrap() {
                        prop_assert_eq!(&out["runtimes"][name], entry, "runtime {} changed", name);
                    }
                }
                "runtimes" => prop_assert!(v.is_null() && out["runtimes"].is_object()),
                "features" if v.is_object() => {
                    for (f, b) in v.as_object().unwrap() {
                        if !(req.cdi && f == "cdi") {
                            prop_assert_eq!(&out["features"][f], b, "feature {} changed", f);
                        }
                    }
                }
                "features" if req.cdi => prop_assert!(v.is_null()),
                "default-runtime" if req.set_default => {}
                _ => prop_assert_eq!(out.get(k), Some(v), "key {:?} changed", k),
            }
        }
        let parsed = parse_daemon_json(&plan.new, "daemon.json").unwrap();
        prop_assert!(parsed.runtime("nvidia").is_some());
        if req.set_default {
            prop_assert_eq!(parsed.default_runtime.as_deref(), Some("nvidia"));
        }
        if req.cdi {
            prop_assert_eq!(parsed.features_cdi, Some(true));
        }
        // Nothing to do: nothing changes, byte for byte.
        if !plan.changed {
            prop_assert_eq!(&plan.new, &input);
        }
        assert_second_run_is_a_no_op(&plan.new, &req);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200), req in request()) {
        let _ = parse_daemon_json(&bytes, "daemon.json");
        if let Ok(plan) = plan_daemon_json(Some(&bytes), "daemon.json", &req, &installed) {
            parse_daemon_json(&plan.new, "daemon.json").unwrap();
            assert_second_run_is_a_no_op(&plan.new, &req);
        }
    }

    #[test]
    fn valid_files_with_one_byte_edited(obj in object(), style in any::<u8>(), at in any::<prop::sample::Index>(), byte in prop_oneof![Just(b','), Just(b'}'), Just(b'/'), Just(b'"'), Just(b' '), any::<u8>()], insert in any::<bool>(), req in request()) {
        let mut bytes = layout(&obj, style);
        let i = at.index(bytes.len() + 1);
        if insert || i == bytes.len() {
            bytes.insert(i, byte);
        } else {
            bytes[i] = byte;
        }
        let _ = parse_daemon_json(&bytes, "daemon.json");
        if let Ok(plan) = plan_daemon_json(Some(&bytes), "daemon.json", &req, &installed) {
            let parsed = parse_daemon_json(&plan.new, "daemon.json");
            prop_assert!(parsed.is_ok(), "wrote a file dockerd refuses: {:?}\n{}", parsed.err(), String::from_utf8_lossy(&plan.new));
            // Strict JSON for serde_json too, unless the input had what Go accepts and serde_json does not
            // (bytes that are not UTF-8, lone surrogate escapes).
            let lone_surrogate = bytes.windows(3).any(|w| w[0] == b'\\' && (w[1] == b'u' || w[1] == b'U'));
            if std::str::from_utf8(&bytes).is_ok() && !lone_surrogate {
                prop_assert!(serde_json::from_slice::<Value>(&plan.new).is_ok(), "{}", String::from_utf8_lossy(&plan.new));
            }
            assert_second_run_is_a_no_op(&plan.new, &req);
        }
    }
}
