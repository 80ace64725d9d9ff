//! PURE: which install steps of the NVIDIA Container Toolkit fit this distribution, then the configure and
//! restart steps. The steps are data (`templates/toolkit/steps.toml`, with NVIDIA's install guide as the source).

use crate::error::{Coded, ErrorCode};
use crate::model::host::OsRelease;
use serde::{Deserialize, Serialize};

/// The built-in steps data.
pub const STEPS_TOML: &str = include_str!("../../templates/toolkit/steps.toml");

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ToolkitData {
    /// NVIDIA's install guide.
    pub source: String,
    /// NVIDIA's list of supported platforms.
    pub platforms: String,
    /// Replaces the configure step (only test data sets it).
    #[serde(default)]
    pub configure: Option<String>,
    /// Replaces the restart step (only test data sets it).
    #[serde(default)]
    pub restart: Option<String>,
    pub family: Vec<Family>,
}

/// One package manager's steps.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Family {
    pub id: String,
    pub name: String,
    #[serde(rename = "match")]
    pub matches: Vec<String>,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Step {
    pub title: String,
    /// A shell command line (run with `bash -eo pipefail -c`).
    pub run: String,
}

/// What `install-toolkit` prints or runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolkitPlan {
    pub distribution: OsRelease,
    /// The family chosen and the os-release name that chose it.
    pub family: String,
    pub family_name: String,
    pub matched_by: String,
    pub source: String,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ToolkitError {
    /// `distribution` reads e.g. "Arch Linux (ID=arch)".
    #[error("devgpu has no install steps for {distribution}; known: {known}")]
    UnknownDistribution { distribution: String, known: String, guide: String, platforms: String },
    #[error("the toolkit steps data is invalid: {0}")]
    BadData(String),
}

impl Coded for ToolkitError {
    fn code(&self) -> ErrorCode {
        match self {
            ToolkitError::UnknownDistribution { .. } => ErrorCode::UnknownDistribution,
            ToolkitError::BadData(_) => ErrorCode::ToolkitStepsInvalid,
        }
    }

    fn hints(&self) -> Vec<String> {
        match self {
            ToolkitError::UnknownDistribution { guide, platforms, .. } => vec![
                format!("NVIDIA's install guide: {guide}"),
                format!("the distributions NVIDIA supports: {platforms}"),
                "after installing the toolkit, run `sudo devgpu host configure-docker` and restart Docker".to_string(),
            ],
            ToolkitError::BadData(_) => Vec::new(),
        }
    }
}

/// Parses steps data (the built-in [`STEPS_TOML`] or a file given for testing).
pub fn parse_steps(text: &str) -> Result<ToolkitData, ToolkitError> {
    let data: ToolkitData = toml::from_str(text).map_err(|e| ToolkitError::BadData(e.to_string()))?;
    if data.family.iter().any(|f| f.steps.is_empty() || f.matches.is_empty()) {
        return Err(ToolkitError::BadData("every family needs `match` names and steps".to_string()));
    }
    Ok(data)
}

/// The steps for `os`: its family's install steps, then `configure` (devgpu's own daemon.json edit) and `restart`.
/// The first family with a `match` name equal to `ID`, else to the first fitting `ID_LIKE` name, wins.
pub fn plan_toolkit(data: &ToolkitData, os: &OsRelease, configure: &str, restart: &str) -> Result<ToolkitPlan, ToolkitError> {
    let found = os.ids().find_map(|id| data.family.iter().find(|f| f.matches.iter().any(|m| m == id)).map(|f| (f, id.to_string())));
    let Some((family, matched_by)) = found else {
        let known = data.family.iter().map(|f| format!("{} — {}", f.name, f.matches.join(", "))).collect::<Vec<_>>().join("; ");
        return Err(ToolkitError::UnknownDistribution {
            distribution: format!(
                "{} (ID={}{})",
                os.display_name(),
                os.id,
                if os.id_like.is_empty() { String::new() } else { format!(", ID_LIKE={}", os.id_like.join(" ")) }
            ),
            known,
            guide: data.source.clone(),
            platforms: data.platforms.clone(),
        });
    };
    let mut steps = family.steps.clone();
    let configure = data.configure.as_deref().unwrap_or(configure);
    let restart = data.restart.as_deref().unwrap_or(restart);
    steps.push(Step { title: "Register the nvidia runtime in Docker's daemon.json (backed up, written atomically)".to_string(), run: configure.to_string() });
    steps.push(Step { title: "Restart Docker so it finds the runtime and the toolkit's hook".to_string(), run: restart.to_string() });
    Ok(ToolkitPlan {
        distribution: os.clone(),
        family: family.id.clone(),
        family_name: family.name.clone(),
        matched_by,
        source: data.source.clone(),
        steps,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::os_release::parse_os_release;

    fn plan(os_release: &str) -> Result<ToolkitPlan, ToolkitError> {
        plan_toolkit(&parse_steps(STEPS_TOML).unwrap(), &parse_os_release(os_release), "sudo devgpu host configure-docker", "sudo systemctl restart docker")
    }

    #[test]
    fn builtin_data_is_valid_and_signed() {
        let data = parse_steps(STEPS_TOML).unwrap();
        assert_eq!(data.family.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(), ["apt", "dnf", "zypper"]);
        assert!(data.source.starts_with("https://docs.nvidia.com/"));
        for f in &data.family {
            for s in &f.steps {
                assert!(!s.run.contains("apt-key"), "{}", s.run);
                assert!(!s.run.contains("curl -s -L"), "{}", s.run);
            }
        }
        let apt = &data.family[0];
        assert!(apt.steps.iter().any(|s| s.run.contains("signed-by=/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg")));
    }

    #[test]
    fn picks_the_family_by_id_then_id_like() {
        let p = plan("ID=ubuntu\nID_LIKE=debian\nVERSION_ID=\"24.04\"").unwrap();
        assert_eq!((p.family.as_str(), p.matched_by.as_str()), ("apt", "ubuntu"));
        assert_eq!(p.steps.len(), 7);
        assert_eq!(p.steps[5].run, "sudo devgpu host configure-docker");
        assert_eq!(p.steps[6].run, "sudo systemctl restart docker");
        let p = plan("ID=pop\nID_LIKE=\"ubuntu debian\"").unwrap();
        assert_eq!((p.family.as_str(), p.matched_by.as_str()), ("apt", "ubuntu"));
        assert_eq!(plan("ID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"").unwrap().family, "dnf");
        assert_eq!(plan("ID=amzn\nID_LIKE=\"centos rhel fedora\"").unwrap().family, "dnf");
        assert_eq!(plan("ID=\"opensuse-leap\"\nID_LIKE=\"suse opensuse\"").unwrap().family, "zypper");
    }

    #[test]
    fn unknown_distribution_lists_the_known_ones_and_nvidia_docs() {
        let e = plan("ID=arch\nPRETTY_NAME=\"Arch Linux\"").unwrap_err();
        let msg = e.to_string();
        assert!(msg.starts_with("devgpu has no install steps for Arch Linux (ID=arch); known: Debian"), "{msg}");
        assert!(msg.contains("opensuse-leap"), "{msg}");
        let hints = e.hints();
        assert!(hints[0].contains("install-guide.html") && hints[1].contains("supported-platforms.html"), "{hints:?}");
    }
}
