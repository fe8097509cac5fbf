//! Tolerance conformance: every rule and edge of ctk-reference.md §3, judged through
//! `chaosdeck::tolerance::judge` with Python's semantics (`True == 1`), and end to end through
//! the engine for `type: probe` tolerances and the hypothesis' short-circuit. Every expected
//! value is the one §3 gives.

mod common;

use chaosdeck::engine::RunOptions;
use chaosdeck::experiment::substitute::Vars;
use chaosdeck::tolerance::{compile_jsonpath, judge, truthy, Judgement};
use common::{run_yaml, tempdir};
use serde_json::{json, Value};

// ---------------------------------------------------------------------------------------------
// helpers

fn no_vars() -> Vars {
    Vars::new()
}

/// Whether `tolerance` is met by `output`; panics unless the judgement is a decision.
fn met_with(tolerance: Value, output: Value, vars: &Vars) -> bool {
    match judge(&tolerance, &output, vars) {
        Judgement::Decided { met, .. } => met,
        other => panic!("expected a decision for {tolerance} against {output}, got {other:?}"),
    }
}

fn met(tolerance: Value, output: Value) -> bool {
    met_with(tolerance, output, &no_vars())
}

fn is_error(tolerance: Value, output: Value) -> bool {
    matches!(judge(&tolerance, &output, &no_vars()), Judgement::Error(_))
}

/// An http provider's output (§2): status, headers, body.
fn http(status: u16, body: Value) -> Value {
    json!({"status": status, "headers": {"Content-Type": "text/plain"}, "body": body})
}

/// A process provider's output (§2): status, stdout, stderr.
fn process(status: i32, stdout: &str, stderr: &str) -> Value {
    json!({"status": status, "stdout": stdout, "stderr": stderr})
}

// ---------------------------------------------------------------------------------------------
// plain tolerances

/// §3 bool: `v == tol`.
#[test]
fn bool_tolerance_is_equality() {
    assert!(met(json!(true), json!(true)));
    assert!(met(json!(false), json!(false)));
    assert!(!met(json!(true), json!(false)));
    assert!(!met(json!(false), json!(true)));
    assert!(!met(json!(true), json!("true")));
    assert!(!met(json!(true), json!(null)));
}

/// §3 bool with Python semantics: `True == 1`, so `true` also matches output `1` (and `false`
/// matches `0`), but not `2`.
#[test]
fn bool_tolerance_true_equals_one() {
    assert!(met(json!(true), json!(1)));
    assert!(met(json!(false), json!(0)));
    assert!(!met(json!(true), json!(2)));
    assert!(!met(json!(true), json!(0)));
}

/// §3 int: a dict output with `status` (http/process) is judged on `v.status == tol`.
#[test]
fn int_tolerance_reads_the_status_of_a_dict_output() {
    assert!(met(json!(200), http(200, json!("up"))));
    assert!(!met(json!(200), http(503, json!("down"))));
    assert!(met(json!(0), process(0, "ok\n", "")));
    assert!(!met(json!(0), process(1, "", "boom\n")));
    assert!(met(json!(7), json!({"status": 7})));
}

/// §3 int: any other output is judged on `v == tol`, type-sensitively (`"5"` ≠ 5) but with
/// Python's `True == 1`.
#[test]
fn int_tolerance_on_a_plain_value() {
    assert!(met(json!(5), json!(5)));
    assert!(!met(json!(5), json!(6)));
    assert!(!met(json!(5), json!("5")));
    assert!(met(json!(1), json!(true)));
    assert!(
        !met(json!(1), json!({"code": 1})),
        "a dict without status is compared whole"
    );
}

/// §3 str: `v == tol`, exact and type-sensitive.
#[test]
fn str_tolerance_is_exact() {
    assert!(met(json!("hello"), json!("hello")));
    assert!(!met(json!("hello"), json!("hello\n")));
    assert!(!met(json!("hello"), json!("Hello")));
    assert!(
        !met(json!("hello"), json!("say hello")),
        "exact, not a search"
    );
    assert!(!met(json!("5"), json!(5)));
}

