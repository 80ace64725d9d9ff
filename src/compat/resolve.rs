//! The stack resolver: project pins + target host + explicit choices → one `nvidia/cuda` image, Python and
//! framework build, each with its reason. Pure: no I/O, only the tables in `knowledge`.

use super::image_tag::{check_image, tag_for, Flavor, CUDA_REPO};
use super::knowledge::{knowledge, GpuArch, ImageLine, Knowledge, TorchRelease};
use super::pins::{allows_series, allows_version, parse_specifiers, python_allowed_by, python_pins, KNOWN_PYTHONS};
use super::stack::*;
use super::versions::{CudaVersion, DriverVersion, PythonVersion};
use crate::error::{Coded, ErrorCode};
use crate::model::project::{CudaSourceKind, ProjectFacts, Requirement};
use pep508_rs::pep440_rs::VersionSpecifiers;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("driver {driver} is older than any CUDA with living images (CUDA {oldest} needs driver >= {needs})")]
    DriverTooOld { driver: String, oldest: String, needs: String },
    #[error("--cuda {cuda}: NVIDIA publishes no nvidia/cuda images for CUDA {cuda} any more (living: {living})")]
    CudaNotLiving { cuda: String, living: String },
    #[error("--cuda {cuda} cannot run here: {why}")]
    CudaUnsuitable { cuda: String, why: String, hint: String },
    #[error("no CUDA with living images suits this target: {why}")]
    NoCuda { why: String, hint: String },
    #[error("--python {python} conflicts with {what}")]
    PythonConflict { python: String, what: String, hint: String },
    #[error("{message}")]
    FrameworkConflict { message: String, hints: Vec<String> },
    #[error("{why}")]
    GpuDriverMismatch { why: String, hint: String },
}

impl Coded for ResolveError {
    fn code(&self) -> ErrorCode {
        match self {
            ResolveError::DriverTooOld { .. } => ErrorCode::DriverTooOld,
            ResolveError::CudaNotLiving { .. } => ErrorCode::CudaImageDeleted,
            ResolveError::CudaUnsuitable { .. } => ErrorCode::CudaUnsuitable,
            ResolveError::NoCuda { .. } => ErrorCode::NoCudaFits,
            ResolveError::PythonConflict { .. } => ErrorCode::PythonConflict,
            ResolveError::FrameworkConflict { .. } => ErrorCode::FrameworkConflict,
            ResolveError::GpuDriverMismatch { .. } => ErrorCode::GpuDriverMismatch,
        }
    }
    fn hints(&self) -> Vec<String> {
        match self {
            ResolveError::DriverTooOld { needs, .. } => vec![format!("upgrade the NVIDIA driver to >= {needs} (e.g. the distribution's nvidia-driver-550 or newer)")],
            ResolveError::CudaNotLiving { living, .. } => vec![format!("pick one of: {living}")],
            ResolveError::CudaUnsuitable { hint, .. }
            | ResolveError::NoCuda { hint, .. }
            | ResolveError::PythonConflict { hint, .. }
            | ResolveError::GpuDriverMismatch { hint, .. } => vec![hint.clone()],
            ResolveError::FrameworkConflict { hints, .. } => hints.clone(),
        }
    }
}

/// Facts the resolver derives once from the target host.
struct Target<'a> {
    k: &'a Knowledge,
    driver: Option<&'a DriverVersion>,
    /// The newest CUDA the driver runs exactly (None: unknown driver).
    driver_cuda: Option<CudaVersion>,
    arch: Option<&'a GpuArch>,
}

impl<'a> Target<'a> {
    /// Why this CUDA cannot run on the target, if it cannot.
    fn cuda_problem(&self, c: CudaVersion) -> Option<String> {
        let c = c.minor_only();
        if let (Some(max), Some(d)) = (self.driver_cuda, self.driver) {
            if c > max {
                let needs = self.k.min_driver_for(c).map(|d| d.to_string()).unwrap_or_else(|| "a newer driver".into());
                return Some(format!("CUDA {} needs driver >= {needs}, the target has {d} (CUDA <= {})", c.short(), max.short()));
            }
        }
        if let Some(a) = self.arch {
            if c < a.first_cuda {
                return Some(format!("CUDA {} predates compute capability {} ({}), first supported in CUDA {}", c.short(), a.cc, a.name, a.first_cuda.short()));
            }
            if let Some(last) = a.last_cuda {
                if c > last {
                    return Some(format!("CUDA {} dropped compute capability {} ({}); the last CUDA for it is {}", c.short(), a.cc, a.name, last.short()));
                }
            }
        }
        None
    }

    /// Whether an image line newer than the driver's CUDA still starts through minor-version compatibility: same
    /// major as the driver's, driver at least the family floor, and the GPU supported by that CUDA.
    fn minor_compat_runs(&self, c: CudaVersion) -> bool {
        let (Some(max), Some(d)) = (self.driver_cuda, self.driver) else { return false };
        let arch_ok = self.arch.is_none_or(|a| c >= a.first_cuda && a.last_cuda.is_none_or(|last| c.minor_only() <= last));
        c.major == max.major && arch_ok && self.k.family_min_driver(c.major).is_some_and(|floor| d >= floor)
    }

    /// Living image lines that run here, newest first.
    fn fitting_lines(&self) -> Vec<&'a ImageLine> {
        let k: &'a Knowledge = self.k;
        k.images.iter().rev().filter(|l| self.cuda_problem(l.cuda).is_none()).collect()
    }

    /// Whether a PyTorch wheel variant runs here (see [`torch_variant_fit`]).
    fn torch_variant_fit(&self, variant: &str) -> VariantFit {
        torch_variant_fit(self.k, variant, self.arch, self.driver_cuda, self.driver)
    }
}

/// Why this driver cannot drive this GPU at all, if it cannot: past the last branch that supports it (Kepler
/// ended with 470), a GPU whose last branch is older than every living image needs (Kepler on 470: no upgrade
/// helps), or a driver too old for the architecture (Blackwell needs the CUDA 12.8 driver).
fn gpu_driver_problem(k: &Knowledge, arch: Option<&GpuArch>, driver: Option<&DriverVersion>) -> Option<(String, String)> {
    let (Some(a), Some(d)) = (arch, driver) else { return None };
    if let Some(branch) = a.last_driver_branch {
        if d.branch() > branch {
            return Some((
                format!("driver {d} does not drive compute capability {} ({}): the {branch} branch was the last to support it", a.cc, a.name),
                format!("use the {branch} driver branch on this GPU (CUDA images up to what {branch} runs), or a newer GPU"),
            ));
        }
        let oldest = k.cuda_releases.first()?;
        if branch < oldest.min_driver.branch() {
            return Some((
                format!(
                    "compute capability {} ({}) is driven only up to the {branch} driver branch, and every living nvidia/cuda image needs a newer driver (CUDA {} needs >= {})",
                    a.cc,
                    a.name,
                    oldest.version.short(),
                    oldest.min_driver
                ),
                "run the project on a newer GPU (Maxwell or later), or keep a hand-made image from before NVIDIA deleted the old CUDA tags".into(),
            ));
        }
    }
    if let Some(floor) = k.min_driver_for(a.first_cuda) {
        if d < floor {
            return Some((
                format!("driver {d} predates compute capability {} ({}): its first CUDA is {}, which needs driver >= {floor}", a.cc, a.name, a.first_cuda.short()),
                format!("upgrade the driver to >= {floor}"),
            ));
        }
    }
    None
}

/// Whether a PyTorch wheel variant (`cu124`) runs on a host: strictly (its CUDA <= the driver's newest), or through
/// minor-version compatibility (same major, driver >= the family floor), and whether its build carries kernels for
/// the GPU's architecture (frameworks.toml `torch_arch`). `None` facts are not judged. Shared by the resolver and
/// `devgpu doctor`.
pub fn torch_variant_fit(k: &Knowledge, variant: &str, arch: Option<&GpuArch>, driver_cuda: Option<CudaVersion>, driver: Option<&DriverVersion>) -> VariantFit {
    let Some(c) = CudaVersion::from_torch_variant(variant) else { return VariantFit::No };
    if let Some(a) = arch {
        if !variant_has_kernels_for(k, variant, a) || c < a.first_cuda {
            return VariantFit::No;
        }
    }
    match (driver_cuda, driver) {
        (Some(max), _) if c <= max => VariantFit::Exact,
        (Some(_), Some(d)) if k.family_min_driver(c.major).is_some_and(|floor| d >= floor) => VariantFit::MinorCompat,
        (Some(_), _) => VariantFit::No,
        (None, Some(_)) => VariantFit::No, // a driver older than every CUDA release known
        (None, None) => VariantFit::Exact,
    }
}

