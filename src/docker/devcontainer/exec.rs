//! EDGE: commands in a running container (`docker exec` through the API): output collected, or streamed to
//! progress line by line, and the exit code.

use bollard::exec::{StartExecOptions, StartExecResults};
use bollard::models::ExecConfig;
use futures_util::StreamExt;

use crate::model::progress::ProgressSink;

/// What a command printed and how it ended.
#[derive(Debug, Clone, Default)]
pub struct ExecOutput {
    pub code: i64,
    pub stdout: String,
    pub stderr: String,
    /// Both streams, in the order they came.
    pub combined: String,
}

/// Who runs the command, where, with which environment.
#[derive(Debug, Clone, Default)]
pub struct ExecSpec {
    pub user: Option<String>,
    pub workdir: Option<String>,
    pub env: Vec<String>,
}

/// Runs `cmd` and collects its output. With `progress`, each line is also reported as a `log` from `source`.
pub async fn exec(
    docker: &bollard::Docker,
    container: &str,
    cmd: &[String],
    spec: &ExecSpec,
    progress: Option<(&dyn ProgressSink, &str)>,
) -> Result<ExecOutput, bollard::errors::Error> {
    let created = docker
        .create_exec(
            container,
            ExecConfig {
                attach_stdout: Some(true),
                attach_stderr: Some(true),
                cmd: Some(cmd.to_vec()),
                user: spec.user.clone(),
                working_dir: spec.workdir.clone(),
                env: (!spec.env.is_empty()).then(|| spec.env.clone()),
                ..Default::default()
            },
        )
        .await?;
    let mut out = ExecOutput::default();
    if let StartExecResults::Attached { mut output, .. } = docker.start_exec(&created.id, Some(StartExecOptions { detach: false, tty: false, output_capacity: None })).await? {
        let mut pending = String::new();
        while let Some(chunk) = output.next().await {
            let chunk = chunk?;
            use bollard::container::LogOutput;
            let (text, is_err) = match &chunk {
                LogOutput::StdOut { message } | LogOutput::Console { message } => (String::from_utf8_lossy(message).into_owned(), false),
                LogOutput::StdErr { message } => (String::from_utf8_lossy(message).into_owned(), true),
                LogOutput::StdIn { .. } => continue,
            };
            out.combined.push_str(&text);
            if is_err {
                out.stderr.push_str(&text);
            } else {
                out.stdout.push_str(&text);
            }
            if let Some((p, source)) = progress {
                pending.push_str(&text);
                while let Some(i) = pending.find('\n') {
                    let line: String = pending.drain(..=i).collect();
                    p.log(source, &line);
                }
            }
        }
        if let Some((p, source)) = progress {
            p.log(source, &pending);
        }
    }
    let inspect = docker.inspect_exec(&created.id).await?;
    out.code = inspect.exit_code.unwrap_or(-1);
    Ok(out)
}

/// The last `n` non-empty lines of a command's output, for error messages.
pub fn tail_lines(out: &ExecOutput, n: usize) -> Vec<String> {
    let all: Vec<String> = out.combined.lines().filter(|l| !l.trim().is_empty()).map(str::to_string).collect();
    all[all.len().saturating_sub(n)..].to_vec()
}
