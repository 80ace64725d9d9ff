//! `devgpu facts show|refresh`: what is known, from where, how old.

use super::Render;
use crate::compat::live::{newest_release, LiveFacts};
use crate::settings::OutputSettings;
use serde_json::json;
use std::fmt::Write;

pub use crate::compat::live::FactsProvenance;

pub struct FactsReport {
    pub provenance: FactsProvenance,
    pub cache_file: Option<String>,
    pub python_index: String,
    pub torch_index: String,
    pub registry: String,
    pub offline: bool,
    pub live: Option<LiveFacts>,
    /// The overlaid tables' PyTorch releases (newest patch, variants).
    pub torch: Vec<(String, Vec<String>)>,
    pub image_lines: Vec<String>,
    pub overlay_notes: Vec<String>,
    pub snapshot_behind: Vec<String>,
    pub warnings: Vec<String>,
}

impl Render for FactsReport {
    fn data(&self) -> serde_json::Value {
        let newest: serde_json::Map<String, serde_json::Value> =
            self.live.iter().flat_map(|l| l.packages.iter()).filter_map(|(k, v)| newest_release(v.iter()).map(|n| (k.clone(), json!(n)))).collect();
        json!({
            "provenance": self.provenance,
            "cacheFile": self.cache_file,
            "offline": self.offline,
            "sources": {"pythonIndex": self.python_index, "torchIndex": self.torch_index, "registry": self.registry},
            "read": self.live.as_ref().map(|l| &l.sources),
            "newest": newest,
            "cudaTags": self.live.as_ref().and_then(|l| l.cuda_tags.as_ref().map(|t| t.len())),
            "torch": self.torch.iter().map(|(v, vs)| json!({"version": v, "variants": vs})).collect::<Vec<_>>(),
            "imageLines": self.image_lines,
            "changes": self.overlay_notes,
            "snapshotBehind": self.snapshot_behind,
            "warnings": self.warnings,
        })
    }

    fn human(&self, out: &OutputSettings) -> String {
        let mut s = String::new();
        let p = &self.provenance;
        let from = match p.source.as_str() {
            "live" => format!("read just now ({})", p.date),
            "cache" => format!(
                "cached, read {} ago on {}{}",
                crate::facts::age_words(p.age_secs.unwrap_or(0)),
                p.date,
                if p.stale { " (stale)" } else { "" }
            ),
            _ => format!("the embedded snapshot of {}", p.snapshot_date),
        };
        let _ = writeln!(s, "facts   {from}{}", if self.offline { " · offline" } else { "" });
        let _ = writeln!(s, "  cache     {}", self.cache_file.as_deref().unwrap_or("none (no HOME or XDG_CACHE_HOME)"));
        let _ = writeln!(s, "  indexes   python {} · torch {} · registry {}", self.python_index, self.torch_index, self.registry);
        if let Some(l) = &self.live {
            for src in &l.sources {
                match &src.error {
                    None => {
                        if out.verbose > 0 {
                            let _ = writeln!(s, "    ✓ {} {}", src.what, src.url);
                        }
                    }
                    Some(e) => {
                        let _ = writeln!(s, "    ✗ {}: {e}", src.what);
                    }
                }
            }
            let newest: Vec<String> = l.packages.iter().filter_map(|(k, v)| newest_release(v.iter()).map(|n| format!("{k} {n}"))).collect();
            if !newest.is_empty() {
                let _ = writeln!(s, "  newest    {}", newest.join(" · "));
            }
            if let Some(t) = &l.cuda_tags {
                let _ = writeln!(s, "  registry  {} nvidia/cuda tags", t.len());
            }
        }
        if let Some((v, vs)) = self.torch.last() {
            let _ = writeln!(s, "  torch     newest {v} ({})", vs.join("/"));
        }
        let _ = writeln!(s, "  images    {}", self.image_lines.join(" · "));
        for n in &self.overlay_notes {
            let _ = writeln!(s, "  changed   {n}");
        }
        for b in &self.snapshot_behind {
            let _ = writeln!(s, "  behind    devgpu's snapshot does not know {b}");
        }
        for w in &self.warnings {
            let _ = writeln!(s, "warning: {w}");
        }
        s
    }
}
