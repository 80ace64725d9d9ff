//! EDGE + parse: the NVIDIA driver's user-space files — libraries, binaries, GSP firmware — and which of them each
//! `NVIDIA_DRIVER_CAPABILITIES` class needs (`templates/gpu/driver-files.toml`, from libnvidia-container's own
//! lists). This is what a container needs besides the device nodes to use the GPU without nvidia-container-toolkit:
//! `devgpu host cdi` writes it into a CDI spec, `init --gpu-mode inject` into runArgs.
//!
//! Where the files are, in this order:
//! 1. `--driver-root DIR`: a driver root (`DIR/lib64`, `DIR/lib`, `DIR/bin`) or a library folder itself
//!    (`/usr/lib/x86_64-linux-gnu`, whose binaries are then in `/usr/bin`);
//! 2. `/usr/local/nvidia` when it holds the driver's libraries (GPU clouds and Kubernetes mount the driver there;
//!    the H200 test machine does);
//! 3. the loader cache (`ldconfig -p`): the folder of `libnvidia-ml.so.1` / `libcuda.so.1` (a stock Ubuntu host:
//!    `/usr/lib/x86_64-linux-gnu`, binaries in `/usr/bin`);
//! 4. the folder NVML was loaded from.
//!
//! A root that holds nothing but the driver (every library in it is NVIDIA's) is bound whole, read-only, at
//! `/usr/local/nvidia` in the container; files mixed with the system's are bound one by one into
//! `/usr/local/nvidia/{lib64,bin}` under their soname. Either way `LD_LIBRARY_PATH` points at the library folder —
//! the layout NVIDIA's `nvidia/cuda` images already expect (`PATH` and `LD_LIBRARY_PATH` name `/usr/local/nvidia`).
//!
//! Parsing is pure and tested on listings recorded on the H200 and on a stock-Ubuntu layout; [`scan`] is the edge.

use crate::error::ErrorCode;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::OnceLock;
pub use crate::model::host::{Capability, FileKind, DriverFile, DriverLayout, DriverFiles, CONTAINER_DRIVER_ROOT, DEFAULT_CAPABILITIES};

/// The dedicated driver root probed before the loader cache.
pub const USR_LOCAL_NVIDIA: &str = "/usr/local/nvidia";
/// Where the GSP firmware of driver VERSION is (`NV_FIRMWARE_PATH` in libnvidia-container).
pub const FIRMWARE_DIR: &str = "/lib/firmware/nvidia";



impl Capability {
    pub const ALL: [Capability; 4] = [Capability::Compute, Capability::Utility, Capability::Video, Capability::Graphics];

    pub fn name(self) -> &'static str {
        match self {
            Capability::Compute => "compute",
            Capability::Utility => "utility",
            Capability::Video => "video",
            Capability::Graphics => "graphics",
        }
    }

    /// `compute,utility`, `all` (as `NVIDIA_DRIVER_CAPABILITIES` is written). Sorted, without duplicates.
    pub fn parse_list(s: &str) -> Result<Vec<Capability>, String> {
        let mut out = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            if part.eq_ignore_ascii_case("all") {
                out.extend(Capability::ALL);
                continue;
            }
            let c = Capability::ALL
                .into_iter()
                .find(|c| c.name().eq_ignore_ascii_case(part))
                .ok_or_else(|| format!("unknown driver capability `{part}` (known: compute, utility, video, graphics, all)"))?;
            out.push(c);
        }
        if out.is_empty() {
            return Err("no driver capability given (e.g. compute,utility)".into());
        }
        out.sort();
        out.dedup();
        Ok(out)
    }
}

#[derive(Debug, Deserialize)]
struct Catalog {
    class: Vec<ClassData>,
}

#[derive(Debug, Deserialize)]
struct ClassData {
    name: String,
    libraries: Vec<String>,
    binaries: Vec<String>,
    required: Vec<String>,
}

fn catalog() -> &'static [ClassData] {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    &CATALOG.get_or_init(|| toml::from_str(include_str!("../../templates/gpu/driver-files.toml")).expect("templates/gpu/driver-files.toml parses")).class
}

fn class(c: Capability) -> &'static ClassData {
    catalog().iter().find(|d| d.name == c.name()).expect("every capability has a class in templates/gpu/driver-files.toml")
}

/// The libraries a class needs, by name prefix (`libcuda.so`).
pub fn libraries_of(c: Capability) -> &'static [String] {
    &class(c).libraries
}

/// The binaries a class needs.
pub fn binaries_of(c: Capability) -> &'static [String] {
    &class(c).binaries
}

