//! PURE: which of the engine's two image builders `up` asks for.
//!
//! BuildKit is what `docker buildx build` uses, what the docker CLI uses by default since Docker 23, and so what
//! VS Code's Dev Containers extension gets wherever buildx is installed. Docker's engine has served it through its
//! API since 18.09 (API 1.39), with or without buildx on the machine: devgpu talks to it directly, so Debian's
//! `docker.io` (CLI without buildx) builds with BuildKit too. It runs a step in a snapshot instead of committing a
//! layer per instruction, caches per step across stages, and knows `RUN --mount`; measured in
//! `bench/uv-vs-pip.sh`.
//!
//! The classic builder stays for what has no BuildKit: Podman's Docker-compatible API (Podman builds with Buildah
//! and ignores `version=2`), engines older than API 1.39, and anyone who sets `DOCKER_BUILDKIT=0` (the docker CLI's
//! own switch, honoured the same way).

/// The builder a build goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageBuilder {
    BuildKit,
    Classic { why: String },
}

impl ImageBuilder {
    pub fn is_buildkit(&self) -> bool {
        matches!(self, ImageBuilder::BuildKit)
    }

    /// One line for the progress output.
    pub fn describe(&self) -> String {
        match self {
            ImageBuilder::BuildKit => "BuildKit (the engine's, through its API)".into(),
            ImageBuilder::Classic { why } => format!("the classic builder ({why})"),
        }
    }
}

/// What the choice depends on.
#[derive(Debug, Clone, Default)]
pub struct EngineBuildFacts<'a> {
    /// Podman's Docker-compatible service.
    pub podman: bool,
    /// The API version the engine speaks (`/version`), e.g. `1.41`.
    pub api_version: Option<&'a str>,
    /// `DOCKER_BUILDKIT` from devgpu's environment.
    pub docker_buildkit: Option<&'a str>,
    /// `build.options` has `--shm-size`: the engine's BuildKit leaves RUN steps the default 64 MB of /dev/shm (seen
    /// with Docker 20.10), the classic builder gives them the size asked for.
    pub shm_size: bool,
}

/// The first API version with BuildKit builds (Docker 18.09).
const BUILDKIT_API: (u32, u32) = (1, 39);

pub fn choose(facts: &EngineBuildFacts) -> ImageBuilder {
    let classic = |why: &str| ImageBuilder::Classic { why: why.to_string() };
    if facts.podman {
        return classic("Podman's Docker-compatible API builds with Buildah, not BuildKit");
    }
    // The docker CLI's parsing: a boolean (`strconv.ParseBool`); anything else it rejects, here it is ignored.
    if let Some("0" | "f" | "false") = facts.docker_buildkit.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        return classic("DOCKER_BUILDKIT=0 asks for it");
    }
    if facts.shm_size {
        return classic("build.options' --shm-size reaches RUN steps only there");
    }
    match facts.api_version.and_then(parse_api) {
        Some(v) if v < BUILDKIT_API => classic(&format!("the engine's API {}.{} is older than 1.39, the first with BuildKit", v.0, v.1)),
        _ => ImageBuilder::BuildKit,
    }
}

fn parse_api(v: &str) -> Option<(u32, u32)> {
    let (a, b) = v.trim().split_once('.')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// The classic builder's step line (after `Step `) as errors name it: `2/4 : RUN make` → ``step 2/4 `RUN make` ``.
pub fn classic_step_label(after_step: &str) -> String {
    match after_step.split_once(" : ") {
        Some((n, instruction)) => format!("step {n} `{instruction}`"),
        None => format!("step {after_step}"),
    }
}

/// A BuildKit step's name as the classic builder's step line reads in errors: `[2/3] RUN make` → ``step 2/3 `RUN make` ``,
/// `[builder 2/5] COPY . .` → ``step builder 2/5 `COPY . .` ``; internal steps (`[internal] load metadata …`) as they are.
pub fn step_label(vertex_name: &str) -> String {
    if let Some(rest) = vertex_name.strip_prefix('[') {
        if let Some((n, instruction)) = rest.split_once("] ") {
            if n.split(' ').next_back().is_some_and(|c| c.contains('/') && c.split('/').all(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))) {
                return format!("step {n} `{instruction}`");
            }
        }
    }
    vertex_name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(podman: bool, api: Option<&'static str>, env: Option<&'static str>) -> ImageBuilder {
        choose(&EngineBuildFacts { podman, api_version: api, docker_buildkit: env, shm_size: false })
    }

    #[test]
    fn docker_gets_buildkit_unless_told_otherwise() {
        assert_eq!(facts(false, Some("1.41"), None), ImageBuilder::BuildKit);
        assert_eq!(facts(false, Some("1.39"), None), ImageBuilder::BuildKit);
        assert_eq!(facts(false, None, None), ImageBuilder::BuildKit);
        assert_eq!(facts(false, Some("1.41"), Some("1")), ImageBuilder::BuildKit);
        for off in ["0", "false", "FALSE", " f "] {
            assert!(!facts(false, Some("1.41"), Some(off)).is_buildkit(), "{off}");
        }
        assert!(facts(false, Some("1.38"), None).describe().contains("older than 1.39"));
    }

    #[test]
    fn a_build_shm_size_gets_the_classic_builder() {
        let b = choose(&EngineBuildFacts { api_version: Some("1.41"), shm_size: true, ..Default::default() });
        assert!(b.describe().contains("--shm-size"), "{b:?}");
    }

    #[test]
    fn podman_always_gets_the_classic_builder() {
        assert!(!facts(true, Some("1.41"), Some("1")).is_buildkit());
        assert!(facts(true, Some("1.41"), None).describe().contains("Buildah"));
    }

    #[test]
    fn step_labels_read_like_the_classic_builders() {
        assert_eq!(classic_step_label("2/3 : RUN make"), "step 2/3 `RUN make`");
        assert_eq!(classic_step_label("2/3"), "step 2/3");
        assert_eq!(step_label("[2/3] RUN make"), "step 2/3 `RUN make`");
        assert_eq!(step_label("[builder 2/5] COPY . ."), "step builder 2/5 `COPY . .`");
        assert_eq!(step_label("[internal] load metadata for docker.io/library/x:1"), "[internal] load metadata for docker.io/library/x:1");
        assert_eq!(step_label("exporting to image"), "exporting to image");
    }
}
