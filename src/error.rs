//! The error every command ends with: a stable kebab-case code, a message, and hints with the exact fix.
//! Module errors (`thiserror` enums) implement [`Coded`]; `commands/` turns them into [`CliError`] through `?`.

use serde::Serialize;

/// What each module's error type tells the user beyond its message.
pub trait Coded: std::error::Error {
    /// Stable machine-readable code, e.g. `jsonc-syntax`.
    fn code(&self) -> &'static str;
    /// Exact fixes, one per line of advice.
    fn hints(&self) -> Vec<String> {
        Vec::new()
    }
    /// false for bugs and I/O failures devgpu cannot blame on the user's input (exit 2).
    fn is_user_error(&self) -> bool {
        true
    }
}

/// The error a command returns; carried through `anyhow` and recovered in `lib.rs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct CliError {
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hints: Vec<String>,
    #[serde(skip)]
    pub internal: bool,
}

impl CliError {
    pub fn user(code: &str, message: impl Into<String>, hints: Vec<String>) -> Self {
        CliError { code: code.to_string(), message: message.into(), hints, internal: false }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        CliError { code: "internal".to_string(), message: message.into(), hints: Vec::new(), internal: true }
    }

    /// Any error that reached the top: a [`CliError`] keeps its code; anything else is internal.
    pub fn from_anyhow(err: &anyhow::Error) -> Self {
        match err.downcast_ref::<CliError>() {
            Some(e) => e.clone(),
            None => CliError::internal(format!("{err:#}")),
        }
    }
}

impl<E: Coded> From<E> for CliError {
    fn from(e: E) -> Self {
        CliError { code: e.code().to_string(), message: e.to_string(), hints: e.hints(), internal: !e.is_user_error() }
    }
}
