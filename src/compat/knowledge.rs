//! The compatibility tables, loaded from `templates/compat/*.toml` (each file names its sources beside the data).
//! Embedded at compile time so the binary needs no data files; parsed once.

use super::versions::{ComputeCap, CudaVersion, DriverVersion, PythonVersion};
use serde::Deserialize;
use std::sync::OnceLock;

#[derive(Debug, Deserialize)]
struct CudaFile {
    release: Vec<RawRelease>,
    family: Vec<RawFamily>,
}
#[derive(Debug, Deserialize)]
struct RawRelease {
    version: String,
    min_driver: String,
}
#[derive(Debug, Deserialize)]
struct RawFamily {
    major: u32,
    min_driver: String,
}
#[derive(Debug, Deserialize)]
struct ArchFile {
    arch: Vec<RawArch>,
    package_floor: Vec<RawPackageFloor>,
}
#[derive(Debug, Deserialize)]
struct RawArch {
    cc: String,
    name: String,
    first_cuda: String,
    last_cuda: Option<String>,
    last_driver_branch: Option<u32>,
}
#[derive(Debug, Deserialize)]
struct RawPackageFloor {
    packages: Vec<String>,
    modules: Vec<String>,
    min_cc: String,
    why: String,
}
#[derive(Debug, Deserialize)]
struct ImagesFile {
    catalog_date: String,
    image: Vec<RawImage>,
    ubuntu: Vec<RawUbuntu>,
    vscode_min_glibc: String,
}
#[derive(Debug, Deserialize)]
struct RawImage {
    cuda: String,
    ubuntu: Vec<String>,
    cudnn_tag: String,
}
#[derive(Debug, Deserialize)]
struct RawUbuntu {
    version: String,
    codename: String,
    glibc: String,
    python: String,
    deadsnakes: Vec<String>,
}
#[derive(Debug, Deserialize)]
struct FrameworksFile {
    torch: Vec<RawTorch>,
    torch_arch: Vec<RawTorchArch>,
    tensorflow: Vec<RawTensorflow>,
    jax: RawJax,
    python_ceiling: Vec<RawPythonCeiling>,
}
#[derive(Debug, Deserialize)]
struct RawTorch {
    version: String,
    latest: String,
    variants: Vec<String>,
    python: String,
    triton: Option<String>,
}
#[derive(Debug, Deserialize)]
struct RawPythonCeiling {
    packages: Vec<String>,
    below: String,
    why: String,
}
#[derive(Debug, Deserialize)]
struct RawTorchArch {
    variants: Vec<String>,
    sm: Vec<String>,
}
#[derive(Debug, Deserialize)]
struct RawTensorflow {
    version: String,
    cuda: String,
    python: String,
    #[serde(default)]
    cuda_from: Option<String>,
}
#[derive(Debug, Deserialize)]
struct RawJax {
    extra: String,
    cuda: String,
    python: String,
    cuda13_since: String,
    cuda13_python: String,
    latest: String,
}

/// A CUDA release and the oldest driver that runs it.
#[derive(Debug, Clone)]
pub struct CudaRelease {
    pub version: CudaVersion,
    pub min_driver: DriverVersion,
}

#[derive(Debug, Clone)]
pub struct GpuArch {
    pub cc: ComputeCap,
    pub name: String,
    pub first_cuda: CudaVersion,
    pub last_cuda: Option<CudaVersion>,
    /// The last driver branch (major version) that drives this GPU: 470 for Kepler, 580 for Maxwell to Volta.
    pub last_driver_branch: Option<u32>,
}

/// A package (or the module it is imported as) whose kernels need at least this compute capability.
#[derive(Debug, Clone)]
pub struct PackageFloor {
    pub packages: Vec<String>,
    pub modules: Vec<String>,
    pub min_cc: ComputeCap,
    pub why: String,
}

/// One living `nvidia/cuda` release line (the last patch of a minor) and the Ubuntu releases it is built for.
#[derive(Debug, Clone)]
pub struct ImageLine {
    pub cuda: CudaVersion,
    pub ubuntu: Vec<String>,
    pub cudnn_tag: String,
}

#[derive(Debug, Clone)]
pub struct Ubuntu {
    pub version: String,
    pub codename: String,
    pub glibc: (u32, u32),
    pub python: PythonVersion,
    pub deadsnakes: Vec<PythonVersion>,
}

#[derive(Debug, Clone)]
pub struct TorchRelease {
    /// `2.4`
    pub series: String,
    pub latest: String,
    pub variants: Vec<String>,
    pub python: String,
    /// The triton release the Linux wheels pin (`3.7.0`; `~=3.8.0` style pins are kept as their base version).
    pub triton: Option<String>,
}

#[derive(Debug, Clone)]
pub struct TensorflowRelease {
    pub series: String,
    pub cuda: CudaVersion,
    pub python: String,
    /// Before 2.15 the wheel loads CUDA and cuDNN from the system: the image must carry them.
    pub cuda_from_image: bool,
}

