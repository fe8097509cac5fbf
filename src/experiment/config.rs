//! Configuration and secrets as an experiment declares them (literal, environment and dynamic
//! entries), overridden by `--var` and `--var-file`, resolved into the [`Vars`] that `${name}`
//! substitution reads.

use super::substitute::{braced_names, Vars};
use super::Diagnostic;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::path::Path;

/// What the command line adds: `--var` values and `--var-file` contents, in precedence order.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--var` and var-file configuration values (later ones already merged over earlier ones).
    pub configuration: Map<String, Value>,
    /// Var-file secret scopes: each replaces the declared scope of the same name.
    pub secrets: Map<String, Value>,
    /// Variables from `.env`-style var files, seen by environment lookups and by child processes.
    pub env: HashMap<String, String>,
}

/// An entry of `configuration` that is computed at run start by running an activity.
#[derive(Debug, Clone)]
pub struct DynamicEntry {
    pub key: String,
    pub activity: Value,
}

/// The configuration and secrets of an experiment, resolved.
#[derive(Debug, Clone, Default)]
pub struct Resolved {
    pub vars: Vars,
    /// Dynamic entries, to be evaluated in order at run start.
    pub dynamic: Vec<DynamicEntry>,
    /// Environment seen by lookups and handed to child processes on top of the real one.
    pub env: HashMap<String, String>,
    /// Secret values by scope, for python functions that take `secrets`.
    pub secrets: Map<String, Value>,
    pub warnings: Vec<Diagnostic>,
}

impl Resolved {
    /// Reads an environment variable, var-file values first.
    pub fn env_var(&self, name: &str) -> Option<String> {
        lookup_env(&self.env, name)
    }
}

fn lookup_env(overlay: &HashMap<String, String>, name: &str) -> Option<String> {
    overlay
        .get(name)
        .cloned()
        .or_else(|| std::env::var(name).ok())
}

/// Parses one `--var key[:type]=value`.
pub fn parse_var(spec: &str) -> Result<(String, Value), String> {
    let (lhs, raw) = spec
        .split_once('=')
        .ok_or_else(|| format!("--var '{spec}' must look like key=value or key:type=value"))?;
    let (key, kind) = match lhs.split_once(':') {
        Some((k, t)) => (k, t),
        None => (lhs, "str"),
    };
    if key.is_empty() {
        return Err(format!("--var '{spec}' has no key before '='"));
    }
    let value = convert(raw, kind).map_err(|e| format!("--var '{spec}': {e}"))?;
    Ok((key.to_string(), value))
}

/// Converts text to the type named by `env_var_type` or a `--var` type.
pub fn convert(raw: &str, kind: &str) -> Result<Value, String> {
    match kind {
        "str" | "string" | "bytes" => Ok(Value::String(raw.to_string())),
        "int" | "integer" => raw
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| format!("'{raw}' is not an int")),
        "float" | "number" => raw
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| format!("'{raw}' is not a float")),
        "bool" => Ok(Value::Bool(!matches!(
            raw.trim().to_ascii_lowercase().as_str(),
            "false" | "0" | "no"
        ))),
        "json" => serde_json::from_str(raw).map_err(|e| format!("'{raw}' is not JSON: {e}")),
        other => Err(format!(
            "unknown type '{other}' (use str, int, float, bytes, bool or json)"
        )),
    }
}

