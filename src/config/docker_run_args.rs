//! `runArgs` read the way `docker run` reads them, into plain settings the planner maps onto the Docker API
//! (`HostConfig`, `Config`). Every flag below is accepted as `--flag value` (two items) and `--flag=value`
//! (one item); short forms also as `-e VALUE`, `-eVALUE` and `-e=VALUE`. A flag devgpu does not know is an
//! error that names it (devgpu cannot start the container VS Code would start without it).
//!
//! Flags: `--gpus`, `--shm-size`, `--ipc`, `--ulimit`, `--cap-add`, `--cap-drop`, `--security-opt`, `--device`,
//! `--device-cgroup-rule`, `--runtime`, `-e/--env`, `-v/--volume`, `--mount`, `--network/--net`, `--privileged`,
//! `--init`, `-u/--user`, `-h/--hostname`, `--add-host`, `-l/--label`, `--name`, `-p/--publish`, `--tmpfs`,
//! `--sysctl`, `--group-add`, `-m/--memory`, `--cpus`, `--pid`, `--userns`, `--uts`, `-w/--workdir`, `--stop-signal`,
//! `--env-file` (the files are named here and read at the edge; [`parse_env_file`] reads their text).
//!
//! Values are checked the way the docker CLI checks them (sizes like `8g`, ulimits `nofile=1024:2048`, the
//! `--gpus` CSV syntax `"device=0,2"`, `--mount` key=value lists) so that a mistake is reported before any
//! container is created.

use crate::error::ErrorCode;
use std::collections::BTreeMap;

/// What the runArgs ask for, flag by flag. Repeated list flags accumulate; for single-valued flags the last wins.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunArgs {
    pub gpus: Option<GpuDeviceRequest>,
    /// `--device nvidia.com/gpu=all`: CDI device names.
    pub cdi_devices: Vec<String>,
    pub devices: Vec<DeviceMapping>,
    pub device_cgroup_rules: Vec<String>,
    pub shm_size: Option<i64>,
    pub ipc: Option<String>,
    pub ulimits: Vec<Ulimit>,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    pub security_opt: Vec<String>,
    pub runtime: Option<String>,
    pub env: Vec<EnvArg>,
    /// `-v src:dst[:opts]` binds, as the API's `HostConfig.Binds` strings.
    pub binds: Vec<String>,
    /// `-v /path`: anonymous volumes.
    pub anonymous_volumes: Vec<String>,
    pub mounts: Vec<MountSpec>,
    pub network: Option<String>,
    pub privileged: Option<bool>,
    pub init: Option<bool>,
    pub user: Option<String>,
    pub hostname: Option<String>,
    /// `host:ip` as the API takes it.
    pub add_hosts: Vec<String>,
    pub labels: Vec<(String, String)>,
    pub name: Option<String>,
    pub publish: Vec<PortPublish>,
    /// `--tmpfs /path[:opts]`: path → options.
    pub tmpfs: BTreeMap<String, String>,
    pub sysctls: BTreeMap<String, String>,
    pub group_add: Vec<String>,
    pub memory: Option<i64>,
    /// `--cpus 1.5` in units of 1e-9 CPUs, as the API's `NanoCpus`.
    pub nano_cpus: Option<i64>,
    pub pid: Option<String>,
    pub userns: Option<String>,
    pub uts: Option<String>,
    pub workdir: Option<String>,
    pub stop_signal: Option<String>,
    /// `--env-file PATH`: files of `NAME=VALUE` lines, applied before `-e` (as `docker run` does).
    pub env_files: Vec<String>,
}

/// `--gpus` as the API's `DeviceRequest` (moby `opts.GpuOpts`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GpuDeviceRequest {
    pub driver: String,
    /// -1 = all.
    pub count: i64,
    pub device_ids: Vec<String>,
    pub capabilities: Vec<Vec<String>>,
    pub options: BTreeMap<String, String>,
}

impl GpuDeviceRequest {
    /// `--gpus all`.
    pub fn all() -> Self {
        GpuDeviceRequest { driver: String::new(), count: -1, device_ids: Vec::new(), capabilities: vec![vec!["gpu".into()]], options: BTreeMap::new() }
    }

    /// Human form: `all`, `2`, `device=0,2`.
    pub fn describe(&self) -> String {
        if !self.device_ids.is_empty() {
            format!("device={}", self.device_ids.join(","))
        } else if self.count < 0 {
            "all".into()
        } else {
            self.count.to_string()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceMapping {
    pub host: String,
    pub container: String,
    pub permissions: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ulimit {
    pub name: String,
    pub soft: i64,
    pub hard: i64,
}

/// `-e KEY=VALUE`, or `-e KEY` (the value comes from devgpu's own environment; absent there = not set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvArg {
    Set(String, String),
    Inherit(String),
}

/// A `--mount` (also the syntax of devcontainer.json `mounts` strings and `workspaceMount`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MountSpec {
    /// bind | volume | tmpfs | npipe
    pub kind: String,
    pub source: Option<String>,
    pub target: String,
    pub read_only: bool,
    pub consistency: Option<String>,
    pub bind_propagation: Option<String>,
    pub volume_nocopy: bool,
    pub volume_driver: Option<String>,
    pub volume_labels: BTreeMap<String, String>,
    pub volume_options: BTreeMap<String, String>,
    pub tmpfs_size: Option<i64>,
    pub tmpfs_mode: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortPublish {
    pub host_ip: Option<String>,
    /// Empty = a port the daemon picks.
    pub host_port: String,
    /// e.g. `80/tcp`
    pub container_port: String,
}

/// A runArgs item devgpu cannot turn into a container setting. The same reasons serve `build.options`
/// ([`super::docker_build_options`]), which reads its flags with [`read_flags`]; [`RunArgsError::detail`] is the
/// reason without the `runArgs:` its Display puts first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunArgsError {
    UnknownFlag { flag: String },
    MissingValue { flag: String },
    InvalidValue { flag: String, value: String, why: String },
    Stray { item: String },
    Joined { item: String, flag: String, value: String },
}

impl RunArgsError {
    /// What is wrong with the item of `list` (a devcontainer.json key), whose flags `command` would read.
    pub fn detail(&self, list: &str, command: &str) -> String {
        match self {
            RunArgsError::UnknownFlag { flag } => format!("unknown flag `{flag}` (devgpu cannot start the container as `{command}` would)"),
            RunArgsError::MissingValue { flag } => format!("`{flag}` needs a value"),
            RunArgsError::InvalidValue { flag, value, why } => format!("`{flag} {value}`: {why}"),
            RunArgsError::Stray { item } => format!("`{item}` is not a flag (a value without its flag, or an image/command, which {list} cannot hold)"),
            RunArgsError::Joined { item, .. } => format!("`{item}` holds a flag and its value in one item; `{command}` reads it as one unknown flag"),
        }
    }
}

impl std::fmt::Display for RunArgsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "runArgs: {}", self.detail("runArgs", "docker run"))
    }
}

