//! `requirements*.txt`, read the way pip reads it (pip `_internal/req/req_file.py`):
//!
//! - a line ending in `\` continues on the next one (the joined line keeps the first line's number),
//!   unless it is a comment line;
//! - `#` at the start of a line, or after whitespace, starts a comment (`…#egg=name` is not a comment);
//! - a line is split at the first word that starts with `-`: the words before are the requirement
//!   (a PEP 508 string, parsed by `pep508_rs`), the rest are options (`--hash=…`);
//! - option lines: `-r/--requirement`, `-c/--constraint` (includes, followed relative to the including
//!   file), `-e/--editable`, `-i/--index-url`, `--extra-index-url`, `-f/--find-links`, and the flags pip
//!   accepts in a requirements file (`--pre`, `--no-index`, `--only-binary`, …), which need nothing from us
//!   because the Dockerfile runs `pip install -r` on the file itself;
//! - lines that are not PEP 508 names (`-e .`, `git+https://…`, a URL, `./pkg`, a wheel) become
//!   [`OtherRequirement`]s; a wheel's version is also recorded as a pinned [`Requirement`].
//!
//! Constraints (`-c`): pip reads them for versions only and installs nothing from them. We follow them
//! (they appear in [`RequirementFile::includes`] so the Dockerfile copies them), record their index
//! options, and keep their pins in `constraints` (group `constraint`), not in `requirements`.
//! As in pip, a `-r` inside a constraints file is a requirements file again.

use crate::text::shell_split;
use crate::model::project::{
    FindLinks, IndexUrl, OtherRequirement, OtherRequirementKind, Requirement, RequirementFile, ScanWarning, SourceLoc,
};
use super::pep508::{apply_wheel_version, cuda_variant_from_url, loc, normalize_name, parse_requirement, wheel_name_version};
use std::collections::{HashMap, HashSet};

/// A `-r`/`-c` line as written, not yet resolved against the including file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Include {
    pub target: String,
    pub constraint: bool,
    pub line: usize,
}

/// What one requirements file says, before its includes are followed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedRequirements {
    pub requirements: Vec<Requirement>,
    pub other: Vec<OtherRequirement>,
    pub index_urls: Vec<IndexUrl>,
    pub find_links: Vec<FindLinks>,
    pub includes: Vec<Include>,
    pub warnings: Vec<ScanWarning>,
}

/// Parse one requirements file. `file` is its path relative to the project root (for [`SourceLoc`]s);
/// `group` is the group its requirements get (`main`, `dev`, …).
pub fn parse_requirements_txt(text: &str, file: &str, group: &str) -> ParsedRequirements {
    let mut out = ParsedRequirements::default();
    for (line_no, line) in logical_lines(text) {
        parse_logical_line(&line, line_no, file, group, &mut out);
    }
    out
}

/// The logical lines of a requirements file: continuations joined, comments removed, blanks dropped,
/// each with the 1-based number of its first physical line.
pub fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut joined: Vec<(usize, String)> = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if !line.ends_with('\\') || is_comment_line(line) {
            let line = if is_comment_line(line) { format!(" {line}") } else { line.to_string() };
            match pending.take() {
                Some((first, mut acc)) => {
                    acc.push_str(&line);
                    joined.push((first, acc));
                }
                None => joined.push((n, line)),
            }
        } else {
            let part = line.trim_matches('\\');
            match pending.as_mut() {
                Some((_, acc)) => acc.push_str(part),
                None => pending = Some((n, part.to_string())),
            }
        }
    }
    if let Some(p) = pending {
        joined.push(p);
    }
    joined
        .into_iter()
        .filter_map(|(n, l)| {
            let l = strip_comment(&l).trim().to_string();
            (!l.is_empty()).then_some((n, l))
        })
        .collect()
}

/// pip's `COMMENT_RE.match`: `#` at the start, possibly after whitespace.
fn is_comment_line(line: &str) -> bool {
    line.trim_start().starts_with('#')
}

/// Remove `(^|\s+)#.*$`.
fn strip_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'#' && (i == 0 || bytes[i - 1].is_ascii_whitespace()) {
            return &line[..i];
        }
    }
    line
}

