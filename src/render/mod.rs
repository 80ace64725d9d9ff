//! PURE: templates/ → the files `init` writes. Deterministic output (no dates, no host paths), so a second run
//! renders byte-identical files and the snapshot tests can pin them.

mod marker;
pub mod model;

pub use marker::{dockerfile_marker, is_unedited_devgpu_file, GENERATED_MARKER};
pub use model::{CudaBuild, DevcontainerModel, DockerfileModel, Installer, StripLines, UV_VERSION};

use minijinja::{context, Environment};
use std::sync::OnceLock;

pub const DOCKERIGNORE_BEGIN: &str = "# >>> devgpu: build context exclusions";
pub const DOCKERIGNORE_END: &str = "# <<< devgpu";

const DOCKERFILE_TEMPLATE: &str = include_str!("../../templates/Dockerfile.j2");
const DEVCONTAINER_TEMPLATE: &str = include_str!("../../templates/devcontainer.json.j2");
const DOCKERIGNORE_TEMPLATE: &str = include_str!("../../templates/dockerignore.j2");

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        let syntax = minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .keep_trailing_newline(true)
            .build()
            .expect("static syntax config");
        env.set_syntax(syntax);
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        env.add_template("Dockerfile", DOCKERFILE_TEMPLATE).expect("templates/Dockerfile.j2 parses");
        env.add_template("devcontainer.json", DEVCONTAINER_TEMPLATE).expect("templates/devcontainer.json.j2 parses");
        env.add_template(".dockerignore", DOCKERIGNORE_TEMPLATE).expect("templates/dockerignore.j2 parses");
        env
    })
}

fn render(name: &str, ctx: minijinja::Value) -> String {
    // The templates are part of the binary and every branch is covered by tests: a failure is a bug.
    env().get_template(name).and_then(|t| t.render(ctx)).unwrap_or_else(|e| panic!("rendering {name}: {e:#}"))
}

/// The Dockerfile, with its marker line carrying a hash of the body so later runs can tell whether it was edited.
pub fn dockerfile(m: &DockerfileModel) -> String {
    let body = render("Dockerfile", minijinja::Value::from(minijinja::value::Serde(m.template_context())));
    // The first line is `# {{ marker }}`; the marker is computed over everything after it.
    let rest = body.split_once('\n').map(|(_, r)| r).unwrap_or("");
    format!("# {}\n{}", dockerfile_marker(rest), rest)
}

/// A new devcontainer.json (JSONC with comments). Existing files are edited by `config::merge_gpu_settings` instead.
pub fn devcontainer_json(m: &DevcontainerModel) -> String {
    render("devcontainer.json", minijinja::Value::from(minijinja::value::Serde(m.template_context())))
}

/// devgpu's block of `.dockerignore` lines, between its begin/end markers. `keep` are paths the Dockerfile copies.
pub fn dockerignore_block(keep: &[String]) -> String {
    render(".dockerignore", context! { begin => DOCKERIGNORE_BEGIN, end => DOCKERIGNORE_END, keep => keep.to_vec() })
}

/// Put devgpu's block into an existing `.dockerignore`: replace the old block in place, or append one.
/// Lines outside the markers are the user's and stay as they are.
pub fn merge_dockerignore(existing: Option<&str>, block: &str) -> String {
    let Some(text) = existing.filter(|t| !t.is_empty()) else { return block.to_string() };
    if let Some(start) = text.find(DOCKERIGNORE_BEGIN) {
        if let Some(end_rel) = text[start..].find(DOCKERIGNORE_END) {
            let mut end = start + end_rel + DOCKERIGNORE_END.len();
            if text[end..].starts_with("\r\n") {
                end += 2;
            } else if text[end..].starts_with('\n') {
                end += 1;
            }
            return format!("{}{}{}", &text[..start], block, &text[end..]);
        }
    }
    let sep = if text.ends_with('\n') { "\n" } else { "\n\n" };
    format!("{text}{sep}{block}")
}

#[cfg(test)]
mod tests;
