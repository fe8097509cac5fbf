//! Tests of validation: every rule, the paths it names, and that all problems come together.

use super::*;
use crate::experiment::load::{parse_text, Format};
use crate::experiment::Location;
use serde_json::json;

fn path_of(d: &Diagnostic) -> String {
    match &d.location {
        Location::Path(p) => p.clone(),
        Location::Text { line, column } => format!("{line}:{column}"),
    }
}

/// Errors as (path, message).
fn errors(doc: &Value) -> Vec<(String, String)> {
    validate(doc, "exp.yaml")
        .errors
        .iter()
        .map(|d| (path_of(d), d.message.clone()))
        .collect()
}

fn warnings(doc: &Value) -> Vec<(String, String)> {
    validate(doc, "exp.yaml")
        .warnings
        .iter()
        .map(|d| (path_of(d), d.message.clone()))
        .collect()
}

/// Asserts exactly one error, at `path`, whose message contains `fragment`.
fn only_error(doc: &Value, path: &str, fragment: &str) {
    let found = errors(doc);
    assert_eq!(
        found.len(),
        1,
        "expected one error at {path}, got {found:#?}"
    );
    assert_eq!(found[0].0, path, "{found:#?}");
    assert!(
        found[0].1.contains(fragment),
        "{:?} lacks {fragment:?}",
        found[0].1
    );
}

fn experiment(method: Value) -> Value {
    json!({"title": "t", "description": "d", "method": method})
}

/// An experiment whose method holds one activity.
fn one_step(step: Value) -> Value {
    experiment(json!([step]))
}

fn http_probe(name: &str) -> Value {
    json!({"type": "probe", "name": name, "provider": {"type": "http", "url": "http://127.0.0.1/"}})
}

fn with_hypothesis(probes: Value) -> Value {
    json!({"title": "t", "description": "d",
           "steady-state-hypothesis": {"title": "h", "probes": probes}, "method": []})
}

#[test]
fn minimal_experiment_is_valid() {
    let report = validate(&experiment(json!([])), "exp.yaml");
    assert!(report.is_valid(), "{:?}", report.errors);
    assert!(report.warnings.is_empty());
}

#[test]
fn empty_and_non_mapping_documents() {
    only_error(&json!(null), "", "an empty experiment is not an experiment");
    only_error(&json!({}), "", "an empty experiment is not an experiment");
    only_error(&json!([1]), "", "must be a mapping");
    let d = &validate(&json!("x"), "exp.yaml").errors[0];
    assert_eq!(d.to_string(), "exp.yaml: an experiment must be a mapping of keys (title, description, method...), not a string");
}

#[test]
fn all_errors_are_reported_together() {
    let doc = json!({
        "tags": ["ok", ""],
        "extensions": [{"name": ""}],
        "steady-state-hypothesis": {"probes": [{"type": "probe", "name": "p",
            "provider": {"type": "http", "url": "http://x/"}}]},
        "method": [{"type": "action"}, {"ref": "missing"}],
        "rollbacks": [{}]
    });
    let paths: Vec<String> = errors(&doc).into_iter().map(|(p, _)| p).collect();
    assert_eq!(
        paths,
        vec![
            "title",
            "description",
            "tags[1]",
            "extensions[0]",
            "steady-state-hypothesis.title",
            "steady-state-hypothesis.probes[0].tolerance",
            "method[0].name",
            "method[0].provider",
            "method[1].ref",
            "rollbacks[0]",
        ]
    );
}

#[test]
fn diagnostics_display_source_and_path() {
    let report = validate(&one_step(json!({"type": "action", "name": "a"})), "e.yaml");
    assert_eq!(
        report.errors[0].to_string(),
        "e.yaml: method[0].provider: an activity needs a provider saying what to run (http, \
         process, python, docker or toxiproxy)"
    );
}

#[test]
fn title_and_description() {
    let doc = json!({"title": "", "description": 3, "method": []});
    let found = errors(&doc);
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(found[0].0, "title");
    assert!(found[0].1.contains("empty"), "{}", found[0].1);
    assert_eq!(found[1].0, "description");
    assert!(found[1].1.contains("not an integer"), "{}", found[1].1);
}

