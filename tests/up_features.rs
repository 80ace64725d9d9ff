//! Dev Container Features in `devgpu up`, against the real things: the local Docker daemon (stand-in base images,
//! no network), Debian's reference registry on loopback behind a Bearer-token front (OCI Features pushed by the
//! test through the registry API, as `devcontainer features publish` lays them out: config
//! `application/vnd.devcontainers`, one `application/vnd.devcontainers.layer.v1+tar` layer), and the pinned
//! official Dev Containers CLI, which must reuse devgpu's container and build an equal one itself (compared by
//! `up_support::parity`, as every kind of config is).

mod common;
mod up_support;

use std::process::Command;

use common::docker::{standin_images_available, STANDIN_IMAGE};
use common::live::{registry_available, Registry};
use serde_json::{json, Value};
use up_support::features::{publish, TlsFeatures};
use up_support::parity::parity_probe;
use up_support::{docker_exec, inspect, Workspace};

/// A local Feature `greeter` with options (one overridden, one defaulted), containerEnv, a capability, a tmpfs
/// mount and a postCreateCommand; its install.sh records what it was given.
fn write_greeter(ws: &Workspace, install_extra: &str) {
    ws.write(
        ".devcontainer/greeter/devcontainer-feature.json",
        r#"{
  // JSONC, as Features are read
  "id": "greeter",
  "version": "1.0.0",
  "name": "Greeter",
  "options": {
    "greeting": { "type": "string", "default": "hello" },
    "level": { "type": "string", "default": "1" }
  },
  "containerEnv": { "GREETER_HOME": "/opt/greeter" },
  "capAdd": ["SYS_PTRACE"],
  "securityOpt": ["label=disable"],
  "init": true,
  "entrypoint": "/usr/local/share/greeter-init.sh",
  "mounts": [{ "type": "tmpfs", "target": "/greeter-cache" }],
  "postCreateCommand": "echo feature >> /tmp/hooks.log"
}"#,
    );
    ws.write(
        ".devcontainer/greeter/install.sh",
        &format!(
            "#!/bin/sh\nset -e\nmkdir -p \"$GREETER_HOME\"\necho \"$GREETING $LEVEL $_REMOTE_USER $_REMOTE_USER_HOME $_CONTAINER_USER\" > \"$GREETER_HOME/out\"\n\
             printf '#!/bin/sh\\necho started >> /tmp/entrypoint.log\\n' > /usr/local/share/greeter-init.sh\nchmod +x /usr/local/share/greeter-init.sh\n{install_extra}\n"
        ),
    );
}

fn greeter_config() -> String {
    format!(
        r#"{{ "image": "{STANDIN_IMAGE}", "runArgs": ["--network", "none"], "containerEnv": {{"FROM_CONFIG": "1"}},
             "features": {{ "./greeter": {{ "greeting": "hola" }} }},
             "postCreateCommand": "echo config >> /tmp/hooks.log" }}"#
    )
}

/// The same workspace as a build config on a base of its own (a unique LABEL): concurrent tests then share no
/// cached layers, which another test's image removal could delete under a running build.
fn own_base(ws: &Workspace, config: &str) {
    let unique = common::docker::unique_suffix();
    ws.write(".devcontainer/Dockerfile", &format!("FROM {STANDIN_IMAGE}\nLABEL devgpu-test.case=\"{unique}\"\n"));
    let mut v: Value = serde_json::from_str(config).unwrap();
    let o = v.as_object_mut().unwrap();
    o.shift_remove("image");
    o.insert("build".into(), json!({"dockerfile": "Dockerfile"}));
    ws.write(".devcontainer/devcontainer.json", &v.to_string());
}

fn metadata_label(id: &str) -> Value {
    serde_json::from_str(&inspect(id, "{{index .Config.Labels \"devcontainer.metadata\"}}")).unwrap()
}

