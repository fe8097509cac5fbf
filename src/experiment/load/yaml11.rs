//! Where Chaos Toolkit and chaosdeck would read the same YAML differently.
//!
//! Chaos Toolkit reads YAML 1.1 through PyYAML: unquoted `on`, `yes`, `off`, `no` are booleans,
//! `0755` is octal, `1_000` and `1:30` are integers, `2024-01-31` is a date. serde_yaml reads
//! YAML 1.2 (core schema), where those are mostly strings. This module resolves a plain scalar
//! both ways and words the warning where they differ; it also decides which tags are refused.

use regex::Regex;
use std::sync::LazyLock;

/// Tags PyYAML's safe loader and serde_yaml both read the same way.
const PLAIN_DATA_TAGS: [&str; 7] = ["str", "int", "float", "bool", "null", "map", "seq"];

/// Checks one tag: Err holds why it is refused.
pub(super) fn check_tag(tag: &str) -> Result<(), String> {
    let name = if let Some(rest) = tag.strip_prefix("!!") {
        rest.to_string()
    } else if let Some(rest) = tag
        .strip_prefix("!<tag:yaml.org,2002:")
        .and_then(|r| r.strip_suffix('>'))
    {
        rest.to_string()
    } else if tag == "!" {
        return Ok(());
    } else {
        return Err(format!(
            "the tag '{tag}' is not a standard YAML tag; Chaos Toolkit's safe YAML loader \
             refuses it and so does chaosdeck: remove it"
        ));
    };
    if PLAIN_DATA_TAGS.contains(&name.as_str()) {
        return Ok(());
    }
    if name.starts_with("python/") {
        return Err(format!(
            "the tag '{tag}' asks to build a Python object; such unsafe tags are refused (Chaos \
             Toolkit's safe YAML loader refuses them too)"
        ));
    }
    Err(format!(
        "the tag '{tag}' is not supported: chaosdeck reads only the tags !!str, !!int, \
         !!float, !!bool, !!null, !!map and !!seq"
    ))
}

/// How PyYAML (YAML 1.1, Chaos Toolkit) resolves a plain scalar.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Yaml11 {
    Null,
    Bool(bool),
    Int(i128),
    /// An integer beyond what we compute; PyYAML reads it as an integer all the same.
    HugeInt,
    Float(f64),
    Date,
    DateTime,
    /// `=`: PyYAML resolves it to a tag its safe loader cannot build.
    Refused,
    /// `<<`: a merge key in both readings.
    Merge,
    Str,
}

static BOOL_11: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new("^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$")
        .expect("bool pattern compiles")
});
static FLOAT_11: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?",
        r"|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?",
        r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*",
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ))
    .expect("float pattern compiles")
});
static INT_11: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)",
        r"|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$"
    ))
    .expect("int pattern compiles")
});
static NULL_11: LazyLock<Regex> =
    LazyLock::new(|| Regex::new("^(?:~|null|Null|NULL|)$").expect("null pattern compiles"));
static DATE_11: LazyLock<Regex> =
    LazyLock::new(|| Regex::new("^[0-9]{4}-[0-9]{2}-[0-9]{2}$").expect("date pattern compiles"));
static DATETIME_11: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}",
        r"(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?$"
    ))
    .expect("timestamp pattern compiles")
});

/// Resolves a plain scalar as PyYAML's safe loader does.
pub(super) fn resolve_yaml11(text: &str) -> Yaml11 {
    if BOOL_11.is_match(text) {
        let lower = text.to_ascii_lowercase();
        return Yaml11::Bool(matches!(lower.as_str(), "yes" | "true" | "on"));
    }
    if FLOAT_11.is_match(text) {
        return float_11(text).map_or(Yaml11::Str, Yaml11::Float);
    }
    if INT_11.is_match(text) {
        return match int_11(text) {
            Some(Some(i)) => Yaml11::Int(i),
            Some(None) => Yaml11::HugeInt,
            // PyYAML itself fails on these (e.g. `0b_`): nothing to compare.
            None => Yaml11::Str,
        };
    }
    if text == "<<" {
        return Yaml11::Merge;
    }
    if NULL_11.is_match(text) {
        return Yaml11::Null;
    }
    if DATE_11.is_match(text) {
        return Yaml11::Date;
    }
    if DATETIME_11.is_match(text) {
        return Yaml11::DateTime;
    }
    if text == "=" {
        return Yaml11::Refused;
    }
    Yaml11::Str
}

