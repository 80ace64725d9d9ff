//! `--gpus all|N|ID,ID` → the `docker run` arguments devcontainer.json carries.

use crate::error::ErrorCode;

/// Which GPUs the container gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GpuSelection {
    All,
    Count(u32),
    /// Indexes or UUIDs (`0,2` or `GPU-7b82…`).
    Devices(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--gpus {value}: {why}")]
pub struct GpuSelectionError {
    pub value: String,
    pub why: String,
}

impl crate::error::Coded for GpuSelectionError {
    fn code(&self) -> ErrorCode {
        ErrorCode::InvalidGpus
    }
    fn hints(&self) -> Vec<String> {
        vec!["use --gpus all, a count such as --gpus 2, or device indexes/UUIDs such as --gpus 0,2".into()]
    }
}

impl std::str::FromStr for GpuSelection {
    type Err = GpuSelectionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |why: &str| GpuSelectionError { value: s.to_string(), why: why.to_string() };
        let t = s.trim();
        if t.eq_ignore_ascii_case("all") {
            return Ok(GpuSelection::All);
        }
        // `device=0,2` as docker writes it is accepted too.
        let t = t.trim_matches('"').strip_prefix("device=").unwrap_or(t.trim_matches('"'));
        if t.is_empty() {
            return Err(err("empty"));
        }
        if !s.contains(',') && !s.contains("device=") {
            if let Ok(n) = t.parse::<u32>() {
                return if n == 0 { Err(err("a count must be at least 1")) } else { Ok(GpuSelection::Count(n)) };
            }
        }
        let ids: Vec<String> = t.split(',').map(|p| p.trim().to_string()).collect();
        if ids.iter().any(|i| i.is_empty() || !i.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ':' || c == '.')) {
            return Err(err("device IDs are indexes or UUIDs separated by commas"));
        }
        Ok(GpuSelection::Devices(ids))
    }
}

impl GpuSelection {
    /// Separate array items, as `docker run` takes them (`"--gpus all"` as one item is a classic bug).
    /// Device lists carry docker's own quoting: the value `"device=0,2"` includes the double quotes, because
    /// docker's --gpus parser reads CSV and a bare comma would split the list.
    pub fn run_args(&self) -> Vec<String> {
        let value = match self {
            GpuSelection::All => "all".to_string(),
            GpuSelection::Count(n) => n.to_string(),
            GpuSelection::Devices(ids) => format!("\"device={}\"", ids.join(",")),
        };
        vec!["--gpus".to_string(), value]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form() {
        assert_eq!("all".parse::<GpuSelection>().unwrap().run_args(), ["--gpus", "all"]);
        assert_eq!("2".parse::<GpuSelection>().unwrap().run_args(), ["--gpus", "2"]);
        assert_eq!("0,2".parse::<GpuSelection>().unwrap().run_args(), ["--gpus", "\"device=0,2\""]);
        assert_eq!("device=1".parse::<GpuSelection>().unwrap(), GpuSelection::Devices(vec!["1".into()]));
        assert_eq!(
            "GPU-7b8238c7-8f23-f0a1-12fc-4a5b75119cb4".parse::<GpuSelection>().unwrap().run_args(),
            ["--gpus", "\"device=GPU-7b8238c7-8f23-f0a1-12fc-4a5b75119cb4\""]
        );
        assert!("0".parse::<GpuSelection>().is_err());
        assert!("".parse::<GpuSelection>().is_err());
        assert!("0;rm -rf /".parse::<GpuSelection>().is_err());
    }
}
