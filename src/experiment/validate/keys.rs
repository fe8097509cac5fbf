//! Keys nobody reads: a typo such as `expcet:` would otherwise switch a check off in silence.
//! They are warnings, not errors, since Chaos Toolkit ignores unknown keys too.

use super::{join_key, Checker};
use serde_json::{Map, Value};

/// Keys an activity may carry.
pub(super) const ACTIVITY: &[&str] = &[
    "type",
    "name",
    "provider",
    "pauses",
    "background",
    "controls",
    "tolerance",
    "timeout",
    "ref",
    "expect",
    "dry",
    "description",
];
pub(super) const HTTP: &[&str] = &[
    "type",
    "url",
    "method",
    "headers",
    "arguments",
    "timeout",
    "verify_tls",
    "max_retries",
    "expect",
    "body",
    "expected_status",
];
pub(super) const PROCESS: &[&str] = &["type", "path", "arguments", "timeout", "expect"];
pub(super) const DOCKER: &[&str] = &[
    "type",
    "func",
    "container",
    "service",
    "project",
    "arguments",
    "timeout",
    "expect",
];
pub(super) const PYTHON: &[&str] = &[
    "type",
    "module",
    "func",
    "arguments",
    "secrets",
    "expect",
    "timeout",
];

/// Warns about each key of `map` that is not in `known`, suggesting the nearest known one.
pub(super) fn unknown(check: &mut Checker, map: &Map<String, Value>, path: &str, known: &[&str]) {
    for key in map.keys() {
        if known.contains(&key.as_str()) {
            continue;
        }
        let nearest = known
            .iter()
            .map(|k| (distance(key, k), *k))
            .filter(|(d, _)| *d <= 2)
            .min();
        let message = match nearest {
            Some((_, k)) => format!("unknown key '{key}' is ignored; did you mean '{k}'?"),
            None => format!("unknown key '{key}' is ignored"),
        };
        check.warn(&join_key(path, key), message);
    }
}

/// Edit distance between two short words.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(cur).min(row[j])
            };
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::distance;

    #[test]
    fn typos_are_near() {
        assert_eq!(distance("expcet", "expect"), 2);
        assert_eq!(distance("timeout", "timeout"), 0);
        assert!(distance("frobnicate", "type") > 2);
    }
}