// ---------------------------------------------------------------------------------------------------------
// Listings

/// One entry of a folder listing: `ls -l` text (fixtures) or `read_dir` (the edge) give the same shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LsEntry {
    pub name: String,
    /// `-` file, `l` symbolic link, `d` folder, `c` character device, `b` block device.
    pub kind: char,
    /// (major, minor) of a device.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<(u32, u32)>,
    /// A link's target, as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

/// A folder and its entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Listing {
    pub dir: String,
    pub entries: Vec<LsEntry>,
}

impl Listing {
    pub fn get(&self, name: &str) -> Option<&LsEntry> {
        self.entries.iter().find(|e| e.name == name)
    }
    fn path(&self, name: &str) -> String {
        format!("{}/{name}", self.dir.trim_end_matches('/'))
    }
}

/// Parses `ls -l` output: `DIR:` headers start a folder; entries with an absolute name (`ls -l /dev/nvidia*`)
/// go to their own folder. `total`, `.` and `..` lines are skipped; a folder listed twice is merged.
pub fn parse_ls(text: &str) -> Vec<Listing> {
    let mut out: Vec<Listing> = Vec::new();
    let mut current: Option<String> = None;
    let push = |dir: &str, e: LsEntry, out: &mut Vec<Listing>| {
        let idx = match out.iter().position(|l| l.dir == dir) {
            Some(i) => i,
            None => {
                out.push(Listing { dir: dir.to_string(), entries: Vec::new() });
                out.len() - 1
            }
        };
        if !out[idx].entries.iter().any(|x| x.name == e.name) {
            out[idx].entries.push(e);
        }
    };
    for line in text.lines() {
        let t = line.trim_end();
        if t.is_empty() || t.starts_with("total ") {
            continue;
        }
        if let Some(dir) = t.strip_suffix(':').filter(|d| d.starts_with('/') && !d.contains(' ')) {
            current = Some(dir.to_string());
            continue;
        }
        let Some(kind) = t.chars().next().filter(|c| "-ldcbps".contains(*c)) else { continue };
        let fields: Vec<&str> = t.split_whitespace().collect();
        if fields.len() < 8 || fields[0].len() < 10 {
            continue;
        }
        // perms links owner group SIZE|MAJOR, MINOR  MON DAY TIME|YEAR  NAME [-> TARGET]
        let (device, date_at) = if fields[4].ends_with(',') {
            (fields[4].trim_end_matches(',').parse().ok().zip(fields[5].parse().ok()), 6)
        } else if let Some((a, b)) = fields[4].split_once(',') {
            (a.parse().ok().zip(b.parse().ok()), 5)
        } else {
            (None, 5)
        };
        let Some(rest) = fields.get(date_at + 3..).filter(|r| !r.is_empty()) else { continue };
        let rest = rest.join(" ");
        let (name, target) = match rest.split_once(" -> ") {
            Some((n, t)) => (n.to_string(), Some(t.to_string())),
            None => (rest, None),
        };
        if name == "." || name == ".." {
            continue;
        }
        let (dir, name) = if name.starts_with('/') {
            let (d, n) = name.rsplit_once('/').expect("an absolute path has a slash");
            (if d.is_empty() { "/".to_string() } else { d.to_string() }, n.to_string())
        } else {
            match &current {
                Some(d) => (d.clone(), name),
                None => continue,
            }
        };
        push(&dir, LsEntry { name, kind, device: if matches!(kind, 'c' | 'b') { device } else { None }, target }, &mut out);
    }
    out
}

/// One line of `ldconfig -p`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LdEntry {
    pub soname: String,
    /// `libc6,x86-64`
    pub arch: String,
    pub path: String,
}

/// Parses `ldconfig -p` (`\tlibcuda.so.1 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libcuda.so.1`).
pub fn parse_ldconfig(text: &str) -> Vec<LdEntry> {
    text.lines()
        .filter_map(|l| {
            let (left, path) = l.split_once(" => ")?;
            let (soname, arch) = left.trim().split_once(" (")?;
            let arch = arch.split(')').next()?;
            Some(LdEntry { soname: soname.trim().to_string(), arch: arch.to_string(), path: path.trim().to_string() })
        })
        .collect()
}

/// The native 64-bit entries (`x86-64` or `AArch64`), not `libc6` (32-bit) ones.
fn is_native(e: &LdEntry) -> bool {
    let a = e.arch.to_ascii_lowercase();
    a.contains("x86-64") || a.contains("aarch64") || a.contains("64bit")
}

// ---------------------------------------------------------------------------------------------------------
// Resolving the files

