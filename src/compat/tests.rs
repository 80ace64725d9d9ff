//! The resolver as a table: project pins × driver × compute capability → stack (or the conflict and its way out).

use super::*;
use crate::project::{CudaSource, CudaSourceKind, DockerfileFacts, FromImage, IndexUrl, ProjectFacts, PythonPin, Requirement, SourceLoc};

fn loc(file: &str, line: usize) -> SourceLoc {
    SourceLoc { file: file.into(), line: Some(line) }
}

/// A requirement as the scanner reports `name<spec>` (with `==X+local` split like the scanner does).
fn req(raw: &str) -> Requirement {
    let split = raw.find(|c: char| "=<>!~ ".contains(c)).unwrap_or(raw.len());
    let (name, spec) = raw.split_at(split);
    let (pinned, local) = match spec.strip_prefix("==") {
        Some(v) if !v.contains('*') && !v.contains(',') => match v.split_once('+') {
            Some((v, l)) => (Some(v.to_string()), Some(l.to_string())),
            None => (Some(v.to_string()), None),
        },
        _ => (None, None),
    };
    Requirement {
        name: name.to_string(),
        raw: raw.to_string(),
        specifier: spec.to_string(),
        pinned,
        local,
        extras: vec![],
        marker: None,
        group: "main".into(),
        source: loc("requirements.txt", 1),
    }
}

fn project(reqs: &[&str]) -> ProjectFacts {
    ProjectFacts { name: "demo".into(), requirements: reqs.iter().map(|r| req(r)).collect(), ..Default::default() }
}

fn host(driver: &str, cc: &str) -> TargetHost {
    TargetHost { driver: Some(driver.parse().unwrap()), compute_cap: Some(cc.parse().unwrap()), gpu_name: None, origin: TargetOrigin::Flags }
}

fn fw(s: &Stack) -> (String, String) {
    let f = s.framework.as_ref().unwrap();
    (f.version.clone(), f.wheel_variant.clone().unwrap_or_default())
}

