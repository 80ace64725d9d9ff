//! The Python package indexes' "simple" API: PEP 691 JSON (`application/vnd.pypi.simple.v1+json`) where the
//! server offers it, else PEP 503 HTML (what download.pytorch.org and `python3 -m http.server` trees serve).
//! The parsers are pure; [`fetch_project`] is the one request.

use super::http::{Http, HttpError};
use std::collections::{BTreeMap, BTreeSet};

/// JSON first; HTML is accepted with a lower weight (PEP 691 content negotiation).
pub const ACCEPT: &str = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01";

/// What a project page lists: file names, and the versions when the server says them (PEP 700).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectPage {
    pub files: Vec<String>,
    pub versions: Vec<String>,
}

/// PEP 691 JSON: `{"files": [{"filename": …}, …], "versions": [...]}`.
pub fn parse_simple_json(text: &str) -> Result<ProjectPage, String> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("not PEP 691 JSON: {e}"))?;
    let files = v["files"].as_array().ok_or("PEP 691 JSON without `files`")?;
    Ok(ProjectPage {
        files: files.iter().filter_map(|f| f["filename"].as_str().map(str::to_string)).collect(),
        versions: v["versions"].as_array().map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()).unwrap_or_default(),
    })
}

/// PEP 503 HTML: the text of every `<a>` element is a file name (an href's last path segment as the fallback).
pub fn parse_simple_html(text: &str) -> ProjectPage {
    let mut files = Vec::new();
    let lower = text.to_ascii_lowercase();
    let mut at = 0;
    while let Some(i) = lower[at..].find("<a") {
        let start = at + i;
        let Some(gt) = lower[start..].find('>') else { break };
        let open_end = start + gt + 1;
        let Some(close) = lower[open_end..].find("</a>") else { break };
        let inner = text[open_end..open_end + close].trim();
        let name = if inner.is_empty() || inner.contains('<') {
            href_file(&text[start..open_end]).unwrap_or_default()
        } else {
            html_unescape(inner)
        };
        if !name.is_empty() {
            files.push(name);
        }
        at = open_end + close + 4;
    }
    ProjectPage { files, versions: Vec::new() }
}

fn href_file(tag: &str) -> Option<String> {
    let i = tag.to_ascii_lowercase().find("href=")?;
    let rest = &tag[i + 5..];
    let quote = rest.chars().next()?;
    let body = if quote == '"' || quote == '\'' { rest[1..].split(quote).next()? } else { rest.split([' ', '>']).next()? };
    let path = body.split(['#', '?']).next()?;
    Some(html_unescape(path.rsplit('/').next()?))
}

fn html_unescape(s: &str) -> String {
    s.replace("&#43;", "+").replace("&#x2B;", "+").replace("&#x2b;", "+").replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"")
}

/// PEP 503 name normalisation: `Jax_Cuda13-Plugin` → `jax-cuda13-plugin`.
pub fn normalize(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// The version of a distribution file of `project` (`torch-2.9.1+cu128-cp312-…whl` → `2.9.1+cu128`,
/// `jax-0.10.2.tar.gz` → `0.10.2`). None for files of another project or unknown kinds.
pub fn file_version(project: &str, file: &str) -> Option<String> {
    let project = normalize(project);
    if let Some(stem) = file.strip_suffix(".whl") {
        let mut parts = stem.splitn(3, '-');
        let name = parts.next()?;
        let version = parts.next()?;
        return (normalize(name) == project).then(|| version.to_string());
    }
    let stem = [".tar.gz", ".zip", ".tar.bz2"].iter().find_map(|ext| file.strip_suffix(ext))?;
    let (name, version) = stem.rsplit_once('-')?;
    (normalize(name) == project).then(|| version.to_string())
}

/// Release versions of a project (local `+cuXYZ` parts dropped), from the server's list or the file names.
pub fn versions(project: &str, page: &ProjectPage) -> Vec<String> {
    let mut set: BTreeSet<String> = page.versions.iter().cloned().collect();
    for f in &page.files {
        if let Some(v) = file_version(project, f) {
            set.insert(v.split('+').next().unwrap_or(&v).to_string());
        }
    }
    set.into_iter().collect()
}

/// PyTorch's wheel index: release version → the CUDA variants its Linux wheels carry in their local version
/// (`torch-2.9.1+cu128-…-manylinux_2_28_x86_64.whl` → `2.9.1` → `cu128`). Windows and macOS wheels don't count:
/// the container is Linux.
pub fn torch_variants(project: &str, page: &ProjectPage) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in page.files.iter().filter(|f| f.ends_with(".whl") && f.contains("linux")) {
        let Some(v) = file_version(project, f) else { continue };
        let (release, local) = match v.split_once('+') {
            Some((r, l)) => (r.to_string(), Some(l.to_string())),
            None => (v.clone(), None),
        };
        let e = out.entry(release).or_default();
        if let Some(l) = local {
            e.insert(l);
        }
    }
    out.into_iter().map(|(k, v)| (k, v.into_iter().collect())).collect()
}

