//! PURE: a Docker-API container body → the SpecGenerator of Podman's own API (`POST /libpod/containers/create`).
//!
//! Podman 4.3's Docker-compatible `/containers/create` drops CDI devices (a `cdi` device request is ignored, a
//! CDI name among `Devices` fails `stat`), while its own API applies a CDI name given as a device path. So a
//! container that asks for CDI devices is created through that API, from the very body the compatible path
//! would send: this module translates it field by field the way Podman 4.3's compatible handler does
//! (`pkg/api/handlers/compat/containers_create.go` → `specgenutil.FillOutSpecGen`), so the container equals the
//! one the compatible API would have made, CDI devices added. The JSON names are Podman 4.3's, checked against
//! what `podman --remote create` 4.3.1 itself sends; `tests/podman.rs` compares `podman inspect` of the two
//! containers made from one body.
//!
//! A field of the body that has no faithful translation is an error naming it, never dropped in silence.

use std::collections::BTreeMap;

use bollard::models::{ContainerCreateBody, HostConfig, Mount, MountBindOptionsPropagationEnum, MountType};
use serde_json::{json, Map, Value};

/// A part of the container that Podman's own API cannot be given as the compatible API would take it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} cannot be given to Podman's own API as devgpu translates it: {why}")]
pub struct Untranslatable {
    pub what: String,
    pub why: String,
}

fn untranslatable(what: impl Into<String>, why: impl Into<String>) -> Untranslatable {
    Untranslatable { what: what.into(), why: why.into() }
}

/// The CDI vendor and class NVIDIA's generated specs (`nvidia-ctk cdi generate`, `devgpu host cdi`) name GPUs by.
const NVIDIA_GPU_KIND: &str = "nvidia.com/gpu";

/// On Podman, a GPU request (`--gpus`, a device request of the `nvidia` driver or of none with the `gpu`
/// capability) becomes the CDI devices it names, as Podman 5's own `--gpus` does: `all` → `nvidia.com/gpu=all`,
/// device ids → `nvidia.com/gpu=<id>`, a count N → the first N GPUs by index (what NVIDIA's runtime picks for
/// it). Podman's Docker-compatible API drops device requests altogether (seen on 4.3.1; podman-container-tools/podman#22645 for
/// 4.9 and later), so without this the container would start without its GPU, silently. Returns whether
/// anything changed; the body then asks for CDI devices and goes through Podman's own API.
pub fn gpus_as_cdi(body: &mut ContainerCreateBody) -> bool {
    let Some(requests) = body.host_config.as_mut().and_then(|h| h.device_requests.as_mut()) else { return false };
    let mut changed = false;
    for r in requests.iter_mut() {
        let is_gpu = match r.driver.as_deref() {
            Some("nvidia") => true,
            None | Some("") => r.capabilities.iter().flatten().any(|set| set.iter().any(|c| c == "gpu")),
            _ => false,
        };
        if !is_gpu {
            continue;
        }
        let ids: Vec<String> = match (r.device_ids.as_ref().filter(|ids| !ids.is_empty()), r.count) {
            (Some(ids), _) => ids.clone(),
            (None, Some(n)) if n > 0 => (0..n).map(|i| i.to_string()).collect(),
            _ => vec!["all".to_string()],
        };
        *r = bollard::models::DeviceRequest {
            driver: Some("cdi".into()),
            device_ids: Some(ids.iter().map(|id| format!("{NVIDIA_GPU_KIND}={id}")).collect()),
            ..Default::default()
        };
        changed = true;
    }
    changed
}

