//! `devgpu host …`: configure Docker for the GPU (daemon.json), undo that, and the toolkit's install steps.
//!
//! configure-docker: resolve the file (a symbolic link is followed: the target is edited, the link kept) → read
//! it → plan the edit (pure, `plan::daemon`) → nothing to do, or a dry run: stop → a timestamped backup beside the
//! file → write it atomically keeping mode and owner (a failure removes the backup again and leaves the file as it
//! was) → restart Docker and wait for it (`--restart`) → ask the daemon (`--verify`, implied by `--restart`).

use crate::cli::{ConfigureDockerArgs, HostCommand, InstallToolkitArgs, UndoArgs};
use crate::docker;
use crate::error::{CliError, ErrorCode};
use crate::fsx::{self, WriteError};
use crate::host::os_release::read_os_release;
use crate::plan::daemon::{plan_daemon_json, DaemonRequest, RUNTIME_NAME};
use crate::plan::toolkit::{self, Step};
use crate::report::progress::Progress;
use crate::report::{ConfigureDockerReport, InstallToolkitReport, Render, RestartOutcome, StepResult, UndoReport, VerifyOutcome};
use crate::settings::Settings;
use crate::text::shell_quote;
use anyhow::Result;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// Mode of a daemon.json devgpu creates (dockerd's own files are root-owned and world-readable).
const NEW_FILE_MODE: u32 = 0o644;

pub fn run(cmd: &HostCommand, settings: &Settings) -> Result<Box<dyn Render>> {
    match cmd {
        HostCommand::ConfigureDocker(a) => configure_docker(a, settings).map(|r| Box::new(r) as _),
        HostCommand::Undo(a) => undo(a).map(|r| Box::new(r) as _),
        HostCommand::InstallToolkit(a) => install_toolkit(a, settings).map(|r| Box::new(r) as _),
        HostCommand::Cdi(a) => super::host_cdi::run(a, settings).map(|r| Box::new(r) as _),
    }
}

pub fn configure_docker(args: &ConfigureDockerArgs, settings: &Settings) -> Result<ConfigureDockerReport> {
    let file = args.config.display().to_string();
    let (target, existing) = read_config(&args.config)?;
    let request = DaemonRequest {
        runtime_path: args.runtime_path.clone(),
        set_default: args.set_default,
        cdi: args.cdi,
        repair: args.repair,
    };
    let plan = plan_daemon_json(existing.as_deref(), &file, &request, &runtime_installed).map_err(CliError::from)?;
    if let (Some(blocker), false) = (&plan.blocker, args.dry_run) {
        return Err(CliError::user(
            ErrorCode::RuntimeNotInstalled,
            format!("{blocker}; nothing was changed"),
            vec![
                "install the NVIDIA Container Toolkit first: `devgpu host install-toolkit` prints the steps".to_string(),
                "or register the runtime without making it the default (drop --set-default)".to_string(),
                "or point --runtime-path at the runtime binary".to_string(),
            ],
        )
        .into());
    }
    let diff = (plan.changed && (args.dry_run || !plan.repairs.is_empty())).then(|| crate::text::unified_diff(&file, existing.as_deref(), &plan.new));

    let mut backup = None;
    if plan.changed && !args.dry_run {
        backup = Some(write_with_backup(&target, &file, existing.as_deref(), Some(&plan.new))?);
    }

    let restart_command = args.restart_command.clone().unwrap_or_else(default_restart_command);
    let progress = Progress::new(&settings.output);
    let restart = (args.restart && !args.dry_run).then(|| {
        progress.step("restart", &format!("restarting Docker: {restart_command}"));
        restart_docker(&restart_command, settings.docker_host.as_deref(), Duration::from_secs(args.wait))
    });
    let verify = (args.verify || args.restart).then(|| {
        progress.step("verify", "asking the daemon for its runtimes");
        verify_daemon(settings.docker_host.as_deref(), &request, &restart_command)
    });
    progress.finish();

    Ok(ConfigureDockerReport {
        file,
        target: (target != args.config).then(|| target.display().to_string()),
        existed: existing.is_some(),
        dry_run: args.dry_run,
        plan,
        backup: backup.map(|b| b.display().to_string()),
        diff,
        restart_command: with_sudo(&restart_command),
        restart,
        verify,
    })
}

