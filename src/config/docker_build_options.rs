//! `build.options` read the way `docker build` reads them, into plain settings the builder maps onto the
//! Docker API's build request. The Dev Containers CLI appends these items to its own `docker build` (or
//! `docker buildx build`) command line, so a later `--target` or `--build-arg` wins over `build.target` and
//! `build.args`, as here.
//!
//! Applied: `--network`, `--add-host` (one: the build API takes a single value), `--build-arg`, `--label`/`-l`,
//! `--target`, `--no-cache`, `--pull`, `--platform`, `--shm-size`, `--cache-from`. Accepted with no effect on
//! the image: `--progress`, `--quiet`/`-q`, `--load` (how output is shown, or that the image lands in the local
//! store, which it always does here). The flags of buildx that need its client to serve or receive something
//! (`--secret`, `--ssh`, `--build-context`, `-o`, …) are beyond devgpu's BuildKit session, which serves only
//! registry credentials: they are refused with the official CLI as the way on, so that no image is built without
//! what the Dockerfile was written to receive. Any other flag is an error.

use super::docker_run_args::{invalid, parse_add_host, parse_label, parse_size, read_flags, FlagTable, FlagValue, Kind, RunArgsError};

/// What `build.options` ask of the build. Single-valued flags: the last wins.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BuildOptions {
    pub network: Option<String>,
    /// `host:ip`.
    pub add_host: Option<String>,
    /// `--build-arg NAME=VALUE`; `--build-arg NAME` takes the value from the environment of the command, as the
    /// docker CLI does (`None` here: resolved at the edge).
    pub build_args: Vec<(String, Option<String>)>,
    pub labels: Vec<(String, String)>,
    pub target: Option<String>,
    pub no_cache: bool,
    pub pull: bool,
    pub platform: Option<String>,
    pub shm_size: Option<i64>,
    pub cache_from: Vec<String>,
}

/// `docker buildx build` flags whose client side (secrets, ssh agent, contexts, outputs, …) devgpu's BuildKit session lacks.
const BUILDX_ONLY: &[&str] = &[
    "secret", "ssh", "build-context", "cache-to", "output", "builder", "allow", "attest", "sbom", "provenance", "push",
    "annotation", "call", "check", "metadata-file", "no-cache-filter",
];

const FLAGS: &FlagTable = &[
    ("network", None, Kind::Value),
    ("add-host", None, Kind::Value),
    ("build-arg", None, Kind::Value),
    ("label", Some('l'), Kind::Value),
    ("target", None, Kind::Value),
    ("no-cache", None, Kind::Bool),
    ("pull", None, Kind::Bool),
    ("platform", None, Kind::Value),
    ("shm-size", None, Kind::Value),
    ("cache-from", None, Kind::Value),
    ("progress", None, Kind::Value),
    ("quiet", Some('q'), Kind::Bool),
    ("load", None, Kind::Bool),
];

/// Why `build.options` cannot be applied, with the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildOptionsError {
    /// A flag that needs buildx's client.
    NeedsBuildx { flag: String },
    /// A second `--add-host`: the build API takes one.
    SecondAddHost { value: String },
    Flag(RunArgsError),
}

impl std::fmt::Display for BuildOptionsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BuildOptionsError::NeedsBuildx { flag } => write!(
                f,
                "`{flag}` needs buildx: devgpu builds with the engine's BuildKit, but its session serves no secrets, ssh agent, extra build contexts or outputs: build this configuration with the official Dev Containers CLI (`devcontainer up --workspace-folder .`, or VS Code's \"Reopen in Container\") with docker buildx installed, then `devgpu verify`"
            ),
            BuildOptionsError::SecondAddHost { value } => write!(
                f,
                "`--add-host {value}`: devgpu passes one `--add-host` to the build API (it takes a single value); keep one, or add the others in the Dockerfile"
            ),
            BuildOptionsError::Flag(RunArgsError::UnknownFlag { flag }) => write!(
                f,
                "`{flag}` is not a `docker build` flag devgpu applies; remove it, or build this configuration with the official Dev Containers CLI (`devcontainer up --workspace-folder .`)"
            ),
            BuildOptionsError::Flag(e) => write!(f, "{}", e.detail("build.options", "docker build")),
        }
    }
}