/// pip's `break_args_options`: words up to the first one starting with `-` are the requirement.
fn break_args_options(line: &str) -> (String, String) {
    let tokens: Vec<&str> = line.split(' ').collect();
    let split = tokens.iter().position(|t| t.starts_with('-')).unwrap_or(tokens.len());
    (tokens[..split].join(" ").trim().to_string(), tokens[split..].join(" "))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Opt {
    Requirement,
    Constraint,
    Editable,
    IndexUrl,
    ExtraIndexUrl,
    FindLinks,
    /// Options pip honours in the file itself; nothing to record.
    Ignored,
    /// Options allowed after a requirement on its line.
    PerRequirement,
}

/// (long, short, takes a value, meaning) — the options pip accepts in a requirements file.
const OPTIONS: &[(&str, Option<&str>, bool, Opt)] = &[
    ("--requirement", Some("-r"), true, Opt::Requirement),
    ("--constraint", Some("-c"), true, Opt::Constraint),
    ("--editable", Some("-e"), true, Opt::Editable),
    ("--index-url", Some("-i"), true, Opt::IndexUrl),
    ("--extra-index-url", None, true, Opt::ExtraIndexUrl),
    ("--find-links", Some("-f"), true, Opt::FindLinks),
    ("--no-index", None, false, Opt::Ignored),
    ("--no-binary", None, true, Opt::Ignored),
    ("--only-binary", None, true, Opt::Ignored),
    ("--prefer-binary", None, false, Opt::Ignored),
    ("--require-hashes", None, false, Opt::Ignored),
    ("--pre", None, false, Opt::Ignored),
    ("--trusted-host", None, true, Opt::Ignored),
    ("--use-feature", None, true, Opt::Ignored),
    ("--hash", None, true, Opt::PerRequirement),
    ("--config-settings", None, true, Opt::PerRequirement),
    ("--global-option", None, true, Opt::PerRequirement),
    ("--install-option", None, true, Opt::PerRequirement),
];

/// Find an option by its spelling; long options may be abbreviated to a unique prefix (optparse).
fn lookup_option(name: &str) -> Option<(bool, Opt)> {
    if name.starts_with("--") {
        if let Some(o) = OPTIONS.iter().find(|o| o.0 == name) {
            return Some((o.2, o.3));
        }
        let matches: Vec<_> = OPTIONS.iter().filter(|o| o.0.starts_with(name)).collect();
        if matches.len() == 1 {
            return Some((matches[0].2, matches[0].3));
        }
        None
    } else {
        OPTIONS.iter().find(|o| o.1 == Some(name)).map(|o| (o.2, o.3))
    }
}

/// Split option text into (option, value) pairs, optparse-style. Errors name the bad option.
fn parse_options(text: &str) -> Result<Vec<(Opt, String, Option<String>)>, String> {
    let tokens = shell_split(text)?;
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let tok = &tokens[i];
        i += 1;
        if !tok.starts_with('-') || tok == "-" {
            return Err(format!("unexpected `{tok}`"));
        }
        let (name, inline_value): (String, Option<String>) = if tok.starts_with("--") {
            match tok.split_once('=') {
                Some((n, v)) => (n.to_string(), Some(v.to_string())),
                None => (tok.clone(), None),
            }
        } else if tok.len() > 2 {
            (tok[..2].to_string(), Some(tok[2..].to_string()))
        } else {
            (tok.clone(), None)
        };
        let Some((takes_value, opt)) = lookup_option(&name) else {
            return Err(format!("pip does not accept `{name}` in a requirements file"));
        };
        let value = if takes_value {
            match inline_value {
                Some(v) => Some(v),
                None if i < tokens.len() => {
                    i += 1;
                    Some(tokens[i - 1].clone())
                }
                None => return Err(format!("`{name}` needs a value")),
            }
        } else {
            if inline_value.is_some() {
                return Err(format!("`{name}` takes no value"));
            }
            None
        };
        out.push((opt, name, value));
    }
    Ok(out)
}


fn warn(out: &mut ParsedRequirements, file: &str, line: usize, message: String) {
    out.warnings.push(ScanWarning { source: loc(file, line), message });
}

