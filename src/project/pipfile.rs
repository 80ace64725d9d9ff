//! `Pipfile` (pipenv, TOML): `[packages]` (group `main`), `[dev-packages]` (group `dev`),
//! `[requires] python_version` (`3.10` → `==3.10.*`) / `python_full_version` (`3.10.4` → `==3.10.4`),
//! `[[source]]` (the first is pipenv's default index; the others are extra indexes).
//! A package is `"*"` (any version), a PEP 440 specifier string, or a table with `version`, `extras`,
//! `markers`, `index`, or `path`/`file`/`git` (recorded as [`OtherRequirement`]s).

use super::error::ProjectError;
use crate::model::project::{IndexUrl, OtherRequirement, OtherRequirementKind, PythonPin, ScanWarning};
use super::pep508::{cuda_variant_from_url, line_of, loc, normalize_name, normalize_specifiers, parse_requirement};
use super::pyproject::{entries_in_order, get, get_table, parse_toml, PyprojectFacts};
use toml::de::{DeTable, DeValue};

/// Parse a Pipfile. Invalid TOML is fatal (`toml-syntax`).
pub fn parse_pipfile(text: &str, file: &str) -> Result<PyprojectFacts, ProjectError> {
    let doc = parse_toml(text, file)?;
    let doc = doc.get_ref();
    let mut out = PyprojectFacts::default();
    let line = |span_start: usize| line_of(text, span_start);

    if let Some(sources) = get(doc, "source").and_then(|v| v.get_ref().as_array()) {
        for (i, s) in sources.iter().enumerate() {
            let Some(u) = s.get_ref().as_table().and_then(|t| get(t, "url")) else { continue };
            if let Some(url) = u.get_ref().as_str() {
                out.index_urls.push(IndexUrl {
                    url: url.to_string(),
                    extra: i > 0,
                    cuda_variant: cuda_variant_from_url(url),
                    source: loc(file, line(u.span().start)),
                });
            }
        }
    }

    for (section, group) in [("packages", "main"), ("dev-packages", "dev")] {
        if let Some(t) = get_table(doc, section) {
            packages(text, file, t, group, section, &mut out);
        }
    }

    if let Some(req) = get_table(doc, "requires") {
        for (key, full) in [("python_version", false), ("python_full_version", true)] {
            let Some(v) = get(req, key) else { continue };
            let l = line(v.span().start);
            let Some(raw) = v.get_ref().as_str() else {
                out.warnings.push(ScanWarning { source: loc(file, l), message: format!("`requires.{key}` should be a string") });
                continue;
            };
            let spec = if full { format!("=={raw}") } else { format!("=={raw}.*") };
            match normalize_specifiers(&spec) {
                Ok(specifier) => out.python.push(PythonPin { specifier, raw: raw.to_string(), source: loc(file, l) }),
                Err(e) => out.warnings.push(ScanWarning {
                    source: loc(file, l),
                    message: format!("could not read the Python version `{raw}` in `requires.{key}`: {e}"),
                }),
            }
        }
    }
    Ok(out)
}