/// §3 str: the whole tolerance is substituted first; embedded placeholders interpolate text.
#[test]
fn str_tolerance_is_substituted_first() {
    let mut vars = Vars::new();
    vars.add_config("who", json!("world"));
    vars.add_config("n", json!(5));
    assert!(met_with(json!("hello ${who}"), json!("hello world"), &vars));
    assert!(met_with(json!("n=${n}"), json!("n=5"), &vars));
    assert!(!met_with(
        json!("hello ${who}"),
        json!("hello ${who}"),
        &vars
    ));
}

/// §3 str: a tolerance that is exactly `${x}` takes x's type and the rule for that type
/// applies: an int becomes the int rule (status of an http output), a list the list rule, a
/// bool the bool rule.
#[test]
fn str_tolerance_whole_placeholder_takes_the_value_type() {
    let mut vars = Vars::new();
    vars.add_config("expected_status", json!(200));
    vars.add_config("accepted", json!([200, 204]));
    vars.add_config("flag", json!(true));
    vars.add_config("count", json!(3));
    assert!(met_with(
        json!("${expected_status}"),
        http(200, json!("")),
        &vars
    ));
    assert!(!met_with(
        json!("${expected_status}"),
        http(500, json!("")),
        &vars
    ));
    assert!(met_with(json!("${accepted}"), http(204, json!("")), &vars));
    assert!(!met_with(json!("${accepted}"), http(202, json!("")), &vars));
    assert!(met_with(json!("${flag}"), json!(1), &vars));
    assert!(met_with(json!("${count}"), json!(3), &vars));
    vars.add_config("rule", json!({"type": "regex", "pattern": "up [0-9]+"}));
    assert!(
        met_with(json!("${rule}"), json!("is up 42"), &vars),
        "dict rule"
    );
    assert!(
        !met_with(json!("${rule}"), json!("is down"), &vars),
        "dict rule"
    );
    assert!(
        !met_with(json!("${count}"), json!("3"), &vars),
        "int rule, not text"
    );
}

/// §3 list with a status output: membership `v.status in tol`, so `[200, 299]` is NOT a range
/// for http: 250 fails.
#[test]
fn list_tolerance_on_status_is_membership_not_a_range() {
    assert!(!met(json!([200, 299]), http(250, json!(""))));
    assert!(met(json!([200, 299]), http(200, json!(""))));
    assert!(met(json!([200, 299]), http(299, json!(""))));
    assert!(met(json!([0, 2]), process(2, "", "")));
    assert!(!met(json!([0, 2]), process(1, "", "")));
}

/// §3 list of length 2 without a status: inclusive range `tol[0] <= v <= tol[1]`.
#[test]
fn two_value_list_is_an_inclusive_range() {
    assert!(met(json!([1, 10]), json!(1)));
    assert!(met(json!([1, 10]), json!(5)));
    assert!(met(json!([1, 10]), json!(10)));
    assert!(met(json!([1, 10]), json!(9.5)));
    assert!(!met(json!([1, 10]), json!(0)));
    assert!(!met(json!([1, 10]), json!(11)));
    assert!(met(json!([0, 1]), json!(true)), "True == 1 orders as 1");
}

/// §3 list of another length: membership.
#[test]
fn longer_list_is_membership() {
    assert!(met(json!([1, 5, 10]), json!(5)));
    assert!(!met(json!([1, 5, 10]), json!(6)), "not a range");
    assert!(met(json!(["up", "ok", "fine"]), json!("ok")));
    assert!(!met(json!(["up", "ok", "fine"]), json!("down")));
    assert!(met(json!([7]), json!(7)));
    assert!(!met(json!([]), json!(7)));
}

/// §3 list: comparing incomparable types (a dict against numbers, text against numbers)
/// raises in Chaos Toolkit: a `Judgement::Error`, never a decision.
#[test]
fn incomparable_range_is_an_error() {
    assert!(is_error(json!([0, 10]), json!({"code": 1})));
    assert!(is_error(json!([0, 10]), json!("5")));
    assert!(is_error(json!([0, 10]), json!(null)));
}

