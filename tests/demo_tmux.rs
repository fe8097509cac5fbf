//! End to end: `chaosdeck demo` in a tmux pane, as a new user meets it (own HOME and data
//! directory, a Docker engine there): the TUI opens on the demo's GameDay, the facilitator ticks
//! the checklist and starts database-failure from its plan, the health panel shows the database
//! container stop, a note is written while it is down, the rollback brings it back, the notes are
//! exported with the note under the activity it was written during; quitting removes every
//! container and the network the demo started, and leaves the terminal settings (`stty -g`) as
//! they were.
//!
//! Each step is a method of [`DemoPane`].

mod common;

use common::tmux::{self, Tmux};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

/// Generous: the first start builds the demo image from a debug binary on a shared machine.
const FIRST_SCREEN: Duration = Duration::from_secs(600);
const STEP: Duration = Duration::from_secs(90);

struct DemoPane {
    /// Dropped first, so the demo quits (SIGHUP) before the rest is cleaned up.
    tmux: Option<Tmux>,
    dir: PathBuf,
    project: String,
}

/// The health panel's row of `name`, if on screen.
fn row<'a>(screen: &'a str, name: &str) -> Option<&'a str> {
    screen.lines().find(|l| l.contains(name))
}

impl DemoPane {
    /// The pane runs: terminal settings, `chaosdeck demo`, its exit code, terminal settings.
    fn start(extra: &str) -> DemoPane {
        let id = std::process::id();
        let project = format!("cdt{id}");
        let dir = std::env::temp_dir().join(format!(
            "chaosdeck-demo-tmux-{id}{}",
            extra.replace(' ', "")
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("home")).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let d = dir.display();
        let script = format!(
            "cd {d}/home\n\
             stty -g > {d}/stty-before\n\
             HOME={d}/home XDG_DATA_HOME={d}/data XDG_CONFIG_HOME={d}/config \
             '{bin}' demo --project {project} --api-port {port} {extra} 2> {d}/stderr\n\
             echo $? > {d}/exit.tmp && mv {d}/exit.tmp {d}/exit\n\
             stty -g > {d}/stty-after\n\
             exec sleep 3600\n",
            bin = env!("CARGO_BIN_EXE_chaosdeck"),
        );
        std::fs::write(dir.join("pane.sh"), script).unwrap();
        let tmux = Tmux::start(
            format!("chaosdeck-demo-e2e-{id}{}", extra.replace(' ', "")),
            &format!("sh {d}/pane.sh"),
            120,
            40,
        );
        DemoPane {
            tmux: Some(tmux),
            dir,
            project,
        }
    }

    fn tmux(&self) -> &Tmux {
        self.tmux.as_ref().expect("the pane runs")
    }

    fn container(&self, service: &str) -> String {
        format!("{}-{service}-1", self.project)
    }

    fn read(&self, file: &str) -> String {
        std::fs::read_to_string(self.dir.join(file)).unwrap_or_default()
    }

    /// The demo's experiments listed.
    fn wait_for_the_tui(&self) {
        let start = Instant::now();
        loop {
            let s = self.tmux().screen();
            if s.contains("Database failure") && s.contains("Cache unavailable") {
                return;
            }
            // An early exit (a failed build, say) is reported with what the demo said.
            assert!(
                !self.dir.join("exit").exists(),
                "the demo ended: {}\n{s}",
                self.read("stderr")
            );
            assert!(
                start.elapsed() < FIRST_SCREEN,
                "no TUI within {FIRST_SCREEN:?}:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    /// The checklist's three "before" items ticked in the session panel (the gate opens).
    fn tick_the_checklist(&self) {
        self.tmux().keys(&["c"]);
        self.tmux()
            .wait_within("the checklist", STEP, |s| s.contains("before (0/3 ticked)"));
        self.tmux().keys(&["Space", "j", "Space", "j", "Space"]);
        self.tmux()
            .wait_within("all ticked", STEP, |s| s.contains("before (3/3 ticked)"));
        self.tmux().escape();
    }

    /// Database-failure (first in the plan) is selected: its targets head the health panel,
    /// the database container running; then it starts from the plan popup.
    fn start_database_failure(&self) {
        let database = self.container("database");
        self.tmux()
            .wait_within("the database container running", STEP, |s| {
                row(s, &database).is_some_and(|r| r.contains("running"))
            });
        self.tmux().keys(&["s"]);
        self.tmux().wait_within("the plan", STEP, |s| {
            s.contains("stop-database") && s.contains("t start stepping")
        });
        self.tmux().keys(&["y"]);
    }

    /// The health panel: the database container exits during the fault; a note is written then
    /// (returns the activity it went with); the database runs again after the rollback.
    fn see_the_database_stop_and_come_back(&self) -> String {
        let database = self.container("database");
        self.tmux().wait_within("the database stopped", STEP, |s| {
            row(s, &database).is_some_and(|r| r.contains("exited"))
        });
        self.tmux().keys(&["o"]);
        let s = self.tmux().wait_within("the note editor", STEP, |s| {
            s.contains("on the run clock, during ")
        });
        let during = s
            .split("on the run clock, during ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_default()
            .trim_end_matches('│')
            .to_string();
        self.tmux().type_text("the API said 503 at once");
        self.tmux().keys(&["Enter"]);
        self.tmux()
            .wait_within("the note in the timeline", STEP, |s| {
                s.contains("✎") && s.contains("the API said 503 at once")
            });
        let s = self
            .tmux()
            .wait_within("the rollback and the database running", STEP, |s| {
                s.contains("✓ start-database")
                    && row(s, &database).is_some_and(|r| r.contains("running"))
                    && (s.contains("PASSED") || s.contains("FAILED"))
            });
        assert!(s.contains("PASSED"), "{s}");
        during
    }

    /// `e` exports the session; the Markdown holds the note right under the activity it was
    /// written during.
    fn export_the_notes(&self, during: &str) {
        self.tmux().keys(&["e"]);
        self.tmux()
            .wait_within("the export", STEP, |s| s.contains("exported"));
        let exports = self.dir.join("data/chaosdeck/exports");
        let md = std::fs::read_dir(&exports)
            .unwrap()
            .filter_map(Result::ok)
            .find(|e| e.path().extension().is_some_and(|x| x == "md"))
            .map(|e| std::fs::read_to_string(e.path()).unwrap())
            .expect("an exported Markdown file");
        let lines: Vec<&str> = md.lines().collect();
        let note = lines
            .iter()
            .position(|l| l.contains("the API said 503 at once"))
            .unwrap_or_else(|| panic!("the note is exported:\n{md}"));
        let activity = lines[..note]
            .iter()
            .rev()
            .find(|l| l.contains('`'))
            .unwrap_or_else(|| panic!("an activity above the note:\n{md}"));
        assert!(
            !during.is_empty() && activity.contains(&format!("`{during}`")),
            "the note sits under {during}, the activity it was written during:\n{md}"
        );
        assert!(
            md.contains("[x]"),
            "the ticked checklist is exported:\n{md}"
        );
    }

    /// Quits (idle: at once); the terminal is as it was and nothing the demo started is left.
    fn quit_and_find_nothing_left(&self) {
        self.tmux().keys(&["q"]);
        let start = Instant::now();
        while !self.dir.join("exit").exists() {
            assert!(
                start.elapsed() < STEP,
                "the demo did not quit:\n{}",
                self.tmux().screen()
            );
            std::thread::sleep(Duration::from_millis(150));
        }
        assert_eq!(
            self.read("exit").trim(),
            "0",
            "stderr: {}",
            self.read("stderr")
        );
        let (before, after) = (self.read("stty-before"), self.read("stty-after"));
        assert!(!before.trim().is_empty(), "stty -g printed nothing");
        assert_eq!(before, after, "the terminal settings changed");
        let s = self.tmux().screen();
        assert!(s.contains("chaosdeck demo: removed"), "{s}");
        assert_eq!(common::demo_labelled(&self.project), Vec::<String>::new());
        assert!(!self.dir.join("data/chaosdeck/demo/started.json").exists());
    }
}

impl Drop for DemoPane {
    fn drop(&mut self) {
        // Whatever happened: the pane goes (the demo, hung up, cleans up after itself), and
        // demo --down removes what it may still have left.
        drop(self.tmux.take());
        let deadline = Instant::now() + STEP;
        while self.dir.join("data/chaosdeck/demo/started.json").exists()
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(200));
        }
        let _ = Command::new(env!("CARGO_BIN_EXE_chaosdeck"))
            .args(["demo", "--down"])
            .env("HOME", self.dir.join("home"))
            .env("XDG_DATA_HOME", self.dir.join("data"))
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn docker_answers() -> bool {
    Command::new("docker")
        .arg("info")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn a_database_failure_run_in_the_demo_seen_in_tmux() {
    if tmux::no_tmux() {
        return;
    }
    assert!(
        docker_answers(),
        "the docker demo needs a Docker engine (.ci/run starts one)"
    );
    let demo = DemoPane::start("");
    demo.wait_for_the_tui();
    demo.tick_the_checklist();
    demo.start_database_failure();
    let during = demo.see_the_database_stop_and_come_back();
    demo.export_the_notes(&during);
    demo.quit_and_find_nothing_left();
}

/// Without Docker the demo's processes stand in the health panel: the database process exits
/// during the fault (a closed port, an exit code) and runs again after the rollback.
#[test]
fn the_loopback_demo_shows_its_processes_in_the_health_panel() {
    if tmux::no_tmux() {
        return;
    }
    let demo = DemoPane::start("--no-docker");
    demo.wait_for_the_tui();
    demo.tick_the_checklist();
    let row = |s: &str| {
        s.lines()
            .find(|l| l.contains("database ") && (l.contains("running") || l.contains("exited")))
            .map(str::to_string)
    };
    demo.tmux()
        .wait_within("the database process running, with its memory", STEP, |s| {
            row(s).is_some_and(|r| r.contains("running") && r.contains("MiB"))
        });
    demo.tmux().keys(&["s"]);
    demo.tmux()
        .wait_within("the plan", STEP, |s| s.contains("t start stepping"));
    demo.tmux().keys(&["y"]);
    demo.tmux()
        .wait_within("the database process exited", STEP, |s| {
            row(s).is_some_and(|r| r.contains("exited"))
        });
    let s = demo.tmux().wait_within("the run's end", STEP, |s| {
        s.contains("PASSED") || s.contains("FAILED")
    });
    assert!(s.contains("PASSED"), "{s}");
    demo.tmux()
        .wait_within("the database process running again", STEP, |s| {
            row(s).is_some_and(|r| r.contains("running"))
        });
    demo.tmux().keys(&["q"]);
    let start = Instant::now();
    while !demo.dir.join("exit").exists() {
        assert!(start.elapsed() < STEP, "the demo did not quit");
        std::thread::sleep(Duration::from_millis(150));
    }
    assert_eq!(demo.read("exit").trim(), "0", "{}", demo.read("stderr"));
    assert_eq!(demo.read("stty-before"), demo.read("stty-after"));
}
