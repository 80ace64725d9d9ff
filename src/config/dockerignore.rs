//! `.dockerignore` as the docker CLI reads it (moby `pkg/fileutils` PatternMatcher and
//! `cli/command/image/build` for Docker 20.10), so that the build context devgpu sends is the one `docker build`
//! would send.
//!
//! - One pattern a line; blank lines and lines starting with `#` are skipped; surrounding whitespace is trimmed.
//! - A leading `!` makes an exception (re-include). The LAST pattern that matches a path decides.
//! - Patterns are cleaned like Go's `filepath.Clean` (`./a/../b/` → `b`); a leading `/` is dropped: every
//!   pattern is relative to the context root.
//! - `*` matches any run of characters except `/`, `?` one character except `/`, `[…]` a class, `\` escapes,
//!   `**` any number of directories (also none): `**/x`, `a/**/b`, `a/**`.
//! - A pattern also matches a path when it matches one of the path's parent directories (`build` excludes
//!   `build/a/b`; `*/tmp` excludes `x/tmp/y`; `**/__pycache__` excludes `__pycache__/m.pyc`), as moby's
//!   `MatchesOrParentMatches` does (the walk skips an excluded directory whole anyway).
//! - `.dockerignore` and the Dockerfile are always sent, even when a pattern excludes them
//!   ([`Dockerignore::keep_build_files`]).

use crate::error::ErrorCode;
use regex::Regex;

/// One compiled pattern.
#[derive(Debug, Clone)]
struct Pattern {
    /// The cleaned pattern (without `!`), e.g. `a/**/b`.
    text: String,
    exclusion: bool,
    regex: Regex,
}

/// A parsed `.dockerignore`.
#[derive(Debug, Clone, Default)]
pub struct Dockerignore {
    patterns: Vec<Pattern>,
}

/// A line of `.dockerignore` that is not a valid pattern.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(".dockerignore line {line}: {message}")]
pub struct DockerignoreError {
    pub line: usize,
    pub message: String,
}

impl crate::error::Coded for DockerignoreError {
    fn code(&self) -> ErrorCode {
        ErrorCode::DockerignoreInvalid
    }
    fn hints(&self) -> Vec<String> {
        vec![format!("fix or remove line {} of .dockerignore (docker build refuses it too)", self.line)]
    }
}

impl Dockerignore {
    /// Parses the text of a `.dockerignore` file.
    pub fn parse(text: &str) -> Result<Dockerignore, DockerignoreError> {
        let mut patterns = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (exclusion, body) = match line.strip_prefix('!') {
                Some(rest) => (true, rest.trim()),
                None => (false, line),
            };
            if body.is_empty() {
                return Err(DockerignoreError { line: i + 1, message: "illegal exclusion pattern: \"!\"".into() });
            }
            let err = |message: String| DockerignoreError { line: i + 1, message };
            let pattern = compile(body, exclusion).map_err(err)?;
            if let Some(p) = pattern {
                patterns.push(p);
            }
        }
        Ok(Dockerignore { patterns })
    }

    /// Builds a matcher from patterns (as in `.dockerignore`, `!` for exceptions).
    pub fn from_patterns<I: IntoIterator<Item = S>, S: AsRef<str>>(patterns: I) -> Result<Dockerignore, DockerignoreError> {
        let text: Vec<String> = patterns.into_iter().map(|p| p.as_ref().to_string()).collect();
        Dockerignore::parse(&text.join("\n"))
    }

    /// No patterns at all.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Whether any pattern is an exception (`!…`).
    pub fn has_exceptions(&self) -> bool {
        self.patterns.iter().any(|p| p.exclusion)
    }

    /// As the docker CLI does: `.dockerignore` and the Dockerfile (path relative to the context, `/`-separated)
    /// are sent even when excluded, by appending exceptions for them.
    pub fn keep_build_files(&mut self, dockerfile: &str) {
        for keep in [".dockerignore", dockerfile] {
            if self.is_excluded(keep) {
                if let Ok(Some(p)) = compile(keep, true) {
                    self.patterns.push(p);
                }
            }
        }
    }

    /// Whether a path (relative to the context root, `/`-separated, no leading `./`) is left out of the context.
    pub fn is_excluded(&self, path: &str) -> bool {
        let path = path.trim_start_matches("./");
        let parent_dirs: Vec<&str> = match path.rfind('/') {
            Some(i) => path[..i].split('/').collect(),
            None => Vec::new(),
        };
        let mut matched = false;
        for p in &self.patterns {
            // A pattern also matches when it matches a parent directory (moby's MatchesOrParentMatches).
            let m = p.regex.is_match(path) || (1..=parent_dirs.len()).any(|i| p.regex.is_match(&parent_dirs[..i].join("/")));
            if m {
                matched = !p.exclusion;
            }
        }
        matched
    }

    /// For an excluded directory: whether the walk must still descend into it because an exception pattern
    /// could re-include something inside (the docker CLI's rule: an exception that starts with `dir/`).
    /// Without exceptions an excluded directory is skipped whole.
    pub fn must_descend(&self, dir: &str) -> bool {
        let prefix = format!("{}/", dir.trim_end_matches('/'));
        self.patterns.iter().any(|p| p.exclusion && format!("{}/", p.text).starts_with(&prefix))
    }
}

