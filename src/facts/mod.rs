//! EDGE: today's facts from the real indexes — PyTorch's wheel index, the Python package index, the
//! `nvidia/cuda` registry — cached in `$XDG_CACHE_HOME/devgpu/facts.json` for a time to live, with the embedded
//! snapshot as the fallback (`compat::live` overlays them; this module only reads, caches and reports where from).
//!
//! Nothing here may make `init` slow or fail: every source has a short connect timeout, the sources are read in
//! parallel, and an unreachable one is a note, not an error.

pub mod http;
pub mod registry;
pub mod simple;

use crate::compat::live::{FactSource, LiveFacts};
use crate::fsx;
use http::{Http, Timeouts};
/// The live-facts settings are plain settings (resolved in `settings.rs`); their old paths stay valid.
pub use crate::settings::{FactsSettings, DEFAULT_PYTHON_INDEX, DEFAULT_REGISTRY, DEFAULT_TORCH_INDEX, DEFAULT_TTL_SECS};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// Torch's family, read from the PyTorch wheel index.
pub const TORCH_PACKAGES: &[&str] = &["torch", "torchvision", "torchaudio"];
/// Read from the Python index: what the other frameworks ship as, and the CUDA runtime's own version.
pub const PYTHON_PACKAGES: &[&str] =
    &["torch", "jax", "jaxlib", "jax-cuda12-plugin", "jax-cuda13-plugin", "tensorflow", "cupy-cuda12x", "cupy-cuda13x", "nvidia-cuda-runtime"];

impl FactsSettings {
    /// The cache is only valid for the same sources.
    fn cache_key(&self) -> String {
        format!("{}|{}|{}", self.python_index, self.torch_index, self.registry)
    }

    pub fn cache_file(&self) -> Option<PathBuf> {
        self.cache_dir.as_ref().map(|d| d.join("facts.json"))
    }

    fn http(&self) -> Http {
        Http::new(Timeouts { connect: Duration::from_millis(self.connect_timeout_ms), total: Duration::from_millis(self.total_timeout_ms.max(self.connect_timeout_ms)) })
    }
}

/// The cache file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CacheFile {
    key: String,
    facts: LiveFacts,
    /// `tag` → manifest digest, read when a tag was chosen.
    #[serde(default)]
    digests: BTreeMap<String, String>,
}

/// Where the facts in use came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Origin {
    /// Read just now from the indexes.
    Live,
    /// From the cache, read `age_secs` ago (fresh, or stale when the indexes could not be reached).
    Cache { age_secs: u64, stale: bool },
    /// Nothing live: the embedded snapshot alone.
    Snapshot,
}

/// The facts for this run, and what to tell the user about them.
#[derive(Debug, Clone)]
pub struct Gathered {
    pub live: Option<LiveFacts>,
    pub origin: Origin,
    pub notes: Vec<String>,
    pub cache_file: Option<PathBuf>,
}

fn read_cache(s: &FactsSettings) -> Option<CacheFile> {
    let path = s.cache_file()?;
    let text = std::fs::read_to_string(path).ok()?;
    serde_json::from_str::<CacheFile>(&text).ok().filter(|c| c.key == s.cache_key())
}

fn write_cache(s: &FactsSettings, c: &CacheFile) -> Option<String> {
    let path = s.cache_file()?;
    let text = serde_json::to_string_pretty(c).expect("plain data");
    fsx::write_atomic(&path, text.as_bytes()).err().map(|e| format!("could not write the facts cache {}: {e}", path.display()))
}

