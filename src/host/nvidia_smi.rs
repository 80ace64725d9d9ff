//! Parsing `nvidia-smi --query-gpu=… --format=csv` (pure; tested on output captured on a real H200).

pub use crate::model::host::{GpuInfo};


/// Parse the CSV with its header line. Columns are found by header name, so extra or reordered fields are fine.
pub fn parse_query_gpu(text: &str) -> Result<Vec<GpuInfo>, String> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header = lines.next().ok_or("nvidia-smi printed nothing")?;
    let cols: Vec<String> = header.split(',').map(|c| c.trim().to_string()).collect();
    let idx = |name: &str| cols.iter().position(|c| c == name || c.starts_with(&format!("{name} ")));
    let (Some(i_index), Some(i_name), Some(i_driver)) = (idx("index"), idx("name"), idx("driver_version")) else {
        return Err(format!("unexpected nvidia-smi header: {header}"));
    };
    let (i_uuid, i_pci, i_cc, i_mem, i_mig) = (idx("uuid"), idx("pci.bus_id"), idx("compute_cap"), idx("memory.total"), idx("mig.mode.current"));
    let mut gpus = Vec::new();
    for line in lines {
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        let get = |i: Option<usize>| i.and_then(|i| f.get(i)).copied().filter(|v| !v.is_empty() && *v != "[N/A]" && *v != "N/A");
        let bad = || format!("unexpected nvidia-smi line: {line}");
        gpus.push(GpuInfo {
            index: get(Some(i_index)).and_then(|v| v.parse().ok()).ok_or_else(bad)?,
            name: get(Some(i_name)).ok_or_else(bad)?.to_string(),
            uuid: get(i_uuid).unwrap_or_default().to_string(),
            pci_bus_id: get(i_pci).unwrap_or_default().to_string(),
            driver: get(Some(i_driver)).and_then(|v| v.parse().ok()).ok_or_else(bad)?,
            compute_cap: get(i_cc).and_then(|v| v.parse().ok()),
            memory_mib: get(i_mem).and_then(|v| v.trim_end_matches("MiB").trim().parse().ok()),
            mig_mode: get(i_mig).map(str::to_string),
        });
    }
    Ok(gpus)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_h200_capture() {
        let text = include_str!("../../tests/fixtures/h200/query-gpu.csv");
        let gpus = parse_query_gpu(text).unwrap();
        assert_eq!(gpus.len(), 1);
        let g = &gpus[0];
        assert_eq!(g.name, "NVIDIA H200");
        assert_eq!(g.driver.to_string(), "580.159.04");
        assert_eq!(g.compute_cap, Some("9.0".parse().unwrap()));
        assert_eq!(g.memory_mib, Some(143771));
        assert_eq!(g.uuid, "GPU-7b8238c7-8f23-f0a1-12fc-4a5b75119cb4");
        assert_eq!(g.mig_mode.as_deref(), Some("Disabled"));
    }

    #[test]
    fn rejects_garbage() {
        assert!(parse_query_gpu("").is_err());
        assert!(parse_query_gpu("foo, bar\n1, 2\n").is_err());
        assert!(parse_query_gpu("index, name, driver_version\nx, GPU, 550.54.15\n").is_err());
    }
}
