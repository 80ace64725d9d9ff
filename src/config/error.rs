//! What can go wrong reading or editing a devcontainer.json, with the place (file:line:column) and the fix.

use crate::error::{Coded, ErrorCode};

/// An error reading or editing a devcontainer.json (or any JSONC file handed to [`super::parse_jsonc`]).
///
/// Lines and columns are 1-based; columns count characters (a tab is one column), as editors show them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The text is not valid JSONC (JSON with comments and trailing commas, as VS Code reads devcontainer.json).
    #[error("{file}:{line}:{column}: invalid JSONC: {message}")]
    Syntax { file: String, line: usize, column: usize, message: String, hint: String },

    /// Nothing but whitespace and comments.
    #[error("{file} holds no JSON value (it is empty or only comments)")]
    Empty { file: String },

    /// The top-level value is not an object.
    #[error(
        "{file}:{line}:{column}: a devcontainer.json must be one JSON object ({{ … }}) at the top level, found {found}"
    )]
    NotObject { file: String, line: usize, column: usize, found: &'static str },

    /// A property devgpu has to read or edit has the wrong type.
    #[error("{file}:{line}:{column}: `{path}` must be {expected}, found {found}")]
    WrongType { file: String, line: usize, column: usize, path: String, expected: &'static str, found: &'static str },

    /// A property devgpu has to read or edit is written twice in the same object (readers disagree on which wins).
    #[error("{file}:{line}:{column}: `{path}` is written more than once in the same object")]
    DuplicateKey { file: String, line: usize, column: usize, path: String, first_line: usize, first_column: usize },

    /// A Docker Compose based config: the container comes from a compose service, which devgpu does not edit.
    #[error("{file}:{line}:{column}: this devcontainer.json uses Docker Compose (`dockerComposeFile`); devgpu does not edit Compose-based configs, so nothing was changed")]
    ComposeUnsupported { file: String, line: usize, column: usize, service: Option<String> },

    /// The compose file a Compose config names cannot be edited (see [`super::compose_yaml`]).
    #[error(transparent)]
    Compose(#[from] super::compose_yaml::ComposeYamlError),
}

impl ConfigError {
    /// The file the error is about, as the caller named it.
    pub fn file(&self) -> &str {
        match self {
            ConfigError::Syntax { file, .. }
            | ConfigError::Empty { file }
            | ConfigError::NotObject { file, .. }
            | ConfigError::WrongType { file, .. }
            | ConfigError::DuplicateKey { file, .. }
            | ConfigError::ComposeUnsupported { file, .. } => file,
            ConfigError::Compose(e) => e.file(),
        }
    }

    /// 1-based (line, column) of the error, where it has one.
    pub fn position(&self) -> Option<(usize, usize)> {
        match self {
            ConfigError::Syntax { line, column, .. }
            | ConfigError::NotObject { line, column, .. }
            | ConfigError::WrongType { line, column, .. }
            | ConfigError::DuplicateKey { line, column, .. }
            | ConfigError::ComposeUnsupported { line, column, .. } => Some((*line, *column)),
            ConfigError::Empty { .. } => None,
            ConfigError::Compose(e) => e.position(),
        }
    }
}

impl Coded for ConfigError {
    fn code(&self) -> ErrorCode {
        match self {
            ConfigError::Syntax { .. } => ErrorCode::JsoncSyntax,
            ConfigError::Empty { .. } => ErrorCode::JsoncEmpty,
            ConfigError::NotObject { .. } => ErrorCode::DevcontainerNotObject,
            ConfigError::WrongType { .. } => ErrorCode::DevcontainerWrongType,
            ConfigError::DuplicateKey { .. } => ErrorCode::DevcontainerDuplicateKey,
            ConfigError::ComposeUnsupported { .. } => ErrorCode::DevcontainerComposeUnsupported,
            ConfigError::Compose(e) => e.code(),
        }
    }

    fn hints(&self) -> Vec<String> {
        match self {
            ConfigError::Syntax { hint, .. } => vec![hint.clone()],
            ConfigError::Empty { file } => vec![format!(
                "write the configuration as one JSON object in {file}, e.g. {{ \"name\": \"dev\" }}, or delete the file and run `devgpu init` to write a new one"
            )],
            ConfigError::NotObject { file, line, column, .. } => vec![format!(
                "wrap the settings at {file}:{line}:{column} in one object: {{ \"image\": \"…\", \"runArgs\": [ … ] }}"
            )],
            ConfigError::WrongType { file, line, column, path, expected, .. } => {
                vec![format!("change `{path}` at {file}:{line}:{column} to {expected}{}", example_for(path))]
            }
            ConfigError::DuplicateKey { file, line, column, path, first_line, first_column } => vec![format!(
                "keep one `{path}`: merge the one at {file}:{line}:{column} into the one at {file}:{first_line}:{first_column} and delete it"
            )],
            ConfigError::ComposeUnsupported { file, service, .. } => {
                let service = service.as_deref().unwrap_or("<service>");
                vec![
                    format!(
                        "request the GPU in the compose file for service `{service}` instead: under `services: {service}:` add \
                         `deploy: {{ resources: {{ reservations: {{ devices: [ {{ driver: nvidia, count: all, capabilities: [gpu] }} ] }} }} }}`"
                    ),
                    format!("then reopen the folder in the container; {file} itself needs no change"),
                ]
            }
            ConfigError::Compose(e) => e.hints(),
        }
    }
}

/// A short example of the expected shape for the properties devgpu edits.
fn example_for(path: &str) -> &'static str {
    match path {
        "runArgs" => ", e.g. \"runArgs\": [\"--gpus\", \"all\"]",
        "customizations" => ", e.g. \"customizations\": { \"vscode\": { \"extensions\": [] } }",
        "customizations.vscode" => ", e.g. \"vscode\": { \"extensions\": [] }",
        "customizations.vscode.extensions" => ", e.g. \"extensions\": [\"ms-python.python\"]",
        "hostRequirements" => ", e.g. \"hostRequirements\": { \"gpu\": true }",
        "build" => ", e.g. \"build\": { \"dockerfile\": \"Dockerfile\", \"context\": \"..\" }",
        "build.args" => ", e.g. \"args\": { \"PYTHON_VERSION\": \"3.12\" }",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable_kebab_case() {
        let e = ConfigError::Empty { file: "f".into() };
        assert_eq!(e.code(), "jsonc-empty");
        let e = ConfigError::ComposeUnsupported { file: "f".into(), line: 1, column: 2, service: Some("app".into()) };
        assert_eq!(e.code(), "devcontainer-compose-unsupported");
        assert!(e.hints()[0].contains("driver: nvidia, count: all, capabilities: [gpu]"), "{:?}", e.hints());
        assert!(e.hints()[0].contains("`app`"));
        assert_eq!(e.position(), Some((1, 2)));
        assert!(e.is_user_error());
    }

    #[test]
    fn wrong_type_names_place_and_fix() {
        let e = ConfigError::WrongType {
            file: ".devcontainer/devcontainer.json".into(),
            line: 3,
            column: 14,
            path: "runArgs".into(),
            expected: "an array of strings",
            found: "a string",
        };
        assert_eq!(
            e.to_string(),
            ".devcontainer/devcontainer.json:3:14: `runArgs` must be an array of strings, found a string"
        );
        assert_eq!(e.code(), "devcontainer-wrong-type");
        assert!(e.hints()[0].contains(".devcontainer/devcontainer.json:3:14"));
        assert!(e.hints()[0].contains("[\"--gpus\", \"all\"]"));
    }

    #[test]
    fn cli_error_carries_code_and_hints() {
        let e = ConfigError::NotObject { file: "d.json".into(), line: 1, column: 1, found: "an array" };
        let cli: crate::error::CliError = e.into();
        assert_eq!(cli.code, "devcontainer-not-object");
        assert!(!cli.hints.is_empty());
        assert!(!cli.internal);
    }
}
