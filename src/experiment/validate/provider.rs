//! Validation of providers: http, process and python keys, and the Python callables chaosdeck
//! runs natively (`chaoslib.types.run_activity`, `time.sleep`, `subprocess.run`...). docker keys
//! are checked in `docker.rs`; toxiproxy providers are checked where they run.

use super::activity::{
    expectations, is_boolean_like, is_non_negative_number, is_placeholder, validate_activity,
    ActivityRules, PROVIDER_TYPES,
};
use super::{join_key, kind_of, raw, show, Checker};
use crate::experiment::pathlookup::resolve_executable;
use serde_json::{Map, Value};

/// Validates a provider at `path`; `activity` names the activity in messages.
pub(super) fn validate_provider(check: &mut Checker, provider: &Value, path: &str, activity: &str) {
    let Value::Object(map) = provider else {
        check.error(
            path,
            format!(
                "the provider must be a mapping with a type, not {}",
                kind_of(provider)
            ),
        );
        return;
    };
    let type_path = join_key(path, "type");
    match map.get("type") {
        None | Some(Value::Null) => check.error(
            &type_path,
            format!("a provider needs a type: {PROVIDER_TYPES}"),
        ),
        Some(Value::String(t)) if t == "http" => {
            super::keys::unknown(check, map, path, super::keys::HTTP);
            http(check, map, path)
        }
        Some(Value::String(t)) if t == "process" => {
            super::keys::unknown(check, map, path, super::keys::PROCESS);
            process(check, map, path, activity)
        }
        Some(Value::String(t)) if t == "python" => {
            super::keys::unknown(check, map, path, super::keys::PYTHON);
            python(check, map, path)
        }
        Some(Value::String(t)) if t == "docker" => super::docker::docker(check, map, path),
        // Its own keys are checked where it runs.
        Some(Value::String(t)) if t == "toxiproxy" => {}
        Some(other) => check.error(
            &type_path,
            format!(
                "unknown provider type '{}': chaosdeck knows {}",
                raw(other),
                PROVIDER_TYPES.replace(" or ", " and ")
            ),
        ),
    }
    if let Some(expect) = map.get("expect") {
        expectations(check, expect, &join_key(path, "expect"));
    }
}

/// A key that must hold non-empty text; returns the text when it does.
fn required_text<'v>(
    check: &mut Checker,
    map: &'v Map<String, Value>,
    key: &str,
    path: &str,
    missing: &str,
) -> Option<&'v str> {
    let key_path = join_key(path, key);
    match map.get(key) {
        None | Some(Value::Null) => check.error(&key_path, missing),
        Some(Value::String(s)) if !s.trim().is_empty() => return Some(s),
        Some(other) => check.error(
            &key_path,
            format!("{missing}, as non-empty text (not {})", show(other)),
        ),
    }
    None
}

fn http(check: &mut Checker, map: &Map<String, Value>, path: &str) {
    if let Some(url) = required_text(check, map, "url", path, "an http provider needs a url") {
        url_warning(check, url, &join_key(path, "url"));
    }
    if let Some(headers) = map.get("headers") {
        if !headers.is_null() && !headers.is_object() {
            check.error(
                &join_key(path, "headers"),
                format!(
                    "headers must be a mapping of header names to values, not {}",
                    kind_of(headers)
                ),
            );
        }
    }
    if let Some(method) = map.get("method") {
        if !matches!(method, Value::String(m) if !m.trim().is_empty()) {
            check.error(
                &join_key(path, "method"),
                format!(
                    "the HTTP method must be text such as GET or POST, not {}",
                    show(method)
                ),
            );
        }
    }
    if let Some(timeout) = map.get("timeout") {
        let pair = matches!(timeout, Value::Array(t)
            if t.len() == 2 && t.iter().all(|x| is_non_negative_number(x) || is_placeholder(x)));
        let templated = matches!(timeout, Value::String(s) if s.contains("${"));
        if !(timeout.is_null() || is_non_negative_number(timeout) || pair || templated) {
            check.error(
                &join_key(path, "timeout"),
                format!(
                    "the http timeout must be a number of seconds or a [connect, read] pair, \
                     not {}",
                    show(timeout)
                ),
            );
        }
    }
    if let Some(verify) = map.get("verify_tls") {
        if !is_boolean_like(verify) {
            check.error(
                &join_key(path, "verify_tls"),
                format!("verify_tls must be true or false, not {}", show(verify)),
            );
        }
    }
    if let Some(retries) = map.get("max_retries") {
        if !(retries.is_u64() || retries.is_null()) {
            check.error(
                &join_key(path, "max_retries"),
                format!(
                    "max_retries must be a whole number (0 or more), not {}",
                    show(retries)
                ),
            );
        }
    }
    if map.contains_key("expected_status") {
        check.warn(
            &join_key(path, "expected_status"),
            "expected_status is ignored (Chaos Toolkit ignores it too): to check the status, \
             write `expect: [{status: 200}]` on the provider",
        );
    }
}

