//! FACTS (a pure rule over file names): alternative dependency files: which of a project's requirement (or conda) files the GPU image
//! installs. Projects ship mutually exclusive sets side by side (`requirements-cpu.txt` beside
//! `requirements-cuda.txt`, `requirements-jax-cpu.txt`, `environment-mac.yml`); merging them into one
//! install asks pip for packages that exclude each other.
//!
//! The rule, by the words of the file name (split at `-`, `_`, `.`, `/`):
//! - a file named for another platform (`cpu`, `mac`/`macos`/`osx`/`darwin`/`mps`, `win`/`windows`,
//!   `rocm`/`amd`, `tpu`, `xpu`/`intel`, `npu`/`ascend`) is set aside when an alternative for the GPU exists:
//!   a default file (group `main`, e.g. `requirements.txt`, `requirements/base.txt`) or one named for
//!   `gpu`/`cuda`/`cuXXX`;
//! - a file for the documentation (`docs`, `doc`, `sphinx`) is set aside whenever another file exists;
//! - with no alternative, a platform file is kept (it is all the project says) and a warning says so.

/// The reason a file name marks an alternative the GPU image does not want, if it does.
pub fn name_reason(path: &str) -> Option<&'static str> {
    const WORDS: &[(&[&str], &str)] = &[
        (&["cpu", "cpuonly"], "it is for CPU-only use"),
        (&["mac", "macos", "osx", "darwin", "mps", "apple"], "it is for macOS"),
        (&["win", "windows", "win32", "win64"], "it is for Windows"),
        (&["rocm", "amd", "hip"], "it is for AMD GPUs (ROCm)"),
        (&["tpu"], "it is for TPUs"),
        (&["xpu", "intel", "ipex"], "it is for Intel GPUs"),
        (&["npu", "ascend"], "it is for NPUs"),
        (&["docs", "doc", "sphinx", "readthedocs", "mkdocs"], "it is for building the documentation"),
    ];
    let words = name_words(path);
    WORDS.iter().find(|(ws, _)| words.iter().any(|w| ws.contains(&w.as_str()))).map(|(_, why)| *why)
}

fn is_docs_reason(why: &str) -> bool {
    why.contains("documentation")
}

fn name_words(path: &str) -> Vec<String> {
    let lower = path.to_ascii_lowercase();
    let stem = lower.rsplit_once('.').map(|(s, _)| s).unwrap_or(&lower).to_string();
    stem.split(['-', '_', '.', '/']).filter(|w| !w.is_empty()).map(str::to_string).collect()
}

/// Whether a file name says it is for NVIDIA GPUs (`gpu`, `cuda`, `cu121`).
pub fn names_gpu(path: &str) -> bool {
    name_words(path).iter().any(|w| w == "gpu" || w == "cuda" || w.starts_with("cuda") || super::versions::is_cu_tag(w))
}

/// The framework a file name is for (`requirements-torch-cuda.txt` → `pytorch`), if it names exactly one.
pub fn names_framework(path: &str) -> Option<&'static str> {
    const WORDS: &[(&[&str], &str)] = &[(&["torch", "pytorch"], "pytorch"), (&["jax", "jaxlib"], "jax"), (&["tensorflow", "tf"], "tensorflow")];
    let words = name_words(path);
    let mut hits = WORDS.iter().filter(|(ws, _)| words.iter().any(|w| ws.contains(&w.as_str()))).map(|(_, f)| *f);
    let first = hits.next()?;
    hits.next().is_none().then_some(first)
}

/// For each file (by path, with whether it is a default set, e.g. group `main`), the reason it is set
/// aside, or `None` when the GPU image installs it. Second: warnings for platform files kept for lack of
/// an alternative.
pub fn choose(files: &[(String, bool)]) -> (Vec<Option<String>>, Vec<(String, String)>) {
    let reasons: Vec<Option<&str>> = files.iter().map(|(p, _)| name_reason(p)).collect();
    let gpu_alternative = files.iter().zip(&reasons).any(|((p, default), r)| r.is_none() && (*default || names_gpu(p)));
    let any_other = reasons.iter().any(Option::is_none);
    let mut kept_warnings = Vec::new();
    let out = files
        .iter()
        .zip(&reasons)
        .map(|((p, _), r)| {
            let why = (*r)?;
            let alternative = if is_docs_reason(why) { any_other } else { gpu_alternative };
            if alternative {
                Some(format!("{why}; the GPU image installs the project's other requirement files"))
            } else {
                if !is_docs_reason(why) {
                    kept_warnings.push((p.clone(), format!("{p}'s name says {}, but no GPU or default alternative exists: it is installed", why.trim_start_matches("it is "))));
                }
                None
            }
        })
        .collect();
    (out, kept_warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(files: &[(&str, bool)]) -> Vec<Option<String>> {
        choose(&files.iter().map(|(p, d)| (p.to_string(), *d)).collect::<Vec<_>>()).0
    }

    #[test]
    fn names() {
        assert_eq!(name_reason("requirements-cpu.txt"), Some("it is for CPU-only use"));
        assert_eq!(name_reason("requirements-jax-cpu.txt"), Some("it is for CPU-only use"));
        assert_eq!(name_reason("requirements/docs.txt"), Some("it is for building the documentation"));
        assert_eq!(name_reason("requirements_macos.txt"), Some("it is for macOS"));
        assert_eq!(name_reason("environment-rocm.yml"), Some("it is for AMD GPUs (ROCm)"));
        // words, not substrings: `twin`, `window`, `document` name no platform
        for p in ["requirements.txt", "requirements-twin.txt", "requirements-cuda.txt", "requirements-dev.txt", "requirements-windowing.txt"] {
            assert_eq!(name_reason(p), None, "{p}");
        }
        assert!(names_gpu("requirements-cuda12.txt") && names_gpu("requirements_gpu.txt") && names_gpu("requirements-cu118.txt"));
        assert!(!names_gpu("requirements-dev.txt"));
    }

    #[test]
    fn sets_aside_only_with_an_alternative() {
        let r = run(&[("requirements-cpu.txt", false), ("requirements-cuda.txt", false), ("requirements-docs.txt", false)]);
        assert!(r[0].is_some() && r[1].is_none() && r[2].is_some());
        let r = run(&[("requirements.txt", true), ("requirements-mac.txt", false)]);
        assert!(r[0].is_none() && r[1].is_some());
        // a dev file is no GPU alternative to the CPU set: the CPU file is all there is
        let (r, warn) = choose(&[("requirements-cpu.txt".into(), false), ("requirements-dev.txt".into(), false)]);
        assert_eq!(r, vec![None, None]);
        assert_eq!(warn.len(), 1);
        assert!(warn[0].1.contains("no GPU or default alternative"), "{}", warn[0].1);
        // docs alone is kept, without a warning
        let (r, warn) = choose(&[("requirements-docs.txt".into(), false)]);
        assert_eq!(r, vec![None]);
        assert!(warn.is_empty());
    }
}