/// Reads a `--var-file`: `.json`, `.yaml`, `.yml` with `configuration:` and `secrets:` maps, or
/// any other file as `KEY=VALUE` lines (`#` starts a comment) added to the environment.
pub fn load_var_file(path: &Path, into: &mut Overrides) -> Result<(), String> {
    let shown = path.display();
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("cannot read var file {shown}: {e}"))?;
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let doc: Value = match ext {
        "json" => serde_json::from_str(&text)
            .map_err(|e| format!("{shown}:{}:{}: {e}", e.line(), e.column()))?,
        "yaml" | "yml" => serde_yaml::from_str::<Value>(&text).map_err(|e| match e.location() {
            Some(l) => format!("{shown}:{}:{}: {e}", l.line(), l.column()),
            None => format!("{shown}: {e}"),
        })?,
        _ => {
            for (n, line) in text.lines().enumerate() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                let line = line.strip_prefix("export ").unwrap_or(line);
                let (k, v) = line.split_once('=').ok_or_else(|| {
                    format!("{shown}:{}:1: expected KEY=VALUE, found '{line}'", n + 1)
                })?;
                let v = v.trim();
                let v = v
                    .strip_prefix('"')
                    .and_then(|s| s.strip_suffix('"'))
                    .or_else(|| v.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')))
                    .unwrap_or(v);
                into.env.insert(k.trim().to_string(), v.to_string());
            }
            return Ok(());
        }
    };
    let Value::Object(map) = doc else {
        return Err(format!("{shown}: a var file must be a mapping"));
    };
    for (section, target) in [("configuration", 0), ("secrets", 1)] {
        match map.get(section) {
            None | Some(Value::Null) => {}
            Some(Value::Object(entries)) => {
                for (k, v) in entries {
                    let dest = if target == 0 {
                        &mut into.configuration
                    } else {
                        &mut into.secrets
                    };
                    dest.insert(k.clone(), v.clone());
                }
            }
            Some(_) => return Err(format!("{shown}: '{section}' must be a mapping")),
        }
    }
    Ok(())
}

