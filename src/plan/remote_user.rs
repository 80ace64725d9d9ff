//! PURE: `updateRemoteUserUID` — the remote user of the container gets the uid and gid of the host user who runs
//! `up`, so files in the bind-mounted workspace are theirs on both sides. The Dev Containers CLI (and so VS Code)
//! does this by building a small image on top of the dev container's image (`<image>-uid`); devgpu builds the
//! same kind of image, with its own Dockerfile ([`UID_DOCKERFILE`]), under the same conditions:
//!
//! - the setting: `updateRemoteUserUID` in devcontainer.json, else in the image's `devcontainer.metadata`
//!   (the last boolean wins), else on;
//! - Linux only (on macOS and Windows the VM's file sharing maps owners already);
//! - not for a remote user who is root or given as a number (`"1000"`: there is no name to remap);
//! - not when devgpu runs as root (uid 0: root's uid is never handed to another user);
//! - and, decided inside the image build where `/etc/passwd` is: not when the ids already match, not when
//!   another user of the image holds the uid (a gid held by another group keeps the user's gid).
//!
//! Besides the CLI's rules, devgpu only renumbers the user's own group (a group named like the user): a shared
//! primary group such as `users` keeps its gid, so other users of the image keep theirs. It never `chown`s `/`.
//! The image is only built when the daemon is on this machine: a remote daemon's bind mounts are files of another
//! machine, whose owners this machine's uid says nothing about.

use serde_json::Value;

use crate::model::host::LocalUser;
use crate::plan::up::{sha256_hex, workspace_image_tag, BuildPlan, ImageFacts, UpPlan};

/// Bumped when [`UID_DOCKERFILE`] changes (images built by an older one are rebuilt).
const UID_IMAGE_VERSION: &str = "devgpu-uid-1";

/// The Dockerfile of the uid image. Build args: `BASE_IMAGE`, `REMOTE_USER`, `NEW_UID`, `NEW_GID`, `IMAGE_USER`.
/// POSIX sh and sed only (no `usermod`: Alpine and busybox images lack it); builds on the classic builder and
/// BuildKit alike. Each decision is echoed, so the build log says what happened.
pub const UID_DOCKERFILE: &str = r#"# Written by devgpu: the remote user takes the host user's uid/gid (updateRemoteUserUID).
ARG BASE_IMAGE=scratch
FROM $BASE_IMAGE
USER root
SHELL ["/bin/sh", "-c"]
ARG REMOTE_USER
ARG NEW_UID
ARG NEW_GID
RUN OLD_UID=; OLD_GID=; HOME_DIR=; UID_HOLDER=; GID_HOLDER=; OWN_GROUP=; \
	while IFS=: read -r n _ u g _ h _; do \
		if [ "$n" = "$REMOTE_USER" ]; then OLD_UID="$u"; OLD_GID="$g"; HOME_DIR="$h"; \
		elif [ "$u" = "$NEW_UID" ]; then UID_HOLDER="$n"; fi; \
	done < /etc/passwd; \
	while IFS=: read -r n _ g _; do \
		if [ "$g" = "$NEW_GID" ] && [ "$n" != "$REMOTE_USER" ]; then GID_HOLDER="$n"; fi; \
		if [ "$g" = "$OLD_GID" ] && [ "$n" = "$REMOTE_USER" ]; then OWN_GROUP="$n"; fi; \
	done < /etc/group; \
	if [ -z "$OLD_UID" ]; then \
		echo "devgpu: $REMOTE_USER is not in /etc/passwd: nothing to map"; \
	elif [ "$OLD_UID:$OLD_GID" = "$NEW_UID:$NEW_GID" ]; then \
		echo "devgpu: $REMOTE_USER already has uid:gid $NEW_UID:$NEW_GID"; \
	elif [ "$OLD_UID" != "$NEW_UID" ] && [ -n "$UID_HOLDER" ]; then \
		echo "devgpu: uid $NEW_UID belongs to $UID_HOLDER in the image: $REMOTE_USER keeps uid $OLD_UID"; \
	else \
		if [ "$OLD_GID" != "$NEW_GID" ] && [ -n "$GID_HOLDER" ]; then \
			echo "devgpu: gid $NEW_GID belongs to the group $GID_HOLDER in the image: $REMOTE_USER keeps gid $OLD_GID"; NEW_GID="$OLD_GID"; \
		elif [ "$OLD_GID" != "$NEW_GID" ] && [ -z "$OWN_GROUP" ]; then \
			echo "devgpu: the primary group (gid $OLD_GID) of $REMOTE_USER is shared: it keeps its gid"; NEW_GID="$OLD_GID"; \
		fi; \
		echo "devgpu: $REMOTE_USER goes from uid:gid $OLD_UID:$OLD_GID to $NEW_UID:$NEW_GID"; \
		sed -i -e "s/^$REMOTE_USER:\([^:]*\):[^:]*:[^:]*:/$REMOTE_USER:\1:$NEW_UID:$NEW_GID:/" /etc/passwd && \
		if [ "$OLD_GID" != "$NEW_GID" ]; then sed -i -e "s/^$REMOTE_USER:\([^:]*\):$OLD_GID:/$REMOTE_USER:\1:$NEW_GID:/" /etc/group; fi && \
		if [ -n "$HOME_DIR" ] && [ "$HOME_DIR" != / ] && [ -d "$HOME_DIR" ]; then chown -R "$NEW_UID:$NEW_GID" "$HOME_DIR"; fi; \
	fi
