//! Resolve command-line arguments and environment into plain settings (pure: the environment is passed in).

use crate::cli::Cli;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// How results and progress are shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputSettings {
    pub json: bool,
    pub quiet: bool,
    pub verbose: u8,
    /// Colour and spinners only on a terminal, without --json, without NO_COLOR, without --no-progress.
    pub color: bool,
    pub progress: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub output: OutputSettings,
    /// `--docker-host`, else `DOCKER_HOST`; None = the local default (see `docker::connect`).
    pub docker_host: Option<String>,
    /// Where live facts come from (indexes, registry, cache) and whether to read them at all.
    pub facts: FactsSettings,
}

impl Settings {
    pub fn from_cli(cli: &Cli, env: impl Fn(&str) -> Option<OsString>) -> Self {
        use std::io::IsTerminal;
        let g = &cli.global;
        let tty = std::io::stderr().is_terminal();
        let no_color = env("NO_COLOR").is_some_and(|v| !v.is_empty());
        Settings {
            output: OutputSettings {
                json: g.json,
                quiet: g.quiet,
                verbose: g.verbose,
                color: tty && !g.json && !no_color,
                progress: tty && !g.json && !g.no_progress,
            },
            facts: FactsSettings::from_env(g.offline, &|k| env(k).map(|v| v.to_string_lossy().into_owned())),
            docker_host: g.docker_host.clone().or_else(|| env("DOCKER_HOST").map(|v| v.to_string_lossy().into_owned())).filter(|h| !h.is_empty()),
        }
    }
}

pub const DEFAULT_PYTHON_INDEX: &str = "https://pypi.org/simple";
pub const DEFAULT_TORCH_INDEX: &str = "https://download.pytorch.org/whl";
pub const DEFAULT_REGISTRY: &str = "https://registry-1.docker.io";
/// A day: PyTorch and CUDA release every few weeks; NVIDIA deletes tags months after end of life.
pub const DEFAULT_TTL_SECS: u64 = 24 * 60 * 60;

/// Where the live facts come from and how long they keep: plain settings, resolved from flags and environment
/// here, read by the live-facts client in `facts/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactsSettings {
    /// `--offline` / `DEVGPU_OFFLINE=1`: no request at all; the cache (any age), else the snapshot.
    pub offline: bool,
    /// The Python simple index: `UV_DEFAULT_INDEX`, `UV_INDEX_URL`, `PIP_INDEX_URL`, else PyPI.
    pub python_index: String,
    /// PyTorch's wheel index base (`…/whl`; `…/whl/torch/` lists every build): `DEVGPU_TORCH_INDEX_URL`.
    pub torch_index: String,
    /// The registry (or a pull-through mirror) serving `nvidia/cuda`: `DEVGPU_REGISTRY_MIRROR`.
    pub registry: String,
    /// `$XDG_CACHE_HOME/devgpu`, else `~/.cache/devgpu`; None: no cache (no home).
    pub cache_dir: Option<PathBuf>,
    /// `DEVGPU_FACTS_TTL` seconds.
    pub ttl_secs: u64,
    /// `DEVGPU_FACTS_CONNECT_TIMEOUT_MS`.
    pub connect_timeout_ms: u64,
    /// The most one answer may take (`DEVGPU_FACTS_TIMEOUT_MS`): short for `init` (a slow index must not make it
    /// slow), longer for an explicit `devgpu facts refresh` (PyTorch's torch page is several MB).
    pub total_timeout_ms: u64,
}

impl FactsSettings {
    /// From environment variables only (`env` is passed in: settings resolution stays pure).
    pub fn from_env(offline_flag: bool, env: &dyn Fn(&str) -> Option<String>) -> FactsSettings {
        let set = |k: &str| env(k).filter(|v| !v.trim().is_empty());
        let truthy = |k: &str| set(k).is_some_and(|v| !matches!(v.as_str(), "0" | "false" | "no"));
        let cache_dir = set("XDG_CACHE_HOME").map(PathBuf::from).or_else(|| set("HOME").map(|h| Path::new(&h).join(".cache"))).map(|d| d.join("devgpu"));
        FactsSettings {
            offline: offline_flag || truthy("DEVGPU_OFFLINE"),
            python_index: set("UV_DEFAULT_INDEX").or_else(|| set("UV_INDEX_URL")).or_else(|| set("PIP_INDEX_URL")).unwrap_or_else(|| DEFAULT_PYTHON_INDEX.into()),
            torch_index: set("DEVGPU_TORCH_INDEX_URL").unwrap_or_else(|| DEFAULT_TORCH_INDEX.into()).trim_end_matches('/').to_string(),
            registry: set("DEVGPU_REGISTRY_MIRROR").map(|m| if m.contains("://") { m } else { format!("https://{m}") }).unwrap_or_else(|| DEFAULT_REGISTRY.into()).trim_end_matches('/').to_string(),
            cache_dir,
            ttl_secs: set("DEVGPU_FACTS_TTL").and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_TTL_SECS),
            connect_timeout_ms: set("DEVGPU_FACTS_CONNECT_TIMEOUT_MS").and_then(|v| v.parse().ok()).unwrap_or(300),
            total_timeout_ms: set("DEVGPU_FACTS_TIMEOUT_MS").and_then(|v| v.parse().ok()).unwrap_or(2_000),
        }
    }
}
