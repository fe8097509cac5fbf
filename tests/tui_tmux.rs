//! End to end: the real binary in a tmux pane of 120×40, driven by `send-keys` and read by
//! `capture-pane`. A facilitator selects an experiment, starts it from the plan, pauses, steps,
//! aborts and watches the rollback play, then quits — against a loopback HTTP server and a real
//! container whose stop and restart show in the health panel. The terminal settings (`stty -g`,
//! read inside the pane) must be the same before the TUI starts and after it quits.

mod common;

use common::tmux::{Tmux, DEADLINE, POLL};
use common::{tempdir, Reply, Server};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const IMAGE: &str = "chaosdeck-busybox:local";
/// A container this test made, removed however the test ends.
struct Container(String);

impl Container {
    fn start(name: &str) -> Container {
        let built = Command::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scripts/build-images.sh"
        ))
        .arg("busybox")
        .output()
        .expect("run scripts/build-images.sh");
        assert!(built.status.success(), "building {IMAGE}: {built:?}");
        let c = Container(name.to_string());
        let out = Command::new("docker")
            .args(["run", "-d", "--name", name, IMAGE, "sleep", "3600"])
            .output()
            .expect("run docker");
        assert!(out.status.success(), "docker run: {out:?}");
        c
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = Command::new("docker").args(["rm", "-f", &self.0]).output();
    }
}

/// The container panel's row of `name`, if on screen.
fn row<'a>(screen: &'a str, name: &str) -> Option<&'a str> {
    screen.lines().find(|l| l.contains(name))
}

fn experiment(url: &str, container: &str) -> String {
    format!(
        r#"title: Box outage drill
description: the box stops; the rollback starts it again
steady-state-hypothesis:
  title: the service answers
  probes:
    - type: probe
      name: service-ok
      tolerance: 200
      provider: {{type: http, url: "{url}/slow", timeout: 10}}
method:
  - type: action
    name: stop-box
    provider: {{type: docker, func: stop, container: {container}, arguments: {{grace: 1}}}}
  - type: probe
    name: service-during
    provider: {{type: http, url: "{url}/health"}}
  - type: action
    name: long-wait
    provider: {{type: process, path: sleep, arguments: "60"}}
rollbacks:
  - type: action
    name: start-box
    provider: {{type: docker, func: start, container: {container}}}
"#
    )
}

/// The shell script the pane runs: terminal settings, the TUI, terminal settings again.
fn script(dir: &Path, experiments: &Path) -> PathBuf {
    let bin = env!("CARGO_BIN_EXE_chaosdeck");
    let d = dir.display();
    let text = format!(
        "stty -g > {d}/stty-before\n\
         XDG_DATA_HOME={d}/data XDG_CONFIG_HOME={d}/config '{bin}' --experiments {e} \
         2> {d}/stderr\n\
         echo $? > {d}/exit.tmp && mv {d}/exit.tmp {d}/exit\n\
         stty -g > {d}/stty-after\n\
         exec sleep 3600\n",
        e = experiments.display()
    );
    let path = dir.join("pane.sh");
    std::fs::write(&path, text).unwrap();
    path
}

fn no_tmux() -> bool {
    let missing = Command::new("tmux").arg("-V").output().is_err();
    if missing {
        println!("skipped: tmux is not installed (.ci/run installs it)");
    }
    missing
}

/// Waits for the pane's script to record the TUI's exit; checks the code and `stty -g`.
fn assert_quit_cleanly(tmux: &Tmux, dir: &Path) {
    let exit = dir.join("exit");
    let start = Instant::now();
    while !exit.exists() {
        assert!(
            start.elapsed() < DEADLINE,
            "the TUI did not quit:\n{}",
            tmux.screen()
        );
        std::thread::sleep(POLL);
    }
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap_or_default();
    assert_eq!(read("exit").trim(), "0", "stderr: {}", read("stderr"));
    let (before, after) = (read("stty-before"), read("stty-after"));
    assert!(!before.trim().is_empty(), "stty -g printed nothing");
    assert_eq!(before, after, "the terminal settings changed");
}

