//! Reading JSONC the way VS Code reads devcontainer.json: comments and trailing commas are allowed,
//! everything else must be plain JSON (no single quotes, unquoted keys, hex numbers or missing commas).
//! Syntax errors become [`ConfigError::Syntax`] with file:line:column and the edit that fixes them.

use jsonc_parser::errors::{ParseError, ParseErrorKind};
use jsonc_parser::{ast, ParseOptions, ParseStringErrorKind};

use super::error::ConfigError;

/// The UTF-8 byte order mark some Windows editors write; VS Code ignores it, so do we (and keep it when editing).
pub(crate) const BOM: &str = "\u{feff}";

/// JSONC as VS Code's devcontainer.json reader accepts it.
pub(crate) fn parse_options() -> ParseOptions {
    ParseOptions {
        allow_comments: true,
        allow_trailing_commas: true,
        allow_loose_object_property_names: false,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        allow_bare_decimal_point_numbers: false,
        allow_non_finite_numbers: false,
        allow_extended_string_escapes: false,
    }
}

/// Splits a leading byte order mark off the text.
pub(crate) fn split_bom(text: &str) -> (&str, &str) {
    match text.strip_prefix(BOM) {
        Some(rest) => (BOM, rest),
        None => ("", text),
    }
}

/// Parses JSONC (comments, trailing commas) into a `serde_json::Value`, keeping key order.
///
/// `file` only names the file in errors. A leading byte order mark is ignored. Text with no value at all
/// (empty, or only comments) is [`ConfigError::Empty`]. A key written twice keeps its last value, as VS Code reads it.
pub fn parse_jsonc(text: &str, file: &str) -> Result<serde_json::Value, ConfigError> {
    let (_, body) = split_bom(text);
    match jsonc_parser::parse_to_ast(body, &Default::default(), &parse_options()) {
        Ok(parsed) => match parsed.value {
            Some(value) => Ok(to_serde(value)),
            None => Err(ConfigError::Empty { file: file.to_string() }),
        },
        Err(e) => Err(syntax_error(body, file, &e)),
    }
}

/// An AST value as `serde_json::Value` (numbers are plain JSON numbers: the parse options refuse the rest).
fn to_serde(value: ast::Value<'_>) -> serde_json::Value {
    use serde_json::Value as J;
    match value {
        ast::Value::StringLit(s) => J::String(s.value.into_owned()),
        ast::Value::NumberLit(n) => match n.value.parse::<serde_json::Number>() {
            Ok(number) => J::Number(number),
            Err(_) => J::String(n.value.to_string()),
        },
        ast::Value::BooleanLit(b) => J::Bool(b.value),
        ast::Value::NullKeyword(_) => J::Null,
        ast::Value::Array(a) => J::Array(a.elements.into_iter().map(to_serde).collect()),
        ast::Value::Object(o) => {
            J::Object(o.properties.into_iter().map(|p| (p.name.into_string(), to_serde(p.value))).collect())
        }
    }
}

pub use crate::text::line_col;

