//! `environment.yml` (conda): the `dependencies:` list of conda match specs and its nested `- pip:` list.
//!
//! - `python=3.10` → a [`PythonPin`] (`==3.10.*`: conda's single `=` matches the whole series).
//! - GPU-relevant conda packages → [`CondaPin`]s: `cudatoolkit`, `cudatoolkit-dev`, `pytorch-cuda`,
//!   `cuda-version`, `cuda`, any `cuda-*` package (`cuda-toolkit`, `cuda-nvcc`, `cuda-runtime`, …),
//!   `cudnn`, `nccl`, `tensorflow-gpu`, `pytorch-gpu`, `magma-cuda*`.
//! - Framework packages also become [`Requirement`]s (group `conda`) under their pip names, so the
//!   resolver sees framework pins wherever they came from ([`CONDA_TO_PIP`]).
//! - `- pip:` entries are requirement lines (group `conda-pip`), read like a requirements file.
//!
//! Channel prefixes (`conda-forge::pytorch`, `pytorch/linux-64::pytorch`) are dropped; build strings
//! (`pytorch=2.1=*cuda*`, `pytorch 2.1.* cuda*`) are not part of the version.

use super::error::ProjectError;
use crate::model::project::{CondaPin, PythonPin, Requirement, ScanWarning};
use super::pep508::{loc, normalize_specifiers, parse_requirement};
use super::requirements_txt::{parse_logical_line, ParsedRequirements};
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// Conda package → pip distribution, for the frameworks the resolver cares about.
/// `cupy` on conda-forge is built per CUDA; its pip twin is `cupy` (source) / `cupy-cuda12x` (wheels):
/// we say `cupy` and let the CUDA pins (`cuda-version`) carry the rest.
pub const CONDA_TO_PIP: &[(&str, &str)] = &[
    ("pytorch", "torch"),
    ("pytorch-gpu", "torch"),
    ("torchvision", "torchvision"),
    ("torchaudio", "torchaudio"),
    ("tensorflow", "tensorflow"),
    ("tensorflow-gpu", "tensorflow"),
    ("jax", "jax"),
    ("jaxlib", "jaxlib"),
    ("cupy", "cupy"),
];

/// Conda packages with no pip twin of the same meaning: system libraries, compilers and tools that conda
/// ships but pip does not (or ships as something else). Everything else is installed with pip under its
/// conda name, since the image has no conda — the common scientific packages share their names.
pub const CONDA_ONLY: &[&str] = &[
    "pip", "python", "ca-certificates", "certifi", "openssl", "ffmpeg", "git", "nodejs", "make", "gcc", "gxx",
    "gfortran", "compilers", "c-compiler", "cxx-compiler", "fortran-compiler", "sysroot_linux-64", "zlib", "xz",
    "bzip2", "openblas", "blas", "mkl", "mkl-include", "intel-openmp", "llvm-openmp", "tk", "readline", "ncurses",
    "sqlite", "tzdata", "wheel", "ipython_genutils",
];

/// Whether a conda package has a pip twin of the same name worth installing (see [`CONDA_ONLY`]).
pub fn installs_with_pip(name: &str) -> bool {
    !(CONDA_ONLY.contains(&name) || name.starts_with("lib") || name.starts_with('_') || is_gpu_conda_package(name))
}

/// Whether a conda package pins part of the CUDA stack (see the module docs).
pub fn is_gpu_conda_package(name: &str) -> bool {
    matches!(
        name,
        "cudatoolkit" | "cudatoolkit-dev" | "pytorch-cuda" | "cuda" | "cudnn" | "nccl" | "tensorflow-gpu" | "pytorch-gpu"
    ) || name.starts_with("cuda-")
        || name.starts_with("magma-cuda")
}

/// Whether a root file name is a conda environment file by convention, beyond `environment.yml`:
/// `conda.yaml`, `conda.yml`, `env.yml`, `env.yaml`, `environment-*.yml`, `environment_*.yml` (`.yaml` too).
pub fn is_conda_file_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let Some(stem) = lower.strip_suffix(".yml").or_else(|| lower.strip_suffix(".yaml")) else { return false };
    matches!(stem, "conda" | "env" | "environment" | "conda-env" | "conda_env")
        || stem.starts_with("environment-")
        || stem.starts_with("environment_")
        || stem.starts_with("conda-")
        || stem.starts_with("conda_")
}

