//! PURE: small text helpers that several layers share — positions in a file, unified diffs, shell and JSON
//! quoting. One copy each, so messages agree on where a line starts and how a path is quoted.

/// 1-based line and column of a byte offset, as editors show them: `\n`, `\r\n` and a lone `\r` each end one
/// line; columns count characters (UTF-8 continuation bytes take no column, an invalid byte counts as one).
/// An offset inside a character points at that character; one past the end is clamped to the end.
pub fn line_col(text: impl AsRef<[u8]>, offset: usize) -> (usize, usize) {
    let b = text.as_ref();
    let mut end = offset.min(b.len());
    while end > 0 && end < b.len() && is_continuation(b[end]) {
        end -= 1;
    }
    let mut line = 1;
    let mut column = 1;
    for (i, &c) in b[..end].iter().enumerate() {
        if c == b'\n' || (c == b'\r' && b.get(i + 1) != Some(&b'\n')) {
            line += 1;
            column = 1;
        } else if c != b'\r' && !is_continuation(c) {
            column += 1;
        }
    }
    (line, column)
}

fn is_continuation(c: u8) -> bool {
    (0x80..0xc0).contains(&c)
}

/// A unified diff (3 lines of context) of `old` → `new` for a file named `path`, headed as git does: `a/` and
/// `b/` before a relative path, an absolute path shown as it is, `/dev/null` for a file that does not exist yet.
/// Bytes that are not UTF-8 are shown lossily (the diff is for people; the file is written from the bytes).
pub fn unified_diff(path: &str, old: Option<&[u8]>, new: &[u8]) -> String {
    let old_text = String::from_utf8_lossy(old.unwrap_or_default());
    let new_text = String::from_utf8_lossy(new);
    let diff = similar::TextDiff::from_lines(old_text.as_ref(), new_text.as_ref());
    let (a, b) = if path.starts_with('/') { (path.to_string(), path.to_string()) } else { (format!("a/{path}"), format!("b/{path}")) };
    let from = if old.is_some() { a } else { "/dev/null".to_string() };
    diff.unified_diff().context_radius(3).header(&from, &b).to_string()
}

/// One word for a POSIX shell: as it is when it holds only characters no shell treats specially, else in single
/// quotes with each `'` written `'\''`. Used for commands shown to people (so a plain path stays readable) and
/// for the scripts devgpu runs with `sh -c`. (The `shlex` crate quotes the same words but mixes single and
/// double quotes and refuses NUL with an error; this one is total and its output is what the hints have always
/// shown.)
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty() && s.bytes().all(|c| c.is_ascii_alphanumeric() || b"-_./=:,@+%".contains(&c)) {
        s.to_string()
    } else {
        shell_quote_always(s)
    }
}

/// `s` in single quotes even when it would not need them (script lines that compare against a quoted value and
/// read the same whatever the value is).
pub fn shell_quote_always(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// A string as a JSON string literal (for messages and for raw values written into JSON text).
pub fn json_quote(s: &str) -> String {
    serde_json::to_string(s).expect("a string serialises")
}

/// POSIX-shell word splitting (pip runs `shlex.split` on the options part of a line).
pub fn shell_split(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => cur.push(c),
                        None => return Err("unclosed single quote".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => cur.push(c),
                            Some(c) => {
                                cur.push('\\');
                                cur.push(c)
                            }
                            None => return Err("unclosed double quote".into()),
                        },
                        Some(c) => cur.push(c),
                        None => return Err("unclosed double quote".into()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(c) = chars.next() {
                    cur.push(c);
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

/// A YAML document (the first of a file) as JSON: strings, numbers as written, booleans, lists and maps with string
/// keys (other keys are dropped), anything else null. For reading compose files and CDI specs, not for editing them.
pub fn yaml_to_json(text: &str) -> Result<serde_json::Value, String> {
    use yaml_rust2::{Yaml, YamlLoader};
    fn conv(y: &Yaml) -> serde_json::Value {
        match y {
            Yaml::String(s) | Yaml::Real(s) => serde_json::Value::String(s.clone()),
            Yaml::Integer(i) => serde_json::Value::from(*i),
            Yaml::Boolean(b) => serde_json::Value::Bool(*b),
            Yaml::Array(a) => serde_json::Value::Array(a.iter().map(conv).collect()),
            Yaml::Hash(h) => serde_json::Value::Object(h.iter().filter_map(|(k, v)| k.as_str().map(|k| (k.to_string(), conv(v)))).collect()),
            _ => serde_json::Value::Null,
        }
    }
    let docs = YamlLoader::load_from_str(text).map_err(|e| e.to_string())?;
    Ok(docs.first().map(conv).unwrap_or(serde_json::Value::Null))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_every_kind_of_line_break_once() {
        let text = "ab\r\ncé\tz\rq\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 4), (2, 1));
        assert_eq!(line_col(text, text.find('z').unwrap()), (2, 4));
        assert_eq!(line_col(text, text.find('q').unwrap()), (3, 1));
        assert_eq!(line_col(text, 10_000), (4, 1));
        assert_eq!(line_col("a\nb\r\nc\rd", 7), (4, 1));
    }

    #[test]
    fn line_col_columns_are_characters_and_bytes_agree_with_str() {
        assert_eq!(line_col("é}".as_bytes(), 2), (1, 2));
        // Inside the two bytes of `é`: the character's own column.
        assert_eq!(line_col("xé}", 2), (1, 2));
        assert_eq!(line_col(b"\xef\xbb\xbf{", 0), (1, 1));
        assert_eq!(line_col(b"\xff\xfe{", 2), (1, 3));
        let s = "x\r\n  é = 1";
        for i in 0..=s.len() {
            assert_eq!(line_col(s, i), line_col(s.as_bytes(), i));
        }
    }

    #[test]
    fn diffs_are_headed_like_git() {
        let d = unified_diff("x.json", Some(b"a\n"), b"b\n");
        assert!(d.starts_with("--- a/x.json\n+++ b/x.json\n"), "{d}");
        assert!(d.contains("-a\n+b\n"));
        let d = unified_diff("/etc/cdi/nvidia.yaml", None, b"b\n");
        assert!(d.starts_with("--- /dev/null\n+++ /etc/cdi/nvidia.yaml\n"), "{d}");
    }

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("/usr/bin/devgpu"), "/usr/bin/devgpu");
        assert_eq!(shell_quote("a b'c"), "'a b'\\''c'");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote_always("x"), "'x'");
        assert_eq!(json_quote("a\"b"), "\"a\\\"b\"");
    }
}
