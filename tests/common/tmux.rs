//! A tmux server of a test's own (its own socket, `tmux -L NAME`), to drive the real binary by
//! `send-keys` and read it by `capture-pane`; killed, and its socket removed, when dropped.

#![allow(dead_code)]
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// Generous: the machine is small and shared with other builds.
pub const DEADLINE: Duration = Duration::from_secs(90);
pub const POLL: Duration = Duration::from_millis(150);

pub struct Tmux {
    socket: String,
}

/// Whether tmux is missing (the test then says it was skipped).
pub fn no_tmux() -> bool {
    let missing = Command::new("tmux").arg("-V").output().is_err();
    if missing {
        println!("skipped: tmux is not installed (.ci/run installs it)");
    }
    missing
}

impl Tmux {
    pub fn tmux(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .expect("run tmux")
    }

    /// A session `e2e` of `width`×`height` running `command`.
    pub fn start(socket: String, command: &str, width: u16, height: u16) -> Tmux {
        let t = Tmux { socket };
        let (w, h) = (width.to_string(), height.to_string());
        let out = t.tmux(&[
            "new-session",
            "-d",
            "-s",
            "e2e",
            "-x",
            &w,
            "-y",
            &h,
            command,
        ]);
        assert!(out.status.success(), "tmux: {out:?}");
        t
    }

    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "e2e"];
        args.extend_from_slice(keys);
        assert!(self.tmux(&args).status.success(), "send-keys {keys:?}");
    }

    /// Types text as it is (no key names).
    pub fn type_text(&self, text: &str) {
        let out = self.tmux(&["send-keys", "-t", "e2e", "-l", text]);
        assert!(out.status.success(), "send-keys -l {text:?}");
    }

    /// Esc alone: a key sent right after it would read as Alt-key.
    pub fn escape(&self) {
        self.keys(&["Escape"]);
        std::thread::sleep(Duration::from_millis(300));
    }

    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.tmux(&["capture-pane", "-p", "-t", "e2e"]).stdout).into()
    }

    /// The pid of the pane's process (the shell script the test gave it).
    pub fn pane_pid(&self) -> i32 {
        let out = self.tmux(&["display-message", "-p", "-t", "e2e", "#{pane_pid}"]);
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .expect("a pane pid")
    }

    /// Polls the pane until `done` holds; fails with the last screen after [`DEADLINE`].
    pub fn wait(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        self.wait_within(what, DEADLINE, done)
    }

    /// Polls the pane until `done` holds; fails with the last screen after `within`.
    pub fn wait_within(&self, what: &str, within: Duration, done: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if done(&screen) {
                return screen;
            }
            assert!(
                start.elapsed() < within,
                "waited {within:?} for {what}; the screen:\n{screen}"
            );
            std::thread::sleep(POLL);
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        // The server's socket file stays behind a killed server: ask where it is first.
        let socket = self.tmux(&["display-message", "-p", "#{socket_path}"]);
        let _ = self.tmux(&["kill-server"]);
        let path = String::from_utf8_lossy(&socket.stdout).trim().to_string();
        if !path.is_empty() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// The children of a process, from /proc.
pub fn children(pid: i32) -> Vec<i32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}