#[test]
fn tags_and_extensions() {
    let mut doc = experiment(json!([]));
    doc["tags"] = json!("db");
    only_error(&doc, "tags", "list");
    doc["tags"] = json!(["db", 3]);
    only_error(&doc, "tags[1]", "non-empty text");
    doc["tags"] = json!(["db"]);
    doc["extensions"] = json!([{"name": "x"}, {"other": 1}]);
    only_error(&doc, "extensions[1]", "every extension needs a name");
    doc["extensions"] = json!({"name": "x"});
    only_error(&doc, "extensions", "list of mappings");
}

#[test]
fn method_must_exist_but_may_be_empty() {
    let doc = json!({"title": "t", "description": "d"});
    only_error(&doc, "method", "it may be empty");
    let mut doc = experiment(json!([]));
    doc["method"] = json!({"a": 1});
    only_error(&doc, "method", "must be a list");
    doc["method"] = json!([]);
    doc["rollbacks"] = json!("undo");
    only_error(&doc, "rollbacks", "must be a list");
}

#[test]
fn controls_are_not_supported_yet() {
    let mut doc = experiment(json!([]));
    doc["controls"] = json!([{"name": "tracing", "provider": {"type": "python", "module": "m"}}]);
    only_error(
        &doc,
        "controls",
        "Python controls are not supported by chaosdeck yet",
    );
    doc["controls"] = json!([]);
    assert!(errors(&doc).is_empty());
    let mut step = http_probe("p");
    step["controls"] = json!([{"name": "c"}]);
    only_error(&one_step(step), "method[0].controls", "not supported");
    let mut doc = with_hypothesis(json!([]));
    doc["steady-state-hypothesis"]["controls"] = json!([{"name": "c"}]);
    only_error(&doc, "steady-state-hypothesis.controls", "not supported");
}

#[test]
fn references_resolve_against_method_and_hypothesis() {
    let mut doc = with_hypothesis(
        json!([{"type": "probe", "name": "healthy", "tolerance": 200,
        "provider": {"type": "http", "url": "http://127.0.0.1/"}}]),
    );
    doc["method"] =
        json!([http_probe("check"), {"ref": "check"}, {"ref": "healthy"}, {"ref": "nope"}]);
    doc["rollbacks"] = json!([{"ref": "not-checked-in-rollbacks"}]);
    only_error(&doc, "method[3].ref", "no activity named 'nope'");
    doc["method"] = json!([{"ref": ""}, {"ref": 3}]);
    let found = errors(&doc);
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(found[0].0, "method[0].ref");
    assert!(found[0].1.contains("non-empty text"));
    assert_eq!(found[1].0, "method[1].ref");
}

#[test]
fn activity_messages_in_order() {
    only_error(
        &one_step(json!({})),
        "method[0]",
        "an empty activity is no activity",
    );
    only_error(
        &one_step(json!(null)),
        "method[0]",
        "an empty activity is no activity",
    );
    only_error(&one_step(json!("step")), "method[0]", "must be a mapping");
    let found = errors(&one_step(json!({"tolerance": 1})));
    let paths: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        vec!["method[0].type", "method[0].name", "method[0].provider"]
    );
    assert!(found[0].1.contains("needs a type: probe or action"));
    let mut step = http_probe("a");
    step["type"] = json!("test");
    only_error(
        &one_step(step),
        "method[0].type",
        "'test' is not an activity type",
    );
    let mut step = http_probe("a");
    step["name"] = json!("  ");
    only_error(&one_step(step), "method[0].name", "non-empty text");
}

#[test]
fn provider_type_is_required_and_known() {
    let step = json!({"type": "action", "name": "a", "provider": {"url": "x"}});
    only_error(
        &one_step(step),
        "method[0].provider.type",
        "a provider needs a type",
    );
    let step = json!({"type": "action", "name": "a", "provider": {"type": "k8s"}});
    only_error(
        &one_step(step),
        "method[0].provider.type",
        "unknown provider type 'k8s'",
    );
    let step = json!({"type": "action", "name": "a", "provider": "http"});
    only_error(&one_step(step), "method[0].provider", "must be a mapping");
    let step = json!({"type": "action", "name": "a", "provider": {"type": "toxiproxy"}});
    assert!(errors(&one_step(step)).is_empty());
    let docker = json!({"type": "docker", "func": "stop", "container": "db"});
    let step = json!({"type": "action", "name": "a", "provider": docker});
    assert!(errors(&one_step(step)).is_empty());
}