#[derive(Debug, Clone)]
pub struct JaxInfo {
    pub extra: String,
    pub cuda_major: u32,
    pub python: String,
    /// The first jax with the `cuda13` extra, and the Python those releases need.
    pub cuda13_since: String,
    pub cuda13_python: String,
    /// The newest jax release the snapshot knows.
    pub latest: String,
}

/// Every table the resolver consults.
#[derive(Debug, Clone)]
pub struct Knowledge {
    pub cuda_releases: Vec<CudaRelease>,
    pub cuda_families: Vec<(u32, DriverVersion)>,
    pub archs: Vec<GpuArch>,
    pub package_floors: Vec<PackageFloor>,
    pub catalog_date: String,
    pub images: Vec<ImageLine>,
    pub ubuntus: Vec<Ubuntu>,
    pub vscode_min_glibc: (u32, u32),
    pub torch: Vec<TorchRelease>,
    /// Compute capabilities each torch wheel variant carries kernels for (`cu118` → 5.0 … 9.0).
    pub torch_arch: Vec<(Vec<String>, Vec<ComputeCap>)>,
    pub tensorflow: Vec<TensorflowRelease>,
    pub jax: JaxInfo,
    /// Packages that break on Pythons at or above `below`: (packages, below, why).
    pub python_ceilings: Vec<(Vec<String>, PythonVersion, String)>,
}

const CUDA_TOML: &str = include_str!("../../templates/compat/cuda.toml");
const ARCH_TOML: &str = include_str!("../../templates/compat/gpu_arch.toml");
const IMAGES_TOML: &str = include_str!("../../templates/compat/images.toml");
const FRAMEWORKS_TOML: &str = include_str!("../../templates/compat/frameworks.toml");

/// The embedded tables. They are part of the binary and covered by tests, so a parse failure is a build bug.
pub fn knowledge() -> &'static Knowledge {
    static K: OnceLock<Knowledge> = OnceLock::new();
    K.get_or_init(|| load().unwrap_or_else(|e| panic!("embedded compatibility data is invalid: {e}")))
}

fn glibc(text: &str) -> Result<(u32, u32), String> {
    let (a, b) = text.split_once('.').ok_or_else(|| format!("bad glibc `{text}`"))?;
    Ok((a.parse().map_err(|_| format!("bad glibc `{text}`"))?, b.parse().map_err(|_| format!("bad glibc `{text}`"))?))
}

fn s<T>(r: Result<T, super::versions::VersionParseError>) -> Result<T, String> {
    r.map_err(|e| e.to_string())
}

fn load() -> Result<Knowledge, String> {
    let e = |f: &'static str| move |err: toml::de::Error| format!("templates/compat/{f}: {err}");
    let cuda: CudaFile = toml::from_str(CUDA_TOML).map_err(e("cuda.toml"))?;
    let arch: ArchFile = toml::from_str(ARCH_TOML).map_err(e("gpu_arch.toml"))?;
    let images: ImagesFile = toml::from_str(IMAGES_TOML).map_err(e("images.toml"))?;
    let fw: FrameworksFile = toml::from_str(FRAMEWORKS_TOML).map_err(e("frameworks.toml"))?;

    let mut cuda_releases = Vec::new();
    for r in cuda.release {
        cuda_releases.push(CudaRelease { version: s(r.version.parse())?, min_driver: s(r.min_driver.parse())? });
    }
    cuda_releases.sort_by_key(|r| r.version);
    let mut cuda_families = Vec::new();
    for f in cuda.family {
        cuda_families.push((f.major, s(f.min_driver.parse())?));
    }
    let mut archs = Vec::new();
    for a in arch.arch {
        archs.push(GpuArch {
            cc: s(a.cc.parse())?,
            name: a.name,
            first_cuda: s(a.first_cuda.parse())?,
            last_cuda: match a.last_cuda {
                Some(v) => Some(s(v.parse())?),
                None => None,
            },
            last_driver_branch: a.last_driver_branch,
        });
    }
    let mut package_floors = Vec::new();
    for f in arch.package_floor {
        package_floors.push(PackageFloor { packages: f.packages, modules: f.modules, min_cc: s(f.min_cc.parse())?, why: f.why });
    }
    let mut image_lines = Vec::new();
    for i in images.image {
        image_lines.push(ImageLine { cuda: s(i.cuda.parse())?, ubuntu: i.ubuntu, cudnn_tag: i.cudnn_tag });
    }
    image_lines.sort_by_key(|l| l.cuda);
    let mut ubuntus = Vec::new();
    for u in images.ubuntu {
        let mut deadsnakes = Vec::new();
        for p in u.deadsnakes {
            deadsnakes.push(s(p.parse())?);
        }
        ubuntus.push(Ubuntu { version: u.version, codename: u.codename, glibc: glibc(&u.glibc)?, python: s(u.python.parse())?, deadsnakes });
    }
    let torch = fw
        .torch
        .into_iter()
        .map(|t| TorchRelease { series: t.version, latest: t.latest, variants: t.variants, python: t.python, triton: t.triton })
        .collect();
    let mut torch_arch = Vec::new();
    for a in fw.torch_arch {
        let mut sms = Vec::new();
        for sm in a.sm {
            sms.push(s(sm.parse())?);
        }
        torch_arch.push((a.variants, sms));
    }
    let mut tensorflow = Vec::new();
    for t in fw.tensorflow {
        tensorflow.push(TensorflowRelease { series: t.version, cuda: s(t.cuda.parse())?, python: t.python, cuda_from_image: t.cuda_from.as_deref() == Some("image") });
    }
    let mut python_ceilings = Vec::new();
    for c in fw.python_ceiling {
        python_ceilings.push((c.packages, s(c.below.parse())?, c.why));
    }
    let jax = JaxInfo {
        extra: fw.jax.extra,
        cuda_major: fw.jax.cuda.parse().map_err(|_| "bad jax cuda".to_string())?,
        python: fw.jax.python,
        cuda13_since: fw.jax.cuda13_since,
        cuda13_python: fw.jax.cuda13_python,
        latest: fw.jax.latest,
    };
    Ok(Knowledge {
        cuda_releases,
        cuda_families,
        archs,
        package_floors,
        catalog_date: images.catalog_date,
        images: image_lines,
        ubuntus,
        vscode_min_glibc: glibc(&images.vscode_min_glibc)?,
        torch,
        torch_arch,
        tensorflow,
        jax,
        python_ceilings,
    })
}