/// The SpecGenerator for `body`, named `name`. `rootless`: the Podman service runs rootless (its compatible API
/// then leaves ulimits out, and so does this). Device requests of the `cdi` driver become CDI device paths.
pub fn spec_generator(name: &str, body: &ContainerCreateBody, rootless: bool) -> Result<Value, Untranslatable> {
    let empty = HostConfig::default();
    let h = body.host_config.as_ref().unwrap_or(&empty);
    let mut s = Map::new();
    let mut put = |k: &str, v: Value| {
        s.insert(k.to_string(), v);
    };
    if !name.is_empty() {
        put("name", json!(name));
    }
    let image = body.image.clone().ok_or_else(|| untranslatable("the container", "it names no image"))?;
    put("image", json!(image));
    put("raw_image_name", json!(image));
    if let Some(e) = body.entrypoint.as_ref().filter(|e| !e.is_empty()) {
        put("entrypoint", json!(e));
    }
    if let Some(c) = body.cmd.as_ref().filter(|c| !c.is_empty()) {
        put("command", json!(c));
    }
    if let Some(env) = &body.env {
        let mut map = Map::new();
        for e in env {
            let (k, v) = e.split_once('=').unwrap_or((e.as_str(), ""));
            map.insert(k.to_string(), json!(v));
        }
        put("env", Value::Object(map));
    }
    if let Some(l) = &body.labels {
        put("labels", json!(l));
    }
    if let Some(u) = body.user.as_ref().filter(|u| !u.is_empty()) {
        put("user", json!(u));
    }
    if let Some(x) = body.hostname.as_ref().filter(|x| !x.is_empty()) {
        put("hostname", json!(x));
    }
    if let Some(w) = body.working_dir.as_ref().filter(|w| !w.is_empty()) {
        put("work_dir", json!(w));
    }
    // Docker creates a missing working directory; Podman's compatible API asks for the same.
    put("create_working_dir", json!(true));
    // What the compatible handler sets for every container: systemd mode "true" (it only applies when the command
    // is an init), no umask and no stop timeout of its own unless the body has one (its `FillOutSpecGen` takes
    // the zero values of the options the Docker API does not have), and the TTY annotation.
    put("systemd", json!("true"));
    put("umask", json!("0000"));
    put("stop_timeout", json!(body.stop_timeout.unwrap_or(0)));

    // Security: the annotations are those `FillOutSpecGen` writes beside each option.
    let mut annotations = Map::new();
    annotations.insert("io.kubernetes.cri-o.TTY".into(), json!(if body.tty == Some(true) { "true" } else { "false" }));
    if h.privileged == Some(true) {
        put("privileged", json!(true));
    }
    if let Some(c) = h.cap_add.as_ref().filter(|c| !c.is_empty()) {
        put("cap_add", json!(c));
    }
    if let Some(c) = h.cap_drop.as_ref().filter(|c| !c.is_empty()) {
        put("cap_drop", json!(c));
    }
    let mut selinux: Vec<String> = Vec::new();
    for opt in h.security_opt.iter().flatten() {
        security_opt(opt, &mut s, &mut annotations, &mut selinux)?;
    }
    if !selinux.is_empty() {
        annotations.insert("io.podman.annotations.label".into(), json!(selinux.join(",label=")));
        s.insert("selinux_opts".into(), json!(selinux));
    }
    s.insert("annotations".into(), Value::Object(annotations));
    if let Some(g) = h.group_add.as_ref().filter(|g| !g.is_empty()) {
        s.insert("groups".into(), json!(g));
    }
    if h.init == Some(true) {
        s.insert("init".into(), json!(true));
    }
    if let Some(r) = h.runtime.as_ref().filter(|r| !r.is_empty()) {
        s.insert("oci_runtime".into(), json!(r));
    }

    // Storage: mounts, binds, anonymous volumes, tmpfs.
    let mut mounts: Vec<Value> = Vec::new();
    let mut volumes: Vec<Value> = Vec::new();
    for m in h.mounts.iter().flatten() {
        mount(m, &mut mounts, &mut volumes)?;
    }
    for b in h.binds.iter().flatten() {
        bind(b, &mut mounts, &mut volumes)?;
    }
    for v in body.volumes.iter().flatten() {
        volumes.push(json!({"Name": "", "Dest": v, "Options": [], "IsAnonymous": true}));
    }
    for (path, opts) in h.tmpfs.iter().flatten() {
        let options: Vec<&str> = opts.split(',').filter(|o| !o.is_empty()).collect();
        mounts.push(json!({"destination": path, "type": "tmpfs", "source": "tmpfs", "options": options}));
    }
    if !mounts.is_empty() {
        s.insert("mounts".into(), Value::Array(mounts));
    }
    if !volumes.is_empty() {
        s.insert("volumes".into(), Value::Array(volumes));
    }
    if let Some(size) = h.shm_size.filter(|s| *s > 0) {
        s.insert("shm_size".into(), json!(size));
    }

    // Devices: mapped ones as `host:container:permissions` (what the compatible handler hands on), CDI names as
    // they are — Podman's own API applies a device path that is a qualified CDI name.
    let mut devices: Vec<Value> = Vec::new();
    for d in h.devices.iter().flatten() {
        let host = d.path_on_host.clone().unwrap_or_default();
        let container = d.path_in_container.clone().unwrap_or_default();
        let perms = d.cgroup_permissions.clone().unwrap_or_default();
        devices.push(json!({"path": format!("{host}:{container}:{perms}")}));
    }
    for r in h.device_requests.iter().flatten() {
        match r.driver.as_deref() {
            Some("cdi") => devices.extend(r.device_ids.iter().flatten().map(|id| json!({"path": id}))),
            _ => {
                return Err(untranslatable(
                    "a device request of another driver than `cdi` (a GPU request is made a CDI one first: `gpus_as_cdi`)",
                    "Podman's own API takes devices by path or CDI name only; ask for the GPU by its CDI name (`devgpu init --gpu-mode cdi`)",
                ))
            }
        }
    }
    if !devices.is_empty() {
        s.insert("devices".into(), Value::Array(devices));
    }
    let rules = h.device_cgroup_rules.iter().flatten().map(|r| device_cgroup_rule(r)).collect::<Result<Vec<_>, _>>()?;
    if !rules.is_empty() {
        s.insert("device_cgroup_rule".into(), Value::Array(rules));
    }

    // Namespaces. The compatible handler's network is `bridge` unless named.
    let net = h.network_mode.as_deref().filter(|n| !n.is_empty() && *n != "default").unwrap_or("bridge");
    let (netns, networks) = network(net)?;
    s.insert("netns".into(), netns);
    if let Some(n) = networks {
        s.insert("Networks".into(), n);
    }
    for (key, field, value) in [("ipcns", "--ipc", &h.ipc_mode), ("pidns", "--pid", &h.pid_mode), ("utsns", "--uts", &h.uts_mode), ("userns", "--userns", &h.userns_mode)] {
        if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
            s.insert(key.into(), namespace(field, v)?);
        }
    }
    if let Some(hosts) = h.extra_hosts.as_ref().filter(|x| !x.is_empty()) {
        s.insert("hostadd".into(), json!(hosts));
    }
    let mut ports: Vec<Value> = Vec::new();
    for (port, bindings) in h.port_bindings.iter().flatten() {
        let (container_port, protocol) = port_proto(port)?;
        for b in bindings.iter().flatten() {
            let host_port: u16 = match b.host_port.as_deref().filter(|p| !p.is_empty()) {
                Some(p) => p.parse().map_err(|_| untranslatable(format!("the published port {port}"), format!("host port {p:?} is not one number")))?,
                None => 0,
            };
            ports.push(json!({"host_ip": b.host_ip.clone().unwrap_or_default(), "container_port": container_port, "host_port": host_port, "range": 0, "protocol": protocol}));
        }
    }
    if !ports.is_empty() {
        s.insert("portmappings".into(), Value::Array(ports));
    }
    let mut expose = BTreeMap::new();
    for port in body.exposed_ports.iter().flatten() {
        let (p, proto) = port_proto(port)?;
        expose.insert(p.to_string(), proto);
    }
    if !expose.is_empty() {
        s.insert("expose".into(), json!(expose));
    }
    if let Some(x) = h.sysctls.as_ref().filter(|x| !x.is_empty()) {
        s.insert("sysctl".into(), json!(x));
    }

    // Resources, as the compatible handler reads them.
    let mut limits = Map::new();
    if let Some(m) = h.memory.filter(|m| *m > 0) {
        // `FillOutSpecGen` gives a memory limit twice its size in swap when no swap limit is set (as Docker does).
        limits.insert("memory".into(), json!({"limit": m, "swap": 2 * m}));
    }
    if let Some(n) = h.nano_cpus.filter(|n| *n > 0) {
        limits.insert("cpu".into(), json!({"quota": n / 10_000, "period": 100_000}));
    }
    if !limits.is_empty() {
        s.insert("resource_limits".into(), Value::Object(limits));
    }
    if !rootless {
        let rl: Vec<Value> = h
            .ulimits
            .iter()
            .flatten()
            .map(|u| json!({"type": u.name.clone().unwrap_or_default(), "soft": u.soft.unwrap_or(0), "hard": u.hard.unwrap_or(0)}))
            .collect();
        if !rl.is_empty() {
            s.insert("r_limits".into(), Value::Array(rl));
        }
    }
    unsupported_host_config(h)?;
    Ok(Value::Object(s))
}