/// Turns jsonc-parser's error into one that names the place and the fix.
pub(crate) fn syntax_error(text: &str, file: &str, e: &ParseError) -> ConfigError {
    let range = e.range();
    let (line, column) = line_col(text, range.start);
    let at = format!("{file}:{line}:{column}");
    let token = text.get(range.start..range.end).unwrap_or("");
    let token_is = |s: &str| token.trim() == s;
    use ParseErrorKind as K;
    let (message, hint) = match e.kind() {
        K::ExpectedComma => (
            "expected a comma between two values".to_string(),
            format!("add a comma at {at}, after the value that ends there"),
        ),
        K::UnexpectedComma => ("unexpected comma".to_string(), format!("remove the extra comma at {at}")),
        K::UnexpectedTokenInObject | K::UnexpectedToken if token_is(",") => {
            ("unexpected comma".to_string(), format!("remove the extra comma at {at}"))
        }
        K::UnterminatedObject => (
            "an object is never closed".to_string(),
            format!("add the missing `}}` that closes the object opened at {at}"),
        ),
        K::UnterminatedArray => (
            "an array is never closed".to_string(),
            format!("add the missing `]` that closes the array opened at {at}"),
        ),
        K::UnexpectedCloseBrace => (
            "unexpected `}`".to_string(),
            format!(
                "the `}}` at {at} closes nothing that is open: close the open array with `]` before it, or remove it"
            ),
        ),
        K::UnexpectedCloseBracket => (
            "unexpected `]`".to_string(),
            format!(
                "the `]` at {at} closes nothing that is open: close the open object with `}}` before it, or remove it"
            ),
        ),
        K::MultipleRootJsonValues if token_is("}") || token_is("]") => (
            format!("extra `{}` after the end of the top-level value", token.trim()),
            format!("remove the extra `{}` at {at}", token.trim()),
        ),
        K::MultipleRootJsonValues => (
            "text after the end of the top-level value".to_string(),
            format!("remove everything from {at} on, or move it inside the top-level object"),
        ),
        K::UnterminatedCommentBlock => {
            ("a /* comment is never closed".to_string(), format!("close the comment opened at {at} with `*/`"))
        }
        K::String(ParseStringErrorKind::UnterminatedStringLiteral) => (
            "a string is never closed".to_string(),
            format!("close the string that starts at {at} with a double quote (\") on the same line"),
        ),
        K::String(kind) => (format!("invalid string: {kind}"), format!("fix the string at {at} ({kind})")),
        K::SingleQuotedStringsNotAllowed => {
            ("single-quoted string".to_string(), format!("use double quotes (\") for the string at {at}"))
        }
        K::ExpectedStringObjectProperty => (
            "property name without double quotes".to_string(),
            format!("write the property name at {at} in double quotes, e.g. \"name\": …"),
        ),
        K::ExpectedColonAfterObjectKey => (
            "expected `:` after a property name".to_string(),
            format!("add a `:` between the property name and its value before {at}"),
        ),
        K::ExpectedObjectValue => ("a property has no value".to_string(), format!("add a value after the `:` at {at}")),
        K::UnexpectedWord => (
            format!("unexpected word `{}`", token.trim()),
            format!("put the text at {at} in double quotes if it is a string, or remove it"),
        ),
        K::HexadecimalNumbersNotAllowed
        | K::UnaryPlusNumbersNotAllowed
        | K::BareDecimalPointNumbersNotAllowed
        | K::NonFiniteNumbersNotAllowed
        | K::ExpectedDigit
        | K::ExpectedDigitFollowingNegativeSign
        | K::ExpectedPlusMinusOrDigitInNumberLiteral => (
            format!("invalid number: {}", e.kind()),
            format!("write the number at {at} as a plain decimal JSON number, or quote it as a string"),
        ),
        K::NestingDepthExceeded => ("nested too deeply".to_string(), format!("flatten the value at {at}")),
        other => (other.to_string(), format!("fix the JSON at {at}")),
    };
    ConfigError::Syntax { file: file.to_string(), line, column, message, hint }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn syntax(text: &str) -> (usize, usize, String, String) {
        match parse_jsonc(text, "devcontainer.json").unwrap_err() {
            ConfigError::Syntax { line, column, message, hint, .. } => (line, column, message, hint),
            other => panic!("expected a syntax error, got {other:?}"),
        }
    }

    #[test]
    fn accepts_comments_and_trailing_commas() {
        let v = parse_jsonc("// head\n{\n  /* a */ \"b\": [1, 2,], // c\n  \"d\": {\"e\": true,},\n}\n", "f").unwrap();
        assert_eq!(v, json!({"b": [1, 2], "d": {"e": true}}));
    }

    #[test]
    fn keeps_key_order() {
        let v = parse_jsonc("{\"z\": 1, \"a\": 2, \"m\": 3}", "f").unwrap();
        let keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["z", "a", "m"]);
    }

    #[test]
    fn ignores_a_byte_order_mark() {
        assert_eq!(parse_jsonc("\u{feff}{\"a\": 1}", "f").unwrap(), json!({"a": 1}));
    }

    #[test]
    fn placeholders_are_plain_strings() {
        let v = parse_jsonc(r#"{"image": "x:${templateOption:imageVariant}", "e": "${localEnv:HOME}"}"#, "f").unwrap();
        assert_eq!(v["image"], "x:${templateOption:imageVariant}");
        assert_eq!(v["e"], "${localEnv:HOME}");
    }

    #[test]
    fn empty_and_comment_only_are_empty() {
        for text in ["", "  \n", "// nothing\n/* here */\n"] {
            assert!(matches!(parse_jsonc(text, "f"), Err(ConfigError::Empty { .. })), "{text:?}");
        }
        assert_eq!(parse_jsonc("null", "f").unwrap(), serde_json::Value::Null);
        assert_eq!(
            parse_jsonc("[1.5e3, -2, 18446744073709551615]", "f").unwrap(),
            json!([1500.0, -2, 18446744073709551615u64])
        );
        assert_eq!(parse_jsonc("{\"a\": 1, \"a\": 2}", "f").unwrap(), json!({"a": 2}));
    }

    #[test]
    fn missing_comma_points_after_the_previous_value() {
        let (line, column, _, hint) = syntax("{\n  \"image\": \"x\"\n  \"runArgs\": []\n}\n");
        assert_eq!((line, column), (2, 15));
        assert_eq!(hint, "add a comma at devcontainer.json:2:15, after the value that ends there");
    }

    #[test]
    fn unclosed_brace_points_at_the_open_brace() {
        let (line, column, message, hint) = syntax("// c\n{\n  \"image\": \"x\"\n");
        assert_eq!((line, column), (2, 1));
        let (line, column, _, hint2) = syntax("{\n  \"a\": [1, {\"b\": 2\n");
        assert_eq!((line, column), (2, 12), "{hint2}");
        assert!(message.contains("never closed"));
        assert!(hint.contains("`}`") && hint.contains("devcontainer.json:2:1"), "{hint}");
    }

    #[test]
    fn unclosed_array_points_at_the_open_bracket() {
        let (line, column, _, hint) = syntax("{\n  \"runArgs\": [\n    \"--gpus\"\n}\n");
        assert_eq!((line, column), (4, 1), "{hint}");
    }

    #[test]
    fn double_comma_says_remove_it() {
        let (line, column, _, hint) = syntax("{\n\t\"a\": 1,,\n}");
        assert_eq!((line, column), (2, 9));
        assert_eq!(hint, "remove the extra comma at devcontainer.json:2:9");
    }

    #[test]
    fn extra_closing_brace() {
        let (line, column, _, hint) = syntax("{\n  \"a\": 1\n}\n}\n");
        assert_eq!((line, column), (4, 1));
        assert_eq!(hint, "remove the extra `}` at devcontainer.json:4:1");
    }

    #[test]
    fn json5_extensions_are_refused() {
        let (.., hint) = syntax("{'a': 1}");
        assert!(hint.contains("double quotes"), "{hint}");
        let (.., hint) = syntax("{a: 1}");
        assert!(hint.contains("double quotes"), "{hint}");
        let (.., hint) = syntax("{\"a\": 0x10}");
        assert!(hint.contains("decimal"), "{hint}");
    }

    #[test]
    fn unterminated_string_and_comment() {
        let (line, column, _, hint) = syntax("{\n  \"a\": \"x\n}\n");
        assert_eq!((line, column), (2, 8));
        assert!(hint.contains("double quote"));
        let (line, column, _, hint) = syntax("{\n  /* x\n}\n");
        assert_eq!((line, column), (2, 3));
        assert!(hint.contains("*/"));
    }

    #[test]
    fn crlf_positions_count_one_line_break() {
        let (line, column, ..) = syntax("{\r\n  \"a\": 1\r\n  \"b\": 2\r\n}\r\n");
        assert_eq!((line, column), (2, 9));
    }
}
