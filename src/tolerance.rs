//! Tolerance checks: whether a hypothesis probe's output is within its tolerance, judged the way
//! Chaos Toolkit judges it (ctk-reference §3), with Python's comparison rules. The JSONPath
//! dialect of `jsonpath` tolerances (jsonpath2) is [`Jsonpath2`], shared with `expect`.

use crate::experiment::substitute::Vars;
use crate::pyregex::PyRegex;
use crate::pyvalue::{as_number, py_cmp, py_contains, py_eq};
use serde_json::{Map, Value};
use std::cmp::Ordering;

mod jsonpath;
pub use jsonpath::{compile_jsonpath, Jsonpath2};

/// The outcome of judging a probe's output against its tolerance.
#[derive(Debug, Clone, PartialEq)]
pub enum Judgement {
    /// Decided: whether the tolerance is met, and the comparison made.
    Decided { met: bool, detail: String },
    /// The tolerance is itself a probe: run this activity (its `provider.arguments.value` holds
    /// the output) and the tolerance is met when its output is truthy.
    RunProbe(Value),
    /// The comparison cannot be made (Chaos Toolkit crashes here): not met, with the reason.
    Error(String),
}

fn decided(met: bool, detail: String) -> Judgement {
    Judgement::Decided { met, detail }
}

/// Judges `output` against `tolerance` as Chaos Toolkit does (§3); `vars` resolve `${name}` in
/// string tolerances, regex patterns and jsonpath paths and expectations. Details and errors
/// have secret values masked, since they are shown and stored.
pub fn judge(tolerance: &Value, output: &Value, vars: &Vars) -> Judgement {
    let judgement = match tolerance {
        // §3 str: substituted first; exactly `${x}` takes x's type and that type's rule applies.
        Value::String(text) => judge_resolved(&vars.substitute_str(text), output, vars),
        other => judge_resolved(other, output, vars),
    };
    match judgement {
        Judgement::Decided { met, detail } => decided(met, vars.mask(&detail)),
        Judgement::Error(message) => Judgement::Error(vars.mask(&message)),
        run => run,
    }
}

fn judge_resolved(tolerance: &Value, output: &Value, vars: &Vars) -> Judgement {
    match tolerance {
        Value::Bool(_) | Value::String(_) => equality("output", output, tolerance),
        Value::Number(n) if !n.is_f64() => match status_of(output) {
            Some(status) => equality("status", status, tolerance),
            None => equality("output", output, tolerance),
        },
        Value::Array(items) => judge_list(items, output),
        Value::Object(map) => match map.get("type").and_then(Value::as_str) {
            Some("probe") => judge_probe(map, output),
            Some("regex") => judge_regex(map, output, vars),
            Some("jsonpath") => judge_jsonpath(map, output, vars),
            Some("range") => judge_range(map, output),
            _ => decided(
                false,
                format!("tolerance type {} is not supported", show(&map_type(map))),
            ),
        },
        // Chaos Toolkit has no rule for floats and null: the check returns nothing, not met.
        other => decided(
            false,
            format!(
                "no tolerance rule for {} ({}): never met",
                kind(other),
                show(other)
            ),
        ),
    }
}

fn map_type(map: &Map<String, Value>) -> Value {
    map.get("type").cloned().unwrap_or(Value::Null)
}

fn equality(what: &str, actual: &Value, expected: &Value) -> Judgement {
    let met = py_eq(actual, expected);
    let op = if met { "==" } else { "!=" };
    decided(
        met,
        format!("{what} {} {op} {}", show(actual), show(expected)),
    )
}

fn status_of(output: &Value) -> Option<&Value> {
    output.as_object().and_then(|fields| fields.get("status"))
}

