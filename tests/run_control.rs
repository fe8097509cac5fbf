//! Run control (issue #3): pause, step, skip, abort with and without rollback, signals, the
//! rollback ledger and `recover`, against real processes and loopback servers.

mod common;

use chaosdeck::engine::{self, Control, Event, RunOptions, RunReport, StepMode};
use chaosdeck::headless::{prepare, PrepareOptions};
use common::{alive, tempdir, write_temp, Reply, Server};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What a driven run left.
struct Driven {
    report: RunReport,
    journal: Value,
    events: Vec<(Instant, Event)>,
    /// When the first abort was sent.
    aborted_at: Option<Instant>,
    finished_at: Instant,
}

/// Runs an experiment, answering each event with the controls `react` returns.
async fn drive(
    yaml: &str,
    mut opts: RunOptions,
    mut react: impl FnMut(&Event) -> Vec<Control>,
) -> Driven {
    let path = write_temp("experiment.yaml", yaml);
    let (prepared, _) = prepare(path.to_str().unwrap(), &PrepareOptions::default())
        .await
        .unwrap_or_else(|f| panic!("did not prepare: {:?}", f.errors));
    let journal_path = path.with_file_name("journal.json");
    opts.journal_path = Some(journal_path.clone());
    let (ctx, crx) = tokio::sync::mpsc::unbounded_channel();
    let (etx, mut erx) = tokio::sync::mpsc::unbounded_channel();
    let task = tokio::spawn(engine::run(prepared, opts, crx, etx));
    let mut events = Vec::new();
    let mut aborted_at = None;
    while let Some(e) = erx.recv().await {
        for c in react(&e) {
            if matches!(c, Control::Abort | Control::AbortWithoutRollback) && aborted_at.is_none() {
                aborted_at = Some(Instant::now());
            }
            let _ = ctx.send(c);
        }
        let done = matches!(e, Event::RunFinished { .. });
        events.push((Instant::now(), e));
        if done {
            break;
        }
    }
    let finished_at = Instant::now();
    let report = task.await.expect("run task");
    let journal = serde_json::from_str(&std::fs::read_to_string(&journal_path).unwrap()).unwrap();
    Driven {
        report,
        journal,
        events,
        aborted_at,
        finished_at,
    }
}

fn started(e: &Event, name: &str) -> bool {
    matches!(e, Event::ActivityStarted(a) if a.name == name)
}

/// An experiment whose method holds `action` (YAML of one activity) and whose rollback
/// touches `marker`.
fn with_rollback(action: &str, marker: &Path) -> String {
    format!(
        "title: control\ndescription: d\nmethod:\n{action}rollbacks:\n  - type: action\n    name: undo\n    provider: {{type: process, path: touch, arguments: [\"{}\"]}}\n",
        marker.display()
    )
}

