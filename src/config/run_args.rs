//! Reading a `runArgs` list the way `docker run` reads it, for the flags devgpu cares about.
//!
//! What counts as an existing GPU request (devgpu then adds none of its own):
//! - `--gpus VALUE` (two items) and `--gpus=VALUE` (one item), any value (`all`, `2`, `"device=0,2"`, `count=2`);
//! - a CDI device: `--device nvidia.com/gpu=all` / `--device=nvidia.com/gpu=0` (any `nvidia.com/…` CDI name);
//! - NVIDIA device nodes passed by hand: `--device /dev/nvidia0`, `--device=/dev/nvidiactl` (devgpu's `inject`
//!   mode writes these; adding `--gpus` on top would fail on a host without the container toolkit).
//!
//! `--runtime=nvidia` alone does NOT count: that runtime only exposes GPUs when `NVIDIA_VISIBLE_DEVICES` is set
//! (the `nvidia/cuda` images set it, other images don't), while `--gpus` works on its own and combines with it.
//!
//! A flag and its value packed into one item with a space (`"--gpus all"`) is a classic mistake: Docker receives
//! one argument and answers `unknown flag: --gpus all`. [`split_joined`] finds those; they count as what they meant.

use std::fmt;

/// The flags whose "flag value" joined form devgpu recognises and splits.
pub const JOINABLE_FLAGS: &[&str] = &["--gpus", "--shm-size", "--ipc", "--device", "--runtime"];

/// One flag of interest found in a runArgs list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunArgFlag {
    /// Index of the item that holds the flag.
    pub index: usize,
    /// How many items the flag and its value take: 1 (`--gpus=all`, or joined `"--gpus all"`) or 2 (`--gpus`, `all`).
    pub items: usize,
    /// The flag and its value were packed into one item with a space (`"--gpus all"`): Docker rejects that.
    pub joined: bool,
    /// The flag, e.g. `--gpus`.
    pub flag: &'static str,
    /// The value as written; `None` when the flag ends the list without one.
    pub value: Option<String>,
}

impl RunArgFlag {
    /// The items as written, for messages: `--gpus all`, `--gpus=all`.
    pub fn display(&self, run_args: &[String]) -> String {
        run_args[self.index..(self.index + self.items).min(run_args.len())].join(" ")
    }
}

/// Reads the flags listed in [`JOINABLE_FLAGS`] out of a runArgs list (all three spellings).
pub fn scan_flags(run_args: &[String]) -> Vec<RunArgFlag> {
    let mut found = Vec::new();
    let mut i = 0;
    while i < run_args.len() {
        let item = run_args[i].as_str();
        if let Some(flag) = JOINABLE_FLAGS.iter().copied().find(|f| *f == item) {
            found.push(RunArgFlag { index: i, items: 2, joined: false, flag, value: run_args.get(i + 1).cloned() });
            i += 2;
            continue;
        }
        if let Some((flag, value)) = JOINABLE_FLAGS
            .iter()
            .find_map(|f| item.strip_prefix(f).and_then(|rest| rest.strip_prefix('=')).map(|v| (*f, v)))
        {
            found.push(RunArgFlag { index: i, items: 1, joined: false, flag, value: Some(value.to_string()) });
            i += 1;
            continue;
        }
        if let Some((flag, value)) = split_joined(item) {
            let flag = JOINABLE_FLAGS.iter().copied().find(|f| *f == flag).expect("split_joined returns a known flag");
            found.push(RunArgFlag { index: i, items: 1, joined: true, flag, value: Some(value) });
            i += 1;
            continue;
        }
        // Skip the value of another value-taking flag written as two items.
        // (the flag table is shared with the strict parser `up` uses: `docker_run_args::takes_value`)
        i += if super::docker_run_args::takes_value(item) { 2 } else { 1 };
    }
    found
}