/// Go's `filepath.Clean` for `/`-separated relative patterns: drops `.` components, resolves `..`, collapses
/// `//`, trims a trailing `/`.
fn clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if matches!(out.last(), Some(last) if *last != "..") {
                    out.pop();
                } else if !rooted {
                    out.push("..");
                }
            }
            p => out.push(p),
        }
    }
    let joined = out.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

/// Compiles one pattern; `Ok(None)` for a pattern that cleans to the context root itself (`.`), which the
/// docker CLI ignores.
fn compile(body: &str, exclusion: bool) -> Result<Option<Pattern>, String> {
    let mut text = clean(body);
    if text.len() > 1 && text.starts_with('/') {
        text = text[1..].to_string();
    }
    if text == "." || text == "/" {
        return Ok(None);
    }
    let regex = Regex::new(&to_regex(&text)?).map_err(|e| format!("invalid pattern `{body}`: {e}"))?;
    Ok(Some(Pattern { text, exclusion, regex }))
}

/// The regular expression moby builds from a pattern (`**`, `*`, `?`, `\` escapes; classes kept).
fn to_regex(pattern: &str) -> Result<String, String> {
    let mut re = String::from("^");
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '*' if chars.get(i + 1) == Some(&'*') => {
                i += 2;
                // `**/` is treated as `**`.
                if chars.get(i) == Some(&'/') {
                    i += 1;
                }
                if i >= chars.len() {
                    re.push_str(".*");
                } else {
                    re.push_str("(.*/)?");
                }
                continue;
            }
            '*' => re.push_str("[^/]*"),
            '?' => re.push_str("[^/]"),
            '\\' => {
                i += 1;
                match chars.get(i) {
                    Some(next) => re.push_str(&regex::escape(&next.to_string())),
                    None => re.push_str("\\\\"),
                }
            }
            '[' => {
                // A character class as Go's filepath.Match reads it: `[^…]` / `[!…]` negate, ranges allowed,
                // a `]` right after the opening (and negation) is a literal.
                let mut j = i + 1;
                let negated = matches!(chars.get(j), Some('^') | Some('!'));
                if negated {
                    j += 1;
                }
                let body_start = j;
                if chars.get(j) == Some(&']') {
                    j += 1;
                }
                while j < chars.len() && chars[j] != ']' {
                    j += 1;
                }
                if j >= chars.len() {
                    return Err(format!("invalid pattern `{pattern}`: unclosed `[`"));
                }
                re.push('[');
                if negated {
                    re.push('^');
                }
                for ch in &chars[body_start..j] {
                    if matches!(ch, '[' | ']' | '&' | '~' | '\\' | '^') {
                        re.push('\\');
                    }
                    re.push(*ch);
                }
                re.push(']');
                i = j;
            }
            other => re.push_str(&regex::escape(&other.to_string())),
        }
        i += 1;
    }
    re.push('$');
    Ok(re)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn di(text: &str) -> Dockerignore {
        Dockerignore::parse(text).unwrap()
    }

    #[test]
    fn plain_names_match_at_the_root_and_everything_below() {
        let d = di("build\nnode_modules/\n");
        assert!(d.is_excluded("build"));
        assert!(d.is_excluded("build/a/b.o"));
        assert!(d.is_excluded("node_modules/x/y.js"));
        assert!(!d.is_excluded("src/build"), "root-relative, unlike .gitignore");
        assert!(!d.is_excluded("buildx"));
    }

    #[test]
    fn star_and_question_do_not_cross_directories() {
        let d = di("*.pyc\n*/tmp\nfile?.txt\n");
        assert!(d.is_excluded("a.pyc"));
        assert!(!d.is_excluded("pkg/a.pyc"), "`*` does not match `/`");
        assert!(d.is_excluded("x/tmp"));
        assert!(d.is_excluded("x/tmp/y/z"), "parent dir match");
        assert!(!d.is_excluded("x/y/tmp"));
        assert!(d.is_excluded("file1.txt"));
        assert!(!d.is_excluded("file12.txt"));
        assert!(!d.is_excluded("file/.txt"));
    }

    #[test]
    fn double_star_matches_any_depth() {
        let d = di("**/*.pyc\n**/__pycache__\ndata/**/raw\nlogs/**\n");
        assert!(d.is_excluded("a.pyc"), "`**/` matches no directory too");
        assert!(d.is_excluded("a/b/c.pyc"));
        assert!(d.is_excluded("__pycache__/x"));
        assert!(d.is_excluded("pkg/sub/__pycache__/m.cpython-312.pyc"));
        assert!(d.is_excluded("data/raw"));
        assert!(d.is_excluded("data/x/y/raw/file"));
        assert!(!d.is_excluded("data/rawx"));
        assert!(d.is_excluded("logs/a/b"));
        assert!(!d.is_excluded("logs"), "`logs/**` is `logs/` + anything: the directory itself is sent, empty");
    }

    #[test]
    fn exceptions_re_include_and_the_last_match_wins() {
        let d = di("*.md\n!README.md\n");
        assert!(d.is_excluded("CHANGES.md"));
        assert!(!d.is_excluded("README.md"));
        let d = di("!README.md\n*.md\n");
        assert!(d.is_excluded("README.md"), "a later exclusion overrides the exception");
        let d = di("data\n!data/keep.csv\n");
        assert!(d.is_excluded("data/big.bin"));
        assert!(!d.is_excluded("data/keep.csv"));
        assert!(d.must_descend("data"));
        assert!(!d.must_descend("other"));
        let d = di("data\n");
        assert!(!d.must_descend("data"), "no exception: skip the directory whole");
        assert!(!d.has_exceptions());
    }

    #[test]
    fn cleaning_and_leading_slash() {
        let d = di("/build\n./dist/\nsrc/../out\n a/b \n");
        assert!(d.is_excluded("build/x"));
        assert!(d.is_excluded("dist"));
        assert!(d.is_excluded("out/y"));
        assert!(d.is_excluded("a/b"));
        assert_eq!(clean("./a//b/../c/"), "a/c");
        assert_eq!(clean("../a"), "../a");
        assert_eq!(clean("."), ".");
    }

    #[test]
    fn comments_blank_lines_and_root_patterns() {
        let d = di("# a comment\n\n   \n.\n#*.py\n");
        assert!(d.is_empty());
        assert!(!d.is_excluded("x.py"));
    }

    #[test]
    fn escapes_classes_and_regex_specials_are_literal() {
        let d = di("\\*.txt\nv[0-9].log\nx[!a].c\na+b\n(c)\n");
        assert!(d.is_excluded("*.txt"));
        assert!(!d.is_excluded("a.txt"));
        assert!(d.is_excluded("v7.log"));
        assert!(!d.is_excluded("vx.log"));
        assert!(d.is_excluded("xb.c"));
        assert!(!d.is_excluded("xa.c"));
        assert!(d.is_excluded("a+b"));
        assert!(!d.is_excluded("aab"));
        assert!(d.is_excluded("(c)"));
        assert!(!d.is_excluded("a.b"));
    }

    #[test]
    fn invalid_lines_are_errors_with_their_number() {
        let e = Dockerignore::parse("ok\n!\n").unwrap_err();
        assert_eq!(e.line, 2);
        let e = Dockerignore::parse("a\nb\n[abc\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("unclosed"), "{e}");
    }

    #[test]
    fn build_files_are_always_sent() {
        let mut d = di("*\n");
        assert!(d.is_excluded("Dockerfile"));
        d.keep_build_files(".devcontainer/Dockerfile");
        assert!(!d.is_excluded(".dockerignore"));
        assert!(!d.is_excluded(".devcontainer/Dockerfile"));
        assert!(d.is_excluded(".devcontainer/devcontainer.json"));
        assert!(d.must_descend(".devcontainer"));
        let mut d = di("src\n");
        d.keep_build_files("Dockerfile");
        assert!(!d.has_exceptions(), "nothing to keep: no exception added");
    }
}