/// GET `<index>/<project>/`, JSON or HTML by the answer's Content-Type.
pub fn fetch_project(http: &Http, index: &str, project: &str) -> Result<ProjectPage, HttpError> {
    let url = format!("{}/{}/", index.trim_end_matches('/'), normalize(project));
    let resp = http.get(&url, &[("Accept", ACCEPT)])?;
    if resp.status == 404 {
        return Ok(ProjectPage::default());
    }
    if resp.status != 200 {
        return Err(HttpError::Status { url, status: resp.status });
    }
    if resp.content_type.contains("json") {
        parse_simple_json(&resp.body).map_err(|e| HttpError::Invalid { url, why: e })
    } else {
        Ok(parse_simple_html(&resp.body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_pages_as_pytorch_and_http_server_write_them() {
        // download.pytorch.org/whl/torch/ (abridged): the `+` is escaped in the link text, the href has a hash.
        let html = r#"<!DOCTYPE html><html><body><h1>Links for torch</h1>
<a href="/whl/cu128/torch-2.9.1%2Bcu128-cp312-cp312-manylinux_2_28_x86_64.whl#sha256=ab" data-requires-python="&gt;=3.10">torch-2.9.1&#43;cu128-cp312-cp312-manylinux_2_28_x86_64.whl</a><br/>
<a href="/whl/cu130/torch-2.9.1%2Bcu130-cp312-cp312-manylinux_2_28_x86_64.whl">torch-2.9.1&#43;cu130-cp312-cp312-manylinux_2_28_x86_64.whl</a><br/>
<a href="/whl/cu130/torch-2.9.1%2Bcu130-cp312-cp312-win_amd64.whl">torch-2.9.1&#43;cu130-cp312-cp312-win_amd64.whl</a><br/>
<a href="/whl/cpu/torch-2.10.0%2Bcpu-cp312-cp312-manylinux_2_28_x86_64.whl">torch-2.10.0&#43;cpu-cp312-cp312-manylinux_2_28_x86_64.whl</a>
<a href="torch-2.11.0-cp312-cp312-manylinux_2_28_x86_64.whl"></a>
</body></html>"#;
        let page = parse_simple_html(html);
        assert_eq!(page.files.len(), 5, "{:?}", page.files);
        assert_eq!(page.files[4], "torch-2.11.0-cp312-cp312-manylinux_2_28_x86_64.whl");
        let t = torch_variants("torch", &page);
        assert_eq!(t["2.9.1"], vec!["cu128", "cu130"]);
        assert_eq!(t["2.10.0"], vec!["cpu"]);
        assert!(t["2.11.0"].is_empty());
        assert_eq!(versions("torch", &page), vec!["2.10.0", "2.11.0", "2.9.1"]);
    }

    #[test]
    fn json_pages_and_names() {
        let json = r#"{"meta":{"api-version":"1.1"},"name":"jax-cuda13-plugin","versions":["0.10.1","0.10.2"],
            "files":[{"filename":"jax_cuda13_plugin-0.10.2-cp312-cp312-manylinux_2_27_x86_64.whl","url":"x","hashes":{}}]}"#;
        let page = parse_simple_json(json).unwrap();
        assert_eq!(versions("jax-cuda13-plugin", &page), vec!["0.10.1", "0.10.2"]);
        assert_eq!(file_version("jax_cuda13_plugin", "jax_cuda13_plugin-0.10.2-cp312-cp312-manylinux_2_27_x86_64.whl").unwrap(), "0.10.2");
        assert_eq!(file_version("cupy-cuda13x", "cupy_cuda13x-14.2.0.tar.gz").unwrap(), "14.2.0");
        assert_eq!(file_version("jax", "jaxlib-0.10.2.tar.gz"), None);
        assert!(parse_simple_json("<html>").is_err());
    }
}
