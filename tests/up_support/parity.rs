//! Parity with the official Dev Containers CLI (issue 14's "Done when"), shared by every kind of config: for the
//! same devcontainer.json, `devgpu up` and `devcontainer up` make containers whose `docker inspect` agrees on user,
//! environment, mounts, workspace, labels, entrypoint and command, capabilities, security options, network and GPU
//! requests, but for the differences [`ALLOWANCE`] lists with their reasons. Each tool reuses the other's
//! container: devgpu's workspace is opened by the CLI, and a twin workspace made by the CLI is opened by devgpu.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::Path;

use serde_json::{json, Value};

use super::compose::ComposeWs;
use super::{docker_exec, inspect, Workspace};
use crate::common;

/// The kinds of config whose containers are compared; an allowance entry names the kinds it is for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    /// `image` or `build`: one container, made by `docker run` (the CLI) or the create API (devgpu).
    Single,
    /// `dockerComposeFile`: the service's container, made by Compose for both tools.
    Compose,
}

/// One difference by design: a key of [`parity_view`] (a `*` at the end matches a prefix), the kinds of config it
/// applies to, and why it may differ. [`allowed`] removes or normalises exactly these.
pub struct Allowance {
    pub key: &'static str,
    pub kinds: &'static [Kind],
    pub why: &'static str,
}

const BOTH: &[Kind] = &[Kind::Single, Kind::Compose];

pub const ALLOWANCE: &[Allowance] = &[
    Allowance {
        key: "labels.devgpu.*",
        kinds: BOTH,
        why: "devgpu's own bookkeeping (configuration hash, version, remote user, workspace folder, GPU state), which it reuses containers by; the official CLI neither writes nor reads them",
    },
    Allowance {
        key: "labels.com.docker.compose.config-hash",
        kinds: &[Kind::Compose],
        why: "Compose's hash of the service's resolved configuration, which takes in the override files: each tool writes its own (the CLI's names carry a time and a UUID)",
    },
    Allowance {
        key: "labels.com.docker.compose.project.config_files",
        kinds: &[Kind::Compose],
        why: "the paths of those override files (devgpu keeps its own under its cache folder)",
    },
    Allowance {
        key: "image",
        kinds: &[Kind::Compose],
        why: "the image the container runs: the CLI builds its own `vsc-<folder>-<hash>[-uid]` on top of the service's image (a uid image even as root, where it changes nothing), devgpu runs the image Compose built or pulled",
    },
    Allowance {
        key: "image.derived",
        kinds: &[Kind::Single],
        why: "the name of an image a tool builds for the workspace: the CLI's `vsc-<folder>-<hash>[-features|-uid]`, devgpu's `devgpu-<folder>-<hash>[-features|-uid]:latest`; both become `<derived>`, a base image the config names must be the same",
    },
    Allowance {
        key: "user",
        kinds: BOTH,
        why: "an empty Config.User and `root` are the same user: the CLI's uid image ends with `USER <image user>`, written out as `root` when the image left it empty",
    },
    Allowance {
        key: "gpu.driver+count",
        kinds: &[Kind::Compose],
        why: "devgpu reserves the GPU with `driver: nvidia` and a `count`, which is what makes Docker pick the NVIDIA device driver; the CLI writes only `capabilities: [gpu]` (issue 14). Capabilities and device ids must still agree",
    },
];

/// A workspace either tool can open: its folder, and for a Compose config the project the CLI derives.
pub trait Twin {
    fn root(&self) -> &Path;
    fn project(&self) -> Option<&str>;
    /// `devgpu <args…> --json` in the workspace with extra environment: (exit code, envelope, stderr).
    fn devgpu_env(&self, args: &[&str], env: &[(&str, &OsStr)]) -> (i32, Value, String);

    fn kind(&self) -> Kind {
        if self.project().is_some() {
            Kind::Compose
        } else {
            Kind::Single
        }
    }

    /// The workspace folder's name.
    fn name(&self) -> String {
        self.root().file_name().unwrap().to_string_lossy().to_string()
    }
}

impl Twin for Workspace {
    fn root(&self) -> &Path {
        &self.root
    }
    fn project(&self) -> Option<&str> {
        None
    }
    fn devgpu_env(&self, args: &[&str], env: &[(&str, &OsStr)]) -> (i32, Value, String) {
        Workspace::devgpu_env(self, args, env)
    }
}