/// Whether a wheel variant carries SASS this GPU runs: built for its major with a minor at most its own.
fn variant_has_kernels_for(k: &Knowledge, variant: &str, a: &GpuArch) -> bool {
    match k.torch_variant_sms(variant) {
        Some(sms) => sms.iter().any(|sm| sm.major == a.cc.major && sm.minor <= a.cc.minor),
        // A variant newer than the table: judge by its CUDA (Blackwell from 12.8, CUDA 13 drops pre-Turing).
        None => CudaVersion::from_torch_variant(variant).is_some_and(|c| {
            let pre_turing = a.cc.major < 7 || (a.cc.major == 7 && a.cc.minor < 5);
            !((a.cc.major >= 10 && c < CudaVersion::new(12, 8, 0)) || (pre_turing && c >= CudaVersion::new(12, 8, 0)))
        }),
    }
}

/// The kernels a variant carries, as words: `sm_37…sm_86`.
fn sm_words(k: &Knowledge, variant: &str) -> String {
    sm_span(k, &[variant.to_string()])
}

/// The kernels a set of variants carries between them, oldest to newest: `sm_37…sm_86`.
fn sm_span(k: &Knowledge, variants: &[String]) -> String {
    let sms: Vec<super::versions::ComputeCap> = variants.iter().filter_map(|v| k.torch_variant_sms(v)).flatten().copied().collect();
    match (sms.iter().min(), sms.iter().max()) {
        (Some(lo), Some(hi)) => format!("sm_{}{}…sm_{}{}", lo.major, lo.minor, hi.major, hi.minor),
        _ => "unknown architectures".into(),
    }
}

/// How a wheel variant fits a host, worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum VariantFit {
    No,
    MinorCompat,
    Exact,
}

const TORCH_FAMILY: &[&str] = &["torch", "torchvision", "torchaudio"];
const TF_NAMES: &[&str] = &["tensorflow", "tensorflow-gpu", "tf-nightly", "tensorflow-cpu"];
const JAX_NAMES: &[&str] = &["jax", "jaxlib"];

/// Resolve the stack against the embedded snapshot of the tables (see [`resolve_with`]).
pub fn resolve(p: &ProjectFacts, host: &TargetHost, req: &StackRequest) -> Result<Stack, ResolveError> {
    resolve_with(knowledge(), p, host, req)
}

/// Resolve the stack against the given tables (the snapshot, or the snapshot updated from live indexes).
/// Errors are conflicts the user must settle; everything else becomes a reason or warning.
pub fn resolve_with(k: &Knowledge, p: &ProjectFacts, host: &TargetHost, req: &StackRequest) -> Result<Stack, ResolveError> {
    let mut reasons = Vec::new();
    let mut assumptions = Vec::new();
    let mut warnings = Vec::new();

    let arch = host.compute_cap.and_then(|cc| {
        let a = k.arch(cc);
        if a.is_none() {
            warnings.push(format!("compute capability {cc} is not in devgpu's table; it was not checked"));
        }
        a
    });
    // The GPU first: where no driver could run it (the advice would be a driver upgrade that does not help).
    if let Some((why, hint)) = gpu_driver_problem(k, arch, host.driver.as_ref()) {
        return Err(ResolveError::GpuDriverMismatch { why, hint });
    }
    let driver_cuda = match &host.driver {
        Some(d) => match k.max_cuda_for_driver(d) {
            Some(c) => Some(c),
            None => {
                let oldest = &k.cuda_releases[0];
                return Err(ResolveError::DriverTooOld { driver: d.to_string(), oldest: oldest.version.short(), needs: oldest.min_driver.to_string() });
            }
        },
        None => None,
    };
    let t = Target { k, driver: host.driver.as_ref(), driver_cuda, arch };
    let origin = match host.origin {
        TargetOrigin::Flags => "given on the command line",
        TargetOrigin::LocalGpu => "read from this machine's GPU",
        TargetOrigin::DockerHost => "read from the Docker host's GPU",
        TargetOrigin::Unknown => "unknown",
    };
    match (&host.driver, driver_cuda) {
        (Some(d), Some(c)) => reasons.push(format!("driver {d} ({origin}) runs CUDA images up to {}", c.short())),
        _ => assumptions.push(
            "no driver known for the target (no --driver and no local GPU): assumed the newest stack the project's pins allow; pass --driver and --compute-cap of the GPU host to check it".to_string(),
        ),
    }
    match (host.compute_cap, arch) {
        (Some(cc), Some(a)) => reasons.push(format!(
            "compute capability {cc} ({}{}) needs CUDA >= {}",
            a.name,
            host.gpu_name.as_ref().map(|n| format!(", {n}")).unwrap_or_default(),
            a.first_cuda.short()
        )),
        (None, _) => assumptions.push("no compute capability known for the target: GPU architecture not checked (pass --compute-cap)".to_string()),
        _ => {}
    }
    if let Some(c) = req.cuda {
        if k.image_line(c).is_none() {
            return Err(ResolveError::CudaNotLiving { cuda: c.short(), living: living_list(k) });
        }
        if let Some(why) = t.cuda_problem(c) {
            let hint = match t.fitting_lines().first() {
                Some(l) => format!("use --cuda {} (the newest that runs here) or upgrade the driver", l.cuda.short()),
                None => "upgrade the driver".to_string(),
            };
            return Err(ResolveError::CudaUnsuitable { cuda: c.short(), why, hint });
        }
    }

    // Python pins from the project (requires-python, .python-version, …).
    let (mut py_pins, pin_warnings) = python_pins(p);
    warnings.extend(pin_warnings);
    for (packages, below, why) in &k.python_ceilings {
        let names: Vec<&str> = packages.iter().map(String::as_str).collect();
        let evidence = match p.package_name.as_deref().filter(|n| names.contains(n)) {
            Some(n) => Some(format!("the project is {n}")),
            None => speaking_requirements(p, &names).first().map(|r| format!("{} ({})", r.raw, r.source)),
        };
        if let (Some(e), Some(spec)) = (evidence, parse_specifiers(&format!("<{below}"))) {
            reasons.push(format!("Python below {below}: {e}, and {why}"));
            py_pins.push((spec, format!("<{below} ({e})")));
        }
    }

    let compiles = compile_evidence(p);
    // CuPy wheels are built per CUDA major (`cupy-cuda12x`) and load the CUDA libraries of the image.
    let cuda_major_pin = cuda_major_pin(p, &t, &mut warnings);
    let framework = pick_framework(p, req.framework, &mut reasons, &mut warnings);
    warnings.extend(package_floor_warnings(p, &t));

    // Framework choice may fix the CUDA the image must have (compiled extensions must match torch's CUDA).
    let mut fw_stack = None;
    let mut fw_python: Option<String> = None;
    let mut preferred_cuda: Option<CudaVersion> = None;
    let mut cuda_is_required = false;
    let mut build_line = None;
    let mut image_cudnn = false;
    match framework {
        Some(Framework::Pytorch) => {
            let choice = choose_torch(p, &t, req, &py_pins, compiles.is_some())?;
            reasons.extend(choice.reasons);
            warnings.extend(choice.warnings);
            preferred_cuda = CudaVersion::from_torch_variant(&choice.variant);
            cuda_is_required = compiles.is_some();
            build_line = choice.build_line;
            fw_python = Some(choice.release.python.clone());
            fw_stack = Some(choice.stack);
        }
        Some(Framework::Tensorflow) => {
            let tf = choose_tensorflow(p, &t)?;
            reasons.push(tf.why);
            preferred_cuda = Some(tf.cuda);
            // Before 2.15 the wheel loads CUDA 11 and cuDNN 8 from the image: the line is not negotiable then.
            cuda_is_required = tf.cuda_from_image;
            image_cudnn = tf.cuda_from_image;
            fw_python = Some(tf.python);
            fw_stack = Some(tf.stack);
        }
        Some(Framework::Jax) => {
            let (stack, python, why) = choose_jax(p, &t)?;
            reasons.push(why);
            fw_python = Some(python);
            fw_stack = Some(stack);
        }
        None => {}
    }

    // The image's CUDA line: for CUDA code compiled against torch, the line chosen with the wheel.
    let mut minor_compat_image = false;
    let line = match build_line.filter(|_| req.cuda.is_none() && cuda_major_pin.is_none()) {
        Some(b) => {
            let c = preferred_cuda.map(|c| c.short()).unwrap_or_default();
            if b.same_minor {
                reasons.push(format!("CUDA {}: the torch wheel's own CUDA, so nvcc in the image matches it (image line {})", b.line.cuda.short(), b.line.cuda.full()));
            } else {
                reasons.push(format!("CUDA {}: the newest living line of the torch wheel's CUDA major (the wheel's {c} has no living image)", b.line.cuda.full()));
            }
            if b.minor_compat {
                minor_compat_image = true;
                warnings.push(format!(
                    "nvidia/cuda:{} is newer than the driver's CUDA {}; it starts through minor-version compatibility, so the Dockerfile sets NVIDIA_DISABLE_REQUIRE=1 (the image's cuda>={} check would refuse it). Upgrade the driver to >= {} to drop that",
                    b.line.cuda.full(),
                    t.driver_cuda.map(|c| c.short()).unwrap_or_default(),
                    b.line.cuda.short(),
                    k.min_driver_for(b.line.cuda).map(|d| d.to_string()).unwrap_or_default()
                ));
            }
            b.line
        }
        None => choose_line(&t, req, preferred_cuda, cuda_is_required, cuda_major_pin.as_ref(), &mut reasons)?,
    };

    // Flavor and cuDNN.
    let cudnn_pin = p.conda.iter().find(|c| c.name == "cudnn");
    let flavor = if let Some(why) = &compiles {
        reasons.push(format!("devel image: {why} compiles CUDA code, which needs nvcc and the CUDA headers"));
        Flavor::Devel
    } else if fw_stack.is_some() {
        reasons.push("base image: the framework's pip wheels bring the CUDA runtime and cuDNN, so the image needs only the CUDA driver interface".to_string());
        Flavor::Base
    } else {
        reasons.push("runtime image: no framework that bundles CUDA, so the image carries all CUDA shared libraries".to_string());
        Flavor::Runtime
    };
    let mut flavor = flavor;
    let cudnn = cudnn_pin.is_some() || image_cudnn;
    if image_cudnn {
        reasons.push("cuDNN from the image: this TensorFlow loads cuDNN 8 from the system".to_string());
        if flavor == Flavor::Base {
            flavor = Flavor::Runtime;
        }
    }
    if let Some(c) = cudnn_pin {
        reasons.push(format!("cuDNN from the image: `cudnn` is pinned outside pip ({})", c.source));
        if flavor == Flavor::Base {
            flavor = Flavor::Runtime; // `base` has no cuDNN variant.
        }
    }

    // Ubuntu and Python.
    let fw_range = fw_python.as_deref().and_then(parse_specifiers);
    let (ubuntu, python, python_source) = choose_ubuntu_python(k, line, req, &mut py_pins, fw_range.as_ref(), fw_stack.as_ref(), &mut reasons, &mut warnings)?;

    let tag = tag_for(line.cuda, cudnn.then_some(line.cudnn_tag.as_str()), flavor, &ubuntu);
    let image = format!("{CUDA_REPO}:{tag}");

    // Seed-style pins in Dockerfiles that devgpu did not write: name each problem and what was chosen instead.
    for df in p.dockerfiles.iter().filter(|d| !d.generated_by_devgpu) {
        for from in &df.from {
            for problem in check_image(k, &from.image, host.compute_cap, host.driver.as_ref()) {
                warnings.push(format!("{}:{}: {} — devgpu chose {image} instead", df.path, from.line, problem.message));
            }
        }
    }

    Ok(Stack {
        cuda: line.cuda.short(),
        cuda_full: line.cuda.full(),
        image,
        flavor,
        cudnn,
        ubuntu,
        python: python.to_string(),
        python_source,
        cuda_minor_compat: minor_compat_image,
        framework: fw_stack,
        reasons,
        assumptions,
        warnings,
    })
}

