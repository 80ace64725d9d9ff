//! `devgpu up`: read devcontainer.json → plan the container (pure) → find the workspace's container; reuse it
//! when its configuration hash matches, else (re)build the image when its inputs changed and (re)create the
//! container → run the lifecycle commands → report.
//!
//! Ctrl-C at any point removes a container this run created and leaves no tagged half-built image (the build
//! request is dropped, so the daemon cancels the build before tagging).

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use anyhow::Result;

use crate::cli::UpArgs;
use crate::docker::devcontainer::build::build_image;
use crate::docker::devcontainer::container::{self, Found};
use crate::docker::devcontainer::context::BuildContext;
use crate::docker::devcontainer::exec::{exec, tail_lines, ExecSpec};
use crate::docker::devcontainer::features::{self, BuildInputs, LABEL_FEATURES_KEY};
use crate::docker::devcontainer::workspace;
use crate::docker::devcontainer::UpError;
use crate::docker::Docker;
use crate::error::{CliError, ErrorCode};
use crate::plan::features as featplan;
use crate::plan::up::{self as upplan, build_hash, lifecycle_argvs, marker_script, ConfigInput, ImageFacts, UpPlan, LABEL_CONFIG_HASH, LABEL_GPU, LABEL_METADATA, LABEL_REMOTE_USER};
use crate::report::progress::Progress;
use crate::report::{Render, UpReport};
use crate::settings::Settings;

/// Where a workspace's devcontainer.json is.
#[derive(Debug, Clone)]
pub struct Located {
    pub workspace: PathBuf,
    pub config_file: PathBuf,
}

/// The workspace folder as an absolute, lexically normalised path (symlinks kept, as the Dev Containers CLI
/// writes `devcontainer.local_folder`), and its devcontainer.json: `--config`, else
/// `.devcontainer/devcontainer.json`, else `.devcontainer.json`.
pub fn locate(path: &Path, config: Option<&Path>) -> Result<Located, CliError> {
    let abs = |p: &Path| std::path::absolute(p).map(|p| upplan::normalize(&p));
    let workspace = abs(path).map_err(|e| CliError::user(ErrorCode::WorkspaceMissing, format!("{}: {e}", path.display()), vec![]))?;
    if !workspace.is_dir() {
        return Err(CliError::user(ErrorCode::WorkspaceMissing, format!("{} is not a directory", workspace.display()), vec!["pass the repository folder: `devgpu up PATH`".into()]));
    }
    let config_file = match config {
        Some(c) => abs(c).map_err(|e| CliError::user(ErrorCode::DevcontainerMissing, format!("{}: {e}", c.display()), vec![]))?,
        None => {
            match crate::config::find_devcontainer(|rel| workspace.join(rel).is_file()) {
                Some(rel) => workspace.join(rel),
                None => return Err(CliError::user(
                    ErrorCode::DevcontainerMissing,
                    format!("no devcontainer.json in {} (looked for .devcontainer/devcontainer.json and .devcontainer.json)", workspace.display()),
                    vec![format!("write one with `devgpu init {}`", path.display()), "or name it: `--config PATH`".into()],
                )),
            }
        }
    };
    if !config_file.is_file() {
        return Err(CliError::user(ErrorCode::DevcontainerMissing, format!("{} does not exist", config_file.display()), vec![]));
    }
    Ok(Located { workspace, config_file })
}

