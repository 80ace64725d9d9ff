//! `setup.py` and `setup.cfg`.
//!
//! setup.py is Python and is never run: a small tokenizer reads `install_requires=[…]`,
//! `extras_require={…}` and `python_requires=…` only where they are literal lists / dicts / strings
//! (or a name bound once to such a literal, `install_requires=REQS`). Anything else
//! (`open("requirements.txt").read().splitlines()`, a comprehension) gives a warning with the line.
//! The same tokens tell whether setup.py builds a CUDA extension (`CUDAExtension`, or `BuildExtension`
//! without `CppExtension`).
//!
//! setup.cfg is INI: `[options] install_requires` (one requirement per continuation line),
//! `python_requires`, and `[options.extras_require]` (group = extra name).

use crate::model::project::{PythonPin, Requirement, ScanWarning};
use super::pep508::{loc, normalize_specifiers, parse_requirement};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Name(String),
    /// A string literal's value; `None` for f-strings (not a literal).
    Str(Option<String>),
    Op(String),
    Number,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Token {
    tok: Tok,
    line: usize,
}

/// Python tokens, comments and whitespace dropped. Unknown characters become one-char operators.
fn tokenize(src: &str) -> Vec<Token> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let mut line = 1;
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() || c == '\\' {
            i += 1;
        } else if c == '#' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let prefix = word.to_ascii_lowercase();
            let is_prefix = word.len() <= 2 && prefix.chars().all(|p| "rbuf".contains(p));
            if is_prefix && i < chars.len() && (chars[i] == '"' || chars[i] == '\'') {
                let start_line = line;
                let (value, next, lines) = read_string(&chars, i, prefix.contains('r'));
                let value = if prefix.contains('f') { None } else { Some(value) };
                out.push(Token { tok: Tok::Str(value), line: start_line });
                line += lines;
                i = next;
            } else {
                out.push(Token { tok: Tok::Name(word), line });
            }
        } else if c == '"' || c == '\'' {
            let start_line = line;
            let (value, next, lines) = read_string(&chars, i, false);
            out.push(Token { tok: Tok::Str(Some(value)), line: start_line });
            line += lines;
            i = next;
        } else if c.is_ascii_digit() {
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '.' || chars[i] == '_') {
                i += 1;
            }
            out.push(Token { tok: Tok::Number, line });
        } else {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            if ["==", "!=", "<=", ">=", "**", "->", ":="].contains(&two.as_str()) {
                out.push(Token { tok: Tok::Op(two), line });
                i += 2;
            } else {
                out.push(Token { tok: Tok::Op(c.to_string()), line });
                i += 1;
            }
        }
    }
    out
}

/// Read a string literal starting at the quote `chars[i]`: (value, index after it, newlines inside).
fn read_string(chars: &[char], i: usize, raw: bool) -> (String, usize, usize) {
    let q = chars[i];
    let triple = i + 2 < chars.len() && chars[i + 1] == q && chars[i + 2] == q;
    let mut j = if triple { i + 3 } else { i + 1 };
    let mut value = String::new();
    let mut lines = 0;
    while j < chars.len() {
        let c = chars[j];
        if c == '\\' && j + 1 < chars.len() {
            let n = chars[j + 1];
            if n == '\n' {
                lines += 1;
            }
            if raw {
                value.push(c);
                value.push(n);
            } else {
                match n {
                    'n' => value.push('\n'),
                    't' => value.push('\t'),
                    '\n' => {}
                    other => value.push(other),
                }
            }
            j += 2;
            continue;
        }
        if c == q {
            if !triple {
                return (value, j + 1, lines);
            }
            if j + 2 < chars.len() && chars[j + 1] == q && chars[j + 2] == q {
                return (value, j + 3, lines);
            }
        }
        if c == '\n' {
            lines += 1;
            if !triple {
                return (value, j, lines - 1);
            }
        }
        value.push(c);
        j += 1;
    }
    (value, j, lines)
}