pub fn undo(args: &UndoArgs) -> Result<UndoReport> {
    let file = args.config.display().to_string();
    let (target, current) = read_config(&args.config)?;
    let backups = fsx::list_backups(&target).map_err(|e| CliError::user(ErrorCode::DaemonJsonRead, format!("cannot list the backups beside {}: {e}", target.display()), vec![]))?;
    let Some(newest) = backups.last() else {
        return Err(CliError::user(
            ErrorCode::NoBackup,
            format!("there is no backup made by devgpu beside {} (files named {}{}…)", target.display(), target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(), fsx::BACKUP_INFIX),
            vec!["devgpu makes one each time `devgpu host configure-docker` changes the file; nothing was changed".to_string()],
        )
        .into());
    };
    let restored = if newest.absent {
        None
    } else {
        Some(std::fs::read(&newest.path).map_err(|e| read_error(&newest.path.display().to_string(), e))?)
    };
    let changed = current != restored;
    let diff = (changed && args.dry_run).then(|| crate::text::unified_diff(&file, current.as_deref(), restored.as_deref().unwrap_or_default()));
    let mut backup = None;
    if changed && !args.dry_run {
        backup = Some(write_with_backup(&target, &file, current.as_deref(), restored.as_deref())?);
    }
    Ok(UndoReport {
        file,
        target: (target != args.config).then(|| target.display().to_string()),
        dry_run: args.dry_run,
        restored_from: newest.path.display().to_string(),
        removed: newest.absent,
        changed,
        backup: backup.map(|b| b.display().to_string()),
        diff,
        restart_command: with_sudo(&default_restart_command()),
    })
}

pub fn install_toolkit(args: &InstallToolkitArgs, settings: &Settings) -> Result<InstallToolkitReport> {
    let text = match &args.steps {
        Some(p) => std::fs::read_to_string(p).map_err(|e| CliError::user(ErrorCode::ReadFailed, format!("cannot read {}: {e}", p.display()), vec![]))?,
        None => toolkit::STEPS_TOML.to_string(),
    };
    let data = toolkit::parse_steps(&text).map_err(CliError::from)?;
    let os = read_os_release(&args.os_release)
        .map_err(|e| CliError::user(ErrorCode::OsReleaseUnreadable, format!("cannot read {}: {e}", args.os_release.display()), vec!["devgpu reads the distribution from /etc/os-release (os-release(5))".to_string()]))?;
    // Like NVIDIA's own steps, with sudo: as root, a missing sudo is stood in for when the steps run.
    let configure = if args.yes {
        let exe = std::env::current_exe().map(|p| shell_quote(&p.display().to_string())).unwrap_or_else(|_| "devgpu".to_string());
        format!("sudo {exe} host configure-docker")
    } else {
        "sudo devgpu host configure-docker".to_string()
    };
    let restart = format!("sudo {}", default_restart_command());
    let plan = toolkit::plan_toolkit(&data, &os, &configure, &restart).map_err(CliError::from)?;
    if !args.yes {
        return Ok(InstallToolkitReport { plan, ran: false, results: Vec::new() });
    }
    let progress = Progress::new(&settings.output);
    let total = plan.steps.len();
    let root = is_root();
    let results = run_steps(&plan.steps, |i, step| {
        progress.step("toolkit", &format!("{}/{total} {}", i + 1, step.title));
        let outcome = run_shell_step(&step.run, root);
        for line in outcome.2.lines() {
            progress.log("toolkit", line);
        }
        outcome
    });
    progress.finish();
    Ok(InstallToolkitReport { plan, ran: true, results })
}

/// Runs `steps` in order with `run` (index, step) → (exit code, success, output), stopping at the first failure:
/// the steps after it are reported as "not run".
pub fn run_steps(steps: &[Step], mut run: impl FnMut(usize, &Step) -> (Option<i32>, bool, String)) -> Vec<StepResult> {
    let mut results = Vec::with_capacity(steps.len());
    let mut failed = false;
    for (i, step) in steps.iter().enumerate() {
        if failed {
            results.push(StepResult { title: step.title.clone(), run: step.run.clone(), status: "not run", exit_code: None, output: String::new() });
            continue;
        }
        let (code, ok, output) = run(i, step);
        failed = !ok;
        results.push(StepResult { title: step.title.clone(), run: step.run.clone(), status: if ok { "ok" } else { "failed" }, exit_code: code, output: tail(&output, 4000) });
    }
    results
}

