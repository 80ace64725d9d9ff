//! `pyproject.toml`: PEP 621 `[project]`, Poetry `[tool.poetry]`, PEP 735 `[dependency-groups]`,
//! uv `[[tool.uv.index]]`. Parsed with the `toml` crate's spanned document, so every fact has its line.
//!
//! Groups: `[project] dependencies` → `main`; `optional-dependencies.<extra>` → the extra's name;
//! Poetry `dependencies` → `main` (or the extra's name when `optional = true` and `[tool.poetry.extras]`
//! lists it), `dev-dependencies` → `dev`, `group.<g>.dependencies` → `g`; `[dependency-groups] <g>` → `g`
//! (`{include-group = …}` entries are skipped: the included group is recorded under its own name).

use super::error::ProjectError;
use crate::model::project::{IndexUrl, OtherRequirement, OtherRequirementKind, PythonPin, Requirement, ScanWarning};
use super::pep508::{cuda_variant_from_url, line_col, line_of, loc, normalize_name, normalize_specifiers, parse_requirement};
use pep508_rs::pep440_rs::Version;
use std::str::FromStr;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// What a pyproject.toml (or Pipfile, which shares the helpers) tells.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PyprojectFacts {
    pub requirements: Vec<Requirement>,
    pub other: Vec<OtherRequirement>,
    pub python: Vec<PythonPin>,
    pub index_urls: Vec<IndexUrl>,
    pub warnings: Vec<ScanWarning>,
    /// `[project]`, `[build-system]` or `[tool.poetry]` is present.
    pub installable: bool,
    /// `project.name` / `tool.poetry.name`: the distribution the repository itself is.
    pub package_name: Option<String>,
}

/// Parse TOML into a spanned document; a syntax error becomes `toml-syntax` with `file:line:column`.
pub(crate) fn parse_toml<'a>(text: &'a str, file: &str) -> Result<Spanned<DeTable<'a>>, ProjectError> {
    DeTable::parse(text).map_err(|e| {
        let (line, column) = e.span().map(|s| line_col(text, s.start)).unwrap_or((1, 1));
        ProjectError::TomlSyntax { file: file.to_string(), line, column, message: e.message().trim().to_string() }
    })
}

pub(crate) fn get<'a, 'i>(t: &'a DeTable<'i>, key: &str) -> Option<&'a Spanned<DeValue<'i>>> {
    t.get(key)
}

pub(crate) fn get_table<'a, 'i>(t: &'a DeTable<'i>, key: &str) -> Option<&'a DeTable<'i>> {
    get(t, key).and_then(|v| v.get_ref().as_table())
}

/// Entries of a table in source order (the map itself is sorted by key).
pub(crate) fn entries_in_order<'a, 'i>(t: &'a DeTable<'i>) -> Vec<(&'a Spanned<std::borrow::Cow<'i, str>>, &'a Spanned<DeValue<'i>>)> {
    let mut v: Vec<_> = t.iter().collect();
    v.sort_by_key(|(k, _)| k.span().start);
    v
}

struct Ctx<'t> {
    text: &'t str,
    file: &'t str,
    out: PyprojectFacts,
}

