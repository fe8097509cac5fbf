//! Validation of an experiment document before anything runs.
//!
//! Every rule Chaos Toolkit applies is checked (plus chaosdeck's own: the `expect` dialect,
//! nested activities, natively run Python callables), but unlike Chaos Toolkit all problems
//! are reported together, each naming its place in the document as an activity path such as
//! `method[2].provider.url` (indices from 0).

mod activity;
mod declarations;
mod docker;
mod keys;
mod provider;
mod tolerance;

use super::Diagnostic;
use activity::{validate_activity, ActivityRules};
use serde_json::Value;

/// What validation found: errors stop a run, warnings are shown and the run goes on.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
}

impl Report {
    /// True when nothing stands in the way of running the experiment.
    pub fn is_valid(&self) -> bool {
        self.errors.is_empty()
    }
}

/// Validates a loaded experiment; `source` (file or URL) names it in every diagnostic.
pub fn validate(doc: &Value, source: &str) -> Report {
    let mut check = Checker {
        source,
        report: Report::default(),
    };
    let Some(experiment) = doc.as_object() else {
        let message = if doc.is_null() {
            EMPTY_EXPERIMENT.to_string()
        } else {
            format!(
                "an experiment must be a mapping of keys (title, description, method...), not {}",
                kind_of(doc)
            )
        };
        check.error("", message);
        return check.report;
    };
    if experiment.is_empty() {
        check.error("", EMPTY_EXPERIMENT);
        return check.report;
    }
    check.required_text(
        experiment.get("title"),
        "title",
        "the experiment needs a title",
    );
    check.required_text(
        experiment.get("description"),
        "description",
        "the experiment needs a description",
    );
    check.tags(experiment.get("tags"));
    check.extensions(experiment.get("extensions"));
    declarations::configuration(&mut check, experiment.get("configuration"));
    declarations::secrets(&mut check, experiment.get("secrets"));
    check.controls(experiment.get("controls"), "controls");
    let hypothesis_names = check.hypothesis(experiment.get("steady-state-hypothesis"));
    check.method(experiment.get("method"), hypothesis_names);
    check.rollbacks(experiment.get("rollbacks"));
    check.report
}

const EMPTY_EXPERIMENT: &str =
    "an empty experiment is not an experiment: it needs at least a title, a description and a \
     method";

/// `base.key`, or `base["odd key"]` for keys that are not simple words; `key` alone at the top.
pub(crate) fn join_key(base: &str, key: &str) -> String {
    let simple = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    match (base.is_empty(), simple) {
        (true, true) => key.to_string(),
        (false, true) => format!("{base}.{key}"),
        (_, false) => format!(
            "{base}[{}]",
            serde_json::to_string(key).unwrap_or_else(|_| key.to_string())
        ),
    }
}

/// `base[index]`.
pub(crate) fn join_index(base: &str, index: usize) -> String {
    format!("{base}[{index}]")
}

/// A short name for the JSON type of a value, for messages.
pub(crate) fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a decimal number",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// A value as JSON (strings in double quotes), shortened for messages.
pub(crate) fn show(value: &Value) -> String {
    shorten(serde_json::to_string(value).unwrap_or_default())
}

/// A value for quoting in a message: strings as they are, other values as JSON, shortened.
pub(crate) fn raw(value: &Value) -> String {
    match value {
        Value::String(s) => shorten(s.clone()),
        other => show(other),
    }
}

fn shorten(text: String) -> String {
    const LIMIT: usize = 60;
    if text.chars().count() > LIMIT {
        let cut: String = text.chars().take(LIMIT).collect();
        format!("{cut}…")
    } else {
        text
    }
}

/// Collects diagnostics for one document.
pub(crate) struct Checker<'a> {
    source: &'a str,
    report: Report,
}

