//! `devgpu verify`: `up` when needed, then one probe run inside the container as the remote user (see
//! [`crate::plan::verify`]) turned into checks; a container started only for verification is removed again
//! (or stopped, when it existed) unless `--keep`. Exit 1 when a check fails.

use anyhow::Result;

use crate::checks::drift::{drift_checks, DriftFacts};
use crate::cli::VerifyArgs;
use crate::docker::devcontainer::container;
use crate::docker::devcontainer::exec::{exec, ExecSpec};
use crate::docker::devcontainer::UpError;
use crate::error::CliError;
use crate::plan::verify::{parse_probe, verify_checks, VerifyFacts, PROBE_SCRIPT};
use crate::report::progress::Progress;
use crate::report::{Render, VerifyReport};
use crate::settings::Settings;

use super::up::{interruptible, prepare, up, CreatedGuard, UpOptions};

/// The drift facts of the verified container (see [`crate::checks::drift`]): host facts only when the daemon is
/// local; the remote user's ids from the probe.
async fn drift_facts(docker: &crate::docker::Docker, plan: &crate::plan::up::UpPlan, id: &str, probe: &std::collections::BTreeMap<String, String>) -> DriftFacts {
    let local = docker.endpoint.is_local();
    let found = container::find(docker, &plan.config.id_labels).await.unwrap_or_default();
    let container_driver = found.iter().find(|c| c.id == id).and_then(|c| c.label(crate::checks::drift::LABEL_DRIVER_VERSION).map(str::to_string));
    DriftFacts {
        kernel: super::drift::kernel_version(plan, local),
        cdi_specs: if local { super::drift::cdi_specs(plan) } else { Vec::new() },
        inject_versions: if local { super::drift::inject_versions(plan) } else { Vec::new() },
        container_driver,
        nodes: if local { super::drift::nodes(plan) } else { Vec::new() },
        user_uid: probe.get("uid").and_then(|u| u.parse().ok()),
        user_groups: probe.get("groups").map(|g| g.split_whitespace().filter_map(|x| x.parse().ok()).collect()).unwrap_or_default(),
    }
}

pub fn run(args: &VerifyArgs, settings: &Settings) -> Result<Box<dyn Render>> {
    let mut plan = prepare(&args.path, args.config.as_deref())?;
    let progress = Progress::new(&settings.output);
    super::host_command::run_initialize(&plan, args.allow_host_commands, &progress).map_err(CliError::from)?;
    let keep = args.keep;
    let result = crate::block_on(async {
        let docker = crate::docker::connect(settings.docker_host.as_deref()).await.map_err(UpError::from)?;
        crate::docker::devcontainer::workspace::adopt_volume(&docker, &mut plan, args.workspace_volume.as_deref()).await?;
        super::up::podman_cdi_check(&docker, &plan)?;
        let guard = CreatedGuard::default();
        interruptible(&docker, &guard, async {
            let outcome = up(&docker, &plan, UpOptions::default(), &progress, &guard).await?;
            // Until it is cleaned up, a container made for this run is removed on Ctrl-C too.
            if outcome.created && !keep {
                guard.set(Some(&outcome.container_id));
            }
            progress.step("verify", "checking the GPU and VS Code's needs inside the container");
            // A GPU asked for with --gpus / hostRequirements (granted or not), or handed in as device nodes / CDI.
            let (gpu_request, gpu_granted) = match (&outcome.gpu_requested, plan.injected_gpus()) {
                (Some(r), _) => (Some(r.clone()), outcome.gpu_granted),
                (None, Some(injected)) => (Some(injected), true),
                (None, None) => (None, false),
            };
            let granted = gpu_request.is_some() && gpu_granted;
            let env = vec![format!("DEVGPU_WS={}", outcome.workspace_folder), format!("DEVGPU_GPU={}", if granted { 1 } else { 0 })];
            let cmd = vec!["/bin/sh".to_string(), "-c".to_string(), PROBE_SCRIPT.to_string()];
            let as_user = ExecSpec { user: Some(outcome.remote_user.clone()), workdir: None, env: env.clone() };
            let mut user_error = None;
            let mut out = match exec(&docker.client, &outcome.container_id, &cmd, &as_user, None).await {
                Ok(o) if o.code == 126 || (o.code != 0 && o.combined.contains("unable to find user")) => {
                    user_error = Some(o.combined.trim().to_string());
                    None
                }
                Ok(o) => Some(o),
                Err(e) => {
                    user_error = Some(crate::docker::devcontainer::api_message(&e));
                    None
                }
            };
            if out.is_none() {
                // The system checks still run, as root.
                let as_root = ExecSpec { user: Some("0".into()), workdir: None, env };
                out = exec(&docker.client, &outcome.container_id, &cmd, &as_root, None).await.ok();
            }
            let probe = out.map(|o| parse_probe(&o.stdout)).unwrap_or_default();
            let host_gpus = if granted && docker.endpoint.is_local() { crate::host::local_gpus().ok().map(|g| g.len()) } else { None };
            let facts = VerifyFacts {
                probe,
                user_error,
                remote_user: outcome.remote_user.clone(),
                workspace_folder: outcome.workspace_folder.clone(),
                host_gpus,
                gpu_request,
                gpu_granted,
                gpu_optional: outcome.gpu_optional,
                shm_size: plan.run_args.shm_size,
                ipc_host: plan.run_args.ipc.as_deref() == Some("host"),
                local_folder: plan.config.local_folder.clone(),
                workspace_owner_uid: if docker.endpoint.is_local() {
                    use std::os::unix::fs::MetadataExt;
                    std::fs::metadata(&plan.config.local_folder).ok().map(|m| m.uid())
                } else {
                    None
                },
            };
            let mut checks = verify_checks(&facts);
            if super::drift::uses_gpu(&plan) {
                checks.extend(drift_checks(&drift_facts(&docker, &plan, &outcome.container_id, &facts.probe).await));
            }
            for c in &checks {
                progress.check(c);
            }
            let mut cleanup = None;
            if !keep {
                if outcome.created {
                    progress.step("cleanup", "removing the container started for verification");
                    match container::find(&docker, &plan.config.id_labels).await?.iter().find(|f| f.id == outcome.container_id).and_then(|f| f.label(crate::plan::compose::LABEL_PROJECT)) {
                        // A compose project started for verification goes as a whole (its other services, its network).
                        Some(project) if plan.compose().is_some() => {
                            super::compose::remove_project(&docker, project).await?;
                        }
                        _ => container::remove(&docker, &outcome.container_id).await,
                    }
                    guard.set(None);
                    cleanup = Some("removed");
                } else if outcome.started {
                    progress.step("cleanup", "stopping the container again");
                    container::stop(&docker, &outcome.container_id, 10).await?;
                    cleanup = Some("stopped");
                }
            }
            Ok(VerifyReport { up: outcome, checks, cleanup })
        })
        .await
    });
    progress.finish();
    let report = result.map_err(CliError::from)?;
    Ok(Box::new(report))
}