#[test]
fn a_gameday_in_tmux_against_a_server_and_a_container() {
    if no_tmux() {
        return;
    }
    let id = std::process::id();
    let name = format!("cdtui-{id}-a");
    let _box = Container::start(&name);
    let server = Server::start();
    server.route(
        "/slow",
        Reply::text(200, "ok").delayed(Duration::from_secs(2)),
    );
    server.route("/health", Reply::text(200, "ok"));
    let dir = tempdir();
    let experiments = dir.join("experiments");
    std::fs::create_dir_all(&experiments).unwrap();
    std::fs::write(
        experiments.join("a-warmup.yaml"),
        "title: Warm-up\ndescription: d\nmethod:\n  - type: probe\n    name: noop\n    \
         provider: {type: process, path: 'true'}\n",
    )
    .unwrap();
    std::fs::write(
        experiments.join("b-box-outage.yaml"),
        experiment(&server.url(""), &name),
    )
    .unwrap();
    let pane = script(&dir, &experiments);
    let tmux = Tmux::start(
        format!("chaosdeck-e2e-{id}"),
        &format!("sh {}", pane.display()),
        120,
        40,
    );

    // Both experiments load; the container runs; select the second and open its plan.
    tmux.wait("the list and a running box", |s| {
        s.contains("Box outage drill") && row(s, &name).is_some_and(|r| r.contains("running"))
    });
    tmux.keys(&["j", "s"]);
    tmux.wait("the plan", |s| {
        s.contains(&format!("docker stop {name}")) && s.contains(&format!("docker start {name}"))
    });
    // Start, and pause while the (slow) hypothesis probe runs: the run holds before stop-box.
    tmux.keys(&["y"]);
    tmux.wait("the run", |s| s.contains("service-ok"));
    tmux.keys(&["p"]);
    tmux.wait("the hold", |s| s.contains("held before stop-box"));
    assert!(row(&tmux.screen(), &name).is_some_and(|r| r.contains("running")));

    // Step: stop-box runs and the run holds again; the panel shows the box exited.
    tmux.keys(&["n"]);
    let s = tmux.wait("the box exited and the next hold", |s| {
        s.contains("held before service-during")
            && row(s, &name).is_some_and(|r| r.contains("exited"))
    });
    assert!(s.contains("✓ stop-box"), "{s}");

    // Abort: no question; the rollback plays and the box runs again.
    tmux.keys(&["a"]);
    let s = tmux.wait("the rollback played and the box running", |s| {
        s.contains("── Rollbacks")
            && s.contains("✓ start-box")
            && row(s, &name).is_some_and(|r| r.contains("running"))
    });
    assert!(
        !s.contains("Abort without rollback?"),
        "abort asks nothing: {s}"
    );
    tmux.wait("the run's end", |s| {
        s.contains("FAILED") || s.contains("PASSED")
    });
    assert_eq!(
        server.hits("/health"),
        0,
        "service-during never ran: it was held"
    );

    // Quit, idle: at once. The terminal is as it was.
    tmux.keys(&["q"]);
    assert_quit_cleanly(&tmux, &dir);
    let journals = dir.join("data/chaosdeck/journals");
    let saved = std::fs::read_dir(&journals).map_or(0, |d| d.count());
    assert_eq!(saved, 1, "one journal in {}", journals.display());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Started stepping from the plan; a held activity skipped; an abort without rollback leaves
/// the rollback owed, and the banner plays it.
#[test]
fn step_mode_skip_and_owed_rollbacks_played_from_the_banner() {
    if no_tmux() {
        return;
    }
    let id = std::process::id();
    let name = format!("cdtui-{id}-b");
    let _box = Container::start(&name);
    let server = Server::start();
    server.route("/slow", Reply::text(200, "ok"));
    server.route("/health", Reply::text(200, "ok"));
    let dir = tempdir();
    let experiments = dir.join("experiments");
    std::fs::create_dir_all(&experiments).unwrap();
    std::fs::write(
        experiments.join("box-outage.yaml"),
        experiment(&server.url(""), &name),
    )
    .unwrap();
    let pane = script(&dir, &experiments);
    let tmux = Tmux::start(
        format!("chaosdeck-e2e-{id}-owed"),
        &format!("sh {}", pane.display()),
        120,
        40,
    );
    tmux.wait("the list", |s| {
        s.contains("Box outage drill") && row(s, &name).is_some_and(|r| r.contains("running"))
    });
    tmux.keys(&["s"]);
    tmux.wait("the plan", |s| s.contains("t start stepping"));
    tmux.keys(&["t"]);
    tmux.wait("the first hold", |s| s.contains("held before stop-box"));
    tmux.keys(&["n"]);
    tmux.wait("the box exited", |s| {
        s.contains("held before service-during")
            && row(s, &name).is_some_and(|r| r.contains("exited"))
    });
    tmux.keys(&["x"]);
    tmux.wait("service-during skipped", |s| {
        s.contains("held before long-wait")
    });
    assert_eq!(server.hits("/health"), 0, "the skipped probe never ran");
    tmux.keys(&["A"]);
    tmux.wait("the question", |s| s.contains("Abort without rollback?"));
    tmux.keys(&["y"]);
    let s = tmux.wait("the owed banner", |s| s.contains("r plays them"));
    assert!(row(&s, &name).is_some_and(|r| r.contains("exited")), "{s}");
    tmux.keys(&["r"]);
    tmux.wait("the question", |s| s.contains("Play owed rollbacks?"));
    tmux.keys(&["y"]);
    let s = tmux.wait("the owed rollback played", |s| {
        s.contains("✓ start-box")
            && !s.contains("r plays them")
            && row(s, &name).is_some_and(|r| r.contains("running"))
    });
    assert!(s.contains("recovering"), "{s}");
    tmux.keys(&["q"]);
    assert_quit_cleanly(&tmux, &dir);
    let ledger = dir.join("data/chaosdeck/ledger");
    let left = std::fs::read_dir(&ledger).map_or(0, |d| d.count());
    assert_eq!(left, 0, "nothing stays owed in {}", ledger.display());
    let _ = std::fs::remove_dir_all(&dir);
}
