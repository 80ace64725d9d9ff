//! EDGE + parse: the NVIDIA device nodes in `/dev` and which GPU each `/dev/nvidiaN` is.
//!
//! Nodes: `nvidiactl` (the control device every CUDA process opens), `nvidia-uvm` and `nvidia-uvm-tools` (unified
//! memory: without them CUDA says "no CUDA-capable device is detected"), `nvidia-modeset` (display/graphics only),
//! `nvidia-caps/*` (MIG capabilities), and one `nvidiaN` per GPU, where N is the GPU's *device minor number* — not
//! necessarily nvidia-smi's index, which follows the PCI bus. The minor of each GPU comes from
//! `/proc/driver/nvidia/gpus/<bus>/information` ("Device Minor", matched by UUID or bus), else nvidia-smi's XML
//! (`minor_number`), else — said so in a note — the index.
//!
//! Selecting GPUs (`all`, a count, indexes / UUIDs / PCI bus ids) works on this map, for every GPU mode.

use super::driver_files::{list_dir, Listing};
use super::nvidia_smi::GpuInfo;
use crate::error::ErrorCode;
use crate::plan::gpus::GpuSelection;
use std::path::Path;
pub use crate::model::host::{DevNode, GpuNode, GpuDeviceFacts, MinorHint, GpuAccessError};

pub const DEV_DIR: &str = "/dev";
pub const PROC_GPUS_DIR: &str = "/proc/driver/nvidia/gpus";






impl crate::error::Coded for GpuAccessError {
    fn code(&self) -> ErrorCode {
        match self {
            GpuAccessError::NoDeviceNodes { .. } => ErrorCode::NoGpuDeviceNodes,
            GpuAccessError::UnknownGpu { .. } | GpuAccessError::TooFewGpus { .. } => ErrorCode::GpuNotFound,
        }
    }
    fn hints(&self) -> Vec<String> {
        match self {
            GpuAccessError::NoDeviceNodes { .. } => vec![
                "on the GPU host, `sudo nvidia-modprobe -c 0 -u` creates /dev/nvidiactl, /dev/nvidia0 and /dev/nvidia-uvm (loading the driver, `sudo modprobe nvidia nvidia-uvm`, or a reboot does too)".into(),
                "no driver at all: `devgpu doctor` says what to install; in a VM or a container the GPU must be passed through to it first".into(),
                "building for another machine? `devgpu init --gpu-mode toolkit` or `--gpu-mode cdi` need no local GPU; inject mode writes this host's nodes and driver paths, so run it on the GPU host".into(),
            ],
            GpuAccessError::UnknownGpu { .. } | GpuAccessError::TooFewGpus { .. } => {
                vec!["`nvidia-smi -L` lists the GPUs with their index and UUID; use --gpus all, a count, or those ids".into()]
            }
        }
    }
}

/// Normalises a PCI bus id: `00000000:00:06.0` and `0000:00:06.0` → `0000:00:06.0` (lowercase).
pub fn normalize_bus_id(id: &str) -> String {
    let id = id.trim().to_ascii_lowercase();
    match id.split_once(':') {
        Some((domain, rest)) if rest.contains(':') => {
            let d = u32::from_str_radix(domain, 16).unwrap_or(0);
            format!("{d:04x}:{rest}")
        }
        _ => id,
    }
}

/// Parses one `information` file (or several, concatenated with their paths as headers, as in a fixture).
pub fn parse_proc_gpu_information(text: &str) -> Vec<MinorHint> {
    let mut out = Vec::new();
    let mut cur: (Option<String>, Option<String>, Option<u32>) = (None, None, None);
    let flush = |cur: &mut (Option<String>, Option<String>, Option<u32>), out: &mut Vec<MinorHint>| {
        if let Some(minor) = cur.2 {
            out.push(MinorHint { uuid: cur.0.take(), pci_bus_id: cur.1.take().map(|b| normalize_bus_id(&b)), minor });
        }
        *cur = (None, None, None);
    };
    for line in text.lines() {
        let Some((k, v)) = line.split_once(':') else { continue };
        let (k, v) = (k.trim(), v.trim());
        if k == "Model" && cur.2.is_some() {
            flush(&mut cur, &mut out);
        }
        match k {
            "GPU UUID" => cur.0 = Some(v.to_string()),
            "Bus Location" => cur.1 = Some(v.to_string()),
            "Device Minor" => cur.2 = v.parse().ok(),
            _ => {}
        }
    }
    flush(&mut cur, &mut out);
    out
}

