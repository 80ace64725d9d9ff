//! Small version types for the GPU world: driver versions (`550.54.15`), CUDA versions (`12.4`, `12.4.1`)
//! and compute capabilities (`9.0`). Pure parsing, ordered comparisons.

use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// An NVIDIA driver version: dotted numbers compared numerically (`570.26` < `570.124.06`), shown as written
/// (NVIDIA's `.04` keeps its zero).
#[derive(Debug, Clone)]
pub struct DriverVersion {
    parts: Vec<u32>,
    text: String,
}

impl PartialEq for DriverVersion {
    fn eq(&self, other: &Self) -> bool {
        self.parts == other.parts
    }
}
impl Eq for DriverVersion {}

impl PartialOrd for DriverVersion {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for DriverVersion {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.parts.cmp(&other.parts)
    }
}
impl std::hash::Hash for DriverVersion {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.parts.hash(state)
    }
}

/// A CUDA version; `patch` is 0 when not given. Ordering is numeric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CudaVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

/// A GPU's compute capability, e.g. 9.0 for Hopper.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ComputeCap {
    pub major: u32,
    pub minor: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a valid {what} (expected {expected})")]
pub struct VersionParseError {
    pub text: String,
    pub what: &'static str,
    pub expected: &'static str,
}

fn dotted(text: &str, what: &'static str, expected: &'static str, min: usize, max: usize) -> Result<Vec<u32>, VersionParseError> {
    let err = || VersionParseError { text: text.to_string(), what, expected };
    let parts: Result<Vec<u32>, _> = text.trim().split('.').map(|p| p.parse::<u32>()).collect();
    let parts = parts.map_err(|_| err())?;
    if parts.len() < min || parts.len() > max {
        return Err(err());
    }
    Ok(parts)
}

impl FromStr for DriverVersion {
    type Err = VersionParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        dotted(s, "driver version", "e.g. 550.54.15", 1, 3).map(|parts| DriverVersion { parts, text: s.trim().to_string() })
    }
}

impl fmt::Display for DriverVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for DriverVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl DriverVersion {
    pub fn branch(&self) -> u32 {
        self.parts[0]
    }
}

impl CudaVersion {
    pub const fn new(major: u32, minor: u32, patch: u32) -> Self {
        CudaVersion { major, minor, patch }
    }
    /// The same version without its patch level: what NVIDIA_REQUIRE_CUDA and the driver compare.
    pub fn minor_only(self) -> Self {
        CudaVersion { patch: 0, ..self }
    }
    /// `12.4`
    pub fn short(self) -> String {
        format!("{}.{}", self.major, self.minor)
    }
    /// `12.4.1`
    pub fn full(self) -> String {
        format!("{}.{}.{}", self.major, self.minor, self.patch)
    }
    /// The PyTorch wheel variant for this CUDA, e.g. `cu124`.
    pub fn torch_variant(self) -> String {
        format!("cu{}{}", self.major, self.minor)
    }
    /// Parse a PyTorch wheel variant (`cu124`, `cu118`, `cu130`) back into a CUDA version.
    pub fn from_torch_variant(variant: &str) -> Option<Self> {
        let digits = variant.strip_prefix("cu")?;
        if digits.len() < 3 || !digits.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let (major, minor) = digits.split_at(digits.len() - 1);
        Some(CudaVersion::new(major.parse().ok()?, minor.parse().ok()?, 0))
    }
}

impl FromStr for CudaVersion {
    type Err = VersionParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let p = dotted(s, "CUDA version", "X.Y or X.Y.Z, e.g. 12.4", 2, 3)?;
        Ok(CudaVersion::new(p[0], p[1], p.get(2).copied().unwrap_or(0)))
    }
}

impl fmt::Display for CudaVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.short())
    }
}

impl FromStr for ComputeCap {
    type Err = VersionParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let p = dotted(s, "compute capability", "X.Y, e.g. 8.6", 2, 2)?;
        Ok(ComputeCap { major: p[0], minor: p[1] })
    }
}

impl fmt::Display for ComputeCap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl Serialize for ComputeCap {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A Python minor version such as 3.11.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PythonVersion {
    pub major: u32,
    pub minor: u32,
}

impl FromStr for PythonVersion {
    type Err = VersionParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let p = dotted(s, "Python version", "X.Y, e.g. 3.11", 2, 3)?;
        Ok(PythonVersion { major: p[0], minor: p[1] })
    }
}

impl fmt::Display for PythonVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// `cu118`, `cu121`, `cu128`, `cu130` (also the old `cu92`/`cu102`).
pub fn is_cu_tag(s: &str) -> bool {
    s.len() >= 4 && s.len() <= 5 && s.starts_with("cu") && s[2..].bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn driver_versions_compare_numerically() {
        let a: DriverVersion = "570.26".parse().unwrap();
        let b: DriverVersion = "570.124.06".parse().unwrap();
        assert!(a < b);
        assert!("550.54.15".parse::<DriverVersion>().unwrap() > "550.54.14".parse().unwrap());
        assert_eq!(b.to_string(), "570.124.06");
        assert!("abc".parse::<DriverVersion>().is_err());
        assert!("".parse::<DriverVersion>().is_err());
    }

    #[test]
    fn cuda_versions_parse_and_map_to_torch_variants() {
        let v: CudaVersion = "12.4.1".parse().unwrap();
        assert_eq!(v.short(), "12.4");
        assert_eq!(v.torch_variant(), "cu124");
        assert_eq!(CudaVersion::from_torch_variant("cu118"), Some(CudaVersion::new(11, 8, 0)));
        assert_eq!(CudaVersion::from_torch_variant("cu130"), Some(CudaVersion::new(13, 0, 0)));
        assert_eq!(CudaVersion::from_torch_variant("cpu"), None);
        assert!("12".parse::<CudaVersion>().is_err());
    }

    #[test]
    fn compute_caps_parse() {
        let cc: ComputeCap = "9.0".parse().unwrap();
        assert_eq!(cc, ComputeCap { major: 9, minor: 0 });
        assert!("9".parse::<ComputeCap>().is_err());
        assert!("sm_90".parse::<ComputeCap>().is_err());
    }
}
