//! The JSON contract with the extension and scripts, as types: the `--json` envelope on stdout, the JSON Lines
//! events on stderr, and the `data` of the commands the extension reads (doctor, init, up, verify).
//!
//! These types are what is serialised, so the output cannot drift from them; `schema/devgpu-output.schema.json`
//! is generated from them (schemars) and `vscode-ext/src/core/contract.ts` from that schema, and
//! `tests/contract.rs` fails when either committed file differs from what the types give today.
//!
//! Facts that the extension shows but does not interpret (the host facts, the project scan, the target) stay open
//! objects in the schema: their shape is documented by their Rust types and may grow without a contract change.

use crate::checks::Check;
use crate::compat::{Stack, TargetHost};
use crate::error::CliError;
use crate::plan::PlannedFile;
use schemars::JsonSchema;
use serde::Serialize;

/// Any JSON object (facts shown as they are).
type OpenObject = serde_json::Map<String, serde_json::Value>;

/// Whether the command succeeded. A command that ran to the end but found a failing check is an `error` too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Success,
    Error,
}

/// What every `--json` run prints on stdout: exactly one envelope, on success and on failure.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Envelope<'a> {
    /// The version of this contract; a reader refuses a version it does not know.
    pub schema_version: u32,
    /// The subcommand, e.g. `doctor`, `init`, `up`, `verify` (`host configure-docker` for nested ones).
    pub command: &'a str,
    pub outcome: Outcome,
    /// The command's result ([`DoctorData`], [`InitData`], [`UpData`], [`VerifyData`], …); absent when it failed
    /// before producing one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<serde_json::Value>,
    /// Why the command failed; absent on success and when only a check failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'a CliError>,
}

/// One JSON Lines event on stderr while a `--json` command runs.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(tag = "type", content = "data", rename_all = "lowercase")]
pub enum Event<'a> {
    /// A new step began.
    Progress(ProgressEvent<'a>),
    /// A line of output from something devgpu runs (the image build, a lifecycle command).
    Log(LogEvent<'a>),
    /// A check's result as soon as it is known (doctor, verify).
    Check(&'a Check),
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ProgressEvent<'a> {
    /// A stable id: `build`, `create`, `lifecycle`, …
    pub step: &'a str,
    /// What happens now, for people.
    pub message: &'a str,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct LogEvent<'a> {
    /// What printed it, e.g. `build` or a lifecycle hook's name.
    pub source: &'a str,
    pub line: &'a str,
}

/// `doctor`'s data.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DoctorData<'a> {
    /// The host facts the checks were made from (see `HostFacts` in the Rust sources).
    #[schemars(with = "OpenObject")]
    pub host: &'a crate::host::facts::HostFacts,
    pub checks: &'a [Check],
}

/// One file of `init`'s plan.
#[derive(Debug, Serialize, JsonSchema)]
pub struct InitFile<'a> {
    #[serde(flatten)]
    pub file: &'a PlannedFile,
    /// The unified diff of the change (dry run only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<&'a str>,
}

/// `init`'s data.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct InitData<'a> {
    /// The project folder, absolute.
    pub root: &'a str,
    pub dry_run: bool,
    /// What the project scan found (see `ProjectFacts` in the Rust sources).
    #[schemars(with = "OpenObject")]
    pub project: &'a crate::project::ProjectFacts,
    /// The GPU host the stack was resolved for.
    #[schemars(with = "OpenObject")]
    pub target: &'a TargetHost,
    pub stack: &'a Stack,
    /// False when the user's Dockerfile or image was kept: `stack` is what devgpu would write, not what runs.
    pub stack_applied: bool,
    pub files: Vec<InitFile<'a>>,
    pub warnings: &'a [String],
    /// How the container gets the GPU (absent: the config's own GPU request was kept).
    #[schemars(with = "Option<OpenObject>")]
    pub gpu_mode: &'a Option<super::GpuModeChoice>,
    /// Where the facts the stack was resolved against came from.
    #[schemars(with = "OpenObject")]
    pub facts: &'a crate::compat::live::FactsProvenance,
}

/// The GPU part of [`UpData`].
#[derive(Debug, PartialEq, Serialize, JsonSchema)]
pub struct UpGpu<'a> {
    /// devcontainer.json asks for GPUs with `--gpus`.
    pub requested: bool,
    /// The `--gpus` value asked for (`all`, `2`, `device=0,2`).
    pub request: Option<&'a str>,
    /// `hostRequirements.gpu: "optional"`: the container starts without a GPU when the host has none.
    pub optional: bool,
    /// The container got the GPU it asked for.
    pub granted: bool,
    /// GPUs handed in without `--gpus` (device nodes or CDI devices).
    pub injected: Option<&'a str>,
}

/// `up`'s data (also `verify`'s `container`).
#[derive(Debug, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpData<'a> {
    pub container_id: &'a str,
    pub container_name: &'a str,
    pub image: &'a str,
    /// An existing container was used as it was.
    pub reused: bool,
    /// A stale container was replaced.
    pub recreated: bool,
    /// The image was built in this run.
    pub built: bool,
    /// This run started the container.
    pub started: bool,
    pub gpu: UpGpu<'a>,
    /// Where the workspace is inside the container.
    pub workspace_folder: &'a str,
    pub remote_user: &'a str,
    /// What became of `updateRemoteUserUID`: `{"applied": true, "user", "uid", "gid", "image", "built"}` or
    /// `{"applied": false, "reason"}`; null when it did not apply.
    #[serde(rename = "updateRemoteUserUID")]
    #[schemars(with = "Option<OpenObject>")]
    pub update_remote_user_uid: Option<serde_json::Value>,
    pub warnings: &'a [String],
}

