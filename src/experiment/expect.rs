//! The `expect` dialect: checks written under `expect:` on a provider or an activity (the guide's
//! experiments use it; Chaos Toolkit ignores it). chaosdeck holds the activity to them.
//!
//! `expect` is a list of checks that must all hold (a single mapping counts as a list of one):
//! - `status: 200` or `status: [503, 500]` — the output's `status` (http status or exit code) is
//!   one of these whole numbers;
//! - `type: string` + `pattern: REGEX` — the regex is found (unanchored, `$` also before a final
//!   newline) in a process's `stdout` or an http `body` (a JSON body is searched as JSON text);
//!   `type` may be left out when `pattern` is given;
//! - `json: "$.path"` + `operator` + `value` — the first value the path (jsonpath2 dialect)
//!   matches in the http body or in the process stdout, read as JSON, compares with `value`.
//!   `operator` is one of eq, ne, gt, ge, lt, le, contains and defaults to `eq`; `value` is
//!   required. `contains` is a substring test on text, membership in a list, a key of a mapping.
//!   A path that matches nothing fails the check.

use crate::pyregex::PyRegex;
use crate::pyvalue::{py_cmp, py_contains, py_eq};
use crate::tolerance::{compile_jsonpath, kind, show, Jsonpath2};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::cmp::Ordering;

const OPERATORS: [&str; 7] = ["eq", "ne", "gt", "ge", "lt", "le", "contains"];
const KINDS: &str =
    "`status`, `type: string` with `pattern`, or `json` with `operator` and `value`";

/// The checks of an `expect` value with their sub-paths (`[1]`, or `` for a single mapping).
fn items(expect: &Value) -> Option<Vec<(String, &Value)>> {
    match expect {
        Value::Array(list) => Some(
            list.iter()
                .enumerate()
                .map(|(i, v)| (format!("[{i}]"), v))
                .collect(),
        ),
        Value::Object(_) => Some(vec![(String::new(), expect)]),
        _ => None,
    }
}

/// Problems in an `expect` list, each as (sub-path such as `[1].operator`, message).
pub fn validate_expect(expect: &Value) -> Vec<(String, String)> {
    let Some(items) = items(expect) else {
        let message = format!(
            "expect must be a list of checks ({KINDS}), not {}",
            kind(expect)
        );
        return vec![(String::new(), message)];
    };
    let mut found = Vec::new();
    for (at, item) in items {
        for (sub, message) in problems(item) {
            found.push((format!("{at}{sub}"), message));
        }
    }
    found
}

/// What kind of check a mapping is, from its keys.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Status,
    Pattern,
    Json,
}

fn kind_of(map: &Map<String, Value>) -> Result<Kind, String> {
    let mut kinds = Vec::new();
    if map.contains_key("status") {
        kinds.push((Kind::Status, "`status`"));
    }
    if map.contains_key("pattern") || map.contains_key("type") {
        kinds.push((Kind::Pattern, "`type: string`/`pattern`"));
    }
    if map.contains_key("json") {
        kinds.push((Kind::Json, "`json`"));
    }
    match kinds.as_slice() {
        [(kind, _)] => Ok(*kind),
        [] => {
            let keys: Vec<&str> = map.keys().map(String::as_str).collect();
            Err(format!(
                "a check needs {KINDS}; found keys: {}",
                keys.join(", ")
            ))
        }
        several => {
            let names: Vec<&str> = several.iter().map(|(_, name)| *name).collect();
            Err(format!(
                "a check is only one of {KINDS}; this one mixes {}",
                names.join(" and ")
            ))
        }
    }
}

/// Problems of one check, as (sub-path, message).
fn problems(item: &Value) -> Vec<(String, String)> {
    let Value::Object(map) = item else {
        let message = format!(
            "each check is a mapping such as `status: 200`, not {} ({})",
            kind(item),
            show(item)
        );
        return vec![(String::new(), message)];
    };
    let kind = match kind_of(map) {
        Ok(kind) => kind,
        Err(message) => return vec![(String::new(), message)],
    };
    let (allowed, mut found): (&[&str], _) = match kind {
        Kind::Status => (&["status"], status_problems(map)),
        Kind::Pattern => (&["type", "pattern"], pattern_problems(map)),
        Kind::Json => (&["json", "operator", "value"], json_problems(map)),
    };
    for key in map.keys().filter(|k| !allowed.contains(&k.as_str())) {
        let message = format!(
            "`{key}` does not belong in this check (it takes {})",
            allowed.join(", ")
        );
        found.push((format!(".{key}"), message));
    }
    found
}