fn is_gpu_node_name(name: &str) -> Option<u32> {
    name.strip_prefix("nvidia").filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit())).and_then(|n| n.parse().ok())
}

/// The nodes of a `/dev` listing (fixture or [`list_dir`]); `host_dir` is where they are on this machine.
pub fn nodes_from_listings(listings: &[Listing], host_dir: &str) -> Vec<DevNode> {
    let mut out = Vec::new();
    let host_dir = host_dir.trim_end_matches('/');
    for l in listings {
        // `/dev` or `<test dir>`; `…/nvidia-caps` below either.
        let sub = if l.dir.trim_end_matches('/') == host_dir || l.dir == DEV_DIR {
            ""
        } else if l.dir.ends_with("/nvidia-caps") {
            "nvidia-caps/"
        } else {
            continue;
        };
        for e in l.entries.iter().filter(|e| e.kind == 'c') {
            let Some((major, minor)) = e.device else { continue };
            if sub.is_empty() && !e.name.starts_with("nvidia") {
                continue;
            }
            out.push(DevNode { path: format!("{DEV_DIR}/{sub}{}", e.name), host_path: format!("{host_dir}/{sub}{}", e.name), major, minor });
        }
    }
    out
}

/// Maps GPUs to nodes (pure). `gpus`: NVML / nvidia-smi; `hints`: from /proc; `smi_minors`: (uuid, minor) from
/// nvidia-smi's XML.
pub fn map_devices(dev_dir: &str, nodes: Vec<DevNode>, gpus: &[GpuInfo], hints: &[MinorHint], smi_minors: &[(String, u32)]) -> GpuDeviceFacts {
    let mut f = GpuDeviceFacts { dev_dir: dev_dir.to_string(), ..Default::default() };
    let mut gpu_nodes: Vec<(u32, DevNode)> = Vec::new();
    for n in nodes {
        let name = n.path.trim_start_matches("/dev/").to_string();
        match name.as_str() {
            "nvidiactl" => f.nvidiactl = Some(n),
            "nvidia-uvm" => f.uvm = Some(n),
            "nvidia-uvm-tools" => f.uvm_tools = Some(n),
            "nvidia-modeset" => f.modeset = Some(n),
            other if other.starts_with("nvidia-caps/") => f.caps.push(n),
            other => {
                if let Some(k) = is_gpu_node_name(other) {
                    gpu_nodes.push((k, n));
                }
            }
        }
    }
    gpu_nodes.sort_by_key(|(k, _)| *k);
    let node_for = |minor: u32| gpu_nodes.iter().find(|(k, _)| *k == minor).map(|(_, n)| n.clone());
    if gpus.is_empty() {
        for (i, (_, n)) in gpu_nodes.iter().enumerate() {
            f.gpus.push(GpuNode { index: i as u32, name: None, uuid: None, pci_bus_id: None, node: n.clone(), matched_by: "node".into() });
        }
        if !f.gpus.is_empty() {
            f.notes.push("no GPU facts (NVML and nvidia-smi did not answer): GPUs are numbered in the order of their device nodes".into());
        }
        return f;
    }
    let mut sorted: Vec<&GpuInfo> = gpus.iter().collect();
    sorted.sort_by_key(|g| g.index);
    for g in sorted {
        let bus = (!g.pci_bus_id.is_empty()).then(|| normalize_bus_id(&g.pci_bus_id));
        let by_proc = hints.iter().find(|h| (h.uuid.is_some() && h.uuid.as_deref() == Some(g.uuid.as_str())) || (bus.is_some() && h.pci_bus_id == bus)).map(|h| (h.minor, "proc"));
        let by_smi = smi_minors.iter().find(|(u, _)| !u.is_empty() && *u == g.uuid).map(|(_, m)| (*m, "nvidia-smi"));
        let (minor, how) = by_proc.or(by_smi).unwrap_or((g.index, "index"));
        match node_for(minor) {
            Some(node) => {
                if how == "index" {
                    f.notes.push(format!("GPU {} ({}): its device minor is unknown; assumed /dev/nvidia{} from its index", g.index, g.uuid, g.index));
                }
                f.gpus.push(GpuNode {
                    index: g.index,
                    name: Some(g.name.clone()).filter(|n| !n.is_empty()),
                    uuid: Some(g.uuid.clone()).filter(|u| !u.is_empty()),
                    pci_bus_id: bus,
                    node,
                    matched_by: how.into(),
                });
            }
            None => f.notes.push(format!("GPU {} ({}) has no device node /dev/nvidia{minor}", g.index, g.uuid)),
        }
    }
    f
}

