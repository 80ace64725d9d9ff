//! The stack resolver: project pins + target host + explicit choices → one `nvidia/cuda` image, Python and
//! framework build, each with its reason. Pure: no I/O, only the tables in `knowledge`.

use super::image_tag::{check_image, tag_for, Flavor, CUDA_REPO};
use super::knowledge::{knowledge, GpuArch, ImageLine, Knowledge, TorchRelease};
use super::pins::{allows_series, parse_specifiers, python_allowed_by, python_pins, requirements_named, KNOWN_PYTHONS};
use super::stack::*;
use super::versions::{CudaVersion, DriverVersion, PythonVersion};
use crate::error::Coded;
use crate::project::{CudaSourceKind, ProjectFacts};
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
}

impl Coded for ResolveError {
    fn code(&self) -> &'static str {
        match self {
            ResolveError::DriverTooOld { .. } => "driver-too-old",
            ResolveError::CudaNotLiving { .. } => "cuda-image-deleted",
            ResolveError::CudaUnsuitable { .. } => "cuda-unsuitable",
            ResolveError::NoCuda { .. } => "no-cuda-fits",
            ResolveError::PythonConflict { .. } => "python-conflict",
            ResolveError::FrameworkConflict { .. } => "framework-conflict",
        }
    }
    fn hints(&self) -> Vec<String> {
        match self {
            ResolveError::DriverTooOld { needs, .. } => vec![format!("upgrade the NVIDIA driver to >= {needs} (e.g. the distribution's nvidia-driver-550 or newer)")],
            ResolveError::CudaNotLiving { living, .. } => vec![format!("pick one of: {living}")],
            ResolveError::CudaUnsuitable { hint, .. } | ResolveError::NoCuda { hint, .. } | ResolveError::PythonConflict { hint, .. } => vec![hint.clone()],
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

impl Target<'_> {
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

    /// Living image lines that run here, newest first.
    fn fitting_lines(&self) -> Vec<&ImageLine> {
        self.k.images.iter().rev().filter(|l| self.cuda_problem(l.cuda).is_none()).collect()
    }

    /// Whether a PyTorch wheel variant runs here (see [`torch_variant_fit`]).
    fn torch_variant_fit(&self, variant: &str) -> VariantFit {
        torch_variant_fit(self.k, variant, self.arch, self.driver_cuda, self.driver)
    }
}

/// Whether a PyTorch wheel variant (`cu124`) runs on a host: strictly (its CUDA <= the driver's newest), or through
/// minor-version compatibility (same major, driver >= the family floor), and whether its build carries kernels for
/// the GPU's architecture. `None` facts are not judged. Shared by the resolver and `devgpu doctor`.
pub fn torch_variant_fit(k: &Knowledge, variant: &str, arch: Option<&GpuArch>, driver_cuda: Option<CudaVersion>, driver: Option<&DriverVersion>) -> VariantFit {
    let Some(c) = CudaVersion::from_torch_variant(variant) else { return VariantFit::No };
    if let Some(a) = arch {
        let blackwell = a.cc.major >= 10;
        let pre_turing = a.cc.major < 7 || (a.cc.major == 7 && a.cc.minor < 5);
        // cu128+ wheels dropped sm_60/sm_70; Blackwell kernels exist only from cu128 (frameworks.toml).
        if (blackwell && c < CudaVersion::new(12, 8, 0)) || (pre_turing && c >= CudaVersion::new(12, 8, 0)) || c < a.first_cuda {
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
    let arch = host.compute_cap.and_then(|cc| {
        let a = k.arch(cc);
        if a.is_none() {
            warnings.push(format!("compute capability {cc} is not in devgpu's table; it was not checked"));
        }
        a
    });
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

    let compiles = compile_evidence(p);
    // CuPy wheels are built per CUDA major (`cupy-cuda12x`) and load the CUDA libraries of the image.
    let cuda_major_pin = cupy_cuda_major(p);
    let framework = pick_framework(p, req.framework, &mut warnings);

    // Framework choice may fix the CUDA the image must have (compiled extensions must match torch's CUDA).
    let mut fw_stack = None;
    let mut fw_python: Option<String> = None;
    let mut preferred_cuda: Option<CudaVersion> = None;
    let mut cuda_is_required = false;
    match framework {
        Some(Framework::Pytorch) => {
            let choice = choose_torch(p, &t, req, &py_pins, compiles.is_some())?;
            reasons.extend(choice.reasons);
            warnings.extend(choice.warnings);
            preferred_cuda = CudaVersion::from_torch_variant(&choice.variant);
            cuda_is_required = compiles.is_some();
            fw_python = Some(choice.release.python.clone());
            fw_stack = Some(choice.stack);
        }
        Some(Framework::Tensorflow) => {
            let (stack, tf_cuda, py, why) = choose_tensorflow(p, &t)?;
            reasons.push(why);
            preferred_cuda = Some(tf_cuda);
            fw_python = Some(py);
            fw_stack = Some(stack);
        }
        Some(Framework::Jax) => {
            let jax = &k.jax;
            if let (Some(d), Some(floor)) = (t.driver, k.family_min_driver(jax.cuda_major)) {
                if d < floor {
                    return Err(ResolveError::FrameworkConflict {
                        message: format!("jax[{}] needs driver >= {floor} (CUDA {} minor-version compatibility); the target has {d}", jax.extra, jax.cuda_major),
                        hints: vec![format!("upgrade the driver to >= {floor}")],
                    });
                }
            }
            let pin = requirements_named(p, JAX_NAMES).find(|r| r.name == "jax").and_then(|r| r.pinned.clone());
            let pkg = match &pin {
                Some(v) => format!("jax[{}]=={v}", jax.extra),
                None => format!("jax[{}]", jax.extra),
            };
            reasons.push(format!("JAX: `{pkg}` brings CUDA {} as pip packages, so the image needs no CUDA libraries of its own", jax.cuda_major));
            fw_python = Some(jax.python.clone());
            fw_stack = Some(FrameworkStack { name: Framework::Jax, version: pin.unwrap_or_else(|| "latest".into()), wheel_variant: None, index_url: None, packages: vec![pkg] });
        }
        None => {}
    }

    // The image's CUDA line.
    let line = choose_line(&t, req, preferred_cuda, cuda_is_required, cuda_major_pin.as_ref(), &mut reasons)?;

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
    let cudnn = cudnn_pin.is_some();
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
    })
}

fn pick_framework(p: &ProjectFacts, choice: FrameworkChoice, warnings: &mut Vec<String>) -> Option<Framework> {
    match choice {
        FrameworkChoice::Exactly(f) => Some(f),
        FrameworkChoice::NoFramework => None,
        FrameworkChoice::Auto => {
            let found: Vec<Framework> = [(Framework::Pytorch, TORCH_FAMILY), (Framework::Tensorflow, TF_NAMES), (Framework::Jax, JAX_NAMES)]
                .into_iter()
                .filter(|(_, names)| requirements_named(p, names).next().is_some())
                .map(|(f, _)| f)
                .collect();
            if found.len() > 1 {
                warnings.push(format!(
                    "the project depends on several frameworks ({}); the stack is built around {} — pass --framework to choose",
                    found.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(", "),
                    found[0].as_str()
                ));
            }
            found.first().copied()
        }
    }
}

struct TorchChoice<'a> {
    release: &'a TorchRelease,
    variant: String,
    stack: FrameworkStack,
    reasons: Vec<String>,
    warnings: Vec<String>,
}

