//! EDGE: reading daemon.json from disk. The parser and analyser are pure and live in
//! [`crate::model::daemon_json`] (re-exported here, so `host::daemon_json::…` paths stay valid).

pub use crate::model::daemon_json::*;
use std::path::Path;

/// Reads and parses daemon.json; `Ok(None)` when the file does not exist. An empty or whitespace-only file is
/// refused, as dockerd 20.10 refuses it (`EOF`).
pub fn read_daemon_json(path: &Path) -> Result<Option<DaemonJson>, DaemonJsonError> {
    let file = path.display().to_string();
    match std::fs::read(path) {
        Ok(bytes) => parse_daemon_json(&bytes, &file).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(DaemonJsonError::Read { file, source }),
    }
}
