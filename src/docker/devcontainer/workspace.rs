//! EDGE: the workspace when the daemon is on another machine. A bind mount names a path on the *server*: when
//! the laptop's folder is not there, Docker would mount an empty (or a different) folder. Before a container is
//! created, [`probe_folder`] asks the server: a container is created (never started) from an image it already
//! has, with the folder bind-mounted read-only — Docker refuses to create it when the path does not exist — and
//! the devcontainer.json inside is read back through the archive API and compared with the local one.
//!
//! The way out without a shared folder is `--workspace-volume`: a named volume filled once with the workspace's
//! files (as VS Code's "Clone Repository in Container Volume" does), mounted at the workspace folder
//! ([`fill_volume`]); the container keeps the Dev Containers labels, so VS Code on the same Docker host reuses it.

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::Path;

use bollard::models::{ContainerCreateBody, HostConfig, Mount, MountType as MountTypeEnum};
use bollard::query_parameters::{CreateContainerOptions, DownloadFromContainerOptions, ListImagesOptions, RemoveContainerOptions, UploadToContainerOptions};
use bytes::Bytes;
use futures_util::StreamExt;

use super::{api_message, is_not_found, UpError};
use crate::docker::Docker;
use crate::plan::up::UpPlan;
use crate::plan::workspace::{use_workspace_volume, LABEL_WORKSPACE_VOLUME};
use crate::model::progress::ProgressSink;

/// The label on the short-lived containers of this module (value: `workspace`), like `doctor --probe`'s.
pub const PROBE_LABEL: &str = "devgpu.probe";
const PROBE_TARGET: &str = "/devgpu-workspace-probe";

/// What the server has at the workspace's path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FolderOnServer {
    /// The folder exists there and holds the same devcontainer.json.
    Same,
    /// The folder exists there, but its devcontainer.json differs or is missing (`why`).
    Differs { why: String },
    /// No such path on the server.
    Missing,
    /// Not checked (the server has no image yet, or the probe itself failed): `why`.
    Unknown { why: String },
}

