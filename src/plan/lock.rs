//! PURE: the GPU stack lock, `.devcontainer/devgpu-lock.json` — what `init` chose (driver floor, compute
//! capability, CUDA line, image tag and digest, framework build and wheel index, Python, installer) and from which
//! facts, so a teammate or CI rebuilds the same stack and `doctor` can say when the host or the world drifted.
//!
//! The lock is rewritten only when the stack changes: a later `init` on newer facts that chooses the same stack
//! leaves the file byte-identical (the facts date says when the stack was chosen, not when init last ran).

use super::init::{FileAction, PlannedFile};
use crate::compat::knowledge::Knowledge;
use crate::compat::{CudaVersion, Stack, TargetHost};
use crate::compat::live::FactsProvenance;
use serde::{Deserialize, Serialize};

pub const LOCK_FILE: &str = ".devcontainer/devgpu-lock.json";
pub const LOCK_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Lock {
    pub lock_version: u32,
    /// `devgpu 0.1.0`: informative, not part of the comparison.
    pub generated_by: String,
    pub target: LockTarget,
    /// The oldest driver that starts the image (its CUDA release's row in the release notes' table): the image's
    /// `NVIDIA_REQUIRE_CUDA` refuses older drivers.
    pub driver_floor: Option<String>,
    /// The oldest driver the framework's wheels run on (exactly, or through minor-version compatibility).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framework_driver_floor: Option<String>,
    pub cuda: LockCuda,
    pub image: LockImage,
    pub ubuntu: String,
    pub python: LockPython,
    pub framework: Option<LockFramework>,
    /// How the image installs Python packages: `uv X.Y.Z` or `pip`.
    pub installer: String,
    pub facts: LockFacts,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LockTarget {
    pub driver: Option<String>,
    pub compute_capabilities: Vec<String>,
    pub gpu: Option<String>,
    pub origin: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LockCuda {
    /// `12.4`
    pub line: String,
    /// `12.4.1`
    pub release: String,
    /// The image runs on an older driver of the same major through minor-version compatibility
    /// (`NVIDIA_DISABLE_REQUIRE`): the floor is then the major's.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub minor_compat: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LockImage {
    /// `nvidia/cuda:12.4.1-base-ubuntu22.04`
    pub name: String,
    pub tag: String,
    /// `sha256:…` of the manifest (index) the tag named when locked; None when the registry could not be asked.
    pub digest: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LockPython {
    pub version: String,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LockFramework {
    pub name: String,
    /// The series (`2.6`) or exact pin.
    pub version: String,
    /// The newest release of the series when locked (`2.6.0`), where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    pub wheel_variant: Option<String>,
    pub wheel_index: Option<String>,
    pub packages: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LockFacts {
    /// `live`, `cache` or `snapshot`.
    pub source: String,
    /// The day the facts describe.
    pub date: String,
    pub snapshot_date: String,
    /// Live sources that could not be read then (those facts were the snapshot's).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_read: Vec<String>,
}

/// Build the lock for a resolved stack.
pub fn build(k: &Knowledge, stack: &Stack, target: &TargetHost, facts: &FactsProvenance, digest: Option<String>, installer: &str) -> Lock {
    let cuda: Option<CudaVersion> = stack.cuda_full.parse().ok();
    let driver_floor = cuda
        .and_then(|c| if stack.cuda_minor_compat { k.family_min_driver(c.major) } else { k.min_driver_for(c) })
        .map(|d| d.to_string());
    let framework_driver_floor = stack.framework.as_ref().and_then(|f| f.wheel_variant.as_deref()).and_then(CudaVersion::from_torch_variant).and_then(|c| {
        // Wheels run through minor-version compatibility from the family floor (PyTorch bundles its CUDA runtime).
        k.family_min_driver(c.major).or_else(|| k.min_driver_for(c)).map(|d| d.to_string())
    });
    let release = stack.framework.as_ref().and_then(|f| match f.name {
        crate::compat::Framework::Pytorch => k.torch.iter().find(|r| r.series == f.version || f.version.starts_with(&format!("{}.", r.series))).map(|r| r.latest.clone()),
        // Unpinned jax installs the newest release there is; a pin is its own release.
        crate::compat::Framework::Jax if crate::compat::live::release_numbers(&f.version).is_none() => Some(k.jax.latest.clone()),
        _ => None,
    });
    Lock {
        lock_version: LOCK_VERSION,
        generated_by: format!("devgpu {}", env!("CARGO_PKG_VERSION")),
        target: LockTarget {
            driver: target.driver.as_ref().map(|d| d.to_string()),
            compute_capabilities: target.compute_cap.iter().map(|c| c.to_string()).collect(),
            gpu: target.gpu_name.clone(),
            origin: serde_json::to_value(target.origin).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default(),
        },
        driver_floor,
        framework_driver_floor,
        cuda: LockCuda { line: stack.cuda.clone(), release: stack.cuda_full.clone(), minor_compat: stack.cuda_minor_compat },
        image: LockImage { name: stack.image.clone(), tag: stack.image.rsplit_once(':').map(|(_, t)| t.to_string()).unwrap_or_default(), digest },
        ubuntu: stack.ubuntu.clone(),
        python: LockPython {
            version: stack.python.clone(),
            source: serde_json::to_value(stack.python_source).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default(),
        },
        framework: stack.framework.as_ref().map(|f| LockFramework {
            name: f.name.as_str().to_string(),
            version: f.version.clone(),
            release,
            wheel_variant: f.wheel_variant.clone(),
            wheel_index: f.index_url.clone(),
            packages: f.packages.clone(),
        }),
        installer: installer.to_string(),
        facts: LockFacts { source: facts.source.clone(), date: facts.date.clone(), snapshot_date: facts.snapshot_date.clone(), not_read: facts.not_read.clone() },
    }
}

pub fn parse(text: &str) -> Result<Lock, String> {
    serde_json::from_str(text).map_err(|e| format!("{LOCK_FILE}: {e}"))
}

/// The part of a lock that is the stack: what a rewrite is decided on.
fn stack_part(l: &Lock) -> Lock {
    Lock {
        generated_by: String::new(),
        facts: LockFacts { source: String::new(), date: String::new(), snapshot_date: String::new(), not_read: vec![] },
        image: LockImage { digest: None, ..l.image.clone() },
        framework: l.framework.as_ref().map(|f| LockFramework { release: None, ..f.clone() }),
        ..l.clone()
    }
}

/// Plan the lock file: unchanged when the stack is the same (the existing digest is kept when this run could not
/// read one), else the new lock.
pub fn plan(new: &Lock, existing: Option<&str>) -> PlannedFile {
    let old = existing.map(str::to_string);
    let parsed = existing.and_then(|t| parse(t).ok());
    let mut new = new.clone();
    if let Some(p) = &parsed {
        if new.image.digest.is_none() && p.image.tag == new.image.tag {
            new.image.digest = p.image.digest.clone();
        }
        if stack_part(p) == stack_part(&new) && (p.image.digest == new.image.digest) {
            return PlannedFile { path: LOCK_FILE.into(), action: FileAction::Unchanged, new: existing.unwrap_or_default().to_string(), old, notes: vec![] };
        }
    }
    let mut text = serde_json::to_string_pretty(&new).expect("plain data");
    text.push('\n');
    let (action, notes) = match (&old, &parsed) {
        (None, _) => (FileAction::Created, vec![]),
        (Some(_), Some(p)) => (FileAction::Updated, vec![changed(p, &new)]),
        (Some(_), None) => (FileAction::Updated, vec!["the old lock could not be read; replaced".to_string()]),
    };
    PlannedFile { path: LOCK_FILE.into(), action, old, new: text, notes }
}

fn changed(old: &Lock, new: &Lock) -> String {
    let mut parts = Vec::new();
    if old.image.name != new.image.name {
        parts.push(format!("image {} → {}", old.image.name, new.image.name));
    } else if old.image.digest != new.image.digest {
        parts.push(format!("image digest {} → {}", old.image.digest.as_deref().unwrap_or("none"), new.image.digest.as_deref().unwrap_or("none")));
    }
    let fw = |l: &Lock| l.framework.as_ref().map(|f| format!("{} {}{}", f.name, f.version, f.wheel_variant.as_ref().map(|v| format!(" {v}")).unwrap_or_default())).unwrap_or_else(|| "no framework".into());
    if fw(old) != fw(new) {
        parts.push(format!("{} → {}", fw(old), fw(new)));
    }
    if old.python != new.python {
        parts.push(format!("Python {} → {}", old.python.version, new.python.version));
    }
    if old.target != new.target {
        parts.push("target host".into());
    }
    if old.installer != new.installer {
        parts.push(format!("installer {} → {}", old.installer, new.installer));
    }
    if parts.is_empty() {
        "stack details changed".into()
    } else {
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compat::{resolve, FrameworkChoice, StackRequest, TargetOrigin};
    use crate::project::ProjectFacts;

    fn prov(date: &str) -> FactsProvenance {
        FactsProvenance { source: "live".into(), date: date.into(), fetched_unix: Some(1), snapshot_date: "2026-12-04".into(), age_secs: Some(0), stale: false, not_read: vec![] }
    }

    fn lock_for(driver: &str, date: &str, digest: Option<&str>) -> Lock {
        let k = crate::compat::knowledge();
        let host = TargetHost { driver: Some(driver.parse().unwrap()), compute_cap: Some("8.6".parse().unwrap()), gpu_name: None, origin: TargetOrigin::Flags };
        let req = StackRequest { framework: FrameworkChoice::NoFramework, ..Default::default() };
        let stack = resolve(&ProjectFacts::default(), &host, &req).unwrap();
        build(k, &stack, &host, &prov(date), digest.map(str::to_string), "uv 0.13.9")
    }

    #[test]
    fn the_lock_names_the_whole_stack() {
        let l = lock_for("550.54.15", "2026-12-07", Some("sha256:ab"));
        assert_eq!(l.image.name, "nvidia/cuda:12.4.1-runtime-ubuntu22.04");
        assert_eq!(l.image.tag, "12.4.1-runtime-ubuntu22.04");
        assert_eq!(l.driver_floor.as_deref(), Some("550.54.14"), "the hook checks CUDA 12.4 (X.Y), whose first driver is 12.4.0's");
        assert_eq!(l.cuda.line, "12.4");
        assert_eq!(l.target.compute_capabilities, vec!["8.6"]);
        assert_eq!(l.target.origin, "flags");
        assert_eq!(l.python.source, "system");
        let text = plan(&l, None).new;
        assert_eq!(parse(&text).unwrap(), l, "round trip");
    }

    #[test]
    fn same_stack_on_newer_facts_changes_nothing_and_a_new_stack_rewrites() {
        let first = plan(&lock_for("550.54.15", "2026-12-07", Some("sha256:ab")), None);
        assert_eq!(first.action, FileAction::Created);
        // Later, offline (no digest), other facts date: byte-identical.
        let again = plan(&lock_for("550.54.15", "2026-12-09", None), Some(&first.new));
        assert_eq!(again.action, FileAction::Unchanged);
        assert_eq!(again.new, first.new);
        // A newer driver moves the image: rewritten, and the note says what moved.
        let moved = plan(&lock_for("580.95.05", "2026-12-09", None), Some(&first.new));
        assert_eq!(moved.action, FileAction::Updated);
        assert!(moved.notes[0].contains("12.4.1-runtime-ubuntu22.04 → nvidia/cuda:13.0.2"), "{:?}", moved.notes);
        // The same tag re-pushed (a new digest) is a change.
        let repushed = plan(&lock_for("550.54.15", "2026-12-09", Some("sha256:cd")), Some(&first.new));
        assert_eq!(repushed.action, FileAction::Updated);
    }
}
