//! GameDay mode end to end: the real binary (`chaosdeck gameday PLAN`) in a tmux pane, against
//! a loopback HTTP server. A facilitator meets the go/no-go gate, ticks the checklist, starts
//! the run, writes an observation while it runs, aborts, exports — and the exported Markdown
//! holds the observation under the activity it was written during. And `kill -9` while typing
//! in the editor loses at most the last second: the draft is on disk and offered back.

mod common;

use common::tmux::{children, no_tmux, Tmux, DEADLINE, POLL};
use common::{alive, tempdir, Reply, Server};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const DATE: &str = "2026-12-04";
const SESSION: &str = "drill-2026-12-04";

/// A project: `gamedays/drill.yaml` and one experiment against the server whose method holds
/// the fault long enough to write a note during it.
fn project(server: &Server) -> PathBuf {
    let dir = tempdir();
    std::fs::create_dir_all(dir.join("gamedays")).unwrap();
    std::fs::create_dir_all(dir.join("experiments")).unwrap();
    let url = server.url("");
    std::fs::write(
        dir.join("experiments/api-drill.yaml"),
        format!(
            r#"title: API drill
description: the API is called, the fault held, the rollback restores
steady-state-hypothesis:
  title: the API answers
  probes:
    - type: probe
      name: api-ok
      tolerance: 200
      provider: {{type: http, url: "{url}/health"}}
method:
  - type: action
    name: break-api
    provider: {{type: http, url: "{url}/break"}}
  - type: action
    name: hold-the-fault
    provider: {{type: process, path: sleep, arguments: "60"}}
rollbacks:
  - type: action
    name: restore-api
    provider: {{type: http, url: "{url}/restore"}}
"#
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("gamedays/drill.yaml"),
        "title: Drill GameDay\nroles:\n  facilitator: ana\nexperiments:\n  - path: experiments/api-drill.yaml\n    time_box: 20m\nchecklist:\n  before:\n    - Notify the team\n    - Dashboards open\n  during:\n    - Observations written down\n  after:\n    - Action items created\nrecovery:\n  interval: 0.2\n  limit: 3\n",
    )
    .unwrap();
    dir
}

/// The pane's script: terminal settings, the TUI (`runs` times, so a killed one is followed by
/// a second), terminal settings again.
fn script(dir: &Path, runs: usize) -> PathBuf {
    let bin = env!("CARGO_BIN_EXE_chaosdeck");
    let d = dir.display();
    let mut text = format!("cd {d}\nstty -g > {d}/stty-before\n");
    for n in 1..=runs {
        text.push_str(&format!(
            "HOME={d}/home XDG_DATA_HOME={d}/data XDG_CONFIG_HOME={d}/config NO_COLOR=1 \
             '{bin}' gameday gamedays/drill.yaml --date {DATE} 2>> {d}/stderr\n\
             echo $? > {d}/exit{n}.tmp && mv {d}/exit{n}.tmp {d}/exit{n}\n"
        ));
    }
    text.push_str(&format!("stty -g > {d}/stty-after\nexec sleep 3600\n"));
    let path = dir.join("pane.sh");
    std::fs::write(&path, text).unwrap();
    path
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap_or_default()
}

/// Waits for the TUI's `n`th exit; checks the code.
fn wait_exit(tmux: &Tmux, dir: &Path, n: usize) -> String {
    let exit = dir.join(format!("exit{n}"));
    let start = Instant::now();
    while !exit.exists() {
        assert!(
            start.elapsed() < DEADLINE,
            "the TUI did not quit:\n{}",
            tmux.screen()
        );
        std::thread::sleep(POLL);
    }
    read(dir, &format!("exit{n}")).trim().to_string()
}

fn session(dir: &Path) -> Value {
    let path = dir.join(format!("data/chaosdeck/sessions/{SESSION}.json"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn a_gameday_from_checklist_to_export_in_tmux() {
    if no_tmux() {
        return;
    }
    let server = Server::start();
    server.route("/health", Reply::text(200, "ok"));
    server.route("/break", Reply::text(200, "broken"));
    server.route("/restore", Reply::text(200, "restored"));
    let dir = project(&server);
    let pane = script(&dir, 1);
    let tmux = Tmux::start(
        format!("chaosdeck-gd-{}", std::process::id()),
        &format!("sh {}", pane.display()),
        120,
        40,
    );

    // The plan's experiment, with its time box.
    tmux.wait("the plan's experiment", |s| {
        s.contains("API drill") && s.contains("20m")
    });
    // The gate: nothing ticked, so a start asks for an override's reason. Not this time.
    tmux.keys(&["s"]);
    tmux.wait("the override prompt", |s| {
        s.contains("Override — the checklist is not done") && s.contains("2 \"before\" item(s)")
    });
    tmux.escape();
    // Tick both "before" items in the session panel.
    tmux.keys(&["c"]);
    tmux.wait("the checklist", |s| s.contains("before (0/2 ticked)"));
    tmux.keys(&["Space", "j", "Space"]);
    let s = tmux.wait("both ticked", |s| s.contains("before (2/2 ticked)"));
    assert!(s.contains("✓ Notify the team — ana"), "{s}");
    let ticked = session(&dir);
    assert_eq!(ticked["checklist"][1]["ticked_by"], "ana", "{ticked}");
    tmux.escape();

    // Now a start shows the plan; go.
    tmux.keys(&["s"]);
    tmux.wait("the plan", |s| s.contains("y/enter start"));
    tmux.keys(&["y"]);
    tmux.wait("the fault held", |s| s.contains("▶ hold-the-fault"));

    // An observation while it runs, tagged "issue found".
    tmux.keys(&["o"]);
    tmux.wait("the editor", |s| s.contains("during hold-the-fault"));
    tmux.type_text("alerts stayed silent");
    tmux.keys(&["C-t", "C-t", "C-t"]);
    tmux.wait("the tag", |s| s.contains("[issue found]"));
    tmux.keys(&["Enter"]);
    let s = tmux.wait("the note in the timeline", |s| {
        s.contains("✎") && s.contains("alerts stayed silent — ana")
    });
    let lines: Vec<&str> = s.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains("hold-the-fault"))
        .unwrap();
    assert!(
        lines[at + 1].contains("[issue found] alerts stayed silent"),
        "the note sits under its activity: {s}"
    );

    // A scribe at another terminal writes a note: it joins the timeline under the same activity.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_chaosdeck"))
        .args([
            "gameday",
            "note",
            SESSION,
            "--author",
            "zed",
            "a scribe's note",
        ])
        .env("XDG_DATA_HOME", dir.join("data"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = tmux.wait("the other terminal's note", |s| {
        s.contains("a scribe's note — zed")
    });
    let lines: Vec<&str> = s.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains("hold-the-fault"))
        .unwrap();
    assert!(
        lines[at + 1..=at + 2]
            .iter()
            .any(|l| l.contains("a scribe's note")),
        "under its activity: {s}"
    );

    // Abort: the rollback plays; the run ends failed (interrupted).
    tmux.keys(&["a"]);
    tmux.wait("the run's end", |s| s.contains("FAILED"));
    assert!(server.hits("/restore") >= 1, "the rollback played");

    // Export.
    tmux.keys(&["e"]);
    let s = tmux.wait("the export", |s| s.contains("exported"));
    assert!(
        s.contains(&format!("{SESSION}.md and {SESSION}.json")),
        "{s}"
    );
    let exports = dir.join("data/chaosdeck/exports");
    let md = std::fs::read_to_string(exports.join(format!("{SESSION}.md"))).unwrap();
    let lines: Vec<&str> = md.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains("`hold-the-fault`"))
        .unwrap_or_else(|| panic!("the activity is in the timeline:\n{md}"));
    assert!(lines[at].contains("interrupted"), "{md}");
    assert!(
        lines[at + 1].contains("alerts stayed silent") && lines[at + 1].contains("issue found"),
        "the observation is under hold-the-fault:\n{md}"
    );
    assert!(md.contains("- [x] (before) Notify the team — ana"), "{md}");
    let bundle: Value = serde_json::from_str(
        &std::fs::read_to_string(exports.join(format!("{SESSION}.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(bundle["journals"][0]["status"], "interrupted", "{bundle}");

    // The session holds the run as `gameday run` records it.
    let s = session(&dir);
    assert!(s["current_run"].is_null(), "{s}");
    let run = &s["runs"][0];
    assert_eq!(run["experiment"], "api-drill");
    assert_eq!(run["verdict"], "failed");
    assert!(Path::new(run["journal_path"].as_str().unwrap()).is_file());
    let note = &s["observations"][0];
    assert_eq!(note["run"], 0);
    assert_eq!(note["activity"], "hold-the-fault");
    assert_eq!(note["tag"], "issue-found");
    assert!(note["run_clock_seconds"].as_f64().unwrap() > 0.0, "{note}");

    // Quit; the terminal is as it was.
    tmux.keys(&["q"]);
    assert_eq!(wait_exit(&tmux, &dir, 1), "0", "{}", read(&dir, "stderr"));
    let (before, after) = (read(&dir, "stty-before"), read(&dir, "stty-after"));
    assert!(!before.trim().is_empty(), "stty -g printed nothing");
    assert_eq!(before, after, "the terminal settings changed");
    drop(tmux);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `kill -9` (a real SIGKILL) while typing in the editor: what was typed more than a second
/// before is on disk, and the next start offers it back.
#[test]
fn kill_9_while_typing_loses_at_most_the_last_second() {
    if no_tmux() {
        return;
    }
    let server = Server::start();
    server.route("*", Reply::text(200, "ok"));
    let dir = project(&server);
    let pane = script(&dir, 2);
    let tmux = Tmux::start(
        format!("chaosdeck-gd-kill-{}", std::process::id()),
        &format!("sh {}", pane.display()),
        100,
        30,
    );
    tmux.wait("the plan's experiment", |s| s.contains("API drill"));
    tmux.keys(&["o"]);
    tmux.wait("the editor", |s| s.contains("between runs"));
    tmux.type_text("first words, typed well before the crash");
    std::thread::sleep(Duration::from_millis(1100));
    tmux.type_text(" and a last few");
    let shell = tmux.pane_pid();
    let tui = children(shell);
    assert_eq!(
        tui.len(),
        1,
        "one chaosdeck under the pane's shell: {tui:?}"
    );
    // SAFETY: kill(2) on the pid of the chaosdeck this test started.
    assert_eq!(unsafe { libc::kill(tui[0], libc::SIGKILL) }, 0);
    let start = Instant::now();
    while alive(tui[0]) {
        assert!(start.elapsed() < DEADLINE, "chaosdeck survived SIGKILL");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(wait_exit(&tmux, &dir, 1), "137", "killed by SIGKILL");

    let draft_path = dir.join(format!("data/chaosdeck/sessions/{SESSION}.draft"));
    let draft: Value = serde_json::from_str(&std::fs::read_to_string(&draft_path).unwrap())
        .expect("the draft is whole JSON");
    let text = draft["text"].as_str().unwrap();
    assert!(
        text.starts_with("first words, typed well before the crash"),
        "what was typed over a second before is kept: {draft}"
    );
    assert!(
        "first words, typed well before the crash and a last few".starts_with(text),
        "{draft}"
    );
    assert_eq!(draft["purpose"], "note");

    // The second start offers it back: the banner says so, and the editor opens with it.
    tmux.wait("the banner", |s| s.contains("was kept"));
    tmux.keys(&["o"]);
    tmux.wait("the draft back in the editor", |s| {
        s.contains("first words, typed well before the crash")
    });
    // Cancelled, it goes.
    tmux.escape();
    let start = Instant::now();
    while draft_path.exists() {
        assert!(start.elapsed() < DEADLINE, "the cancelled draft stayed");
        std::thread::sleep(POLL);
    }
    tmux.keys(&["q"]);
    assert_eq!(wait_exit(&tmux, &dir, 2), "0", "{}", read(&dir, "stderr"));
    drop(tmux);
    let _ = std::fs::remove_dir_all(&dir);
}
