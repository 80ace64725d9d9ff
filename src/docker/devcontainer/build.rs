//! EDGE: the image build (`POST /build`), with the context tar streamed from a thread while the daemon builds,
//! and the builder's output turned into progress. The builder is the engine's BuildKit where it has one, else the
//! classic builder ([`crate::plan::image_builder`] decides; both read the same options). An engine that refuses
//! the BuildKit request before building anything gets the same build again from its classic builder.
//!
//! The image is tagged only by the daemon, at the very end of a successful build: an interrupted or failed build
//! (the request is dropped, so the daemon cancels it) leaves at most untagged cache layers, never a tagged image
//! that looks complete.

use std::collections::HashMap;
use std::io::{self, Write};
use std::sync::Arc;
use std::time::Duration;

use bollard::models::{BuildInfo, BuildInfoAux};
use bollard::query_parameters::{BuildImageOptions, BuilderVersion};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};

use crate::config::docker_build_options::BuildOptions;
use crate::plan::image_builder::{self, EngineBuildFacts, ImageBuilder};
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

/// The context as a tar stream, written by a thread as the request reads it. The thread ends with the request:
/// once the body is dropped its next send fails.
fn context_stream(context: Arc<BuildContext>) -> impl Stream<Item = Result<Bytes, io::Error>> + Send + 'static {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Bytes, io::Error>>(8);
    std::thread::spawn(move || {
        let mut w = ChannelWriter { tx: tx.clone(), buf: Vec::with_capacity(ChannelWriter::CHUNK) };
        if let Err(e) = context.write_tar(&mut w).and_then(|_| w.flush()) {
            let _ = tx.blocking_send(Err(e));
        }
    });
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

/// The builder this engine gets for these build options ([`image_builder::choose`] over the engine's facts and
/// `DOCKER_BUILDKIT`).
pub fn builder_for(docker: &crate::docker::Docker, options: Option<&BuildOptions>) -> ImageBuilder {
    let env = std::env::var("DOCKER_BUILDKIT").ok();
    image_builder::choose(&EngineBuildFacts {
        podman: docker.is_podman(),
        api_version: docker.version.api_version.as_deref(),
        docker_buildkit: env.as_deref(),
        shm_size: options.is_some_and(|o| o.shm_size.is_some()),
    })
}

/// Builds the image; returns its id (`sha256:…`).
pub async fn build_image(
    docker: &crate::docker::Docker,
    plan: &BuildPlan,
    context: BuildContext,
    build_hash: &str,
    local_folder: &str,
    no_cache: bool,
    progress: &dyn ProgressSink,
) -> Result<String, UpError> {
    let builder = builder_for(docker, Some(&plan.options));
    progress.step("build", &format!("building {} (context {}, {} files) with {}", plan.tag, human_bytes(context.file_bytes()), context.entries.len(), builder.describe()));
    // A build can take long: no request timeout for it (Ctrl-C ends it).
    let client = docker.client.clone().with_timeout(Duration::from_secs(24 * 3600));
    let context = Arc::new(context);

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
    build_with(&builder, options, |o| client.build_image(o, None, Some(bollard::body_try_stream(context_stream(context.clone())))), progress).await
}

/// Runs one build with `builder`: `start` sends the request for the options it is given (BuildKit's carry the
/// builder version and a session id). Shared by the config's image, the uid image and the derived Features image
/// ([`super::features`]). A BuildKit request the engine refuses before any step ran is sent again to the classic
/// builder, and progress says so.
pub async fn build_with<S, F>(builder: &ImageBuilder, options: BuildImageOptions, start: F, progress: &dyn ProgressSink) -> Result<String, UpError>
where
    F: Fn(BuildImageOptions) -> S,
    S: Stream<Item = Result<BuildInfo, bollard::errors::Error>>,
{
    if builder.is_buildkit() {
        let session = format!("devgpu-{}-{}", std::process::id(), std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0));
        let buildkit = BuildImageOptions { version: BuilderVersion::BuilderBuildKit, session: Some(session), ..options.clone() };
        match run_build(start(buildkit), progress).await {
            Ok(id) => return Ok(id),
            Err(Failure { error, builder_answered: true }) => return Err(error),
            Err(Failure { error, builder_answered: false }) => {
                progress.step("build", &format!("the engine refused a BuildKit build ({error}); building with the classic builder"));
            }
        }
    }
    let classic = BuildImageOptions { version: BuilderVersion::BuilderV1, session: None, ..options };
    run_build(start(classic), progress).await.map_err(|f| f.error)
}