fn living_list(k: &Knowledge) -> String {
    k.images.iter().map(|l| l.cuda.short()).collect::<Vec<_>>().join(", ")
}

/// Evidence that something compiles CUDA code (first hit), as words for a reason.
fn compile_evidence(p: &ProjectFacts) -> Option<String> {
    p.cuda_sources.first().map(|s| match s.kind {
        CudaSourceKind::CuFile => format!("{} (a CUDA source file)", s.source),
        CudaSourceKind::CmakeCuda => format!("{} (CMake LANGUAGES CUDA)", s.source),
        CudaSourceKind::CudaExtension => format!("{} (a CUDAExtension)", s.source),
        CudaSourceKind::BuildsFromSource => format!("{} (a package built from source)", s.source),
        CudaSourceKind::JitExtension => format!("{} (torch.utils.cpp_extension: ops compiled when first run)", s.source),
    })
}

/// Requirement groups that are evidence only (install lines in docs and notebooks): pip never reads them.
fn is_evidence_only(group: &str) -> bool {
    matches!(group, "readme" | "notebook")
}

/// Whether a requirement is for the GPU container at all: not in a set-aside file, not under a marker that
/// excludes Linux x86_64 (`sys_platform == 'darwin'`), not in an extra named for another platform (`cpu`,
/// `rocm`, `xpu`, …), and not a local build for one (`+cpu`, `+rocm7.1`, `+xpu`).
fn for_the_gpu_container(r: &Requirement) -> bool {
    let main_group = matches!(r.group.as_str(), "main" | "conda" | "conda-pip" | "setup-py" | "readme" | "notebook");
    r.group != "set-aside"
        && r.marker.as_deref().is_none_or(super::pins::marker_allows_linux_x86_64)
        && (main_group || crate::model::alternatives::name_reason(&r.group).is_none())
        && r.local.as_deref().is_none_or(|l| l.starts_with("cu"))
}

/// Groups pip installs whenever the project is installed (not an optional extra the user must ask for).
fn always_installed(group: &str) -> bool {
    matches!(group, "main" | "conda" | "conda-pip" | "setup-py" | "dev" | "test" | "tests")
}

/// The requirements that speak for the project about these names: what pip installs (every group but the
/// set-aside alternatives and the docs' install lines), else the docs' install lines (README, notebooks).
pub(crate) fn speaking_requirements<'a>(p: &'a ProjectFacts, names: &[&str]) -> Vec<&'a Requirement> {
    let named = || p.requirements.iter().filter(|r| names.contains(&r.name.as_str()) && for_the_gpu_container(r));
    let installed: Vec<&Requirement> = named().filter(|r| !is_evidence_only(&r.group)).collect();
    if !installed.is_empty() {
        return installed;
    }
    named().collect()
}

/// Source modules that count as using a framework.
fn framework_modules(f: Framework) -> &'static [&'static str] {
    match f {
        Framework::Pytorch => &["torch", "torchvision", "torchaudio"],
        Framework::Tensorflow => &["tensorflow"],
        Framework::Jax => &["jax", "jaxlib", "flax", "optax"],
    }
}

/// How strongly the project says it runs on a framework, weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Evidence {
    /// Only its CPU build is a dependency (`tensorflow-cpu` for a data pipeline): not the GPU framework.
    CpuBuildOnly,
    /// Source files import it; no dependency file names it.
    Imports,
    /// Only the docs' install lines (README, notebooks) name it.
    Docs,
    /// An optional group (an extra, dev, export) names it.
    Optional,
    /// What `pip install` of the project installs names it.
    Installed,
}

struct FrameworkEvidence {
    framework: Framework,
    level: Evidence,
    imports: usize,
    words: String,
}