ARG IMAGE_USER=root
USER $IMAGE_USER
"#;

/// What `up` knows about the machine it runs on, for the uid mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UidHost {
    /// devgpu runs on Linux.
    pub linux: bool,
    /// The Docker daemon is on this machine (its bind mounts are this machine's files).
    pub local_daemon: bool,
    /// The user running devgpu (`None`: unknown).
    pub user: Option<LocalUser>,
}

/// The uid image to build.
#[derive(Debug, Clone, PartialEq)]
pub struct UidImage {
    pub remote_user: String,
    /// The image's own `USER` (restored at the end), `root` when it sets none.
    pub image_user: String,
    pub uid: u32,
    pub gid: u32,
    /// The build: an in-memory context holding only [`UID_DOCKERFILE`].
    pub build: BuildPlan,
}

/// Whether and how `up` maps the remote user's uid.
#[derive(Debug, Clone, PartialEq)]
pub enum UidDecision {
    Build(Box<UidImage>),
    /// Not mapped, and why (said in `up`'s result).
    Skip(String),
}

/// The skip reason for a root remote user.
const ROOT_REMOTE_USER: &str = "the remote user is root";

/// On containers created from a uid image: the host `uid:gid` the remote user was given.
pub const LABEL_UID_MAP: &str = "devgpu.uid_map";

/// Why an existing devgpu container no longer fits the user running `up`, or `None`. It is stale when the mapping
/// would apply now (a named non-root remote user — from its `devgpu.remote_user` label —, Linux, a local daemon,
/// a non-root host user, the setting not false) and the container was mapped for other ids or not at all (e.g.
/// created by `sudo devgpu up`, or before devgpu mapped uids).
pub fn uid_map_stale(plan: &UpPlan, mapped: Option<&str>, remote_user: Option<&str>, host: &UidHost) -> Option<String> {
    let user = host.user?;
    let remote_user = remote_user?;
    let applies = plan.config.substituted.get("updateRemoteUserUID").and_then(Value::as_bool) != Some(false)
        && host.linux
        && host.local_daemon
        && user.uid != 0
        && remote_user != "root"
        && plain_user_name(remote_user)
        && !remote_user.chars().all(|c| c.is_ascii_digit());
    let now = format!("{}:{}", user.uid, user.gid);
    match mapped {
        _ if !applies => None,
        Some(m) if m == now => None,
        Some(m) => Some(format!("its remote user {remote_user} was given uid:gid {m}, but up now runs as {now} (updateRemoteUserUID)")),
        None => Some(format!("its remote user {remote_user} was not given the uid:gid {now} of the user running up (updateRemoteUserUID)")),
    }
}

/// What `up` did about the uid, for its result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UidOutcome {
    /// The container runs from `image`, built to give `user` the uid:gid (unless the image's `/etc/passwd`
    /// ruled it out: its build log says so).
    Mapped { user: String, uid: u32, gid: u32, image: String, built: bool },
    Skipped(String),
}

impl UidOutcome {
    /// The `updateRemoteUserUID` object of `up`'s JSON data.
    pub fn to_json(&self) -> Value {
        match self {
            UidOutcome::Mapped { user, uid, gid, image, built } => {
                serde_json::json!({"applied": true, "user": user, "uid": uid, "gid": gid, "image": image, "built": built})
            }
            UidOutcome::Skipped(reason) => serde_json::json!({"applied": false, "reason": reason}),
        }
    }