impl Ctx<'_> {
    fn line(&self, v: &Spanned<DeValue<'_>>) -> usize {
        line_of(self.text, v.span().start)
    }

    fn warn(&mut self, line: usize, message: String) {
        self.out.warnings.push(ScanWarning { source: loc(self.file, line), message });
    }

    /// A list of PEP 508 strings (`[project] dependencies`, an optional-dependency group, a dependency group).
    fn pep508_list(&mut self, v: &Spanned<DeValue<'_>>, what: &str, group: &str) {
        let Some(items) = v.get_ref().as_array() else {
            let l = self.line(v);
            self.warn(l, format!("`{what}` should be a list of requirement strings; skipped"));
            return;
        };
        for item in items.iter() {
            let line = self.line(item);
            match item.get_ref() {
                DeValue::String(s) => match parse_requirement(s, group, loc(self.file, line)) {
                    Ok(r) => self.out.requirements.push(r),
                    Err(e) => self.warn(line, format!("could not parse requirement `{s}` in `{what}`: {e}")),
                },
                DeValue::Table(t) if get(t, "include-group").is_some() => {}
                _ => self.warn(line, format!("`{what}` holds something that is not a requirement string; skipped")),
            }
        }
    }

    fn python_pin(&mut self, raw: &str, specifier: Result<String, String>, line: usize, what: &str) {
        match specifier {
            Ok(specifier) => {
                self.out.python.push(PythonPin { specifier, raw: raw.to_string(), source: loc(self.file, line) })
            }
            Err(e) => self.warn(line, format!("could not read the Python version `{raw}` in `{what}`: {e}")),
        }
    }

    fn index(&mut self, url: &str, extra: bool, line: usize) {
        self.out.index_urls.push(IndexUrl {
            url: url.to_string(),
            extra,
            cuda_variant: cuda_variant_from_url(url),
            source: loc(self.file, line),
        });
    }
}

/// Parse `pyproject.toml`. `file` is its root-relative path.
pub fn parse_pyproject(text: &str, file: &str) -> Result<PyprojectFacts, ProjectError> {
    let doc = parse_toml(text, file)?;
    let doc = doc.get_ref();
    let mut cx = Ctx { text, file, out: PyprojectFacts::default() };

    let project = get_table(doc, "project");
    let poetry = get_table(doc, "tool").and_then(|t| get_table(t, "poetry"));
    cx.out.installable = project.is_some() || get(doc, "build-system").is_some() || poetry.is_some();
    cx.out.package_name = project
        .or(poetry)
        .and_then(|t| get(t, "name"))
        .and_then(|n| n.get_ref().as_str().map(super::pep508::normalize_name));

    if let Some(project) = project {
        if let Some(deps) = get(project, "dependencies") {
            cx.pep508_list(deps, "project.dependencies", "main");
        }
        if let Some(opt) = get(project, "optional-dependencies") {
            match opt.get_ref().as_table() {
                Some(t) => {
                    for (k, v) in entries_in_order(t) {
                        let what = format!("project.optional-dependencies.{}", k.get_ref());
                        cx.pep508_list(v, &what, k.get_ref());
                    }
                }
                None => {
                    let l = cx.line(opt);
                    cx.warn(l, "`project.optional-dependencies` should be a table; skipped".into())
                }
            }
        }
        if let Some(rp) = get(project, "requires-python") {
            let line = cx.line(rp);
            match rp.get_ref().as_str() {
                Some(s) => cx.python_pin(s, normalize_specifiers(s), line, "project.requires-python"),
                None => cx.warn(line, "`project.requires-python` should be a string".into()),
            }
        }
    }

    if let Some(poetry) = poetry {
        poetry_section(&mut cx, poetry, project.is_some());
    }

    if let Some(groups) = get_table(doc, "dependency-groups") {
        for (k, v) in entries_in_order(groups) {
            let what = format!("dependency-groups.{}", k.get_ref());
            cx.pep508_list(v, &what, k.get_ref());
        }
    }

    if let Some(uv) = get_table(doc, "tool").and_then(|t| get_table(t, "uv")) {
        uv_section(&mut cx, uv);
    }

    Ok(cx.out)
}

