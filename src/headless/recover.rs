//! `chaosdeck recover`: lists the runs that ended owing rollbacks and, confirmed, plays them
//! with the configuration as it was resolved then and secrets read again, writing a journal.

use super::printer::{colour_enabled, line};
use crate::engine::ledger::{self, Ledger};
use crate::engine::{self, Prepared, RollbackStrategy, RunOptions};
use crate::experiment::config::{self, Overrides};
use crate::experiment::load::{load, LoadOptions};
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
    let (records, problems) = ledger::list(&ledger::ledger_dir(&data));
    for p in &problems {
        let _ = writeln!(err, "warning: unreadable ledger record {p}");
    }
    let owed: Vec<Ledger> = records
        .into_iter()
        .filter(|l| l.owed.ended())
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

/// Plays one run's owed rollbacks; true when all of them played.
async fn play(
    l: Ledger,
    data: &std::path::Path,
    var_files: &[PathBuf],
    err: &mut impl Write,
) -> bool {
    let mut owed = l.owed.clone();
    let mut overrides = Overrides {
        configuration: owed.configuration.clone(),
        ..Overrides::default()
    };
    for file in var_files {
        if let Err(e) = config::load_var_file(file, &mut overrides) {
            let _ = writeln!(err, "error: {e}");
            return false;
        }
    }
    if let Err(e) = read_secrets_again(&mut owed.experiment, &owed.source, &overrides).await {
        let _ = writeln!(err, "error: {e}");
        let _ = writeln!(err, "{}: not recovered; it stays owed", owed.id);
        return false;
    }
    let resolved = match config::resolve(&owed.experiment, &owed.source, &overrides) {
        Ok(r) => r,
        Err(errors) => {
            for e in errors {
                let _ = writeln!(err, "error: {e}");
            }
            let _ = writeln!(err, "{}: not recovered; it stays owed", owed.id);
            return false;
        }
    };
    let journals = data.join("journals");
    let _ = std::fs::create_dir_all(&journals);
    let journal_path = journals.join(format!("recover-{}.json", owed.id));
    let options = RunOptions {
        rollback_strategy: RollbackStrategy::Always,
        recover_from: Some(owed.owed_from),
        journal_path: Some(journal_path.clone()),
        ..RunOptions::default()
    };
    let prepared = Prepared {
        doc: owed.experiment.clone(),
        source: owed.source.clone(),
        resolved,
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
    let report = engine::run(prepared, options, control_rx, event_tx).await;
    let _ = printer.await;
    let expected = owed.rollback_names().len();
    let played = report.journal["rollbacks"].as_array().map_or(0, |r| {
        r.iter().filter(|e| e.get("status").is_some()).count()
    });
    let _ = writeln!(
        err,
        "{}: {played} of {expected} owed rollbacks played; journal {}",
        owed.id,
        journal_path.display()
    );
    if played == expected {
        let _ = l.clear();
        true
    } else {
        false
    }
}

/// The ledger keeps no literal secret (they are stored as `***`): they are read again from the
/// experiment's source, unless a var file gives their scope.
async fn read_secrets_again(
    experiment: &mut serde_json::Value,
    source: &str,
    overrides: &Overrides,
) -> Result<(), String> {
    let masked = |scopes: &serde_json::Value| -> Vec<String> {
        let mut names = Vec::new();
        if let Some(scopes) = scopes.as_object() {
            for (scope, values) in scopes {
                if overrides.secrets.contains_key(scope) {
                    continue;
                }
                for (k, v) in values.as_object().into_iter().flatten() {
                    if v == "***" {
                        names.push(format!("{scope}.{k}"));
                    }
                }
            }
        }
        names
    };
    let Some(secrets) = experiment.get("secrets").cloned() else {
        return Ok(());
    };
    if masked(&secrets).is_empty() {
        return Ok(());
    }
    if let Ok(loaded) = load(source, LoadOptions::default()).await {
        if let Some(fresh) = loaded.doc.get("secrets") {
            experiment["secrets"] = fresh.clone();
        }
    }
    let still = experiment.get("secrets").map(masked).unwrap_or_default();
    if still.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the secrets {} were written in {source}, which cannot be read again; give them \
             with --var-file FILE (a secrets: section)",
            still.join(", ")
        ))
    }
}