// ---------------------------------------------------------------------------------------------
// dict tolerances

fn probe_tolerance(arguments: Option<Value>) -> Value {
    let mut provider = json!({"type": "process", "path": "true"});
    if let Some(arguments) = arguments {
        provider["arguments"] = arguments;
    }
    json!({"type": "probe", "name": "judge-it", "provider": provider})
}

/// §3 dict `type: probe`: the output is injected as argument `value`; the activity is handed
/// back to be run, other arguments kept.
#[test]
fn probe_tolerance_runs_the_probe_with_the_value_injected() {
    let output = http(200, json!("body text"));
    let tolerance = probe_tolerance(Some(json!({"threshold": 3})));
    match judge(&tolerance, &output, &no_vars()) {
        Judgement::RunProbe(activity) => {
            assert_eq!(activity["provider"]["arguments"]["value"], output);
            assert_eq!(activity["provider"]["arguments"]["threshold"], json!(3));
            assert_eq!(activity["name"], json!("judge-it"));
            assert_eq!(activity["provider"]["path"], json!("true"));
        }
        other => panic!("expected RunProbe, got {other:?}"),
    }
}

/// §3 dict `type: probe`: `provider.arguments` MUST exist (else Chaos Toolkit crashes with a
/// KeyError): an error, not a decision.
#[test]
fn probe_tolerance_without_arguments_is_an_error() {
    assert!(is_error(probe_tolerance(None), json!(1)));
}

/// §3 dict `type: probe`: met = truthiness of the probe's output (Python's rules).
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
        assert!(!truthy(&falsy), "{falsy} is falsy in Python");
    }
    for truthy_value in [
        json!(true),
        json!(1),
        json!(-2),
        json!("0"),
        json!("false"),
        json!([null]),
        process(1, "", ""),
    ] {
        assert!(truthy(&truthy_value), "{truthy_value} is truthy in Python");
    }
}

fn regex(pattern: &str, target: Option<&str>) -> Value {
    let mut t = json!({"type": "regex", "pattern": pattern});
    if let Some(target) = target {
        t["target"] = json!(target);
    }
    t
}

/// §3 regex: met = an unanchored *search* finds a match.
#[test]
fn regex_is_an_unanchored_search() {
    assert!(met(
        regex("[0-9]{2}", None),
        json!("you are number 87 today")
    ));
    assert!(!met(regex("[0-9]{2}", None), json!("you are number 8")));
    assert!(met(regex("ok", None), json!("all is ok here")));
    assert!(!met(regex("^ok", None), json!("all is ok")));
}

/// §3 regex: with `target`, `v = v[target]` when present (stdout, stderr, body).
#[test]
fn regex_with_target_reads_that_field() {
    let out = process(0, "ready: yes", "warning: slow");
    assert!(met(regex("ready", Some("stdout")), out.clone()));
    assert!(!met(regex("ready", Some("stderr")), out.clone()));
    assert!(met(regex("slow", Some("stderr")), out));
    assert!(met(
        regex("up [0-9]+", Some("body")),
        http(200, json!("up 42"))
    ));
    assert!(!met(
        regex("up [0-9]+", Some("body")),
        http(200, json!("down"))
    ));
}

/// §3 regex: the pattern is substituted.
#[test]
fn regex_pattern_is_substituted() {
    let mut vars = Vars::new();
    vars.add_config("word", json!("healthy"));
    assert!(met_with(
        regex("${word}", Some("body")),
        http(200, json!("is healthy")),
        &vars
    ));
    assert!(!met_with(
        regex("${word}", Some("body")),
        http(200, json!("sick")),
        &vars
    ));
}

