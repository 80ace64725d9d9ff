//! EDGE: the uid image of `updateRemoteUserUID` (planned in [`crate::plan::remote_user`]): built from a context
//! that holds only devgpu's Dockerfile, reused while its build-hash label matches, labelled with the workspace
//! (so `down --remove` and the tests' cleanup find it like the main image).

use crate::plan::remote_user::{UidImage, UID_DOCKERFILE};
use crate::plan::up::{BuildPlan, ImageFacts};
use crate::model::progress::ProgressSink;

use super::build::build_image;
use super::container;
use super::context::BuildContext;
use super::UpError;

/// The uid image, built when missing or stale (or on `--rebuild`).
pub struct UidImageOutcome {
    pub facts: ImageFacts,
    pub built: bool,
    /// The image the tag named before this build (to remove when nothing uses it any more).
    pub replaced: Option<String>,
}

/// Makes sure the uid image exists for `uid` and returns its facts.
pub async fn ensure(docker: &crate::docker::Docker, uid: &UidImage, local_folder: &str, rebuild: bool, progress: &dyn ProgressSink) -> Result<UidImageOutcome, UpError> {
    let b = &uid.build;
    let hash = b.definition_hash.clone();
    let current = container::image_facts(docker, &b.tag).await?;
    if let Some((facts, labels)) = &current {
        if !rebuild && container::image_is_current(labels, &hash) {
            return Ok(UidImageOutcome { facts: facts.clone(), built: false, replaced: None });
        }
    }
    progress.step("uid", &format!("giving the remote user {} the uid:gid {}:{} of the host user (updateRemoteUserUID)", uid.remote_user, uid.uid, uid.gid));
    let context = BuildContext {
        root: b.context_dir.clone(),
        entries: Vec::new(),
        extra_dockerfile: Some((BuildPlan::EXTERNAL_DOCKERFILE.to_string(), UID_DOCKERFILE.as_bytes().to_vec())),
    };
    let id = build_image(docker, b, context, &hash, local_folder, false, progress).await?;
    let facts = container::image_facts(docker, &b.tag).await?.map(|(f, _)| f).ok_or_else(|| UpError::BuildFailed {
        step: None,
        message: format!("the built image {} is not there", b.tag),
        tail: vec![],
    })?;
    let replaced = current.map(|(old, _)| old.id).filter(|old| *old != id);
    Ok(UidImageOutcome { facts, built: true, replaced })
}