fn poetry_section(cx: &mut Ctx<'_>, poetry: &DeTable<'_>, has_pep621: bool) {
    // Which extra each optional dependency belongs to.
    let mut extra_of: Vec<(String, String)> = Vec::new();
    if let Some(extras) = get_table(poetry, "extras") {
        for (k, v) in entries_in_order(extras) {
            for item in v.get_ref().as_array().map(|a| a.iter().collect::<Vec<_>>()).unwrap_or_default() {
                if let Some(name) = item.get_ref().as_str() {
                    let n = normalize_name(name);
                    if !extra_of.iter().any(|(d, _)| *d == n) {
                        extra_of.push((n, k.get_ref().to_string()));
                    }
                }
            }
        }
    }
    let pep621_names: Vec<String> = cx.out.requirements.iter().map(|r| r.name.clone()).collect();
    if let Some(deps) = get_table(poetry, "dependencies") {
        poetry_deps(cx, deps, "main", "tool.poetry.dependencies", &extra_of, has_pep621, &pep621_names);
    }
    if let Some(deps) = get_table(poetry, "dev-dependencies") {
        poetry_deps(cx, deps, "dev", "tool.poetry.dev-dependencies", &extra_of, has_pep621, &pep621_names);
    }
    if let Some(groups) = get_table(poetry, "group") {
        for (g, v) in entries_in_order(groups) {
            if let Some(deps) = v.get_ref().as_table().and_then(|t| get_table(t, "dependencies")) {
                let what = format!("tool.poetry.group.{}.dependencies", g.get_ref());
                poetry_deps(cx, deps, g.get_ref(), &what, &extra_of, has_pep621, &pep621_names);
            }
        }
    }
    if let Some(sources) = get(poetry, "source").and_then(|v| v.get_ref().as_array()) {
        for s in sources.iter() {
            let Some(t) = s.get_ref().as_table() else { continue };
            let Some(url) = get(t, "url").and_then(|u| u.get_ref().as_str()) else { continue };
            let priority = get(t, "priority").and_then(|p| p.get_ref().as_str()).unwrap_or("");
            let default = get(t, "default").and_then(|d| d.get_ref().as_bool()).unwrap_or(false);
            // `primary`/`default` sources replace PyPI; `supplemental`/`explicit`/`secondary` add to it.
            let extra = !(default || priority == "primary" || priority == "default");
            let line = cx.line(get(t, "url").unwrap());
            cx.index(url, extra, line);
        }
    }
}

