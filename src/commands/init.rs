//! `devgpu init`: scan the repository, find the target GPU, resolve the stack, plan the files, write or diff them.

use crate::cli::{FrameworkArg, InitArgs};
use crate::compat::{self, Framework, FrameworkChoice, StackRequest, TargetHost, TargetOrigin};
use crate::error::CliError;
use crate::fsx;
use crate::host;
use crate::plan::{self, ExistingFiles, FileAction, GpuSelection, InitOptions};
use crate::project;
use crate::report::InitReport;
use anyhow::Result;
use std::path::Path;

pub fn run(args: &InitArgs) -> Result<InitReport> {
    let request = stack_request(args)?;
    let gpus: GpuSelection = args.gpus.parse().map_err(CliError::from)?;
    let root = &args.path;

    let facts = project::scan(root).map_err(CliError::from)?;
    let (target, gpu_probe_warning) = target_host(args)?;
    let stack = compat::resolve(&facts, &target, &request).map_err(CliError::from)?;

    let existing = read_existing(root, &facts)?;
    let opts = InitOptions { gpus, force: args.force };
    let plan = plan::plan_init(&facts, &stack, &existing, &opts).map_err(CliError::from)?;

    let mut diffs = Vec::new();
    if args.dry_run {
        for f in plan.files.iter().filter(|f| matches!(f.action, FileAction::Created | FileAction::Updated)) {
            diffs.push((f.path.clone(), unified_diff(&f.path, f.old.as_deref(), &f.new)));
        }
    } else {
        // Every file was planned before the first write: an error above leaves the repository untouched.
        for f in plan.files.iter().filter(|f| matches!(f.action, FileAction::Created | FileAction::Updated)) {
            fsx::write_atomic(&root.join(&f.path), f.new.as_bytes()).map_err(CliError::from)?;
        }
    }

    let mut warnings: Vec<String> = gpu_probe_warning.into_iter().collect();
    warnings.extend(facts.warnings.iter().map(|w| format!("{}: {}", w.source, w.message)));
    warnings.extend(stack.warnings.iter().cloned());
    warnings.extend(plan.warnings);
    Ok(InitReport { root: root.display().to_string(), project: facts, target, stack, files: plan.files, warnings, dry_run: args.dry_run, diffs })
}

fn stack_request(args: &InitArgs) -> Result<StackRequest> {
    let bad = |flag: &str, e: compat::versions::VersionParseError| CliError::user("invalid-argument", format!("{flag}: {e}"), vec![]);
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
    let bad = |flag: &str, e: compat::versions::VersionParseError| CliError::user("invalid-argument", format!("{flag}: {e}"), vec![]);
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
    let read = |rel: &str| fsx::read_optional(&root.join(rel)).map_err(|e| CliError::user("read-failed", format!("cannot read {rel}: {e}"), vec![]));
    let devcontainer = match &facts.devcontainer {
        Some(rel) => read(rel)?.map(|t| (rel.clone(), t)),
        None => None,
    };
    Ok(ExistingFiles { devcontainer, dockerfile: read(plan::init::DOCKERFILE)?, dockerignore: read(plan::init::DOCKERIGNORE)? })
}

fn unified_diff(path: &str, old: Option<&str>, new: &str) -> String {
    let old_text = old.unwrap_or("");
    let diff = similar::TextDiff::from_lines(old_text, new);
    let from = if old.is_some() { format!("a/{path}") } else { "/dev/null".to_string() };
    diff.unified_diff().context_radius(3).header(&from, &format!("b/{path}")).to_string()
}