/// Reads devcontainer.json (and the Dockerfile of a build config) and plans the container.
pub fn prepare(path: &Path, config: Option<&Path>) -> Result<UpPlan, CliError> {
    let loc = locate(path, config)?;
    let text = std::fs::read_to_string(&loc.config_file)
        .map_err(|e| CliError::user(ErrorCode::DevcontainerUnreadable, format!("cannot read {}: {e}", loc.config_file.display()), vec![]))?;
    let input = ConfigInput { local_folder: &loc.workspace, config_file: &loc.config_file, config_text: &text, local_env: std::env::vars().collect() };
    let resolved = upplan::resolve_config(&input).map_err(CliError::from)?;
    let dockerfile = match resolved.build_paths() {
        Some((dockerfile, _)) => Some(std::fs::read_to_string(&dockerfile).map_err(|e| {
            CliError::user(
                ErrorCode::DockerfileMissing,
                format!("cannot read the Dockerfile {} named by {}: {e}", dockerfile.display(), loc.config_file.display()),
                vec!["fix `build.dockerfile` (it is relative to the folder holding devcontainer.json)".into()],
            )
        })?),
        None => None,
    };
    let mut plan = upplan::plan_up(resolved, dockerfile.as_deref()).map_err(CliError::from)?;
    let env_files = read_env_files(&plan)?;
    plan.add_env_files(&env_files).map_err(CliError::from)?;
    if !plan.features.is_empty() {
        plan.add_features_fingerprint(&features::local_fingerprint(&plan));
    }
    if let Some(c) = plan.compose() {
        // An edit of a compose file makes the container stale too.
        let texts: Vec<String> = super::compose::read_compose_files(&plan.config.config_file, c)?.into_iter().map(|(_, t)| t).collect();
        plan.config_hash = crate::plan::compose::compose_hash(&plan.config_hash, &texts);
    }
    Ok(plan)
}

/// The texts of the runArgs' `--env-file`s. `docker run` would read any file of this machine; a repository is
/// untrusted input, so devgpu reads only files inside the workspace (also after resolving symlinks), named by an
/// absolute path as `${localWorkspaceFolder}/…` gives it (a relative one depends on where `docker` was started).
fn read_env_files(plan: &UpPlan) -> Result<Vec<(String, String)>, CliError> {
    let config_file = &plan.config.config_file;
    let refuse = |path: &str, why: String| {
        CliError::user(
            ErrorCode::RunArgsInvalidValue,
            format!("runArgs in {config_file}: `--env-file {path}`: {why}"),
            vec!["name a file in the workspace as \"--env-file\", \"${localWorkspaceFolder}/FILE\", or set the variables in containerEnv".to_string()],
        )
    };
    let mut out = Vec::new();
    for path in &plan.run_args.env_files {
        if !Path::new(path).is_absolute() {
            return Err(refuse(path, "a relative path depends on the folder `docker` is started in".into()));
        }
        let real = crate::project::inside_root(Path::new(&plan.config.local_folder), path).map_err(|why| refuse(path, why))?;
        let text = std::fs::read_to_string(&real).map_err(|e| refuse(path, e.to_string()))?;
        out.push((path.clone(), text));
    }
    Ok(out)
}

/// `up`'s options.
#[derive(Debug, Clone, Copy, Default)]
pub struct UpOptions {
    /// Rebuild the image (when built from a Dockerfile) and recreate the container.
    pub rebuild: bool,
    pub no_cache: bool,
}

pub use crate::plan::up::UpOutcome;

/// The container this run created and has not finished setting up: removed on Ctrl-C or a failed setup.
#[derive(Clone, Default)]
pub struct CreatedGuard(Rc<RefCell<Option<String>>>);

impl CreatedGuard {
    pub fn set(&self, id: Option<&str>) {
        *self.0.borrow_mut() = id.map(str::to_string);
    }
    pub fn take(&self) -> Option<String> {
        self.0.borrow_mut().take()
    }
}

/// Runs `work`, and on Ctrl-C drops it (ending any request, a build included) and removes the container in
/// `guard`.
pub async fn interruptible<T>(docker: &Docker, guard: &CreatedGuard, work: impl std::future::Future<Output = Result<T, UpError>>) -> Result<T, UpError> {
    tokio::select! {
        r = work => r,
        _ = tokio::signal::ctrl_c() => {
            let cleanup = match guard.take() {
                Some(id) => {
                    container::remove(docker, &id).await;
                    format!("removed the container {} that was being set up", &id[..12.min(id.len())])
                }
                None => "no container was left half set up".to_string(),
            };
            Err(UpError::Interrupted { cleanup })
        }
    }
}

