//! `devgpu doctor`'s checks: [`HostFacts`] → an ordered list of [`Check`]s, one layer after the other — the GPU
//! and its driver, what CUDA they run, nvidia-container-toolkit, daemon.json, the Docker daemon and its runtimes,
//! the repository's dev container image, and the `--probe` container. Pure: tests build the facts directly.
//!
//! Check ids (stable): `gpu.kernel-module`, `gpu.nvml`, `gpu.driver-library`, `gpu.devices`, `gpu.device-nodes`,
//! `compat.driver-cuda`, `compat.minor-version`, `compat.gpu-cuda`, `toolkit.installed`, `toolkit.cdi`,
//! `daemon-json.valid`, `docker.reachable`, `docker.engine`, `docker.nvidia-runtime`, `docker.default-runtime`,
//! `docker.cgroups`, `docker.restarted`, `project.image`, `project.framework`, `probe.gpu`.

use super::diagnosis::{by_id, diagnose};
use super::Check;
use crate::compat::image_tag::{parse_cuda_image, tag_for, CUDA_REPO};
use crate::compat::knowledge::Knowledge;
use crate::compat::resolve::{torch_variant_fit, VariantFit};
use crate::compat::{check_image, ComputeCap, CudaVersion, DriverVersion};
use crate::model::host::{HostFacts, NvmlStatus, ProbeOutcome, CLI, CTK, HOOK, NVML_LIB, RUNTIME};

const RESTART_DOCKER: &str = "sudo systemctl restart docker";
const CONFIGURE_DOCKER: &str = "`devgpu host configure-docker` (or `sudo nvidia-ctk runtime configure --runtime=docker`), then `sudo systemctl restart docker`";
const INSTALL_DRIVER: &str = "install the NVIDIA driver: Ubuntu `sudo ubuntu-drivers install`, Debian `sudo apt install nvidia-driver` (non-free), others: https://docs.nvidia.com/datacenter/tesla/driver-installation-guide/ — then reboot";

/// Every check, in order.
pub fn doctor_checks(f: &HostFacts, k: &Knowledge) -> Vec<Check> {
    vec![
        kernel_module(f),
        nvml(f),
        driver_library(f),
        devices(f),
        device_nodes(f),
        driver_cuda(f, k),
        minor_version(f, k),
        gpu_cuda(f, k),
        toolkit_installed(f),
        toolkit_cdi(f),
        daemon_json(f),
        docker_reachable(f),
        docker_engine(f),
        nvidia_runtime(f),
        default_runtime(f),
        cgroups(f),
        restarted(f),
        project_image(f, k),
        project_framework(f, k),
        probe(f),
    ]
}

fn has_driver(f: &HostFacts) -> bool {
    f.driver.is_some()
}

fn kernel_module(f: &HostFacts) -> Check {
    const ID: &str = "gpu.kernel-module";
    if let Some(m) = &f.kernel_module {
        return Check::pass(ID, format!("NVIDIA kernel module {} loaded ({} kernel module)", m.version, if m.open { "open" } else { "proprietary" }));
    }
    if let Some(e) = &f.kernel_module_error {
        return Check::warn(ID, e.clone(), "`cat /proc/driver/nvidia/version` and `sudo dmesg | grep -i nvrm` show what the driver says");
    }
    if f.nvml.status == NvmlStatus::Ok {
        return Check::skip(ID, "no /proc/driver/nvidia/version (WSL or a container): the kernel module cannot be seen from here, but NVML answers");
    }
    if f.nvml.status == NvmlStatus::InitFailed || f.nvml.library.is_some() {
        let lib = f.nvml.library_version.as_ref().map(|v| format!(" {v}")).unwrap_or_default();
        return Check::fail(
            ID,
            format!("the NVIDIA driver's libraries{lib} are installed, but its kernel module is not loaded"),
            "load it: `sudo modprobe nvidia` — if that fails, `sudo dmesg | grep -i nvidia` says why (with Secure Boot on, the module must be signed: `mokutil --sb-state`); rebooting after a driver install loads it",
        );
    }
    Check::fail(ID, "no NVIDIA driver: no kernel module is loaded (no /proc/driver/nvidia/version) and no libnvidia-ml.so.1 was found", INSTALL_DRIVER)
}

