//! Evidence that the repository compiles CUDA code, so the image needs nvcc (`devel`):
//! `.cu`/`.cuh` files, CMake that enables CUDA, setup.py `CUDAExtension` (see `setup_py`), and
//! dependencies that compile CUDA when pip installs them ([`BUILDS_FROM_SOURCE`]).

use crate::model::project::{CudaSource, CudaSourceKind, OtherRequirement, Requirement};

/// At most this many file hits (`.cu`, CMake, setup.py) are recorded; one is enough to need `devel`.
pub const MAX_FILE_HITS: usize = 20;

/// Dependencies that compile CUDA code at install time (no usable Linux wheel on PyPI for the common
/// torch/CUDA combinations, so pip builds them with nvcc):
/// - `flash-attn`: sdist only on PyPI; setup.py builds with nvcc (or fetches a GitHub release wheel).
/// - `apex`: NVIDIA apex is installed from git and built with `--cuda_ext`.
/// - `causal-conv1d`, `mamba-ssm`: sdists that build CUDA kernels (Mamba).
/// - `pytorch3d`: no Linux wheels on PyPI; builds from source with CUDA.
pub const BUILDS_FROM_SOURCE: &[&str] = &["flash-attn", "apex", "causal-conv1d", "mamba-ssm", "pytorch3d"];

/// The kind of a file found by the walk, by its name alone (`.cu`, `.cuh`).
pub fn cuda_file_kind(file_name: &str) -> Option<CudaSourceKind> {
    let lower = file_name.to_ascii_lowercase();
    (lower.ends_with(".cu") || lower.ends_with(".cuh")).then_some(CudaSourceKind::CuFile)
}

/// The 1-based line where a CMakeLists.txt turns CUDA on: `enable_language(CUDA)`,
/// `project(… LANGUAGES … CUDA …)` / `project(name CXX CUDA)`, `find_package(CUDAToolkit …)`,
/// `find_package(CUDA …)` or `check_language(CUDA)` (all of which compile or link against the toolkit).
pub fn cmake_cuda_line(text: &str) -> Option<usize> {
    if !text.contains("CUDA") {
        return None;
    }
    for (name, args, line) in cmake_commands(text) {
        let args_upper: Vec<String> = args.iter().map(|a| a.to_ascii_uppercase()).collect();
        let hit = match name.as_str() {
            "enable_language" | "check_language" => args_upper.iter().any(|a| a == "CUDA"),
            // project(<name> [VERSION x] [LANGUAGES] <lang>...) — any argument after the name equal to CUDA
            "project" => args_upper.iter().skip(1).any(|a| a == "CUDA"),
            "find_package" => args_upper.first().is_some_and(|a| a == "CUDATOOLKIT" || a == "CUDA"),
            _ => false,
        };
        if hit {
            return Some(line);
        }
    }
    None
}

/// CMake command invocations: (lower-case name, arguments, line of the name).
fn cmake_commands(text: &str) -> Vec<(String, Vec<String>, usize)> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let mut line = 1;
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c == '#' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let name: String = chars[start..i].iter().collect::<String>().to_ascii_lowercase();
            let name_line = line;
            let mut j = i;
            while j < chars.len() && (chars[j] == ' ' || chars[j] == '\t') {
                j += 1;
            }
            if j < chars.len() && chars[j] == '(' {
                // arguments up to the matching ')', skipping comments and quoted strings
                let mut depth = 0;
                let mut args = Vec::new();
                let mut cur = String::new();
                let mut k = j;
                while k < chars.len() {
                    let ch = chars[k];
                    match ch {
                        '(' => {
                            depth += 1;
                            if depth > 1 {
                                cur.push(ch)
                            }
                        }
                        ')' => {
                            depth -= 1;
                            if depth == 0 {
                                k += 1;
                                break;
                            }
                            cur.push(ch);
                        }
                        '#' => {
                            while k < chars.len() && chars[k] != '\n' {
                                k += 1;
                            }
                            continue;
                        }
                        '"' => {
                            k += 1;
                            while k < chars.len() && chars[k] != '"' {
                                if chars[k] == '\n' {
                                    line += 1;
                                }
                                if chars[k] == '\\' {
                                    k += 1;
                                }
                                cur.push(*chars.get(k).unwrap_or(&' '));
                                k += 1;
                            }
                        }
                        c if c.is_whitespace() => {
                            if c == '\n' {
                                line += 1;
                            }
                            if !cur.is_empty() {
                                args.push(std::mem::take(&mut cur));
                            }
                        }
                        c => cur.push(c),
                    }
                    k += 1;
                }
                if !cur.is_empty() {
                    args.push(cur);
                }
                out.push((name, args, name_line));
                i = k;
            }
        } else {
            i += 1;
        }
    }
    out
}