/// Read every source now (in parallel). Parts that could not be read are `None` with their error in `sources`.
pub fn fetch_all(s: &FactsSettings, now_unix: u64) -> LiveFacts {
    let http = s.http();
    let mut facts = LiveFacts { fetched_unix: now_unix, ..Default::default() };
    std::thread::scope(|scope| {
        let torch = scope.spawn(|| {
            let url = format!("{}/torch/", s.torch_index);
            (url, simple::fetch_project(&http, &s.torch_index, "torch").map(|p| simple::torch_variants("torch", &p)))
        });
        let family: Vec<_> = TORCH_PACKAGES[1..]
            .iter()
            .map(|&name| { let http = &http; scope.spawn(move || (name.to_string(), format!("{}/{name}/", s.torch_index), simple::fetch_project(http, &s.torch_index, name).map(|p| simple::versions(name, &p)))) })
            .collect();
        let python: Vec<_> = PYTHON_PACKAGES
            .iter()
            .map(|&name| {
                let (http, s) = (&http, s);
                scope.spawn(move || {
                    let url = format!("{}/{}/", s.python_index.trim_end_matches('/'), simple::normalize(name));
                    (format!("{name} (python index)"), name.to_string(), url, simple::fetch_project(http, &s.python_index, name).map(|p| simple::versions(name, &p)))
                })
            })
            .collect();
        let tags = scope.spawn(|| {
            let url = format!("{}/v2/{}/tags/list", s.registry, registry::REPO);
            (url, registry::Registry::new(&http, &s.registry).tags(registry::REPO))
        });

        let (url, r) = torch.join().expect("no panic");
        match r {
            Ok(t) if t.values().any(|v| !v.is_empty()) => {
                facts.torch = Some(t);
                facts.sources.push(FactSource { what: "torch".into(), url, error: None });
            }
            Ok(_) => facts.sources.push(FactSource { what: "torch".into(), url, error: Some("no CUDA wheels listed".into()) }),
            Err(e) => facts.sources.push(FactSource { what: "torch".into(), url, error: Some(e.to_string()) }),
        }
        for h in family {
            let (name, url, r) = h.join().expect("no panic");
            match r {
                Ok(v) if !v.is_empty() => {
                    facts.packages.insert(name.clone(), v);
                    facts.sources.push(FactSource { what: name, url, error: None });
                }
                Ok(_) => facts.sources.push(FactSource { what: name, url, error: Some("not on the index".into()) }),
                Err(e) => facts.sources.push(FactSource { what: name, url, error: Some(e.to_string()) }),
            }
        }
        for h in python {
            let (what, name, url, r) = h.join().expect("no panic");
            match r {
                Ok(v) if !v.is_empty() => {
                    // torch from the Python index is PyPI's default build; kept apart from the wheel index's.
                    let key = if name == "torch" { "torch (pypi)".to_string() } else { name };
                    facts.packages.insert(key, v);
                    facts.sources.push(FactSource { what, url, error: None });
                }
                Ok(_) => facts.sources.push(FactSource { what, url, error: Some("not on the index".into()) }),
                Err(e) => facts.sources.push(FactSource { what, url, error: Some(e.to_string()) }),
            }
        }
        let (url, r) = tags.join().expect("no panic");
        match r {
            Ok(t) => {
                facts.cuda_tags = Some(t);
                facts.sources.push(FactSource { what: "nvidia/cuda tags".into(), url, error: None });
            }
            Err(e) => facts.sources.push(FactSource { what: "nvidia/cuda tags".into(), url, error: Some(e.to_string()) }),
        }
    });
    facts
}

/// The sources that failed, one line per server and error: `torch, torchvision not read from
/// download.pytorch.org: failed to lookup address information`, not thirteen near-identical lines.
pub fn summarize_errors(sources: &[FactSource]) -> Vec<String> {
    let mut groups: Vec<(String, String, Vec<String>)> = Vec::new();
    for src in sources {
        let Some(err) = &src.error else { continue };
        let host = src.url.split("://").nth(1).and_then(|r| r.split('/').next()).unwrap_or(&src.url).to_string();
        // HttpError's text starts with the URL asked (perhaps with a query); the rest is the cause.
        let cause = match err.strip_prefix(src.url.as_str()) {
            Some(rest) => rest.split_once(": ").map(|(_, c)| c).unwrap_or(rest).to_string(),
            None => err.clone(),
        };
        match groups.iter_mut().find(|(h, c, _)| *h == host && *c == cause) {
            Some(g) => g.2.push(src.what.clone()),
            None => groups.push((host, cause, vec![src.what.clone()])),
        }
    }
    groups.into_iter().map(|(host, cause, whats)| format!("{} not read from {host}: {cause}", whats.join(", "))).collect()
}

/// Whether any source answered.
fn anything(f: &LiveFacts) -> bool {
    f.torch.is_some() || f.cuda_tags.is_some() || !f.packages.is_empty()
}

/// The facts for this run: the cache while fresh, else the indexes now (`refresh` forces it), else a stale cache,
/// else nothing (the snapshot). `now_unix` comes from the caller (the clock is an input).
pub fn gather(s: &FactsSettings, now_unix: u64, refresh: bool) -> Gathered {
    let cache = read_cache(s);
    let cache_file = s.cache_file();
    let age = |c: &CacheFile| now_unix.saturating_sub(c.facts.fetched_unix);
    if s.offline {
        return match cache {
            Some(c) => Gathered { origin: Origin::Cache { age_secs: age(&c), stale: age(&c) > s.ttl_secs }, live: Some(c.facts), notes: vec!["--offline: facts from the cache".into()], cache_file },
            None => Gathered { live: None, origin: Origin::Snapshot, notes: vec!["--offline and no cached facts".into()], cache_file },
        };
    }
    if let Some(c) = &cache {
        if !refresh && age(c) <= s.ttl_secs {
            return Gathered { live: Some(c.facts.clone()), origin: Origin::Cache { age_secs: age(c), stale: false }, notes: Vec::new(), cache_file };
        }
    }
    let mut fresh = fetch_all(s, now_unix);
    let mut notes = summarize_errors(&fresh.sources);
    if !anything(&fresh) {
        return match cache {
            Some(c) => {
                notes.push("using the cached facts instead".into());
                Gathered { origin: Origin::Cache { age_secs: age(&c), stale: true }, live: Some(c.facts), notes, cache_file }
            }
            None => Gathered { live: None, origin: Origin::Snapshot, notes, cache_file },
        };
    }
    // A part that failed this time keeps its cached value (a registry hiccup must not forget the tag list).
    let mut digests = BTreeMap::new();
    if let Some(c) = cache {
        if fresh.torch.is_none() {
            fresh.torch = c.facts.torch;
        }
        if fresh.cuda_tags.is_none() {
            fresh.cuda_tags = c.facts.cuda_tags;
        }
        for (k, v) in c.facts.packages {
            fresh.packages.entry(k).or_insert(v);
        }
        // Digests of tags still listed stay valid; a re-pushed tag is read again when chosen.
        digests = c.digests;
    }
    if let Some(w) = write_cache(s, &CacheFile { key: s.cache_key(), facts: fresh.clone(), digests }) {
        notes.push(w);
    }
    Gathered { live: Some(fresh), origin: Origin::Live, notes, cache_file }
}