/// What [`scan`] found on disk (or a fixture describes): the folders to look in, listed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DriverScan {
    /// How the folders were found: `--driver-root`, `/usr/local/nvidia`, `ldconfig`, `nvml`.
    pub source: String,
    /// A driver root that may hold nothing but the driver (bound whole when it does).
    pub root: Option<String>,
    pub lib_dirs: Vec<Listing>,
    pub bin_dirs: Vec<Listing>,
    /// `/lib/firmware/nvidia/<version>`, when it exists.
    pub firmware: Vec<Listing>,
    /// The driver version the kernel module or NVML reports, when known.
    pub driver_version: Option<String>,
    /// The folders looked in, for messages.
    pub looked_in: Vec<String>,
}





impl DriverFiles {
    /// The container's `LD_LIBRARY_PATH` for these files.
    pub fn ld_library_path(&self) -> String {
        match &self.layout {
            DriverLayout::Dedicated { lib_subdirs, .. } if !lib_subdirs.is_empty() => {
                lib_subdirs.iter().map(|d| format!("{CONTAINER_DRIVER_ROOT}/{d}")).collect::<Vec<_>>().join(":")
            }
            _ => format!("{CONTAINER_DRIVER_ROOT}/lib64"),
        }
    }

    pub fn find(&self, wanted: &str) -> Option<&DriverFile> {
        self.files.iter().find(|f| f.wanted == wanted)
    }
}

/// Why the driver's files cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DriverFilesError {
    #[error("no NVIDIA driver libraries found (looked in {})", if looked_in.is_empty() { "the loader cache and /usr/local/nvidia".to_string() } else { looked_in.join(", ") })]
    NotFound { looked_in: Vec<String> },
    #[error("the driver files in {dir} lack {}, which the `{capability}` capability needs", missing.join(", "))]
    RequiredMissing { dir: String, capability: String, missing: Vec<String> },
    #[error("{link} points to {target}, which does not exist (the driver was upgraded or removed without cleaning up)")]
    Dangling { link: String, target: String },
    #[error("the driver reports version {reported}, but the files in {dir} are version {found}: a driver upgrade without a reboot, or another driver's files")]
    VersionMismatch { reported: String, found: String, dir: String },
}

impl crate::error::Coded for DriverFilesError {
    fn code(&self) -> ErrorCode {
        match self {
            DriverFilesError::NotFound { .. } => ErrorCode::DriverFilesNotFound,
            DriverFilesError::RequiredMissing { .. } | DriverFilesError::Dangling { .. } => ErrorCode::DriverFilesMissing,
            DriverFilesError::VersionMismatch { .. } => ErrorCode::DriverFilesVersionMismatch,
        }
    }
    fn hints(&self) -> Vec<String> {
        match self {
            DriverFilesError::NotFound { .. } => vec![
                "name the driver's folder: `--driver-root DIR` (e.g. /usr/local/nvidia, or /usr/lib/x86_64-linux-gnu)".into(),
                "or install the driver's user-space part: Ubuntu `sudo apt install nvidia-utils-<branch> libnvidia-compute-<branch>`".into(),
            ],
            DriverFilesError::RequiredMissing { .. } | DriverFilesError::Dangling { .. } => vec![
                "reinstall the driver's user-space part (Ubuntu `sudo apt install --reinstall libnvidia-compute-<branch> nvidia-utils-<branch>`), or point --driver-root at a complete driver".into(),
            ],
            DriverFilesError::VersionMismatch { .. } => vec!["reboot so the kernel module matches the installed libraries, or pass --driver-root for the driver that runs".into()],
        }
    }
}

/// The version in `libcuda.so.580.159.04` after `base.` (`580.159.04`), when it is a dotted driver version.
fn version_suffix<'a>(name: &'a str, base: &str) -> Option<&'a str> {
    let v = name.strip_prefix(base)?.strip_prefix('.')?;
    (v.contains('.') && v.split('.').all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))).then_some(v)
}

/// The versions of the driver's own libraries in a folder (from `libnvidia-ml.so.X` / `libcuda.so.X` files).
fn versions_in(l: &Listing) -> Vec<String> {
    let mut v: Vec<String> = l
        .entries
        .iter()
        .filter(|e| matches!(e.kind, '-' | 'l'))
        .filter_map(|e| version_suffix(&e.name, "libnvidia-ml.so").or_else(|| version_suffix(&e.name, "libcuda.so")))
        .map(str::to_string)
        .collect();
    v.sort();
    v.dedup();
    v
}

/// A library of the NVIDIA driver (nothing else lives in a dedicated driver root's library folder).
fn is_driver_library(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.starts_with("lib") && (n.contains("nvidia") || n.starts_with("libcuda") || n.starts_with("libnv"))
}