/// The PyTorch release and wheel variant: the newest release the pins allow whose wheels run on the target.
fn choose_torch<'a>(p: &ProjectFacts, t: &Target<'a>, req: &StackRequest, py_pins: &[(VersionSpecifiers, String)], compiles: bool) -> Result<TorchChoice<'a>, ResolveError> {
    let k = t.k;
    let torch_reqs: Vec<_> = requirements_named(p, &["torch"]).collect();
    // A variant the project already chose: a `+cu121` local version, a …/whl/cu121 index, or conda's pytorch-cuda.
    let fixed_variant: Option<(String, String)> = torch_reqs
        .iter()
        .find_map(|r| r.local.as_ref().filter(|l| l.starts_with("cu")).map(|l| (l.clone(), format!("{} ({})", r.raw, r.source))))
        .or_else(|| p.index_urls.iter().find_map(|i| i.cuda_variant.clone().map(|v| (v, format!("{} ({})", i.url, i.source)))))
        .or_else(|| p.find_links.iter().find_map(|f| f.cuda_variant.clone().map(|v| (v, format!("{} ({})", f.url, f.source)))))
        .or_else(|| {
            p.conda.iter().find(|c| c.name == "pytorch-cuda" || c.name == "cudatoolkit").and_then(|c| {
                let v: CudaVersion = c.version.split(['.', '*']).take(2).collect::<Vec<_>>().join(".").parse().ok()?;
                Some((v.torch_variant(), format!("{}={} ({})", c.name, c.version, c.source)))
            })
        });
    let python_ok = |rel: &TorchRelease| {
        let Some(range) = parse_specifiers(&rel.python) else { return true };
        KNOWN_PYTHONS.iter().any(|&(ma, mi)| {
            let v = PythonVersion { major: ma, minor: mi };
            super::pins::allows_minor(&range, ma, mi) && python_allowed_by(py_pins, v) && req.python.is_none_or(|r| r == v)
        })
    };
    let pinned_releases: Vec<&TorchRelease> = k.torch.iter().filter(|rel| torch_reqs.iter().all(|r| allows_series(r, &rel.series, &rel.latest))).collect();
    // Releases that also suit the project's Python pins; when none does (a seed-style Python 3.7 pin), the pin is
    // set aside later with a warning rather than ruling out every build.
    let python_fit: Vec<&TorchRelease> = pinned_releases.iter().copied().filter(|rel| python_ok(rel)).collect();
    let search: &[&TorchRelease] = if python_fit.is_empty() && req.python.is_none() { &pinned_releases } else { &python_fit };
    if let (true, Some(py)) = (python_fit.is_empty(), req.python) {
        let ranges = pinned_releases.iter().map(|r| format!("{} needs Python {}", r.series, r.python)).collect::<Vec<_>>().join("; ");
        return Err(ResolveError::PythonConflict {
            python: py.to_string(),
            what: format!("every PyTorch release the project allows ({ranges})"),
            hint: "choose a Python the PyTorch release supports, or drop --python".into(),
        });
    }
    if pinned_releases.is_empty() {
        let spec = torch_reqs.iter().map(|r| format!("{} ({})", r.raw, r.source)).collect::<Vec<_>>().join(", ");
        return Err(ResolveError::FrameworkConflict {
            message: format!("{spec} names no PyTorch release devgpu knows (2.1 to {})", k.torch.last().map(|r| r.series.as_str()).unwrap_or("?")),
            hints: vec!["pin torch to a release from 2.1 on (older releases have no wheels for CUDA images NVIDIA still publishes), or pass --framework none".into()],
        });
    }
    // Candidates: newest release first, newest variant first; exact fits before minor-version-compatible ones.
    let mut best: Option<(VariantFit, &TorchRelease, String)> = None;
    for rel in search.iter().rev() {
        for v in rel.variants.iter().rev() {
            if let Some((fixed, _)) = &fixed_variant {
                if v != fixed {
                    continue;
                }
            }
            if let Some(c) = req.cuda {
                if compiles && CudaVersion::from_torch_variant(v).map(|x| x.minor_only()) != Some(c.minor_only()) {
                    continue;
                }
            }
            let fit = t.torch_variant_fit(v);
            if fit == VariantFit::No {
                continue;
            }
            // Compiling extensions needs nvcc of the wheel's CUDA in the image, so the fit must be exact then.
            if compiles && fit != VariantFit::Exact {
                continue;
            }
            if best.as_ref().is_none_or(|(bf, _, _)| fit > *bf) {
                best = Some((fit, rel, v.clone()));
            }
        }
        if best.as_ref().is_some_and(|(f, _, _)| *f == VariantFit::Exact) {
            break;
        }
    }
    let Some((fit, rel, variant)) = best else {
        return Err(torch_conflict(t, &pinned_releases, &torch_reqs.iter().map(|r| format!("{} ({})", r.raw, r.source)).collect::<Vec<_>>(), fixed_variant.as_ref().map(|f| f.1.as_str()), fixed_variant.as_ref().map(|f| f.0.as_str()), compiles));
    };
    let mut reasons = Vec::new();
    let mut warnings = Vec::new();
    let pin_words = if torch_reqs.is_empty() {
        "torchvision/torchaudio without a torch pin".to_string()
    } else {
        torch_reqs.iter().map(|r| if r.specifier.is_empty() { format!("{} (unpinned)", r.name) } else { r.raw.clone() }).collect::<Vec<_>>().join(", ")
    };
    match &fixed_variant {
        Some((v, from)) => reasons.push(format!("PyTorch {} wheels for {v}: the project chose {v} in {from}", rel.series)),
        None => reasons.push(format!("PyTorch {} with {variant} wheels: the newest release {pin_words} allows whose wheels run on the target", rel.series)),
    }
    if fit == VariantFit::MinorCompat {
        warnings.push(format!(
            "{variant} wheels are newer than the driver's CUDA; they run through CUDA minor-version compatibility (no JIT of newer PTX). Upgrade the driver to >= {} for full support",
            CudaVersion::from_torch_variant(&variant).and_then(|c| k.min_driver_for(c)).map(|d| d.to_string()).unwrap_or_default()
        ));
    }
    let version = torch_reqs.iter().find_map(|r| r.pinned.clone()).unwrap_or_else(|| rel.series.clone());
    let mut packages = Vec::new();
    for name in TORCH_FAMILY {
        let names = [*name];
        let reqs: Vec<_> = requirements_named(p, &names).collect();
        if *name == "torch" {
            packages.push(match torch_reqs.iter().find_map(|r| r.pinned.clone()) {
                Some(v) => format!("torch=={v}"),
                None => format!("torch=={}.*", rel.series),
            });
        } else if let Some(r) = reqs.first() {
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
        stack: FrameworkStack { name: Framework::Pytorch, version, wheel_variant: Some(variant), index_url: Some(index_url), packages },
        reasons,
        warnings,
    })
}