fn poetry_deps(
    cx: &mut Ctx<'_>,
    deps: &DeTable<'_>,
    group: &str,
    what: &str,
    extra_of: &[(String, String)],
    has_pep621: bool,
    pep621_names: &[String],
) {
    for (k, v) in entries_in_order(deps) {
        let name = k.get_ref().as_ref();
        let line = line_of(cx.text, k.span().start);
        if name.eq_ignore_ascii_case("python") {
            match v.get_ref().as_str() {
                Some(c) => cx.python_pin(c, poetry_to_pep440(c, true), line, &format!("{what}.python")),
                None => cx.warn(line, format!("`{what}.python` should be a version string")),
            }
            continue;
        }
        let alternatives: Vec<&Spanned<DeValue<'_>>> = match v.get_ref() {
            DeValue::Array(a) => a.iter().collect(),
            _ => vec![v],
        };
        for alt in alternatives {
            let alt_line = cx.line(alt).max(line);
            let (constraint, t) = match alt.get_ref() {
                DeValue::String(s) => (Some(s.as_ref()), None),
                DeValue::Table(t) => (get(t, "version").and_then(|v| v.get_ref().as_str()), Some(t)),
                _ => {
                    cx.warn(alt_line, format!("`{what}.{name}` is neither a version string nor a table; skipped"));
                    continue;
                }
            };
            let norm = normalize_name(name);
            let mut group = group.to_string();
            let str_of = |key: &str| t.and_then(|t| get(t, key)).and_then(|v| v.get_ref().as_str().map(str::to_string));
            if t.and_then(|t| get(t, "optional")).and_then(|v| v.get_ref().as_bool()) == Some(true) {
                if let Some((_, extra)) = extra_of.iter().find(|(d, _)| *d == norm) {
                    group = extra.clone();
                }
            }
            if let Some(path) = str_of("path") {
                let develop = t.and_then(|t| get(t, "develop")).and_then(|v| v.get_ref().as_bool()).unwrap_or(false);
                cx.out.other.push(OtherRequirement {
                    raw: path,
                    kind: OtherRequirementKind::Path,
                    editable: develop,
                    name: Some(norm),
                    group,
                    source: loc(cx.file, alt_line),
                });
                continue;
            }
            let url = str_of("git")
                .map(|g| {
                    let rev = str_of("rev").or_else(|| str_of("tag")).or_else(|| str_of("branch"));
                    let g = if g.starts_with("git+") { g } else { format!("git+{g}") };
                    match rev {
                        Some(r) => format!("{g}@{r}"),
                        None => g,
                    }
                })
                .or_else(|| str_of("url"));
            let spec = match (&url, constraint) {
                (Some(_), _) | (None, None) => String::new(),
                (None, Some(c)) => match poetry_to_pep440(c, false) {
                    Ok(s) => s,
                    Err(e) => {
                        cx.warn(alt_line, format!("could not read the version `{c}` of `{name}` in `{what}`: {e}"));
                        continue;
                    }
                },
            };
            // Poetry 2 projects list names under [project] and only sources/groups here.
            if has_pep621 && group == "main" && spec.is_empty() && url.is_none() && pep621_names.contains(&norm) {
                continue;
            }
            let extras: Vec<String> = t
                .and_then(|t| get(t, "extras"))
                .and_then(|v| v.get_ref().as_array())
                .map(|a| a.iter().filter_map(|e| e.get_ref().as_str().map(str::to_string)).collect())
                .unwrap_or_default();
            let mut pep508 = name.to_string();
            if !extras.is_empty() {
                pep508.push_str(&format!("[{}]", extras.join(",")));
            }
            match &url {
                Some(u) => pep508.push_str(&format!(" @ {u}")),
                None => pep508.push_str(&spec),
            }
            if let Some(m) = str_of("markers") {
                pep508.push_str(&format!(" ; {m}"));
            }
            match parse_requirement(&pep508, &group, loc(cx.file, alt_line)) {
                Ok(r) => cx.out.requirements.push(r),
                Err(e) => cx.warn(alt_line, format!("could not read `{name}` in `{what}` (as `{pep508}`): {e}")),
            }
        }
    }
}

fn uv_section(cx: &mut Ctx<'_>, uv: &DeTable<'_>) {
    if let Some(index) = get(uv, "index") {
        let tables: Vec<&DeTable<'_>> = match index.get_ref() {
            DeValue::Array(a) => a.iter().filter_map(|v| v.get_ref().as_table()).collect(),
            DeValue::Table(t) => vec![t],
            _ => Vec::new(),
        };
        for t in tables {
            if let Some(u) = get(t, "url") {
                if let Some(url) = u.get_ref().as_str() {
                    let default = get(t, "default").and_then(|d| d.get_ref().as_bool()).unwrap_or(false);
                    let line = cx.line(u);
                    cx.index(url, !default, line);
                }
            }
        }
    }
    if let Some(u) = get(uv, "index-url") {
        if let Some(url) = u.get_ref().as_str() {
            let line = cx.line(u);
            cx.index(url, false, line);
        }
    }
    if let Some(a) = get(uv, "extra-index-url").and_then(|v| v.get_ref().as_array()) {
        for u in a.iter() {
            if let Some(url) = u.get_ref().as_str() {
                let line = cx.line(u);
                cx.index(url, true, line);
            }
        }
    }
}