impl GpuDeviceFacts {
    /// The nodes missing for any GPU container (`/dev/nvidiactl`, a `/dev/nvidiaN`), as an error.
    pub fn require_nodes(&self) -> Result<(), GpuAccessError> {
        let mut missing = Vec::new();
        if self.nvidiactl.is_none() {
            missing.push("/dev/nvidiactl".to_string());
        }
        if self.gpus.is_empty() {
            missing.push("/dev/nvidia0…".to_string());
        }
        if missing.is_empty() {
            Ok(())
        } else {
            Err(GpuAccessError::NoDeviceNodes { dev_dir: self.dev_dir.clone(), missing })
        }
    }

    /// The control nodes every GPU container gets (nvidiactl, nvidia-uvm, nvidia-uvm-tools; nvidia-modeset for
    /// graphics).
    pub fn control_nodes(&self, graphics: bool) -> Vec<&DevNode> {
        let mut v: Vec<&DevNode> = [&self.nvidiactl, &self.uvm, &self.uvm_tools].into_iter().flatten().collect();
        if graphics {
            v.extend(self.modeset.as_ref());
        }
        v
    }

    fn describe(g: &GpuNode) -> String {
        let mut s = format!("{}", g.index);
        if let Some(u) = &g.uuid {
            s.push_str(&format!(" {u}"));
        }
        if let Some(b) = &g.pci_bus_id {
            s.push_str(&format!(" at {b}"));
        }
        format!("{s} → {}", g.node.path)
    }

    /// The GPUs a `--gpus` selection names: all; the first N by index; or each index / UUID (prefix of at least
    /// 8 characters, as nvidia-smi accepts) / PCI bus id.
    pub fn select(&self, sel: &GpuSelection) -> Result<Vec<&GpuNode>, GpuAccessError> {
        let available = || self.gpus.iter().map(Self::describe).collect::<Vec<_>>();
        match sel {
            GpuSelection::All => Ok(self.gpus.iter().collect()),
            GpuSelection::Count(n) => {
                if (*n as usize) > self.gpus.len() {
                    return Err(GpuAccessError::TooFewGpus { wanted: *n, have: self.gpus.len() });
                }
                Ok(self.gpus.iter().take(*n as usize).collect())
            }
            GpuSelection::Devices(ids) => {
                let mut out: Vec<&GpuNode> = Vec::new();
                for id in ids {
                    let lower = id.to_ascii_lowercase();
                    let hit = if let Ok(i) = id.parse::<u32>() {
                        self.gpus.iter().find(|g| g.index == i)
                    } else if lower.starts_with("gpu-") {
                        self.gpus.iter().find(|g| g.uuid.as_deref().is_some_and(|u| u.eq_ignore_ascii_case(id) || (id.len() >= 12 && u.to_ascii_lowercase().starts_with(&lower))))
                    } else if id.contains(':') {
                        let b = normalize_bus_id(id);
                        self.gpus.iter().find(|g| g.pci_bus_id.as_deref() == Some(b.as_str()))
                    } else {
                        None
                    };
                    match hit {
                        Some(g) if !out.iter().any(|o| o.index == g.index) => out.push(g),
                        Some(_) => {}
                        None => return Err(GpuAccessError::UnknownGpu { id: id.clone(), available: available() }),
                    }
                }
                Ok(out)
            }
        }
    }
}