/// Host-config fields devgpu's container body never sets today: refuse rather than drop one that a later change
/// adds without translating it here.
fn unsupported_host_config(h: &HostConfig) -> Result<(), Untranslatable> {
    let set = [
        ("VolumesFrom", h.volumes_from.as_ref().is_some_and(|v| !v.is_empty())),
        ("Links", h.links.as_ref().is_some_and(|v| !v.is_empty())),
        ("RestartPolicy", h.restart_policy.as_ref().and_then(|r| r.name).is_some_and(|n| n != bollard::models::RestartPolicyNameEnum::EMPTY && n != bollard::models::RestartPolicyNameEnum::NO)),
        ("AutoRemove", h.auto_remove == Some(true)),
        ("ReadonlyRootfs", h.readonly_rootfs == Some(true)),
        ("Dns", h.dns.as_ref().is_some_and(|v| !v.is_empty())),
        ("CgroupParent", h.cgroup_parent.as_ref().is_some_and(|v| !v.is_empty())),
        ("CpusetCpus", h.cpuset_cpus.as_ref().is_some_and(|v| !v.is_empty())),
        ("MemorySwap", h.memory_swap.is_some_and(|v| v != 0)),
        ("MemoryReservation", h.memory_reservation.is_some_and(|v| v != 0)),
        ("CpuShares", h.cpu_shares.is_some_and(|v| v != 0)),
        ("PidsLimit", h.pids_limit.is_some_and(|v| v != 0)),
    ];
    match set.iter().find(|(_, on)| *on) {
        Some((field, _)) => Err(untranslatable(format!("HostConfig.{field}"), "devgpu does not translate it for Podman's own API")),
        None => Ok(()),
    }
}

