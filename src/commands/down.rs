//! `devgpu down`: stop (or with `--remove`, remove) the workspace's dev container(s), found by the Dev Containers
//! labels — also one VS Code or the Dev Containers CLI created. For a Docker Compose config the whole project is
//! stopped (`shutdownAction: stopCompose`, the default) or left running (`none`); `--remove` removes the
//! project's containers and its default network.

use anyhow::Result;

use crate::cli::DownArgs;
use crate::docker::devcontainer::container;
use crate::docker::devcontainer::UpError;
use crate::error::CliError;
use crate::config::model::ImageSource;
use crate::plan::compose::LABEL_PROJECT;
use crate::plan::up::{resolve_config, ConfigInput, LABEL_CONFIG_FILE, LABEL_LOCAL_FOLDER};
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
    // A Compose config's shutdownAction (read when the file parses; a broken one falls back to the labels alone).
    let compose = std::fs::read_to_string(&loc.config_file).ok().and_then(|text| {
        let input = ConfigInput { local_folder: &loc.workspace, config_file: &loc.config_file, config_text: &text, local_env: std::env::vars().collect() };
        match resolve_config(&input).ok()?.model.source? {
            ImageSource::Compose(c) => Some(c),
            _ => None,
        }
    });
    let progress = Progress::new(&settings.output);
    let result = crate::block_on(async {
        let docker = crate::docker::connect(settings.docker_host.as_deref()).await.map_err(UpError::from)?;
        let mut done = Vec::new();
        if let Some(c) = &compose {
            let mut projects: Vec<String> = container::find(&docker, &labels).await?.iter().filter_map(|f| f.label(LABEL_PROJECT).map(str::to_string)).collect();
            projects.dedup();
            for project in projects {
                if args.remove {
                    progress.step("remove", &format!("removing the compose project {project}"));
                    for f in super::compose::remove_project(&docker, &project).await? {
                        done.push((f.id, f.name, "removed"));
                    }
                    continue;
                }
                for f in super::compose::project_containers(&docker, &project).await? {
                    let action = if !f.running() {
                        "already stopped"
                    } else if c.stop_compose {
                        progress.step("stop", &format!("stopping {}", f.name));
                        container::stop(&docker, &f.id, 10).await?;
                        "stopped"
                    } else {
                        "left running (shutdownAction: none)"
                    };
                    done.push((f.id, f.name, action));
                }
            }
            return Ok::<_, UpError>(done);
        }
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