/// `"--gpus all"` → `("--gpus", "all")`: a flag of [`JOINABLE_FLAGS`] and its value in one item, separated by
/// whitespace. `None` for anything else (`--gpus=all`, `--gpus`, `--label a b`).
pub fn split_joined(item: &str) -> Option<(String, String)> {
    let trimmed = item.trim();
    let (flag, rest) = trimmed.split_once(char::is_whitespace)?;
    if !JOINABLE_FLAGS.contains(&flag) {
        return None;
    }
    let value = rest.trim_start();
    let value = value.strip_prefix('=').map(str::trim_start).unwrap_or(value);
    if value.is_empty() {
        return None;
    }
    Some((flag.to_string(), value.to_string()))
}

/// How a runArgs list asks Docker for GPUs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GpuRequest {
    /// `--gpus VALUE`: the value as written (`all`, `2`, `"device=0,2"`); `None` when `--gpus` ends the list.
    Gpus(Option<String>),
    /// A CDI device: `--device nvidia.com/gpu=all`.
    Cdi(String),
    /// NVIDIA device nodes by hand: `--device /dev/nvidia0`.
    DeviceNodes(String),
}

impl GpuRequest {
    /// Whether two requests ask for the same GPUs the same way (`--gpus all` = `--gpus=all` = `--gpus count=all`,
    /// quotes around the value don't matter).
    pub fn same_as(&self, other: &GpuRequest) -> bool {
        match (self, other) {
            (GpuRequest::Gpus(a), GpuRequest::Gpus(b)) => {
                a.as_deref().map(normalize_gpus_value) == b.as_deref().map(normalize_gpus_value)
            }
            (GpuRequest::Cdi(a), GpuRequest::Cdi(b)) => a == b,
            (GpuRequest::DeviceNodes(_), GpuRequest::DeviceNodes(_)) => true,
            _ => false,
        }
    }
}

impl fmt::Display for GpuRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GpuRequest::Gpus(Some(v)) => write!(f, "--gpus {v}"),
            GpuRequest::Gpus(None) => write!(f, "--gpus"),
            GpuRequest::Cdi(d) | GpuRequest::DeviceNodes(d) => write!(f, "--device {d}"),
        }
    }
}

/// `"device=0,2"` → `device=0,2`, `count=all` → `all`.
fn normalize_gpus_value(v: &str) -> String {
    let v = v.trim();
    let v = v
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .or_else(|| v.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')))
        .unwrap_or(v);
    v.strip_prefix("count=").unwrap_or(v).to_string()
}

fn gpu_request_of(flag: &RunArgFlag) -> Option<GpuRequest> {
    match flag.flag {
        "--gpus" => Some(GpuRequest::Gpus(flag.value.clone())),
        "--device" => {
            let value = flag.value.as_deref()?;
            if value.starts_with("nvidia.com/") {
                Some(GpuRequest::Cdi(value.to_string()))
            } else if value.starts_with("/dev/nvidia") || value.contains(":/dev/nvidia") {
                Some(GpuRequest::DeviceNodes(value.to_string()))
            } else {
                None
            }
        }
        _ => None,
    }
}

/// Every GPU request in a runArgs list, with where it is.
pub fn gpu_requests(run_args: &[String]) -> Vec<(RunArgFlag, GpuRequest)> {
    scan_flags(run_args).into_iter().filter_map(|f| gpu_request_of(&f).map(|r| (f, r))).collect()
}

/// True when the runArgs already ask for GPUs in any of the forms listed in the module docs.
pub fn has_gpu_request(run_args: &[String]) -> bool {
    !gpu_requests(run_args).is_empty()
}

/// The GPU request a list of arguments makes (the first one), e.g. for devgpu's own `["--gpus", "all"]`.
pub fn gpu_request(run_args: &[String]) -> Option<GpuRequest> {
    gpu_requests(run_args).into_iter().next().map(|(_, r)| r)
}

/// True when the runArgs set `--runtime=nvidia` (in any spelling).
pub fn has_nvidia_runtime(run_args: &[String]) -> bool {
    scan_flags(run_args).iter().any(|f| f.flag == "--runtime" && f.value.as_deref() == Some("nvidia"))
}

/// How a runArgs list sizes the container's shared memory (`/dev/shm`, which PyTorch's DataLoader workers use).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShmSetting {
    /// `--shm-size 8g`
    ShmSize(Option<String>),
    /// `--ipc=host` (or another IPC mode)
    Ipc(Option<String>),
}

