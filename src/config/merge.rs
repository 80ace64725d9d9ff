//! Merging devgpu's GPU settings into an existing devcontainer.json by editing its CST: comments, key order,
//! indentation (tabs or spaces), line endings, trailing commas and a byte order mark stay as written; only what
//! must change changes, and merging the result again changes nothing (byte-identical).
//!
//! Where new things go: new top-level properties are appended after the last real property (before comments
//! that trail it, such as the templates' commented-out `// "remoteUser": "root"`), in the order build, runArgs,
//! hostRequirements, customizations, remoteUser; a missing `name` goes first. New runArgs items, extensions and
//! build keys are appended to their array or object. An `image` that gives way to devgpu's `build` is replaced in
//! place (same position, comments around it kept).
//!
//! The merge looks at everything it will touch before it edits anything, so an error leaves nothing half done and
//! names the place in the file as it was read.
//!
//! Known limits of the CST edits (jsonc-parser 0.34): inserting into an object or array drops blank lines directly
//! after its opening or before its closing bracket, and a single-line object that gains a property is spread over
//! several lines. Neither loses a comment or a value.

use jsonc_parser::cst::{CstArray, CstInputValue, CstNode, CstObject, CstObjectProp, CstRootNode, TrailingCommaMode};

use super::error::ConfigError;
use super::jsonc::{parse_options, split_bom, syntax_error};
use super::run_args::{self, GpuRequest};
use super::settings::{BuildSettings, GpuSettings, MergeOutcome};
use super::tree::{decoded_string, kind_name, prop_value, quote, to_input, to_serde, Doc};

/// Merges `settings` into the devcontainer.json text `existing` (`file` names it in errors and notes).
///
/// Refuses (with nothing changed) text that is not JSONC, a top level that is not an object, a Docker Compose
/// config (`dockerComposeFile`), duplicate keys or wrong types in what it has to edit.
pub fn merge_gpu_settings(existing: &str, file: &str, settings: &GpuSettings) -> Result<MergeOutcome, ConfigError> {
    let (bom, body) = split_bom(existing);
    let root = CstRootNode::parse(body, &parse_options()).map_err(|e| syntax_error(body, file, &e))?;
    let doc = Doc { text: body, file };
    let Some(value) = root.value() else {
        return Err(ConfigError::Empty { file: file.to_string() });
    };
    let Some(obj) = value.as_object() else {
        let (line, column) = doc.pos(&value);
        return Err(ConfigError::NotObject { file: file.to_string(), line, column, found: kind_name(&value) });
    };

    let found = Found::inspect(&doc, &obj, settings)?;
    let mut merge = Merge { obj: &obj, changes: Vec::new(), notes: Vec::new() };
    merge.name(&found, settings);
    if let Some(build) = &settings.build {
        merge.build(&found, build);
    }
    merge.run_args(&found, settings);
    merge.host_requirements(&found, settings);
    merge.extensions(&found, settings);
    merge.remote_user(&found, settings);

    let Merge { changes, notes, .. } = merge;
    let text = if changes.is_empty() {
        debug_assert_eq!(root.to_string(), body, "the tree changed although no change was recorded");
        existing.to_string()
    } else {
        format!("{bom}{root}")
    };
    Ok(MergeOutcome { text, changes, notes })
}

/// A string item of an array with where it was written.
struct Item {
    value: String,
    at: String,
}

/// What the merge will touch, looked up and type-checked before any edit.
#[derive(Default)]
struct Found {
    name: Option<CstObjectProp>,
    image: Option<CstObjectProp>,
    build: Option<CstObject>,
    build_dockerfile: Option<(CstObjectProp, String)>,
    build_context: Option<(CstObjectProp, String)>,
    build_args: Option<CstObject>,
    /// The legacy top-level form: `"dockerFile": "…"` with a top-level `"context"`.
    legacy_dockerfile: Option<(CstObjectProp, String)>,
    legacy_context: Option<(CstObjectProp, String)>,
    run_args: Option<(CstArray, Vec<Item>)>,
    host_requirements: Option<CstObject>,
    host_gpu: Option<(serde_json::Value, String)>,
    customizations: Option<CstObject>,
    vscode: Option<CstObject>,
    extensions: Option<(CstArray, Vec<String>)>,
    remote_user: Option<(CstNode, String)>,
}

