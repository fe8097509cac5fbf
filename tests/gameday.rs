//! GameDay sessions (issue #6) through the real binary: plans checked with file, line and field;
//! the checklist gate and its override; predictions, notes stamped on the run clock and linked
//! to the activity in progress; action items; exports (Markdown, JSON bundle, Prometheus text
//! parsed by a real exposition parser); autosave surviving `kill -9`.

mod common;

use common::tempdir;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A project folder with a plan and two process-only experiments.
fn project() -> PathBuf {
    let dir = tempdir();
    std::fs::create_dir_all(dir.join("gamedays")).unwrap();
    std::fs::create_dir_all(dir.join("experiments")).unwrap();
    let marker = dir.join("marker");
    std::fs::write(&marker, "").unwrap();
    std::fs::write(
        dir.join("experiments/slow-fault.yaml"),
        format!(
            r#"title: Slow fault
description: a fault that lasts long enough to write a note during it
runtime:
  hypothesis:
    strategy: before-method-only
steady-state-hypothesis:
  title: marker
  probes:
    - type: probe
      name: present
      tolerance: 0
      provider: {{type: process, path: test, arguments: ["-f", "{m}"]}}
method:
  - type: action
    name: remove-marker
    provider: {{type: process, path: rm, arguments: ["-f", "{m}"]}}
  - type: action
    name: hold-the-fault
    provider: {{type: process, path: sleep, arguments: ["3"]}}
rollbacks:
  - type: action
    name: restore-marker
    provider: {{type: process, path: touch, arguments: ["{m}"]}}
"#,
            m = marker.display()
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("gamedays/plan.yaml"),
        "title: Test GameDay\nexperiments:\n  - path: experiments/slow-fault.yaml\n    time_box: 5m\nchecklist:\n  before:\n    - Notify the team\n    - Dashboards open\n  after:\n    - Action items created\nrecovery:\n  interval: 0.2\n  limit: 5\n",
    )
    .unwrap();
    dir
}

fn cd(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chaosdeck"))
        .args(args)
        .current_dir(dir)
        .env("XDG_DATA_HOME", dir.join("data"))
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn session_file(dir: &Path, id: &str) -> Value {
    let path = dir
        .join("data/chaosdeck/sessions")
        .join(format!("{id}.json"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A bad plan gets an error naming the file, the line and the field.
#[test]
fn bad_plans_name_file_line_and_field() {
    let dir = project();
    let plan = dir.join("gamedays/bad.yaml");
    std::fs::write(&plan, "title: x\nexperiments:\n  - path: experiments/slow-fault.yaml\n    timebox: 5m\nchecklist:\n  before: [a]\n").unwrap();
    let out = cd(&dir, &["gameday", "start", "gamedays/bad.yaml"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(err.contains("gamedays/bad.yaml:4:"), "{err}");
    assert!(err.contains("timebox"), "{err}");

    std::fs::write(&plan, "title: x\nexperiments:\n  - path: experiments/none.yaml\n    time_box: soon\nchecklist:\n  before: [a]\n").unwrap();
    let out = cd(&dir, &["gameday", "start", "gamedays/bad.yaml"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.yaml:3:") && err.contains("experiments[0].path"),
        "{err}"
    );
    assert!(
        err.contains("bad.yaml:4:") && err.contains("experiments[0].time_box"),
        "{err}"
    );

    // A success rate to beat that cannot be beaten.
    std::fs::write(&plan, "title: x\nexperiments:\n  - path: experiments/slow-fault.yaml\n    time_box: 5m\nchecklist:\n  before: [a]\ntargets:\n  success_rate_percent: 100\n").unwrap();
    let out = cd(&dir, &["gameday", "start", "gamedays/bad.yaml"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.yaml:8:3: targets.success_rate_percent: 100 cannot be exceeded"),
        "{err}"
    );
    assert!(!err.contains("error: error:"), "{err}");

    // A plan that is not there is said to be missing, without a made-up position.
    let out = cd(&dir, &["gameday", "start", "gamedays/none.yaml"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.trim(),
        "error: gamedays/none.yaml: cannot read the plan: no such file"
    );
}

/// The whole session: gate, override, prediction, a run with a note written during it, an
/// action item, and the exports.
#[test]
fn a_session_from_plan_to_exports() {
    let dir = project();
    let id = ok(&cd(
        &dir,
        &[
            "gameday",
            "start",
            "gamedays/plan.yaml",
            "--date",
            "2026-12-04",
        ],
    ));
    assert_eq!(id, "plan-2026-12-04");
    ok(&cd(
        &dir,
        &["gameday", "tick", &id, "before.1", "--by", "ana"],
    ));

    // The gate: one "before" item is still open.
    let refused = cd(&dir, &["gameday", "run", &id, "slow-fault"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("Dashboards open"));
    ok(&cd(
        &dir,
        &[
            "gameday",
            "override",
            &id,
            "--by",
            "ana",
            "--reason",
            "dashboards are down for maintenance",
        ],
    ));
    ok(&cd(
        &dir,
        &[
            "gameday",
            "predict",
            &id,
            "slow-fault",
            "--author",
            "bo",
            "the marker comes back",
        ],
    ));

    // The run, in its own process; a note is written while the fault is held.
    let run = Command::new(env!("CARGO_BIN_EXE_chaosdeck"))
        .args(["gameday", "run", &id, "slow-fault"])
        .current_dir(&dir)
        .env("XDG_DATA_HOME", dir.join("data"))
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        let s = session_file(&dir, &id);
        if s["current_run"]["activity"] == "hold-the-fault" {
            break;
        }
        assert!(
            Instant::now() < until,
            "the run never reached hold-the-fault: {s}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    ok(&cd(
        &dir,
        &[
            "gameday",
            "note",
            &id,
            "--author",
            "cy",
            "--tag",
            "issue-found",
            "alerts stayed silent",
        ],
    ));
    let finished = run.wait_with_output().unwrap();
    assert!(
        finished.status.success(),
        "the run passed: {}",
        String::from_utf8_lossy(&finished.stderr)
    );
    ok(&cd(
        &dir,
        &[
            "gameday",
            "action",
            &id,
            "--owner",
            "cy",
            "--due",
            "2026-12-18",
            "--issue",
            "page on marker loss",
        ],
    ));

    let s = session_file(&dir, &id);
    assert_eq!(s["runs"][0]["verdict"], "passed");
    let note = &s["observations"][0];
    assert_eq!(note["run"], 0);
    assert_eq!(note["activity"], "hold-the-fault");
    assert!(note["run_clock_seconds"].as_f64().unwrap() > 0.0);
    assert!(s["runs"][0]["time_to_recover_seconds"].as_f64().is_some());

    // Markdown: the note sits right under the activity it was written during.
    let md = ok(&cd(&dir, &["export", &id, "--format", "md"]));
    let lines: Vec<&str> = md.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains("`hold-the-fault`"))
        .expect("the activity is in the timeline");
    assert!(lines[at + 1].contains("alerts stayed silent"), "{md}");
    assert!(lines[at + 1].contains("issue found"), "{md}");
    assert!(
        md.contains("dashboards are down for maintenance"),
        "the override's reason"
    );
    assert!(md.contains("the marker comes back"), "the prediction");
    assert!(md.contains("page on marker loss"), "the action item");
    assert!(md.contains("Success rate: 100 %"), "{md}");

    // JSON bundle: the run's Chaos Toolkit journal inside.
    let bundle: Value =
        serde_json::from_str(&ok(&cd(&dir, &["export", &id, "--format", "json"]))).unwrap();
    assert_eq!(bundle["journals"][0]["status"], "completed");
    assert!(bundle["journals"][0]["chaoslib-version"].is_string());

    // Prometheus text, read back by a real exposition-format parser.
    let prom = ok(&cd(&dir, &["export", &id, "--format", "prom"]));
    let parsed = Command::new("python3")
        .args([
            "-c",
            "import sys, json\nfrom prometheus_client.parser import text_string_to_metric_families as f\nout = {}\nfor fam in f(sys.stdin.read()):\n    for s in fam.samples:\n        out[s.name + json.dumps(s.labels, sort_keys=True)] = [fam.type, s.value]\nprint(json.dumps(out))",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(prom.as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    assert!(
        parsed.status.success(),
        "prometheus_client could not parse:\n{prom}"
    );
    let m: Value = serde_json::from_slice(&parsed.stdout).unwrap();
    let total = &m[r#"chaos_experiment_total{"experiment": "slow-fault"}"#];
    assert_eq!(total[0], "counter");
    assert_eq!(total[1].as_f64(), Some(1.0));
    let success = &m[r#"chaos_experiment_success_total{"experiment": "slow-fault"}"#];
    assert_eq!(success[1].as_f64(), Some(1.0));
    assert_eq!(m["chaos_issues_discovered_total{}"][1].as_f64(), Some(1.0));
    assert_eq!(
        m[r#"chaos_experiment_recovery_duration_seconds{"experiment": "slow-fault"}"#][0],
        "gauge"
    );

    let report = ok(&cd(&dir, &["report"]));
    assert!(
        report.contains("plan-2026-12-04") && report.contains("success rate 100 %"),
        "{report}"
    );
}

/// Autosave: `kill -9` of a run in progress leaves the session readable, with the note written
/// meanwhile and the run recorded as in progress.
#[test]
fn autosave_survives_kill_9() {
    let dir = project();
    let id = ok(&cd(
        &dir,
        &[
            "gameday",
            "start",
            "gamedays/plan.yaml",
            "--date",
            "2026-12-05",
        ],
    ));
    ok(&cd(
        &dir,
        &[
            "gameday", "override", &id, "--by", "ana", "--reason", "drill",
        ],
    ));
    let mut run = Command::new(env!("CARGO_BIN_EXE_chaosdeck"))
        .args(["gameday", "run", &id, "slow-fault"])
        .current_dir(&dir)
        .env("XDG_DATA_HOME", dir.join("data"))
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(20);
    while session_file(&dir, &id)["current_run"]["activity"] != "hold-the-fault" {
        assert!(Instant::now() < until);
        std::thread::sleep(Duration::from_millis(50));
    }
    ok(&cd(
        &dir,
        &[
            "gameday",
            "note",
            &id,
            "--author",
            "cy",
            "typed just before the crash",
        ],
    ));
    run.kill().unwrap();
    let _ = run.wait();
    let s = session_file(&dir, &id);
    assert_eq!(s["observations"][0]["text"], "typed just before the crash");
    assert_eq!(s["current_run"]["experiment"], "slow-fault");
}

/// A later override does not hide an earlier one: the export keeps every reason, with who and
/// when.
#[test]
fn every_override_stays_in_the_notes() {
    let dir = project();
    let id = ok(&cd(
        &dir,
        &[
            "gameday",
            "start",
            "gamedays/plan.yaml",
            "--facilitator",
            "ana",
        ],
    ));
    ok(&cd(
        &dir,
        &[
            "gameday",
            "override",
            &id,
            "--by",
            "ana",
            "--reason",
            "trying the plan",
        ],
    ));
    ok(&cd(
        &dir,
        &[
            "gameday",
            "override",
            &id,
            "--by",
            "bo",
            "--reason",
            "second attempt",
        ],
    ));
    let md = ok(&cd(&dir, &["export", &id, "--format", "md"]));
    let first = md
        .find("by ana")
        .and_then(|i| md[i..].find("trying the plan").map(|j| i + j));
    let second = md
        .find("by bo")
        .and_then(|i| md[i..].find("second attempt").map(|j| i + j));
    assert!(
        first.is_some() && second.is_some() && first < second,
        "both overrides, oldest first:\n{md}"
    );
    assert_eq!(
        session_file(&dir, &id)["overrides"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

/// The TUI resuming a session without `--as` writes as the facilitator `gameday start` named,
/// not as whoever `$USER` is.
#[test]
fn resuming_in_the_tui_writes_as_the_sessions_facilitator() {
    let dir = project();
    let store = chaosdeck::gameday::store::Store::new(&dir.join("data"));
    let plan = dir.join("gamedays/plan.yaml");
    let date = Some("2026-12-04".to_string());
    chaosdeck::headless::gameday::start(&store, &plan, date.clone(), Some("ana".into())).unwrap();
    let (view, _) = chaosdeck::tui::gameday_io::open(store, &plan, date, None).unwrap();
    assert_eq!(view.who, "ana");
    assert_eq!(view.session.facilitator.as_deref(), Some("ana"));
}
