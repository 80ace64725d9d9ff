//! The GPUs and the driver through NVML (`libnvidia-ml.so.1`, part of the NVIDIA driver), loaded at run time: the
//! binary has no link-time dependency on the driver and runs the same on machines without one.
//!
//! Where the library is: the dynamic loader's default search first (what `nvidia-smi` and the container toolkit
//! use), then the driver roots that are often not on the loader path — `/usr/local/nvidia/lib64` (GPU cloud
//! images and Kubernetes device plugins mount the driver there), the distribution's multiarch and lib64 folders,
//! WSL's `/usr/lib/wsl/lib` and NixOS's `/run/opengl-driver/lib`.
//!
//! The library's own version comes from the file the loader mapped (`libnvidia-ml.so.580.159.04`), read from
//! `/proc/self/maps` while the library is loaded, so it is known even when NVML refuses to start with
//! "Driver/library version mismatch".

use super::nvidia_smi::GpuInfo;
use crate::compat::{ComputeCap, CudaVersion, DriverVersion};
use std::path::Path;
pub use crate::model::host::{NVML_LIB, NvmlStatus, NvmlFacts};


/// Driver library folders tried (in this order) after the loader's default search.
pub const DRIVER_LIB_DIRS: &[&str] = &[
    "/usr/local/nvidia/lib64",
    "/usr/local/nvidia/lib",
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/usr/lib64",
    "/usr/lib",
    "/usr/lib/wsl/lib",
    "/run/opengl-driver/lib",
];



impl NvmlFacts {
    pub fn not_found(tried: Vec<String>) -> Self {
        NvmlFacts {
            status: NvmlStatus::LibraryNotFound,
            error_code: None,
            error: None,
            library: None,
            library_version: None,
            tried,
            driver_version: None,
            cuda_version: None,
            nvml_version: None,
            gpus: Vec::new(),
            gpu_errors: Vec::new(),
        }
    }
}

/// NVML's CUDA driver version integer (`13000`, `12040`) as a CUDA version.
pub fn cuda_from_nvml(v: i32) -> Option<CudaVersion> {
    (v > 0).then(|| CudaVersion::new((v / 1000) as u32, ((v % 1000) / 10) as u32, 0))
}

/// The driver version in a library file name: `libnvidia-ml.so.580.159.04` → `580.159.04` (`.so.1` has none).
pub fn version_from_lib_name(path: &str) -> Option<DriverVersion> {
    let name = path.rsplit('/').next()?;
    let v = name.split_once(".so.")?.1;
    if v.matches('.').count() < 1 {
        return None;
    }
    v.parse().ok()
}

/// The path of the mapped NVML library in a `/proc/self/maps` text.
pub fn nvml_path_in_maps(maps: &str) -> Option<String> {
    maps.lines().filter_map(|l| l.split_whitespace().nth(5)).find(|p| p.rsplit('/').next().is_some_and(|n| n.starts_with("libnvidia-ml.so"))).map(str::to_string)
}

/// The kebab code for an NVML error.
pub fn error_code(e: &nvml_wrapper::error::NvmlError) -> &'static str {
    use nvml_wrapper::error::NvmlError as E;
    match e {
        E::LibRmVersionMismatch => "driver-library-mismatch",
        E::DriverNotLoaded => "driver-not-loaded",
        E::NoPermission => "no-permission",
        E::Unknown => "unknown",
        E::FailedToLoadSymbol(_) | E::FunctionNotFound => "symbol-missing",
        E::GpuLost => "gpu-lost",
        _ => "other",
    }
}

/// NVML's error the way `nvidia-smi` prints it, so it matches the diagnosis table and what users search for.
fn error_text(e: &nvml_wrapper::error::NvmlError) -> String {
    use nvml_wrapper::error::NvmlError as E;
    match e {
        E::LibRmVersionMismatch => "Failed to initialize NVML: Driver/library version mismatch".into(),
        E::DriverNotLoaded => "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver (NVML: driver not loaded)".into(),
        E::NoPermission => "Failed to initialize NVML: Insufficient Permissions".into(),
        E::Unknown => "Failed to initialize NVML: Unknown Error".into(),
        other => format!("NVML: {other}"),
    }
}

/// Load NVML and read the driver and every GPU (edge).
pub fn probe() -> NvmlFacts {
    let mut candidates = vec![NVML_LIB.to_string()];
    for dir in DRIVER_LIB_DIRS {
        let p = Path::new(dir).join(NVML_LIB);
        if p.exists() {
            candidates.push(p.display().to_string());
        }
    }
    let mut tried = Vec::new();
    for candidate in candidates {
        tried.push(candidate.clone());
        // Hold our own handle so the library stays mapped (and its path readable) even if nvmlInit fails and
        // nvml-wrapper unloads its handle.
        // SAFETY: loading the NVIDIA driver's own library runs its initialisers, as nvidia-smi does.
        let Ok(_handle) = (unsafe { libloading::Library::new(&candidate) }) else { continue };
        let library = std::fs::read_to_string("/proc/self/maps").ok().and_then(|m| nvml_path_in_maps(&m)).map(|p| {
            std::fs::canonicalize(&p).map(|c| c.display().to_string()).unwrap_or(p)
        });
        let library_version = library.as_deref().and_then(version_from_lib_name);
        let mut facts = NvmlFacts { library, library_version, ..NvmlFacts::not_found(tried) };
        match nvml_wrapper::Nvml::builder().lib_path(std::ffi::OsStr::new(&candidate)).init() {
            Ok(nvml) => {
                facts.status = NvmlStatus::Ok;
                read(&nvml, &mut facts);
            }
            Err(e) => {
                facts.status = NvmlStatus::InitFailed;
                facts.error_code = Some(error_code(&e).to_string());
                facts.error = Some(error_text(&e));
            }
        }
        return facts;
    }
    NvmlFacts::not_found(tried)
}