fn nvml(f: &HostFacts) -> Check {
    const ID: &str = "gpu.nvml";
    let n = &f.nvml;
    match n.status {
        NvmlStatus::Ok => {
            let lib = n.library.clone().unwrap_or_else(|| NVML_LIB.into());
            let version = n.nvml_version.as_ref().map(|v| format!(" {v}")).unwrap_or_default();
            if !n.gpu_errors.is_empty() {
                return Check::warn(
                    ID,
                    format!("NVML{version} ({lib}) answers, but: {}", n.gpu_errors.join("; ")),
                    "`nvidia-smi` shows the same; `sudo dmesg | grep -i nvrm` says why (a GPU that fell off the bus needs a reset or a reboot)",
                );
            }
            Check::pass(ID, format!("NVML{version} loaded from {lib}"))
        }
        NvmlStatus::LibraryNotFound => {
            if f.kernel_module.is_none() {
                return Check::skip(ID, "no NVIDIA driver (see gpu.kernel-module)");
            }
            let tried = n.tried.join(", ");
            if f.gpu_source.as_deref() == Some("nvidia-smi") {
                return Check::warn(
                    ID,
                    format!("devgpu could not load libnvidia-ml.so.1 (tried {tried}); nvidia-smi answered instead"),
                    "put the driver's library folder on the loader path: `echo /path/to/driver/lib | sudo tee /etc/ld.so.conf.d/nvidia.conf && sudo ldconfig`",
                );
            }
            let branch = f.kernel_module.as_ref().map(|m| m.version.branch()).unwrap_or(0);
            Check::fail(
                ID,
                format!("the kernel module is loaded but libnvidia-ml.so.1, the driver's user-space library, is missing (tried {tried})"),
                format!("install the user-space part of driver {branch}: Ubuntu `sudo apt install nvidia-utils-{branch} libnvidia-compute-{branch}`, or reinstall the driver"),
            )
        }
        NvmlStatus::InitFailed => {
            let err = n.error.clone().unwrap_or_default();
            match n.error_code.as_deref() {
                Some("driver-library-mismatch") => Check::skip(ID, "NVML cannot start until the kernel module matches the library (see gpu.driver-library)"),
                Some("driver-not-loaded") if f.kernel_module.is_none() => Check::skip(ID, "NVML: the driver is not loaded (see gpu.kernel-module)"),
                Some("no-permission") => Check::fail(
                    ID,
                    format!("{err}: this user cannot open the GPU device nodes"),
                    "`ls -l /dev/nvidia*` — they are normally crw-rw-rw-; where they are restricted, join the group that owns them (often video): `sudo usermod -aG video $USER`, then log in again",
                ),
                _ => Check::fail(ID, err, "`nvidia-smi` shows the same failure; `sudo dmesg | grep -i nvrm` says why; a GPU that fell off the bus needs a reboot"),
            }
        }
    }
}

fn driver_library(f: &HostFacts) -> Check {
    const ID: &str = "gpu.driver-library";
    let mismatch = by_id("driver-library-mismatch");
    let lib = f.nvml.library_version.clone().or_else(|| (f.nvml.status == NvmlStatus::Ok).then(|| f.nvml.driver_version.clone()).flatten());
    match (&f.kernel_module, lib) {
        (Some(m), Some(l)) if m.version == l => Check::pass(ID, format!("kernel module and user-space library agree: {l}")),
        (Some(m), Some(l)) => Check::fail(
            ID,
            format!("kernel module {} ≠ user-space library {l}: \"Failed to initialize NVML: Driver/library version mismatch\" — {}", m.version, mismatch.cause),
            mismatch.fix_text(),
        ),
        _ if f.nvml.error_code.as_deref() == Some("driver-library-mismatch") => {
            Check::fail(ID, format!("\"Failed to initialize NVML: Driver/library version mismatch\" — {}", mismatch.cause), mismatch.fix_text())
        }
        (None, _) if !has_driver(f) => Check::skip(ID, "no NVIDIA driver"),
        _ => Check::skip(ID, "cannot compare: the kernel module's or the library's version is unknown"),
    }
}

fn gib(mib: u64) -> String {
    format!("{:.1} GiB", mib as f64 / 1024.0)
}

fn arch_name(cc: Option<ComputeCap>, k: &Knowledge) -> String {
    match cc {
        Some(cc) => match k.arch(cc) {
            Some(a) => format!("compute capability {cc}, {}", a.name),
            None => format!("compute capability {cc}"),
        },
        None => "compute capability unknown".into(),
    }
}

fn devices(f: &HostFacts) -> Check {
    const ID: &str = "gpu.devices";
    let k = crate::compat::knowledge();
    if !has_driver(f) {
        return Check::skip(ID, "no NVIDIA driver: no GPU can be listed");
    }
    if f.gpus.is_empty() {
        if f.gpu_source.as_deref() == Some("kernel-module") {
            return Check::skip(ID, "the GPUs cannot be listed: NVML did not answer (see gpu.nvml)");
        }
        return Check::fail(
            ID,
            "the driver lists no GPU",
            "`lspci -nn | grep -i nvidia` shows whether a GPU is on the bus; `sudo dmesg | grep -i nvrm` shows driver errors (a GPU newer than the driver is not listed: upgrade the driver)",
        );
    }
    // Group identical GPUs: "8× NVIDIA H100 80GB HBM3".
    let mut groups: Vec<(String, usize)> = Vec::new();
    for g in &f.gpus {
        let desc = format!("{} ({}{})", g.name, arch_name(g.compute_cap, k), g.memory_mib.map(|m| format!(", {}", gib(m))).unwrap_or_default());
        match groups.iter_mut().find(|(d, _)| *d == desc) {
            Some((_, n)) => *n += 1,
            None => groups.push((desc, 1)),
        }
    }
    let list = groups.iter().map(|(d, n)| if *n > 1 { format!("{n}× {d}") } else { d.clone() }).collect::<Vec<_>>().join(", ");
    let count = f.gpus.len();
    let summary = format!("{count} GPU{}: {list}", if count == 1 { "" } else { "s" });
    let mig: Vec<String> = f.gpus.iter().filter(|g| g.mig_mode.as_deref() == Some("Enabled")).map(|g| g.index.to_string()).collect();
    if !mig.is_empty() {
        return Check::warn(
            ID,
            format!("{summary}; MIG mode is on for GPU {}: containers see its MIG instances, not the whole GPU", mig.join(", ")),
            format!("`nvidia-smi -L` lists the MIG instances; to use the whole GPU: `sudo nvidia-smi -i {} -mig 0` (then reset the GPU or reboot)", mig[0]),
        );
    }
    Check::pass(ID, summary)
}

