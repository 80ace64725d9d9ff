//! Install commands written in prose (pure): `pip install …` / `conda install …` lines in a README,
//! INSTALL.md, `docs/install*.md`, and `!pip install …` / `%pip install …` in notebook cells.
//!
//! They are evidence, not a dependency file: pip lines become [`Requirement`]s of group `readme` (or
//! `notebook`), which the planner does not install; the resolver uses them to find and pin a framework
//! when no dependency file names one. Conda lines give [`CondaPin`]s and a [`PythonPin`] from
//! `python=3.8`, with the document as their source (see [`is_prose_source`]).
//!
//! Which lines count: in Markdown, lines inside fenced code blocks; in reStructuredText, indented lines
//! (literal blocks); anywhere, lines starting with `$ `. Chains (`&&`, `;`) are split; `sudo`, `!`, `%`
//! prefixes dropped. Skipped: `-r file`, `-e …`, local paths, URLs, VCS links, every other flag (with its
//! value where it takes one); `--index-url`/`--extra-index-url` are kept as [`IndexUrl`]s.

use super::conda_env::{conda_version_to_pep440, is_gpu_conda_package, parse_conda_spec, CONDA_TO_PIP};
use crate::model::project::{CondaPin, IndexUrl, PythonPin, Requirement, ScanWarning, SourceLoc};
use super::pep508::{cuda_variant_from_url, parse_requirement};

/// What install lines say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstallFacts {
    pub requirements: Vec<Requirement>,
    pub index_urls: Vec<IndexUrl>,
    pub conda: Vec<CondaPin>,
    pub python: Vec<PythonPin>,
    pub warnings: Vec<ScanWarning>,
}

impl InstallFacts {
    pub fn extend(&mut self, o: InstallFacts) {
        self.requirements.extend(o.requirements);
        self.index_urls.extend(o.index_urls);
        self.conda.extend(o.conda);
        self.python.extend(o.python);
        self.warnings.extend(o.warnings);
    }
}

/// Conda packages whose pins matter to the stack beyond [`is_gpu_conda_package`]: the frameworks.
const CONDA_FRAMEWORKS: &[&str] = &["pytorch", "torchvision", "torchaudio", "tensorflow", "jax", "jaxlib"];

/// Whether a fact's source file is prose (a README, an install doc or a notebook), not a dependency file:
/// what it says is evidence, not a declaration.
pub fn is_prose_source(file: &str) -> bool {
    let name = file.rsplit('/').next().unwrap_or(file).to_ascii_uppercase();
    name.starts_with("README") || name.starts_with("INSTALL") || name.starts_with("DEVELOPERS") || name.starts_with("GETTING_STARTED") || file.starts_with("docs/") || name.ends_with(".IPYNB")
}

/// pip flags that take a value (the value is skipped with them).
const PIP_FLAGS_WITH_VALUE: &[&str] = &[
    "-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-t", "--target", "--prefix", "--root",
    "--trusted-host", "--upgrade-strategy", "--timeout", "--python", "--platform", "--python-version",
    "--implementation", "--abi", "--src", "--cache-dir", "--global-option", "--config-settings", "-C",
    "--progress-bar", "--retries", "--proxy", "--cert", "--client-cert", "--log", "--no-binary", "--only-binary",
    "-f", "--find-links",
];

/// The shell lines of a document worth reading, `(1-based line, command)`.
pub fn shell_lines(text: &str, file: &str) -> Vec<(usize, String)> {
    let rst = file.to_ascii_lowercase().ends_with(".rst");
    let mut out = Vec::new();
    let mut fence: Option<&str> = None;
    for (i, raw) in text.lines().enumerate() {
        let t = raw.trim();
        let fence_mark = if t.starts_with("```") { Some("```") } else if t.starts_with("~~~") { Some("~~~") } else { None };
        if let Some(m) = fence_mark {
            fence = match fence {
                Some(open) if open == m => None,
                None => Some(m),
                other => other,
            };
            continue;
        }
        let cmd = if let Some(rest) = t.strip_prefix("$ ") {
            rest
        } else if fence.is_some() || (rst && raw.starts_with([' ', '\t'])) {
            t.strip_prefix("> ").unwrap_or(t)
        } else {
            continue;
        };
        out.push((i + 1, cmd.to_string()));
    }
    out
}

/// Read every install command in `text` (a README, an install doc).
pub fn parse_document(text: &str, file: &str) -> InstallFacts {
    let mut out = InstallFacts::default();
    for (line, cmd) in shell_lines(text, file) {
        out.extend(parse_command_line(&cmd, file, line, "readme"));
    }
    out
}

