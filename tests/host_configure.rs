//! `devgpu host configure-docker` and `host undo` on the daemon.json corpus in `tests/fixtures/daemon-json/`
//! (see its README.md for what dockerd 20.10 does with each input).
//!
//! Each case directory holds `input.json` (absent: no file), `args.txt` (extra flags), and either
//! `expected.json` (the exact file devgpu must write) with `expected-report.json` (the changes, notes, warnings and
//! repairs it must report), or `expected-error.txt` (the exact error: code, message, hints), in which case the file
//! must stay byte-identical with nothing else left in the directory. Every success is run twice: the second run
//! must change nothing and make no backup.
//!
//! `DEVGPU_BLESS=1 cargo test --test host_configure` rewrites the expected files from what devgpu does (review
//! the diff before committing it).

mod common;

use common::tools::{devgpu, fixture, run_logged};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

fn bless() -> bool {
    std::env::var_os("DEVGPU_BLESS").is_some_and(|v| v == "1")
}

/// The directory's entries, sorted, with backups named generically (their names carry the time).
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .map(|n| match n.split_once(".devgpu-backup-") {
            Some((base, rest)) => format!("{base}.devgpu-backup-*{}", if rest.ends_with(".absent") { ".absent" } else { "" }),
            None => n,
        })
        .collect();
    names.sort();
    names
}

struct Run {
    code: i32,
    envelope: serde_json::Value,
    stderr: String,
}

/// A directory with an executable `nvidia-container-runtime` (a stand-in script), put first on devgpu's PATH so
/// that `--set-default` finds the runtime installed (devgpu refuses a default runtime that is not).
fn fake_toolkit_path() -> std::ffi::OsString {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("fake-toolkit-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let bin = dir.join("nvidia-container-runtime");
        fs::write(&bin, "#!/bin/sh\nexec runc \"$@\"\n").unwrap();
        fs::set_permissions(&bin, fs::Permissions::from_mode(0o755)).unwrap();
        dir
    });
    let mut paths = vec![dir.clone()];
    paths.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()));
    std::env::join_paths(paths).unwrap()
}

fn configure(dir: &Path, args: &[String]) -> Run {
    let mut cmd = devgpu();
    cmd.env("PATH", fake_toolkit_path()).current_dir(dir).args(["--json", "host", "configure-docker", "--config", "daemon.json"]).args(args);
    let out = run_logged(&mut cmd);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let envelope: serde_json::Value =
        serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("stdout is not one JSON object ({e}):\n{stdout}"));
    assert_eq!(envelope["schemaVersion"], 1);
    assert_eq!(envelope["command"], "host configure-docker");
    Run { code: out.status.code().unwrap_or(-1), envelope, stderr: String::from_utf8_lossy(&out.stderr).into_owned() }
}

/// Sets a case up in `dir`: `daemon.json` from `input.json`, or for `symlink`, `daemon.json` → `real/daemon.json`.
fn set_up(case: &str, src: &Path, dir: &Path) -> PathBuf {
    let input = src.join("input.json");
    let file = dir.join("daemon.json");
    if !input.exists() {
        return file;
    }
    match case {
        "symlink" => {
            fs::create_dir(dir.join("real")).unwrap();
            fs::copy(&input, dir.join("real/daemon.json")).unwrap();
            std::os::unix::fs::symlink("real/daemon.json", &file).unwrap();
            dir.join("real/daemon.json")
        }
        _ => {
            fs::copy(&input, &file).unwrap();
            if case == "read-only" {
                fs::set_permissions(&file, fs::Permissions::from_mode(0o444)).unwrap();
            } else {
                fs::set_permissions(&file, fs::Permissions::from_mode(0o640)).unwrap();
            }
            file
        }
    }
}

fn report_of(envelope: &serde_json::Value) -> serde_json::Value {
    let d = &envelope["data"];
    serde_json::json!({
        "changes": d["changes"],
        "notes": d["notes"],
        "warnings": d["warnings"],
        "repairs": d["repairs"],
    })
}

fn error_text(envelope: &serde_json::Value) -> String {
    let e = &envelope["error"];
    let mut s = format!("code: {}\nmessage: {}\n", e["code"].as_str().unwrap(), e["message"].as_str().unwrap());
    for h in e["hints"].as_array().into_iter().flatten() {
        s.push_str(&format!("hint: {}\n", h.as_str().unwrap()));
    }
    s
}