impl std::error::Error for RunArgsError {}

impl crate::error::Coded for RunArgsError {
    fn code(&self) -> ErrorCode {
        match self {
            RunArgsError::UnknownFlag { .. } => ErrorCode::RunArgsUnknownFlag,
            RunArgsError::MissingValue { .. } | RunArgsError::InvalidValue { .. } => ErrorCode::RunArgsInvalidValue,
            RunArgsError::Stray { .. } => ErrorCode::RunArgsStrayValue,
            RunArgsError::Joined { .. } => ErrorCode::RunArgsJoined,
        }
    }
    fn hints(&self) -> Vec<String> {
        match self {
            RunArgsError::UnknownFlag { flag } => vec![format!(
                "remove `{flag}` from runArgs in devcontainer.json, or express it with a devcontainer.json property (e.g. capAdd, mounts, containerEnv)"
            )],
            RunArgsError::MissingValue { flag } => vec![format!("give `{flag}` a value: [\"{flag}\", \"VALUE\"] or [\"{flag}=VALUE\"]")],
            RunArgsError::InvalidValue { flag, .. } => vec![format!("fix the value of `{flag}` in runArgs (it is what `docker run {flag}` takes)")],
            RunArgsError::Stray { item } => vec![format!("remove `{item}` from runArgs, or put the flag it belongs to right before it")],
            RunArgsError::Joined { flag, value, .. } => vec![format!("split it into two items: \"{flag}\", \"{value}\"")],
        }
    }
}

/// Whether a flag is a switch (`--init`, `--init=false`) or takes a value.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Bool,
    Value,
}

/// A table of flags: (long name, short name, kind).
pub(crate) type FlagTable = [(&'static str, Option<char>, Kind)];

/// One flag as read from a list: its long name, how the list wrote it, and its value.
pub(crate) struct ReadFlag {
    pub long: &'static str,
    pub display: String,
    pub value: FlagValue,
}

pub(crate) enum FlagValue {
    Switch(bool),
    Text(String),
}

/// (long name, short name, kind)
const FLAGS: &FlagTable = &[
    ("gpus", None, Kind::Value),
    ("shm-size", None, Kind::Value),
    ("ipc", None, Kind::Value),
    ("ulimit", None, Kind::Value),
    ("cap-add", None, Kind::Value),
    ("cap-drop", None, Kind::Value),
    ("security-opt", None, Kind::Value),
    ("device", None, Kind::Value),
    ("device-cgroup-rule", None, Kind::Value),
    ("runtime", None, Kind::Value),
    ("env", Some('e'), Kind::Value),
    ("volume", Some('v'), Kind::Value),
    ("mount", None, Kind::Value),
    ("network", None, Kind::Value),
    ("net", None, Kind::Value),
    ("privileged", None, Kind::Bool),
    ("init", None, Kind::Bool),
    ("user", Some('u'), Kind::Value),
    ("hostname", Some('h'), Kind::Value),
    ("add-host", None, Kind::Value),
    ("label", Some('l'), Kind::Value),
    ("name", None, Kind::Value),
    ("publish", Some('p'), Kind::Value),
    ("tmpfs", None, Kind::Value),
    ("sysctl", None, Kind::Value),
    ("group-add", None, Kind::Value),
    ("memory", Some('m'), Kind::Value),
    ("cpus", None, Kind::Value),
    ("pid", None, Kind::Value),
    ("userns", None, Kind::Value),
    ("uts", None, Kind::Value),
    ("workdir", Some('w'), Kind::Value),
    ("stop-signal", None, Kind::Value),
    ("env-file", None, Kind::Value),
];

/// `docker run` flags that take a value but that `up` does not apply (they are refused by [`parse_run_args`]).
/// Listed so that a reader of runArgs that only looks for some flags (see `run_args::scan_flags`) still knows to
/// skip their values.
const OTHER_VALUE_FLAGS: &[&str] = &[
    "entrypoint", "cpuset-cpus", "cgroupns", "platform", "pull", "log-driver", "log-opt", "dns", "restart",
];

/// Whether a runArgs item is a `docker run` flag that takes its value as the next item (`--label`, `-e`), from the
/// one table of flags devgpu knows: [`FLAGS`] plus [`OTHER_VALUE_FLAGS`].
pub fn takes_value(item: &str) -> bool {
    if let Some(long) = item.strip_prefix("--") {
        FLAGS.iter().any(|(l, _, k)| *l == long && *k == Kind::Value) || OTHER_VALUE_FLAGS.contains(&long)
    } else if let Some(short) = item.strip_prefix('-') {
        let mut chars = short.chars();
        matches!((chars.next(), chars.next()), (Some(c), None) if FLAGS.iter().any(|(_, s, k)| *s == Some(c) && *k == Kind::Value))
    } else {
        false
    }
}

/// Parses a runArgs list.
pub fn parse_run_args(items: &[String]) -> Result<RunArgs, RunArgsError> {
    let mut out = RunArgs::default();
    for flag in read_flags(items, FLAGS)? {
        match flag.value {
            FlagValue::Switch(v) => match flag.long {
                "privileged" => out.privileged = Some(v),
                "init" => out.init = Some(v),
                _ => unreachable!("bool flags"),
            },
            FlagValue::Text(value) => apply(&mut out, flag.long, &flag.display, value)?,
        }
    }
    Ok(out)
}

/// Reads a list of `docker` CLI flags against `table`, as the docker CLI reads them: `--flag value` (two items),
/// `--flag=value`, short forms `-e VALUE`, `-eVALUE` and `-e=VALUE`; a switch takes no value or `=true`/`=false`.
/// Repeated flags stay in order; the caller decides whether the last one wins.
pub(crate) fn read_flags(items: &[String], table: &'static FlagTable) -> Result<Vec<ReadFlag>, RunArgsError> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < items.len() {
        let item = items[i].as_str();
        // Resolve the flag, and its value when attached (`--x=v`, `-xv`, `-x=v`).
        let (long, kind, display, attached): (&'static str, Kind, String, Option<String>) = if let Some(rest) = item.strip_prefix("--") {
            let (name, value) = match rest.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (rest, None),
            };
            if name.contains(char::is_whitespace) {
                return Err(joined_or_unknown(item, table));
            }
            match table.iter().find(|(l, _, _)| *l == name) {
                Some((l, _, k)) => (*l, *k, format!("--{l}"), value),
                None => return Err(RunArgsError::UnknownFlag { flag: format!("--{name}") }),
            }
        } else if let Some(rest) = item.strip_prefix('-').filter(|r| !r.is_empty()) {
            let c = rest.chars().next().expect("non-empty");
            let after = &rest[c.len_utf8()..];
            match table.iter().find(|(_, s, _)| *s == Some(c)) {
                Some((l, _, k)) => {
                    let value = if after.is_empty() {
                        None
                    } else if after.starts_with(char::is_whitespace) {
                        return Err(joined_or_unknown(item, table));
                    } else {
                        Some(after.strip_prefix('=').unwrap_or(after).to_string())
                    };
                    (*l, *k, format!("-{c}"), value)
                }
                None => return Err(RunArgsError::UnknownFlag { flag: format!("-{c}") }),
            }
        } else {
            return Err(RunArgsError::Stray { item: item.to_string() });
        };
        i += 1;
        let value = match kind {
            Kind::Bool => FlagValue::Switch(match attached.as_deref() {
                None => true,
                Some("true") | Some("1") | Some("True") | Some("TRUE") => true,
                Some("false") | Some("0") | Some("False") | Some("FALSE") => false,
                Some(other) => return Err(invalid(&display, other, "a boolean flag takes no value, or =true / =false")),
            }),
            Kind::Value => FlagValue::Text(match attached {
                Some(v) => v,
                None => match items.get(i) {
                    Some(v) => {
                        i += 1;
                        v.clone()
                    }
                    None => return Err(RunArgsError::MissingValue { flag: display }),
                },
            }),
        };
        out.push(ReadFlag { long, display, value });
    }
    Ok(out)
}

