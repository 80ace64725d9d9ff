//! `nvidia/cuda` tags: building them from a stack, parsing them back, and judging an image someone else chose
//! (a `FROM` line) against the living catalog, the VS Code server's glibc floor, the GPU and the driver.

use super::knowledge::Knowledge;
use super::versions::{ComputeCap, CudaVersion, DriverVersion};
use serde::Serialize;

pub const CUDA_REPO: &str = "nvidia/cuda";

/// `base` = cudart only; `runtime` = all CUDA shared libraries; `devel` = + nvcc and headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Flavor {
    Base,
    Runtime,
    Devel,
}

impl Flavor {
    pub fn as_str(self) -> &'static str {
        match self {
            Flavor::Base => "base",
            Flavor::Runtime => "runtime",
            Flavor::Devel => "devel",
        }
    }
}

/// The parts of an `nvidia/cuda` tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CudaTag {
    pub cuda: CudaVersion,
    /// The cuDNN part as written (`cudnn`, `cudnn8`, `cudnn7`), if any.
    pub cudnn: Option<String>,
    pub flavor: Option<Flavor>,
    /// `ubuntu22.04` → `22.04`; other distributions keep their name (`ubi8`, `rockylinux9`).
    pub os: String,
}

/// Render the tag for a CUDA line: `12.4.1-cudnn-runtime-ubuntu22.04`.
pub fn tag_for(cuda: CudaVersion, cudnn_tag: Option<&str>, flavor: Flavor, ubuntu: &str) -> String {
    // `base` images have no cuDNN variant.
    match cudnn_tag {
        Some(c) if flavor != Flavor::Base => format!("{}-{}-{}-ubuntu{}", cuda.full(), c, flavor.as_str(), ubuntu),
        _ => format!("{}-{}-ubuntu{}", cuda.full(), flavor.as_str(), ubuntu),
    }
}

/// Parse `nvidia/cuda:<tag>` (also `docker.io/nvidia/cuda`, `nvcr.io/nvidia/cuda`). None for other images.
pub fn parse_cuda_image(image: &str) -> Option<CudaTag> {
    let (repo, tag) = image.rsplit_once(':')?;
    let repo = repo.trim_start_matches("docker.io/").trim_start_matches("index.docker.io/").trim_start_matches("nvcr.io/");
    if repo != CUDA_REPO {
        return None;
    }
    let tag = tag.split('@').next().unwrap_or(tag);
    let mut parts = tag.split('-');
    let version = parts.next()?;
    let cuda: CudaVersion = version.parse().ok()?;
    let mut cudnn = None;
    let mut flavor = None;
    let mut os = String::new();
    for p in parts {
        match p {
            "base" => flavor = Some(Flavor::Base),
            "runtime" => flavor = Some(Flavor::Runtime),
            "devel" => flavor = Some(Flavor::Devel),
            p if p.starts_with("cudnn") => cudnn = Some(p.to_string()),
            p => os = p.strip_prefix("ubuntu").unwrap_or(p).to_string(),
        }
    }
    Some(CudaTag { cuda, cudnn, flavor, os })
}

/// One problem with an image somebody picked, with the way out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageProblem {
    pub code: &'static str,
    pub message: String,
}

