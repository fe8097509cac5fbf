//! `chaosdeck demo`: starts the demo system — as containers when a Docker engine answers, else
//! as supervised processes on loopback — writes the demo's GameDay plan and experiments under
//! the data directory, opens the TUI on them, and removes everything it started when it ends.
//! What it starts is recorded before it starts it, so a demo killed outright is cleaned up by
//! the next `chaosdeck demo` or by `chaosdeck demo --down`.

use super::embedded::{self, Flavour, Written};
use super::record::{self, Record};
use super::stack::{self, Names};
use super::supervisor::{Addresses, Supervisor};
use crate::docker::snapshot::Snapshot;
use bollard::Docker;
use clap::Args;
use futures_util::FutureExt;
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::signal::unix::{signal, Signal, SignalKind};
use tokio::sync::watch;

/// How long the Docker engine has to answer before the demo runs on loopback instead.
const DOCKER_PROBE: Duration = Duration::from_secs(5);

/// Options of `chaosdeck demo`.
#[derive(Args, Debug, Clone)]
pub struct DemoArgs {
    /// Run the demo system as processes on loopback even when a Docker engine answers.
    #[arg(long)]
    pub no_docker: bool,
    /// Remove what an earlier demo left behind (after a crash) and exit.
    #[arg(long)]
    pub down: bool,
    /// Start the demo system and keep it up until Ctrl-C without the TUI, to run its
    /// experiments from another terminal.
    #[arg(long)]
    pub no_tui: bool,
    /// Compose project of the demo's containers (their names start with it).
    #[arg(long, default_value = "chaosdeck", value_parser = project_name)]
    pub project: String,
    /// Port of the API on 127.0.0.1 (default 8000 when free, else any free port).
    #[arg(long)]
    pub api_port: Option<u16>,
}

impl DemoArgs {
    /// Whether the TUI will own the terminal (so logs must go to a file).
    pub fn uses_tui(&self) -> bool {
        !self.no_tui && !self.down
    }
}

fn project_name(text: &str) -> Result<String, String> {
    let ok = text
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
        && text.len() <= 40
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if ok {
        Ok(text.to_string())
    } else {
        Err("a project is 1 to 40 of a-z, 0-9, - and _, starting with a letter or digit".into())
    }
}