/// §3 regex: a non-string subject crashes Chaos Toolkit: an error.
#[test]
fn regex_on_a_non_string_subject_is_an_error() {
    assert!(is_error(regex("1", None), json!(1)));
    assert!(is_error(regex("1", None), process(0, "1", "")));
    assert!(
        is_error(regex("up", Some("stdout")), http(200, json!("up"))),
        "a target the output lacks leaves the whole dict as subject"
    );
}

/// §3 regex: patterns are Python's `re` (a pattern "must compile" there): look-ahead,
/// back-references and `\Z` compile and search as Python does, at validation and when judged.
#[test]
fn regex_accepts_python_re_syntax() {
    for (pattern, subject, expected) in [
        ("ok(?= now)", "ok now", true),
        ("ok(?= now)", "ok later", false),
        ("(?<!not )ready", "is ready", true),
        ("(a)\\1", "say aa", true),
        ("(a)\\1", "say ab", false),
        ("done\\Z", "all done", true),
    ] {
        let doc = json!({"title": "t", "description": "d", "method": [],
            "steady-state-hypothesis": {"title": "h", "probes": [{"type": "probe",
                "name": "p", "tolerance": regex(pattern, None),
                "provider": {"type": "http", "url": "http://127.0.0.1:9/"}}]}});
        let report = chaosdeck::experiment::validate::validate(&doc, "exp.yaml");
        assert!(report.errors.is_empty(), "{pattern}: {:?}", report.errors);
        assert_eq!(
            met(regex(pattern, None), json!(subject)),
            expected,
            "{pattern} on {subject:?}"
        );
    }
}

fn jsonpath(path: &str) -> Value {
    json!({"type": "jsonpath", "path": path})
}

fn with(mut tolerance: Value, key: &str, value: Value) -> Value {
    tolerance[key] = value;
    tolerance
}

/// §3 jsonpath: `values` = all matches; without `count`/`expect`, met = `len(values) > 0`.
#[test]
fn jsonpath_is_met_when_something_matches() {
    let doc = json!({"items": [{"v": 1}, {"v": 2}]});
    assert!(met(jsonpath("$.items[*].v"), doc.clone()));
    assert!(!met(jsonpath("$.nothing[*].v"), doc));
}

/// §3 jsonpath: with `count`, met = `len(values) == count`.
#[test]
fn jsonpath_count() {
    let doc = json!({"items": [{"v": 1}, {"v": 2}, {"v": 3}]});
    assert!(met(
        with(jsonpath("$.items[*].v"), "count", json!(3)),
        doc.clone()
    ));
    assert!(!met(
        with(jsonpath("$.items[*].v"), "count", json!(2)),
        doc.clone()
    ));
    assert!(met(with(jsonpath("$.none[*]"), "count", json!(0)), doc));
}

/// §3 jsonpath: a non-list `expect` means `values == [expect]`; a list `expect` means
/// `values == expect`.
#[test]
fn jsonpath_expect() {
    let doc = json!({"service": {"state": "running"}, "items": [{"v": 1}, {"v": 2}]});
    assert!(met(
        with(jsonpath("$.service.state"), "expect", json!("running")),
        doc.clone()
    ));
    assert!(!met(
        with(jsonpath("$.service.state"), "expect", json!("stopped")),
        doc.clone()
    ));
    assert!(met(
        with(jsonpath("$.items[*].v"), "expect", json!([1, 2])),
        doc.clone()
    ));
    assert!(!met(
        with(jsonpath("$.items[*].v"), "expect", json!([2, 1])),
        doc.clone()
    ));
    assert!(!met(
        with(jsonpath("$.items[*].v"), "expect", json!(1)),
        doc
    ));
}

/// §3 jsonpath: `expect: []` means "no match".
#[test]
fn jsonpath_expect_empty_list_means_no_match() {
    let doc = json!({"items": [{"v": 1}]});
    assert!(met(
        with(jsonpath("$.missing"), "expect", json!([])),
        doc.clone()
    ));
    assert!(!met(
        with(jsonpath("$.items[*].v"), "expect", json!([])),
        doc
    ));
}

