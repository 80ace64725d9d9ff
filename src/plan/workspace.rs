//! PURE: the workspace mount when Docker runs on another machine — `--workspace-volume` (the workspace in a named
//! volume instead of a bind mount of a path that exists only on this machine), and which other bind mounts of the
//! config name paths that are then looked up on the server.

use sha2::{Digest, Sha256};

use super::up::UpPlan;
use crate::config::docker_run_args::MountSpec;

/// The container label that records the workspace volume (so `up` / `verify` without the flag keep using it).
pub const LABEL_WORKSPACE_VOLUME: &str = "devgpu.workspace_volume";

/// Mount the named volume at the workspace folder instead of binding the local folder. The volume's name joins
/// the configuration hash (switching between a bind and a volume recreates the container) and the labels.
pub fn use_workspace_volume(plan: &mut UpPlan, volume: &str) {
    if plan.workspace_volume() == Some(volume) {
        return;
    }
    if plan.config.model.workspace_mount.is_some() {
        plan.warnings.push(format!("--workspace-volume replaces the workspaceMount of {}", plan.config.config_file));
    }
    plan.config.model.workspace_mount =
        Some(MountSpec { kind: "volume".into(), source: Some(volume.to_string()), target: plan.config.workspace_folder.clone(), ..Default::default() });
    plan.run_args.labels.retain(|(k, _)| k != LABEL_WORKSPACE_VOLUME);
    plan.run_args.labels.push((LABEL_WORKSPACE_VOLUME.to_string(), volume.to_string()));
    let mut h = Sha256::new();
    h.update(plan.config_hash.as_bytes());
    h.update(b"\0workspace-volume=");
    h.update(volume.as_bytes());
    plan.config_hash = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
}

impl UpPlan {
    /// The workspace volume `--workspace-volume` put in place, if any.
    pub fn workspace_volume(&self) -> Option<&str> {
        self.run_args.labels.iter().find(|(k, _)| k == LABEL_WORKSPACE_VOLUME).map(|(_, v)| v.as_str())
    }

    /// The path on the Docker host that the workspace mount binds (None for a volume).
    pub fn workspace_bind_source(&self) -> Option<String> {
        match &self.config.model.workspace_mount {
            Some(m) if m.kind == "bind" => m.source.clone(),
            Some(_) => None,
            None => Some(self.config.local_folder.clone()),
        }
    }

    /// Bind mounts besides the workspace (`mounts`, runArgs `--mount` / `-v`): on a remote daemon their sources are
    /// paths on the server.
    pub fn other_bind_sources(&self) -> Vec<String> {
        let binds = self.config.model.mounts.iter().chain(self.run_args.mounts.iter()).filter(|m| m.kind == "bind").filter_map(|m| m.source.clone());
        let volumes = self.run_args.binds.iter().filter_map(|b| b.split(':').next().filter(|s| s.starts_with('/')).map(str::to_string));
        binds.chain(volumes).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::up::{plan_up, resolve_config, ConfigInput, ImageFacts};
    use std::path::Path;

    fn plan(json: &str) -> UpPlan {
        let input = ConfigInput { local_folder: Path::new("/home/u/proj"), config_file: Path::new("/home/u/proj/.devcontainer/devcontainer.json"), config_text: json, local_env: vec![] };
        plan_up(resolve_config(&input).unwrap(), None).unwrap()
    }

    #[test]
    fn a_volume_replaces_the_bind_and_changes_the_hash() {
        let base = plan(r#"{"image": "i", "mounts": ["source=/data,target=/data,type=bind"], "runArgs": ["-v", "/models:/models:ro"]}"#);
        assert_eq!(base.workspace_bind_source().as_deref(), Some("/home/u/proj"));
        assert_eq!(base.other_bind_sources(), ["/data", "/models"]);
        let mut p = base.clone();
        use_workspace_volume(&mut p, "devgpu-ws-proj-1234");
        assert_ne!(p.config_hash, base.config_hash);
        assert_eq!(p.workspace_volume(), Some("devgpu-ws-proj-1234"));
        assert_eq!(p.workspace_bind_source(), None);
        let body = p.container_body(&ImageFacts::default(), false);
        let ws = &body.host_config.as_ref().unwrap().mounts.as_ref().unwrap()[0];
        assert_eq!(ws.typ, Some(bollard::models::MountType::VOLUME));
        assert_eq!(ws.source.as_deref(), Some("devgpu-ws-proj-1234"));
        assert_eq!(ws.target.as_deref(), Some("/workspaces/proj"));
        let labels = body.labels.unwrap();
        assert_eq!(labels[LABEL_WORKSPACE_VOLUME], "devgpu-ws-proj-1234");
        assert_eq!(labels["devcontainer.local_folder"], "/home/u/proj", "VS Code still finds it by the folder");
        // Applying it again changes nothing.
        let hash = p.config_hash.clone();
        use_workspace_volume(&mut p, "devgpu-ws-proj-1234");
        assert_eq!(p.config_hash, hash);
    }
}
