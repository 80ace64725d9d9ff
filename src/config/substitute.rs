//! Variables in devcontainer.json strings, as the Dev Containers CLI replaces them
//! (devcontainers/cli `src/spec-common/variableSubstitution.ts`):
//!
//! `${localEnv:NAME}` / `${env:NAME}` (empty when unset), `${localEnv:NAME:default}`, `${localWorkspaceFolder}`,
//! `${localWorkspaceFolderBasename}`, `${containerWorkspaceFolder}`, `${containerWorkspaceFolderBasename}`,
//! `${devcontainerId}`. `${containerEnv:NAME}` is only known inside the container: [`substitute_container_env`]
//! replaces it there (remoteEnv, lifecycle commands). Anything else is left as written.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// What the variables stand for.
#[derive(Debug, Clone, Default)]
pub struct SubstitutionContext {
    pub local_workspace_folder: String,
    /// `None` until known (it may itself use the local variables).
    pub container_workspace_folder: Option<String>,
    pub devcontainer_id: Option<String>,
    /// The environment of devgpu's own process.
    pub local_env: Vec<(String, String)>,
}

impl SubstitutionContext {
    fn env(&self, name: &str) -> Option<&str> {
        self.local_env.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

fn basename(path: &str) -> &str {
    path.trim_end_matches('/').rsplit('/').next().unwrap_or(path)
}

/// Replaces the variables in one string.
pub fn substitute_str(s: &str, ctx: &SubstitutionContext) -> String {
    replace_vars(s, |var| {
        let (name, args) = match var.split_once(':') {
            Some((n, rest)) => (n, Some(rest)),
            None => (var, None),
        };
        match (name, args) {
            ("localEnv" | "env", Some(rest)) => {
                let (key, default) = match rest.split_once(':') {
                    Some((k, d)) => (k, Some(d)),
                    None => (rest, None),
                };
                Some(ctx.env(key).map(str::to_string).unwrap_or_else(|| default.unwrap_or("").to_string()))
            }
            ("localWorkspaceFolder", None) => Some(ctx.local_workspace_folder.clone()),
            ("localWorkspaceFolderBasename", None) => Some(basename(&ctx.local_workspace_folder).to_string()),
            ("containerWorkspaceFolder", None) => ctx.container_workspace_folder.clone(),
            ("containerWorkspaceFolderBasename", None) => ctx.container_workspace_folder.as_deref().map(|f| basename(f).to_string()),
            ("devcontainerId", None) => ctx.devcontainer_id.clone(),
            _ => None,
        }
    })
}

/// Replaces `${containerEnv:NAME[:default]}` with the container's environment.
pub fn substitute_container_env(s: &str, container_env: &[(String, String)]) -> String {
    replace_vars(s, |var| {
        let rest = var.strip_prefix("containerEnv:")?;
        let (key, default) = match rest.split_once(':') {
            Some((k, d)) => (k, Some(d)),
            None => (rest, None),
        };
        Some(container_env.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()).unwrap_or_else(|| default.unwrap_or("").to_string()))
    })
}

/// Every `${…}` in `s` through `f`; `None` keeps the text as written.
fn replace_vars(s: &str, f: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) => {
                let var = &after[..end];
                match f(var) {
                    Some(v) => out.push_str(&v),
                    None => {
                        out.push_str("${");
                        out.push_str(var);
                        out.push('}');
                    }
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Replaces the variables in every string of a JSON value (keys stay as written).
pub fn substitute_value(v: &Value, ctx: &SubstitutionContext) -> Value {
    match v {
        Value::String(s) => Value::String(substitute_str(s, ctx)),
        Value::Array(a) => Value::Array(a.iter().map(|x| substitute_value(x, ctx)).collect()),
        Value::Object(o) => Value::Object(o.iter().map(|(k, x)| (k.clone(), substitute_value(x, ctx))).collect()),
        other => other.clone(),
    }
}

/// `${devcontainerId}`: the Dev Containers CLI's id of a dev container, from its identifying labels — SHA-256 of
/// the labels as JSON with sorted keys, written in base 32 (digits 0-9a-v), padded to 52 characters.
pub fn devcontainer_id(id_labels: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = id_labels.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let map: serde_json::Map<String, Value> = sorted.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
    let json = serde_json::to_string(&Value::Object(map)).expect("labels serialise");
    let digest = Sha256::digest(json.as_bytes());
    let mut bytes: Vec<u8> = digest.to_vec();
    // Big-number base conversion: repeatedly divide by 32.
    let mut digits = Vec::new();
    while bytes.iter().any(|b| *b != 0) {
        let mut rem: u32 = 0;
        for b in bytes.iter_mut() {
            let cur = (rem << 8) | u32::from(*b);
            *b = (cur / 32) as u8;
            rem = cur % 32;
        }
        digits.push(b"0123456789abcdefghijklmnopqrstuv"[rem as usize]);
    }
    digits.reverse();
    let s = String::from_utf8(digits).expect("ascii");
    format!("{s:0>52}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx() -> SubstitutionContext {
        SubstitutionContext {
            local_workspace_folder: "/home/u/proj".into(),
            container_workspace_folder: Some("/workspaces/proj".into()),
            devcontainer_id: Some("ID".into()),
            local_env: vec![("HOME".into(), "/home/u".into()), ("EMPTY".into(), String::new())],
        }
    }

    #[test]
    fn local_variables() {
        let c = ctx();
        assert_eq!(substitute_str("${localEnv:HOME}/.cache", &c), "/home/u/.cache");
        assert_eq!(substitute_str("${env:HOME}", &c), "/home/u");
        assert_eq!(substitute_str("x${localEnv:NOPE}y", &c), "xy");
        assert_eq!(substitute_str("${localEnv:NOPE:fallback}", &c), "fallback");
        assert_eq!(substitute_str("${localEnv:EMPTY:fallback}", &c), "", "set but empty is not unset");
        assert_eq!(substitute_str("${localWorkspaceFolder}", &c), "/home/u/proj");
        assert_eq!(substitute_str("/w/${localWorkspaceFolderBasename}", &c), "/w/proj");
        assert_eq!(substitute_str("${containerWorkspaceFolder}/src", &c), "/workspaces/proj/src");
        assert_eq!(substitute_str("${containerWorkspaceFolderBasename}", &c), "proj");
        assert_eq!(substitute_str("v-${devcontainerId}", &c), "v-ID");
    }

    #[test]
    fn unknown_and_unfinished_stay() {
        let c = SubstitutionContext { container_workspace_folder: None, ..ctx() };
        assert_eq!(substitute_str("${containerEnv:PATH}:/x", &c), "${containerEnv:PATH}:/x");
        assert_eq!(substitute_str("${containerWorkspaceFolder}", &c), "${containerWorkspaceFolder}");
        assert_eq!(substitute_str("${templateOption:x} ${", &c), "${templateOption:x} ${");
        assert_eq!(substitute_str("$HOME ${}", &c), "$HOME ${}");
    }

    #[test]
    fn container_env() {
        let env = vec![("PATH".to_string(), "/usr/bin".to_string())];
        assert_eq!(substitute_container_env("${containerEnv:PATH}:/opt/bin", &env), "/usr/bin:/opt/bin");
        assert_eq!(substitute_container_env("${containerEnv:X:d} ${localEnv:Y}", &env), "d ${localEnv:Y}");
    }

    #[test]
    fn whole_values() {
        let v = json!({"mounts": ["source=${localEnv:HOME}/.ssh,target=/root/.ssh,type=bind"], "n": 1, "${localEnv:HOME}": true});
        let s = substitute_value(&v, &ctx());
        assert_eq!(s["mounts"][0], "source=/home/u/.ssh,target=/root/.ssh,type=bind");
        assert_eq!(s["n"], 1);
        assert!(s.get("${localEnv:HOME}").is_some(), "keys are not substituted");
    }

    #[test]
    fn devcontainer_id_matches_the_cli() {
        // Value computed with the CLI's algorithm (Node: BigInt('0x'+sha256(JSON.stringify(labels, sortedKeys))).toString(32).padStart(52,'0')).
        let id = devcontainer_id(&[
            ("devcontainer.local_folder".into(), "/tmp/dcx/ws".into()),
            ("devcontainer.config_file".into(), "/tmp/dcx/ws/.devcontainer/devcontainer.json".into()),
        ]);
        assert_eq!(id.len(), 52);
        assert!(id.chars().all(|c| c.is_ascii_digit() || ('a'..='v').contains(&c)));
        assert_eq!(id, DEVCONTAINER_ID_FIXTURE);
    }

    const DEVCONTAINER_ID_FIXTURE: &str = "166jau3gljrundlukb073elcfqgee20tt2qfqq39hsria0t367k9";
}