/// Parses `build.options`.
pub fn parse_build_options(items: &[String]) -> Result<BuildOptions, BuildOptionsError> {
    // BuildKit's flags first, so that they get their own reason rather than "unknown flag".
    for item in items {
        let name = item.strip_prefix("--").map(|r| r.split_once('=').map_or(r, |(n, _)| n));
        if let Some(flag) = name.filter(|n| BUILDX_ONLY.contains(n)) {
            return Err(BuildOptionsError::NeedsBuildx { flag: format!("--{flag}") });
        }
        if item.starts_with("-o") {
            return Err(BuildOptionsError::NeedsBuildx { flag: "-o".into() });
        }
    }
    let mut out = BuildOptions::default();
    for flag in read_flags(items, FLAGS).map_err(BuildOptionsError::Flag)? {
        let display = flag.display;
        let value = match flag.value {
            FlagValue::Switch(on) => {
                match flag.long {
                    "no-cache" => out.no_cache = on,
                    "pull" => out.pull = on,
                    _ => {} // --quiet, --load: output only
                }
                continue;
            }
            FlagValue::Text(v) => v,
        };
        let nonempty = |v: &str| if v.trim().is_empty() { Err(BuildOptionsError::Flag(invalid(&display, v, "the value is empty"))) } else { Ok(()) };
        match flag.long {
            "network" => {
                nonempty(&value)?;
                out.network = Some(value)
            }
            "add-host" => {
                let host = parse_add_host(&value).map_err(|why| BuildOptionsError::Flag(invalid(&display, &value, &why)))?;
                if out.add_host.is_some() {
                    return Err(BuildOptionsError::SecondAddHost { value });
                }
                out.add_host = Some(host)
            }
            "build-arg" => {
                nonempty(&value)?;
                let arg = match value.split_once('=') {
                    Some((k, v)) => (k.to_string(), Some(v.to_string())),
                    None => (value, None),
                };
                out.build_args.retain(|(k, _)| *k != arg.0);
                out.build_args.push(arg)
            }
            "label" => {
                nonempty(&value)?;
                out.labels.push(parse_label(&value))
            }
            "target" => {
                nonempty(&value)?;
                out.target = Some(value)
            }
            "platform" => {
                nonempty(&value)?;
                out.platform = Some(value)
            }
            "shm-size" => out.shm_size = Some(parse_size(&value).map_err(|why| BuildOptionsError::Flag(invalid(&display, &value, &why)))?),
            "cache-from" => {
                nonempty(&value)?;
                out.cache_from.push(value)
            }
            _ => {} // --progress: output only
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(items: &[&str]) -> Result<BuildOptions, BuildOptionsError> {
        parse_build_options(&items.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn the_flags_people_write_are_applied() {
        let o = parse(&[
            "--network=host", "--add-host", "mirror.local:10.0.0.5", "--build-arg", "HTTP_PROXY=http://proxy:3128", "--build-arg=FROM_ENV",
            "-l", "team=ml", "--target", "dev", "--no-cache", "--pull", "--platform=linux/amd64", "--shm-size", "1g", "--cache-from", "ghcr.io/x/y:cache",
            "--progress=plain", "-q", "--load",
        ])
        .unwrap();
        assert_eq!(o.network.as_deref(), Some("host"));
        assert_eq!(o.add_host.as_deref(), Some("mirror.local:10.0.0.5"));
        assert_eq!(o.build_args, vec![("HTTP_PROXY".into(), Some("http://proxy:3128".into())), ("FROM_ENV".into(), None)]);
        assert_eq!(o.labels, vec![("team".into(), "ml".into())]);
        assert_eq!((o.target.as_deref(), o.no_cache, o.pull, o.platform.as_deref()), (Some("dev"), true, true, Some("linux/amd64")));
        assert_eq!((o.shm_size, o.cache_from.clone()), (Some(1 << 30), vec!["ghcr.io/x/y:cache".to_string()]));
    }

    #[test]
    fn the_last_build_arg_and_target_win() {
        let o = parse(&["--build-arg", "A=1", "--target", "a", "--build-arg", "A=2", "--target=b"]).unwrap();
        assert_eq!((o.build_args, o.target.as_deref()), (vec![("A".into(), Some("2".into()))], Some("b")));
    }

    #[test]
    fn buildkit_flags_hand_over_to_the_official_cli() {
        for items in [&["--secret", "id=npm,src=.npmrc"][..], &["--ssh=default"], &["-o", "type=local,dest=out"], &["--build-context", "x=../x"]] {
            let e = parse(items).unwrap_err();
            assert!(matches!(e, BuildOptionsError::NeedsBuildx { .. }), "{items:?}: {e:?}");
            assert!(e.to_string().contains("devcontainer up"), "{e}");
        }
    }

    #[test]
    fn mistakes_are_named() {
        assert_eq!(parse(&["--squash"]).unwrap_err(), BuildOptionsError::Flag(RunArgsError::UnknownFlag { flag: "--squash".into() }));
        assert!(parse(&["--network"]).unwrap_err().to_string().contains("`--network` needs a value"));
        assert!(parse(&["--add-host", "nohost"]).unwrap_err().to_string().contains("expected HOST:IP"));
        assert!(matches!(parse(&["--add-host=a:1.1.1.1", "--add-host=b:2.2.2.2"]).unwrap_err(), BuildOptionsError::SecondAddHost { .. }));
        assert!(parse(&["--shm-size", "lots"]).is_err());
        assert!(parse(&["--network host"]).unwrap_err().to_string().contains("one item"));
        assert!(!parse(&["--squash"]).unwrap_err().to_string().contains("docker run"));
    }
}