/// Follows a link inside its folder to the entry it ends at (None: it leaves the folder or dangles).
fn resolve_in<'a>(l: &'a Listing, name: &str) -> Option<&'a LsEntry> {
    let mut cur = l.get(name)?;
    for _ in 0..8 {
        match (&cur.kind, &cur.target) {
            ('l', Some(t)) => {
                let t = if let Some(rest) = t.strip_prefix(&format!("{}/", l.dir.trim_end_matches('/'))) { rest } else { t.as_str() };
                if t.contains('/') {
                    return None;
                }
                cur = l.get(t)?;
            }
            _ => return Some(cur),
        }
    }
    None
}

/// Decides which files the container gets for `caps` (pure).
pub fn resolve(scan: &DriverScan, caps: &[Capability]) -> Result<DriverFiles, DriverFilesError> {
    let looked_in = if scan.looked_in.is_empty() { scan.lib_dirs.iter().map(|l| l.dir.clone()).collect() } else { scan.looked_in.clone() };
    // The version: the one the driver reports when its files are there, else the one the files carry.
    let mut found: Vec<(String, &Listing)> = Vec::new();
    for l in &scan.lib_dirs {
        for v in versions_in(l) {
            found.push((v, l));
        }
    }
    if found.is_empty() {
        return Err(DriverFilesError::NotFound { looked_in });
    }
    let mut warnings = Vec::new();
    let version = match &scan.driver_version {
        Some(r) if found.iter().any(|(v, _)| v == r) => r.clone(),
        Some(r) => {
            let (v, l) = &found[0];
            return Err(DriverFilesError::VersionMismatch { reported: r.clone(), found: v.clone(), dir: l.dir.clone() });
        }
        None => {
            let mut vs: Vec<&String> = found.iter().map(|(v, _)| v).collect();
            vs.sort_by_key(|v| v.split('.').map(|p| p.parse::<u64>().unwrap_or(0)).collect::<Vec<_>>());
            vs.dedup();
            let newest = vs.last().expect("found is not empty").to_string();
            if vs.len() > 1 {
                warnings.push(format!(
                    "files of several driver versions are installed ({}); using {newest} (pass the running driver's folder with --driver-root to choose)",
                    vs.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
                ));
            }
            newest
        }
    };

    let mut files = Vec::new();
    let mut absent = Vec::new();
    let mut caps: Vec<Capability> = caps.to_vec();
    caps.sort();
    caps.dedup();
    for &cap in &caps {
        let data = class(cap);
        let mut missing_required = Vec::new();
        for base in &data.libraries {
            let real_name = format!("{base}.{version}");
            let hit = scan.lib_dirs.iter().find_map(|l| l.get(&real_name).map(|e| (l, e)));
            let Some((l, entry)) = hit else {
                if data.required.contains(base) {
                    missing_required.push(real_name);
                } else {
                    absent.push(format!("{base} ({})", cap.name()));
                }
                continue;
            };
            if entry.kind == 'l' && resolve_in(l, &entry.name).is_none() && entry.target.as_deref().is_some_and(|t| !t.starts_with('/')) {
                return Err(DriverFilesError::Dangling { link: l.path(&entry.name), target: entry.target.clone().unwrap_or_default() });
            }
            // The soname links to it (`libcuda.so.1`): `base.N` links that end at the real file.
            let mut names: Vec<String> = l
                .entries
                .iter()
                .filter(|e| e.kind == 'l')
                .filter(|e| e.name.strip_prefix(base.as_str()).and_then(|r| r.strip_prefix('.')).is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit())))
                .filter(|e| resolve_in(l, &e.name).is_some_and(|r| r.name == real_name || resolve_in(l, &real_name).is_some_and(|rr| rr.name == r.name)))
                .map(|e| e.name.clone())
                .collect();
            names.sort();
            if names.is_empty() {
                // No `.so.N` link: the versioned name is the soname (libnvidia-glcore.so.580.159.04).
                names.push(real_name.clone());
            }
            if base == "libcuda.so" {
                // What CUDA's own tooling (and Triton, Numba) dlopen besides the soname.
                names.push("libcuda.so".into());
            }
            files.push(DriverFile { capability: cap, kind: FileKind::Library, wanted: base.clone(), host_path: l.path(&real_name), names });
        }
        for bin in &data.binaries {
            match scan.bin_dirs.iter().find_map(|l| l.get(bin).filter(|e| matches!(e.kind, '-' | 'l')).map(|_| l)) {
                Some(l) => files.push(DriverFile { capability: cap, kind: FileKind::Binary, wanted: bin.clone(), host_path: l.path(bin), names: vec![bin.clone()] }),
                None if data.required.contains(bin) => missing_required.push(bin.clone()),
                None => absent.push(format!("{bin} ({})", cap.name())),
            }
        }
        if !missing_required.is_empty() {
            let dir = scan.lib_dirs.first().map(|l| l.dir.clone()).unwrap_or_default();
            return Err(DriverFilesError::RequiredMissing { dir, capability: cap.name().into(), missing: missing_required });
        }
    }
    // The GSP firmware of this version (every class lists it in libnvidia-container).
    let fw_dir = format!("{FIRMWARE_DIR}/{version}");
    for l in scan.firmware.iter().filter(|l| l.dir == fw_dir) {
        for e in l.entries.iter().filter(|e| e.kind == '-' && e.name.starts_with("gsp") && e.name.ends_with(".bin")) {
            files.push(DriverFile { capability: caps[0], kind: FileKind::Firmware, wanted: "gsp*.bin".into(), host_path: l.path(&e.name), names: vec![e.name.clone()] });
        }
    }

    // Dedicated: the root's library folders hold nothing but the driver.
    let layout = match &scan.root {
        Some(root) => {
            let root = root.trim_end_matches('/');
            let inside: Vec<&Listing> = scan.lib_dirs.iter().filter(|l| l.dir.starts_with(&format!("{root}/"))).collect();
            let only_driver = !root.is_empty()
                && !matches!(root, "/usr" | "/usr/local" | "/usr/lib" | "/usr/lib64" | "/lib" | "/lib64")
                && !inside.is_empty()
                && inside.len() == scan.lib_dirs.len()
                && inside.iter().all(|l| l.entries.iter().filter(|e| e.kind != 'd').all(|e| is_driver_library(&e.name)));
            if only_driver {
                let mut subs: Vec<String> = inside.iter().filter(|l| !versions_in(l).is_empty()).map(|l| l.dir[root.len() + 1..].to_string()).collect();
                subs.sort_by_key(|s| if s.ends_with("64") { 0 } else { 1 });
                DriverLayout::Dedicated { root: root.to_string(), lib_subdirs: subs }
            } else {
                DriverLayout::Shared
            }
        }
        None => DriverLayout::Shared,
    };
    Ok(DriverFiles { version, source: scan.source.clone(), layout, capabilities: caps, files, absent, warnings })
}