/// The variables of an `--env-file`, read as `docker run` reads it (docker/cli `opts.ParseEnvFile`): blank lines
/// and lines starting with `#` are skipped, leading whitespace is dropped, `NAME=VALUE` sets (the value as written:
/// no quotes are removed), a bare `NAME` passes the host's value through. Err: (line number, why).
pub fn parse_env_file(text: &str) -> Result<Vec<EnvArg>, (usize, String)> {
    let mut out = Vec::new();
    // A UTF-8 byte order mark at the start is dropped, as docker does.
    for (n, line) in text.strip_prefix('\u{feff}').unwrap_or(text).lines().enumerate() {
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, value) = match line.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (line, None),
        };
        if name.is_empty() {
            return Err((n + 1, "the variable name is empty".into()));
        }
        if name.contains(char::is_whitespace) {
            return Err((n + 1, format!("the variable name `{name}` contains whitespace")));
        }
        out.push(match value {
            Some(v) => EnvArg::Set(name.to_string(), v.to_string()),
            None => EnvArg::Inherit(name.to_string()),
        });
    }
    Ok(out)
}

fn joined_or_unknown(item: &str, table: &FlagTable) -> RunArgsError {
    let trimmed = item.trim();
    match trimmed.split_once(char::is_whitespace) {
        Some((flag, value)) if table.iter().any(|(l, s, _)| flag == format!("--{l}") || s.is_some_and(|s| flag == format!("-{s}"))) => {
            RunArgsError::Joined { item: item.to_string(), flag: flag.to_string(), value: value.trim().to_string() }
        }
        _ => RunArgsError::UnknownFlag { flag: trimmed.to_string() },
    }
}

pub(crate) fn invalid(flag: &str, value: &str, why: &str) -> RunArgsError {
    RunArgsError::InvalidValue { flag: flag.to_string(), value: value.to_string(), why: why.to_string() }
}

