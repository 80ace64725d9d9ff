//! EDGE: the build context — walked with walkdir honouring `.dockerignore` (the docker CLI's rules, see
//! [`crate::config::dockerignore`]), fingerprinted (paths, sizes, modes, mtimes: no file is read), and streamed to
//! the daemon as a tar (uid/gid 0, like the docker CLI sends it) while the build starts.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::config::dockerignore::Dockerignore;

use super::UpError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Dir,
    Symlink(PathBuf),
}

/// One path of the context that is sent.
#[derive(Debug, Clone)]
pub struct ContextEntry {
    /// Relative to the context root, `/`-separated.
    pub rel: String,
    pub path: PathBuf,
    pub kind: EntryKind,
    pub size: u64,
    pub mode: u32,
    pub mtime: i64,
    pub mtime_nsec: i64,
}

/// The context to send.
#[derive(Debug, Clone)]
pub struct BuildContext {
    pub root: PathBuf,
    pub entries: Vec<ContextEntry>,
    /// A Dockerfile from outside the context, added under this name.
    pub extra_dockerfile: Option<(String, Vec<u8>)>,
}

impl BuildContext {
    /// Walks `root`, leaving out what `.dockerignore` excludes (`dockerfile_rel` and `.dockerignore` are always
    /// sent, as the docker CLI does).
    pub fn scan(root: &Path, dockerfile_rel: Option<&str>, extra_dockerfile: Option<(String, Vec<u8>)>) -> Result<BuildContext, UpError> {
        let io_err = |path: &Path, e: io::Error| UpError::Context { path: path.display().to_string(), message: e.to_string() };
        let meta = fs::metadata(root).map_err(|e| io_err(root, e))?;
        if !meta.is_dir() {
            return Err(UpError::Context { path: root.display().to_string(), message: "the build context is not a directory".into() });
        }
        let mut ignore = match fs::read_to_string(root.join(".dockerignore")) {
            Ok(text) => Dockerignore::parse(&text)?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Dockerignore::default(),
            Err(e) => return Err(io_err(&root.join(".dockerignore"), e)),
        };
        if let Some(df) = dockerfile_rel {
            ignore.keep_build_files(df);
        }
        let mut entries = Vec::new();
        let rel_of = |p: &Path| p.strip_prefix(root).map(|r| r.to_string_lossy().replace('\\', "/")).unwrap_or_default();
        let walker = walkdir::WalkDir::new(root).follow_links(false).sort_by_file_name().min_depth(1).into_iter().filter_entry(|e| {
            let rel = rel_of(e.path());
            if !ignore.is_excluded(&rel) {
                return true;
            }
            // An excluded directory is walked only when an exception may re-include something inside.
            e.file_type().is_dir() && ignore.must_descend(&rel)
        });
        for entry in walker {
            let entry = entry.map_err(|e| UpError::Context {
                path: e.path().map(|p| p.display().to_string()).unwrap_or_else(|| root.display().to_string()),
                message: e.io_error().map(|io| io.to_string()).unwrap_or_else(|| e.to_string()),
            })?;
            let rel = rel_of(entry.path());
            if ignore.is_excluded(&rel) {
                continue; // a directory walked only for its re-included children
            }
            let md = entry.metadata().map_err(|e| UpError::Context { path: entry.path().display().to_string(), message: e.to_string() })?;
            let ft = md.file_type();
            let kind = if ft.is_symlink() {
                EntryKind::Symlink(fs::read_link(entry.path()).map_err(|e| io_err(entry.path(), e))?)
            } else if ft.is_dir() {
                EntryKind::Dir
            } else if ft.is_file() {
                EntryKind::File
            } else {
                continue; // sockets, fifos, devices: the docker CLI skips them too
            };
            entries.push(ContextEntry {
                rel,
                path: entry.path().to_path_buf(),
                size: if kind == EntryKind::File { md.len() } else { 0 },
                kind,
                mode: md.permissions().mode() & 0o7777,
                mtime: md.mtime(),
                mtime_nsec: md.mtime_nsec(),
            });
        }
        Ok(BuildContext { root: root.to_path_buf(), entries, extra_dockerfile })
    }

