//! `devgpu up` / `verify` / `down` for a Docker Compose config: the Compose CLI builds and starts the project with
//! devgpu's override file laid over the user's compose files (see [`crate::plan::compose`]), then the lifecycle
//! commands run in the dev service's container as for any other config. Reusing a running container, stopping and
//! removing go through the Docker API, found by Compose's own labels, so they need no Compose CLI.

use std::path::{Path, PathBuf};

use crate::docker::compose::{ComposeCli, ComposeOutput};
use crate::docker::devcontainer::container::{self, Found};
use crate::docker::devcontainer::UpError;
use crate::docker::Docker;
use crate::plan::compose::{
    compose_files, declared_name, default_image_name, override_file, parse_compose_config, project_name, up_services, version_before, version_line, OverrideInput,
    ProjectNameInputs, LABEL_PROJECT, LABEL_SERVICE, OVERRIDE_PREFIX,
};
use crate::plan::up::{ImageFacts, UpPlan};
use crate::report::progress::Progress;

use super::up::{run_lifecycle, CreatedGuard, UpOptions, UpOutcome};

/// Reads the compose files devcontainer.json names (all must exist: Compose would refuse them later anyway).
pub fn read_compose_files(config_file: &str, c: &crate::config::model::ComposeConfig) -> Result<Vec<(PathBuf, String)>, crate::error::CliError> {
    compose_files(config_file, c)
        .into_iter()
        .map(|f| match std::fs::read_to_string(&f) {
            Ok(t) => Ok((f, t)),
            Err(e) => Err(crate::error::CliError::user(
                crate::error::ErrorCode::ComposeFileMissing,
                format!("cannot read the compose file {} named by `dockerComposeFile` in {config_file}: {e}", f.display()),
                vec!["fix `dockerComposeFile` (it is relative to the folder holding devcontainer.json)".into()],
            )),
        })
        .collect()
}

/// The dev service's containers among the workspace's (a compose project may hold others with the same labels:
/// the CLI puts them on the dev service only, but be exact).
pub fn service_containers(plan: &UpPlan, found: Vec<Found>) -> Vec<Found> {
    let service = plan.compose().map(|c| c.service.as_str());
    found.into_iter().filter(|f| f.label(LABEL_SERVICE) == service).collect()
}

fn failed(cli: &ComposeCli, what: &str, out: &ComposeOutput) -> UpError {
    let tail = out.tail(15);
    let message = out.key_line();
    UpError::ComposeFailed { command: format!("{} {what}", cli.name()), diagnosis: crate::checks::diagnose(&out.stderr), message, tail }
}

fn run_error(cli: &ComposeCli, what: &str, message: String) -> UpError {
    UpError::ComposeFailed { command: format!("{} {what}", cli.name()), message, tail: vec![], diagnosis: None }
}

/// Where devgpu keeps its override files: `$XDG_CACHE_HOME/devgpu/compose/<project>/` (they must outlive the run:
/// Compose and the Dev Containers CLI read them again when they restart the project).
fn override_path(project: &str) -> PathBuf {
    let cache = crate::facts::FactsSettings::from_env(false, &|k| std::env::var(k).ok()).cache_dir.unwrap_or_else(|| std::env::temp_dir().join("devgpu"));
    cache.join("compose").join(project).join(format!("{OVERRIDE_PREFIX}-devgpu.yml"))
}

/// The project name for this workspace, as the Dev Containers CLI derives it.
fn project_for(plan: &UpPlan, cli: &ComposeCli, files: &[(PathBuf, String)]) -> String {
    let env = std::env::var("COMPOSE_PROJECT_NAME").ok();
    let dotenv = std::fs::read_to_string(Path::new(&plan.config.local_folder).join(".env")).ok();
    let declared = if cli.is_v1() { None } else { files.iter().rev().find_map(|(_, t)| declared_name(t)) };
    project_name(&ProjectNameInputs {
        env: env.as_deref(),
        dotenv: dotenv.as_deref(),
        declared: declared.as_deref(),
        local_folder: &plan.config.local_folder,
        first_file: &files[0].0,
    })
}

