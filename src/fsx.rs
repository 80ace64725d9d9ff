//! EDGE: files written safely. A rewrite goes to a temporary file in the same directory, is flushed to disk and
//! renamed over the original, so a crash or a full disk leaves either the old or the new file, never half of one;
//! the original's permissions are kept.

use crate::error::ErrorCode;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
#[error("cannot write {path}: {source}")]
pub struct WriteError {
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

impl crate::error::Coded for WriteError {
    fn code(&self) -> ErrorCode {
        if self.source.kind() == io::ErrorKind::PermissionDenied {
            ErrorCode::PermissionDenied
        } else {
            ErrorCode::WriteFailed
        }
    }
    fn hints(&self) -> Vec<String> {
        if self.source.kind() == io::ErrorKind::PermissionDenied {
            vec![format!("check the ownership of {} (or run devgpu as the user who owns the repository)", self.path.display())]
        } else {
            Vec::new()
        }
    }
}

/// Write `contents` to `path` atomically (temp file + fsync + rename), creating parent directories: the
/// project files `init` writes. An existing file keeps its mode and owner (see [`replace_file`]); a new one gets
/// the usual 0644.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), WriteError> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(|source| WriteError { path: path.to_path_buf(), source })?;
    replace_file(path, contents, 0o644)
}

/// How many symbolic links [`resolve_symlinks`] follows before giving up (Linux's own limit).
const MAX_SYMLINKS: usize = 40;

/// The file `path` finally names, following symbolic links one at a time (relative targets are taken from the
/// link's directory). A path that does not exist, or a dangling link's target, is returned as it is: writing it
/// creates the file the link points to, and the link stays. Editing daemon.json through a link therefore edits
/// the target and keeps the link (configuration managers often link /etc/docker/daemon.json elsewhere).
pub fn resolve_symlinks(path: &Path) -> Result<PathBuf, io::Error> {
    let mut current = path.to_path_buf();
    for _ in 0..MAX_SYMLINKS {
        match fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let target = fs::read_link(&current)?;
                current = match current.parent() {
                    Some(dir) if target.is_relative() => dir.join(target),
                    _ => target,
                };
            }
            Ok(_) => return Ok(current),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(current),
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other(format!("{}: more than {MAX_SYMLINKS} symbolic links in a row (a loop?)", path.display())))
}

/// A new temporary file beside `path`, opened for writing (never an existing one).
fn create_temp(dir: &Path, file_name: &str) -> io::Result<(PathBuf, File)> {
    let pid = std::process::id();
    for n in 0..1000u32 {
        let tmp = dir.join(format!(".{file_name}.devgpu-{pid}-{n}.tmp"));
        match OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other(format!("cannot find a free temporary file name beside {file_name}")))
}

/// Like [`write_atomic`] for files that belong to the system (daemon.json): the new file gets the old one's mode
/// **and owner** (uid/gid; a new file gets `new_mode` and the caller's owner), parent directories are not created,
/// and a failure at any step — permission denied, a full disk, an immutable file — removes the temporary file and
/// leaves the original byte-identical. Errors name `path`.
pub fn replace_file(path: &Path, contents: &[u8], new_mode: u32) -> Result<(), WriteError> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let err = |source| WriteError { path: path.to_path_buf(), source };
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let existing = match fs::metadata(path) {
        Ok(m) => Some(m),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(err(e)),
    };
    let (tmp, mut f) = create_temp(dir, &file_name).map_err(err)?;
    let result = (|| {
        f.write_all(contents)?;
        match &existing {
            Some(meta) => {
                let tmp_meta = f.metadata()?;
                if tmp_meta.uid() != meta.uid() || tmp_meta.gid() != meta.gid() {
                    std::os::unix::fs::fchown(&f, Some(meta.uid()), Some(meta.gid()))?;
                }
                f.set_permissions(fs::Permissions::from_mode(meta.mode() & 0o7777))?;
            }
            None => f.set_permissions(fs::Permissions::from_mode(new_mode))?,
        }
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)?;
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(err)
}

/// The infix of devgpu's backups: `daemon.json.devgpu-backup-20250314T093000Z`.
pub const BACKUP_INFIX: &str = ".devgpu-backup-";
/// The suffix of a backup that records "there was no file" (so undo deletes the file devgpu created).
pub const ABSENT_SUFFIX: &str = ".absent";

/// A backup devgpu made beside a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backup {
    pub path: PathBuf,
    /// `YYYYMMDDTHHMMSSZ` (UTC) and the counter for backups made in the same second.
    pub stamp: String,
    pub seq: u32,
    /// The file did not exist when the backup was made.
    pub absent: bool,
}

