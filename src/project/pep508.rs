//! Shared helpers: a PEP 508 string → [`Requirement`] (through `pep508_rs`, not a regex), PEP 503 names,
//! PEP 440 specifier normalisation, CUDA variants in index URLs, wheel file names, offsets → line:column.

use crate::model::project::{Requirement, SourceLoc};
use pep508_rs::pep440_rs::{Operator, Version, VersionSpecifiers};
use pep508_rs::{VersionOrUrl, VerbatimUrl};
use std::str::FromStr;

pub(crate) fn loc(file: &str, line: usize) -> SourceLoc {
    SourceLoc { file: file.to_string(), line: Some(line) }
}

/// PEP 503 normalisation: lowercase, runs of `-`, `_`, `.` become one `-`.
pub fn normalize_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut sep = false;
    for c in name.trim().chars() {
        if c == '-' || c == '_' || c == '.' {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// Parse one PEP 508 requirement (`torch[opt]==2.4.1+cu121; sys_platform == "linux"`).
/// `Err` carries pep508_rs's one-line reason.
pub fn parse_requirement(text: &str, group: &str, source: SourceLoc) -> Result<Requirement, String> {
    let text = text.trim();
    let req = pep508_rs::Requirement::<VerbatimUrl>::from_str(text).map_err(|e| e.message.to_string())?;
    let mut r = Requirement {
        name: req.name.to_string(),
        raw: text.to_string(),
        specifier: String::new(),
        pinned: None,
        local: None,
        extras: req.extras.iter().map(|e| e.to_string()).collect(),
        marker: req.marker.try_to_string(),
        group: group.to_string(),
        source,
    };
    match &req.version_or_url {
        Some(VersionOrUrl::VersionSpecifier(specs)) => {
            r.specifier = join_specifiers(specs);
            if let Some((pinned, local)) = pin_of(specs) {
                r.pinned = Some(pinned);
                r.local = local;
            }
        }
        Some(VersionOrUrl::Url(url)) => {
            // `torch @ https://…/torch-2.0.0%2Bcu118-cp310-cp310-linux_x86_64.whl` installs exactly that version.
            if let Some((_, version)) = wheel_name_version(&url.to_string()) {
                apply_wheel_version(&mut r, &version);
            }
        }
        None => {}
    }
    Ok(r)
}

/// A wheel's version as a pin (`==2.0.0+cu118`, pinned `2.0.0`, local `cu118`).
pub(crate) fn apply_wheel_version(r: &mut Requirement, version: &str) {
    if let Ok(v) = Version::from_str(version) {
        r.specifier = format!("=={v}");
        r.pinned = Some(v.clone().without_local().to_string());
        r.local = local_of(&v);
    }
}

/// `>=2.1,<2.5` (pep508_rs writes `>=2.1, <2.5`; we drop the space).
pub fn join_specifiers(specs: &VersionSpecifiers) -> String {
    specs.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(",")
}

/// Parse and normalise a PEP 440 specifier set (`>= 3.9, <3.12` → `>=3.9,<3.12`).
pub fn normalize_specifiers(text: &str) -> Result<String, String> {
    let specs = VersionSpecifiers::from_str(text.trim()).map_err(|e| first_line(&e.to_string()))?;
    Ok(join_specifiers(&specs))
}

/// The version an `==`/`===` specifier pins (without its local part), and that local part.
fn pin_of(specs: &VersionSpecifiers) -> Option<(String, Option<String>)> {
    let spec = specs.iter().find(|s| matches!(s.operator(), Operator::Equal | Operator::ExactEqual))?;
    let v = spec.version();
    Some((v.clone().without_local().to_string(), local_of(v)))
}

fn local_of(v: &Version) -> Option<String> {
    let local = v.local();
    if local.is_empty() {
        None
    } else {
        Some(local.iter().map(|s| s.to_string()).collect::<Vec<_>>().join("."))
    }
}

pub(crate) fn first_line(s: &str) -> String {
    s.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("").to_string()
}

/// The CUDA variant a package index or find-links URL names: a path segment `cu121`
/// (`https://download.pytorch.org/whl/cu121`, `…/whl/nightly/cu128`) or a `+cu121` local tag in a file
/// name (`https://data.pyg.org/whl/torch-2.1.0+cu121.html`). `cpu`/`rocm` indexes give `None`.
pub fn cuda_variant_from_url(url: &str) -> Option<String> {
    let no_query = url.split(['?', '#']).next().unwrap_or(url);
    let path = match no_query.find("://") {
        Some(i) => no_query[i + 3..].split_once('/').map(|(_, p)| p).unwrap_or(""),
        None => no_query,
    };
    let path = path.replace("%2B", "+").replace("%2b", "+");
    for seg in path.split('/') {
        if is_cu_tag(seg) {
            return Some(seg.to_string());
        }
    }
    for seg in path.split('/') {
        for (i, _) in seg.match_indices('+') {
            let tail = &seg[i + 1..];
            let tag: String = tail.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
            if is_cu_tag(&tag) {
                return Some(tag);
            }
        }
    }
    None
}

pub use crate::model::versions::is_cu_tag;

/// Name and version of a wheel file name or URL (`torch-2.0.0%2Bcu118-cp310-cp310-linux_x86_64.whl`).
pub fn wheel_name_version(url_or_path: &str) -> Option<(String, String)> {
    let no_query = url_or_path.split(['?', '#']).next()?;
    let file = no_query.rsplit(['/', '\\']).next()?;
    let stem = file.strip_suffix(".whl")?;
    let stem = stem.replace("%2B", "+").replace("%2b", "+");
    let parts: Vec<&str> = stem.split('-').collect();
    // name-version(-build)?-python-abi-platform
    if parts.len() < 5 || parts.len() > 6 {
        return None;
    }
    Version::from_str(parts[1]).ok()?;
    Some((normalize_name(parts[0]), parts[1].to_string()))
}

pub use crate::text::line_col;

/// 1-based line of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    line_col(text, offset).0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(s: &str) -> Requirement {
        parse_requirement(s, "main", loc("requirements.txt", 1)).unwrap()
    }

    #[test]
    fn normalizes_names() {
        assert_eq!(normalize_name("Torch_Vision"), "torch-vision");
        assert_eq!(normalize_name("flash_attn"), "flash-attn");
        assert_eq!(normalize_name("zope.interface"), "zope-interface");
        assert_eq!(normalize_name("A__b--C"), "a-b-c");
    }

    #[test]
    fn pins_and_locals() {
        let r = req("torch==2.4.1+cu121");
        assert_eq!(r.name, "torch");
        assert_eq!(r.specifier, "==2.4.1+cu121");
        assert_eq!(r.pinned.as_deref(), Some("2.4.1"));
        assert_eq!(r.local.as_deref(), Some("cu121"));

        let r = req("Torch_Vision >= 0.15, <0.20");
        assert_eq!(r.name, "torch-vision");
        assert_eq!(r.specifier, ">=0.15,<0.20");
        assert_eq!(r.pinned, None);

        let r = req("jax[cuda12]==0.4.30 ; sys_platform == 'linux'");
        assert_eq!(r.extras, vec!["cuda12"]);
        assert_eq!(r.pinned.as_deref(), Some("0.4.30"));
        assert_eq!(r.local, None);
        assert_eq!(r.marker.as_deref(), Some("sys_platform == 'linux'"));
        assert_eq!(r.raw, "jax[cuda12]==0.4.30 ; sys_platform == 'linux'");

        assert_eq!(req("numpy==1.26.*").pinned, None);
        assert_eq!(req("numpy").specifier, "");
    }

    #[test]
    fn url_requirement_with_wheel_gives_pin() {
        let r = req("torch @ https://download.pytorch.org/whl/cu118/torch-2.0.0%2Bcu118-cp310-cp310-linux_x86_64.whl");
        assert_eq!(r.name, "torch");
        assert_eq!(r.pinned.as_deref(), Some("2.0.0"));
        assert_eq!(r.local.as_deref(), Some("cu118"));
        let r = req("mypkg @ git+https://github.com/org/mypkg@v1.0");
        assert_eq!(r.specifier, "");
    }

    #[test]
    fn bad_requirement_is_an_error() {
        assert!(parse_requirement("torch=2.1", "main", loc("r.txt", 3)).is_err());
        assert!(parse_requirement("-e .", "main", loc("r.txt", 3)).is_err());
    }

    #[test]
    fn cuda_variants() {
        assert_eq!(cuda_variant_from_url("https://download.pytorch.org/whl/cu121").as_deref(), Some("cu121"));
        assert_eq!(cuda_variant_from_url("https://download.pytorch.org/whl/nightly/cu128/").as_deref(), Some("cu128"));
        assert_eq!(cuda_variant_from_url("https://download.pytorch.org/whl/cpu"), None);
        assert_eq!(cuda_variant_from_url("https://download.pytorch.org/whl/rocm6.2"), None);
        assert_eq!(cuda_variant_from_url("https://data.pyg.org/whl/torch-2.1.0+cu121.html").as_deref(), Some("cu121"));
        assert_eq!(cuda_variant_from_url("https://data.pyg.org/whl/torch-2.1.0%2Bcu118.html").as_deref(), Some("cu118"));
        assert_eq!(cuda_variant_from_url("https://download.pytorch.org/whl/torch_stable.html"), None);
        assert_eq!(cuda_variant_from_url("https://pypi.org/simple"), None);
        // a host name is not a variant
        assert_eq!(cuda_variant_from_url("https://cu121/simple"), None);
    }

    #[test]
    fn wheels() {
        assert_eq!(
            wheel_name_version("https://x/torch-2.0.0%2Bcu118-cp310-cp310-linux_x86_64.whl"),
            Some(("torch".into(), "2.0.0+cu118".into()))
        );
        assert_eq!(
            wheel_name_version("./wheels/flash_attn-2.5.8-cp310-cp310-linux_x86_64.whl"),
            Some(("flash-attn".into(), "2.5.8".into()))
        );
        assert_eq!(wheel_name_version("pkg-1.0.tar.gz"), None);
    }

    #[test]
    fn specifiers_normalise() {
        assert_eq!(normalize_specifiers(">= 3.9, <3.12").unwrap(), ">=3.9,<3.12");
        assert!(normalize_specifiers("^3.9").is_err());
    }

    #[test]
    fn offsets() {
        let t = "ab\ncdé\nf";
        assert_eq!(line_col(t, 0), (1, 1));
        assert_eq!(line_col(t, 3), (2, 1));
        assert_eq!(line_col(t, 7), (2, 4));
        assert_eq!(line_col(t, 8), (3, 1));
    }
}
