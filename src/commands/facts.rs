//! `devgpu facts show|refresh`, and the tables `init` and `doctor` resolve against: the embedded snapshot overlaid
//! with today's facts ([`live_knowledge`]).

use crate::cli::FactsCommand;
use crate::compat::knowledge::Knowledge;
use crate::compat::live::{self, LiveFacts};
use crate::compat::{self};
use crate::error::ErrorCode;
use crate::facts::{self, Gathered, Origin};
use crate::report::{FactsProvenance, FactsReport, Render};
use crate::settings::Settings;

/// The tables for this run and where their facts came from.
pub struct LiveKnowledge {
    pub knowledge: Knowledge,
    pub live: Option<LiveFacts>,
    pub provenance: FactsProvenance,
    /// What the overlay changed (newer torch, deleted lines …), for `-v` and `facts show`.
    pub overlay_notes: Vec<String>,
    /// What the user must be told: snapshot fallback with its age, sources that could not be read.
    pub warnings: Vec<String>,
}

/// Gather the facts (cache, else the indexes now, else the snapshot) and overlay them on the snapshot.
pub fn live_knowledge(settings: &Settings, refresh: bool) -> LiveKnowledge {
    let now = facts::now_unix();
    let gathered = facts::gather(&settings.facts, now, refresh);
    from_gathered(settings, gathered, now)
}

fn from_gathered(settings: &Settings, g: Gathered, now: u64) -> LiveKnowledge {
    let snapshot = compat::knowledge();
    let snapshot_date = snapshot.catalog_date.clone();
    let mut warnings = Vec::new();
    let (knowledge, overlay_notes) = match &g.live {
        Some(l) => {
            let o = snapshot.with_live(l);
            (o.knowledge, o.notes)
        }
        None => (snapshot.clone(), Vec::new()),
    };
    let provenance = match (&g.origin, &g.live) {
        (Origin::Snapshot, _) | (_, None) => {
            let age = facts::days_since(&snapshot_date, now).map(|d| format!("{d} days old")).unwrap_or_else(|| "age unknown".into());
            warnings.push(format!(
                "no live facts ({}): resolved against devgpu's embedded snapshot of {snapshot_date} ({age}); newer PyTorch or CUDA releases are not known — run `devgpu facts refresh` when the indexes are reachable",
                if g.notes.is_empty() { "not read".to_string() } else { g.notes.join("; ") }
            ));
            FactsProvenance { source: "snapshot".into(), date: snapshot_date.clone(), fetched_unix: None, snapshot_date, age_secs: None, stale: false, not_read: vec![] }
        }
        (origin, Some(l)) => {
            let (source, age, stale) = match origin {
                Origin::Live => ("live", 0, false),
                Origin::Cache { age_secs, stale } => ("cache", *age_secs, *stale),
                Origin::Snapshot => unreachable!("handled above"),
            };
            if stale {
                warnings.push(format!(
                    "the live facts are {} old (the indexes could not be reached now: {}); run `devgpu facts refresh` when they can",
                    facts::age_words(age),
                    g.notes.join("; ")
                ));
            } else if settings.output.verbose > 0 {
                warnings.extend(g.notes.iter().cloned());
            }
            let missing: Vec<&str> = [("PyTorch wheel index", l.torch.is_none()), ("nvidia/cuda tag list", l.cuda_tags.is_none())].iter().filter(|(_, m)| *m).map(|(w, _)| *w).collect();
            if !missing.is_empty() {
                warnings.push(format!(
                    "not read: {} ({}); those facts come from devgpu's snapshot of {snapshot_date}",
                    missing.join(", "),
                    facts::summarize_errors(&l.sources.iter().filter(|s| s.what == "torch" || s.what == "nvidia/cuda tags").cloned().collect::<Vec<_>>()).join("; ")
                ));
            }
            FactsProvenance {
                source: source.into(),
                date: facts::iso_date(l.fetched_unix),
                fetched_unix: Some(l.fetched_unix),
                snapshot_date,
                age_secs: Some(age),
                stale,
                not_read: missing.iter().map(|m| m.to_string()).collect(),
            }
        }
    };
    LiveKnowledge { knowledge, live: g.live, provenance, overlay_notes, warnings }
}

pub fn run(cmd: &FactsCommand, settings: &Settings) -> anyhow::Result<Box<dyn Render>> {
    let refresh = matches!(cmd, FactsCommand::Refresh);
    // Asked for explicitly, a refresh may wait longer for a large index page than init does.
    let settings = &Settings { facts: crate::facts::FactsSettings { total_timeout_ms: if refresh { settings.facts.total_timeout_ms.max(20_000) } else { settings.facts.total_timeout_ms }, ..settings.facts.clone() }, ..settings.clone() };
    let lk = live_knowledge(settings, refresh);
    let s = &settings.facts;
    if refresh && lk.provenance.source != "live" {
        // Asked to renew the facts and nothing answered: that is the command failing, with the ways out.
        return Err(crate::error::CliError::user(
            ErrorCode::FactsUnreachable,
            format!("no package index or registry could be read: {}", lk.warnings.join("; ")),
            vec![
                format!("check the network, a proxy (HTTPS_PROXY/NO_PROXY) or the mirrors: python index {}, torch index {}, registry {}", s.python_index, s.torch_index, s.registry),
                if s.offline { "drop --offline / DEVGPU_OFFLINE".into() } else { "devgpu keeps working offline from its cache or the embedded snapshot (`devgpu facts show`)".into() },
            ],
        )
        .into());
    }
    let behind = lk.live.as_ref().map(|l| live::snapshot_behind(compat::knowledge(), l)).unwrap_or_default();
    Ok(Box::new(FactsReport {
        provenance: lk.provenance,
        cache_file: s.cache_file().map(|p| p.display().to_string()),
        python_index: s.python_index.clone(),
        torch_index: s.torch_index.clone(),
        registry: s.registry.clone(),
        offline: s.offline,
        live: lk.live,
        torch: lk.knowledge.torch.iter().map(|r| (r.latest.clone(), r.variants.clone())).collect(),
        image_lines: lk.knowledge.images.iter().map(|l| format!("{} (Ubuntu {})", l.cuda.full(), l.ubuntu.join(", "))).collect(),
        overlay_notes: lk.overlay_notes,
        snapshot_behind: behind,
        warnings: lk.warnings,
    }))
}