/// Parse one logical line (already joined and without comments) into `out`.
pub(crate) fn parse_logical_line(line: &str, line_no: usize, file: &str, group: &str, out: &mut ParsedRequirements) {
    let (args, opts) = break_args_options(line);
    let options = match parse_options(&opts) {
        Ok(o) => o,
        Err(e) => {
            warn(out, file, line_no, format!("skipped `{line}`: {e}"));
            return;
        }
    };
    if !args.is_empty() {
        if let Some((_, name, _)) = options.iter().find(|(o, _, _)| *o != Opt::PerRequirement) {
            warn(out, file, line_no, format!("skipped `{line}`: `{name}` cannot follow a requirement on the same line"));
            return;
        }
        add_requirement(&args, false, line_no, file, group, out);
        return;
    }
    for (opt, name, value) in options {
        let value = value.unwrap_or_default();
        match opt {
            Opt::Requirement | Opt::Constraint => {
                out.includes.push(Include { target: value, constraint: opt == Opt::Constraint, line: line_no })
            }
            Opt::Editable => add_requirement(&value, true, line_no, file, group, out),
            Opt::IndexUrl | Opt::ExtraIndexUrl => out.index_urls.push(IndexUrl {
                cuda_variant: cuda_variant_from_url(&value),
                url: value,
                extra: opt == Opt::ExtraIndexUrl,
                source: loc(file, line_no),
            }),
            Opt::FindLinks => out.find_links.push(FindLinks {
                cuda_variant: cuda_variant_from_url(&value),
                url: value,
                source: loc(file, line_no),
            }),
            Opt::Ignored => {}
            Opt::PerRequirement => {
                warn(out, file, line_no, format!("skipped `{name}`: it belongs after a requirement on the same line"))
            }
        }
    }
}

/// A requirement argument: a PEP 508 string, or a path / URL / VCS reference pip also takes.
fn add_requirement(arg: &str, editable: bool, line_no: usize, file: &str, group: &str, out: &mut ParsedRequirements) {
    let source = loc(file, line_no);
    if !editable {
        match parse_requirement(arg, group, source.clone()) {
            Ok(r) => {
                out.requirements.push(r);
                return;
            }
            Err(e) => {
                if other_kind(arg).is_none() {
                    warn(out, file, line_no, format!("could not parse requirement `{arg}`: {e}"));
                    return;
                }
            }
        }
    }
    let kind = other_kind(arg).unwrap_or(OtherRequirementKind::Path);
    let wheel = wheel_name_version(arg);
    let name = egg_name(arg).or_else(|| wheel.as_ref().map(|w| w.0.clone()));
    if let Some((wname, version)) = &wheel {
        let mut r = Requirement {
            name: wname.clone(),
            raw: arg.to_string(),
            specifier: String::new(),
            pinned: None,
            local: None,
            extras: Vec::new(),
            marker: None,
            group: group.to_string(),
            source: source.clone(),
        };
        apply_wheel_version(&mut r, version);
        out.requirements.push(r);
    }
    out.other.push(OtherRequirement { raw: arg.to_string(), kind, editable, name, group: group.to_string(), source });
}

/// How pip would read a non-PEP 508 argument, or `None` when it is neither a URL nor a path.
fn other_kind(arg: &str) -> Option<OtherRequirementKind> {
    let lower = arg.to_ascii_lowercase();
    if ["git+", "hg+", "svn+", "bzr+"].iter().any(|p| lower.starts_with(p)) {
        return Some(OtherRequirementKind::Vcs);
    }
    if lower.contains("://") {
        return Some(if lower.starts_with("file:") { OtherRequirementKind::Path } else { OtherRequirementKind::Url });
    }
    let archive = [".whl", ".zip", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar"].iter().any(|s| lower.ends_with(s));
    if arg.starts_with('.') || arg.starts_with('/') || arg.starts_with('~') || arg.contains('/') || arg.contains('\\') || archive
    {
        return Some(OtherRequirementKind::Path);
    }
    None
}

/// `…#egg=name` (also `&egg=`), PEP 503-normalised.
fn egg_name(arg: &str) -> Option<String> {
    let frag = arg.split_once('#')?.1;
    frag.split('&').find_map(|kv| kv.strip_prefix("egg=")).map(|n| normalize_name(n.split('[').next().unwrap_or(n)))
}

/// The group of a top-level requirements file: `requirements.txt` → `main`, `requirements-dev.txt`,
/// `requirements_dev.txt`, `requirements.dev.txt`, `dev-requirements.txt`, `requirements/dev.txt` → `dev`.
/// In `requirements/`, the usual names for the base set (`base`, `common`, `main`, `prod`, `production`,
/// `runtime`, `requirements`, `default`, `core`, `install`) are `main`.
pub fn group_for_file(path: &str) -> String {
    let file = path.rsplit('/').next().unwrap_or(path);
    let stem = file.strip_suffix(".txt").unwrap_or(file);
    let in_dir = path.contains('/');
    let suffix = if in_dir {
        stem
    } else if stem == "requirements" {
        "main"
    } else if let Some(s) = stem.strip_prefix("requirements") {
        s.trim_start_matches(['-', '_', '.'])
    } else if let Some(s) = stem.strip_suffix("requirements") {
        s.trim_end_matches(['-', '_', '.'])
    } else {
        stem
    };
    const MAIN: &[&str] =
        &["base", "common", "main", "prod", "production", "runtime", "requirements", "default", "core", "install"];
    let g = normalize_name(suffix);
    if g.is_empty() || MAIN.contains(&g.as_str()) {
        "main".to_string()
    } else {
        g
    }
}

/// Whether a root file name is a requirements file we read: `requirements*.txt` or `*requirements.txt`.
pub fn is_root_requirements_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".txt") && (lower.starts_with("requirements") || lower.ends_with("requirements.txt"))
}