impl<'a> From<&'a crate::plan::up::UpOutcome> for UpData<'a> {
    fn from(o: &'a crate::plan::up::UpOutcome) -> Self {
        UpData {
            container_id: &o.container_id,
            container_name: &o.container_name,
            image: &o.image,
            reused: o.reused,
            recreated: o.recreated,
            built: o.built,
            started: o.started,
            gpu: UpGpu {
                requested: o.gpu_requested.is_some(),
                request: o.gpu_requested.as_deref(),
                optional: o.gpu_optional,
                granted: o.gpu_granted,
                injected: o.gpu_injected.as_deref(),
            },
            workspace_folder: &o.workspace_folder,
            remote_user: &o.remote_user,
            update_remote_user_uid: o.uid.as_ref().map(|u| u.to_json()),
            warnings: &o.warnings,
        }
    }
}

/// `verify`'s data.
#[derive(Debug, Serialize, JsonSchema)]
pub struct VerifyData<'a> {
    /// The container that was verified, as `up` reports it.
    #[schemars(with = "UpData")]
    pub container: serde_json::Value,
    pub checks: &'a [Check],
    /// No check failed.
    pub passed: bool,
    /// `removed` / `stopped` when verify cleaned up a container it had started.
    pub cleanup: Option<&'a str>,
}

/// The whole contract, for the schema: an envelope (stdout) or an event (stderr), and the command data types the
/// `data` of an envelope holds, by `command`.
#[derive(JsonSchema)]
#[schemars(title = "devgpu output", description = "What devgpu prints with --json: one Envelope on stdout, Event lines on stderr.")]
#[allow(dead_code)] // only its schema is used
#[serde(untagged)]
pub enum Output<'a> {
    Envelope(Envelope<'a>),
    Event(Event<'a>),
}

/// The JSON Schema of the output (draft 2020-12; what devgpu writes, so a field it always writes is required), with the command data types among its definitions.
pub fn schema() -> serde_json::Value {
    let mut generator = schemars::generate::SchemaSettings::draft2020_12().for_serialize().into_generator();
    for s in [
        generator.subschema_for::<DoctorData>(),
        generator.subschema_for::<InitData>(),
        generator.subschema_for::<UpData>(),
        generator.subschema_for::<VerifyData>(),
    ] {
        debug_assert!(s.get("$ref").is_some());
    }
    let root = generator.root_schema_for::<Output>();
    let mut v = serde_json::to_value(root).expect("a schema serialises");
    let defs = generator.take_definitions(true);
    let obj = v.as_object_mut().expect("the root schema is an object");
    let all = obj.entry("$defs").or_insert_with(|| serde_json::Value::Object(Default::default()));
    for (k, d) in defs {
        all.as_object_mut().expect("$defs is an object").entry(k).or_insert(d);
    }
    // Sorted definitions: the committed file changes only where a type does.
    if let Some(serde_json::Value::Object(m)) = obj.get_mut("$defs") {
        let mut sorted: Vec<_> = std::mem::take(m).into_iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        m.extend(sorted);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::up::UpOutcome;

    /// `up`'s data, as the extension reads it: every field, the GPU request as a flag and its text, the uid
    /// mapping's outcome.
    #[test]
    fn up_data_has_the_fields_the_extension_reads() {
        let mut o = UpOutcome {
            container_id: "3f2a9c1b7d4e".into(),
            container_name: "devgpu-x".into(),
            image: "devgpu-x:latest".into(),
            reused: false,
            created: true,
            started: true,
            recreated: false,
            built: true,
            gpu_requested: Some("all".into()),
            gpu_optional: false,
            gpu_granted: true,
            gpu_injected: None,
            workspace_folder: "/workspaces/x".into(),
            remote_user: "dev".into(),
            uid: None,
            warnings: vec!["w".into()],
        };
        let data = |o: &UpOutcome| serde_json::to_value(UpData::from(o)).unwrap();
        assert_eq!(
            data(&o),
            serde_json::json!({
                "containerId": "3f2a9c1b7d4e", "containerName": "devgpu-x", "image": "devgpu-x:latest",
                "reused": false, "recreated": false, "built": true, "started": true,
                "gpu": {"requested": true, "request": "all", "optional": false, "granted": true, "injected": null},
                "workspaceFolder": "/workspaces/x", "remoteUser": "dev", "updateRemoteUserUID": null, "warnings": ["w"],
            })
        );
        o.gpu_requested = None;
        o.gpu_injected = Some("2".into());
        o.uid = Some(crate::plan::remote_user::UidOutcome::Skipped("root".into()));
        let d = data(&o);
        assert_eq!(d["gpu"]["requested"], false);
        assert_eq!(d["gpu"]["injected"], "2");
        assert_eq!(d["updateRemoteUserUID"], serde_json::to_value(o.uid.as_ref().unwrap().to_json()).unwrap());
    }

    #[test]
    fn events_serialise_as_json_lines_did() {
        let e = Event::Progress(ProgressEvent { step: "build", message: "building" });
        assert_eq!(serde_json::to_string(&e).unwrap(), r#"{"type":"progress","data":{"step":"build","message":"building"}}"#);
        let c = Check::pass("gpu.visible", "1 GPU");
        assert_eq!(serde_json::to_string(&Event::Check(&c)).unwrap(), r#"{"type":"check","data":{"id":"gpu.visible","status":"pass","summary":"1 GPU","fix":null}}"#);
    }
}
