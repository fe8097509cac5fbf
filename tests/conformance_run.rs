//! Run semantics against ctk-reference.md §5 and the outcome matrix of §6, with real processes
//! and a real HTTP server on loopback. Every expected value is the one the reference gives.

#![allow(clippy::field_reassign_with_default)]

mod common;

use chaosdeck::engine::{DryMode, HypothesisStrategy, RollbackStrategy, RunOptions};
use common::{run_yaml, tempdir, Reply, Server};
use serde_json::Value;
use std::time::Duration;

fn opts(rollbacks: RollbackStrategy) -> RunOptions {
    RunOptions {
        rollback_strategy: rollbacks,
        ..RunOptions::default()
    }
}

fn statuses(list: &Value) -> Vec<Option<String>> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|e| e.get("status").and_then(Value::as_str).map(str::to_string))
        .collect()
}

/// An experiment whose hypothesis checks a marker file and whose method may remove it.
fn marker_experiment(marker: &str, method_removes: bool, extra_method: &str) -> String {
    let removal = if method_removes {
        format!(
            "  - type: action\n    name: remove\n    provider: {{type: process, path: rm, arguments: [\"-f\", \"{marker}\"]}}\n"
        )
    } else {
        String::new()
    };
    format!(
        r#"title: marker
description: d
steady-state-hypothesis:
  title: marker exists
  probes:
    - type: probe
      name: present
      tolerance: 0
      provider: {{type: process, path: test, arguments: ["-f", "{marker}"]}}
method:
  - type: action
    name: noop
    provider: {{type: process, path: "true"}}
{removal}{extra_method}rollbacks:
  - type: action
    name: undo
    provider: {{type: process, path: touch, arguments: ["{marker}"]}}
"#
    )
}

fn marker() -> String {
    let dir = tempdir();
    let m = dir.join("marker");
    std::fs::write(&m, "").unwrap();
    m.display().to_string()
}

/// §6 matrix row 1: all met, method ok → completed, not deviated, rollbacks played, exit 0.
#[tokio::test(flavor = "multi_thread")]
async fn all_met_completes_and_plays_rollbacks() {
    let m = marker();
    let ran = run_yaml(
        &marker_experiment(&m, false, ""),
        opts(RollbackStrategy::Default),
    )
    .await;
    assert_eq!(ran.journal["status"], "completed");
    assert_eq!(ran.journal["deviated"], false);
    assert_eq!(
        statuses(&ran.journal["rollbacks"]),
        vec![Some("succeeded".into())]
    );
    assert_eq!(ran.report.ctk_exit_code(), 0);
    assert!(ran.report.verdict.passed, "{:?}", ran.report.verdict);
}