/// Whether YAML text has a top-level `dependencies:` key (a conda file under any name; CI configs have none).
pub fn has_top_level_dependencies(text: &str) -> bool {
    text.lines().any(|l| l.starts_with("dependencies:"))
}

/// What an environment.yml says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CondaEnvFacts {
    pub python: Vec<PythonPin>,
    pub conda: Vec<CondaPin>,
    /// Conda dependencies under their pip names (group `conda`): frameworks through [`CONDA_TO_PIP`], the rest
    /// by the same name unless [`CONDA_ONLY`].
    pub requirements: Vec<Requirement>,
    /// The `- pip:` list, read as requirement lines (group `conda-pip`); includes are relative to the root.
    pub pip: ParsedRequirements,
    pub warnings: Vec<ScanWarning>,
}

/// A conda match spec, split: `conda-forge::pytorch=2.1.0=*cuda*` → (`pytorch`, `=2.1.0`, `*cuda*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CondaSpec {
    pub name: String,
    /// The version part as written, operator included (`=2.1`, `==2.1.0`, `>=2.0,<2.2`, `2.1.*`); may be empty.
    pub version: String,
    pub build: Option<String>,
}

/// Split a conda match spec into name, version and build.
pub fn parse_conda_spec(spec: &str) -> Option<CondaSpec> {
    let spec = spec.trim();
    // `pkg[version='>=2.0',build=*cuda*]`
    let (main, bracket) = match spec.find('[') {
        Some(i) => (&spec[..i], Some(spec[i + 1..].trim_end_matches(']'))),
        None => (spec, None),
    };
    let main = main.rsplit("::").next().unwrap_or(main).trim();
    let name_end = main.find(|c: char| "=<>!~ \t".contains(c)).unwrap_or(main.len());
    let name = main[..name_end].trim().to_ascii_lowercase();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
        return None;
    }
    let rest = main[name_end..].trim();
    let (mut version, mut build) = if rest.is_empty() {
        (String::new(), None)
    } else if rest.starts_with(|c: char| c.is_whitespace() || c.is_ascii_digit() || c == '*') || !rest.starts_with(['=', '<', '>', '!', '~']) {
        // space form: `pytorch 2.1.* cuda*`
        let mut words = rest.split_whitespace();
        (words.next().unwrap_or("").to_string(), words.next().map(str::to_string))
    } else if let Some(v) = rest.strip_prefix("==") {
        split_build(v, "==")
    } else if let Some(v) = rest.strip_prefix('=') {
        split_build(v, "=")
    } else {
        // `>=2.0,<2.2` — a build may follow after a space; `>= 1.13` (an operator standing alone) is one version
        let mut words = rest.split_whitespace().peekable();
        let mut version = words.next().unwrap_or("").to_string();
        if version.chars().all(|c| "=<>!~".contains(c)) {
            version.push_str(words.next().unwrap_or(""));
        }
        (version, words.next().map(str::to_string))
    };
    if let Some(b) = bracket {
        for kv in b.split(',') {
            if let Some((k, v)) = kv.split_once('=') {
                let v = v.trim().trim_matches(['\'', '"']).to_string();
                match k.trim() {
                    "version" => version = v,
                    "build" => build = Some(v),
                    _ => {}
                }
            }
        }
    }
    Some(CondaSpec { name, version, build })
}

fn split_build(v: &str, op: &str) -> (String, Option<String>) {
    match v.split_once('=') {
        Some((ver, b)) => (format!("{op}{ver}"), Some(b.to_string())),
        None => (format!("{op}{v}"), None),
    }
}

