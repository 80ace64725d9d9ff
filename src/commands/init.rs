//! `devgpu init`: scan the repository, find the target GPU, resolve the stack, plan the files, write or diff them.

use crate::cli::{FrameworkArg, GpuModeArg, InitArgs, InstallerArg};
use crate::compat::knowledge::Knowledge;
use crate::compat::live::resolve_live;
use crate::compat::{self, Framework, FrameworkChoice, StackRequest, TargetHost, TargetOrigin};
use crate::error::{CliError, ErrorCode};
use crate::fsx;
use crate::host;
use crate::host::driver_files::DEFAULT_CAPABILITIES;
use crate::plan::gpu_mode::{self, GpuMode};
use crate::report::GpuModeChoice;
use super::host_cdi;
use crate::plan::{self, ExistingFiles, FileAction, GpuSelection, InitOptions};
use crate::project;
use crate::report::InitReport;
use anyhow::Result;
use std::path::Path;

pub fn run(args: &InitArgs, settings: &crate::settings::Settings) -> Result<InitReport> {
    let request = stack_request(args)?;
    let gpus: GpuSelection = args.gpus.parse().map_err(CliError::from)?;
    let root = &args.path;

    let facts = project::scan(root).map_err(CliError::from)?;
    let (target, gpu_probe_warning) = if args.from_host { super::remote::target_from_docker_host(settings)? } else { target_host(args)? };
    // Today's releases over the snapshot (cache, else the indexes now, else the snapshot with a warning).
    let lk = super::facts::live_knowledge(settings, false);
    let tags = lk.live.as_ref().and_then(|l| l.cuda_tags.as_deref());
    let (facts, mut stack, backend_warnings) = resolve_backends(&lk.knowledge, tags, facts, &target, &request)?;
    use_torch_index(&mut stack, &settings.facts.torch_index);

    let existing = read_existing(root, &facts)?;
    let choice = gpu_mode_choice(args, &gpus)?;
    let opts = InitOptions {
        gpus,
        force: args.force,
        gpu_run_args: (choice.mode != GpuMode::Toolkit).then(|| choice.run_args.clone()),
        replace_gpu_request: args.gpu_mode != GpuModeArg::Auto,
        compute_cap: target.compute_cap,
        installer: match args.installer {
            InstallerArg::Uv => crate::render::Installer::Uv,
            InstallerArg::Pip => crate::render::Installer::Pip,
        },
    };
    let mut plan = plan::plan_init(&facts, &stack, &existing, &opts).map_err(CliError::from)?;
    if plan.stack_applied {
        // The lock names the stack the Dockerfile builds; with the user's own Dockerfile kept there is none.
        let digest = if lk.live.as_ref().is_some_and(|l| l.cuda_tags.is_some()) {
            stack.image.rsplit_once(':').and_then(|(_, tag)| crate::facts::digest(&settings.facts, tag))
        } else {
            None
        };
        let new = plan::lock::build(&lk.knowledge, &stack, &target, &lk.provenance, digest, &opts.installer.describe());
        plan.files.push(plan::lock::plan(&new, existing.lock.as_deref()));
    }

    let mut diffs = Vec::new();
    if args.dry_run {
        for f in plan.files.iter().filter(|f| matches!(f.action, FileAction::Created | FileAction::Updated)) {
            diffs.push((f.path.clone(), crate::text::unified_diff(&f.path, f.old.as_deref().map(str::as_bytes), f.new.as_bytes())));
        }
    } else {
        // Every file was planned before the first write: an error above leaves the repository untouched.
        for f in plan.files.iter().filter(|f| matches!(f.action, FileAction::Created | FileAction::Updated)) {
            fsx::write_atomic(&root.join(&f.path), f.new.as_bytes()).map_err(CliError::from)?;
        }
    }

    let mut warnings: Vec<String> = gpu_probe_warning.into_iter().collect();
    warnings.extend(lk.warnings.iter().cloned());
    if let Some(live) = &lk.live {
        // Releases the live facts show but the tables could not take in (e.g. PyPI lists a newer torch while
        // PyTorch's wheel index, which says its CUDA builds, was not reachable): the user must know.
        for b in crate::compat::live::snapshot_behind(&lk.knowledge, live) {
            warnings.push(format!("newer than what devgpu chose from: {b}"));
        }
    }
    if settings.output.verbose > 0 {
        warnings.extend(lk.overlay_notes.iter().map(|n| format!("live facts: {n}")));
    }
    warnings.extend(backend_warnings);
    warnings.extend(facts.warnings.iter().map(|w| format!("{}: {}", w.source, w.message)));
    warnings.extend(stack.warnings.iter().cloned());
    warnings.extend(plan.warnings);
    warnings.extend(choice.warnings.iter().cloned());
    Ok(InitReport { root: root.display().to_string(), project: facts, target, stack, files: plan.files, stack_applied: plan.stack_applied, warnings, dry_run: args.dry_run, diffs, gpu_mode: Some(choice), facts: lk.provenance.clone() })
}