/// §6 matrix row 2: failing method actions (refused connection, timeout, non-zero exit,
/// HTTP 404) leave the run completed, not deviated, rollbacks played, exit 0.
#[tokio::test(flavor = "multi_thread")]
async fn failing_method_actions_still_complete() {
    let server = Server::start();
    server.route("/missing", Reply::text(404, "nope"));
    let m = marker();
    let extra = format!(
        r#"  - type: action
    name: refused
    provider: {{type: http, url: "http://127.0.0.1:9/", timeout: 2}}
  - type: action
    name: slow
    provider: {{type: process, path: sleep, arguments: "2", timeout: 0.2}}
  - type: action
    name: exits-3
    provider: {{type: process, path: sh, arguments: ["-c", "exit 3"]}}
  - type: action
    name: http-404
    provider: {{type: http, url: "{}"}}
"#,
        server.url("/missing")
    );
    let ran = run_yaml(
        &marker_experiment(&m, false, &extra),
        opts(RollbackStrategy::Default),
    )
    .await;
    assert_eq!(ran.journal["status"], "completed");
    assert_eq!(ran.journal["deviated"], false);
    let run = &ran.journal["run"];
    assert_eq!(
        statuses(run),
        vec![
            Some("succeeded".into()),
            Some("failed".into()),
            Some("failed".into()),
            Some("succeeded".into()),
            Some("succeeded".into())
        ]
    );
    // §2: a timeout fails with Chaos Toolkit's message and no output.
    let slow = &run[2];
    assert_eq!(slow["output"], Value::Null);
    let last = slow["exception"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .as_str()
        .unwrap();
    assert!(
        last.ends_with("process activity took too long to complete\n"),
        "{last}"
    );
    assert!(last.contains("ActivityFailed"));
    // §2: a non-zero exit is not a failure; a 404 is a successful activity.
    assert_eq!(run[3]["output"]["status"], 3);
    assert_eq!(run[4]["output"]["status"], 404);
    assert_eq!(
        statuses(&ran.journal["rollbacks"]),
        vec![Some("succeeded".into())]
    );
    assert_eq!(ran.report.ctk_exit_code(), 0);
    // design.md Verdict: chaosdeck fails it.
    assert!(!ran.report.verdict.passed);
}

/// §6 matrix row 3 (quirk): before-hypothesis not met with a working probe → completed, not
/// deviated, exit 0, and under `default` the rollbacks still play.
#[tokio::test(flavor = "multi_thread")]
async fn before_hypothesis_not_met_is_completed() {
    let dir = tempdir();
    let missing = dir.join("absent").display().to_string();
    let ran = run_yaml(
        &marker_experiment(&missing, false, ""),
        opts(RollbackStrategy::Default),
    )
    .await;
    assert_eq!(ran.journal["status"], "completed");
    assert_eq!(ran.journal["deviated"], false);
    assert_eq!(
        ran.journal["steady_states"]["before"]["steady_state_met"],
        false
    );
    assert_eq!(ran.journal["steady_states"]["after"], Value::Null);
    assert_eq!(ran.journal["run"].as_array().unwrap().len(), 0);
    assert_eq!(
        statuses(&ran.journal["rollbacks"]),
        vec![Some("succeeded".into())]
    );
    assert_eq!(ran.report.ctk_exit_code(), 0);
    assert!(!ran.report.verdict.passed);
}

/// Deliberate difference (design.md, Safe rollbacks): under `safe`, a run whose method never
/// began plays no rollback.
#[tokio::test(flavor = "multi_thread")]
async fn safe_strategy_skips_rollbacks_when_method_never_began() {
    let dir = tempdir();
    let missing = dir.join("absent").display().to_string();
    let ran = run_yaml(
        &marker_experiment(&missing, false, ""),
        RunOptions::default(),
    )
    .await;
    assert_eq!(ran.journal["rollbacks"].as_array().unwrap().len(), 0);
    assert!(!std::path::Path::new(&missing).exists());
}

/// §6 matrix row 4: a before-hypothesis probe that errors (connection refused) → failed, not
/// deviated, no rollbacks under `default`, exit 1.
#[tokio::test(flavor = "multi_thread")]
async fn before_probe_error_fails_without_rollbacks() {
    let yaml = r#"title: t
description: d
steady-state-hypothesis:
  title: h
  probes:
    - type: probe
      name: refused
      tolerance: 200
      provider: {type: http, url: "http://127.0.0.1:9/health", timeout: 2}
method:
  - type: action
    name: a
    provider: {type: process, path: "true"}
rollbacks:
  - type: action
    name: undo
    provider: {type: process, path: "true"}
"#;
    let ran = run_yaml(yaml, opts(RollbackStrategy::Default)).await;
    assert_eq!(ran.journal["status"], "failed");
    assert_eq!(ran.journal["deviated"], false);
    let probe = &ran.journal["steady_states"]["before"]["probes"][0];
    assert_eq!(probe["status"], "failed");
    assert_eq!(probe["tolerance_met"], false);
    let last = probe["exception"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .as_str()
        .unwrap();
    assert!(last.contains("failed to connect to"), "{last}");
    assert_eq!(ran.journal["rollbacks"].as_array().unwrap().len(), 0);
    assert_eq!(ran.report.ctk_exit_code(), 1);
}

/// §6 matrix row 5: after-hypothesis not met → completed, deviated, rollbacks played, exit 1.
#[tokio::test(flavor = "multi_thread")]
async fn after_hypothesis_not_met_deviates() {
    let m = marker();
    let ran = run_yaml(
        &marker_experiment(&m, true, ""),
        opts(RollbackStrategy::Default),
    )
    .await;
    assert_eq!(ran.journal["status"], "completed");
    assert_eq!(ran.journal["deviated"], true);
    assert_eq!(
        ran.journal["steady_states"]["after"]["steady_state_met"],
        false
    );
    assert_eq!(
        statuses(&ran.journal["rollbacks"]),
        vec![Some("succeeded".into())]
    );
    assert_eq!(ran.report.ctk_exit_code(), 1);
    assert!(
        std::path::Path::new(&m).exists(),
        "the rollback recreated the marker"
    );
}

/// §6 matrix row 6 and §5 step 3: an invalid URL in the method is unexpected → aborted, the
/// rest of the method and the after-hypothesis skipped, rollbacks played under `default`.
#[tokio::test(flavor = "multi_thread")]
async fn invalid_url_in_method_aborts() {
    let m = marker();
    let extra = r#"  - type: action
    name: bad-url
    provider: {type: http, url: "not a url"}
  - type: action
    name: never-runs
    provider: {type: process, path: "true"}
"#;
    let ran = run_yaml(
        &marker_experiment(&m, false, extra),
        opts(RollbackStrategy::Default),
    )
    .await;
    assert_eq!(ran.journal["status"], "aborted");
    assert_eq!(ran.journal["deviated"], false);
    let run = ran.journal["run"].as_array().unwrap();
    assert_eq!(
        run.len(),
        2,
        "the activity after the unexpected error did not run"
    );
    assert!(run[1].get("status").is_none());
    assert_eq!(ran.journal["steady_states"]["after"], Value::Null);
    assert_eq!(
        statuses(&ran.journal["rollbacks"]),
        vec![Some("succeeded".into())]
    );
    assert_eq!(ran.report.ctk_exit_code(), 1);
}

/// Deliberate difference (README): an invalid URL in a hypothesis probe crashes Chaos Toolkit
/// without a journal; chaosdeck records the probe as failed and the run as failed.
#[tokio::test(flavor = "multi_thread")]
async fn invalid_url_in_hypothesis_is_a_failed_probe() {
    let yaml = r#"title: t
description: d
steady-state-hypothesis:
  title: h
  probes:
    - type: probe
      name: bad
      tolerance: 200
      provider: {type: http, url: "not a url"}
method: []
"#;
    let ran = run_yaml(yaml, RunOptions::default()).await;
    assert_eq!(ran.journal["status"], "failed");
    assert_eq!(
        ran.journal["steady_states"]["before"]["probes"][0]["status"],
        "failed"
    );
}

fn continuous_experiment(marker: &str) -> String {
    format!(
        r#"title: continuous
description: d
steady-state-hypothesis:
  title: marker exists
  probes:
    - type: probe
      name: present
      tolerance: 0
      provider: {{type: process, path: test, arguments: ["-f", "{marker}"]}}
method:
  - type: action
    name: remove
    provider: {{type: process, path: rm, arguments: ["-f", "{marker}"]}}
    pauses: {{after: 0.5}}
  - type: action
    name: later
    provider: {{type: process, path: "true"}}
    pauses: {{before: 0.5}}
rollbacks:
  - type: action
    name: undo
    provider: {{type: process, path: touch, arguments: ["{marker}"]}}
"#
    )
}

/// §6 matrix row "continuous + fail-fast, after also deviates": completed, deviated, rollbacks
/// played under the `deviated` strategy, exit 1.
#[tokio::test(flavor = "multi_thread")]
async fn continuous_fail_fast_with_deviation() {
    let m = marker();
    let mut o = opts(RollbackStrategy::Deviated);
    o.hypothesis_strategy = HypothesisStrategy::Continuously;
    o.fail_fast = true;
    o.hypothesis_frequency = Duration::from_millis(100);
    let ran = run_yaml(&continuous_experiment(&m), o).await;
    assert_eq!(ran.journal["status"], "completed");
    assert_eq!(ran.journal["deviated"], true);
    assert!(!ran.journal["steady_states"]["during"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(
        statuses(&ran.journal["rollbacks"]),
        vec![Some("succeeded".into())]
    );
    assert_eq!(ran.report.ctk_exit_code(), 1);
}

/// §6 matrix row "during-method-only + fail-fast": failed, not deviated, no rollbacks under
/// `deviated`, exit 1; the method stops early.
#[tokio::test(flavor = "multi_thread")]
async fn during_only_fail_fast_fails() {
    let m = marker();
    let mut o = opts(RollbackStrategy::Deviated);
    o.hypothesis_strategy = HypothesisStrategy::DuringMethodOnly;
    o.fail_fast = true;
    o.hypothesis_frequency = Duration::from_millis(100);
    let ran = run_yaml(&continuous_experiment(&m), o).await;
    assert_eq!(ran.journal["status"], "failed");
    assert_eq!(ran.journal["deviated"], false);
    assert_eq!(ran.journal["steady_states"]["before"], Value::Null);
    assert_eq!(ran.journal["steady_states"]["after"], Value::Null);
    let during = ran.journal["steady_states"]["during"].as_array().unwrap();
    assert_eq!(during.last().unwrap()["steady_state_met"], false);
    assert_eq!(
        ran.journal["run"].as_array().unwrap().len(),
        1,
        "fail-fast stopped the method"
    );
    assert_eq!(ran.journal["rollbacks"].as_array().unwrap().len(), 0);
    assert_eq!(ran.report.ctk_exit_code(), 1);
}

/// §5 quirk: during-method-only without fail-fast never deviates and exits 0 even when every
/// check failed.
#[tokio::test(flavor = "multi_thread")]
async fn during_only_without_fail_fast_never_deviates() {
    let m = marker();
    let mut o = opts(RollbackStrategy::Default);
    o.hypothesis_strategy = HypothesisStrategy::DuringMethodOnly;
    o.hypothesis_frequency = Duration::from_millis(100);
    let ran = run_yaml(&continuous_experiment(&m), o).await;
    assert_eq!(ran.journal["status"], "completed");
    assert_eq!(ran.journal["deviated"], false);
    assert_eq!(ran.report.ctk_exit_code(), 0);
    assert!(
        !ran.report.verdict.passed,
        "chaosdeck's verdict counts the broken checks"
    );
}

/// §5: which hypothesis states each strategy fills.
#[tokio::test(flavor = "multi_thread")]
async fn hypothesis_strategies_fill_their_phases() {
    let cases = [
        (HypothesisStrategy::Default, true, true, false),
        (HypothesisStrategy::BeforeMethodOnly, true, false, false),
        (HypothesisStrategy::AfterMethodOnly, false, true, false),
        (HypothesisStrategy::DuringMethodOnly, false, false, true),
        (HypothesisStrategy::Continuously, true, true, true),
    ];
    for (strategy, before, after, during) in cases {
        let m = marker();
        let mut o = RunOptions::default();
        o.hypothesis_strategy = strategy;
        o.hypothesis_frequency = Duration::from_millis(100);
        let ran = run_yaml(&marker_experiment(&m, false, ""), o).await;
        let states = &ran.journal["steady_states"];
        assert_eq!(!states["before"].is_null(), before, "{strategy} before");
        assert_eq!(!states["after"].is_null(), after, "{strategy} after");
        assert_eq!(
            !states["during"].as_array().unwrap().is_empty(),
            during,
            "{strategy} during"
        );
    }
}

/// §5 rollback strategies: `never` plays nothing; an unknown name plays nothing; `always`
/// plays after a failed run.
#[tokio::test(flavor = "multi_thread")]
async fn rollback_strategies_by_name() {
    let m = marker();
    let ran = run_yaml(
        &marker_experiment(&m, false, ""),
        opts(RollbackStrategy::Never),
    )
    .await;
    assert_eq!(ran.journal["rollbacks"].as_array().unwrap().len(), 0);
    let ran = run_yaml(
        &marker_experiment(&m, false, ""),
        opts("sometimes".parse().unwrap()),
    )
    .await;
    assert_eq!(ran.journal["rollbacks"].as_array().unwrap().len(), 0);
    let yaml = r#"title: t
description: d
steady-state-hypothesis:
  title: h
  probes:
    - type: probe
      name: refused
      tolerance: 200
      provider: {type: http, url: "http://127.0.0.1:9/", timeout: 1}
method: []
rollbacks:
  - type: action
    name: undo
    provider: {type: process, path: "true"}
"#;
    let ran = run_yaml(yaml, opts(RollbackStrategy::Always)).await;
    assert_eq!(ran.journal["status"], "failed");
    assert_eq!(
        statuses(&ran.journal["rollbacks"]),
        vec![Some("succeeded".into())]
    );
}

/// §5 `--dry`: probes / actions / activities are not executed (output null, status succeeded,
/// hypothesis met where probes are skipped); `pause` runs everything but skips pauses; the
/// journal's experiment carries the mode.
#[tokio::test(flavor = "multi_thread")]
async fn dry_modes() {
    let dir = tempdir();
    let touched = dir.join("touched");
    let yaml = format!(
        r#"title: dry
description: d
steady-state-hypothesis:
  title: h
  probes:
    - type: probe
      name: never-true
      tolerance: 0
      provider: {{type: process, path: "false"}}
method:
  - type: action
    name: touch
    provider: {{type: process, path: touch, arguments: ["{}"]}}
    pauses: {{after: 4}}
"#,
        touched.display()
    );
    for (mode, probe_runs, action_runs) in [
        (DryMode::Probes, false, true),
        (DryMode::Actions, true, false),
        (DryMode::Activities, false, false),
        (DryMode::Pause, true, true),
    ] {
        let _ = std::fs::remove_file(&touched);
        let mut o = RunOptions::default();
        o.dry = Some(mode);
        let started = std::time::Instant::now();
        let ran = run_yaml(&yaml, o).await;
        let took = started.elapsed();
        assert_eq!(ran.journal["experiment"]["dry"], mode.as_str());
        // design.md Verdict: a run whose activities were not executed does not pass.
        if mode != DryMode::Pause {
            assert!(!ran.report.verdict.passed, "{mode:?}");
        }
        let probe = &ran.journal["steady_states"]["before"]["probes"][0];
        if probe_runs {
            assert_eq!(probe["tolerance_met"], false, "{mode:?}");
            assert_eq!(ran.journal["run"].as_array().unwrap().len(), 0, "{mode:?}");
            continue;
        }
        assert_eq!(probe["output"], Value::Null, "{mode:?}");
        assert_eq!(probe["status"], "succeeded");
        assert_eq!(
            ran.journal["steady_states"]["before"]["steady_state_met"],
            true
        );
        assert_eq!(touched.exists(), action_runs, "{mode:?}");
        let action = &ran.journal["run"][0];
        assert_eq!(action["status"], "succeeded");
        if !action_runs {
            assert_eq!(action["output"], Value::Null);
        }
        // A dry activity never pauses; one that is executed does.
        assert_eq!(
            took < Duration::from_secs(3),
            !action_runs,
            "{mode:?}: {took:?}"
        );
    }
    // `pause` mode: the probe runs (and misses), so nothing else runs; check pauses separately.
    let mut o = RunOptions::default();
    o.dry = Some(DryMode::Pause);
    o.hypothesis_strategy = HypothesisStrategy::AfterMethodOnly;
    let started = std::time::Instant::now();
    let ran = run_yaml(&yaml, o).await;
    assert!(touched.exists());
    assert_eq!(ran.journal["run"][0]["output"]["status"], 0);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "pause mode skips pauses"
    );
}

/// §2 background: a background action runs while the method goes on; all background work is
/// joined before the phase ends.
#[tokio::test(flavor = "multi_thread")]
async fn background_activities_are_joined_before_rollbacks() {
    let dir = tempdir();
    let done = dir.join("bg-done");
    let yaml = format!(
        r#"title: bg
description: d
method:
  - type: action
    name: slow-bg
    background: true
    provider: {{type: process, path: sh, arguments: ["-c", "sleep 0.5; touch {0}"]}}
  - type: action
    name: quick
    provider: {{type: process, path: "true"}}
rollbacks:
  - type: action
    name: check
    provider: {{type: process, path: test, arguments: ["-f", "{0}"]}}
"#,
        done.display()
    );
    let ran = run_yaml(&yaml, RunOptions::default()).await;
    let run = ran.journal["run"].as_array().unwrap();
    assert_eq!(run[0]["activity"]["name"], "slow-bg");
    assert_eq!(run[0]["status"], "succeeded");
    assert_eq!(
        ran.journal["rollbacks"][0]["output"]["status"], 0,
        "the background work finished before the rollbacks"
    );
}

/// §2 ref: a method `ref` runs the referenced activity, and the journal shows the target.
#[tokio::test(flavor = "multi_thread")]
async fn refs_resolve_to_their_target() {
    let yaml = r#"title: ref
description: d
steady-state-hypothesis:
  title: h
  probes:
    - type: probe
      name: echo-probe
      tolerance: 0
      provider: {type: process, path: echo, arguments: ["probe"]}
method:
  - ref: echo-probe
rollbacks: []
"#;
    let ran = run_yaml(yaml, RunOptions::default()).await;
    let entry = &ran.journal["run"][0];
    assert_eq!(entry["activity"]["name"], "echo-probe");
    assert_eq!(entry["output"]["stdout"], "probe\n");
}

/// §2 pauses: `before` and `after` are waited, `after` even after a failure.
#[tokio::test(flavor = "multi_thread")]
async fn pauses_are_waited_even_after_failure() {
    let yaml = r#"title: pauses
description: d
method:
  - type: action
    name: fails
    provider: {type: process, path: sleep, arguments: "5", timeout: 0.1}
    pauses: {before: 0.3, after: 0.4}
"#;
    let started = std::time::Instant::now();
    let ran = run_yaml(yaml, RunOptions::default()).await;
    assert_eq!(ran.journal["run"][0]["status"], "failed");
    assert!(started.elapsed() >= Duration::from_millis(800));
}