/// One step through bash (`pipefail`, so a failing `curl` in a pipe fails the step), or sh where bash is missing.
/// As root, `sudo` in a step runs the command directly when sudo itself is not installed (containers).
fn run_shell_step(command: &str, root: bool) -> (Option<i32>, bool, String) {
    let prelude = if root { "command -v sudo >/dev/null 2>&1 || sudo() { \"$@\"; }\n" } else { "" };
    let script = format!("{prelude}{command}");
    let mut cmd = if Path::new("/bin/bash").exists() || fsx::find_executable("bash", std::env::var_os("PATH").as_deref(), &[]).is_some() {
        let mut c = std::process::Command::new("bash");
        c.args(["-o", "pipefail", "-c", &script]);
        c
    } else {
        let mut c = std::process::Command::new("sh");
        c.args(["-c", &script]);
        c
    };
    cmd.stdin(std::process::Stdio::inherit());
    match cmd.output() {
        Ok(out) => {
            let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
            text.push_str(&String::from_utf8_lossy(&out.stderr));
            (out.status.code(), out.status.success(), text)
        }
        Err(e) => (None, false, format!("cannot start the shell: {e}")),
    }
}

/// Directories dockerd's PATH has under systemd and SysV init (besides devgpu's own PATH).
const SYSTEM_PATH: [&str; 6] = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

/// Whether dockerd would find the runtime binary `path`: a name without `/` on PATH (devgpu's and the usual
/// system directories), anything else as a file (relative to `/`, dockerd's working directory), executable.
fn runtime_installed(path: &str) -> bool {
    if path.is_empty() {
        return false;
    }
    if path.contains('/') {
        return fsx::is_executable(&Path::new("/").join(path));
    }
    fsx::find_executable(path, std::env::var_os("PATH").as_deref(), &SYSTEM_PATH).is_some()
}

fn tail(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut start = s.len() - max;
    while !s.is_char_boundary(start) {
        start += 1;
    }
    format!("…{}", &s[start..])
}

/// The file to edit (symbolic links followed) and its bytes (`None`: it does not exist).
fn read_config(path: &Path) -> Result<(PathBuf, Option<Vec<u8>>)> {
    let file = path.display().to_string();
    let target = fsx::resolve_symlinks(path).map_err(|e| read_error(&file, e))?;
    match std::fs::read(&target) {
        Ok(bytes) => Ok((target, Some(bytes))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let dir = target.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
            if !dir.is_dir() {
                return Err(CliError::user(
                    ErrorCode::DaemonJsonNoDirectory,
                    format!("{} does not exist, so Docker is not installed here (or keeps its configuration elsewhere)", dir.display()),
                    vec!["install Docker first (e.g. `sudo apt-get install docker.io` or docker-ce), or pass --config PATH".to_string()],
                )
                .into());
            }
            Ok((target, None))
        }
        Err(e) if e.kind() == io::ErrorKind::IsADirectory => Err(CliError::user(ErrorCode::DaemonJsonRead, format!("{file} is a directory, not a file"), vec![]).into()),
        Err(e) => Err(read_error(&file, e)),
    }
}

fn read_error(file: &str, e: io::Error) -> anyhow::Error {
    if e.kind() == io::ErrorKind::PermissionDenied {
        CliError::user(ErrorCode::PermissionDenied, format!("cannot read {file}: permission denied; nothing was changed"), vec![format!("run it with sudo: {}", sudo_command_line())]).into()
    } else {
        CliError::internal(format!("cannot read {file}: {e}")).into()
    }
}

/// Backs up `current` (None: the file does not exist) beside `target`, then writes `new` there (None: remove the
/// file). A failure after the backup removes the backup again, so a failed run leaves nothing behind.
fn write_with_backup(target: &Path, file: &str, current: Option<&[u8]>, new: Option<&[u8]>) -> Result<PathBuf> {
    if current.is_some() {
        refuse_read_only(target, file)?;
    }
    let backup = fsx::make_backup(target, current, SystemTime::now()).map_err(|e| write_error(file, e))?;
    let result = match new {
        Some(bytes) => fsx::replace_file(target, bytes, NEW_FILE_MODE),
        None => std::fs::remove_file(target).map_err(|source| WriteError { path: target.to_path_buf(), source }),
    };
    if let Err(e) = result {
        let _ = std::fs::remove_file(&backup);
        return Err(write_error(file, e));
    }
    Ok(backup)
}

