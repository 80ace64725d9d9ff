//! Compose parity with the official Dev Containers CLI (issue 14's "Done when"): for Compose configs that build
//! offline here — a service built from a Dockerfile on the stand-in image with a non-root `remoteUser`, and a
//! service run from an image — `devgpu up` and `devcontainer up` make containers whose `docker inspect` agrees on
//! user, environment, mounts, workspace, labels, entrypoint and command, capabilities, security options and GPU
//! requests, but for the differences [`ALLOWANCE`] lists with their reasons. Each tool reuses the other's container:
//! devgpu's workspace is opened by the CLI, and a twin workspace made by the CLI is opened by devgpu.

mod common;
mod up_support;

use std::collections::BTreeMap;
use std::ffi::OsStr;

use common::docker::{standin_images_available, STANDIN_IMAGE};
use common::live::{registry_available, Registry};
use common::tools::compose_available;
use serde_json::{json, Value};
use up_support::compose::ComposeWs;
use up_support::features::{loopback_certificate, publish};
use up_support::{docker_exec, inspect};

/// What differs between the two tools' containers by design. Each entry names a key of [`parity_view`] (a `*`
/// at the end matches a prefix) and why it may differ; [`allowed`] removes or normalises exactly these.
const ALLOWANCE: &[(&str, &str)] = &[
    (
        "labels.devgpu.*",
        "devgpu's own bookkeeping (configuration hash, version, remote user, workspace folder, GPU state), which it reuses containers by; the official CLI neither writes nor reads them",
    ),
    (
        "labels.com.docker.compose.config-hash",
        "Compose's hash of the service's resolved configuration, which takes in the override files: each tool writes its own (the CLI's names carry a time and a UUID)",
    ),
    ("labels.com.docker.compose.project.config_files", "the paths of those override files (devgpu keeps its own under its cache folder)"),
    (
        "image",
        "the image the container runs: the CLI builds its own `vsc-<folder>-<hash>[-uid]` on top of the service's image (a uid image even as root, where it changes nothing), devgpu runs the image Compose built or pulled",
    ),
    (
        "user",
        "an empty Config.User and `root` are the same user: the CLI's uid image ends with `USER <image user>`, written out as `root` when the image left it empty",
    ),
    (
        "gpu.driver+count",
        "devgpu reserves the GPU with `driver: nvidia` and a `count`, which is what makes Docker pick the NVIDIA device driver; the CLI writes only `capabilities: [gpu]` (issue 14). Capabilities and device ids must still agree",
    ),
];

fn ready() -> bool {
    standin_images_available() && compose_available()
}

/// The container as far as parity goes, with each workspace's own names (its path, its folder name, the compose
/// project) replaced by placeholders so that twin workspaces compare equal.
fn parity_view(id: &str, cws: &ComposeWs) -> Value {
    let v: Value = serde_json::from_str(&inspect(id, "{{json .}}")).unwrap();
    let root = cws.ws.root.display().to_string();
    let name = cws.name();
    let anonymise = |s: &str| s.replace(&root, "<ws>").replace(&cws.project, "<project>").replace(&name, "<name>");
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
    // The docker CLI writes capabilities with their `CAP_` prefix, the API takes either: the same capability.
    let caps = sorted(strings(&v["HostConfig"]["CapAdd"]).into_iter().map(|c| c.trim_start_matches("CAP_").to_string()).collect());
    json!({
        "image": v["Config"]["Image"],
        "user": v["Config"]["User"],
        "env": sorted(strings(&v["Config"]["Env"])),
        "entrypoint": strings(&v["Config"]["Entrypoint"]),
        "cmd": strings(&v["Config"]["Cmd"]),
        "workingDir": v["Config"]["WorkingDir"],
        "labels": labels,
        "mounts": mounts,
        "capAdd": caps,
        "capDrop": v["HostConfig"]["CapDrop"],
        "securityOpt": v["HostConfig"]["SecurityOpt"],
        "privileged": v["HostConfig"]["Privileged"],
        "init": v["HostConfig"]["Init"],
        "networkMode": anonymise(v["HostConfig"]["NetworkMode"].as_str().unwrap_or_default()),
        "gpu": v["HostConfig"]["DeviceRequests"],
    })
}