/// The manifest digest of `nvidia/cuda:<tag>`: from the cache, else the registry (and cached). None offline or
/// when the registry cannot say.
pub fn digest(s: &FactsSettings, tag: &str) -> Option<String> {
    let mut cache = read_cache(s);
    if let Some(d) = cache.as_ref().and_then(|c| c.digests.get(tag)) {
        return Some(d.clone());
    }
    if s.offline {
        return None;
    }
    let http = s.http();
    let d = registry::Registry::new(&http, &s.registry).digest(registry::REPO, tag).ok().flatten()?;
    if let Some(c) = cache.as_mut() {
        c.digests.insert(tag.to_string(), d.clone());
        let _ = write_cache(s, c); // a cache that cannot be written only costs a request next time
    }
    Some(d)
}

/// Seconds since the Unix epoch (the one clock read of the facts; callers pass it on).
pub fn now_unix() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// `2026-12-04` for a Unix time (UTC), without a date library: days since the epoch → civil date.
pub fn iso_date(unix: u64) -> String {
    let days = (unix / 86_400) as i64;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    format!("{:04}-{:02}-{:02}", if m <= 2 { y + 1 } else { y }, m, d)
}

/// Days between a `YYYY-MM-DD` date and a Unix time (for the snapshot's age); None when unparsable.
pub fn days_since(date: &str, now_unix: u64) -> Option<i64> {
    let mut p = date.split('-').map(|x| x.parse::<i64>().ok());
    let (y, m, d) = (p.next()??, p.next()??, p.next()??);
    // days_from_civil
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((now_unix / 86_400) as i64 - days)
}

/// How long ago, in words.
pub fn age_words(secs: u64) -> String {
    match secs {
        s if s < 120 => format!("{s} s"),
        s if s < 7_200 => format!("{} min", s / 60),
        s if s < 172_800 => format!("{} h", s / 3_600),
        s => format!("{} days", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_summarised_per_server_and_cause() {
        let f = |what: &str, url: &str, err: Option<&str>| FactSource { what: what.into(), url: url.into(), error: err.map(str::to_string) };
        let lines = summarize_errors(&[
            f("torch", "https://download.pytorch.org/whl/torch/", Some("https://download.pytorch.org/whl/torch/: io: lookup failed")),
            f("torchvision", "https://download.pytorch.org/whl/torchvision/", Some("https://download.pytorch.org/whl/torchvision/: io: lookup failed")),
            f("jax", "https://pypi.org/simple/jax/", None),
            f("nvidia/cuda tags", "http://127.0.0.1:9/v2/nvidia/cuda/tags/list", Some("http://127.0.0.1:9/v2/nvidia/cuda/tags/list?n=1000: HTTP 500")),
        ]);
        assert_eq!(lines, vec!["torch, torchvision not read from download.pytorch.org: io: lookup failed", "nvidia/cuda tags not read from 127.0.0.1:9: HTTP 500"]);
    }

    #[test]
    fn dates_round_trip() {
        assert_eq!(iso_date(0), "1970-01-01");
        assert_eq!(iso_date(1_796_342_400), "2026-12-04");
        assert_eq!(days_since("2026-12-04", 1_796_342_400 + 3 * 86_400 + 5), Some(3));
        assert_eq!(days_since("1970-01-01", 0), Some(0));
        assert_eq!(days_since("garbage", 0), None);
    }

    #[test]
    fn settings_from_the_environment() {
        let env = |k: &str| -> Option<String> {
            match k {
                "PIP_INDEX_URL" => Some("http://pip.mirror/simple".into()),
                "UV_INDEX_URL" => Some("http://uv.mirror/simple".into()),
                "DEVGPU_REGISTRY_MIRROR" => Some("mirror.local:5000".into()),
                "XDG_CACHE_HOME" => Some("/x/cache".into()),
                "DEVGPU_OFFLINE" => Some("0".into()),
                _ => None,
            }
        };
        let s = FactsSettings::from_env(false, &env);
        assert_eq!(s.python_index, "http://uv.mirror/simple", "uv's setting wins over pip's, as in the container");
        assert_eq!(s.registry, "https://mirror.local:5000");
        assert_eq!(s.torch_index, DEFAULT_TORCH_INDEX);
        assert_eq!(s.cache_file().unwrap(), PathBuf::from("/x/cache/devgpu/facts.json"));
        assert!(!s.offline);
        assert!(FactsSettings::from_env(true, &env).offline);
    }
}
