//! The output contract kept in the repository: the error-code list (`docs/error-codes.md`) matches
//! `devgpu::error::ErrorCode`. Run with `DEVGPU_BLESS=1` (outside CI) to rewrite a file, then review the diff.

use devgpu::error::ErrorCode;
use std::path::Path;

/// Compare `actual` with the committed file `rel`; with DEVGPU_BLESS=1 outside CI, write it instead.
fn check_committed(rel: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    let bless = std::env::var_os("DEVGPU_BLESS").is_some() && std::env::var_os("CI").is_none();
    if bless {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{rel}: {e} (DEVGPU_BLESS=1 writes it)"));
    if expected != actual {
        let diff = similar::TextDiff::from_lines(&expected, actual).unified_diff().header(rel, "generated").to_string();
        panic!("{rel} drifted from the Rust types (DEVGPU_BLESS=1 rewrites it):\n{diff}");
    }
}

fn error_codes_markdown() -> String {
    let mut s = String::from(
        "# Error codes\n\n<!-- Generated from `ErrorCode` in src/error.rs; tests/contract.rs fails when they differ. -->\n\n\
         Every failure devgpu reports carries one of these codes: `error.code` in the `--json` envelope, `error[CODE]`\n\
         on stderr. A code keeps its meaning; a new kind of failure gets a new code. Exit status: 130 for\n\
         `interrupted`, 2 for `internal`, 1 for every other code.\n\n| code | meaning |\n| --- | --- |\n",
    );
    for c in ErrorCode::ALL {
        s.push_str(&format!("| `{}` | {} |\n", c.as_str(), c.doc().replace('|', "\\|")));
    }
    s
}

#[test]
fn error_code_list_matches_the_enum() {
    check_committed("docs/error-codes.md", &error_codes_markdown());
}

/// The list in the docs names exactly the enum's codes (a second view of the same check, which also catches a
/// hand edit that keeps the table's shape).
#[test]
fn documented_codes_are_the_enum_codes() {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/error-codes.md")).unwrap();
    let documented: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix("| `")?.split('`').next()).collect();
    let codes: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(documented, codes);
}