/// `view` less the differences [`ALLOWANCE`] lists; returns which entries applied (for the failure message).
fn allowed(mut view: Value) -> Value {
    for (key, _why) in ALLOWANCE {
        match *key {
            "image" => view["image"] = Value::Null,
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

/// devgpu first, the CLI reuses its container; the CLI first on a twin, devgpu reuses that; then both containers
/// compare equal under the allowance. Returns devgpu's workspace (its container still there), the view of that
/// container (before the allowance) and devgpu's `up` result.
fn parity(make: &dyn Fn() -> ComposeWs) -> (ComposeWs, Value, Value) {
    parity_env(make, &[], &[])
}

/// [`parity`] with environment variables for devgpu and for the CLI (a test CA for a loopback registry).
fn parity_env(make: &dyn Fn() -> ComposeWs, devgpu_env: &[(&str, &OsStr)], cli_env: &[(&str, &OsStr)]) -> (ComposeWs, Value, Value) {
    let cli = common::tools::devcontainer_cli().expect("the official Dev Containers CLI");

    let ours = make();
    let (code, env, stderr) = ours.devgpu_env(&["up"], devgpu_env);
    assert_eq!(code, 0, "{env:#}\n{stderr}");
    let id = env["data"]["containerId"].as_str().unwrap().to_string();
    let folder = ours.ws.root.display().to_string();
    let (ok, result, stderr) = common::tools::devcontainer_json_env(&cli, &["up", "--workspace-folder", &folder], cli_env);
    assert!(ok && result["outcome"] == "success", "devcontainer up failed: {result:#}\n{stderr}");
    assert_eq!(result["containerId"], id.as_str(), "the official CLI reuses devgpu's compose container");
    assert_eq!(result["remoteUser"], env["data"]["remoteUser"], "{result:#}\n{env:#}");
    assert_eq!(result["remoteWorkspaceFolder"], env["data"]["workspaceFolder"]);
    assert_eq!(docker_exec(&id, None, "wc -l < /tmp/created.log"), "1", "the lifecycle ran once (devgpu's), not again by the CLI");

    let twin = make();
    let twin_folder = twin.ws.root.display().to_string();
    let (ok, cli_result, stderr) = common::tools::devcontainer_json_env(&cli, &["up", "--workspace-folder", &twin_folder], cli_env);
    assert!(ok && cli_result["outcome"] == "success", "devcontainer up failed: {cli_result:#}\n{stderr}");
    let cli_id = cli_result["containerId"].as_str().unwrap().to_string();
    let (code, twin_env, stderr) = twin.devgpu_env(&["up"], devgpu_env);
    assert_eq!(code, 0, "{twin_env:#}\n{stderr}");
    assert_eq!((twin_env["data"]["containerId"].as_str(), twin_env["data"]["reused"].as_bool()), (Some(cli_id.as_str()), Some(true)), "devgpu reuses the CLI's container");
    assert_eq!(twin_env["data"]["remoteUser"], cli_result["remoteUser"]);
    assert_eq!(docker_exec(&cli_id, None, "wc -l < /tmp/created.log"), "1");

    let (mine, theirs) = (parity_view(&id, &ours), parity_view(&cli_id, &twin));
    let (a, b) = (allowed(mine.clone()), allowed(theirs.clone()));
    if a != b {
        let diff: Vec<String> = a
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, v)| b.get(k.as_str()) != Some(v))
            .map(|(k, v)| format!("{k}:\n  devgpu:       {v}\n  official CLI: {}", b[k.as_str()]))
            .collect();
        panic!("devgpu's compose container differs from the official CLI's (beyond the allowance):\n{}", diff.join("\n"));
    }
    // What the effective user sees, in both.
    let user = env["data"]["remoteUser"].as_str().unwrap();
    let probe = "id -un; pwd; echo $FROM_JSON $DOLLAR $FROM_COMPOSE";
    assert_eq!(
        docker_exec(&id, Some(user), probe).replace(&ours.name(), "<name>"),
        docker_exec(&cli_id, Some(user), probe).replace(&twin.name(), "<name>"),
    );
    (ours, mine, env)
}

/// A compose workspace: devcontainer.json, `.devcontainer/docker-compose.yml` (`<name>` in it is the workspace
/// folder's name) and, for a service built from it, `.devcontainer/Dockerfile`.
fn compose_ws(config: &str, compose: &str, dockerfile: Option<&str>) -> ComposeWs {
    let cws = ComposeWs::bare(config);
    cws.ws.write(".devcontainer/docker-compose.yml", &compose.replace("<name>", &cws.name()));
    if let Some(d) = dockerfile {
        cws.ws.write(".devcontainer/Dockerfile", d);
    }
    cws
}

/// A service built from a Dockerfile on the stand-in image, with a non-root remote user and most of what a
/// Compose config can set (environment with a `$`, a capability, a security option, init, a named volume, an
/// optional GPU, a lifecycle command).
#[test]
fn a_dockerfile_service_with_a_non_root_user_matches_the_official_cli() {
    if !ready() {
        return;
    }
    // One base for both workspaces (its LABEL shows in both containers), none shared with other tests; declared
    // first, so its images go after the workspaces'.
    let case = CaseImages::new();
    let unique = &case.0;
    let dockerfile = format!("FROM {STANDIN_IMAGE}\nLABEL devgpu-test.case=\"{unique}\"\nENV IMAGE_ENV=1\nRUN useradd -m -u 1000 dev\n");
    let compose = "version: '3.8'\nservices:\n  app:\n    build:\n      context: .\n      dockerfile: Dockerfile\n    volumes:\n      - ..:/workspaces/<name>:cached\n    environment:\n      FROM_COMPOSE: \"1\"\n    command: sleep infinity\n";
    let make = || {
        compose_ws(
            r#"{
  "name": "parity",
  "dockerComposeFile": "docker-compose.yml",
  "service": "app",
  "runServices": ["app"],
  "workspaceFolder": "/workspaces/${localWorkspaceFolderBasename}",
  "remoteUser": "dev",
  "containerEnv": {"FROM_JSON": "yes", "DOLLAR": "a$b"},
  "remoteEnv": {"R": "1"},
  "capAdd": ["SYS_PTRACE"],
  "securityOpt": ["seccomp=unconfined"],
  "init": true,
  "mounts": ["source=parity-cache,target=/cache,type=volume"],
  "hostRequirements": {"gpu": "optional"},
  "postCreateCommand": "echo created >> /tmp/created.log"
}"#,
            compose,
            Some(&dockerfile),
        )
    };
    let (_ours, view, env) = parity(&make);
    // The view is not trivially equal: it holds what the config asked for.
    assert_eq!(env["data"]["remoteUser"], "dev");
    assert!(view["env"].to_string().contains("FROM_JSON=yes") && view["env"].to_string().contains("IMAGE_ENV=1"), "{view:#}");
    assert!(view["capAdd"].to_string().contains("SYS_PTRACE") && view["init"] == true, "{view:#}");
    assert!(view["mounts"].to_string().contains("/cache"), "{view:#}");
    assert!(view["labels"]["labels.devcontainer.metadata"].as_str().unwrap().contains("\"remoteUser\":\"dev\""), "{view:#}");
}