/// Explain why no PyTorch build fits, with the ways out.
fn torch_conflict(t: &Target, releases: &[&TorchRelease], pins: &[String], fixed: Option<&str>, fixed_variant: Option<&str>, compiles: bool) -> ResolveError {
    let k = t.k;
    let pins = if pins.is_empty() { "the project's torch".to_string() } else { pins.join(", ") };
    let variants: Vec<String> = releases.iter().flat_map(|r| r.variants.iter().cloned()).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    let target = match (t.driver, t.driver_cuda) {
        (Some(d), Some(c)) => format!("the target driver {d} runs CUDA <= {}", c.short()),
        _ => "the target".to_string(),
    };
    let gpu = t.arch.map(|a| format!(" and its GPU is compute capability {} ({})", a.cc, a.name)).unwrap_or_default();
    let mut message = format!("{pins} has wheels for {}; {target}{gpu}", variants.join("/"));
    if let Some(f) = fixed {
        message.push_str(&format!("; the project fixes the CUDA build in {f}"));
    }
    if compiles {
        message.push_str("; compiled CUDA code needs an image CUDA equal to the wheel's");
    }
    let mut hints = Vec::new();
    // The newest release whose wheels fit, ignoring the project's pins.
    if let Some((rel, v)) = k.torch.iter().rev().find_map(|rel| rel.variants.iter().rev().find(|v| t.torch_variant_fit(v) == VariantFit::Exact).map(|v| (rel, v))) {
        hints.push(format!("use torch=={}.* ({v} wheels run on this target)", rel.series));
    }
    // The driver the project's own choice needs (its fixed variant, else the oldest variant of the allowed releases).
    let wanted: Vec<String> = match fixed {
        Some(_) => fixed_variant.map(|v| vec![v.to_string()]).unwrap_or_default(),
        None => variants.clone(),
    };
    let needs = wanted.iter().filter_map(|v| CudaVersion::from_torch_variant(v)).filter_map(|c| k.min_driver_for(c)).filter(|d| t.driver.is_none_or(|have| *d > have)).min();
    if let Some(needs) = needs {
        hints.push(format!("or upgrade the driver to >= {needs}"));
    }
    if fixed.is_some() {
        hints.push("or drop the +cuXYZ / …/whl/cuXYZ choice and let devgpu pick the variant".into());
    }
    ResolveError::FrameworkConflict { message, hints }
}