fn run_case(case: &str) {
    let src = fixture("daemon-json").join(case);
    let args: Vec<String> = fs::read_to_string(src.join("args.txt")).unwrap_or_default().split_whitespace().map(str::to_string).collect();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let real = set_up(case, &src, dir);
    let before = fs::read(&real).ok();
    let before_listing = listing(dir);
    let mode_before = fs::metadata(&real).ok().map(|m| m.permissions().mode() & 0o7777);

    let run = configure(dir, &args);
    let expected_json = src.join("expected.json");
    let expected_error = src.join("expected-error.txt");

    if run.code != 0 {
        let text = error_text(&run.envelope);
        if bless() {
            fs::write(&expected_error, &text).unwrap();
            let _ = fs::remove_file(&expected_json);
            let _ = fs::remove_file(src.join("expected-report.json"));
        }
        let want = fs::read_to_string(&expected_error).unwrap_or_else(|_| panic!("{case}: devgpu failed ({}) but there is no expected-error.txt:\n{text}{}", run.code, run.stderr));
        assert_eq!(text, want, "{case}: the error differs");
        assert_eq!(run.code, 1, "{case}: a refused file is a user error (exit 1)");
        assert_eq!(fs::read(&real).ok(), before, "{case}: the file changed although devgpu failed");
        assert_eq!(listing(dir), before_listing, "{case}: something was left behind");
        return;
    }

    let written = fs::read(&real).unwrap_or_else(|e| panic!("{case}: no file after success: {e}"));
    let report = report_of(&run.envelope);
    if bless() {
        fs::write(&expected_json, &written).unwrap();
        fs::write(src.join("expected-report.json"), serde_json::to_string_pretty(&report).unwrap() + "\n").unwrap();
        let _ = fs::remove_file(&expected_error);
    }
    assert!(!expected_error.exists(), "{case}: expected an error, devgpu succeeded");
    let want = fs::read(&expected_json).unwrap_or_else(|_| panic!("{case}: no expected.json; got:\n{}", String::from_utf8_lossy(&written)));
    assert_eq!(String::from_utf8_lossy(&written), String::from_utf8_lossy(&want), "{case}: the written file differs");
    assert_eq!(written, want, "{case}: the written bytes differ");
    let want_report: serde_json::Value = serde_json::from_str(&fs::read_to_string(src.join("expected-report.json")).unwrap()).unwrap();
    assert_eq!(report, want_report, "{case}: the report differs");

    // What dockerd reads back: strict JSON with the runtime registered (serde_json parses it too).
    let parsed = devgpu::host::daemon_json::parse_daemon_json(&written, "daemon.json").unwrap_or_else(|e| panic!("{case}: devgpu wrote a file dockerd refuses: {e}"));
    assert!(parsed.runtime("nvidia").is_some(), "{case}");
    if args.iter().any(|a| a == "--set-default") {
        assert_eq!(parsed.default_runtime.as_deref(), Some("nvidia"), "{case}");
    }
    if args.iter().any(|a| a == "--cdi") {
        assert_eq!(parsed.features_cdi, Some(true), "{case}");
    }
    serde_json::from_slice::<serde_json::Value>(&written).unwrap_or_else(|e| panic!("{case}: not strict JSON for serde_json: {e}"));

    let changed = run.envelope["data"]["changed"].as_bool().unwrap();
    assert_eq!(changed, before.as_deref() != Some(&written[..]), "{case}: `changed` is wrong");
    let backup = run.envelope["data"]["backup"].as_str().map(str::to_string);
    if changed {
        // One backup beside the real file, holding the file as it was (an `.absent` marker when there was none).
        let b = PathBuf::from(backup.unwrap_or_else(|| panic!("{case}: changed without a backup")));
        let b = if b.is_absolute() { b } else { dir.join(b) };
        assert_eq!(b.parent().unwrap().canonicalize().unwrap(), real.parent().unwrap().canonicalize().unwrap(), "{case}: backup not beside the file");
        match &before {
            Some(bytes) => assert_eq!(&fs::read(&b).unwrap(), bytes, "{case}: the backup is not the old file"),
            None => assert!(b.to_string_lossy().ends_with(".absent"), "{case}"),
        }
        if let Some(mode) = mode_before {
            assert_eq!(fs::metadata(&real).unwrap().permissions().mode() & 0o7777, mode, "{case}: mode not kept");
        }
    } else {
        assert!(backup.is_none(), "{case}: a backup although nothing changed");
    }
    let after_first = listing(dir);
    assert!(after_first.iter().all(|n| !n.ends_with(".tmp")), "{case}: a temporary file was left: {after_first:?}");

    // A second run changes nothing and makes no backup.
    let again = configure(dir, &args.iter().filter(|a| *a != "--repair").cloned().collect::<Vec<_>>());
    assert_eq!(again.code, 0, "{case}: second run failed: {}", again.envelope);
    assert_eq!(again.envelope["data"]["changed"], false, "{case}: second run changed the file: {}", again.envelope);
    assert_eq!(fs::read(&real).unwrap(), written, "{case}: second run rewrote the file");
    assert_eq!(listing(dir), after_first, "{case}: second run left something");
    if case == "symlink" {
        assert!(fs::symlink_metadata(dir.join("daemon.json")).unwrap().file_type().is_symlink(), "the link was replaced");
        assert_eq!(run.envelope["data"]["target"].as_str().map(|t| t.ends_with("real/daemon.json")), Some(true));
    }
}