impl Checker<'_> {
    fn error(&mut self, path: &str, message: impl Into<String>) {
        let diagnostic = Diagnostic::at_path(self.source, path, message);
        self.report.errors.push(diagnostic);
    }

    fn warn(&mut self, path: &str, message: impl Into<String>) {
        let diagnostic = Diagnostic::at_path(self.source, path, message);
        self.report.warnings.push(diagnostic);
    }

    /// A key that must hold non-empty text.
    fn required_text(&mut self, value: Option<&Value>, path: &str, missing: &str) {
        match value {
            None | Some(Value::Null) => self.error(path, missing),
            Some(Value::String(s)) if !s.trim().is_empty() => {}
            Some(Value::String(_)) => self.error(path, format!("{missing}; this one is empty")),
            Some(other) => self.error(
                path,
                format!("{missing} written as text, not {}", kind_of(other)),
            ),
        }
    }

    fn tags(&mut self, tags: Option<&Value>) {
        match tags {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                for (i, tag) in items.iter().enumerate() {
                    if !matches!(tag, Value::String(s) if !s.trim().is_empty()) {
                        self.error(
                            &join_index("tags", i),
                            format!("every tag must be non-empty text, not {}", show(tag)),
                        );
                    }
                }
            }
            Some(other) => self.error(
                "tags",
                format!("tags must be a list of words, not {}", kind_of(other)),
            ),
        }
    }

    fn extensions(&mut self, extensions: Option<&Value>) {
        match extensions {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                for (i, extension) in items.iter().enumerate() {
                    let named = extension
                        .get("name")
                        .and_then(Value::as_str)
                        .is_some_and(|n| !n.trim().is_empty());
                    if !named {
                        self.error(
                            &join_index("extensions", i),
                            "every extension needs a name (non-empty text)",
                        );
                    }
                }
            }
            Some(other) => self.error(
                "extensions",
                format!(
                    "extensions must be a list of mappings, not {}",
                    kind_of(other)
                ),
            ),
        }
    }

    /// Python controls: refused until the Python bridge runs them.
    fn controls(&mut self, controls: Option<&Value>, path: &str) {
        let declared = match controls {
            None | Some(Value::Null) => false,
            Some(Value::Array(items)) => !items.is_empty(),
            Some(_) => true,
        };
        if declared {
            self.error(
                path,
                "Python controls are not supported by chaosdeck yet: remove `controls` to run \
                 this experiment here",
            );
        }
    }

    /// Validates the steady-state hypothesis; returns the names of its probes.
    fn hypothesis(&mut self, hypothesis: Option<&Value>) -> Vec<String> {
        const PATH: &str = "steady-state-hypothesis";
        let hypothesis = match hypothesis {
            None | Some(Value::Null) => return Vec::new(),
            Some(Value::Object(h)) => h,
            Some(other) => {
                self.error(
                    PATH,
                    format!(
                        "the steady-state hypothesis must be a mapping with a title and probes, \
                         not {}",
                        kind_of(other)
                    ),
                );
                return Vec::new();
            }
        };
        self.required_text(
            hypothesis.get("title"),
            &join_key(PATH, "title"),
            "the steady-state hypothesis needs a title",
        );
        self.controls(hypothesis.get("controls"), &join_key(PATH, "controls"));
        let probes_path = join_key(PATH, "probes");
        let probes = match hypothesis.get("probes") {
            None | Some(Value::Null) => return Vec::new(),
            Some(Value::Array(probes)) => probes,
            Some(other) => {
                self.error(
                    &probes_path,
                    format!(
                        "probes must be a list of activities, not {}",
                        kind_of(other)
                    ),
                );
                return Vec::new();
            }
        };
        for (i, probe) in probes.iter().enumerate() {
            let path = join_index(&probes_path, i);
            validate_activity(self, probe, &path, ActivityRules::PROBE);
            tolerance::hypothesis_probe(self, probe, &path);
        }
        names_of(probes)
    }

    fn method(&mut self, method: Option<&Value>, hypothesis_names: Vec<String>) {
        let steps = match method {
            None => {
                self.error(
                    "method",
                    "the experiment needs a `method` list; it may be empty ([]) to only check \
                     the steady-state hypothesis",
                );
                return;
            }
            Some(Value::Array(steps)) => steps,
            Some(other) => {
                self.error(
                    "method",
                    format!(
                        "method must be a list of activities, not {}",
                        kind_of(other)
                    ),
                );
                return;
            }
        };
        let mut known = hypothesis_names;
        known.extend(names_of(steps));
        for (i, step) in steps.iter().enumerate() {
            let path = join_index("method", i);
            validate_activity(self, step, &path, ActivityRules::STEP);
            if let Some(Value::String(target)) = step.get("ref") {
                if !target.is_empty() && !known.iter().any(|k| k == target) {
                    self.error(
                        &join_key(&path, "ref"),
                        format!(
                            "no activity named '{target}' in the method or the steady-state \
                             hypothesis to refer to"
                        ),
                    );
                }
            }
        }
    }

    fn rollbacks(&mut self, rollbacks: Option<&Value>) {
        match rollbacks {
            None | Some(Value::Null) => {}
            Some(Value::Array(steps)) => {
                for (i, step) in steps.iter().enumerate() {
                    validate_activity(self, step, &join_index("rollbacks", i), ActivityRules::STEP);
                }
            }
            Some(other) => self.error(
                "rollbacks",
                format!(
                    "rollbacks must be a list of activities, not {}",
                    kind_of(other)
                ),
            ),
        }
    }
}

/// Names of the activities in a list (those that have one).
fn names_of(activities: &[Value]) -> Vec<String> {
    activities
        .iter()
        .filter_map(|a| a.get("name").and_then(Value::as_str))
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests;
