//! Small helpers over jsonc-parser's CST: where a node is (line:column), what kind of value it is, typed and
//! duplicate-checked property lookups, and conversions to and from `serde_json::Value`.

use jsonc_parser::cst::{CstArray, CstContainerNode, CstInputValue, CstLeafNode, CstNode, CstObject, CstObjectProp};

use super::error::ConfigError;
use super::jsonc::{line_col, parse_options};

/// The text a CST was parsed from (without a byte order mark) and the file name for errors.
pub(crate) struct Doc<'a> {
    pub text: &'a str,
    pub file: &'a str,
}

impl Doc<'_> {
    /// 1-based line and column of a node in the parsed text. Only meaningful before the tree is edited.
    pub fn pos(&self, node: &CstNode) -> (usize, usize) {
        line_col(self.text, offset_of(node))
    }

    /// `file:line:column` of a node.
    pub fn at(&self, node: &CstNode) -> String {
        let (line, column) = self.pos(node);
        format!("{}:{line}:{column}", self.file)
    }

    pub fn wrong_type(&self, node: &CstNode, path: &str, expected: &'static str) -> ConfigError {
        let (line, column) = self.pos(node);
        ConfigError::WrongType {
            file: self.file.to_string(),
            line,
            column,
            path: path.to_string(),
            expected,
            found: kind_name(node),
        }
    }

    /// The property `name` of `obj`, refusing one written twice (JSON readers disagree on which one wins).
    pub fn prop(&self, obj: &CstObject, name: &str, path: &str) -> Result<Option<CstObjectProp>, ConfigError> {
        let mut matches = obj.properties().into_iter().filter(|p| p.decoded_name().as_deref() == Some(name));
        let Some(first) = matches.next() else { return Ok(None) };
        if let Some(second) = matches.next() {
            let (first_line, first_column) = self.pos(&first.clone().into());
            let (line, column) = self.pos(&second.into());
            return Err(ConfigError::DuplicateKey {
                file: self.file.to_string(),
                line,
                column,
                path: path.to_string(),
                first_line,
                first_column,
            });
        }
        Ok(Some(first))
    }

    /// The property `name` of `obj` when it must hold an object.
    pub fn object(
        &self,
        obj: &CstObject,
        name: &str,
        path: &str,
    ) -> Result<Option<(CstObjectProp, CstObject)>, ConfigError> {
        let Some(prop) = self.prop(obj, name, path)? else { return Ok(None) };
        let value = prop_value(&prop);
        match value.as_object() {
            Some(o) => Ok(Some((prop, o))),
            None => Err(self.wrong_type(&value, path, "an object")),
        }
    }

    /// The property `name` of `obj` when it must hold an array.
    pub fn array(
        &self,
        obj: &CstObject,
        name: &str,
        path: &str,
    ) -> Result<Option<(CstObjectProp, CstArray)>, ConfigError> {
        let Some(prop) = self.prop(obj, name, path)? else { return Ok(None) };
        let value = prop_value(&prop);
        match value.as_array() {
            Some(a) => Ok(Some((prop, a))),
            None => Err(self.wrong_type(&value, path, "an array")),
        }
    }

    /// The property `name` of `obj` when it must hold a string; returns the decoded string too.
    pub fn string(
        &self,
        obj: &CstObject,
        name: &str,
        path: &str,
    ) -> Result<Option<(CstObjectProp, String)>, ConfigError> {
        let Some(prop) = self.prop(obj, name, path)? else { return Ok(None) };
        let value = prop_value(&prop);
        match decoded_string(&value) {
            Some(s) => Ok(Some((prop, s))),
            None => Err(self.wrong_type(&value, path, "a string")),
        }
    }
}

/// The value node of a property. A parsed property always has one; an empty object stands in otherwise.
pub(crate) fn prop_value(prop: &CstObjectProp) -> CstNode {
    prop.value().unwrap_or_else(|| CstNode::Container(CstContainerNode::ObjectProp(prop.clone())))
}

/// Byte offset of a node in the text the tree prints.
pub(crate) fn offset_of(node: &CstNode) -> usize {
    let mut offset = 0;
    let mut current = node.clone();
    loop {
        offset += current.previous_siblings().map(|s| s.to_string().len()).sum::<usize>();
        match current.parent() {
            Some(parent) => current = parent.into(),
            None => return offset,
        }
    }
}

