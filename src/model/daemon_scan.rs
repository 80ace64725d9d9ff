//! A strict JSON reader that accepts exactly what dockerd 20.10 accepts in daemon.json and fails with the same
//! words, keeping the byte span of every value so the file can be edited in place.
//!
//! dockerd 20.10 (`daemon/config/config.go`, `getConflictFreeConfiguration`) reads the file with Go's
//! `json.NewDecoder(bytes.NewReader(b)).Decode(…)`, first into a `map[string]interface{}` and then into its
//! `Config` struct. What that means, each point seen on a real Docker 20.10.24 daemon (`dockerd --config-file F`;
//! the corpus in `tests/fixtures/daemon-json/` records the daemon's own message for each):
//!
//! - Empty or whitespace-only file: `EOF` — refused.
//! - A UTF-8 byte order mark: `invalid character 'ï' looking for beginning of value` — refused.
//! - Comments: `invalid character '/' looking for beginning of object key string` — refused.
//! - A trailing comma: `invalid character '}' looking for beginning of object key string` — refused.
//! - A truncated file: `unexpected EOF` — refused.
//! - Only the first JSON value is read (a `Decoder`, not `Unmarshal`): text after it — a stray `}`, a second
//!   object, a NUL byte — is never looked at, and the daemon starts.
//! - Bytes that are not UTF-8 inside strings are accepted (replaced by U+FFFD); so are lone `\ud800` escapes.
//! - A top-level `null` is accepted (an empty configuration); an array, string, number or boolean is refused:
//!   `json: cannot unmarshal array into Go value of type map[string]interface {}`.
//! - A number out of float64's range anywhere: `json: cannot unmarshal number 1e400 into Go value of type float64`.
//!
//! Whitespace is exactly Go's: space, tab, CR, LF. Nesting deeper than 10000 fails as in Go ("exceeded max depth").

/// A value and where it is in the file (`start..end`, byte offsets).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub start: usize,
    pub end: usize,
    pub kind: Kind,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    Object(Vec<Member>),
    Array(Vec<Node>),
    /// The decoded string, as Go decodes it (invalid UTF-8 and lone surrogates become U+FFFD).
    String(String),
    /// The number's text is the node's span.
    Number,
    Bool(bool),
    Null,
}

/// One `"key": value` of an object, in file order (duplicates included).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Member {
    pub key: String,
    /// Offset of the key's opening quote.
    pub key_start: usize,
    pub value: Node,
}

/// Deeply nested input (up to Go's 10000 levels) must not overflow the stack when the tree is dropped.
impl Drop for Node {
    fn drop(&mut self) {
        let mut pending: Vec<Node> = Vec::new();
        take_children(&mut self.kind, &mut pending);
        while let Some(mut node) = pending.pop() {
            take_children(&mut node.kind, &mut pending);
        }
    }
}

fn take_children(kind: &mut Kind, into: &mut Vec<Node>) {
    match kind {
        Kind::Object(members) if !members.is_empty() => {
            for m in std::mem::take(members) {
                into.push(m.value);
            }
        }
        Kind::Array(items) if !items.is_empty() => into.append(items),
        _ => {}
    }
}

impl Node {
    /// Go's name for the JSON kind in `cannot unmarshal X into …`.
    pub fn go_kind(&self) -> &'static str {
        match self.kind {
            Kind::Object(_) => "object",
            Kind::Array(_) => "array",
            Kind::String(_) => "string",
            Kind::Number => "number",
            Kind::Bool(_) => "bool",
            Kind::Null => "null",
        }
    }

    pub fn members(&self) -> Option<&[Member]> {
        match &self.kind {
            Kind::Object(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.kind, Kind::Null)
    }
}

