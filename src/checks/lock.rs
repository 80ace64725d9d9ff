//! PURE: drift between the stack locked in `.devcontainer/devgpu-lock.json` and today — the host's driver, the
//! registry's tag list, the newest framework releases. Checks `lock.*` of `devgpu doctor`, only where a lock exists.

use super::{Check, Status};
use crate::compat::knowledge::Knowledge;
use crate::compat::live::{newest_release, release_numbers, tag_is_listed, LiveFacts};
use crate::compat::DriverVersion;
use crate::plan::lock::{Lock, LOCK_FILE};

/// The `lock.*` checks. `lock`: the parsed file (Err: why it could not be read); `driver`: the host's;
/// `live`: today's facts if any; `k`: the snapshot overlaid with them.
pub fn lock_checks(lock: &Result<Lock, String>, driver: Option<&DriverVersion>, live: Option<&LiveFacts>, k: &Knowledge) -> Vec<Check> {
    let lock = match lock {
        Ok(l) => l,
        Err(e) => {
            return vec![Check {
                id: "lock.valid".into(),
                status: Status::Fail,
                summary: format!("{LOCK_FILE} cannot be read: {e}"),
                fix: Some("run `devgpu init` to write it again".into()),
            }]
        }
    };
    let mut out = Vec::new();

    // The host's driver against the lock's floor (the image's CUDA, and the wheels').
    let floors: Vec<(String, &str)> = [(lock.driver_floor.as_deref(), "the image"), (lock.framework_driver_floor.as_deref(), "the framework's wheels")]
        .into_iter()
        .filter_map(|(f, what)| f.map(|f| (f.to_string(), what)))
        .collect();
    out.push(match driver {
        None => Check { id: "lock.driver".into(), status: Status::Skip, summary: "no driver known on this host: the lock's driver floor is not checked".into(), fix: None },
        Some(d) => {
            let too_old: Vec<String> = floors
                .iter()
                .filter(|(f, _)| f.parse::<DriverVersion>().is_ok_and(|f| *d < f))
                .map(|(f, what)| format!("{what} ({}) needs driver >= {f}", if *what == "the image" { lock.image.name.clone() } else { lock.framework.as_ref().and_then(|f| f.wheel_variant.clone()).unwrap_or_default() }))
                .collect();
            if too_old.is_empty() {
                Check {
                    id: "lock.driver".into(),
                    status: Status::Pass,
                    summary: format!("driver {d} runs the locked stack ({}; floor {})", lock.image.name, lock.driver_floor.as_deref().unwrap_or("unknown")),
                    fix: None,
                }
            } else {
                Check {
                    id: "lock.driver".into(),
                    status: Status::Fail,
                    summary: format!("driver {d} is below the lock's floor: {}", too_old.join("; ")),
                    fix: Some(format!(
                        "upgrade the NVIDIA driver to >= {}, or run `devgpu init` on this host to lock a stack its driver runs",
                        floors.iter().map(|(f, _)| f.clone()).max_by(|a, b| a.parse::<DriverVersion>().ok().cmp(&b.parse::<DriverVersion>().ok())).unwrap_or_default()
                    )),
                }
            }
        }
    });

    // The image tag against the registry's list.
    out.push(match live.and_then(|l| l.cuda_tags.as_ref()) {
        None => Check { id: "lock.image".into(), status: Status::Skip, summary: format!("the registry's tag list was not read: {} not checked (offline?)", lock.image.name), fix: None },
        Some(tags) if tag_is_listed(tags, &lock.image.name) => Check {
            id: "lock.image".into(),
            status: Status::Pass,
            summary: format!("{} is still listed by the registry{}", lock.image.name, lock.image.digest.as_ref().map(|d| format!(" (locked at {d})")).unwrap_or_default()),
            fix: None,
        },
        Some(_) => Check {
            id: "lock.image".into(),
            status: Status::Fail,
            summary: format!("{} is no longer in the registry's tag list (NVIDIA deletes end-of-life tags): a rebuild fails with \"manifest unknown\"", lock.image.name),
            fix: Some("run `devgpu init` to choose a living image and update the lock (an image already built locally keeps working)".into()),
        },
    });

    // A newer release of the locked framework.
    if let Some(fw) = &lock.framework {
        let locked = fw.release.clone().unwrap_or_else(|| fw.version.clone());
        let newest = match fw.name.as_str() {
            // The wheel index's newest (in `k`), or PyPI's when that is newer (the wheel index unread).
            "pytorch" => {
                let wheel = k.torch.last().map(|r| r.latest.clone());
                let pypi = live.and_then(|l| l.packages.get("torch (pypi)")).and_then(|v| newest_release(v.iter())).cloned();
                match (wheel, pypi) {
                    (Some(w), Some(p)) => Some(if release_numbers(&p) > release_numbers(&w) { p } else { w }),
                    (w, p) => w.or(p),
                }
            }
            "tensorflow" => live.and_then(|l| l.packages.get("tensorflow")).and_then(|v| newest_release(v.iter())).cloned(),
            "jax" => live.and_then(|l| l.packages.get("jax")).and_then(|v| newest_release(v.iter())).cloned(),
            _ => None,
        };
        out.push(match newest {
            Some(n) if release_numbers(&n) > release_numbers(&locked) && !is_same_series(&locked, &n) => Check {
                id: "lock.framework".into(),
                status: Status::Warn,
                summary: format!("{} {n} is available (locked: {locked})", fw.name),
                fix: Some("when the project is ready for it, run `devgpu init` to move the lock (it picks the newest release the project's pins allow whose wheels run on the target)".into()),
            },
            Some(n) => Check { id: "lock.framework".into(), status: Status::Pass, summary: format!("{} {locked} is current (newest known: {n})", fw.name), fix: None },
            None => Check { id: "lock.framework".into(), status: Status::Skip, summary: format!("no release list for {} (offline?)", fw.name), fix: None },
        });
    }
    out
}