/// "an object", "a string", … for messages.
pub(crate) fn kind_name(node: &CstNode) -> &'static str {
    match node {
        CstNode::Container(CstContainerNode::Object(_)) => "an object",
        CstNode::Container(CstContainerNode::Array(_)) => "an array",
        CstNode::Container(_) => "something else",
        CstNode::Leaf(leaf) => match leaf {
            CstLeafNode::StringLit(_) => "a string",
            CstLeafNode::NumberLit(_) => "a number",
            CstLeafNode::BooleanLit(_) => "a boolean",
            CstLeafNode::NullKeyword(_) => "null",
            CstLeafNode::WordLit(_) => "a bare word",
            _ => "something else",
        },
    }
}

/// The decoded text of a string literal node.
pub(crate) fn decoded_string(node: &CstNode) -> Option<String> {
    node.as_string_lit()?.decoded_value().ok()
}

/// A value node as `serde_json::Value` (its text is JSONC on its own).
pub(crate) fn to_serde(node: &CstNode) -> Option<serde_json::Value> {
    jsonc_parser::parse_to_serde_value::<serde_json::Value>(&node.to_string(), &parse_options()).ok()
}

/// A `serde_json::Value` as input for CST edits.
pub(crate) fn to_input(value: &serde_json::Value) -> CstInputValue {
    match value {
        serde_json::Value::Null => CstInputValue::Null,
        serde_json::Value::Bool(b) => CstInputValue::Bool(*b),
        serde_json::Value::Number(n) => CstInputValue::Number(n.to_string()),
        serde_json::Value::String(s) => CstInputValue::String(s.clone()),
        serde_json::Value::Array(items) => CstInputValue::Array(items.iter().map(to_input).collect()),
        serde_json::Value::Object(map) => {
            CstInputValue::Object(map.iter().map(|(k, v)| (k.clone(), to_input(v))).collect())
        }
    }
}

pub(crate) use crate::text::json_quote as quote;

#[cfg(test)]
mod tests {
    use super::*;
    use jsonc_parser::cst::CstRootNode;
    use serde_json::json;

    fn parse(text: &str) -> CstRootNode {
        CstRootNode::parse(text, &parse_options()).unwrap()
    }

    #[test]
    fn positions_of_nodes() {
        let text = "// c\r\n{\r\n\t\"a\": [1, \"x\"],\r\n\t\"b\": {\"c\": null}\r\n}\r\n";
        let root = parse(text);
        let doc = Doc { text, file: "f.json" };
        let obj = root.object_value().unwrap();
        let a = obj.get("a").unwrap();
        assert_eq!(doc.pos(&a.clone().into()), (3, 2));
        let elements = a.array_value().unwrap().elements();
        assert_eq!(doc.pos(&elements[1]), (3, 11));
        let c = obj.object_value("b").unwrap().get("c").unwrap().value().unwrap();
        assert_eq!(doc.at(&c), "f.json:4:13");
    }

    #[test]
    fn typed_lookups_name_the_wrong_type() {
        let text = "{\n  \"runArgs\": \"--gpus all\",\n  \"x\": 1\n}";
        let root = parse(text);
        let doc = Doc { text, file: "d.json" };
        let obj = root.object_value().unwrap();
        let err = doc.array(&obj, "runArgs", "runArgs").unwrap_err();
        assert_eq!(
            err,
            ConfigError::WrongType {
                file: "d.json".into(),
                line: 2,
                column: 14,
                path: "runArgs".into(),
                expected: "an array",
                found: "a string"
            }
        );
        assert!(doc.object(&obj, "missing", "missing").unwrap().is_none());
        assert!(doc.string(&obj, "x", "x").is_err());
    }

    #[test]
    fn duplicate_keys_are_refused() {
        let text = "{\n  \"runArgs\": [],\n  \"runArgs\": [\"--gpus\", \"all\"]\n}";
        let root = parse(text);
        let doc = Doc { text, file: "d.json" };
        match doc.prop(&root.object_value().unwrap(), "runArgs", "runArgs").unwrap_err() {
            ConfigError::DuplicateKey { line, column, first_line, first_column, .. } => {
                assert_eq!((line, column, first_line, first_column), (3, 3, 2, 3));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn serde_round_trip() {
        let root = parse("{\"g\": {\"cores\": 2, /* c */ \"memory\": \"8gb\",}}");
        let g = root.object_value().unwrap().get("g").unwrap().value().unwrap();
        assert_eq!(to_serde(&g), Some(json!({"cores": 2, "memory": "8gb"})));
        assert!(matches!(to_input(&json!({"a": [1, true, null]})), CstInputValue::Object(_)));
        assert_eq!(quote("a\"b"), "\"a\\\"b\"");
    }
}