/// A failed build, and whether the builder had started on it (BuildKit reported a step).
struct Failure {
    error: UpError,
    builder_answered: bool,
}

/// What a BuildKit step said so far.
#[derive(Default)]
struct Vertex {
    name: String,
    announced: bool,
    tail: Vec<String>,
    /// A partial last line (logs arrive in chunks).
    partial: String,
}

fn push_tail(tail: &mut Vec<String>, line: &str) {
    tail.push(line.trim_end().to_string());
    if tail.len() > TAIL_LINES {
        tail.remove(0);
    }
}

/// Runs one build request, turning the builder's output into progress; returns the image id. The classic builder
/// sends text (`Step 2/4 : RUN …` and the step's output); BuildKit sends its solve status (steps as vertexes, their
/// logs by vertex) and the image id at the end.
async fn run_build(stream: impl Stream<Item = Result<BuildInfo, bollard::errors::Error>>, progress: &dyn ProgressSink) -> Result<String, Failure> {
    let mut stream = std::pin::pin!(stream);

    let mut step: Option<String> = None;
    let mut tail: Vec<String> = Vec::new();
    let mut image_id: Option<String> = None;
    let mut failure: Option<String> = None;
    let mut answered = false;
    // BuildKit: its steps by digest, in the order they appeared; the one that failed.
    let mut vertexes: Vec<(String, Vertex)> = Vec::new();
    let mut failed: Option<String> = None;
    while let Some(item) = stream.next().await {
        match item {
            Ok(info) => {
                match info.aux {
                    Some(BuildInfoAux::Default(id)) => {
                        if let Some(id) = id.id {
                            image_id = Some(id);
                        }
                    }
                    Some(BuildInfoAux::BuildKit(status)) => {
                        answered = true;
                        for v in status.vertexes {
                            let i = match vertexes.iter().position(|(d, _)| *d == v.digest) {
                                Some(i) => i,
                                None => {
                                    vertexes.push((v.digest.clone(), Vertex { name: v.name.clone(), ..Default::default() }));
                                    vertexes.len() - 1
                                }
                            };
                            let known = &mut vertexes[i].1;
                            if v.started.is_some() && !known.announced {
                                known.announced = true;
                                progress.step("build", &known.name);
                            }
                            if v.cached && v.completed.is_some() {
                                progress.log("build", &format!("CACHED {}", known.name));
                            }
                            if !v.error.is_empty() {
                                failed = Some(v.digest.clone());
                            }
                        }
                        for l in status.logs {
                            let Some((_, known)) = vertexes.iter_mut().find(|(d, _)| *d == l.vertex) else { continue };
                            let text = format!("{}{}", std::mem::take(&mut known.partial), strip_ansi(&String::from_utf8_lossy(&l.msg)));
                            let mut lines: Vec<&str> = text.split('\n').collect();
                            known.partial = lines.pop().unwrap_or_default().to_string();
                            for line in lines.into_iter().map(|l| l.trim_end_matches('\r')).filter(|l| !l.trim().is_empty()) {
                                push_tail(&mut known.tail, line);
                                progress.log("build", line);
                            }
                        }
                    }
                    None => {}
                }
                if let Some(text) = info.stream.as_deref() {
                    let text = strip_ansi(text);
                    for line in text.split('\n').map(|l| l.trim_end_matches('\r')).filter(|l| !l.trim().is_empty()) {
                        if let Some(s) = line.strip_prefix("Step ") {
                            answered = true;
                            step = Some(image_builder::classic_step_label(s));
                            tail.clear();
                            progress.step("build", line);
                        } else {
                            if !is_builder_noise(line) {
                                push_tail(&mut tail, line);
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
    // BuildKit: the failing step (else the last one that started), its name as the classic builder's, its output.
    if !vertexes.is_empty() {
        let culprit = failed.as_ref().and_then(|d| vertexes.iter().find(|(v, _)| v == d)).or_else(|| vertexes.iter().rev().find(|(_, v)| v.announced));
        if let Some((_, v)) = culprit {
            step = Some(image_builder::step_label(&v.name));
            tail = v.tail.clone();
            if !v.partial.trim().is_empty() {
                push_tail(&mut tail, &v.partial);
            }
        }
    }
    if let Some(message) = failure {
        return Err(Failure { error: UpError::BuildFailed { step, message: message.trim().to_string(), tail }, builder_answered: answered });
    }
    match image_id {
        Some(id) => Ok(id),
        None => Err(Failure { error: UpError::BuildFailed { step, message: "the daemon did not report an image id".into(), tail }, builder_answered: answered }),
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
