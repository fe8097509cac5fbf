//! The headless runner under signals (issue #3), through the real binary: SIGINT and SIGTERM
//! sent to its PID alone abort with rollback; SIGUSR2 leaves the rollbacks owed for
//! `chaosdeck recover`; `kill -9` leaves a valid journal and a ledger record to recover.

mod common;

use common::{alive, tempdir};
use serde_json::Value;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn experiment(dir: &Path) -> String {
    format!(
        r#"title: signals
description: d
method:
  - type: action
    name: first
    provider: {{type: process, path: echo, arguments: ["done"]}}
  - type: action
    name: long
    provider: {{type: process, path: sh, arguments: ["-c", "sleep 300 & echo $! > {0}/pid; wait"]}}
rollbacks:
  - type: action
    name: undo
    provider: {{type: process, path: touch, arguments: ["{0}/undone"]}}
"#,
        dir.display()
    )
}

fn start(dir: &Path) -> Child {
    std::fs::write(dir.join("e.yaml"), experiment(dir)).unwrap();
    Command::new(env!("CARGO_BIN_EXE_chaosdeck"))
        .args(["run", "e.yaml"])
        .current_dir(dir)
        .env("XDG_DATA_HOME", dir.join("data"))
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for the in-flight sleep to exist and returns its pid.
fn in_flight(dir: &Path) -> i32 {
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(pid) = std::fs::read_to_string(dir.join("pid"))
            .ok()
            .and_then(|t| t.trim().parse().ok())
        {
            return pid;
        }
        assert!(Instant::now() < until, "the long action never started");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn send(child: &Child, sig: i32) {
    // SAFETY: kill(2) on the child's own pid (not its group) only delivers a signal.
    assert_eq!(unsafe { libc::kill(child.id() as i32, sig) }, 0);
}

fn wait_exit(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let until = Instant::now() + within;
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        if Instant::now() > until {
            let _ = child.kill();
            panic!("chaosdeck did not end within {within:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn journal(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("journal.json")).unwrap()).unwrap()
}

fn gone(pid: i32) -> bool {
    let until = Instant::now() + Duration::from_secs(3);
    while Instant::now() < until {
        if !alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

fn aborts_with_rollback(sig: i32, name: &str) {
    let dir = tempdir();
    let mut child = start(&dir);
    let sleeper = in_flight(&dir);
    let sent = Instant::now();
    send(&child, sig);
    let status = wait_exit(&mut child, Duration::from_secs(5));
    assert!(
        sent.elapsed() < Duration::from_secs(2),
        "{name}: took {:?}",
        sent.elapsed()
    );
    assert_eq!(status.code(), Some(1));
    assert!(dir.join("undone").exists(), "{name}: the rollback played");
    let j = journal(&dir);
    assert_eq!(j["status"], "interrupted");
    assert_eq!(j["interruption"]["kind"], "signal");
    assert_eq!(j["interruption"]["name"], name);
    assert_eq!(j["run"][0]["status"], "succeeded");
    assert!(j["run"][1].get("status").is_none());
    assert!(
        gone(sleeper),
        "{name}: the in-flight child {sleeper} was left behind"
    );
}

/// SIGINT to the runner's PID alone aborts with rollback.
#[test]
fn sigint_aborts_with_rollback() {
    aborts_with_rollback(libc::SIGINT, "SIGINT");
}

/// SIGTERM to the runner's PID alone aborts with rollback.
#[test]
fn sigterm_aborts_with_rollback() {
    aborts_with_rollback(libc::SIGTERM, "SIGTERM");
}

/// SIGUSR1 aborts with rollback too (Chaos Toolkit's graceful exit).
#[test]
fn sigusr1_aborts_with_rollback() {
    aborts_with_rollback(libc::SIGUSR1, "SIGUSR1");
}

/// A run in `dir` aborted by SIGUSR2 mid-method: its rollback stays owed; returns the pid of
/// the in-flight child it killed.
fn leave_rollbacks_owed(dir: &Path) -> i32 {
    let mut child = start(dir);
    let sleeper = in_flight(dir);
    send(&child, libc::SIGUSR2);
    wait_exit(&mut child, Duration::from_secs(5));
    sleeper
}

fn recover_all(dir: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_chaosdeck"))
        .args(["recover", "--all"])
        .current_dir(dir)
        .env("XDG_DATA_HOME", dir.join("data"))
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// SIGUSR2 aborts without rollback, leaving it owed; `chaosdeck recover --all` plays it.
#[test]
fn sigusr2_leaves_rollbacks_owed_and_recover_plays_them() {
    let dir = tempdir();
    let sleeper = leave_rollbacks_owed(&dir);
    assert!(!dir.join("undone").exists());
    assert!(gone(sleeper));
    let j = journal(&dir);
    assert_eq!(j["status"], "interrupted");
    assert_eq!(j["rollbacks"].as_array().unwrap().len(), 0);
    let out = recover_all(&dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        dir.join("undone").exists(),
        "recover played the owed rollback"
    );
    let again = recover_all(&dir);
    assert!(String::from_utf8_lossy(&again.stderr).contains("No run owes rollbacks"));
}

/// `recover ID` with an id no owed run has is an error that lists the owed ones, not "nothing
/// owed": a mistyped id must not read as a restored system.
#[test]
fn recover_with_an_unknown_id_says_so() {
    let dir = tempdir();
    leave_rollbacks_owed(&dir);
    let out = Command::new(env!("CARGO_BIN_EXE_chaosdeck"))
        .args(["recover", "--yes", "no-such-run"])
        .current_dir(&dir)
        .env("XDG_DATA_HOME", dir.join("data"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("no run owing rollbacks has the id 'no-such-run'"),
        "{said}"
    );
    assert!(!dir.join("undone").exists(), "nothing was played");
}

/// A recovery whose rollback fails says so and exits 1 (the system may not be restored), though
/// the record goes: the rollback was played.
#[test]
fn recover_exits_1_when_an_owed_rollback_fails() {
    let dir = tempdir();
    leave_rollbacks_owed(&dir);
    // `touch undone` follows the link into a folder that does not exist: the rollback fails.
    std::os::unix::fs::symlink(dir.join("missing/undone"), dir.join("undone")).unwrap();
    let out = recover_all(&dir);
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("1 of them failed"), "{said}");
    let again = recover_all(&dir);
    assert!(String::from_utf8_lossy(&again.stderr).contains("No run owes rollbacks"));
}

/// `kill -9` mid-method: the journal on disk is valid JSON holding every finished entry, and
/// `recover` plays the owed rollbacks.
#[test]
fn kill_9_leaves_a_valid_journal_and_recoverable_rollbacks() {
    let dir = tempdir();
    let mut child = start(&dir);
    let sleeper = in_flight(&dir);
    send(&child, libc::SIGKILL);
    let _ = child.wait();
    let j = journal(&dir);
    let run = j["run"].as_array().unwrap();
    assert_eq!(run.len(), 1, "the finished entry is there");
    assert_eq!(run[0]["output"]["stdout"], "done\n");
    assert_eq!(j["status"], Value::Null);
    // The orphaned sleep belongs to this test now.
    // SAFETY: signalling a pid we know is our test's own sleep.
    unsafe { libc::kill(sleeper, libc::SIGKILL) };
    let out = recover_all(&dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.join("undone").exists());
}

/// §6 matrix rows "SIGINT / SIGTERM in method" under Chaos Toolkit's own `default` strategy:
/// interrupted, not deviated, no rollbacks played, exit 1.
#[test]
fn sigint_under_the_default_strategy_plays_no_rollback() {
    let dir = tempdir();
    std::fs::write(dir.join("e.yaml"), experiment(&dir)).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_chaosdeck"))
        .args(["run", "e.yaml", "--rollback-strategy", "default"])
        .current_dir(&dir)
        .env("XDG_DATA_HOME", dir.join("data"))
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    in_flight(&dir);
    send(&child, libc::SIGINT);
    let status = wait_exit(&mut child, Duration::from_secs(5));
    assert_eq!(status.code(), Some(1));
    let j = journal(&dir);
    assert_eq!(j["status"], "interrupted");
    assert_eq!(j["deviated"], false);
    assert_eq!(j["rollbacks"].as_array().unwrap().len(), 0);
    assert!(!dir.join("undone").exists());
}

/// `--step` asks on the terminal before each held activity: run, skip, abort.
#[test]
fn step_prompts_on_stdin() {
    let dir = tempdir();
    let yaml = format!(
        r#"title: steps
description: d
method:
  - type: action
    name: one
    provider: {{type: process, path: touch, arguments: ["{0}/one"]}}
  - type: action
    name: two
    provider: {{type: process, path: touch, arguments: ["{0}/two"]}}
rollbacks:
  - type: action
    name: undo
    provider: {{type: process, path: touch, arguments: ["{0}/undone"]}}
"#,
        dir.display()
    );
    std::fs::write(dir.join("e.yaml"), yaml).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_chaosdeck"))
        .args(["run", "e.yaml", "--step"])
        .current_dir(&dir)
        .env("XDG_DATA_HOME", dir.join("data"))
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"r\ns\nr\n").unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("next: one"), "{err}");
    assert!(err.contains("next: the rollbacks"), "{err}");
    assert!(dir.join("one").exists());
    assert!(!dir.join("two").exists(), "skipped");
    assert!(dir.join("undone").exists());
    let j = journal(&dir);
    assert_eq!(j["chaosdeck"]["skipped"][0]["name"], "two");
}

/// `--events-file` writes NDJSON with Chaos Toolkit 1.21's event names, in order.
#[test]
fn events_file_uses_chaos_toolkit_names() {
    let dir = tempdir();
    let yaml = "title: ev\ndescription: d\nsteady-state-hypothesis:\n  title: h\n  probes:\n    - type: probe\n      name: ok\n      tolerance: 0\n      provider: {type: process, path: \"true\"}\nmethod:\n  - type: action\n    name: act\n    provider: {type: process, path: echo, arguments: [\"hi\"]}\nrollbacks:\n  - type: action\n    name: undo\n    provider: {type: process, path: \"true\"}\n";
    std::fs::write(dir.join("e.yaml"), yaml).unwrap();
    let out = common::chaosdeck(
        &dir,
        &["run", "e.yaml", "--events-file", "events.ndjson"],
        &[("XDG_DATA_HOME", dir.join("data").to_str().unwrap())],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(dir.join("events.ndjson")).unwrap();
    let events: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let names: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    let order = [
        "run-started",
        "hypothesis-started",
        "hypothesis-completed",
        "method-started",
        "activity-started",
        "activity-completed",
        "method-completed",
        "hypothesis-started",
        "hypothesis-completed",
        "rollbacks-started",
        "rollbacks-completed",
        "run-finished",
    ];
    let mut at = 0;
    for name in &names {
        if at < order.len() && *name == order[at] {
            at += 1;
        }
    }
    assert_eq!(at, order.len(), "{names:?}");
    let act = events
        .iter()
        .find(|e| e["event"] == "activity-completed" && e["name"] == "act")
        .unwrap();
    assert_eq!(act["status"], "succeeded");
    assert_eq!(act["output"]["stdout"], "hi\n");
    let started = events
        .iter()
        .find(|e| e["event"] == "activity-started" && e["name"] == "act")
        .unwrap();
    assert_eq!(started["activity_type"], "action");
    assert_eq!(started["background"], false);
    let last = events.last().unwrap();
    assert_eq!(last["event"], "run-finished");
    assert_eq!(last["status"], "completed");
    assert_eq!(last["deviated"], false);
}

/// A fault process that ignores SIGTERM does not outlive the run: its group is killed when the
/// run ends, even when the rollbacks finish before the grace period.
#[test]
fn a_process_ignoring_sigterm_does_not_outlive_the_run() {
    let dir = tempdir();
    let yaml = format!(
        r#"title: stubborn
description: d
method:
  - type: action
    name: stubborn
    provider: {{type: process, path: sh, arguments: ["-c", "trap '' TERM; sleep 300 & echo $! > {0}/pid; wait"]}}
rollbacks:
  - type: action
    name: undo
    provider: {{type: process, path: touch, arguments: ["{0}/undone"]}}
"#,
        dir.display()
    );
    std::fs::write(dir.join("e.yaml"), yaml).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_chaosdeck"))
        .args(["run", "e.yaml"])
        .current_dir(&dir)
        .env("XDG_DATA_HOME", dir.join("data"))
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let sleeper = in_flight(&dir);
    send(&child, libc::SIGTERM);
    wait_exit(&mut child, Duration::from_secs(5));
    assert!(dir.join("undone").exists());
    assert!(
        gone(sleeper),
        "the sleep that ignores SIGTERM was left behind"
    );
}

/// An action's entry is in the journal before its `pauses.after` begins: `kill -9` during that
/// pause (the fault injected, the run waiting for its effect) still finds it on disk.
#[test]
fn kill_9_during_a_pause_after_keeps_the_finished_action() {
    let dir = tempdir();
    let yaml = format!(
        "title: pause\ndescription: d\nmethod:\n  - type: action\n    name: fault\n    \
         provider: {{type: process, path: sh, arguments: [\"-c\", \"echo injected; touch {0}/done\"]}}\n    \
         pauses: {{after: 300}}\n",
        dir.display()
    );
    std::fs::write(dir.join("e.yaml"), yaml).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_chaosdeck"))
        .args(["run", "e.yaml"])
        .current_dir(&dir)
        .env("XDG_DATA_HOME", dir.join("data"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(10);
    while !dir.join("done").exists() {
        assert!(Instant::now() < until, "the action never ran");
        std::thread::sleep(Duration::from_millis(10));
    }
    // Past the action, into its pause.
    std::thread::sleep(Duration::from_millis(500));
    send(&child, libc::SIGKILL);
    let _ = child.wait();
    let j = journal(&dir);
    let run = j["run"].as_array().unwrap();
    assert_eq!(run.len(), 1, "the fault's entry is on disk: {j}");
    assert_eq!(run[0]["status"], "succeeded");
    assert_eq!(run[0]["output"]["stdout"], "injected\n");
}