fn packages(text: &str, file: &str, t: &DeTable<'_>, group: &str, section: &str, out: &mut PyprojectFacts) {
    for (k, v) in entries_in_order(t) {
        let name = k.get_ref().as_ref();
        let l = line_of(text, k.span().start);
        let warn = |out: &mut PyprojectFacts, message: String| out.warnings.push(ScanWarning { source: loc(file, l), message });
        let (version, table) = match v.get_ref() {
            DeValue::String(s) => (Some(s.to_string()), None),
            DeValue::Table(t) => (get(t, "version").and_then(|v| v.get_ref().as_str()).map(str::to_string), Some(t)),
            _ => {
                warn(out, format!("`{section}.{name}` is neither a version string nor a table; skipped"));
                continue;
            }
        };
        let str_of = |key: &str| table.and_then(|t| get(t, key)).and_then(|v| v.get_ref().as_str().map(str::to_string));
        let editable = table.and_then(|t| get(t, "editable")).and_then(|v| v.get_ref().as_bool()).unwrap_or(false);
        if let Some(path) = str_of("path").or_else(|| str_of("file")) {
            let kind = if path.contains("://") { OtherRequirementKind::Url } else { OtherRequirementKind::Path };
            out.other.push(OtherRequirement {
                raw: path,
                kind,
                editable,
                name: Some(normalize_name(name)),
                group: group.to_string(),
                source: loc(file, l),
            });
            continue;
        }
        let git = str_of("git").map(|g| {
            let g = if g.starts_with("git+") { g } else { format!("git+{g}") };
            match str_of("ref") {
                Some(r) => format!("{g}@{r}"),
                None => g,
            }
        });
        let mut pep508 = name.to_string();
        let extras: Vec<String> = table
            .and_then(|t| get(t, "extras"))
            .and_then(|v| v.get_ref().as_array())
            .map(|a| a.iter().filter_map(|e| e.get_ref().as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        if !extras.is_empty() {
            pep508.push_str(&format!("[{}]", extras.join(",")));
        }
        match (&git, version.as_deref()) {
            (Some(g), _) => pep508.push_str(&format!(" @ {g}")),
            (None, Some("*")) | (None, None) => {}
            (None, Some(v)) => match normalize_specifiers(v) {
                Ok(spec) => pep508.push_str(&spec),
                Err(e) => {
                    warn(out, format!("could not read the version `{v}` of `{name}` in `[{section}]`: {e}"));
                    continue;
                }
            },
        }
        if let Some(m) = str_of("markers") {
            pep508.push_str(&format!(" ; {m}"));
        }
        match parse_requirement(&pep508, group, loc(file, l)) {
            Ok(r) => out.requirements.push(r),
            Err(e) => warn(out, format!("could not read `{name}` in `[{section}]` (as `{pep508}`): {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Coded;

    const PIPFILE: &str = r#"[[source]]
url = "https://pypi.org/simple"
verify_ssl = true
name = "pypi"

[[source]]
url = "https://download.pytorch.org/whl/cu118"
verify_ssl = true
name = "pytorch"

[packages]
torch = {version = "==2.1.2+cu118", index = "pytorch"}
numpy = "*"
requests = ">=2.31"
transformers = {extras = ["torch"], version = "~=4.40"}
mylib = {path = ".", editable = true}
broken = "2.0"

[dev-packages]
pytest = "*"

[requires]
python_version = "3.10"
"#;

    #[test]
    fn a_pipfile() {
        let f = parse_pipfile(PIPFILE, "Pipfile").unwrap();
        let got: Vec<_> =
            f.requirements.iter().map(|r| (r.name.as_str(), r.specifier.as_str(), r.group.as_str(), r.source.line.unwrap())).collect();
        assert_eq!(
            got,
            [
                ("torch", "==2.1.2+cu118", "main", 12),
                ("numpy", "", "main", 13),
                ("requests", ">=2.31", "main", 14),
                ("transformers", "~=4.40", "main", 15),
                ("pytest", "", "dev", 20),
            ]
        );
        assert_eq!(f.requirements[0].local.as_deref(), Some("cu118"));
        assert_eq!(f.requirements[3].extras, vec!["torch"]);
        assert_eq!(f.other.len(), 1);
        assert!(f.other[0].editable);
        assert_eq!(f.warnings.len(), 1);
        assert_eq!(f.warnings[0].source, loc("Pipfile", 17));
        assert_eq!(f.python, vec![PythonPin { specifier: "==3.10.*".into(), raw: "3.10".into(), source: loc("Pipfile", 23) }]);
        let idx: Vec<_> = f.index_urls.iter().map(|u| (u.extra, u.cuda_variant.as_deref())).collect();
        assert_eq!(idx, [(false, None), (true, Some("cu118"))]);
    }

    #[test]
    fn bad_toml() {
        let e = parse_pipfile("[packages]\ntorch = \n", "Pipfile").unwrap_err();
        assert_eq!(e.code(), "toml-syntax");
        assert!(e.to_string().starts_with("Pipfile:2:"), "{e}");
    }
}