pub fn run(args: &UpArgs, settings: &Settings) -> Result<Box<dyn Render>> {
    let mut plan = prepare(&args.path, args.config.as_deref())?;
    let progress = Progress::new(&settings.output);
    super::host_command::run_initialize(&plan, args.allow_host_commands, &progress).map_err(CliError::from)?;
    let opts = UpOptions { rebuild: args.rebuild || args.no_cache, no_cache: args.no_cache };
    let outcome = crate::block_on(async {
        let docker = crate::docker::connect(settings.docker_host.as_deref()).await.map_err(UpError::from)?;
        workspace::adopt_volume(&docker, &mut plan, args.workspace_volume.as_deref()).await?;
        podman_cdi_check(&docker, &plan)?;
        let guard = CreatedGuard::default();
        interruptible(&docker, &guard, up(&docker, &plan, opts, &progress, &guard)).await
    });
    progress.finish();
    let outcome = outcome.map_err(CliError::from)?;
    Ok(Box::new(UpReport::from(outcome)))
}

/// On Podman, a container that asks for the GPU (CDI devices, or `--gpus`, which devgpu passes as CDI devices) is
/// created through Podman's own API (its Docker-compatible API drops both: see [`crate::plan::podman_spec`]), which
/// devgpu reaches over a unix socket or plain TCP only. Over ssh:// or TLS the container would start without its
/// GPU, silently: refused, with the ways that work.
pub fn podman_cdi_check(docker: &Docker, plan: &UpPlan) -> Result<(), UpError> {
    let requests: Vec<String> = plan.run_args.cdi_devices.iter().cloned().chain(gpu_request(plan)).collect();
    if docker.is_podman() && !requests.is_empty() && !crate::docker::libpod::reachable(&docker.endpoint) {
        return Err(UpError::GpuUnavailable {
            request: requests.join(", "),
            message: format!(
                "on Podman, the GPU (CDI devices, and `--gpus` passed as CDI devices) is given only by Podman's own API, which devgpu reaches over unix:// or plain tcp://, not {}",
                docker.endpoint.url
            ),
            diagnosis: Some(crate::checks::Diagnosed {
                id: "podman-remote-cdi".into(),
                cause: "Podman's Docker-compatible API applies neither CDI devices nor `--gpus`: the container would start without the GPU".into(),
                fix: vec![
                    "run devgpu on the machine Podman runs on (its socket: `--docker-host unix:///run/podman/podman.sock`)".into(),
                    "or pass the GPU as device nodes and driver files: `devgpu init --gpu-mode inject`".into(),
                ],
                sources: vec![
                    "tested: Podman 4.3's /containers/create ignores DeviceRequests (driver `cdi` or `nvidia` alike) and fails `stat nvidia.com/gpu=all` for a CDI name in Devices".into(),
                    "https://github.com/podman-container-tools/podman/issues/22645 (device requests not respected through the API, Podman 4.9)".into(),
                ],
            }),
        });
    }
    Ok(())
}

/// The GPU request as `--gpus` would write it.
fn gpu_request(plan: &UpPlan) -> Option<String> {
    plan.gpu.request.as_ref().map(|g| g.describe())
}