fn framework_evidence(p: &ProjectFacts, f: Framework) -> Option<FrameworkEvidence> {
    let names = match f {
        Framework::Pytorch => TORCH_FAMILY,
        Framework::Tensorflow => TF_NAMES,
        Framework::Jax => JAX_NAMES,
    };
    let imports: usize = framework_modules(f).iter().filter_map(|m| p.import_counts.get(*m)).sum();
    let reqs: Vec<&Requirement> = p.requirements.iter().filter(|r| names.contains(&r.name.as_str()) && for_the_gpu_container(r)).collect();
    let installed: Vec<&&Requirement> = reqs.iter().filter(|r| !is_evidence_only(&r.group)).collect();
    let main_group = |g: &str| matches!(g, "main" | "conda" | "conda-pip" | "setup-py");
    let (level, words) = if let Some(r) = installed.iter().find(|r| main_group(&r.group) && r.name != "tensorflow-cpu") {
        (Evidence::Installed, format!("{} ({})", r.raw, r.source))
    } else if let Some(r) = installed.iter().find(|r| r.name != "tensorflow-cpu") {
        (Evidence::Optional, format!("{} ({}, group `{}`)", r.raw, r.source, r.group))
    } else if let Some(r) = reqs.iter().find(|r| is_evidence_only(&r.group) && r.name != "tensorflow-cpu") {
        (Evidence::Docs, format!("the install line `{}` ({})", r.raw, r.source))
    } else if imports > 0 {
        let first: Vec<String> = p.imports.iter().filter(|i| framework_modules(f).contains(&i.module.as_str())).take(3).map(|i| i.source.to_string()).collect();
        (Evidence::Imports, format!("imported {imports} times in the sources ({}{})", first.join(", "), if imports > first.len() { ", …" } else { "" }))
    } else if let Some(r) = installed.first() {
        (Evidence::CpuBuildOnly, format!("{} ({}), TensorFlow's CPU-only build", r.raw, r.source))
    } else {
        return None;
    };
    Some(FrameworkEvidence { framework: f, level, imports, words })
}

fn pick_framework(p: &ProjectFacts, choice: FrameworkChoice, reasons: &mut Vec<String>, warnings: &mut Vec<String>) -> Option<Framework> {
    match choice {
        FrameworkChoice::Exactly(f) => {
            reasons.push(format!("framework {}: chosen with --framework", f.as_str()));
            Some(f)
        }
        FrameworkChoice::NoFramework => None,
        FrameworkChoice::Auto => {
            let mut found: Vec<FrameworkEvidence> =
                [Framework::Pytorch, Framework::Tensorflow, Framework::Jax].into_iter().filter_map(|f| framework_evidence(p, f)).collect();
            // Strongest evidence first; among equals the framework the sources import most (stable: table order).
            found.sort_by(|a, b| b.level.cmp(&a.level).then(b.imports.cmp(&a.imports)));
            let first = found.first()?;
            if first.level == Evidence::CpuBuildOnly {
                reasons.push(format!("no GPU framework: the only one named is {}", first.words));
                return None;
            }
            reasons.push(format!("framework {}: {}", first.framework.as_str(), first.words));
            if first.level <= Evidence::Docs {
                warnings.push(format!(
                    "no dependency file names {}; devgpu took it from {} — add it to the project's requirements so its version is pinned where pip reads it",
                    first.framework.as_str(),
                    first.words
                ));
            }
            let rivals: Vec<&FrameworkEvidence> = found[1..].iter().filter(|e| e.level >= Evidence::Docs).collect();
            if !rivals.is_empty() {
                warnings.push(format!(
                    "the project also names {}; the stack is built around {} — pass --framework to choose",
                    rivals.iter().map(|e| format!("{} ({})", e.framework.as_str(), e.words)).collect::<Vec<_>>().join(", "),
                    first.framework.as_str()
                ));
            }
            for e in found[1..].iter().filter(|e| e.level < Evidence::Docs) {
                reasons.push(format!("{} is not the GPU framework: {}", e.framework.as_str(), e.words));
            }
            Some(first.framework)
        }
    }
}

struct TorchChoice<'a> {
    release: &'a TorchRelease,
    variant: String,
    /// The living line to compile CUDA code with (projects that compile against torch), see [`build_line_for`].
    build_line: Option<BuildLine<'a>>,
    stack: FrameworkStack,
    reasons: Vec<String>,
    warnings: Vec<String>,
}

/// A CUDA build the project chose: a `+cu121` local version, a …/whl/cu121 index, find-links, or conda's
/// pytorch-cuda/cudatoolkit. Binding only where pip would install it as written (a local version in an
/// installed requirement); elsewhere a preference devgpu sets aside, with a warning, when it does not run.
struct ProjectVariant {
    variant: String,
    from: String,
    binding: bool,
}

fn project_variant(p: &ProjectFacts, torch_reqs: &[&Requirement]) -> Option<ProjectVariant> {
    torch_reqs
        .iter()
        .find_map(|r| {
            // Binding only where every install of the project gets it; an extra (`[cuda]`) is a preference.
            r.local.as_ref().filter(|l| l.starts_with("cu")).map(|l| ProjectVariant { variant: l.clone(), from: format!("{} ({})", r.raw, r.source), binding: always_installed(&r.group) })
        })
        .or_else(|| p.index_urls.iter().find_map(|i| i.cuda_variant.clone().map(|v| ProjectVariant { variant: v, from: format!("{} ({})", i.url, i.source), binding: false })))
        .or_else(|| p.find_links.iter().find_map(|f| f.cuda_variant.clone().map(|v| ProjectVariant { variant: v, from: format!("{} ({})", f.url, f.source), binding: false })))
        .or_else(|| {
            p.conda.iter().find(|c| c.name == "pytorch-cuda" || c.name == "cudatoolkit").and_then(|c| {
                let v: CudaVersion = c.version.split(['.', '*']).take(2).collect::<Vec<_>>().join(".").parse().ok()?;
                Some(ProjectVariant { variant: v.torch_variant(), from: format!("{}={} ({})", c.name, c.version, c.source), binding: false })
            })
        })
}

/// Packages released in step with torch: a pin on one of them pins torch too (see [`companion_problem`]).
const COMPANIONS: &[&str] = &["torchvision", "torchaudio", "triton"];

/// The versions of torchvision / torchaudio / triton that pair with a torch release: torchvision 0.(minor+1) for
/// 1.x and 0.(minor+15) for 2.x; torchaudio 0.minor for 1.x and the same version for 2.x; triton as the Linux
/// wheels pin it (frameworks.toml). A project pin that none of them satisfies rules the release out: pip could
/// not install both.
fn companion_problem(p: &ProjectFacts, rel: &TorchRelease) -> Option<String> {
    let (major, minor) = rel.series.split_once('.').and_then(|(a, b)| Some((a.parse::<u64>().ok()?, b.parse::<u64>().ok()?)))?;
    let last_patch: u64 = rel.latest.rsplit('.').next().and_then(|x| x.parse().ok()).unwrap_or(0);
    let series = |prefix: String| (0..=last_patch.max(3)).map(move |patch| format!("{prefix}.{patch}")).collect::<Vec<_>>();
    let pairs: [Vec<String>; 3] = [
        series(if major == 1 { format!("0.{}", minor + 1) } else { format!("0.{}", minor + 15) }),
        series(if major == 1 { format!("0.{minor}") } else { format!("{major}.{minor}") }),
        rel.triton.iter().cloned().collect(),
    ];
    for (&name, versions) in COMPANIONS.iter().zip(pairs) {
        if versions.is_empty() {
            continue;
        }
        for r in speaking_requirements(p, &[name]) {
            // A local label (`==0.13.1+cu113`) names the CUDA build, not the release: compare without it.
            let plain = local_label().replace_all(&r.specifier, "");
            if plain.trim().is_empty() {
                continue;
            }
            let Some(spec) = super::pins::parse_specifiers(&plain) else { continue };
            let ok = versions.iter().any(|v| allows_version(&spec, v));
            if !ok {
                return Some(format!("{} ({}) does not go with torch {}, which pairs with {name} {}", r.raw, r.source, rel.series, versions[0]));
            }
        }
    }
    None
}

/// A PEP 440 local label in a specifier (`+cu113`).
fn local_label() -> &'static regex::Regex {
    static LOCAL: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    LOCAL.get_or_init(|| regex::Regex::new(r"\+[A-Za-z0-9.]+").expect("valid regex"))
}

