//! Reading the project's pins as PEP 440 sets: which Python minors and which framework releases they allow.

use super::versions::PythonVersion;
use crate::model::project::{ProjectFacts, Requirement};
use pep508_rs::pep440_rs::{Version, VersionSpecifiers};
use std::str::FromStr;

/// Python minors devgpu knows how to install (the range the tables cover).
pub const KNOWN_PYTHONS: &[(u32, u32)] = &[(3, 7), (3, 8), (3, 9), (3, 10), (3, 11), (3, 12), (3, 13), (3, 14)];

/// Does a specifier set allow some release of this minor? (`>=3.10.4` allows 3.10; `<=3.11` allows 3.11.)
pub fn allows_minor(spec: &VersionSpecifiers, major: u32, minor: u32) -> bool {
    // Patch pins (`python=3.8.5`) need the patch itself: try every patch a CPython minor has had, and 99.
    (0u64..=30).chain([99]).any(|patch| allows_version(spec, &format!("{major}.{minor}.{patch}")))
}

/// Does a specifier set contain this version? (An unparsable version is not contained.)
pub fn allows_version(spec: &VersionSpecifiers, version: &str) -> bool {
    Version::from_str(version).is_ok_and(|v| spec.contains(&v))
}

pub fn parse_specifiers(text: &str) -> Option<VersionSpecifiers> {
    VersionSpecifiers::from_str(text.trim()).ok()
}

/// The Python pins of a project, parsed; unparsable ones come back as warnings.
pub fn python_pins(p: &ProjectFacts) -> (Vec<(VersionSpecifiers, String)>, Vec<String>) {
    let mut pins = Vec::new();
    let mut warnings = Vec::new();
    for pin in &p.python {
        match parse_specifiers(&pin.specifier) {
            Some(s) => pins.push((s, format!("{} ({})", pin.raw, pin.source))),
            None => warnings.push(format!("{}: cannot read the Python pin `{}`; it was ignored", pin.source, pin.raw)),
        }
    }
    (pins, warnings)
}

pub fn python_allowed_by(pins: &[(VersionSpecifiers, String)], v: PythonVersion) -> bool {
    pins.iter().all(|(s, _)| allows_minor(s, v.major, v.minor))
}

/// Whether a PEP 508 marker can hold in the container: Linux on x86_64, CPython of some minor devgpu installs.
/// `extra == …` terms are left to the group the requirement sits in (they evaluate false here, so a marker
/// made only of them is treated as holding). Unparsable markers are kept (they are pip's to judge).
pub fn marker_allows_linux_x86_64(marker: &str) -> bool {
    use pep508_rs::{MarkerEnvironment, MarkerEnvironmentBuilder, MarkerTree};
    let Ok(tree) = MarkerTree::from_str(marker) else { return true };
    if marker.contains("extra") {
        return true;
    }
    KNOWN_PYTHONS.iter().any(|&(ma, mi)| {
        let version = format!("{ma}.{mi}");
        let full = format!("{ma}.{mi}.0");
        let env = MarkerEnvironment::try_from(MarkerEnvironmentBuilder {
            implementation_name: "cpython",
            implementation_version: &full,
            os_name: "posix",
            platform_machine: "x86_64",
            platform_python_implementation: "CPython",
            platform_release: "",
            platform_system: "Linux",
            platform_version: "",
            python_full_version: &full,
            python_version: &version,
            sys_platform: "linux",
        });
        env.is_ok_and(|env| tree.evaluate(&env, &[]))
    })
}

/// Whether a requirement allows some release of a framework series, given its newest patch (`2.4` up to `2.4.1`).
pub fn allows_series(req: &Requirement, series: &str, latest: &str) -> bool {
    if let Some(pinned) = &req.pinned {
        return pinned == series || pinned.starts_with(&format!("{series}."));
    }
    if req.specifier.trim().is_empty() {
        return true;
    }
    let Some(spec) = parse_specifiers(&req.specifier) else { return true };
    let last_patch: u64 = latest.rsplit('.').next().and_then(|p| p.parse().ok()).unwrap_or(0);
    (0..=last_patch).any(|patch| allows_version(&spec, &format!("{series}.{patch}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minors_against_specifiers() {
        let s = parse_specifiers(">=3.10.4,<3.12").unwrap();
        assert!(allows_minor(&s, 3, 10));
        assert!(allows_minor(&s, 3, 11));
        assert!(!allows_minor(&s, 3, 12));
        assert!(!allows_minor(&s, 3, 9));
        assert!(allows_minor(&parse_specifiers("<=3.11").unwrap(), 3, 11));
        assert!(allows_minor(&parse_specifiers("==3.11.*").unwrap(), 3, 11));
        assert!(!allows_minor(&parse_specifiers("==3.11.*").unwrap(), 3, 12));
    }
}