impl ShmSetting {
    pub fn same_as(&self, other: &ShmSetting) -> bool {
        fn norm(v: &Option<String>) -> Option<String> {
            v.as_deref().map(|s| s.trim().to_ascii_lowercase())
        }
        match (self, other) {
            (ShmSetting::ShmSize(a), ShmSetting::ShmSize(b)) | (ShmSetting::Ipc(a), ShmSetting::Ipc(b)) => {
                norm(a) == norm(b)
            }
            _ => false,
        }
    }
}

impl fmt::Display for ShmSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (flag, value) = match self {
            ShmSetting::ShmSize(v) => ("--shm-size", v),
            ShmSetting::Ipc(v) => ("--ipc", v),
        };
        match value {
            Some(v) => write!(f, "{flag} {v}"),
            None => write!(f, "{flag}"),
        }
    }
}

/// Every `--shm-size` / `--ipc` in a runArgs list.
pub fn shm_settings(run_args: &[String]) -> Vec<(RunArgFlag, ShmSetting)> {
    scan_flags(run_args)
        .into_iter()
        .filter_map(|f| {
            let s = match f.flag {
                "--shm-size" => ShmSetting::ShmSize(f.value.clone()),
                "--ipc" => ShmSetting::Ipc(f.value.clone()),
                _ => return None,
            };
            Some((f, s))
        })
        .collect()
}

/// True when the runArgs already set `--shm-size` or `--ipc` in any spelling.
pub fn has_shm_setting(run_args: &[String]) -> bool {
    !shm_settings(run_args).is_empty()
}

/// The shared-memory setting a list of arguments makes (the first one), e.g. for devgpu's own `["--shm-size", "8g"]`.
pub fn shm_setting(run_args: &[String]) -> Option<ShmSetting> {
    shm_settings(run_args).into_iter().next().map(|(_, s)| s)
}