/// The living image line to compile CUDA code against a torch wheel built for CUDA `c`.
#[derive(Debug, Clone, Copy)]
struct BuildLine<'a> {
    line: &'a ImageLine,
    /// The line's CUDA minor equals the wheel's (what torch's cpp_extension wants; a different minor only warns).
    same_minor: bool,
    /// The line is newer than the driver's CUDA and starts only through minor-version compatibility.
    minor_compat: bool,
}

fn build_line_for<'a>(t: &Target<'a>, c: CudaVersion) -> Option<BuildLine<'a>> {
    if let Some(line) = t.k.image_line(c) {
        if t.cuda_problem(c).is_none() {
            return Some(BuildLine { line, same_minor: true, minor_compat: false });
        }
        if t.minor_compat_runs(c) {
            return Some(BuildLine { line, same_minor: true, minor_compat: true });
        }
    }
    // No living line of that minor (cu111 → 11.8): the newest of the same major that runs here. torch's
    // cpp_extension refuses an nvcc of another major and only warns about another minor.
    t.fitting_lines().into_iter().find(|l| l.cuda.major == c.major).map(|line| BuildLine { line, same_minor: false, minor_compat: false })
}

struct Candidate<'a> {
    rel: &'a TorchRelease,
    variant: String,
    fit: VariantFit,
    build: Option<BuildLine<'a>>,
}

/// The PyTorch release and wheel variant: the newest release the pins (torch's and its companions') allow whose
/// wheels run on the target, exact fits before minor-version-compatible ones within a release.
fn choose_torch<'a>(p: &ProjectFacts, t: &Target<'a>, req: &StackRequest, py_pins: &[(VersionSpecifiers, String)], compiles: bool) -> Result<TorchChoice<'a>, ResolveError> {
    let k = t.k;
    let torch_reqs = speaking_requirements(p, &["torch"]);
    let pin_list = || torch_reqs.iter().map(|r| format!("{} ({})", r.raw, r.source)).collect::<Vec<_>>();
    let project_variant = project_variant(p, &torch_reqs);
    let python_ok = |rel: &TorchRelease| {
        let Some(range) = parse_specifiers(&rel.python) else { return true };
        KNOWN_PYTHONS.iter().any(|&(ma, mi)| {
            let v = PythonVersion { major: ma, minor: mi };
            super::pins::allows_minor(&range, ma, mi)
                // --python overrides the project's pins (with a warning when the Python is chosen).
                && (req.python.is_some() || python_allowed_by(py_pins, v))
                && req.python.is_none_or(|r| r == v)
        })
    };
    let pinned_releases: Vec<&TorchRelease> = k.torch.iter().filter(|rel| torch_reqs.iter().all(|r| allows_series(r, &rel.series, &rel.latest))).collect();
    if pinned_releases.is_empty() {
        let (oldest, newest) = (k.torch.first().map(|r| r.series.as_str()).unwrap_or("?"), k.torch.last().map(|r| r.series.as_str()).unwrap_or("?"));
        return Err(ResolveError::FrameworkConflict {
            message: format!("{} names no PyTorch release in devgpu's table ({oldest} to {newest})", pin_list().join(", ")),
            hints: vec![
                format!("pin a torch release from {oldest} to {newest}"),
                "or pass --framework none and install torch yourself (devgpu then picks only the image)".into(),
            ],
        });
    }
    // Companions (torchvision, torchaudio, triton) must be installable beside the release.
    let joint: Vec<&TorchRelease> = pinned_releases.iter().copied().filter(|rel| companion_problem(p, rel).is_none()).collect();
    if joint.is_empty() {
        let newest = pinned_releases.last().expect("not empty");
        return Err(ResolveError::FrameworkConflict {
            message: format!("no torch release that {} allows goes with the project's other pins: {}", pin_list().join(", "), companion_problem(p, newest).unwrap_or_default()),
            hints: vec!["align the torchvision / torchaudio / triton pins with one torch release (pytorch.org/get-started/previous-versions lists the pairs)".into()],
        });
    }
    // Releases that also suit the project's Python pins; when none does (a seed-style Python 3.7 pin), the pin is
    // set aside later with a warning rather than ruling out every build.
    let python_fit: Vec<&TorchRelease> = joint.iter().copied().filter(|rel| python_ok(rel)).collect();
    if let (true, Some(py)) = (python_fit.is_empty(), req.python) {
        let ranges = joint.iter().map(|r| format!("{} needs Python {}", r.series, r.python)).collect::<Vec<_>>().join("; ");
        return Err(ResolveError::PythonConflict {
            python: py.to_string(),
            what: format!("every PyTorch release the project allows ({ranges})"),
            hint: "choose a Python the PyTorch release supports, or drop --python".into(),
        });
    }
    let collect = |list: &[&'a TorchRelease]| -> Vec<Candidate<'a>> {
        let mut out = Vec::new();
        for rel in list.iter().rev() {
            for v in rel.variants.iter().rev() {
                if project_variant.as_ref().is_some_and(|f| f.binding && &f.variant != v) {
                    continue;
                }
                let Some(c) = CudaVersion::from_torch_variant(v) else { continue };
                if compiles && req.cuda.is_some_and(|want| want.minor_only() != c.minor_only()) {
                    continue;
                }
                let fit = t.torch_variant_fit(v);
                if fit == VariantFit::No {
                    continue;
                }
                let build = if compiles {
                    match build_line_for(t, c) {
                        Some(b) => Some(b),
                        None => continue,
                    }
                } else {
                    None
                };
                out.push(Candidate { rel, variant: v.clone(), fit, build });
            }
        }
        out
    };
    // Releases for the project's Python first; when none of them runs here (a seed-style Python 3.7 pin on a
    // GPU that needs torch 2.x), the Python pin gives way, with a warning later, rather than the GPU.
    let mut search: &[&TorchRelease] = &python_fit;
    let mut candidates = collect(&python_fit);
    if candidates.is_empty() && req.python.is_none() {
        search = &joint;
        candidates = collect(&joint);
    }
    let mut warnings = Vec::new();
    // The project's own CUDA build, where it runs here; else say why it was set aside.
    if let Some(f) = project_variant.as_ref().filter(|f| !f.binding) {
        if candidates.iter().any(|c| c.variant == f.variant) {
            candidates.retain(|c| c.variant == f.variant);
        } else if !candidates.is_empty() {
            if search.iter().any(|r| r.variants.contains(&f.variant)) {
                warnings.push(format!("the project's CUDA build {} ({}) does not run on the target: {}; devgpu chose another build of torch", f.variant, f.from, variant_problem(t, &f.variant)));
            } else {
                let offered: std::collections::BTreeSet<&String> = search.iter().flat_map(|r| r.variants.iter()).collect();
                warnings.push(format!(
                    "the project's CUDA build {} ({}) is not one the torch releases it allows were built for ({}); devgpu chose another build of torch",
                    f.variant,
                    f.from,
                    offered.into_iter().cloned().collect::<Vec<_>>().join("/")
                ));
            }
        }
    }
    // Compiling wants nvcc of the wheel's own CUDA minor: prefer builds for which such a line lives.
    if compiles && candidates.iter().any(|c| c.build.is_some_and(|b| b.same_minor)) {
        candidates.retain(|c| c.build.is_some_and(|b| b.same_minor));
    }
    // Newest release first (candidates are in that order); within it, exact fits before minor-version ones.
    let best = candidates.iter().enumerate().min_by_key(|(i, c)| (std::cmp::Reverse(release_rank(k, c.rel)), std::cmp::Reverse(c.fit), *i)).map(|(_, c)| c);
    let Some(best) = best else {
        let companions: Vec<&str> = COMPANIONS.iter().copied().filter(|n| speaking_requirements(p, &[n]).iter().any(|r| !r.specifier.is_empty())).collect();
        return Err(torch_conflict(t, search, &pin_list(), &companions, project_variant.as_ref(), compiles));
    };
    let (rel, variant, fit) = (best.rel, best.variant.clone(), best.fit);

    let mut reasons = Vec::new();
    let pin_words = if torch_reqs.is_empty() {
        "torchvision/torchaudio without a torch pin".to_string()
    } else {
        torch_reqs.iter().map(|r| if r.specifier.is_empty() { format!("{} (unpinned)", r.name) } else { r.raw.clone() }).collect::<Vec<_>>().join(", ")
    };
    match project_variant.as_ref().filter(|f| f.variant == variant) {
        Some(f) => reasons.push(format!("PyTorch {} wheels for {variant}: the project chose {variant} in {}", rel.series, f.from)),
        None => reasons.push(format!("PyTorch {} with {variant} wheels: the newest release {pin_words} allows whose wheels run on the target", rel.series)),
    }
    if let Some(a) = t.arch {
        reasons.push(format!("torch {} {variant} wheels carry kernels for {}, which covers compute capability {} ({})", rel.series, sm_words(k, &variant), a.cc, a.name));
    }
    if fit == VariantFit::MinorCompat {
        warnings.push(format!(
            "{variant} wheels are newer than the driver's CUDA; they run through CUDA minor-version compatibility (no JIT of newer PTX). Upgrade the driver to >= {} for full support",
            CudaVersion::from_torch_variant(&variant).and_then(|c| k.min_driver_for(c)).map(|d| d.to_string()).unwrap_or_default()
        ));
    }
    if let Some(b) = best.build.filter(|b| !b.same_minor) {
        warnings.push(format!(
            "no living nvidia/cuda line for {variant}'s CUDA {}: CUDA code is compiled with nvcc {} (same major; torch's cpp_extension warns about the minor). Pin a newer torch for an exact match",
            CudaVersion::from_torch_variant(&variant).map(|c| c.short()).unwrap_or_default(),
            b.line.cuda.short()
        ));
    }
    let pinned = torch_reqs.iter().find_map(|r| r.pinned.clone());
    let version = pinned.clone().unwrap_or_else(|| rel.series.clone());
    let mut packages = vec![match &pinned {
        Some(v) => format!("torch=={v}"),
        None => format!("torch=={}.*", rel.series),
    }];
    for name in ["torchvision", "torchaudio"] {
        if let Some(r) = speaking_requirements(p, &[name]).first() {
            // torchvision/torchaudio come from the same index so pip picks the builds matching torch.
            packages.push(match &r.pinned {
                Some(v) => format!("{name}=={v}"),
                None if !r.specifier.is_empty() => format!("{name}{}", r.specifier),
                None => name.to_string(),
            });
        }
    }
    let index_url = format!("https://download.pytorch.org/whl/{variant}");
    Ok(TorchChoice {
        release: rel,
        variant: variant.clone(),
        build_line: best.build,
        stack: FrameworkStack { name: Framework::Pytorch, version, wheel_variant: Some(variant), index_url: Some(index_url), packages },
        reasons,
        warnings,
    })
}

