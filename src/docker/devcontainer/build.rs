//! EDGE: the image build through the classic builder API (`POST /build`), with the context tar streamed from a
//! thread while the daemon builds, and the builder's output turned into progress.
//!
//! The image is tagged only by the daemon, at the very end of a successful build: an interrupted or failed build
//! (the request is dropped, so the daemon cancels it) leaves at most untagged cache layers, never a tagged image
//! that looks complete.

use std::collections::HashMap;
use std::io::{self, Write};
use std::time::Duration;

use bollard::query_parameters::BuildImageOptions;
use bytes::Bytes;
use futures_util::StreamExt;

use crate::plan::up::{BuildPlan, LABEL_BUILD_HASH, LABEL_IMAGE_WORKSPACE};
use crate::model::progress::ProgressSink;

use super::context::BuildContext;
use super::UpError;

/// How many lines of the failing step a build error shows.
const TAIL_LINES: usize = 20;

/// A writer that sends its bytes to the request body in chunks.
struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<Result<Bytes, io::Error>>,
    buf: Vec<u8>,
}

impl ChannelWriter {
    const CHUNK: usize = 256 * 1024;

    fn send_buf(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::take(&mut self.buf));
        self.tx.blocking_send(Ok(chunk)).map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the build request ended"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= Self::CHUNK {
            self.send_buf()?;
        }
        Ok(data.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.send_buf()
    }
}

/// Builds the image; returns its id (`sha256:…`).
pub async fn build_image(
    docker: &bollard::Docker,
    plan: &BuildPlan,
    context: BuildContext,
    build_hash: &str,
    local_folder: &str,
    no_cache: bool,
    progress: &dyn ProgressSink,
) -> Result<String, UpError> {
    progress.step("build", &format!("building {} (context {}, {} files)", plan.tag, human_bytes(context.file_bytes()), context.entries.len()));
    // A build can take long: no request timeout for it (Ctrl-C ends it).
    let docker = docker.clone().with_timeout(Duration::from_secs(24 * 3600));

    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Bytes, io::Error>>(8);
    let writer_thread = std::thread::spawn(move || {
        let mut w = ChannelWriter { tx: tx.clone(), buf: Vec::with_capacity(ChannelWriter::CHUNK) };
        if let Err(e) = context.write_tar(&mut w).and_then(|_| w.flush()) {
            let _ = tx.blocking_send(Err(e));
        }
    });
    let body = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));

    // build.options' labels first: devgpu's own labels must survive a config that names them.
    let mut labels: HashMap<String, String> = plan.options.labels.iter().cloned().collect();
    labels.extend([(LABEL_BUILD_HASH.to_string(), build_hash.to_string()), (LABEL_IMAGE_WORKSPACE.to_string(), local_folder.to_string())]);
    // `--build-arg NAME` without a value: the docker CLI takes it from its environment, and leaves it out when unset.
    let mut args: HashMap<String, String> = plan.args.iter().cloned().collect();
    args.extend(plan.args_from_env.iter().filter_map(|name| std::env::var(name).ok().map(|v| (name.clone(), v))));
    let o = &plan.options;
    let options = BuildImageOptions {
        dockerfile: plan.dockerfile_param(),
        t: Some(plan.tag.clone()),
        rm: true,
        forcerm: true,
        nocache: no_cache || o.no_cache,
        pull: o.pull.then(|| "1".to_string()),
        buildargs: (!args.is_empty()).then_some(args),
        labels: Some(labels),
        target: plan.target.clone().unwrap_or_default(),
        cachefrom: (!plan.cache_from.is_empty()).then(|| plan.cache_from.clone()),
        networkmode: o.network.clone(),
        extrahosts: o.add_host.clone(),
        platform: o.platform.clone().unwrap_or_default(),
        // The API's field is 32-bit; larger sizes than 2 GiB are capped rather than wrapped.
        shmsize: o.shm_size.map(|s| s.min(i32::MAX as i64) as i32),
        ..Default::default()
    };
    let result = run_build(docker.build_image(options, None, Some(bollard::body_try_stream(body))), progress).await;
    let _ = writer_thread.join();
    result
}

/// Runs one build request, turning the builder's output into progress; returns the image id. Shared by the
/// config's image and the derived Features image ([`super::features`]).
pub async fn run_build(
    stream: impl futures_util::Stream<Item = Result<bollard::models::BuildInfo, bollard::errors::Error>>,
    progress: &dyn ProgressSink,
) -> Result<String, UpError> {
    let mut stream = std::pin::pin!(stream);

    let mut step: Option<String> = None;
    let mut tail: Vec<String> = Vec::new();
    let mut image_id: Option<String> = None;
    let mut failure: Option<String> = None;
    while let Some(item) = stream.next().await {
        match item {
            Ok(info) => {
                if let Some(id) = info.aux.as_ref().and_then(|a| a.id.clone()) {
                    image_id = Some(id);
                }
                if let Some(text) = info.stream.as_deref() {
                    let text = strip_ansi(text);
                    for line in text.split('\n').map(|l| l.trim_end_matches('\r')).filter(|l| !l.trim().is_empty()) {
                        if let Some(s) = line.strip_prefix("Step ") {
                            // "Step 2/4 : RUN …" → "step 2/4 `RUN …`"
                            step = Some(match s.split_once(" : ") {
                                Some((n, instr)) => format!("step {n} `{instr}`"),
                                None => format!("step {s}"),
                            });
                            tail.clear();
                            progress.step("build", line);
                        } else {
                            if !is_builder_noise(line) {
                                tail.push(line.trim_end().to_string());
                                if tail.len() > TAIL_LINES {
                                    tail.remove(0);
                                }
                            }
                            progress.log("build", line);
                        }
                        if let Some(id) = line.strip_prefix("Successfully built ") {
                            image_id.get_or_insert_with(|| id.trim().to_string());
                        }
                    }
                }
                if let Some(status) = info.status.as_deref() {
                    progress.log("build", status);
                }
            }
            Err(e) => {
                failure = Some(super::api_message(&e));
                break;
            }
        }
    }
    if let Some(message) = failure {
        return Err(UpError::BuildFailed { step, message: message.trim().to_string(), tail });
    }
    match image_id {
        Some(id) => Ok(id),
        None => Err(UpError::BuildFailed { step, message: "the daemon did not report an image id".into(), tail }),
    }
}

/// The classic builder's own bookkeeping lines, left out of a failed step's output.
fn is_builder_noise(line: &str) -> bool {
    let t = line.trim();
    t.starts_with("---> ") || t.starts_with("Removing intermediate container ") || t == "---> Using cache"
}

/// Removes terminal escape sequences (the builder paints a step's stderr red).
pub fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                // Parameters and intermediates, then one final byte in @..~.
                for c2 in chars.by_ref() {
                    if ('@'..='~').contains(&c2) {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

fn human_bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 30 => format!("{:.1} GiB", n as f64 / (1u64 << 30) as f64),
        n if n >= 1 << 20 => format!("{:.1} MiB", n as f64 / (1u64 << 20) as f64),
        n if n >= 1 << 10 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{n} B"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ansi_and_noise() {
        assert_eq!(strip_ansi("\u{1b}[91merror: x\n\u{1b}[0m"), "error: x\n");
        assert_eq!(strip_ansi("plain"), "plain");
        assert!(is_builder_noise(" ---> Running in 3ee24cdcf18c"));
        assert!(is_builder_noise("Removing intermediate container 3ee24cdcf18c"));
        assert!(!is_builder_noise("compiling"));
        assert_eq!(human_bytes(2048), "2.0 KiB");
    }
}
