//! The `nvidia-smi` fallback for when NVML cannot be loaded by devgpu itself: `nvidia-smi -q -x` (XML) for the driver,
//! the CUDA version the driver supports and the GPUs, plus the query-gpu CSV (see [`super::nvidia_smi`]) for the
//! compute capability, which the XML does not carry. Pure parsing here; running the tool is in [`run_fallback`].

use super::nvidia_smi::{parse_query_gpu, GpuInfo};
use crate::compat::{CudaVersion, DriverVersion};
use std::path::PathBuf;
use std::process::Command;
pub use crate::model::host::{SmiFallback};

/// What `nvidia-smi -q -x` says.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SmiXml {
    pub driver_version: Option<DriverVersion>,
    /// The newest CUDA the driver supports (`<cuda_version>13.0</cuda_version>`).
    pub cuda_version: Option<CudaVersion>,
    pub gpus: Vec<SmiXmlGpu>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SmiXmlGpu {
    /// The `id` attribute of `<gpu>`: the PCI bus id.
    pub id: String,
    pub name: String,
    pub architecture: Option<String>,
    pub uuid: String,
    pub minor_number: Option<u32>,
    pub pci_bus_id: String,
    pub memory_mib: Option<u64>,
    pub mig_mode: Option<String>,
}

/// Parse the XML. Only the few elements devgpu reads are looked at; anything else is skipped.
pub fn parse_nvidia_smi_xml(text: &str) -> Result<SmiXml, String> {
    let mut out = SmiXml::default();
    let mut stack: Vec<String> = Vec::new();
    let mut saw_root = false;
    let mut rest = text;
    let mut pending_text = String::new();
    while let Some(lt) = rest.find('<') {
        pending_text.push_str(&rest[..lt]);
        let after = &rest[lt + 1..];
        // Comments, processing instructions and the DOCTYPE.
        if let Some(c) = after.strip_prefix("!--") {
            let end = c.find("-->").ok_or("unterminated XML comment")?;
            rest = &c[end + 3..];
            continue;
        }
        let gt = after.find('>').ok_or("unterminated XML tag")?;
        let tag = &after[..gt];
        rest = &after[gt + 1..];
        if tag.starts_with('?') || tag.starts_with('!') {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            let name = name.trim();
            match stack.pop() {
                Some(open) if open == name => {}
                other => return Err(format!("XML: </{name}> closes <{}>", other.unwrap_or_default())),
            }
            let value = decode_entities(pending_text.trim());
            pending_text.clear();
            let path: Vec<&str> = stack.iter().map(String::as_str).chain(std::iter::once(name)).collect();
            record(&mut out, &path, &value);
            continue;
        }
        pending_text.clear();
        let self_closing = tag.ends_with('/');
        let tag = tag.trim_end_matches('/');
        let (name, attrs) = tag.split_once(char::is_whitespace).unwrap_or((tag, ""));
        if stack.is_empty() {
            if name != "nvidia_smi_log" {
                return Err(format!("not nvidia-smi XML: the root element is <{name}>"));
            }
            saw_root = true;
        }
        if stack.len() == 1 && name == "gpu" {
            out.gpus.push(SmiXmlGpu { id: attr(attrs, "id").unwrap_or_default(), ..SmiXmlGpu::default() });
        }
        if !self_closing {
            stack.push(name.to_string());
        }
    }
    if !saw_root {
        return Err("not nvidia-smi XML: no <nvidia_smi_log> element".into());
    }
    if !stack.is_empty() {
        return Err(format!("XML ends inside <{}>", stack.join("><")));
    }
    Ok(out)
}