fn read(nvml: &nvml_wrapper::Nvml, f: &mut NvmlFacts) {
    f.driver_version = nvml.sys_driver_version().ok().and_then(|v| v.parse().ok());
    f.cuda_version = nvml.sys_cuda_driver_version().ok().and_then(cuda_from_nvml);
    f.nvml_version = nvml.sys_nvml_version().ok();
    let count = match nvml.device_count() {
        Ok(c) => c,
        Err(e) => {
            f.gpu_errors.push(format!("cannot count the GPUs: {}", error_text(&e)));
            return;
        }
    };
    let driver = f.driver_version.clone().or_else(|| f.library_version.clone());
    for i in 0..count {
        let d = match nvml.device_by_index(i) {
            Ok(d) => d,
            Err(e) => {
                f.gpu_errors.push(format!("GPU {i}: {}", error_text(&e)));
                continue;
            }
        };
        let name = match d.name() {
            Ok(n) => n,
            Err(e) => {
                f.gpu_errors.push(format!("GPU {i}: {}", error_text(&e)));
                continue;
            }
        };
        let Some(driver) = driver.clone() else { continue };
        f.gpus.push(GpuInfo {
            index: i,
            name,
            uuid: d.uuid().unwrap_or_default(),
            pci_bus_id: d.pci_info().map(|p| p.bus_id).unwrap_or_default(),
            driver,
            compute_cap: d.cuda_compute_capability().ok().map(|c| ComputeCap { major: c.major as u32, minor: c.minor as u32 }),
            memory_mib: d.memory_info().ok().map(|m| m.total / (1024 * 1024)),
            mig_mode: match d.mig_mode() {
                Ok(m) => Some(if m.current == 1 { "Enabled".to_string() } else { "Disabled".to_string() }),
                Err(_) => None, // not supported on this GPU
            },
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values read through NVML on the H200 (tests/fixtures/h200/nvml.json).
    #[test]
    fn nvml_values_recorded_on_the_h200() {
        let v: serde_json::Value = serde_json::from_str(include_str!("../../tests/fixtures/h200/nvml.json")).unwrap();
        assert_eq!(cuda_from_nvml(v["cuda_driver"].as_i64().unwrap() as i32).unwrap().short(), "13.0");
        assert_eq!(v["mem_total"].as_u64().unwrap() / (1024 * 1024), 143771, "same MiB as nvidia-smi reports");
        assert_eq!(cuda_from_nvml(12040).unwrap().short(), "12.4");
        assert_eq!(cuda_from_nvml(11080).unwrap().short(), "11.8");
        assert_eq!(cuda_from_nvml(0), None);
    }

    #[test]
    fn library_versions_from_file_names() {
        assert_eq!(version_from_lib_name("/usr/local/nvidia/lib64/libnvidia-ml.so.580.159.04").unwrap().to_string(), "580.159.04");
        assert_eq!(version_from_lib_name("/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.570.26").unwrap().to_string(), "570.26");
        assert_eq!(version_from_lib_name("/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1"), None);
        assert_eq!(version_from_lib_name("libnvidia-ml.so"), None);
        // the H200's driver folder, as listed there
        let listing = include_str!("../../tests/fixtures/h200/usr-local-nvidia.txt");
        let target = listing.lines().find(|l| l.contains("libnvidia-ml.so.1 ->")).unwrap().rsplit(' ').next().unwrap();
        assert_eq!(version_from_lib_name(target).unwrap().to_string(), "580.159.04");
    }

    #[test]
    fn finds_the_mapped_library() {
        let maps = "7f0000000000-7f0000001000 r--p 00000000 fd:01 123 /usr/lib/x86_64-linux-gnu/libc.so.6\n\
                    7f1000000000-7f1000100000 r-xp 00010000 00:2a 456 /usr/local/nvidia/lib64/libnvidia-ml.so.580.159.04\n\
                    7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0 [stack]\n";
        assert_eq!(nvml_path_in_maps(maps).as_deref(), Some("/usr/local/nvidia/lib64/libnvidia-ml.so.580.159.04"));
        assert_eq!(nvml_path_in_maps("7f00-7f01 r--p 0 fd:01 1 /usr/lib/libc.so.6\n"), None);
    }

    /// On a machine without the driver (CI), NVML is reported missing, never a panic.
    #[test]
    fn probe_never_panics() {
        let f = probe();
        assert!(!f.tried.is_empty());
        if f.status == NvmlStatus::LibraryNotFound {
            assert!(f.gpus.is_empty());
        }
    }
}