fn device_nodes(f: &HostFacts) -> Check {
    const ID: &str = "gpu.device-nodes";
    let d = &f.device_nodes;
    if f.kernel_module.is_none() {
        return Check::skip(ID, "no NVIDIA kernel module: no device nodes to check");
    }
    if !d.nvidiactl || d.gpus.is_empty() {
        let missing = [(!d.nvidiactl).then_some("/dev/nvidiactl"), d.gpus.is_empty().then_some("/dev/nvidia0…")].into_iter().flatten().collect::<Vec<_>>().join(", ");
        return Check::fail(ID, format!("device nodes missing: {missing}"), "`sudo nvidia-modprobe -c 0 -u` creates them (a reboot does too)");
    }
    let mut present = vec!["/dev/nvidiactl".to_string()];
    if d.nvidia_uvm {
        present.push("/dev/nvidia-uvm".into());
    }
    present.extend(d.gpus.iter().cloned());
    if !d.nvidia_uvm {
        return Check::warn(
            ID,
            format!("no /dev/nvidia-uvm (present: {}): CUDA programs fail with \"no CUDA-capable device is detected\" until it exists", present.join(", ")),
            "`sudo modprobe nvidia-uvm && sudo nvidia-modprobe -u -c=0`",
        );
    }
    Check::pass(ID, present.join(", "))
}

/// The newest CUDA the driver runs exactly: what the driver reports, else the release-notes table.
fn driver_max_cuda(f: &HostFacts, k: &Knowledge) -> Option<CudaVersion> {
    let table = f.driver.as_ref().and_then(|d| k.max_cuda_for_driver(d));
    f.driver_cuda.map(|c| c.minor_only()).or(table)
}

fn driver_cuda(f: &HostFacts, k: &Knowledge) -> Check {
    const ID: &str = "compat.driver-cuda";
    let Some(d) = &f.driver else { return Check::skip(ID, "no NVIDIA driver: no CUDA runs here") };
    let table = k.max_cuda_for_driver(d);
    let Some(max) = driver_max_cuda(f, k) else {
        let oldest = &k.cuda_releases[0];
        return Check::fail(
            ID,
            format!("driver {d} predates CUDA {} (needs >= {}): no living nvidia/cuda image runs here", oldest.version.short(), oldest.min_driver),
            format!("upgrade the NVIDIA driver to >= {} (e.g. Ubuntu `sudo ubuntu-drivers install`)", oldest.min_driver),
        );
    };
    let image = k.images.iter().rev().find(|l| l.cuda.minor_only() <= max).map(|l| format!("; newest image line: {CUDA_REPO}:{}-…", l.cuda.full())).unwrap_or_default();
    let said = match (f.driver_cuda, table) {
        (Some(r), Some(t)) if r.minor_only() != t => format!(" (the driver reports {}; the release-notes table says {})", r.short(), t.short()),
        (Some(_), _) => " (as the driver reports)".to_string(),
        (None, _) => " (release-notes table)".to_string(),
    };
    Check::pass(ID, format!("driver {d} runs CUDA <= {} as is{said}{image}", max.short()))
}