/// Runs `chaosdeck demo`; returns the exit code.
pub async fn run(args: DemoArgs) -> i32 {
    match demo(args).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

async fn demo(args: DemoArgs) -> Result<i32, String> {
    let data = crate::engine::ledger::data_dir()
        .ok_or("no data directory for the demo's files: set HOME or XDG_DATA_HOME")?;
    let demo_dir = data.join("demo");
    std::fs::create_dir_all(&demo_dir)
        .map_err(|e| format!("cannot create {}: {e}", demo_dir.display()))?;
    let docker = if args.no_docker {
        Err("--no-docker".to_string())
    } else {
        let address = crate::docker::address();
        crate::docker::connect_to(&address, Some(DOCKER_PROBE))
            .await
            .map_err(|e| format!("no Docker engine answers at {address} ({e})"))
    };
    let removed = remove_leftovers(&demo_dir, docker.as_ref().ok()).await?;
    if args.down {
        if !removed {
            println!("chaosdeck demo: nothing left to remove");
        }
        return Ok(0);
    }
    let flavour = match &docker {
        Ok(_) => Flavour::Docker,
        Err(why) if !args.no_docker => {
            eprintln!("chaosdeck demo: {why}: running the demo as processes on loopback");
            Flavour::Loopback
        }
        Err(_) => Flavour::Loopback,
    };
    let mut signals = Signals::new().map_err(|e| format!("cannot watch for signals: {e}"))?;
    let record = Record::create(&demo_dir)
        .map_err(|e| format!("cannot write {}: {e}", Record::path_in(&demo_dir).display()))?;
    let record = Arc::new(Mutex::new(record));
    let docker = docker.ok();
    let session = Session {
        args: &args,
        flavour,
        docker: docker.as_ref(),
        demo_dir: &demo_dir,
        record: &record,
    };
    let outcome = AssertUnwindSafe(session.run(&mut signals))
        .catch_unwind()
        .await;
    let left = record.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let (gone, problems) = record::remove_all(left, docker.as_ref()).await;
    if !gone.is_empty() {
        println!("chaosdeck demo: removed {}", gone.join(", "));
    }
    forget_owed_demo_rollbacks(&data, &demo_dir);
    for problem in &problems {
        eprintln!("error: {problem} (chaosdeck demo --down tries again)");
    }
    let code = match outcome {
        Ok(result) => result?,
        Err(_) => {
            eprintln!("error: chaosdeck demo stopped on an internal error (above)");
            101
        }
    };
    Ok(if problems.is_empty() {
        code
    } else {
        code.max(1)
    })
}

/// Removes what an earlier demo's record names, saying so; refuses while that demo still runs.
async fn remove_leftovers(demo_dir: &Path, docker: Option<&Docker>) -> Result<bool, String> {
    let Some(earlier) = Record::read(demo_dir)? else {
        return Ok(false);
    };
    if earlier.owner_alive() {
        return Err(format!(
            "another chaosdeck demo (pid {}) is running with the files in {}; quit it first",
            earlier.started.pid,
            demo_dir.display()
        ));
    }
    let pid = earlier.started.pid;
    let (removed, problems) = record::remove_all(earlier, docker).await;
    if let Some(data) = demo_dir.parent() {
        forget_owed_demo_rollbacks(data, demo_dir);
    }
    if removed.is_empty() {
        println!("chaosdeck demo: an earlier demo (pid {pid}) did not end cleanly; nothing it started was still there");
    } else {
        println!(
            "chaosdeck demo: an earlier demo (pid {pid}) did not end cleanly; removed what it left: {}",
            removed.join(", ")
        );
    }
    if !problems.is_empty() {
        return Err(format!(
            "an earlier demo left things that could not be removed: {}",
            problems.join("; ")
        ));
    }
    Ok(true)
}

/// Rollbacks owed by ended runs of the demo's own experiments restore a system that is gone once
/// the demo is: their ledger records go with it (saying so), so `chaosdeck recover` does not try
/// them against nothing, or against a later demo.
fn forget_owed_demo_rollbacks(data: &Path, demo_dir: &Path) {
    let (owed, _) = crate::headless::owed::owed_runs(data);
    let real = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let demo_dir = real(demo_dir);
    for ledger in owed {
        if !real(Path::new(&ledger.owed.source)).starts_with(&demo_dir) {
            continue;
        }
        let what = format!(
            "{} ({})",
            ledger.owed.id,
            ledger.owed.rollback_names().join(", ")
        );
        if ledger.clear().is_ok() {
            println!("chaosdeck demo: dropped the rollbacks a demo run still owed: {what}");
        }
    }
}

/// SIGINT, SIGTERM and SIGHUP, watched from the start so that none of them ends the demo
/// without its cleanup.
struct Signals {
    int: Signal,
    term: Signal,
    hup: Signal,
}

impl Signals {
    fn new() -> std::io::Result<Signals> {
        Ok(Signals {
            int: signal(SignalKind::interrupt())?,
            term: signal(SignalKind::terminate())?,
            hup: signal(SignalKind::hangup())?,
        })
    }

    /// The next of the three; returns its name.
    async fn any(&mut self) -> &'static str {
        tokio::select! {
            _ = self.int.recv() => "SIGINT",
            _ = self.term.recv() => "SIGTERM",
            _ = self.hup.recv() => "SIGHUP",
        }
    }
}

/// The running demo system.
enum System {
    Containers,
    Processes(Supervisor),
}

/// One demo, from its files to the end of its TUI.
struct Session<'a> {
    args: &'a DemoArgs,
    flavour: Flavour,
    docker: Option<&'a Docker>,
    demo_dir: &'a Path,
    record: &'a Arc<Mutex<Record>>,
}