/// Resolves the experiment's configuration and secrets with the overrides applied. All problems
/// are reported together.
pub fn resolve(
    doc: &Value,
    source: &str,
    overrides: &Overrides,
) -> Result<Resolved, Vec<Diagnostic>> {
    let mut out = Resolved {
        env: overrides.env.clone(),
        ..Resolved::default()
    };
    let mut errors = Vec::new();
    let declared = doc.get("configuration").and_then(Value::as_object);
    if let Some(entries) = declared {
        for (key, entry) in entries {
            let path = format!("configuration.{key}");
            if let Some(v) = overrides.configuration.get(key) {
                out.vars.add_config(key, v.clone());
                continue;
            }
            match config_entry(key, entry, &out.env) {
                Ok(Entry::Value(v)) => out.vars.add_config(key, v),
                Ok(Entry::Dynamic(activity)) => out.dynamic.push(DynamicEntry {
                    key: key.clone(),
                    activity,
                }),
                Err(msg) => errors.push(Diagnostic::at_path(source, path, msg)),
            }
        }
    }
    if let Some(scopes) = doc.get("secrets").and_then(Value::as_object) {
        for (scope, entries) in scopes {
            let entries = overrides.secrets.get(scope).unwrap_or(entries);
            let Some(entries) = entries.as_object() else {
                errors.push(Diagnostic::at_path(
                    source,
                    format!("secrets.{scope}"),
                    "a secret scope must be a mapping of names to values",
                ));
                continue;
            };
            for (key, entry) in entries {
                match secret_entry(entry, &out.env) {
                    Ok(v) => {
                        out.vars.add_secret(key, v.clone());
                        if let Value::Object(scope_values) = out
                            .secrets
                            .entry(scope.clone())
                            .or_insert_with(|| Value::Object(Map::new()))
                        {
                            scope_values.insert(key.clone(), v);
                        }
                    }
                    Err(msg) => errors.push(Diagnostic::at_path(
                        source,
                        format!("secrets.{scope}.{key}"),
                        msg,
                    )),
                }
            }
        }
    }
    // Names given by --var or a var file that the experiment declares nowhere are defined too
    // (Chaos Toolkit ignores them); they never replace a secret.
    for (name, v) in &overrides.configuration {
        out.vars.add_config(name, v.clone());
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

enum Entry {
    Value(Value),
    Dynamic(Value),
}

fn config_entry(key: &str, entry: &Value, env: &HashMap<String, String>) -> Result<Entry, String> {
    let Some(map) = entry.as_object() else {
        return Ok(Entry::Value(entry.clone()));
    };
    match map.get("type").and_then(Value::as_str) {
        Some("env") => {
            let name = map.get("key").and_then(Value::as_str).unwrap_or_default();
            let kind = map
                .get("env_var_type")
                .and_then(Value::as_str)
                .unwrap_or("str");
            match lookup_env(env, name) {
                Some(raw) => convert(&raw, kind).map(Entry::Value).map_err(|e| {
                    format!(
                        "the environment variable {name} holds {e} \
                         (the entry '{key}' asks for env_var_type: {kind})"
                    )
                }),
                None => match map.get("default") {
                    Some(Value::String(d)) => convert(d, kind)
                        .map(Entry::Value)
                        .map_err(|e| format!("the default of '{key}' {e} (env_var_type: {kind})")),
                    // A typed entry converts its default too, whatever YAML made of it.
                    Some(d) if map.contains_key("env_var_type") && !d.is_null() => {
                        convert(&crate::pyvalue::py_str(d), kind)
                            .map(Entry::Value)
                            .map_err(|e| {
                                format!("the default of '{key}' {e} (env_var_type: {kind})")
                            })
                    }
                    Some(d) => Ok(Entry::Value(d.clone())),
                    None => Err(format!(
                        "the environment variable {name} is not set and '{key}' has no default; \
                         set {name} or add a default"
                    )),
                },
            }
        }
        Some("probe") | Some("action") => Ok(Entry::Dynamic(entry.clone())),
        _ => Ok(Entry::Value(entry.clone())),
    }
}

fn secret_entry(entry: &Value, env: &HashMap<String, String>) -> Result<Value, String> {
    let Some(map) = entry.as_object() else {
        return Ok(entry.clone());
    };
    match map.get("type").and_then(Value::as_str) {
        Some("env") => {
            let name = map.get("key").and_then(Value::as_str).unwrap_or_default();
            lookup_env(env, name).map(Value::String).ok_or_else(|| {
                format!("the secret reads the environment variable {name}, which is not set")
            })
        }
        Some("vault") => Err("vault secrets are not supported by chaosdeck yet".to_string()),
        _ => Ok(entry.clone()),
    }
}

/// Where `${name}` is substituted (Chaos Toolkit's list), per activity: these are the only places
/// where an undefined name matters.
fn substituted_parts(activity: &Value, at: &str, out: &mut Vec<(String, Value)>) {
    let Some(map) = activity.as_object() else {
        return;
    };
    let field = |k: &str| format!("{at}.{k}");
    if let Some(p) = map.get("pauses") {
        out.push((field("pauses"), p.clone()));
    }
    match map.get("tolerance") {
        Some(Value::String(t)) => out.push((field("tolerance"), Value::String(t.clone()))),
        Some(Value::Object(t)) => {
            for k in ["pattern", "path", "expect"] {
                if let Some(v) = t.get(k) {
                    out.push((format!("{at}.tolerance.{k}"), v.clone()));
                }
            }
            if t.contains_key("provider") {
                substituted_parts(&Value::Object(t.clone()), &field("tolerance"), out);
            }
        }
        _ => {}
    }
    if let Some(provider) = map.get("provider").and_then(Value::as_object) {
        let kind = provider.get("type").and_then(Value::as_str);
        for k in [
            "url",
            "headers",
            "timeout",
            "arguments",
            "body",
            "container",
            "service",
            "project",
        ] {
            if k == "timeout" && kind == Some("process") {
                continue;
            }
            if let Some(v) = provider.get(k) {
                out.push((format!("{at}.provider.{k}"), v.clone()));
            }
        }
        if let Some(nested) = provider.get("arguments").and_then(|a| a.get("activity")) {
            substituted_parts(nested, &format!("{at}.provider.arguments.activity"), out);
        }
    }
}

/// Every activity of the document with its path, nested ones included.
pub fn activities(doc: &Value) -> Vec<(String, &Value)> {
    let mut out = Vec::new();
    if let Some(probes) = doc
        .get("steady-state-hypothesis")
        .and_then(|h| h.get("probes"))
        .and_then(Value::as_array)
    {
        for (i, a) in probes.iter().enumerate() {
            out.push((format!("steady-state-hypothesis.probes[{i}]"), a));
        }
    }
    for phase in ["method", "rollbacks"] {
        if let Some(list) = doc.get(phase).and_then(Value::as_array) {
            for (i, a) in list.iter().enumerate() {
                out.push((format!("{phase}[{i}]"), a));
            }
        }
    }
    out
}

/// Checks that every `${name}` the run will substitute is defined. Names found only in the
/// environment are left for the process to expand, with a warning.
pub fn check_names(
    doc: &Value,
    source: &str,
    resolved: &Resolved,
    runtime_names: &[String],
) -> (Vec<Diagnostic>, Vec<Diagnostic>) {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let defined = |n: &str| {
        resolved.vars.contains(n)
            || resolved.dynamic.iter().any(|d| d.key == n)
            || runtime_names.iter().any(|r| r == n)
    };
    let mut check = |parts: Vec<(String, Value)>| {
        let mut found: Vec<(String, String)> = Vec::new();
        for (path, value) in &parts {
            let mut names = Vec::new();
            braced_names(value, &mut names);
            found.extend(names.into_iter().map(|n| (path.clone(), n)));
        }
        for (path, name) in found {
            if defined(&name) {
                continue;
            }
            if resolved.env_var(&name).is_some() {
                warnings.push(Diagnostic::at_path(
                    source,
                    path.clone(),
                    format!(
                        "${{{name}}} is not defined by the experiment; it is left as written for \
                         the process to expand from its environment"
                    ),
                ));
            } else {
                errors.push(Diagnostic::at_path(
                    source,
                    path.clone(),
                    format!(
                        "${{{name}}} is not defined: declare it under configuration or secrets, \
                         or pass --var {name}=VALUE"
                    ),
                ));
            }
        }
    };
    if let Some(t) = doc.get("title") {
        check(vec![("title".to_string(), t.clone())]);
    }
    for (path, activity) in activities(doc) {
        let mut parts = Vec::new();
        substituted_parts(activity, &path, &mut parts);
        check(parts);
    }
    (errors, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn var_types_convert() {
        assert_eq!(parse_var("n:int=3").unwrap(), ("n".into(), json!(3)));
        assert_eq!(parse_var("f:float=0.5").unwrap(), ("f".into(), json!(0.5)));
        assert_eq!(parse_var("b:bool=no").unwrap(), ("b".into(), json!(false)));
        assert_eq!(
            parse_var("j:json={\"a\":1}").unwrap(),
            ("j".into(), json!({"a": 1}))
        );
        assert_eq!(parse_var("s=a=b").unwrap(), ("s".into(), json!("a=b")));
        assert!(parse_var("n:int=two").unwrap_err().contains("two"));
        assert!(parse_var("novalue").is_err());
    }

    #[test]
    fn overrides_replace_declared_entries_and_env_is_read() {
        let doc = json!({"configuration": {
            "a": 1,
            "b": {"type": "env", "key": "CHAOSDECK_TEST_UNSET_VAR", "default": "7", "env_var_type": "int"},
            "c": "keep"
        }});
        let mut o = Overrides::default();
        o.configuration.insert("a".into(), json!(2));
        let r = resolve(&doc, "x.yaml", &o).unwrap();
        assert_eq!(r.vars.get("a"), Some(&json!(2)));
        assert_eq!(r.vars.get("b"), Some(&json!(7)));
        assert_eq!(r.vars.get("c"), Some(&json!("keep")));
    }

    #[test]
    fn missing_env_without_default_names_the_variable() {
        let doc = json!({"configuration": {"p": {"type": "env", "key": "CHAOSDECK_TEST_NOPE"}}});
        let errs = resolve(&doc, "x.yaml", &Overrides::default()).unwrap_err();
        assert!(errs[0].to_string().contains("CHAOSDECK_TEST_NOPE"));
        assert!(errs[0].to_string().contains("configuration.p"));
    }

    #[test]
    fn undefined_names_are_errors_and_env_only_names_warn() {
        let doc = json!({"title": "t ${who}", "method": [
            {"type": "action", "name": "a", "provider": {"type": "process", "path": "echo",
             "arguments": ["${HOME}", "${nope_not_here}"]}}]});
        let r = resolve(&doc, "x.yaml", &Overrides::default()).unwrap();
        let (errors, warnings) = check_names(&doc, "x.yaml", &r, &[]);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors.iter().any(|e| e.to_string().contains("${who}")));
        assert!(errors
            .iter()
            .any(|e| e.to_string().contains("method[0].provider.arguments")));
        assert_eq!(warnings.len(), 1);
    }
}