/// A service run from an image (the stand-in), with its own entrypoint and no command: the keep-alive runs the
/// service's entrypoint, and the image's CMD is dropped as Compose drops it.
#[test]
fn an_image_service_matches_the_official_cli() {
    if !ready() {
        return;
    }
    let make = || {
        compose_ws(
            r#"{
  "dockerComposeFile": ["docker-compose.yml"],
  "service": "app",
  "workspaceFolder": "/workspace",
  "containerEnv": {"FROM_JSON": "image", "DOLLAR": "c$d"},
  "capAdd": ["NET_ADMIN"],
  "postCreateCommand": "echo created >> /tmp/created.log"
}"#,
            &format!("services:\n  app:\n    image: {STANDIN_IMAGE}\n    volumes:\n      - ..:/workspace\n    environment:\n      - FROM_COMPOSE=2\n    entrypoint: [\"/bin/sh\", \"-c\", \"exec \\\"$$@\\\"\", \"-\"]\n    command: [\"sleep\", \"infinity\"]\n    network_mode: none\n"),
            None,
        )
    };
    let (_ours, view, env) = parity(&make);
    assert_eq!(env["data"]["remoteUser"], "root");
    assert_eq!(view["networkMode"], "none", "{view:#}");
    assert!(view["cmd"].to_string().contains("infinity"), "{view:#}");
}