/// The `up` flow on a connected daemon.
pub async fn up(docker: &Docker, plan: &UpPlan, opts: UpOptions, progress: &Progress, guard: &CreatedGuard) -> Result<UpOutcome, UpError> {
    let mut warnings = plan.warnings.clone();
    let mut recreated = false;
    progress.step("find", "looking for the workspace's container");
    let mut existing = container::find(docker, &plan.config.id_labels).await?;
    if plan.compose().is_some() {
        existing = super::compose::service_containers(plan, existing);
    }
    // GPU drift: a container created while another driver was loaded is stale (its driver files are the old ones).
    let kernel = super::drift::kernel_version(plan, docker.endpoint.is_local());
    let drift = existing.iter().find_map(|c| {
        crate::checks::drift::container_driver_stale(c.label(crate::checks::drift::LABEL_DRIVER_VERSION), kernel.as_deref()).map(|why| format!("recreating the container {}: {why}", c.name))
    });
    // updateRemoteUserUID: a container mapped for another user (or not at all) is stale for this one.
    let drift = drift.or_else(|| existing.iter().find_map(|c| super::up_uid::stale(docker, plan, c)));

    if !opts.rebuild && drift.is_none() {
        // Ours with the same configuration: reuse (start it when stopped).
        if let Some(c) = existing.iter().find(|c| c.label(LABEL_CONFIG_HASH) == Some(plan.config_hash.as_str())) {
            if plan.compose().is_some() && !c.running() {
                super::compose::start_project(docker, c, progress).await;
            }
            match reuse(docker, plan, c, progress).await {
                Ok(outcome) => return Ok(outcome),
                Err(Reuse::NotStarted(why)) => {
                    warnings.push(format!("the existing container {} did not start ({why}); creating a new one", c.name));
                }
                Err(Reuse::Failed(e)) => return Err(e),
            }
        } else if let Some(c) = existing.iter().find(|c| c.label(LABEL_CONFIG_HASH).is_none()) {
            // Made by VS Code or the Dev Containers CLI: it is the user's; use it as it is.
            if plan.compose().is_some() && !c.running() {
                super::compose::start_project(docker, c, progress).await;
            }
            let mut outcome = reuse(docker, plan, c, progress).await.map_err(|r| match r {
                Reuse::NotStarted(message) => UpError::StartFailed { diagnosis: crate::checks::diagnose(&message), message },
                Reuse::Failed(e) => e,
            })?;
            outcome.warnings.push(format!(
                "the container {} was created by another tool (VS Code or the Dev Containers CLI) and is used as it is; `devgpu up --rebuild` replaces it with one devgpu manages",
                c.name
            ));
            return Ok(outcome);
        }
    }

    warnings.extend(drift);
    // Compose builds, and replaces the containers whose configuration changed, itself.
    if plan.compose().is_some() {
        return super::compose::create(docker, plan, opts, progress, guard, warnings, &existing).await;
    }

    // A daemon on another machine must have the bound workspace (checked before anything is removed or built).
    warnings.extend(workspace::check_server_folder(docker, plan, progress).await?);

    // Stale (or --rebuild): remove this workspace's containers before creating the new one.
    let mut old_images = Vec::new();
    for c in &existing {
        progress.step("remove", &format!("removing the outdated container {}", c.name));
        container::remove(docker, &c.id).await;
        old_images.push(c.image.clone());
        recreated = true;
    }

    // The image.
    let mut built = false;
    let image_facts = match &plan.build {
        Some(b) => {
            let extra = match &b.dockerfile_in_context {
                Some(_) => None,
                None => Some((
                    upplan::BuildPlan::EXTERNAL_DOCKERFILE.to_string(),
                    std::fs::read(&b.dockerfile).map_err(|e| UpError::Context { path: b.dockerfile.display().to_string(), message: e.to_string() })?,
                )),
            };
            progress.step("context", &format!("reading the build context {}", b.context_dir.display()));
            let ctx = BuildContext::scan(&b.context_dir, b.dockerfile_in_context.as_deref(), extra)?;
            let hash = build_hash(b, &ctx.fingerprint());
            let current = container::image_facts(docker, &b.tag).await?;
            match current {
                Some((facts, labels)) if !opts.rebuild && container::image_is_current(&labels, &hash) => facts,
                previous => {
                    let id = build_image(docker, b, ctx, &hash, &plan.config.local_folder, opts.no_cache, progress).await?;
                    built = true;
                    if let Some((old, _)) = previous.filter(|(old, _)| old.id != id) {
                        old_images.push(old.id);
                    }
                    container::image_facts(docker, &b.tag).await?.map(|(f, _)| f).ok_or_else(|| UpError::BuildFailed {
                        step: None,
                        message: format!("the built image {} is not there", b.tag),
                        tail: vec![],
                    })?
                }
            }
        }
        None => match container::image_facts(docker, &plan.image).await? {
            Some((f, _)) => f,
            None => {
                container::pull(docker, &plan.image, progress).await?;
                container::image_facts(docker, &plan.image).await?.map(|(f, _)| f).ok_or_else(|| UpError::ImageUnavailable {
                    image: plan.image.clone(),
                    message: "the pull finished but the image is not there".into(),
                    diagnosis: None,
                })?
            }
        },
    };

    // The image the config names (pulled or built): never removed below, even when the container now runs an
    // image made on top of it.
    let base_image = (plan.image.clone(), image_facts.id.clone());
    // Features: installed into a derived image (as the CLI's `-features`), which the uid image (below) builds on.
    let derived;
    let (plan, image_facts) = if plan.features.is_empty() {
        (plan, image_facts)
    } else {
        let (p, facts, features_built, old) = install_features(docker, plan, image_facts, opts, progress).await?;
        built |= features_built;
        old_images.extend(old);
        warnings.extend(featplan::privileged_warnings(&facts.metadata));
        derived = p;
        (&derived, facts)
    };
    let features_image = (plan.image.clone(), image_facts.id.clone());
    // updateRemoteUserUID: the remote user takes this user's uid/gid in an image on top (as VS Code does); the
    // container is then created from that image.
    let (uid_plan, image_facts, uid) = super::up_uid::apply(docker, plan, image_facts, opts.rebuild, progress, &mut old_images).await?;
    let plan = uid_plan.as_ref().unwrap_or(plan);
    // The driver it is created with (a label), and the groups of device nodes the remote user needs.
    let nodes = if docker.endpoint.is_local() { super::drift::nodes(plan) } else { Vec::new() };
    let guarded = super::drift::guarded_plan(plan, kernel.as_deref(), &nodes, plan.remote_user(&image_facts) == "root");
    let plan = guarded.as_ref().unwrap_or(plan);

    // The container. On this machine's Docker, the GPU's nodes and files are checked first (inject, CDI).
    if docker.endpoint.is_local() {
        super::host_cdi::gpu_preflight(plan)?;
    }
    let volume_filled = workspace::prepare_volume(docker, plan, &image_facts.id, progress).await?;
    let (id, gpu_granted) = container::create_and_start(docker, plan, &image_facts, progress, &|id| guard.set(id)).await?;
    if plan.gpu.request.is_some() && !gpu_granted {
        warnings.push(format!(
            "started without a GPU: Docker on this host cannot provide one (--gpus {}), and hostRequirements.gpu is \"optional\"; `devgpu doctor` says why",
            gpu_request(plan).unwrap_or_default()
        ));
    }
    let remote_user = plan.remote_user(&image_facts);
    if volume_filled {
        workspace::chown_volume(docker, plan, &id, &remote_user).await?;
    }
    let hooks = plan.hooks_with_commands(&image_facts.metadata);
    if let Err(mut e) = run_lifecycle(docker, plan, &image_facts.metadata, &id, &remote_user, &hooks, progress).await {
        if let Some(id) = guard.take() {
            container::remove(docker, &id).await;
            if let UpError::Lifecycle { removed, .. } = &mut e {
                *removed = true;
            }
        }
        return Err(e);
    }
    guard.set(None);

    // Images this workspace no longer uses (a replaced build): removed when nothing else uses them.
    // Newest first: a replaced uid image goes before the replaced image it was built on (its parent).
    let kept = [&image_facts.id, &plan.image, &base_image.0, &base_image.1, &features_image.0, &features_image.1];
    for old in old_images.iter().rev().filter(|o| !kept.contains(o)) {
        container::remove_image_if_unused(docker, old).await;
    }

    Ok(UpOutcome {
        container_id: id,
        container_name: plan.container_name.clone(),
        image: plan.image.clone(),
        reused: false,
        created: true,
        started: true,
        recreated,
        built,
        gpu_requested: gpu_request(plan),
        gpu_optional: plan.gpu.optional,
        gpu_granted,
        gpu_injected: plan.injected_gpus(),
        workspace_folder: plan.config.workspace_folder.clone(),
        remote_user,
        uid: Some(uid),
        warnings,
    })
}

