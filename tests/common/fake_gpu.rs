//! A fake GPU host for GPU-mode tests on machines without a GPU: NVIDIA-named character devices (`mknod`, so root
//! only; they are /dev/null's 1:3, so opening them inside a container works) and a driver root with fake libraries
//! and a fake `nvidia-smi` that lists the fake GPUs.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

/// A fake GPU host under a temp dir: char devices (`mknod`, root only) and a driver root with a fake nvidia-smi.
pub struct FakeHost {
    _tmp: tempfile::TempDir,
    pub dev: PathBuf,
    pub root: PathBuf,
}

impl FakeHost {
    /// None (after a skip note; a panic under CI) when device nodes cannot be made.
    pub fn new(gpus: u32) -> Option<FakeHost> {
        let tmp = tempfile::Builder::new().prefix("devgpu-fakegpu-").tempdir().unwrap();
        let dev = tmp.path().join("dev");
        let root = tmp.path().join("nvidia");
        for d in [&dev, &root.join("lib64"), &root.join("bin")] {
            std::fs::create_dir_all(d).unwrap();
        }
        let mut names: Vec<String> = (0..gpus).map(|i| format!("nvidia{i}")).collect();
        names.extend(["nvidiactl", "nvidia-uvm", "nvidia-uvm-tools"].map(String::from));
        for n in &names {
            // 1:3 is /dev/null's: opening the fake node works inside the container.
            let ok = Command::new("mknod").arg(dev.join(n)).args(["c", "1", "3"]).status().is_ok_and(|s| s.success());
            if !ok {
                super::tools::missing_prerequisite("mknod failed (fake GPU device nodes need root)", "run the tests as root (CI does)");
                return None;
            }
        }
        for lib in ["libcuda.so", "libnvidia-ml.so", "libnvidia-ptxjitcompiler.so"] {
            std::fs::write(root.join(format!("lib64/{lib}.999.99.9")), "fake").unwrap();
            std::os::unix::fs::symlink(format!("{lib}.999.99.9"), root.join(format!("lib64/{lib}.1"))).unwrap();
        }
        let smi = root.join("bin/nvidia-smi");
        let lines: String = (0..gpus).map(|i| format!("echo 'GPU {i}: NVIDIA Fake (UUID: GPU-0000000{i}-fake)'\n")).collect();
        std::fs::write(&smi, format!("#!/bin/sh\n{lines}")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&smi, std::fs::Permissions::from_mode(0o755)).unwrap();
        Some(FakeHost { _tmp: tmp, dev, root })
    }

    pub fn args(&self) -> Vec<String> {
        vec!["--dev-dir".into(), self.dev.display().to_string(), "--driver-root".into(), self.root.display().to_string()]
    }
}