#[test]
fn corpus() {
    let root = fixture("daemon-json");
    let mut cases: Vec<String> = fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    cases.sort();
    assert!(cases.len() >= 30, "the corpus lost cases: {cases:?}");
    let mut failures = Vec::new();
    for case in &cases {
        if let Err(e) = std::panic::catch_unwind(|| run_case(case)) {
            let msg = e.downcast_ref::<String>().cloned().or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default();
            failures.push(format!("--- {case}: {msg}"));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

#[test]
fn dry_run_prints_the_diff_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("daemon.json"), "{\n  \"debug\": true\n}\n").unwrap();
    let out = run_logged(devgpu().current_dir(tmp.path()).args(["host", "configure-docker", "--config", "daemon.json", "--set-default", "--dry-run"]));
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "--- a/daemon.json\n+++ b/daemon.json\n@@ -1,3 +1,10 @@\n {\n-  \"debug\": true\n+  \"debug\": true,\n+  \"runtimes\": {\n+    \"nvidia\": {\n+      \"path\": \"nvidia-container-runtime\",\n+      \"args\": []\n+    }\n+  },\n+  \"default-runtime\": \"nvidia\"\n }\n"
    );
    assert_eq!(fs::read_to_string(tmp.path().join("daemon.json")).unwrap(), "{\n  \"debug\": true\n}\n");
    assert_eq!(listing(tmp.path()), ["daemon.json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("dry run: nothing written"), "{stderr}");
}

#[test]
fn a_human_summary_says_what_to_run_next() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run_logged(devgpu().current_dir(tmp.path()).args(["host", "configure-docker", "--config", "daemon.json"]));
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "", "only a dry run or a repair prints to stdout");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("~ registered runtime `nvidia` → nvidia-container-runtime"), "{stderr}");
    assert!(stderr.contains("next: restart Docker to apply: "), "{stderr}");
}

/// Not allowed to create a file beside daemon.json: "run with sudo", the file byte-identical, nothing left.
#[test]
fn permission_denied_says_sudo_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let file = dir.join("daemon.json");
    fs::write(&file, "{\"debug\": true}\n").unwrap();
    fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();
    let root = fs::read_to_string("/proc/self/status").unwrap().lines().any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(2) == Some("0"));
    let mut cmd = if root {
        // Root may write anywhere: run devgpu as nobody, who can read the file but not write in the directory.
        fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).unwrap();
        let mut c = std::process::Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", env!("CARGO_BIN_EXE_devgpu")]);
        c
    } else {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o555)).unwrap();
        std::process::Command::new(env!("CARGO_BIN_EXE_devgpu"))
    };
    cmd.env("NO_COLOR", "1").args(["--json", "host", "configure-docker", "--config"]).arg(&file);
    let out = run_logged(&mut cmd);
    fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).unwrap();
    let envelope: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(out.status.code(), Some(1), "{envelope}");
    assert_eq!(envelope["error"]["code"], "permission-denied", "{envelope}");
    let message = envelope["error"]["message"].as_str().unwrap();
    assert!(message.contains("Permission denied") && message.ends_with("nothing was changed"), "{message}");
    let hint = envelope["error"]["hints"][0].as_str().unwrap();
    assert!(hint.starts_with("run it with sudo: sudo devgpu --json host configure-docker --config "), "{hint}");
    assert_eq!(fs::read_to_string(&file).unwrap(), "{\"debug\": true}\n");
    assert_eq!(listing(dir), ["daemon.json"]);
}

