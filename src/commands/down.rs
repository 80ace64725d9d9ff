//! `devgpu down`: stop (or with `--remove`, remove) the workspace's dev container(s), found by the Dev Containers
//! labels — also one VS Code or the Dev Containers CLI created.

use anyhow::Result;

use crate::cli::DownArgs;
use crate::docker::devcontainer::container;
use crate::docker::devcontainer::UpError;
use crate::error::CliError;
use crate::plan::up::{LABEL_CONFIG_FILE, LABEL_LOCAL_FOLDER};
use crate::report::progress::Progress;
use crate::report::{DownReport, Render};
use crate::settings::Settings;

pub fn run(args: &DownArgs, settings: &Settings) -> Result<Box<dyn Render>> {
    // Only the labels are needed: a broken devcontainer.json must not keep the container from being stopped.
    let loc = super::up::locate(&args.path, args.config.as_deref())?;
    let labels = vec![
        (LABEL_LOCAL_FOLDER.to_string(), loc.workspace.display().to_string()),
        (LABEL_CONFIG_FILE.to_string(), loc.config_file.display().to_string()),
    ];
    let progress = Progress::new(&settings.output);
    let result = crate::block_on(async {
        let docker = crate::docker::connect(settings.docker_host.as_deref()).await.map_err(UpError::from)?;
        let mut done = Vec::new();
        for c in container::find(&docker, &labels).await? {
            let action = if args.remove {
                progress.step("remove", &format!("removing {}", c.name));
                container::remove(&docker, &c.id).await;
                "removed"
            } else if c.running() {
                progress.step("stop", &format!("stopping {}", c.name));
                container::stop(&docker, &c.id, 10).await?;
                "stopped"
            } else {
                "already stopped"
            };
            done.push((c.id, c.name, action));
        }
        Ok::<_, UpError>(done)
    });
    progress.finish();
    let containers = result.map_err(CliError::from)?;
    Ok(Box::new(DownReport { containers }))
}