/// §3 list: status membership for http/process outputs, an inclusive range for two values,
/// membership otherwise.
fn judge_list(items: &[Value], output: &Value) -> Judgement {
    let list = show(&Value::Array(items.to_vec()));
    if let Some(status) = status_of(output) {
        let met = py_contains(items, status);
        let op = if met { "in" } else { "not in" };
        return decided(met, format!("status {} {op} {list}", show(status)));
    }
    if let [low, high] = items {
        let above_low = match py_cmp(low, output) {
            Some(order) => order != Ordering::Greater,
            None => return incomparable(low, output),
        };
        let met = above_low
            && match py_cmp(output, high) {
                Some(order) => order != Ordering::Greater,
                None => return incomparable(output, high),
            };
        let op = if met { "in" } else { "not in" };
        return decided(met, format!("output {} {op} range {list}", show(output)));
    }
    let met = py_contains(items, output);
    let op = if met { "in" } else { "not in" };
    decided(met, format!("output {} {op} {list}", show(output)))
}

fn incomparable(a: &Value, b: &Value) -> Judgement {
    Judgement::Error(format!(
        "cannot order {} ({}) against {} ({}) for the tolerance range",
        kind(a),
        show(a),
        kind(b),
        show(b)
    ))
}

/// §3 dict `type: probe`: the output goes in as the argument `value`.
fn judge_probe(map: &Map<String, Value>, output: &Value) -> Judgement {
    let name = map
        .get("name")
        .map(show)
        .unwrap_or_else(|| "(unnamed)".into());
    let mut activity = map.clone();
    let arguments = match activity.get_mut("provider") {
        Some(Value::Object(provider)) => provider.get_mut("arguments"),
        Some(other) => {
            let found = kind(other);
            return Judgement::Error(format!("tolerance probe {name}: provider is {found}"));
        }
        None => return Judgement::Error(format!("tolerance probe {name} has no provider")),
    };
    match arguments {
        Some(Value::Object(arguments)) => {
            arguments.insert("value".into(), output.clone());
            Judgement::RunProbe(Value::Object(activity))
        }
        Some(other) => Judgement::Error(format!(
            "tolerance probe {name}: provider arguments are {}, so the output cannot be \
             passed as `value`",
            kind(other)
        )),
        None => Judgement::Error(format!(
            "tolerance probe {name} has no provider arguments: the output is passed as the \
             argument `value`, and Chaos Toolkit crashes without them (add `arguments: {{}}`)"
        )),
    }
}

/// Applies the optional `target` as Chaos Toolkit does (`value.get(target, value)`): the named
/// field when present, the whole output otherwise; an output that is not a mapping crashes it.
fn pick_target<'a>(
    map: &Map<String, Value>,
    output: &'a Value,
) -> Result<(&'a Value, String), Judgement> {
    let whole = Ok((output, "output".to_string()));
    let Some(target) = map.get("target").filter(|t| truthy(t)) else {
        return whole;
    };
    match (output, target) {
        (_, Value::Array(_) | Value::Object(_)) => Err(Judgement::Error(format!(
            "tolerance target {} is not a field name",
            show(target)
        ))),
        (Value::Object(fields), Value::String(name)) => match fields.get(name) {
            Some(field) => Ok((field, name.clone())),
            None => whole,
        },
        (Value::Object(_), _) => whole,
        (other, _) => Err(Judgement::Error(format!(
            "tolerance target {} cannot be read: the output is {}, not a mapping",
            show(target),
            kind(other)
        ))),
    }
}

/// §3 dict `type: regex`: unanchored search of the (substituted) pattern.
fn judge_regex(map: &Map<String, Value>, output: &Value, vars: &Vars) -> Judgement {
    let pattern = match map.get("pattern") {
        Some(Value::String(text)) => vars.substitute_str(text),
        other => other.cloned().unwrap_or(Value::Null),
    };
    let Value::String(pattern) = pattern else {
        let found = kind(&pattern);
        return Judgement::Error(format!("regex tolerance pattern is {found}, not a string"));
    };
    let rx = match PyRegex::new(&pattern) {
        Ok(rx) => rx,
        Err(e) => return Judgement::Error(format!("regex {e}")),
    };
    let (subject, place) = match pick_target(map, output) {
        Ok(picked) => picked,
        Err(error) => return error,
    };
    let Value::String(text) = subject else {
        return Judgement::Error(format!(
            "regex tolerance needs text to search, but the {place} is {}",
            kind(subject)
        ));
    };
    let found = match rx.search(text) {
        Ok(found) => found,
        Err(e) => return Judgement::Error(format!("regex {e}")),
    };
    if found {
        decided(true, format!("regex '{pattern}' found in {place}"))
    } else {
        decided(
            false,
            format!("regex '{pattern}' not found in {place} ({})", show(subject)),
        )
    }
}

