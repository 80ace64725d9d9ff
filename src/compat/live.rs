//! PURE: facts read today from the package indexes and the image registry ([`LiveFacts`], gathered by
//! `crate::facts`), and the embedded snapshot overlaid with them ([`Knowledge::with_live`]).
//!
//! The snapshot in `templates/compat/` is frozen when devgpu is built; the live facts say what exists now. The
//! overlay only adds what the snapshot cannot know (newer PyTorch releases and wheel variants, newer
//! `nvidia/cuda` lines) and drops what no longer exists (image lines whose tags the registry stopped listing). What
//! the live facts cannot tell — a CUDA release's minimum driver, a new PyTorch release's Python range — still comes
//! from the snapshot, and every such assumption is named in a note.

use super::image_tag::{parse_cuda_image, CUDA_REPO};
use super::knowledge::{ImageLine, Knowledge, TorchRelease};
use super::resolve::{resolve_with, ResolveError};
use super::stack::{Stack, StackRequest, TargetHost};
use super::versions::CudaVersion;
use crate::model::project::ProjectFacts;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// What the live indexes and the registry said, and when. `None` parts were not read (offline, unreachable).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveFacts {
    /// When they were read, in seconds since the Unix epoch.
    pub fetched_unix: u64,
    /// PyTorch releases on the wheel index: version (`2.15.0`) → its CUDA wheel variants (`cu126`, …).
    pub torch: Option<BTreeMap<String, Vec<String>>>,
    /// The tags the registry lists for `nvidia/cuda`.
    pub cuda_tags: Option<Vec<String>>,
    /// Release versions of other packages on the Python index (jax, jaxlib, tensorflow, cupy-cuda13x, …), by name.
    #[serde(default)]
    pub packages: BTreeMap<String, Vec<String>>,
    /// Where each part came from, and the error when it could not be read.
    #[serde(default)]
    pub sources: Vec<FactSource>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FactSource {
    /// `torch`, `nvidia/cuda tags`, `jax`, …
    pub what: String,
    pub url: String,
    /// Why it could not be read; None when it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Where the facts of a run came from: `live` (read now), `cache` (read `ageSecs` ago) or `snapshot` (embedded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FactsProvenance {
    pub source: String,
    /// The day the facts describe (`YYYY-MM-DD`): when they were read, or the snapshot's catalog date.
    pub date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fetched_unix: Option<u64>,
    pub snapshot_date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub age_secs: Option<u64>,
    pub stale: bool,
    /// Live sources that could not be read (their facts are the snapshot's): `PyTorch wheel index`, ….
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_read: Vec<String>,
}

/// The snapshot overlaid with live facts, and what the overlay changed or had to assume.
#[derive(Debug, Clone)]
pub struct LiveOverlay {
    pub knowledge: Knowledge,
    pub notes: Vec<String>,
}

/// A release version as numbers (`2.15.0` → [2, 15, 0]); None for pre-releases and dev builds, which are never
/// chosen for a dev container.
pub fn release_numbers(v: &str) -> Option<Vec<u64>> {
    let v = v.split('+').next().unwrap_or(v);
    let parts: Option<Vec<u64>> = v.split('.').map(|p| p.parse::<u64>().ok()).collect();
    parts.filter(|p| !p.is_empty())
}

/// The newest final release in a list of versions.
pub fn newest_release<'a>(versions: impl IntoIterator<Item = &'a String>) -> Option<&'a String> {
    versions.into_iter().filter_map(|v| release_numbers(v).map(|n| (n, v))).max_by(|a, b| a.0.cmp(&b.0)).map(|(_, v)| v)
}

fn series_of(v: &str) -> Option<(u64, u64)> {
    let n = release_numbers(v)?;
    Some((n[0], *n.get(1).unwrap_or(&0)))
}

fn parse_series(s: &str) -> Option<(u64, u64)> {
    series_of(s)
}

fn sort_variants(v: &mut Vec<String>) {
    v.sort_by_key(|x| CudaVersion::from_torch_variant(x));
    v.dedup();
}

