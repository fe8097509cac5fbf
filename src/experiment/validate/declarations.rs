//! Validation of the `configuration` and `secrets` declarations: their shape only. Environment
//! variables are read (and found missing) where the values are loaded, not here.

use super::activity::{validate_activity, ActivityRules};
use super::{join_key, kind_of, raw, Checker};
use serde_json::{Map, Value};

/// The conversions an env configuration entry may ask for.
const ENV_VAR_TYPES: [&str; 9] = [
    "str", "string", "int", "integer", "float", "number", "bytes", "bool", "json",
];

/// Configuration entries: literals, `type: env` entries, or `type: probe` dynamic entries.
pub(super) fn configuration(check: &mut Checker, configuration: Option<&Value>) {
    let entries = match configuration {
        None | Some(Value::Null) => return,
        Some(Value::Object(entries)) => entries,
        Some(other) => {
            check.error(
                "configuration",
                format!(
                    "configuration must be a mapping of names to values, not {}",
                    kind_of(other)
                ),
            );
            return;
        }
    };
    for (name, entry) in entries {
        let path = join_key("configuration", name);
        let Value::Object(map) = entry else {
            continue; // a literal
        };
        match map.get("type").and_then(Value::as_str) {
            Some("env") => {
                env_entry(check, map, &path);
                if let Some(kind) = map.get("env_var_type") {
                    let known = kind.as_str().is_some_and(|k| ENV_VAR_TYPES.contains(&k));
                    if !known {
                        check.error(
                            &join_key(&path, "env_var_type"),
                            format!(
                                "'{}' is not a type the value can be converted to: use str, \
                                 int, float, bytes, bool or json",
                                raw(kind)
                            ),
                        );
                    }
                }
            }
            Some("probe") => validate_activity(check, entry, &path, ActivityRules::NESTED),
            // Any other mapping is a literal value.
            _ => {}
        }
    }
}

/// Secrets: scopes of names, each a literal or a `type: env` entry.
pub(super) fn secrets(check: &mut Checker, secrets: Option<&Value>) {
    let scopes = match secrets {
        None | Some(Value::Null) => return,
        Some(Value::Object(scopes)) => scopes,
        Some(other) => {
            check.error(
                "secrets",
                format!(
                    "secrets must be a mapping of scopes, each a mapping of names to values, \
                     not {}",
                    kind_of(other)
                ),
            );
            return;
        }
    };
    for (scope, entries) in scopes {
        let scope_path = join_key("secrets", scope);
        let Value::Object(entries) = entries else {
            check.error(
                &scope_path,
                format!(
                    "a secret scope must be a mapping of names to values, not {}",
                    kind_of(entries)
                ),
            );
            continue;
        };
        for (name, entry) in entries {
            let path = join_key(&scope_path, name);
            let Value::Object(map) = entry else {
                continue;
            };
            match map.get("type").and_then(Value::as_str) {
                Some("env") => env_entry(check, map, &path),
                Some("vault") => check.error(
                    &path,
                    "vault secrets are not supported by chaosdeck yet: pass this secret \
                     through an environment variable (type: env) instead",
                ),
                _ => {}
            }
        }
    }
}

fn env_entry(check: &mut Checker, map: &Map<String, Value>, path: &str) {
    let named = matches!(map.get("key"), Some(Value::String(k)) if !k.trim().is_empty());
    if !named {
        check.error(
            &join_key(path, "key"),
            "an env entry needs `key`: the name of the environment variable to read",
        );
    }
}