/// §3 dict `type: jsonpath`: all matches, then `count` and `expect`.
fn judge_jsonpath(map: &Map<String, Value>, output: &Value, vars: &Vars) -> Judgement {
    let path = match map.get("path") {
        Some(Value::String(text)) => vars.substitute_str(text),
        other => other.cloned().unwrap_or(Value::Null),
    };
    let Value::String(path) = path else {
        let found = kind(&path);
        return Judgement::Error(format!("jsonpath tolerance path is {found}, not a string"));
    };
    let compiled = match Jsonpath2::parse(&path) {
        Ok(compiled) => compiled,
        Err(e) => return Judgement::Error(e),
    };
    let (subject, _) = match pick_target(map, output) {
        Ok(picked) => picked,
        Err(error) => return error,
    };
    let parsed = match subject {
        Value::String(text) => serde_json::from_str::<Value>(text).ok(),
        _ => None,
    };
    let values: Vec<Value> = compiled
        .query(parsed.as_ref().unwrap_or(subject))
        .into_iter()
        .cloned()
        .collect();
    let found = show(&Value::Array(values.clone()));
    if let Some(expect) = map.get("expect") {
        let expect = vars.substitute(expect);
        let expected = match expect {
            Value::Array(items) => items,
            single => vec![single],
        };
        let met = values.len() == expected.len()
            && values.iter().zip(&expected).all(|(v, e)| py_eq(v, e));
        let expected = show(&Value::Array(expected));
        let detail = match met {
            true => format!("jsonpath {path} matched {found} as expected"),
            false => format!("jsonpath {path} matched {found}, expected {expected}"),
        };
        return decided(met, detail);
    }
    match map.get("count").filter(|c| !c.is_null()) {
        Some(count) => {
            let met = py_eq(&Value::from(values.len()), count);
            let n = values.len();
            let detail = match met {
                true => format!("jsonpath {path} matched {n} value(s) as expected"),
                false => format!(
                    "jsonpath {path} matched {n} value(s), expected {}",
                    show(count)
                ),
            };
            decided(met, detail)
        }
        None if values.is_empty() => decided(false, format!("jsonpath {path} matched nothing")),
        None => decided(true, format!("jsonpath {path} matched {found}")),
    }
}

/// §3 dict `type: range`: the value read as a decimal, inclusive bounds.
fn judge_range(map: &Map<String, Value>, output: &Value) -> Judgement {
    let (subject, place) = match pick_target(map, output) {
        Ok(picked) => picked,
        Err(error) => return error,
    };
    let value = match to_decimal(subject) {
        Ok(Some(value)) => value,
        Ok(None) => return decided(false, format!("{place} {} is not a number", show(subject))),
        Err(found) => {
            return Judgement::Error(format!("range tolerance cannot read {found} as a number"))
        }
    };
    let bounds = match map.get("range") {
        Some(Value::Array(bounds)) if bounds.len() >= 2 => &bounds[..2],
        other => {
            let found = other.map(show).unwrap_or_else(|| "nothing".into());
            return Judgement::Error(format!("range tolerance needs two bounds, found {found}"));
        }
    };
    let (Ok(Some(low)), Ok(Some(high))) = (to_decimal(&bounds[0]), to_decimal(&bounds[1])) else {
        let found = show(&Value::Array(bounds.to_vec()));
        return Judgement::Error(format!("range tolerance bounds {found} are not numbers"));
    };
    if [low, high, value].iter().any(|n| n.is_nan()) {
        return Judgement::Error("range tolerance cannot order NaN".into());
    }
    let met = low <= value && value <= high;
    let op = if met { "in" } else { "not in" };
    let range = show(&Value::Array(bounds.to_vec()));
    decided(met, format!("{place} {} {op} range {range}", show(subject)))
}