// ---------------------------------------------------------------------------------------------------------
// The edge

/// Lists a folder the way [`parse_ls`] reads `ls -l` (None when it cannot be read).
pub fn list_dir(dir: &Path, keep: impl Fn(&str) -> bool) -> Option<Listing> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let rd = std::fs::read_dir(dir).ok()?;
    let mut entries = Vec::new();
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !keep(&name) {
            continue;
        }
        let Ok(meta) = std::fs::symlink_metadata(e.path()) else { continue };
        let ft = meta.file_type();
        let kind = if ft.is_symlink() {
            'l'
        } else if ft.is_dir() {
            'd'
        } else if ft.is_char_device() {
            'c'
        } else if ft.is_block_device() {
            'b'
        } else {
            '-'
        };
        let device = matches!(kind, 'c' | 'b').then(|| {
            let rdev = meta.rdev();
            ((((rdev >> 8) & 0xfff) | ((rdev >> 32) & !0xfff)) as u32, ((rdev & 0xff) | ((rdev >> 12) & !0xff)) as u32)
        });
        let target = (kind == 'l').then(|| std::fs::read_link(e.path()).ok().map(|t| t.display().to_string())).flatten();
        entries.push(LsEntry { name, kind, device, target });
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    Some(Listing { dir: dir.display().to_string(), entries })
}

fn has_driver_libs(dir: &Path) -> bool {
    list_dir(dir, |n| n.starts_with("libnvidia-ml.so.") || n.starts_with("libcuda.so.")).is_some_and(|l| !versions_in(&l).is_empty())
}

/// `ldconfig -p` (edge): `/sbin/ldconfig`, then `ldconfig` on PATH.
pub fn ldconfig_cache() -> Vec<LdEntry> {
    for bin in ["/sbin/ldconfig", "/usr/sbin/ldconfig", "ldconfig"] {
        if let Ok(out) = std::process::Command::new(bin).arg("-p").output() {
            if out.status.success() {
                return parse_ldconfig(&String::from_utf8_lossy(&out.stdout));
            }
        }
    }
    Vec::new()
}