fn minor_version(f: &HostFacts, k: &Knowledge) -> Check {
    const ID: &str = "compat.minor-version";
    let Some(d) = &f.driver else { return Check::skip(ID, "no NVIDIA driver") };
    let Some(max) = driver_max_cuda(f, k) else { return Check::skip(ID, format!("driver {d} is older than every CUDA release devgpu knows")) };
    let Some((major, floor)) = k.cuda_families.iter().filter(|(_, floor)| d >= floor).max_by_key(|(m, _)| *m) else {
        return Check::skip(ID, format!("driver {d} is below every minor-version-compatibility floor"));
    };
    let newer: Vec<CudaVersion> = {
        let mut v: Vec<CudaVersion> = k.cuda_releases.iter().map(|r| r.version.minor_only()).filter(|c| c.major == *major && *c > max).collect();
        v.dedup();
        v
    };
    let range = match (newer.first(), newer.last()) {
        (Some(a), Some(b)) if a == b => format!("CUDA {} also runs", a.short()),
        (Some(a), Some(b)) => format!("CUDA {}–{} also run", a.short(), b.short()),
        _ => format!("later CUDA {major}.x releases will run"),
    };
    Check::pass(
        ID,
        format!(
            "{range} through minor-version compatibility (any {major}.x on driver >= {floor}): pip-installed CUDA libraries such as PyTorch wheels work, without JIT of newer PTX; nvidia/cuda images newer than {} still refuse to start (NVIDIA_REQUIRE_CUDA)",
            max.short()
        ),
    )
}

fn gpu_cuda(f: &HostFacts, k: &Knowledge) -> Check {
    const ID: &str = "compat.gpu-cuda";
    if f.gpus.is_empty() {
        return Check::skip(ID, "no GPU listed");
    }
    let mut ccs: Vec<(ComputeCap, &str)> = f.gpus.iter().filter_map(|g| g.compute_cap.map(|c| (c, g.name.as_str()))).collect();
    ccs.sort();
    ccs.dedup_by_key(|(c, _)| *c);
    if ccs.is_empty() {
        return Check::skip(ID, "the GPUs' compute capability is unknown (nvidia-smi without NVML)");
    }
    let max = driver_max_cuda(f, k);
    let mut parts = Vec::new();
    for (cc, name) in ccs {
        let Some(a) = k.arch(cc) else {
            return Check::warn(ID, format!("{name}: compute capability {cc} is not in devgpu's table (templates/compat/gpu_arch.toml)"), "update devgpu; pass --compute-cap to `devgpu init` meanwhile");
        };
        if let Some(m) = max.filter(|m| *m < a.first_cuda) {
            let need = k.min_driver_for(a.first_cuda).map(|d| d.to_string()).unwrap_or_else(|| "a newer driver".into());
            return Check::fail(
                ID,
                format!("{name} ({}, compute capability {cc}) needs CUDA >= {}, but the driver runs only CUDA <= {}", a.name, a.first_cuda.short(), m.short()),
                format!("upgrade the NVIDIA driver to >= {need}"),
            );
        }
        let last = a.last_cuda.map(|l| format!(" and <= {} (later CUDA dropped it)", l.short())).unwrap_or_default();
        parts.push(format!("{name} (compute capability {cc}, {}) needs CUDA >= {}{last}", a.name, a.first_cuda.short()));
    }
    Check::pass(ID, parts.join("; "))
}

fn toolkit_installed(f: &HostFacts) -> Check {
    const ID: &str = "toolkit.installed";
    let t = &f.toolkit;
    let install = by_id("docker-no-gpu-support");
    if !t.has(HOOK) {
        return Check::fail(
            ID,
            format!("nvidia-container-toolkit is not installed: no {HOOK} (what Docker's --gpus needs) on PATH or in /usr/bin"),
            install.fix[..2].join("\n"),
        );
    }
    if !t.has(CLI) {
        return Check::fail(
            ID,
            format!("{CLI} (libnvidia-container-tools) is missing: the hook cannot set up GPUs without it"),
            "reinstall: `sudo apt-get install --reinstall nvidia-container-toolkit libnvidia-container-tools` (dnf: `sudo dnf reinstall nvidia-container-toolkit libnvidia-container-tools`)",
        );
    }
    let found: Vec<&str> = [HOOK, CLI, RUNTIME, CTK].into_iter().filter(|n| t.has(n)).collect();
    let missing: Vec<&str> = [RUNTIME, CTK].into_iter().filter(|n| !t.has(n)).collect();
    let version = t.version().map(|v| format!(" {v}")).unwrap_or_default();
    let dir = t.tool(HOOK).and_then(|h| h.path.as_deref()).and_then(|p| p.rsplit_once('/')).map(|(d, _)| format!(" in {d}")).unwrap_or_default();
    let mut summary = format!("nvidia-container-toolkit{version}: {}{dir}", found.join(", "));
    if !missing.is_empty() {
        summary.push_str(&format!(" (no {})", missing.join(", ")));
    }
    Check::pass(ID, summary)
}