/// Python's `Decimal(value)`: Ok(None) for a string that is not a number, Err(type name) for
/// types Decimal refuses.
fn to_decimal(value: &Value) -> Result<Option<f64>, &'static str> {
    match value {
        Value::String(text) => Ok(parse_decimal(text.trim())),
        Value::Bool(_) | Value::Number(_) => Ok(as_number(value)),
        other => Err(kind(other)),
    }
}

fn parse_decimal(text: &str) -> Option<f64> {
    let chars: Vec<char> = text.chars().collect();
    let underscores_ok = chars.iter().enumerate().all(|(i, c)| {
        *c != '_'
            || (i > 0
                && chars[i - 1].is_ascii_digit()
                && chars.get(i + 1).is_some_and(char::is_ascii_digit))
    });
    if !underscores_ok {
        return None;
    }
    let plain: String = chars.into_iter().filter(|c| *c != '_').collect();
    plain.parse::<f64>().ok()
}

/// What a value is, in plain words with its article ("a number", "a mapping", "null").
pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// Python truthiness: empty strings, lists and mappings, zero, `false` and `null` are false.
pub fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => !map.is_empty(),
    }
}

/// A value as one-line JSON (`[0, 2]`, `{"a": 1}`), cut to about 80 characters, for details
/// and messages.
pub(crate) fn show(value: &Value) -> String {
    let mut out = String::new();
    write_json(value, &mut out);
    excerpt(&out, 80)
}

fn write_json(value: &Value, out: &mut String) {
    let quoted = |text: &str| serde_json::to_string(text).unwrap_or_default();
    match value {
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                out.push_str(if i > 0 { ", " } else { "" });
                write_json(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                out.push_str(if i > 0 { ", " } else { "" });
                out.push_str(&quoted(key));
                out.push_str(": ");
                write_json(item, out);
            }
            out.push('}');
        }
        Value::String(text) => out.push_str(&quoted(text)),
        other => out.push_str(&other.to_string()),
    }
}

