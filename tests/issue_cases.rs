//! The cases issue #2 names, each a test against real processes and loopback servers.

mod common;

use chaosdeck::engine::RunOptions;
use chaosdeck::headless::{prepare, PrepareOptions};
use common::{run_yaml, tempdir, write_temp};
use serde_json::Value;
use std::time::{Duration, Instant};

const PAUSE_FROM_ENV: &str = r#"title: pause from env
description: a pause read from the environment
configuration:
  wait_for:
    type: env
    key: CHAOSDECK_TEST_PAUSE_SECONDS
    env_var_type: int
method:
  - type: action
    name: first
    provider: {type: process, path: "true"}
    pauses:
      after: ${wait_for}
"#;

/// A configuration value from an environment variable with `env_var_type: int`, used whole as
/// a pause, pauses that long; unset, the run stops before any activity naming the variable;
/// `two`, an error naming the key and the type.
#[test]
fn pause_from_an_int_environment_variable() {
    let dir = tempdir();
    std::fs::write(dir.join("e.yaml"), PAUSE_FROM_ENV).unwrap();
    let started = Instant::now();
    let out = common::chaosdeck(
        &dir,
        &["run", "e.yaml"],
        &[("CHAOSDECK_TEST_PAUSE_SECONDS", "2")],
    );
    let took = started.elapsed();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(took >= Duration::from_secs(2), "paused {took:?}");
    let journal: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("journal.json")).unwrap()).unwrap();
    assert_eq!(journal["chaosdeck"]["variables"]["wait_for"], 2);

    let _ = std::fs::remove_file(dir.join("journal.json"));
    let out = common::chaosdeck(&dir, &["run", "e.yaml"], &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(err.contains("CHAOSDECK_TEST_PAUSE_SECONDS"), "{err}");
    assert!(err.contains("e.yaml"), "{err}");
    assert!(!dir.join("journal.json").exists(), "nothing ran");

    let out = common::chaosdeck(
        &dir,
        &["run", "e.yaml"],
        &[("CHAOSDECK_TEST_PAUSE_SECONDS", "two")],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        err.contains("wait_for") && err.contains("int") && err.contains("two"),
        "{err}"
    );
    assert!(!dir.join("journal.json").exists(), "nothing ran");
}

/// A before-hypothesis that is not met: no method activity starts, background ones included.
#[tokio::test(flavor = "multi_thread")]
async fn unmet_before_hypothesis_starts_nothing() {
    let dir = tempdir();
    let witness = dir.join("witness");
    let yaml = format!(
        r#"title: t
description: d
steady-state-hypothesis:
  title: h
  probes:
    - type: probe
      name: never
      tolerance: 0
      provider: {{type: process, path: "false"}}
method:
  - type: action
    name: bg
    background: true
    provider: {{type: process, path: touch, arguments: ["{0}"]}}
  - type: action
    name: fg
    provider: {{type: process, path: touch, arguments: ["{0}"]}}
"#,
        witness.display()
    );
    let ran = run_yaml(&yaml, RunOptions::default()).await;
    assert_eq!(ran.journal["run"].as_array().unwrap().len(), 0);
    assert!(!witness.exists());
    assert!(ran
        .report
        .verdict
        .reasons
        .iter()
        .any(|r| r.contains("not met before the method")));
}