fn is_whole_number(value: &Value) -> bool {
    matches!(value, Value::Number(n) if !n.is_f64())
}

fn status_problems(map: &Map<String, Value>) -> Vec<(String, String)> {
    let wrong = |value: &Value| {
        format!(
            "a status is a whole number such as 200, not {}",
            show(value)
        )
    };
    match map.get("status") {
        Some(Value::Array(list)) if list.is_empty() => {
            vec![(
                ".status".into(),
                "the status list is empty, so nothing could match".into(),
            )]
        }
        Some(Value::Array(list)) => list
            .iter()
            .enumerate()
            .filter(|(_, v)| !is_whole_number(v))
            .map(|(i, v)| (format!(".status[{i}]"), wrong(v)))
            .collect(),
        Some(value) if !is_whole_number(value) => vec![(".status".into(), wrong(value))],
        _ => Vec::new(),
    }
}

fn pattern_problems(map: &Map<String, Value>) -> Vec<(String, String)> {
    let mut found = Vec::new();
    if let Some(kind) = map.get("type").filter(|t| t.as_str() != Some("string")) {
        let message = format!(
            "unknown check type {}: the only type is `string` (with `pattern`)",
            show(kind)
        );
        found.push((".type".into(), message));
    }
    match map.get("pattern") {
        None => found.push((
            String::new(),
            "a `type: string` check needs a `pattern` to search for".into(),
        )),
        Some(Value::String(pattern)) => {
            if let Err(e) = PyRegex::new(pattern) {
                found.push((".pattern".into(), e));
            }
        }
        Some(other) => {
            let message = format!("the pattern must be text (a regex), not {}", kind(other));
            found.push((".pattern".into(), message));
        }
    }
    found
}

fn json_problems(map: &Map<String, Value>) -> Vec<(String, String)> {
    let mut found = Vec::new();
    match map.get("json") {
        Some(Value::String(path)) => {
            if let Err(message) = compile_jsonpath(path) {
                found.push((".json".into(), message));
            }
        }
        other => {
            let what = other.map(kind).unwrap_or("nothing");
            let message = format!("`json` holds a JSONPath such as \"$.status\", not {what}");
            found.push((".json".into(), message));
        }
    }
    let operator = match map.get("operator") {
        None => "eq",
        Some(Value::String(op)) if OPERATORS.contains(&op.as_str()) => op.as_str(),
        Some(other) => {
            let message = format!(
                "unknown operator {}: use one of {}",
                show(other),
                OPERATORS.join(", ")
            );
            found.push((".operator".into(), message));
            return found;
        }
    };
    match map.get("value") {
        None => found.push((
            String::new(),
            "a `json` check needs a `value` to compare with".into(),
        )),
        Some(value @ (Value::Array(_) | Value::Object(_) | Value::Null | Value::Bool(_)))
            if ["gt", "ge", "lt", "le"].contains(&operator) =>
        {
            let message = format!("`{operator}` orders numbers or text, not {}", kind(value));
            found.push((".value".into(), message));
        }
        Some(_) => {}
    }
    found
}

/// Checks an output against an `expect` list: Ok(detail of what held) or Err(the comparison that
/// failed, e.g. "status 503 not in [200]"; several failures are joined with "; ").
pub fn check_expect(expect: &Value, output: &Value) -> Result<String, String> {
    let Some(items) = items(expect) else {
        return Err(format!(
            "expect must be a list of checks, not {}",
            kind(expect)
        ));
    };
    if items.is_empty() {
        return Ok("no expectations to check".into());
    }
    let (mut held, mut failed) = (Vec::new(), Vec::new());
    for (at, item) in items {
        let outcome = match (problems(item).into_iter().next(), item) {
            (Some((sub, message)), _) => Err(format!("expect{at}{sub}: {message}")),
            (None, Value::Object(map)) => run_check(map, output),
            (None, _) => Err(format!("expect{at}: not a check")),
        };
        match outcome {
            Ok(detail) => held.push(detail),
            Err(detail) => failed.push(detail),
        }
    }
    if failed.is_empty() {
        Ok(held.join("; "))
    } else {
        Err(failed.join("; "))
    }
}