fn record(out: &mut SmiXml, path: &[&str], value: &str) {
    let known = |v: &str| !v.is_empty() && v != "N/A" && v != "[N/A]";
    match path {
        ["nvidia_smi_log", "driver_version"] => out.driver_version = value.parse().ok(),
        ["nvidia_smi_log", "cuda_version"] => out.cuda_version = value.parse().ok(),
        ["nvidia_smi_log", "gpu", rest @ ..] => {
            let Some(g) = out.gpus.last_mut() else { return };
            if !known(value) {
                return;
            }
            match rest {
                ["product_name"] => g.name = value.to_string(),
                ["product_architecture"] => g.architecture = Some(value.to_string()),
                ["uuid"] => g.uuid = value.to_string(),
                ["minor_number"] => g.minor_number = value.parse().ok(),
                ["pci", "pci_bus_id"] => g.pci_bus_id = value.to_string(),
                ["fb_memory_usage", "total"] => g.memory_mib = value.trim_end_matches("MiB").trim().parse().ok(),
                ["mig_mode", "current_mig"] => g.mig_mode = Some(value.to_string()),
                _ => {}
            }
        }
        _ => {}
    }
}

fn attr(attrs: &str, name: &str) -> Option<String> {
    let i = attrs.find(&format!("{name}="))?;
    let v = &attrs[i + name.len() + 1..];
    let q = v.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let end = v[1..].find(q)?;
    Some(decode_entities(&v[1..1 + end]))
}

fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&apos;", "'").replace("&amp;", "&")
}

/// The GPUs of the XML as [`GpuInfo`], with the compute capability taken from the query-gpu CSV where the two agree
/// on the UUID (the XML does not carry it). `index` is the order nvidia-smi lists them in.
pub fn merge_gpus(xml: &SmiXml, csv: &[GpuInfo]) -> Vec<GpuInfo> {
    let Some(driver) = xml.driver_version.clone().or_else(|| csv.first().map(|g| g.driver.clone())) else { return csv.to_vec() };
    xml.gpus
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let from_csv = csv.iter().find(|c| !g.uuid.is_empty() && c.uuid == g.uuid);
            GpuInfo {
                index: from_csv.map(|c| c.index).unwrap_or(i as u32),
                name: g.name.clone(),
                uuid: g.uuid.clone(),
                pci_bus_id: if g.pci_bus_id.is_empty() { g.id.clone() } else { g.pci_bus_id.clone() },
                driver: driver.clone(),
                compute_cap: from_csv.and_then(|c| c.compute_cap),
                memory_mib: g.memory_mib,
                mig_mode: g.mig_mode.clone(),
            }
        })
        .collect()
}


/// Where `nvidia-smi` is: PATH first, then the driver roots (`/usr/local/nvidia/bin` in GPU cloud images).
pub fn find_nvidia_smi(path_env: Option<&std::ffi::OsStr>) -> Option<PathBuf> {
    crate::fsx::find_executable("nvidia-smi", path_env, &["/usr/local/nvidia/bin", "/usr/bin", "/usr/local/bin", "/usr/lib/wsl/lib"])
}

/// Run `nvidia-smi -q -x` and the query-gpu CSV (edge; only when NVML could not be used directly).
pub fn run_fallback() -> SmiFallback {
    let Some(smi) = find_nvidia_smi(std::env::var_os("PATH").as_deref()) else {
        return SmiFallback { path: None, driver_version: None, cuda_version: None, gpus: Vec::new(), error: None };
    };
    let mut fb = SmiFallback { path: Some(smi.display().to_string()), driver_version: None, cuda_version: None, gpus: Vec::new(), error: None };
    let run = |args: &[&str]| -> Result<String, String> {
        let out = Command::new(&smi).args(args).output().map_err(|e| format!("cannot run {}: {e}", smi.display()))?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        if out.status.success() {
            Ok(text)
        } else {
            Err(format!("{}{}", text.trim(), String::from_utf8_lossy(&out.stderr).trim()))
        }
    };
    let xml = match run(&["-q", "-x"]).and_then(|t| parse_nvidia_smi_xml(&t)) {
        Ok(x) => x,
        Err(e) => {
            fb.error = Some(e);
            return fb;
        }
    };
    let csv = run(&[&format!("--query-gpu={}", super::QUERY_GPU_FIELDS), "--format=csv"]).and_then(|t| parse_query_gpu(&t)).unwrap_or_default();
    fb.gpus = merge_gpus(&xml, &csv);
    fb.driver_version = xml.driver_version;
    fb.cuda_version = xml.cuda_version;
    fb
}