/// Why Go's decoder stops, with the byte offset it stops at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ScanError {
    /// Nothing but whitespace: Go's `io.EOF`, printed `EOF`.
    Eof,
    /// The text ends inside a value: Go's `io.ErrUnexpectedEOF`, printed `unexpected EOF`. `open` is the offset of
    /// the innermost unclosed `{`, `[` or `"` (or the start of an unfinished literal or number).
    UnexpectedEof { open: usize },
    /// Go's `SyntaxError`: `invalid character 'c' <context>` at `offset` (the offending byte).
    Syntax {
        offset: usize,
        byte: u8,
        context: String,
        /// When the offending byte closes an object or array right after a comma: that comma (a trailing comma).
        trailing_comma: Option<usize>,
    },
    /// More than 10000 nested objects/arrays.
    TooDeep { offset: usize },
}

impl ScanError {
    /// The message Go (and so dockerd after "unable to configure the Docker daemon with file F: ") prints.
    pub fn go_message(&self) -> String {
        match self {
            ScanError::Eof => "EOF".to_string(),
            ScanError::UnexpectedEof { .. } => "unexpected EOF".to_string(),
            ScanError::Syntax { byte, context, .. } => format!("invalid character {} {context}", quote_char(*byte)),
            ScanError::TooDeep { .. } => "exceeded max depth".to_string(),
        }
    }

    /// Byte offset the error points at (the end of the text for `EOF`).
    pub fn offset(&self, len: usize) -> usize {
        match self {
            ScanError::Eof => len,
            ScanError::UnexpectedEof { open } => *open,
            ScanError::Syntax { offset, .. } | ScanError::TooDeep { offset } => *offset,
        }
    }
}

/// Go's `quoteChar` (encoding/json/scanner.go): `'\''`, `'"'`, else `strconv.Quote(string(rune(c)))` in single quotes.
pub(crate) fn quote_char(c: u8) -> String {
    match c {
        b'\'' => "'\\''".to_string(),
        b'"' => "'\"'".to_string(),
        0x07 => "'\\a'".to_string(),
        0x08 => "'\\b'".to_string(),
        0x0c => "'\\f'".to_string(),
        b'\n' => "'\\n'".to_string(),
        b'\r' => "'\\r'".to_string(),
        b'\t' => "'\\t'".to_string(),
        0x0b => "'\\v'".to_string(),
        b'\\' => "'\\\\'".to_string(),
        c if c < 0x20 || c == 0x7f => format!("'\\x{c:02x}'"),
        // Latin-1 as runes: C1 controls, NBSP and the soft hyphen are not printable for Go.
        c if (0x80..=0xa0).contains(&c) || c == 0xad => format!("'\\u{:04x}'", c as u32),
        c => format!("'{}'", char::from(c)),
    }
}

const MAX_DEPTH: usize = 10_000;

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

/// Reads the first JSON value of `b` as Go's `json.Decoder` does; what follows it is ignored.
pub(crate) fn scan(b: &[u8]) -> Result<Node, ScanError> {
    Scanner { b, i: 0 }.first_value()
}

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
}

enum Frame {
    Object { start: usize, members: Vec<Member>, key: String, key_start: usize },
    Array { start: usize, items: Vec<Node> },
}

impl Frame {
    fn start(&self) -> usize {
        match self {
            Frame::Object { start, .. } | Frame::Array { start, .. } => *start,
        }
    }
}