/// Finds and lists the driver's folders (edge). `driver_root`: `--driver-root`; `nvml_library`: the file NVML
/// was loaded from; `driver_version`: what the kernel module or NVML reports.
pub fn scan(driver_root: Option<&Path>, nvml_library: Option<&str>, driver_version: Option<&str>) -> DriverScan {
    let mut s = DriverScan { driver_version: driver_version.map(str::to_string), ..Default::default() };
    let mut lib_dirs: Vec<String> = Vec::new();
    let mut bin_dirs: Vec<String> = Vec::new();
    let add = |v: &mut Vec<String>, d: String| {
        if !v.contains(&d) {
            v.push(d)
        }
    };
    let root_layout = |root: &Path, lib_dirs: &mut Vec<String>, bin_dirs: &mut Vec<String>| {
        for sub in ["lib64", "lib", "lib/x86_64-linux-gnu", "lib/aarch64-linux-gnu"] {
            if has_driver_libs(&root.join(sub)) {
                add(lib_dirs, root.join(sub).display().to_string());
            }
        }
        add(bin_dirs, root.join("bin").display().to_string());
    };
    if let Some(root) = driver_root {
        s.source = "--driver-root".into();
        if has_driver_libs(root) {
            // A library folder: binaries beside its parent (/usr/lib/x86_64-linux-gnu → /usr/bin).
            add(&mut lib_dirs, root.display().to_string());
            for up in [root.parent(), root.parent().and_then(Path::parent)].into_iter().flatten() {
                add(&mut bin_dirs, up.join("bin").display().to_string());
            }
        } else {
            s.root = Some(root.display().to_string());
            root_layout(root, &mut lib_dirs, &mut bin_dirs);
        }
        s.looked_in.push(root.display().to_string());
    } else if has_driver_libs(&Path::new(USR_LOCAL_NVIDIA).join("lib64")) || has_driver_libs(&Path::new(USR_LOCAL_NVIDIA).join("lib")) {
        s.source = USR_LOCAL_NVIDIA.into();
        s.root = Some(USR_LOCAL_NVIDIA.into());
        root_layout(Path::new(USR_LOCAL_NVIDIA), &mut lib_dirs, &mut bin_dirs);
        s.looked_in.push(USR_LOCAL_NVIDIA.into());
    } else {
        let cache = ldconfig_cache();
        for soname in ["libnvidia-ml.so.1", "libcuda.so.1"] {
            if let Some(e) = cache.iter().find(|e| e.soname == soname && is_native(e)) {
                let real = std::fs::canonicalize(&e.path).unwrap_or_else(|_| e.path.clone().into());
                if let Some(dir) = real.parent() {
                    s.source = "ldconfig".into();
                    add(&mut lib_dirs, dir.display().to_string());
                }
            }
        }
        if lib_dirs.is_empty() {
            if let Some(dir) = nvml_library.and_then(|p| Path::new(p).parent()) {
                s.source = "nvml".into();
                add(&mut lib_dirs, dir.display().to_string());
            }
        }
        s.looked_in.push("the loader cache (ldconfig -p)".into());
        s.looked_in.push(USR_LOCAL_NVIDIA.into());
        for d in ["/usr/bin", "/usr/local/bin", "/bin"] {
            add(&mut bin_dirs, d.into());
        }
    }
    let wanted_bins: Vec<&String> = catalog().iter().flat_map(|c| c.binaries.iter()).collect();
    // Every library of a folder is listed (not only the driver's): whether a root holds nothing but the driver
    // decides how it is bound.
    // A folder reached twice (`/usr/local/nvidia/lib -> lib64` on the H200) is listed once.
    let mut seen = Vec::new();
    lib_dirs.retain(|d| {
        let real = std::fs::canonicalize(d).unwrap_or_else(|_| d.into());
        let fresh = !seen.contains(&real);
        seen.push(real);
        fresh
    });
    s.lib_dirs = lib_dirs.iter().filter_map(|d| list_dir(Path::new(d), |n| n.starts_with("lib"))).collect();
    s.bin_dirs = bin_dirs.iter().filter_map(|d| list_dir(Path::new(d), |n| wanted_bins.iter().any(|b| *b == n))).collect();
    // The firmware of the version found.
    let version = s.driver_version.clone().or_else(|| s.lib_dirs.iter().flat_map(versions_in).last());
    if let Some(v) = version {
        if let Some(l) = list_dir(&Path::new(FIRMWARE_DIR).join(&v), |n| n.starts_with("gsp")) {
            s.firmware.push(l);
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::host::gpu_fixtures::{h200_scan, ubuntu_scan, H200_LDCONFIG, H200_LS, UBUNTU_LDCONFIG};

    #[test]
    fn parses_the_h200_listing() {
        let ls = parse_ls(H200_LS);
        assert_eq!(ls.iter().map(|l| l.dir.as_str()).collect::<Vec<_>>(), ["/usr/local/nvidia/bin", "/usr/local/nvidia/lib64"]);
        let lib = &ls[1];
        assert_eq!(lib.get("libcuda.so.1").unwrap().target.as_deref(), Some("libcuda.so.580.159.04"));
        assert_eq!(lib.get("libcuda.so.580.159.04").unwrap().kind, '-');
        assert_eq!(resolve_in(lib, "libcuda.so").unwrap().name, "libcuda.so.580.159.04");
        assert_eq!(versions_in(lib), ["580.159.04"]);
        assert_eq!(ls[0].entries.len(), 5);
    }

    #[test]
    fn parses_device_listings_and_ldconfig() {
        let dev = parse_ls(include_str!("../../tests/fixtures/h200/dev-nvidia.txt"));
        let d = dev.iter().find(|l| l.dir == "/dev").unwrap();
        assert_eq!(d.get("nvidiactl").unwrap().device, Some((195, 255)));
        assert_eq!(d.get("nvidia-uvm-tools").unwrap().device, Some((238, 1)));
        let caps = dev.iter().find(|l| l.dir == "/dev/nvidia-caps").unwrap();
        assert_eq!(caps.entries.len(), 2, "listed twice in the capture, merged");
        let ld = parse_ldconfig(H200_LDCONFIG);
        let cuda: Vec<&LdEntry> = ld.iter().filter(|e| e.soname == "libcuda.so.1").collect();
        assert_eq!(cuda[0].path, "/usr/local/nvidia/lib64/libcuda.so.1");
        assert!(cuda.iter().all(|e| is_native(e)));
        let ub = parse_ldconfig(UBUNTU_LDCONFIG);
        assert!(ub.iter().any(|e| e.soname == "libcuda.so.1" && e.arch == "libc6" && e.path.starts_with("/usr/lib/i386")), "a 32-bit entry, not native");
        assert_eq!(ub.iter().find(|e| e.soname == "libnvidia-ml.so.1" && is_native(e)).unwrap().path, "/lib/x86_64-linux-gnu/libnvidia-ml.so.1");
    }

    #[test]
    fn h200_compute_utility_is_the_dedicated_root() {
        let f = resolve(&h200_scan(), &DEFAULT_CAPABILITIES).unwrap();
        assert_eq!(f.version, "580.159.04");
        assert_eq!(f.layout, DriverLayout::Dedicated { root: "/usr/local/nvidia".into(), lib_subdirs: vec!["lib64".into()] });
        assert_eq!(f.ld_library_path(), "/usr/local/nvidia/lib64");
        let cuda = f.find("libcuda.so").unwrap();
        assert_eq!(cuda.host_path, "/usr/local/nvidia/lib64/libcuda.so.580.159.04");
        assert_eq!(cuda.names, ["libcuda.so.1", "libcuda.so"]);
        assert_eq!(f.find("libnvidia-ml.so").unwrap().names, ["libnvidia-ml.so.1"]);
        assert_eq!(f.find("libnvidia-nvvm.so").unwrap().names, ["libnvidia-nvvm.so.4"]);
        assert_eq!(f.find("libnvidia-gpucomp.so").unwrap().names, ["libnvidia-gpucomp.so.580.159.04"], "no .so.N link: the versioned name");
        assert_eq!(f.find("nvidia-smi").unwrap().host_path, "/usr/local/nvidia/bin/nvidia-smi");
        assert!(f.find("libnvidia-encode.so").is_none(), "video is not asked for");
        assert!(f.absent.contains(&"libnvidia-fatbinaryloader.so (compute)".to_string()), "{:?}", f.absent);
        assert!(f.absent.contains(&"nv-fabricmanager (utility)".to_string()));
        // All classes: video and graphics libraries come too.
        let all = resolve(&h200_scan(), &Capability::ALL).unwrap();
        assert_eq!(all.find("libnvcuvid.so").unwrap().capability, Capability::Video);
        assert_eq!(all.find("libGLX_nvidia.so").unwrap().names, ["libGLX_nvidia.so.0"]);
    }

    #[test]
    fn stock_ubuntu_is_shared_with_firmware() {
        let f = resolve(&ubuntu_scan(), &DEFAULT_CAPABILITIES).unwrap();
        assert_eq!(f.layout, DriverLayout::Shared);
        assert_eq!(f.version, "550.54.15");
        assert_eq!(f.find("libcuda.so").unwrap().host_path, "/usr/lib/x86_64-linux-gnu/libcuda.so.550.54.15");
        assert_eq!(f.find("nvidia-smi").unwrap().host_path, "/usr/bin/nvidia-smi");
        let fw: Vec<&str> = f.files.iter().filter(|x| x.kind == FileKind::Firmware).map(|x| x.host_path.as_str()).collect();
        assert_eq!(fw, ["/lib/firmware/nvidia/550.54.15/gsp_ga10x.bin", "/lib/firmware/nvidia/550.54.15/gsp_tu10x.bin"]);
        assert!(f.find("libnvidia-ml.so").is_some());
        // the stale 535 library beside it is not picked up
        assert!(f.files.iter().all(|x| !x.host_path.contains("535")));
    }

    #[test]
    fn version_choice_and_errors() {
        let mut s = ubuntu_scan();
        s.driver_version = None;
        let f = resolve(&s, &DEFAULT_CAPABILITIES).unwrap();
        assert_eq!(f.version, "550.54.15");
        assert!(f.warnings[0].contains("535.183.01, 550.54.15"), "{:?}", f.warnings);
        s.driver_version = Some("560.1.2".into());
        assert!(matches!(resolve(&s, &DEFAULT_CAPABILITIES), Err(DriverFilesError::VersionMismatch { .. })));
        // A driver without libcuda: compute cannot work, utility alone can.
        let mut s = h200_scan();
        s.lib_dirs[0].entries.retain(|e| !e.name.starts_with("libcuda.so"));
        let e = resolve(&s, &DEFAULT_CAPABILITIES).unwrap_err();
        assert_eq!(e, DriverFilesError::RequiredMissing { dir: "/usr/local/nvidia/lib64".into(), capability: "compute".into(), missing: vec!["libcuda.so.580.159.04".into()] });
        assert!(e.to_string().contains("libcuda.so.580.159.04"));
        assert!(resolve(&s, &[Capability::Utility]).is_ok(), "utility alone does not need libcuda");
        let empty = DriverScan { looked_in: vec!["/nowhere".into()], ..Default::default() };
        assert_eq!(resolve(&empty, &DEFAULT_CAPABILITIES).unwrap_err().to_string(), "no NVIDIA driver libraries found (looked in /nowhere)");
    }

    #[test]
    fn capability_lists() {
        assert_eq!(Capability::parse_list("utility,compute").unwrap(), DEFAULT_CAPABILITIES);
        assert_eq!(Capability::parse_list("all").unwrap().len(), 4);
        assert!(Capability::parse_list("compute,display").unwrap_err().contains("display"));
        assert!(Capability::parse_list("").is_err());
    }

    #[test]
    fn scanning_a_fake_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("nvidia");
        std::fs::create_dir_all(root.join("lib64")).unwrap();
        std::fs::create_dir_all(root.join("bin")).unwrap();
        for f in ["libcuda.so.1.2.3", "libnvidia-ml.so.1.2.3"] {
            std::fs::write(root.join("lib64").join(f), "x").unwrap();
        }
        std::os::unix::fs::symlink("libcuda.so.1.2.3", root.join("lib64/libcuda.so.1")).unwrap();
        std::os::unix::fs::symlink("libnvidia-ml.so.1.2.3", root.join("lib64/libnvidia-ml.so.1")).unwrap();
        std::fs::write(root.join("bin/nvidia-smi"), "#!/bin/sh\n").unwrap();
        // As on the H200: lib is a link to lib64, listed once.
        std::os::unix::fs::symlink("lib64", root.join("lib")).unwrap();
        let s = scan(Some(&root), None, None);
        assert_eq!(s.source, "--driver-root");
        assert_eq!(s.lib_dirs.len(), 1);
        let f = resolve(&s, &DEFAULT_CAPABILITIES).unwrap();
        assert_eq!(f.ld_library_path(), "/usr/local/nvidia/lib64");
        assert_eq!(f.version, "1.2.3");
        assert!(matches!(f.layout, DriverLayout::Dedicated { .. }), "{:?}", f.layout);
        assert_eq!(f.find("libcuda.so").unwrap().names, ["libcuda.so.1", "libcuda.so"]);
        // A library folder given directly: shared layout, binaries from ../bin.
        let s = scan(Some(&root.join("lib64")), None, None);
        let f = resolve(&s, &DEFAULT_CAPABILITIES).unwrap();
        assert_eq!(f.layout, DriverLayout::Shared);
        assert_eq!(f.find("nvidia-smi").unwrap().host_path, root.join("bin/nvidia-smi").display().to_string());
    }
}