/// Why an existing container could not be used.
enum Reuse {
    /// It did not start (the caller may recreate it).
    NotStarted(String),
    /// It started, but its postStartCommand failed.
    Failed(UpError),
}

/// Uses an existing container: nothing to do when running; started (and postStartCommand run) when stopped.
async fn reuse(docker: &Docker, plan: &UpPlan, c: &Found, progress: &Progress) -> Result<UpOutcome, Reuse> {
    let mut started = false;
    if !c.running() {
        progress.step("start", &format!("starting the container {}", c.name));
        container::start(docker, &c.id).await.map_err(Reuse::NotStarted)?;
        started = true;
    }
    let image_metadata = plan.image_part_of_label(c.label(LABEL_METADATA));
    // A container of another tool has no devgpu label: its remote user comes from the config, then the image
    // metadata its label carries (a base image's `remoteUser`), as the CLI decides it.
    let remote_user = c.label(LABEL_REMOTE_USER).map(str::to_string).unwrap_or_else(|| plan.remote_user(&ImageFacts { metadata: image_metadata.clone(), ..Default::default() }));
    if started && !plan.hook_commands(&image_metadata, "postStartCommand").is_empty() {
        run_lifecycle(docker, plan, &image_metadata, &c.id, &remote_user, &["postStartCommand"], progress).await.map_err(Reuse::Failed)?;
    }
    let gpu_granted = match c.label(LABEL_GPU) {
        Some(g) => g == "granted",
        None => plan.gpu.request.is_some(),
    };
    Ok(UpOutcome {
        container_id: c.id.clone(),
        container_name: c.name.clone(),
        image: c.image.clone(),
        reused: true,
        created: false,
        started,
        recreated: false,
        built: false,
        // A Compose service's own GPU reservation is in its compose file, not in the plan: the label says it was asked for.
        gpu_requested: gpu_request(plan).or_else(|| matches!(c.label(LABEL_GPU), Some("granted" | "not-granted")).then(|| "compose file".to_string())),
        gpu_optional: plan.gpu.optional,
        gpu_granted,
        gpu_injected: plan.injected_gpus(),
        workspace_folder: c.label(upplan::LABEL_WORKSPACE_FOLDER).unwrap_or(&plan.config.workspace_folder).to_string(),
        remote_user,
        uid: None,
        warnings: plan.warnings.clone(),
    })
}