fn apply(out: &mut RunArgs, long: &str, flag: &str, value: String) -> Result<(), RunArgsError> {
    let nonempty = |v: &str| -> Result<(), RunArgsError> {
        if v.trim().is_empty() {
            Err(invalid(flag, v, "the value is empty"))
        } else {
            Ok(())
        }
    };
    match long {
        "gpus" => out.gpus = Some(parse_gpus(&value).map_err(|why| invalid(flag, &value, &why))?),
        "shm-size" => out.shm_size = Some(parse_size(&value).map_err(|why| invalid(flag, &value, &why))?),
        "memory" => out.memory = Some(parse_size(&value).map_err(|why| invalid(flag, &value, &why))?),
        "ipc" => {
            nonempty(&value)?;
            out.ipc = Some(value)
        }
        "ulimit" => out.ulimits.push(parse_ulimit(&value).map_err(|why| invalid(flag, &value, &why))?),
        "cap-add" => {
            nonempty(&value)?;
            out.cap_add.push(value)
        }
        "cap-drop" => {
            nonempty(&value)?;
            out.cap_drop.push(value)
        }
        "security-opt" => {
            nonempty(&value)?;
            out.security_opt.push(value)
        }
        "device" => {
            nonempty(&value)?;
            if !value.starts_with('/') && value.contains('=') {
                out.cdi_devices.push(value);
            } else {
                out.devices.push(parse_device(&value).map_err(|why| invalid(flag, &value, &why))?);
            }
        }
        "device-cgroup-rule" => {
            nonempty(&value)?;
            out.device_cgroup_rules.push(value)
        }
        "runtime" => {
            nonempty(&value)?;
            out.runtime = Some(value)
        }
        "env" => {
            nonempty(&value)?;
            out.env.push(match value.split_once('=') {
                Some(("", _)) => return Err(invalid(flag, &value, "the variable name is empty")),
                Some((k, v)) => EnvArg::Set(k.to_string(), v.to_string()),
                None => EnvArg::Inherit(value),
            })
        }
        "volume" => {
            nonempty(&value)?;
            let parts: Vec<&str> = value.split(':').collect();
            match parts.len() {
                1 => {
                    if !value.starts_with('/') {
                        return Err(invalid(flag, &value, "an anonymous volume needs an absolute container path"));
                    }
                    out.anonymous_volumes.push(value)
                }
                2 | 3 => {
                    if parts[0].is_empty() || parts[1].is_empty() {
                        return Err(invalid(flag, &value, "expected SOURCE:TARGET[:OPTIONS]"));
                    }
                    if !parts[1].starts_with('/') {
                        return Err(invalid(flag, &value, "the container path must be absolute"));
                    }
                    out.binds.push(value)
                }
                _ => return Err(invalid(flag, &value, "expected SOURCE:TARGET[:OPTIONS]")),
            }
        }
        "mount" => out.mounts.push(parse_mount(&value).map_err(|why| invalid(flag, &value, &why))?),
        "network" | "net" => {
            nonempty(&value)?;
            out.network = Some(value)
        }
        "user" => {
            nonempty(&value)?;
            out.user = Some(value)
        }
        "hostname" => {
            nonempty(&value)?;
            out.hostname = Some(value)
        }
        "add-host" => out.add_hosts.push(parse_add_host(&value).map_err(|why| invalid(flag, &value, &why))?),
        "label" => {
            nonempty(&value)?;
            out.labels.push(parse_label(&value))
        }
        "name" => {
            let ok = value.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
                && value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
            if !ok {
                return Err(invalid(flag, &value, "a container name is [a-zA-Z0-9][a-zA-Z0-9_.-]*"));
            }
            out.name = Some(value)
        }
        "publish" => out.publish.push(parse_publish(&value).map_err(|why| invalid(flag, &value, &why))?),
        "tmpfs" => {
            nonempty(&value)?;
            let (path, opts) = value.split_once(':').unwrap_or((value.as_str(), ""));
            if !path.starts_with('/') {
                return Err(invalid(flag, &value, "the tmpfs path must be absolute"));
            }
            out.tmpfs.insert(path.to_string(), opts.to_string());
        }
        "sysctl" => {
            let (k, v) = value.split_once('=').filter(|(k, _)| !k.is_empty()).ok_or_else(|| invalid(flag, &value, "expected NAME=VALUE"))?;
            out.sysctls.insert(k.to_string(), v.to_string());
        }
        "group-add" => {
            nonempty(&value)?;
            out.group_add.push(value)
        }
        "cpus" => {
            let cpus: f64 = value.trim().parse().map_err(|_| invalid(flag, &value, "expected a number of CPUs, e.g. 1.5"))?;
            if !(cpus.is_finite() && cpus >= 0.0) {
                return Err(invalid(flag, &value, "expected a non-negative number of CPUs"));
            }
            out.nano_cpus = Some((cpus * 1e9).round() as i64)
        }
        "pid" => {
            nonempty(&value)?;
            out.pid = Some(value)
        }
        "userns" => {
            nonempty(&value)?;
            out.userns = Some(value)
        }
        "uts" => {
            nonempty(&value)?;
            out.uts = Some(value)
        }
        "workdir" => {
            if !value.starts_with('/') {
                return Err(invalid(flag, &value, "the working directory must be an absolute path"));
            }
            out.workdir = Some(value)
        }
        "stop-signal" => {
            nonempty(&value)?;
            out.stop_signal = Some(value)
        }
        "env-file" => {
            nonempty(&value)?;
            out.env_files.push(value)
        }
        other => unreachable!("flag table and apply() disagree on {other}"),
    }
    Ok(())
}

/// One CSV record (Go's encoding/csv, as the docker CLI reads `--gpus` and `--mount`): fields separated by
/// commas, a field may be double-quoted, `""` inside quotes is a quote.
pub fn csv_fields(s: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut chars = s.chars().peekable();
    let mut at_field_start = true;
    loop {
        match chars.next() {
            None => {
                fields.push(cur);
                return Ok(fields);
            }
            Some('"') if at_field_start => {
                loop {
                    match chars.next() {
                        None => return Err("an unclosed double quote".into()),
                        Some('"') if chars.peek() == Some(&'"') => {
                            chars.next();
                            cur.push('"');
                        }
                        Some('"') => break,
                        Some(c) => cur.push(c),
                    }
                }
                match chars.next() {
                    None => {
                        fields.push(cur);
                        return Ok(fields);
                    }
                    Some(',') => {
                        fields.push(std::mem::take(&mut cur));
                        at_field_start = true;
                    }
                    Some(c) => return Err(format!("unexpected `{c}` after a quoted field")),
                }
            }
            Some(',') => {
                fields.push(std::mem::take(&mut cur));
                at_field_start = true;
            }
            Some(c) => {
                cur.push(c);
                at_field_start = false;
            }
        }
    }
}