/// The minors /proc reports (edge; nothing when the folder is absent, e.g. in WSL or a container).
pub fn read_proc_hints(proc_gpus: &Path) -> Vec<MinorHint> {
    let Ok(rd) = std::fs::read_dir(proc_gpus) else { return Vec::new() };
    let mut out = Vec::new();
    for e in rd.flatten() {
        if let Ok(t) = std::fs::read_to_string(e.path().join("information")) {
            out.extend(parse_proc_gpu_information(&t));
        }
    }
    out
}

/// Reads the device nodes in `dev_dir` and maps `gpus` onto them (edge). /proc is read only for the real `/dev`.
pub fn gather(dev_dir: &Path, gpus: &[GpuInfo]) -> GpuDeviceFacts {
    let dir = dev_dir.display().to_string();
    let mut listings: Vec<Listing> = list_dir(dev_dir, |n| n.starts_with("nvidia")).into_iter().collect();
    listings.extend(list_dir(&dev_dir.join("nvidia-caps"), |_| true));
    let nodes = nodes_from_listings(&listings, &dir);
    let hints = if dir == DEV_DIR { read_proc_hints(Path::new(PROC_GPUS_DIR)) } else { Vec::new() };
    map_devices(&dir, nodes, gpus, &hints, &[])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::gpu_fixtures::{h200, ubuntu};
    use crate::host::parse_query_gpu;

    #[test]
    fn h200_nodes_and_gpu() {
        let f = h200();
        assert_eq!(f.nvidiactl.as_ref().unwrap().minor, 255);
        assert_eq!(f.uvm.as_ref().unwrap().major, 238);
        assert!(f.uvm_tools.is_some() && f.modeset.is_none());
        assert_eq!(f.caps.iter().map(|c| c.path.as_str()).collect::<Vec<_>>(), ["/dev/nvidia-caps/nvidia-cap1", "/dev/nvidia-caps/nvidia-cap2"]);
        assert_eq!(f.gpus.len(), 1);
        let g = &f.gpus[0];
        assert_eq!((g.index, g.uuid.as_deref(), g.pci_bus_id.as_deref(), g.node.path.as_str(), g.matched_by.as_str()), (0, Some("GPU-7b8238c7-8f23-f0a1-12fc-4a5b75119cb4"), Some("0000:00:06.0"), "/dev/nvidia0", "nvidia-smi"));
        assert!(f.require_nodes().is_ok());
        assert_eq!(f.control_nodes(false).len(), 3);
        assert!(f.notes.is_empty(), "{:?}", f.notes);
    }

    #[test]
    fn ubuntu_minors_follow_proc_not_the_index() {
        let f = ubuntu();
        assert_eq!(f.gpus.iter().map(|g| (g.index, g.node.path.as_str(), g.matched_by.as_str())).collect::<Vec<_>>(), [(0, "/dev/nvidia1", "proc"), (1, "/dev/nvidia0", "proc")]);
        assert_eq!(f.control_nodes(true).len(), 4, "modeset for graphics");
        // Selection by count, index, UUID (and a prefix), PCI bus.
        let idx = |s: &str| f.select(&s.parse().unwrap()).unwrap().iter().map(|g| g.index).collect::<Vec<_>>();
        assert_eq!(idx("all"), [0, 1]);
        assert_eq!(idx("1"), [0]);
        assert_eq!(idx("device=1"), [1]);
        assert_eq!(idx("GPU-8e7d6c5b-4a39-4f28-9e17-f0e1d2c3b4a5"), [1]);
        assert_eq!(idx("device=GPU-8e7d6c5b-4a39,0"), [1, 0]);
        assert_eq!(idx("device=00000000:01:00.0"), [0]);
        let e = f.select(&"device=7".parse().unwrap()).unwrap_err();
        assert!(e.to_string().contains("no GPU `7`") && e.to_string().contains("GPU-3f4a2c1e-9b7d-4e21-8c55-0a1b2c3d4e5f at 0000:01:00.0 → /dev/nvidia1"), "{e}");
        assert!(matches!(f.select(&"3".parse().unwrap()), Err(GpuAccessError::TooFewGpus { wanted: 3, have: 2 })));
    }

    #[test]
    fn no_nodes_is_a_clear_error() {
        let f = map_devices(DEV_DIR, vec![], &[], &[], &[]);
        let e = f.require_nodes().unwrap_err();
        assert_eq!(e.to_string(), "no NVIDIA device nodes on this host: /dev/nvidiactl, /dev/nvidia0… missing in /dev — containers cannot reach a GPU in any mode (toolkit, CDI or inject)");
        assert_eq!(crate::error::Coded::code(&e), "no-gpu-device-nodes");
        assert!(crate::error::Coded::hints(&e)[0].contains("nvidia-modprobe"));
        // GPUs known (NVML answers) but their nodes gone: noted, and still an error.
        let gpus = parse_query_gpu(include_str!("../../tests/fixtures/h200/query-gpu.csv")).unwrap();
        let f = map_devices(DEV_DIR, vec![], &gpus, &[], &[]);
        assert!(f.notes[0].contains("no device node /dev/nvidia0"));
        assert!(f.require_nodes().is_err());
    }

    #[test]
    fn proc_information_and_bus_ids() {
        let h = parse_proc_gpu_information(include_str!("../../tests/fixtures/ubuntu-550/proc-gpus-information.txt"));
        assert_eq!(h.len(), 2);
        assert_eq!(h[0], MinorHint { uuid: Some("GPU-3f4a2c1e-9b7d-4e21-8c55-0a1b2c3d4e5f".into()), pci_bus_id: Some("0000:01:00.0".into()), minor: 1 });
        // Recorded on the H200 during the GPU end-to-end run.
        let h = parse_proc_gpu_information(include_str!("../../tests/fixtures/h200/proc-gpus-information.txt"));
        assert_eq!(h, [MinorHint { uuid: Some("GPU-7a83e5ec-67b1-b6c1-8969-2b4a480b89f3".into()), pci_bus_id: Some("0000:00:06.0".into()), minor: 0 }]);
        assert_eq!(normalize_bus_id("00000000:00:06.0"), "0000:00:06.0");
        assert_eq!(normalize_bus_id("0000:21:00.0"), "0000:21:00.0");
    }

    #[test]
    fn gathers_fake_nodes_from_a_test_dir() {
        // Without root, mknod fails: then only the empty case is checked.
        let dir = tempfile::tempdir().unwrap();
        let f = gather(dir.path(), &[]);
        assert!(f.require_nodes().is_err());
        let ok = std::process::Command::new("mknod").arg(dir.path().join("nvidia0")).args(["c", "1", "3"]).status().is_ok_and(|s| s.success())
            && std::process::Command::new("mknod").arg(dir.path().join("nvidiactl")).args(["c", "1", "3"]).status().is_ok_and(|s| s.success());
        if ok {
            let f = gather(dir.path(), &[]);
            assert!(f.require_nodes().is_ok());
            assert_eq!(f.gpus[0].node.path, "/dev/nvidia0");
            assert_eq!(f.gpus[0].node.host_path, dir.path().join("nvidia0").display().to_string());
            assert_eq!(f.gpus[0].matched_by, "node");
        }
    }
}