/// Resolve the stack. A project with one complete GPU requirement file per framework backend
/// ([`project::backend_alternatives`]) is set up for one backend: the first (in file order, or the one
/// `--framework` names) whose stack runs on the target; the backends tried before it are named with the
/// reason they do not run.
fn resolve_backends(
    k: &Knowledge,
    tags: Option<&[String]>,
    facts: project::ProjectFacts,
    target: &TargetHost,
    request: &StackRequest,
) -> Result<(project::ProjectFacts, compat::Stack, Vec<String>)> {
    let framework_of = |name: &str| match name {
        "pytorch" => Framework::Pytorch,
        "jax" => Framework::Jax,
        _ => Framework::Tensorflow,
    };
    let alternatives: Vec<_> = project::backend_alternatives(&facts)
        .into_iter()
        .filter(|a| match request.framework {
            FrameworkChoice::Exactly(f) => framework_of(a.framework) == f,
            FrameworkChoice::Auto => true,
            FrameworkChoice::NoFramework => false,
        })
        .collect();
    if alternatives.is_empty() {
        let (stack, notes) = resolve_live(k, tags, &facts, target, request).map_err(CliError::from)?;
        return Ok((facts, stack, notes));
    }
    let mut tried: Vec<String> = Vec::new();
    let mut first_error = None;
    let all: Vec<String> = alternatives.iter().map(|a| a.file.clone()).collect();
    for alt in alternatives {
        let req = StackRequest { framework: FrameworkChoice::Exactly(framework_of(alt.framework)), ..request.clone() };
        match resolve_live(k, tags, &alt.facts, target, &req) {
            Ok((stack, notes)) => {
                let mut warnings = notes;
                warnings.push(format!(
                    "{} are alternatives (one framework backend each, installed alone); the image is set up for {} ({}){} — pass --framework to choose another",
                    all.join(", "),
                    alt.file,
                    alt.framework,
                    if tried.is_empty() { String::new() } else { format!("; not chosen: {}", tried.join("; ")) }
                ));
                return Ok((alt.facts, stack, warnings));
            }
            Err(e) => {
                tried.push(format!("{}: {e}", alt.file));
                first_error.get_or_insert(e);
            }
        }
    }
    Err(CliError::from(first_error.expect("at least one alternative was tried")).into())
}

/// PyTorch's wheels come from `DEVGPU_TORCH_INDEX_URL` when set (a mirror of download.pytorch.org/whl): the
/// Dockerfile and the lock name the index the facts were read from.
fn use_torch_index(stack: &mut compat::Stack, torch_index: &str) {
    if let Some(f) = stack.framework.as_mut() {
        if let Some(url) = &f.index_url {
            if let Some(variant) = url.strip_prefix(&format!("{}/", crate::facts::DEFAULT_TORCH_INDEX)) {
                f.index_url = Some(format!("{torch_index}/{variant}"));
            }
        }
    }
}

/// The GPU mode and its runArgs. `auto` and `inject` look at this machine (device nodes, driver files; for auto
/// also whether nvidia-container-toolkit is installed); `toolkit` and `cdi` need nothing local.
fn gpu_mode_choice(args: &InitArgs, sel: &GpuSelection) -> Result<GpuModeChoice> {
    let access = matches!(args.gpu_mode, GpuModeArg::Auto | GpuModeArg::Inject).then(|| {
        let local = host_cdi::local_gpu();
        host_cdi::gather_access(args.dev_dir.as_deref(), args.driver_root.as_deref(), &local, &DEFAULT_CAPABILITIES)
    });
    let (mode, reason) = match args.gpu_mode {
        GpuModeArg::Toolkit => (GpuMode::Toolkit, "--gpu-mode toolkit"),
        GpuModeArg::Cdi => (GpuMode::Cdi, "--gpu-mode cdi (the GPU host needs a CDI spec: `sudo devgpu host cdi`, and Docker ≥ 25 with CDI on)"),
        GpuModeArg::Inject => (GpuMode::Inject, "--gpu-mode inject"),
        GpuModeArg::Auto => {
            let a = access.as_ref().expect("gathered for auto");
            let ready = a.devices.require_nodes().is_ok() && a.files.is_ok();
            gpu_mode::auto_mode(host::toolkit::gather().has(host::toolkit::HOOK), ready)
        }
    };
    let mut warnings = Vec::new();
    let host_facts = match (mode, access) {
        (GpuMode::Inject, Some(a)) => {
            a.devices.require_nodes().map_err(CliError::from)?;
            let files = a.files.map_err(CliError::from)?;
            warnings.extend(a.devices.notes.iter().cloned());
            warnings.extend(files.warnings.iter().cloned());
            Some((a.devices, files))
        }
        _ => None,
    };
    let run_args = gpu_mode::mode_run_args(mode, sel, host_facts.as_ref().map(|(d, f)| (d, f))).map_err(CliError::from)?;
    let driver = host_facts.as_ref().map(|(_, f)| host_cdi::describe_files(f));
    Ok(GpuModeChoice { mode, reason: reason.to_string(), run_args, driver, warnings })
}

