//! Prints the health watcher's snapshots as they arrive, one timestamped line per snapshot and
//! one per container row that changed; used by `bench/watcher.sh`.
//!
//!   cargo run --release --example watch [NAME_PREFIX]
//!
//! Lines (ms since the epoch, to the microsecond): `<unix ms> snapshot engine=<connected|connecting|unreachable> containers=<n>`, then
//! `<unix ms> container <name> <state> health=<h> exit=<code|-> restarts=<n> oom=<bool>
//! cpu=<percent|-> mem=<bytes|->` and `<unix ms> removed <name>`. With NAME_PREFIX only the
//! containers whose names start with it are listed.

use std::collections::HashMap;
use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use chaosdeck::docker::snapshot::{ContainerStatus, Engine, Snapshot};
use chaosdeck::docker::watcher::Watcher;

/// Milliseconds since the epoch, with microseconds as three decimals.
fn unix_ms() -> String {
    let micros = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros())
        .unwrap_or_default();
    format!("{}.{:03}", micros / 1000, micros % 1000)
}

fn row(c: &ContainerStatus) -> String {
    let exit = c.exit_code.map_or("-".to_string(), |e| e.to_string());
    let cpu = c.cpu_percent.map_or("-".to_string(), |p| format!("{p:.1}"));
    let mem = c.memory_bytes.map_or("-".to_string(), |m| m.to_string());
    format!(
        "container {} {} health={} exit={exit} restarts={} oom={} cpu={cpu} mem={mem}",
        c.name, c.state, c.health, c.restart_count, c.oom_killed
    )
}

fn print(snapshot: &Snapshot, shown: &mut HashMap<String, String>, prefix: &str) {
    let now = unix_ms();
    let engine = match &snapshot.engine {
        Engine::Connecting { .. } => "connecting".to_string(),
        Engine::Connected { api_version, .. } => format!("connected api={api_version}"),
        Engine::Unreachable { address, reason } => {
            format!("unreachable address={address} reason={reason:?}")
        }
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "{now} snapshot engine={engine} containers={}",
        snapshot.containers.len()
    );
    let mut seen = HashMap::new();
    for c in snapshot
        .containers
        .iter()
        .filter(|c| c.name.starts_with(prefix))
    {
        let line = row(c);
        if shown.get(&c.name) != Some(&line) {
            let _ = writeln!(out, "{now} {line}");
        }
        seen.insert(c.name.clone(), line);
    }
    for name in shown.keys().filter(|n| !seen.contains_key(*n)) {
        let _ = writeln!(out, "{now} removed {name}");
    }
    *shown = seen;
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let prefix = std::env::args().nth(1).unwrap_or_default();
    let watcher = Watcher::spawn();
    let mut snapshots = watcher.subscribe();
    let mut shown = HashMap::new();
    loop {
        let snapshot = snapshots.borrow_and_update().clone();
        print(&snapshot, &mut shown, &prefix);
        if snapshots.changed().await.is_err() {
            return;
        }
    }
}