/// URLs with placeholders are only known at run time; a fixed one can be checked now.
fn url_warning(check: &mut Checker, url: &str, path: &str) {
    if url.contains('$') {
        return;
    }
    match url::Url::parse(url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => {}
        Ok(parsed) => check.warn(
            path,
            format!(
                "'{url}' is not an http(s) URL (scheme '{}')",
                parsed.scheme()
            ),
        ),
        Err(e) => check.warn(path, format!("'{url}' does not look like a URL: {e}")),
    }
}

fn process(check: &mut Checker, map: &Map<String, Value>, path: &str, activity: &str) {
    let missing = "a process provider needs a path: the program to run";
    if let Some(program) = required_text(check, map, "path", path, missing) {
        if let Err(why) = resolve_executable(program) {
            check.error(
                &join_key(path, "path"),
                format!("{why}, in activity '{activity}'"),
            );
        }
    }
    let arguments_path = join_key(path, "arguments");
    match map.get("arguments") {
        None | Some(Value::Null | Value::Array(_) | Value::String(_)) => {}
        Some(Value::Object(_)) => check.warn(
            &arguments_path,
            "process arguments as a mapping are deprecated (each key and value become \
             arguments in turn): write them as a list",
        ),
        Some(other) => check.error(
            &arguments_path,
            format!(
                "process arguments must be a list of words or one string, not {}",
                kind_of(other)
            ),
        ),
    }
    if let Some(timeout) = map.get("timeout") {
        if !timeout.is_null() && !is_non_negative_number(timeout) {
            check.error(
                &join_key(path, "timeout"),
                format!(
                    "the process timeout must be a number of seconds, not {}",
                    show(timeout)
                ),
            );
        }
    }
}

fn python(check: &mut Checker, map: &Map<String, Value>, path: &str) {
    let module = required_text(
        check,
        map,
        "module",
        path,
        "a python provider needs a module: the Python module to import",
    );
    let func = required_text(
        check,
        map,
        "func",
        path,
        "a python provider needs a func: the function to call in that module",
    );
    let arguments_path = join_key(path, "arguments");
    let sleep = module == Some("time") && func == Some("sleep");
    let arguments = match map.get("arguments") {
        None | Some(Value::Null) => None,
        Some(Value::Object(arguments)) => Some(arguments),
        // time.sleep takes its seconds positionally too: `arguments: [5]`.
        Some(Value::Array(list)) if sleep => {
            let fine = matches!(list.as_slice(),
                [seconds] if is_non_negative_number(seconds) || is_placeholder(seconds));
            if !fine {
                check.error(
                    &arguments_path,
                    "time.sleep takes one argument, the number of seconds to wait",
                );
            }
            return;
        }
        Some(other) => {
            check.error(
                &arguments_path,
                format!(
                    "python arguments must be a mapping of parameter names to values, not {}",
                    kind_of(other)
                ),
            );
            return;
        }
    };
    if let Some(secrets) = map.get("secrets") {
        let names = matches!(secrets, Value::Array(s) if s.iter().all(Value::is_string));
        if !secrets.is_null() && !names {
            check.error(
                &join_key(path, "secrets"),
                "the provider's secrets must be a list of secret scope names",
            );
        }
    }
    let (Some(module), Some(func)) = (module, func) else {
        return;
    };
    let empty = Map::new();
    let arguments = arguments.unwrap_or(&empty);
    match (module, func) {
        ("chaoslib.types", "run_activity") => {
            let nested_path = join_key(&arguments_path, "activity");
            match arguments.get("activity") {
                None | Some(Value::Null) => check.error(
                    &nested_path,
                    "chaoslib.types.run_activity needs an `activity` argument: the activity \
                     to run",
                ),
                Some(nested) => {
                    validate_activity(check, nested, &nested_path, ActivityRules::NESTED)
                }
            }
        }
        ("time", "sleep") => {
            let values: Vec<&Value> = arguments.values().collect();
            let fine = matches!(values.as_slice(),
                [seconds] if is_non_negative_number(seconds) || is_placeholder(seconds));
            if !fine {
                check.error(
                    &arguments_path,
                    "time.sleep takes one argument, the number of seconds to wait (for \
                     example `seconds: 5`)",
                );
            }
        }
        ("subprocess", "run" | "call" | "check_call") => {
            let fine = match arguments.get("args") {
                Some(Value::Array(words)) => !words.is_empty(),
                Some(Value::String(line)) => !line.trim().is_empty(),
                _ => false,
            };
            if !fine {
                check.error(
                    &join_key(&arguments_path, "args"),
                    format!(
                        "subprocess.{func} needs `args`: the command to run, as a list of \
                         words or one string"
                    ),
                );
            }
        }
        _ => {}
    }
}