/// `YYYYMMDDTHHMMSSZ` in UTC for `t` (civil-from-days, no time zone database needed).
pub fn utc_stamp(t: std::time::SystemTime) -> String {
    let secs = t.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Writes `contents` (the file as it is now; `None` = it does not exist) as a new backup beside `path`, with the
/// file's mode and owner. Never overwrites an earlier backup: a second one in the same second gets `-1`, `-2`, ….
pub fn make_backup(path: &Path, contents: Option<&[u8]>, now: std::time::SystemTime) -> Result<PathBuf, WriteError> {
    let stamp = utc_stamp(now);
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let taken = list_backups(path).map_err(|source| WriteError { path: path.to_path_buf(), source })?;
    let seq = taken.iter().filter(|b| b.stamp == stamp).map(|b| b.seq + 1).max().unwrap_or(0);
    let suffix = if seq == 0 { String::new() } else { format!("-{seq}") };
    let absent = if contents.is_none() { ABSENT_SUFFIX } else { "" };
    let backup = dir.join(format!("{name}{BACKUP_INFIX}{stamp}{suffix}{absent}"));
    if backup.exists() {
        return Err(WriteError { path: backup, source: io::Error::from(io::ErrorKind::AlreadyExists) });
    }
    // The backup takes the original's mode and owner: copy them by "replacing" a file that does not exist yet
    // with the original's metadata.
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let (tmp, mut f) = create_temp(dir, &name).map_err(|source| WriteError { path: backup.clone(), source })?;
    let result = (|| {
        f.write_all(contents.unwrap_or_default())?;
        if let Ok(meta) = fs::metadata(path) {
            let tmp_meta = f.metadata()?;
            if tmp_meta.uid() != meta.uid() || tmp_meta.gid() != meta.gid() {
                std::os::unix::fs::fchown(&f, Some(meta.uid()), Some(meta.gid()))?;
            }
            f.set_permissions(fs::Permissions::from_mode(meta.mode() & 0o777))?;
        } else {
            f.set_permissions(fs::Permissions::from_mode(0o600))?;
        }
        f.sync_all()?;
        drop(f);
        // A hard link refuses to replace an existing name, unlike rename: two devgpu processes racing for the same
        // backup name cannot overwrite each other's backup.
        fs::hard_link(&tmp, &backup)?;
        fs::remove_file(&tmp)?;
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(|source| WriteError { path: backup.clone(), source })?;
    Ok(backup)
}

/// devgpu's backups of `path`, oldest first.
pub fn list_backups(path: &Path) -> Result<Vec<Backup>, io::Error> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let prefix = format!("{}{BACKUP_INFIX}", path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(&prefix) else { continue };
        let (rest, absent) = match rest.strip_suffix(ABSENT_SUFFIX) {
            Some(r) => (r, true),
            None => (rest, false),
        };
        let (stamp, seq) = match rest.split_once('-') {
            Some((s, n)) => match n.parse::<u32>() {
                Ok(n) => (s, n),
                Err(_) => continue,
            },
            None => (rest, 0),
        };
        let valid = stamp.len() == 16 && stamp.as_bytes()[8] == b'T' && stamp.ends_with('Z') && stamp[..8].bytes().chain(stamp[9..15].bytes()).all(|c| c.is_ascii_digit());
        if valid && entry.file_type()?.is_file() {
            out.push(Backup { path: entry.path(), stamp: stamp.to_string(), seq, absent });
        }
    }
    out.sort_by(|a, b| (&a.stamp, a.seq).cmp(&(&b.stamp, b.seq)));
    Ok(out)
}

/// Read a file that may be absent: `Ok(None)` when it does not exist.
pub fn read_optional(path: &Path) -> Result<Option<String>, io::Error> {
    match fs::read_to_string(path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// A regular file with an execute bit (what `execve` would run; a directory or a 31-byte text file named like the
/// program is not it).
pub fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The one PATH lookup: `name` in each directory of `path_env` (a `PATH` value; None: unset), then in
/// `extra_dirs` (where a program lives although a service's or a minimal login's PATH leaves it out), first
/// executable match. (The `which` crate does the PATH part alone; the fallback directories, which every caller
/// here needs, would be a joined PATH string built for it, so a few lines serve better.)
pub fn find_executable(name: &str, path_env: Option<&std::ffi::OsStr>, extra_dirs: &[&str]) -> Option<PathBuf> {
    let dirs = path_env.map(|p| std::env::split_paths(p).collect::<Vec<_>>()).unwrap_or_default();
    dirs.into_iter().chain(extra_dirs.iter().map(PathBuf::from)).map(|d| d.join(name)).find(|p| is_executable(p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn finds_executables_on_path_then_in_the_extra_dirs() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let text = a.path().join("tool");
        fs::write(&text, "not a program").unwrap();
        let prog = b.path().join("tool");
        fs::write(&prog, "#!/bin/sh\n").unwrap();
        fs::set_permissions(&prog, fs::Permissions::from_mode(0o755)).unwrap();
        let extra = b.path().to_str().unwrap();
        assert_eq!(find_executable("tool", Some(a.path().as_os_str()), &[extra]), Some(prog.clone()));
        assert_eq!(find_executable("tool", Some(b.path().as_os_str()), &[]), Some(prog));
        assert_eq!(find_executable("tool", Some(a.path().as_os_str()), &[]), None);
        assert_eq!(find_executable("tool", None, &[]), None);
    }

    #[test]
    fn replaces_contents_and_keeps_mode() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.json");
        fs::write(&p, "old").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&p, b"new").unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "new");
        assert_eq!(fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o640);
        // No temporary file is left behind.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn creates_parent_directories() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(".devcontainer/devcontainer.json");
        write_atomic(&p, b"{}").unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "{}");
        assert_eq!(read_optional(&dir.path().join("missing")).unwrap(), None);
    }

    #[test]
    fn replace_file_keeps_mode_and_owner_and_leaves_no_temp() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("daemon.json");
        fs::write(&p, "{}").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o604)).unwrap();
        // Owned by someone else (only root can arrange that; the check is skipped otherwise).
        let chowned = std::os::unix::fs::chown(&p, Some(65534), Some(65534)).is_ok();
        replace_file(&p, b"{\"a\": 1}", 0o644).unwrap();
        let meta = fs::metadata(&p).unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "{\"a\": 1}");
        assert_eq!(meta.permissions().mode() & 0o7777, 0o604);
        if chowned {
            assert_eq!((meta.uid(), meta.gid()), (65534, 65534));
        }
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        let q = dir.path().join("new.json");
        replace_file(&q, b"{}", 0o640).unwrap();
        assert_eq!(fs::metadata(&q).unwrap().permissions().mode() & 0o777, 0o640);
        // A missing directory is an error, not created.
        assert!(replace_file(&dir.path().join("no/such.json"), b"{}", 0o644).is_err());
    }

    #[test]
    fn symlinks_resolve_to_their_target() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.json");
        fs::write(&real, "{}").unwrap();
        let sub = dir.path().join("etc");
        fs::create_dir(&sub).unwrap();
        std::os::unix::fs::symlink("../real.json", sub.join("link.json")).unwrap();
        std::os::unix::fs::symlink("link.json", sub.join("link2.json")).unwrap();
        assert_eq!(fs::canonicalize(resolve_symlinks(&sub.join("link2.json")).unwrap()).unwrap(), fs::canonicalize(&real).unwrap());
        std::os::unix::fs::symlink("loop", sub.join("loop")).unwrap();
        assert!(resolve_symlinks(&sub.join("loop")).is_err());
        assert_eq!(resolve_symlinks(&sub.join("missing")).unwrap(), sub.join("missing"));
    }

    #[test]
    fn backups_are_stamped_never_overwritten_and_listed_in_order() {
        use std::time::{Duration, UNIX_EPOCH};
        assert_eq!(utc_stamp(UNIX_EPOCH), "19700101T000000Z");
        assert_eq!(utc_stamp(UNIX_EPOCH + Duration::from_secs(1_709_251_199)), "20240229T235959Z");
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("daemon.json");
        fs::write(&p, "v1").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
        let t = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let a = make_backup(&p, Some(b"v1"), t).unwrap();
        let b = make_backup(&p, Some(b"v2"), t).unwrap();
        let c = make_backup(&p, None, t + Duration::from_secs(1)).unwrap();
        assert_eq!(a.file_name().unwrap(), "daemon.json.devgpu-backup-20231114T221320Z");
        assert_eq!(b.file_name().unwrap(), "daemon.json.devgpu-backup-20231114T221320Z-1");
        assert_eq!(c.file_name().unwrap(), "daemon.json.devgpu-backup-20231114T221321Z.absent");
        assert_eq!(fs::read_to_string(&a).unwrap(), "v1");
        assert_eq!(fs::metadata(&a).unwrap().permissions().mode() & 0o777, 0o640);
        let listed = list_backups(&p).unwrap();
        assert_eq!(listed.iter().map(|b| b.path.clone()).collect::<Vec<_>>(), [a, b, c]);
        assert!(listed[2].absent);
        // Only the file and its three backups: no temporary file is left.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 4);
    }
}