/// A file without any write permission is left alone, even by root: someone made it read-only on purpose.
fn refuse_read_only(target: &Path, file: &str) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(target) {
        let mode = meta.permissions().mode();
        if mode & 0o222 == 0 {
            return Err(CliError::user(
                ErrorCode::DaemonJsonReadOnly,
                format!("{file} is read-only (mode {:04o}); devgpu does not write over a read-only file, so nothing was changed", mode & 0o7777),
                vec![
                    format!("if the file is not managed by something else (Ansible, Puppet, a package), make it writable first: sudo chmod u+w {}", target.display()),
                    "or see the change with --dry-run and make it by hand".to_string(),
                ],
            )
            .into());
        }
    }
    Ok(())
}

fn write_error(file: &str, e: WriteError) -> anyhow::Error {
    let shown = if Path::new(file) == e.path { file.to_string() } else { format!("{file} ({})", e.path.display()) };
    let what = format!("cannot write {shown}: {}; nothing was changed", e.source);
    // EACCES: not allowed → sudo. EPERM (which Rust also calls PermissionDenied): as root, an immutable or
    // append-only file; otherwise not allowed to keep the file's owner → sudo.
    let (code, hints) = match (e.source.raw_os_error(), e.source.kind()) {
        (Some(1), _) if is_root() => {
            (ErrorCode::WriteFailed, vec![format!("the file may be immutable or append-only (`lsattr {0}`); `sudo chattr -i -a {0}` lifts that", e.path.display())])
        }
        (_, io::ErrorKind::PermissionDenied) => (ErrorCode::PermissionDenied, vec![format!("run it with sudo: {}", sudo_command_line())]),
        (_, io::ErrorKind::ReadOnlyFilesystem) => {
            (ErrorCode::WriteFailed, vec!["the file system is mounted read-only; remount it read-write or change the file where it is managed".to_string()])
        }
        _ => (ErrorCode::WriteFailed, Vec::new()),
    };
    CliError::user(code, what, hints).into()
}

/// This invocation with `sudo` in front, for "run with sudo" hints.
fn sudo_command_line() -> String {
    let args: Vec<String> = std::env::args().skip(1).map(|a| shell_quote(&a)).collect();
    format!("sudo devgpu {}", args.join(" "))
}


/// The effective user is root (from /proc/self/status: `Uid: real effective saved fs`).
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).and_then(|l| l.split_whitespace().nth(2).map(|e| e == "0")))
        .unwrap_or(false)
}

fn with_sudo(command: &str) -> String {
    if is_root() || command.starts_with("sudo ") {
        command.to_string()
    } else {
        format!("sudo {command}")
    }
}

/// `systemctl restart docker` where systemd runs (sd_booted: /run/systemd/system exists), else the SysV/OpenRC
/// `service docker restart`.
pub fn default_restart_command() -> String {
    if Path::new("/run/systemd/system").is_dir() {
        "systemctl restart docker".to_string()
    } else {
        "service docker restart".to_string()
    }
}