/// The images built from a test's own base (`LABEL devgpu-test.case=<unique>`), removed on drop: the official CLI's
/// classic builds of a compose service leave the stage before its last one behind, untagged.
struct CaseImages(String);

impl CaseImages {
    fn new() -> CaseImages {
        CaseImages(common::docker::unique_suffix())
    }
}

impl Drop for CaseImages {
    fn drop(&mut self) {
        let out = std::process::Command::new("docker").args(["images", "-aq", "--filter", &format!("label=devgpu-test.case={}", self.0)]).output();
        for id in out.map(|o| String::from_utf8_lossy(&o.stdout).split_whitespace().map(str::to_string).collect::<Vec<_>>()).unwrap_or_default() {
            let _ = std::process::Command::new("docker").args(["rmi", "-f", &id]).output();
        }
    }
}

/// An image made by the Dev Containers tooling carries a `devcontainer.metadata` label (removed on drop).
struct MetadataImage(String);

impl Drop for MetadataImage {
    fn drop(&mut self) {
        let _ = std::process::Command::new("docker").args(["rmi", "-f", &self.0]).output();
    }
}

/// A service run from an image whose `devcontainer.metadata` (as a prebuilt dev container image or a Features
/// image holds it) adds an entrypoint, environment, a capability, a security option, init, a named volume, the
/// remote user and a postCreateCommand: both tools merge it under the config and run its hook before the config's.
#[test]
fn an_image_with_devcontainer_metadata_matches_the_official_cli() {
    if !ready() {
        return;
    }
    let unique = common::docker::unique_suffix();
    let image = MetadataImage(format!("devgpu-test/compose-metadata:{unique}"));
    let metadata = json!([{
        "id": "meta-base",
        "entrypoint": "/usr/local/bin/meta-init.sh",
        "containerEnv": {"META_ENV": "from-image", "FROM_JSON": "overridden-by-the-config"},
        "capAdd": ["SYS_PTRACE"],
        "securityOpt": ["label=disable"],
        "init": true,
        "mounts": [{"type": "volume", "source": "meta-cache", "target": "/meta-cache"}],
        "remoteUser": "dev",
        "postCreateCommand": "echo image >> /tmp/hooks.log"
    }]);
    let context = tempfile::tempdir().unwrap();
    std::fs::write(
        context.path().join("Dockerfile"),
        format!("FROM {STANDIN_IMAGE}\nRUN useradd -m dev && printf '#!/bin/sh\\necho started >> /tmp/entrypoint.log\\n' > /usr/local/bin/meta-init.sh && chmod +x /usr/local/bin/meta-init.sh\n"),
    )
    .unwrap();
    let out = std::process::Command::new("docker")
        .args(["build", "-q", "-t", &image.0, "--label", &format!("devcontainer.metadata={metadata}"), "--label", "devgpu-test=compose-parity"])
        .arg(context.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "docker build: {}", String::from_utf8_lossy(&out.stderr));

    let make = || {
        compose_ws(
            r#"{
  "dockerComposeFile": "docker-compose.yml",
  "service": "app",
  "workspaceFolder": "/workspace",
  "containerEnv": {"FROM_JSON": "config", "DOLLAR": "e$f"},
  "postCreateCommand": "echo created >> /tmp/created.log; echo config >> /tmp/hooks.log"
}"#,
            &format!("services:\n  app:\n    image: {}\n    volumes:\n      - ..:/workspace\n    environment:\n      FROM_COMPOSE: \"3\"\n    command: [\"sleep\", \"infinity\"]\n    network_mode: none\n", image.0),
            None,
        )
    };
    let (_ours, view, env) = parity(&make);
    let id = env["data"]["containerId"].as_str().unwrap();
    assert_eq!(env["data"]["remoteUser"], "dev", "the image's metadata names the remote user");
    assert_eq!(docker_exec(id, None, "cat /tmp/hooks.log"), "image\nconfig", "the image's hook runs first, once");
    assert_eq!(docker_exec(id, None, "cat /tmp/entrypoint.log"), "started", "the metadata's entrypoint ran in the keep-alive");
    assert_eq!(docker_exec(id, None, "echo $META_ENV $FROM_JSON"), "from-image config");
    assert!(view["capAdd"].to_string().contains("SYS_PTRACE") && view["init"] == true, "{view:#}");
    assert!(view["mounts"].to_string().contains("/meta-cache"), "{view:#}");
}