fn toolkit_cdi(f: &HostFacts) -> Check {
    const ID: &str = "toolkit.cdi";
    let generate = "`sudo nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml`";
    if let Some(bad) = f.cdi.specs.iter().find(|s| s.error.is_some()) {
        return Check::warn(ID, format!("{}: {}", bad.path, bad.error.clone().unwrap_or_default()), format!("fix or remove {}; regenerate NVIDIA's with {generate}", bad.path));
    }
    let specs: Vec<_> = f.cdi.nvidia_specs().collect();
    let stale = f.driver.as_ref().and_then(|d| specs.iter().find(|s| !s.driver_versions.is_empty() && !s.driver_versions.contains(&d.to_string())).map(|s| (d, s)));
    if let Some((d, stale)) = stale {
        return Check::warn(
            ID,
            format!("{} was generated for driver {}, this host runs {d}: CDI containers would mount files that are gone", stale.path, stale.driver_versions.join(", ")),
            format!("regenerate it: `sudo nvidia-ctk cdi generate --output={}`", stale.path),
        );
    }
    if let Some(s) = specs.first() {
        let shown: Vec<&str> = s.devices.iter().take(3).map(String::as_str).collect();
        let more = if s.devices.len() > 3 { format!(", … ({} in all)", s.devices.len()) } else { String::new() };
        return Check::pass(ID, format!("CDI spec {}: {}{more}", s.path, shown.join(", ")));
    }
    if f.daemon_json.features_cdi == Some(true) {
        return Check::warn(ID, "daemon.json turns CDI on (features.cdi), but no CDI spec defines nvidia.com/gpu", generate);
    }
    Check::skip(ID, format!("no CDI spec for nvidia.com/gpu in {} (needed only for CDI requests such as --device nvidia.com/gpu=all; {generate} makes one)", f.cdi.dirs.join(", ")))
}

fn daemon_json(f: &HostFacts) -> Check {
    const ID: &str = "daemon-json.valid";
    let j = &f.daemon_json;
    if !f.docker.machine_known() && j.path == "/etc/docker/daemon.json" && f.docker.reachable() {
        return Check::skip(ID, format!("Docker runs elsewhere ({}): its daemon.json is not on this machine", f.docker.endpoint.url));
    }
    match j.state.as_str() {
        "missing" => Check::pass(ID, format!("{} does not exist: Docker runs with its defaults", j.path)),
        "ok" => {
            let mut parts = Vec::new();
            if !j.runtimes.is_empty() {
                parts.push(format!("runtimes {}", j.runtimes.iter().map(|r| format!("{} → {}", r.name, r.path)).collect::<Vec<_>>().join(", ")));
            }
            if let Some(d) = &j.default_runtime {
                parts.push(format!("default-runtime {d}"));
            }
            if let Some(c) = j.features_cdi {
                parts.push(format!("features.cdi {c}"));
            }
            if let Some(c) = &j.cgroup_driver {
                parts.push(format!("cgroup driver {c}"));
            }
            let what = if parts.is_empty() { "nothing GPU-related".to_string() } else { parts.join("; ") };
            if let Some(w) = j.warnings.first() {
                let more = if j.warnings.len() > 1 { format!(" (+{} more)", j.warnings.len() - 1) } else { String::new() };
                return Check::warn(ID, format!("{w}{more}"), format!("edit {}: remove the dead duplicate, or rename `args` to `runtimeArgs` (`devgpu host configure-docker` does it)", j.path));
            }
            Check::pass(ID, format!("{}: valid JSON for dockerd; {what}", j.path))
        }
        "refused" => {
            let e = j.error.as_ref();
            let at = e.and_then(|e| Some(format!("{}:{}:{}", j.path, e.line?, e.column?))).unwrap_or_else(|| j.path.clone());
            let reason = e.and_then(|e| e.reason.clone()).unwrap_or_default();
            Check::fail(
                ID,
                format!("{at}: dockerd will refuse to start with this daemon.json: {reason}"),
                e.map(|e| e.hints.join("\n")).filter(|h| !h.is_empty()).unwrap_or_else(|| format!("fix the JSON at {at}")),
            )
        }
        _ => {
            let e = j.error.as_ref();
            Check::warn(
                ID,
                e.map(|e| e.message.clone()).unwrap_or_else(|| format!("cannot read {}", j.path)),
                e.map(|e| e.hints.join("\n")).filter(|h| !h.is_empty()).unwrap_or_else(|| "run `sudo devgpu doctor` to read it".into()),
            )
        }
    }
}

fn docker_reachable(f: &HostFacts) -> Check {
    const ID: &str = "docker.reachable";
    let d = &f.docker;
    match &d.error {
        None => Check::pass(
            ID,
            format!(
                "{} {} (API {}) at {} ({})",
                d.engine_name(),
                d.server_version.as_deref().unwrap_or("?"),
                d.api_version.as_deref().unwrap_or("?"),
                d.endpoint.url,
                d.endpoint.origin
            ),
        ),
        Some(e) => Check::fail(ID, e.message.clone(), e.hints.join("\n")),
    }
}

