//! Import evidence (pure): which framework-relevant modules a `.py` file or a notebook's code cells
//! import. The resolver falls back on it when no dependency file names a framework, and names the hits
//! in its reasons. A line scanner, not a Python parser: `import a.b as c, d` and `from a.b import x`
//! (indented too, `;`-separated statements too); comments and the inside of triple-quoted strings are
//! skipped crudely (a line that opens or closes one toggles the state). Relative imports are the project's own.

use crate::model::project::SourceLoc;

/// Top-level modules worth reporting: frameworks and the GPU libraries whose pins or GPU limits matter.
pub const MODULES_OF_INTEREST: &[&str] = &[
    "torch",
    "torchvision",
    "torchaudio",
    "tensorflow",
    "keras",
    "jax",
    "jaxlib",
    "flax",
    "optax",
    "cupy",
    "triton",
    "flash_attn",
    "xformers",
    "mamba_ssm",
    "causal_conv1d",
    "apex",
    "deepspeed",
    "bitsandbytes",
    "vllm",
];

/// Hits kept per module (the total is counted apart, see [`crate::project::ProjectFacts::import_counts`]).
pub const MAX_HITS_PER_MODULE: usize = 5;

/// `(module, 1-based line)` for each import of a module of interest in Python source `text`, in order.
pub fn python_imports(text: &str) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let mut in_string: Option<&str> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if let Some(q) = in_string {
            if line.matches(q).count() % 2 == 1 {
                in_string = None;
            }
            continue;
        }
        for q in ["\"\"\"", "'''"] {
            if line.matches(q).count() % 2 == 1 {
                in_string = Some(q);
            }
        }
        if in_string.is_some() && !(line.starts_with("import ") || line.starts_with("from ")) {
            continue;
        }
        let code = line.split('#').next().unwrap_or("");
        for stmt in code.split(';') {
            for m in statement_modules(stmt.trim()) {
                if MODULES_OF_INTEREST.contains(&m.as_str()) {
                    out.push((m, i + 1));
                }
            }
        }
    }
    out
}

/// The first line importing `torch.utils.cpp_extension` (`import torch.utils.cpp_extension`,
/// `from torch.utils.cpp_extension import load`, `from torch.utils import cpp_extension`): code that compiles
/// C++/CUDA ops at run time, which needs nvcc, ninja and the CUDA headers in the image.
pub fn cpp_extension_import_line(text: &str) -> Option<usize> {
    text.lines().position(|l| {
        let code = l.split('#').next().unwrap_or("").trim();
        code.starts_with("import torch.utils.cpp_extension")
            || code.starts_with("from torch.utils.cpp_extension import")
            || (code.starts_with("from torch.utils import") && code.contains("cpp_extension"))
    })
    .map(|i| i + 1)
}

/// Top-level modules one `import …` / `from … import …` statement names.
fn statement_modules(stmt: &str) -> Vec<String> {
    let top = |dotted: &str| dotted.trim().split('.').next().unwrap_or("").trim().to_string();
    let valid = |m: &String| !m.is_empty() && m.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if let Some(rest) = stmt.strip_prefix("import ") {
        rest.trim_matches(['(', ')', ' '])
            .split(',')
            .map(|part| top(part.split_whitespace().next().unwrap_or("")))
            .filter(valid)
            .collect()
    } else if let Some(rest) = stmt.strip_prefix("from ") {
        let module = rest.split_whitespace().next().unwrap_or("");
        if module.starts_with('.') || !rest.contains(" import") {
            return Vec::new();
        }
        vec![top(module)].into_iter().filter(valid).collect()
    } else {
        Vec::new()
    }
}

/// A notebook's code cells: `(source text of the cell, 1-based cell number)`. `Err` when it is not
/// notebook JSON.
pub fn notebook_code_cells(json: &str) -> Result<Vec<(String, usize)>, String> {
    let v: serde_json::Value = serde_json::from_str(json).map_err(|e| format!("not a notebook (invalid JSON: {e})"))?;
    let cells = v.get("cells").and_then(|c| c.as_array()).ok_or("not a notebook (no `cells` list)")?;
    let mut out = Vec::new();
    for (i, cell) in cells.iter().enumerate() {
        if cell.get("cell_type").and_then(|t| t.as_str()) != Some("code") {
            continue;
        }
        let text = match cell.get("source") {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(serde_json::Value::Array(parts)) => parts.iter().filter_map(|p| p.as_str()).collect::<String>(),
            _ => continue,
        };
        out.push((text, i + 1));
    }
    Ok(out)
}

/// Where a notebook hit is reported: the line counts cells' lines in order, so it is stable and findable
/// with a search, though not a line of the JSON file.
pub fn notebook_loc(file: &str, line: usize) -> SourceLoc {
    SourceLoc { file: file.to_string(), line: Some(line) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mods(text: &str) -> Vec<(String, usize)> {
        python_imports(text)
    }

    #[test]
    fn import_forms() {
        let src = "import os\nimport torch.nn as nn, numpy\nfrom jax import numpy as jnp\n    from flash_attn.ops import x\nimport tensorflow as tf; import triton\nfrom . import torch\nfrom .torch import y\n";
        assert_eq!(
            mods(src),
            vec![
                ("torch".into(), 2),
                ("jax".into(), 3),
                ("flash_attn".into(), 4),
                ("tensorflow".into(), 5),
                ("triton".into(), 5)
            ]
        );
    }

    #[test]
    fn comments_docstrings_and_lookalikes_are_not_imports() {
        let src = "# import torch\n\"\"\"Usage:\n    import tensorflow\n\"\"\"\nx = 'import jax'\nimportlib.import_module('torch')\nimport torchmetrics\nfrom torch_geometric import y\n";
        assert!(mods(src).is_empty(), "{:?}", mods(src));
        // a one-line docstring does not swallow what follows
        assert_eq!(mods("\"\"\"Doc.\"\"\"\nimport torch\n"), vec![("torch".into(), 2)]);
    }

    #[test]
    fn notebook_cells() {
        let nb = r##"{"cells":[{"cell_type":"markdown","source":["import tensorflow\n"]},
            {"cell_type":"code","source":["!pip install torch==2.1.0\n","import torch\n"]},
            {"cell_type":"code","source":"import jax"}],"nbformat":4}"##;
        let cells = notebook_code_cells(nb).unwrap();
        assert_eq!(cells, vec![("!pip install torch==2.1.0\nimport torch\n".to_string(), 2), ("import jax".to_string(), 3)]);
        assert!(notebook_code_cells("{").is_err());
        assert!(notebook_code_cells("{\"a\":1}").is_err());
    }
}