/// Judge an image reference against the living catalog and the target. `None` facts are not judged.
pub fn check_image(k: &Knowledge, image: &str, cc: Option<ComputeCap>, driver: Option<&DriverVersion>) -> Vec<ImageProblem> {
    let Some(tag) = parse_cuda_image(image) else { return Vec::new() };
    let mut out = Vec::new();
    let living = k.image_line(tag.cuda);
    match living {
        None => out.push(ImageProblem {
            code: "image-tag-deleted",
            message: format!(
                "{image}: NVIDIA no longer publishes CUDA {} images (end-of-life tags answer \"manifest unknown\"); the oldest living line is CUDA {} (catalog of {})",
                tag.cuda.short(),
                k.images.first().map(|l| l.cuda.full()).unwrap_or_default(),
                k.catalog_date
            ),
        }),
        Some(line) if line.cuda != tag.cuda => {
            out.push(ImageProblem {
                code: "image-tag-superseded",
                message: format!(
                    "{image}: CUDA {} was superseded by {}; NVIDIA deletes a tag once a newer update of the same CUDA exists — use {}",
                    tag.cuda.full(),
                    line.cuda.full(),
                    line.cuda.full()
                ),
            })
        }
        Some(line) if !tag.os.is_empty() && tag.os.chars().next().is_some_and(|c| c.is_ascii_digit()) && !line.ubuntu.contains(&tag.os) => {
            out.push(ImageProblem {
                code: "image-tag-deleted",
                message: format!("{image}: CUDA {} is not published for Ubuntu {} (available: {})", line.cuda.full(), tag.os, line.ubuntu.join(", ")),
            })
        }
        _ => {}
    }
    if let Some(u) = k.ubuntu(&tag.os) {
        if u.glibc < k.vscode_min_glibc {
            out.push(ImageProblem {
                code: "image-glibc-too-old",
                message: format!(
                    "{image}: Ubuntu {} has glibc {}.{}, but the VS Code server needs glibc >= {}.{} since VS Code 1.99 (March 2025): VS Code cannot attach — use Ubuntu 20.04 or newer",
                    u.version, u.glibc.0, u.glibc.1, k.vscode_min_glibc.0, k.vscode_min_glibc.1
                ),
            });
        }
    }
    if let Some(cc) = cc {
        if let Some(arch) = k.arch(cc) {
            if tag.cuda.minor_only() < arch.first_cuda {
                out.push(ImageProblem {
                    code: "image-cuda-too-old-for-gpu",
                    message: format!(
                        "{image}: CUDA {} does not know compute capability {cc} ({}); it needs CUDA >= {}",
                        tag.cuda.short(),
                        arch.name,
                        arch.first_cuda.short()
                    ),
                });
            }
            if let Some(last) = arch.last_cuda {
                if tag.cuda.minor_only() > last {
                    out.push(ImageProblem {
                        code: "image-cuda-too-new-for-gpu",
                        message: format!("{image}: CUDA {} dropped compute capability {cc} ({}); the last CUDA for it is {}", tag.cuda.short(), arch.name, last.short()),
                    });
                }
            }
        }
    }
    if let Some(driver) = driver {
        let max = k.max_cuda_for_driver(driver);
        if max.is_none_or(|m| tag.cuda.minor_only() > m) {
            let need = k.min_driver_for(tag.cuda).map(|d| d.to_string()).unwrap_or_else(|| "a newer driver".into());
            out.push(ImageProblem {
                code: "image-cuda-too-new-for-driver",
                message: format!(
                    "{image}: CUDA {} needs driver >= {need}; the target has {driver} (CUDA <= {}) — the container would fail with \"unsatisfied condition: cuda>={}\"",
                    tag.cuda.short(),
                    max.map(|m| m.short()).unwrap_or_else(|| "none".into()),
                    tag.cuda.short()
                ),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compat::knowledge::knowledge;

    #[test]
    fn tags_render_and_parse_back() {
        let t = tag_for("12.4.1".parse().unwrap(), Some("cudnn"), Flavor::Runtime, "22.04");
        assert_eq!(t, "12.4.1-cudnn-runtime-ubuntu22.04");
        assert_eq!(tag_for("12.4.1".parse().unwrap(), Some("cudnn"), Flavor::Base, "22.04"), "12.4.1-base-ubuntu22.04");
        let p = parse_cuda_image(&format!("nvidia/cuda:{t}")).unwrap();
        assert_eq!(p.cuda.full(), "12.4.1");
        assert_eq!(p.cudnn.as_deref(), Some("cudnn"));
        assert_eq!(p.flavor, Some(Flavor::Runtime));
        assert_eq!(p.os, "22.04");
        assert!(parse_cuda_image("python:3.11").is_none());
        assert!(parse_cuda_image("nvcr.io/nvidia/cuda:12.2.2-devel-ubuntu22.04").is_some());
    }

    #[test]
    fn the_blog_image_has_every_problem() {
        let k = knowledge();
        let p = check_image(k, "nvidia/cuda:10.2-cudnn7-devel-ubuntu18.04", Some("9.0".parse().unwrap()), Some(&"580.65.06".parse().unwrap()));
        let codes: Vec<_> = p.iter().map(|p| p.code).collect();
        assert_eq!(codes, vec!["image-tag-deleted", "image-glibc-too-old", "image-cuda-too-old-for-gpu"]);
    }

    #[test]
    fn a_living_image_on_a_fitting_host_is_fine() {
        let k = knowledge();
        assert!(check_image(k, "nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04", Some("8.6".parse().unwrap()), Some(&"550.54.15".parse().unwrap())).is_empty());
    }

    #[test]
    fn too_new_for_the_driver_and_superseded() {
        let k = knowledge();
        let p = check_image(k, "nvidia/cuda:12.8.0-runtime-ubuntu22.04", None, Some(&"550.54.15".parse().unwrap()));
        let codes: Vec<_> = p.iter().map(|p| p.code).collect();
        assert_eq!(codes, vec!["image-tag-superseded", "image-cuda-too-new-for-driver"]);
        assert!(p[1].message.contains("570.26"), "{}", p[1].message);
    }
}
