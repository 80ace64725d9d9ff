//! The diagnosis table (`templates/diagnoses.toml`, sources beside each entry): error text from the Docker daemon,
//! the NVIDIA container toolkit or a program in a GPU container → the cause → the exact fix.
//! Shared by `doctor` (its checks and `--probe`) and `up` (a failed container start).

use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

const TABLE_TOML: &str = include_str!("../../templates/diagnoses.toml");

/// One row of the table, as written.
#[derive(Debug, Clone, Deserialize)]
pub struct Diagnosis {
    pub id: String,
    #[serde(rename = "match")]
    pub matches: Vec<String>,
    #[serde(default)]
    pub capture: Option<String>,
    pub cause: String,
    pub fix: Vec<String>,
    pub sources: Vec<String>,
}

#[derive(Deserialize)]
struct TableFile {
    diagnosis: Vec<Diagnosis>,
}

/// A diagnosis applied to one text: `{capture}` filled in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Diagnosed {
    pub id: String,
    pub cause: String,
    pub fix: Vec<String>,
    pub sources: Vec<String>,
}

impl Diagnosed {
    /// The fix lines as one check `fix` text.
    pub fn fix_text(&self) -> String {
        self.fix.join("\n")
    }
}

/// The embedded table (part of the binary and covered by tests, so a parse failure is a build bug).
pub fn table() -> &'static [Diagnosis] {
    static T: OnceLock<Vec<Diagnosis>> = OnceLock::new();
    T.get_or_init(|| toml::from_str::<TableFile>(TABLE_TOML).unwrap_or_else(|e| panic!("templates/diagnoses.toml is invalid: {e}")).diagnosis)
}

/// The entry with this id, applied with nothing captured (for checks that predict an error before it happens).
pub fn by_id(id: &str) -> Diagnosed {
    let d = table().iter().find(|d| d.id == id).unwrap_or_else(|| panic!("no diagnosis `{id}` in templates/diagnoses.toml"));
    apply(d, None)
}

/// Diagnose an error text: the first entry whose strings all occur in it (case-insensitive).
pub fn diagnose(text: &str) -> Option<Diagnosed> {
    let lower = text.to_lowercase();
    let d = table().iter().find(|d| d.matches.iter().all(|m| lower.contains(&m.to_lowercase())))?;
    let captured = d.capture.as_ref().and_then(|c| {
        let i = lower.find(&c.to_lowercase())? + c.len();
        let token: String = text[i..].chars().take_while(|ch| ch.is_ascii_alphanumeric() || *ch == '.').collect();
        (!token.is_empty()).then_some(token)
    });
    Some(apply(d, captured.as_deref()))
}

fn apply(d: &Diagnosis, captured: Option<&str>) -> Diagnosed {
    let fill = |s: &str| s.replace("{capture}", captured.unwrap_or("the image's version"));
    Diagnosed { id: d.id.clone(), cause: fill(&d.cause), fix: d.fix.iter().map(|f| fill(f)).collect(), sources: d.sources.clone() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_loads_and_every_entry_has_sources() {
        let t = table();
        assert!(t.len() >= 10);
        for d in t {
            assert!(!d.sources.is_empty(), "{} has no source", d.id);
            assert!(!d.fix.is_empty() && !d.matches.is_empty(), "{}", d.id);
        }
        let mut ids: Vec<_> = t.iter().map(|d| &d.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), t.len(), "ids are unique");
    }

    /// Every failure of DESIGN.md §3's table, in the words the daemon, the toolkit or the program prints.
    #[test]
    fn each_failure_of_the_design_table() {
        let cases = [
            ("docker: Error response from daemon: could not select device driver \"\" with capabilities: [[gpu]].", "docker-no-gpu-support"),
            (
                "docker: Error response from daemon: OCI runtime create failed: container_linux.go:380: starting container process caused: process_linux.go:545: container init caused: Running hook #0:: error running hook: exit status 1, stdout: , stderr: nvidia-container-cli: requirement error: unsatisfied condition: cuda>=12.8, please update your driver to a newer version, or use an earlier cuda container: unknown.",
                "image-cuda-too-new",
            ),
            (
                "OCI runtime create failed: container_linux.go:349: starting container process caused \"process_linux.go:449: container init caused \\\"process_linux.go:432: running prestart hook 0 caused \\\\\\\"error running hook: exit status 1, stdout: , stderr: nvidia-container-cli: initialization error: load library failed: libnvidia-ml.so.1: cannot open shared object file: no such file or directory\\\\\\\\n\\\\\\\"\\\"\": unknown",
                "toolkit-no-driver",
            ),
            ("Failed to initialize NVML: Driver/library version mismatch\nNVML library version: 550.54", "driver-library-mismatch"),
            ("Failed to initialize NVML: Unknown Error", "nvml-unknown-error"),
            (
                "permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: Get \"http://%2Fvar%2Frun%2Fdocker.sock/v1.24/info\": dial unix /var/run/docker.sock: connect: permission denied",
                "docker-permission-denied",
            ),
            ("RuntimeError: CUDA error: no kernel image is available for execution on the device", "no-kernel-image"),
            ("manifest for nvidia/cuda:10.2-cudnn7-devel-ubuntu18.04 not found: manifest unknown: manifest unknown", "image-tag-deleted"),
            ("Error response from daemon: unknown or invalid runtime name: nvidia", "unknown-runtime-nvidia"),
            (
                "OCI runtime create failed: runc create failed: unable to start container process: exec: \"nvidia-smi\": executable file not found in $PATH: unknown",
                "nvidia-smi-missing-in-container",
            ),
            (
                "failed to create shim task: OCI runtime create failed: unable to retrieve OCI runtime error (open /run/containerd/io.containerd.runtime.v2.task/moby/x/log.json: no such file or directory): exec: \"nvidia-container-runtime\": executable file not found in $PATH: unknown",
                "runtime-binary-missing",
            ),
            ("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?", "docker-daemon-down"),
            // Rootless Podman 4.3.1, a CDI spec whose hostPath is not its path (tests/podman.rs).
            (
                "runc: runc create failed: unable to start container process: error during container init: error creating device nodes: mount /dev/nvidiactl:/home/u/.local/share/containers/storage/vfs/dir/14cc/dev/nvidiactl (via /proc/self/fd/6), flags: 0x1000: no such file or directory: OCI runtime attempted to invoke a command that was not found",
                "rootless-device-path",
            ),
        ];
        for (text, id) in cases {
            assert_eq!(diagnose(text).map(|d| d.id), Some(id.to_string()), "{text}");
        }
        assert_eq!(diagnose("everything is fine"), None);
    }

    #[test]
    fn the_required_cuda_is_captured() {
        let d = diagnose("nvidia-container-cli: requirement error: unsatisfied condition: cuda>=12.8, please update your driver").unwrap();
        assert!(d.cause.contains("CUDA 12.8,"), "{}", d.cause);
        assert!(d.fix.iter().any(|f| f.contains("supports CUDA 12.8")));
        assert!(by_id("image-cuda-too-new").cause.contains("the image's version"));
    }
}