impl Found {
    fn inspect(doc: &Doc<'_>, obj: &CstObject, settings: &GpuSettings) -> Result<Found, ConfigError> {
        if let Some(compose) = doc.prop(obj, "dockerComposeFile", "dockerComposeFile")? {
            let (line, column) = doc.pos(&compose.into());
            let service =
                doc.prop(obj, "service", "service").ok().flatten().and_then(|p| decoded_string(&prop_value(&p)));
            return Err(ConfigError::ComposeUnsupported { file: doc.file.to_string(), line, column, service });
        }
        let mut found = Found::default();
        if settings.name.is_some() {
            found.name = doc.prop(obj, "name", "name")?;
        }
        if let Some(build) = &settings.build {
            found.image = doc.prop(obj, "image", "image")?;
            found.legacy_dockerfile = doc.string(obj, "dockerFile", "dockerFile")?;
            if found.legacy_dockerfile.is_some() {
                found.legacy_context = doc.string(obj, "context", "context")?;
            }
            if let Some((_, b)) = doc.object(obj, "build", "build")? {
                if found.legacy_dockerfile.is_none() {
                    found.build_dockerfile = doc.string(&b, "dockerfile", "build.dockerfile")?;
                    found.build_context = doc.string(&b, "context", "build.context")?;
                }
                if !build.args.is_empty() {
                    found.build_args = doc.object(&b, "args", "build.args")?.map(|(_, a)| a);
                }
                found.build = Some(b);
            }
        }
        if !settings.gpu_run_args.is_empty() || !settings.shm_run_args.is_empty() {
            if let Some((_, array)) = doc.array(obj, "runArgs", "runArgs")? {
                let mut items = Vec::new();
                for (i, element) in array.elements().iter().enumerate() {
                    let Some(value) = decoded_string(element) else {
                        return Err(doc.wrong_type(element, &format!("runArgs[{i}]"), "a string"));
                    };
                    items.push(Item { value, at: doc.at(element) });
                }
                found.run_args = Some((array, items));
            }
        }
        if settings.host_requirements_gpu.is_some() {
            if let Some((_, hr)) = doc.object(obj, "hostRequirements", "hostRequirements")? {
                if let Some(gpu) = doc.prop(&hr, "gpu", "hostRequirements.gpu")? {
                    let value = prop_value(&gpu);
                    found.host_gpu = to_serde(&value).map(|v| (v, doc.at(&value)));
                }
                found.host_requirements = Some(hr);
            }
        }
        if !settings.extensions.is_empty() {
            if let Some((_, c)) = doc.object(obj, "customizations", "customizations")? {
                if let Some((_, vscode)) = doc.object(&c, "vscode", "customizations.vscode")? {
                    if let Some((_, array)) = doc.array(&vscode, "extensions", "customizations.vscode.extensions")? {
                        // Entries that are not strings are left alone; VS Code ignores them too.
                        let ids = array.elements().iter().filter_map(decoded_string).collect();
                        found.extensions = Some((array, ids));
                    }
                    found.vscode = Some(vscode);
                }
                found.customizations = Some(c);
            }
        }
        if settings.remote_user.is_some() {
            found.remote_user = doc.prop(obj, "remoteUser", "remoteUser")?.map(|p| {
                let value = prop_value(&p);
                let at = doc.at(&value);
                (value, at)
            });
        }
        Ok(found)
    }
}

struct Merge<'a> {
    obj: &'a CstObject,
    changes: Vec<String>,
    notes: Vec<String>,
}

