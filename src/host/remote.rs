//! The GPU server's facts when Docker runs on another machine: what `doctor` reads from `/proc`, `/dev`, the
//! toolkit's programs, the CDI folders, daemon.json and `nvidia-smi` — read on the server instead of here.
//!
//! - `ssh://` hosts: one POSIX `sh` script ([`facts_script`]) runs on the server through the same ssh as the
//!   Docker connection and prints every fact in marked sections; [`parse_facts`] reads them into the very
//!   structs the local gathering fills, so the same checks judge them the same way.
//! - other remote hosts (`tcp://`): only what a container can see — the script's GPU part in a short-lived
//!   container with the GPU requested (`docker::probe::run_gpu_facts`); the server's files are not visible.
//!
//! The report says which facts came from where: [`ServerFactsSource`] in `host.docker.serverFacts`.
//! Pure here, apart from [`gather_over_ssh`].

use super::cdi::{parse_cdi_spec, CdiFacts, CDI_DIRS};
use super::daemon_json::parse_daemon_json;
use super::facts::{DaemonJsonFacts, DeviceNodes, HostFacts};
use super::nvidia_smi::parse_query_gpu;
use super::nvidia_smi_xml::{merge_gpus, parse_nvidia_smi_xml, SmiFallback};
use super::nvml::{version_from_lib_name, NvmlFacts, NvmlStatus, DRIVER_LIB_DIRS, NVML_LIB};
use super::proc_driver::{parse_proc_driver_version, KernelModule, PROC_DRIVER_VERSION};
use super::toolkit::{parse_tool_version, Tool, ToolkitFacts, TOOLS};
use std::path::Path;
use std::time::Duration;
pub use crate::model::host::{ServerFactsSource};


impl ServerFactsSource {
    pub fn has(&self, area: &str) -> bool {
        self.facts.iter().any(|f| f == area)
    }
    /// One line for the human report.
    pub fn describe(&self, host: &str) -> String {
        let what = if self.facts.is_empty() { "nothing".to_string() } else { self.facts.join(", ") };
        let how = match self.via.as_str() {
            "ssh" => "read over ssh",
            "container" => "from nvidia-smi in a GPU container there",
            _ => "not readable from here",
        };
        let err = self.error.as_ref().map(|e| format!(" ({e})")).unwrap_or_default();
        format!("Docker runs on {host}: the server's facts ({what}) are {how}{err}")
    }
}

/// What the script found on the server, in the shapes the local gathering uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerFacts {
    pub kernel_module: Option<KernelModule>,
    pub kernel_module_error: Option<String>,
    pub nvml: NvmlFacts,
    pub nvidia_smi: Option<SmiFallback>,
    pub device_nodes: DeviceNodes,
    /// None when the script ran in a container (the server's files are not visible there).
    pub toolkit: Option<ToolkitFacts>,
    pub cdi: Option<CdiFacts>,
    pub daemon_json: Option<DaemonJsonFacts>,
    /// When dockerd started (its pidfile and /proc on the server).
    pub docker_started_unix: Option<u64>,
}

const MARK: &str = "@@devgpu ";