#[test]
fn timeout_pauses_and_background() {
    let mut step = http_probe("a");
    step["timeout"] = json!("5s");
    only_error(
        &one_step(step),
        "method[0].timeout",
        "activity timeout must be a number",
    );
    let mut step = http_probe("a");
    step["pauses"] = json!({"before": "soon", "after": "${wait}"});
    only_error(
        &one_step(step),
        "method[0].pauses.before",
        "pause before the activity must be a number",
    );
    let mut step = http_probe("a");
    step["pauses"] = json!({"before": 1.5, "after": "later"});
    only_error(
        &one_step(step),
        "method[0].pauses.after",
        "pause after the activity",
    );
    let mut step = http_probe("a");
    step["pauses"] = json!({"after": -1});
    only_error(&one_step(step), "method[0].pauses.after", "not negative");
    let mut step = http_probe("a");
    step["pauses"] = json!(5);
    only_error(&one_step(step), "method[0].pauses", "mapping");
    let mut step = http_probe("a");
    step["background"] = json!("sometimes");
    only_error(
        &one_step(step),
        "method[0].background",
        "background must be true or false",
    );
    for fine in [json!(true), json!("yes"), json!("Off"), json!("ON")] {
        let mut step = http_probe("a");
        step["background"] = fine.clone();
        assert!(errors(&one_step(step)).is_empty(), "{fine}");
    }
}

#[test]
fn http_provider_rules() {
    let step = json!({"type": "probe", "name": "a", "provider": {"type": "http"}});
    only_error(
        &one_step(step),
        "method[0].provider.url",
        "an http provider needs a url",
    );
    let step = json!({"type": "probe", "name": "a",
        "provider": {"type": "http", "url": "http://x/", "headers": ["a: b"]}});
    only_error(
        &one_step(step),
        "method[0].provider.headers",
        "headers must be a mapping",
    );
    let step = json!({"type": "probe", "name": "a",
        "provider": {"type": "http", "url": "http://x/", "timeout": "slow"}});
    only_error(
        &one_step(step),
        "method[0].provider.timeout",
        "[connect, read]",
    );
    let step = json!({"type": "probe", "name": "a", "provider": {"type": "http",
        "url": "${base}/x", "timeout": [1, 2.5], "verify_tls": "no", "max_retries": 2,
        "method": "post", "headers": {"A": "b"}, "body": {"k": 1}}});
    assert!(errors(&one_step(step)).is_empty());
    let step = json!({"type": "probe", "name": "a", "provider": {"type": "http",
        "url": "http://x/", "verify_tls": 1, "max_retries": -1, "method": 5}});
    let paths: Vec<String> = errors(&one_step(step)).into_iter().map(|e| e.0).collect();
    assert_eq!(
        paths,
        vec![
            "method[0].provider.method",
            "method[0].provider.verify_tls",
            "method[0].provider.max_retries"
        ]
    );
}

#[test]
fn http_warnings() {
    let step = json!({"type": "probe", "name": "a",
        "provider": {"type": "http", "url": "http://x/", "expected_status": 200}});
    let doc = one_step(step);
    assert!(errors(&doc).is_empty());
    let found = warnings(&doc);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].0, "method[0].provider.expected_status");
    assert!(
        found[0].1.contains("ignored") && found[0].1.contains("expect"),
        "{}",
        found[0].1
    );
    let step =
        json!({"type": "probe", "name": "a", "provider": {"type": "http", "url": "localhost:80"}});
    let found = warnings(&one_step(step));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "method[0].provider.url");
}