fn docker_engine(f: &HostFacts) -> Check {
    const ID: &str = "docker.engine";
    let d = &f.docker;
    if !d.reachable() {
        return Check::skip(ID, "Docker is not reachable");
    }
    if d.desktop {
        return Check::fail(
            ID,
            "Docker Desktop: its VM has no access to this host's NVIDIA driver on Linux",
            "use Docker Engine on the host (https://docs.docker.com/engine/install/), then `docker context use default`",
        );
    }
    let os = d.operating_system.clone().unwrap_or_else(|| "?".into());
    let version = d.server_version.clone().unwrap_or_else(|| "?".into());
    if d.snap {
        return Check::warn(
            ID,
            format!("Docker {version} from snap ({}): nvidia-container-toolkit's packages do not configure the snap's daemon", d.docker_root_dir.as_deref().unwrap_or("/var/snap/docker")),
            "use Docker Engine from docker.com or the distribution instead: `sudo snap remove docker`, then https://docs.docker.com/engine/install/",
        );
    }
    if d.podman {
        return Check::pass(ID, format!("Podman {version} on {os} through its Docker-compatible API{}", if d.rootless { ", rootless" } else { ", rootful" }));
    }
    if d.rootless {
        return Check::warn(
            ID,
            format!("rootless Docker {version} on {os}: the toolkit must be told not to manage cgroups"),
            "`sudo nvidia-ctk config --set nvidia-container-cli.no-cgroups --in-place`, register the runtime in your daemon.json: `nvidia-ctk runtime configure --runtime=docker --config=$HOME/.config/docker/daemon.json`, then `systemctl --user restart docker`",
        );
    }
    Check::pass(ID, format!("Docker Engine {version} on {os}, rootful"))
}

fn nvidia_runtime(f: &HostFacts) -> Check {
    const ID: &str = "docker.nvidia-runtime";
    let d = &f.docker;
    if !d.reachable() {
        return Check::skip(ID, "Docker is not reachable");
    }
    let live: Vec<_> = d.nvidia_runtimes().collect();
    if !live.is_empty() {
        // A bare name is looked up on dockerd's PATH: only judged for a local daemon (this machine's toolkit).
        if let Some(r) = live.iter().find(|r| d.machine_known() && r.path == RUNTIME && !f.toolkit.has(RUNTIME)) {
            let fix = by_id("runtime-binary-missing");
            return Check::fail(ID, format!("runtime {} runs {}, which is not installed: containers started with it fail", r.name, r.path), fix.fix_text());
        }
        let list = live.iter().map(|r| format!("{} ({})", r.name, r.path)).collect::<Vec<_>>().join(", ");
        return Check::pass(ID, format!("NVIDIA runtime registered: {list}"));
    }
    if d.machine_known() && f.daemon_json.state == "ok" {
        if let Some(r) = f.daemon_json.nvidia_runtimes().next() {
            return Check::fail(
                ID,
                format!("{} registers runtime {}, but the running daemon does not list it: Docker was not restarted since", f.daemon_json.path, r.name),
                RESTART_DOCKER,
            );
        }
    }
    if f.toolkit.has(HOOK) {
        return Check::warn(
            ID,
            "no NVIDIA runtime registered: `--gpus` works through the hook, but Dev Containers' hostRequirements.gpu looks for an nvidia runtime in `docker info`, and GPU steps in `docker build` need it as the default",
            CONFIGURE_DOCKER,
        );
    }
    let diag = by_id("docker-no-gpu-support");
    Check::fail(
        ID,
        "Docker has no NVIDIA runtime and nvidia-container-toolkit is not installed: `docker run --gpus all` fails with \"could not select device driver \"\" with capabilities: [[gpu]]\"",
        diag.fix_text(),
    )
}

fn default_runtime(f: &HostFacts) -> Check {
    const ID: &str = "docker.default-runtime";
    let d = &f.docker;
    if !d.reachable() {
        return Check::skip(ID, "Docker is not reachable");
    }
    let default = d.default_runtime.clone().unwrap_or_else(|| "runc".into());
    let is_nvidia = d.runtimes.iter().any(|r| r.name == default && r.is_nvidia()) || default == "nvidia";
    if is_nvidia {
        return Check::pass(ID, format!("default runtime: {default} — GPUs also in `docker build` steps and for containers started without --gpus"));
    }
    if d.machine_known() && f.daemon_json.state == "ok" {
        if let Some(j) = f.daemon_json.default_runtime.as_ref().filter(|j| **j != default) {
            return Check::fail(ID, format!("{} sets default-runtime {j}, the running daemon uses {default}: Docker was not restarted since", f.daemon_json.path), RESTART_DOCKER);
        }
    }
    Check::pass(
        ID,
        format!("default runtime: {default} — GPUs only for containers started with --gpus (enough for `devgpu up` and Dev Containers; `devgpu host configure-docker --set-default` for GPU steps in `docker build`)"),
    )
}

