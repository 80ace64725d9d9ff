//! PURE: GPU drift — what a driver upgrade or the host's device permissions leave stale in a dev container:
//!
//! - a CDI spec the container's CDI devices come from, generated for another driver than the loaded kernel
//!   module (`/proc/driver/nvidia/version`): it names library files that are gone;
//! - driver files bound by devgpu's `inject` mode (runArgs `--mount …libcuda.so.<version>…`, or a driver root
//!   whose libraries carry the version) of another version than the kernel module;
//! - a container created while another driver was loaded (the label [`LABEL_DRIVER_VERSION`] devgpu writes):
//!   its driver files are the old ones until it is recreated;
//! - `/dev/nvidia*` nodes the remote user cannot open: mode `0660` with a group the user is not in (some
//!   distributions use `video` or `render`); devgpu adds `--group-add <gid>` for them ([`groups_to_add`]).
//!
//! The edge reads the facts ([`crate::commands::drift`]); `up` recreates a stale container and says why.

use crate::checks::Check;

/// On containers devgpu creates with a GPU: the version of the kernel module loaded at creation.
pub const LABEL_DRIVER_VERSION: &str = "devgpu.driver_version";

/// A device node on the host: its mode bits and group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeAccess {
    pub path: String,
    pub mode: u32,
    pub gid: u32,
}

/// What drift is judged on. Empty fields mean "not known" or "not used by this container".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DriftFacts {
    /// The loaded kernel module's version (`None`: no driver, or the daemon is on another machine).
    pub kernel: Option<String>,
    /// The NVIDIA CDI specs the container's CDI devices use: (path, driver versions its library paths name).
    pub cdi_specs: Vec<(String, Vec<String>)>,
    /// Driver versions of the files the runArgs bind (inject mode), sorted, unique.
    pub inject_versions: Vec<String>,
    /// The container's [`LABEL_DRIVER_VERSION`] (`None`: no label, e.g. made by another tool or without a GPU).
    pub container_driver: Option<String>,
    /// The NVIDIA device nodes the container gets.
    pub nodes: Vec<NodeAccess>,
    /// The remote user in the container: uid and all its group ids (`id -u`, `id -G`), when known.
    pub user_uid: Option<u32>,
    pub user_groups: Vec<u32>,
}

/// Driver versions named by file names (`libcuda.so.550.54.15`, `libnvidia-ml.so.580.159.04`), sorted, unique.
pub fn versions_in_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for name in names {
        let base = name.rsplit('/').next().unwrap_or(name);
        for lib in ["libcuda.so.", "libnvidia-ml.so."] {
            if let Some(rest) = base.strip_prefix(lib) {
                let v: String = rest.chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
                let v = v.trim_end_matches('.').to_string();
                if v.contains('.') && !out.contains(&v) {
                    out.push(v);
                }
            }
        }
    }
    out.sort();
    out
}

/// Why an existing container is stale for the loaded driver, or `None`: it was labelled with another version.
pub fn container_driver_stale(label: Option<&str>, kernel: Option<&str>) -> Option<String> {
    match (label, kernel) {
        (Some(was), Some(now)) if !was.is_empty() && was != now => {
            Some(format!("it was created with NVIDIA driver {was} loaded; the host now runs {now}, so its driver files are stale"))
        }
        _ => None,
    }
}

/// Whether the node lets a process with `uid` and `groups` read and write it.
fn can_open(n: &NodeAccess, uid: u32, groups: &[u32]) -> bool {
    uid == 0 || n.mode & 0o006 == 0o006 || (n.mode & 0o060 == 0o060 && groups.contains(&n.gid))
}

/// The groups a non-root remote user needs to open the nodes: the gid of each node that grants its group
/// read/write but not everyone (`0660 root:video`). Root's group (0) is never added.
pub fn groups_to_add(nodes: &[NodeAccess]) -> Vec<u32> {
    let mut out: Vec<u32> = nodes.iter().filter(|n| n.mode & 0o006 != 0o006 && n.mode & 0o060 == 0o060 && n.gid != 0).map(|n| n.gid).collect();
    out.sort();
    out.dedup();
    out
}