/// Splits a leading sign off a number: (negative, rest).
fn split_sign(text: &str) -> (bool, &str) {
    match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    }
}

/// PyYAML's integer construction. None: PyYAML fails; Some(None): too large for us.
fn int_11(text: &str) -> Option<Option<i128>> {
    let cleaned = text.replace('_', "");
    let (negative, digits) = split_sign(&cleaned);
    let parsed = if digits == "0" {
        Ok(0)
    } else if let Some(bin) = digits.strip_prefix("0b") {
        i128::from_str_radix(bin, 2)
    } else if let Some(hex) = digits.strip_prefix("0x") {
        i128::from_str_radix(hex, 16)
    } else if digits.starts_with('0') {
        i128::from_str_radix(digits, 8)
    } else if digits.contains(':') {
        return Some(sexagesimal(digits).map(|v| if negative { -v } else { v }));
    } else {
        digits.parse::<i128>()
    };
    match parsed {
        Ok(v) => Some(Some(if negative { -v } else { v })),
        Err(e) if matches!(e.kind(), std::num::IntErrorKind::PosOverflow) => Some(None),
        Err(_) => None,
    }
}

fn sexagesimal(digits: &str) -> Option<i128> {
    digits.split(':').try_fold(0i128, |acc, part| {
        let part: i128 = part.parse().ok()?;
        acc.checked_mul(60)?.checked_add(part)
    })
}

/// PyYAML's float construction.
fn float_11(text: &str) -> Option<f64> {
    let cleaned = text.replace('_', "").to_lowercase();
    let (negative, digits) = split_sign(&cleaned);
    let sign = if negative { -1.0 } else { 1.0 };
    if digits == ".inf" {
        return Some(sign * f64::INFINITY);
    }
    if digits == ".nan" {
        return Some(f64::NAN);
    }
    if digits.contains(':') {
        let mut value = 0.0;
        for part in digits.split(':') {
            value = value * 60.0 + part.parse::<f64>().ok()?;
        }
        return Some(sign * value);
    }
    digits.parse::<f64>().ok().map(|v| sign * v)
}

/// A float written so that both readers take it as that number.
fn float_text(value: f64) -> String {
    if value.is_nan() {
        ".nan".to_string()
    } else if value.is_infinite() {
        if value > 0.0 { ".inf" } else { "-.inf" }.to_string()
    } else if value.fract() == 0.0 && value.abs() < 1e16 {
        format!("{value:.1}")
    } else {
        format!("{value}")
    }
}

/// How serde_yaml (YAML 1.2, chaosdeck) reads a plain scalar. It is read as a mapping value,
/// since on its own `---` or `...` would mark a document.
fn resolve_ours(text: &str) -> Option<serde_yaml::Value> {
    let mapping = serde_yaml::from_str::<serde_yaml::Value>(&format!("k: {text}")).ok()?;
    match mapping.get("k")? {
        v @ (serde_yaml::Value::Null
        | serde_yaml::Value::Bool(_)
        | serde_yaml::Value::Number(_)
        | serde_yaml::Value::String(_)) => Some(v.clone()),
        _ => None,
    }
}

fn same_reading(theirs: &Yaml11, ours: &serde_yaml::Value) -> bool {
    use serde_yaml::Value as Y;
    match (theirs, ours) {
        (Yaml11::Merge, _) => true,
        (Yaml11::Null, Y::Null) | (Yaml11::Str, Y::String(_)) => true,
        (Yaml11::Bool(a), Y::Bool(b)) => a == b,
        (Yaml11::Int(a), Y::Number(n)) if !n.is_f64() => {
            n.as_i64().map(i128::from).or(n.as_u64().map(i128::from)) == Some(*a)
        }
        (Yaml11::Float(a), Y::Number(n)) if n.is_f64() => n
            .as_f64()
            .is_some_and(|b| b == *a || (b.is_nan() && a.is_nan())),
        _ => false,
    }
}