/// Position of a release in the table (newer = larger).
fn release_rank(k: &Knowledge, rel: &TorchRelease) -> usize {
    k.torch.iter().position(|r| r.series == rel.series).unwrap_or(0)
}

/// Why a wheel variant does not run on the target, in words.
fn variant_problem(t: &Target, variant: &str) -> String {
    let k = t.k;
    if let Some(a) = t.arch {
        if !variant_has_kernels_for(k, variant, a) {
            return format!("{variant} wheels carry kernels for {}, none for compute capability {} ({})", sm_words(k, variant), a.cc, a.name);
        }
    }
    match (CudaVersion::from_torch_variant(variant), t.driver, t.driver_cuda) {
        (Some(c), Some(d), Some(max)) => {
            let needs = k.min_driver_for(c).map(|x| x.to_string()).unwrap_or_else(|| "a newer driver".into());
            format!("{variant} needs driver >= {needs} (or a CUDA {} driver for minor-version compatibility); the target has {d} (CUDA <= {})", c.major, max.short())
        }
        _ => format!("{variant} does not run here"),
    }
}

/// Explain why no PyTorch build fits, with the ways out.
fn torch_conflict(t: &Target, releases: &[&TorchRelease], pins: &[String], pins_companion: &[&str], fixed: Option<&ProjectVariant>, compiles: bool) -> ResolveError {
    let k = t.k;
    let pins = if pins.is_empty() { "the project's torch".to_string() } else { pins.join(", ") };
    let variants: Vec<String> = releases.iter().flat_map(|r| r.variants.iter().cloned()).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    let series = match (releases.first(), releases.last()) {
        (Some(a), Some(b)) if a.series != b.series => format!("torch {} to {}", a.series, b.series),
        (Some(a), _) => format!("torch {}", a.series),
        _ => "torch".into(),
    };
    let mut why: Vec<String> = Vec::new();
    // The GPU first: no driver upgrade helps a wheel without kernels for it.
    if let Some(a) = t.arch {
        let with_kernels: Vec<&String> = variants.iter().filter(|v| variant_has_kernels_for(k, v, a)).collect();
        if with_kernels.is_empty() {
            why.push(format!("{series} wheels ({}) carry kernels for {}, none for compute capability {} ({})", variants.join("/"), sm_span(k, &variants), a.cc, a.name));
        }
    }
    if why.is_empty() {
        let target = match (t.driver, t.driver_cuda) {
            (Some(d), Some(c)) => format!("the target driver {d} runs CUDA <= {}", c.short()),
            _ => "the target".to_string(),
        };
        let gpu = t.arch.map(|a| format!(" and its GPU is compute capability {} ({})", a.cc, a.name)).unwrap_or_default();
        why.push(format!("{series} has wheels for {}; {target}{gpu}", variants.join("/")));
    }
    if let Some(f) = fixed.filter(|f| f.binding) {
        why.push(format!("the project fixes the CUDA build in {}", f.from));
    }
    if compiles {
        why.push("compiled CUDA code needs a living devel image of the wheel's CUDA major".into());
    }
    let message = format!("{pins}: {}", why.join("; "));
    let mut hints = Vec::new();
    let companions = if pins_companion.is_empty() { String::new() } else { format!(", with the {} release it pairs with", pins_companion.join("/")) };
    // The oldest release with a wheel that runs here, ignoring the project's pins: the smallest move that works.
    let runs = |rel: &&TorchRelease| rel.variants.iter().any(|v| t.torch_variant_fit(v) != VariantFit::No);
    let newest_pinned = releases.last().map(|r| release_rank(k, r)).unwrap_or(0);
    let above = k.torch.iter().skip(newest_pinned + 1).find(runs);
    let best = above.or_else(|| k.torch.iter().rev().find(runs));
    if let Some(rel) = best {
        let v = rel.variants.iter().rev().find(|v| t.torch_variant_fit(v) != VariantFit::No).cloned().unwrap_or_default();
        hints.push(format!("use torch=={}.* or newer ({v} wheels run on this target){}", rel.series, companions));
    }
    if let Some(a) = t.arch {
        if !variants.iter().any(|v| variant_has_kernels_for(k, v, a)) {
            hints.push(format!("or run the project on a GPU these wheels support ({})", sm_span(k, &variants)));
        }
    }
    // The driver the project's own choice needs (its fixed variant, else the oldest variant of the allowed releases).
    let wanted: Vec<String> = match fixed.filter(|f| f.binding) {
        Some(f) => vec![f.variant.clone()],
        None => variants.clone(),
    };
    let needs = wanted
        .iter()
        .filter(|v| t.arch.is_none_or(|a| variant_has_kernels_for(k, v, a)))
        .filter_map(|v| CudaVersion::from_torch_variant(v))
        .filter_map(|c| k.min_driver_for(c))
        .filter(|d| t.driver.is_none_or(|have| *d > have))
        .min();
    if let Some(needs) = needs {
        hints.push(format!("or upgrade the driver to >= {needs}"));
    }
    if fixed.is_some_and(|f| f.binding) {
        hints.push("or drop the +cuXYZ local version and let devgpu pick the variant".into());
    }
    ResolveError::FrameworkConflict { message, hints }
}

struct TensorflowChoice {
    stack: FrameworkStack,
    cuda: CudaVersion,
    cuda_from_image: bool,
    python: String,
    why: String,
}