#[test]
fn a_local_feature_with_options_and_container_env_lands_in_the_container() {
    if !standin_images_available() {
        return;
    }
    let ws = Workspace::new(&greeter_config());
    own_base(&ws, &greeter_config());
    write_greeter(&ws, "");
    let (code, env, stderr) = ws.devgpu(&["up"]);
    assert_eq!(code, 0, "{env:#}\n{stderr}");
    let data = &env["data"];
    assert_eq!(data["built"], true, "{data:#}");
    let id = data["containerId"].as_str().unwrap().to_string();
    assert!(data["image"].as_str().unwrap().ends_with("-features:latest"), "created from the derived image: {data:#}");

    // Options as environment (the user's value, the default), the built-in users and home.
    assert_eq!(docker_exec(&id, None, "cat /opt/greeter/out"), "hola 1 root /root root");
    // containerEnv of the Feature (an ENV of the image) and of the config.
    assert_eq!(docker_exec(&id, None, "echo $GREETER_HOME:$FROM_CONFIG"), "/opt/greeter:1");
    // capAdd, securityOpt, init, mounts and the entrypoint of the Feature.
    assert!(inspect(&id, "{{json .HostConfig.CapAdd}}").contains("SYS_PTRACE"));
    assert_eq!(inspect(&id, "{{json .HostConfig.SecurityOpt}} {{.HostConfig.Init}}"), "[\"label=disable\"] true");
    assert_eq!(docker_exec(&id, None, "cat /tmp/entrypoint.log"), "started", "the Feature's entrypoint ran when the container started");
    assert!(inspect(&id, "{{json .HostConfig.Mounts}}").contains("/greeter-cache"), "{}", inspect(&id, "{{json .HostConfig.Mounts}}"));
    // The Feature's postCreateCommand ran before the config's.
    assert_eq!(docker_exec(&id, None, "cat /tmp/hooks.log"), "feature\nconfig");
    // The installed files were cleaned up the way the CLI leaves them (the folder is there, as with the classic builder).
    assert_eq!(docker_exec(&id, None, "ls /tmp/dev-container-features"), "devcontainer-features.builtin.env\ngreeter_0");

    // The metadata label VS Code reads: the Feature's entry (id as written, picked properties), then the config's.
    // Compared as text: the keys in the CLI's order.
    assert_eq!(
        inspect(&id, "{{index .Config.Labels \"devcontainer.metadata\"}}"),
        json!([
            {"id": "./greeter", "postCreateCommand": "echo feature >> /tmp/hooks.log", "init": true, "capAdd": ["SYS_PTRACE"], "securityOpt": ["label=disable"],
             "entrypoint": "/usr/local/share/greeter-init.sh", "mounts": [{"type": "tmpfs", "target": "/greeter-cache"}]},
            {"postCreateCommand": "echo config >> /tmp/hooks.log", "containerEnv": {"FROM_CONFIG": "1"}}
        ])
        .to_string()
    );

    // Running: reused as it is.
    let (_, again, _) = ws.devgpu(&["up"]);
    assert_eq!((again["data"]["reused"].clone(), again["data"]["containerId"].clone()), (json!(true), json!(id)));

    // Warm cache: the container goes, the derived image stays; the next `up` builds nothing.
    let (code, _, stderr) = ws.devgpu(&["down", "--remove"]);
    assert_eq!(code, 0, "{stderr}");
    let (code, warm, stderr) = ws.devgpu(&["up"]);
    assert_eq!(code, 0, "{warm:#}\n{stderr}");
    assert_eq!((warm["data"]["reused"].clone(), warm["data"]["built"].clone()), (json!(false), json!(false)), "{warm:#}");
    let warm_id = warm["data"]["containerId"].as_str().unwrap();
    assert_eq!(docker_exec(warm_id, None, "cat /tmp/hooks.log"), "feature\nconfig", "the hooks ran once on the new container");

    // Editing the local Feature makes the container and the image stale.
    write_greeter(&ws, "echo edited > /opt/greeter/edited");
    let (code, edited, stderr) = ws.devgpu(&["up"]);
    assert_eq!(code, 0, "{edited:#}\n{stderr}");
    assert_eq!((edited["data"]["recreated"].clone(), edited["data"]["built"].clone()), (json!(true), json!(true)), "{edited:#}");
    assert_eq!(docker_exec(edited["data"]["containerId"].as_str().unwrap(), None, "cat /opt/greeter/edited"), "edited");
}

