//! Walking a JSON document with the path of every node at hand, for errors that say where.

use std::path::Path;

use sonic_rs::{JsonContainerTrait, JsonValueTrait, Value};

use crate::error::{TopologyError, read_file};

/// A parsed JSON file.
pub(crate) struct Doc {
    file: String,
    root: Value,
}

impl Doc {
    /// Reads and parses a JSON file (a UTF-8 byte-order mark is allowed: PowerShell writes one).
    pub fn load(path: &Path) -> Result<Doc, TopologyError> {
        let file = path.display().to_string();
        let bytes = read_file(path)?;
        let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
        let root = sonic_rs::from_slice(text).map_err(|e| {
            let first = e.to_string().lines().next().unwrap_or_default().to_owned();
            TopologyError::invalid(&file, "$", format!("not valid JSON: {first}"))
        })?;
        Ok(Doc { file, root })
    }

    pub fn root(&self) -> Node<'_> {
        Node {
            value: &self.root,
            file: &self.file,
            path: "$".to_owned(),
        }
    }
}

/// A value in a document, with its file and path.
#[derive(Clone)]
pub(crate) struct Node<'v> {
    pub value: &'v Value,
    pub file: &'v str,
    pub path: String,
}

impl<'v> Node<'v> {
    /// An error about this node.
    pub fn error(&self, message: impl Into<String>) -> TopologyError {
        TopologyError::invalid(self.file, self.path.clone(), message)
    }

    fn child(&self, key: &str, value: &'v Value) -> Node<'v> {
        let path = if self.path == "$" {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        };
        Node {
            value,
            file: self.file,
            path,
        }
    }

    /// A member that is present and not null.
    pub fn get(&self, key: &str) -> Option<Node<'v>> {
        self.value
            .get(key)
            .filter(|v| !v.is_null())
            .map(|v| self.child(key, v))
    }

    /// The first of several spellings of a member that is present.
    pub fn get_any(&self, keys: &[&str]) -> Option<Node<'v>> {
        keys.iter().find_map(|k| self.get(k))
    }

    /// This node as a string.
    pub fn as_str(&self) -> Result<&'v str, TopologyError> {
        self.value
            .as_str()
            .ok_or_else(|| self.error("expected a string"))
    }

    /// A string member; `Ok(None)` when absent or null, an error when of another type.
    pub fn opt_str(&self, key: &str) -> Result<Option<&'v str>, TopologyError> {
        self.get(key).map(|n| n.as_str()).transpose()
    }

    /// A string member that must be there.
    pub fn req_str(&self, key: &str) -> Result<&'v str, TopologyError> {
        match self.get(key) {
            Some(n) => n.as_str(),
            None => Err(self.child(key, self.value).error("missing")),
        }
    }

    /// A boolean member: `true`/`false`, or the strings `"true"`/`"false"` some CLI versions print.
    pub fn opt_bool(&self, key: &str) -> Result<Option<bool>, TopologyError> {
        let Some(n) = self.get(key) else {
            return Ok(None);
        };
        match (n.value.as_bool(), n.value.as_str()) {
            (Some(b), _) => Ok(Some(b)),
            (_, Some(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
            (_, Some(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
            _ => Err(n.error("expected true or false")),
        }
    }

    /// The elements of this node, which must be an array.
    pub fn items(&self) -> Result<Vec<Node<'v>>, TopologyError> {
        let items = self
            .value
            .as_array()
            .ok_or_else(|| self.error("expected an array"))?;
        Ok(items
            .iter()
            .enumerate()
            .map(|(i, value)| Node {
                value,
                file: self.file,
                path: format!("{}[{i}]", self.path),
            })
            .collect())
    }

    /// The elements of an array member; none when it is absent or null.
    pub fn array(&self, key: &str) -> Result<Vec<Node<'v>>, TopologyError> {
        self.get(key).map_or(Ok(Vec::new()), |n| n.items())
    }

    /// The node's objects: the elements of an array (`az … list`) or the node itself when it is
    /// one object (`az … show`).
    pub fn objects(&self) -> Result<Vec<Node<'v>>, TopologyError> {
        if self.value.is_array() {
            return self.items();
        }
        if self.value.is_object() {
            return Ok(vec![self.clone()]);
        }
        Err(self.error("expected an object or an array of objects"))
    }
}