fn describe_theirs(theirs: &Yaml11, text: &str) -> String {
    match theirs {
        Yaml11::Null => "null".to_string(),
        Yaml11::Bool(b) => format!("the boolean {b}"),
        Yaml11::Int(i) => format!("the integer {i}"),
        Yaml11::HugeInt => "an integer".to_string(),
        Yaml11::Float(f) => format!("the number {}", float_text(*f)),
        Yaml11::Date => "a date".to_string(),
        Yaml11::DateTime => "a date and time".to_string(),
        Yaml11::Refused => "a special value its safe loader refuses to load".to_string(),
        Yaml11::Merge | Yaml11::Str => format!("the string \"{text}\""),
    }
}

fn describe_ours(ours: &serde_yaml::Value) -> (String, Option<(String, &'static str)>) {
    use serde_yaml::Value as Y;
    match ours {
        Y::Null => ("null".to_string(), Some(("null".to_string(), "null"))),
        Y::Bool(b) => (format!("the boolean {b}"), Some((b.to_string(), "boolean"))),
        Y::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => (format!("the integer {i}"), Some((i.to_string(), "integer"))),
            (None, Some(u), _) => (format!("the integer {u}"), Some((u.to_string(), "integer"))),
            (None, None, Some(f)) => {
                let t = float_text(f);
                (format!("the number {t}"), Some((t, "number")))
            }
            _ => ("a number".to_string(), None),
        },
        Y::String(s) => (format!("the string \"{s}\""), None),
        _ => ("something else".to_string(), None),
    }
}

/// What to write instead, given both readings.
fn advice(theirs: &Yaml11, ours: &serde_yaml::Value) -> String {
    let ours_is_text = matches!(ours, serde_yaml::Value::String(_));
    match theirs {
        Yaml11::Bool(b) if ours_is_text => format!("quote it to keep the text, or write {b}"),
        Yaml11::Int(i) if ours_is_text => format!("quote it to keep the text, or write {i}"),
        Yaml11::Float(f) if ours_is_text => {
            format!("quote it to keep the text, or write {}", float_text(*f))
        }
        Yaml11::Str | Yaml11::Merge => match describe_ours(ours).1 {
            Some((canonical, kind)) => {
                format!("quote it if you mean the text, or write {canonical} for the {kind}")
            }
            None => "quote it".to_string(),
        },
        _ => "quote it so that both read the same text".to_string(),
    }
}