#[test]
fn features_out_of_reach_are_handed_over_before_anything_is_built() {
    if !standin_images_available() {
        return;
    }
    let ws = Workspace::new(&format!(r#"{{ "image": "{STANDIN_IMAGE}", "features": {{ "https://example.invalid/releases/tool.tgz": {{}} }} }}"#));
    let (code, env, _) = ws.devgpu(&["up"]);
    assert_eq!(code, 1, "{env:#}");
    assert_eq!(env["error"]["code"], "feature-out-of-reach", "{env:#}");
    assert!(env["error"]["message"].as_str().unwrap().contains("https://example.invalid/releases/tool.tgz"));
    assert!(env["error"]["hints"][0].as_str().unwrap().contains("devcontainer up --workspace-folder"), "{env:#}");
    assert!(ws.containers().is_empty(), "no container");

    // A local Feature outside .devcontainer/ (through a symlink) is refused; nothing outside is read.
    let ws = Workspace::new(&format!(r#"{{ "image": "{STANDIN_IMAGE}", "features": {{ "./outside": {{}} }} }}"#));
    let elsewhere = tempfile::tempdir().unwrap();
    std::fs::write(elsewhere.path().join("devcontainer-feature.json"), r#"{"id": "outside"}"#).unwrap();
    std::fs::write(elsewhere.path().join("install.sh"), "true").unwrap();
    std::os::unix::fs::symlink(elsewhere.path(), ws.root.join(".devcontainer/outside")).unwrap();
    let (code, env, _) = ws.devgpu(&["up"]);
    assert_eq!(code, 1, "{env:#}");
    assert!(env["error"]["message"].as_str().unwrap().contains("must be a folder under"), "{env:#}");
    assert!(ws.containers().is_empty());

    // A broken devcontainer-feature.json: the file and line.
    let ws = Workspace::new(&format!(r#"{{ "image": "{STANDIN_IMAGE}", "features": {{ "./bad": {{}} }} }}"#));
    ws.write(".devcontainer/bad/devcontainer-feature.json", "{\n  \"id\": \"bad\",\n  \"options\": {,}\n}");
    ws.write(".devcontainer/bad/install.sh", "true");
    let (code, env, _) = ws.devgpu(&["up"]);
    assert_eq!(code, 1, "{env:#}");
    let message = env["error"]["message"].as_str().unwrap();
    assert!(message.contains(".devcontainer/bad/devcontainer-feature.json:3"), "{message}");

    // An install.sh that fails: the build error with the wrapper's message, no container, no derived image.
    let config = format!(r#"{{ "image": "{STANDIN_IMAGE}", "features": {{ "./broken": {{}} }} }}"#);
    let ws = Workspace::new(&config);
    own_base(&ws, &config);
    ws.write(".devcontainer/broken/devcontainer-feature.json", r#"{ "id": "broken", "name": "Broken", "version": "0.1.0" }"#);
    ws.write(".devcontainer/broken/install.sh", "#!/bin/sh
echo cannot install >&2
exit 3
");
    let (code, env, _) = ws.devgpu(&["up"]);
    assert_eq!(code, 1, "{env:#}");
    assert_eq!(env["error"]["code"], "build-failed", "{env:#}");
    let message = env["error"]["message"].as_str().unwrap();
    assert!(message.contains("cannot install") && message.contains("ERROR: Feature \"Broken\" (Unknown) failed to install!"), "{message}");
    assert!(ws.containers().is_empty());
    let tagged = Command::new("docker").args(["images", "-q", "--filter", &format!("reference=*{}*-features", ws.root.file_name().unwrap().to_string_lossy())]).output().unwrap();
    assert!(String::from_utf8_lossy(&tagged.stdout).trim().is_empty(), "no derived image is tagged");
}

#[test]
fn oci_features_from_a_loopback_registry_install_in_the_specs_order() {
    if !standin_images_available() || !registry_available() {
        return;
    }
    let registry = Registry::start();
    let host = registry.host();
    let r = |id: &str| format!("{host}/devgpu-test/features/{id}:1");
    // app dependsOn base (not named in the config: fetched for it); alpha installsAfter zz-early (by name alpha
    // would go first in its round).
    publish(&registry, "base", json!({}));
    let early_v1 = publish(&registry, "zz-early", json!({}));
    publish(&registry, "alpha", json!({"installsAfter": [format!("{host}/devgpu-test/features/zz-early")]}));
    publish(&registry, "app", json!({"dependsOn": {r("base"): {}}, "containerEnv": {"APP_READY": "yes"}}));
    let config = json!({
        "image": STANDIN_IMAGE,
        "runArgs": ["--network", "none"],
        "features": {r("app"): {"flavor": "spicy"}, r("alpha"): {}, r("zz-early"): {}},
    });
    let ws = Workspace::new(&config.to_string());
    own_base(&ws, &config.to_string());
    let (code, env, stderr) = ws.devgpu(&["up"]);
    assert_eq!(code, 0, "{env:#}\n{stderr}\nfront: {}", registry.front_log());
    let id = env["data"]["containerId"].as_str().unwrap().to_string();
    // Round 1: base, zz-early (no dependencies, sorted); round 2: alpha, app.
    assert_eq!(docker_exec(&id, None, "cat /opt/order.log"), "base:plain\nzz-early:plain\nalpha:plain\napp:spicy");
    assert_eq!(docker_exec(&id, None, "echo $APP_READY"), "yes");
    let ids: Vec<Value> = metadata_label(&id).as_array().unwrap().iter().map(|e| e["id"].clone()).collect();
    assert_eq!(ids, [json!(r("base")), json!(r("zz-early")), json!(r("alpha")), json!(r("app"))], "metadata entries in install order");
    // Through the token challenge, as a client meets ghcr.io.
    let front = registry.front_log();
    assert!(front.contains("/v2/devgpu-test/features/app/manifests/1 HTTP/1.1\" 401") && front.contains("GET /token?"), "{front}");

    // The tag moves to a 2.0.0, but the lockfile the official CLI writes pins 1.0.0's digest: that is installed.
    publish(&registry, "zz-early", json!({"version": "2.0.0"}));
    let lock = json!({"features": {r("zz-early"): {"version": "1.0.0", "resolved": format!("{host}/devgpu-test/features/zz-early@{early_v1}"), "integrity": early_v1}}});
    ws.write(".devcontainer/devcontainer-lock.json", &lock.to_string());
    let (code, pinned, stderr) = ws.devgpu(&["up", "--rebuild"]);
    assert_eq!(code, 0, "{pinned:#}\n{stderr}");
    let pinned_id = pinned["data"]["containerId"].as_str().unwrap();
    assert_eq!(docker_exec(pinned_id, None, "cat /opt/order.log"), "base:plain\nzz-early:plain\nalpha:plain\napp:spicy", "the pinned digest, not the moved tag");
    assert!(registry.front_log().contains(&format!("/v2/devgpu-test/features/zz-early/manifests/{early_v1}")));

    // Warm cache without the registry: the derived image is found by its key, nothing is fetched or built.
    let (code, _, _) = ws.devgpu(&["down", "--remove"]);
    assert_eq!(code, 0);
    drop(registry);
    let (code, warm, stderr) = ws.devgpu(&["up"]);
    assert_eq!(code, 0, "{warm:#}\n{stderr}");
    assert_eq!((warm["data"]["reused"].clone(), warm["data"]["built"].clone()), (json!(false), json!(false)), "{warm:#}");

    // --rebuild with the registry gone: one clear error naming the Feature and the registry, no container left.
    let (code, failed, _) = ws.devgpu(&["up", "--rebuild"]);
    assert_eq!(code, 1, "{failed:#}");
    assert_eq!(failed["error"]["code"], "feature-unreachable", "{failed:#}");
    assert!(failed["error"]["message"].as_str().unwrap().contains(&host), "{failed:#}");
}



/// The official CLI and devgpu agree on a container with a local Feature (options, containerEnv, a capability, a
/// security option, init, an entrypoint, a tmpfs mount, a hook), and each reuses the other's.
#[test]
fn the_official_cli_and_devgpu_agree_on_a_local_feature() {
    if !standin_images_available() {
        return;
    }
    let config = format!(
        r#"{{ "image": "{STANDIN_IMAGE}", "runArgs": ["--network", "none"], "containerEnv": {{"FROM_JSON": "features"}},
             "features": {{ "./greeter": {{ "greeting": "hola" }} }},
             "postCreateCommand": "echo config >> /tmp/hooks.log; echo created >> /tmp/created.log" }}"#
    );
    let make = || {
        let ws = Workspace::new(&config);
        write_greeter(&ws, "");
        ws
    };
    let (_ws, view, env) = parity_probe(&make, &[], &[], "cat /opt/greeter/out; echo $GREETER_HOME; cat /tmp/hooks.log");
    let id = env["data"]["containerId"].as_str().unwrap();
    assert_eq!(docker_exec(id, None, "cat /opt/greeter/out; echo $GREETER_HOME; cat /tmp/hooks.log"), "hola 1 root /root root\n/opt/greeter\nfeature\nconfig");
    assert_eq!(view["image"].as_str().map(|i| i.ends_with("-features:latest")), Some(true), "{view:#}");
    assert!(view["capAdd"].to_string().contains("SYS_PTRACE") && view["tmpfs"].to_string().contains("/greeter-cache") && view["init"] == true, "{view:#}");
    assert!(view["env"].to_string().contains("FROM_JSON=features") && view["cmd"].to_string().contains("greeter-init.sh"), "{view:#}");
    // The CLI's feature-content image for the classic builder (a fixed name it leaves behind).
    let _ = Command::new("docker").args(["rmi", "dev_container_feature_content_temp"]).output();
}

#[test]
fn a_build_config_with_a_non_root_user_gets_its_users_and_homes() {
    if !standin_images_available() {
        return;
    }
    let unique = common::docker::unique_suffix();
    let ws = Workspace::new(r#"{ "build": { "dockerfile": "Dockerfile" }, "remoteUser": "dev", "runArgs": ["--network", "none"], "features": { "./who": {} } }"#);
    ws.write(".devcontainer/Dockerfile", &format!("FROM {STANDIN_IMAGE}\nLABEL devgpu-test.case=\"{unique}\"\nRUN useradd -m -u 1000 dev\nUSER dev\n"));
    ws.write(".devcontainer/who/devcontainer-feature.json", r#"{ "id": "who", "version": "0.1.0" }"#);
    ws.write(".devcontainer/who/install.sh", "#!/bin/sh\necho \"$(id -u) $_REMOTE_USER $_REMOTE_USER_HOME $_CONTAINER_USER $_CONTAINER_USER_HOME\" > /opt/who\n");
    let (code, env, stderr) = ws.devgpu(&["up"]);
    assert_eq!(code, 0, "{env:#}\n{stderr}");
    let id = env["data"]["containerId"].as_str().unwrap();
    assert_eq!(env["data"]["remoteUser"], "dev");
    // Installed as root, for the users of the config and the image (the CLI's findContainerUsers).
    assert_eq!(docker_exec(id, None, "cat /opt/who"), "0 dev /home/dev dev /home/dev");
    // The image's own user is restored after the install.
    assert_eq!(docker_exec(id, None, "id -un"), "dev");
    assert_eq!(inspect(env["data"]["image"].as_str().unwrap(), "{{.Config.User}}"), "dev");
}

/// The official CLI and devgpu agree on a container with OCI Features from the loopback registry, served over TLS
/// with a test CA (the CLI speaks only https:// to registries; NODE_EXTRA_CA_CERTS for the CLI, SSL_CERT_FILE for
/// devgpu): a Feature that depends on another, with an option, containerEnv, a capability and a hook.
#[test]
fn the_official_cli_and_devgpu_agree_on_oci_features_over_tls() {
    if !standin_images_available() || !registry_available() {
        return;
    }
    let Some(features) = TlsFeatures::publish() else { return };
    let r = |id: &str| features.reference(id);
    let (ours, theirs) = features.trust();
    let config = json!({"image": STANDIN_IMAGE, "runArgs": ["--network", "none"], "features": {r("app"): {"flavor": "spicy"}},
                        "postCreateCommand": "echo config >> /tmp/hooks.log; echo created >> /tmp/created.log"})
    .to_string();
    let probe = "cat /opt/order.log; echo $APP_READY; cat /tmp/hooks.log";
    let (_ws, view, env) = parity_probe(&|| Workspace::new(&config), &ours, &theirs, probe);
    assert_eq!(docker_exec(env["data"]["containerId"].as_str().unwrap(), None, probe), "base:plain\napp:spicy\nyes\napp\nconfig");
    assert!(view["capAdd"].to_string().contains("SYS_PTRACE"), "{view:#}");
    assert!(view["labels"]["labels.devcontainer.metadata"].as_str().unwrap().contains(&r("base")), "{view:#}");
    let _ = Command::new("docker").args(["rmi", "dev_container_feature_content_temp"]).output();
}
