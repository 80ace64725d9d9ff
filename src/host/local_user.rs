//! EDGE+parse: who runs devgpu — the real uid and gid of this process, read from `/proc/self/status` (no libc
//! binding needed). `updateRemoteUserUID` maps the container's remote user onto them, as the Dev Containers CLI
//! maps it onto `process.getuid()` / `getgid()`.

pub use crate::model::host::LocalUser;

/// Parses the `Uid:` and `Gid:` lines of `/proc/<pid>/status` (real, effective, saved, filesystem ids; the first,
/// the real id, is the one the Dev Containers CLI uses).
pub fn parse_proc_status(text: &str) -> Option<LocalUser> {
    let first = |key: &str| -> Option<u32> {
        let line = text.lines().find(|l| l.starts_with(key))?;
        line[key.len()..].split_whitespace().next()?.parse().ok()
    };
    Some(LocalUser { uid: first("Uid:")?, gid: first("Gid:")? })
}

/// This process's user, or `None` where `/proc` is not there (not Linux).
pub fn local_user() -> Option<LocalUser> {
    parse_proc_status(&std::fs::read_to_string("/proc/self/status").ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_real_ids() {
        // Captured from `setpriv --reuid 1234 --regid 1234 --clear-groups cat /proc/self/status` (lines trimmed).
        let text = "Name:\tcat\nUmask:\t0022\nState:\tR (running)\nTgid:\t4242\nPid:\t4242\nPPid:\t4240\nTracerPid:\t0\nUid:\t1234\t1234\t1234\t1234\nGid:\t1234\t1234\t1234\t1234\nFDSize:\t64\nGroups:\t \n";
        assert_eq!(parse_proc_status(text), Some(LocalUser { uid: 1234, gid: 1234 }));
        // Real ids differ from effective ones under setuid: the real one counts.
        assert_eq!(parse_proc_status("Uid:\t1000\t0\t0\t0\nGid:\t100\t0\t0\t0\n"), Some(LocalUser { uid: 1000, gid: 100 }));
        assert_eq!(parse_proc_status("Name:\tx\n"), None);
        assert_eq!(parse_proc_status("Uid:\tx\nGid:\t1\n"), None);
    }

    #[test]
    fn this_process_has_a_user() {
        if std::path::Path::new("/proc/self/status").exists() {
            assert!(local_user().is_some());
        }
    }
}