fn run_check(map: &Map<String, Value>, output: &Value) -> Result<String, String> {
    match kind_of(map)? {
        Kind::Status => check_status(map.get("status").unwrap_or(&Value::Null), output),
        Kind::Pattern => check_pattern(
            map.get("pattern").and_then(Value::as_str).unwrap_or(""),
            output,
        ),
        Kind::Json => {
            let path = map.get("json").and_then(Value::as_str).unwrap_or("");
            let operator = map.get("operator").and_then(Value::as_str).unwrap_or("eq");
            check_json(
                path,
                operator,
                map.get("value").unwrap_or(&Value::Null),
                output,
            )
        }
    }
}

fn check_status(expected: &Value, output: &Value) -> Result<String, String> {
    let expected = match expected {
        Value::Array(list) => list.clone(),
        one => vec![one.clone()],
    };
    let list = show(&Value::Array(expected.clone()));
    match output.as_object().and_then(|fields| fields.get("status")) {
        Some(status) if py_contains(&expected, status) => {
            Ok(format!("status {} in {list}", show(status)))
        }
        Some(status) => Err(format!("status {} not in {list}", show(status))),
        None => Err(format!(
            "the output has no status to compare with {list} (it is {}: {})",
            kind(output),
            show(output)
        )),
    }
}

/// The text a pattern searches: process stdout, http body (JSON bodies as JSON text), or the
/// output itself when it is text.
fn searchable(output: &Value) -> Option<(Cow<'_, str>, &'static str)> {
    let fields = match output {
        Value::String(text) => return Some((Cow::Borrowed(text), "output")),
        Value::Object(fields) => fields,
        _ => return None,
    };
    match (fields.get("stdout"), fields.get("body")) {
        (Some(Value::String(stdout)), _) => Some((Cow::Borrowed(stdout), "stdout")),
        (_, Some(Value::String(body))) => Some((Cow::Borrowed(body), "body")),
        (_, Some(body)) if !body.is_null() => Some((
            Cow::Owned(serde_json::to_string(body).unwrap_or_default()),
            "body",
        )),
        _ => None,
    }
}

fn check_pattern(pattern: &str, output: &Value) -> Result<String, String> {
    let rx = PyRegex::new(pattern)?;
    let Some((text, place)) = searchable(output) else {
        return Err(format!(
            "pattern '{pattern}': the output has no stdout or body to search (it is {})",
            kind(output)
        ));
    };
    if rx.search(&text)? {
        Ok(format!("pattern '{pattern}' found in {place}"))
    } else {
        let shown = show(&Value::String(text.into_owned()));
        Err(format!(
            "pattern '{pattern}' not found in {place} ({shown})"
        ))
    }
}

/// The JSON document a `json` check reads: the http body, the process stdout (parsed), or the
/// output itself.
fn document(output: &Value) -> Result<(Cow<'_, Value>, &'static str), String> {
    let fields = match output {
        Value::Object(fields) if fields.contains_key("body") || fields.contains_key("stdout") => {
            fields
        }
        other => return Ok((Cow::Borrowed(other), "output")),
    };
    let (value, place) = match fields.get("body") {
        Some(body) => (body, "body"),
        None => (fields.get("stdout").unwrap_or(&Value::Null), "stdout"),
    };
    match value {
        Value::String(text) => serde_json::from_str(text)
            .map(|parsed| (Cow::Owned(parsed), place))
            .map_err(|_| format!("the {place} is not JSON ({})", show(value))),
        other => Ok((Cow::Borrowed(other), place)),
    }
}