/// Resolve an include relative to the including file's folder, lexically. `Err` explains why it is
/// not followed (a URL, an absolute path, a path that leaves the project).
pub fn resolve_include(includer: &str, target: &str) -> Result<String, String> {
    let t = target.trim();
    if t.contains("://") {
        return Err("URLs are not followed; docker build cannot copy them".into());
    }
    if t.starts_with('/') || t.starts_with('~') || t.chars().nth(1) == Some(':') {
        return Err("absolute paths are not followed: the file is outside the project folder, so docker build cannot copy it".into());
    }
    let mut parts: Vec<&str> = includer.split('/').collect();
    parts.pop();
    for seg in t.split(['/', '\\']) {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err("it points outside the project folder, so docker build cannot copy it".into());
                }
            }
            s => parts.push(s),
        }
    }
    if parts.is_empty() {
        return Err("it does not name a file".into());
    }
    Ok(parts.join("/"))
}

/// Everything the requirements files of a project say, their includes followed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Collected {
    pub files: Vec<RequirementFile>,
    pub files_read: Vec<String>,
    pub requirements: Vec<Requirement>,
    pub constraints: Vec<Requirement>,
    pub other: Vec<OtherRequirement>,
    pub index_urls: Vec<IndexUrl>,
    pub find_links: Vec<FindLinks>,
    pub warnings: Vec<ScanWarning>,
}

/// Read the top-level requirements files in order and follow their `-r`/`-c` includes, each file once.
/// `read` returns a file's text by its root-relative path (`Err` = why it cannot be read).
///
/// A top-level file that an earlier one already pulled in is not listed again in [`Collected::files`];
/// each listed file carries all files it pulls in (transitively, in reading order), so that copying a
/// listed file and its includes is enough for `pip install -r` on it.
///
/// Files in `already_read` (read by an earlier call) are not read again.
pub fn collect(
    top_level: &[String],
    already_read: &[String],
    read: &mut dyn FnMut(&str) -> Result<String, String>,
) -> Collected {
    let mut c = Collected::default();
    // Per file read: its resolved direct includes, in file order.
    let mut direct: HashMap<String, Vec<String>> = already_read.iter().map(|f| (f.clone(), Vec::new())).collect();
    let mut failed: HashSet<String> = HashSet::new();
    let mut listed = Vec::new();
    for top in top_level {
        if direct.contains_key(top) || failed.contains(top) {
            continue;
        }
        listed.push(top.clone());
        let group = group_for_file(top);
        // Depth-first in file order, each file read once (this also breaks include cycles).
        let mut stack = vec![(top.clone(), false, None::<SourceLoc>)];
        while let Some((file, constraint, from)) = stack.pop() {
            if direct.contains_key(&file) || failed.contains(&file) {
                continue;
            }
            let text = match read(&file) {
                Ok(t) => t,
                Err(e) => {
                    let (source, message) = match from {
                        Some(l) => (l, format!("cannot read included file {file}: {e}")),
                        None => (SourceLoc { file: file.clone(), line: None }, format!("cannot read {file}: {e}")),
                    };
                    c.warnings.push(ScanWarning { source, message });
                    failed.insert(file);
                    continue;
                }
            };
            c.files_read.push(file.clone());
            let g = if constraint { "constraint" } else { group.as_str() };
            let parsed = parse_requirements_txt(&text, &file, g);
            if constraint {
                c.constraints.extend(parsed.requirements);
                for o in parsed.other {
                    c.warnings.push(ScanWarning {
                        source: o.source,
                        message: format!("`{}` in a constraints file is ignored (constraints must name a package)", o.raw),
                    });
                }
            } else {
                c.requirements.extend(parsed.requirements);
                c.other.extend(parsed.other);
            }
            c.index_urls.extend(parsed.index_urls);
            c.find_links.extend(parsed.find_links);
            c.warnings.extend(parsed.warnings);
            let mut kids = Vec::new();
            let mut to_push = Vec::new();
            for inc in parsed.includes {
                let source = loc(&file, inc.line);
                match resolve_include(&file, &inc.target) {
                    Ok(path) => {
                        kids.push(path.clone());
                        to_push.push((path, inc.constraint, Some(source)));
                    }
                    Err(why) => c.warnings.push(ScanWarning {
                        source,
                        message: format!("not following `{}`: {why}", inc.target),
                    }),
                }
            }
            direct.insert(file, kids);
            stack.extend(to_push.into_iter().rev());
        }
    }
    for top in listed {
        if failed.contains(&top) {
            continue;
        }
        let mut includes: Vec<String> = Vec::new();
        closure(&top, &direct, &failed, &top, &mut includes);
        c.files.push(RequirementFile { path: top, includes, set_aside: None });
    }
    c
}