    /// A fingerprint of what would be sent: paths, kinds, sizes, modes, mtimes, link targets (and an outside
    /// Dockerfile's bytes). Equal fingerprints mean an unchanged context, short of edits that keep size and mtime.
    pub fn fingerprint(&self) -> String {
        let mut h = Sha256::new();
        for e in &self.entries {
            let kind = match &e.kind {
                EntryKind::File => "f".to_string(),
                EntryKind::Dir => "d".to_string(),
                EntryKind::Symlink(t) => format!("l{}", t.display()),
            };
            h.update(format!("{}\0{kind}\0{}\0{:o}\0{}.{}\n", e.rel, e.size, e.mode, e.mtime, e.mtime_nsec).as_bytes());
        }
        if let Some((name, bytes)) = &self.extra_dockerfile {
            h.update(name.as_bytes());
            h.update(bytes);
        }
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Total bytes of the files sent.
    pub fn file_bytes(&self) -> u64 {
        self.entries.iter().map(|e| e.size).sum::<u64>() + self.extra_dockerfile.as_ref().map_or(0, |(_, b)| b.len() as u64)
    }

    /// Writes the context as a tar stream.
    pub fn write_tar<W: Write>(&self, out: W) -> io::Result<()> {
        let mut tar = tar::Builder::new(out);
        tar.follow_symlinks(false);
        let header = |e: &ContextEntry, kind: tar::EntryType, size: u64| {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(kind);
            h.set_mode(e.mode);
            h.set_uid(0);
            h.set_gid(0);
            h.set_mtime(e.mtime.max(0) as u64);
            h.set_size(size);
            h
        };
        for e in &self.entries {
            match &e.kind {
                EntryKind::Dir => {
                    let mut h = header(e, tar::EntryType::Directory, 0);
                    tar.append_data(&mut h, format!("{}/", e.rel), io::empty())?;
                }
                EntryKind::Symlink(target) => {
                    let mut h = header(e, tar::EntryType::Symlink, 0);
                    tar.append_link(&mut h, &e.rel, target)?;
                }
                EntryKind::File => {
                    let file = fs::File::open(&e.path).map_err(|err| io::Error::new(err.kind(), format!("{}: {err}", e.path.display())))?;
                    // The size as read now (a file that changed since the scan is sent as it is now).
                    let len = file.metadata()?.len();
                    let mut h = header(e, tar::EntryType::Regular, len);
                    tar.append_data(&mut h, &e.rel, io::Read::take(file, len))?;
                }
            }
        }
        if let Some((name, bytes)) = &self.extra_dockerfile {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(tar::EntryType::Regular);
            h.set_mode(0o644);
            h.set_size(bytes.len() as u64);
            tar.append_data(&mut h, name, bytes.as_slice())?;
        }
        tar.into_inner()?.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(ctx: &BuildContext) -> Vec<String> {
        ctx.entries.iter().map(|e| e.rel.clone()).collect()
    }

    fn touch(root: &Path, rel: &str) {
        let p = root.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, rel).unwrap();
    }

    #[test]
    fn honours_dockerignore_with_exceptions_and_build_files() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        for f in ["a.py", "data/big.bin", "data/keep.csv", "node_modules/x/y.js", ".devcontainer/Dockerfile", ".devcontainer/devcontainer.json", "pkg/__pycache__/m.pyc", "pkg/m.py"] {
            touch(r, f);
        }
        fs::write(r.join(".dockerignore"), "data\n!data/keep.csv\nnode_modules\n**/__pycache__\n.devcontainer\n.dockerignore\n").unwrap();
        std::os::unix::fs::symlink("a.py", r.join("link.py")).unwrap();
        let ctx = BuildContext::scan(r, Some(".devcontainer/Dockerfile"), None).unwrap();
        assert_eq!(names(&ctx), [".devcontainer/Dockerfile", ".dockerignore", "a.py", "data/keep.csv", "link.py", "pkg", "pkg/m.py"]);
        assert!(matches!(ctx.entries[4].kind, EntryKind::Symlink(_)));

        let mut tar_bytes = Vec::new();
        ctx.write_tar(&mut tar_bytes).unwrap();
        let mut archive = tar::Archive::new(tar_bytes.as_slice());
        let listed: Vec<String> = archive.entries().unwrap().map(|e| e.unwrap().path().unwrap().display().to_string()).collect();
        assert_eq!(listed, [".devcontainer/Dockerfile", ".dockerignore", "a.py", "data/keep.csv", "link.py", "pkg/", "pkg/m.py"]);
    }

    #[test]
    fn fingerprint_changes_with_the_context() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        touch(r, "a.txt");
        let f1 = BuildContext::scan(r, None, None).unwrap().fingerprint();
        assert_eq!(f1, BuildContext::scan(r, None, None).unwrap().fingerprint());
        fs::write(r.join("a.txt"), "longer content").unwrap();
        let f2 = BuildContext::scan(r, None, None).unwrap().fingerprint();
        assert_ne!(f1, f2);
        touch(r, "ignored.log");
        fs::write(r.join(".dockerignore"), "*.log\n").unwrap();
        let f3 = BuildContext::scan(r, None, None).unwrap().fingerprint();
        fs::write(r.join("ignored.log"), "changed, but ignored").unwrap();
        assert_eq!(f3, BuildContext::scan(r, None, None).unwrap().fingerprint());
        let with_extra = BuildContext::scan(r, None, Some((".devgpu.Dockerfile".into(), b"FROM x".to_vec()))).unwrap();
        assert_ne!(with_extra.fingerprint(), f3);
    }

    #[test]
    fn bad_dockerignore_and_missing_context() {
        let d = tempfile::tempdir().unwrap();
        fs::write(d.path().join(".dockerignore"), "!\n").unwrap();
        assert!(matches!(BuildContext::scan(d.path(), None, None), Err(UpError::Dockerignore(_))));
        assert!(matches!(BuildContext::scan(&d.path().join("nope"), None, None), Err(UpError::Context { .. })));
    }
}