fn stack_request(args: &InitArgs) -> Result<StackRequest> {
    let bad = |flag: &str, e: compat::versions::VersionParseError| CliError::user(ErrorCode::InvalidArgument, format!("{flag}: {e}"), vec![]);
    let framework = match args.framework {
        FrameworkArg::Auto => FrameworkChoice::Auto,
        FrameworkArg::Pytorch => FrameworkChoice::Exactly(Framework::Pytorch),
        FrameworkArg::Tensorflow => FrameworkChoice::Exactly(Framework::Tensorflow),
        FrameworkArg::Jax => FrameworkChoice::Exactly(Framework::Jax),
        FrameworkArg::None => FrameworkChoice::NoFramework,
    };
    let cuda = args.cuda.as_deref().map(|c| c.parse().map_err(|e| bad("--cuda", e))).transpose()?;
    let python = args.python.as_deref().map(|c| c.parse().map_err(|e| bad("--python", e))).transpose()?;
    Ok(StackRequest { framework, cuda, python })
}

/// The GPU host to build for: flags first, else this machine's first GPU, else unknown (with the reason when
/// `nvidia-smi` exists but failed).
fn target_host(args: &InitArgs) -> Result<(TargetHost, Option<String>)> {
    let bad = |flag: &str, e: compat::versions::VersionParseError| CliError::user(ErrorCode::InvalidArgument, format!("{flag}: {e}"), vec![]);
    let driver = args.driver.as_deref().map(|d| d.parse().map_err(|e| bad("--driver", e))).transpose()?;
    let compute_cap = args.compute_cap.as_deref().map(|c| c.parse().map_err(|e| bad("--compute-cap", e))).transpose()?;
    if driver.is_some() || compute_cap.is_some() {
        return Ok((TargetHost { driver, compute_cap, gpu_name: None, origin: TargetOrigin::Flags }, None));
    }
    Ok(match host::local_gpus() {
        Ok(gpus) => match gpus.into_iter().next() {
            Some(g) => (TargetHost { driver: Some(g.driver), compute_cap: g.compute_cap, gpu_name: Some(g.name), origin: TargetOrigin::LocalGpu }, None),
            None => (TargetHost::unknown(), None),
        },
        Err(e) => (TargetHost::unknown(), Some(format!("{e}; assuming nothing about the GPU host"))),
    })
}

fn read_existing(root: &Path, facts: &project::ProjectFacts) -> Result<ExistingFiles> {
    let read = |rel: &str| -> std::result::Result<Option<String>, CliError> {
        // init reads these files and writes them back: through a symlink that leads outside the repository it
        // would read (and print in a diff) and then overwrite a file that is not the project's. Refuse instead.
        if let Some(link) = link_leading_outside(root, rel) {
            return Err(CliError::user(
                ErrorCode::OutsideRepository,
                format!("{rel}: {link} is a symbolic link that leads outside the repository; devgpu neither reads nor writes through it"),
                vec![format!("replace {link} with a regular file (or remove it) and run devgpu init again")],
            ));
        }
        fsx::read_optional(&root.join(rel)).map_err(|e| CliError::user(ErrorCode::ReadFailed, format!("cannot read {rel}: {e}"), vec![]))
    };
    let devcontainer = match &facts.devcontainer {
        Some(rel) => read(rel)?.map(|t| (rel.clone(), t)),
        None => None,
    };
    // A Compose config: its compose files, which init edits (inside the repository only, never through a link).
    let mut compose_files = Vec::new();
    if let Some((rel, text)) = &devcontainer {
        if let Some(config) = crate::config::parse_jsonc(text, rel).ok().filter(|c| c.get("dockerComposeFile").is_some()) {
            let paths = plan::init::compose_file_paths(rel, &config).map_err(|m| CliError::user(ErrorCode::OutsideRepository, m, vec!["keep the compose file in the repository, or add the GPU to the service by hand".into()]))?;
            for p in paths {
                let text = read(&p)?.ok_or_else(|| {
                    CliError::user(ErrorCode::ComposeFileMissing, format!("{p}: the compose file named by `dockerComposeFile` in {rel} does not exist"), vec![format!("fix `dockerComposeFile` in {rel} (it is relative to that file's folder)")])
                })?;
                compose_files.push((p, text));
            }
        }
    }
    Ok(ExistingFiles {
        devcontainer,
        dockerfile: read(plan::init::DOCKERFILE)?,
        dockerignore: read(plan::init::DOCKERIGNORE)?,
        lock: read(plan::lock::LOCK_FILE)?,
        compose_files,
    })
}

/// The first component of `rel` (relative to `root`) that is a symlink resolving outside the repository, or one
/// that dangles (a write would create its target wherever it points).
fn link_leading_outside(root: &Path, rel: &str) -> Option<String> {
    let root_c = root.canonicalize().ok()?;
    let mut prefix = std::path::PathBuf::new();
    for part in Path::new(rel).components() {
        prefix.push(part);
        let full = root.join(&prefix);
        let Ok(meta) = std::fs::symlink_metadata(&full) else { return None };
        if meta.file_type().is_symlink() && !full.canonicalize().is_ok_and(|c| c.starts_with(&root_c)) {
            return Some(prefix.to_string_lossy().into_owned());
        }
    }
    None
}