/// A local Feature with an option, containerEnv, a capability, an entrypoint, a volume and a postCreateCommand;
/// its install.sh records what it was given.
fn write_feature(cws: &ComposeWs) {
    cws.ws.write(
        ".devcontainer/hello/devcontainer-feature.json",
        r#"{
  "id": "hello",
  "version": "1.0.0",
  "name": "Hello",
  "options": { "greeting": { "type": "string", "default": "hello" } },
  "containerEnv": { "HELLO_HOME": "/opt/hello" },
  "capAdd": ["SYS_PTRACE"],
  "entrypoint": "/usr/local/share/hello-init.sh",
  "mounts": [{ "type": "volume", "source": "hello-cache", "target": "/hello-cache" }],
  "postCreateCommand": "echo feature >> /tmp/hooks.log"
}"#,
    );
    cws.ws.write(
        ".devcontainer/hello/install.sh",
        "#!/bin/sh\nset -e\nmkdir -p \"$HELLO_HOME\"\necho \"$GREETING $_REMOTE_USER $_REMOTE_USER_HOME $_CONTAINER_USER\" > \"$HELLO_HOME/out\"\n\
         printf '#!/bin/sh\\necho started >> /tmp/entrypoint.log\\n' > /usr/local/share/hello-init.sh\nchmod +x /usr/local/share/hello-init.sh\n",
    );
}

