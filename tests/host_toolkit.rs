//! `devgpu host install-toolkit`: the steps chosen for each distribution (from `tests/fixtures/os-release/`),
//! the unknown-distribution error, and `--yes` running steps — only harmless stand-in steps (`--steps` with a
//! test file that also replaces the configure and restart steps): nothing here touches the machine's packages.

mod common;

use common::tools::{devgpu, fixture, run_logged};
use std::fs;

fn toolkit(os: &str, extra: &[&str]) -> (Option<i32>, serde_json::Value, String, String) {
    let out = run_logged(devgpu().args(["host", "install-toolkit", "--os-release"]).arg(fixture("os-release").join(os)).args(extra));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let json = if extra.contains(&"--json") { serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}")) } else { serde_json::Value::Null };
    (out.status.code(), json, stdout, stderr)
}

#[test]
fn prints_the_signed_apt_steps_for_debian_and_ubuntu() {
    for os in ["debian-12", "ubuntu-24.04"] {
        let (code, _, script, stderr) = toolkit(os, &[]);
        assert_eq!(code, Some(0), "{stderr}");
        assert!(script.starts_with("# nvidia-container-toolkit on "), "{script}");
        assert!(script.contains("# source: https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html"));
        assert!(script.contains("sudo gpg --batch --yes --dearmor -o /usr/share/keyrings/nvidia-container-toolkit-keyring.gpg"), "{script}");
        assert!(script.contains("deb [signed-by=/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg] https://"), "{script}");
        assert!(script.contains("\nsudo apt-get install -y nvidia-container-toolkit\n"), "{script}");
        assert!(!script.contains("apt-key"), "{script}");
        // Then devgpu's own daemon.json edit and the restart, in that order, at the end.
        let lines: Vec<&str> = script.trim_end().lines().collect();
        let last = lines[lines.len() - 1];
        assert!(last == "sudo systemctl restart docker" || last == "sudo service docker restart", "{script}");
        assert_eq!(lines[lines.len() - 4], "sudo devgpu host configure-docker", "{script}");
        // The printed script is valid shell.
        let check = std::process::Command::new("bash").args(["-n", "-c", &script]).output().unwrap();
        assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));
    }
    let (_, json, ..) = toolkit("ubuntu-24.04", &["--json"]);
    assert_eq!(json["data"]["family"], "apt");
    assert_eq!(json["data"]["matchedBy"], "ubuntu");
    assert_eq!(json["data"]["distribution"]["versionId"], "24.04");
    assert_eq!(json["data"]["ran"], false);
    assert_eq!(json["data"]["steps"].as_array().unwrap().len(), 7);
}

#[test]
fn picks_dnf_and_zypper_by_id_like() {
    let (code, json, ..) = toolkit("rocky-9", &["--json"]);
    assert_eq!(code, Some(0));
    assert_eq!(json["data"]["family"], "dnf");
    assert_eq!(json["data"]["matchedBy"], "rocky");
    let steps = json["data"]["steps"].to_string();
    assert!(steps.contains("/etc/yum.repos.d/nvidia-container-toolkit.repo") && steps.contains("dnf install -y nvidia-container-toolkit"), "{steps}");
    let (code, json, ..) = toolkit("opensuse-leap-15.5", &["--json"]);
    assert_eq!(code, Some(0));
    assert_eq!(json["data"]["family"], "zypper");
    assert!(json["data"]["steps"].to_string().contains("zypper --gpg-auto-import-keys install -y nvidia-container-toolkit"));
}

#[test]
fn an_unknown_distribution_names_the_known_ones_and_nvidia_s_guide() {
    let (code, json, ..) = toolkit("arch", &["--json"]);
    assert_eq!(code, Some(1));
    assert_eq!(json["error"]["code"], "unknown-distribution");
    let message = json["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("devgpu has no install steps for Arch Linux (ID=arch); known: Debian, Ubuntu"), "{message}");
    let hints = json["error"]["hints"].to_string();
    assert!(hints.contains("install-guide.html") && hints.contains("supported-platforms.html"), "{hints}");
}

/// Stand-in steps: the first succeeds, the second fails with output, the rest must not run.
const FAKE_STEPS: &str = r#"
source = "https://example.invalid/guide"
platforms = "https://example.invalid/platforms"
configure = "echo configured >> MARKS"
restart = "echo restarted >> MARKS"

[[family]]
id = "apt"
name = "Test (apt)"
match = ["ubuntu"]

[[family.steps]]
title = "first"
run = "echo first >> MARKS && echo all good"

[[family.steps]]
title = "second"
run = "echo second >> MARKS && echo 'E: Unable to locate package nvidia-container-toolkit' >&2 && exit 100"

[[family.steps]]
title = "third"
run = "echo third >> MARKS"
"#;

#[test]
fn yes_runs_the_steps_and_stops_at_the_first_failure() {
    let tmp = tempfile::tempdir().unwrap();
    let marks = tmp.path().join("marks");
    let steps = tmp.path().join("steps.toml");
    fs::write(&steps, FAKE_STEPS.replace("MARKS", &marks.display().to_string())).unwrap();
    let (code, json, _, stderr) = toolkit("ubuntu-24.04", &["--json", "--yes", "--steps", steps.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{json:#}\n{stderr}");
    assert_eq!(json["outcome"], "error");
    let results = json["data"]["results"].as_array().unwrap();
    let status: Vec<&str> = results.iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(status, ["ok", "failed", "not run", "not run", "not run"]);
    assert_eq!(results[0]["output"], "all good\n");
    assert_eq!(results[1]["exitCode"], 100);
    assert_eq!(results[1]["output"], "E: Unable to locate package nvidia-container-toolkit\n");
    assert_eq!(fs::read_to_string(&marks).unwrap(), "first\nsecond\n");
    // Progress went to stderr as JSON Lines.
    assert!(stderr.lines().any(|l| l.contains("\"type\":\"progress\"") && l.contains("2/5 second")), "{stderr}");

    // Human mode shows the failing step with its command, exit code and output.
    fs::remove_file(&marks).unwrap();
    let (code, _, stdout, stderr) = toolkit("ubuntu-24.04", &["--yes", "--steps", steps.to_str().unwrap()]);
    assert_eq!(code, Some(1));
    assert_eq!(stdout, "");
    assert!(stderr.contains("✗ second — failed") && stderr.contains("exit code 100") && stderr.contains("| E: Unable to locate package"), "{stderr}");
    assert!(stderr.contains("- third — not run"), "{stderr}");

    // All steps passing: configure and restart run last, exit 0.
    fs::remove_file(&marks).unwrap();
    fs::write(&steps, FAKE_STEPS.replace("MARKS", &marks.display().to_string()).replace(" && exit 100", "")).unwrap();
    let (code, json, ..) = toolkit("ubuntu-24.04", &["--json", "--yes", "--steps", steps.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{json:#}");
    assert_eq!(fs::read_to_string(&marks).unwrap(), "first\nsecond\nthird\nconfigured\nrestarted\n");
}
