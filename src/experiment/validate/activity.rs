//! Validation of one activity (probe or action): Chaos Toolkit's rules for the keys every
//! activity shares, references, the `expect` dialect and steps whose tolerance is an activity.

use super::provider::validate_provider;
use super::{join_key, kind_of, raw, show, Checker};
use crate::experiment::expect::validate_expect;
use serde_json::Value;

/// What an activity in a given place may or must have.
#[derive(Debug, Clone, Copy)]
pub(super) struct ActivityRules {
    /// Top-level activities need a name; nested ones (a step's tolerance, run_activity's
    /// argument, dynamic configuration) may go without.
    pub name_required: bool,
    /// A method or rollback step may have no provider when its `tolerance` holds a whole
    /// activity: that activity is what runs.
    pub tolerance_step: bool,
}

impl ActivityRules {
    /// A method or rollback step.
    pub const STEP: Self = ActivityRules {
        name_required: true,
        tolerance_step: true,
    };
    /// A steady-state probe, or a probe used as a tolerance.
    pub const PROBE: Self = ActivityRules {
        name_required: true,
        tolerance_step: false,
    };
    /// An activity inside another one, or in the configuration.
    pub const NESTED: Self = ActivityRules {
        name_required: false,
        tolerance_step: false,
    };
}

pub(super) const PROVIDER_TYPES: &str = "http, process, python, docker or toxiproxy";

/// The words PyYAML reads as booleans, which reach us as strings from YAML 1.2.
const YAML11_BOOLEAN_WORDS: [&str; 18] = [
    "yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF", "true", "True",
    "TRUE", "false", "False", "FALSE",
];

/// A boolean, or one of the YAML 1.1 boolean words as a string.
pub(super) fn is_boolean_like(value: &Value) -> bool {
    match value {
        Value::Bool(_) => true,
        Value::String(s) => YAML11_BOOLEAN_WORDS.contains(&s.as_str()),
        _ => false,
    }
}

/// Exactly `${name}`: a value taken from the configuration or secrets at run time.
pub(super) fn is_placeholder(value: &Value) -> bool {
    matches!(value, Value::String(s) if s.starts_with("${") && s.ends_with('}'))
}

/// Validates an activity at `path`, reporting every problem found.
pub(super) fn validate_activity(
    check: &mut Checker,
    activity: &Value,
    path: &str,
    rules: ActivityRules,
) {
    let map = match activity {
        Value::Object(map) if !map.is_empty() => map,
        Value::Null | Value::Object(_) => {
            check.error(
                path,
                "an empty activity is no activity: give it a type, a name and a provider",
            );
            return;
        }
        other => {
            check.error(
                path,
                format!(
                    "an activity must be a mapping with a type, a name and a provider, not {}",
                    kind_of(other)
                ),
            );
            return;
        }
    };
    if let Some(target) = map.get("ref") {
        if !matches!(target, Value::String(s) if !s.is_empty()) {
            check.error(
                &join_key(path, "ref"),
                "a reference (ref) must be the name of another activity, as non-empty text",
            );
        }
        return;
    }
    super::keys::unknown(check, map, path, super::keys::ACTIVITY);
    activity_type(check, map.get("type"), &join_key(path, "type"));
    let name = activity_name(check, map.get("name"), &join_key(path, "name"), rules);
    let label = name.unwrap_or_else(|| path.to_string());
    match map.get("provider") {
        None | Some(Value::Null) => match map.get("tolerance") {
            Some(nested) if rules.tolerance_step && is_activity_like(nested) => {
                validate_activity(
                    check,
                    nested,
                    &join_key(path, "tolerance"),
                    ActivityRules::NESTED,
                );
            }
            _ => check.error(
                &join_key(path, "provider"),
                format!("an activity needs a provider saying what to run ({PROVIDER_TYPES})"),
            ),
        },
        Some(provider) => validate_provider(check, provider, &join_key(path, "provider"), &label),
    }
    if let Some(timeout) = map.get("timeout") {
        if !timeout.is_null() && !is_non_negative_number(timeout) {
            check.error(
                &join_key(path, "timeout"),
                format!(
                    "the activity timeout must be a number of seconds, not {}",
                    show(timeout)
                ),
            );
        }
    }
    pauses(check, map.get("pauses"), &join_key(path, "pauses"));
    if let Some(background) = map.get("background") {
        if !is_boolean_like(background) {
            check.error(
                &join_key(path, "background"),
                format!("background must be true or false, not {}", show(background)),
            );
        }
    }
    check.controls(map.get("controls"), &join_key(path, "controls"));
    if let Some(expect) = map.get("expect") {
        expectations(check, expect, &join_key(path, "expect"));
    }
}

/// A mapping of `type: probe` or `type: action`: an activity rather than a tolerance.
fn is_activity_like(value: &Value) -> bool {
    matches!(
        value.get("type").and_then(Value::as_str),
        Some("probe" | "action")
    )
}

fn activity_type(check: &mut Checker, value: Option<&Value>, path: &str) {
    match value {
        None | Some(Value::Null) => check.error(path, "an activity needs a type: probe or action"),
        Some(Value::String(t)) if t == "probe" || t == "action" => {}
        Some(other) => check.error(
            path,
            format!(
                "'{}' is not an activity type: use probe or action",
                raw(other)
            ),
        ),
    }
}

/// Checks the name; returns it when it is usable.
fn activity_name(
    check: &mut Checker,
    value: Option<&Value>,
    path: &str,
    rules: ActivityRules,
) -> Option<String> {
    match value {
        None | Some(Value::Null) => {
            if rules.name_required {
                check.error(path, "an activity needs a name (non-empty text)");
            }
            None
        }
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
        Some(other) => {
            check.error(
                path,
                format!(
                    "an activity name must be non-empty text, not {}",
                    show(other)
                ),
            );
            None
        }
    }
}

pub(super) fn is_non_negative_number(value: &Value) -> bool {
    value.as_f64().is_some_and(|n| n >= 0.0)
}

fn pauses(check: &mut Checker, value: Option<&Value>, path: &str) {
    let pauses = match value {
        None | Some(Value::Null) => return,
        Some(Value::Object(pauses)) => pauses,
        Some(other) => {
            check.error(
                path,
                format!(
                    "pauses must be a mapping with `before` and/or `after`, not {}",
                    kind_of(other)
                ),
            );
            return;
        }
    };
    for which in ["before", "after"] {
        let Some(pause) = pauses.get(which) else {
            continue;
        };
        let fine = pause.is_null() || is_non_negative_number(pause) || is_placeholder(pause);
        if !fine {
            check.error(
                &join_key(path, which),
                format!(
                    "the pause {which} the activity must be a number of seconds (not negative) \
                     or a ${{name}} from the configuration or secrets, not {}",
                    show(pause)
                ),
            );
        }
    }
}

/// Reports the problems of an `expect` list under `path`.
pub(super) fn expectations(check: &mut Checker, expect: &Value, path: &str) {
    for (sub, message) in validate_expect(expect) {
        let full = if sub.is_empty() || sub.starts_with(['[', '.']) {
            format!("{path}{sub}")
        } else {
            join_key(path, &sub)
        };
        check.error(&full, message);
    }
}