/// The script that prints the server's facts (POSIX sh; every command may be missing). `whole_machine`: also the
/// toolkit, CDI, daemon.json and dockerd sections (false inside a container, which sees its own files).
pub fn facts_script(daemon_json: &str, whole_machine: bool) -> String {
    let q = crate::text::shell_quote_always;
    let mut s = String::from(
        r#"PATH="$PATH:/usr/local/nvidia/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"; export PATH
LC_ALL=C; export LC_ALL
m() { printf '\n@@devgpu %s@@\n' "$1"; }
"#,
    );
    s.push_str(&format!("m proc-driver; if [ -e {p} ]; then cat {p} 2>&1 || echo '@unreadable'; else echo '@missing'; fi\n", p = PROC_DRIVER_VERSION));
    s.push_str(&format!(
        r#"m nvml-lib; for l in $(ldconfig -p 2>/dev/null | awk '/{lib} /{{print $NF}}') {dirs}; do [ -e "$l" ] && readlink -f "$l"; done
smi=$(command -v nvidia-smi 2>/dev/null)
m smi-path; echo "$smi"
if [ -n "$smi" ]; then
  m smi-xml; "$smi" -q -x 2>&1; echo "@exit $?"
  m smi-csv; "$smi" --query-gpu={fields} --format=csv 2>&1; echo "@exit $?"
fi
m dev; for f in /dev/nvidia*; do [ -c "$f" ] || continue; maj=$(stat -c %t "$f"); min=$(stat -c %T "$f"); l=0; [ -e "/dev/char/$((0x$maj)):$((0x$min))" ] && l=1; echo "$f $l"; done
"#,
        lib = NVML_LIB.replace('.', r"\."),
        dirs = DRIVER_LIB_DIRS.iter().map(|d| q(&format!("{d}/{NVML_LIB}"))).collect::<Vec<_>>().join(" "),
        fields = super::QUERY_GPU_FIELDS,
    ));
    if whole_machine {
        s.push_str(&format!(
            r#"m toolkit; for t in {tools}; do p=$(command -v "$t" 2>/dev/null) || continue; echo "@tool $t $(stat -c %Y "$p" 2>/dev/null || echo -) $p"; if command -v timeout >/dev/null 2>&1; then timeout 2 "$p" --version 2>&1 | head -n 5; else "$p" --version 2>&1 | head -n 5; fi; done
m daemon-json; if [ -e {dj} ]; then echo '@present'; cat {dj} 2>&1 || echo '@unreadable'; else echo '@missing'; fi
for d in {cdi}; do for f in "$d"/*.json "$d"/*.yaml "$d"/*.yml; do [ -f "$f" ] || continue; m "cdi $f"; cat "$f" 2>&1; done; done
m dockerd; pid=$(cat /var/run/docker.pid 2>/dev/null); [ -n "$pid" ] && cat "/proc/$pid/stat" 2>/dev/null; echo; grep '^btime' /proc/stat
"#,
            tools = TOOLS.join(" "),
            dj = q(daemon_json),
            cdi = CDI_DIRS.join(" "),
        ));
    }
    s.push_str("m end\n");
    s
}

/// The script's sections: (name, text), in order.
fn sections(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.split_inclusive('\n') {
        let l = line.trim_end_matches(['\n', '\r']);
        if let Some(name) = l.strip_prefix(MARK).and_then(|r| r.strip_suffix("@@")) {
            if let Some(last) = out.last_mut() {
                // The marker is printed after a newline the section did not end with.
                if last.1.ends_with('\n') {
                    last.1.pop();
                }
            }
            out.push((name.to_string(), String::new()));
        } else if let Some(last) = out.last_mut() {
            last.1.push_str(line);
        }
    }
    out
}

/// A section's text and the `@exit N` line it ends with.
fn with_exit(text: &str) -> (String, Option<i32>) {
    let trimmed = text.trim_end();
    match trimmed.rsplit_once('\n') {
        Some((body, last)) if last.starts_with("@exit ") => (body.to_string(), last[6..].trim().parse().ok()),
        None if trimmed.starts_with("@exit ") => (String::new(), trimmed[6..].trim().parse().ok()),
        _ => (trimmed.to_string(), None),
    }
}

/// The NVML error code for what nvidia-smi printed (its own words for NVML's errors).
fn smi_error_code(text: &str) -> &'static str {
    let t = text.to_lowercase();
    if t.contains("driver/library version mismatch") {
        "driver-library-mismatch"
    } else if t.contains("couldn't communicate with the nvidia driver") || t.contains("driver not loaded") {
        "driver-not-loaded"
    } else if t.contains("insufficient permissions") {
        "no-permission"
    } else if t.contains("unknown error") {
        "unknown"
    } else if t.contains("gpu is lost") {
        "gpu-lost"
    } else {
        "other"
    }
}

/// Read the script's output (pure). `daemon_json` is the path the script read; `whole_machine` as given to
/// [`facts_script`]. Missing sections (an older shell, an interrupted run) read as "not found".
pub fn parse_facts(text: &str, daemon_json: &str, whole_machine: bool) -> ServerFacts {
    let secs = sections(text);
    let get = |name: &str| secs.iter().find(|(n, _)| n == name).map(|(_, t)| t.as_str());

    // The kernel module.
    let (kernel_module, kernel_module_error) = match get("proc-driver").map(str::trim) {
        None | Some("@missing") => (None, None),
        Some("@unreadable") => (None, Some(format!("cannot read {PROC_DRIVER_VERSION} on the server"))),
        Some(t) => match parse_proc_driver_version(t) {
            Some(m) => (Some(m), None),
            None => (None, Some(format!("{PROC_DRIVER_VERSION} names no driver version: {}", t.lines().next().unwrap_or("").trim()))),
        },
    };

    // NVML's library, and nvidia-smi (an NVML client) for everything NVML would say.
    let libs: Vec<String> = get("nvml-lib").map(|t| t.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect()).unwrap_or_default();
    let library = libs.first().cloned();
    let library_version = libs.iter().find_map(|l| version_from_lib_name(l));
    let smi_path = get("smi-path").map(str::trim).filter(|p| !p.is_empty()).map(str::to_string);
    let mut nvml = NvmlFacts::not_found(vec![
        format!("nvidia-smi on the server (PATH, /usr/local/nvidia/bin){}", if smi_path.is_none() { ": not found" } else { "" }),
        format!("{NVML_LIB} in the server's loader cache and driver folders{}", if library.is_none() { ": not found" } else { "" }),
    ]);
    nvml.library = library.clone();
    nvml.library_version = library_version.clone();
    let nvidia_smi = smi_path.map(|path| {
        let mut fb = SmiFallback { path: Some(path), driver_version: None, cuda_version: None, gpus: Vec::new(), error: None };
        let (xml_text, xml_exit) = get("smi-xml").map(with_exit).unwrap_or_default();
        match (xml_exit, parse_nvidia_smi_xml(&xml_text)) {
            (Some(0), Ok(xml)) => {
                let (csv_text, _) = get("smi-csv").map(with_exit).unwrap_or_default();
                let csv = parse_query_gpu(&csv_text).unwrap_or_default();
                fb.gpus = merge_gpus(&xml, &csv);
                fb.driver_version = xml.driver_version.clone();
                fb.cuda_version = xml.cuda_version;
            }
            (_, Ok(_)) | (_, Err(_)) => {
                let msg = xml_text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("nvidia-smi printed nothing").to_string();
                fb.error = Some(msg);
            }
        }
        fb
    });
    match &nvidia_smi {
        Some(fb) if fb.error.is_none() => {
            nvml.status = NvmlStatus::Ok;
            nvml.driver_version = fb.driver_version.clone();
            nvml.cuda_version = fb.cuda_version;
            nvml.gpus = fb.gpus.clone();
            nvml.library = Some(library.clone().unwrap_or_else(|| format!("{NVML_LIB} (through nvidia-smi on the server)")));
            nvml.tried = Vec::new();
        }
        Some(fb) => {
            let err = fb.error.clone().unwrap_or_default();
            nvml.status = NvmlStatus::InitFailed;
            nvml.error_code = Some(smi_error_code(&err).to_string());
            nvml.error = Some(err);
        }
        None if library.is_some() => {
            // The library is there but nothing can ask it from a shell.
            nvml.status = NvmlStatus::InitFailed;
            nvml.error_code = Some("other".into());
            nvml.error = Some("nvidia-smi is not installed on the server, so NVML could not be asked there".into());
        }
        None => {}
    }

    // /dev/nvidia* with their /dev/char links.
    let mut device_nodes = DeviceNodes::default();
    let mut nodes: Vec<(String, bool)> =
        get("dev").map(|t| t.lines().filter_map(|l| l.trim().rsplit_once(' ').map(|(p, link)| (p.to_string(), link == "1"))).collect()).unwrap_or_default();
    nodes.sort_by_key(|(p, _)| (p.len(), p.clone()));
    for (path, linked) in nodes {
        let name = path.trim_start_matches("/dev/");
        match name {
            "nvidiactl" => device_nodes.nvidiactl = true,
            "nvidia-uvm" => device_nodes.nvidia_uvm = true,
            n if n.len() > 6 && n[6..].chars().all(|c| c.is_ascii_digit()) => device_nodes.gpus.push(path.clone()),
            _ => {}
        }
        if !linked {
            device_nodes.dev_char_missing.push(path);
        }
    }

    if !whole_machine {
        return ServerFacts { kernel_module, kernel_module_error, nvml, nvidia_smi, device_nodes, toolkit: None, cdi: None, daemon_json: None, docker_started_unix: None };
    }

    // The toolkit's programs: `@tool NAME MTIME PATH` then what `--version` printed.
    let mut tools: Vec<Tool> = TOOLS.iter().map(|n| Tool { name: n.to_string(), path: None, version: None, modified_unix: None, error: None }).collect();
    if let Some(t) = get("toolkit") {
        let mut current: Option<usize> = None;
        let mut outputs: Vec<String> = vec![String::new(); tools.len()];
        for line in t.lines() {
            if let Some(rest) = line.strip_prefix("@tool ") {
                let mut parts = rest.splitn(3, ' ');
                let (name, mtime, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
                current = tools.iter().position(|x| x.name == name);
                if let Some(i) = current {
                    tools[i].path = Some(path.to_string());
                    tools[i].modified_unix = mtime.parse().ok();
                }
            } else if let Some(i) = current {
                outputs[i].push_str(line);
                outputs[i].push('\n');
            }
        }
        for (tool, out) in tools.iter_mut().zip(outputs) {
            if tool.path.is_some() {
                tool.version = parse_tool_version(&out);
                if tool.version.is_none() {
                    tool.error = Some(format!("`{} --version` printed no version: {}", tool.name, out.lines().next().unwrap_or("").trim()));
                }
            }
        }
    }

    // daemon.json: `@present` then its text, or `@missing`.
    let path = Path::new(daemon_json);
    let daemon_json_facts = match get("daemon-json") {
        Some(t) if t.starts_with("@present") => {
            let body = t.strip_prefix("@present").unwrap_or("").strip_prefix('\n').unwrap_or("");
            if body.trim_end().ends_with("@unreadable") {
                DaemonJsonFacts::from_read(
                    path,
                    Err(super::daemon_json::DaemonJsonError::Read {
                        file: format!("{daemon_json} (on the server)"),
                        source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
                    }),
                )
            } else {
                DaemonJsonFacts::from_read(path, parse_daemon_json(body.as_bytes(), daemon_json).map(Some))
            }
        }
        _ => DaemonJsonFacts::from_read(path, Ok(None)),
    };

    // CDI specs.
    let mut cdi = CdiFacts { dirs: CDI_DIRS.iter().map(|d| d.to_string()).collect(), specs: Vec::new() };
    for (name, body) in &secs {
        if let Some(file) = name.strip_prefix("cdi ") {
            cdi.specs.push(parse_cdi_spec(body, !file.ends_with(".json"), file));
        }
    }

    // When dockerd started: /proc/PID/stat and btime.
    let docker_started_unix = get("dockerd").and_then(|t| {
        let stat = t.lines().find(|l| l.contains(')'))?;
        let btime = t.lines().find(|l| l.starts_with("btime"))?;
        crate::docker::info::process_start_unix(stat, btime, 100)
    });

    ServerFacts {
        kernel_module,
        kernel_module_error,
        nvml,
        nvidia_smi,
        device_nodes,
        toolkit: Some(ToolkitFacts { tools }),
        cdi: Some(cdi),
        daemon_json: Some(daemon_json_facts),
        docker_started_unix,
    }
}

/// Put the server's facts in place of this machine's (pure). `source` is recorded in `host.docker.serverFacts`.
pub fn apply(host: &mut HostFacts, server: Option<ServerFacts>, mut source: ServerFactsSource) {
    let gpu_areas = ["driver", "gpu", "deviceNodes"];
    match server {
        Some(s) => {
            let (gpu_source, driver, driver_cuda, gpus) = super::facts::driver_and_gpus(&s.nvml, s.nvidia_smi.as_ref(), s.kernel_module.as_ref());
            host.kernel_module = s.kernel_module;
            host.kernel_module_error = s.kernel_module_error;
            host.nvml = s.nvml;
            host.nvidia_smi = s.nvidia_smi;
            host.gpu_source = gpu_source;
            host.driver = driver;
            host.driver_cuda = driver_cuda;
            host.gpus = gpus;
            host.device_nodes = s.device_nodes;
            source.facts = gpu_areas.iter().map(|a| a.to_string()).collect();
            host.toolkit = ToolkitFacts::default();
            host.cdi = CdiFacts { dirs: CDI_DIRS.iter().map(|d| d.to_string()).collect(), specs: Vec::new() };
            if let (Some(t), Some(c), Some(j)) = (s.toolkit, s.cdi, s.daemon_json) {
                host.toolkit = t;
                host.cdi = c;
                host.daemon_json = j;
                source.facts.extend(["toolkit", "cdi", "daemonJson"].map(String::from));
            }
            if s.docker_started_unix.is_some() && host.docker.endpoint.ssh_target().is_some_and(|t| t.socket_path.is_none()) {
                host.docker.started_unix = s.docker_started_unix;
                source.facts.push("dockerd".into());
            }
        }
        None => {
            // Nothing is known about the server: this machine's facts must not stand in for it.
            host.kernel_module = None;
            host.kernel_module_error = None;
            host.nvml = NvmlFacts::not_found(Vec::new());
            host.nvidia_smi = None;
            host.gpu_source = None;
            host.driver = None;
            host.driver_cuda = None;
            host.gpus = Vec::new();
            host.device_nodes = DeviceNodes::default();
            host.toolkit = ToolkitFacts::default();
            host.cdi = CdiFacts { dirs: CDI_DIRS.iter().map(|d| d.to_string()).collect(), specs: Vec::new() };
            source.facts = Vec::new();
        }
    }
    host.docker.server_facts = Some(source);
}

/// How long the facts script may run on the server.
pub const SCRIPT_TIMEOUT: Duration = Duration::from_secs(30);

/// Run the script on an ssh server (edge).
pub async fn gather_over_ssh(target: &crate::docker::ssh::SshTarget, daemon_json: &str) -> Result<ServerFacts, crate::docker::ssh::SshFailure> {
    let script = facts_script(daemon_json, true);
    let out = crate::docker::ssh::run_remote(target, &["sh".to_string(), "-s".to_string()], &script, SCRIPT_TIMEOUT).await?;
    if !out.stdout.contains("@@devgpu end@@") {
        return Err(crate::docker::ssh::SshFailure {
            problem: crate::docker::ssh::SshProblem::Other,
            detail: format!("the facts script did not finish on the server (exit {:?}): {}", out.code, crate::docker::ssh::stderr_detail(&out.stderr)),
        });
    }
    Ok(parse_facts(&out.stdout, daemon_json, true))
}

/// The server's facts for a daemon on another machine (edge): over ssh for `ssh://`, else from a GPU container
/// started from `image` — pulled only when `pull` (`doctor --probe`), otherwise used only if the server has it.
/// The container doubles as the probe (its result is returned to be reported as `probe.gpu`).
pub async fn gather(docker: &crate::docker::Docker, daemon_json: &str, image: (String, String), pull: bool) -> (Option<ServerFacts>, ServerFactsSource, Option<crate::docker::ProbeResult>) {
    if let Some(target) = &docker.ssh {
        return match gather_over_ssh(target, daemon_json).await {
            Ok(f) => (Some(f), ServerFactsSource { via: "ssh".into(), facts: Vec::new(), error: None }, None),
            Err(e) => (None, ServerFactsSource { via: "none".into(), facts: Vec::new(), error: Some(format!("the facts script over ssh failed: {e}")) }, None),
        };
    }
    let (image, origin) = image;
    if !pull && docker.client.inspect_image(&image).await.is_err() {
        let error = format!("the server has no image {image} to run nvidia-smi in; `devgpu doctor --probe` pulls it there (or name one it has with --image)");
        return (None, ServerFactsSource { via: "none".into(), facts: Vec::new(), error: Some(error) }, None);
    }
    let probe = crate::docker::probe::probe_gpu_facts(docker, &image, &origin, &facts_script("/etc/docker/daemon.json", false)).await;
    match &probe.outcome {
        crate::docker::ProbeOutcome::Ran { output, .. } if output.contains("@@devgpu end@@") => {
            let facts = parse_facts(output, daemon_json, false);
            (Some(facts), ServerFactsSource { via: "container".into(), facts: Vec::new(), error: None }, Some(probe))
        }
        crate::docker::ProbeOutcome::Ran { exit_code, output } => {
            let first = output.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("no output");
            let error = format!("the GPU container ({image}) exited {exit_code} before reporting: {first}");
            (None, ServerFactsSource { via: "none".into(), facts: Vec::new(), error: Some(error) }, Some(probe))
        }
        crate::docker::ProbeOutcome::DaemonError { stage, message } => {
            let error = format!("the GPU container ({image}) failed at {stage}: {message}");
            (None, ServerFactsSource { via: "none".into(), facts: Vec::new(), error: Some(error) }, Some(probe))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The script's output on the H200 (its captures assembled in the script's format).
    fn h200_output() -> String {
        let xml = include_str!("../../tests/fixtures/h200/nvidia-smi-q.xml");
        let csv = include_str!("../../tests/fixtures/h200/query-gpu.csv");
        let proc = include_str!("../../tests/fixtures/h200/proc-driver-nvidia-version.txt");
        format!(
            "\n@@devgpu proc-driver@@\n{proc}\n@@devgpu nvml-lib@@\n/usr/local/nvidia/lib64/libnvidia-ml.so.580.159.04\n\n@@devgpu smi-path@@\n/usr/local/nvidia/bin/nvidia-smi\n\n@@devgpu smi-xml@@\n{xml}\n@exit 0\n\n@@devgpu smi-csv@@\n{csv}@exit 0\n\n@@devgpu dev@@\n/dev/nvidia-uvm 0\n/dev/nvidia-uvm-tools 0\n/dev/nvidia0 0\n/dev/nvidiactl 0\n\n@@devgpu toolkit@@\n@tool nvidia-container-runtime-hook 1700000000 /usr/bin/nvidia-container-runtime-hook\nNVIDIA Container Runtime Hook version 1.17.8\ncommit: abc\n@tool nvidia-ctk 1700000001 /usr/bin/nvidia-ctk\nNVIDIA Container Toolkit CLI version 1.17.8\n\n@@devgpu daemon-json@@\n@present\n{{\"runtimes\": {{\"nvidia\": {{\"path\": \"nvidia-container-runtime\"}}}}}}\n\n@@devgpu cdi /etc/cdi/nvidia.json@@\n{{\"cdiVersion\":\"0.5.0\",\"kind\":\"nvidia.com/gpu\",\"devices\":[{{\"name\":\"all\"}}]}}\n\n@@devgpu dockerd@@\n1234 (dockerd) S 1 1234 1234 0 -1 4194560 123 0 0 0 10 5 0 0 20 0 12 0 4500 1000000 100\nbtime 1700000000\n\n@@devgpu end@@\n"
        )
    }

    #[test]
    fn the_h200_through_the_script() {
        let f = parse_facts(&h200_output(), "/etc/docker/daemon.json", true);
        assert_eq!(f.kernel_module.as_ref().unwrap().version.to_string(), "580.159.04");
        assert_eq!(f.nvml.status, NvmlStatus::Ok);
        assert_eq!(f.nvml.library.as_deref(), Some("/usr/local/nvidia/lib64/libnvidia-ml.so.580.159.04"));
        assert_eq!(f.nvml.library_version.as_ref().unwrap().to_string(), "580.159.04");
        assert_eq!(f.nvml.cuda_version.unwrap().short(), "13.0");
        assert_eq!(f.nvml.gpus.len(), 1);
        assert_eq!(f.nvml.gpus[0].compute_cap, Some("9.0".parse().unwrap()), "from the CSV");
        assert_eq!(f.nvml.gpus[0].name, "NVIDIA H200");
        let d = &f.device_nodes;
        assert!(d.nvidiactl && d.nvidia_uvm);
        assert_eq!(d.gpus, ["/dev/nvidia0"]);
        assert_eq!(d.dev_char_missing.len(), 4);
        let t = f.toolkit.unwrap();
        assert!(t.has("nvidia-container-runtime-hook") && t.has("nvidia-ctk") && !t.has("nvidia-container-cli"));
        assert_eq!(t.version(), Some("1.17.8"));
        assert_eq!(t.tool("nvidia-ctk").unwrap().modified_unix, Some(1700000001));
        let j = f.daemon_json.unwrap();
        assert_eq!(j.state, "ok");
        assert_eq!(j.runtimes[0].name, "nvidia");
        assert_eq!(f.cdi.unwrap().specs[0].devices, ["nvidia.com/gpu=all"]);
        assert_eq!(f.docker_started_unix, Some(1700000045));
    }

    #[test]
    fn a_server_without_a_driver_and_a_broken_one() {
        let none = "\n@@devgpu proc-driver@@\n@missing\n\n@@devgpu nvml-lib@@\n\n@@devgpu smi-path@@\n\n\n@@devgpu dev@@\n\n@@devgpu toolkit@@\n\n@@devgpu daemon-json@@\n@missing\n\n@@devgpu dockerd@@\n\nbtime 1\n\n@@devgpu end@@\n";
        let f = parse_facts(none, "/etc/docker/daemon.json", true);
        assert_eq!((f.kernel_module, f.kernel_module_error), (None, None));
        assert_eq!(f.nvml.status, NvmlStatus::LibraryNotFound);
        assert!(f.nvidia_smi.is_none());
        assert_eq!(f.daemon_json.unwrap().state, "missing");
        assert_eq!(f.toolkit.unwrap().tools.iter().filter(|t| t.path.is_some()).count(), 0);
        assert_eq!(f.docker_started_unix, None);

        let mismatch = "\n@@devgpu proc-driver@@\nNVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.15  Tue Mar  5 22:23:56 UTC 2024\n\n@@devgpu nvml-lib@@\n/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.550.90.07\n\n@@devgpu smi-path@@\n/usr/bin/nvidia-smi\n\n@@devgpu smi-xml@@\nFailed to initialize NVML: Driver/library version mismatch\nNVML library version: 550.90\n@exit 18\n\n@@devgpu smi-csv@@\nFailed to initialize NVML: Driver/library version mismatch\n@exit 18\n\n@@devgpu daemon-json@@\n@present\n{\n  \"runtimes\": {},\n}\n\n@@devgpu end@@\n";
        let f = parse_facts(mismatch, "/etc/docker/daemon.json", true);
        assert_eq!(f.nvml.status, NvmlStatus::InitFailed);
        assert_eq!(f.nvml.error_code.as_deref(), Some("driver-library-mismatch"));
        assert_eq!(f.nvml.library_version.as_ref().unwrap().to_string(), "550.90.07");
        assert_eq!(f.kernel_module.unwrap().version.to_string(), "550.54.15");
        assert_eq!(f.daemon_json.unwrap().state, "refused", "the trailing comma dockerd refuses");
    }

    #[test]
    fn inside_a_container_only_the_gpu_part() {
        let script = facts_script("/etc/docker/daemon.json", false);
        assert!(script.contains("nvidia-smi") && !script.contains("daemon-json") && !script.contains("toolkit"));
        let f = parse_facts(&h200_output(), "/etc/docker/daemon.json", false);
        assert_eq!(f.nvml.gpus.len(), 1);
        assert!(f.toolkit.is_none() && f.daemon_json.is_none() && f.cdi.is_none());
    }

    /// The script run here with `sh -s` (this machine as its own server) reads what the local gathering reads: the
    /// kernel module, /dev, the toolkit, daemon.json — and on a GPU machine nvidia-smi's driver and GPUs.
    #[test]
    fn the_script_on_this_machine_agrees_with_the_local_reading() {
        use std::io::Write;
        let path = "/etc/docker/daemon.json";
        let mut child = std::process::Command::new("sh").arg("-s").stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).spawn().unwrap();
        child.stdin.take().unwrap().write_all(facts_script(path, true).as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("@@devgpu end@@"), "{text}");
        let f = parse_facts(&text, path, true);
        let local_module = super::super::proc_driver::read_loaded_module().ok().flatten();
        assert_eq!(f.kernel_module, local_module);
        assert_eq!(f.device_nodes, super::super::facts::device_nodes());
        let toolkit = super::super::toolkit::gather();
        for t in TOOLS {
            assert_eq!(f.toolkit.as_ref().unwrap().has(t), toolkit.has(t), "{t}");
        }
        assert_eq!(f.daemon_json.as_ref().unwrap().state, super::super::facts::daemon_json(Path::new(path)).state);
        let smi = super::super::nvidia_smi_xml::run_fallback();
        match (&smi.path, &f.nvidia_smi) {
            (None, None) => assert_ne!(f.nvml.status, NvmlStatus::Ok),
            (Some(_), Some(remote)) => {
                assert_eq!(remote.driver_version, smi.driver_version);
                assert_eq!(remote.gpus, smi.gpus);
                eprintln!("nvidia-smi here: driver {:?}, {} GPU(s), NVML through the script: {:?}", smi.driver_version, smi.gpus.len(), f.nvml.status);
            }
            other => panic!("nvidia-smi found by one side only: {other:?}"),
        }
    }

    #[test]
    fn the_script_quotes_the_daemon_json_path() {
        let s = facts_script("/etc/docker/it's.json", true);
        assert!(s.contains(r"'/etc/docker/it'\''s.json'"), "{s}");
    }
}
