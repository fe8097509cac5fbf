//! `chaosdeck demo` (issue #8), the real binary against real processes and a real Docker
//! engine: the embedded plan and experiments validate; the loopback demo's experiments run green
//! and really stop the database; the docker demo starts containers and removes them when it
//! ends, and a `kill -9`'d demo's leftovers go with the next `chaosdeck demo --down`.

mod common;

use chaosdeck::demo::embedded::{self, Flavour};
use chaosdeck::headless::{prepare, PrepareOptions};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

/// The loopback demos prefer the same default ports: one at a time.
static LOOPBACK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Building the image from a debug binary on a busy two-core machine takes minutes.
const UP_WITHIN: Duration = Duration::from_secs(600);

#[tokio::test]
async fn every_embedded_document_validates() {
    for flavour in [Flavour::Docker, Flavour::Loopback] {
        let dir = common::tempdir();
        let written = embedded::write_out(&dir, flavour).unwrap();
        let plan = chaosdeck::gameday::plan::load(&written.plan)
            .unwrap_or_else(|e| panic!("{flavour:?}: the plan: {e:?}"));
        for file in &plan.experiment_files {
            let options = PrepareOptions {
                skip_targets: true,
                ..PrepareOptions::default()
            };
            if let Err(findings) = prepare(file.to_str().unwrap(), &options).await {
                panic!("{}: {:?}", file.display(), findings.errors);
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn every_gameday_plan_of_the_repository_loads() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    for entry in std::fs::read_dir(repo.join("gamedays")).unwrap() {
        let path = entry.unwrap().path();
        let plan = chaosdeck::gameday::plan::load(&path)
            .unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
        // Every experiment a rotation week names is one the plan lists.
        let listed: Vec<String> = plan
            .experiment_files
            .iter()
            .map(|f| f.file_stem().unwrap().to_string_lossy().into_owned())
            .collect();
        for week in plan.plan.schedule.iter().flat_map(|s| &s.rotation) {
            for name in &week.experiments {
                assert!(
                    listed.contains(name),
                    "{}: {name} is not listed",
                    path.display()
                );
            }
        }
    }
}

/// A `chaosdeck demo` of our own, with its own data directory; killed when dropped.
struct Demo {
    child: Child,
    data: PathBuf,
    lines: mpsc::Receiver<String>,
}

impl Demo {
    fn start(data: &Path, args: &[&str]) -> Demo {
        let mut child = Command::new(env!("CARGO_BIN_EXE_chaosdeck"))
            .arg("demo")
            .args(args)
            .env("XDG_DATA_HOME", data)
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start chaosdeck demo");
        let (tx, lines) = mpsc::channel();
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let _ = tx.send(line);
                }
            });
        }
        Demo {
            child,
            data: data.to_path_buf(),
            lines,
        }
    }

    /// Reads output until a line contains `text`; fails with everything read otherwise.
    fn wait_for(&self, text: &str, within: Duration) -> Vec<String> {
        let start = Instant::now();
        let mut seen = Vec::new();
        while start.elapsed() < within {
            if let Ok(line) = self.lines.recv_timeout(Duration::from_millis(200)) {
                let found = line.contains(text);
                seen.push(line);
                if found {
                    return seen;
                }
            }
        }
        panic!(
            "no line with {text:?} within {within:?}; read:\n{}",
            seen.join("\n")
        );
    }

    fn demo_dir(&self) -> PathBuf {
        self.data.join("chaosdeck/demo")
    }

    /// The environment the demo wrote for its experiments.
    fn env(&self) -> HashMap<String, String> {
        std::fs::read_to_string(self.demo_dir().join("demo.env"))
            .unwrap()
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// Runs one of the written-out experiments with `chaosdeck run`; returns the journal.
    fn run(&self, experiment: &str) -> serde_json::Value {
        let journal = self.data.join(format!("{experiment}.json"));
        let out = Command::new(env!("CARGO_BIN_EXE_chaosdeck"))
            .arg("run")
            .arg(
                self.demo_dir()
                    .join(format!("experiments/{experiment}.yaml")),
            )
            .arg("--var-file")
            .arg(self.demo_dir().join("demo.env"))
            .arg("--journal-path")
            .arg(&journal)
            .env("XDG_DATA_HOME", &self.data)
            .env("NO_COLOR", "1")
            .output()
            .expect("run chaosdeck run");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{experiment}:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_str(&std::fs::read_to_string(&journal).unwrap()).unwrap()
    }

    fn signal(&self, signal: i32) {
        // SAFETY: kill(2) to the child this test started.
        unsafe { libc::kill(self.child.id() as i32, signal) };
    }

    /// Waits for the demo to exit; returns its code and the rest of its output.
    fn wait_exit(&mut self) -> (Option<i32>, Vec<String>) {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                std::thread::sleep(Duration::from_millis(200));
                return (status.code(), self.lines.try_iter().collect());
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "the demo did not exit"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn record(&self) -> Option<serde_json::Value> {
        let text = std::fs::read_to_string(self.demo_dir().join("started.json")).ok()?;
        serde_json::from_str(&text).ok()
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_loopback_demo_runs_its_experiments_green_and_leaves_nothing() {
    let _one = LOOPBACK.lock().unwrap_or_else(|p| p.into_inner());
    let data = common::tempdir();
    let port = common::free_port().to_string();
    let mut demo = Demo::start(&data, &["--no-docker", "--no-tui", "--api-port", &port]);
    let said = demo.wait_for("up until Ctrl-C", Duration::from_secs(60));
    assert!(
        said.iter()
            .any(|l| l.contains(&format!("API on http://127.0.0.1:{port}"))),
        "{said:?}"
    );
    let env = demo.env();
    let database = env["CHAOSDECK_DEMO_DATABASE_ADDRESS"].clone();
    let pids: Vec<i32> = demo.record().unwrap()["processes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["pid"].as_i64().unwrap() as i32)
        .collect();
    assert_eq!(pids.len(), 3, "api, database and cache run");

    // Watch the database's port while database-failure runs: it must close, then open again.
    let (stop, refused) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicUsize::new(0)),
    );
    let watcher = {
        let (stop, refused, database) = (stop.clone(), refused.clone(), database.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                if std::net::TcpStream::connect(&database).is_err() {
                    refused.fetch_add(1, Ordering::SeqCst);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        })
    };
    let journal = demo.run("database-failure");
    stop.store(true, Ordering::SeqCst);
    watcher.join().unwrap();
    assert!(
        refused.load(Ordering::SeqCst) > 0,
        "the database port never closed"
    );
    assert!(
        std::net::TcpStream::connect(&database).is_ok(),
        "the database answers after the rollback"
    );
    assert_eq!(journal["chaosdeck"]["verdict"], "passed");
    let run = journal["run"].as_array().unwrap();
    let stopped = run
        .iter()
        .find(|e| e["activity"]["name"] == "database-stopped");
    assert_eq!(stopped.unwrap()["output"]["body"]["running"], false);

    for experiment in ["cache-unavailable", "multi-component-failure"] {
        let journal = demo.run(experiment);
        assert_eq!(journal["chaosdeck"]["verdict"], "passed", "{experiment}");
    }

    // SIGTERM: every process it started ends, the record goes.
    let pids: Vec<i32> = demo.record().unwrap()["processes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["pid"].as_i64().unwrap() as i32)
        .collect();
    demo.signal(libc::SIGTERM);
    let (code, _) = demo.wait_exit();
    assert_eq!(code, Some(0));
    for pid in pids {
        assert!(!common::alive(pid), "process {pid} outlived the demo");
    }
    assert!(demo.record().is_none(), "the record is removed");
    let _ = std::fs::remove_dir_all(&data);
}

#[test]
fn a_killed_loopback_demo_takes_its_processes_with_it() {
    let _one = LOOPBACK.lock().unwrap_or_else(|p| p.into_inner());
    let data = common::tempdir();
    let port = common::free_port().to_string();
    let mut demo = Demo::start(&data, &["--no-docker", "--no-tui", "--api-port", &port]);
    demo.wait_for("up until Ctrl-C", Duration::from_secs(60));
    let record = demo.record().unwrap();
    demo.signal(libc::SIGKILL);
    demo.wait_exit();
    std::thread::sleep(Duration::from_millis(500));
    for p in record["processes"].as_array().unwrap() {
        let pid = p["pid"].as_i64().unwrap() as i32;
        assert!(!common::alive(pid), "{p} outlived a kill -9 of the demo");
    }
    let out = common::chaosdeck(
        &data,
        &["demo", "--down", "--no-docker"],
        &[("XDG_DATA_HOME", data.to_str().unwrap())],
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(said.contains("did not end cleanly"), "{said}");
    assert!(!data.join("chaosdeck/demo/started.json").exists());
    let _ = std::fs::remove_dir_all(&data);
}

#[test]
fn the_docker_demo_removes_its_containers_and_a_killed_ones_go_with_down() {
    let project = format!("cdd-{}", std::process::id());
    let data = common::tempdir();
    let port = common::free_port().to_string();
    let args = ["--no-tui", "--project", &project, "--api-port", &port];

    let mut demo = Demo::start(&data, &args);
    let said = demo.wait_for("up until Ctrl-C", UP_WITHIN);
    assert!(
        said.iter().any(|l| l.contains("as containers")),
        "the docker flavour: {said:?}"
    );
    let expected = vec![
        format!("{project}-api-1"),
        format!("{project}-cache-1"),
        format!("{project}-database-1"),
        format!("{project}_default"),
    ];
    assert_eq!(common::demo_labelled(&project), expected);
    let journal = demo.run("database-failure");
    assert_eq!(journal["chaosdeck"]["verdict"], "passed");
    demo.signal(libc::SIGINT);
    let (code, rest) = demo.wait_exit();
    assert_eq!(code, Some(0), "{rest:?}");
    assert!(
        common::demo_labelled(&project).is_empty(),
        "left: {:?}",
        common::demo_labelled(&project)
    );
    drop(demo);

    // kill -9: the containers stay until the next demo --down removes them, saying so.
    let mut demo = Demo::start(&data, &args);
    demo.wait_for("up until Ctrl-C", UP_WITHIN);
    demo.signal(libc::SIGKILL);
    demo.wait_exit();
    assert_eq!(
        common::demo_labelled(&project),
        expected,
        "kill -9 leaves them"
    );
    let out = common::chaosdeck(
        &data,
        &["demo", "--down"],
        &[("XDG_DATA_HOME", data.to_str().unwrap())],
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(
        said.contains(&format!("container {project}-database-1")),
        "{said}"
    );
    assert!(
        common::demo_labelled(&project).is_empty(),
        "left: {:?}",
        common::demo_labelled(&project)
    );
    let _ = std::fs::remove_dir_all(&data);
}

/// A demo run that ended owing its rollbacks (aborted without them) restores a system that the
/// demo's end removes: the record goes with the demo, said so, and `recover` has nothing to do.
#[test]
fn rollbacks_owed_by_demo_runs_go_with_the_demo() {
    let _one = LOOPBACK.lock().unwrap_or_else(|p| p.into_inner());
    let data = common::tempdir();
    let port = common::free_port().to_string();
    let mut demo = Demo::start(&data, &["--no-docker", "--no-tui", "--api-port", &port]);
    demo.wait_for("up until Ctrl-C", Duration::from_secs(60));
    let mut run = Command::new(env!("CARGO_BIN_EXE_chaosdeck"))
        .arg("run")
        .arg(demo.demo_dir().join("experiments/database-failure.yaml"))
        .arg("--var-file")
        .arg(demo.demo_dir().join("demo.env"))
        .arg("--journal-path")
        .arg(data.join("owed.json"))
        .env("XDG_DATA_HOME", &data)
        .env("NO_COLOR", "1")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = run.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let start = Instant::now();
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the run's output");
        if line.contains("stop-database") && line.contains("succeeded") {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "no fault");
    }
    // SAFETY: kill(2) to the run this test started: abort without rollback.
    unsafe { libc::kill(run.id() as i32, libc::SIGUSR2) };
    let _ = run.wait();
    let recover = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_chaosdeck"))
            .arg("recover")
            .args(args)
            .env("XDG_DATA_HOME", &data)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    assert!(
        recover(&[]).contains("owed: start-database"),
        "the run owes its rollbacks"
    );
    demo.signal(libc::SIGINT);
    let (code, said) = demo.wait_exit();
    assert_eq!(code, Some(0), "{said:?}");
    assert!(
        said.iter()
            .any(|l| l.contains("dropped the rollbacks a demo run still owed")),
        "{said:?}"
    );
    assert!(recover(&[]).contains("No run owes rollbacks"));
}
