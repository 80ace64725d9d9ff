//! Compose parity with the official Dev Containers CLI (issue 14's "Done when"): for Compose configs that build
//! offline here — a service built from a Dockerfile on the stand-in image with a non-root `remoteUser`, a service
//! run from an image, with image metadata, local and OCI Features — `devgpu up` and `devcontainer up` make
//! containers that agree as `up_support::parity` compares them (its allowance table lists what differs by design
//! for Compose). Each tool reuses the other's container.

mod common;
mod up_support;

use common::docker::{standin_images_available, STANDIN_IMAGE};
use common::live::registry_available;
use common::tools::compose_available;
use serde_json::json;
use up_support::compose::ComposeWs;
use up_support::features::TlsFeatures;
use up_support::parity::{parity, parity_env};
use up_support::{docker_exec, inspect, CaseImages};

fn ready() -> bool {
    standin_images_available() && compose_available()
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
    let Some(features) = TlsFeatures::publish() else { return };
    let r = |id: &str| features.reference(id);
    let (ours, theirs) = features.trust();
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
    let (_ours, view, env) = parity_env(&make, &ours, &theirs);
    let id = env["data"]["containerId"].as_str().unwrap();
    assert_eq!(docker_exec(id, None, "cat /opt/order.log; echo $APP_READY; cat /tmp/hooks.log"), "base:plain\napp:spicy\nyes\napp\nconfig");
    assert!(view["capAdd"].to_string().contains("SYS_PTRACE"), "{view:#}");
    let _ = std::process::Command::new("docker").args(["rmi", "dev_container_feature_content_temp"]).output();
}
