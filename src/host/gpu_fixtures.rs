//! Test-only: the recorded H200 facts (`tests/fixtures/h200/`) and the stock-Ubuntu layout
//! (`tests/fixtures/ubuntu-550/`) as the structs discovery produces, for the unit tests of discovery, the CDI
//! spec and the GPU modes.

use super::driver_files::{parse_ls, DriverScan, FIRMWARE_DIR, USR_LOCAL_NVIDIA};
use super::gpu_devices::{map_devices, nodes_from_listings, parse_proc_gpu_information, GpuDeviceFacts, DEV_DIR};
use super::parse_query_gpu;

pub const H200_LS: &str = include_str!("../../tests/fixtures/h200/usr-local-nvidia.txt");
pub const H200_LDCONFIG: &str = include_str!("../../tests/fixtures/h200/ldconfig-nvidia.txt");
pub const UBUNTU_LDCONFIG: &str = include_str!("../../tests/fixtures/ubuntu-550/ldconfig-p.txt");
pub const UBUNTU_LS: &str = include_str!("../../tests/fixtures/ubuntu-550/ls-driver.txt");

/// /usr/local/nvidia on the H200, as listed there.
pub fn h200_scan() -> DriverScan {
    let ls = parse_ls(H200_LS);
    DriverScan {
        source: USR_LOCAL_NVIDIA.into(),
        root: Some(USR_LOCAL_NVIDIA.into()),
        lib_dirs: ls.iter().filter(|l| l.dir.ends_with("lib64")).cloned().collect(),
        bin_dirs: ls.iter().filter(|l| l.dir.ends_with("bin")).cloned().collect(),
        firmware: vec![],
        driver_version: Some("580.159.04".into()),
        looked_in: vec![],
    }
}

/// Ubuntu's packaged driver 550.54.15: libraries among the system's, binaries in /usr/bin, firmware.
pub fn ubuntu_scan() -> DriverScan {
    let ls = parse_ls(UBUNTU_LS);
    DriverScan {
        source: "ldconfig".into(),
        root: None,
        lib_dirs: ls.iter().filter(|l| l.dir == "/usr/lib/x86_64-linux-gnu").cloned().collect(),
        bin_dirs: ls.iter().filter(|l| l.dir == "/usr/bin").cloned().collect(),
        firmware: ls.iter().filter(|l| l.dir.starts_with(FIRMWARE_DIR)).cloned().collect(),
        driver_version: Some("550.54.15".into()),
        looked_in: vec![],
    }
}

/// The H200's device nodes and its one GPU (minor from nvidia-smi's XML).
pub fn h200() -> GpuDeviceFacts {
    let nodes = nodes_from_listings(&parse_ls(include_str!("../../tests/fixtures/h200/dev-nvidia.txt")), DEV_DIR);
    let gpus = parse_query_gpu(include_str!("../../tests/fixtures/h200/query-gpu.csv")).unwrap();
    let xml = super::nvidia_smi_xml::parse_nvidia_smi_xml(include_str!("../../tests/fixtures/h200/nvidia-smi-q.xml")).unwrap();
    let smi: Vec<(String, u32)> = xml.gpus.iter().filter_map(|g| g.minor_number.map(|m| (g.uuid.clone(), m))).collect();
    map_devices(DEV_DIR, nodes, &gpus, &[], &smi)
}

/// Two RTX A6000 with swapped minors (see the fixture's README).
pub fn ubuntu() -> GpuDeviceFacts {
    let nodes = nodes_from_listings(&parse_ls(include_str!("../../tests/fixtures/ubuntu-550/dev-nvidia.txt")), DEV_DIR);
    let gpus = parse_query_gpu(include_str!("../../tests/fixtures/ubuntu-550/query-gpu.csv")).unwrap();
    let hints = parse_proc_gpu_information(include_str!("../../tests/fixtures/ubuntu-550/proc-gpus-information.txt"));
    map_devices(DEV_DIR, nodes, &gpus, &hints, &[])
}
