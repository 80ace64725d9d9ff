//! The VS Code extension (`vscode-ext/`): its unit tests (the CLI bridge against a fake devgpu) and its end-to-end
//! test in a real VS Code (code-server + Chromium + playwright-core) against the devgpu binary cargo built for this
//! run. Both are npm/bash scripts in `vscode-ext/scripts/`; these tests run them so that `cargo test` covers them.
//!
//! Needs: node >= 20 and npm (the unit tests install `vscode-ext/node_modules` with `npm ci` when missing); for the
//! end-to-end test also Debian's `chromium`, and — unless Node 24 and code-server are already cached in
//! `$DEVGPU_TEST_CACHE/vscode-e2e` — `libkrb5-dev` to compile code-server (about 75 s, once). `.ci/run` provides them.
//! Under `CI` a missing prerequisite fails the test; elsewhere it prints a skip note.
//!
//! The end-to-end test keeps its screenshot of the final state at `vscode-ext/.work/e2e/artifacts/final.png`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use common::tools::{self, missing_prerequisite};

/// Both scripts compile into `vscode-ext/out` and may run `npm ci`: never at the same time.
static SERIAL: Mutex<()> = Mutex::new(());

fn ext_dir() -> PathBuf {
    tools::manifest_dir().join("vscode-ext")
}

/// node (>= 20) and npm on PATH, else a skip note (or a panic under CI).
fn have_node() -> bool {
    let fix = "install Node.js >= 20 with npm (part of the CI machine image)";
    match Command::new("node")
        .args(["-p", "process.versions.node.split('.')[0]"])
        .output()
    {
        Ok(out) if out.status.success() => {
            let major: u32 = String::from_utf8_lossy(&out.stdout)
                .trim()
                .parse()
                .unwrap_or(0);
            if major < 20 {
                return missing_prerequisite(
                    &format!("node {major} is too old for the extension's tests"),
                    fix,
                );
            }
        }
        _ => return missing_prerequisite("node is not on PATH", fix),
    }
    if Command::new("npm")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
    {
        true
    } else {
        missing_prerequisite("npm is not on PATH", fix)
    }
}

fn chromium() -> PathBuf {
    std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

/// What the e2e needs beyond node: Chromium, and either a cached code-server or the headers to build one.
fn have_e2e_prerequisites() -> bool {
    let chromium = chromium();
    if !chromium.exists() {
        return missing_prerequisite(
            &format!("Chromium is not installed at {}", chromium.display()),
            "apt-get install -y chromium   (or set CHROMIUM)",
        );
    }
    let cache = std::env::var_os("DEVGPU_TEST_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/cache/devgpu-test"));
    let cached = cache
        .join("vscode-e2e")
        .join("code-server-4.139.1")
        .join(".complete")
        .exists();
    if !cached
        && !Path::new("/usr/include/krb5.h").exists()
        && !Path::new("/usr/include/gssapi/gssapi.h").exists()
    {
        return missing_prerequisite(
            "code-server is not cached and libkrb5-dev (needed to compile it) is missing",
            "apt-get install -y libkrb5-dev   (then vscode-ext/scripts/e2e-prereqs.sh, or run .ci/run)",
        );
    }
    true
}

/// Run a script of vscode-ext/scripts and panic with its whole output if it fails.
fn run_script(name: &str, envs: &[(&str, &Path)]) -> String {
    let script = ext_dir().join("scripts").join(name);
    let mut cmd = Command::new("bash");
    cmd.arg(&script).current_dir(ext_dir());
    // The devgpu the extension runs inherits this: no public index or registry, no developer's cached facts.
    tools::offline_facts(&mut cmd);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = tools::run_logged(&mut cmd);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{} failed ({}):\n{text}",
        script.display(),
        out.status
    );
    text
}

#[test]
fn extension_unit_tests_pass() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !have_node() {
        return;
    }
    let out = run_script("test-unit.sh", &[]);
    assert!(
        out.contains("ℹ fail 0"),
        "the unit test summary is missing:\n{out}"
    );
}

#[test]
fn extension_e2e_in_code_server() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !have_node() || !have_e2e_prerequisites() {
        return;
    }
    let devgpu = PathBuf::from(env!("CARGO_BIN_EXE_devgpu"));
    let work = ext_dir().join(".work").join("e2e");
    let out = run_script(
        "test-e2e.sh",
        &[("DEVGPU_BIN", &devgpu), ("DEVGPU_E2E_WORK", &work)],
    );
    assert!(
        out.contains("OK: ") && out.contains("assertions passed"),
        "no e2e summary:\n{out}"
    );
    let shot = work.join("artifacts").join("final.png");
    let size = std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0);
    assert!(
        size > 10_000,
        "the final screenshot {} is missing or empty",
        shot.display()
    );
    eprintln!(
        "{}",
        out.lines()
            .filter(|l| l.contains("[e2e") || l.starts_with("test-e2e"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}