impl Session<'_> {
    async fn run(self, signals: &mut Signals) -> Result<i32, String> {
        let written = embedded::write_out(self.demo_dir, self.flavour).map_err(|e| {
            format!(
                "cannot write the demo's files to {}: {e}",
                self.demo_dir.display()
            )
        })?;
        let started = tokio::select! {
            started = self.start() => started?,
            name = signals.any() => {
                eprintln!("chaosdeck demo: {name} while starting; removing what was started");
                return Ok(130);
            }
        };
        let (system, environment, summary) = started;
        for (key, value) in &environment {
            std::env::set_var(key, value);
        }
        let env_file = self.demo_dir.join("demo.env");
        let lines: String = environment
            .iter()
            .map(|(k, v)| format!("{k}={v}\n"))
            .collect();
        std::fs::write(&env_file, lines)
            .map_err(|e| format!("cannot write {}: {e}", env_file.display()))?;
        println!(
            "chaosdeck demo: {summary}; plan and experiments in {}",
            self.demo_dir.display()
        );
        let code = if self.args.no_tui {
            println!(
                "chaosdeck demo: up until Ctrl-C; from another terminal: chaosdeck run --var-file {} {}",
                env_file.display(),
                written.experiments.join("database-failure.yaml").display()
            );
            let name = signals.any().await;
            println!("chaosdeck demo: {name}: stopping");
            0
        } else {
            // Loopback processes are shown by the supervisor; containers by the Docker engine.
            let health = match &system {
                System::Processes(supervisor) => Some(supervisor.health()),
                _ => None,
            };
            let tui = open_tui(&written, health);
            tokio::pin!(tui);
            loop {
                tokio::select! {
                    code = &mut tui => break code,
                    // The TUI quits on SIGTERM (aborting a run with rollback first); SIGINT,
                    // which it does not watch, gets the same treatment.
                    Some(()) = signals.int.recv() => {
                        // SAFETY: kill(2) to this very process.
                        unsafe { libc::kill(libc::getpid(), libc::SIGTERM) };
                    }
                }
            }
        };
        if let System::Processes(supervisor) = system {
            supervisor.shutdown().await;
        }
        Ok(code)
    }

    /// Starts the demo system; returns it, the environment its experiments read, and what to
    /// tell the user.
    async fn start(&self) -> Result<(System, Vec<(String, String)>, String), String> {
        match (self.flavour, self.docker) {
            (Flavour::Docker, Some(docker)) => {
                super::image::ensure(docker, self.demo_dir, |line| {
                    eprintln!("chaosdeck demo: {line}")
                })
                .await?;
                let port = pick_port(self.args.api_port, 8000)?;
                let names = Names::new(&self.args.project);
                stack::up(docker, &names, port, self.record).await?;
                let url = format!("http://127.0.0.1:{port}");
                let summary = format!(
                    "API on {url}; database, cache and API as containers {} on network {}",
                    ["database", "cache", "api"]
                        .map(|s| names.container(s))
                        .join(", "),
                    names.network
                );
                let environment = vec![
                    ("CHAOSDECK_DEMO_API_URL".to_string(), url),
                    (
                        "CHAOSDECK_DEMO_API_ADDRESS".to_string(),
                        format!("127.0.0.1:{port}"),
                    ),
                    ("CHAOSDECK_DEMO_PROJECT".to_string(), names.project.clone()),
                ];
                Ok((System::Containers, environment, summary))
            }
            _ => {
                let address = |port: u16| format!("127.0.0.1:{port}");
                let addresses = Addresses {
                    api: address(pick_port(self.args.api_port, 8000)?),
                    database: address(pick_port(None, 5432)?),
                    cache: address(pick_port(None, 6379)?),
                    control: address(pick_port(None, 8009)?),
                };
                let supervisor =
                    Supervisor::start(addresses.clone(), self.demo_dir, self.record.clone())
                        .await?;
                let url = format!("http://{}", addresses.api);
                let summary = format!(
                    "API on {url}; database on {}, cache on {} (processes on loopback, \
                     stopped and started through http://{})",
                    addresses.database, addresses.cache, addresses.control
                );
                let environment = vec![
                    ("CHAOSDECK_DEMO_API_URL".to_string(), url),
                    (
                        "CHAOSDECK_DEMO_API_ADDRESS".to_string(),
                        addresses.api.clone(),
                    ),
                    (
                        "CHAOSDECK_DEMO_CONTROL_URL".to_string(),
                        format!("http://{}", addresses.control),
                    ),
                    (
                        "CHAOSDECK_DEMO_DATABASE_ADDRESS".to_string(),
                        addresses.database.clone(),
                    ),
                    (
                        "CHAOSDECK_DEMO_CACHE_ADDRESS".to_string(),
                        addresses.cache.clone(),
                    ),
                ];
                Ok((System::Processes(supervisor), environment, summary))
            }
        }
    }
}

/// Opens the TUI in GameDay mode on the demo's plan: today's session of it, started or resumed.
async fn open_tui(written: &Written, health: Option<watch::Receiver<Snapshot>>) -> i32 {
    let options = crate::tui::TuiOptions {
        folder: written.experiments.clone(),
        health,
        ..Default::default()
    };
    crate::tui::run_gameday(written.plan.clone(), options).await
}

/// `explicit` when given (it must be free), else `preferred` when free, else any free port of
/// 127.0.0.1.
fn pick_port(explicit: Option<u16>, preferred: u16) -> Result<u16, String> {
    let bind = |port: u16| {
        std::net::TcpListener::bind(("127.0.0.1", port))
            .and_then(|l| l.local_addr().map(|a| a.port()))
    };
    match explicit {
        Some(port) => {
            bind(port).map_err(|e| format!("cannot use 127.0.0.1:{port} for the demo API: {e}"))
        }
        None => bind(preferred)
            .or_else(|_| bind(0))
            .map_err(|e| format!("no free port on 127.0.0.1 for the demo: {e}")),
    }
}