impl Knowledge {
    /// The snapshot with today's facts laid over it. Pure: the same inputs give the same tables.
    pub fn with_live(&self, live: &LiveFacts) -> LiveOverlay {
        let mut k = self.clone();
        let mut notes = Vec::new();
        if let Some(torch) = &live.torch {
            overlay_torch(&mut k, torch, &mut notes);
        }
        if let Some(tags) = &live.cuda_tags {
            overlay_images(&mut k, tags, &mut notes);
        }
        // An unpinned `jax[cudaNN]` installs the index's newest: that is the release the stack gets.
        if let Some(newest) = live.packages.get("jax").and_then(|v| newest_release(v.iter())) {
            if release_numbers(newest) > release_numbers(&k.jax.latest) {
                notes.push(format!("jax {newest} is on the Python index (devgpu's snapshot knows {})", k.jax.latest));
                k.jax.latest = newest.clone();
            }
        }
        LiveOverlay { knowledge: k, notes }
    }
}

fn overlay_torch(k: &mut Knowledge, torch: &BTreeMap<String, Vec<String>>, notes: &mut Vec<String>) {
    // series → (newest patch, the CUDA variants of any of its releases)
    let mut live: BTreeMap<(u64, u64), (String, Vec<String>)> = BTreeMap::new();
    for (version, variants) in torch {
        let (Some(series), Some(_)) = (series_of(version), release_numbers(version)) else { continue };
        let cuda: Vec<String> = variants.iter().filter(|v| CudaVersion::from_torch_variant(v).is_some()).cloned().collect();
        if cuda.is_empty() {
            continue; // a CPU-only release tells nothing about GPU builds
        }
        let e = live.entry(series).or_insert_with(|| (version.clone(), Vec::new()));
        if release_numbers(version) > release_numbers(&e.0) {
            e.0 = version.clone();
        }
        e.1.extend(cuda);
    }
    let oldest = k.torch.iter().filter_map(|r| parse_series(&r.series)).min();
    for (series, (latest, mut variants)) in live {
        sort_variants(&mut variants);
        if let Some(rel) = k.torch.iter_mut().find(|r| parse_series(&r.series) == Some(series)) {
            if release_numbers(&latest) > release_numbers(&rel.latest) {
                notes.push(format!("torch {latest} is on the wheel index (devgpu's snapshot knows {})", rel.latest));
                rel.latest = latest;
            }
            let mut merged = rel.variants.clone();
            merged.extend(variants);
            sort_variants(&mut merged);
            if merged != rel.variants {
                let added: Vec<&String> = merged.iter().filter(|v| !rel.variants.contains(v)).collect();
                notes.push(format!(
                    "torch {}: the wheel index also has {} wheels",
                    rel.series,
                    added.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("/")
                ));
                rel.variants = merged;
            }
            continue;
        }
        // Releases older than the snapshot's first are left out on purpose (no wheels for living CUDA images).
        if oldest.is_none_or(|o| series < o) {
            continue;
        }
        // A release only the index knows: clone the nearest older one the snapshot has (so fields the snapshot
        // carries beyond these three keep a value) and say what was assumed.
        let Some(nearest) = k.torch.iter().filter(|r| parse_series(&r.series).is_some_and(|s| s < series)).max_by_key(|r| parse_series(&r.series)) else { continue };
        let mut rel: TorchRelease = nearest.clone();
        let series_text = format!("{}.{}", series.0, series.1);
        notes.push(format!(
            "torch {latest} ({}) is on the wheel index but not in devgpu's snapshot; its Python range is assumed to be torch {}'s ({})",
            variants.join("/"),
            nearest.series,
            nearest.python
        ));
        rel.series = series_text;
        rel.latest = latest;
        rel.variants = variants;
        k.torch.push(rel);
    }
    k.torch.sort_by_key(|r| parse_series(&r.series));
}

/// What the registry lists for one CUDA release (`13.0.2`): the Ubuntu releases with any tag, and the cuDNN token.
#[derive(Default)]
struct TagsOf {
    ubuntu: BTreeSet<String>,
    cudnn: Option<String>,
}

