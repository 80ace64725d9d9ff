//! PURE: what `devgpu verify` asks the container ([`PROBE_SCRIPT`], one POSIX-sh run as the remote user that
//! prints `key=value` lines) and how the answers become checks ([`verify_checks`]).
//!
//! Checks: the GPUs the container sees (`nvidia-smi -L` against the host's count, `/dev/nvidia*`, `libcuda.so.1`),
//! the framework seeing the GPU (torch / TensorFlow / JAX, when installed), what the VS Code server needs
//! (glibc ≥ 2.28, libstdc++ with GLIBCXX_3.4.25, `/bin/sh`, `tar`; since VS Code 1.99), the remote user (exists,
//! owns its home, can write the workspace folder and /tmp) and `/dev/shm` against `--shm-size`.

use std::collections::BTreeMap;

use crate::checks::Check;

/// The probe. Environment: `DEVGPU_WS` (the workspace folder), `DEVGPU_GPU` (1 when the container got a GPU:
/// only then are frameworks imported, which takes seconds).
pub const PROBE_SCRIPT: &str = r#"
say() { printf '%s=%s\n' "$1" "$2"; }
has() { command -v "$1" >/dev/null 2>&1; }
say user "$(id -un 2>/dev/null || echo "?")"
say uid "$(id -u 2>/dev/null)"
say groups "$(id -G 2>/dev/null)"
say home "$HOME"
if [ -n "$HOME" ] && [ -d "$HOME" ]; then
  say home_owner "$(stat -c %U "$HOME" 2>/dev/null || ls -ld "$HOME" 2>/dev/null | awk '{print $3}')"
fi
[ -x /bin/sh ] && say sh yes || say sh no
has tar && say tar yes || say tar no
v=""
if has getconf; then v=$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{print $2}'); fi
if [ -z "$v" ] && has ldd; then v=$(ldd --version 2>&1 | head -n1 | grep -i -e glibc -e 'gnu libc' | grep -o '[0-9][0-9]*\.[0-9][0-9]*' | tail -n1); fi
if [ -z "$v" ]; then
  for f in /lib/x86_64-linux-gnu/libc.so.6 /lib/aarch64-linux-gnu/libc.so.6 /lib64/libc.so.6 /usr/lib64/libc.so.6 /lib/libc.so.6; do
    if [ -e "$f" ]; then v=$(grep -a -o 'release version [0-9]*\.[0-9]*' "$f" 2>/dev/null | head -n1 | awk '{print $3}'); [ -n "$v" ] && break; fi
  done
fi
if ldd --version 2>&1 | grep -qi musl; then say libc musl; fi
say glibc "$v"
cxx=""
if has ldconfig; then cxx=$(ldconfig -p 2>/dev/null | grep 'libstdc++.so.6 ' | head -n1 | sed 's/.*=> //'); fi
if [ -z "$cxx" ]; then
  for f in /usr/lib/x86_64-linux-gnu/libstdc++.so.6 /usr/lib/aarch64-linux-gnu/libstdc++.so.6 /usr/lib64/libstdc++.so.6 /usr/lib/libstdc++.so.6 /lib64/libstdc++.so.6; do
    [ -e "$f" ] && cxx=$f && break
  done
fi
say libstdcxx "$cxx"
if [ -n "$cxx" ] && grep -q -a GLIBCXX_3.4.25 "$cxx" 2>/dev/null; then say glibcxx_3_4_25 yes; else say glibcxx_3_4_25 no; fi
# The driver's tools where devgpu's inject mode and CDI specs put them (nvidia/cuda images have it on PATH).
if ! has nvidia-smi && [ -x /usr/local/nvidia/bin/nvidia-smi ]; then PATH="$PATH:/usr/local/nvidia/bin"; fi
if has nvidia-smi; then
  out=$(nvidia-smi -L 2>&1); say nvidia_smi_rc $?
  say nvidia_smi_gpus "$(printf '%s\n' "$out" | grep -c '^GPU ')"
  say nvidia_smi_out "$(printf '%s' "$out" | head -n3 | tr '\n' ' ')"
else
  say nvidia_smi_rc missing