/// One `--security-opt`, as `FillOutSpecGen` reads it (`=` or Docker's deprecated `:`).
fn security_opt(opt: &str, s: &mut Map<String, Value>, annotations: &mut Map<String, Value>, selinux: &mut Vec<String>) -> Result<(), Untranslatable> {
    if opt == "no-new-privileges" {
        s.insert("no_new_privileges".into(), json!(true));
        return Ok(());
    }
    let (key, value) = opt.split_once('=').or_else(|| opt.split_once(':')).ok_or_else(|| untranslatable(format!("--security-opt {opt}"), "it is not KEY=VALUE"))?;
    match key {
        "apparmor" => {
            s.insert("apparmor_profile".into(), json!(value));
            annotations.insert("io.podman.annotations.apparmor".into(), json!(value));
        }
        "label" => selinux.push(value.to_string()),
        "seccomp" => {
            s.insert("seccomp_profile_path".into(), json!(value));
            annotations.insert("io.podman.annotations.seccomp".into(), json!(value));
        }
        "no-new-privileges" => {
            let on = matches!(value, "true" | "1" | "t" | "T" | "TRUE" | "True");
            if on {
                s.insert("no_new_privileges".into(), json!(true));
            }
        }
        "systempaths" if value == "unconfined" => {
            s.insert("unmask".into(), json!(["ALL"]));
        }
        _ => return Err(untranslatable(format!("--security-opt {opt}"), "devgpu does not translate this option for Podman's own API")),
    }
    Ok(())
}