/// The rename itself fails (an immutable file, `chattr +i`): the backup made just before is removed again and
/// no temporary file stays.
#[test]
fn a_failed_rename_leaves_no_backup_and_no_temp_file() {
    let tmp = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let file = tmp.path().join("daemon.json");
    fs::write(&file, "{}\n").unwrap();
    let chattr = std::process::Command::new("chattr").arg("+i").arg(&file).output();
    if !chattr.as_ref().is_ok_and(|o| o.status.success()) {
        eprintln!("SKIPPED: chattr +i is not possible here (not root, or the file system has no immutable flag)");
        return;
    }
    let out = run_logged(devgpu().args(["--json", "host", "configure-docker", "--config"]).arg(&file));
    let _ = std::process::Command::new("chattr").arg("-i").arg(&file).output();
    let envelope: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{envelope}");
    assert_eq!(envelope["error"]["code"], "write-failed", "{envelope}");
    assert!(envelope["error"]["hints"][0].as_str().unwrap().contains("chattr -i -a"), "{envelope}");
    assert_eq!(fs::read_to_string(&file).unwrap(), "{}\n");
    assert_eq!(listing(tmp.path()), ["daemon.json"]);
}

#[test]
fn undo_restores_the_newest_backup_with_a_backup_of_its_own() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let original = "{\n  \"debug\": true\n}\n";
    fs::write(dir.join("daemon.json"), original).unwrap();
    assert_eq!(configure(dir, &["--set-default".to_string()]).code, 0);
    let configured = fs::read_to_string(dir.join("daemon.json")).unwrap();
    assert_ne!(configured, original);

    let undo = |extra: &[&str]| {
        let out = run_logged(devgpu().current_dir(dir).args(["--json", "host", "undo", "--config", "daemon.json"]).args(extra));
        let envelope: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        (out.status.code(), envelope, String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let (code, dry, _) = undo(&["--dry-run"]);
    assert_eq!(code, Some(0));
    assert!(dry["data"]["diff"].as_str().unwrap().contains("-  \"default-runtime\": \"nvidia\""), "{dry}");
    assert_eq!(fs::read_to_string(dir.join("daemon.json")).unwrap(), configured);

    let (code, e, _) = undo(&[]);
    assert_eq!(code, Some(0), "{e}");
    assert_eq!(fs::read_to_string(dir.join("daemon.json")).unwrap(), original);
    let backup = e["data"]["backup"].as_str().unwrap();
    assert_eq!(fs::read_to_string(dir.join(backup)).unwrap_or_else(|_| fs::read_to_string(backup).unwrap()), configured);
    assert_eq!(listing(dir), ["daemon.json", "daemon.json.devgpu-backup-*", "daemon.json.devgpu-backup-*"]);
    // Undo again: back to the configured file (the undo's own backup is now the newest).
    let (code, e, _) = undo(&[]);
    assert_eq!(code, Some(0), "{e}");
    assert_eq!(fs::read_to_string(dir.join("daemon.json")).unwrap(), configured);
}

#[test]
fn undo_of_a_created_file_removes_it_and_undo_without_backups_fails_cleanly() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let out = run_logged(devgpu().current_dir(dir).args(["--json", "host", "undo", "--config", "daemon.json"]));
    assert_eq!(out.status.code(), Some(1));
    let e: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(e["error"]["code"], "no-backup");
    assert!(listing(dir).is_empty());

    assert_eq!(configure(dir, &[]).code, 0);
    assert_eq!(listing(dir), ["daemon.json", "daemon.json.devgpu-backup-*.absent"]);
    let out = run_logged(devgpu().current_dir(dir).args(["--json", "host", "undo", "--config", "daemon.json"]));
    assert_eq!(out.status.code(), Some(0));
    assert!(!dir.join("daemon.json").exists());
    let e: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(e["data"]["removed"], true);
}