/// `--gpus` (moby `opts.GpuOpts.Set`): `all`, `2`, `"device=0,2"`, `count=2,capabilities=compute,utility`, …
pub fn parse_gpus(value: &str) -> Result<GpuDeviceRequest, String> {
    let fields = csv_fields(value.trim())?;
    let mut req = GpuDeviceRequest { driver: String::new(), count: 0, device_ids: Vec::new(), capabilities: Vec::new(), options: BTreeMap::new() };
    let mut seen = std::collections::BTreeSet::new();
    let count_of = |v: &str| -> Result<i64, String> {
        if v == "all" {
            return Ok(-1);
        }
        v.parse::<i64>().map_err(|_| format!("invalid count `{v}`: expected `all` or a number"))
    };
    for field in fields {
        let (key, val) = match field.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (field.clone(), None),
        };
        if key.is_empty() {
            return Err("an empty field".into());
        }
        if !seen.insert(key.clone()) {
            return Err(format!("`{key}` can be given only once"));
        }
        let Some(val) = val else {
            seen.insert("count".into());
            req.count = count_of(&key)?;
            continue;
        };
        match key.as_str() {
            "driver" => req.driver = val,
            "count" => req.count = count_of(&val)?,
            "device" => req.device_ids = val.split(',').map(str::to_string).collect(),
            "capabilities" => {
                let mut caps: Vec<String> = val.split(',').map(str::to_string).collect();
                caps.push("gpu".into());
                req.capabilities = vec![caps];
            }
            "options" => {
                for kv in csv_fields(&val)? {
                    let (k, v) = kv.split_once('=').unwrap_or((kv.as_str(), ""));
                    req.options.insert(k.to_string(), v.to_string());
                }
            }
            other => return Err(format!("unexpected key `{other}` (expected all, a count, device=, count=, driver=, capabilities=, options=)")),
        }
    }
    if !seen.contains("count") && req.device_ids.is_empty() {
        req.count = 1;
    }
    if req.capabilities.is_empty() {
        req.capabilities = vec![vec!["gpu".into()]];
    }
    if !req.device_ids.is_empty() && seen.contains("count") {
        return Err("give either a count or device IDs, not both (quote a device list: \"device=0,2\")".into());
    }
    Ok(req)
}

/// Docker's `units.RAMInBytes`: `512`, `64m`, `8g`, `1.5GiB`, `2 GB` — binary multiples, case-insensitive.
pub fn parse_size(value: &str) -> Result<i64, String> {
    let s = value.trim();
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let num: f64 = num.parse().map_err(|_| format!("invalid size `{value}`: expected e.g. 8g, 512m"))?;
    let unit = unit.trim_start().to_ascii_lowercase();
    let unit = unit.strip_suffix('b').unwrap_or(&unit);
    let unit = unit.strip_suffix('i').unwrap_or(unit);
    let mult: f64 = match unit {
        "" => 1.0,
        "k" => 1024.0,
        "m" => 1024f64.powi(2),
        "g" => 1024f64.powi(3),
        "t" => 1024f64.powi(4),
        "p" => 1024f64.powi(5),
        _ => return Err(format!("invalid size `{value}`: unknown unit (use b, k, m, g, t or p)")),
    };
    let bytes = num * mult;
    if bytes <= 0.0 {
        return Err(format!("invalid size `{value}`: must be greater than 0"));
    }
    Ok(bytes as i64)
}

/// `--add-host HOST:IP` (or `HOST=IP`), as the API takes it: `host:ip`.
pub fn parse_add_host(value: &str) -> Result<String, String> {
    let (host, ip) = value
        .split_once(':')
        .or_else(|| value.split_once('='))
        .filter(|(h, ip)| !h.is_empty() && !ip.is_empty())
        .ok_or_else(|| "expected HOST:IP".to_string())?;
    Ok(format!("{host}:{ip}"))
}

/// `--label KEY=VALUE`; a bare `KEY` is an empty label, as the docker CLI reads it.
pub fn parse_label(value: &str) -> (String, String) {
    let (k, v) = value.split_once('=').unwrap_or((value, ""));
    (k.to_string(), v.to_string())
}

/// `name=soft[:hard]` (docker `units.ParseUlimit`).
pub fn parse_ulimit(value: &str) -> Result<Ulimit, String> {
    const NAMES: &[&str] = &[
        "core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc", "rss", "rtprio", "rttime", "sigpending", "stack",
    ];
    let (name, limits) = value.split_once('=').ok_or("expected NAME=SOFT[:HARD], e.g. memlock=-1:-1")?;
    if !NAMES.contains(&name) {
        return Err(format!("unknown ulimit `{name}` (one of {})", NAMES.join(", ")));
    }
    let num = |s: &str| s.trim().parse::<i64>().map_err(|_| format!("invalid limit `{s}`"));
    let (soft, hard) = match limits.split_once(':') {
        Some((s, h)) => (num(s)?, num(h)?),
        None => {
            let v = num(limits)?;
            (v, v)
        }
    };
    if soft > hard && hard >= 0 {
        return Err(format!("the soft limit {soft} is greater than the hard limit {hard}"));
    }
    Ok(Ulimit { name: name.to_string(), soft, hard })
}

/// `--device /dev/x[:/dev/y][:rwm]`.
pub fn parse_device(value: &str) -> Result<DeviceMapping, String> {
    let parts: Vec<&str> = value.split(':').collect();
    let is_perms = |s: &str| !s.is_empty() && s.len() <= 3 && s.chars().all(|c| matches!(c, 'r' | 'w' | 'm'));
    let (host, container, perms) = match parts.as_slice() {
        [h] => (*h, *h, "rwm"),
        [h, p] if is_perms(p) => (*h, *h, *p),
        [h, c] => (*h, *c, "rwm"),
        [h, c, p] if is_perms(p) => (*h, *c, *p),
        _ => return Err("expected HOST[:CONTAINER][:PERMISSIONS]".into()),
    };
    if !host.starts_with('/') || !container.starts_with('/') {
        return Err("device paths must be absolute".into());
    }
    Ok(DeviceMapping { host: host.into(), container: container.into(), permissions: perms.into() })
}