/// Files `file` pulls in, depth-first in file order, without `top`, unreadable files or repeats.
fn closure(file: &str, direct: &HashMap<String, Vec<String>>, failed: &HashSet<String>, top: &str, out: &mut Vec<String>) {
    for kid in direct.get(file).map(Vec::as_slice).unwrap_or(&[]) {
        if kid == top || failed.contains(kid) || out.contains(kid) {
            continue;
        }
        out.push(kid.clone());
        closure(kid, direct, failed, top, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REAL: &str = r#"# PyTorch with CUDA 12.1 wheels
--extra-index-url https://download.pytorch.org/whl/cu121
-f https://data.pyg.org/whl/torch-2.4.0+cu121.html

torch==2.4.1+cu121   # pinned for the cluster
torchvision==0.19.1+cu121
numpy>=1.24,<2 ; python_version >= "3.9"
Pillow
transformers[torch] \
    >=4.40
flash_attn==2.6.3 --config-settings="--build-option=--no-cuda"
requests==2.32.3 \
    --hash=sha256:70761cfe03c773ceb22aa2f671b4757976145175cdfca038c02654d061d6dcc6 \
    --hash=sha256:55365417734eb18255590a9ff9eb97e9e1da868d4ccd6402399eaf68af20a760
-e .
-e git+https://github.com/NVIDIA/apex.git@24.04.01#egg=apex
git+https://github.com/openai/CLIP.git
https://download.pytorch.org/whl/cu118/torchaudio-2.0.0%2Bcu118-cp310-cp310-linux_x86_64.whl
./vendor/mylib
--pre
url-fragment-not-comment @ https://example.com/p.tar.gz#sha256=abc
"#;

    #[test]
    fn a_realistic_file() {
        let p = parse_requirements_txt(REAL, "requirements.txt", "main");
        assert_eq!(p.warnings, vec![]);
        let names: Vec<_> = p.requirements.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "torch",
                "torchvision",
                "numpy",
                "pillow",
                "transformers",
                "flash-attn",
                "requests",
                "torchaudio",
                "url-fragment-not-comment"
            ]
        );
        let torch = &p.requirements[0];
        assert_eq!(torch.source, loc("requirements.txt", 5));
        assert_eq!(torch.raw, "torch==2.4.1+cu121");
        assert_eq!(torch.pinned.as_deref(), Some("2.4.1"));
        assert_eq!(torch.local.as_deref(), Some("cu121"));
        assert_eq!(torch.group, "main");
        let numpy = &p.requirements[2];
        assert_eq!(numpy.specifier, ">=1.24,<2");
        assert_eq!(numpy.marker.as_deref(), Some("python_full_version >= '3.9'"));
        let tf = &p.requirements[4];
        assert_eq!(tf.extras, vec!["torch"]);
        assert_eq!(tf.specifier, ">=4.40");
        assert_eq!(tf.source.line, Some(9));
        let req = &p.requirements[6];
        assert_eq!(req.raw, "requests==2.32.3");
        assert_eq!(req.source.line, Some(12));
        let audio = &p.requirements[7];
        assert_eq!(audio.pinned.as_deref(), Some("2.0.0"));
        assert_eq!(audio.local.as_deref(), Some("cu118"));

        assert_eq!(p.index_urls.len(), 1);
        assert!(p.index_urls[0].extra);
        assert_eq!(p.index_urls[0].cuda_variant.as_deref(), Some("cu121"));
        assert_eq!(p.index_urls[0].source.line, Some(2));
        assert_eq!(p.find_links[0].cuda_variant.as_deref(), Some("cu121"));

        let other: Vec<_> = p.other.iter().map(|o| (o.raw.as_str(), o.kind, o.editable, o.name.as_deref())).collect();
        assert_eq!(
            other,
            [
                (".", OtherRequirementKind::Path, true, None),
                ("git+https://github.com/NVIDIA/apex.git@24.04.01#egg=apex", OtherRequirementKind::Vcs, true, Some("apex")),
                ("git+https://github.com/openai/CLIP.git", OtherRequirementKind::Vcs, false, None),
                (
                    "https://download.pytorch.org/whl/cu118/torchaudio-2.0.0%2Bcu118-cp310-cp310-linux_x86_64.whl",
                    OtherRequirementKind::Url,
                    false,
                    Some("torchaudio")
                ),
                ("./vendor/mylib", OtherRequirementKind::Path, false, None),
            ]
        );
    }

    #[test]
    fn index_url_forms() {
        let p = parse_requirements_txt(
            "-i https://download.pytorch.org/whl/cu118\n--index-url=https://pypi.org/simple\n--extra-index-url https://download.pytorch.org/whl/nightly/cu128\n--extra-index https://download.pytorch.org/whl/cpu\n",
            "r.txt",
            "main",
        );
        let got: Vec<_> = p.index_urls.iter().map(|u| (u.extra, u.cuda_variant.as_deref(), u.source.line)).collect();
        assert_eq!(
            got,
            [(false, Some("cu118"), Some(1)), (false, None, Some(2)), (true, Some("cu128"), Some(3)), (true, None, Some(4))]
        );
    }

    #[test]
    fn includes_and_constraints() {
        let p = parse_requirements_txt(
            "-r base.txt\n--requirement=../common.txt\n-c constraints.txt\n--constraint pins.txt\n-rshort.txt\n",
            "requirements/dev.txt",
            "dev",
        );
        let got: Vec<_> = p.includes.iter().map(|i| (i.target.as_str(), i.constraint, i.line)).collect();
        assert_eq!(
            got,
            [
                ("base.txt", false, 1),
                ("../common.txt", false, 2),
                ("constraints.txt", true, 3),
                ("pins.txt", true, 4),
                ("short.txt", false, 5)
            ]
        );
    }

    #[test]
    fn comments_and_continuations() {
        let text = "# a comment \\\nnumpy\nscipy \\\n  >=1.10 # trailing\n  # indented comment\n\npandas#notacomment\n";
        let lines = logical_lines(text);
        assert_eq!(lines, vec![(2, "numpy".into()), (3, "scipy   >=1.10".into()), (7, "pandas#notacomment".into())]);
        let lines = logical_lines("torch \\\n");
        assert_eq!(lines, vec![(1, "torch".into())]);
        let lines = logical_lines("\u{feff}torch\r\nnumpy\r\n");
        assert_eq!(lines, vec![(1, "torch".into()), (2, "numpy".into())]);
    }

    #[test]
    fn bad_lines_warn_with_their_line_and_the_scan_goes_on() {
        let p = parse_requirements_txt("numpy\ntorch=2.1\n--frobnicate\n--hash=sha256:abc\nscipy\n", "requirements.txt", "main");
        assert_eq!(p.requirements.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["numpy", "scipy"]);
        let w: Vec<_> = p.warnings.iter().map(|w| (w.source.line, w.message.as_str())).collect();
        assert_eq!(w.len(), 3);
        assert_eq!(w[0].0, Some(2));
        assert!(w[0].1.starts_with("could not parse requirement `torch=2.1`"), "{}", w[0].1);
        assert_eq!(w[1].0, Some(3));
        assert!(w[1].1.contains("--frobnicate"));
        assert_eq!(w[2].0, Some(4));
    }

    #[test]
    fn groups_from_file_names() {
        assert_eq!(group_for_file("requirements.txt"), "main");
        assert_eq!(group_for_file("requirements-dev.txt"), "dev");
        assert_eq!(group_for_file("requirements_test.txt"), "test");
        assert_eq!(group_for_file("requirements.gpu.txt"), "gpu");
        assert_eq!(group_for_file("dev-requirements.txt"), "dev");
        assert_eq!(group_for_file("requirements/base.txt"), "main");
        assert_eq!(group_for_file("requirements/docs.txt"), "docs");
        assert!(is_root_requirements_name("requirements-dev.txt"));
        assert!(is_root_requirements_name("test-requirements.txt"));
        assert!(!is_root_requirements_name("requirements.in"));
        assert!(!is_root_requirements_name("constraints.txt"));
    }

    #[test]
    fn include_paths() {
        assert_eq!(resolve_include("requirements.txt", "requirements/base.txt").unwrap(), "requirements/base.txt");
        assert_eq!(resolve_include("requirements/dev.txt", "base.txt").unwrap(), "requirements/base.txt");
        assert_eq!(resolve_include("requirements/dev.txt", "../constraints.txt").unwrap(), "constraints.txt");
        assert_eq!(resolve_include("requirements/dev.txt", "./x/../y.txt").unwrap(), "requirements/y.txt");
        assert!(resolve_include("requirements.txt", "../outside.txt").is_err());
        assert!(resolve_include("requirements.txt", "/etc/reqs.txt").is_err());
        assert!(resolve_include("requirements.txt", "https://x/r.txt").is_err());
    }

    fn files(map: &[(&str, &str)]) -> impl FnMut(&str) -> Result<String, String> {
        let m: HashMap<String, String> = map.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |p: &str| m.get(p).cloned().ok_or_else(|| "No such file or directory".to_string())
    }

    #[test]
    fn collect_follows_includes_once_and_guards_cycles() {
        let mut read = files(&[
            ("requirements.txt", "-r requirements/base.txt\n-c constraints.txt\ntorch==2.4.1\n"),
            ("requirements/base.txt", "numpy\n-r ../requirements.txt\n"),
            ("constraints.txt", "numpy==1.26.4\n--extra-index-url https://download.pytorch.org/whl/cu124\n"),
            ("requirements-dev.txt", "-r requirements.txt\npytest\n-r missing.txt\n"),
        ]);
        let tops: Vec<String> =
            ["requirements.txt", "requirements-dev.txt", "requirements/base.txt"].iter().map(|s| s.to_string()).collect();
        let c = collect(&tops, &[], &mut read);
        assert_eq!(
            c.files,
            vec![
                RequirementFile {
                    path: "requirements.txt".into(),
                    includes: vec!["requirements/base.txt".into(), "constraints.txt".into()],
                    set_aside: None,
                },
                RequirementFile {
                    path: "requirements-dev.txt".into(),
                    includes: vec![
                        "requirements.txt".into(),
                        "requirements/base.txt".into(),
                        "constraints.txt".into(),
                    ],
                    set_aside: None,
                },
            ]
        );
        assert_eq!(c.files_read, ["requirements.txt", "requirements/base.txt", "constraints.txt", "requirements-dev.txt"]);
        let reqs: Vec<_> = c.requirements.iter().map(|r| (r.name.as_str(), r.group.as_str())).collect();
        // each file is read whole before its includes
        assert_eq!(reqs, [("torch", "main"), ("numpy", "main"), ("pytest", "dev")]);
        assert_eq!(c.constraints.len(), 1);
        assert_eq!(c.constraints[0].group, "constraint");
        assert_eq!(c.constraints[0].pinned.as_deref(), Some("1.26.4"));
        assert_eq!(c.index_urls[0].cuda_variant.as_deref(), Some("cu124"));
        assert_eq!(c.warnings.len(), 1);
        assert_eq!(c.warnings[0].source, loc("requirements-dev.txt", 3));
        assert!(c.warnings[0].message.contains("missing.txt"));
    }
}