/// A `HostConfig.Mounts` entry: binds and tmpfs as OCI mounts, named volumes as Podman's named volumes.
fn mount(m: &Mount, mounts: &mut Vec<Value>, volumes: &mut Vec<Value>) -> Result<(), Untranslatable> {
    let target = m.target.clone().unwrap_or_default();
    let mut options: Vec<String> = Vec::new();
    if m.read_only == Some(true) {
        options.push("ro".into());
    }
    match m.typ {
        Some(MountType::BIND) => {
            if let Some(p) = m.bind_options.as_ref().and_then(|b| b.propagation) {
                if p != MountBindOptionsPropagationEnum::EMPTY {
                    options.push(p.to_string());
                }
            }
            mounts.push(json!({"destination": target, "type": "bind", "source": m.source.clone().unwrap_or_default(), "options": options}));
        }
        Some(MountType::TMPFS) => {
            if let Some(t) = &m.tmpfs_options {
                if let Some(size) = t.size_bytes {
                    options.push(format!("size={size}"));
                }
                if let Some(mode) = t.mode {
                    options.push(format!("mode={mode:o}"));
                }
            }
            mounts.push(json!({"destination": target, "type": "tmpfs", "source": "tmpfs", "options": options}));
        }
        Some(MountType::VOLUME) | None => {
            if let Some(v) = &m.volume_options {
                if v.driver_config.is_some() || v.labels.as_ref().is_some_and(|l| !l.is_empty()) {
                    return Err(untranslatable(format!("the volume mount on {target}"), "a volume driver, its options or labels"));
                }
                if v.no_copy == Some(true) {
                    options.push("nocopy".into());
                }
            }
            match m.source.as_deref().filter(|s| !s.is_empty()) {
                Some(name) => volumes.push(json!({"Name": name, "Dest": target, "Options": options, "IsAnonymous": false})),
                None => volumes.push(json!({"Name": "", "Dest": target, "Options": options, "IsAnonymous": true})),
            }
        }
        Some(other) => return Err(untranslatable(format!("the {other} mount on {target}"), "only bind, volume and tmpfs mounts are translated")),
    }
    Ok(())
}

/// A `-v SRC:DST[:OPTS]` bind string: an absolute source is a bind mount, else a named volume.
fn bind(b: &str, mounts: &mut Vec<Value>, volumes: &mut Vec<Value>) -> Result<(), Untranslatable> {
    let parts: Vec<&str> = b.split(':').collect();
    let (src, dst, opts) = match parts.as_slice() {
        [dst] => ("", *dst, ""),
        [src, dst] => (*src, *dst, ""),
        [src, dst, opts] => (*src, *dst, *opts),
        _ => return Err(untranslatable(format!("-v {b}"), "it is not SRC:DST[:OPTIONS]")),
    };
    let options: Vec<&str> = opts.split(',').filter(|o| !o.is_empty()).collect();
    if src.is_empty() {
        volumes.push(json!({"Name": "", "Dest": dst, "Options": options, "IsAnonymous": true}));
    } else if src.starts_with('/') {
        mounts.push(json!({"destination": dst, "type": "bind", "source": src, "options": options}));
    } else {
        volumes.push(json!({"Name": src, "Dest": dst, "Options": options, "IsAnonymous": false}));
    }
    Ok(())
}

/// `--device-cgroup-rule 'c 195:* rwm'` → an OCI device cgroup rule (`*` is any number: no field).
fn device_cgroup_rule(rule: &str) -> Result<Value, Untranslatable> {
    let bad = || untranslatable(format!("--device-cgroup-rule {rule:?}"), "it is not TYPE MAJOR:MINOR ACCESS (e.g. 'c 195:* rwm')");
    let fields: Vec<&str> = rule.split_whitespace().collect();
    let [typ, numbers, access] = fields.as_slice() else { return Err(bad()) };
    let (major, minor) = numbers.split_once(':').ok_or_else(bad)?;
    let num = |n: &str| -> Result<Option<i64>, Untranslatable> { if n == "*" { Ok(None) } else { n.parse().map(Some).map_err(|_| bad()) } };
    let mut v = json!({"allow": true, "type": typ, "access": access});
    if let Some(m) = num(major)? {
        v["major"] = json!(m);
    }
    if let Some(m) = num(minor)? {
        v["minor"] = json!(m);
    }
    Ok(v)
}

/// `80/tcp` → (80, "tcp").
fn port_proto(port: &str) -> Result<(u16, String), Untranslatable> {
    let (p, proto) = port.split_once('/').unwrap_or((port, "tcp"));
    let n = p.parse().map_err(|_| untranslatable(format!("the port {port}"), "a port range or name; give one port number"))?;
    Ok((n, proto.to_string()))
}