/// §3 jsonpath: to expect one list value, wrap it: `[[a, b]]`; unwrapped `[a, b]` means two
/// matches a and b.
#[test]
fn jsonpath_expect_one_list_value_is_wrapped() {
    let doc = json!({"pair": ["a", "b"]});
    assert!(met(
        with(jsonpath("$.pair"), "expect", json!([["a", "b"]])),
        doc.clone()
    ));
    assert!(!met(
        with(jsonpath("$.pair"), "expect", json!(["a", "b"])),
        doc
    ));
}

/// §3 jsonpath: the `expect` key overrides `count`.
#[test]
fn jsonpath_expect_overrides_count() {
    let doc = json!({"service": {"state": "running"}});
    let both = with(
        with(jsonpath("$.service.state"), "count", json!(5)),
        "expect",
        json!("running"),
    );
    assert!(met(both, doc));
}

/// §3 jsonpath: the jsonpath2 filter with a single `=`: `$.foo[?(@.baz="hello")]`.
#[test]
fn jsonpath_single_equals_filter() {
    let path = "$.foo[?(@.baz=\"hello\")]";
    assert!(compile_jsonpath(path).is_ok(), "the dialect parses it");
    let counted = with(jsonpath(path), "count", json!(1));
    assert!(met(counted.clone(), json!({"foo": {"baz": "hello"}})));
    assert!(!met(counted, json!({"foo": {"baz": "bonjour"}})));
}

/// §3 jsonpath: a string subject is JSON-parsed; `target` picks the field; path and `expect`
/// are substituted.
#[test]
fn jsonpath_parses_text_uses_target_and_substitutes() {
    let mut vars = Vars::new();
    vars.add_config("state_path", json!("$.state"));
    vars.add_config("want", json!("up"));
    let tolerance = json!({"type": "jsonpath", "path": "${state_path}", "expect": "${want}",
                           "target": "body"});
    assert!(met_with(
        tolerance.clone(),
        http(200, json!("{\"state\": \"up\"}")),
        &vars
    ));
    assert!(!met_with(
        tolerance,
        http(200, json!("{\"state\": \"down\"}")),
        &vars
    ));
}

fn range(low: Value, high: Value, target: Option<&str>) -> Value {
    let mut t = json!({"type": "range", "range": [low, high]});
    if let Some(target) = target {
        t["target"] = json!(target);
    }
    t
}

/// §3 range: inclusive bounds on a number.
#[test]
fn range_is_inclusive() {
    assert!(met(range(json!(10), json!(20), None), json!(10)));
    assert!(met(range(json!(10), json!(20), None), json!(20)));
    assert!(met(range(json!(10), json!(20), None), json!(15.5)));
    assert!(!met(range(json!(10), json!(20), None), json!(9.99)));
    assert!(!met(range(json!(10), json!(20), None), json!(21)));
}

/// §3 range: the value is converted to decimal, so numeric strings like "580" work; `target`
/// picks the field.
#[test]
fn range_accepts_numeric_strings() {
    let body = |text: &str| http(200, json!(text));
    assert!(met(range(json!(10), json!(800), Some("body")), body("580")));
    assert!(!met(
        range(json!(10), json!(800), Some("body")),
        body("1230")
    ));
    assert!(met(
        range(json!(0.5), json!(1.5), Some("body")),
        body("1.25")
    ));
    assert!(met(range(json!(0), json!(1000), None), json!("580")));
}

/// §3 range: a non-numeric string is not met (a decision, not a crash).
#[test]
fn range_with_non_numeric_string_is_not_met() {
    assert!(!met(
        range(json!(0), json!(10), Some("body")),
        http(200, json!("five"))
    ));
    assert!(!met(range(json!(0), json!(10), None), json!("")));
}

/// §3 range: a bool converts (True = 1, False = 0).
#[test]
fn range_accepts_booleans() {
    assert!(met(range(json!(1), json!(2), None), json!(true)));
    assert!(!met(range(json!(1), json!(2), None), json!(false)));
    assert!(met(range(json!(0), json!(0), None), json!(false)));
}