/// A conda version as PEP 440 specifiers: `=2.1` → `==2.1.*`, `==2.1.0` → `==2.1.0`, `2.1.*` → `==2.1.*`,
/// `>=2.0,<2.2` as is, `*` → any. `|` (either) has no single PEP 440 form.
pub fn conda_version_to_pep440(version: &str) -> Result<String, String> {
    let v = version.trim();
    if v.is_empty() || v == "*" || v == "=*" {
        return Ok(String::new());
    }
    if v.contains('|') {
        return Err(format!("`{v}` (either of two versions) has no single PEP 440 form"));
    }
    let spec = if let Some(exact) = v.strip_prefix("==") {
        format!("=={exact}")
    } else if let Some(fuzzy) = v.strip_prefix('=') {
        let fuzzy = fuzzy.trim_end_matches(".*").trim_end_matches('*');
        // `=2.1.0` also matches `2.1.0.post1`; for a full version that is as good as a pin
        if fuzzy.split('.').count() >= 3 {
            format!("=={fuzzy}")
        } else {
            format!("=={fuzzy}.*")
        }
    } else if v.starts_with(['<', '>', '!', '~']) {
        v.to_string()
    } else if v.ends_with('*') {
        format!("=={}", v.trim_end_matches('*').trim_end_matches('.').to_string() + ".*")
    } else {
        // a bare `2.1.0` in the space form is an exact match in conda
        format!("=={v}")
    };
    normalize_specifiers(&spec)
}

/// A YAML node with the line it starts on.
#[derive(Debug, Clone)]
enum Node {
    Scalar(String, usize),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
    Other,
}

impl Node {
    fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(entries) => {
                entries.iter().find(|(k, _)| matches!(k, Node::Scalar(s, _) if s == key)).map(|(_, v)| v)
            }
            _ => None,
        }
    }
}

/// Builds [`Node`]s from parser events, keeping each scalar's line.
#[derive(Default)]
struct Builder {
    stack: Vec<Node>,
    docs: Vec<Node>,
}

impl Builder {
    fn push_value(&mut self, node: Node) {
        match self.stack.last_mut() {
            Some(Node::Seq(items)) => items.push(node),
            // A key waits for its value as `Node::Other` (no finished value is ever `Other`).
            Some(Node::Map(entries)) => match entries.last_mut() {
                Some((_, v @ Node::Other)) => *v = node,
                _ => entries.push((node, Node::Other)),
            },
            _ => self.docs.push(node),
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        match ev {
            Event::Scalar(s, ..) => self.push_value(Node::Scalar(s, mark.line())),
            Event::SequenceStart(..) => self.stack.push(Node::Seq(Vec::new())),
            Event::MappingStart(..) => self.stack.push(Node::Map(Vec::new())),
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some(n) = self.stack.pop() {
                    self.push_value(n);
                }
            }
            Event::Alias(_) => self.push_value(Node::Scalar(String::new(), mark.line())),
            _ => {}
        }
    }
}

/// Parse `environment.yml`. A YAML syntax error is fatal (`yaml-syntax`, `file:line:column`).
pub fn parse_environment_yml(text: &str, file: &str) -> Result<CondaEnvFacts, ProjectError> {
    let mut b = Builder::default();
    let mut parser = Parser::new_from_str(text);
    parser.load(&mut b, false).map_err(|e| ProjectError::YamlSyntax {
        file: file.to_string(),
        line: e.marker().line().max(1),
        column: e.marker().col() + 1,
        message: e.info().to_string(),
    })?;
    let mut out = CondaEnvFacts::default();
    let Some(doc) = b.docs.into_iter().next() else { return Ok(out) };
    let deps = match doc.get("dependencies") {
        Some(Node::Seq(items)) => items.clone(),
        Some(Node::Scalar(s, line)) if s.is_empty() => {
            let _ = line;
            Vec::new()
        }
        Some(_) => {
            out.warnings.push(ScanWarning {
                source: loc(file, 1),
                message: "`dependencies` should be a list; skipped".into(),
            });
            Vec::new()
        }
        None => Vec::new(),
    };
    for item in &deps {
        match item {
            Node::Scalar(spec, line) => conda_dependency(spec, *line, file, &mut out),
            Node::Map(_) => match item.get("pip") {
                Some(Node::Seq(pips)) => {
                    for p in pips {
                        if let Node::Scalar(s, line) = p {
                            parse_logical_line(s.trim(), *line, file, "conda-pip", &mut out.pip);
                        }
                    }
                }
                _ => out.warnings.push(ScanWarning {
                    source: loc(file, first_line(item)),
                    message: "a `dependencies` entry that is a mapping should be `- pip: [...]`; skipped".into(),
                }),
            },
            _ => {}
        }
    }
    Ok(out)
}