/// `--mount type=bind,source=/a,target=/b,readonly` (docker `opts.MountOpt`).
pub fn parse_mount(value: &str) -> Result<MountSpec, String> {
    let mut m = MountSpec { kind: "volume".into(), ..Default::default() };
    let mut target = None;
    for field in csv_fields(value)? {
        let (key, val) = match field.split_once('=') {
            Some((k, v)) => (k.trim().to_ascii_lowercase(), Some(v.to_string())),
            None => (field.trim().to_ascii_lowercase(), None),
        };
        let boolean = |v: &Option<String>| -> Result<bool, String> {
            match v.as_deref() {
                None | Some("true") | Some("1") => Ok(true),
                Some("false") | Some("0") => Ok(false),
                Some(o) => Err(format!("invalid boolean `{o}` for `{key}`")),
            }
        };
        match key.as_str() {
            "readonly" | "ro" => m.read_only = boolean(&val)?,
            "volume-nocopy" => m.volume_nocopy = boolean(&val)?,
            _ => {
                let v = val.ok_or_else(|| format!("`{key}` needs a value (`{key}=…`)"))?;
                match key.as_str() {
                    "type" => {
                        if !matches!(v.as_str(), "bind" | "volume" | "tmpfs" | "npipe") {
                            return Err(format!("unknown mount type `{v}`"));
                        }
                        m.kind = v
                    }
                    "source" | "src" => m.source = Some(v),
                    "target" | "dst" | "destination" => target = Some(v),
                    "consistency" => m.consistency = Some(v),
                    "bind-propagation" => m.bind_propagation = Some(v),
                    "volume-driver" => m.volume_driver = Some(v),
                    "volume-label" => {
                        let (k, lv) = v.split_once('=').unwrap_or((v.as_str(), ""));
                        m.volume_labels.insert(k.to_string(), lv.to_string());
                    }
                    "volume-opt" => {
                        let (k, ov) = v.split_once('=').unwrap_or((v.as_str(), ""));
                        m.volume_options.insert(k.to_string(), ov.to_string());
                    }
                    "tmpfs-size" => m.tmpfs_size = Some(parse_size(&v)?),
                    "tmpfs-mode" => m.tmpfs_mode = Some(i64::from_str_radix(&v, 8).map_err(|_| format!("invalid tmpfs-mode `{v}` (octal)"))?),
                    other => return Err(format!("unknown mount option `{other}`")),
                }
            }
        }
    }
    m.target = target.filter(|t| !t.is_empty()).ok_or("a mount needs a target (target=/path)")?;
    if m.kind == "bind" && m.source.as_deref().is_none_or(str::is_empty) {
        return Err("a bind mount needs a source (source=/path)".into());
    }
    Ok(m)
}

