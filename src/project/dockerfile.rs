//! Dockerfiles at the root (`Dockerfile`, `Dockerfile.*`, `*.Dockerfile`) and in `.devcontainer/`:
//! every `FROM` image with its line. `FROM scratch` and `FROM <earlier stage>` are skipped; `ARG`s
//! declared before the first `FROM` are substituted (`${NAME}`, `$NAME`, `${NAME:-default}`); a variable
//! without a known value is left as written. `--platform=…` and `AS name` are handled; continuation
//! lines are joined (with the escape character of a `# escape=` directive); comment lines are dropped.

use crate::model::project::{DockerfileFacts, FromImage};

use crate::render::GENERATED_MARKER;

/// Whether a root-level file name is a Dockerfile: `Dockerfile`, `Dockerfile.gpu`, `gpu.Dockerfile`
/// (case-insensitive, also `dockerfile`).
pub fn is_dockerfile_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".dockerignore") {
        return false; // `Dockerfile.dockerignore`: BuildKit's per-Dockerfile ignore file
    }
    lower == "dockerfile" || (lower.starts_with("dockerfile.") && lower.len() > 11) || (lower.ends_with(".dockerfile") && lower.len() > 11)
}

/// Instructions with the line they start on: continuations joined, comments and blank lines dropped.
fn instructions(text: &str) -> Vec<(usize, String)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // parser directives: `# escape=`` ` before any instruction
    let mut escape = '\\';
    for line in text.lines() {
        let t = line.trim();
        let Some(d) = t.strip_prefix('#') else { break };
        let d = d.trim();
        if let Some((k, v)) = d.split_once('=') {
            if k.trim().eq_ignore_ascii_case("escape") {
                escape = v.trim().chars().next().unwrap_or('\\');
            }
        } else {
            break;
        }
    }
    let mut out = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let trimmed = line.trim();
        if trimmed.starts_with('#') || (trimmed.is_empty() && pending.is_none()) {
            continue;
        }
        let (body, continues) = match trimmed.strip_suffix(escape) {
            Some(b) => (b, true),
            None => (trimmed, false),
        };
        match pending.as_mut() {
            Some((_, acc)) => {
                acc.push(' ');
                acc.push_str(body);
            }
            None => pending = Some((n, body.to_string())),
        }
        if !continues {
            out.push(pending.take().unwrap());
        }
    }
    if let Some(p) = pending {
        out.push(p);
    }
    out
}

/// Substitute `${NAME}`, `${NAME:-default}`, `${NAME:+alt}` and `$NAME` from `args`; unknown names stay.
fn substitute(s: &str, args: &[(String, String)]) -> String {
    let lookup = |n: &str| args.iter().rev().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(inner) = after.strip_prefix('{') {
            if let Some(end) = inner.find('}') {
                let expr = &inner[..end];
                let (name, modifier) = match expr.find(':') {
                    Some(j) => (&expr[..j], Some(&expr[j..])),
                    None => (expr, None),
                };
                let value = lookup(name).filter(|v| !v.is_empty());
                let replaced = match (modifier, value) {
                    (Some(m), v) if m.starts_with(":-") => Some(v.unwrap_or_else(|| m[2..].to_string())),
                    (Some(m), v) if m.starts_with(":+") => Some(if v.is_some() { m[2..].to_string() } else { String::new() }),
                    (None, Some(v)) => Some(v),
                    _ => None,
                };
                match replaced {
                    Some(v) => out.push_str(&v),
                    None => out.push_str(&rest[i..i + 2 + end + 1]),
                }
                rest = &inner[end + 1..];
                continue;
            }
        }
        let name_len = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
        let name = &after[..name_len];
        match lookup(name).filter(|_| !name.is_empty()) {
            Some(v) => out.push_str(&v),
            None => out.push_str(&rest[i..i + 1 + name_len]),
        }
        rest = &after[name_len..];
    }
    out.push_str(rest);
    out
}

fn unquote(s: &str) -> String {
    let s = s.trim();
    if s.len() >= 2 && ((s.starts_with('"') && s.ends_with('"')) || (s.starts_with('\'') && s.ends_with('\''))) {
        s[1..s.len() - 1].to_string()
    } else {
        s.to_string()
    }
}

