//! `${name}` substitution as Chaos Toolkit does it (Python's `string.Template.safe_substitute`):
//! a string that is exactly `${name}` takes the value with its own type, any other string gets
//! text interpolation, unknown names stay as written, and `$$` is a dollar.

use crate::pyvalue::py_str;
use regex::Regex;
use serde_json::{Map, Value};
use std::sync::LazyLock;

static PLACEHOLDER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\$(?:(\$)|([_a-z][_a-z0-9]*)|\{([_a-z][_a-z0-9]*)\}|())")
        .expect("placeholder pattern compiles")
});
static WHOLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\$\{([_a-z][_a-z0-9]*)\}$").expect("whole placeholder pattern compiles")
});

/// The values `${name}` resolves to: configuration first, then every secret scope flattened in
/// declaration order (the first definition of a name wins). Secret values are remembered so
/// that they can be masked wherever output is shown or stored.
#[derive(Debug, Clone, Default)]
pub struct Vars {
    values: Map<String, Value>,
    secrets: Vec<String>,
    /// Names that hold configuration rather than secrets.
    config_names: Vec<String>,
}

impl Vars {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a configuration value; an existing name keeps its value.
    pub fn add_config(&mut self, name: &str, value: Value) {
        if !self.values.contains_key(name) {
            self.values.insert(name.to_string(), value);
            self.config_names.push(name.to_string());
        }
    }

    /// Sets a name defined at run time (dynamic configuration, provider results), replacing any
    /// earlier value.
    pub fn set(&mut self, name: &str, value: Value) {
        self.values.insert(name.to_string(), value);
        if !self.config_names.iter().any(|n| n == name) {
            self.config_names.push(name.to_string());
        }
    }

    /// The configuration values alone, secrets left out: what may be stored on disk.
    pub fn configuration(&self) -> Map<String, Value> {
        self.config_names
            .iter()
            .filter_map(|n| self.values.get(n).map(|v| (n.clone(), v.clone())))
            .collect()
    }

    /// Adds a secret value; an existing name keeps its value, the value is masked either way.
    pub fn add_secret(&mut self, name: &str, value: Value) {
        remember_secret(&value, &mut self.secrets);
        if !self.values.contains_key(name) {
            self.values.insert(name.to_string(), value);
        }
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values.get(name)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }

    pub fn values(&self) -> &Map<String, Value> {
        &self.values
    }

    /// Secret values as text, longest first, for masking.
    pub fn secret_texts(&self) -> &[String] {
        &self.secrets
    }

    /// Replaces every secret value found in `text` with `***`.
    pub fn mask(&self, text: &str) -> String {
        let mut out = text.to_string();
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), "***");
            }
        }
        out
    }

    /// Masks secret values in every string of a JSON value.
    pub fn mask_value(&self, value: &Value) -> Value {
        if self.secrets.is_empty() {
            return value.clone();
        }
        match value {
            Value::String(s) => Value::String(self.mask(s)),
            Value::Array(items) => Value::Array(items.iter().map(|v| self.mask_value(v)).collect()),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), self.mask_value(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    /// Substitutes a string; exactly `${name}` keeps the value's type.
    pub fn substitute_str(&self, text: &str) -> Value {
        if let Some(caps) = WHOLE.captures(text) {
            if let Some(value) = self.values.get(&caps[1]) {
                return value.clone();
            }
            return Value::String(text.to_string());
        }
        Value::String(self.interpolate(text))
    }

    /// Text interpolation of every placeholder in `text`.
    pub fn interpolate(&self, text: &str) -> String {
        if !text.contains('$') {
            return text.to_string();
        }
        PLACEHOLDER
            .replace_all(text, |caps: &regex::Captures| {
                if caps.get(1).is_some() {
                    return "$".to_string();
                }
                let name = caps.get(2).or_else(|| caps.get(3));
                match name {
                    Some(n) => match self.values.get(n.as_str()) {
                        Some(v) => py_str(v),
                        None => caps[0].to_string(),
                    },
                    None => caps[0].to_string(),
                }
            })
            .into_owned()
    }

    /// Substitutes every string in a value, recursively (keys are left alone).
    pub fn substitute(&self, value: &Value) -> Value {
        match value {
            Value::String(s) => self.substitute_str(s),
            Value::Array(items) => Value::Array(items.iter().map(|v| self.substitute(v)).collect()),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), self.substitute(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

fn remember_secret(value: &Value, secrets: &mut Vec<String>) {
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Null | Value::Bool(_) => return,
        other => py_str(other),
    };
    // Very short values would mask ordinary text everywhere; they are still never printed by us.
    if text.len() >= 3 && !secrets.contains(&text) {
        secrets.push(text);
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }
}

/// Names written as `${name}` anywhere in the strings of a value.
pub fn braced_names(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => {
            for caps in PLACEHOLDER.captures_iter(s) {
                if let Some(n) = caps.get(3) {
                    if !out.iter().any(|o| o == n.as_str()) {
                        out.push(n.as_str().to_string());
                    }
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| braced_names(v, out)),
        Value::Object(map) => map.values().for_each(|v| braced_names(v, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars() -> Vars {
        let mut v = Vars::new();
        v.add_config("n", json!(5));
        v.add_config("flag", json!(true));
        v.add_config("host", json!("db"));
        v.add_secret("host", json!("ignored"));
        v.add_secret("token", json!("s3cret"));
        v
    }

    #[test]
    fn whole_placeholder_keeps_type() {
        assert_eq!(vars().substitute_str("${n}"), json!(5));
        assert_eq!(vars().substitute_str("${flag}"), json!(true));
    }

    #[test]
    fn embedded_placeholder_is_text() {
        let v = vars();
        assert_eq!(v.substitute_str("x${n}"), json!("x5"));
        assert_eq!(v.substitute_str("${flag}!"), json!("True!"));
        assert_eq!(v.substitute_str("$host:$n"), json!("db:5"));
        assert_eq!(
            v.substitute_str("$$n costs ${missing}"),
            json!("$n costs ${missing}")
        );
    }

    #[test]
    fn configuration_wins_over_secrets_and_secrets_are_masked() {
        let v = vars();
        assert_eq!(v.get("host"), Some(&json!("db")));
        assert_eq!(v.mask("Bearer s3cret"), "Bearer ***");
        assert_eq!(v.mask("ignored"), "***");
    }

    #[test]
    fn braced_names_are_found() {
        let mut names = Vec::new();
        braced_names(
            &json!({"a": ["${x}/y", "$z", "${x}"], "b": "${Y_2}"}),
            &mut names,
        );
        assert_eq!(names, vec!["x", "Y_2"]);
    }
}
