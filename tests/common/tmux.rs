//! A tmux server of a test's own (`tmux -L SOCKET`), a pane of 120×40 driven by `send-keys`
//! and read by `capture-pane`; the server is killed and its socket removed when dropped.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

const POLL: Duration = Duration::from_millis(150);

pub struct Tmux {
    socket: String,
}

impl Tmux {
    pub fn tmux(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .expect("run tmux")
    }

    /// A detached session `e2e` running `command`.
    pub fn start(socket: String, command: &str) -> Tmux {
        let t = Tmux { socket };
        let out = t.tmux(&[
            "new-session",
            "-d",
            "-s",
            "e2e",
            "-x",
            "120",
            "-y",
            "40",
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

    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.tmux(&["capture-pane", "-p", "-t", "e2e"]).stdout).into()
    }

    /// Polls the pane until `done` holds; fails with the last screen after `within`.
    pub fn wait(&self, what: &str, within: Duration, done: impl Fn(&str) -> bool) -> String {
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

/// Whether tmux is missing (the test then says it skipped).
pub fn missing() -> bool {
    let missing = Command::new("tmux").arg("-V").output().is_err();
    if missing {
        println!("skipped: tmux is not installed (.ci/run installs it)");
    }
    missing
}
