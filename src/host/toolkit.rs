//! nvidia-container-toolkit on this host: its four programs on PATH (and the folders packages install them to,
//! since dockerd's PATH is not the user's) with their versions.
//!
//! - `nvidia-container-runtime-hook`: what Docker's `--gpus` uses — dockerd registers its GPU device driver only
//!   when it finds this hook on its PATH at start (moby `daemon/nvidia_linux.go`);
//! - `nvidia-container-cli` (libnvidia-container): does the mounting for the hook and the runtime;
//! - `nvidia-container-runtime`: the OCI runtime that daemon.json's `runtimes.nvidia` names;
//! - `nvidia-ctk`: configuration (`runtime configure`, `cdi generate`, `system create-dev-char-symlinks`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, UNIX_EPOCH};
pub use crate::model::host::{Tool, ToolkitFacts, HOOK, CLI, RUNTIME, CTK, TOOLS, SYSTEM_BIN_DIRS};





impl ToolkitFacts {
    pub fn tool(&self, name: &str) -> Option<&Tool> {
        self.tools.iter().find(|t| t.name == name)
    }
    pub fn has(&self, name: &str) -> bool {
        self.tool(name).is_some_and(|t| t.path.is_some())
    }
    /// The version most tools report (they ship together), if any.
    pub fn version(&self) -> Option<&str> {
        [CTK, RUNTIME, CLI, HOOK].iter().find_map(|n| self.tool(n).and_then(|t| t.version.as_deref()))
    }
}

/// The first dotted version on the first line that mentions a version:
/// `NVIDIA Container Toolkit CLI version 1.17.8`, `cli-version: 1.17.8`, `NVIDIA Container Runtime version 1.17.8`,
/// `NVIDIA Container Runtime Hook version 1.17.8`.
pub fn parse_tool_version(text: &str) -> Option<String> {
    text.lines().filter(|l| l.to_ascii_lowercase().contains("version")).find_map(|l| {
        l.split(|c: char| c.is_whitespace() || c == ':' || c == ',')
            .map(|t| t.trim_start_matches('v'))
            .find(|t| t.contains('.') && t.split('.').all(|p| !p.is_empty() && p.chars().next().is_some_and(|c| c.is_ascii_digit())))
            .map(str::to_string)
    })
}

/// Find a program on PATH, then in [`SYSTEM_BIN_DIRS`].
pub fn find_program(name: &str, path_env: Option<&std::ffi::OsStr>) -> Option<PathBuf> {
    crate::fsx::find_executable(name, path_env, SYSTEM_BIN_DIRS)
}

/// Find the four programs and ask each for its version, all at once (edge). A program that does not answer
/// within two seconds is reported, not waited for.
pub fn gather() -> ToolkitFacts {
    let path_env = std::env::var_os("PATH");
    let mut tools: Vec<(Tool, Option<std::process::Child>)> = TOOLS
        .iter()
        .map(|name| {
            let path = find_program(name, path_env.as_deref());
            let modified_unix = path.as_deref().and_then(modified);
            let child = path.as_ref().and_then(|p| Command::new(p).arg("--version").stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().ok());
            (Tool { name: name.to_string(), path: path.map(|p| p.display().to_string()), version: None, modified_unix, error: None }, child)
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(2);
    for (tool, child) in tools.iter_mut() {
        let Some(mut c) = child.take() else { continue };
        loop {
            match c.try_wait() {
                Ok(Some(_)) => {
                    use std::io::Read;
                    let mut text = String::new();
                    if let Some(mut o) = c.stdout.take() {
                        let _ = o.read_to_string(&mut text);
                    }
                    if let Some(mut e) = c.stderr.take() {
                        let _ = e.read_to_string(&mut text);
                    }
                    tool.version = parse_tool_version(&text);
                    if tool.version.is_none() {
                        tool.error = Some(format!("`{} --version` printed no version: {}", tool.name, text.lines().next().unwrap_or("").trim()));
                    }
                    break;
                }
                Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(1)),
                Ok(None) => {
                    let _ = c.kill();
                    let _ = c.wait();
                    tool.error = Some(format!("`{} --version` did not answer within 2 s", tool.name));
                    break;
                }
                Err(e) => {
                    tool.error = Some(format!("`{} --version`: {e}", tool.name));
                    break;
                }
            }
        }
    }
    ToolkitFacts { tools: tools.into_iter().map(|(t, _)| t).collect() }
}

fn modified(p: &Path) -> Option<u64> {
    std::fs::metadata(p).ok()?.modified().ok()?.duration_since(UNIX_EPOCH).ok().map(|d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_of_each_program() {
        assert_eq!(parse_tool_version("NVIDIA Container Toolkit CLI version 1.17.8\ncommit: f202b80a9b9d0db00d9b1d73c0128c8962c55f4d\n").as_deref(), Some("1.17.8"));
        assert_eq!(parse_tool_version("cli-version: 1.17.8\nlib-version: 1.17.8\nbuild date: 2025-05-30T13:47+00:00\n").as_deref(), Some("1.17.8"));
        assert_eq!(
            parse_tool_version("NVIDIA Container Runtime version 1.17.8\ncommit: f202b80\nspec: 1.2.1\n\nrunc version 1.1.12\n").as_deref(),
            Some("1.17.8")
        );
        assert_eq!(parse_tool_version("NVIDIA Container Runtime Hook version 1.14.6\ncommit: 5605d191332dcfeea802c4497360d60a65c7887e\n").as_deref(), Some("1.14.6"));
        assert_eq!(parse_tool_version("version v1.13.5-rc.1"), Some("1.13.5-rc.1".into()));
        assert_eq!(parse_tool_version("flag provided but not defined: -version\n"), None);
        assert_eq!(parse_tool_version(""), None);
    }

    #[test]
    fn finds_programs_on_the_given_path_first() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("nvidia-ctk");
        std::fs::write(&p, "#!/bin/sh\necho 'NVIDIA Container Toolkit CLI version 9.9.9'\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(find_program("nvidia-ctk", Some(dir.path().as_os_str())), Some(p));
        assert_eq!(find_program("devgpu-no-such-program", Some(dir.path().as_os_str())), None);
    }
}
