//! `/etc/os-release` (os-release(5)): which Linux distribution this is, for the toolkit's install steps.
//!
//! The format is shell-compatible `KEY=value` lines: values may be unquoted, "double-quoted" (with `\"`, `\\`,
//! `\$` and `` \` `` escapes) or 'single-quoted'; `#` starts a comment line. `ID` is lower-case (`ubuntu`,
//! `debian`, `rhel`, `opensuse-leap`); `ID_LIKE` lists the distributions this one derives from, closest first
//! (`"rhel centos fedora"`, `ubuntu debian`).

use std::path::Path;
pub use crate::model::host::{OsRelease};


impl OsRelease {
    /// `ID` first, then `ID_LIKE` in order: the names to match against known distributions.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.id.as_str()).chain(self.id_like.iter().map(String::as_str))
    }

    /// "Ubuntu 24.04 LTS", else "ubuntu 24.04", for messages.
    pub fn display_name(&self) -> String {
        match (&self.pretty_name, &self.version_id) {
            (Some(p), _) => p.clone(),
            (None, Some(v)) => format!("{} {v}", self.id),
            (None, None) => self.id.clone(),
        }
    }
}

/// Parses os-release text (pure). Unknown keys and malformed lines are ignored, as systemd does.
pub fn parse_os_release(text: &str) -> OsRelease {
    let mut out = OsRelease { id: "linux".to_string(), ..Default::default() };
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, raw)) = line.split_once('=') else { continue };
        let value = unquote(raw.trim());
        match key.trim() {
            "ID" if !value.is_empty() => out.id = value.to_ascii_lowercase(),
            "ID_LIKE" => out.id_like = value.split_whitespace().map(str::to_ascii_lowercase).collect(),
            "VERSION_ID" if !value.is_empty() => out.version_id = Some(value),
            "PRETTY_NAME" if !value.is_empty() => out.pretty_name = Some(value),
            _ => {}
        }
    }
    out
}

fn unquote(raw: &str) -> String {
    if let Some(inner) = raw.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
        return inner.to_string();
    }
    if let Some(inner) = raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        let mut out = String::with_capacity(inner.len());
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                match chars.next() {
                    Some(n @ ('"' | '\\' | '$' | '`')) => out.push(n),
                    Some(n) => {
                        out.push('\\');
                        out.push(n);
                    }
                    None => out.push('\\'),
                }
            } else {
                out.push(c);
            }
        }
        return out;
    }
    raw.to_string()
}

/// Reads `path` (normally `/etc/os-release`; os-release(5) falls back to `/usr/lib/os-release`).
pub fn read_os_release(path: &Path) -> std::io::Result<OsRelease> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(parse_os_release(&text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && path == Path::new("/etc/os-release") => {
            std::fs::read_to_string("/usr/lib/os-release").map(|t| parse_os_release(&t))
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_files() {
        // Debian 12 (this machine's), Ubuntu 24.04 (the H200 box), Rocky 9, openSUSE Leap 15.5, Amazon Linux 2023.
        let debian = parse_os_release("PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\nHOME_URL=\"https://www.debian.org/\"\n");
        assert_eq!(debian, OsRelease { id: "debian".into(), id_like: vec![], version_id: Some("12".into()), pretty_name: Some("Debian GNU/Linux 12 (bookworm)".into()) });
        let ubuntu = parse_os_release("PRETTY_NAME=\"Ubuntu 24.04.1 LTS\"\nVERSION_ID=\"24.04\"\nID=ubuntu\nID_LIKE=debian\n");
        assert_eq!(ubuntu.ids().collect::<Vec<_>>(), ["ubuntu", "debian"]);
        let rocky = parse_os_release("NAME=\"Rocky Linux\"\nID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.3\"\n");
        assert_eq!(rocky.ids().collect::<Vec<_>>(), ["rocky", "rhel", "centos", "fedora"]);
        assert_eq!(rocky.display_name(), "rocky 9.3");
        let suse = parse_os_release("NAME=\"openSUSE Leap\"\nID=\"opensuse-leap\"\nID_LIKE=\"suse opensuse\"\n");
        assert_eq!(suse.id, "opensuse-leap");
        let amzn = parse_os_release("ID='amzn'\n# comment\nID_LIKE=\"fedora\"\nbroken line\n");
        assert_eq!(amzn.ids().collect::<Vec<_>>(), ["amzn", "fedora"]);
    }

    #[test]
    fn escapes_and_defaults() {
        assert_eq!(parse_os_release("PRETTY_NAME=\"a \\\"b\\\" \\$c\"").pretty_name.as_deref(), Some("a \"b\" $c"));
        assert_eq!(parse_os_release("").id, "linux");
        assert_eq!(parse_os_release("ID=\nID=Arch").id, "arch");
    }
}