/// Poetry's version constraints (python-poetry.org/docs/dependency-specification) as PEP 440:
/// `^1.2.3` → `>=1.2.3,<2.0.0`, `^0.2.3` → `>=0.2.3,<0.3.0`, `^3.10` → `>=3.10,<4.0`;
/// `~1.2.3` → `>=1.2.3,<1.3.0`, `~1` → `>=1,<2`; `1.2.*` → `==1.2.*`; `*` → any;
/// `>=1.2, <1.5` (or space-separated) as is; a bare `1.2.3` (or `=1.2.3`) is exact: `==1.2.3`.
/// For `python` (`python = "3.10"`), a bare version with at most two parts means the whole series,
/// as Poetry turns it into a `python_version` marker: `3.10` → `==3.10.*`. `a || b` has no PEP 440 form.
pub fn poetry_to_pep440(constraint: &str, python: bool) -> Result<String, String> {
    let c = constraint.trim();
    if c.contains('|') {
        return Err("`||` (either of two ranges) cannot be written as one PEP 440 specifier".into());
    }
    // Tokens, with a lone operator glued to the version after it (`>= 1.2`).
    let mut parts: Vec<String> = Vec::new();
    let mut glue = false;
    for tok in c.split(|ch: char| ch == ',' || ch.is_whitespace()).filter(|t| !t.is_empty()) {
        if glue {
            parts.last_mut().unwrap().push_str(tok);
        } else {
            parts.push(tok.to_string());
        }
        glue = tok.chars().all(|ch| "<>=!~^".contains(ch));
    }
    let mut out: Vec<String> = Vec::new();
    for p in parts {
        let p = p.as_str();
        if p == "*" {
            continue;
        }
        if let Some(v) = p.strip_prefix('^') {
            let (lower, upper) = caret_or_tilde(v, true)?;
            out.push(format!(">={lower}"));
            out.push(format!("<{upper}"));
        } else if p.starts_with("~=") {
            out.push(p.to_string());
        } else if let Some(v) = p.strip_prefix('~') {
            let (lower, upper) = caret_or_tilde(v, false)?;
            out.push(format!(">={lower}"));
            out.push(format!("<{upper}"));
        } else if p.starts_with(">=") || p.starts_with("<=") || p.starts_with("!=") || p.starts_with('>') || p.starts_with('<')
        {
            out.push(p.to_string());
        } else {
            let v = p.trim_start_matches('=');
            if v.is_empty() {
                return Err(format!("`{p}` names no version"));
            }
            if v.contains('*') {
                out.push(format!("=={v}"));
            } else if python && v.split('.').count() <= 2 && v.chars().all(|ch| ch.is_ascii_digit() || ch == '.') {
                out.push(format!("=={v}.*"));
            } else {
                out.push(format!("=={v}"));
            }
        }
    }
    if out.is_empty() {
        return Ok(String::new());
    }
    normalize_specifiers(&out.join(","))
}