/// `text` cut to at most `max` characters (on a character boundary), marked with `…` when cut.
pub(crate) fn excerpt(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars() -> Vars {
        let mut vars = Vars::new();
        vars.add_config("n", json!(5));
        vars.add_config("ok_status", json!(200));
        vars.add_config("codes", json!([200, 503]));
        vars.add_config("flag", json!(true));
        vars.add_config("ratio", json!(0.5));
        vars.add_config("digits", json!("[0-9]{2}"));
        vars.add_config("foo_path", json!("$.foo[*].baz"));
        vars.add_config("greeting", json!("hello"));
        vars.add_secret("token", json!("s3cr3t-token"));
        vars
    }

    fn met(tolerance: Value, output: Value) -> bool {
        match judge(&tolerance, &output, &vars()) {
            Judgement::Decided { met, .. } => met,
            other => panic!("expected a decision for {tolerance} / {output}, got {other:?}"),
        }
    }

    fn detail(tolerance: Value, output: Value) -> String {
        match judge(&tolerance, &output, &vars()) {
            Judgement::Decided { detail, .. } => detail,
            other => panic!("expected a decision, got {other:?}"),
        }
    }

    fn is_error(tolerance: Value, output: Value) -> bool {
        matches!(judge(&tolerance, &output, &vars()), Judgement::Error(_))
    }

    fn http(status: u16, body: Value) -> Value {
        json!({"status": status, "headers": {"Content-Type": "text/plain"}, "body": body})
    }

    fn process(status: i32, stdout: &str, stderr: &str) -> Value {
        json!({"status": status, "stdout": stdout, "stderr": stderr})
    }

    // §3 bool: v == tol with Python equality (True == 1).
    #[test]
    fn bool_tolerance_is_python_equality() {
        assert!(met(json!(true), json!(true)));
        assert!(!met(json!(true), json!(false)));
        assert!(met(json!(true), json!(1)));
        assert!(met(json!(false), json!(0)));
        assert!(!met(json!(true), json!("true")));
        assert!(!met(json!(true), json!({"status": 1})));
    }

    // §3 int: the status of an http/process output, else the value itself.
    #[test]
    fn int_tolerance_reads_the_status_of_a_dict_output() {
        assert!(met(json!(6), json!(6)));
        assert!(!met(json!(6), json!(7)));
        assert!(met(json!(6), json!({"status": 6})));
        assert!(!met(json!(6), json!({"status": 7})));
        assert!(met(json!(200), http(200, json!("ok"))));
        assert!(met(json!(0), process(0, "", "")));
        assert!(!met(json!(5), json!("5")));
        assert!(met(json!(1), json!(true)));
        assert!(!met(json!(1), json!({"code": 1})));
        assert_eq!(
            detail(json!(200), http(503, json!(""))),
            "status 503 != 200"
        );
    }

    // §3 str: exact and type-sensitive after substitution.
    #[test]
    fn str_tolerance_is_exact_after_substitution() {
        assert!(met(json!("hello"), json!("hello")));
        assert!(!met(json!("hello"), json!("not hello")));
        assert!(!met(json!("5"), json!(5)));
        assert!(met(json!("say ${greeting}"), json!("say hello")));
        assert!(met(json!("x${n}"), json!("x5")));
        assert!(met(json!("${missing}"), json!("${missing}")));
    }

    // §3 str: exactly `${x}` takes x's type and that type's rule applies.
    #[test]
    fn whole_placeholder_tolerance_takes_the_rule_of_its_type() {
        assert!(met(json!("${n}"), json!(5)));
        assert!(!met(json!("${n}"), json!("5")));
        assert!(met(json!("${ok_status}"), http(200, json!(""))));
        assert!(met(json!("${codes}"), http(503, json!(""))));
        assert!(!met(json!("${codes}"), http(250, json!(""))));
        assert!(met(json!("${flag}"), json!(1)));
        // A float has no rule in Chaos Toolkit: never met.
        assert!(!met(json!("${ratio}"), json!(0.5)));
    }

    // §3 list with a status output: membership, never a range.
    #[test]
    fn list_tolerance_is_status_membership_for_http_and_process() {
        assert!(met(json!([5, 6]), json!({"status": 6})));
        assert!(!met(json!([5, 7]), json!({"status": 6})));
        assert!(!met(json!([200, 299]), http(250, json!(""))));
        assert!(met(json!([503, 500]), http(500, json!(""))));
        assert_eq!(
            detail(json!([200]), http(503, json!(""))),
            "status 503 not in [200]"
        );
    }

    // §3 list of two without status: inclusive range with Python ordering.
    #[test]
    fn two_value_list_is_an_inclusive_range() {
        assert!(met(json!([0, 2]), json!(0)));
        assert!(met(json!([0, 2]), json!(1.5)));
        assert!(met(json!([0, 2]), json!(2)));
        assert!(!met(json!([0, 2]), json!(3)));
        assert!(!met(json!([0, 2]), json!(-1)));
        assert!(met(json!([0, 2]), json!(true)));
        assert!(met(json!(["a", "m"]), json!("c")));
        assert!(!met(json!(["a", "m"]), json!("z")));
        assert_eq!(
            detail(json!([0, 2]), json!(3)),
            "output 3 not in range [0, 2]"
        );
    }

    // §3 list: incomparable types crash Chaos Toolkit.
    #[test]
    fn range_over_incomparable_types_is_an_error() {
        assert!(is_error(json!([0, 10]), json!({"code": 1})));
        assert!(is_error(json!([0, 10]), json!("5")));
        assert!(is_error(json!([0, 10]), json!(null)));
    }

    // §3 list of another length: membership.
    #[test]
    fn other_lists_are_membership() {
        assert!(met(json!([1, 2, 3]), json!(3)));
        assert!(!met(json!([1, 2, 3]), json!(4)));
        assert!(met(json!(["up", "degraded", "ok"]), json!("ok")));
        assert!(met(json!([1, 2, 3]), json!(true)));
        assert!(!met(json!([]), json!(1)));
        assert!(!met(json!([1]), json!({"a": 1})));
    }

    fn probe_tolerance(arguments: Option<Value>) -> Value {
        let mut provider = json!({"type": "python", "module": "fixtures.probes", "func": "f"});
        if let Some(arguments) = arguments {
            provider["arguments"] = arguments;
        }
        json!({"type": "probe", "name": "must-be-in-range", "provider": provider})
    }

    // §3 dict type probe: the output is injected as provider.arguments.value.
    #[test]
    fn probe_tolerance_injects_the_output_as_value() {
        let output = http(200, json!("9"));
        let tolerance = probe_tolerance(Some(json!({"a": 6, "b": 8})));
        match judge(&tolerance, &output, &vars()) {
            Judgement::RunProbe(activity) => {
                assert_eq!(activity["provider"]["arguments"]["value"], output);
                assert_eq!(activity["provider"]["arguments"]["a"], json!(6));
                assert_eq!(activity["name"], json!("must-be-in-range"));
            }
            other => panic!("expected a probe to run, got {other:?}"),
        }
    }

    // §3 dict type probe: without provider.arguments Chaos Toolkit crashes (KeyError).
    #[test]
    fn probe_tolerance_without_arguments_is_an_error() {
        let Judgement::Error(message) = judge(&probe_tolerance(None), &json!(1), &vars()) else {
            panic!("expected an error");
        };
        assert!(message.contains("no provider arguments"), "{message}");
        assert!(is_error(json!({"type": "probe", "name": "p"}), json!(1)));
        assert!(is_error(
            probe_tolerance(Some(json!(["-c", "x"]))),
            json!(1)
        ));
    }

    // §3 dict type probe: met = truthiness of the probe's output.
    #[test]
    fn truthiness_is_pythons() {
        for falsy in [
            json!(null),
            json!(false),
            json!(0),
            json!(0.0),
            json!(""),
            json!([]),
            json!({}),
        ] {
            assert!(!truthy(&falsy), "{falsy} should be falsy");
        }
        for truthy_value in [
            json!(true),
            json!(-1),
            json!(0.1),
            json!("0"),
            json!([0]),
            json!({"a": 0}),
        ] {
            assert!(truthy(&truthy_value), "{truthy_value} should be truthy");
        }
    }

    // §3 dict type regex: unanchored search, optional target.
    #[test]
    fn regex_tolerance_searches_the_output_or_its_target() {
        let digits = |target: Option<&str>| {
            let mut t = json!({"type": "regex", "pattern": "[0-9]{2}"});
            if let Some(target) = target {
                t["target"] = json!(target);
            }
            t
        };
        assert!(met(digits(None), json!("you are number 87")));
        assert!(!met(digits(None), json!("you are number 8")));
        assert!(met(
            digits(Some("stdout")),
            process(0, "you are number 87", "")
        ));
        assert!(!met(
            digits(Some("stdout")),
            process(0, "you are number 8", "")
        ));
        assert!(met(
            digits(Some("stderr")),
            process(0, "", "you are number 87")
        ));
        assert!(met(
            digits(Some("stdout")),
            process(0, "you are number 87", "number 8")
        ));
        assert!(met(
            digits(Some("body")),
            http(200, json!("you are number 87"))
        ));
        assert_eq!(
            detail(
                json!({"type": "regex", "pattern": "up", "target": "stdout"}),
                process(0, "up\n", "")
            ),
            "regex 'up' found in stdout"
        );
    }

    // §3 regex: the pattern is substituted; Python's `$` also matches before a final newline.
    #[test]
    fn regex_pattern_is_substituted_and_dollar_is_pythons() {
        assert!(met(
            json!({"type": "regex", "pattern": "${digits}"}),
            json!("room 42")
        ));
        let anchored = json!({"type": "regex", "pattern": "^ok$", "target": "stdout"});
        assert!(met(anchored.clone(), process(0, "ok\n", "")));
        assert!(!met(anchored, process(0, "ok\n\n", "")));
    }

    // §3 regex: a non-string subject or an unreadable target crashes Chaos Toolkit.
    #[test]
    fn regex_on_non_text_is_an_error() {
        let rx = json!({"type": "regex", "pattern": "x"});
        assert!(is_error(rx.clone(), process(0, "x", "")));
        assert!(is_error(rx.clone(), json!(12)));
        let targeted = json!({"type": "regex", "pattern": "x", "target": "stdout"});
        assert!(is_error(targeted.clone(), json!("x")));
        assert!(is_error(targeted, json!({"body": "x"})));
        assert!(is_error(
            json!({"type": "regex", "pattern": "[0-9"}),
            json!("1")
        ));
        assert!(is_error(json!({"type": "regex"}), json!("1")));
    }

    fn jsonpath(path: &str) -> Value {
        json!({"type": "jsonpath", "path": path})
    }

    fn with(mut tolerance: Value, key: &str, value: Value) -> Value {
        tolerance[key] = value;
        tolerance
    }

    // §3 jsonpath: met when something matches (chaostoolkit-lib's own cases).
    #[test]
    fn jsonpath_is_met_when_values_match() {
        let foo = json!({"foo": [{"baz": 1}, {"baz": 2}]});
        assert!(met(jsonpath("$.foo.*[?(@.baz)]"), foo.clone()));
        assert!(!met(jsonpath("$.notsofoo.*[?(@.baz)].baz"), foo.clone()));
        assert!(met(
            jsonpath("$.foo[*].baz"),
            json!(r#"{"foo": [{"baz": 1}, {"baz": 2}]}"#)
        ));
        assert!(!met(jsonpath("$.foo"), json!("not json")));
    }

    // §3 jsonpath: a filter keeps the node it follows (jsonpath2), so it works on a mapping.
    #[test]
    fn jsonpath_filter_by_value_with_single_equals() {
        let foo = json!({"foo": {"baz": "hello"}});
        let count1 = |path: &str| with(jsonpath(path), "count", json!(1));
        assert!(met(count1("$.foo[?(@.baz=\"hello\")]"), foo.clone()));
        assert!(!met(count1("$.foo[?(@.baz=\"bonjour\")]"), foo));
        let items = json!({"foo": [{"baz": 1}, {"baz": 2}]});
        assert!(met(count1("$.foo.*[?(@.baz=2)]"), items.clone()));
        assert!(met(
            with(jsonpath("$.foo.*[?(@.baz)]"), "count", json!(2)),
            items
        ));
        let fours = json!({"foo": [{"baz": 4}, {"baz": 4}]});
        assert!(met(
            with(jsonpath("$.foo.*[?(@.baz=4)]"), "count", json!(2)),
            fours
        ));
    }

    // §3 jsonpath: non-list expect is one value; list expect is all values; [] means none.
    #[test]
    fn jsonpath_expect_semantics() {
        let path = jsonpath("$.foo[?(@.baz)].baz");
        assert!(met(
            with(path.clone(), "expect", json!("hello")),
            json!({"foo": {"baz": "hello"}})
        ));
        let pair = json!({"foo": {"baz": ["hello", "bonjour"]}});
        assert!(met(
            with(path.clone(), "expect", json!([["hello", "bonjour"]])),
            pair.clone()
        ));
        assert!(!met(
            with(path.clone(), "expect", json!(["hello", "bonjour"])),
            pair
        ));
        let nested = json!({"foo": {"baz": [["hello"], ["bonjour"]]}});
        assert!(met(
            with(path.clone(), "expect", json!([[["hello"], ["bonjour"]]])),
            nested
        ));
        assert!(met(
            with(path.clone(), "expect", json!([])),
            json!({"foo": {"jon": "boom"}})
        ));
        let many = jsonpath("$.foo.*[?(@.baz)].baz");
        let list = json!({"foo": [{"baz": "hello"}, {"baz": "bonjour"}]});
        assert!(met(with(many, "expect", json!(["hello", "bonjour"])), list));
        // expect overrides count
        let both = with(with(path, "count", json!(3)), "expect", json!("hello"));
        assert!(met(both, json!({"foo": {"baz": "hello"}})));
    }

    // §3 jsonpath: count compares with Python equality; path, expect substituted; target.
    #[test]
    fn jsonpath_count_substitution_and_target() {
        let one = json!({"a": [7]});
        assert!(met(
            with(jsonpath("$.a[*]"), "count", json!(true)),
            one.clone()
        ));
        assert!(!met(with(jsonpath("$.a[*]"), "count", json!("1")), one));
        let body = http(200, json!(r#"{"foo": [{"baz": "hello"}]}"#));
        let substituted = with(
            with(jsonpath("${foo_path}"), "expect", json!("${greeting}")),
            "target",
            json!("body"),
        );
        assert!(met(substituted, body));
        assert_eq!(
            detail(with(jsonpath("$.a"), "expect", json!(2)), json!({"a": 1})),
            "jsonpath $.a matched [1], expected [2]"
        );
    }

    // §3 jsonpath: an unparseable path crashes Chaos Toolkit at run time.
    #[test]
    fn jsonpath_with_invalid_path_is_an_error() {
        assert!(is_error(jsonpath("$.foo["), json!({})));
        assert!(is_error(jsonpath("foo"), json!({})));
        assert!(is_error(json!({"type": "jsonpath", "path": 3}), json!({})));
    }

    fn range(low: Value, high: Value) -> Value {
        json!({"type": "range", "target": "body", "range": [low, high]})
    }

    // §3 range: numeric strings converted; inclusive; mixed int and float bounds.
    #[test]
    fn range_tolerance_converts_to_decimal() {
        let body = |text: &str| http(200, json!(text));
        assert!(met(range(json!(10), json!(800)), body("580")));
        assert!(!met(range(json!(10), json!(800)), body("1230")));
        assert!(met(range(json!(10.5), json!(800.89)), body("580.5")));
        assert!(!met(range(json!(10.5), json!(800.89)), body("1230.7")));
        assert!(met(range(json!(10), json!(800.8)), body("580.4")));
        assert!(!met(range(json!(10.5), json!(800)), body("1230")));
        assert!(met(range(json!(10), json!(800)), body("10")));
        assert!(met(range(json!(10), json!(800)), body(" 800 ")));
        assert!(met(range(json!(0), json!(2000)), body("1_000")));
        assert!(!met(range(json!(0), json!(2000)), body("1__000")));
        assert!(met(json!({"type": "range", "range": [0, 1]}), json!(true)));
        assert!(met(json!({"type": "range", "range": [0, 1]}), json!(0.5)));
    }

    // §3 range: a non-numeric string is not met; a dict, list or null crashes.
    #[test]
    fn range_tolerance_edges() {
        assert!(!met(range(json!(6), json!(8)), http(200, json!("bad"))));
        assert_eq!(
            detail(range(json!(6), json!(8)), http(200, json!("bad"))),
            "body \"bad\" is not a number"
        );
        assert!(is_error(
            json!({"type": "range", "range": [0, 1]}),
            http(200, json!("1"))
        ));
        assert!(is_error(
            json!({"type": "range", "range": [0, 1]}),
            json!([1])
        ));
        assert!(is_error(
            json!({"type": "range", "range": [0, 1]}),
            json!(null)
        ));
        assert!(is_error(
            json!({"type": "range", "range": [0, 1]}),
            json!("NaN")
        ));
        assert!(is_error(json!({"type": "range", "range": [0]}), json!(1)));
    }

    // §3: unknown dict types and tolerances without a rule are never met.
    #[test]
    fn unsupported_tolerances_are_not_met() {
        assert!(!met(json!({"type": "boom"}), json!(1)));
        assert!(!met(json!(1.5), json!(1.5)));
        assert!(!met(json!(null), json!(null)));
    }

    #[test]
    fn secrets_are_masked_in_details() {
        let shown = detail(json!("s3cr3t-token"), json!("other"));
        assert!(!shown.contains("s3cr3t-token"), "{shown}");
    }

    #[test]
    fn long_values_are_cut_on_char_boundaries() {
        let text = "é".repeat(200);
        let cut = excerpt(&text, 80);
        assert_eq!(cut.chars().count(), 81);
        assert!(cut.ends_with('…'));
        assert_eq!(excerpt("short", 80), "short");
    }
}