/// `2.6` (a locked series) and `2.6.3` are the same release line.
fn is_same_series(locked: &str, newest: &str) -> bool {
    let (Some(a), Some(b)) = (release_numbers(locked), release_numbers(newest)) else { return false };
    a.len() < 3 && b.starts_with(&a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compat::knowledge;
    use crate::plan::lock::*;

    fn lock() -> Lock {
        Lock {
            lock_version: LOCK_VERSION,
            generated_by: "devgpu test".into(),
            target: LockTarget { driver: Some("550.54.15".into()), compute_capabilities: vec!["8.6".into()], gpu: None, origin: "flags".into() },
            driver_floor: Some("550.54.14".into()),
            framework_driver_floor: Some("525.60.13".into()),
            cuda: LockCuda { line: "12.4".into(), release: "12.4.1".into(), minor_compat: false },
            image: LockImage { name: "nvidia/cuda:12.4.1-base-ubuntu22.04".into(), tag: "12.4.1-base-ubuntu22.04".into(), digest: None },
            ubuntu: "22.04".into(),
            python: LockPython { version: "3.10".into(), source: "system".into() },
            framework: Some(LockFramework {
                name: "pytorch".into(),
                version: "2.6".into(),
                release: Some("2.6.0".into()),
                wheel_variant: Some("cu124".into()),
                wheel_index: Some("https://download.pytorch.org/whl/cu124".into()),
                packages: vec![],
            }),
            installer: "uv 0.13.9".into(),
            facts: LockFacts { source: "live".into(), date: "2026-12-07".into(), snapshot_date: "2026-12-04".into(), not_read: vec![] },
        }
    }

    fn status(c: &[Check], id: &str) -> Status {
        c.iter().find(|c| c.id == id).unwrap_or_else(|| panic!("no {id}: {c:?}")).status
    }

    #[test]
    fn an_unpinned_jax_is_judged_by_the_release_it_got() {
        let k = knowledge();
        let mut l = lock();
        l.framework = Some(LockFramework { name: "jax".into(), version: "latest".into(), release: Some("0.10.2".into()), wheel_variant: None, wheel_index: None, packages: vec!["jax[cuda13]".into()] });
        let mut live = LiveFacts::default();
        live.packages.insert("jax".into(), vec!["0.10.2".into()]);
        assert_eq!(status(&lock_checks(&Ok(l.clone()), None, Some(&live), k), "lock.framework"), Status::Pass);
        live.packages.insert("jax".into(), vec!["0.10.2".into(), "0.11.0".into()]);
        let c = lock_checks(&Ok(l), None, Some(&live), k);
        assert_eq!(status(&c, "lock.framework"), Status::Warn);
        assert!(c.iter().any(|c| c.summary == "jax 0.11.0 is available (locked: 0.10.2)"), "{c:?}");
    }

    #[test]
    fn drift_is_reported_per_layer() {
        let k = knowledge();
        let live = LiveFacts { cuda_tags: Some(vec!["12.4.1-base-ubuntu22.04".into()]), ..Default::default() };
        let ok = lock_checks(&Ok(lock()), Some(&"560.35.03".parse().unwrap()), Some(&live), k);
        assert_eq!(status(&ok, "lock.driver"), Status::Pass);
        assert_eq!(status(&ok, "lock.image"), Status::Pass);
        assert_eq!(status(&ok, "lock.framework"), Status::Warn, "the snapshot knows newer torch than 2.6: {ok:?}");

        let old_driver = lock_checks(&Ok(lock()), Some(&"535.54.03".parse().unwrap()), Some(&live), k);
        let c = old_driver.iter().find(|c| c.id == "lock.driver").unwrap();
        assert_eq!(c.status, Status::Fail);
        assert!(c.summary.contains("needs driver >= 550.54.14") && c.fix.as_ref().unwrap().contains(">= 550.54.14"), "{c:?}");

        let deleted = LiveFacts { cuda_tags: Some(vec!["12.4.1-runtime-ubuntu22.04".into()]), ..Default::default() };
        assert_eq!(status(&lock_checks(&Ok(lock()), None, Some(&deleted), k), "lock.image"), Status::Fail);
        let offline = lock_checks(&Ok(lock()), None, None, k);
        assert_eq!(status(&offline, "lock.image"), Status::Skip);
        assert_eq!(status(&offline, "lock.driver"), Status::Skip);

        let mut current = lock();
        current.framework.as_mut().unwrap().release = Some(k.torch.last().unwrap().latest.clone());
        current.framework.as_mut().unwrap().version = k.torch.last().unwrap().series.clone();
        assert_eq!(status(&lock_checks(&Ok(current), None, None, k), "lock.framework"), Status::Pass);
        assert_eq!(status(&lock_checks(&Err("bad".into()), None, None, k), "lock.valid"), Status::Fail);
    }
}