fn cgroups(f: &HostFacts) -> Check {
    const ID: &str = "docker.cgroups";
    let d = &f.docker;
    if !d.reachable() {
        return Check::skip(ID, "Docker is not reachable");
    }
    let driver = d.cgroup_driver.clone().unwrap_or_else(|| "?".into());
    let version = d.cgroup_version.clone().unwrap_or_else(|| "?".into());
    let summary = format!("cgroup v{version}, {driver} driver");
    if driver == "systemd" && d.machine_known() && f.kernel_module.is_some() && !f.device_nodes.dev_char_missing.is_empty() {
        let diag = by_id("nvml-unknown-error");
        return Check::warn(
            ID,
            format!(
                "{summary}; no /dev/char links for {}: after a `systemctl daemon-reload`, running GPU containers lose their GPUs (\"Failed to initialize NVML: Unknown Error\")",
                f.device_nodes.dev_char_missing.join(", ")
            ),
            diag.fix.first().cloned().unwrap_or_default(),
        );
    }
    Check::pass(ID, summary)
}

fn restarted(f: &HostFacts) -> Check {
    const ID: &str = "docker.restarted";
    let d = &f.docker;
    let hook = f.toolkit.tool(HOOK).and_then(|t| t.modified_unix);
    match (d.reachable(), d.started_unix, hook) {
        (true, Some(started), Some(installed)) if installed > started => Check::warn(
            ID,
            format!("{HOOK} changed {}s after dockerd started: --gpus keeps failing until Docker restarts", installed - started),
            RESTART_DOCKER,
        ),
        (true, Some(_), Some(_)) => Check::pass(ID, format!("dockerd started after {HOOK} was installed")),
        _ => Check::skip(ID, "not known whether Docker started before the toolkit was installed (needs a local daemon and the toolkit)"),
    }
}

/// The newest living `nvidia/cuda` tag that runs on this host, keeping the given tag's cuDNN, flavour and Ubuntu
/// where that line has them.
fn suggest_image(k: &Knowledge, image: &str, cc: Option<ComputeCap>, driver: Option<&DriverVersion>) -> Option<String> {
    let tag = parse_cuda_image(image)?;
    let line = k.images.iter().rev().find(|l| check_image(k, &format!("{CUDA_REPO}:{}-base-ubuntu{}", l.cuda.full(), l.ubuntu.last().map(String::as_str).unwrap_or("22.04")), cc, driver).is_empty())?;
    let ubuntu = if line.ubuntu.contains(&tag.os) { tag.os.clone() } else { line.ubuntu.last()?.clone() };
    let flavor = tag.flavor.unwrap_or(crate::compat::Flavor::Runtime);
    Some(format!("{CUDA_REPO}:{}", tag_for(line.cuda, tag.cudnn.as_ref().map(|_| line.cudnn_tag.as_str()), flavor, &ubuntu)))
}

fn project_image(f: &HostFacts, k: &Knowledge) -> Check {
    const ID: &str = "project.image";
    let Some(p) = &f.project else { return Check::skip(ID, "not in a repository with a .devcontainer (run doctor there, or pass its path)") };
    if p.compose {
        return Check::skip(ID, format!("{} uses Docker Compose: its images are not judged", p.devcontainer));
    }
    let Some(img) = p.runtime_image() else {
        return Check::warn(ID, p.errors.first().cloned().unwrap_or_else(|| format!("{} names no image", p.devcontainer)), format!("fix {}", p.devcontainer));
    };
    let Some(tag) = parse_cuda_image(&img.image) else {
        return Check::skip(ID, format!("{} ({}) is not an nvidia/cuda image: its CUDA cannot be read from the tag", img.image, img.source));
    };
    let cc = f.gpus.first().and_then(|g| g.compute_cap);
    let problems = check_image(k, &img.image, cc, f.driver.as_ref());
    if problems.is_empty() {
        let max = driver_max_cuda(f, k).map(|m| format!(" <= {}", m.short())).unwrap_or_default();
        let gpu = cc.map(|c| format!(", compute capability {c}")).unwrap_or_default();
        return Check::pass(ID, format!("{} ({}) suits this host: CUDA {}{max}{gpu}", img.image, img.source, tag.cuda.short()));
    }
    let hard = problems.iter().any(|p| p.code != "image-tag-superseded");
    let summary = format!("{}: {}", img.source, problems.iter().map(|p| p.message.as_str()).collect::<Vec<_>>().join("; "));
    let mut fix = Vec::new();
    if let Some(s) = suggest_image(k, &img.image, cc, f.driver.as_ref()).filter(|s| *s != img.image) {
        fix.push(format!("use {s} in {}", img.source));
    }
    if problems.iter().any(|p| p.code == "image-cuda-too-new-for-driver") {
        if let Some(need) = k.min_driver_for(tag.cuda) {
            fix.push(format!("or upgrade the NVIDIA driver to >= {need}"));
        }
    }
    if fix.is_empty() {
        fix.push("`devgpu init --force` rewrites the dev container for this host".into());
    }
    if hard {
        Check::fail(ID, summary, fix.join("\n"))
    } else {
        Check::warn(ID, summary, fix.join("\n"))
    }
}