impl Twin for ComposeWs {
    fn root(&self) -> &Path {
        &self.ws.root
    }
    fn project(&self) -> Option<&str> {
        Some(&self.project)
    }
    fn devgpu_env(&self, args: &[&str], env: &[(&str, &OsStr)]) -> (i32, Value, String) {
        ComposeWs::devgpu_env(self, args, env)
    }
}

/// Each workspace's own names (its path, its folder name, the compose project) replaced by placeholders, so that
/// twin workspaces compare equal.
fn anonymiser(ws: &dyn Twin) -> impl Fn(&str) -> String {
    let root = ws.root().display().to_string();
    let name = ws.name();
    let project = ws.project().map(str::to_string);
    move |s: &str| {
        let s = s.replace(&root, "<ws>");
        let s = match &project {
            Some(p) => s.replace(p.as_str(), "<project>"),
            None => s,
        };
        s.replace(&name, "<name>")
    }
}

/// The container as far as parity goes (from `docker inspect`).
pub fn parity_view(id: &str, ws: &dyn Twin) -> Value {
    let v: Value = serde_json::from_str(&inspect(id, "{{json .}}")).unwrap();
    let anonymise = anonymiser(ws);
    let strings = |v: &Value| -> Vec<String> { v.as_array().into_iter().flatten().map(|x| anonymise(x.as_str().unwrap_or_default())).collect() };
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let mut labels = BTreeMap::new();
    for (k, val) in v["Config"]["Labels"].as_object().unwrap() {
        let val = val.as_str().unwrap_or_default();
        // The metadata label re-serialised: the CLI's LABEL line keeps the spaces of its Dockerfile; key order counts.
        let val = if k == "devcontainer.metadata" { serde_json::from_str::<Value>(val).map(|m| m.to_string()).unwrap_or(val.to_string()) } else { val.to_string() };
        labels.insert(format!("labels.{k}"), anonymise(&val));
    }
    // `docker inspect` lists mounts in no fixed order.
    let mounts = sorted(
        v["Mounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| anonymise(&json!([m["Type"], m["Name"], if m["Type"] == "bind" { m["Source"].clone() } else { Value::Null }, m["Destination"], m["RW"]]).to_string()))
            .collect(),
    );
    // The options of tmpfs mounts (a Feature's `type: tmpfs`, `--mount type=tmpfs`, e.g. the size) are only in the
    // host config's mounts.
    let tmpfs = sorted(
        v["HostConfig"]["Mounts"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|m| m["Type"] == "tmpfs")
            .map(|m| json!([m["Target"], m["TmpfsOptions"]]).to_string())
            .collect(),
    );
    // The docker CLI sends empty lists and maps where the API client leaves the field out: Docker reads both as
    // "none", so an empty one is compared as null.
    let host = |key: &str| {
        let x = &v["HostConfig"][key];
        let empty = x.as_array().is_some_and(|a| a.is_empty()) || x.as_object().is_some_and(|o| o.is_empty());
        if empty {
            Value::Null
        } else {
            x.clone()
        }
    };
    // The docker CLI writes capabilities with their `CAP_` prefix, the API takes either: the same capability.
    let caps = |key: &str| -> Value {
        let list = sorted(strings(&v["HostConfig"][key]).into_iter().map(|c| c.trim_start_matches("CAP_").to_string()).collect());
        if list.is_empty() {
            Value::Null
        } else {
            json!(list)
        }
    };
    json!({
        "image": anonymise(v["Config"]["Image"].as_str().unwrap_or_default()),
        "user": v["Config"]["User"],
        "env": sorted(strings(&v["Config"]["Env"])),
        "entrypoint": strings(&v["Config"]["Entrypoint"]),
        "cmd": strings(&v["Config"]["Cmd"]),
        "workingDir": v["Config"]["WorkingDir"],
        "labels": labels,
        "mounts": mounts,
        "tmpfs": tmpfs,
        "capAdd": caps("CapAdd"),
        "capDrop": caps("CapDrop"),
        "securityOpt": host("SecurityOpt"),
        "privileged": v["HostConfig"]["Privileged"],
        "init": v["HostConfig"]["Init"],
        "shmSize": v["HostConfig"]["ShmSize"],
        "ipcMode": v["HostConfig"]["IpcMode"],
        "pidMode": v["HostConfig"]["PidMode"],
        "runtime": v["HostConfig"]["Runtime"],
        "devices": host("Devices"),
        "groupAdd": host("GroupAdd"),
        "ulimits": host("Ulimits"),
        "hostTmpfs": host("Tmpfs"),
        "ports": host("PortBindings"),
        // Docker's default hostname is the container's short id: one per container, compared as `<id>`.
        "hostname": match v["Config"]["Hostname"].as_str().unwrap_or_default() {
            h if v["Id"].as_str().is_some_and(|id| id.starts_with(h)) => "<id>".to_string(),
            h => anonymise(h),
        },
        "extraHosts": host("ExtraHosts"),
        "memory": v["HostConfig"]["Memory"],
        "nanoCpus": v["HostConfig"]["NanoCpus"],
        "sysctls": host("Sysctls"),
        // The docker CLI writes the default restart policy out as "no", the API leaves it "": the same policy.
        "restart": match v["HostConfig"]["RestartPolicy"]["Name"].as_str().unwrap_or_default() {
            "" => "no",
            name => name,
        },
        "stopSignal": v["Config"]["StopSignal"],
        "networkMode": anonymise(v["HostConfig"]["NetworkMode"].as_str().unwrap_or_default()),
        "gpu": host("DeviceRequests"),
    })
}

/// `view` less the differences [`ALLOWANCE`] lists for `kind`.
pub fn allowed(mut view: Value, kind: Kind) -> Value {
    for a in ALLOWANCE.iter().filter(|a| a.kinds.contains(&kind)) {
        match a.key {
            "image" => view["image"] = Value::Null,
            "image.derived" => {
                let image = view["image"].as_str().unwrap_or_default();
                // Anonymised by the view: the folder name is `<name>` (the CLI lowercases it, devgpu slugs it).
                if image.starts_with("vsc-") || image.starts_with("devgpu-") {
                    view["image"] = json!("<derived>");
                }
            }
            "user" => {
                if view["user"] == "" {
                    view["user"] = json!("root");
                }
            }
            "gpu.driver+count" => {
                for r in view["gpu"].as_array_mut().into_iter().flatten() {
                    let o = r.as_object_mut().unwrap();
                    o.remove("Driver");
                    o.remove("Count");
                }
            }
            label => {
                let labels = view["labels"].as_object_mut().unwrap();
                match label.strip_suffix('*') {
                    Some(prefix) => labels.retain(|k, _| !k.starts_with(prefix)),
                    None => {
                        labels.remove(label);
                    }
                }
            }
        }
    }
    view
}

/// Panics with each differing key of the two views (after the allowance), devgpu's value beside the CLI's.
pub fn assert_agree(mine: &Value, theirs: &Value, kind: Kind) {
    let (a, b) = (allowed(mine.clone(), kind), allowed(theirs.clone(), kind));
    if a != b {
        let diff: Vec<String> = a
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, v)| b.get(k.as_str()) != Some(v))
            .map(|(k, v)| format!("{k}:\n  devgpu:       {v}\n  official CLI: {}", b[k.as_str()]))
            .collect();
        panic!("devgpu's {kind:?} container differs from the official CLI's (beyond the allowance):\n{}", diff.join("\n"));
    }
}