#[test]
fn process_provider_rules() {
    let step = json!({"type": "action", "name": "run", "provider": {"type": "process"}});
    only_error(
        &one_step(step),
        "method[0].provider.path",
        "a process provider needs a path",
    );
    let step = json!({"type": "action", "name": "run",
        "provider": {"type": "process", "path": "no-such-program-chaosdeck"}});
    let found = errors(&one_step(step));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].0, "method[0].provider.path");
    assert!(
        found[0]
            .1
            .starts_with("path 'no-such-program-chaosdeck' cannot be found"),
        "{}",
        found[0].1
    );
    assert!(
        found[0].1.ends_with(", in activity 'run'"),
        "{}",
        found[0].1
    );
    let step = json!({"type": "action", "name": "run",
        "provider": {"type": "process", "path": "sh", "arguments": 3}});
    only_error(
        &one_step(step),
        "method[0].provider.arguments",
        "a list of words or one string",
    );
    let step = json!({"type": "action", "name": "run",
        "provider": {"type": "process", "path": "sh", "timeout": "1m"}});
    only_error(
        &one_step(step),
        "method[0].provider.timeout",
        "number of seconds",
    );
    let step = json!({"type": "action", "name": "run",
        "provider": {"type": "process", "path": "sh", "arguments": {"-c": "true"}}});
    let doc = one_step(step);
    assert!(errors(&doc).is_empty());
    let found = warnings(&doc);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].0, "method[0].provider.arguments");
    assert!(found[0].1.contains("deprecated"));
}

#[test]
fn process_path_without_permission() {
    let dir = std::env::temp_dir().join(format!("chaosdeck-validate-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let file = dir.join("not-executable.sh");
    std::fs::write(&file, "echo hi\n").expect("write");
    let text = file.to_string_lossy().into_owned();
    let step =
        json!({"type": "action", "name": "run", "provider": {"type": "process", "path": text}});
    let found = errors(&one_step(step));
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0]
            .1
            .starts_with(&format!("no access permission to '{text}'")),
        "{}",
        found[0].1
    );
    assert!(found[0].1.ends_with("in activity 'run'"));
}

#[test]
fn python_provider_rules() {
    let step = json!({"type": "action", "name": "a", "provider": {"type": "python"}});
    let found = errors(&one_step(step));
    let paths: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        vec!["method[0].provider.module", "method[0].provider.func"]
    );
    assert!(found[0].1.contains("needs a module"));
    assert!(found[1].1.contains("needs a func"));
    let step = json!({"type": "action", "name": "a",
        "provider": {"type": "python", "module": "m", "func": "f", "arguments": [1]}});
    only_error(
        &one_step(step),
        "method[0].provider.arguments",
        "mapping of parameter names",
    );
    let step = json!({"type": "action", "name": "a", "provider": {"type": "python",
        "module": "chaosk8s.pod.actions", "func": "terminate_pods", "arguments": {"ns": "x"},
        "secrets": ["k8s"]}});
    assert!(errors(&one_step(step)).is_empty());
}

#[test]
fn run_activity_argument_is_an_activity() {
    let provider = |activity: Value| {
        one_step(
            json!({"type": "action", "name": "wrap", "provider": {"type": "python",
            "module": "chaoslib.types", "func": "run_activity",
            "arguments": {"activity": activity}}}),
        )
    };
    let fine = provider(json!({"type": "action", "provider": {"type": "process", "path": "sh"}}));
    assert!(errors(&fine).is_empty(), "{:?}", errors(&fine));
    only_error(
        &provider(json!({"type": "action", "provider": {"type": "http"}})),
        "method[0].provider.arguments.activity.provider.url",
        "needs a url",
    );
    only_error(
        &provider(json!(null)),
        "method[0].provider.arguments.activity",
        "needs an `activity`",
    );
    only_error(
        &provider(json!({})),
        "method[0].provider.arguments.activity",
        "empty activity",
    );
}

#[test]
fn time_sleep_and_subprocess_are_checked_by_meaning() {
    let sleep = |arguments: Value| {
        one_step(
            json!({"type": "action", "name": "wait", "provider": {"type": "python",
            "module": "time", "func": "sleep", "arguments": arguments}}),
        )
    };
    assert!(errors(&sleep(json!({"seconds": 30}))).is_empty());
    assert!(errors(&sleep(json!({"secs": 0.5}))).is_empty());
    assert!(errors(&sleep(json!({"seconds": "${wait}"}))).is_empty());
    for bad in [
        json!({}),
        json!({"seconds": "30"}),
        json!({"a": 1, "b": 2}),
        json!({"s": -1}),
    ] {
        only_error(
            &sleep(bad),
            "method[0].provider.arguments",
            "time.sleep takes one argument",
        );
    }
    let run = |func: &str, arguments: Value| {
        one_step(
            json!({"type": "probe", "name": "logs", "provider": {"type": "python",
            "module": "subprocess", "func": func, "arguments": arguments}}),
        )
    };
    assert!(errors(&run("run", json!({"args": ["docker", "ps"]}))).is_empty());
    assert!(errors(&run("call", json!({"args": "docker ps"}))).is_empty());
    only_error(
        &run("check_call", json!({"cmd": ["x"]})),
        "method[0].provider.arguments.args",
        "subprocess.check_call needs `args`",
    );
    only_error(
        &run("run", json!({"args": []})),
        "method[0].provider.arguments.args",
        "needs `args`",
    );
}