/// The drift checks, in a fixed order; skipped where their facts are unknown.
pub fn drift_checks(f: &DriftFacts) -> Vec<Check> {
    let mut checks = Vec::new();
    let kernel = f.kernel.as_deref();

    // CDI specs.
    const CDI: &str = "drift.cdi-spec";
    match (kernel, f.cdi_specs.is_empty()) {
        (_, true) => checks.push(Check::skip(CDI, "the container uses no CDI device")),
        (None, false) => checks.push(Check::skip(CDI, "no loaded NVIDIA kernel module to compare the CDI spec with")),
        (Some(k), false) => match f.cdi_specs.iter().find(|(_, v)| !v.is_empty() && !v.iter().any(|x| x == k)) {
            Some((path, v)) => checks.push(Check::fail(
                CDI,
                format!("the CDI spec {path} was generated for driver {}, but the loaded kernel module is {k}: the container gets library files that are gone", v.join(", ")),
                format!("regenerate it for the loaded driver: `devgpu host cdi` (or `sudo nvidia-ctk cdi generate --output={path}`), then `devgpu up`"),
            )),
            None => checks.push(Check::pass(CDI, format!("the CDI spec matches the loaded driver {k}"))),
        },
    }

    // Injected driver files.
    const INJECT: &str = "drift.inject-driver";
    match (kernel, f.inject_versions.as_slice()) {
        (_, []) => checks.push(Check::skip(INJECT, "no driver files are bound by runArgs (not inject mode)")),
        (None, _) => checks.push(Check::skip(INJECT, "no loaded NVIDIA kernel module to compare the bound driver files with")),
        (Some(k), v) if v.iter().all(|x| x == k) => checks.push(Check::pass(INJECT, format!("the bound driver files are version {k}, as the loaded kernel module"))),
        (Some(k), v) => checks.push(Check::fail(
            INJECT,
            format!("runArgs bind driver files of version {}, but the loaded kernel module is {k} (NVML would fail with \"Driver/library version mismatch\")", v.join(", ")),
            "point runArgs at the current driver's files: `devgpu init --gpu-mode inject` again, then `devgpu up`",
        )),
    }

    // The container's own driver.
    const CONTAINER: &str = "drift.container-driver";
    match (f.container_driver.as_deref(), kernel) {
        (None, _) => checks.push(Check::skip(CONTAINER, "the container records no driver version (no GPU, or made by another tool)")),
        (Some(_), None) => checks.push(Check::skip(CONTAINER, "no loaded NVIDIA kernel module to compare the container with")),
        (Some(was), Some(now)) => match container_driver_stale(Some(was), Some(now)) {
            Some(why) => checks.push(Check::fail(CONTAINER, format!("the container is stale: {why}"), "recreate it: `devgpu up` (it replaces a container created for another driver)")),
            None => checks.push(Check::pass(CONTAINER, format!("the container was created with the loaded driver {now}"))),
        },
    }

    // Device node permissions.
    const GROUPS: &str = "drift.device-groups";
    match f.user_uid {
        _ if f.nodes.is_empty() => checks.push(Check::skip(GROUPS, "the container gets no NVIDIA device node from this host")),
        None => checks.push(Check::skip(GROUPS, "the remote user's groups are unknown")),
        Some(uid) => {
            let blocked: Vec<&NodeAccess> = f.nodes.iter().filter(|n| !can_open(n, uid, &f.user_groups)).collect();
            if blocked.is_empty() {
                checks.push(Check::pass(GROUPS, format!("the remote user can open the {} NVIDIA device node(s)", f.nodes.len())));
            } else if let Some(root_only) = blocked.iter().find(|n| n.mode & 0o060 != 0o060) {
                checks.push(Check::fail(
                    GROUPS,
                    format!("{} is mode {:04o}: only root can open it, not the remote user", root_only.path, root_only.mode & 0o7777),
                    "let a group open the NVIDIA nodes: in /etc/modprobe.d/nvidia.conf set `options nvidia NVreg_DeviceFileMode=0660 NVreg_DeviceFileGID=<gid of the video group>`, reload the module (or reboot), then `devgpu up`",
                ));
            } else {
                let gids: Vec<String> = blocked.iter().map(|n| n.gid.to_string()).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
                let paths: Vec<&str> = blocked.iter().map(|n| n.path.as_str()).collect();
                checks.push(Check::fail(
                    GROUPS,
                    format!("the remote user is not in group {} that {} need(s)", gids.join(", "), paths.join(", ")),
                    format!("recreate the container with `devgpu up --rebuild` (it adds `--group-add` for these groups), or add {} to runArgs", gids.iter().map(|g| format!("\"--group-add\", \"{g}\"")).collect::<Vec<_>>().join(", ")),
                ));
            }
        }
    }
    checks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Status;
    use crate::host::cdi::parse_cdi_spec;
    use crate::host::driver_files::{resolve, DEFAULT_CAPABILITIES};
    use crate::host::gpu_fixtures::{ubuntu, ubuntu_scan};
    use crate::host::proc_driver::parse_proc_driver_version;
    use crate::plan::cdi::{build_spec, spec_text};
    use std::ops::Not;

    fn status(checks: &[Check], id: &str) -> Status {
        checks.iter().find(|c| c.id == id).unwrap_or_else(|| panic!("no {id}")).status
    }

    /// The H200's loaded module (captured `/proc/driver/nvidia/version`).
    fn h200_kernel() -> String {
        parse_proc_driver_version(include_str!("../../tests/fixtures/h200/proc-driver-nvidia-version.txt")).unwrap().version.to_string()
    }

    #[test]
    fn nothing_known_skips_everything() {
        let c = drift_checks(&DriftFacts::default());
        assert!(c.iter().all(|c| c.status == Status::Skip), "{c:#?}");
        assert_eq!(c.len(), 4);
    }

    #[test]
    fn a_cdi_spec_for_the_old_driver_is_stale() {
        let kernel = h200_kernel();
        assert_eq!(kernel, "580.159.04");
        // The spec devgpu generates for the Ubuntu host of the fixtures (driver 550.54.15, files bound one by
        // one), left in place after that host moved to the H200's driver.
        let files = resolve(&ubuntu_scan(), &DEFAULT_CAPABILITIES).unwrap();
        let text = spec_text(&build_spec(&ubuntu(), &files));
        let old = parse_cdi_spec(&text, text.trim_start().starts_with('{').not(), "/etc/cdi/nvidia.yaml");
        assert_eq!(old.driver_versions, vec!["550.54.15".to_string()]);
        let f = DriftFacts { kernel: Some(kernel.clone()), cdi_specs: vec![(old.path.clone(), old.driver_versions.clone())], ..Default::default() };
        let c = drift_checks(&f);
        assert_eq!(status(&c, "drift.cdi-spec"), Status::Fail);
        let fix = c[0].fix.clone().unwrap();
        assert!(fix.contains("devgpu host cdi") && fix.contains("/etc/cdi/nvidia.yaml"), "{fix}");
        let f = DriftFacts { cdi_specs: vec![("/etc/cdi/nvidia.yaml".into(), vec![kernel.clone()])], ..f };
        assert_eq!(status(&drift_checks(&f), "drift.cdi-spec"), Status::Pass);
    }

    #[test]
    fn injected_files_of_another_version_are_stale() {
        // The H200's driver root as listed (`ls -l /usr/local/nvidia/lib64`): all 580.159.04.
        assert_eq!(versions_in_names(include_str!("../../tests/fixtures/h200/usr-local-nvidia.txt").split_whitespace()), vec!["580.159.04".to_string()]);
        let args = ["--mount", "type=bind,source=/usr/lib/x86_64-linux-gnu/libcuda.so.550.54.15,target=/usr/local/nvidia/lib64/libcuda.so.550.54.15,readonly"];
        let from_args = versions_in_names(args.iter().flat_map(|a| a.split(',')).filter_map(|p| p.strip_prefix("source=")));
        assert_eq!(from_args, vec!["550.54.15".to_string()]);
        let f = DriftFacts { kernel: Some(h200_kernel()), inject_versions: from_args, ..Default::default() };
        let c = drift_checks(&f);
        assert_eq!(status(&c, "drift.inject-driver"), Status::Fail);
        assert!(c[1].summary.contains("550.54.15") && c[1].summary.contains("580.159.04"), "{}", c[1].summary);
        let f = DriftFacts { inject_versions: vec![h200_kernel()], ..f };
        assert_eq!(status(&drift_checks(&f), "drift.inject-driver"), Status::Pass);
    }

    #[test]
    fn a_container_created_under_another_driver_is_stale() {
        assert!(container_driver_stale(Some("570.124.06"), Some("580.159.04")).unwrap().contains("570.124.06"));
        assert_eq!(container_driver_stale(Some("580.159.04"), Some("580.159.04")), None);
        assert_eq!(container_driver_stale(None, Some("580.159.04")), None, "not labelled: not judged");
        assert_eq!(container_driver_stale(Some("580.159.04"), None), None, "no driver now: the GPU check says so");
        let f = DriftFacts { kernel: Some("580.159.04".into()), container_driver: Some("570.124.06".into()), ..Default::default() };
        assert_eq!(status(&drift_checks(&f), "drift.container-driver"), Status::Fail);
    }

    #[test]
    fn device_groups() {
        // The H200's nodes are crw-rw-rw- root root (tests/fixtures/h200/dev-nvidia.txt): anyone opens them.
        let open = |p: &str| NodeAccess { path: p.into(), mode: 0o20666, gid: 0 };
        let video = |p: &str| NodeAccess { path: p.into(), mode: 0o20660, gid: 44 };
        assert_eq!(groups_to_add(&[open("/dev/nvidia0"), open("/dev/nvidiactl")]), Vec::<u32>::new());
        assert_eq!(groups_to_add(&[video("/dev/nvidia0"), video("/dev/nvidiactl"), open("/dev/nvidia-uvm")]), vec![44]);
        assert_eq!(groups_to_add(&[NodeAccess { path: "/dev/nvidia0".into(), mode: 0o20660, gid: 0 }]), Vec::<u32>::new(), "root's group is never added");

        let f = DriftFacts { nodes: vec![video("/dev/nvidia0"), open("/dev/nvidia-uvm")], user_uid: Some(1000), user_groups: vec![1000], ..Default::default() };
        let c = drift_checks(&f);
        assert_eq!(status(&c, "drift.device-groups"), Status::Fail);
        assert!(c[3].fix.as_ref().unwrap().contains("\"--group-add\", \"44\""), "{:?}", c[3].fix);
        let f = DriftFacts { user_groups: vec![1000, 44], ..f };
        assert_eq!(status(&drift_checks(&f), "drift.device-groups"), Status::Pass);
        let f = DriftFacts { user_uid: Some(0), user_groups: vec![0], ..f };
        assert_eq!(status(&drift_checks(&f), "drift.device-groups"), Status::Pass, "root opens anything");
        // Root-only nodes: no group helps; the fix is the driver's own module options, never chmod 666.
        let f = DriftFacts { nodes: vec![NodeAccess { path: "/dev/nvidia0".into(), mode: 0o20600, gid: 0 }], user_uid: Some(1000), user_groups: vec![1000], ..Default::default() };
        let c = drift_checks(&f);
        assert_eq!(status(&c, "drift.device-groups"), Status::Fail);
        let fix = c[3].fix.clone().unwrap();
        assert!(fix.contains("NVreg_DeviceFileMode=0660") && !fix.contains("666") && !fix.contains("privileged"), "{fix}");
    }
}