fn project_framework(f: &HostFacts, k: &Knowledge) -> Check {
    const ID: &str = "project.framework";
    let Some(p) = &f.project else { return Check::skip(ID, "not in a repository with a .devcontainer") };
    let Some(v) = &p.torch_variant else { return Check::skip(ID, "no PyTorch CUDA variant pinned (torch==X+cuNNN or a download.pytorch.org/whl/cuNNN index)") };
    let cc = f.gpus.first().and_then(|g| g.compute_cap);
    let arch = cc.and_then(|c| k.arch(c));
    let max = driver_max_cuda(f, k);
    let fit = torch_variant_fit(k, &v.image, arch, max, f.driver.as_ref());
    let gpu = arch.map(|a| format!(" ({}, compute capability {})", a.name, a.cc)).unwrap_or_default();
    let best = || -> Option<String> {
        let mut variants: Vec<&String> = k.torch.iter().flat_map(|t| t.variants.iter()).collect();
        variants.sort_by_key(|v| CudaVersion::from_torch_variant(v));
        variants.dedup();
        variants.into_iter().rev().find(|x| torch_variant_fit(k, x, arch, max, f.driver.as_ref()) == VariantFit::Exact).cloned()
    };
    match fit {
        VariantFit::Exact => Check::pass(ID, format!("PyTorch {} ({}) runs on this driver and has kernels for this GPU{gpu}", v.image, v.source)),
        VariantFit::MinorCompat => Check::pass(ID, format!("PyTorch {} ({}) runs through minor-version compatibility on driver {}", v.image, v.source, f.driver.as_ref().map(|d| d.to_string()).unwrap_or_default())),
        VariantFit::No => {
            let use_best = best().map(|b| format!("use the {b} build in {}", v.source)).unwrap_or_else(|| "upgrade the NVIDIA driver".into());
            if torch_variant_fit(k, &v.image, None, max, f.driver.as_ref()) != VariantFit::No {
                let diag = by_id("no-kernel-image");
                Check::fail(
                    ID,
                    format!("PyTorch {} ({}) has no kernels for this GPU{gpu}: CUDA calls fail with \"no kernel image is available for execution on the device\"", v.image, v.source),
                    format!("{use_best}\n{}", diag.fix[0]),
                )
            } else {
                let c = CudaVersion::from_torch_variant(&v.image).map(|c| c.short()).unwrap_or_else(|| v.image.clone());
                Check::fail(
                    ID,
                    format!(
                        "PyTorch {} ({}) needs a driver for CUDA {c}; this host has {} (CUDA <= {})",
                        v.image,
                        v.source,
                        f.driver.as_ref().map(|d| d.to_string()).unwrap_or_else(|| "no driver".into()),
                        max.map(|m| m.short()).unwrap_or_else(|| "none".into())
                    ),
                    format!("{use_best}\nor upgrade the NVIDIA driver"),
                )
            }
        }
    }
}

fn probe(f: &HostFacts) -> Check {
    const ID: &str = "probe.gpu";
    let Some(p) = &f.probe else {
        if !f.docker.reachable() {
            return Check::skip(ID, "not run: Docker is not reachable");
        }
        return Check::skip(ID, "not run (add --probe to start a container with --gpus all and run nvidia-smi -L in it)");
    };
    let leftover = if p.removed { String::new() } else { " (the probe container could not be removed: `docker rm -f $(docker ps -aq --filter label=devgpu.probe)`)".to_string() };
    match &p.outcome {
        ProbeOutcome::DaemonError { stage, message } => match diagnose(message) {
            Some(d) => Check::fail(ID, format!("the probe container ({}) failed at {stage}: {message} → {}{leftover}", p.image, d.cause), d.fix_text().replace("IMAGE", &p.image)),
            None => Check::fail(
                ID,
                format!("the probe container ({}) failed at {stage}: {message}{leftover}", p.image),
                format!("reproduce it: `docker run --rm --gpus all {} nvidia-smi -L`", p.image),
            ),
        },
        ProbeOutcome::Ran { exit_code, output } if *exit_code != 0 => {
            let first = output.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("(no output)");
            match diagnose(output) {
                Some(d) => Check::fail(ID, format!("nvidia-smi -L in {} exited {exit_code}: {first} → {}{leftover}", p.image, d.cause), d.fix_text()),
                None => Check::fail(ID, format!("nvidia-smi -L in {} exited {exit_code}: {first}{leftover}", p.image), format!("reproduce it: `docker run --rm --gpus all {} nvidia-smi -L`", p.image)),
            }
        }
        ProbeOutcome::Ran { .. } => {
            let seen = p.gpu_lines().len();
            let host = f.gpus.len();
            if host > 0 && seen != host {
                return Check::warn(
                    ID,
                    format!("the container saw {seen} GPU(s), the host has {host}{leftover}"),
                    "check NVIDIA_VISIBLE_DEVICES in the image and the GPU request (--gpus all)",
                );
            }
            let first = p.gpu_lines().first().map(|l| format!(": {}", l.trim())).unwrap_or_default();
            Check::pass(ID, format!("a container from {} saw {seen} GPU(s) with --gpus all{first}{leftover}", p.image))
        }
    }
}