/// Builds (when the services build), writes the override and runs `compose up -d`; then the lifecycle commands.
/// `existing` are the dev service's containers found before (replaced by Compose when their configuration changed).
pub async fn create(
    docker: &Docker,
    plan: &UpPlan,
    opts: UpOptions,
    progress: &Progress,
    guard: &CreatedGuard,
    mut warnings: Vec<String>,
    existing: &[Found],
) -> Result<UpOutcome, UpError> {
    let c = plan.compose().expect("a compose plan");
    let files = read_compose_files(&plan.config.config_file, c)
        .map_err(|e| UpError::Context { path: plan.config.config_file.clone(), message: e.to_string() })?;
    let paths: Vec<PathBuf> = files.iter().map(|(p, _)| p.clone()).collect();
    progress.step("compose", "looking for Docker Compose");
    let cli = ComposeCli::detect(&docker.endpoint).await.ok_or(UpError::ComposeMissing)?;
    let project = project_for(plan, &cli, &files);

    progress.step("compose", &format!("reading the compose configuration (project {project})"));
    let out = cli.run(&project, &paths, &["config"]).await.map_err(|m| run_error(&cli, "config", m))?;
    if !out.ok {
        return Err(failed(&cli, "config", &out));
    }
    let facts = parse_compose_config(&out.stdout).map_err(|m| run_error(&cli, "config", m))?;
    let names: Vec<&String> = facts.services.keys().collect();
    for s in std::iter::once(&c.service).chain(&c.run_services) {
        if !facts.services.contains_key(s) {
            return Err(run_error(
                &cli,
                "config",
                format!("the service `{s}` named in {} is not in the compose files (they define: {})", plan.config.config_file, names.iter().map(|n| n.as_str()).collect::<Vec<_>>().join(", ")),
            ));
        }
    }
    let svc = &facts.services[&c.service];
    let targets = up_services(c);
    let target_refs: Vec<&str> = targets.iter().map(String::as_str).collect();

    // The images: built by Compose where a service builds (its own cache decides what reruns).
    let builds = facts.services.iter().any(|(n, s)| s.build && (targets.is_empty() || targets.contains(n)));
    let mut built = false;
    if builds {
        progress.step("build", &format!("building the compose services with {}", cli.name()));
        let mut args = vec!["build"];
        if opts.no_cache {
            args.push("--no-cache");
        }
        args.extend(&target_refs);
        let out = cli.run(&project, &paths, &args).await.map_err(|m| run_error(&cli, "build", m))?;
        if !out.ok {
            let tail = out.tail(15);
            return Err(UpError::BuildFailed { step: None, message: out.key_line(), tail });
        }
        built = true;
    }
    let image_name = svc.image.clone().unwrap_or_else(|| default_image_name(&project, &c.service, version_before(&cli.version, 2, 8)));
    let image = match container::image_facts(docker, &image_name).await? {
        Some((f, _)) => f,
        None => {
            progress.step("pull", &format!("pulling {image_name}"));
            let out = cli.run(&project, &paths, &["pull", &c.service]).await.map_err(|m| run_error(&cli, "pull", m))?;
            match container::image_facts(docker, &image_name).await? {
                Some((f, _)) => f,
                None => {
                    let message = out.tail(3).join(" ");
                    return Err(UpError::ImageUnavailable { image: image_name, diagnosis: crate::checks::diagnose(&message), message });
                }
            }
        }
    };

    // On top of the service's image, as for a single container (and as the CLI extends the service's image in its
    // override files): the Features in an image of their own, then updateRemoteUserUID's uid image, which gives the
    // remote user this user's uid. The override points the service at the last one. The service's `user:` counts
    // as a runArgs `--user` does there.
    let mut service_plan = UpPlan { image: image_name.clone(), ..plan.clone() };
    service_plan.run_args.user = svc.user.clone();
    let mut old_images = Vec::new();
    let (service_plan, image) = if plan.features.is_empty() {
        (service_plan, image)
    } else {
        let (p, facts, features_built, old) = super::up::install_features(docker, &service_plan, image, opts, progress).await?;
        built |= features_built;
        old_images.extend(old);
        warnings.extend(crate::plan::features::privileged_warnings(&facts.metadata));
        (p, facts)
    };
    // The service's `user:` comes before the image's USER, as in the container Compose creates.
    let remote_user = plan.remote_user(&ImageFacts { user: svc.user.clone().or_else(|| image.user.clone()), ..image.clone() });
    let (uid_plan, _, uid) = super::up_uid::apply(docker, &service_plan, image.clone(), opts.rebuild, progress, &mut old_images).await?;
    // The mapped plan carries the uid label for the container.
    let override_plan = uid_plan.as_ref().unwrap_or(&service_plan);
    let run_image = (override_plan.image != image_name).then(|| override_plan.image.clone());

    let override_file_path = override_path(&project);
    let mut compose_paths = paths.clone();
    compose_paths.push(override_file_path.clone());
    let version = version_line(&files[0].1);
    let write = |with_gpu: bool| -> Result<(), UpError> {
        let input = OverrideInput { service: svc, image: &image, version_line: version.as_deref(), with_gpu, remote_user: &remote_user, run_image: run_image.as_deref() };
        let text = override_file(override_plan, &input);
        crate::fsx::write_atomic(&override_file_path, text.as_bytes()).map_err(|e| UpError::ComposeOverrideUnwritable { path: override_file_path.display().to_string(), message: e.to_string() })
    };
    let mut up_args = vec!["up", "-d"];
    if opts.rebuild {
        up_args.push("--force-recreate");
    }
    up_args.extend(&target_refs);

    let labels = vec![(LABEL_PROJECT.to_string(), project.clone()), (LABEL_SERVICE.to_string(), c.service.clone())];
    let mut gpu_granted = plan.gpu.request.is_some() || svc.has_gpu;
    if gpu_granted && docker.is_podman() {
        // Compose creates the service through Podman's Docker-compatible API, which drops device requests: the
        // reservation is accepted and the container starts without a GPU. Said, not hidden.
        warnings.push(
            "on Podman the service starts without a GPU: Compose's GPU reservation goes through Podman's Docker-compatible API, which drops device requests (podman-container-tools/podman#22645); give the service the GPU as device nodes and driver files: `devgpu init --gpu-mode inject`".into(),
        );
        gpu_granted = false;
    }
    write(true)?;
    progress.step("start", &format!("starting the compose project {project}"));
    let mut out = cli.run(&project, &compose_paths, &up_args).await.map_err(|m| run_error(&cli, "up", m))?;
    if !out.ok && plan.gpu.optional && !svc.has_gpu && is_gpu_failure(&out.stderr) {
        warnings.push(format!(
            "started without a GPU: Docker on this host cannot provide one ({}), and hostRequirements.gpu is \"optional\"; `devgpu doctor` says why",
            out.key_line()
        ));
        remove_stopped(docker, &labels).await?;
        write(false)?;
        gpu_granted = false;
        out = cli.run(&project, &compose_paths, &up_args).await.map_err(|m| run_error(&cli, "up", m))?;
    }
    if !out.ok {
        remove_stopped(docker, &labels).await?;
        if plan.gpu.request.is_some() && is_gpu_failure(&out.stderr) {
            let message = out.key_line();
            return Err(UpError::GpuUnavailable {
                request: plan.gpu.request.as_ref().map(|g| g.describe()).unwrap_or_default(),
                diagnosis: crate::checks::diagnose(&out.stderr),
                message,
            });
        }
        return Err(failed(&cli, "up", &out));
    }

    let found = container::find(docker, &labels).await?.into_iter().next().ok_or_else(|| UpError::StartFailed {
        message: format!("`{} up` finished, but no container of the service `{}` exists in the project {project}", cli.name(), c.service),
        diagnosis: None,
    })?;
    if !found.running() {
        return Err(UpError::StartFailed {
            message: format!("the container {} of the service `{}` exited right after it started (does the service's entrypoint or command end? `docker logs {}` shows why)", found.name, c.service, found.name),
            diagnosis: None,
        });
    }
    let created = !existing.iter().any(|e| e.id == found.id);
    if created {
        guard.set(Some(&found.id));
    }
    // The service image's metadata hooks run before the config's, as for a single container.
    let hooks = plan.hooks_with_commands(&image.metadata);
    if let Err(mut e) = run_lifecycle(docker, plan, &image.metadata, &found.id, &remote_user, &hooks, progress).await {
        if let Some(id) = guard.take() {
            container::remove(docker, &id).await;
            if let UpError::Lifecycle { removed, .. } = &mut e {
                *removed = true;
            }
        }
        return Err(e);
    }
    guard.set(None);
    // Replaced Features and uid images, once nothing uses them; newest first (a uid image before its parent).
    for old in old_images.iter().rev() {
        container::remove_image_if_unused(docker, old).await;
    }
    Ok(UpOutcome {
        container_id: found.id.clone(),
        container_name: found.name.clone(),
        image: run_image.unwrap_or(image_name),
        reused: false,
        created,
        started: true,
        recreated: created && !existing.is_empty(),
        built,
        gpu_requested: plan.gpu.request.as_ref().map(|g| g.describe()).or_else(|| svc.has_gpu.then(|| "compose file".to_string())),
        gpu_optional: plan.gpu.optional,
        gpu_granted,
        gpu_injected: None,
        workspace_folder: plan.config.workspace_folder.clone(),
        remote_user,
        warnings,
        uid: Some(uid),
    })
}