#[cfg(test)]
mod tests {
    use super::*;

    const H200_XML: &str = include_str!("../../tests/fixtures/h200/nvidia-smi-q.xml");

    #[test]
    fn parses_the_h200_capture() {
        let x = parse_nvidia_smi_xml(H200_XML).unwrap();
        assert_eq!(x.driver_version.as_ref().unwrap().to_string(), "580.159.04");
        assert_eq!(x.cuda_version.unwrap().short(), "13.0");
        assert_eq!(x.gpus.len(), 1);
        let g = &x.gpus[0];
        assert_eq!(g.id, "00000000:00:06.0");
        assert_eq!(g.name, "NVIDIA H200");
        assert_eq!(g.architecture.as_deref(), Some("Hopper"));
        assert_eq!(g.uuid, "GPU-7b8238c7-8f23-f0a1-12fc-4a5b75119cb4");
        assert_eq!(g.pci_bus_id, "00000000:00:06.0");
        assert_eq!(g.memory_mib, Some(143771), "fb_memory_usage/total, not bar1 or cc_protected memory");
        assert_eq!(g.mig_mode.as_deref(), Some("Disabled"));
        assert_eq!(g.minor_number, Some(0));
    }

    #[test]
    fn merges_with_the_csv_for_the_compute_capability() {
        let x = parse_nvidia_smi_xml(H200_XML).unwrap();
        let csv = parse_query_gpu(include_str!("../../tests/fixtures/h200/query-gpu.csv")).unwrap();
        let gpus = merge_gpus(&x, &csv);
        assert_eq!(gpus, csv, "both captures of the same H200 describe the same GPU");
        // Without the CSV the compute capability is unknown, everything else is there.
        let alone = merge_gpus(&x, &[]);
        assert_eq!(alone[0].compute_cap, None);
        assert_eq!(alone[0].driver.to_string(), "580.159.04");
    }

    #[test]
    fn several_gpus_and_entities() {
        let text = r#"<?xml version="1.0" ?>
<!DOCTYPE nvidia_smi_log SYSTEM "nvsmi_device_v12.dtd">
<nvidia_smi_log>
  <driver_version>550.54.15</driver_version>
  <cuda_version>12.4</cuda_version>
  <gpu id="00000000:01:00.0"><product_name>NVIDIA A100-SXM4-80GB</product_name><uuid>GPU-a</uuid>
    <mig_mode><current_mig>Enabled</current_mig></mig_mode><fb_memory_usage><total>81920 MiB</total></fb_memory_usage></gpu>
  <gpu id="00000000:02:00.0"><product_name>Tesla &amp; Co</product_name><uuid>GPU-b</uuid><empty/></gpu>
</nvidia_smi_log>"#;
        let x = parse_nvidia_smi_xml(text).unwrap();
        assert_eq!(x.gpus.len(), 2);
        assert_eq!(x.gpus[0].mig_mode.as_deref(), Some("Enabled"));
        assert_eq!(x.gpus[0].memory_mib, Some(81920));
        assert_eq!(x.gpus[0].pci_bus_id, "", "no <pci> element");
        assert_eq!(x.gpus[1].name, "Tesla & Co");
        assert_eq!(merge_gpus(&x, &[])[1].pci_bus_id, "00000000:02:00.0", "falls back to the id attribute");
    }

    #[test]
    fn rejects_what_is_not_nvidia_smi_xml() {
        assert!(parse_nvidia_smi_xml("").is_err());
        assert!(parse_nvidia_smi_xml("Failed to initialize NVML: Driver/library version mismatch").is_err());
        assert!(parse_nvidia_smi_xml("<html><body/></html>").is_err());
        assert!(parse_nvidia_smi_xml("<nvidia_smi_log><gpu></nvidia_smi_log>").is_err());
    }
}