#[test]
fn step_whose_tolerance_is_an_activity() {
    let doc = one_step(json!({"type": "probe", "name": "degraded",
        "tolerance": {"type": "probe", "provider": {"type": "http", "url": "http://x/",
            "expect": [{"status": [503, 500]}]}}}));
    assert!(errors(&doc).is_empty(), "{:?}", errors(&doc));
    let doc = one_step(json!({"type": "probe", "name": "degraded",
        "tolerance": {"type": "probe", "provider": {"type": "http"}}}));
    only_error(&doc, "method[0].tolerance.provider.url", "needs a url");
    let mut doc = experiment(json!([]));
    doc["rollbacks"] = json!([{"type": "action", "name": "r", "tolerance": {"type": "action"}}]);
    only_error(&doc, "rollbacks[0].tolerance.provider", "needs a provider");
    let doc = one_step(json!({"type": "probe", "name": "p", "tolerance": {"type": "regex"}}));
    only_error(&doc, "method[0].provider", "needs a provider");
}

#[test]
fn expect_is_validated_where_it_stands() {
    let doc = one_step(json!({"type": "probe", "name": "p",
        "provider": {"type": "http", "url": "http://x/", "expect": "200"}}));
    let found = errors(&doc);
    assert!(!found.is_empty());
    assert!(
        found
            .iter()
            .all(|(p, _)| p.starts_with("method[0].provider.expect")),
        "{found:?}"
    );
    let doc = one_step(json!({"type": "probe", "name": "p", "expect": "200",
        "provider": {"type": "http", "url": "http://x/"}}));
    let found = errors(&doc);
    assert!(!found.is_empty());
    assert!(
        found.iter().all(|(p, _)| p.starts_with("method[0].expect")),
        "{found:?}"
    );
}

#[test]
fn hypothesis_rules() {
    let doc =
        json!({"title": "t", "description": "d", "steady-state-hypothesis": [], "method": []});
    only_error(&doc, "steady-state-hypothesis", "mapping");
    let mut doc = with_hypothesis(json!([]));
    doc["steady-state-hypothesis"] = json!({"title": "h"});
    assert!(errors(&doc).is_empty());
    doc["steady-state-hypothesis"]["probes"] = json!("p");
    only_error(&doc, "steady-state-hypothesis.probes", "list");
    let doc = with_hypothesis(json!([http_probe("p")]));
    only_error(
        &doc,
        "steady-state-hypothesis.probes[0].tolerance",
        "needs a tolerance (or an `expect` list)",
    );
    let doc = with_hypothesis(
        json!([{"type": "probe", "name": "p", "expect": [{"status": 200}],
        "provider": {"type": "http", "url": "http://x/"}}]),
    );
    assert!(errors(&doc).is_empty());
    let doc = with_hypothesis(json!([{"type": "probe", "name": "p",
        "provider": {"type": "http", "url": "http://x/", "expect": [{"status": 200}]}}]));
    assert!(errors(&doc).is_empty());
    let doc = with_hypothesis(json!([{"type": "probe", "tolerance": true,
        "provider": {"type": "http", "url": "http://x/"}}]));
    only_error(
        &doc,
        "steady-state-hypothesis.probes[0].name",
        "needs a name",
    );
}

fn tolerance_errors(tolerance: Value) -> Vec<(String, String)> {
    let mut probe = http_probe("p");
    probe["tolerance"] = tolerance;
    errors(&with_hypothesis(json!([probe])))
}

fn only_tolerance_error(tolerance: Value, sub: &str, fragment: &str) {
    let mut probe = http_probe("p");
    probe["tolerance"] = tolerance;
    let path = format!("steady-state-hypothesis.probes[0].tolerance{sub}");
    only_error(&with_hypothesis(json!([probe])), &path, fragment);
}