fn is_op(t: Option<&Token>, op: &str) -> bool {
    matches!(t, Some(Token { tok: Tok::Op(o), .. }) if o == op)
}

/// A literal list/tuple of string literals at `toks[i]`: the strings with their lines, and the index after it.
fn literal_list(toks: &[Token], mut i: usize) -> Option<(Vec<(String, usize)>, usize)> {
    let close = match toks.get(i)?.tok {
        Tok::Op(ref o) if o == "[" => "]",
        Tok::Op(ref o) if o == "(" => ")",
        _ => return None,
    };
    i += 1;
    let mut items = Vec::new();
    loop {
        if is_op(toks.get(i), close) {
            return Some((items, i + 1));
        }
        let Token { tok: Tok::Str(Some(first)), line } = toks.get(i)? else { return None };
        let mut value = first.clone();
        let line = *line;
        i += 1;
        // implicit concatenation: "a" "b"
        while let Some(Token { tok: Tok::Str(s), .. }) = toks.get(i) {
            value.push_str(s.as_deref()?);
            i += 1;
        }
        items.push((value, line));
        if is_op(toks.get(i), ",") {
            i += 1;
        } else if !is_op(toks.get(i), close) {
            return None;
        }
    }
}

/// String literals with their lines.
type Strings = Vec<(String, usize)>;

/// A literal dict `{"extra": [..], …}` of string keys to literal lists.
fn literal_dict(toks: &[Token], mut i: usize) -> Option<Vec<(String, Strings)>> {
    if !is_op(toks.get(i), "{") {
        return None;
    }
    i += 1;
    let mut out = Vec::new();
    loop {
        if is_op(toks.get(i), "}") {
            return Some(out);
        }
        let Token { tok: Tok::Str(Some(key)), .. } = toks.get(i)? else { return None };
        if !is_op(toks.get(i + 1), ":") {
            return None;
        }
        let (items, next) = literal_list(toks, i + 2)?;
        out.push((key.clone(), items));
        i = next;
        if is_op(toks.get(i), ",") {
            i += 1;
        } else if !is_op(toks.get(i), "}") {
            return None;
        }
    }
}

/// Positions right after `key=` (keyword argument or assignment) or `"key":` (dict entry).
fn value_positions(toks: &[Token], key: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        let named = match &t.tok {
            Tok::Name(n) => n == key && is_op(toks.get(i + 1), "="),
            Tok::Str(Some(s)) => s == key && is_op(toks.get(i + 1), ":"),
            _ => false,
        };
        if named {
            out.push((i + 2, t.line));
        }
    }
    out
}

/// `NAME = [literal list]` anywhere in the file (for `install_requires=NAME`).
fn list_bound_to(toks: &[Token], name: &str) -> Option<Vec<(String, usize)>> {
    value_positions(toks, name).into_iter().find_map(|(i, _)| literal_list(toks, i).map(|(l, _)| l))
}

/// What setup.py or setup.cfg says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SetupFacts {
    /// `name="…"` when it is a literal: the distribution the repository itself is.
    pub package_name: Option<String>,
    pub requirements: Vec<Requirement>,
    pub python: Vec<PythonPin>,
    pub warnings: Vec<ScanWarning>,
}

fn push_requirements(out: &mut SetupFacts, items: &[(String, usize)], group: &str, file: &str) {
    for (s, line) in items {
        match parse_requirement(s, group, loc(file, *line)) {
            Ok(r) => out.requirements.push(r),
            Err(e) => out.warnings.push(ScanWarning {
                source: loc(file, *line),
                message: format!("could not parse requirement `{s}`: {e}"),
            }),
        }
    }
}

fn push_python(out: &mut SetupFacts, raw: &str, line: usize, file: &str) {
    match normalize_specifiers(raw) {
        Ok(specifier) => out.python.push(PythonPin { specifier, raw: raw.to_string(), source: loc(file, line) }),
        Err(e) => out.warnings.push(ScanWarning {
            source: loc(file, line),
            message: format!("could not read python_requires `{raw}`: {e}"),
        }),
    }
}