/// Read one shell line, which may chain commands with `&&`, `||` or `;`.
pub fn parse_command_line(line_text: &str, file: &str, line: usize, group: &str) -> InstallFacts {
    let mut out = InstallFacts::default();
    let code = match line_text.find(" #") {
        Some(i) => &line_text[..i],
        None => line_text,
    };
    for cmd in code.split("&&").flat_map(|c| c.split("||")).flat_map(|c| c.split(';')) {
        let words = split_words(cmd.trim().trim_start_matches(['!', '%']));
        let mut w: &[String] = &words;
        while let Some(first) = w.first() {
            if first == "sudo" || first.contains('=') && !first.starts_with('-') && w.len() > 1 && !first.contains("==") {
                w = &w[1..]; // `sudo`, `MAX_JOBS=4 pip install …`
            } else {
                break;
            }
        }
        let loc = SourceLoc { file: file.to_string(), line: Some(line) };
        if let Some(args) = pip_install_args(w) {
            pip_args(args, group, &loc, &mut out);
        } else if let Some(args) = conda_args(w) {
            conda_specs(args, &loc, &mut out);
        }
    }
    out
}

fn pip_install_args(w: &[String]) -> Option<&[String]> {
    let s: Vec<&str> = w.iter().map(String::as_str).collect();
    let rest = match s.as_slice() {
        ["pip" | "pip3", "install", ..] => 2,
        ["python" | "python3" | "py", "-m", "pip", "install", ..] => 4,
        ["uv", "pip", "install", ..] => 3,
        _ => return None,
    };
    Some(&w[rest..])
}

fn conda_args(w: &[String]) -> Option<&[String]> {
    let s: Vec<&str> = w.iter().map(String::as_str).collect();
    match s.as_slice() {
        ["conda" | "mamba" | "micromamba", "install" | "create", ..] => Some(&w[2..]),
        ["conda" | "mamba" | "micromamba", "env", "create", ..] => Some(&w[3..]),
        _ => None,
    }
}

fn pip_args(args: &[String], group: &str, loc: &SourceLoc, out: &mut InstallFacts) {
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        i += 1;
        let (flag, inline_value) = match a.split_once('=') {
            Some((f, v)) if a.starts_with("--") => (f, Some(v.to_string())),
            _ => (a, None),
        };
        if flag == "--index-url" || flag == "-i" || flag == "--extra-index-url" {
            let url = match inline_value {
                Some(v) => Some(v),
                None => {
                    i += 1;
                    args.get(i - 1).cloned()
                }
            };
            if let Some(url) = url {
                out.index_urls.push(IndexUrl {
                    cuda_variant: cuda_variant_from_url(&url),
                    url,
                    extra: flag == "--extra-index-url",
                    source: loc.clone(),
                });
            }
            continue;
        }
        if a.starts_with('-') {
            if inline_value.is_none() && PIP_FLAGS_WITH_VALUE.contains(&flag) {
                i += 1;
            }
            continue;
        }
        if a.contains("://") || a.starts_with('.') || a.contains('/') || a.starts_with('$') || a.ends_with(".whl") {
            continue; // a path, a URL, a VCS link or a shell variable: nothing to pin
        }
        // prose placeholders (`<package>`) do not parse and are not worth a warning
        if let Ok(r) = parse_requirement(a, group, loc.clone()) {
            out.requirements.push(r);
        }
    }
}

fn conda_specs(args: &[String], loc: &SourceLoc, out: &mut InstallFacts) {
    const WITH_VALUE: &[&str] = &["-c", "--channel", "-n", "--name", "-p", "--prefix", "-f", "--file"];
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        i += 1;
        if a.starts_with('-') {
            if WITH_VALUE.contains(&a) {
                i += 1;
            }
            continue;
        }
        let Some(s) = parse_conda_spec(a) else { continue };
        if s.name == "python" {
            match conda_version_to_pep440(&s.version) {
                Ok(specifier) if !specifier.is_empty() => out.python.push(PythonPin { specifier, raw: a.to_string(), source: loc.clone() }),
                _ => {}
            }
            continue;
        }
        if is_gpu_conda_package(&s.name) || CONDA_FRAMEWORKS.contains(&s.name.as_str()) {
            out.conda.push(CondaPin { name: s.name.clone(), version: s.version.trim_start_matches('=').to_string(), source: loc.clone() });
        }
        // Frameworks also as `readme` requirements under their pip names, as environment.yml's are
        // (group `conda`), so that the resolver finds README pins in one place whichever installer they name.
        if let Some((_, pip)) = CONDA_TO_PIP.iter().find(|(c, _)| *c == s.name) {
            if let Ok(spec) = conda_version_to_pep440(&s.version) {
                if let Ok(r) = parse_requirement(&format!("{pip}{spec}"), "readme", loc.clone()) {
                    out.requirements.push(r);
                }
            }
        }
    }
}