impl Merge<'_> {
    fn name(&mut self, found: &Found, settings: &GpuSettings) {
        let Some(name) = &settings.name else { return };
        if found.name.is_none() {
            self.obj.insert(0, "name", CstInputValue::String(name.clone()));
            self.changes.push(format!("added name {}", quote(name)));
        }
    }

    fn build(&mut self, found: &Found, build: &BuildSettings) {
        if let Some((dockerfile_prop, current)) = &found.legacy_dockerfile {
            // Keep the legacy form the file uses: top-level dockerFile and context, build options under "build".
            self.set_string(dockerfile_prop, current, &build.dockerfile, "dockerFile");
            match &found.legacy_context {
                Some((prop, current)) => self.set_string(prop, current, &build.context, "context"),
                None => {
                    self.obj.insert(dockerfile_prop.property_index() + 1, "context", build.context.clone().into());
                    self.changes.push(format!("added context {}", quote(&build.context)));
                }
            }
            match &found.build {
                Some(b) => self.set_build_args(b, found.build_args.as_ref(), &build.args),
                None if !build.args.is_empty() => {
                    self.obj
                        .append("build", CstInputValue::Object(vec![("args".to_string(), args_input(&build.args))]));
                    self.changes.push(format!("added build.args {}", describe_args(&build.args)));
                }
                None => {}
            }
            self.remove_image(found);
            return;
        }
        match (&found.build, &found.image) {
            (Some(b), _) => {
                match &found.build_dockerfile {
                    Some((prop, current)) => self.set_string(prop, current, &build.dockerfile, "build.dockerfile"),
                    None => {
                        b.append("dockerfile", build.dockerfile.clone().into());
                        self.changes.push(format!("added build.dockerfile {}", quote(&build.dockerfile)));
                    }
                }
                match &found.build_context {
                    Some((prop, current)) => self.set_string(prop, current, &build.context, "build.context"),
                    None => {
                        b.append("context", build.context.clone().into());
                        self.changes.push(format!("added build.context {}", quote(&build.context)));
                    }
                }
                self.set_build_args(b, found.build_args.as_ref(), &build.args);
                self.remove_image(found);
            }
            (None, Some(image)) => {
                let old = to_serde(&prop_value(image)).map(|v| v.to_string()).unwrap_or_default();
                if let Some(name) = image.name().and_then(|n| n.as_string_lit()) {
                    name.set_raw_value(quote("build"));
                    image.set_value(build_input(build));
                    // set_value styles the new object after the string it replaced: follow the file instead.
                    if uses_trailing_commas(self.obj) {
                        if let Some(new_build) = image.object_value() {
                            new_build.set_trailing_commas(TrailingCommaMode::IfMultiline);
                        }
                    }
                    self.changes.push(format!("replaced image {old} with build ({})", describe_build(build)));
                } else {
                    // Unquoted property names are refused by the parser, so this is not reached; stay correct anyway.
                    image.clone().remove();
                    self.obj.append("build", build_input(build));
                    self.changes.push(format!("removed image {old}"));
                    self.changes.push(format!("added build ({})", describe_build(build)));
                }
            }
            (None, None) => {
                self.obj.append("build", build_input(build));
                self.changes.push(format!("added build ({})", describe_build(build)));
            }
        }
    }

    /// A config cannot have both `image` and `build`: once devgpu owns the build, the image goes.
    fn remove_image(&mut self, found: &Found) {
        if let Some(image) = &found.image {
            let old = to_serde(&prop_value(image)).map(|v| v.to_string()).unwrap_or_default();
            image.clone().remove();
            self.changes.push(format!("removed image {old}: devgpu builds the image from the Dockerfile instead"));
        }
    }

    fn set_string(&mut self, prop: &CstObjectProp, current: &str, wanted: &str, path: &str) {
        if current != wanted {
            prop.set_value(wanted.to_string().into());
            self.changes.push(format!("set {path} to {} (was {})", quote(wanted), quote(current)));
        }
    }

    fn set_build_args(&mut self, build: &CstObject, args_obj: Option<&CstObject>, args: &[(String, String)]) {
        if args.is_empty() {
            return;
        }
        let Some(args_obj) = args_obj else {
            build.append("args", args_input(args));
            self.changes.push(format!("added build.args {}", describe_args(args)));
            return;
        };
        for (key, value) in args {
            match args_obj.get(key) {
                Some(prop) => {
                    let current = prop.value().and_then(|v| to_serde(&v));
                    if current.as_ref().and_then(|c| c.as_str()) != Some(value.as_str()) {
                        let was = current.map(|c| c.to_string()).unwrap_or_default();
                        prop.set_value(value.clone().into());
                        self.changes.push(format!("set build.args.{key} to {} (was {was})", quote(value)));
                    }
                }
                None => {
                    args_obj.append(key, value.clone().into());
                    self.changes.push(format!("added build.args.{key} {}", quote(value)));
                }
            }
        }
    }

    fn run_args(&mut self, found: &Found, settings: &GpuSettings) {
        if settings.gpu_run_args.is_empty() && settings.shm_run_args.is_empty() {
            return;
        }
        // The current items, each with where its original item was written.
        let mut items: Vec<(String, String)> = Vec::new();
        if let Some((array, original)) = &found.run_args {
            items = original.iter().map(|i| (i.value.clone(), i.at.clone())).collect();
            let values: Vec<String> = items.iter().map(|(v, _)| v.clone()).collect();
            for index in run_args::joined_items(&values).into_iter().rev() {
                let (flag, value) =
                    run_args::split_joined(&values[index]).expect("joined_items returns splittable items");
                let element = &array.elements()[index];
                if let Some(lit) = element.as_string_lit() {
                    lit.set_raw_value(quote(&flag));
                    array.insert(index + 1, value.clone().into());
                    self.changes.push(format!(
                        "split runArgs item {} at {} into {}, {}: Docker reads one item as one (unknown) flag",
                        quote(&values[index]),
                        items[index].1,
                        quote(&flag),
                        quote(&value)
                    ));
                    let at = items[index].1.clone();
                    items.splice(index..=index, [(flag, at.clone()), (value, at)]);
                }
            }
        }
        let mut to_add: Vec<String> = Vec::new();
        // An explicitly chosen GPU mode replaces the GPU items of another (or an outdated inject block).
        let mut replaced = false;
        if settings.replace_gpu_request && !settings.gpu_run_args.is_empty() {
            let values: Vec<String> = items.iter().map(|(v, _)| v.clone()).collect();
            let existing = crate::plan::cdi::gpu_items(&values);
            let current: Vec<String> = existing.iter().flat_map(|(i, n)| values[*i..*i + *n].iter().cloned()).collect();
            // Another mode, or an inject block (host facts: nodes, driver paths) that changed; the same mode with
            // another selection is kept (with a note below), as without --gpu-mode.
            let kind = |a: &[String]| std::mem::discriminant(&run_args::gpu_request(a).unwrap_or(GpuRequest::Gpus(None)));
            let inject = matches!(run_args::gpu_request(&settings.gpu_run_args), Some(GpuRequest::DeviceNodes(_)));
            let differs = kind(&current) != kind(&settings.gpu_run_args) || (inject && current != settings.gpu_run_args);
            if !existing.is_empty() && differs {
                let drop: Vec<usize> = existing.iter().flat_map(|(i, n)| *i..*i + *n).collect();
                if let Some((array, _)) = &found.run_args {
                    let spaced = array.to_string().starts_with("[ ");
                    let elements = array.elements();
                    for &k in drop.iter().rev() {
                        elements[k].clone().remove();
                    }
                    // Removing the first items leaves the space that followed them after `[` on one line.
                    let kids = array.children();
                    if !spaced && !kids.iter().any(|k| k.as_newline().is_some()) {
                        if let Some(ws) = kids.get(1).filter(|k| k.as_whitespace().is_some()) {
                            ws.clone().remove();
                        }
                    }
                }
                let mut k = 0;
                items.retain(|_| {
                    k += 1;
                    !drop.contains(&(k - 1))
                });
                self.changes.push(format!("replaced `{}` in runArgs with `{}`", current.join(" "), settings.gpu_run_args.join(" ")));
                to_add.extend(settings.gpu_run_args.iter().cloned());
            }
            replaced = !existing.is_empty() && differs;
        }
        let values: Vec<String> = items.iter().map(|(v, _)| v.clone()).collect();

        if !settings.gpu_run_args.is_empty() && !replaced {
            let wanted = run_args::gpu_request(&settings.gpu_run_args);
            let existing = run_args::gpu_requests(&values);
            match existing.first() {
                None => {
                    to_add.extend(settings.gpu_run_args.iter().cloned());
                    self.changes.push(format!("added {} to runArgs", settings.gpu_run_args.join(" ")));
                    if run_args::has_nvidia_runtime(&values) {
                        self.notes.push(format!(
                            "runArgs also sets --runtime=nvidia; kept it ({} is what requests the GPUs)",
                            settings.gpu_run_args.join(" ")
                        ));
                    }
                }
                Some((flag, GpuRequest::Gpus(None))) if matches!(wanted, Some(GpuRequest::Gpus(Some(_)))) => {
                    // `--gpus` ends the list without a value: docker refuses it ("flag needs an argument").
                    let Some(GpuRequest::Gpus(Some(value))) = wanted else { unreachable!() };
                    self.changes.push(format!(
                        "added the missing value {} after the --gpus that ends runArgs ({})",
                        quote(&value),
                        items[flag.index].1
                    ));
                    to_add.push(value);
                }
                Some((flag, request)) => {
                    if let Some(wanted) = wanted.filter(|w| !w.same_as(request)) {
                        let how = match request {
                            GpuRequest::Gpus(_) => "",
                            GpuRequest::Cdi(_) => " through CDI",
                            GpuRequest::DeviceNodes(_) => " by passing NVIDIA device nodes",
                        };
                        self.notes.push(format!(
                            "runArgs already requests GPUs{how} with `{}` ({}); kept it instead of `{wanted}`",
                            flag.display(&values),
                            items[flag.index].1
                        ));
                    }
                }
            }
        }

        if !settings.shm_run_args.is_empty() {
            let wanted = run_args::shm_setting(&settings.shm_run_args);
            match run_args::shm_settings(&values).first() {
                None => {
                    to_add.extend(settings.shm_run_args.iter().cloned());
                    self.changes.push(format!("added {} to runArgs", settings.shm_run_args.join(" ")));
                }
                // `--ipc=host` shares the host's /dev/shm: at least as good as any size, so no note for it.
                Some((_, run_args::ShmSetting::Ipc(Some(mode)))) if mode == "host" => {}
                Some((flag, setting)) => {
                    if let Some(wanted) = wanted.filter(|w| !w.same_as(setting)) {
                        self.notes.push(format!(
                            "runArgs already sets shared memory with `{}` ({}); kept it instead of `{wanted}`",
                            flag.display(&values),
                            items[flag.index].1
                        ));
                    }
                }
            }
        }

        if to_add.is_empty() {
            return;
        }
        match &found.run_args {
            Some((array, _)) => {
                for item in to_add {
                    array.append(item.into());
                }
            }
            None => {
                self.obj.append("runArgs", CstInputValue::Array(to_add.into_iter().map(Into::into).collect()));
            }
        }
    }

    fn host_requirements(&mut self, found: &Found, settings: &GpuSettings) {
        let Some(gpu) = &settings.host_requirements_gpu else { return };
        match (&found.host_requirements, &found.host_gpu) {
            (None, _) => {
                self.obj.append("hostRequirements", CstInputValue::Object(vec![("gpu".to_string(), to_input(gpu))]));
                self.changes.push(format!("added hostRequirements.gpu {gpu}"));
            }
            (Some(hr), None) => {
                hr.append("gpu", to_input(gpu));
                self.changes.push(format!("added hostRequirements.gpu {gpu}"));
            }
            (Some(_), Some((current, at))) => {
                if current != gpu {
                    self.notes.push(format!("kept hostRequirements.gpu {current} ({at}) instead of {gpu}"));
                }
            }
        }
    }

    fn extensions(&mut self, found: &Found, settings: &GpuSettings) {
        let existing: Vec<String> = found.extensions.as_ref().map(|(_, ids)| ids.clone()).unwrap_or_default();
        let mut missing: Vec<String> = Vec::new();
        for id in &settings.extensions {
            let present = |candidate: &String| candidate.eq_ignore_ascii_case(id);
            if existing.iter().any(present) || missing.iter().any(present) {
                continue;
            }
            // A leading "-" tells VS Code not to install an extension (e.g. one a Feature adds): respect it.
            if let Some(disabled) =
                existing.iter().find(|e| e.strip_prefix('-').is_some_and(|e| e.eq_ignore_ascii_case(id)))
            {
                self.notes.push(format!(
                    "kept {} in customizations.vscode.extensions: it asks VS Code not to install {id}, so devgpu did not add it",
                    quote(disabled)
                ));
                continue;
            }
            missing.push(id.clone());
        }
        if missing.is_empty() {
            return;
        }
        let list = || CstInputValue::Array(missing.iter().cloned().map(Into::into).collect());
        match (&found.customizations, &found.vscode, &found.extensions) {
            (_, _, Some((array, _))) => {
                for id in &missing {
                    array.append(id.clone().into());
                }
            }
            (_, Some(vscode), None) => {
                vscode.append("extensions", list());
            }
            (Some(c), None, _) => {
                c.append("vscode", CstInputValue::Object(vec![("extensions".to_string(), list())]));
            }
            (None, None, None) => {
                let vscode = CstInputValue::Object(vec![("extensions".to_string(), list())]);
                self.obj.append("customizations", CstInputValue::Object(vec![("vscode".to_string(), vscode)]));
            }
        }
        for id in &missing {
            self.changes.push(format!("added {id} to customizations.vscode.extensions"));
        }
    }

    fn remote_user(&mut self, found: &Found, settings: &GpuSettings) {
        let Some(user) = &settings.remote_user else { return };
        match &found.remote_user {
            None => {
                self.obj.append("remoteUser", user.clone().into());
                self.changes.push(format!("added remoteUser {}", quote(user)));
            }
            Some((value, at)) => {
                if decoded_string(value).as_deref() != Some(user.as_str()) {
                    self.notes.push(format!(
                        "kept remoteUser {} ({at}) instead of {}",
                        value.to_string().trim(),
                        quote(user)
                    ));
                }
            }
        }
    }
}