#[test]
fn plain_tolerances() {
    for fine in [
        json!(true),
        json!(200),
        json!(-1),
        json!("ok"),
        json!([200, 204]),
        json!([]),
    ] {
        assert!(tolerance_errors(fine.clone()).is_empty(), "{fine}");
    }
    only_tolerance_error(json!(0.5), "", "0.5 is a decimal number");
    only_tolerance_error(json!(null), "", "null is none of them");
}

#[test]
fn mapping_tolerances() {
    only_tolerance_error(
        json!({"pattern": "x"}),
        ".type",
        "needs a type: probe, regex, jsonpath or range",
    );
    only_tolerance_error(
        json!({"type": "xpath"}),
        ".type",
        "'xpath' is not a tolerance type",
    );
    only_tolerance_error(json!({"type": "regex"}), ".pattern", "needs a pattern");
    only_tolerance_error(
        json!({"type": "regex", "pattern": 5}),
        ".pattern",
        "must be text",
    );
    only_tolerance_error(
        json!({"type": "regex", "pattern": "(unclosed"}),
        ".pattern",
        "pattern '(unclosed' is not a valid regular expression",
    );
    assert!(
        tolerance_errors(json!({"type": "regex", "pattern": "^up [0-9]+$", "target": "body"}))
            .is_empty()
    );
    assert!(tolerance_errors(json!({"type": "regex", "pattern": "${expected"})).is_empty());
    only_tolerance_error(
        json!({"type": "regex", "pattern": "x", "target": ["body"]}),
        ".target",
        "target must name a key",
    );
    only_tolerance_error(json!({"type": "jsonpath"}), ".path", "needs a path");
    only_tolerance_error(
        json!({"type": "jsonpath", "path": "  "}),
        ".path",
        "needs a path",
    );
    only_tolerance_error(
        json!({"type": "jsonpath", "path": "$["}),
        ".path",
        "'$[' is not a valid JSONPath",
    );
    only_tolerance_error(
        json!({"type": "jsonpath", "path": "$.a", "count": -1}),
        ".count",
        "whole number",
    );
    assert!(tolerance_errors(
        json!({"type": "jsonpath", "path": "$.items[*].v", "count": 2, "expect": [1]})
    )
    .is_empty());
    only_tolerance_error(
        json!({"type": "range", "range": [1]}),
        ".range",
        "two numbers",
    );
    only_tolerance_error(json!({"type": "range"}), ".range", "two numbers");
    only_tolerance_error(
        json!({"type": "range", "range": [0, "9"]}),
        ".range[1]",
        "upper bound",
    );
    only_tolerance_error(
        json!({"type": "range", "range": [true, 9]}),
        ".range[0]",
        "lower bound",
    );
    assert!(
        tolerance_errors(json!({"type": "range", "range": [0.5, 9], "target": "status"}))
            .is_empty()
    );
    let mut probe = http_probe("p");
    probe["tolerance"] = json!({"type": "range", "range": [9, 1]});
    let found = warnings(&with_hypothesis(json!([probe])));
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].0,
        "steady-state-hypothesis.probes[0].tolerance.range"
    );
}

#[test]
fn probe_tolerance_needs_arguments() {
    let tolerance = json!({"type": "probe", "name": "check",
        "provider": {"type": "python", "module": "m", "func": "f"}});
    only_tolerance_error(tolerance, ".provider.arguments", "argument `value`");
    let tolerance = json!({"type": "probe", "name": "check",
        "provider": {"type": "python", "module": "m", "func": "f", "arguments": {}}});
    assert!(tolerance_errors(tolerance).is_empty());
    let tolerance = json!({"type": "probe", "provider": {"type": "python", "module": "m",
        "func": "f", "arguments": {}}});
    only_tolerance_error(tolerance, ".name", "needs a name");
}