fn choose_tensorflow(p: &ProjectFacts, t: &Target<'_>) -> Result<TensorflowChoice, ResolveError> {
    let k = t.k;
    let reqs = speaking_requirements(p, TF_NAMES);
    let rel = k.tensorflow.iter().rev().find(|rel| reqs.iter().all(|r| allows_series(r, &rel.series, &format!("{}.0", rel.series)) || r.specifier.is_empty()));
    let Some(rel) = rel else {
        let pins = reqs.iter().map(|r| format!("{} ({})", r.raw, r.source)).collect::<Vec<_>>().join(", ");
        let oldest = k.tensorflow.first().map(|r| r.series.as_str()).unwrap_or("?");
        let tf1 = reqs.iter().any(|r| r.pinned.as_deref().is_some_and(|v| v.starts_with("1.")) || r.specifier.contains("<2") || r.specifier.contains("==1."));
        if tf1 {
            let gpu = t.arch.map(|a| format!("; its wheels carry no kernels for compute capability {} ({}) beyond what CUDA 10.0 knew (up to 7.5)", a.cc, a.name)).filter(|_| t.arch.is_some_and(|a| a.cc.major >= 8)).unwrap_or_default();
            return Err(ResolveError::FrameworkConflict {
                message: format!(
                    "{pins}: TensorFlow 1.x loads CUDA 9.0/10.0 and cuDNN 7 from the system — NVIDIA deleted those nvidia/cuda images, and the tensorflow/tensorflow 1.x images are Ubuntu 16.04/18.04, whose glibc the VS Code server refuses{gpu}"
                ),
                hints: vec![
                    "port the project to TensorFlow 2 (`tf.compat.v1` covers most of 1.x; tf.contrib has no direct replacement)".into(),
                    "or use NVIDIA's TensorFlow 1.15 build for CUDA 12 (`nvidia-tensorflow`, from NVIDIA's pip index) with --framework none --python 3.8".into(),
                ],
            });
        }
        return Err(ResolveError::FrameworkConflict {
            message: format!("{pins}: devgpu's table starts at TensorFlow {oldest} (the oldest release with wheels on PyPI for a living CUDA line, 11.8)"),
            hints: vec![format!("pin tensorflow >= {oldest}, or pass --framework none and --cuda X.Y to pick the image yourself")],
        });
    };
    if let (false, Some(d), Some(floor)) = (rel.cuda_from_image, t.driver, k.family_min_driver(rel.cuda.major)) {
        if d < floor {
            return Err(ResolveError::FrameworkConflict {
                message: format!("TensorFlow {} uses CUDA {} from pip, which needs driver >= {floor}; the target has {d}", rel.series, rel.cuda.short()),
                hints: vec![format!("upgrade the driver to >= {floor}")],
            });
        }
    }
    let pinned = reqs.iter().find_map(|r| r.pinned.clone());
    let name = if rel.cuda_from_image { "tensorflow" } else { "tensorflow[and-cuda]" };
    let pkg = match &pinned {
        Some(v) => format!("{name}=={v}"),
        None => format!("{name}=={}.*", rel.series),
    };
    let why = if rel.cuda_from_image {
        format!("TensorFlow {} is built and tested with CUDA {} and cuDNN 8, which it loads from the image (`{pkg}` brings no CUDA)", rel.series, rel.cuda.short())
    } else {
        format!("TensorFlow {} is built and tested with CUDA {}; `{pkg}` brings it as pip packages", rel.series, rel.cuda.short())
    };
    Ok(TensorflowChoice {
        stack: FrameworkStack { name: Framework::Tensorflow, version: pinned.unwrap_or_else(|| rel.series.clone()), wheel_variant: None, index_url: None, packages: vec![pkg] },
        cuda: rel.cuda,
        cuda_from_image: rel.cuda_from_image,
        python: rel.python.clone(),
        why,
    })
}

/// JAX: `jax[cuda13]` where the release has it (0.7.0 on) and the target runs CUDA 13 (driver 580+, Turing+),
/// else `jax[cuda12]` through CUDA 12 minor-version compatibility. Either brings CUDA as pip packages.
fn choose_jax(p: &ProjectFacts, t: &Target<'_>) -> Result<(FrameworkStack, String, String), ResolveError> {
    let jax = &t.k.jax;
    let reqs = speaking_requirements(p, &["jax"]);
    let pin = reqs.iter().find_map(|r| r.pinned.clone());
    let version_ok = |v: &str| reqs.iter().all(|r| r.specifier.trim().is_empty() || parse_specifiers(&r.specifier).is_none_or(|s| allows_version(&s, v)));
    let has_cuda13 = match &pin {
        Some(v) => parse_specifiers(&format!(">={}", jax.cuda13_since)).is_some_and(|since| allows_version(&since, v)),
        None => version_ok(&jax.latest),
    };
    let family_ok = |major: u32| match (t.driver, t.k.family_min_driver(major)) {
        (Some(d), Some(floor)) => d >= floor,
        _ => true,
    };
    let arch_ok = |c: CudaVersion| t.arch.is_none_or(|a| a.last_cuda.is_none_or(|last| c <= last));
    let (extra, major) = if has_cuda13 && family_ok(13) && arch_ok(CudaVersion::new(13, 0, 0)) { ("cuda13".to_string(), 13) } else { (jax.extra.clone(), jax.cuda_major) };
    if !family_ok(major) {
        let floor = t.k.family_min_driver(major).map(|d| d.to_string()).unwrap_or_default();
        return Err(ResolveError::FrameworkConflict {
            message: format!("jax[{extra}] needs driver >= {floor} (CUDA {major} minor-version compatibility); the target has {}", t.driver.map(|d| d.to_string()).unwrap_or_default()),
            hints: vec![format!("upgrade the driver to >= {floor}")],
        });
    }
    let pkg = match &pin {
        Some(v) => format!("jax[{extra}]=={v}"),
        None => format!("jax[{extra}]"),
    };
    // jax from 0.7.0 (every release with cuda13) needs Python >= 3.11.
    let python = if has_cuda13 { jax.cuda13_python.clone() } else { jax.python.clone() };
    let why = format!("JAX: `{pkg}` brings CUDA {major} as pip packages, so the image needs no CUDA libraries of its own");
    Ok((FrameworkStack { name: Framework::Jax, version: pin.unwrap_or_else(|| "latest".into()), wheel_variant: None, index_url: None, packages: vec![pkg] }, python, why))
}

/// Packages the project uses whose kernels need a newer GPU than the target's (flash-attn on Pascal): a warning
/// each, naming the evidence. The stack still installs; those kernels would fail at run time.
fn package_floor_warnings(p: &ProjectFacts, t: &Target) -> Vec<String> {
    let Some(a) = t.arch else { return Vec::new() };
    let mut out = Vec::new();
    for f in t.k.package_floors.iter().filter(|f| a.cc < f.min_cc) {
        let names: Vec<&str> = f.packages.iter().map(String::as_str).collect();
        let evidence = speaking_requirements(p, &names)
            .first()
            .map(|r| format!("{} ({})", r.raw, r.source))
            .or_else(|| p.imports.iter().find(|i| f.modules.contains(&i.module)).map(|i| format!("`import {}` ({})", i.module, i.source)));
        if let Some(e) = evidence {
            out.push(format!("{e}: {}; the target GPU is compute capability {} ({}), so that code will not run there", f.why, a.cc, a.name));
        }
    }
    out
}

/// The CUDA major a wheel was built for, by its name: `cupy-cuda12x`, or the `-cu12` suffix of RAPIDS and NVIDIA
/// wheels (`cucim-cu13`, `cuml-cu11`, `nvidia-cublas-cu12`). Older per-minor names (`cupy-cuda102`) say nothing
/// about a living line.
fn cuda_major_of(name: &str) -> Option<u32> {
    let digits = match name.strip_prefix("cupy-cuda") {
        Some(rest) => rest.strip_suffix('x')?,
        None => name.rsplit_once("-cu")?.1,
    };
    digits.parse::<u32>().ok().filter(|m| (11..=20).contains(m))
}