#[test]
fn table_of_stacks() {
    type Case<'a> = (&'a [&'a str], &'a str, &'a str, &'a str, &'a str, &'a str, &'a str, bool);
    // (pins, driver, compute capability) → (image, python, torch series, variant, runs through minor-version compat)
    let cases: &[Case] = &[
        // RTX 30xx on a 550 driver (CUDA <= 12.4): the newest torch whose wheel runs is 2.13 with cu126, through
        // minor-version compatibility (any 12.x wheel on a driver >= 525.60.13); the base image is the newest
        // 12.x line the driver runs exactly.
        (&["torch"], "550.54.15", "8.6", "nvidia/cuda:12.4.1-base-ubuntu22.04", "3.10", "2.13", "cu126", true),
        // Pinned to 2.6: its cu124 wheel.
        (&["torch==2.6.0"], "550.54.15", "8.6", "nvidia/cuda:12.4.1-base-ubuntu22.04", "3.10", "2.6.0", "cu124", false),
        // The project's own +cu121 choice is kept on a driver that runs it.
        (&["torch==2.4.1+cu121"], "535.54.03", "8.0", "nvidia/cuda:12.1.1-base-ubuntu22.04", "3.10", "2.4.1", "cu121", false),
        // torch 2.4 on a 535 driver (CUDA 12.2): cu121 runs exactly, so it wins over cu124 (minor-version compat).
        (&["torch>=2.4,<2.5"], "535.54.03", "8.0", "nvidia/cuda:12.1.1-base-ubuntu22.04", "3.10", "2.4", "cu121", false),
        // The H200 machine: driver 580 (CUDA 13.0), Hopper: torch 2.15's cu132 wheel runs through minor-version
        // compatibility on the 13.0 base image.
        (&["torch", "torchvision"], "580.159.04", "9.0", "nvidia/cuda:13.0.2-base-ubuntu24.04", "3.12", "2.15", "cu132", true),
        // Pinned below 2.14 on the same host: cu130 runs exactly and wins over cu132.
        (&["torch<2.14"], "580.159.04", "9.0", "nvidia/cuda:13.0.2-base-ubuntu24.04", "3.12", "2.13", "cu130", false),
        // Blackwell on a 570 driver (CUDA 12.8) needs cu128 wheels: 2.11 is the newest release that has them.
        (&["torch"], "570.124.06", "12.0", "nvidia/cuda:12.8.1-base-ubuntu24.04", "3.12", "2.11", "cu128", false),
        // Pascal on a new driver: cu128+ wheels dropped sm_60, so cu126.
        (&["torch"], "580.65.06", "6.1", "nvidia/cuda:12.6.3-base-ubuntu24.04", "3.12", "2.13", "cu126", false),
        // An old pin (the seed's era) on Ampere: torch 1.12.1's newest variant with sm_86 kernels that the driver
        // runs; the wheel bundles its CUDA 11.6 runtime, so the newest living 11.x line is the image.
        (&["torch==1.12.1"], "535.54.03", "8.6", "nvidia/cuda:11.8.0-base-ubuntu22.04", "3.10", "1.12.1", "cu116", false),
        // torch 2.0 on Hopper: cu118 has sm_90, cu117 does not.
        (&["torch==2.0.1"], "580.159.04", "9.0", "nvidia/cuda:11.8.0-base-ubuntu22.04", "3.10", "2.0.1", "cu118", false),
    ];
    for (pins, driver, cc, image, python, series, variant, minor_compat) in cases {
        let s = resolve(&project(pins), &host(driver, cc), &StackRequest::default()).unwrap_or_else(|e| panic!("{pins:?} {driver} {cc}: {e}"));
        assert_eq!(&s.image, image, "{pins:?} {driver} {cc}: {:#?}", s.reasons);
        assert_eq!(&s.python, python, "{pins:?} {driver} {cc}");
        assert_eq!(fw(&s), (series.to_string(), variant.to_string()), "{pins:?} {driver} {cc}");
        let mvc_warned = s.warnings.iter().any(|w| w.contains("minor-version compatibility"));
        assert_eq!(mvc_warned, *minor_compat, "{pins:?} {driver} {cc}: {:?}", s.warnings);
        assert!(*minor_compat || s.warnings.is_empty(), "{pins:?}: {:?}", s.warnings);
        assert!(!s.reasons.is_empty());
    }
}

#[test]
fn framework_packages_come_from_the_variant_index() {
    let s = resolve(&project(&["torch", "torchvision>=0.19"]), &host("550.54.15", "8.6"), &StackRequest::default()).unwrap();
    let f = s.framework.unwrap();
    assert_eq!(f.index_url.as_deref(), Some("https://download.pytorch.org/whl/cu126"));
    assert_eq!(f.packages, ["torch==2.13.*", "torchvision>=0.19"]);
    // A companion pin picks the torch release it pairs with (torchvision 0.20 goes with torch 2.5).
    let s = resolve(&project(&["torch", "torchvision==0.20.1"]), &host("550.54.15", "8.6"), &StackRequest::default()).unwrap();
    assert_eq!(fw(&s), ("2.5".into(), "cu124".into()));
    // triton>=3.5 (Liger-style) rules out every torch before 2.9, whose wheels pin an older triton.
    let s = resolve(&project(&["torch>=2.1", "triton>=3.5.0"]), &host("580.159.04", "9.0"), &StackRequest { ..Default::default() }).unwrap();
    assert!(fw(&s).0.as_str() >= "2.9" || fw(&s).0.starts_with("2.1"), "{:?}", fw(&s));
    let e = resolve(&project(&["torch>=2.0,<2.8", "triton>=3.5.0"]), &host("580.159.04", "9.0"), &StackRequest::default()).unwrap_err();
    assert!(e.to_string().contains("triton>=3.5.0") && e.to_string().contains("pairs with triton"), "{e}");
}

#[test]
fn compiled_cuda_code_gets_devel_with_the_wheels_cuda() {
    let mut p = project(&["torch"]);
    p.cuda_sources.push(CudaSource { kind: CudaSourceKind::CudaExtension, source: loc("setup.py", 3) });
    let s = resolve(&p, &host("550.54.15", "8.6"), &StackRequest::default()).unwrap();
    // nvcc must match the wheel's CUDA (torch.utils.cpp_extension checks it): cu126's own 12.6 devel line, which
    // the 550 driver (CUDA 12.4) starts through minor-version compatibility, said in the stack and a warning.
    assert_eq!(s.image, "nvidia/cuda:12.6.3-devel-ubuntu24.04");
    assert_eq!(s.flavor, Flavor::Devel);
    assert!(s.cuda_minor_compat);
    assert!(s.warnings.iter().any(|w| w.contains("NVIDIA_DISABLE_REQUIRE")), "{:?}", s.warnings);
    // On the driver of its own CUDA, no such switch: torch 2.15 has only cu132 wheels, and since the image catalog
    // has the living 13.2 line (13.2.2), a 595 driver (CUDA 13.2) compiles against them with its exact devel image.
    let s = resolve(&p, &host("595.71.05", "9.0"), &StackRequest::default()).unwrap();
    assert_eq!((s.image.as_str(), s.cuda_minor_compat), ("nvidia/cuda:13.2.2-devel-ubuntu24.04", false));
    assert_eq!(fw(&s).1, "cu132");
    // A 580 driver (CUDA 13.0) runs the same through minor-version compatibility, said so.
    let s = resolve(&p, &host("580.159.04", "9.0"), &StackRequest::default()).unwrap();
    assert_eq!((s.image.as_str(), s.cuda_minor_compat), ("nvidia/cuda:13.2.2-devel-ubuntu24.04", true));
    // An old torch whose CUDA has no living line compiles with the newest line of its major.
    let mut old = project(&["torch==1.9.1"]);
    old.cuda_sources = p.cuda_sources.clone();
    let s = resolve(&old, &host("535.54.03", "8.6"), &StackRequest::default()).unwrap();
    assert_eq!((s.image.as_str(), fw(&s).1.as_str()), ("nvidia/cuda:11.8.0-devel-ubuntu20.04", "cu111"));
    assert!(s.warnings.iter().any(|w| w.contains("nvcc 11.8")), "{:?}", s.warnings);
    assert!(s.reasons.iter().any(|r| r.contains("setup.py:3")), "{:?}", s.reasons);
}

#[test]
fn no_framework_gets_the_runtime_image_the_driver_runs() {
    let s = resolve(&project(&["numpy"]), &host("535.54.03", "7.5"), &StackRequest::default()).unwrap();
    assert_eq!(s.image, "nvidia/cuda:12.2.2-runtime-ubuntu22.04");
    assert!(s.framework.is_none());
}

#[test]
fn conda_cudnn_pin_brings_the_cudnn_image() {
    let mut p = project(&[]);
    p.conda.push(crate::project::CondaPin { name: "cudnn".into(), version: "9".into(), source: loc("environment.yml", 5) });
    let s = resolve(&p, &host("550.54.15", "8.9"), &StackRequest::default()).unwrap();
    assert_eq!(s.image, "nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04");
    assert!(s.cudnn);
}

#[test]
fn tensorflow_uses_pip_cuda_and_a_base_image_the_driver_runs() {
    let s = resolve(&project(&["tensorflow"]), &host("550.54.15", "8.6"), &StackRequest::default()).unwrap();
    // TF 2.21 is tested with CUDA 12.5, newer than this driver's 12.4 image limit: the image is 12.4.1,
    // and the pip CUDA 12.5 libraries run through minor-version compatibility.
    assert_eq!(s.image, "nvidia/cuda:12.4.1-base-ubuntu22.04");
    assert_eq!(s.framework.as_ref().unwrap().packages, ["tensorflow[and-cuda]==2.21.*"]);
    // Before 2.15 TensorFlow loads CUDA 11 and cuDNN 8 from the system: the 11.8 cuDNN runtime image, no pip CUDA.
    let s = resolve(&project(&["tensorflow==2.13.1"]), &host("535.54.03", "8.6"), &StackRequest::default()).unwrap();
    assert_eq!(s.image, "nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu22.04");
    assert_eq!(s.framework.as_ref().unwrap().packages, ["tensorflow==2.13.1"]);
    // Older than the table: the reason says where the table starts.
    let e = resolve(&project(&["tensorflow==1.15"]), &host("535.54.03", "8.6"), &StackRequest::default()).unwrap_err();
    assert!(e.to_string().contains("TensorFlow 1.x") && e.to_string().contains("compute capability 8.6"), "{e}");
    assert!(crate::error::Coded::hints(&e).iter().any(|h| h.contains("nvidia-tensorflow")));
    let e = resolve(&project(&["tensorflow==2.4.0"]), &host("535.54.03", "8.6"), &StackRequest::default()).unwrap_err();
    assert!(e.to_string().contains("starts at TensorFlow 2.12"), "{e}");
}

#[test]
fn jax_takes_cuda13_where_the_driver_runs_it() {
    let s = resolve(&project(&["jax"]), &host("580.159.04", "9.0"), &StackRequest::default()).unwrap();
    assert_eq!(s.framework.as_ref().unwrap().packages, ["jax[cuda13]"]);
    assert!(s.python.as_str() >= "3.11", "jax 0.7+ needs Python 3.11: {}", s.python);
    // Pascal: CUDA 13 dropped it, so CUDA 12 wheels even on a 580 driver; an old pin has no cuda13 extra.
    let s = resolve(&project(&["jax"]), &host("580.159.04", "6.1"), &StackRequest::default()).unwrap();
    assert_eq!(s.framework.as_ref().unwrap().packages, ["jax[cuda12]"]);
    let s = resolve(&project(&["jax==0.4.30"]), &host("580.159.04", "9.0"), &StackRequest::default()).unwrap();
    assert_eq!(s.framework.as_ref().unwrap().packages, ["jax[cuda12]==0.4.30"]);
}

#[test]
fn jax_brings_cuda12_from_pip() {
    let s = resolve(&project(&["jax"]), &host("550.54.15", "8.6"), &StackRequest::default()).unwrap();
    assert_eq!(s.framework.as_ref().unwrap().packages, ["jax[cuda12]"]);
    assert_eq!(s.flavor, Flavor::Base);
}

#[test]
fn python_pin_outside_the_distribution_uses_deadsnakes() {
    let mut p = project(&["torch"]);
    p.python.push(PythonPin { specifier: "==3.11.*".into(), raw: "3.11".into(), source: loc(".python-version", 1) });
    let s = resolve(&p, &host("550.54.15", "8.6"), &StackRequest::default()).unwrap();
    assert_eq!((s.python.as_str(), s.ubuntu.as_str(), s.python_source), ("3.11", "22.04", PythonSource::Deadsnakes));
}

#[test]
fn no_target_facts_means_the_newest_stack_and_says_so() {
    let s = resolve(&project(&["torch"]), &TargetHost::unknown(), &StackRequest::default()).unwrap();
    // torch 2.15's only wheels are cu132, and 13.2.2 is the living 13.2 line.
    assert_eq!(s.image, "nvidia/cuda:13.2.2-base-ubuntu24.04");
    assert!(s.assumptions.iter().any(|a| a.contains("--driver")), "{:?}", s.assumptions);
}

#[test]
fn seed_style_pins_warn_and_name_the_replacement() {
    let mut p = project(&["torch"]);
    p.python.push(PythonPin { specifier: "==3.7.*".into(), raw: "3.7".into(), source: loc(".python-version", 1) });
    p.dockerfiles.push(DockerfileFacts {
        path: "Dockerfile".into(),
        from: vec![FromImage { image: "nvidia/cuda:10.2-cudnn7-devel-ubuntu18.04".into(), line: 1 }],
        generated_by_devgpu: false,
    });
    let s = resolve(&p, &host("580.159.04", "9.0"), &StackRequest::default()).unwrap();
    let all = s.warnings.join("\n");
    assert!(all.contains("Dockerfile:1") && all.contains("no longer publishes CUDA 10.2"), "{all}");
    assert!(all.contains("glibc 2.27"), "{all}");
    assert!(all.contains("compute capability 9.0"), "{all}");
    assert!(all.contains("Python pin 3.7") && all.contains("set aside"), "{all}");
    assert!(all.contains(&format!("devgpu chose {}", s.image)), "{all}");
    assert_eq!(s.python, "3.12");
}

#[test]
fn conflicts_are_errors_with_the_way_out() {
    // torch 2.1/2.2 have no Blackwell kernels (cu128 arrived with 2.7).
    let e = resolve(&project(&["torch>=2.1,<2.3"]), &host("570.124.06", "10.0"), &StackRequest::default()).unwrap_err();
    assert_eq!(crate::error::Coded::code(&e), "framework-conflict");
    let hints = crate::error::Coded::hints(&e).join("\n");
    assert!(hints.contains("use torch==2.7.* or newer"), "{hints}");
    // torch 1.x on Hopper: the reason is the GPU (no sm_90 kernels), never the release's age.
    let e = resolve(&project(&["torch==1.12.1"]), &host("580.159.04", "9.0"), &StackRequest::default()).unwrap_err();
    assert!(e.to_string().contains("compute capability 9.0") && e.to_string().contains("sm_37…sm_86"), "{e}");
    assert!(crate::error::Coded::hints(&e)[0].contains("torch==2.0.*"), "{:?}", crate::error::Coded::hints(&e));
    // Older than the table.
    let e = resolve(&project(&["torch==1.4.0"]), &host("535.54.03", "8.6"), &StackRequest::default()).unwrap_err();
    assert!(e.to_string().contains("1.8 to"), "{e}");
    // Kepler on a driver that no longer drives it; Blackwell on a driver that predates it (the floor is CUDA 12.8's).
    let e = resolve(&project(&["torch"]), &host("580.65.06", "3.7"), &StackRequest::default()).unwrap_err();
    assert_eq!(crate::error::Coded::code(&e), "gpu-driver-mismatch");
    assert!(e.to_string().contains("470"), "{e}");
    // Kepler on its last driver (470): no living image runs there, and no driver upgrade helps that GPU.
    let e = resolve(&project(&["torch"]), &host("470.82.01", "3.7"), &StackRequest::default()).unwrap_err();
    assert_eq!(crate::error::Coded::code(&e), "gpu-driver-mismatch");
    assert!(e.to_string().contains("470 driver branch") && e.to_string().contains("520.61.05"), "{e}");
    // --python overrides the project's Python pin when choosing the torch release too.
    let mut p = project(&["torch>=2.4"]);
    p.python.push(PythonPin { specifier: "==3.10.*".into(), raw: "3.10".into(), source: loc(".python-version", 1) });
    let s = resolve(&p, &host("535.54.03", "8.6"), &StackRequest { python: Some("3.8".parse().unwrap()), ..Default::default() }).unwrap();
    assert_eq!((s.python.as_str(), fw(&s).0.as_str()), ("3.8", "2.4"));
    let e = resolve(&project(&["torch"]), &host("535.54.03", "12.0"), &StackRequest::default()).unwrap_err();
    assert_eq!(crate::error::Coded::code(&e), "gpu-driver-mismatch");
    assert!(crate::error::Coded::hints(&e)[0].contains("570.26"), "{:?}", crate::error::Coded::hints(&e));
    // A driver too old for every living CUDA.
    let e = resolve(&project(&["jax"]), &host("470.82.01", "8.6"), &StackRequest::default()).unwrap_err();
    assert_eq!(crate::error::Coded::code(&e), "driver-too-old");
    assert!(e.to_string().contains("520.61.05"), "{e}");
    // A deleted CUDA line asked for by flag.
    let req = StackRequest { cuda: Some("10.2".parse().unwrap()), ..Default::default() };
    let e = resolve(&project(&[]), &host("550.54.15", "8.6"), &req).unwrap_err();
    assert_eq!(crate::error::Coded::code(&e), "cuda-image-deleted");
    // A CUDA newer than the driver, asked for by flag.
    let req = StackRequest { cuda: Some("12.8".parse().unwrap()), ..Default::default() };
    let e = resolve(&project(&[]), &host("550.54.15", "8.6"), &req).unwrap_err();
    assert_eq!(crate::error::Coded::code(&e), "cuda-unsuitable");
    assert!(e.to_string().contains("570.26"), "{e}");
    assert!(crate::error::Coded::hints(&e)[0].contains("--cuda 12.4"));
    // An explicit Python no PyTorch release supports.
    let req = StackRequest { python: Some("3.7".parse().unwrap()), ..Default::default() };
    let e = resolve(&project(&["torch>=2.9"]), &host("580.65.06", "9.0"), &req).unwrap_err();
    assert_eq!(crate::error::Coded::code(&e), "python-conflict");
    // The project's +cu121 on a driver that runs only CUDA 11.8 images: the fix names a driver.
    let e = resolve(&project(&["torch==2.4.1+cu121"]), &host("520.61.05", "8.6"), &StackRequest::default()).unwrap_err();
    let hints = crate::error::Coded::hints(&e).join("\n");
    assert!(hints.contains("upgrade the driver"), "{hints}");
}

#[test]
fn index_url_variant_is_respected() {
    let mut p = project(&["torch"]);
    p.index_urls.push(IndexUrl { url: "https://download.pytorch.org/whl/cu118".into(), extra: true, cuda_variant: Some("cu118".into()), source: loc("requirements.txt", 1) });
    let s = resolve(&p, &host("550.54.15", "8.6"), &StackRequest::default()).unwrap();
    assert_eq!(fw(&s), ("2.7".into(), "cu118".into()));
    assert_eq!(s.image, "nvidia/cuda:11.8.0-base-ubuntu22.04");
}

#[test]
fn cupy_wheels_fix_the_cuda_major_of_the_image() {
    // Driver 580 runs CUDA 13 images, but cupy-cuda12x loads CUDA 12 libraries: the newest 12.x line.
    let s = resolve(&project(&["cupy-cuda12x"]), &host("580.65.06", "9.0"), &StackRequest::default()).unwrap();
    assert_eq!(s.image, "nvidia/cuda:12.9.1-runtime-ubuntu24.04");
    assert!(s.reasons.iter().any(|r| r.contains("cupy-cuda12x")), "{:?}", s.reasons);
    // A CUDA 13 wheel on a driver that runs only CUDA 12.4 images cannot work.
    let e = resolve(&project(&["cupy-cuda13x"]), &host("550.54.15", "8.6"), &StackRequest::default()).unwrap_err();
    assert_eq!(crate::error::Coded::code(&e), "no-cuda-fits");
    assert!(crate::error::Coded::hints(&e)[0].contains("cupy-cuda12x"));
}