/// Sets top-level string properties that are already there (`remoteUser`, `containerUser`…) to new values, in place
/// (comments around them stay). Absent properties are not added; equal ones change nothing. Returns the text and,
/// per changed key, its old value.
pub fn replace_string_props(existing: &str, file: &str, props: &[(&str, &str)]) -> Result<(String, Vec<(String, String)>), ConfigError> {
    let (bom, body) = split_bom(existing);
    let root = CstRootNode::parse(body, &parse_options()).map_err(|e| syntax_error(body, file, &e))?;
    let doc = Doc { text: body, file };
    let Some(obj) = root.value().and_then(|v| v.as_object()) else { return Ok((existing.to_string(), Vec::new())) };
    let mut changed = Vec::new();
    for (key, value) in props {
        let Some(prop) = doc.prop(&obj, key, key)? else { continue };
        let old = prop_value(&prop);
        if decoded_string(&old).as_deref() == Some(*value) {
            continue;
        }
        changed.push((key.to_string(), old.to_string().trim().to_string()));
        prop.set_value(CstInputValue::String(value.to_string()));
    }
    let text = if changed.is_empty() { existing.to_string() } else { format!("{bom}{root}") };
    Ok((text, changed))
}

/// Whether the file ends its multi-line objects with a trailing comma (judged by the top-level object).
fn uses_trailing_commas(obj: &CstObject) -> bool {
    let multiline = obj.children().iter().any(|c| c.is_newline());
    multiline && obj.properties().last().is_some_and(|p| p.trailing_comma().is_some())
}

fn args_input(args: &[(String, String)]) -> CstInputValue {
    CstInputValue::Object(args.iter().map(|(k, v)| (k.clone(), v.clone().into())).collect())
}

fn build_input(build: &BuildSettings) -> CstInputValue {
    let mut props = vec![
        ("dockerfile".to_string(), CstInputValue::String(build.dockerfile.clone())),
        ("context".to_string(), CstInputValue::String(build.context.clone())),
    ];
    if !build.args.is_empty() {
        props.push(("args".to_string(), args_input(&build.args)));
    }
    CstInputValue::Object(props)
}

fn describe_build(build: &BuildSettings) -> String {
    let mut s = format!("dockerfile {}, context {}", quote(&build.dockerfile), quote(&build.context));
    if !build.args.is_empty() {
        s.push_str(&format!(", args {}", describe_args(&build.args)));
    }
    s
}

fn describe_args(args: &[(String, String)]) -> String {
    args.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests;