/// A warning message for a plain scalar read differently by Chaos Toolkit and chaosdeck, or
/// None when both read it the same way.
pub(super) fn difference(text: &str) -> Option<String> {
    let theirs = resolve_yaml11(text);
    let ours = resolve_ours(text)?;
    if same_reading(&theirs, &ours) {
        return None;
    }
    Some(format!(
        "unquoted '{text}' is {} for Chaos Toolkit (YAML 1.1) but {} here; {}",
        describe_theirs(&theirs, text),
        describe_ours(&ours).0,
        advice(&theirs, &ours)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_like_pyyaml() {
        assert_eq!(resolve_yaml11("on"), Yaml11::Bool(true));
        assert_eq!(resolve_yaml11("No"), Yaml11::Bool(false));
        assert_eq!(resolve_yaml11("y"), Yaml11::Str);
        assert_eq!(resolve_yaml11("0755"), Yaml11::Int(493));
        assert_eq!(resolve_yaml11("-0755"), Yaml11::Int(-493));
        assert_eq!(resolve_yaml11("00"), Yaml11::Int(0));
        assert_eq!(resolve_yaml11("08"), Yaml11::Str);
        assert_eq!(resolve_yaml11("0x1F"), Yaml11::Int(31));
        assert_eq!(resolve_yaml11("0b101"), Yaml11::Int(5));
        assert_eq!(resolve_yaml11("1_000"), Yaml11::Int(1000));
        assert_eq!(resolve_yaml11("1:30"), Yaml11::Int(90));
        assert_eq!(resolve_yaml11("190:20:30"), Yaml11::Int(685230));
        assert_eq!(resolve_yaml11("0:30"), Yaml11::Str);
        assert_eq!(resolve_yaml11("1:30.5"), Yaml11::Float(90.5));
        assert_eq!(resolve_yaml11("1_0.5"), Yaml11::Float(10.5));
        assert_eq!(resolve_yaml11("1e3"), Yaml11::Str);
        assert_eq!(resolve_yaml11("1.0e3"), Yaml11::Str);
        assert_eq!(resolve_yaml11("1.0e+3"), Yaml11::Float(1000.0));
        assert_eq!(resolve_yaml11("-.5"), Yaml11::Str);
        assert_eq!(resolve_yaml11("0o17"), Yaml11::Str);
        assert_eq!(resolve_yaml11("2024-01-31"), Yaml11::Date);
        assert_eq!(resolve_yaml11("2024-1-3 4:05:06"), Yaml11::DateTime);
        assert_eq!(resolve_yaml11("~"), Yaml11::Null);
        assert_eq!(resolve_yaml11("="), Yaml11::Refused);
        assert_eq!(resolve_yaml11("0b_"), Yaml11::Str);
        assert_eq!(
            resolve_yaml11("99999999999999999999999999999999999999999"),
            Yaml11::HugeInt
        );
    }

    #[test]
    fn differences_only_where_serde_yaml_disagrees() {
        for same in [
            "true", "False", "0x1F", "0b101", "12", "1.5", "1.0e+3", ".inf", "~", "null", "x", "y",
            "08", "<<", "-0", "+12",
        ] {
            assert_eq!(difference(same), None, "{same}");
        }
        assert_eq!(
            difference("on").as_deref(),
            Some(
                "unquoted 'on' is the boolean true for Chaos Toolkit (YAML 1.1) but the string \
                 \"on\" here; quote it to keep the text, or write true"
            )
        );
        assert_eq!(
            difference("0755").as_deref(),
            Some(
                "unquoted '0755' is the integer 493 for Chaos Toolkit (YAML 1.1) but the string \
                 \"0755\" here; quote it to keep the text, or write 493"
            )
        );
        assert_eq!(
            difference("0o17").as_deref(),
            Some(
                "unquoted '0o17' is the string \"0o17\" for Chaos Toolkit (YAML 1.1) but the \
                 integer 15 here; quote it if you mean the text, or write 15 for the integer"
            )
        );
        let e = difference("1e3").unwrap_or_default();
        assert!(e.contains("the number 1000.0 here"), "{e}");
        let e = difference("1_000").unwrap_or_default();
        assert!(e.contains("the integer 1000 for Chaos Toolkit"), "{e}");
        let e = difference("1:30").unwrap_or_default();
        assert!(e.contains("the integer 90"), "{e}");
        let e = difference("2024-01-31").unwrap_or_default();
        assert!(e.contains("a date for Chaos Toolkit"), "{e}");
        assert!(difference("=").is_some());
    }

    #[test]
    fn tags() {
        assert_eq!(check_tag("!!str"), Ok(()));
        assert_eq!(check_tag("!<tag:yaml.org,2002:int>"), Ok(()));
        assert_eq!(check_tag("!"), Ok(()));
        let e = check_tag("!!python/object/apply:os.system").unwrap_err();
        assert!(e.contains("unsafe tags are refused"), "{e}");
        let e = check_tag("!custom").unwrap_err();
        assert!(e.contains("not a standard YAML tag"), "{e}");
        let e = check_tag("!!binary").unwrap_err();
        assert!(e.contains("not supported"), "{e}");
    }
}