/// After a failed `compose up`: Compose leaves the new container `Created` (and a replaced one renamed); never
/// leave them behind.
async fn remove_stopped(docker: &Docker, labels: &[(String, String)]) -> Result<(), UpError> {
    for f in container::find(docker, labels).await?.iter().filter(|f| !f.running()) {
        container::remove(docker, &f.id).await;
    }
    Ok(())
}

/// The daemon's answer when it cannot give the GPU a service reserves.
fn is_gpu_failure(stderr: &str) -> bool {
    let l = stderr.to_lowercase();
    l.contains("could not select device driver") || l.contains("nvidia-container-cli") || l.contains("unknown or invalid runtime name: nvidia")
}

/// Starts the other stopped containers of the dev container's compose project (after `down` stopped them all);
/// the dev container itself is started by the caller, which runs its postStartCommand.
pub async fn start_project(docker: &Docker, dev: &Found, progress: &Progress) {
    let Some(project) = dev.label(LABEL_PROJECT) else { return };
    let Ok(all) = project_containers(docker, project).await else { return };
    for f in all.iter().filter(|f| f.id != dev.id && !f.running()) {
        progress.step("start", &format!("starting {}", f.name));
        let _ = container::start(docker, &f.id).await;
    }
}

/// All containers of a compose project (the dev service's and the others `up` started).
pub async fn project_containers(docker: &Docker, project: &str) -> Result<Vec<Found>, UpError> {
    container::find(docker, &[(LABEL_PROJECT.to_string(), project.to_string())]).await
}

/// Removes a compose project's containers and its default network (what `compose down` removes), through the API.
pub async fn remove_project(docker: &Docker, project: &str) -> Result<Vec<Found>, UpError> {
    let found = project_containers(docker, project).await?;
    for c in &found {
        container::remove(docker, &c.id).await;
    }
    let _ = docker.client.remove_network(&format!("{project}_default")).await;
    Ok(found)
}