/// The network mode as Podman's `ParseNetworkFlag` reads it: (netns, the named networks if any).
fn network(mode: &str) -> Result<(Value, Option<Value>), Untranslatable> {
    let ns = |m: &str| json!({"nsmode": m});
    Ok(match mode {
        "bridge" => (ns("bridge"), None),
        "none" => (ns("none"), None),
        "host" => (ns("host"), None),
        "private" => (ns("private"), None),
        "slirp4netns" => (ns("slirp4netns"), None),
        m if m.starts_with("container:") => (json!({"nsmode": "container", "value": &m["container:".len()..]}), None),
        m if m.starts_with("ns:") => (json!({"nsmode": "path", "value": &m["ns:".len()..]}), None),
        m if m.contains(':') => return Err(untranslatable(format!("--network {m}"), "network options are not translated")),
        m => {
            let networks: Map<String, Value> = m.split(',').map(|n| (n.to_string(), json!({}))).collect();
            (ns("bridge"), Some(Value::Object(networks)))
        }
    })
}

/// `--ipc`, `--pid`, `--uts`, `--userns` values as Podman's namespace modes.
fn namespace(flag: &str, value: &str) -> Result<Value, Untranslatable> {
    let simple = ["host", "private", "shareable", "none", "keep-id", "auto", "nomap"];
    if simple.contains(&value) {
        return Ok(json!({"nsmode": value}));
    }
    if let Some(c) = value.strip_prefix("container:") {
        return Ok(json!({"nsmode": "container", "value": c}));
    }
    if let Some(p) = value.strip_prefix("ns:") {
        return Ok(json!({"nsmode": "path", "value": p}));
    }
    Err(untranslatable(format!("{flag} {value}"), "not a namespace mode devgpu translates (host, private, container:ID, ns:PATH)"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::{DeviceMapping, DeviceRequest, MountBindOptions, PortBinding, ResourcesUlimits};
    use std::collections::HashMap;

    fn body() -> ContainerCreateBody {
        ContainerCreateBody {
            image: Some("vsc-proj-abc".into()),
            entrypoint: Some(vec!["/bin/sh".into()]),
            cmd: Some(vec!["-c".into(), "sleep infinity".into(), "-".into()]),
            env: Some(vec!["A=1".into(), "PATH=/x:/y".into(), "EMPTY=".into()]),
            user: Some("dev".into()),
            labels: Some(HashMap::from([("devcontainer.local_folder".to_string(), "/w".to_string())])),
            host_config: Some(HostConfig {
                mounts: Some(vec![
                    Mount { target: Some("/workspaces/w".into()), source: Some("/w".into()), typ: Some(MountType::BIND), consistency: Some("cached".into()), ..Default::default() },
                    Mount { target: Some("/cache".into()), source: Some("pipcache".into()), typ: Some(MountType::VOLUME), ..Default::default() },
                    Mount {
                        target: Some("/ro".into()),
                        source: Some("/etc".into()),
                        typ: Some(MountType::BIND),
                        read_only: Some(true),
                        bind_options: Some(MountBindOptions { propagation: Some(MountBindOptionsPropagationEnum::RSLAVE), ..Default::default() }),
                        ..Default::default()
                    },
                ]),
                binds: Some(vec!["/data:/data:ro".into(), "named:/n".into()]),
                device_requests: Some(vec![DeviceRequest { driver: Some("cdi".into()), device_ids: Some(vec!["nvidia.com/gpu=all".into()]), ..Default::default() }]),
                devices: Some(vec![DeviceMapping { path_on_host: Some("/dev/fuse".into()), path_in_container: Some("/dev/fuse".into()), cgroup_permissions: Some("rwm".into()) }]),
                device_cgroup_rules: Some(vec!["c 195:* rwm".into()]),
                shm_size: Some(1 << 30),
                cap_add: Some(vec!["SYS_PTRACE".into()]),
                security_opt: Some(vec!["seccomp=unconfined".into(), "label=disable".into(), "no-new-privileges:true".into()]),
                init: Some(true),
                group_add: Some(vec!["44".into()]),
                network_mode: Some("none".into()),
                ulimits: Some(vec![ResourcesUlimits { name: Some("nofile".into()), soft: Some(1024), hard: Some(2048) }]),
                port_bindings: Some(HashMap::from([("8080/tcp".to_string(), Some(vec![PortBinding { host_ip: Some("127.0.0.1".into()), host_port: Some("18080".into()) }]))])),
                memory: Some(1 << 30),
                nano_cpus: Some(1_500_000_000),
                ipc_mode: Some("host".into()),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn a_cdi_container_translates_field_by_field() {
        let s = spec_generator("vsc-w", &body(), false).unwrap();
        assert_eq!(s["name"], "vsc-w");
        assert_eq!(s["image"], "vsc-proj-abc");
        assert_eq!(s["entrypoint"], json!(["/bin/sh"]));
        assert_eq!(s["command"], json!(["-c", "sleep infinity", "-"]));
        assert_eq!(s["env"], json!({"A": "1", "PATH": "/x:/y", "EMPTY": ""}));
        assert_eq!(s["user"], "dev");
        assert_eq!(s["labels"]["devcontainer.local_folder"], "/w");
        assert_eq!(
            s["mounts"],
            json!([
                {"destination": "/workspaces/w", "type": "bind", "source": "/w", "options": []},
                {"destination": "/ro", "type": "bind", "source": "/etc", "options": ["ro", "rslave"]},
                {"destination": "/data", "type": "bind", "source": "/data", "options": ["ro"]},
            ])
        );
        assert_eq!(
            s["volumes"],
            json!([{"Name": "pipcache", "Dest": "/cache", "Options": [], "IsAnonymous": false}, {"Name": "named", "Dest": "/n", "Options": [], "IsAnonymous": false}])
        );
        // The mapped device as the compatible handler hands it on, then the CDI name as it is.
        assert_eq!(s["devices"], json!([{"path": "/dev/fuse:/dev/fuse:rwm"}, {"path": "nvidia.com/gpu=all"}]));
        assert_eq!(s["device_cgroup_rule"], json!([{"allow": true, "type": "c", "major": 195, "access": "rwm"}]));
        assert_eq!(s["shm_size"], 1 << 30);
        assert_eq!(s["cap_add"], json!(["SYS_PTRACE"]));
        assert_eq!(s["seccomp_profile_path"], "unconfined");
        assert_eq!(s["selinux_opts"], json!(["disable"]));
        assert_eq!(s["no_new_privileges"], true);
        assert_eq!(s["annotations"], json!({"io.kubernetes.cri-o.TTY": "false", "io.podman.annotations.seccomp": "unconfined", "io.podman.annotations.label": "disable"}));
        assert_eq!((&s["init"], &s["groups"]), (&json!(true), &json!(["44"])));
        assert_eq!(s["netns"], json!({"nsmode": "none"}));
        assert_eq!(s["ipcns"], json!({"nsmode": "host"}));
        assert_eq!(s["r_limits"], json!([{"type": "nofile", "soft": 1024, "hard": 2048}]));
        assert_eq!(s["portmappings"], json!([{"host_ip": "127.0.0.1", "container_port": 8080, "host_port": 18080, "range": 0, "protocol": "tcp"}]));
        assert_eq!(s["resource_limits"], json!({"memory": {"limit": 1u64 << 30, "swap": 1u64 << 31}, "cpu": {"quota": 150_000, "period": 100_000}}));
        assert_eq!((&s["create_working_dir"], &s["systemd"]), (&json!(true), &json!("true")));
    }

    #[test]
    fn rootless_leaves_ulimits_out_as_the_compatible_api_does() {
        assert!(spec_generator("n", &body(), true).unwrap().get("r_limits").is_none());
    }

    #[test]
    fn the_default_network_is_bridge_and_a_named_one_is_joined() {
        let mut b = body();
        b.host_config.as_mut().unwrap().network_mode = None;
        let s = spec_generator("n", &b, false).unwrap();
        assert_eq!((s["netns"].clone(), s.get("Networks")), (json!({"nsmode": "bridge"}), None));
        b.host_config.as_mut().unwrap().network_mode = Some("devnet".into());
        let s = spec_generator("n", &b, false).unwrap();
        assert_eq!((s["netns"].clone(), s["Networks"].clone()), (json!({"nsmode": "bridge"}), json!({"devnet": {}})));
        b.host_config.as_mut().unwrap().network_mode = Some("container:abc".into());
        assert_eq!(spec_generator("n", &b, false).unwrap()["netns"], json!({"nsmode": "container", "value": "abc"}));
    }

    #[test]
    fn a_gpu_request_becomes_the_cdi_devices_it_names() {
        let gpus = |driver: Option<&str>, count: Option<i64>, ids: Option<Vec<&str>>| {
            let mut b = body();
            b.host_config.as_mut().unwrap().device_requests = Some(vec![DeviceRequest {
                driver: driver.map(String::from),
                count,
                device_ids: ids.map(|v| v.into_iter().map(String::from).collect()),
                capabilities: Some(vec![vec!["gpu".into()]]),
                ..Default::default()
            }]);
            let changed = gpus_as_cdi(&mut b);
            let r = b.host_config.unwrap().device_requests.unwrap();
            (changed, r[0].driver.clone(), r[0].device_ids.clone().unwrap_or_default(), r[0].capabilities.clone())
        };
        let cdi = |ids: &[&str]| (true, Some("cdi".to_string()), ids.iter().map(|s| s.to_string()).collect::<Vec<_>>(), None);
        assert_eq!(gpus(None, Some(-1), None), cdi(&["nvidia.com/gpu=all"]), "--gpus all");
        assert_eq!(gpus(Some("nvidia"), Some(-1), None), cdi(&["nvidia.com/gpu=all"]), "a Compose-style reservation");
        assert_eq!(gpus(None, None, Some(vec!["0", "2"])), cdi(&["nvidia.com/gpu=0", "nvidia.com/gpu=2"]), "--gpus device=0,2");
        assert_eq!(gpus(None, None, Some(vec!["GPU-1b2c"])), cdi(&["nvidia.com/gpu=GPU-1b2c"]), "a UUID");
        assert_eq!(gpus(None, Some(2), None), cdi(&["nvidia.com/gpu=0", "nvidia.com/gpu=1"]), "--gpus 2");
        // A CDI request is left as it is, and the body then translates with the GPU as a device path.
        let mut b = body();
        assert!(!gpus_as_cdi(&mut b));
        b.host_config.as_mut().unwrap().device_requests.as_mut().unwrap().push(DeviceRequest { count: Some(-1), capabilities: Some(vec![vec!["gpu".into()]]), ..Default::default() });
        assert!(gpus_as_cdi(&mut b));
        let devices = spec_generator("n", &b, false).unwrap()["devices"].clone();
        assert!(devices.as_array().unwrap().iter().filter(|d| d["path"] == "nvidia.com/gpu=all").count() >= 1, "{devices}");
    }

    #[test]
    fn what_has_no_translation_is_named_not_dropped() {
        let mut b = body();
        b.host_config.as_mut().unwrap().device_requests.as_mut().unwrap().push(DeviceRequest { count: Some(-1), capabilities: Some(vec![vec!["gpu".into()]]), ..Default::default() });
        let e = spec_generator("n", &b, false).unwrap_err();
        assert!(e.what.contains("device request") && e.why.contains("--gpu-mode cdi"), "{e}");

        let mut b = body();
        b.host_config.as_mut().unwrap().security_opt = Some(vec!["unknown=1".into()]);
        assert!(spec_generator("n", &b, false).unwrap_err().what.contains("--security-opt unknown=1"));

        let mut b = body();
        b.host_config.as_mut().unwrap().readonly_rootfs = Some(true);
        assert_eq!(spec_generator("n", &b, false).unwrap_err().what, "HostConfig.ReadonlyRootfs");

        assert!(device_cgroup_rule("c 195 rwm").is_err());
        assert_eq!(device_cgroup_rule("b 8:16 r").unwrap(), json!({"allow": true, "type": "b", "major": 8, "minor": 16, "access": "r"}));
    }

    #[test]
    fn anonymous_volumes_and_tmpfs() {
        let mut b = body();
        b.volumes = Some(vec!["/scratch".into()]);
        b.host_config.as_mut().unwrap().tmpfs = Some(HashMap::from([("/run".to_string(), "rw,size=64m".to_string())]));
        let s = spec_generator("n", &b, false).unwrap();
        assert!(s["volumes"].as_array().unwrap().contains(&json!({"Name": "", "Dest": "/scratch", "Options": [], "IsAnonymous": true})));
        assert!(s["mounts"].as_array().unwrap().contains(&json!({"destination": "/run", "type": "tmpfs", "source": "tmpfs", "options": ["rw", "size=64m"]})));
    }
}