fi
say dev_nvidia "$(ls /dev/nvidia* 2>/dev/null | tr '\n' ' ')"
cuda=""
if has ldconfig; then cuda=$(ldconfig -p 2>/dev/null | grep 'libcuda.so.1 ' | head -n1 | sed 's/.*=> //'); fi
if [ -z "$cuda" ]; then
  for d in $(printf '%s' "$LD_LIBRARY_PATH" | tr ':' ' ') /usr/lib/x86_64-linux-gnu /usr/lib/aarch64-linux-gnu /usr/lib64 /usr/local/nvidia/lib64 /usr/local/nvidia/lib /usr/lib/wsl/lib; do
    [ -e "$d/libcuda.so.1" ] && cuda="$d/libcuda.so.1" && break
  done
fi
say libcuda "$cuda"
say shm_kb "$(df -k /dev/shm 2>/dev/null | awk 'NR==2 {print $2}')"
t="$DEVGPU_WS/.devgpu-verify-$$"
if [ -d "$DEVGPU_WS" ] && ( : > "$t" ) 2>/dev/null; then rm -f "$t"; say ws_writable yes; else say ws_writable no; fi
t="/tmp/.devgpu-verify-$$"
if ( : > "$t" ) 2>/dev/null; then rm -f "$t"; say tmp_writable yes; else say tmp_writable no; fi
py=""
for p in python3 python; do has $p && py=$p && break; done
if [ -n "$py" ]; then
  say frameworks "$($py -c 'import importlib.util as u; print(",".join(m for m in ("torch", "tensorflow", "jax") if u.find_spec(m)))' 2>/dev/null)"
  if [ "$DEVGPU_GPU" = 1 ]; then
    say torch_cuda "$($py -c 'import torch; print(torch.__version__, torch.cuda.is_available(), torch.cuda.device_count())' 2>&1 | tail -n1)"
    say tf_gpus "$($py -c 'import os; os.environ["TF_CPP_MIN_LOG_LEVEL"]="3"; import tensorflow as tf; print(tf.__version__, len(tf.config.list_physical_devices("GPU")))' 2>&1 | tail -n1)"
    say jax_gpus "$($py -c 'import jax; print(jax.__version__, sum(d.platform=="gpu" for d in jax.devices()))' 2>&1 | tail -n1)"
  fi
fi
say done yes
"#;

/// Parses the probe's `key=value` lines (the first `=` splits; later lines win).
pub fn parse_probe(out: &str) -> BTreeMap<String, String> {
    out.lines().filter_map(|l| l.split_once('=')).map(|(k, v)| (k.trim().to_string(), v.trim().to_string())).collect()
}

/// What `verify` knows besides the probe.
#[derive(Debug, Clone, Default)]
pub struct VerifyFacts {
    pub probe: BTreeMap<String, String>,
    /// The probe could not run as the remote user (e.g. the user does not exist): the daemon's message.
    pub user_error: Option<String>,
    pub remote_user: String,
    pub workspace_folder: String,
    /// GPUs on the host (`None`: unknown, e.g. devgpu runs away from the Docker host).
    pub host_gpus: Option<usize>,
    /// `--gpus` value the config asks for (`all`, `2`, `device=0,2`), if any.
    pub gpu_request: Option<String>,
    pub gpu_granted: bool,
    /// `hostRequirements.gpu: "optional"`: a container without the GPU is allowed (a warning, not a failure).
    pub gpu_optional: bool,
    /// `--shm-size` in bytes, or `--ipc=host` (the host's /dev/shm), as configured.
    pub shm_size: Option<i64>,
    pub ipc_host: bool,
    /// The workspace folder on the host and its owner's uid (when the daemon is local).
    pub local_folder: String,
    pub workspace_owner_uid: Option<u32>,
}

fn version_at_least(v: &str, major: u32, minor: u32) -> Option<bool> {
    let mut it = v.split('.');
    let a: u32 = it.next()?.trim().parse().ok()?;
    let b: u32 = it.next().unwrap_or("0").trim().parse().ok()?;
    Some((a, b) >= (major, minor))
}

/// How the remote user gets to write a workspace owned by host uid `owner`. Never by giving the container user
/// uid 0 or handing the files to root: the host owner's uid goes to the container user, which is what
/// `updateRemoteUserUID` does when `devgpu up` (or VS Code) runs as the owner.
fn workspace_owner_fix(user: &str, owner: u32, local_folder: &str) -> String {
    let folder = if local_folder.is_empty() { "the workspace folder" } else { local_folder };
    if owner == 0 {
        return format!(
            "{folder} belongs to root on the host, which no non-root container user can write: use a copy your own user owns (e.g. clone the repository again as yourself), then run `devgpu up --rebuild` as that user; updateRemoteUserUID then gives `{user}` your uid"
        );
    }
    format!(
        "run `devgpu up --rebuild` as the owner of {folder} (uid {owner}): updateRemoteUserUID (on by default on Linux; check devcontainer.json does not set it to false) gives `{user}` that uid, as VS Code does; or give `{user}` uid {owner} in the Dockerfile (`RUN usermod -u {owner} {user}`)"
    )
}