/// Parse a Dockerfile; `path` is its root-relative path.
pub fn parse_dockerfile(text: &str, path: &str) -> DockerfileFacts {
    let mut args: Vec<(String, String)> = Vec::new();
    let mut stages: Vec<String> = Vec::new();
    let mut from = Vec::new();
    let mut seen_from = false;
    for (line, instr) in instructions(text) {
        let (keyword, rest) = match instr.split_once(char::is_whitespace) {
            Some((k, r)) => (k.to_ascii_uppercase(), r.trim()),
            None => (instr.to_ascii_uppercase(), ""),
        };
        match keyword.as_str() {
            "ARG" if !seen_from => {
                for decl in rest.split_whitespace() {
                    if let Some((k, v)) = decl.split_once('=') {
                        args.push((k.to_string(), unquote(v)));
                    }
                }
            }
            "FROM" => {
                seen_from = true;
                let words: Vec<&str> = rest.split_whitespace().filter(|w| !w.starts_with("--")).collect();
                let Some(image) = words.first() else { continue };
                if words.len() >= 3 && words[1].eq_ignore_ascii_case("as") {
                    stages.push(words[2].to_ascii_lowercase());
                }
                let image = substitute(image, &args);
                let lower = image.to_ascii_lowercase();
                let is_stage = stages.iter().rev().skip(if words.len() >= 3 { 1 } else { 0 }).any(|s| *s == lower);
                if lower == "scratch" || is_stage {
                    continue;
                }
                from.push(FromImage { image, line });
            }
            _ => {}
        }
    }
    DockerfileFacts { path: path.to_string(), from, generated_by_devgpu: text.contains(GENERATED_MARKER) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn images(text: &str) -> Vec<(String, usize)> {
        parse_dockerfile(text, "Dockerfile").from.into_iter().map(|f| (f.image, f.line)).collect()
    }

    #[test]
    fn the_classic_seed() {
        let t = "FROM nvidia/cuda:10.2-cudnn7-devel-ubuntu18.04\nRUN apt-get update\n";
        assert_eq!(images(t), [("nvidia/cuda:10.2-cudnn7-devel-ubuntu18.04".to_string(), 1)]);
        assert!(!parse_dockerfile(t, "Dockerfile").generated_by_devgpu);
    }

    #[test]
    fn args_stages_platforms_continuations() {
        let t = r#"# syntax=docker/dockerfile:1
ARG CUDA_VERSION=12.4.1
ARG UBUNTU="22.04"
ARG FLAVOR
FROM --platform=linux/amd64 nvidia/cuda:${CUDA_VERSION}-cudnn-devel-ubuntu${UBUNTU} AS builder
RUN echo building \
    && make
ARG INSIDE=ignored
FROM \
  nvidia/cuda:$CUDA_VERSION-runtime-ubuntu${UBUNTU}
COPY --from=builder /out /out
FROM builder AS test
FROM scratch AS export
FROM python:${PY:-3.11}-slim
FROM nvidia/cuda:${FLAVOR}
"#;
        assert_eq!(
            images(t),
            [
                ("nvidia/cuda:12.4.1-cudnn-devel-ubuntu22.04".to_string(), 5),
                ("nvidia/cuda:12.4.1-runtime-ubuntu22.04".to_string(), 9),
                ("python:3.11-slim".to_string(), 14),
                ("nvidia/cuda:${FLAVOR}".to_string(), 15),
            ]
        );
    }

    #[test]
    fn marker_and_escape_directive() {
        let t = "# Generated by devgpu 0.1.0 — edit freely\nFROM nvidia/cuda:12.6.3-base-ubuntu24.04\n";
        let f = parse_dockerfile(t, ".devcontainer/Dockerfile");
        assert!(f.generated_by_devgpu);
        assert_eq!(f.path, ".devcontainer/Dockerfile");
        let t = "# escape=`\nFROM `\n  nvidia/cuda:12.1.1-devel-ubuntu22.04\n";
        assert_eq!(images(t), [("nvidia/cuda:12.1.1-devel-ubuntu22.04".to_string(), 2)]);
    }

    #[test]
    fn names() {
        assert!(is_dockerfile_name("Dockerfile"));
        assert!(is_dockerfile_name("Dockerfile.gpu"));
        assert!(is_dockerfile_name("cuda.Dockerfile"));
        assert!(is_dockerfile_name("dockerfile"));
        assert!(!is_dockerfile_name("Dockerfile."));
        assert!(!is_dockerfile_name("docker-compose.yml"));
        assert!(!is_dockerfile_name(".dockerignore"));
        assert!(!is_dockerfile_name("Dockerfile.dockerignore"));
    }
}