fn overlay_images(k: &mut Knowledge, tags: &[String], notes: &mut Vec<String>) {
    let mut by_release: BTreeMap<CudaVersion, TagsOf> = BTreeMap::new();
    for tag in tags {
        let Some(t) = parse_cuda_image(&format!("{CUDA_REPO}:{tag}")) else { continue };
        // Only Ubuntu images devgpu has facts for (glibc, Python); `t.flavor` None is a tag such as `13.0.2-ubuntu24.04`.
        if t.flavor.is_none() || k.ubuntu(&t.os).is_none() {
            continue;
        }
        let e = by_release.entry(t.cuda).or_default();
        e.ubuntu.insert(t.os.clone());
        if let Some(c) = t.cudnn {
            e.cudnn.get_or_insert(c);
        }
    }
    if by_release.is_empty() {
        // A registry (or a mirror) that lists no Ubuntu nvidia/cuda tag at all says nothing about which are gone:
        // dropping every line would leave no image to choose.
        notes.push(format!("the registry lists no nvidia/cuda Ubuntu tags ({} tags): its list was not used", tags.len()));
        return;
    }
    // The living release of each minor: NVIDIA keeps only the last update of a minor, but a mirror may lag, so the
    // newest patch listed wins.
    let mut living: BTreeMap<(u32, u32), (CudaVersion, TagsOf)> = BTreeMap::new();
    for (cuda, t) in by_release {
        living.insert((cuda.major, cuda.minor), (cuda, t)); // ascending order: the last insert is the newest patch
    }
    let mut lines = Vec::new();
    for old in &k.images {
        if !living.contains_key(&(old.cuda.major, old.cuda.minor)) {
            notes.push(format!("nvidia/cuda {}: the registry no longer lists its tags (deleted), so it is not used", old.cuda.full()));
        }
    }
    for ((major, minor), (cuda, t)) in living {
        let snapshot = k.images.iter().find(|l| l.cuda.major == major && l.cuda.minor == minor);
        if k.min_driver_for(cuda).is_none() {
            // Without the release-notes row devgpu cannot say which driver runs it: not offered.
            if snapshot.is_none() && k.cuda_releases.last().is_some_and(|r| cuda > r.version) {
                notes.push(format!(
                    "nvidia/cuda {} tags exist, but devgpu's CUDA driver table ends at {}: not used until devgpu knows its minimum driver",
                    cuda.full(),
                    k.cuda_releases.last().map(|r| r.version.full()).unwrap_or_default()
                ));
            }
            continue;
        }
        let ubuntu: Vec<String> = t.ubuntu.into_iter().collect();
        let cudnn_tag = t.cudnn.or_else(|| snapshot.map(|l| l.cudnn_tag.clone())).unwrap_or_else(|| "cudnn".into());
        match snapshot {
            Some(l) if l.cuda != cuda => notes.push(format!("nvidia/cuda {}: the registry lists {} as this line's release", l.cuda.full(), cuda.full())),
            None => notes.push(format!("nvidia/cuda {} (Ubuntu {}) is in the registry but not in devgpu's snapshot: added", cuda.full(), ubuntu.join(", "))),
            _ => {}
        }
        lines.push(ImageLine { cuda, ubuntu, cudnn_tag });
    }
    lines.sort_by_key(|l| l.cuda);
    k.images = lines;
}

/// How many times [`resolve_live`] may set an unlisted tag aside and resolve again (each round removes one
/// Ubuntu release of one line, so this bounds the work, not the correctness).
const MAX_ROUNDS: usize = 16;

/// Resolve against `k`, never choosing an `nvidia/cuda` tag missing from the registry's list. A line can list
/// `base` tags but not, say, `cudnn-devel` ones; the resolver works per line and Ubuntu release, so a chosen tag
/// that is not listed removes that Ubuntu release from that line and the stack is resolved again.
pub fn resolve_live(k: &Knowledge, tags: Option<&[String]>, p: &ProjectFacts, host: &TargetHost, req: &StackRequest) -> Result<(Stack, Vec<String>), ResolveError> {
    let Some(tags) = tags else { return resolve_with(k, p, host, req).map(|s| (s, Vec::new())) };
    let listed: BTreeSet<&str> = tags.iter().map(String::as_str).collect();
    let mut k = k.clone();
    let mut notes = Vec::new();
    for _ in 0..MAX_ROUNDS {
        let stack = resolve_with(&k, p, host, req)?;
        let tag = stack.image.strip_prefix(&format!("{CUDA_REPO}:")).unwrap_or(&stack.image);
        if listed.contains(tag) {
            return Ok((stack, notes));
        }
        notes.push(format!("{}: not in the registry's tag list, so not chosen", stack.image));
        let Some(line) = k.images.iter_mut().find(|l| l.cuda.full() == stack.cuda_full) else { return Ok((stack, notes)) };
        line.ubuntu.retain(|u| *u != stack.ubuntu);
        if line.ubuntu.is_empty() {
            let cuda = line.cuda;
            k.images.retain(|l| l.cuda != cuda);
        }
    }
    resolve_with(&k, p, host, req).map(|s| (s, notes))
}