/// Requirements (and git/path requirements with a known name) that compile CUDA when installed.
pub fn builds_from_source(requirements: &[Requirement], other: &[OtherRequirement]) -> Vec<CudaSource> {
    let mut out = Vec::new();
    for r in requirements {
        // a wheel URL installs a prebuilt wheel: nothing to compile
        let wheel = r.raw.ends_with(".whl");
        if BUILDS_FROM_SOURCE.contains(&r.name.as_str()) && !wheel {
            out.push(CudaSource { kind: CudaSourceKind::BuildsFromSource, source: r.source.clone() });
        }
    }
    for o in other {
        if o.name.as_deref().is_some_and(|n| BUILDS_FROM_SOURCE.contains(&n)) && !o.raw.ends_with(".whl") {
            out.push(CudaSource { kind: CudaSourceKind::BuildsFromSource, source: o.source.clone() });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::pep508::{loc, parse_requirement};

    #[test]
    fn cu_files() {
        assert_eq!(cuda_file_kind("kernel.cu"), Some(CudaSourceKind::CuFile));
        assert_eq!(cuda_file_kind("common.cuh"), Some(CudaSourceKind::CuFile));
        assert_eq!(cuda_file_kind("menu.py"), None);
        assert_eq!(cuda_file_kind("x.cuda"), None);
    }

    #[test]
    fn cmake() {
        let t = "cmake_minimum_required(VERSION 3.18)\nproject(fused\n  VERSION 0.1\n  LANGUAGES CXX CUDA)\n";
        assert_eq!(cmake_cuda_line(t), Some(2));
        assert_eq!(cmake_cuda_line("project(x CXX)\n# enable_language(CUDA)\n"), None);
        assert_eq!(cmake_cuda_line("project(x CXX)\nif(USE_GPU)\n  enable_language(CUDA)\nendif()\n"), Some(3));
        assert_eq!(cmake_cuda_line("PROJECT(x C CXX CUDA)"), Some(1));
        assert_eq!(cmake_cuda_line("project(CUDA_helpers CXX)\n"), None);
        assert_eq!(cmake_cuda_line("message(\"no CUDA here\")\nfind_package(CUDAToolkit REQUIRED)\n"), Some(2));
        assert_eq!(cmake_cuda_line("set(X \"(\")\nproject(a LANGUAGES CUDA)"), Some(2));
    }

    #[test]
    fn source_builds() {
        let reqs: Vec<_> = ["flash-attn==2.6.3", "Flash_Attn", "torch", "apex"]
            .iter()
            .enumerate()
            .map(|(i, r)| parse_requirement(r, "main", loc("requirements.txt", i + 1)).unwrap())
            .collect();
        let hits = builds_from_source(&reqs, &[]);
        let lines: Vec<_> = hits.iter().map(|h| h.source.line.unwrap()).collect();
        assert_eq!(lines, [1, 2, 4]);
        assert!(hits.iter().all(|h| h.kind == CudaSourceKind::BuildsFromSource));
    }
}
