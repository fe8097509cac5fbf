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
mod tests;