fn check_json(
    path: &str,
    operator: &str,
    expected: &Value,
    output: &Value,
) -> Result<String, String> {
    let compiled = Jsonpath2::parse(path)?;
    let (doc, place) = document(output).map_err(|e| format!("{path}: {e}"))?;
    let Some(actual) = compiled.query(&doc).into_iter().next() else {
        return Err(format!("{path} matched nothing in the {place}"));
    };
    let (shown, wanted) = (show(actual), show(expected));
    let order = |accept: &[Ordering]| match py_cmp(actual, expected) {
        Some(order) => Ok(accept.contains(&order)),
        None => Err(format!(
            "{path} is {shown}, which cannot be ordered against {wanted} ({} vs {})",
            kind(actual),
            kind(expected)
        )),
    };
    let held = match operator {
        "eq" => py_eq(actual, expected),
        "ne" => !py_eq(actual, expected),
        "gt" => order(&[Ordering::Greater])?,
        "ge" => order(&[Ordering::Greater, Ordering::Equal])?,
        "lt" => order(&[Ordering::Less])?,
        "le" => order(&[Ordering::Less, Ordering::Equal])?,
        "contains" => {
            contains(actual, expected).map_err(|why| format!("{path} is {shown}: {why}"))?
        }
        other => return Err(format!("unknown operator '{other}'")),
    };
    if held {
        Ok(format!("{path} is {shown} ({operator} {wanted})"))
    } else {
        Err(format!("{path} is {shown}, expected {operator} {wanted}"))
    }
}

