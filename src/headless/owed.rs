//! Owed rollbacks, shared by `chaosdeck recover` and the TUI's banner: which ended runs still owe
//! rollbacks, how to play them again (the configuration as resolved then, secrets read again),
//! and settling the ledger record once all of them played.

use crate::engine::ledger::{self, Ledger};
use crate::engine::{Prepared, RollbackStrategy, RunOptions, RunReport};
use crate::experiment::config::{self, Overrides};
use crate::experiment::load::{load, LoadOptions};
use std::path::{Path, PathBuf};

/// The ledger records of runs that ended owing rollbacks, and the records that could not be read.
pub fn owed_runs(data: &Path) -> (Vec<Ledger>, Vec<String>) {
    let (records, problems) = ledger::list(&ledger::ledger_dir(data));
    let owed = records.into_iter().filter(|l| l.owed.ended()).collect();
    (owed, problems)
}

/// One owed run, ready for the engine: it plays only the owed rollbacks.
#[derive(Debug)]
pub struct Recovery {
    pub ledger: Ledger,
    pub prepared: Prepared,
    pub options: RunOptions,
    pub journal_path: PathBuf,
}

/// Prepares the owed rollbacks of `ledger` to play, writing their journal under `data`; on
/// failure, every reason, the run staying owed.
pub async fn prepare_recovery(
    ledger: Ledger,
    data: &Path,
    var_files: &[PathBuf],
) -> Result<Recovery, Vec<String>> {
    let mut owed = ledger.owed.clone();
    let mut overrides = Overrides {
        configuration: owed.configuration.clone(),
        ..Overrides::default()
    };
    for file in var_files {
        config::load_var_file(file, &mut overrides).map_err(|e| vec![e.to_string()])?;
    }
    let stays = |mut reasons: Vec<String>| {
        reasons.push(format!(
            "{}: not recovered; it stays owed",
            owed_id(&ledger)
        ));
        reasons
    };
    read_secrets_again(&mut owed.experiment, &owed.source, &overrides)
        .await
        .map_err(|e| stays(vec![e]))?;
    let resolved = config::resolve(&owed.experiment, &owed.source, &overrides)
        .map_err(|errors| stays(errors.iter().map(ToString::to_string).collect()))?;
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
        doc: owed.experiment,
        source: owed.source,
        resolved,
    };
    Ok(Recovery {
        ledger,
        prepared,
        options,
        journal_path,
    })
}

fn owed_id(ledger: &Ledger) -> &str {
    &ledger.owed.id
}

/// How many of the owed rollbacks a recovery run played, and how many were owed.
pub fn played(ledger: &Ledger, report: &RunReport) -> (usize, usize) {
    let expected = ledger.owed.rollback_names().len();
    let played = report.journal["rollbacks"].as_array().map_or(0, |r| {
        r.iter().filter(|e| e.get("status").is_some()).count()
    });
    (played, expected)
}

/// Clears the ledger record when every owed rollback played; returns whether it did.
pub fn settle(ledger: Ledger, report: &RunReport) -> bool {
    let (played, expected) = played(&ledger, report);
    if played == expected {
        let _ = ledger.clear();
    }
    played == expected
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