/// A requirement for a wheel built for one CUDA major (see [`cuda_major_of`]): the major the image's CUDA libraries
/// must have, and where it was declared. What pip installs binds; install lines in the docs that offer several
/// majors (`pip install cucim-cu12` / `cucim-cu13`) are alternatives: the newest major that runs on the target is
/// taken, and each offered major that does not run is named in a warning.
fn cuda_major_pin(p: &ProjectFacts, t: &Target, warnings: &mut Vec<String>) -> Option<(u32, String)> {
    let with_major = |r: &&Requirement| for_the_gpu_container(r) && cuda_major_of(&r.name).is_some();
    if let Some(r) = p.requirements.iter().filter(with_major).find(|r| !is_evidence_only(&r.group)) {
        return cuda_major_of(&r.name).map(|m| (m, format!("{} ({})", r.raw, r.source)));
    }
    let offered: Vec<(u32, &Requirement)> = p.requirements.iter().filter(with_major).filter_map(|r| cuda_major_of(&r.name).map(|m| (m, r))).collect();
    let fitting = t.fitting_lines();
    let runs = |m: u32| fitting.iter().any(|l| l.cuda.major == m);
    let chosen = offered.iter().filter(|(m, _)| runs(*m)).max_by_key(|(m, _)| *m).map(|(m, r)| (*m, format!("{} ({})", r.raw, r.source)));
    for (m, r) in offered.iter().filter(|(m, _)| !runs(*m)) {
        let why = match (t.k.images.iter().rev().find(|l| l.cuda.major == *m), t.driver_cuda) {
            (Some(l), Some(max)) => format!("{}; the target runs CUDA <= {}", t.cuda_problem(l.cuda).unwrap_or_default(), max.short()),
            _ => format!("no living CUDA {m} image runs on the target"),
        };
        let instead = chosen.as_ref().map(|(cm, from)| format!(": devgpu set up CUDA {cm} for {from} instead")).unwrap_or_default();
        warnings.push(format!("{} ({}) is built for CUDA {m}, which does not run here ({why}){instead}", r.raw, r.source));
    }
    chosen
}

/// The living CUDA line for the image.
fn choose_line<'a>(
    t: &'a Target<'a>,
    req: &StackRequest,
    preferred: Option<CudaVersion>,
    required: bool,
    major_pin: Option<&(u32, String)>,
    reasons: &mut Vec<String>,
) -> Result<&'a ImageLine, ResolveError> {
    let k = t.k;
    if let Some(c) = req.cuda {
        let line = k.image_line(c).expect("checked before");
        reasons.push(format!("CUDA {}: asked for with --cuda (image line {})", c.short(), line.cuda.full()));
        return Ok(line);
    }
    if let Some((major, from)) = major_pin {
        let line = match preferred {
            Some(c) if c.major == *major && t.cuda_problem(c).is_none() => k.image_line(c),
            _ => None,
        }
        .or_else(|| t.fitting_lines().into_iter().find(|l| l.cuda.major == *major));
        return match line {
            Some(line) => {
                reasons.push(format!("CUDA {}: {from} loads CUDA {major} libraries from the image (image line {})", line.cuda.short(), line.cuda.full()));
                Ok(line)
            }
            None => Err(ResolveError::NoCuda {
                why: format!("{from} needs CUDA {major}, and no living CUDA {major} image runs on the target"),
                hint: format!("use the cupy wheel for the target's CUDA (e.g. cupy-cuda{}x), or upgrade the driver", t.driver_cuda.map(|c| c.major).unwrap_or(12)),
            }),
        };
    }
    if let Some(c) = preferred {
        match (k.image_line(c), t.cuda_problem(c)) {
            (Some(line), None) => {
                reasons.push(format!("CUDA {}: matches the framework's CUDA build (image line {})", c.short(), line.cuda.full()));
                return Ok(line);
            }
            (_, Some(why)) if required => {
                return Err(ResolveError::NoCuda { why, hint: "upgrade the driver, or choose a torch build for an older CUDA".into() });
            }
            _ => {}
        }
    }
    let fitting = t.fitting_lines();
    // A wheel whose CUDA has no living line that runs here (cu113, or cu126 on a CUDA 12.2 driver): the newest line
    // of its major keeps the image's CUDA libraries the family the wheel was built for.
    if let Some(line) = preferred.and_then(|c| fitting.iter().find(|l| l.cuda.major == c.major)) {
        reasons.push(format!(
            "CUDA {}: the newest living line of the framework's CUDA major that runs on the target (the wheel's CUDA {} brings its own runtime)",
            line.cuda.full(),
            preferred.map(|c| c.short()).unwrap_or_default()
        ));
        return Ok(line);
    }
    let Some(line) = fitting.first() else {
        let why = k.images.last().and_then(|l| t.cuda_problem(l.cuda)).unwrap_or_else(|| "no living image line".into());
        return Err(ResolveError::NoCuda { why, hint: "upgrade the NVIDIA driver, or pass --driver/--compute-cap for the real target".into() });
    };
    reasons.push(format!("CUDA {}: the newest line with living nvidia/cuda tags that runs on the target (catalog of {})", line.cuda.full(), k.catalog_date));
    Ok(line)
}

type UbuntuPython = (String, PythonVersion, PythonSource);

#[allow(clippy::too_many_arguments)]
fn choose_ubuntu_python(
    k: &Knowledge,
    line: &ImageLine,
    req: &StackRequest,
    py_pins: &mut Vec<(VersionSpecifiers, String)>,
    fw_range: Option<&VersionSpecifiers>,
    fw: Option<&FrameworkStack>,
    reasons: &mut Vec<String>,
    warnings: &mut Vec<String>,
) -> Result<UbuntuPython, ResolveError> {
    // Ubuntu releases of this line that VS Code can attach to, newest first.
    let mut ubuntus: Vec<_> = line.ubuntu.iter().filter_map(|v| k.ubuntu(v)).filter(|u| u.glibc >= k.vscode_min_glibc).collect();
    ubuntus.sort_by(|a, b| b.version.cmp(&a.version));
    let fw_ok = |v: PythonVersion| fw_range.is_none_or(|r| super::pins::allows_minor(r, v.major, v.minor));
    let fw_words = || fw.map(|f| format!("{} {} (Python {})", f.name.as_str(), f.version, fw_range.map(|r| r.to_string()).unwrap_or_default())).unwrap_or_default();

    if let Some(py) = req.python {
        if !fw_ok(py) {
            return Err(ResolveError::PythonConflict { python: py.to_string(), what: fw_words(), hint: "choose a Python the framework supports, or another framework version".into() });
        }
        if !python_allowed_by(py_pins, py) {
            warnings.push(format!("--python {py} overrides the project's pin {}", py_pins.iter().map(|(_, w)| w.clone()).collect::<Vec<_>>().join(", ")));
        }
        py_pins.clear();
    }
    let candidates = |pins: &[(VersionSpecifiers, String)]| -> Vec<PythonVersion> {
        KNOWN_PYTHONS
            .iter()
            .map(|&(major, minor)| PythonVersion { major, minor })
            .filter(|v| req.python.is_none_or(|r| r == *v) && fw_ok(*v) && python_allowed_by(pins, *v))
            .collect()
    };
    let mut cands = candidates(py_pins);
    if cands.is_empty() {
        // Seed-style pins (Python 3.7 with a current framework): say so and choose without them.
        let pins = py_pins.iter().map(|(_, w)| w.clone()).collect::<Vec<_>>().join(", ");
        cands = candidates(&[]);
        warnings.push(format!(
            "the project's Python pin {pins} cannot be met{}; it was set aside",
            if fw.is_some() { format!(" by {}", fw_words()) } else { " by any Ubuntu image VS Code can attach to".into() }
        ));
    }
    // Prefer a distribution's own python3 (no extra apt repository), newest Ubuntu first.
    for u in &ubuntus {
        if cands.contains(&u.python) {
            reasons.push(format!("Ubuntu {} ({}; glibc {}.{} suits the VS Code server) with its own Python {}", u.version, u.codename, u.glibc.0, u.glibc.1, u.python));
            return Ok((u.version.clone(), u.python, PythonSource::System));
        }
    }
    for py in cands.iter().rev() {
        for u in &ubuntus {
            if u.deadsnakes.contains(py) {
                reasons.push(format!(
                    "Python {py} from the deadsnakes PPA on Ubuntu {} ({}): the project needs {py}, which Ubuntu {} does not ship",
                    u.version, u.codename, u.version
                ));
                return Ok((u.version.clone(), *py, PythonSource::Deadsnakes));
            }
        }
    }
    let ubuntus_words = ubuntus.iter().map(|u| u.version.as_str()).collect::<Vec<_>>().join(", ");
    Err(ResolveError::PythonConflict {
        python: cands.iter().map(|c| c.to_string()).collect::<Vec<_>>().join("/"),
        what: format!("the Ubuntu releases of CUDA {} ({ubuntus_words})", line.cuda.short()),
        hint: "pass --python with a version Ubuntu or the deadsnakes PPA ships (3.8 to 3.13)".into(),
    })
}