fn first_line(n: &Node) -> usize {
    match n {
        Node::Scalar(_, l) => *l,
        Node::Seq(items) => items.first().map(first_line).unwrap_or(1),
        Node::Map(entries) => entries.first().map(|(k, _)| first_line(k)).unwrap_or(1),
        Node::Other => 1,
    }
}

fn conda_dependency(spec: &str, line: usize, file: &str, out: &mut CondaEnvFacts) {
    let Some(s) = parse_conda_spec(spec) else {
        out.warnings.push(ScanWarning { source: loc(file, line), message: format!("could not read conda spec `{spec}`") });
        return;
    };
    if s.name == "python" {
        if !s.version.is_empty() {
            match conda_version_to_pep440(&s.version) {
                Ok(specifier) if !specifier.is_empty() => {
                    out.python.push(PythonPin { specifier, raw: spec.to_string(), source: loc(file, line) })
                }
                Ok(_) => {}
                Err(e) => out.warnings.push(ScanWarning {
                    source: loc(file, line),
                    message: format!("could not read the Python version in `{spec}`: {e}"),
                }),
            }
        }
        return;
    }
    if is_gpu_conda_package(&s.name) {
        let version = s.version.trim_start_matches(['=']).to_string();
        out.conda.push(CondaPin { name: s.name.clone(), version, source: loc(file, line) });
    }
    let pip_name = match CONDA_TO_PIP.iter().find(|(c, _)| *c == s.name) {
        Some((_, pip)) => Some(*pip),
        None if installs_with_pip(&s.name) => Some(s.name.as_str()),
        None => None,
    };
    if let Some(pip) = pip_name {
        let spec_pep440 = match conda_version_to_pep440(&s.version) {
            Ok(v) => v,
            Err(e) => {
                out.warnings.push(ScanWarning {
                    source: loc(file, line),
                    message: format!("could not read the version of `{spec}`: {e}; treating it as any version"),
                });
                String::new()
            }
        };
        match parse_requirement(&format!("{pip}{spec_pep440}"), "conda", loc(file, line)) {
            Ok(r) => out.requirements.push(r),
            Err(e) => out.warnings.push(ScanWarning {
                source: loc(file, line),
                message: format!("could not read the version of `{spec}`: {e}"),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Coded;

    #[test]
    fn specs() {
        let s = |x| parse_conda_spec(x).unwrap();
        assert_eq!(s("python=3.10"), CondaSpec { name: "python".into(), version: "=3.10".into(), build: None });
        assert_eq!(
            s("conda-forge::pytorch=2.1.0=*cuda*"),
            CondaSpec { name: "pytorch".into(), version: "=2.1.0".into(), build: Some("*cuda*".into()) }
        );
        assert_eq!(s("pytorch/linux-64::pytorch==2.1.0").version, "==2.1.0");
        assert_eq!(s("pytorch 2.1.* cuda*"), CondaSpec { name: "pytorch".into(), version: "2.1.*".into(), build: Some("cuda*".into()) });
        assert_eq!(s("numpy>=1.24,<2").version, ">=1.24,<2");
        assert_eq!(s("cudnn").version, "");
        assert_eq!(s("pytorch[version='>=2.0',build=*cuda*]").version, ">=2.0");
        assert_eq!(s("pytorch=*=*cuda*").version, "=*");
        // An operator standing apart from its version (DiT's environment.yml: `pytorch >= 1.13`).
        assert_eq!(s("pytorch >= 1.13"), CondaSpec { name: "pytorch".into(), version: ">=1.13".into(), build: None });
        assert_eq!(s("python >= 3.8 *cpython*").build.as_deref(), Some("*cpython*"));
    }

    #[test]
    fn versions() {
        assert_eq!(conda_version_to_pep440("=2.1").unwrap(), "==2.1.*");
        assert_eq!(conda_version_to_pep440("==2.1.0").unwrap(), "==2.1.0");
        assert_eq!(conda_version_to_pep440("2.1.*").unwrap(), "==2.1.*");
        assert_eq!(conda_version_to_pep440(">=2.0,<2.2").unwrap(), ">=2.0,<2.2");
        assert_eq!(conda_version_to_pep440("=*").unwrap(), "");
        assert!(conda_version_to_pep440("2.1|2.2").is_err());
        assert_eq!(conda_version_to_pep440("=3.10").unwrap(), "==3.10.*");
        assert_eq!(conda_version_to_pep440("=3.10.12").unwrap(), "==3.10.12");
    }

    const ENV: &str = "name: vision
channels:
  - pytorch
  - nvidia
  - conda-forge
dependencies:
  - python=3.10
  - pytorch=2.1.0=*cuda*
  - torchvision
  - pytorch-cuda=12.1
  - cudatoolkit=11.8
  - conda-forge::cudnn
  - numpy>=1.24
  - pip
  - pip:
      - --extra-index-url https://download.pytorch.org/whl/cu121
      - transformers==4.44.0  # comment
      - -r requirements.txt
      - not a valid==line
";

    #[test]
    fn an_environment() {
        let f = parse_environment_yml(ENV, "environment.yml").unwrap();
        assert_eq!(f.python, vec![PythonPin { specifier: "==3.10.*".into(), raw: "python=3.10".into(), source: loc("environment.yml", 7) }]);
        let conda: Vec<_> = f.conda.iter().map(|c| (c.name.as_str(), c.version.as_str(), c.source.line.unwrap())).collect();
        assert_eq!(conda, [("pytorch-cuda", "12.1", 10), ("cudatoolkit", "11.8", 11), ("cudnn", "", 12)]);
        let reqs: Vec<_> = f.requirements.iter().map(|r| (r.name.as_str(), r.specifier.as_str(), r.group.as_str(), r.source.line.unwrap())).collect();
        // numpy has a pip twin of the same name; pip and cudnn do not become pip requirements.
        assert_eq!(reqs, [("torch", "==2.1.0", "conda", 8), ("torchvision", "", "conda", 9), ("numpy", ">=1.24", "conda", 13)]);
        assert_eq!(f.pip.index_urls[0].cuda_variant.as_deref(), Some("cu121"));
        assert_eq!(f.pip.index_urls[0].source.line, Some(16));
        assert_eq!(f.pip.requirements.len(), 1);
        assert_eq!(f.pip.requirements[0].name, "transformers");
        assert_eq!(f.pip.requirements[0].group, "conda-pip");
        assert_eq!(f.pip.requirements[0].source.line, Some(17));
        assert_eq!(f.pip.includes.len(), 1);
        assert_eq!(f.pip.includes[0].target, "requirements.txt");
        assert_eq!(f.pip.warnings.len(), 1);
        assert_eq!(f.pip.warnings[0].source.line, Some(19));
    }

    #[test]
    fn syntax_errors_have_line_and_column() {
        let e = parse_environment_yml("name: x\ndependencies:\n  - python=3.10\n - numpy\n", "environment.yml").unwrap_err();
        assert_eq!(e.code(), "yaml-syntax");
        let ProjectError::YamlSyntax { line, column, .. } = &e else { panic!() };
        assert_eq!((*line, *column), (4, 2));
        assert!(e.to_string().starts_with("environment.yml:4:2: invalid YAML:"), "{e}");
        let e = parse_environment_yml("dependencies: [python=3.10\n", "environment.yml").unwrap_err();
        assert!(e.to_string().starts_with("environment.yml:2:1"), "{e}");
    }

    #[test]
    fn empty_or_odd_files_are_fine() {
        assert_eq!(parse_environment_yml("", "environment.yml").unwrap(), CondaEnvFacts::default());
        assert_eq!(parse_environment_yml("name: x\ndependencies:\n", "environment.yml").unwrap(), CondaEnvFacts::default());
    }
}
