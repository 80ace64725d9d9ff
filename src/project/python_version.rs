//! `.python-version` (pyenv, uv) and `runtime.txt` (Binder, Heroku).
//!
//! `.python-version`: the first line that is not blank or a `#` comment. `3.11` → `==3.11.*`,
//! `3.11.6` → `==3.11.6`, `cpython-3.12.1-linux-x86_64-gnu` (uv) → `==3.12.1`, `3.13t` → `==3.13.*`.
//! Names that are not CPython versions (`miniconda3-4.7.12`, `pypy3.10-7.3.12`, `system`) give a warning.
//! `runtime.txt`: `python-3.10.4` → `==3.10.4`, `python-3.10` → `==3.10.*`; other runtimes (`r-…`) are skipped.

use crate::model::project::{PythonPin, ScanWarning};
use super::pep508::{loc, normalize_specifiers};

/// A CPython version (`3`, `3.11`, `3.11.6`, `3.13.0rc1`, `3.13t`) as a specifier: exact with three
/// parts, the whole series with fewer. `None` when it is not such a version.
pub fn cpython_specifier(v: &str) -> Option<String> {
    let v = v.trim();
    let v = v.strip_suffix('t').unwrap_or(v); // free-threaded build: same version
    let v = v.strip_suffix("-dev").unwrap_or(v);
    let release_end = v.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(v.len());
    let (release, pre) = v.split_at(release_end);
    let parts: Vec<&str> = release.split('.').collect();
    if release.is_empty() || parts.iter().any(|p| p.is_empty()) || parts.len() > 3 || parts[0] != "3" && parts[0] != "2" {
        return None;
    }
    if !pre.is_empty() {
        let ok = ["a", "b", "rc"].iter().any(|p| pre.strip_prefix(p).is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())));
        if !ok || parts.len() != 3 {
            return None;
        }
    }
    let spec = if parts.len() == 3 { format!("=={release}{pre}") } else { format!("=={release}.*") };
    normalize_specifiers(&spec).ok()
}

/// Parse `.python-version`.
pub fn parse_python_version_file(text: &str, file: &str) -> Result<Option<PythonPin>, ScanWarning> {
    let Some((idx, line)) = text
        .strip_prefix('\u{feff}')
        .unwrap_or(text)
        .lines()
        .enumerate()
        .map(|(i, l)| (i, l.trim()))
        .find(|(_, l)| !l.is_empty() && !l.starts_with('#'))
    else {
        return Ok(None);
    };
    let n = idx + 1;
    let candidate = line.strip_prefix("cpython-").map(|rest| rest.split('-').next().unwrap_or(rest)).unwrap_or(line);
    match cpython_specifier(candidate) {
        Some(specifier) => Ok(Some(PythonPin { specifier, raw: line.to_string(), source: loc(file, n) })),
        None => Err(ScanWarning {
            source: loc(file, n),
            message: format!(
                "`{line}` is not a CPython version (a pyenv name such as miniconda3-… or pypy…); pass --python X.Y to choose one"
            ),
        }),
    }
}

/// Parse `runtime.txt`.
pub fn parse_runtime_txt(text: &str, file: &str) -> Result<Option<PythonPin>, ScanWarning> {
    let Some((idx, line)) = text.lines().enumerate().map(|(i, l)| (i, l.trim())).find(|(_, l)| !l.is_empty()) else {
        return Ok(None);
    };
    let n = idx + 1;
    let Some(v) = line.strip_prefix("python-") else {
        return Err(ScanWarning {
            source: loc(file, n),
            message: format!("`{line}` names no Python runtime (expected e.g. python-3.10); skipped"),
        });
    };
    match cpython_specifier(v) {
        Some(specifier) => Ok(Some(PythonPin { specifier, raw: line.to_string(), source: loc(file, n) })),
        None => Err(ScanWarning { source: loc(file, n), message: format!("`{line}` is not a Python version; skipped") }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str) -> String {
        parse_python_version_file(text, ".python-version").unwrap().unwrap().specifier
    }

    #[test]
    fn python_version_files() {
        assert_eq!(spec("3.11\n"), "==3.11.*");
        assert_eq!(spec("3.11.6\n"), "==3.11.6");
        assert_eq!(spec("# pinned for CI\n\n3.10\n3.9\n"), "==3.10.*");
        assert_eq!(spec("cpython-3.12.1-linux-x86_64-gnu\n"), "==3.12.1");
        assert_eq!(spec("3.13t"), "==3.13.*");
        assert_eq!(spec("3.13.0rc1"), "==3.13.0rc1");
        let p = parse_python_version_file("\n3.11\n", ".python-version").unwrap().unwrap();
        assert_eq!(p.source, loc(".python-version", 2));
        assert_eq!(p.raw, "3.11");
        assert_eq!(parse_python_version_file("", ".python-version").unwrap(), None);
        let w = parse_python_version_file("miniconda3-4.7.12\n", ".python-version").unwrap_err();
        assert_eq!(w.source, loc(".python-version", 1));
        assert!(w.message.contains("miniconda3-4.7.12"));
        assert!(parse_python_version_file("pypy3.10-7.3.12", ".python-version").is_err());
        assert!(parse_python_version_file("system", ".python-version").is_err());
    }

    #[test]
    fn runtime_txt() {
        let p = parse_runtime_txt("python-3.10.4\n", "runtime.txt").unwrap().unwrap();
        assert_eq!(p.specifier, "==3.10.4");
        assert_eq!(p.raw, "python-3.10.4");
        assert_eq!(parse_runtime_txt("python-3.10", "runtime.txt").unwrap().unwrap().specifier, "==3.10.*");
        assert!(parse_runtime_txt("r-2023-01-01", "runtime.txt").is_err());
    }
}