/// [`parity_env`] without extra environment.
pub fn parity<W: Twin>(make: &dyn Fn() -> W) -> (W, Value, Value) {
    parity_env(make, &[], &[])
}

/// devgpu first, the CLI reuses its container (and `devcontainer exec` runs in it); the CLI first on a twin,
/// devgpu reuses that; then both containers compare equal under the allowance. The config must append a line to
/// /tmp/created.log in a lifecycle hook (it shows the hooks ran once). `devgpu_env` / `cli_env` go to each tool
/// (a test CA for a loopback registry). Returns devgpu's workspace (its container still there), the view of that
/// container (before the allowance) and devgpu's `up` result.
pub fn parity_env<W: Twin>(make: &dyn Fn() -> W, devgpu_env: &[(&str, &OsStr)], cli_env: &[(&str, &OsStr)]) -> (W, Value, Value) {
    parity_probe(make, devgpu_env, cli_env, "true")
}

/// [`parity_env`] with a shell probe (run as root) whose output must be the same in both containers, e.g. what a
/// Feature installed; it must print something, so that a probe that fails to look cannot pass.
pub fn parity_probe<W: Twin>(make: &dyn Fn() -> W, devgpu_env: &[(&str, &OsStr)], cli_env: &[(&str, &OsStr)], probe: &str) -> (W, Value, Value) {
    let cli = common::tools::devcontainer_cli().expect("the official Dev Containers CLI");

    let ours = make();
    let (code, env, stderr) = ours.devgpu_env(&["up"], devgpu_env);
    assert_eq!(code, 0, "{env:#}\n{stderr}");
    let id = env["data"]["containerId"].as_str().unwrap().to_string();
    let folder = ours.root().display().to_string();
    let (ok, result, stderr) = common::tools::devcontainer_json_env(&cli, &["up", "--workspace-folder", &folder], cli_env);
    assert!(ok && result["outcome"] == "success", "devcontainer up failed: {result:#}\n{stderr}");
    assert_eq!(result["containerId"], id.as_str(), "the official CLI reuses devgpu's container");
    assert_eq!(result["remoteUser"], env["data"]["remoteUser"], "{result:#}\n{env:#}");
    assert_eq!(result["remoteWorkspaceFolder"], env["data"]["workspaceFolder"]);
    assert_eq!(docker_exec(&id, None, "wc -l < /tmp/created.log"), "1", "the lifecycle ran once (devgpu's), not again by the CLI");
    // `devcontainer exec` (what VS Code's terminal does) runs in devgpu's container as the remote user, in the
    // workspace folder.
    let mut exec = std::process::Command::new(&cli);
    exec.args(["exec", "--workspace-folder", &folder, "sh", "-c", "echo in:$(hostname):$(id -un):$(pwd)"]).envs(cli_env.iter().copied());
    let out = common::tools::run_logged(&mut exec);
    assert!(out.status.success(), "devcontainer exec failed: {}", String::from_utf8_lossy(&out.stderr));
    let user = env["data"]["remoteUser"].as_str().unwrap();
    let hostname = inspect(&id, "{{.Config.Hostname}}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), format!("in:{hostname}:{user}:{}", env["data"]["workspaceFolder"].as_str().unwrap()));

    let twin = make();
    let twin_folder = twin.root().display().to_string();
    let (ok, cli_result, stderr) = common::tools::devcontainer_json_env(&cli, &["up", "--workspace-folder", &twin_folder], cli_env);
    assert!(ok && cli_result["outcome"] == "success", "devcontainer up failed: {cli_result:#}\n{stderr}");
    let cli_id = cli_result["containerId"].as_str().unwrap().to_string();
    let (code, twin_env, stderr) = twin.devgpu_env(&["up"], devgpu_env);
    assert_eq!(code, 0, "{twin_env:#}\n{stderr}");
    assert_eq!((twin_env["data"]["containerId"].as_str(), twin_env["data"]["reused"].as_bool()), (Some(cli_id.as_str()), Some(true)), "devgpu reuses the CLI's container");
    assert_eq!(twin_env["data"]["remoteUser"], cli_result["remoteUser"]);
    assert_eq!(docker_exec(&cli_id, None, "wc -l < /tmp/created.log"), "1");

    let (mine, theirs) = (parity_view(&id, &ours), parity_view(&cli_id, &twin));
    assert_agree(&mine, &theirs, ours.kind());
    // What the effective user sees, in both.
    let seen = "id -un; pwd; echo $FROM_JSON $DOLLAR $FROM_COMPOSE";
    assert_eq!(docker_exec(&id, Some(user), seen).replace(&ours.name(), "<name>"), docker_exec(&cli_id, Some(user), seen).replace(&twin.name(), "<name>"));
    let installed = docker_exec(&id, None, probe);
    assert_eq!(installed, docker_exec(&cli_id, None, probe), "the probe `{probe}` differs");
    assert!(probe == "true" || !installed.is_empty(), "the probe `{probe}` printed nothing");
    // An image the CLI derived for the twin (`vsc-…-features`, `vsc-…-uid`) is not named by the twin's clean-up
    // when its name has a suffix that clean-up does not know: removed by the name the container ran.
    let cli_image = inspect(&cli_id, "{{.Config.Image}}");
    drop(twin);
    if cli_image.starts_with("vsc-") {
        let _ = std::process::Command::new("docker").args(["rmi", &cli_image]).output();
    }
    (ours, mine, env)
}