/// Read `install_requires`, `extras_require` and `python_requires` from setup.py where they are literals.
pub fn parse_setup_py(text: &str, file: &str) -> SetupFacts {
    let toks = tokenize(text);
    let package_name = value_positions(&toks, "name").into_iter().find_map(|(i, _)| match toks.get(i) {
        Some(Token { tok: Tok::Str(Some(s)), .. }) if !s.is_empty() => Some(super::pep508::normalize_name(s)),
        _ => None,
    });
    let mut out = SetupFacts { package_name, ..SetupFacts::default() };

    let positions = value_positions(&toks, "install_requires");
    let mut found = false;
    for &(i, _) in &positions {
        if let Some((items, _)) = literal_list(&toks, i) {
            push_requirements(&mut out, &items, "main", file);
            found = true;
            break;
        }
        // install_requires=REQS, with REQS = [...] elsewhere
        if let (Some(Token { tok: Tok::Name(n), .. }), true) = (toks.get(i), is_op(toks.get(i + 1), ",") || is_op(toks.get(i + 1), ")")) {
            if let Some(items) = list_bound_to(&toks, n) {
                push_requirements(&mut out, &items, "main", file);
                found = true;
                break;
            }
        }
    }
    if !found {
        if let Some(&(_, line)) = positions.first() {
            out.requirements.extend(gpu_stack_literals(&toks, file));
            out.warnings.push(ScanWarning {
                source: loc(file, line),
                message: format!(
                    "could not read install_requires from {file}:{line} (not a literal list); list them in requirements.txt"
                ),
            });
        }
    }

    if let Some(&(i, line)) = value_positions(&toks, "extras_require").first() {
        // extras_require=EXTRAS, with EXTRAS = {...} elsewhere in the file.
        let bound = match (toks.get(i), is_op(toks.get(i + 1), ",") || is_op(toks.get(i + 1), ")")) {
            (Some(Token { tok: Tok::Name(n), .. }), true) => value_positions(&toks, n).into_iter().find_map(|(j, _)| literal_dict(&toks, j)),
            _ => None,
        };
        match literal_dict(&toks, i).or(bound) {
            Some(extras) => {
                for (extra, items) in extras {
                    push_requirements(&mut out, &items, &extra, file);
                }
            }
            None => out.warnings.push(ScanWarning {
                source: loc(file, line),
                message: format!("could not read extras_require from {file}:{line} (not a literal dict); skipped"),
            }),
        }
    }

    if let Some(&(i, line)) = value_positions(&toks, "python_requires").first() {
        match toks.get(i) {
            Some(Token { tok: Tok::Str(Some(s)), .. }) => push_python(&mut out, s, line, file),
            _ => out.warnings.push(ScanWarning {
                source: loc(file, line),
                message: format!("could not read python_requires from {file}:{line} (not a string literal)"),
            }),
        }
    }
    out
}

/// Packages whose version decides the GPU stack: when install_requires is computed (a function returning
/// per-platform lists), their requirement-shaped string literals are the best evidence left.
const GPU_STACK_PACKAGES: &[&str] = &[
    "torch", "torchvision", "torchaudio", "triton", "tensorflow", "tensorflow-gpu", "jax", "jaxlib", "flash-attn", "xformers",
];

/// Requirement-shaped string literals (`"torch>=2.1.2"`) naming a [`GPU_STACK_PACKAGES`] entry, the first of
/// each name, as evidence (group `setup-py`: pip installs them through setup.py, the planner never does).
/// The first wins because setup scripts list the CUDA/default branch first (Liger-Kernel: cuda, then rocm,
/// xpu, npu) and the later branches pin for other hardware.
fn gpu_stack_literals(toks: &[Token], file: &str) -> Vec<Requirement> {
    let mut out: Vec<Requirement> = Vec::new();
    for t in toks {
        let Tok::Str(Some(s)) = &t.tok else { continue };
        if !s.contains(['=', '<', '>', '~']) || s.len() > 120 {
            continue;
        }
        let Ok(r) = parse_requirement(s, "setup-py", loc(file, t.line)) else { continue };
        if GPU_STACK_PACKAGES.contains(&r.name.as_str()) && !r.specifier.is_empty() && !out.iter().any(|o| o.name == r.name) {
            out.push(r);
        }
    }
    out
}