/// `-p [IP:][HOST_PORT:]CONTAINER_PORT[/PROTO]` (one port; ranges are refused).
pub fn parse_publish(value: &str) -> Result<PortPublish, String> {
    let (spec, proto) = match value.rsplit_once('/') {
        Some((s, p)) if matches!(p, "tcp" | "udp" | "sctp") => (s, p),
        Some(_) => return Err("the protocol must be tcp, udp or sctp".into()),
        None => (value, "tcp"),
    };
    let parts: Vec<&str> = spec.rsplitn(3, ':').collect();
    let (container, host_port, host_ip) = match parts.as_slice() {
        [c] => (*c, "", None),
        [c, h] => (*c, *h, None),
        [c, h, ip] => (*c, *h, Some(ip.trim_start_matches('[').trim_end_matches(']').to_string())),
        _ => return Err("expected [IP:][HOST_PORT:]CONTAINER_PORT".into()),
    };
    let port_ok = |p: &str| p.parse::<u16>().is_ok_and(|n| n > 0);
    if !port_ok(container) || !(host_port.is_empty() || port_ok(host_port)) {
        return Err("ports are numbers from 1 to 65535 (ranges are not supported)".into());
    }
    Ok(PortPublish { host_ip, host_port: host_port.to_string(), container_port: format!("{container}/{proto}") })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_files_and_stop_signal_are_read_as_docker_run_reads_them() {
        let a = parse_run_args(&args(&["--env-file", "/w/a.env", "--env-file=/w/b.env", "--stop-signal", "SIGINT"])).unwrap();
        assert_eq!((a.env_files, a.stop_signal), (vec!["/w/a.env".to_string(), "/w/b.env".to_string()], Some("SIGINT".to_string())));
        assert_eq!(
            parse_env_file("\u{feff}# comment\n\n  A=1\nB=\"quoted\" x\nC\nD==e\n"),
            Ok(vec![EnvArg::Set("A".into(), "1".into()), EnvArg::Set("B".into(), "\"quoted\" x".into()), EnvArg::Inherit("C".into()), EnvArg::Set("D".into(), "=e".into())])
        );
        assert_eq!(parse_env_file("A=1\n=2\n"), Err((2, "the variable name is empty".into())));
        assert_eq!(parse_env_file("MY VAR=1"), Err((1, "the variable name `MY VAR` contains whitespace".into())));
    }

    #[test]
    fn one_table_tells_which_flags_take_a_value() {
        // Every flag the runArgs editor must step over, in each spelling it takes.
        for flag in [
            "--gpus", "--shm-size", "--ipc", "--device", "--runtime", "-e", "--env", "--env-file", "-v", "--volume", "--mount",
            "-l", "--label", "--name", "--network", "--net", "-p", "--publish", "--cap-add", "--cap-drop", "--security-opt",
            "--add-host", "--ulimit", "-u", "--user", "-w", "--workdir", "--entrypoint", "-h", "--hostname", "-m", "--memory",
            "--cpus", "--cpuset-cpus", "--pid", "--uts", "--userns", "--cgroupns", "--platform", "--pull", "--log-driver",
            "--log-opt", "--tmpfs", "--sysctl", "--group-add", "--dns", "--restart", "--stop-signal", "--device-cgroup-rule",
        ] {
            assert!(takes_value(flag), "{flag}");
        }
        for not in ["--privileged", "--init", "all", "-", "--", "-ev", "--gpus=all"] {
            assert!(!takes_value(not), "{not}");
        }
    }

    fn args(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn parse(items: &[&str]) -> RunArgs {
        parse_run_args(&args(items)).unwrap_or_else(|e| panic!("{items:?}: {e}"))
    }

    /// Every value flag in both spellings gives the same result.
    #[test]
    fn both_spellings_of_every_value_flag() {
        let cases: &[(&str, &str)] = &[
            ("--gpus", "all"),
            ("--shm-size", "8g"),
            ("--ipc", "host"),
            ("--ulimit", "memlock=-1:-1"),
            ("--cap-add", "SYS_PTRACE"),
            ("--cap-drop", "NET_RAW"),
            ("--security-opt", "seccomp=unconfined"),
            ("--device", "/dev/fuse"),
            ("--device", "nvidia.com/gpu=all"),
            ("--device-cgroup-rule", "c 195:* rmw"),
            ("--runtime", "nvidia"),
            ("--env", "A=1"),
            ("-e", "A=1"),
            ("--volume", "/data:/data:ro"),
            ("-v", "/cache"),
            ("--mount", "type=bind,source=/a,target=/b"),
            ("--network", "host"),
            ("--net", "none"),
            ("--user", "1000:1000"),
            ("-u", "vscode"),
            ("--hostname", "box"),
            ("-h", "box"),
            ("--add-host", "db:10.0.0.2"),
            ("--label", "a=b"),
            ("-l", "a=b"),
            ("--name", "dev-1"),
            ("--publish", "127.0.0.1:8888:8888"),
            ("-p", "8080:80/udp"),
            ("--tmpfs", "/run:size=64m"),
            ("--sysctl", "net.core.somaxconn=1024"),
            ("--group-add", "video"),
            ("--memory", "16g"),
            ("-m", "512m"),
            ("--cpus", "2.5"),
            ("--pid", "host"),
            ("--userns", "host"),
            ("--uts", "host"),
            ("--workdir", "/src"),
            ("-w", "/src"),
        ];
        for (flag, value) in cases {
            let two = parse(&[flag, value]);
            let joined = format!("{flag}={value}");
            let one = parse(&[&joined]);
            assert_eq!(two, one, "{flag} {value}");
            assert_ne!(two, RunArgs::default(), "{flag} {value} set nothing");
            if !flag.starts_with("--") {
                let attached = format!("{flag}{value}");
                assert_eq!(parse(&[&attached]), two, "{attached}");
            }
        }
    }

    #[test]
    fn mapped_values() {
        let r = parse(&[
            "--gpus", "all", "--shm-size=8g", "--ipc", "host", "--ulimit", "memlock=-1", "--ulimit=stack=67108864", "--cap-add=SYS_PTRACE",
            "--security-opt", "seccomp=unconfined", "--device=/dev/fuse", "--device", "/dev/sda:/dev/xvda:r", "--runtime=nvidia", "-e", "A=1",
            "-eB", "--env=C=x=y", "-v", "/h:/c", "-v=/anon", "--mount", "type=volume,source=cache,target=/root/.cache", "--network=host",
            "--privileged", "--init=false", "-u", "1000", "--hostname=gpu", "--add-host=db=10.0.0.2", "--label", "team=ml", "-l", "flag",
        ]);
        assert_eq!(r.gpus, Some(GpuDeviceRequest::all()));
        assert_eq!(r.shm_size, Some(8 << 30));
        assert_eq!(r.ipc.as_deref(), Some("host"));
        assert_eq!(r.ulimits, vec![Ulimit { name: "memlock".into(), soft: -1, hard: -1 }, Ulimit { name: "stack".into(), soft: 67108864, hard: 67108864 }]);
        assert_eq!(r.cap_add, ["SYS_PTRACE"]);
        assert_eq!(r.security_opt, ["seccomp=unconfined"]);
        assert_eq!(r.devices[0], DeviceMapping { host: "/dev/fuse".into(), container: "/dev/fuse".into(), permissions: "rwm".into() });
        assert_eq!(r.devices[1], DeviceMapping { host: "/dev/sda".into(), container: "/dev/xvda".into(), permissions: "r".into() });
        assert_eq!(r.runtime.as_deref(), Some("nvidia"));
        assert_eq!(r.env, vec![EnvArg::Set("A".into(), "1".into()), EnvArg::Inherit("B".into()), EnvArg::Set("C".into(), "x=y".into())]);
        assert_eq!(r.binds, ["/h:/c"]);
        assert_eq!(r.anonymous_volumes, ["/anon"]);
        assert_eq!(r.mounts[0].kind, "volume");
        assert_eq!(r.mounts[0].source.as_deref(), Some("cache"));
        assert_eq!(r.network.as_deref(), Some("host"));
        assert_eq!(r.privileged, Some(true));
        assert_eq!(r.init, Some(false));
        assert_eq!(r.user.as_deref(), Some("1000"));
        assert_eq!(r.hostname.as_deref(), Some("gpu"));
        assert_eq!(r.add_hosts, ["db:10.0.0.2"]);
        assert_eq!(r.labels, vec![("team".into(), "ml".into()), ("flag".into(), String::new())]);
    }

    #[test]
    fn gpus_in_all_its_forms() {
        let g = |v: &str| parse_gpus(v).unwrap_or_else(|e| panic!("{v}: {e}"));
        assert_eq!(g("all"), GpuDeviceRequest::all());
        assert_eq!(g("2").count, 2);
        assert_eq!(g("count=all").count, -1);
        let d = g("\"device=0,2\"");
        assert_eq!(d.device_ids, ["0", "2"]);
        assert_eq!(d.count, 0);
        assert_eq!(d.describe(), "device=0,2");
        let d = g("device=GPU-7b8238c7-8f23-f0a1-12fc-4a5b75119cb4");
        assert_eq!(d.device_ids, ["GPU-7b8238c7-8f23-f0a1-12fc-4a5b75119cb4"]);
        let c = g("count=1,capabilities=compute,driver=nvidia");
        assert_eq!(c.driver, "nvidia");
        assert_eq!(c.capabilities, vec![vec!["compute".to_string(), "gpu".to_string()]]);
        let c = g("\"capabilities=compute,utility\",count=2");
        assert_eq!(c.capabilities, vec![vec!["compute".to_string(), "utility".to_string(), "gpu".to_string()]]);
        assert_eq!(c.count, 2);
        assert_eq!(g("driver=nvidia").count, 1, "no count and no devices: one GPU, as docker does");
        for bad in ["", "many", "count=x", "all,all", "foo=bar", "\"device=0", "count=2,\"device=0,1\""] {
            assert!(parse_gpus(bad).is_err(), "{bad:?}");
        }
        let e = parse_run_args(&args(&["--gpus", "al"])).unwrap_err();
        assert!(matches!(e, RunArgsError::InvalidValue { ref flag, .. } if flag == "--gpus"), "{e}");
        assert!(e.to_string().contains("invalid count `al`"), "{e}");
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("64m").unwrap(), 64 << 20);
        assert_eq!(parse_size("8G").unwrap(), 8 << 30);
        assert_eq!(parse_size("1.5g").unwrap(), 3 << 29);
        assert_eq!(parse_size("2GiB").unwrap(), 2 << 30);
        assert_eq!(parse_size("2 GB").unwrap(), 2 << 30);
        assert_eq!(parse_size("4096").unwrap(), 4096);
        assert_eq!(parse_size("10kb").unwrap(), 10240);
        for bad in ["", "g", "8x", "-1g", "0"] {
            assert!(parse_size(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn ulimits_devices_mounts_ports() {
        assert!(parse_ulimit("bogus=1").is_err());
        assert!(parse_ulimit("nofile").is_err());
        assert!(parse_ulimit("nofile=2048:1024").is_err());
        assert_eq!(parse_ulimit("nofile=1024:2048").unwrap(), Ulimit { name: "nofile".into(), soft: 1024, hard: 2048 });
        assert!(parse_device("fuse").is_err());
        assert_eq!(parse_device("/dev/nvidia0:rw").unwrap().permissions, "rw");
        let m = parse_mount("type=bind,src=/a,dst=/b,readonly,consistency=cached,bind-propagation=rslave").unwrap();
        assert_eq!((m.kind.as_str(), m.source.as_deref(), m.target.as_str(), m.read_only), ("bind", Some("/a"), "/b", true));
        assert_eq!(m.bind_propagation.as_deref(), Some("rslave"));
        let m = parse_mount("type=tmpfs,destination=/scratch,tmpfs-size=1g,tmpfs-mode=1770").unwrap();
        assert_eq!((m.tmpfs_size, m.tmpfs_mode), (Some(1 << 30), Some(0o1770)));
        let m = parse_mount("source=vol,target=/v,volume-nocopy,volume-opt=o=1,volume-label=a=b").unwrap();
        assert_eq!(m.kind, "volume");
        assert!(m.volume_nocopy);
        assert_eq!(m.volume_options.get("o").map(String::as_str), Some("1"));
        for bad in ["type=bind,target=/b", "type=nfs,target=/x", "source=/a", "type=bind,source=/a,target=/b,bogus=1", "target"] {
            assert!(parse_mount(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_publish("127.0.0.1:8888:8888").unwrap(),
            PortPublish { host_ip: Some("127.0.0.1".into()), host_port: "8888".into(), container_port: "8888/tcp".into() }
        );
        assert_eq!(parse_publish("80").unwrap().host_port, "");
        assert!(parse_publish("8000-8010:8000-8010").is_err());
        assert!(parse_publish("80/xyz").is_err());
    }

    #[test]
    fn unknown_flags_are_named() {
        for (items, flag) in [
            (&["--gpus", "all", "--rm"][..], "--rm"),
            (&["--detach-keys=x"], "--detach-keys"),
            (&["-it"], "-i"),
            (&["--entrypoint", "/bin/bash"], "--entrypoint"),
        ] {
            match parse_run_args(&args(items)) {
                Err(RunArgsError::UnknownFlag { flag: f }) => assert_eq!(f, flag, "{items:?}"),
                other => panic!("{items:?}: {other:?}"),
            }
        }
        let e = parse_run_args(&args(&["--rm"])).unwrap_err();
        assert!(e.to_string().contains("`--rm`"), "{e}");
        use crate::error::Coded;
        assert_eq!(e.code(), "run-args-unknown-flag");
    }

    #[test]
    fn missing_stray_and_joined() {
        assert_eq!(parse_run_args(&args(&["--gpus"])).unwrap_err(), RunArgsError::MissingValue { flag: "--gpus".into() });
        assert_eq!(parse_run_args(&args(&["-e"])).unwrap_err(), RunArgsError::MissingValue { flag: "-e".into() });
        assert_eq!(parse_run_args(&args(&["all"])).unwrap_err(), RunArgsError::Stray { item: "all".into() });
        assert!(matches!(parse_run_args(&args(&["--gpus all"])).unwrap_err(), RunArgsError::Joined { ref flag, ref value, .. } if flag == "--gpus" && value == "all"));
        assert!(matches!(parse_run_args(&args(&["-e FOO=1"])).unwrap_err(), RunArgsError::Joined { .. }));
        assert!(matches!(parse_run_args(&args(&["--frobnicate now"])).unwrap_err(), RunArgsError::UnknownFlag { .. }));
        assert!(parse_run_args(&args(&["--privileged=maybe"])).is_err());
        assert!(parse_run_args(&args(&["--privileged", "--init"])).is_ok(), "bool flags take no next item");
        // a value that looks like a flag is still the value
        assert_eq!(parse(&["--label", "--gpus"]).labels, vec![("--gpus".to_string(), String::new())]);
        assert!(parse_run_args(&args(&["-e", "=x"])).is_err());
        assert!(parse_run_args(&args(&["--name", "bad name"])).is_err());
        assert!(parse_run_args(&args(&["-v", "a:b"])).is_err(), "relative container path");
        assert!(parse_run_args(&args(&["--workdir", "rel"])).is_err());
        assert!(parse_run_args(&args(&["--cpus", "-1"])).is_err());
        assert!(parse_run_args(&args(&["--add-host", "nohost"])).is_err());
    }

    #[test]
    fn repeated_flags() {
        let r = parse(&["--cap-add", "A", "--cap-add=B", "--ipc=private", "--ipc", "host", "--device", "nvidia.com/gpu=0", "--cpus=0.5"]);
        assert_eq!(r.cap_add, ["A", "B"]);
        assert_eq!(r.ipc.as_deref(), Some("host"), "last wins");
        assert_eq!(r.cdi_devices, ["nvidia.com/gpu=0"]);
        assert_eq!(r.nano_cpus, Some(500_000_000));
    }

    #[test]
    fn csv() {
        assert_eq!(csv_fields("a,b").unwrap(), ["a", "b"]);
        assert_eq!(csv_fields("\"device=0,2\"").unwrap(), ["device=0,2"]);
        assert_eq!(csv_fields("\"a\"\"b\",c").unwrap(), ["a\"b", "c"]);
        assert_eq!(csv_fields("").unwrap(), [""]);
        assert!(csv_fields("\"x").is_err());
        assert!(csv_fields("\"x\"y").is_err());
    }
}
