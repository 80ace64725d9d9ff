//! FACTS (pure): the plain fact types the gathering edges fill and the pure core reads — the repository's facts
//! ([`project`]) and the host's ([`host`]). No I/O here and no imports from the edges, so `compat/`, `plan/`,
//! `checks/` and `render/` can take facts without depending on the code that gathers them
//! (`tests/architecture.rs` holds that line).

pub mod alternatives;
pub mod daemon_json;
pub(crate) mod daemon_scan;
pub mod progress;
pub mod project;
pub mod versions;
pub mod host;