/// A method with one action that cannot connect and one process that exits 1: the journal is
/// what Chaos Toolkit writes (status completed; a failed entry with its exception and null
/// output; a succeeded entry holding exit status 1), and the verdict fails with both reasons.
#[tokio::test(flavor = "multi_thread")]
async fn refused_connection_and_exit_one() {
    let yaml = r#"title: t
description: d
method:
  - type: action
    name: cannot-connect
    provider: {type: http, url: "http://127.0.0.1:9/", timeout: 2}
  - type: action
    name: exits-one
    provider: {type: process, path: sh, arguments: ["-c", "echo oops >&2; exit 1"]}
"#;
    let ran = run_yaml(yaml, RunOptions::default()).await;
    let j = &ran.journal;
    assert_eq!(j["status"], "completed");
    assert_eq!(j["deviated"], false);
    let run = j["run"].as_array().unwrap();
    assert_eq!(run[0]["status"], "failed");
    assert_eq!(run[0]["output"], Value::Null);
    let last = run[0]["exception"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .as_str()
        .unwrap();
    assert!(last.starts_with("chaoslib.exceptions.ActivityFailed: failed to connect to"));
    assert_eq!(run[1]["status"], "succeeded");
    assert_eq!(run[1]["output"]["status"], 1);
    assert_eq!(run[1]["output"]["stderr"], "oops\n");
    assert!(!ran.report.verdict.passed);
    assert!(
        ran.report
            .verdict
            .reasons
            .contains(&"method: 1 failed, 1 non-zero exit".to_string()),
        "{:?}",
        ran.report.verdict.reasons
    );
}

/// A process that prints invalid UTF-8: the run goes on, the exit status is kept, the journal
/// is valid JSON.
#[tokio::test(flavor = "multi_thread")]
async fn invalid_utf8_output() {
    let yaml = r#"title: t
description: d
method:
  - type: action
    name: binary-noise
    provider: {type: process, path: sh, arguments: ['-c', 'printf "ok \377\376 end"; exit 4']}
  - type: action
    name: after
    provider: {type: process, path: echo, arguments: ["still here"]}
"#;
    let ran = run_yaml(yaml, RunOptions::default()).await;
    let run = ran.journal["run"].as_array().unwrap();
    assert_eq!(run[0]["output"]["status"], 4);
    let stdout = run[0]["output"]["stdout"].as_str().unwrap();
    assert!(
        stdout.starts_with("ok ") && stdout.ends_with(" end"),
        "{stdout}"
    );
    assert_eq!(run[1]["output"]["stdout"], "still here\n");
}

/// Nothing runs while any error stands, and all errors are reported together.
#[tokio::test(flavor = "multi_thread")]
async fn all_errors_reported_together() {
    let path = write_temp(
        "bad.yaml",
        r#"title: t
method:
  - type: action
    provider: {type: http}
  - type: sideways
    name: x
    provider: {type: process, path: "true", arguments: ["${nowhere}"]}
"#,
    );
    let findings = prepare(path.to_str().unwrap(), &PrepareOptions::default())
        .await
        .expect_err("invalid");
    let text: Vec<String> = findings.errors.iter().map(|e| e.to_string()).collect();
    let all = text.join("\n");
    assert!(text.len() >= 4, "{all}");
    assert!(all.contains("description"), "{all}");
    assert!(all.contains("method[0]"), "{all}");
    assert!(all.contains("method[1]"), "{all}");
    assert!(all.contains("bad.yaml"), "{all}");
}

/// Secret values never appear in the journal: not in the experiment's copy (Chaos Toolkit copies
/// literal secrets there — deliberate difference), not in outputs, not in the resolved variables.
#[tokio::test(flavor = "multi_thread")]
async fn secrets_are_masked_in_the_journal() {
    let yaml = r#"title: t
description: d
secrets:
  api:
    token: "s3cr3t-value-42"
method:
  - type: action
    name: leaks
    provider: {type: process, path: echo, arguments: ["token=${token}"]}
"#;
    let ran = run_yaml(yaml, RunOptions::default()).await;
    let text = serde_json::to_string(&ran.journal).unwrap();
    assert!(!text.contains("s3cr3t-value-42"), "{text}");
    assert_eq!(ran.journal["experiment"]["secrets"]["api"]["token"], "***");
    assert_eq!(ran.journal["run"][0]["output"]["stdout"], "token=***\n");
}

/// `run-all` never overwrites a journal: two files with one stem get two reports.
#[test]
fn run_all_keeps_every_journal() {
    let dir = tempdir();
    let exp = dir.join("exp");
    std::fs::create_dir_all(&exp).unwrap();
    std::fs::write(exp.join("x.yaml"), "title: a\ndescription: d\nmethod: []\n").unwrap();
    std::fs::write(
        exp.join("x.json"),
        r#"{"title": "b", "description": "d", "method": [{"type": "action", "name": "f", "provider": {"type": "process", "path": "false"}}]}"#,
    )
    .unwrap();
    let out = common::chaosdeck(&dir, &["run-all", "exp", "--reports-dir", "rep"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Passed: 1") && err.contains("Failed: 1"),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(dir.join("rep")).unwrap().count(), 2);
}

/// A misspelt key is not silently ignored: validation warns and suggests the key meant.
#[tokio::test(flavor = "multi_thread")]
async fn unknown_keys_are_warned_about() {
    let path = write_temp(
        "typo.yaml",
        "title: t\ndescription: d\nmethod:\n  - type: probe\n    name: p\n    provider:\n      type: process\n      path: \"true\"\n      expcet:\n        - status: 0\n",
    );
    let (_, findings) = prepare(path.to_str().unwrap(), &PrepareOptions::default())
        .await
        .expect("valid, with a warning");
    let all: Vec<String> = findings.warnings.iter().map(|w| w.to_string()).collect();
    assert!(
        all.iter()
            .any(|w| w.contains("method[0].provider.expcet") && w.contains("'expect'")),
        "{all:?}"
    );
}

/// A journal path whose folder does not exist is refused before anything runs: the action that
/// would have left its mark never runs, and the exit code says so.
#[test]
fn a_journal_path_in_a_missing_folder_is_refused_before_the_run() {
    let dir = tempdir();
    let yaml = format!(
        "title: t\ndescription: d\nmethod:\n  - type: action\n    name: mark\n    \
         provider: {{type: process, path: touch, arguments: [\"{}/ran\"]}}\n",
        dir.display()
    );
    std::fs::write(dir.join("e.yaml"), yaml).unwrap();
    let out = common::chaosdeck(
        &dir,
        &["run", "e.yaml", "--journal-path", "no-such-folder/j.json"],
        &[("XDG_DATA_HOME", dir.join("data").to_str().unwrap())],
    );
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("no-such-folder") && said.contains("nothing was run"),
        "{said}"
    );
    assert!(!dir.join("ran").exists(), "the action ran");
    // A folder given as the journal is refused too.
    std::fs::create_dir_all(dir.join("a-folder")).unwrap();
    let out = common::chaosdeck(
        &dir,
        &["run", "e.yaml", "--journal-path", "a-folder"],
        &[("XDG_DATA_HOME", dir.join("data").to_str().unwrap())],
    );
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("that is a folder"), "{said}");
    assert!(!dir.join("ran").exists(), "the action ran");
}

/// Dates on the command line are checked: a session date or a due date that is no calendar day
/// is refused, once, with "error:" said once.
#[test]
fn gameday_dates_must_be_calendar_days() {
    let dir = tempdir();
    let data = dir.join("data");
    let env = [("XDG_DATA_HOME", data.to_str().unwrap())];
    let plan = concat!(env!("CARGO_MANIFEST_DIR"), "/gamedays/monthly.yaml");
    let out = common::chaosdeck(
        &dir,
        &["gameday", "start", plan, "--date", "2026-13-45"],
        &env,
    );
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.starts_with("error: --date '2026-13-45' is not a date"),
        "{said}"
    );
    let out = common::chaosdeck(
        &dir,
        &["gameday", "start", plan, "--date", "2026-12-04"],
        &env,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let args = [
        "gameday", "action", &id, "--owner", "cy", "--due", "tomorrow", "page",
    ];
    let out = common::chaosdeck(&dir, &args, &env);
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("'tomorrow' is not a date") && !said.contains("error: error:"));
    let args = [
        "gameday",
        "action",
        &id,
        "--owner",
        "",
        "--due",
        "2026-12-18",
        "page",
    ];
    let out = common::chaosdeck(&dir, &args, &env);
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("needs its owner"), "{said}");
    let out = common::chaosdeck(&dir, &["gameday", "start", "no-such-plan.yaml"], &env);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!said.contains("error: error:"), "{said}");
}