fn wait_gone(pid: i32) -> bool {
    let until = Instant::now() + Duration::from_secs(3);
    while Instant::now() < until {
        if !alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

fn read_pid(path: &Path) -> i32 {
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        if let Ok(t) = std::fs::read_to_string(path) {
            if let Ok(p) = t.trim().parse() {
                return p;
            }
        }
        assert!(Instant::now() < until, "no pid file {}", path.display());
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn assert_aborted_and_rolled_back(d: &Driven, marker: &Path) {
    let took = d.finished_at - d.aborted_at.expect("aborted");
    assert!(
        took < Duration::from_secs(2),
        "the run ended {took:?} after the abort"
    );
    assert_eq!(d.journal["status"], "interrupted");
    assert!(marker.exists(), "the rollback played");
    assert_eq!(d.journal["rollbacks"][0]["status"], "succeeded");
    let entry = &d.journal["run"][0];
    assert!(
        entry.get("status").is_none(),
        "an interrupted entry has no status (§5)"
    );
    assert_eq!(entry["output"], Value::Null);
}

/// Abort during a 300 s pause: ends within 2 s, the rollback played, status interrupted.
#[tokio::test(flavor = "multi_thread")]
async fn abort_during_a_long_pause() {
    let dir = tempdir();
    let marker = dir.join("undone");
    let action = "  - type: action\n    name: quick\n    provider: {type: process, path: \"true\"}\n    pauses: {after: 300}\n";
    let d = drive(
        &with_rollback(action, &marker),
        RunOptions::default(),
        |e| {
            if matches!(e, Event::Countdown { .. }) {
                vec![Control::Abort]
            } else {
                vec![]
            }
        },
    )
    .await;
    let took = d.finished_at - d.aborted_at.unwrap();
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert_eq!(d.journal["status"], "interrupted");
    assert!(marker.exists());
    // Deliberate difference (README): an operator's abort is recorded as such.
    assert_eq!(d.journal["interruption"]["kind"], "operator");
    assert_eq!(d.journal["interruption"]["name"], "abort");
}

/// Abort during `sleep 300` as a process action: the whole process group goes, rollback plays.
#[tokio::test(flavor = "multi_thread")]
async fn abort_during_a_long_process() {
    let dir = tempdir();
    let marker = dir.join("undone");
    let pidfile = dir.join("pid");
    let action = format!(
        "  - type: action\n    name: long\n    provider: {{type: process, path: sh, arguments: [\"-c\", \"sleep 300 & echo $! > {}; wait\"]}}\n",
        pidfile.display()
    );
    let pf = pidfile.clone();
    let d = drive(
        &with_rollback(&action, &marker),
        RunOptions::default(),
        move |e| {
            if started(e, "long") {
                read_pid(&pf);
                vec![Control::Abort]
            } else {
                vec![]
            }
        },
    )
    .await;
    assert_aborted_and_rolled_back(&d, &marker);
    let child = read_pid(&pidfile);
    assert!(
        wait_gone(child),
        "the grandchild sleep {child} was left behind"
    );
}

/// Abort during an HTTP call to a server that never answers.
#[tokio::test(flavor = "multi_thread")]
async fn abort_during_a_hanging_http_call() {
    let server = Server::start();
    server.route("/hang", Reply::hang());
    let dir = tempdir();
    let marker = dir.join("undone");
    let action = format!(
        "  - type: action\n    name: hang\n    provider: {{type: http, url: \"{}\"}}\n",
        server.url("/hang")
    );
    let srv = server.clone();
    let d = drive(
        &with_rollback(&action, &marker),
        RunOptions::default(),
        move |e| {
            if started(e, "hang") {
                let until = Instant::now() + Duration::from_secs(5);
                while srv.hits("/hang") == 0 && Instant::now() < until {
                    std::thread::sleep(Duration::from_millis(5));
                }
                vec![Control::Abort]
            } else {
                vec![]
            }
        },
    )
    .await;
    assert_aborted_and_rolled_back(&d, &marker);
}

/// Step mode: N method activities need exactly N steps, and one more starts the rollbacks.
#[tokio::test(flavor = "multi_thread")]
async fn step_mode_needs_one_step_per_activity_and_one_for_rollbacks() {
    let dir = tempdir();
    let marker = dir.join("undone");
    let mut method = String::new();
    for i in 0..3 {
        method.push_str(&format!(
            "  - type: action\n    name: a{i}\n    provider: {{type: process, path: \"true\"}}\n"
        ));
    }
    let mut steps = 0;
    let opts = RunOptions {
        step: StepMode::EachActivity,
        ..RunOptions::default()
    };
    let d = drive(&with_rollback(&method, &marker), opts, |e| {
        if matches!(e, Event::Held { .. }) {
            steps += 1;
            vec![Control::Step]
        } else {
            vec![]
        }
    })
    .await;
    assert_eq!(steps, 4, "3 activities + 1 before the rollbacks");
    let holds: Vec<Option<String>> = d
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::Held { next } => Some(next.as_ref().map(|a| a.name.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        holds,
        vec![
            Some("a0".into()),
            Some("a1".into()),
            Some("a2".into()),
            None
        ]
    );
    assert_eq!(d.journal["run"].as_array().unwrap().len(), 3);
    assert!(marker.exists());
    assert_eq!(d.journal["status"], "completed");
}

/// A skipped step leaves its activity unrun and says so in the journal (`chaosdeck.skipped`).
#[tokio::test(flavor = "multi_thread")]
async fn skipped_step_is_recorded_not_run() {
    let dir = tempdir();
    let witness = dir.join("ran");
    let method = format!(
        "  - type: action\n    name: first\n    provider: {{type: process, path: \"true\"}}\n  - type: action\n    name: skipped-one\n    provider: {{type: process, path: touch, arguments: [\"{}\"]}}\n",
        witness.display()
    );
    let opts = RunOptions {
        step: StepMode::EachActivity,
        ..RunOptions::default()
    };
    let d = drive(
        &with_rollback(&method, &dir.join("undone")),
        opts,
        |e| match e {
            Event::Held { next: Some(a) } if a.name == "skipped-one" => vec![Control::Skip],
            Event::Held { .. } => vec![Control::Step],
            _ => vec![],
        },
    )
    .await;
    assert!(!witness.exists());
    let run = d.journal["run"].as_array().unwrap();
    assert_eq!(run.len(), 1);
    assert_eq!(run[0]["activity"]["name"], "first");
    let skipped = &d.journal["chaosdeck"]["skipped"];
    assert_eq!(skipped[0]["name"], "skipped-one");
    assert_eq!(skipped[0]["index"], 1);
    assert!(
        !d.report.verdict.passed,
        "a skipped method step fails the verdict"
    );
}

/// Step-actions mode holds before actions only.
#[tokio::test(flavor = "multi_thread")]
async fn step_actions_holds_before_actions_only() {
    let method = "  - type: probe\n    name: look\n    provider: {type: process, path: \"true\"}\n  - type: action\n    name: act\n    provider: {type: process, path: \"true\"}\n";
    let opts = RunOptions {
        step: StepMode::EachAction,
        ..RunOptions::default()
    };
    let mut held = Vec::new();
    drive(
        &with_rollback(method, &tempdir().join("u")),
        opts,
        |e| match e {
            Event::Held { next } => {
                held.push(next.as_ref().map(|a| a.name.clone()));
                vec![Control::Step]
            }
            _ => vec![],
        },
    )
    .await;
    assert_eq!(held, vec![Some("act".into()), None]);
}

/// A pause held mid-countdown keeps its remaining time (within 100 ms) and resumes there.
#[tokio::test(flavor = "multi_thread")]
async fn held_countdown_keeps_its_remaining_time() {
    let action = "  - type: action\n    name: waits\n    provider: {type: process, path: \"true\"}\n    pauses: {after: 2}\n";
    let mut countdown_seen: Option<Instant> = None;
    let mut frozen_sent = false;
    let d = drive(
        &with_rollback(action, &tempdir().join("u")),
        RunOptions::default(),
        |e| match e {
            Event::Countdown { .. } if countdown_seen.is_none() => {
                countdown_seen = Some(Instant::now());
                std::thread::sleep(Duration::from_millis(500));
                frozen_sent = true;
                vec![Control::Pause]
            }
            Event::CountdownFrozen { .. } => {
                std::thread::sleep(Duration::from_millis(1000));
                vec![Control::Resume]
            }
            _ => vec![],
        },
    )
    .await;
    assert!(frozen_sent);
    let frozen = d
        .events
        .iter()
        .find_map(|(_, e)| match e {
            Event::CountdownFrozen { remaining } => Some(*remaining),
            _ => None,
        })
        .expect("the countdown froze");
    assert!(
        frozen <= Duration::from_millis(1600) && frozen >= Duration::from_millis(1300),
        "about 1.5 s were left when it froze: {frozen:?}"
    );
    let resumed: Vec<Duration> = d
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::Countdown { remaining, .. } => Some(*remaining),
            _ => None,
        })
        .collect();
    assert_eq!(resumed.len(), 2, "the countdown went on after the hold");
    let diff = resumed[1].abs_diff(frozen);
    assert!(
        diff <= Duration::from_millis(100),
        "kept {frozen:?}, resumed with {:?}",
        resumed[1]
    );
}

/// A rollback whose HTTP target never answers ends at its timeout; the next one still plays.
#[tokio::test(flavor = "multi_thread")]
async fn hung_rollback_ends_at_its_timeout() {
    let server = Server::start();
    server.route("/hang", Reply::hang());
    let dir = tempdir();
    let marker = dir.join("second");
    let yaml = format!(
        r#"title: t
description: d
method:
  - type: action
    name: a
    provider: {{type: process, path: "true"}}
rollbacks:
  - type: action
    name: hangs
    provider: {{type: http, url: "{}"}}
  - type: action
    name: second
    provider: {{type: process, path: touch, arguments: ["{}"]}}
"#,
        server.url("/hang"),
        marker.display()
    );
    let opts = RunOptions {
        rollback_timeout: Duration::from_secs(1),
        ..RunOptions::default()
    };
    let started = Instant::now();
    let d = drive(&yaml, opts, |_| vec![]).await;
    assert!(started.elapsed() < Duration::from_secs(10));
    let rb = d.journal["rollbacks"].as_array().unwrap();
    assert_eq!(rb[0]["status"], "failed");
    let msg = rb[0]["exception"][0].as_str().unwrap();
    assert!(msg.contains("timeout"), "{msg}");
    assert_eq!(rb[1]["status"], "succeeded");
    assert!(marker.exists());
}

/// A second Abort while rollbacks play does not stop them; Abort without rollback stops after
/// the current one and leaves the rest owed.
#[tokio::test(flavor = "multi_thread")]
async fn aborts_during_rollbacks() {
    let dir = tempdir();
    let (a, b) = (dir.join("a"), dir.join("b"));
    let yaml = format!(
        r#"title: t
description: d
method:
  - type: action
    name: long
    provider: {{type: process, path: sleep, arguments: ["30"]}}
rollbacks:
  - type: action
    name: first
    provider: {{type: process, path: sh, arguments: ["-c", "sleep 0.3; touch {}"]}}
  - type: action
    name: second
    provider: {{type: process, path: touch, arguments: ["{}"]}}
"#,
        a.display(),
        b.display()
    );
    let d = drive(&yaml, RunOptions::default(), |e| match e {
        Event::ActivityStarted(x) if x.name == "long" => vec![Control::Abort],
        Event::ActivityStarted(x) if x.name == "first" => vec![Control::Abort],
        _ => vec![],
    })
    .await;
    assert!(a.exists() && b.exists(), "a second abort stopped nothing");
    assert_eq!(d.journal["rollbacks"].as_array().unwrap().len(), 2);

    let _ = (std::fs::remove_file(&a), std::fs::remove_file(&b));
    let ledger = tempdir();
    let opts = RunOptions {
        ledger_dir: Some(ledger.clone()),
        ..RunOptions::default()
    };
    let d = drive(&yaml, opts, |e| match e {
        Event::ActivityStarted(x) if x.name == "long" => vec![Control::Abort],
        Event::ActivityStarted(x) if x.name == "first" => vec![Control::AbortWithoutRollback],
        _ => vec![],
    })
    .await;
    assert!(a.exists(), "the current rollback finished");
    assert!(!b.exists(), "the next one did not play");
    assert_eq!(d.journal["chaosdeck"]["rollbacks_owed"]["from"], 1);
    let records: Vec<PathBuf> = std::fs::read_dir(&ledger)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(records.len(), 1, "the owed rollback is in the ledger");
    let owed: Value = serde_json::from_str(&std::fs::read_to_string(&records[0]).unwrap()).unwrap();
    assert_eq!(owed["state"], "owed");
    assert_eq!(owed["owed_from"], 1);
}

/// A run that plays its rollbacks leaves no ledger record behind.
#[tokio::test(flavor = "multi_thread")]
async fn ledger_is_cleared_when_rollbacks_played() {
    let ledger = tempdir();
    let opts = RunOptions {
        ledger_dir: Some(ledger.clone()),
        ..RunOptions::default()
    };
    let action = "  - type: action\n    name: a\n    provider: {type: process, path: \"true\"}\n";
    let d = drive(
        &with_rollback(action, &tempdir().join("u")),
        opts,
        |_| vec![],
    )
    .await;
    assert_eq!(d.journal["status"], "completed");
    assert_eq!(std::fs::read_dir(&ledger).unwrap().count(), 0);
}

/// `--max-duration` aborts with rollback.
#[tokio::test(flavor = "multi_thread")]
async fn max_duration_aborts_with_rollback() {
    let dir = tempdir();
    let marker = dir.join("undone");
    let action = "  - type: action\n    name: long\n    provider: {type: process, path: sleep, arguments: [\"30\"]}\n";
    let opts = RunOptions {
        max_duration: Some(Duration::from_millis(500)),
        ..RunOptions::default()
    };
    let started = Instant::now();
    let d = drive(&with_rollback(action, &marker), opts, |_| vec![]).await;
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(d.journal["status"], "interrupted");
    assert!(marker.exists());
}

/// The activity-level `timeout` is enforced (Chaos Toolkit ignores it): deliberate difference.
#[tokio::test(flavor = "multi_thread")]
async fn activity_timeout_is_enforced() {
    let action = "  - type: action\n    name: long\n    timeout: 0.5\n    provider: {type: process, path: sleep, arguments: [\"30\"]}\n";
    let started = Instant::now();
    let d = drive(
        &with_rollback(action, &tempdir().join("u")),
        RunOptions::default(),
        |_| vec![],
    )
    .await;
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(d.journal["run"][0]["status"], "failed");
    assert_eq!(d.journal["status"], "completed");
}

/// Skipping the rollbacks at their hold fails the verdict and leaves them owed in the ledger.
#[tokio::test(flavor = "multi_thread")]
async fn skipped_rollbacks_stay_owed() {
    let ledger = tempdir();
    let marker = tempdir().join("undone");
    let opts = RunOptions {
        step: StepMode::EachActivity,
        ledger_dir: Some(ledger.clone()),
        ..RunOptions::default()
    };
    let action = "  - type: action\n    name: a\n    provider: {type: process, path: \"true\"}\n";
    let d = drive(&with_rollback(action, &marker), opts, |e| match e {
        Event::Held { next: None } => vec![Control::Skip],
        Event::Held { .. } => vec![Control::Step],
        _ => vec![],
    })
    .await;
    assert!(!marker.exists());
    assert!(!d.report.verdict.passed);
    assert!(
        d.report
            .verdict
            .reasons
            .iter()
            .any(|r| r.contains("rollbacks: skipped")),
        "{:?}",
        d.report.verdict.reasons
    );
    assert_eq!(std::fs::read_dir(&ledger).unwrap().count(), 1, "still owed");
}

/// A rollback that hangs after an abort ends at its timeout as a failed rollback, not an
/// interrupted one, and the next still plays.
#[tokio::test(flavor = "multi_thread")]
async fn rollback_timeout_after_an_abort_is_a_failure() {
    let dir = tempdir();
    let marker = dir.join("second");
    let yaml = format!(
        "title: t\ndescription: d\nmethod:\n  - type: action\n    name: long\n    provider: {{type: process, path: sleep, arguments: [\"30\"]}}\nrollbacks:\n  - type: action\n    name: hangs\n    provider: {{type: process, path: sleep, arguments: [\"30\"]}}\n  - type: action\n    name: second\n    provider: {{type: process, path: touch, arguments: [\"{}\"]}}\n",
        marker.display()
    );
    let opts = RunOptions {
        rollback_timeout: Duration::from_millis(500),
        ..RunOptions::default()
    };
    let d = drive(&yaml, opts, |e| {
        if started(e, "long") {
            vec![Control::Abort]
        } else {
            vec![]
        }
    })
    .await;
    let rb = d.journal["rollbacks"].as_array().unwrap();
    assert_eq!(rb[0]["status"], "failed", "{}", rb[0]);
    assert_eq!(rb[1]["status"], "succeeded");
    assert!(marker.exists());
    assert!(d
        .report
        .verdict
        .reasons
        .iter()
        .any(|r| r.starts_with("rollbacks: 1 failed")));
}

/// §6: interrupted mid-hypothesis, `steady_states.before` stays null.
#[tokio::test(flavor = "multi_thread")]
async fn abort_during_the_before_hypothesis_leaves_it_null() {
    let yaml = "title: t\ndescription: d\nsteady-state-hypothesis:\n  title: h\n  probes:\n    - type: probe\n      name: slow\n      tolerance: 0\n      provider: {type: process, path: sleep, arguments: [\"30\"]}\nmethod: []\n";
    let d = drive(yaml, RunOptions::default(), |e| {
        if started(e, "slow") {
            vec![Control::Abort]
        } else {
            vec![]
        }
    })
    .await;
    assert_eq!(d.journal["status"], "interrupted");
    assert_eq!(d.journal["steady_states"]["before"], Value::Null);
}

/// The recovery check (design.md, GameDays): after the rollbacks the steady state is checked
/// every interval until it holds; the moment it does is recorded, and a system that does not
/// come back within the limit fails the verdict.
#[tokio::test(flavor = "multi_thread")]
async fn recovery_check_records_when_the_steady_state_came_back() {
    let dir = tempdir();
    let marker = dir.join("marker");
    std::fs::write(&marker, "").unwrap();
    let yaml = |restore: &str| {
        format!(
            "title: t\ndescription: d\nsteady-state-hypothesis:\n  title: h\n  probes:\n    - type: probe\n      name: present\n      tolerance: 0\n      provider: {{type: process, path: test, arguments: [\"-f\", \"{m}\"]}}\nmethod:\n  - type: action\n    name: remove\n    provider: {{type: process, path: rm, arguments: [\"-f\", \"{m}\"]}}\nrollbacks:\n  - type: action\n    name: restore-later\n    provider: {{type: process, path: sh, arguments: [\"-c\", \"{restore}\"]}}\n",
            m = marker.display()
        )
    };
    let opts = || RunOptions {
        hypothesis_strategy: chaosdeck::engine::HypothesisStrategy::BeforeMethodOnly,
        recovery: Some(chaosdeck::engine::RecoveryCheck {
            interval: Duration::from_millis(200),
            limit: Duration::from_secs(10),
        }),
        ..RunOptions::default()
    };
    let restore = format!("(sleep 1; touch {}) >/dev/null 2>&1 &", marker.display());
    let d = drive(&yaml(&restore), opts(), |_| vec![]).await;
    let r = &d.journal["chaosdeck"]["recovery"];
    assert_eq!(r["recovered"], true, "{r}");
    let secs = r["seconds"].as_f64().unwrap();
    assert!((0.9..8.0).contains(&secs), "recovered after {secs} s");
    assert!(r["checks"].as_u64().unwrap() >= 2);
    assert!(d.report.verdict.passed, "{:?}", d.report.verdict);

    std::fs::write(&marker, "").unwrap();
    let mut short = opts();
    short.recovery = Some(chaosdeck::engine::RecoveryCheck {
        interval: Duration::from_millis(200),
        limit: Duration::from_secs(1),
    });
    let d = drive(&yaml("true"), short, |_| vec![]).await;
    assert_eq!(d.journal["chaosdeck"]["recovery"]["recovered"], false);
    assert!(!d.report.verdict.passed);
}

/// A rollback's own pause (waiting for what it restarted) plays after an abort, and a second
/// abort does not cut it short: the next rollback starts only once it has been waited.
#[tokio::test(flavor = "multi_thread")]
async fn a_rollbacks_pause_is_waited_after_an_abort() {
    let yaml = r#"title: rollback pauses
description: the method's pause is cut by the abort, the rollback's is not
method:
  - type: action
    name: fault
    provider: {type: process, path: "true"}
    pauses: {after: 300}
rollbacks:
  - type: action
    name: restart
    provider: {type: process, path: "true"}
    pauses: {after: 1}
  - type: action
    name: check
    provider: {type: process, path: "true"}
"#;
    let mut aborts = 0;
    let d = drive(yaml, RunOptions::default(), |e| match e {
        Event::Countdown { .. } if aborts < 2 => {
            aborts += 1;
            vec![Control::Abort]
        }
        _ => vec![],
    })
    .await;
    assert_eq!(
        aborts, 2,
        "aborted in the method's pause and again in the rollback's"
    );
    let at = |name: &str| {
        d.events
            .iter()
            .find(|(_, e)| started(e, name))
            .map(|(t, _)| *t)
            .unwrap_or_else(|| panic!("{name} never started"))
    };
    let waited = at("check") - at("restart");
    assert!(
        waited >= Duration::from_millis(950),
        "the rollback's pause was cut short: {waited:?}"
    );
    let rollbacks = d.journal["rollbacks"].as_array().unwrap();
    assert_eq!(rollbacks.len(), 2, "{rollbacks:?}");
    assert!(rollbacks.iter().all(|r| r["status"] == "succeeded"));
    assert_eq!(d.journal["status"], "interrupted");
}