/// The Features of the plan in a derived image on top of `base`: found by its key when it is there (no fetch,
/// no build), else fetched, ordered and built. Returns the plan with the derived image, its facts, whether it
/// was built, and the replaced image (to remove when unused).
pub(super) async fn install_features(docker: &Docker, plan: &UpPlan, base: ImageFacts, opts: UpOptions, progress: &Progress) -> Result<(UpPlan, ImageFacts, bool, Option<String>), UpError> {
    let mut derived = plan.clone();
    derived.image = plan.features_tag.clone();
    let mut users_metadata = base.metadata.clone();
    users_metadata.extend(plan.config_metadata_entry());
    let users = featplan::feature_users(&users_metadata, base.user.as_deref());
    let key = features::features_key(plan, &base.id, &users, base.user.as_deref(), &features::local_fingerprint(plan));
    let current = container::image_facts(docker, &plan.features_tag).await?;
    if let Some((facts, labels)) = &current {
        if !opts.rebuild && labels.get(LABEL_FEATURES_KEY) == Some(&key) {
            return Ok((derived, facts.clone(), false, None));
        }
    }
    progress.step("features", &format!("resolving the Features of {}", plan.config.config_file));
    // On a thread of its own (blocking HTTP), not the runtime's blocking pool: Ctrl-C drops this future and the
    // process exits at once, where the runtime would wait for a pooled task to finish its fetch.
    let for_resolve = plan.clone();
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let _ = tx.send(features::resolve(&for_resolve));
    });
    let (nodes, order) = rx.await.map_err(|e| UpError::StartFailed { message: format!("resolving the Features: {e}"), diagnosis: None })??;
    let build = featplan::plan_build(&nodes, &order, &plan.image, base.user.as_deref(), &users);
    let mut image_metadata = base.metadata.clone();
    image_metadata.extend(build.metadata.iter().cloned());
    let hash = featplan::build_hash(&build, &base.id);
    let inputs = BuildInputs { build: &build, image_metadata: &image_metadata, key: &key, hash: &hash, no_cache: opts.no_cache };
    let id = features::build(docker, plan, inputs, progress).await?;
    let facts = container::image_facts(docker, &plan.features_tag).await?.map(|(f, _)| f).ok_or_else(|| UpError::BuildFailed {
        step: None,
        message: format!("the built image {} is not there", plan.features_tag),
        tail: vec![],
    })?;
    let old = current.map(|(f, _)| f.id).filter(|old| *old != id);
    Ok((derived, facts, true, old))
}