/// `contains`: substring of text, member of a list, key of a mapping.
fn contains(actual: &Value, wanted: &Value) -> Result<bool, String> {
    match (actual, wanted) {
        (Value::String(text), Value::String(part)) => Ok(text.contains(part.as_str())),
        (Value::String(_), other) => Err(format!("text cannot contain {}", kind(other))),
        (Value::Array(items), _) => Ok(py_contains(items, wanted)),
        (Value::Object(map), Value::String(key)) => Ok(map.contains_key(key)),
        (Value::Object(_), _) => Ok(false),
        (other, _) => Err(format!("{} cannot contain anything", kind(other))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn http(status: u16, body: Value) -> Value {
        json!({"status": status, "headers": {"Content-Type": "application/json"}, "body": body})
    }

    fn process(status: i32, stdout: &str) -> Value {
        json!({"status": status, "stdout": stdout, "stderr": ""})
    }

    fn at(expect: Value) -> Vec<String> {
        validate_expect(&expect)
            .into_iter()
            .map(|(path, _)| path)
            .collect()
    }

    #[test]
    fn the_guides_forms_are_valid() {
        for expect in [
            json!([{"status": 200}]),
            json!([{"status": [503, 500]}]),
            json!([{"status": [200, 401, 422]}]),
            json!([{"type": "string", "pattern": "[0-9a-f]+"}]),
            json!([{"json": "$.db.ok", "operator": "eq", "value": true}]),
            json!([{"json": "$.items[*][?(@.up = true)].name", "value": "db"}]),
            json!([{"json": "$.latency", "operator": "lt", "value": 200}, {"status": 200}]),
            json!([{"pattern": "ready"}]),
            json!({"status": 200}),
            json!([]),
        ] {
            assert_eq!(validate_expect(&expect), Vec::new(), "{expect}");
        }
    }

    #[test]
    fn malformed_expectations_are_located() {
        assert_eq!(at(json!("200")), [""]);
        assert_eq!(at(json!([200])), ["[0]"]);
        assert_eq!(
            at(json!([{"status": 200}, {"status": "200"}])),
            ["[1].status"]
        );
        assert_eq!(at(json!([{"status": 200.5}])), ["[0].status"]);
        assert_eq!(at(json!([{"status": true}])), ["[0].status"]);
        assert_eq!(at(json!([{"status": []}])), ["[0].status"]);
        assert_eq!(at(json!([{"status": [200, "x", 500]}])), ["[0].status[1]"]);
        assert_eq!(at(json!([{"type": "json", "pattern": "x"}])), ["[0].type"]);
        assert_eq!(at(json!([{"type": "string"}])), ["[0]"]);
        assert_eq!(
            at(json!([{"type": "string", "pattern": "[0-9"}])),
            ["[0].pattern"]
        );
        assert_eq!(
            at(json!([{"type": "string", "pattern": 5}])),
            ["[0].pattern"]
        );
        assert_eq!(at(json!([{"json": "$.a[", "value": 1}])), ["[0].json"]);
        assert_eq!(at(json!([{"json": 3, "value": 1}])), ["[0].json"]);
        assert_eq!(
            at(json!([{"json": "$.a", "operator": "equals", "value": 1}])),
            ["[0].operator"]
        );
        assert_eq!(at(json!([{"json": "$.a"}])), ["[0]"]);
        assert_eq!(
            at(json!([{"json": "$.a", "operator": "gt", "value": [1]}])),
            ["[0].value"]
        );
        assert_eq!(
            at(json!([{"status": 200, "json": "$.a", "value": 1}])),
            ["[0]"]
        );
        assert_eq!(at(json!([{"statuss": 200}])), ["[0]"]);
        assert_eq!(at(json!([{"status": 200, "timeout": 5}])), ["[0].timeout"]);
        assert_eq!(
            at(json!({"json": "$.a", "operater": "eq", "value": 1})),
            [".operater"]
        );
    }

    #[test]
    fn messages_say_what_to_write() {
        let problems = validate_expect(&json!([{"json": "$.a", "operator": "equals", "value": 1}]));
        assert!(
            problems[0].1.contains("eq, ne, gt, ge, lt, le, contains"),
            "{problems:?}"
        );
        let problems = validate_expect(&json!([{"type": "string", "pattern": "[0-9"}]));
        assert!(problems[0].1.contains("'[0-9'"), "{problems:?}");
        assert!(problems[0].1.contains("character class"), "{problems:?}");
    }

    #[test]
    fn status_on_an_http_output() {
        let expect = json!([{"status": 200}]);
        assert_eq!(
            check_expect(&expect, &http(200, json!({}))),
            Ok("status 200 in [200]".into())
        );
        assert_eq!(
            check_expect(&expect, &http(503, json!({}))),
            Err("status 503 not in [200]".into())
        );
    }

    #[test]
    fn status_list_accepts_any_of_them() {
        let expect = json!([{"status": [503, 500]}]);
        assert!(check_expect(&expect, &http(503, json!(""))).is_ok());
        assert!(check_expect(&expect, &http(500, json!(""))).is_ok());
        assert_eq!(
            check_expect(&expect, &http(200, json!(""))),
            Err("status 200 not in [503, 500]".into())
        );
        assert!(check_expect(&json!({"status": 0}), &process(0, "")).is_ok());
        assert!(check_expect(&json!({"status": 0}), &process(1, "")).is_err());
    }

    #[test]
    fn status_needs_a_status_in_the_output() {
        let error = check_expect(&json!([{"status": 200}]), &json!("done")).unwrap_err();
        assert!(error.contains("no status"), "{error}");
    }

    #[test]
    fn pattern_on_a_process_printing_a_container_id() {
        let expect = json!([{"type": "string", "pattern": "[0-9a-f]+"}]);
        let printed = process(0, "4f9c2a1be7d3\n");
        assert_eq!(
            check_expect(&expect, &printed),
            Ok("pattern '[0-9a-f]+' found in stdout".into())
        );
        assert_eq!(
            check_expect(&expect, &process(0, "")),
            Err("pattern '[0-9a-f]+' not found in stdout (\"\")".into())
        );
        let anchored = json!([{"type": "string", "pattern": "^[0-9a-f]{12}$"}]);
        assert!(check_expect(&anchored, &printed).is_ok());
    }

    #[test]
    fn pattern_searches_http_bodies_as_text_or_json_text() {
        let expect = json!([{"pattern": "healthy"}]);
        assert!(check_expect(&expect, &http(200, json!("all healthy"))).is_ok());
        assert!(check_expect(&expect, &http(200, json!({"state": "healthy"}))).is_ok());
        assert!(check_expect(&expect, &http(200, json!({"state": "down"}))).is_err());
        assert!(check_expect(
            &json!([{"pattern": "\"state\": ?\"up\""}]),
            &http(200, json!({"state": "up"}))
        )
        .is_ok());
        assert!(check_expect(&expect, &json!(42)).is_err());
    }

    #[test]
    fn long_output_is_cut_in_messages() {
        let stdout = "ü".repeat(500);
        let error = check_expect(&json!([{"pattern": "x"}]), &process(0, &stdout)).unwrap_err();
        assert!(error.chars().count() < 140, "{error}");
        assert!(error.contains('…'), "{error}");
    }

    #[test]
    fn json_compares_the_first_match_of_the_body() {
        let body =
            json!({"db": {"ok": false, "latency": 120}, "tags": ["a", "b"], "name": "api-1"});
        let check = |json_path: &str, operator: &str, value: Value| {
            let expect = json!([{"json": json_path, "operator": operator, "value": value}]);
            check_expect(&expect, &http(200, body.clone()))
        };
        assert_eq!(
            check("$.db.ok", "eq", json!(true)),
            Err("$.db.ok is false, expected eq true".into())
        );
        assert_eq!(
            check("$.db.ok", "eq", json!(false)),
            Ok("$.db.ok is false (eq false)".into())
        );
        assert!(check("$.db.ok", "ne", json!(true)).is_ok());
        assert!(check("$.db.latency", "lt", json!(200)).is_ok());
        assert!(check("$.db.latency", "le", json!(120)).is_ok());
        assert!(check("$.db.latency", "gt", json!(120)).is_err());
        assert!(check("$.db.latency", "ge", json!(120.0)).is_ok());
        assert!(check("$.tags", "contains", json!("b")).is_ok());
        assert!(check("$.tags", "contains", json!("c")).is_err());
        assert!(check("$.db", "contains", json!("latency")).is_ok());
        assert!(check("$.name", "contains", json!("api")).is_ok());
        assert!(check("$.tags[*]", "eq", json!("a")).is_ok());
        let error = check("$.missing", "eq", json!(1)).unwrap_err();
        assert!(error.contains("matched nothing"), "{error}");
        let error = check("$.name", "gt", json!(3)).unwrap_err();
        assert!(error.contains("cannot be ordered"), "{error}");
        assert!(check("$.db.latency", "contains", json!(1)).is_err());
        assert!(check("$.name", "contains", json!(1)).is_err());
    }

    #[test]
    fn json_reads_text_bodies_and_stdout_as_json() {
        let expect = json!([{"json": "$.status", "value": "up"}]);
        assert!(check_expect(&expect, &http(200, json!("{\"status\": \"up\"}"))).is_ok());
        assert!(check_expect(&expect, &process(0, "{\"status\": \"up\"}\n")).is_ok());
        let error = check_expect(&expect, &process(0, "up")).unwrap_err();
        assert!(error.contains("stdout is not JSON"), "{error}");
        assert!(check_expect(&expect, &json!({"status": "up"})).is_ok());
        // the default operator is eq, with Python equality
        let truth = json!([{"json": "$.ok", "value": 1}]);
        assert!(check_expect(&truth, &http(200, json!({"ok": true}))).is_ok());
    }

    #[test]
    fn all_checks_must_hold_and_every_failure_is_reported() {
        let expect = json!([{"status": 200}, {"json": "$.ok", "value": true}]);
        assert_eq!(
            check_expect(&expect, &http(200, json!({"ok": true}))),
            Ok("status 200 in [200]; $.ok is true (eq true)".into())
        );
        assert_eq!(
            check_expect(&expect, &http(500, json!({"ok": false}))),
            Err("status 500 not in [200]; $.ok is false, expected eq true".into())
        );
        assert!(check_expect(&json!([]), &http(500, json!(""))).is_ok());
    }

    #[test]
    fn malformed_expectations_fail_without_panicking() {
        for expect in [
            json!("x"),
            json!([1]),
            json!([{"status": "x"}]),
            json!([{"json": "$["}]),
        ] {
            assert!(
                check_expect(&expect, &http(200, json!(""))).is_err(),
                "{expect}"
            );
        }
    }
}