/// Features on a Compose service (issue 14): installed into an image on top of the service's, which the service
/// then runs; both tools' containers agree, and the Feature's hook runs before the config's, once.
#[test]
fn a_dockerfile_service_with_a_local_feature_matches_the_official_cli() {
    if !ready() {
        return;
    }
    let case = CaseImages::new();
    let unique = &case.0;
    let dockerfile = format!("FROM {STANDIN_IMAGE}\nLABEL devgpu-test.case=\"{unique}\"\nRUN useradd -m -u 1000 dev\n");
    let make = || {
        let cws = compose_ws(
            r#"{
  "dockerComposeFile": "docker-compose.yml",
  "service": "app",
  "workspaceFolder": "/workspace",
  "remoteUser": "dev",
  "features": { "./hello": { "greeting": "hola" } },
  "containerEnv": {"FROM_JSON": "features"},
  "postCreateCommand": "echo created >> /tmp/created.log; echo config >> /tmp/hooks.log"
}"#,
            "version: '3.8'\nservices:\n  app:\n    build:\n      context: .\n      dockerfile: Dockerfile\n    volumes:\n      - ..:/workspace\n    command: sleep infinity\n    network_mode: none\n",
            Some(&dockerfile),
        );
        write_feature(&cws);
        cws
    };
    let (ours, view, env) = parity(&make);
    let id = env["data"]["containerId"].as_str().unwrap();
    assert!(env["data"]["image"].as_str().unwrap().ends_with("-features:latest"), "the service runs the Features image: {env:#}");
    assert_eq!(docker_exec(id, None, "cat /opt/hello/out"), "hola dev /home/dev root");
    assert_eq!(docker_exec(id, None, "cat /tmp/hooks.log"), "feature\nconfig");
    assert_eq!(docker_exec(id, None, "cat /tmp/entrypoint.log"), "started");
    assert!(view["env"].to_string().contains("HELLO_HOME=/opt/hello") && view["capAdd"].to_string().contains("SYS_PTRACE"), "{view:#}");
    assert!(view["mounts"].to_string().contains("/hello-cache"), "{view:#}");

    // Warm: after `down --remove`, Compose's build comes from its cache and the Features image is found by its
    // key: the same image, not built again.
    let features_image = env["data"]["image"].as_str().unwrap();
    let before = inspect(features_image, "{{.Id}}");
    let (code, _, stderr) = ours.devgpu(&["down", "--remove"]);
    assert_eq!(code, 0, "{stderr}");
    let (code, warm, stderr) = ours.devgpu(&["up"]);
    assert_eq!(code, 0, "{warm:#}\n{stderr}");
    assert_eq!((warm["data"]["reused"].as_bool(), warm["data"]["image"].as_str()), (Some(false), Some(features_image)), "{warm:#}");
    assert_eq!(inspect(features_image, "{{.Id}}"), before, "the Features image was not rebuilt");
    assert!(!stderr.contains("installing the Features"), "{stderr}");
    // The CLI leaves its classic-builder feature-content image behind under a fixed name.
    let _ = std::process::Command::new("docker").args(["rmi", "dev_container_feature_content_temp"]).output();
}

/// OCI Features on a Compose service (issue 14), from Debian's registry on loopback served over TLS with a test CA
/// (the CLI speaks only https://): a Feature that depends on another, with an option, containerEnv, a capability
/// and a hook. Both tools install them in the same order into the service's image and agree on the container.
#[test]
fn an_image_service_with_oci_features_matches_the_official_cli() {
    if !ready() || !registry_available() {
        return;
    }
    let certs = tempfile::tempdir().unwrap();
    let Some((ca, cert, key)) = loopback_certificate(certs.path()) else { return };
    let registry = Registry::start();
    let (_tls, host) = registry.tls_mirror(&cert, &key);
    let r = |id: &str| format!("{host}/devgpu-test/features/{id}:1");
    publish(&registry, "base", json!({}));
    publish(&registry, "app", json!({"dependsOn": {r("base"): {}}, "containerEnv": {"APP_READY": "yes"}, "capAdd": ["SYS_PTRACE"], "postCreateCommand": "echo app >> /tmp/hooks.log"}));
    let config = json!({
        "dockerComposeFile": "docker-compose.yml",
        "service": "app",
        "workspaceFolder": "/workspace",
        "features": {r("app"): {"flavor": "spicy"}},
        "postCreateCommand": "echo created >> /tmp/created.log; echo config >> /tmp/hooks.log",
    })
    .to_string();
    let compose = format!("services:\n  app:\n    image: {STANDIN_IMAGE}\n    volumes:\n      - ..:/workspace\n    command: [\"sleep\", \"infinity\"]\n    network_mode: none\n");
    let make = || compose_ws(&config, &compose, None);
    let (_ours, view, env) = parity_env(&make, &[("SSL_CERT_FILE", ca.as_os_str())], &[("NODE_EXTRA_CA_CERTS", ca.as_os_str())]);
    let id = env["data"]["containerId"].as_str().unwrap();
    assert_eq!(docker_exec(id, None, "cat /opt/order.log; echo $APP_READY; cat /tmp/hooks.log"), "base:plain\napp:spicy\nyes\napp\nconfig");
    assert!(view["capAdd"].to_string().contains("SYS_PTRACE"), "{view:#}");
    let _ = std::process::Command::new("docker").args(["rmi", "dev_container_feature_content_temp"]).output();
}