impl Scanner<'_> {
    fn skip_ws(&mut self) {
        while self.i < self.b.len() && is_space(self.b[self.i]) {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn syntax(&self, context: &str) -> ScanError {
        ScanError::Syntax { offset: self.i, byte: self.b[self.i], context: context.to_string(), trailing_comma: None }
    }

    fn first_value(mut self) -> Result<Node, ScanError> {
        self.skip_ws();
        if self.i >= self.b.len() {
            return Err(ScanError::Eof);
        }
        let mut stack: Vec<Frame> = Vec::new();
        // Offset of the comma just read in the current container, for the trailing-comma hint.
        let mut last_comma: Option<usize>;
        'value: loop {
            // Here a value must begin (whitespace already skipped).
            let Some(c) = self.peek() else {
                return Err(ScanError::UnexpectedEof { open: stack.last().map(Frame::start).unwrap_or(0) });
            };
            let start = self.i;
            let mut done: Node = match c {
                b'{' | b'[' => {
                    if stack.len() >= MAX_DEPTH {
                        return Err(ScanError::TooDeep { offset: start });
                    }
                    self.i += 1;
                    self.skip_ws();
                    let Some(next) = self.peek() else { return Err(ScanError::UnexpectedEof { open: start }) };
                    if c == b'{' {
                        if next == b'}' {
                            self.i += 1;
                            Node { start, end: self.i, kind: Kind::Object(Vec::new()) }
                        } else if next == b'"' {
                            let (key, key_start) = self.key(start)?;
                            stack.push(Frame::Object { start, members: Vec::new(), key, key_start });
                            continue 'value;
                        } else {
                            return Err(self.syntax("looking for beginning of object key string"));
                        }
                    } else if next == b']' {
                        self.i += 1;
                        Node { start, end: self.i, kind: Kind::Array(Vec::new()) }
                    } else {
                        stack.push(Frame::Array { start, items: Vec::new() });
                        continue 'value;
                    }
                }
                b'"' => {
                    let s = self.string()?;
                    Node { start, end: self.i, kind: Kind::String(s) }
                }
                b'-' | b'0'..=b'9' => {
                    self.number()?;
                    Node { start, end: self.i, kind: Kind::Number }
                }
                b't' => {
                    self.literal(b"true", "true")?;
                    Node { start, end: self.i, kind: Kind::Bool(true) }
                }
                b'f' => {
                    self.literal(b"false", "false")?;
                    Node { start, end: self.i, kind: Kind::Bool(false) }
                }
                b'n' => {
                    self.literal(b"null", "null")?;
                    Node { start, end: self.i, kind: Kind::Null }
                }
                _ => {
                    let mut e = self.syntax("looking for beginning of value");
                    // `[1,]`: the comma before a closing bracket.
                    if c == b']' {
                        if let (ScanError::Syntax { trailing_comma, .. }, Some(Frame::Array { .. })) = (&mut e, stack.last()) {
                            *trailing_comma = self.comma_before(start);
                        }
                    }
                    return Err(e);
                }
            };
            // A value is complete: attach it to its container, then see what follows.
            loop {
                let Some(frame) = stack.last_mut() else { return Ok(done) };
                self.skip_ws();
                let Some(c) = self.peek() else { return Err(ScanError::UnexpectedEof { open: frame.start() }) };
                match frame {
                    Frame::Object { start, members, key, key_start } => {
                        members.push(Member { key: std::mem::take(key), key_start: *key_start, value: done });
                        match c {
                            b',' => {
                                last_comma = Some(self.i);
                                self.i += 1;
                                self.skip_ws();
                                match self.peek() {
                                    None => return Err(ScanError::UnexpectedEof { open: *start }),
                                    Some(b'"') => {
                                        let open = *start;
                                        let (k, ks) = self.key(open)?;
                                        if let Some(Frame::Object { key, key_start, .. }) = stack.last_mut() {
                                            *key = k;
                                            *key_start = ks;
                                        }
                                        continue 'value;
                                    }
                                    Some(next) => {
                                        return Err(ScanError::Syntax {
                                            offset: self.i,
                                            byte: next,
                                            context: "looking for beginning of object key string".to_string(),
                                            trailing_comma: if next == b'}' { last_comma } else { None },
                                        })
                                    }
                                }
                            }
                            b'}' => {
                                self.i += 1;
                                let start = *start;
                                let members = std::mem::take(members);
                                stack.pop();
                                done = Node { start, end: self.i, kind: Kind::Object(members) };
                            }
                            _ => return Err(self.syntax("after object key:value pair")),
                        }
                    }
                    Frame::Array { start, items } => {
                        items.push(done);
                        match c {
                            b',' => {
                                self.i += 1;
                                self.skip_ws();
                                continue 'value;
                            }
                            b']' => {
                                self.i += 1;
                                let start = *start;
                                let items = std::mem::take(items);
                                stack.pop();
                                done = Node { start, end: self.i, kind: Kind::Array(items) };
                            }
                            _ => return Err(self.syntax("after array element")),
                        }
                    }
                }
            }
        }
    }

    /// The comma right before `at` (only whitespace between), if any.
    fn comma_before(&self, at: usize) -> Option<usize> {
        let mut j = at;
        while j > 0 {
            j -= 1;
            match self.b[j] {
                b',' => return Some(j),
                c if is_space(c) => continue,
                _ => return None,
            }
        }
        None
    }

    /// An object key (at `"`), the colon after it and the whitespace before the value.
    fn key(&mut self, open: usize) -> Result<(String, usize), ScanError> {
        let key_start = self.i;
        let key = self.string()?;
        self.skip_ws();
        match self.peek() {
            None => return Err(ScanError::UnexpectedEof { open }),
            Some(b':') => self.i += 1,
            Some(_) => return Err(self.syntax("after object key")),
        }
        self.skip_ws();
        Ok((key, key_start))
    }

    /// A string starting at `"`; returns it decoded as Go's `unquote` does.
    fn string(&mut self) -> Result<String, ScanError> {
        let open = self.i;
        self.i += 1;
        let mut raw_simple = true;
        let body_start = self.i;
        loop {
            let Some(c) = self.peek() else { return Err(ScanError::UnexpectedEof { open }) };
            match c {
                b'"' => break,
                b'\\' => {
                    raw_simple = false;
                    self.i += 1;
                    let Some(e) = self.peek() else { return Err(ScanError::UnexpectedEof { open }) };
                    match e {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.i += 1,
                        b'u' => {
                            self.i += 1;
                            for _ in 0..4 {
                                let Some(h) = self.peek() else { return Err(ScanError::UnexpectedEof { open }) };
                                if !h.is_ascii_hexdigit() {
                                    return Err(self.syntax("in \\u hexadecimal character escape"));
                                }
                                self.i += 1;
                            }
                        }
                        _ => return Err(self.syntax("in string escape code")),
                    }
                }
                c if c < 0x20 => return Err(self.syntax("in string literal")),
                _ => {
                    if c >= 0x80 {
                        raw_simple = false;
                    }
                    self.i += 1;
                }
            }
        }
        let body = &self.b[body_start..self.i];
        self.i += 1;
        if raw_simple {
            return Ok(String::from_utf8(body.to_vec()).expect("ASCII"));
        }
        Ok(unquote(body))
    }

    fn number(&mut self) -> Result<(), ScanError> {
        let open = self.i;
        let eof = |_: &Self| ScanError::UnexpectedEof { open };
        if self.peek() == Some(b'-') {
            self.i += 1;
            match self.peek() {
                None => return Err(eof(self)),
                Some(b'0'..=b'9') => {}
                Some(_) => return Err(self.syntax("in numeric literal")),
            }
        }
        if self.peek() == Some(b'0') {
            self.i += 1;
        } else {
            while matches!(self.peek(), Some(b'0'..=b'9')) {
                self.i += 1;
            }
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            match self.peek() {
                None => return Err(eof(self)),
                Some(b'0'..=b'9') => {}
                Some(_) => return Err(self.syntax("after decimal point in numeric literal")),
            }
            while matches!(self.peek(), Some(b'0'..=b'9')) {
                self.i += 1;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            match self.peek() {
                None => return Err(eof(self)),
                Some(b'0'..=b'9') => {}
                Some(_) => return Err(self.syntax("in exponent of numeric literal")),
            }
            while matches!(self.peek(), Some(b'0'..=b'9')) {
                self.i += 1;
            }
        }
        // A number that ends the input is still a complete value inside a container only if something follows;
        // at the end of the text Go's decoder reports an unexpected EOF for the unclosed container (handled by the caller).
        Ok(())
    }

    fn literal(&mut self, word: &[u8], name: &str) -> Result<(), ScanError> {
        let open = self.i;
        self.i += 1;
        for &expected in &word[1..] {
            match self.peek() {
                None => return Err(ScanError::UnexpectedEof { open }),
                Some(c) if c == expected => self.i += 1,
                Some(_) => return Err(self.syntax(&format!("in literal {name} (expecting '{}')", expected as char))),
            }
        }
        Ok(())
    }
}

/// Go's `unquote` of a string body that passed the scanner: escapes decoded, surrogate pairs joined, lone
/// surrogates and each byte of invalid UTF-8 replaced by U+FFFD.
fn unquote(body: &[u8]) -> String {
    let mut out = String::with_capacity(body.len());
    let mut i = 0;
    let hex4 = |s: &[u8]| -> u32 { u32::from_str_radix(std::str::from_utf8(s).unwrap_or("0"), 16).unwrap_or(0) };
    while i < body.len() {
        match body[i] {
            b'\\' => {
                let e = body[i + 1];
                i += 2;
                match e {
                    b'"' => out.push('"'),
                    b'\\' => out.push('\\'),
                    b'/' => out.push('/'),
                    b'b' => out.push('\u{8}'),
                    b'f' => out.push('\u{c}'),
                    b'n' => out.push('\n'),
                    b'r' => out.push('\r'),
                    b't' => out.push('\t'),
                    _ => {
                        let r = hex4(&body[i..i + 4]);
                        i += 4;
                        if (0xd800..0xdc00).contains(&r)
                            && body.get(i) == Some(&b'\\')
                            && body.get(i + 1) == Some(&b'u')
                            && body.len() >= i + 6
                        {
                            let r2 = hex4(&body[i + 2..i + 6]);
                            if (0xdc00..0xe000).contains(&r2) {
                                let c = 0x10000 + ((r - 0xd800) << 10) + (r2 - 0xdc00);
                                out.push(char::from_u32(c).unwrap_or('\u{fffd}'));
                                i += 6;
                                continue;
                            }
                        }
                        out.push(char::from_u32(r).unwrap_or('\u{fffd}'));
                    }
                }
            }
            c if c < 0x80 => {
                out.push(c as char);
                i += 1;
            }
            _ => {
                // One UTF-8 sequence, or U+FFFD per invalid byte (Go's utf8.DecodeRune returns size 1 on error).
                let end = body[i..].iter().position(|&c| c == b'\\').map_or(body.len(), |p| i + p);
                match std::str::from_utf8(&body[i..end]) {
                    Ok(s) => {
                        out.push_str(s);
                        i = end;
                    }
                    Err(e) => {
                        let good = e.valid_up_to();
                        out.push_str(std::str::from_utf8(&body[i..i + good]).expect("valid prefix"));
                        i += good;
                        let bad = e.error_len().unwrap_or(end - i).max(1);
                        for _ in 0..bad {
                            out.push('\u{fffd}');
                        }
                        i += bad;
                    }
                }
            }
        }
    }
    out
}

pub(crate) use crate::text::line_col;

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(text: &[u8]) -> String {
        scan(text).unwrap_err().go_message()
    }

    /// The messages below are the ones dockerd 20.10.24 printed for these inputs (see the module docs).
    #[test]
    fn go_messages_as_dockerd_prints_them() {
        assert_eq!(msg(b""), "EOF");
        assert_eq!(msg(b"  \n\t\n"), "EOF");
        assert_eq!(msg(b"\xef\xbb\xbf{}"), "invalid character '\u{ef}' looking for beginning of value");
        assert_eq!(msg(b"{\n  // c\n  \"debug\": false\n}\n"), "invalid character '/' looking for beginning of object key string");
        assert_eq!(msg(b"{\"a\": 1,\n}"), "invalid character '}' looking for beginning of object key string");
        assert_eq!(msg(b"{\n  \"debug\": false,\n  \"runtimes\": {\n    \"nvid"), "unexpected EOF");
    }

    #[test]
    fn other_go_messages() {
        assert_eq!(msg(b"{\"a\" 1}"), "invalid character '1' after object key");
        assert_eq!(msg(b"{\"a\": 1 \"b\": 2}"), "invalid character '\"' after object key:value pair");
        assert_eq!(msg(b"[1 2]"), "invalid character '2' after array element");
        assert_eq!(msg(b"{\"a\": tru}"), "invalid character '}' in literal true (expecting 'e')");
        assert_eq!(msg(b"{\"a\": nul }"), "invalid character ' ' in literal null (expecting 'l')");
        assert_eq!(msg(b"{\"a\": -x}"), "invalid character 'x' in numeric literal");
        assert_eq!(msg(b"{\"a\": 1.}"), "invalid character '}' after decimal point in numeric literal");
        assert_eq!(msg(b"{\"a\": 1e}"), "invalid character '}' in exponent of numeric literal");
        assert_eq!(msg(b"{\"a\": \"\\x\"}"), "invalid character 'x' in string escape code");
        assert_eq!(msg(b"{\"a\": \"\\u12g4\"}"), "invalid character 'g' in \\u hexadecimal character escape");
        assert_eq!(msg(b"{\"a\": \"\t\"}"), "invalid character '\\t' in string literal");
        assert_eq!(msg(b"{'a': 1}"), "invalid character '\\'' looking for beginning of object key string");
        assert_eq!(msg(b"\x00"), "invalid character '\\x00' looking for beginning of value");
        assert_eq!(msg(b"\x85"), "invalid character '\\u0085' looking for beginning of value");
        assert_eq!(msg(b"[1,]"), "invalid character ']' looking for beginning of value");
        assert_eq!(msg(b"{\"a\": [1, 2"), "unexpected EOF");
        assert_eq!(msg(b"{\"a\": 12"), "unexpected EOF");
        assert_eq!(msg(b"{\"a\""), "unexpected EOF");
    }

    #[test]
    fn only_the_first_value_is_read() {
        for text in [&b"{} }"[..], b"{}{\"debug\": \"yes\"}", b"{\"debug\": false}\n\x00", b"null x"] {
            assert!(scan(text).is_ok(), "{text:?}");
        }
    }

    #[test]
    fn trailing_commas_are_located() {
        match scan(b"{\n  \"a\": 1,\n}").unwrap_err() {
            ScanError::Syntax { offset, trailing_comma, .. } => assert_eq!((offset, trailing_comma), (12, Some(10))),
            e => panic!("{e:?}"),
        }
        match scan(b"{\"a\": [1, ]}").unwrap_err() {
            ScanError::Syntax { offset, trailing_comma, .. } => assert_eq!((offset, trailing_comma), (10, Some(8))),
            e => panic!("{e:?}"),
        }
    }

    #[test]
    fn tree_with_spans_and_duplicates() {
        let text = br#" {"a": [1, "x\u00e9\ud83d\ude00\ud800"], "a": {"b": null}, "t": true} "#;
        let node = scan(text).unwrap();
        assert_eq!((node.start, node.end), (1, text.len() - 1));
        let m = node.members().unwrap();
        assert_eq!(m.len(), 3);
        assert_eq!(m[0].key, "a");
        assert_eq!(m[0].key_start, 2);
        let Kind::Array(items) = &m[0].value.kind else { panic!() };
        assert_eq!(&text[items[0].start..items[0].end], b"1");
        assert_eq!(items[1].as_str(), Some("x\u{e9}\u{1f600}\u{fffd}"));
        assert_eq!(m[1].value.members().unwrap()[0].value.kind, Kind::Null);
        assert_eq!(m[2].value.kind, Kind::Bool(true));
    }

    #[test]
    fn invalid_utf8_in_strings_is_accepted() {
        let node = scan(b"{\"labels\": [\"a=\xff\xfe\"]}").unwrap();
        let Kind::Array(items) = &node.members().unwrap()[0].value.kind else { panic!() };
        assert_eq!(items[0].as_str(), Some("a=\u{fffd}\u{fffd}"));
    }

    #[test]
    fn deep_nesting_fails_without_overflowing_the_stack() {
        let mut text = "[".repeat(10_001).into_bytes();
        text.extend(std::iter::repeat_n(b']', 10_001));
        assert!(matches!(scan(&text), Err(ScanError::TooDeep { .. })));
        let mut ok = "[".repeat(10_000).into_bytes();
        ok.extend(std::iter::repeat_n(b']', 10_000));
        assert!(scan(&ok).is_ok());
    }

    #[test]
    fn positions() {
        assert_eq!(line_col(b"ab\r\ncd", 4), (2, 1));
        assert_eq!(line_col("é}".as_bytes(), 2), (1, 2));
        assert_eq!(line_col(b"\xef\xbb\xbf{", 0), (1, 1));
    }
}
