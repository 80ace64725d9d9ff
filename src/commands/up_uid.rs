//! `up`'s `updateRemoteUserUID` step: the facts of this machine (edge) → the decision (pure,
//! [`crate::plan::remote_user`]) → the uid image (edge, [`crate::docker::devcontainer::uid_image`]).

use crate::docker::devcontainer::{uid_image, UpError};
use crate::docker::Docker;
use crate::docker::devcontainer::container::Found;
use crate::plan::remote_user::{plan_uid_image, uid_map_stale, UidDecision, UidHost, UidOutcome, LABEL_UID_MAP};
use crate::plan::up::{ImageFacts, UpPlan, LABEL_CONFIG_HASH, LABEL_REMOTE_USER};
use crate::report::progress::Progress;

/// This machine as the uid mapping sees it.
pub fn host(docker: &Docker) -> UidHost {
    UidHost { linux: cfg!(target_os = "linux"), local_daemon: docker.endpoint.is_local(), user: crate::host::local_user::local_user() }
}

/// Why a devgpu container made earlier does not fit the user running `up` now (see [`uid_map_stale`]).
pub fn stale(docker: &Docker, plan: &UpPlan, c: &Found) -> Option<String> {
    c.label(LABEL_CONFIG_HASH)?;
    uid_map_stale(plan, c.label(LABEL_UID_MAP), c.label(LABEL_REMOTE_USER), &host(docker)).map(|why| format!("recreating the container {}: {why}", c.name))
}

/// Decides and, where it applies, builds the uid image. Returns the plan to create the container from (`None`:
/// `plan` as it is), the image's facts, and what was done. A replaced uid image joins `old_images`.
pub async fn apply(
    docker: &Docker,
    plan: &UpPlan,
    image: ImageFacts,
    rebuild: bool,
    progress: &Progress,
    old_images: &mut Vec<String>,
) -> Result<(Option<UpPlan>, ImageFacts, UidOutcome), UpError> {
    match plan_uid_image(plan, &image, &host(docker)) {
        UidDecision::Skip(reason) => Ok((None, image, UidOutcome::Skipped(reason))),
        UidDecision::Build(u) => {
            let out = uid_image::ensure(docker, &u, &plan.config.local_folder, rebuild, progress).await?;
            old_images.extend(out.replaced);
            let outcome = UidOutcome::Mapped { user: u.remote_user.clone(), uid: u.uid, gid: u.gid, image: u.build.tag.clone(), built: out.built };
            let mut mapped = UpPlan { image: u.build.tag.clone(), ..plan.clone() };
            mapped.run_args.labels.push((LABEL_UID_MAP.to_string(), format!("{}:{}", u.uid, u.gid)));
            Ok((Some(mapped), out.facts, outcome))
        }
    }
}