/// Whether the registry lists an image's tag (`nvidia/cuda:12.4.1-base-ubuntu22.04` or the bare tag).
pub fn tag_is_listed(tags: &[String], image: &str) -> bool {
    let tag = image.strip_prefix(&format!("{CUDA_REPO}:")).or_else(|| image.strip_prefix(&format!("docker.io/{CUDA_REPO}:"))).unwrap_or(image);
    tags.iter().any(|t| t == tag)
}

/// Where the snapshot is behind the live facts: newer PyTorch or CUDA releases than it names. Empty when it is
/// current. (`nvidia-cuda-runtime` on the Python index carries the CUDA toolkit's version, e.g. 13.5.37.)
pub fn snapshot_behind(k: &Knowledge, live: &LiveFacts) -> Vec<String> {
    let mut behind = Vec::new();
    if let Some(torch) = &live.torch {
        let known = k.torch.iter().filter_map(|r| release_numbers(&r.latest)).max();
        if let Some(newest) = newest_release(torch.keys()) {
            if release_numbers(newest) > known {
                behind.push(format!("torch {newest} (the snapshot's newest is {})", k.torch.last().map(|r| r.latest.as_str()).unwrap_or("none")));
            }
        }
    }
    // PyPI's own torch (its default build) tells the release even when PyTorch's wheel index was not read.
    if let Some(newest) = live.packages.get("torch (pypi)").and_then(|v| newest_release(v.iter())) {
        let known = k.torch.iter().filter_map(|r| release_numbers(&r.latest)).max();
        if release_numbers(newest) > known && !behind.iter().any(|b| b.starts_with("torch ")) {
            behind.push(format!("torch {newest} on the Python index (the snapshot's newest is {})", k.torch.last().map(|r| r.latest.as_str()).unwrap_or("none")));
        }
    }
    if let Some(rt) = live.packages.get("nvidia-cuda-runtime").and_then(|v| newest_release(v.iter())) {
        let n = release_numbers(rt).unwrap_or_default();
        let live_minor = (n[0], *n.get(1).unwrap_or(&0));
        if let Some(known) = k.cuda_releases.last() {
            if live_minor > (known.version.major as u64, known.version.minor as u64) {
                behind.push(format!("CUDA {}.{} (nvidia-cuda-runtime {rt}; the snapshot's newest is {})", live_minor.0, live_minor.1, known.version.short()));
            }
        }
    }
    behind
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compat::knowledge;

    fn torch(entries: &[(&str, &[&str])]) -> Option<BTreeMap<String, Vec<String>>> {
        Some(entries.iter().map(|(v, vs)| (v.to_string(), vs.iter().map(|s| s.to_string()).collect())).collect())
    }

    #[test]
    fn a_newer_torch_release_is_added_from_the_nearest_known_one() {
        let k = knowledge();
        let newest = k.torch.last().unwrap().clone();
        let (maj, min) = parse_series(&newest.series).unwrap();
        let next = format!("{maj}.{}.1", min + 1);
        let live = LiveFacts { torch: torch(&[(&next, &["cu128", "cu130", "cpu"]), (&format!("{maj}.{}.0", min + 1), &["cu126"])]), ..Default::default() };
        let o = k.with_live(&live);
        let added = o.knowledge.torch.last().unwrap();
        assert_eq!(added.series, format!("{maj}.{}", min + 1));
        assert_eq!(added.latest, next);
        assert_eq!(added.variants, vec!["cu126", "cu128", "cu130"]);
        assert_eq!(added.python, newest.python, "the Python range is the nearest release's");
        assert!(o.notes.iter().any(|n| n.contains("not in devgpu's snapshot")), "{:?}", o.notes);
        // The snapshot itself is untouched.
        assert_eq!(k.torch.last().unwrap().series, newest.series);
    }

    #[test]
    fn known_series_get_new_patches_and_variants_and_old_releases_stay_out() {
        let k = knowledge();
        let first = &k.torch[0];
        let live = LiveFacts { torch: torch(&[("2.4.9", &["cu999"]), ("0.4.1", &["cu100"]), (&format!("{}.0", first.series), &["cpu"])]), ..Default::default() };
        let o = k.with_live(&live);
        let r24 = o.knowledge.torch.iter().find(|r| r.series == "2.4").unwrap();
        assert_eq!(r24.latest, "2.4.9");
        assert!(r24.variants.contains(&"cu999".to_string()) && r24.variants.contains(&"cu124".to_string()));
        assert!(o.knowledge.torch.iter().all(|r| r.series != "0.4"), "older than the snapshot's first release: left out");
        assert_eq!(o.knowledge.torch.len(), k.torch.len());
    }

    fn tags(list: &[&str]) -> LiveFacts {
        LiveFacts { cuda_tags: Some(list.iter().map(|s| s.to_string()).collect()), ..Default::default() }
    }

    #[test]
    fn image_lines_follow_the_registry() {
        let k = knowledge();
        let o = k.with_live(&tags(&[
            "12.4.1-base-ubuntu22.04",
            "12.4.1-cudnn-runtime-ubuntu22.04",
            "12.8.1-base-ubuntu24.04",
            "12.8.0-base-ubuntu24.04",
            "13.0.3-base-ubuntu24.04",
            "13.0.3-devel-ubuntu22.04",
            "99.1.0-base-ubuntu24.04",
            "12.8.1-base-rockylinux9",
            "latest",
        ]));
        let lines: Vec<String> = o.knowledge.images.iter().map(|l| format!("{} {}", l.cuda.full(), l.ubuntu.join(","))).collect();
        assert_eq!(lines, vec!["12.4.1 22.04", "12.8.1 24.04", "13.0.3 22.04,24.04"]);
        assert!(o.notes.iter().any(|n| n.contains("11.8.0") && n.contains("no longer lists")), "{:?}", o.notes);
        assert!(o.notes.iter().any(|n| n.contains("99.1.0") && n.contains("minimum driver")), "{:?}", o.notes);
        // A list without any Ubuntu nvidia/cuda tag (an empty mirror) changes nothing.
        let o = k.with_live(&tags(&["latest", "12.8.1-base-rockylinux9"]));
        assert_eq!(o.knowledge.images.len(), k.images.len());
    }

    #[test]
    fn an_unlisted_tag_is_never_chosen() {
        use crate::compat::TargetOrigin;
        let k = knowledge();
        let host = TargetHost { driver: Some("550.54.15".parse().unwrap()), compute_cap: Some("8.6".parse().unwrap()), gpu_name: None, origin: TargetOrigin::Flags };
        let p = ProjectFacts::default();
        let req = StackRequest { framework: crate::compat::FrameworkChoice::NoFramework, ..Default::default() };
        let snapshot = resolve_with(k, &p, &host, &req).unwrap();
        assert_eq!(snapshot.image, "nvidia/cuda:12.4.1-runtime-ubuntu22.04");
        // The registry still lists 12.4.1 for Ubuntu 22.04, but only its base image, and 12.3.2's runtime image.
        let live = tags(&["12.4.1-base-ubuntu22.04", "12.3.2-runtime-ubuntu22.04", "12.3.2-base-ubuntu22.04"]);
        let o = k.with_live(&live);
        let (stack, notes) = resolve_live(&o.knowledge, live.cuda_tags.as_deref(), &p, &host, &req).unwrap();
        assert_eq!(stack.image, "nvidia/cuda:12.3.2-runtime-ubuntu22.04");
        assert!(notes[0].contains("12.4.1-runtime-ubuntu22.04"), "{notes:?}");
    }

    #[test]
    fn the_snapshot_is_behind_when_the_index_knows_newer_releases() {
        let k = knowledge();
        assert!(snapshot_behind(k, &LiveFacts::default()).is_empty());
        let mut live = LiveFacts { torch: torch(&[("99.0.0", &["cu130"])]), ..Default::default() };
        live.packages.insert("nvidia-cuda-runtime".into(), vec!["99.1.2".into(), "13.0.48".into()]);
        let behind = snapshot_behind(k, &live);
        assert_eq!(behind.len(), 2, "{behind:?}");
        assert!(behind[0].starts_with("torch 99.0.0") && behind[1].starts_with("CUDA 99.1"));
    }

    #[test]
    fn versions_order_numerically_and_skip_prereleases() {
        let v: Vec<String> = ["2.9.1", "2.10.0", "2.11.0rc1", "2.1.0"].iter().map(|s| s.to_string()).collect();
        assert_eq!(newest_release(v.iter()).unwrap(), "2.10.0");
    }
}