/// §3 range: a dict value crashes Chaos Toolkit: an error.
#[test]
fn range_on_a_dict_is_an_error() {
    assert!(is_error(range(json!(0), json!(10), None), json!({"a": 1})));
    assert!(is_error(
        range(json!(0), json!(10), Some("missing")),
        json!({"a": 1})
    ));
}

/// §3 unknown dict `type` is unsupported: never met.
#[test]
fn unknown_dict_type_is_never_met() {
    assert!(!matches!(
        judge(&json!({"type": "xpath"}), &json!("x"), &no_vars()),
        Judgement::Decided { met: true, .. } | Judgement::RunProbe(_)
    ));
}

// ---------------------------------------------------------------------------------------------
// end to end

/// §3 dict `type: probe` end to end: the inner process probe's output is a dict
/// (`{status, stdout, stderr}`), always truthy, so the tolerance is met even when the inner
/// process exits 1; an inner probe that fails (ActivityFailed: its timeout) is not met.
#[tokio::test(flavor = "multi_thread")]
async fn probe_tolerance_end_to_end_follows_the_inner_probes_truthiness() {
    let yaml = r#"title: probe tolerance
description: the inner probe decides
steady-state-hypothesis:
  title: judged by a probe
  probes:
    - type: probe
      name: outer
      tolerance:
        type: probe
        name: inner-exits-1
        provider:
          type: process
          path: sh
          arguments: {"-c": "exit 1"}
      provider: {type: process, path: echo, arguments: ["outer ran"]}
method: []
"#;
    let ran = run_yaml(yaml, RunOptions::default()).await;
    let before = &ran.journal["steady_states"]["before"];
    assert_eq!(
        before["probes"][0]["tolerance_met"],
        json!(true),
        "{before:#}"
    );
    assert_eq!(before["steady_state_met"], json!(true));

    let yaml = r#"title: probe tolerance
description: the inner probe fails
steady-state-hypothesis:
  title: judged by a probe
  probes:
    - type: probe
      name: outer
      tolerance:
        type: probe
        name: inner-times-out
        provider:
          type: process
          path: sh
          arguments: {"-c": "sleep 2"}
          timeout: 0.2
      provider: {type: process, path: echo, arguments: ["outer ran"]}
method: []
"#;
    let ran = run_yaml(yaml, RunOptions::default()).await;
    let before = &ran.journal["steady_states"]["before"];
    assert_eq!(
        before["probes"][0]["status"],
        json!("succeeded"),
        "{before:#}"
    );
    assert_eq!(
        before["probes"][0]["tolerance_met"],
        json!(false),
        "{before:#}"
    );
    assert_eq!(before["steady_state_met"], json!(false));
}

/// §3: hypothesis evaluation is sequential and short-circuits: the first probe that misses its
/// tolerance stops the hypothesis; later probes are not run.
#[tokio::test(flavor = "multi_thread")]
async fn hypothesis_short_circuits_on_the_first_miss() {
    let dir = tempdir();
    let witness = dir.join("second-probe-ran");
    let yaml = format!(
        r#"title: short circuit
description: the second probe must not run
steady-state-hypothesis:
  title: two probes
  probes:
    - type: probe
      name: misses
      tolerance: 0
      provider: {{type: process, path: sh, arguments: ["-c", "exit 3"]}}
    - type: probe
      name: never-runs
      tolerance: 0
      provider: {{type: process, path: touch, arguments: ["{}"]}}
method: []
"#,
        witness.display()
    );
    let ran = run_yaml(&yaml, RunOptions::default()).await;
    let before = &ran.journal["steady_states"]["before"];
    assert_eq!(before["steady_state_met"], json!(false));
    let probes = before["probes"].as_array().unwrap();
    assert_eq!(probes.len(), 1, "{before:#}");
    assert_eq!(probes[0]["tolerance_met"], json!(false));
    assert!(!witness.exists(), "the second probe ran");
}