/// The line where setup.py builds a CUDA extension: `CUDAExtension`, or `BuildExtension` when no
/// `CppExtension` is used (BuildExtension alone also builds C++-only extensions).
/// The `.txt` file names a setup.py names in string literals (`open("requirements.txt")`,
/// `parse_requirements('requirements/runtime.txt')`), as root-relative paths, in order, without repeats.
/// Prose files (`README.txt`, `LICENSE.txt`, …) and paths leaving the root are left out; the caller
/// reads only those that exist.
pub fn txt_literals(text: &str) -> Vec<String> {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| regex::Regex::new(r#"["']([A-Za-z0-9_./-]+\.txt)["']"#).expect("valid regex"));
    let mut out: Vec<String> = Vec::new();
    for c in re.captures_iter(text) {
        let p = c[1].trim_start_matches("./").to_string();
        let base = p.rsplit('/').next().unwrap_or(&p).to_ascii_uppercase();
        let prose = ["README", "LICENSE", "LICENCE", "CHANGELOG", "CHANGES", "VERSION", "AUTHORS", "NOTICE", "HISTORY"]
            .iter()
            .any(|w| base.starts_with(w));
        if prose || p.starts_with('/') || p.split('/').any(|c| c == "..") || out.contains(&p) {
            continue;
        }
        out.push(p);
    }
    out
}

pub fn cuda_extension_line(text: &str) -> Option<usize> {
    if !text.contains("Extension") {
        return None;
    }
    let toks = tokenize(text);
    let name_line = |want: &str| {
        toks.iter().find_map(|t| match &t.tok {
            Tok::Name(n) if n == want => Some(t.line),
            _ => None,
        })
    };
    name_line("CUDAExtension").or_else(|| if name_line("CppExtension").is_some() { None } else { name_line("BuildExtension") })
}

/// Read `[options] install_requires`/`python_requires` and `[options.extras_require]` from setup.cfg.
/// Also says whether it has package metadata (`[metadata]` or `[options]`).
pub fn parse_setup_cfg(text: &str, file: &str) -> (SetupFacts, bool) {
    let mut out = SetupFacts::default();
    let mut has_metadata = false;
    // (section, key, [(value line, line number)])
    let mut entries: Vec<(String, String, Strings)> = Vec::new();
    let mut section = String::new();
    for (idx, raw) in text.lines().enumerate() {
        let n = idx + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        if raw.starts_with(char::is_whitespace) {
            if let Some(last) = entries.last_mut() {
                last.2.push((trimmed.to_string(), n));
            }
            continue;
        }
        if trimmed.starts_with('[') && trimmed.ends_with(']') {
            section = trimmed[1..trimmed.len() - 1].trim().to_string();
            if section == "metadata" || section == "options" {
                has_metadata = true;
            }
            continue;
        }
        if let Some(i) = trimmed.find(['=', ':']) {
            let key = trimmed[..i].trim().to_string();
            let value = trimmed[i + 1..].trim();
            let mut values = Vec::new();
            if !value.is_empty() {
                values.push((value.to_string(), n));
            }
            entries.push((section.clone(), key, values));
        }
    }
    // setuptools: a multi-line value is one item per line; a one-line value is split at `;`
    let items = |values: &[(String, usize)]| -> Vec<(String, usize)> {
        let mut v = Vec::new();
        let one_line = values.len() == 1;
        for (s, n) in values {
            let s = match s.find(" #") {
                Some(i) => &s[..i],
                None => s.as_str(),
            };
            if one_line && !s.contains("python_version") && !s.contains("sys_platform") {
                v.extend(s.split(';').map(|p| (p.trim().to_string(), *n)).filter(|(p, _)| !p.is_empty()));
            } else if !s.trim().is_empty() {
                v.push((s.trim().to_string(), *n));
            }
        }
        v
    };
    for (section, key, values) in &entries {
        match (section.as_str(), key.as_str()) {
            ("options", "install_requires") => {
                if values.first().is_some_and(|(v, _)| v.starts_with("file:")) {
                    out.warnings.push(ScanWarning {
                        source: loc(file, values[0].1),
                        message: "install_requires = file: … is read from that file by setuptools; list it in requirements.txt too".into(),
                    });
                    continue;
                }
                push_requirements(&mut out, &items(values), "main", file)
            }
            ("options", "python_requires") => {
                if let Some((v, n)) = values.first() {
                    push_python(&mut out, v, *n, file);
                }
            }
            ("options.extras_require", extra) => push_requirements(&mut out, &items(values), extra, file),
            _ => {}
        }
    }
    (out, has_metadata)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SETUP_PY: &str = r#"#!/usr/bin/env python
import os
from setuptools import setup, find_packages
from torch.utils.cpp_extension import BuildExtension, CUDAExtension

# install_requires=["commented-out"]
EXTRAS = {
    "dev": ["pytest>=7", 'black==24.4.2'],
    "gpu": ["cupy-cuda12x"],
}

setup(
    name="fused-ops",
    version=os.environ.get("VERSION", "0.1"),
    packages=find_packages(),
    python_requires=">=3.9",
    install_requires=[
        "torch>=2.1",  # the framework
        'numpy<2',
        "einops" ">=0.7",
    ],
    extras_require={
        "dev": ["pytest>=7", 'black==24.4.2'],
        "gpu": ["cupy-cuda12x"],
    },
    ext_modules=[
        CUDAExtension("fused_ops._C", ["csrc/fused.cpp", "csrc/fused_kernel.cu"]),
    ],
    cmdclass={"build_ext": BuildExtension},
)
"#;

    #[test]
    fn literal_setup_py() {
        let f = parse_setup_py(SETUP_PY, "setup.py");
        assert_eq!(f.warnings, vec![]);
        let got: Vec<_> = f
            .requirements
            .iter()
            .map(|r| (r.name.as_str(), r.specifier.as_str(), r.group.as_str(), r.source.line.unwrap()))
            .collect();
        assert_eq!(
            got,
            [
                ("torch", ">=2.1", "main", 18),
                ("numpy", "<2", "main", 19),
                ("einops", ">=0.7", "main", 20),
                ("pytest", ">=7", "dev", 23),
                ("black", "==24.4.2", "dev", 23),
                ("cupy-cuda12x", "", "gpu", 24),
            ]
        );
        assert_eq!(f.python[0].specifier, ">=3.9");
        assert_eq!(f.python[0].source.line, Some(16));
        assert_eq!(cuda_extension_line(SETUP_PY), Some(4));
    }

    #[test]
    fn non_literal_install_requires_warns_with_line() {
        let src = "from setuptools import setup\n\nsetup(\n    name='x',\n    install_requires=open('requirements.txt').read().splitlines(),\n)\n";
        let f = parse_setup_py(src, "setup.py");
        assert!(f.requirements.is_empty());
        assert_eq!(f.warnings.len(), 1);
        assert_eq!(f.warnings[0].source, loc("setup.py", 5));
        assert_eq!(
            f.warnings[0].message,
            "could not read install_requires from setup.py:5 (not a literal list); list them in requirements.txt"
        );
        let src = "def deps(p):\n    if p == 'cuda':\n        return ['torch>=2.1.2', 'triton>=2.3.1']\n    return ['torch==2.9.0', 'numpy>=1']\nsetup(install_requires=deps(plat()))\n";
        let f = parse_setup_py(src, "setup.py");
        let got: Vec<_> = f.requirements.iter().map(|r| (r.raw.as_str(), r.group.as_str(), r.source.line)).collect();
        assert_eq!(got, [("torch>=2.1.2", "setup-py", Some(3)), ("triton>=2.3.1", "setup-py", Some(3))], "first of each GPU-stack name, as evidence");
        let src = "EXTRA = {\n  'dev': ['pytest>=7'],\n}\nsetup(name='x', install_requires=['numpy'], extras_require=EXTRA)\n";
        let f = parse_setup_py(src, "setup.py");
        assert!(f.warnings.is_empty(), "{:?}", f.warnings);
        assert!(f.requirements.iter().any(|r| r.name == "pytest" && r.group == "dev"), "{:?}", f.requirements);
        assert_eq!(f.package_name.as_deref(), Some("x"));
        let src = "setup(install_requires=[f'torch=={V}'])";
        assert_eq!(parse_setup_py(src, "setup.py").warnings.len(), 1);
        let src = "setup(install_requires=[r for r in open('r.txt')])";
        assert_eq!(parse_setup_py(src, "setup.py").warnings.len(), 1);
    }

    #[test]
    fn install_requires_through_a_name() {
        let src = "REQS = [\n  'torch==2.2.0',\n]\nsetup(name='x', install_requires=REQS)\n";
        let f = parse_setup_py(src, "setup.py");
        assert_eq!(f.warnings, vec![]);
        assert_eq!(f.requirements[0].pinned.as_deref(), Some("2.2.0"));
        assert_eq!(f.requirements[0].source.line, Some(2));
    }

    #[test]
    fn cuda_extension_detection() {
        assert_eq!(cuda_extension_line("from torch.utils.cpp_extension import CppExtension, BuildExtension\n"), None);
        assert_eq!(cuda_extension_line("x = 1\nfrom torch.utils import cpp_extension\ncmd = {'build_ext': cpp_extension.BuildExtension}\n"), Some(3));
        assert_eq!(cuda_extension_line("# CUDAExtension in a comment\nsetup()\n"), None);
        assert_eq!(cuda_extension_line("s = 'CUDAExtension'\n"), None);
    }

    #[test]
    fn strings_and_lines() {
        let toks = tokenize("a = '''x\ny''' # c\nb = \"q\\\"z\"\nc = rb'\\d'\n");
        let strs: Vec<_> = toks.iter().filter_map(|t| match &t.tok { Tok::Str(s) => Some((s.clone(), t.line)), _ => None }).collect();
        assert_eq!(strs, vec![(Some("x\ny".into()), 1), (Some("q\"z".into()), 3), (Some("\\d".into()), 4)]);
    }

    const SETUP_CFG: &str = "[metadata]
name = detector

[options]
packages = find:
python_requires = >=3.8
install_requires =
    torch>=1.13
    torchvision
    # a comment
    opencv-python-headless ; sys_platform == \"linux\"

[options.extras_require]
dev =
    pytest
onnx = onnxruntime-gpu>=1.16

[flake8]
max-line-length = 100
";

    #[test]
    fn setup_cfg() {
        let (f, meta) = parse_setup_cfg(SETUP_CFG, "setup.cfg");
        assert!(meta);
        assert_eq!(f.warnings, vec![]);
        let got: Vec<_> = f.requirements.iter().map(|r| (r.name.as_str(), r.group.as_str(), r.source.line.unwrap())).collect();
        assert_eq!(
            got,
            [
                ("torch", "main", 8),
                ("torchvision", "main", 9),
                ("opencv-python-headless", "main", 11),
                ("pytest", "dev", 15),
                ("onnxruntime-gpu", "onnx", 16)
            ]
        );
        assert_eq!(f.python[0].specifier, ">=3.8");
        assert_eq!(f.python[0].source.line, Some(6));
        let (_, meta) = parse_setup_cfg("[flake8]\nmax-line-length = 100\n", "setup.cfg");
        assert!(!meta);
    }
}
