//! `up`'s `updateRemoteUserUID` step: the facts of this machine (edge) → the decision (pure,
//! [`crate::plan::remote_user`]) → the uid image (edge, [`crate::docker::devcontainer::uid_image`]).

use crate::docker::devcontainer::{uid_image, UpError};
use crate::docker::Docker;
use crate::plan::remote_user::{plan_uid_image, UidDecision, UidHost, UidOutcome};
use crate::plan::up::{ImageFacts, UpPlan};
use crate::report::progress::Progress;

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
    let host = UidHost { linux: cfg!(target_os = "linux"), local_daemon: docker.endpoint.is_local(), user: crate::host::local_user::local_user() };
    match plan_uid_image(plan, &image, &host) {
        UidDecision::Skip(reason) => Ok((None, image, UidOutcome::Skipped(reason))),
        UidDecision::Build(u) => {
            let out = uid_image::ensure(docker, &u, &plan.config.local_folder, rebuild, progress).await?;
            old_images.extend(out.replaced);
            let outcome = UidOutcome::Mapped { user: u.remote_user.clone(), uid: u.uid, gid: u.gid, image: u.build.tag.clone(), built: out.built };
            Ok((Some(UpPlan { image: u.build.tag.clone(), ..plan.clone() }), out.facts, outcome))
        }
    }
}
