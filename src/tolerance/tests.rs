//! Tests of the tolerance rules, one per rule and edge of ctk-reference.md §3.
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
