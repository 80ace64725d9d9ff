//! CDI (Container Device Interface) specs in `/etc/cdi` and `/var/run/cdi`: the device names they define
//! (`nvidia.com/gpu=all`, `=0`, `=GPU-…`) and the driver version their library paths were generated for
//! (a spec generated before a driver upgrade points at files that no longer exist).

use crate::text::yaml_to_json;
use std::path::Path;
pub use crate::model::host::{CdiSpec, CdiFacts};

pub const CDI_DIRS: &[&str] = &["/etc/cdi", "/var/run/cdi"];



impl CdiFacts {
    /// Specs that define NVIDIA GPUs and parsed.
    pub fn nvidia_specs(&self) -> impl Iterator<Item = &CdiSpec> {
        self.specs.iter().filter(|s| s.error.is_none() && s.kind == "nvidia.com/gpu")
    }
}

/// Parse one spec (JSON or YAML, by `yaml`). Errors are messages; the spec keeps its path.
pub fn parse_cdi_spec(text: &str, yaml: bool, path: &str) -> CdiSpec {
    let mut spec = CdiSpec { path: path.to_string(), ..CdiSpec::default() };
    let value: Result<serde_json::Value, String> = if yaml { yaml_to_json(text) } else { serde_json::from_str(text).map_err(|e| e.to_string()) };
    let v = match value {
        Ok(v) => v,
        Err(e) => {
            spec.error = Some(format!("not a valid CDI spec: {e}"));
            return spec;
        }
    };
    let Some(kind) = v.get("kind").and_then(|k| k.as_str()) else {
        spec.error = Some("not a CDI spec: no `kind`".into());
        return spec;
    };
    spec.kind = kind.to_string();
    spec.cdi_version = v.get("cdiVersion").and_then(|k| k.as_str()).map(str::to_string);
    spec.devices = v
        .get("devices")
        .and_then(|d| d.as_array())
        .map(|a| a.iter().filter_map(|d| d.get("name").and_then(|n| n.as_str())).map(|n| format!("{kind}={n}")).collect())
        .unwrap_or_default();
    let mut versions: Vec<String> = Vec::new();
    for lib in ["libcuda.so.", "libnvidia-ml.so."] {
        for (i, _) in text.match_indices(lib) {
            let v: String = text[i + lib.len()..].chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
            let v = v.trim_end_matches('.');
            if v.contains('.') && !versions.iter().any(|x| x == v) {
                versions.push(v.to_string());
            }
        }
    }
    versions.sort();
    spec.driver_versions = versions;
    spec
}


/// Read every `*.json` / `*.yaml` / `*.yml` in the CDI folders (edge). Missing folders are simply empty.
pub fn gather(dirs: &[&str]) -> CdiFacts {
    let mut facts = CdiFacts { dirs: dirs.iter().map(|d| d.to_string()).collect(), specs: Vec::new() };
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else { continue };
        let mut paths: Vec<_> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
        paths.sort();
        for p in paths {
            let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
            if !matches!(ext, "json" | "yaml" | "yml") {
                continue;
            }
            facts.specs.push(read_spec(&p, ext != "json"));
        }
    }
    facts
}

/// A spec file as JSON (`.json`, or YAML for `.yaml`/`.yml`), for checking the files it names (edge).
pub fn read_spec_value(path: &str) -> Option<serde_json::Value> {
    let text = std::fs::read_to_string(path).ok()?;
    if path.ends_with(".json") {
        serde_json::from_str(&text).ok()
    } else {
        yaml_to_json(&text).ok()
    }
}

fn read_spec(p: &Path, yaml: bool) -> CdiSpec {
    let path = p.display().to_string();
    match std::fs::read_to_string(p) {
        Ok(text) => parse_cdi_spec(&text, yaml, &path),
        Err(e) => CdiSpec { path, error: Some(format!("cannot read: {e}")), ..CdiSpec::default() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape `nvidia-ctk cdi generate` writes (abridged).
    const NVIDIA_YAML: &str = r#"---
cdiVersion: 0.5.0
kind: nvidia.com/gpu
devices:
- name: "0"
  containerEdits:
    deviceNodes:
    - path: /dev/nvidia0
- name: GPU-7b8238c7-8f23-f0a1-12fc-4a5b75119cb4
  containerEdits:
    deviceNodes:
    - path: /dev/nvidia0
- name: all
  containerEdits:
    deviceNodes:
    - path: /dev/nvidia0
containerEdits:
  deviceNodes:
  - path: /dev/nvidiactl
  mounts:
  - hostPath: /usr/lib/x86_64-linux-gnu/libcuda.so.550.54.15
    containerPath: /usr/lib/x86_64-linux-gnu/libcuda.so.550.54.15
  - hostPath: /usr/lib/x86_64-linux-gnu/libnvidia-ml.so.550.54.15
    containerPath: /usr/lib/x86_64-linux-gnu/libnvidia-ml.so.550.54.15
"#;

    #[test]
    fn parses_an_nvidia_ctk_spec() {
        let s = parse_cdi_spec(NVIDIA_YAML, true, "/etc/cdi/nvidia.yaml");
        assert_eq!(s.error, None);
        assert_eq!(s.kind, "nvidia.com/gpu");
        assert_eq!(s.cdi_version.as_deref(), Some("0.5.0"));
        assert_eq!(s.devices, ["nvidia.com/gpu=0", "nvidia.com/gpu=GPU-7b8238c7-8f23-f0a1-12fc-4a5b75119cb4", "nvidia.com/gpu=all"]);
        assert_eq!(s.driver_versions, ["550.54.15"]);
    }

    #[test]
    fn json_specs_and_broken_files() {
        let s = parse_cdi_spec(r#"{"cdiVersion":"0.6.0","kind":"vendor.com/device","devices":[{"name":"x"}]}"#, false, "a.json");
        assert_eq!(s.devices, ["vendor.com/device=x"]);
        assert!(s.driver_versions.is_empty());
        assert!(parse_cdi_spec("{", false, "b.json").error.is_some());
        assert!(parse_cdi_spec("foo: [", true, "c.yaml").error.is_some());
        assert!(parse_cdi_spec("devices: []", true, "d.yaml").error.unwrap().contains("kind"));
    }

    #[test]
    fn gathers_from_folders() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("nvidia.yaml"), NVIDIA_YAML).unwrap();
        std::fs::write(dir.path().join("README"), "not a spec").unwrap();
        let d = dir.path().display().to_string();
        let f = gather(&[&d, "/nonexistent/cdi"]);
        assert_eq!(f.specs.len(), 1);
        assert_eq!(f.nvidia_specs().count(), 1);
    }
}
