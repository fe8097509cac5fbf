//! `chaosdeck recover`: lists the runs that ended owing rollbacks and, confirmed, plays them
//! with the configuration as it was resolved then and secrets read again, writing a journal.

use super::owed::{self, prepare_recovery};
use super::printer::{colour_enabled, line};
use crate::engine;
use crate::engine::ledger::{self, Ledger};
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use tokio::sync::mpsc;

/// What `recover` needs.
#[derive(Debug, Clone, Default)]
pub struct RecoverRequest {
    /// Play without asking.
    pub yes: bool,
    /// Only these run ids (all when empty).
    pub ids: Vec<String>,
    /// The data directory (default: chaosdeck's).
    pub data_dir: Option<PathBuf>,
    /// Var files to read configuration and secrets from again (as `run --var-file`).
    pub var_files: Vec<PathBuf>,
}

/// Lists and, confirmed, plays owed rollbacks. Exit 0 when nothing is left owed.
pub async fn recover(req: RecoverRequest) -> i32 {
    let mut err = std::io::stderr();
    let Some(data) = req.data_dir.clone().or_else(ledger::data_dir) else {
        let _ = writeln!(err, "error: no data directory (is HOME set?)");
        return 1;
    };
    let (records, problems) = owed::owed_runs(&data);
    for p in &problems {
        let _ = writeln!(err, "warning: unreadable ledger record {p}");
    }
    let unknown: Vec<&String> = req
        .ids
        .iter()
        .filter(|id| !records.iter().any(|l| &l.owed.id == *id))
        .collect();
    if !unknown.is_empty() {
        let known: Vec<&str> = records.iter().map(|l| l.owed.id.as_str()).collect();
        let _ = writeln!(
            err,
            "error: no run owing rollbacks has the id {} (owed now: {})",
            unknown
                .iter()
                .map(|s| format!("'{s}'"))
                .collect::<Vec<_>>()
                .join(", "),
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        );
        return 1;
    }
    let owed: Vec<Ledger> = records
        .into_iter()
        .filter(|l| req.ids.is_empty() || req.ids.contains(&l.owed.id))
        .collect();
    if owed.is_empty() {
        let _ = writeln!(err, "No run owes rollbacks.");
        return 0;
    }
    let _ = writeln!(err, "Runs that ended owing rollbacks:");
    for l in &owed {
        let _ = writeln!(
            err,
            "  {}  {}  {} ({})\n      owed: {}",
            l.owed.id,
            l.owed.started,
            l.owed.title,
            l.owed.source,
            l.owed.rollback_names().join(", ")
        );
    }
    let mut left = 0;
    for l in owed {
        let go = req.yes || confirm(&l);
        if !go {
            left += 1;
            continue;
        }
        if !play(l, &data, &req.var_files, &mut err).await {
            left += 1;
        }
    }
    if left > 0 && !req.yes && !std::io::stdin().is_terminal() {
        let _ = writeln!(err, "Run `chaosdeck recover --yes` to play them.");
    }
    i32::from(left > 0)
}

fn confirm(l: &Ledger) -> bool {
    if !std::io::stdin().is_terminal() {
        return false;
    }
    eprint!("Play the owed rollbacks of {} now? [y/N] ", l.owed.id);
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    matches!(answer.trim(), "y" | "Y" | "yes")
}

/// Plays one run's owed rollbacks; true when all of them played and succeeded.
async fn play(
    l: Ledger,
    data: &std::path::Path,
    var_files: &[PathBuf],
    err: &mut impl Write,
) -> bool {
    let recovery = match prepare_recovery(l, data, var_files).await {
        Ok(r) => r,
        Err(reasons) => {
            for reason in reasons {
                let _ = writeln!(err, "error: {reason}");
            }
            return false;
        }
    };
    let (_control_tx, control_rx) = mpsc::unbounded_channel();
    let (event_tx, mut event_rx) = mpsc::unbounded_channel();
    let colour = colour_enabled();
    let printer = tokio::spawn(async move {
        while let Some(e) = event_rx.recv().await {
            if let Some(text) = line(&e, colour) {
                eprintln!("{text}");
            }
        }
    });
    let report = engine::run(recovery.prepared, recovery.options, control_rx, event_tx).await;
    let _ = printer.await;
    let (played, expected) = owed::played(&recovery.ledger, &report);
    let failed = report.journal["rollbacks"].as_array().map_or(0, |r| {
        r.iter()
            .filter(|e| {
                // Failed, or (as the verdict counts it) a process that exited non-zero.
                let process = e["activity"]["provider"]["type"] == "process";
                let nonzero = e["output"]["status"].as_i64().is_some_and(|c| c != 0);
                e.get("status").is_some_and(|s| s != "succeeded") || (process && nonzero)
            })
            .count()
    });
    let failures = match failed {
        0 => String::new(),
        n => format!(", {n} of them failed (the system may not be restored: check it)"),
    };
    let _ = writeln!(
        err,
        "{}: {played} of {expected} owed rollbacks played{failures}; journal {}",
        recovery.ledger.owed.id,
        recovery.journal_path.display()
    );
    // A rollback that played and failed is not owed any more (playing it again would fail the
    // same way), but the exit code says the recovery did not succeed.
    owed::settle(recovery.ledger, &report) && failed == 0
}
