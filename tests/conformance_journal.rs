//! The journal's shape against ctk-reference.md §6 and the real journal in
//! ../shared/ctk-example: key order, entry shapes, timestamp and duration formats.

mod common;

use chaosdeck::engine::RunOptions;
use common::{run_yaml, Reply, Server};
use regex::Regex;
use serde_json::Value;

fn keys(v: &Value) -> Vec<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

/// The example experiment of ../shared/ctk-example, pointed at a loopback server of ours.
fn example(base: &str) -> String {
    format!(
        r#"title: Health survives a slow dependency
description: Example for the spec
configuration:
  base: "{base}"
  who: gameday
steady-state-hypothesis:
  title: service answers
  probes:
    - type: probe
      name: health
      tolerance: 200
      provider: {{type: http, url: "${{base}}/health", timeout: 2}}
method:
  - type: action
    name: say-hello
    provider: {{type: process, path: echo, arguments: ["hello", "${{who}}"]}}
  - type: action
    name: too-slow
    provider: {{type: process, path: sleep, arguments: "2", timeout: 0.3}}
rollbacks:
  - type: action
    name: undo
    provider: {{type: process, path: "true"}}
"#
    )
}

/// §6: top-level keys in Chaos Toolkit's order (plus chaosdeck's own key at the end), and the
/// outcome of the reference's example run.
#[tokio::test(flavor = "multi_thread")]
async fn example_run_matches_the_reference_journal() {
    let server = Server::start();
    server.route("/health", Reply::text(200, "up 42"));
    let ran = run_yaml(
        &example(&format!("http://{}", server.addr)),
        RunOptions::default(),
    )
    .await;
    let j = &ran.journal;
    assert_eq!(
        keys(j),
        [
            "chaoslib-version",
            "platform",
            "node",
            "experiment",
            "start",
            "status",
            "deviated",
            "steady_states",
            "run",
            "rollbacks",
            "end",
            "duration",
            "chaosdeck"
        ]
    );
    assert!(j["chaoslib-version"]
        .as_str()
        .unwrap()
        .starts_with("chaosdeck "));
    assert_eq!(j["status"], "completed");
    assert_eq!(j["deviated"], false);
    assert_eq!(keys(&j["steady_states"]), ["before", "after", "during"]);
    // The experiment copy: title substituted, activities left with their templates, dry null.
    assert_eq!(
        j["experiment"]["title"],
        "Health survives a slow dependency"
    );
    assert_eq!(
        j["experiment"]["method"][0]["provider"]["arguments"][1], "${who}",
        "§4: the journal keeps activities unsubstituted"
    );
    assert_eq!(j["experiment"]["dry"], Value::Null);
    // Hypothesis entry: key order and tolerance_met, output shaped status/headers/body.
    let probe = &j["steady_states"]["before"]["probes"][0];
    assert_eq!(
        keys(probe),
        [
            "activity",
            "output",
            "start",
            "status",
            "end",
            "duration",
            "tolerance_met"
        ]
    );
    assert_eq!(keys(&probe["output"]), ["status", "headers", "body"]);
    assert_eq!(probe["output"]["status"], 200);
    assert_eq!(
        probe["output"]["body"], "up 42",
        "§2: text/plain stays a string"
    );
    assert_eq!(probe["output"]["headers"]["Content-Type"], "text/plain");
    // Method entries: no tolerance_met; a failed one has `exception` after `status`.
    let run = j["run"].as_array().unwrap();
    assert_eq!(
        keys(&run[0]),
        ["activity", "output", "start", "status", "end", "duration"]
    );
    assert_eq!(run[0]["output"]["stdout"], "hello gameday\n");
    assert_eq!(
        keys(&run[1]),
        [
            "activity",
            "output",
            "start",
            "status",
            "exception",
            "end",
            "duration"
        ]
    );
    assert_eq!(run[1]["output"], Value::Null);
    let d = run[1]["duration"].as_f64().unwrap();
    assert!((0.29..1.5).contains(&d), "the timeout of 0.3 s acted: {d}");
    assert_eq!(j["rollbacks"][0]["status"], "succeeded");
    assert_eq!(j["chaosdeck"]["verdict"], "failed");
}

/// §6: timestamps are `datetime.isoformat()` of UTC times, durations float seconds with
/// microsecond precision equal to end − start.
#[tokio::test(flavor = "multi_thread")]
async fn timestamps_and_durations_follow_isoformat() {
    let yaml = r#"title: t
description: d
method:
  - type: action
    name: a
    provider: {type: process, path: sleep, arguments: ["0.05"]}
"#;
    let ran = run_yaml(yaml, RunOptions::default()).await;
    let iso = Regex::new(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?\+00:00$").unwrap();
    let j = &ran.journal;
    for t in [
        &j["start"],
        &j["end"],
        &j["run"][0]["start"],
        &j["run"][0]["end"],
    ] {
        assert!(iso.is_match(t.as_str().unwrap()), "{t}");
    }
    let parse = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
    let e = &j["run"][0];
    let micros = (parse(&e["end"]) - parse(&e["start"]))
        .num_microseconds()
        .unwrap();
    assert_eq!(e["duration"].as_f64().unwrap(), micros as f64 / 1e6);
    assert!(j["duration"].as_f64().unwrap() >= 0.05);
}

/// §6 / design.md: the journal is valid JSON written with 2-space indentation.
#[tokio::test(flavor = "multi_thread")]
async fn journal_is_indented_with_two_spaces() {
    let yaml = "title: t\ndescription: d\nmethod: []\n";
    let path = common::write_temp("e.yaml", yaml);
    let dir = path.parent().unwrap();
    let out = common::chaosdeck(dir, &["run", "e.yaml"], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(dir.join("journal.json")).unwrap();
    assert!(
        text.starts_with("{\n  \"chaoslib-version\""),
        "{}",
        &text[..40.min(text.len())]
    );
}