/// Runs the restart command, then waits until the daemon answers (or `wait` passes).
fn restart_docker(command: &str, docker_host: Option<&str>, wait: Duration) -> RestartOutcome {
    let started = Instant::now();
    let out = std::process::Command::new("sh").args(["-c", command]).stdin(std::process::Stdio::null()).output();
    let (ok, mut detail) = match out {
        Ok(o) => {
            let mut text = String::from_utf8_lossy(&o.stdout).into_owned();
            text.push_str(&String::from_utf8_lossy(&o.stderr));
            (o.status.success(), tail(text.trim(), 2000))
        }
        Err(e) => (false, format!("cannot run `{command}`: {e}")),
    };
    if !ok {
        if !detail.is_empty() {
            detail.push('\n');
        }
        detail.push_str("Docker may be down now; `devgpu host undo` restores the previous daemon.json");
        return RestartOutcome { command: command.to_string(), ok, detail, seconds: started.elapsed().as_secs_f64() };
    }
    let deadline = Instant::now() + wait;
    let last_error = crate::block_on(async {
        loop {
            match docker::connect(docker_host).await {
                Ok(_) => return None,
                Err(e) => {
                    if Instant::now() >= deadline {
                        return Some(e.to_string());
                    }
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
            }
        }
    });
    match last_error {
        None => RestartOutcome { command: command.to_string(), ok: true, detail, seconds: started.elapsed().as_secs_f64() },
        Some(e) => RestartOutcome {
            command: command.to_string(),
            ok: false,
            detail: format!("{detail}\nthe daemon did not answer within {} s: {e} (see `journalctl -u docker` or dockerd's log; `devgpu host undo` restores the previous daemon.json)", wait.as_secs()).trim().to_string(),
            seconds: started.elapsed().as_secs_f64(),
        },
    }
}

/// Asks the daemon whether the runtime is registered and the default is as asked.
fn verify_daemon(docker_host: Option<&str>, request: &DaemonRequest, restart_command: &str) -> VerifyOutcome {
    crate::block_on(async {
        let mut v = VerifyOutcome {
            ok: false,
            endpoint: None,
            server_version: None,
            runtimes: Vec::new(),
            runtime_registered: false,
            runtime_path: None,
            default_runtime: None,
            problems: Vec::new(),
        };
        let d = match docker::connect(docker_host).await {
            Ok(d) => d,
            Err(e) => {
                v.problems.push(format!("cannot ask the Docker daemon: {e}"));
                return v;
            }
        };
        v.endpoint = Some(d.endpoint.url.clone());
        v.server_version = d.version.version.clone();
        let info = match d.client.info().await {
            Ok(i) => i,
            Err(e) => {
                v.problems.push(format!("`docker info` failed: {}", docker::error_chain(&e)));
                return v;
            }
        };
        let runtimes = info.runtimes.unwrap_or_default();
        let mut names: Vec<String> = runtimes.keys().cloned().collect();
        names.sort();
        v.runtimes = names;
        v.default_runtime = info.default_runtime.clone();
        let restart = with_sudo(restart_command);
        match runtimes.get(RUNTIME_NAME) {
            Some(rt) => {
                v.runtime_registered = true;
                v.runtime_path = rt.path.clone();
            }
            None => v.problems.push(format!(
                "the daemon does not list the runtime `{RUNTIME_NAME}` (it lists {}): it has not read the new daemon.json yet — restart it: {restart}",
                v.runtimes.join(", ")
            )),
        }
        if request.set_default && v.default_runtime.as_deref() != Some(RUNTIME_NAME) {
            v.problems.push(format!(
                "the daemon's default runtime is {}, not {RUNTIME_NAME}: restart it to apply daemon.json: {restart}",
                v.default_runtime.as_deref().unwrap_or("unknown")
            ));
        }
        if request.cdi {
            let major = v.server_version.as_deref().and_then(|s| s.split('.').next()).and_then(|m| m.parse::<u32>().ok());
            if major.is_some_and(|m| m < 25) {
                v.problems.push(format!(
                    "this daemon is Docker {}: CDI (features.cdi) needs Docker 25 or later; it ignores the setting",
                    v.server_version.as_deref().unwrap_or("?")
                ));
            }
        }
        v.ok = v.problems.is_empty();
        v
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(run: &str) -> Step {
        Step { title: run.to_string(), run: run.to_string() }
    }

    /// The run loop with a harmless fake runner: it stops at the first failure and says which steps never ran.
    #[test]
    fn run_steps_stops_at_the_first_failure() {
        let steps = [step("a"), step("b"), step("c")];
        let mut ran = Vec::new();
        let results = run_steps(&steps, |i, s| {
            ran.push(i);
            if s.run == "b" {
                (Some(100), false, "E: Unable to locate package nvidia-container-toolkit\n".to_string())
            } else {
                (Some(0), true, "done\n".to_string())
            }
        });
        assert_eq!(ran, [0, 1]);
        assert_eq!(results.iter().map(|r| r.status).collect::<Vec<_>>(), ["ok", "failed", "not run"]);
        assert_eq!(results[1].exit_code, Some(100));
        assert!(results[1].output.contains("Unable to locate package"));
    }

    #[test]
    fn shell_steps_fail_on_a_failing_pipe() {
        let (code, ok, _) = run_shell_step("false | cat", false);
        assert!(!ok && code == Some(1));
        let (_, ok, out) = run_shell_step("echo hi && echo err >&2", false);
        assert!(ok);
        assert_eq!(out, "hi\nerr\n");
    }

    #[test]
    fn tails() {
        assert_eq!(tail("abcdef", 3), "…def");
        assert_eq!(tail("abc", 3), "abc");
    }
}
