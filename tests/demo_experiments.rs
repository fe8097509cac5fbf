//! The three docker experiments of experiments/ (issue #4) run green with `chaosdeck run` on a
//! real demo stack (images built offline by scripts/build-images.sh, containers started by
//! scripts/demo-stack.sh), and their journals show the fault really happened and went away.

mod common;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Builds the images (a dev-profile static binary: much faster than release) once.
fn images() {
    let out = Command::new(repo().join("scripts/build-images.sh"))
        .args(["busybox", "demo"])
        .env("CHAOSDECK_STATIC_PROFILE", "dev")
        .output()
        .expect("run build-images.sh");
    assert!(
        out.status.success(),
        "building the images failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A demo stack of our own, taken down when dropped.
struct Stack {
    project: String,
    port: u16,
}

impl Stack {
    fn up() -> Stack {
        let port = common::free_port();
        let project = format!("chaosdeck-test-{}", std::process::id());
        let stack = Stack { project, port };
        let out = stack.script(&["up", "--wait", "90"]);
        assert!(
            out.status.success(),
            "demo-stack up failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        stack
    }

    fn script(&self, args: &[&str]) -> std::process::Output {
        Command::new(repo().join("scripts/demo-stack.sh"))
            .args(args)
            .args([
                "--project",
                &self.project,
                "--api-port",
                &self.port.to_string(),
            ])
            .output()
            .expect("run demo-stack.sh")
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn run(&self, experiment: &str, dir: &Path) -> (std::process::Output, Value) {
        let journal = dir.join(format!("{experiment}.json"));
        let out = Command::new(env!("CARGO_BIN_EXE_chaosdeck"))
            .args([
                "run",
                &format!("experiments/{experiment}.yaml"),
                "--journal-path",
            ])
            .arg(&journal)
            .current_dir(repo())
            .env("NO_COLOR", "1")
            .env("XDG_DATA_HOME", dir.join("data"))
            .env("CHAOSDECK_DEMO_API_URL", self.url(""))
            .env("CHAOSDECK_DEMO_PROJECT", &self.project)
            .output()
            .expect("run chaosdeck");
        let j = serde_json::from_str(&std::fs::read_to_string(&journal).unwrap_or_default())
            .unwrap_or(Value::Null);
        (out, j)
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = self.script(&["down"]);
    }
}

fn entry<'a>(journal: &'a Value, phase: &str, name: &str) -> &'a Value {
    journal[phase]
        .as_array()
        .and_then(|l| l.iter().find(|e| e["activity"]["name"] == name))
        .unwrap_or_else(|| panic!("no {phase} entry named {name} in {journal}"))
}

fn healthy(stack: &Stack) -> bool {
    Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            &stack.url("/ready"),
        ])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout) == "200")
        .unwrap_or(false)
}

#[test]
fn the_docker_experiments_run_green_on_the_demo_stack() {
    images();
    let stack = Stack::up();
    let dir: PathBuf = common::tempdir();

    let (out, j) = stack.run("database-failure", &dir);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "database-failure:\n{err}");
    assert_eq!(j["chaosdeck"]["verdict"], "passed");
    assert_eq!(
        j["steady_states"]["before"]["probes"][1]["output"]["running"], true,
        "running before"
    );
    assert_eq!(
        entry(&j, "run", "database-stopped")["output"]["running"],
        false
    );
    assert_eq!(
        entry(&j, "run", "api-health-degraded")["output"]["status"],
        503
    );
    assert_eq!(
        entry(&j, "rollbacks", "database-running-again")["output"]["running"],
        true
    );
    assert!(healthy(&stack), "healthy after database-failure");

    let (out, j) = stack.run("cache-unavailable", &dir);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "cache-unavailable:\n{err}");
    assert_eq!(entry(&j, "run", "cache-down")["output"]["running"], false);
    assert_eq!(entry(&j, "run", "api-not-ready")["output"]["status"], 503);
    assert_eq!(
        entry(&j, "rollbacks", "cache-running-again")["output"]["running"],
        true
    );
    assert!(healthy(&stack), "healthy after cache-unavailable");

    let (out, j) = stack.run("resource-exhaustion", &dir);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "resource-exhaustion:\n{err}");
    let burning = entry(&j, "run", "cpu-is-burning")["output"]["cpu_percent"]
        .as_f64()
        .unwrap_or(0.0);
    assert!(burning > 30.0, "the CPU really rose: {burning}");
    assert!(healthy(&stack), "healthy after resource-exhaustion");
}