impl Knowledge {
    /// The newest CUDA (major.minor) a driver runs exactly, per the release-notes table.
    pub fn max_cuda_for_driver(&self, driver: &DriverVersion) -> Option<CudaVersion> {
        self.cuda_releases.iter().filter(|r| &r.min_driver <= driver).map(|r| r.version.minor_only()).max()
    }

    /// The oldest driver for a CUDA minor (its `.0` row, else the first row of that minor).
    pub fn min_driver_for(&self, cuda: CudaVersion) -> Option<&DriverVersion> {
        self.cuda_releases
            .iter()
            .filter(|r| r.version.major == cuda.major && r.version.minor == cuda.minor)
            .map(|r| &r.min_driver)
            .min()
    }

    /// Whether a driver runs pip-installed CUDA libraries of this major through minor-version compatibility.
    pub fn family_min_driver(&self, major: u32) -> Option<&DriverVersion> {
        self.cuda_families.iter().find(|(m, _)| *m == major).map(|(_, d)| d)
    }

    pub fn arch(&self, cc: ComputeCap) -> Option<&GpuArch> {
        // An unknown minor (say 8.7 on a table without it) falls back to the nearest lower entry of the same major.
        self.archs.iter().find(|a| a.cc == cc).or_else(|| self.archs.iter().rfind(|a| a.cc.major == cc.major && a.cc < cc))
    }

    /// The living image line for a CUDA minor, if NVIDIA still publishes one.
    pub fn image_line(&self, cuda: CudaVersion) -> Option<&ImageLine> {
        self.images.iter().find(|l| l.cuda.major == cuda.major && l.cuda.minor == cuda.minor)
    }

    /// The compute capabilities a torch wheel variant carries kernels for; None for a variant not in the table.
    pub fn torch_variant_sms(&self, variant: &str) -> Option<&[ComputeCap]> {
        self.torch_arch.iter().find(|(vs, _)| vs.iter().any(|v| v == variant)).map(|(_, sms)| sms.as_slice())
    }

    pub fn ubuntu(&self, version: &str) -> Option<&Ubuntu> {
        self.ubuntus.iter().find(|u| u.version == version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_tables_load() {
        let k = knowledge();
        assert!(k.cuda_releases.len() >= 16);
        assert!(k.images.iter().all(|i| i.cuda.major >= 11), "no 10.x tags: NVIDIA deleted them");
        assert_eq!(k.torch.first().unwrap().series, "1.8");
        for rel in &k.torch {
            for v in &rel.variants {
                assert!(k.torch_variant_sms(v).is_some(), "torch {} {v}: no architecture row in frameworks.toml", rel.series);
            }
        }
    }

    #[test]
    fn driver_to_max_cuda_follows_release_notes() {
        let k = knowledge();
        let d = |s: &str| s.parse::<DriverVersion>().unwrap();
        assert_eq!(k.max_cuda_for_driver(&d("535.54.03")).unwrap().short(), "12.2");
        assert_eq!(k.max_cuda_for_driver(&d("550.54.14")).unwrap().short(), "12.4");
        assert_eq!(k.max_cuda_for_driver(&d("580.159.04")).unwrap().short(), "13.0");
        assert_eq!(k.max_cuda_for_driver(&d("570.26")).unwrap().short(), "12.8");
        assert_eq!(k.max_cuda_for_driver(&d("470.82.01")), None);
    }

    #[test]
    fn arch_lookup() {
        let k = knowledge();
        assert_eq!(k.arch("9.0".parse().unwrap()).unwrap().first_cuda.short(), "11.8");
        assert_eq!(k.arch("6.1".parse().unwrap()).unwrap().last_cuda.unwrap().short(), "12.9");
        assert!(k.arch("1.0".parse().unwrap()).is_none());
    }
}
