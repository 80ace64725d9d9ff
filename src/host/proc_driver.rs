//! `/proc/driver/nvidia/version`: the version of the NVIDIA kernel module that is loaded right now.
//!
//! Compared with the user-space library's version (NVML), it finds the "Driver/library version mismatch" case:
//! the driver packages were upgraded but the old kernel module is still loaded (no reboot since).

use crate::compat::DriverVersion;
use std::path::Path;
pub use crate::model::host::{KernelModule};

pub const PROC_DRIVER_VERSION: &str = "/proc/driver/nvidia/version";

/// Names another file to read the loaded module's version from: for tests (a driver change on a machine whose
/// module cannot change) and for devgpu run in a container that sees the host's procfs elsewhere.
pub const PROC_DRIVER_VERSION_ENV: &str = "DEVGPU_PROC_DRIVER_VERSION";

/// The file the loaded module's version is read from: [`PROC_DRIVER_VERSION_ENV`] when set, else procfs's.
pub fn loaded_module_path() -> std::path::PathBuf {
    std::env::var_os(PROC_DRIVER_VERSION_ENV).filter(|p| !p.is_empty()).map(std::path::PathBuf::from).unwrap_or_else(|| PROC_DRIVER_VERSION.into())
}

/// The loaded NVIDIA kernel module on this machine (edge): [`read_kernel_module`] of [`loaded_module_path`].
pub fn read_loaded_module() -> Result<Option<KernelModule>, String> {
    read_kernel_module(&loaded_module_path())
}


/// Parse the file's text. `None` when it names no version (not an NVIDIA driver file).
///
/// ```text
/// NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.159.04  Release Build  (nixbld@)
/// NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.15  Tue Mar  5 22:23:56 UTC 2024
/// ```
pub fn parse_proc_driver_version(text: &str) -> Option<KernelModule> {
    let line = text.lines().find(|l| l.trim_start().starts_with("NVRM version:"))?;
    let rest = line.trim_start().trim_start_matches("NVRM version:");
    // The first token made of dotted numbers with at least one dot (`x86_64` and dates do not qualify).
    let version = rest
        .split_whitespace()
        .filter(|t| t.contains('.') && t.chars().all(|c| c.is_ascii_digit() || c == '.'))
        .find_map(|t| t.parse::<DriverVersion>().ok())?;
    Some(KernelModule { version, open: rest.contains("Open Kernel Module"), line: line.trim().to_string() })
}

/// Read the file (edge). `Ok(None)`: no NVIDIA kernel module is loaded (the file does not exist).
pub fn read_kernel_module(path: &Path) -> Result<Option<KernelModule>, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => match parse_proc_driver_version(&text) {
            Some(m) => Ok(Some(m)),
            None => Err(format!("{} names no driver version: {}", path.display(), text.lines().next().unwrap_or("").trim())),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_h200_open_module() {
        let m = parse_proc_driver_version(include_str!("../../tests/fixtures/h200/proc-driver-nvidia-version.txt")).unwrap();
        assert_eq!(m.version.to_string(), "580.159.04");
        assert!(m.open);
        assert!(m.line.starts_with("NVRM version: NVIDIA UNIX Open Kernel Module"));
    }

    #[test]
    fn parses_the_proprietary_module() {
        let text = "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.15  Tue Mar  5 22:23:56 UTC 2024\nGCC version:  gcc version 12.3.0 (Ubuntu 12.3.0-1ubuntu1~22.04)\n";
        let m = parse_proc_driver_version(text).unwrap();
        assert_eq!(m.version.to_string(), "550.54.15");
        assert!(!m.open);
        // aarch64 and two-part versions
        let m = parse_proc_driver_version("NVRM version: NVIDIA UNIX aarch64 Kernel Module  570.26  Sat Jan 25 2025\n").unwrap();
        assert_eq!(m.version.to_string(), "570.26");
    }

    #[test]
    fn rejects_other_text() {
        assert_eq!(parse_proc_driver_version(""), None);
        assert_eq!(parse_proc_driver_version("GCC version: gcc version 12.2.0\n"), None);
        assert_eq!(parse_proc_driver_version("NVRM version: something odd\n"), None);
    }
}