/// The checks, in a fixed order.
pub fn verify_checks(f: &VerifyFacts) -> Vec<Check> {
    let p = |k: &str| f.probe.get(k).map(String::as_str).unwrap_or("");
    let mut checks = Vec::new();
    let wanted = f.gpu_request.is_some();

    // GPUs.
    if !wanted {
        checks.push(Check::skip("gpu.visible", "no GPU requested (no --gpus in runArgs, no hostRequirements.gpu)"));
    } else if !f.gpu_granted && f.gpu_optional {
        checks.push(Check::warn(
            "gpu.visible",
            "the container started without a GPU: Docker on this host could not provide one (hostRequirements.gpu is \"optional\")",
            "run `devgpu doctor --probe` and follow its fixes, then `devgpu up --rebuild`",
        ));
    } else if !f.gpu_granted {
        // The engine took the request and dropped it (a Compose reservation on Podman): up said so, verify fails.
        checks.push(Check::fail(
            "gpu.visible",
            "the container started without the GPU it asks for: the engine dropped the request (up's warning says why)",
            "give the GPU as device nodes and driver files, which every engine applies: `devgpu init --gpu-mode inject`, then `devgpu up --rebuild`",
        ));
    } else {
        let gpus: Option<usize> = p("nvidia_smi_gpus").parse().ok();
        match (p("nvidia_smi_rc"), gpus) {
            ("missing", _) => checks.push(Check::fail(
                "gpu.visible",
                "nvidia-smi is not in the container: the NVIDIA runtime did not inject the driver's tools",
                "check the toolkit on the host: `devgpu doctor --probe`; with CDI or device injection mount the driver's binaries too",
            )),
            ("0", Some(n)) if n > 0 => {
                let expected = match (f.gpu_request.as_deref(), f.host_gpus) {
                    (Some("all"), Some(h)) => Some(h),
                    (Some(r), _) if r.parse::<usize>().is_ok() => r.parse().ok(),
                    (Some(r), _) if r.starts_with("device=") => Some(r.trim_start_matches("device=").split(',').count()),
                    _ => None,
                };
                match expected {
                    Some(e) if e != n => checks.push(Check::warn(
                        "gpu.visible",
                        format!("{n} GPU(s) visible in the container, {e} expected (--gpus {})", f.gpu_request.as_deref().unwrap_or("")),
                        "check `nvidia-smi -L` on the host and the --gpus value in devcontainer.json",
                    )),
                    _ => checks.push(Check::pass("gpu.visible", format!("{n} GPU(s) visible (nvidia-smi -L): {}", p("nvidia_smi_out").trim()))),
                }
            }
            _ => checks.push(Check::fail(
                "gpu.visible",
                format!("nvidia-smi finds no GPU in the container: {}", p("nvidia_smi_out")),
                crate::checks::diagnose(p("nvidia_smi_out")).map(|d| d.fix_text()).unwrap_or_else(|| "run `devgpu doctor --probe` on the host".into()),
            )),
        }
    }
    let nodes = p("dev_nvidia");
    if !wanted || !f.gpu_granted {
        checks.push(Check::skip("gpu.device-nodes", "no GPU in this container"));
    } else if nodes.split_whitespace().any(|n| n.trim_start_matches("/dev/nvidia").chars().all(|c| c.is_ascii_digit()) && n != "/dev/nvidia") && nodes.contains("/dev/nvidiactl") {
        checks.push(Check::pass("gpu.device-nodes", format!("device nodes: {}", nodes.trim())));
    } else {
        checks.push(Check::fail(
            "gpu.device-nodes",
            format!("the GPU device nodes are missing (found: {})", if nodes.trim().is_empty() { "none" } else { nodes.trim() }),
            "the runtime did not add /dev/nvidiaN and /dev/nvidiactl: check `devgpu doctor --probe`",
        ));
    }
    if !wanted || !f.gpu_granted {
        checks.push(Check::skip("gpu.libcuda", "no GPU in this container"));
    } else if !p("libcuda").is_empty() {
        checks.push(Check::pass("gpu.libcuda", format!("libcuda.so.1 at {}", p("libcuda"))));
    } else {
        checks.push(Check::fail(
            "gpu.libcuda",
            "libcuda.so.1 (the driver's CUDA library) cannot be found in the container",
            "the runtime mounts it with the `utility,compute` capabilities: use --gpus all (not capabilities=…), or set NVIDIA_DRIVER_CAPABILITIES=compute,utility",
        ));
    }

    // Frameworks.
    let frameworks: Vec<&str> = p("frameworks").split(',').filter(|s| !s.is_empty()).collect();
    if frameworks.is_empty() {
        checks.push(Check::skip("framework.gpu", "no GPU framework installed (torch, tensorflow, jax)"));
    } else if !wanted || !f.gpu_granted {
        checks.push(Check::skip("framework.gpu", format!("{} installed; no GPU in this container", frameworks.join(", "))));
    } else {
        for fw in frameworks {
            let (id, key) = match fw {
                "torch" => ("framework.torch", "torch_cuda"),
                "tensorflow" => ("framework.tensorflow", "tf_gpus"),
                _ => ("framework.jax", "jax_gpus"),
            };
            let line = p(key);
            let words: Vec<&str> = line.split_whitespace().collect();
            let ok = match fw {
                "torch" => words.get(1) == Some(&"True"),
                _ => words.get(1).and_then(|n| n.parse::<usize>().ok()).is_some_and(|n| n > 0),
            };
            if ok {
                checks.push(Check::pass(id, format!("{fw} {} sees the GPU", words.first().unwrap_or(&""))));
            } else {
                let fix = crate::checks::diagnose(line).map(|d| d.fix_text()).unwrap_or_else(|| {
                    format!("install a {fw} build for this CUDA and GPU (`devgpu init --framework {}` picks one), then `devgpu up --rebuild`", if fw == "torch" { "pytorch" } else { fw })
                });
                checks.push(Check::fail(id, format!("{fw} does not see the GPU: {line}"), fix));
            }
        }
    }

    // VS Code server prerequisites.
    let glibc = p("glibc");
    if p("libc") == "musl" || glibc.is_empty() {
        checks.push(Check::fail(
            "vscode.glibc",
            if p("libc") == "musl" { "the image uses musl, not glibc: the VS Code server cannot run in it" } else { "no GNU C library (glibc) in the image: the VS Code server cannot run in it" },
            "base the image on a glibc distribution: Ubuntu ≥ 20.04 or Debian ≥ 10 (e.g. an nvidia/cuda …-ubuntu22.04 tag)",
        ));
    } else if version_at_least(glibc, 2, 28) == Some(true) {
        checks.push(Check::pass("vscode.glibc", format!("glibc {glibc} (VS Code needs ≥ 2.28)")));
    } else {
        checks.push(Check::fail(
            "vscode.glibc",
            format!("glibc {glibc} is older than 2.28, which the VS Code server needs since VS Code 1.99"),
            "use a newer base image: Ubuntu ≥ 20.04 or Debian ≥ 10 (Ubuntu 18.04 and CentOS 7 can no longer be attached to)",
        ));
    }
    if glibc.is_empty() {
        checks.push(Check::skip("vscode.libstdcxx", "no glibc, so no usable libstdc++"));
    } else if p("glibcxx_3_4_25") == "yes" {
        checks.push(Check::pass("vscode.libstdcxx", format!("{} has GLIBCXX_3.4.25", p("libstdcxx"))));
    } else {
        checks.push(Check::fail(
            "vscode.libstdcxx",
            if p("libstdcxx").is_empty() { "libstdc++.so.6 is missing: the VS Code server needs it (GLIBCXX_3.4.25)".to_string() } else { format!("{} lacks GLIBCXX_3.4.25, which the VS Code server needs", p("libstdcxx")) },
            "install it in the Dockerfile: `RUN apt-get update && apt-get install -y libstdc++6` (Debian/Ubuntu), or use a newer base image",
        ));
    }
    match (p("sh"), p("tar")) {
        ("yes", "yes") => checks.push(Check::pass("vscode.tools", "/bin/sh and tar are present")),
        (sh, _) => checks.push(Check::fail(
            "vscode.tools",
            if sh != "yes" { "/bin/sh is missing: VS Code installs and starts its server with it" } else { "tar is missing: VS Code unpacks its server with it" },
            "install it in the Dockerfile (Debian/Ubuntu: `RUN apt-get update && apt-get install -y tar`)",
        )),
    }

    // The remote user.
    let user = &f.remote_user;
    if let Some(e) = &f.user_error {
        checks.push(Check::fail(
            "user.exists",
            format!("the remote user `{user}` cannot run commands in the container: {e}"),
            format!("create `{user}` in the Dockerfile (`RUN useradd -m {user}`) or change remoteUser in devcontainer.json"),
        ));
    } else {
        checks.push(Check::pass("user.exists", format!("remote user `{}` (uid {})", p("user"), p("uid"))));
        let home = p("home");
        let owner = p("home_owner");
        if home.is_empty() || owner.is_empty() {
            checks.push(Check::fail("user.home", format!("`{user}` has no home directory{}", if home.is_empty() { String::new() } else { format!(" ({home} is missing)") }), format!("create it: `RUN useradd -m {user}` (or `mkdir -p {home} && chown {user} {home}`)")));
        } else if owner == p("user") || p("uid") == "0" {
            checks.push(Check::pass("user.home", format!("{home} belongs to {owner}")));
        } else {
            checks.push(Check::fail("user.home", format!("{home} belongs to {owner}, not to `{user}`: VS Code cannot write its server there"), format!("in the Dockerfile: `RUN chown -R {user} {home}`")));
        }
    }
    if f.user_error.is_none() {
        if p("ws_writable") == "yes" {
            checks.push(Check::pass("user.workspace-writable", format!("`{user}` can write {}", f.workspace_folder)));
        } else {
            let uid = p("uid");
            let (summary, fix) = match f.workspace_owner_uid {
                Some(owner) if owner.to_string() != uid => (
                    format!("`{user}` (uid {uid}) cannot write the workspace folder {}: on the host it belongs to uid {owner}", f.workspace_folder),
                    workspace_owner_fix(user, owner, &f.local_folder),
                ),
                _ => (
                    format!("`{user}` cannot write the workspace folder {}", f.workspace_folder),
                    format!("make {} writable for your own user on the host (`chmod u+w`), not for root or everyone", if f.local_folder.is_empty() { "the workspace" } else { &f.local_folder }),
                ),
            };
            checks.push(Check::fail("user.workspace-writable", summary, fix));
        }
        if p("tmp_writable") == "yes" {
            checks.push(Check::pass("user.tmp-writable", format!("`{user}` can write /tmp")));
        } else {
            checks.push(Check::fail("user.tmp-writable", format!("`{user}` cannot write /tmp"), "in the Dockerfile: `RUN chmod 1777 /tmp`"));
        }
    }

    // Shared memory.
    let shm_kb: Option<i64> = p("shm_kb").parse().ok();
    match (shm_kb, f.shm_size, f.ipc_host) {
        (None, _, _) => checks.push(Check::skip("container.shm", "the size of /dev/shm could not be read")),
        (Some(kb), _, true) => checks.push(Check::pass("container.shm", format!("/dev/shm is the host's (--ipc=host), {} MiB", kb / 1024))),
        (Some(kb), Some(want), _) => {
            let have = kb * 1024;
            // df rounds; accept 1 % or 1 MiB of difference.
            if (have - want).abs() <= (want / 100).max(1 << 20) {
                checks.push(Check::pass("container.shm", format!("/dev/shm is {} MiB as configured (--shm-size)", have >> 20)));
            } else {
                checks.push(Check::fail(
                    "container.shm",
                    format!("/dev/shm is {} MiB, --shm-size asks for {} MiB", have >> 20, want >> 20),
                    "recreate the container so the setting applies: `devgpu up --rebuild`",
                ));
            }
        }
        (Some(kb), None, false) => {
            let fw = !p("frameworks").is_empty();
            if fw && kb < 1 << 20 {
                checks.push(Check::warn(
                    "container.shm",
                    format!("/dev/shm is {} MiB (Docker's default): PyTorch DataLoader workers can crash with \"bus error\"", kb / 1024),
                    "add \"--shm-size\", \"8g\" (or \"--ipc=host\") to runArgs in devcontainer.json",
                ));
            } else {
                checks.push(Check::pass("container.shm", format!("/dev/shm is {} MiB (none configured)", kb / 1024)));
            }
        }
    }
    checks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Status;

    fn facts(probe: &str) -> VerifyFacts {
        VerifyFacts { probe: parse_probe(probe), remote_user: "dev".into(), workspace_folder: "/workspaces/w".into(), ..Default::default() }
    }

    fn status(checks: &[Check], id: &str) -> Status {
        checks.iter().find(|c| c.id == id).unwrap_or_else(|| panic!("no {id} in {checks:#?}")).status
    }

    const DEBIAN: &str = "user=dev\nuid=1000\nhome=/home/dev\nhome_owner=dev\nsh=yes\ntar=yes\nglibc=2.36\nlibstdcxx=/usr/lib/x86_64-linux-gnu/libstdc++.so.6\nglibcxx_3_4_25=yes\nnvidia_smi_rc=missing\ndev_nvidia=\nlibcuda=\nshm_kb=65536\nws_writable=yes\ntmp_writable=yes\nframeworks=\ndone=yes\n";
    const BUSYBOX: &str = "user=root\nuid=0\nhome=/root\nhome_owner=root\nsh=yes\ntar=yes\nglibc=\nlibstdcxx=\nglibcxx_3_4_25=no\nnvidia_smi_rc=missing\ndev_nvidia=\nlibcuda=\nshm_kb=65536\nws_writable=yes\ntmp_writable=yes\ndone=yes\n";
    const GPU: &str = "user=dev\nuid=1000\nhome=/home/dev\nhome_owner=dev\nsh=yes\ntar=yes\nglibc=2.35\nlibstdcxx=/x\nglibcxx_3_4_25=yes\nnvidia_smi_rc=0\nnvidia_smi_gpus=1\nnvidia_smi_out=GPU 0: NVIDIA H200 (UUID: GPU-x)\ndev_nvidia=/dev/nvidia0 /dev/nvidiactl /dev/nvidia-uvm\nlibcuda=/usr/lib/x86_64-linux-gnu/libcuda.so.1\nshm_kb=8388608\nws_writable=yes\ntmp_writable=yes\nframeworks=torch\ntorch_cuda=2.8.0+cu128 True 1\ndone=yes\n";

    #[test]
    fn debian_without_gpu_passes() {
        let c = verify_checks(&facts(DEBIAN));
        assert!(!crate::checks::any_failed(&c), "{c:#?}");
        assert_eq!(status(&c, "gpu.visible"), Status::Skip);
        assert_eq!(status(&c, "vscode.glibc"), Status::Pass);
        assert_eq!(status(&c, "container.shm"), Status::Pass);
    }

    #[test]
    fn busybox_fails_the_glibc_check() {
        let c = verify_checks(&facts(BUSYBOX));
        assert_eq!(status(&c, "vscode.glibc"), Status::Fail);
        assert_eq!(status(&c, "vscode.libstdcxx"), Status::Skip);
        let mut f = facts(DEBIAN);
        f.probe.insert("glibc".into(), "2.27".into());
        let c = verify_checks(&f);
        assert_eq!(status(&c, "vscode.glibc"), Status::Fail);
        assert!(c.iter().any(|c| c.summary.contains("2.27")));
        f.probe.insert("glibcxx_3_4_25".into(), "no".into());
        assert_eq!(status(&verify_checks(&f), "vscode.libstdcxx"), Status::Fail);
        f.probe.insert("libc".into(), "musl".into());
        assert!(verify_checks(&f).iter().any(|c| c.summary.contains("musl")));
    }

    #[test]
    fn gpu_checks_against_the_host() {
        let mut f = facts(GPU);
        f.gpu_request = Some("all".into());
        f.gpu_granted = true;
        f.host_gpus = Some(1);
        f.shm_size = Some(8 << 30);
        let c = verify_checks(&f);
        assert!(!crate::checks::any_failed(&c), "{c:#?}");
        assert_eq!(status(&c, "framework.torch"), Status::Pass);
        assert_eq!(status(&c, "gpu.device-nodes"), Status::Pass);
        f.host_gpus = Some(8);
        assert_eq!(status(&verify_checks(&f), "gpu.visible"), Status::Warn);
        f.probe.insert("torch_cuda".into(), "2.8.0+cu130 False 0".into());
        assert_eq!(status(&verify_checks(&f), "framework.torch"), Status::Fail);
        f.probe.insert("nvidia_smi_rc".into(), "9".into());
        f.probe.insert("nvidia_smi_gpus".into(), "0".into());
        f.probe.insert("nvidia_smi_out".into(), "Failed to initialize NVML: Driver/library version mismatch".into());
        let c = verify_checks(&f);
        assert_eq!(status(&c, "gpu.visible"), Status::Fail);
        f.probe.insert("libcuda".into(), String::new());
        f.probe.insert("dev_nvidia".into(), String::new());
        let c = verify_checks(&f);
        assert_eq!(status(&c, "gpu.libcuda"), Status::Fail);
        assert_eq!(status(&c, "gpu.device-nodes"), Status::Fail);
    }

    #[test]
    fn optional_gpu_not_granted_warns() {
        let mut f = facts(DEBIAN);
        f.gpu_request = Some("all".into());
        f.gpu_granted = false;
        f.gpu_optional = true;
        let c = verify_checks(&f);
        assert_eq!(status(&c, "gpu.visible"), Status::Warn);
        assert!(!crate::checks::any_failed(&c));
    }

    #[test]
    fn a_required_gpu_the_engine_dropped_fails() {
        let mut f = facts(DEBIAN);
        f.gpu_request = Some("all".into());
        f.gpu_granted = false;
        let c = verify_checks(&f);
        assert_eq!(status(&c, "gpu.visible"), Status::Fail);
        assert!(c.iter().find(|c| c.id == "gpu.visible").unwrap().fix.as_deref().unwrap_or_default().contains("--gpu-mode inject"));
    }

    #[test]
    fn user_problems() {
        let mut f = facts(DEBIAN);
        f.user_error = Some("unable to find user dev: no matching entries in passwd file".into());
        let c = verify_checks(&f);
        assert_eq!(status(&c, "user.exists"), Status::Fail);
        let mut f = facts(DEBIAN);
        f.probe.insert("home_owner".into(), "root".into());
        f.probe.insert("ws_writable".into(), "no".into());
        f.workspace_owner_uid = Some(0);
        f.local_folder = "/src/w".into();
        let c = verify_checks(&f);
        assert_eq!(status(&c, "user.home"), Status::Fail);
        assert_eq!(status(&c, "user.workspace-writable"), Status::Fail);
        let fix = c.iter().find(|c| c.id == "user.workspace-writable").unwrap().fix.clone().unwrap();
        // A root-owned workspace: never "give dev uid 0", never chown to root or to the container's uid.
        assert!(!fix.contains("usermod -u 0") && !fix.contains("chown") && !fix.contains("sudo"), "{fix}");
        assert!(fix.contains("belongs to root") && fix.contains("updateRemoteUserUID"), "{fix}");
        // Owned by another host user: that uid goes to the container user.
        f.workspace_owner_uid = Some(1234);
        let c = verify_checks(&f);
        let fix = c.iter().find(|c| c.id == "user.workspace-writable").unwrap().fix.clone().unwrap();
        assert!(fix.contains("updateRemoteUserUID") && fix.contains("uid 1234") && fix.contains("usermod -u 1234 dev") && fix.contains("/src/w"), "{fix}");
        assert!(!fix.contains("chown") && !fix.contains("sudo"), "{fix}");
        // Same uid, yet not writable (a read-only mode): no uid change proposed.
        f.workspace_owner_uid = Some(1000);
        let fix = verify_checks(&f).into_iter().find(|c| c.id == "user.workspace-writable").unwrap().fix.unwrap();
        assert!(!fix.contains("usermod") && fix.contains("/src/w"), "{fix}");
    }

    #[test]
    fn shm_as_configured() {
        let mut f = facts(DEBIAN);
        f.shm_size = Some(64 << 20);
        assert_eq!(status(&verify_checks(&f), "container.shm"), Status::Pass);
        f.shm_size = Some(8 << 30);
        assert_eq!(status(&verify_checks(&f), "container.shm"), Status::Fail);
        f.shm_size = None;
        f.probe.insert("frameworks".into(), "torch".into());
        assert_eq!(status(&verify_checks(&f), "container.shm"), Status::Warn);
        f.ipc_host = true;
        assert_eq!(status(&verify_checks(&f), "container.shm"), Status::Pass);
    }

    #[test]
    fn probe_parsing() {
        let p = parse_probe("a=1\nb=x=y\nnoise\na=2\n");
        assert_eq!(p["a"], "2");
        assert_eq!(p["b"], "x=y");
        assert_eq!(p.len(), 2);
    }
}