    /// One line for the human summary; none for a root remote user (nothing to map, nothing to say).
    pub fn describe(&self) -> Option<String> {
        match self {
            UidOutcome::Mapped { user, uid, gid, .. } => Some(format!("{user} takes this user's uid:gid {uid}:{gid} (updateRemoteUserUID)")),
            UidOutcome::Skipped(reason) if reason == ROOT_REMOTE_USER => None,
            UidOutcome::Skipped(reason) => Some(format!("uid not mapped: {reason}")),
        }
    }
}

/// `updateRemoteUserUID` as the configuration says it: devcontainer.json first, then the image's metadata
/// entries, the last one holding a boolean; `None` when nobody says (the default, on).
fn setting(plan: &UpPlan, image: &ImageFacts) -> Option<bool> {
    if let Some(b) = plan.config.substituted.get("updateRemoteUserUID").and_then(Value::as_bool) {
        return Some(b);
    }
    image.metadata.iter().rev().find_map(|e| e.get("updateRemoteUserUID").and_then(Value::as_bool))
}

/// A user name the uid Dockerfile's `sed` can use as it is (POSIX portable names; what `useradd` accepts).
fn plain_user_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        && name.len() <= 32
}

/// Decides the mapping for the container `plan` creates from `image` (whose reference is `plan.image`).
pub fn plan_uid_image(plan: &UpPlan, image: &ImageFacts, host: &UidHost) -> UidDecision {
    if setting(plan, image) == Some(false) {
        return UidDecision::Skip("updateRemoteUserUID is false".into());
    }
    if !host.linux {
        return UidDecision::Skip("only on Linux hosts (as in VS Code)".into());
    }
    if !host.local_daemon {
        return UidDecision::Skip("the Docker daemon is on another machine, where this machine's uid means nothing".into());
    }
    let Some(user) = host.user else {
        return UidDecision::Skip("the uid of the user running devgpu could not be read".into());
    };
    let remote_user = plan.remote_user(image);
    if remote_user == "root" || remote_user == "0" {
        return UidDecision::Skip(ROOT_REMOTE_USER.into());
    }
    if remote_user.chars().all(|c| c.is_ascii_digit()) || remote_user.contains(':') {
        return UidDecision::Skip(format!("the remote user is given as a uid ({remote_user}), not a name"));
    }
    if user.uid == 0 {
        return UidDecision::Skip("devgpu runs as root: root's uid is never given to the remote user".into());
    }
    if !plain_user_name(&remote_user) {
        return UidDecision::Skip(format!("the remote user name `{remote_user}` has characters devgpu does not edit /etc/passwd for"));
    }
    let image_user = image.user.clone().filter(|u| !u.is_empty()).unwrap_or_else(|| "root".into());
    let args = vec![
        ("BASE_IMAGE".to_string(), plan.image.clone()),
        ("REMOTE_USER".to_string(), remote_user.clone()),
        ("NEW_UID".to_string(), user.uid.to_string()),
        ("NEW_GID".to_string(), user.gid.to_string()),
        ("IMAGE_USER".to_string(), image_user.clone()),
    ];
    // The base image's id, not its name: a rebuilt base makes a new uid image.
    let definition = serde_json::json!({"v": UID_IMAGE_VERSION, "dockerfile": UID_DOCKERFILE, "base": image.id, "args": args});
    let build = BuildPlan {
        context_dir: plan.config.local_folder.clone().into(),
        dockerfile: BuildPlan::EXTERNAL_DOCKERFILE.into(),
        dockerfile_in_context: None,
        tag: workspace_image_tag(&plan.config, "-uid"),
        args,
        target: None,
        cache_from: Vec::new(),
        // The CLI builds its uid image with a plain `docker build`: none of the config's build.options.
        options: Default::default(),
        args_from_env: Vec::new(),
        definition_hash: sha256_hex(definition.to_string().as_bytes()),
    };
    UidDecision::Build(Box::new(UidImage { remote_user, image_user, uid: user.uid, gid: user.gid, build }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::up::{plan_up, resolve_config, ConfigInput};
    use std::path::Path;

    fn plan(text: &str) -> UpPlan {
        let input = ConfigInput {
            local_folder: Path::new("/home/u/proj"),
            config_file: Path::new("/home/u/proj/.devcontainer/devcontainer.json"),
            config_text: text,
            local_env: vec![],
        };
        plan_up(resolve_config(&input).unwrap(), Some("FROM x\n")).unwrap()
    }

    const HOST: UidHost = UidHost { linux: true, local_daemon: true, user: Some(LocalUser { uid: 1234, gid: 1300 }) };

    fn image(user: Option<&str>) -> ImageFacts {
        ImageFacts { id: "sha256:base1".into(), user: user.map(str::to_string), ..Default::default() }
    }

    fn skip_reason(d: UidDecision) -> String {
        match d {
            UidDecision::Skip(r) => r,
            UidDecision::Build(b) => panic!("expected a skip, got {b:?}"),
        }
    }

    #[test]
    fn a_named_non_root_remote_user_gets_the_host_ids() {
        let p = plan(r#"{"build": {"dockerfile": "Dockerfile"}, "remoteUser": "dev"}"#);
        let UidDecision::Build(u) = plan_uid_image(&p, &image(Some("dev")), &HOST) else { panic!() };
        assert_eq!((u.remote_user.as_str(), u.image_user.as_str(), u.uid, u.gid), ("dev", "dev", 1234, 1300));
        let b = &u.build;
        assert_eq!(b.tag, p.build.as_ref().unwrap().tag.replace(":latest", "-uid:latest"), "the CLI's `<image>-uid` naming");
        assert_eq!(b.dockerfile_param(), ".devgpu.Dockerfile");
        let arg = |k: &str| b.args.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap();
        assert_eq!((arg("BASE_IMAGE"), arg("REMOTE_USER"), arg("NEW_UID"), arg("NEW_GID"), arg("IMAGE_USER")), (p.image.clone(), "dev".into(), "1234".into(), "1300".into(), "dev".into()));
        // The image user defaults to root, as `USER` with no value means root.
        let UidDecision::Build(u) = plan_uid_image(&p, &image(None), &HOST) else { panic!() };
        assert_eq!(u.image_user, "root");
    }

    #[test]
    fn the_build_hash_follows_base_image_and_ids() {
        let p = plan(r#"{"image": "img:1", "remoteUser": "dev"}"#);
        let hash = |img: &ImageFacts, host: &UidHost| match plan_uid_image(&p, img, host) {
            UidDecision::Build(u) => u.build.definition_hash,
            UidDecision::Skip(r) => panic!("{r}"),
        };
        let h = hash(&image(None), &HOST);
        assert_eq!(h, hash(&image(None), &HOST));
        assert_ne!(h, hash(&ImageFacts { id: "sha256:base2".into(), ..image(None) }, &HOST), "a rebuilt base image");
        assert_ne!(h, hash(&image(None), &UidHost { user: Some(LocalUser { uid: 1235, gid: 1300 }), ..HOST }), "another host user");
    }

    #[test]
    fn skipped_where_the_cli_skips() {
        let p = plan(r#"{"image": "i", "remoteUser": "dev", "updateRemoteUserUID": false}"#);
        assert!(skip_reason(plan_uid_image(&p, &image(None), &HOST)).contains("false"));
        let p = plan(r#"{"image": "i", "remoteUser": "dev"}"#);
        assert!(skip_reason(plan_uid_image(&p, &image(None), &UidHost { linux: false, ..HOST })).contains("Linux"));
        assert!(skip_reason(plan_uid_image(&p, &image(None), &UidHost { user: Some(LocalUser { uid: 0, gid: 0 }), ..HOST })).contains("root"));
        assert!(skip_reason(plan_uid_image(&p, &image(None), &UidHost { local_daemon: false, ..HOST })).contains("another machine"));
        assert!(skip_reason(plan_uid_image(&plan(r#"{"image": "i"}"#), &image(None), &HOST)).contains("root"));
        assert!(skip_reason(plan_uid_image(&plan(r#"{"image": "i", "remoteUser": "1000"}"#), &image(None), &HOST)).contains("uid"));
        assert!(skip_reason(plan_uid_image(&plan(r#"{"image": "i", "containerUser": "1000:1000"}"#), &image(None), &HOST)).contains("uid"));
        assert!(skip_reason(plan_uid_image(&plan(r#"{"image": "i", "remoteUser": "a/b"}"#), &image(None), &HOST)).contains("characters"));
    }

    #[test]
    fn the_setting_comes_from_the_config_then_the_image_metadata() {
        let meta = |v: Value| ImageFacts { metadata: vec![serde_json::json!({"remoteUser": "vscode"}), v], ..image(None) };
        let p = plan(r#"{"image": "i"}"#);
        assert!(matches!(plan_uid_image(&p, &meta(serde_json::json!({})), &HOST), UidDecision::Build(ref u) if u.remote_user == "vscode"));
        assert!(skip_reason(plan_uid_image(&p, &meta(serde_json::json!({"updateRemoteUserUID": false})), &HOST)).contains("false"));
        let p = plan(r#"{"image": "i", "updateRemoteUserUID": true}"#);
        assert!(matches!(plan_uid_image(&p, &meta(serde_json::json!({"updateRemoteUserUID": false})), &HOST), UidDecision::Build(_)), "devcontainer.json wins");
        // Not a boolean: the default, as in the CLI.
        let p = plan(r#"{"image": "i", "remoteUser": "dev", "updateRemoteUserUID": "no"}"#);
        assert!(matches!(plan_uid_image(&p, &image(None), &HOST), UidDecision::Build(_)));
    }

    #[test]
    fn a_container_mapped_for_other_ids_or_none_is_stale() {
        let p = plan(r#"{"image": "i", "remoteUser": "dev"}"#);
        assert_eq!(uid_map_stale(&p, Some("1234:1300"), Some("dev"), &HOST), None);
        assert!(uid_map_stale(&p, Some("1000:1000"), Some("dev"), &HOST).unwrap().contains("1000:1000"));
        assert!(uid_map_stale(&p, None, Some("dev"), &HOST).unwrap().contains("1234:1300"), "made by sudo devgpu up, or before mapping");
        assert_eq!(uid_map_stale(&p, None, Some("root"), &HOST), None);
        assert_eq!(uid_map_stale(&p, None, Some("1000"), &HOST), None);
        assert_eq!(uid_map_stale(&p, None, None, &HOST), None, "made by another tool: used as it is");
        assert_eq!(uid_map_stale(&p, Some("1234:1300"), Some("dev"), &UidHost { user: Some(LocalUser { uid: 0, gid: 0 }), ..HOST }), None, "root never remaps");
        assert_eq!(uid_map_stale(&p, None, Some("dev"), &UidHost { local_daemon: false, ..HOST }), None);
        let off = plan(r#"{"image": "i", "remoteUser": "dev", "updateRemoteUserUID": false}"#);
        assert_eq!(uid_map_stale(&off, None, Some("dev"), &HOST), None);
    }

    #[test]
    fn outcomes_in_json_and_words() {
        let m = UidOutcome::Mapped { user: "dev".into(), uid: 1234, gid: 1300, image: "devgpu-p-1-uid:latest".into(), built: true };
        assert_eq!(m.to_json(), serde_json::json!({"applied": true, "user": "dev", "uid": 1234, "gid": 1300, "image": "devgpu-p-1-uid:latest", "built": true}));
        assert!(m.describe().unwrap().contains("1234:1300"));
        let root = skip_reason(plan_uid_image(&plan(r#"{"image": "i"}"#), &image(None), &HOST));
        assert_eq!(UidOutcome::Skipped(root.clone()).describe(), None, "a root remote user is not worth a line");
        assert_eq!(UidOutcome::Skipped(root).to_json()["applied"], false);
        assert!(UidOutcome::Skipped("updateRemoteUserUID is false".into()).describe().unwrap().contains("false"));
    }

    #[test]
    fn user_names() {
        assert!(plain_user_name("dev") && plain_user_name("vscode") && plain_user_name("_apt") && plain_user_name("a.b-c_1"));
        assert!(!plain_user_name("") && !plain_user_name("-x") && !plain_user_name("a b") && !plain_user_name("a/b") && !plain_user_name("a\\1"));
    }

    #[test]
    fn the_dockerfile_restores_the_image_user_and_never_chowns_the_root_folder() {
        assert!(UID_DOCKERFILE.contains("FROM $BASE_IMAGE\nUSER root\n"));
        assert!(UID_DOCKERFILE.trim_end().ends_with("USER $IMAGE_USER"));
        assert!(UID_DOCKERFILE.contains("[ \"$HOME_DIR\" != / ]"));
        // Every line of the RUN but the last continues it.
        let run: Vec<&str> = UID_DOCKERFILE.lines().skip_while(|l| !l.starts_with("RUN ")).take_while(|l| !l.starts_with("ARG IMAGE_USER")).collect();
        assert!(run[..run.len() - 1].iter().all(|l| l.ends_with('\\')), "{run:#?}");
    }
}
