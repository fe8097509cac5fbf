//! Validation of steady-state probes' tolerances: the plain forms (boolean, integer, string,
//! list) and the mappings `probe`, `regex`, `jsonpath` and `range`.

use super::activity::{validate_activity, ActivityRules};
use super::{join_key, kind_of, raw, show, Checker};
use serde_json::{Map, Value};

const TOLERANCE_TYPES: &str = "probe, regex, jsonpath or range";

/// A steady-state probe needs a tolerance, unless an `expect` list decides for it.
pub(super) fn hypothesis_probe(check: &mut Checker, probe: &Value, path: &str) {
    let Some(map) = probe.as_object().filter(|m| !m.is_empty()) else {
        return; // already reported as an empty activity
    };
    let has_expect = map.get("expect").is_some_and(|e| !e.is_null())
        || map
            .get("provider")
            .and_then(|p| p.get("expect"))
            .is_some_and(|e| !e.is_null());
    let tolerance_path = join_key(path, "tolerance");
    match map.get("tolerance") {
        None if has_expect => {}
        None => check.error(
            &tolerance_path,
            "a steady-state probe needs a tolerance (or an `expect` list) saying which output \
             means the steady state holds",
        ),
        Some(tolerance) => validate_tolerance(check, tolerance, &tolerance_path),
    }
}

/// Validates a tolerance at `path`.
pub(super) fn validate_tolerance(check: &mut Checker, tolerance: &Value, path: &str) {
    let map = match tolerance {
        Value::Bool(_) | Value::String(_) | Value::Array(_) => return,
        Value::Number(n) if !n.is_f64() => return,
        Value::Object(map) => map,
        other => {
            let what = match other {
                Value::Number(n) => format!("{n} is a decimal number (use a range for those)"),
                _ => "null is none of them".to_string(),
            };
            check.error(
                path,
                format!(
                    "a tolerance must be a boolean, an integer, a string, a list or a mapping; \
                     {what}"
                ),
            );
            return;
        }
    };
    let type_path = join_key(path, "type");
    match map.get("type") {
        None | Some(Value::Null) => check.error(
            &type_path,
            format!("a tolerance mapping needs a type: {TOLERANCE_TYPES}"),
        ),
        Some(Value::String(t)) if t == "probe" => probe_tolerance(check, tolerance, map, path),
        Some(Value::String(t)) if t == "regex" => regex_tolerance(check, map, path),
        Some(Value::String(t)) if t == "jsonpath" => jsonpath_tolerance(check, map, path),
        Some(Value::String(t)) if t == "range" => range_tolerance(check, map, path),
        Some(other) => check.error(
            &type_path,
            format!(
                "'{}' is not a tolerance type: use {TOLERANCE_TYPES}",
                raw(other)
            ),
        ),
    }
    if let Some(target) = map.get("target") {
        if !target.is_string() && !target.is_null() {
            check.error(
                &join_key(path, "target"),
                format!(
                    "target must name a key of the probe's output, such as stdout or body, \
                     not {}",
                    show(target)
                ),
            );
        }
    }
}

fn probe_tolerance(check: &mut Checker, tolerance: &Value, map: &Map<String, Value>, path: &str) {
    validate_activity(check, tolerance, path, ActivityRules::PROBE);
    if let Some(Value::Object(provider)) = map.get("provider") {
        if !provider.get("arguments").is_some_and(Value::is_object) {
            check.error(
                &join_key(&join_key(path, "provider"), "arguments"),
                "a probe used as a tolerance receives the output as its argument `value`, so \
                 its provider needs an `arguments` mapping (it may be empty: {})",
            );
        }
    }
}

/// A `${name}` inside is only known at run time: such texts are not compiled now.
fn has_placeholder(text: &str) -> bool {
    text.contains("${")
}

fn regex_tolerance(check: &mut Checker, map: &Map<String, Value>, path: &str) {
    let pattern_path = join_key(path, "pattern");
    match map.get("pattern") {
        None | Some(Value::Null) => check.error(
            &pattern_path,
            "a regex tolerance needs a pattern: the regular expression to search the output for",
        ),
        Some(Value::String(pattern)) if has_placeholder(pattern) => {}
        Some(Value::String(pattern)) => {
            if let Err(e) = crate::pyregex::PyRegex::new(pattern) {
                check.error(
                    &pattern_path,
                    format!("not a valid regular expression: {e}"),
                );
            }
        }
        Some(other) => check.error(
            &pattern_path,
            format!("the pattern must be text, not {}", kind_of(other)),
        ),
    }
}

fn jsonpath_tolerance(check: &mut Checker, map: &Map<String, Value>, path: &str) {
    let path_path = join_key(path, "path");
    match map.get("path") {
        Some(Value::String(p)) if has_placeholder(p) => {}
        Some(Value::String(p)) if !p.trim().is_empty() => {
            if let Err(e) = crate::tolerance::compile_jsonpath(p) {
                check.error(
                    &path_path,
                    format!("path '{p}' is not a valid JSONPath: {e}"),
                );
            }
        }
        None | Some(Value::Null | Value::String(_)) => check.error(
            &path_path,
            "a jsonpath tolerance needs a path, such as $.status or $.items[*].name",
        ),
        Some(other) => check.error(
            &path_path,
            format!("the JSONPath must be text, not {}", kind_of(other)),
        ),
    }
    if let Some(count) = map.get("count") {
        if !count.is_u64() {
            check.error(
                &join_key(path, "count"),
                format!(
                    "count must be a whole number (0 or more), not {}",
                    show(count)
                ),
            );
        }
    }
}

fn range_tolerance(check: &mut Checker, map: &Map<String, Value>, path: &str) {
    let range_path = join_key(path, "range");
    let bounds = match map.get("range") {
        Some(Value::Array(bounds)) if bounds.len() == 2 => bounds,
        _ => {
            check.error(
                &range_path,
                "a range tolerance needs `range: [lower, upper]`, a list of two numbers",
            );
            return;
        }
    };
    let mut numbers = Vec::new();
    for (i, (bound, which)) in bounds.iter().zip(["lower", "upper"]).enumerate() {
        match bound.as_f64() {
            Some(n) => numbers.push(n),
            None => check.error(
                &format!("{range_path}[{i}]"),
                format!(
                    "the {which} bound of the range must be a number, not {}",
                    show(bound)
                ),
            ),
        }
    }
    if let [lower, upper] = numbers.as_slice() {
        if lower > upper {
            check.warn(
                &range_path,
                format!(
                    "the lower bound {lower} is above the upper bound {upper}: no value can \
                     ever be in this range"
                ),
            );
        }
    }
}