/// Lower and upper bound of `^v` (caret) or `~v` (tilde), keeping the number of release parts written.
fn caret_or_tilde(v: &str, caret: bool) -> Result<(String, String), String> {
    let version = Version::from_str(v).map_err(|e| format!("`{v}` is not a version: {e}"))?;
    let release = version.release().to_vec();
    let n = release.len();
    let bump = if caret {
        release.iter().position(|&x| x != 0).unwrap_or(n - 1)
    } else if n == 1 {
        0
    } else {
        1
    };
    let mut upper: Vec<u64> = release[..=bump].to_vec();
    upper[bump] += 1;
    while upper.len() < n {
        upper.push(0);
    }
    Ok((v.to_string(), upper.iter().map(u64::to_string).collect::<Vec<_>>().join(".")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Coded;

    #[test]
    fn poetry_constraints() {
        let p = |c| poetry_to_pep440(c, false).unwrap();
        assert_eq!(p("^1.2.3"), ">=1.2.3,<2.0.0");
        assert_eq!(p("^1.2"), ">=1.2,<2.0");
        assert_eq!(p("^1"), ">=1,<2");
        assert_eq!(p("^0.2.3"), ">=0.2.3,<0.3.0");
        assert_eq!(p("^0.0.3"), ">=0.0.3,<0.0.4");
        assert_eq!(p("^0.0"), ">=0.0,<0.1");
        assert_eq!(p("^0"), ">=0,<1");
        assert_eq!(p("~1.2.3"), ">=1.2.3,<1.3.0");
        assert_eq!(p("~1.2"), ">=1.2,<1.3");
        assert_eq!(p("~1"), ">=1,<2");
        assert_eq!(p("~=2.1"), "~=2.1");
        assert_eq!(p("*"), "");
        assert_eq!(p("1.2.*"), "==1.2.*");
        assert_eq!(p(">= 1.2, < 1.5"), ">=1.2,<1.5");
        assert_eq!(p(">=1.2 <1.5"), ">=1.2,<1.5");
        assert_eq!(p("2.4.1"), "==2.4.1");
        assert_eq!(p("==2.4.1"), "==2.4.1");
        assert_eq!(p("=2.4.1"), "==2.4.1");
        assert!(poetry_to_pep440(">=3.8,<3.10 || >=3.11", true).is_err());
        let py = |c| poetry_to_pep440(c, true).unwrap();
        assert_eq!(py("^3.10"), ">=3.10,<4.0");
        assert_eq!(py("~3.10"), ">=3.10,<3.11");
        assert_eq!(py("3.10"), "==3.10.*");
        assert_eq!(py("3.10.4"), "==3.10.4");
        assert_eq!(py(">=3.9,<3.13"), ">=3.9,<3.13");
    }

    const PEP621: &str = r#"[build-system]
requires = ["setuptools>=68", "wheel"]
build-backend = "setuptools.build_meta"

[project]
name = "vision-lab"
version = "0.3.0"
requires-python = ">=3.10, <3.13"
dependencies = [
    "torch>=2.3,<2.6",
    "torchvision",
    "numpy<2; python_version < '3.12'",
    "not a requirement!",
]

[project.optional-dependencies]
gpu = ["cupy-cuda12x>=13", "nvidia-dali-cuda120"]
dev = ["pytest>=8", "ruff"]

[dependency-groups]
lint = ["mypy", {include-group = "dev"}]

[[tool.uv.index]]
name = "pytorch-cu124"
url = "https://download.pytorch.org/whl/cu124"
explicit = true
"#;

    #[test]
    fn pep621() {
        let f = parse_pyproject(PEP621, "pyproject.toml").unwrap();
        assert!(f.installable);
        let got: Vec<_> =
            f.requirements.iter().map(|r| (r.name.as_str(), r.specifier.as_str(), r.group.as_str(), r.source.line)).collect();
        assert_eq!(
            got,
            [
                ("torch", ">=2.3,<2.6", "main", Some(10)),
                ("torchvision", "", "main", Some(11)),
                ("numpy", "<2", "main", Some(12)),
                ("cupy-cuda12x", ">=13", "gpu", Some(17)),
                ("nvidia-dali-cuda120", "", "gpu", Some(17)),
                ("pytest", ">=8", "dev", Some(18)),
                ("ruff", "", "dev", Some(18)),
                ("mypy", "", "lint", Some(21)),
            ]
        );
        assert_eq!(f.python.len(), 1);
        assert_eq!(f.python[0].specifier, ">=3.10,<3.13");
        assert_eq!(f.python[0].raw, ">=3.10, <3.13");
        assert_eq!(f.python[0].source, loc("pyproject.toml", 8));
        assert_eq!(f.warnings.len(), 1);
        assert_eq!(f.warnings[0].source, loc("pyproject.toml", 13));
        assert_eq!(f.index_urls.len(), 1);
        assert_eq!(f.index_urls[0].cuda_variant.as_deref(), Some("cu124"));
        assert!(f.index_urls[0].extra);
        assert_eq!(f.index_urls[0].source.line, Some(25));
    }

    const POETRY: &str = r#"[tool.poetry]
name = "llm-finetune"
version = "0.1.0"

[tool.poetry.dependencies]
python = "^3.10"
torch = { version = "2.4.1+cu121", source = "pytorch" }
transformers = "^4.44"
accelerate = "~0.33"
bitsandbytes = { version = ">=0.43", optional = true }
peft = { git = "https://github.com/huggingface/peft.git", tag = "v0.12.0" }
mylib = { path = "libs/mylib", develop = true }
numpy = [
    { version = "<2", markers = "python_version < '3.11'" },
    { version = ">=2", markers = "python_version >= '3.11'" },
]

[tool.poetry.extras]
quant = ["bitsandbytes"]

[tool.poetry.group.dev.dependencies]
pytest = "^8.0"

[[tool.poetry.source]]
name = "pytorch"
url = "https://download.pytorch.org/whl/cu121"
priority = "explicit"
"#;

    #[test]
    fn poetry() {
        let f = parse_pyproject(POETRY, "pyproject.toml").unwrap();
        assert!(f.installable);
        assert_eq!(f.warnings, vec![]);
        assert_eq!(f.python[0].specifier, ">=3.10,<4.0");
        assert_eq!(f.python[0].raw, "^3.10");
        assert_eq!(f.python[0].source.line, Some(6));
        let got: Vec<_> = f
            .requirements
            .iter()
            .map(|r| (r.name.as_str(), r.specifier.as_str(), r.group.as_str(), r.source.line.unwrap()))
            .collect();
        assert_eq!(
            got,
            [
                ("torch", "==2.4.1+cu121", "main", 7),
                ("transformers", ">=4.44,<5.0", "main", 8),
                ("accelerate", ">=0.33,<0.34", "main", 9),
                ("bitsandbytes", ">=0.43", "quant", 10),
                ("peft", "", "main", 11),
                ("numpy", "<2", "main", 14),
                ("numpy", ">=2", "main", 15),
                ("pytest", ">=8.0,<9.0", "dev", 22),
            ]
        );
        let torch = &f.requirements[0];
        assert_eq!(torch.pinned.as_deref(), Some("2.4.1"));
        assert_eq!(torch.local.as_deref(), Some("cu121"));
        assert_eq!(f.requirements[4].raw, "peft @ git+https://github.com/huggingface/peft.git@v0.12.0");
        assert_eq!(f.requirements[5].marker.as_deref(), Some("python_full_version < '3.11'"));
        assert_eq!(f.other.len(), 1);
        assert_eq!(f.other[0].name.as_deref(), Some("mylib"));
        assert!(f.other[0].editable);
        assert_eq!(f.index_urls[0].cuda_variant.as_deref(), Some("cu121"));
        assert!(f.index_urls[0].extra);
    }

    #[test]
    fn tool_config_only_is_not_installable() {
        let f = parse_pyproject("[tool.black]\nline-length = 100\n", "pyproject.toml").unwrap();
        assert!(!f.installable);
        assert!(f.requirements.is_empty());
    }

    #[test]
    fn syntax_error_has_file_line_column() {
        let e = parse_pyproject("[project]\nname = \"x\"\ndependencies = [\"torch\",\n  \"numpy\"\nrequires-python = \">=3.9\"\n", "pyproject.toml")
            .unwrap_err();
        assert_eq!(e.code(), "toml-syntax");
        let ProjectError::TomlSyntax { file, line, column, .. } = &e else { panic!("{e:?}") };
        assert_eq!(file, "pyproject.toml");
        assert_eq!(*line, 5);
        assert!(*column >= 1);
        assert!(e.to_string().starts_with("pyproject.toml:5:"), "{e}");

        let e = parse_pyproject("[project]\nname = \"a\"\nname = \"b\"\n", "pyproject.toml").unwrap_err();
        assert!(e.to_string().starts_with("pyproject.toml:3:1: invalid TOML: duplicate key"), "{e}");
    }
}