/// Runs the due lifecycle hooks in order (onCreate, updateContent, postCreate, postStart), as the remote user in
/// the workspace folder, with the Dev Containers CLI's marker files so that neither it nor VS Code runs them again.
/// Each hook runs the commands of the image's metadata (Features, in install order) before the config's own.
pub async fn run_lifecycle(docker: &Docker, plan: &UpPlan, image_metadata: &[serde_json::Value], id: &str, remote_user: &str, hooks: &[&str], progress: &Progress) -> Result<(), UpError> {
    if hooks.is_empty() {
        return Ok(());
    }
    let (created, started, env) = container::times_and_env(docker, id).await?;
    let user = Some(remote_user.to_string());
    let markers = exec(&docker.client, id, &["/bin/sh".into(), "-c".into(), marker_script(hooks, &created, &started)], &ExecSpec { user: user.clone(), ..Default::default() }, None)
        .await
        .map_err(|e| UpError::StartFailed { message: format!("cannot run commands in the container as {remote_user}: {}", crate::docker::devcontainer::api_message(&e)), diagnosis: None })?;
    let due: Vec<&str> = markers.stdout.lines().map(str::trim).collect();

    let container_env: Vec<(String, String)> = env.iter().filter_map(|e| e.split_once('=').map(|(k, v)| (k.to_string(), v.to_string()))).collect();
    let remote_env: Vec<String> = plan
        .config
        .model
        .remote_env
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", crate::config::substitute::substitute_container_env(v, &container_env))))
        .collect();
    let spec = ExecSpec { user, workdir: Some(plan.config.workspace_folder.clone()), env: remote_env };
    for hook in hooks.iter().filter(|h| due.contains(h)) {
        for cmd in plan.hook_commands(image_metadata, hook) {
            progress.step("lifecycle", &format!("running {hook}"));
            let runs = lifecycle_argvs(&cmd).into_iter().map(|(name, argv)| {
                let spec = spec.clone();
                async move {
                    let out = exec(&docker.client, id, &argv, &spec, Some((progress as &dyn crate::model::progress::ProgressSink, hook))).await;
                    (name, out)
                }
            });
            for (name, out) in futures_util::future::join_all(runs).await {
                let out = out.map_err(|e| UpError::StartFailed { message: crate::docker::devcontainer::api_message(&e), diagnosis: None })?;
                if out.code != 0 {
                    return Err(UpError::Lifecycle { hook: hook.to_string(), name, code: out.code, tail: tail_lines(&out, 15), removed: false });
                }
            }
        }
    }
    Ok(())
}