/// Ask the server whether `folder` exists there and holds the same `config_rel` (a path inside it) as
/// `config_text`. `image` is used when the server has no other image.
pub async fn probe_folder(docker: &Docker, folder: &str, config_rel: Option<&str>, config_text: &str, image: Option<&str>) -> FolderOnServer {
    let d = &docker.client;
    let any_image = match d.list_images(Some(ListImagesOptions { all: false, ..Default::default() })).await {
        Ok(list) => list.into_iter().find(|i| !i.repo_tags.is_empty()).map(|i| i.id).or_else(|| image.map(str::to_string)),
        Err(e) => return FolderOnServer::Unknown { why: format!("cannot list the server's images: {}", api_message(&e)) },
    };
    let Some(image) = any_image else { return FolderOnServer::Unknown { why: "the server has no image yet to probe with".into() } };
    let body = ContainerCreateBody {
        image: Some(image),
        cmd: Some(vec!["/devgpu-never-started".into()]),
        entrypoint: Some(vec![]),
        labels: Some(HashMap::from([(PROBE_LABEL.to_string(), "workspace".to_string())])),
        network_disabled: Some(true),
        host_config: Some(HostConfig {
            mounts: Some(vec![Mount { typ: Some(MountTypeEnum::BIND), source: Some(folder.to_string()), target: Some(PROBE_TARGET.into()), read_only: Some(true), ..Default::default() }]),
            network_mode: Some("none".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let id = match d.create_container(None::<CreateContainerOptions>, body).await {
        Ok(c) => c.id,
        Err(e) => {
            let msg = api_message(&e);
            if msg.contains("bind source path does not exist") {
                return FolderOnServer::Missing;
            }
            return FolderOnServer::Unknown { why: format!("the probe container was refused: {msg}") };
        }
    };
    let answer = match config_rel {
        None => FolderOnServer::Same,
        Some(rel) => {
            let path = format!("{PROBE_TARGET}/{rel}");
            let mut stream = d.download_from_container(&id, Some(DownloadFromContainerOptions { path: path.clone() }));
            let mut tar = Vec::new();
            let mut failed = None;
            while let Some(chunk) = stream.next().await {
                match chunk {
                    Ok(b) => tar.extend_from_slice(&b),
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                }
            }
            match failed {
                Some(e) if is_not_found(&e) => FolderOnServer::Differs { why: format!("the folder exists on the server but has no {rel}") },
                Some(e) => FolderOnServer::Unknown { why: format!("cannot read {rel} there: {}", api_message(&e)) },
                None => match first_file(&tar) {
                    Some(bytes) if bytes == config_text.as_bytes() => FolderOnServer::Same,
                    Some(_) => FolderOnServer::Differs { why: format!("the server's {rel} differs from this machine's") },
                    None => FolderOnServer::Unknown { why: format!("the archive of {rel} was empty") },
                },
            }
        }
    };
    let _ = d.remove_container(&id, Some(RemoveContainerOptions { force: true, v: true, ..Default::default() })).await;
    answer
}

/// The bytes of the first regular file in a tar (pure).
fn first_file(tar: &[u8]) -> Option<Vec<u8>> {
    let mut a = tar::Archive::new(tar);
    for entry in a.entries().ok()? {
        let mut e = entry.ok()?;
        if e.header().entry_type().is_file() {
            let mut out = Vec::new();
            io::Read::read_to_end(&mut e, &mut out).ok()?;
            return Some(out);
        }
    }
    None
}

/// The volume's name for `--workspace-volume` without a name: `devgpu-ws-<folder>-<hash of the path>` (pure).
pub fn default_volume_name(local_folder: &str) -> String {
    use sha2::{Digest, Sha256};
    let base: String = local_folder
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or("ws")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-' { c.to_ascii_lowercase() } else { '-' })
        .collect();
    let hash: String = Sha256::digest(local_folder.as_bytes()).iter().take(4).map(|b| format!("{b:02x}")).collect();
    format!("devgpu-ws-{}-{hash}", base.trim_matches('-'))
}

/// A `Write` that hands chunks to a channel (the tar is written on a thread while the upload streams).
struct ChunkWriter {
    tx: tokio::sync::mpsc::Sender<Bytes>,
    buf: Vec<u8>,
}

impl Write for ChunkWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= 256 * 1024 {
            self.flush()?;
        }
        Ok(data.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            let chunk = Bytes::from(std::mem::take(&mut self.buf));
            self.tx.blocking_send(chunk).map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the upload ended"))?;
        }
        Ok(())
    }
}

/// Every file of `folder` (no `.dockerignore`: the volume is the workspace, `.git` included) as a tar with the
/// files' own modes and times, owned by root (the caller hands them to the remote user).
fn write_workspace_tar<W: Write>(folder: &Path, out: W) -> io::Result<()> {
    let mut tar = tar::Builder::new(out);
    tar.follow_symlinks(false);
    tar.mode(tar::HeaderMode::Deterministic);
    for entry in walkdir::WalkDir::new(folder).follow_links(false).sort_by_file_name().min_depth(1) {
        let entry = entry.map_err(io::Error::other)?;
        let rel = entry.path().strip_prefix(folder).map_err(io::Error::other)?;
        let ft = entry.file_type();
        if !(ft.is_file() || ft.is_dir() || ft.is_symlink()) {
            continue;
        }
        let md = entry.path().symlink_metadata()?;
        let mut h = tar::Header::new_gnu();
        h.set_metadata_in_mode(&md, tar::HeaderMode::Complete);
        h.set_uid(0);
        h.set_gid(0);
        if ft.is_symlink() {
            let target = std::fs::read_link(entry.path())?;
            tar.append_link(&mut h, rel, target)?;
        } else if ft.is_dir() {
            tar.append_data(&mut h, rel, io::empty())?;
        } else {
            tar.append_data(&mut h, rel, std::fs::File::open(entry.path())?)?;
        }
    }
    tar.finish()
}

/// Whether the named volume exists on the server.
pub async fn volume_exists(docker: &Docker, name: &str) -> Result<bool, UpError> {
    match docker.client.inspect_volume(name).await {
        Ok(_) => Ok(true),
        Err(e) if is_not_found(&e) => Ok(false),
        Err(e) => Err(UpError::Docker(crate::docker::map_error(e, &docker.endpoint))),
    }
}

/// Create the volume (through a container that mounts it, created and never started, from the dev container's
/// `image`) and copy `folder` into it. The volume is labelled with the folder it was filled from.
pub async fn fill_volume(docker: &Docker, name: &str, image: &str, folder: &Path) -> Result<u64, UpError> {
    let d = &docker.client;
    let failed = |m: String| UpError::StartFailed { message: format!("cannot fill the workspace volume {name}: {m}"), diagnosis: None };
    let labels = HashMap::from([("devgpu.local_folder".to_string(), folder.display().to_string())]);
    d.create_volume(bollard::models::VolumeCreateRequest { name: Some(name.to_string()), labels: Some(labels), ..Default::default() })
        .await
        .map_err(|e| failed(api_message(&e)))?;
    let body = ContainerCreateBody {
        image: Some(image.to_string()),
        cmd: Some(vec!["/devgpu-never-started".into()]),
        entrypoint: Some(vec![]),
        labels: Some(HashMap::from([(PROBE_LABEL.to_string(), "workspace-volume".to_string())])),
        network_disabled: Some(true),
        host_config: Some(HostConfig {
            mounts: Some(vec![Mount { typ: Some(MountTypeEnum::VOLUME), source: Some(name.to_string()), target: Some(PROBE_TARGET.into()), ..Default::default() }]),
            network_mode: Some("none".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let id = d.create_container(None::<CreateContainerOptions>, body).await.map_err(|e| failed(api_message(&e)))?.id;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Bytes>(8);
    let root = folder.to_path_buf();
    let writer = std::thread::spawn(move || {
        let mut w = ChunkWriter { tx, buf: Vec::new() };
        write_workspace_tar(&root, &mut w).and_then(|_| w.flush())
    });
    let stream = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    let counted = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let c2 = counted.clone();
    let stream = stream.inspect(move |b| {
        c2.fetch_add(b.len() as u64, std::sync::atomic::Ordering::Relaxed);
    });
    let client = d.clone().with_timeout(std::time::Duration::from_secs(24 * 3600));
    let upload = client.upload_to_container(&id, Some(UploadToContainerOptions { path: PROBE_TARGET.into(), ..Default::default() }), bollard::body_stream(stream)).await;
    let written = writer.join().unwrap_or_else(|_| Err(io::Error::other("the tar writer panicked")));
    let _ = d.remove_container(&id, Some(RemoveContainerOptions { force: true, v: false, ..Default::default() })).await;
    if let Err(e) = upload.map_err(|e| api_message(&e)).and(written.map_err(|e| e.to_string())) {
        // A half-filled volume would be taken for the workspace next time.
        let _ = d.remove_volume(name, None::<bollard::query_parameters::RemoveVolumeOptions>).await;
        return Err(failed(e));
    }
    Ok(counted.load(std::sync::atomic::Ordering::Relaxed))
}

/// Before a container is created on a daemon on another machine: the bound workspace must exist there (edge).
/// Returns warnings (a differing copy, other bind mounts that name server paths, a probe that could not run).
pub async fn check_server_folder(docker: &Docker, plan: &UpPlan, progress: &dyn ProgressSink) -> Result<Vec<String>, UpError> {
    if docker.endpoint.is_local() {
        return Ok(Vec::new());
    }
    let mut warnings = Vec::new();
    let others = plan.other_bind_sources();
    if !others.is_empty() {
        warnings.push(format!("Docker runs on {}: these bind mounts name paths on that machine, not this one: {}", docker.endpoint.url, others.join(", ")));
    }
    let Some(folder) = plan.workspace_bind_source() else { return Ok(warnings) };
    progress.step("workspace", &format!("checking that {folder} exists on the Docker host {}", docker.endpoint.url));
    let config_text = std::fs::read_to_string(&plan.config.config_file).unwrap_or_default();
    let config_rel = Path::new(&plan.config.config_file).strip_prefix(&folder).ok().map(|r| r.display().to_string());
    match probe_folder(docker, &folder, config_rel.as_deref(), &config_text, Some(&plan.image)).await {
        FolderOnServer::Same => {}
        FolderOnServer::Missing => {
            return Err(UpError::WorkspaceNotOnServer {
                folder,
                url: docker.endpoint.url.clone(),
                origin: docker.endpoint.origin.clone(),
                server: docker.ssh.as_ref().map(|t| t.display()),
            })
        }
        FolderOnServer::Differs { why } => warnings.push(format!(
            "{why}: the container sees the Docker host's copy of {folder}, not this machine's (sync them, or use `--workspace-volume` to copy this one into a volume)"
        )),
        FolderOnServer::Unknown { why } => warnings.push(format!("could not check that {folder} exists on the Docker host {}: {why}", docker.endpoint.url)),
    }
    Ok(warnings)
}

/// Use a workspace volume: the one `--workspace-volume` names (an empty name: [`default_volume_name`]), else the
/// one the workspace's existing container was created with (so `up` and `verify` without the flag keep it).
pub async fn adopt_volume(docker: &Docker, plan: &mut UpPlan, flag: Option<&str>) -> Result<(), UpError> {
    let name = match flag {
        Some("") => Some(default_volume_name(&plan.config.local_folder)),
        Some(n) => Some(n.to_string()),
        None => super::container::find(docker, &plan.config.id_labels).await?.iter().find_map(|c| c.label(LABEL_WORKSPACE_VOLUME).map(str::to_string)),
    };
    if let Some(n) = name {
        use_workspace_volume(plan, &n);
    }
    Ok(())
}

/// Fill the plan's workspace volume from the folder when the volume does not exist yet (edge). Returns whether it
/// was filled now (the caller then hands it to the remote user, see [`chown_volume`]).
pub async fn prepare_volume(docker: &Docker, plan: &UpPlan, image: &str, progress: &dyn ProgressSink) -> Result<bool, UpError> {
    let Some(name) = plan.workspace_volume() else { return Ok(false) };
    if volume_exists(docker, name).await? {
        progress.step("workspace", &format!("using the workspace volume {name} (its files are the workspace; nothing is copied again)"));
        return Ok(false);
    }
    progress.step("workspace", &format!("copying {} into the volume {name}", plan.config.local_folder));
    let bytes = fill_volume(docker, name, image, Path::new(&plan.config.local_folder)).await?;
    progress.log("workspace", &format!("{name}: {} KiB copied", bytes / 1024));
    Ok(true)
}

/// Give a freshly filled workspace volume to the remote user (the files arrive owned by root).
pub async fn chown_volume(docker: &Docker, plan: &UpPlan, container_id: &str, remote_user: &str) -> Result<(), UpError> {
    if remote_user == "root" || remote_user == "0" {
        return Ok(());
    }
    let script = "chown -R \"$1\": \"$2\" 2>/dev/null || chown -R \"$1\" \"$2\"".to_string();
    let argv = vec!["/bin/sh".to_string(), "-c".to_string(), script, "sh".to_string(), remote_user.to_string(), plan.config.workspace_folder.clone()];
    let spec = super::exec::ExecSpec { user: Some("0".into()), ..Default::default() };
    let out = super::exec::exec(&docker.client, container_id, &argv, &spec, None).await.map_err(|e| UpError::StartFailed { message: api_message(&e), diagnosis: None })?;
    if out.code != 0 {
        return Err(UpError::StartFailed { message: format!("cannot give the workspace volume to {remote_user}: {}", out.combined.trim()), diagnosis: None });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volume_names() {
        let n = default_volume_name("/home/me/My Project");
        assert!(n.starts_with("devgpu-ws-my-project-"), "{n}");
        assert_eq!(n.len(), "devgpu-ws-my-project-".len() + 8);
        assert_ne!(default_volume_name("/a/x"), default_volume_name("/b/x"), "the path decides");
    }

    #[test]
    fn the_workspace_tar_keeps_everything() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".git/refs")).unwrap();
        std::fs::write(dir.path().join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
        std::fs::write(dir.path().join(".dockerignore"), ".git\n").unwrap();
        std::fs::write(dir.path().join("train.py"), "print(1)\n").unwrap();
        std::os::unix::fs::symlink("train.py", dir.path().join("link.py")).unwrap();
        let mut out = Vec::new();
        write_workspace_tar(dir.path(), &mut out).unwrap();
        let mut names: Vec<String> = tar::Archive::new(&out[..]).entries().unwrap().map(|e| e.unwrap().path().unwrap().display().to_string()).collect();
        names.sort();
        assert_eq!(names, [".dockerignore", ".git", ".git/HEAD", ".git/refs", "link.py", "train.py"]);
        assert_eq!(first_file(&out).as_deref(), Some(&b".git\n"[..]), "the first file: .dockerignore");
    }
}