/// Indices of items that pack a flag and its value into one string (`"--gpus all"`).
pub fn joined_items(run_args: &[String]) -> Vec<usize> {
    scan_flags(run_args).into_iter().filter(|f| f.joined).map(|f| f.index).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn every_spelling_of_gpus_counts() {
        for a in [
            &["--gpus", "all"][..],
            &["--gpus=all"],
            &["--gpus=1"],
            &["--gpus", "\"device=0,2\""],
            &["--cap-add=SYS_PTRACE", "--gpus", "2"],
            &["--gpus all"],
            &["--device", "nvidia.com/gpu=all"],
            &["--device=nvidia.com/gpu=0"],
            &["--device", "/dev/nvidia0"],
            &["--device=/dev/nvidiactl:/dev/nvidiactl:rwm"],
            &["--gpus"],
        ] {
            assert!(has_gpu_request(&args(a)), "{a:?}");
        }
    }

    #[test]
    fn other_things_are_not_gpu_requests() {
        for a in [
            &[][..],
            &["--runtime=nvidia"],
            &["--runtime", "nvidia"],
            &["-e", "NVIDIA_VISIBLE_DEVICES=all"],
            &["--device", "/dev/fuse"],
            &["--device=/dev/dri"],
            &["--label", "--gpus=all"],
            &["--gpusx=all"],
            &["--shm-size", "8g"],
        ] {
            assert!(!has_gpu_request(&args(a)), "{a:?}");
        }
    }

    #[test]
    fn gpu_request_kinds_and_values() {
        assert_eq!(gpu_request(&args(&["--gpus", "2"])), Some(GpuRequest::Gpus(Some("2".into()))));
        assert_eq!(gpu_request(&args(&["--gpus=all"])), Some(GpuRequest::Gpus(Some("all".into()))));
        assert_eq!(gpu_request(&args(&["--gpus"])), Some(GpuRequest::Gpus(None)));
        assert_eq!(
            gpu_request(&args(&["--device=nvidia.com/gpu=all"])),
            Some(GpuRequest::Cdi("nvidia.com/gpu=all".into()))
        );
        assert_eq!(
            gpu_request(&args(&["--device", "/dev/nvidia0"])),
            Some(GpuRequest::DeviceNodes("/dev/nvidia0".into()))
        );
        let joined = gpu_requests(&args(&["--init", "--gpus all"]));
        assert_eq!(joined.len(), 1);
        assert!(joined[0].0.joined);
        assert_eq!(joined[0].0.index, 1);
        assert_eq!(joined[0].1, GpuRequest::Gpus(Some("all".into())));
    }

    #[test]
    fn same_request_ignores_spelling() {
        let all = GpuRequest::Gpus(Some("all".into()));
        assert!(all.same_as(&GpuRequest::Gpus(Some("count=all".into()))));
        assert!(all.same_as(&GpuRequest::Gpus(Some("\"all\"".into()))));
        assert!(!all.same_as(&GpuRequest::Gpus(Some("1".into()))));
        assert!(!all.same_as(&GpuRequest::Cdi("nvidia.com/gpu=all".into())));
        let ids = GpuRequest::Gpus(Some("\"device=0,2\"".into()));
        assert!(ids.same_as(&GpuRequest::Gpus(Some("'device=0,2'".into()))));
        assert_eq!(all.to_string(), "--gpus all");
    }

    #[test]
    fn split_joined_only_for_known_flags() {
        assert_eq!(split_joined("--gpus all"), Some(("--gpus".into(), "all".into())));
        assert_eq!(split_joined("  --gpus   all  "), Some(("--gpus".into(), "all".into())));
        assert_eq!(split_joined("--gpus \"device=0,1\""), Some(("--gpus".into(), "\"device=0,1\"".into())));
        assert_eq!(split_joined("--shm-size 8g"), Some(("--shm-size".into(), "8g".into())));
        assert_eq!(split_joined("--ipc host"), Some(("--ipc".into(), "host".into())));
        assert_eq!(split_joined("--gpus = all"), Some(("--gpus".into(), "all".into())));
        assert_eq!(split_joined("--gpus=all"), None);
        assert_eq!(split_joined("--gpus"), None);
        assert_eq!(split_joined("--gpus "), None);
        assert_eq!(split_joined("--label a b"), None);
        assert_eq!(joined_items(&args(&["--gpus all", "--shm-size=1g", "--ipc host"])), vec![0, 2]);
    }

    #[test]
    fn shm_in_any_form() {
        for a in
            [&["--shm-size", "8g"][..], &["--shm-size=1g"], &["--ipc=host"], &["--ipc", "host"], &["--shm-size 8g"]]
        {
            assert!(has_shm_setting(&args(a)), "{a:?}");
        }
        assert!(!has_shm_setting(&args(&["--gpus", "all", "-e", "--shm-size"])));
        assert_eq!(shm_setting(&args(&["--ipc=host"])), Some(ShmSetting::Ipc(Some("host".into()))));
        assert!(ShmSetting::ShmSize(Some("8G".into())).same_as(&ShmSetting::ShmSize(Some("8g".into()))));
        assert!(!ShmSetting::ShmSize(Some("8g".into())).same_as(&ShmSetting::Ipc(Some("host".into()))));
    }

    #[test]
    fn nvidia_runtime() {
        assert!(has_nvidia_runtime(&args(&["--runtime=nvidia"])));
        assert!(has_nvidia_runtime(&args(&["--runtime", "nvidia"])));
        assert!(!has_nvidia_runtime(&args(&["--runtime=runc"])));
    }

    #[test]
    fn display_shows_items_as_written() {
        let a = args(&["--init", "--gpus", "1"]);
        let (flag, _) = &gpu_requests(&a)[0];
        assert_eq!(flag.display(&a), "--gpus 1");
        let a = args(&["--gpus"]);
        assert_eq!(gpu_requests(&a)[0].0.display(&a), "--gpus");
    }
}