#[test]
fn configuration_entries() {
    let mut doc = experiment(json!([]));
    doc["configuration"] = json!({
        "plain": "x", "number": 3, "literal_map": {"a": 1}, "other_type": {"type": "literal"},
        "from_env": {"type": "env", "key": "HOME", "default": "/", "env_var_type": "str"},
        "dynamic": {"type": "probe", "name": "d",
            "provider": {"type": "http", "url": "http://x/"}}
    });
    assert!(errors(&doc).is_empty(), "{:?}", errors(&doc));
    doc["configuration"] = json!({
        "no_key": {"type": "env"},
        "bad_type": {"type": "env", "key": "X", "env_var_type": "list"},
        "dynamic": {"type": "probe", "provider": {"type": "http"}},
        "odd key": {"type": "env", "key": ""}
    });
    let found = errors(&doc);
    let paths: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        vec![
            "configuration.no_key.key",
            "configuration.bad_type.env_var_type",
            "configuration.dynamic.provider.url",
            "configuration[\"odd key\"].key",
        ]
    );
    assert!(
        found[1].1.contains("'list' is not a type"),
        "{}",
        found[1].1
    );
    doc["configuration"] = json!(["a"]);
    only_error(&doc, "configuration", "mapping of names to values");
}

#[test]
fn secrets_entries() {
    let mut doc = experiment(json!([]));
    doc["secrets"] = json!({"api": {"token": {"type": "env", "key": "TOKEN"}, "plain": "x"}});
    assert!(errors(&doc).is_empty());
    doc["secrets"] = json!({"api": {"token": {"type": "vault", "path": "secret/x"}}});
    only_error(
        &doc,
        "secrets.api.token",
        "vault secrets are not supported by chaosdeck yet",
    );
    doc["secrets"] = json!({"api": {"token": {"type": "env"}}});
    only_error(&doc, "secrets.api.token.key", "needs `key`");
    doc["secrets"] = json!({"api": "token"});
    only_error(&doc, "secrets.api", "secret scope must be a mapping");
    doc["secrets"] = json!("token");
    only_error(&doc, "secrets", "mapping of scopes");
}

#[test]
fn paths_quote_odd_keys() {
    assert_eq!(join_key("", "method"), "method");
    assert_eq!(
        join_key("a", "steady-state-hypothesis"),
        "a.steady-state-hypothesis"
    );
    assert_eq!(join_key("configuration", "a.b"), "configuration[\"a.b\"]");
    assert_eq!(join_key("configuration", ""), "configuration[\"\"]");
    assert_eq!(join_index("method", 2), "method[2]");
}

#[test]
fn odd_documents_never_panic() {
    let odd = [
        json!({"method": [[], 1, "x", null, {"ref": null}, {"provider": []}, {"tolerance": {"type": "probe"}}]}),
        json!({"steady-state-hypothesis": {"probes": [null, 1, {"tolerance": {"type": "probe", "provider": 1}}]}, "method": null}),
        json!({"configuration": {"a": {"type": "probe"}}, "secrets": {"s": {"k": {"type": 3}}}, "method": []}),
        json!({"method": [{"type": "action", "name": "n", "provider": {"type": "python", "module": "chaoslib.types", "func": "run_activity", "arguments": {"activity": {"type": "action", "name": "deeper", "provider": {"type": "python", "module": "chaoslib.types", "func": "run_activity", "arguments": {"activity": 5}}}}}}]}),
    ];
    for doc in odd {
        let report = validate(&doc, "odd");
        assert!(!report.errors.is_empty());
    }
}

/// The guide's four experiments (and the Chaos Toolkit example) must validate without errors.
#[test]
fn guide_experiments_validate() {
    let dirs = [
        concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/guide-experiments"),
        "/work/shared/guide-experiments",
    ];
    let Some(dir) = dirs.iter().find(|d| std::path::Path::new(d).is_dir()) else {
        println!("guide experiments not found; skipping");
        return;
    };
    let docker_missing = crate::experiment::pathlookup::resolve_executable("docker").is_err();
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .expect("readable dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    let example =
        std::path::Path::new(dir).join("../ctk-example/chaostoolkit-example-experiment.yaml");
    if example.is_file() {
        files.push(example);
    }
    assert!(files.len() >= 4, "{files:?}");
    for file in files {
        let source = file.to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&file).expect("readable");
        let loaded = parse_text(&source, &text, Format::Yaml).expect("loads");
        assert!(
            loaded.warnings.is_empty(),
            "{source}: {:?}",
            loaded.warnings
        );
        let report = validate(&loaded.doc, &source);
        let errors: Vec<String> = report
            .errors
            .iter()
            .filter(|e| !(docker_missing && e.message.starts_with("path 'docker' cannot be found")))
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{source}: {errors:#?}");
        assert!(
            report.warnings.is_empty(),
            "{source}: {:?}",
            report.warnings
        );
    }
}