fn choose_tensorflow(p: &ProjectFacts, t: &Target<'_>) -> Result<(FrameworkStack, CudaVersion, String, String), ResolveError> {
    let k = t.k;
    let reqs: Vec<_> = requirements_named(p, TF_NAMES).collect();
    let rel = k.tensorflow.iter().rev().find(|rel| reqs.iter().all(|r| allows_series(r, &rel.series, &format!("{}.0", rel.series)) || r.specifier.is_empty()));
    let Some(rel) = rel else {
        let pins = reqs.iter().map(|r| format!("{} ({})", r.raw, r.source)).collect::<Vec<_>>().join(", ");
        return Err(ResolveError::FrameworkConflict {
            message: format!("{pins}: devgpu knows TensorFlow's CUDA pairing from 2.15 on (when pip started to bring CUDA with `tensorflow[and-cuda]`)"),
            hints: vec!["pin tensorflow >= 2.15, or pass --framework none and --cuda X.Y to pick the image yourself".into()],
        });
    };
    if let (Some(d), Some(floor)) = (t.driver, k.family_min_driver(rel.cuda.major)) {
        if d < floor {
            return Err(ResolveError::FrameworkConflict {
                message: format!("TensorFlow {} uses CUDA {} from pip, which needs driver >= {floor}; the target has {d}", rel.series, rel.cuda.short()),
                hints: vec![format!("upgrade the driver to >= {floor}")],
            });
        }
    }
    let pinned = reqs.iter().find_map(|r| r.pinned.clone());
    let pkg = match &pinned {
        Some(v) => format!("tensorflow[and-cuda]=={v}"),
        None => format!("tensorflow[and-cuda]=={}.*", rel.series),
    };
    let why = format!("TensorFlow {} is built and tested with CUDA {}; `{pkg}` brings it as pip packages", rel.series, rel.cuda.short());
    Ok((
        FrameworkStack { name: Framework::Tensorflow, version: pinned.unwrap_or_else(|| rel.series.clone()), wheel_variant: None, index_url: None, packages: vec![pkg] },
        rel.cuda,
        rel.python.clone(),
        why,
    ))
}

/// A `cupy-cudaNNx` requirement: the CUDA major its wheel was built for, and where it was declared.
fn cupy_cuda_major(p: &ProjectFacts) -> Option<(u32, String)> {
    p.requirements.iter().find_map(|r| {
        let major = r.name.strip_prefix("cupy-cuda")?.strip_suffix('x')?.parse::<u32>().ok()?;
        // cupy-cuda11x / 12x / 13x; older per-minor names (cupy-cuda102) say nothing about a living line.
        (major >= 11).then(|| (major, format!("{} ({})", r.raw, r.source)))
    })
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
