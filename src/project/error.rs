//! The scan's fatal errors. Everything else the scan meets is a [`super::ScanWarning`].

use crate::error::{Coded, ErrorCode};
use std::path::PathBuf;

/// Why a repository could not be scanned at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProjectError {
    #[error("project folder {} does not exist", path.display())]
    NotFound { path: PathBuf },

    #[error("{} is not a folder", path.display())]
    NotADirectory { path: PathBuf },

    #[error("cannot read project folder {}: {message}", path.display())]
    Unreadable { path: PathBuf, message: String },

    /// `file` is relative to the project root; `line` and `column` are 1-based.
    #[error("{file}:{line}:{column}: invalid TOML: {message}")]
    TomlSyntax { file: String, line: usize, column: usize, message: String },

    /// `file` is relative to the project root; `line` and `column` are 1-based.
    #[error("{file}:{line}:{column}: invalid YAML: {message}")]
    YamlSyntax { file: String, line: usize, column: usize, message: String },
}

impl Coded for ProjectError {
    fn code(&self) -> ErrorCode {
        match self {
            ProjectError::NotFound { .. } => ErrorCode::ProjectNotFound,
            ProjectError::NotADirectory { .. } => ErrorCode::ProjectNotADirectory,
            ProjectError::Unreadable { .. } => ErrorCode::ProjectUnreadable,
            ProjectError::TomlSyntax { .. } => ErrorCode::TomlSyntax,
            ProjectError::YamlSyntax { .. } => ErrorCode::YamlSyntax,
        }
    }

    fn hints(&self) -> Vec<String> {
        match self {
            ProjectError::NotFound { path } => vec![format!(
                "check the path, or run `devgpu init` inside the repository (looked for {})",
                path.display()
            )],
            ProjectError::NotADirectory { path } => {
                let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
                vec![format!("pass the repository folder, not a file: `devgpu init {}`", parent.display())]
            }
            ProjectError::Unreadable { path, .. } => {
                vec![format!("check the folder's permissions: `ls -ld {}`", path.display())]
            }
            ProjectError::TomlSyntax { file, line, column, .. } => vec![
                format!("fix the TOML at {file}:{line}:{column} (quotes, brackets, `key = value`, a key defined twice), then run again"),
                format!("check it with `python3 -c \"import tomllib; tomllib.load(open('{file}', 'rb'))\"`"),
            ],
            ProjectError::YamlSyntax { file, line, column, .. } => vec![
                format!("fix the YAML at {file}:{line}:{column} (indentation with spaces, `- item` lists, `key: value`), then run again"),
                format!("check it with `python3 -c \"import yaml; yaml.safe_load(open('{file}'))\"`"),
            ],
        }
    }

    fn is_user_error(&self) -> bool {
        true
    }
}