/// Split a command into words, honouring single and double quotes (no other shell syntax).
fn split_words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for c in s.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => cur.push(c),
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                any = true;
            }
            None if c.is_whitespace() => {
                if !cur.is_empty() || any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            None if c == '\\' => {}
            None => cur.push(c),
        }
    }
    if !cur.is_empty() || any {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(f: &InstallFacts) -> Vec<(String, String)> {
        f.requirements.iter().map(|r| (r.name.clone(), r.specifier.clone())).collect()
    }

    #[test]
    fn pip_lines_in_code_blocks() {
        let md = "# X\npip install torch  (prose, not read)\n\n```bash\nconda create -n x python=3.8 -y\nconda activate x\npip install -r requirements.txt\npip install \"torch==1.12.1\" torchvision==0.13.1 --extra-index-url https://download.pytorch.org/whl/cu113\npython -m pip install -e . && pip3 install Flash_Attn>=2 --no-build-isolation\nuv pip install 'jax[cuda12]' git+https://github.com/a/b.git ./local\n```\n$ sudo pip install einops\n";
        let f = parse_document(md, "README.md");
        assert_eq!(
            names(&f),
            vec![
                ("torch".into(), "==1.12.1".into()),
                ("torchvision".into(), "==0.13.1".into()),
                ("flash-attn".into(), ">=2".into()),
                ("jax".into(), "".into()),
                ("einops".into(), "".into()),
            ]
        );
        assert!(f.requirements.iter().all(|r| r.group == "readme"));
        assert_eq!(f.requirements[0].source, SourceLoc { file: "README.md".into(), line: Some(8) });
        assert_eq!(f.index_urls.len(), 1);
        assert!(f.index_urls[0].extra);
        assert_eq!(f.index_urls[0].cuda_variant.as_deref(), Some("cu113"));
        assert_eq!(f.python.len(), 1);
        assert_eq!(f.python[0].specifier, "==3.8.*");
        assert_eq!(f.python[0].source.line, Some(5));
    }

    #[test]
    fn conda_pins() {
        let f = parse_document(
            "    $ conda install pytorch==1.12.1 torchvision cudatoolkit=11.3 -c pytorch\n$ conda install pytorch pytorch-cuda=12.1 numpy -c pytorch -c nvidia\n",
            "README.md",
        );
        let pins: Vec<(&str, &str)> = f.conda.iter().map(|c| (c.name.as_str(), c.version.as_str())).collect();
        assert_eq!(
            pins,
            vec![("pytorch", "1.12.1"), ("torchvision", ""), ("cudatoolkit", "11.3"), ("pytorch", ""), ("pytorch-cuda", "12.1")]
        );
        let reqs: Vec<(&str, &str)> = f.requirements.iter().map(|r| (r.name.as_str(), r.specifier.as_str())).collect();
        assert_eq!(reqs, vec![("torch", "==1.12.1"), ("torchvision", ""), ("torch", "")]);
        assert!(f.requirements.iter().all(|r| r.group == "readme"));
    }

    #[test]
    fn rst_literal_blocks_and_notebook_magics() {
        let f = parse_document("Install::\n\n    pip install tensorflow==2.4.1\n\npip install jax\n", "README.rst");
        assert_eq!(names(&f), vec![("tensorflow".into(), "==2.4.1".into())]);
        let n = parse_command_line("!pip install -q transformers==4.30.0 torch", "nb.ipynb", 3, "notebook");
        assert_eq!(names(&n), vec![("transformers".into(), "==4.30.0".into()), ("torch".into(), "".into())]);
        assert_eq!(n.requirements[0].group, "notebook");
        let n = parse_command_line("%pip install --index-url=https://download.pytorch.org/whl/cu121 torch", "nb.ipynb", 1, "notebook");
        assert_eq!(n.index_urls[0].cuda_variant.as_deref(), Some("cu121"));
        assert!(!n.index_urls[0].extra);
    }

    #[test]
    fn prose_sources() {
        assert!(is_prose_source("README.md") && is_prose_source("docs/install.md") && is_prose_source("INSTALL.md"));
        assert!(is_prose_source("notebooks/demo.ipynb"));
        assert!(!is_prose_source("requirements.txt"));
    }
}
