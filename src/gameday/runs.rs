//! One run of a plan's experiment inside a session, the same from the command line and from the
//! TUI: the gate is checked, `current_run` is set while it goes and follows the activity in
//! progress, and at the end a [`RunRecord`] with the journal, the verdict and the derived figures
//! is appended, with the steady state checked again after the rollbacks as the plan says.

use super::metrics::{time_to_detect, time_to_recover};
use super::plan::{self, LoadedPlan};
use super::store::Store;
use super::{CurrentRun, RunRecord};
use crate::engine::{Event, RecoveryCheck, RunReport};
use chrono::{Local, Utc};
use std::path::{Path, PathBuf};

/// A run that has begun in a session; what its end needs to be recorded.
#[derive(Debug, Clone)]
pub struct SessionRun {
    pub session: String,
    /// The experiment's name: its file name without extension.
    pub name: String,
    /// The experiment's file, from the plan.
    pub file: PathBuf,
    pub started: String,
    pub journal_path: PathBuf,
    /// The recovery check after the rollbacks: (interval, limit) in seconds.
    pub recovery: (f64, f64),
}

fn now() -> String {
    crate::engine::journal::timestamp(Utc::now())
}

/// Reads a plan; every error on its own line.
pub fn load_plan(path: &Path) -> Result<LoadedPlan, String> {
    plan::load(path).map_err(|errors| {
        errors
            .iter()
            .map(|e| format!("error: {e}"))
            .collect::<Vec<_>>()
            .join("\n")
    })
}

/// The plan's recovery settings, or the engine's defaults.
pub fn recovery_of(loaded: &LoadedPlan) -> (f64, f64) {
    loaded.plan.recovery.as_ref().map_or_else(
        || {
            let d = RecoveryCheck::default();
            (d.interval.as_secs_f64(), d.limit.as_secs_f64())
        },
        |r| (r.interval, r.limit),
    )
}

/// Checks the gate, finds the plan's experiment (by name or path), chooses its journal's path
/// beside the session and records the run as in progress.
pub fn begin(store: &Store, id: &str, experiment: &str) -> Result<SessionRun, String> {
    let session = store.load(id).map_err(|e| e.to_string())?;
    session.may_run()?;
    let loaded = load_plan(Path::new(&session.plan))?;
    let file = loaded
        .experiment_files
        .iter()
        .find(|f| {
            f.file_stem().is_some_and(|s| s == experiment) || f.as_path() == Path::new(experiment)
        })
        .cloned()
        .ok_or_else(|| format!("the plan has no experiment '{experiment}'"))?;
    let name = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let journals = store.dir().join(&session.id);
    std::fs::create_dir_all(&journals).map_err(|e| format!("{}: {e}", journals.display()))?;
    let journal_path = journals.join(format!(
        "{name}-{}.json",
        Local::now().format("%Y%m%d-%H%M%S")
    ));
    let started = now();
    store
        .update(id, |s| {
            s.current_run = Some(CurrentRun {
                experiment: name.clone(),
                started: started.clone(),
                activity: None,
            });
            Ok(())
        })
        .map_err(|e| e.to_string())?;
    Ok(SessionRun {
        session: id.to_string(),
        name,
        file,
        started,
        journal_path,
        recovery: recovery_of(&loaded),
    })
}

/// Keeps `current_run.activity` on the activity in progress, so notes written meanwhile are
/// linked to it (flushed to disk by the system: it must not slow the run).
pub fn follow(store: &Store, id: &str, event: &Event) {
    if let Event::ActivityStarted(a) = event {
        let name = a.name.clone();
        let _ = store.update_with(id, false, |s| {
            if let Some(c) = s.current_run.as_mut() {
                c.activity = Some(name);
            }
            Ok(())
        });
    }
}

/// The run ended (`None`: it could not start): the run is no longer in progress, and its record
/// is appended when there is a report.
pub fn finish(
    store: &Store,
    run: &SessionRun,
    report: Option<&RunReport>,
) -> Result<Option<RunRecord>, String> {
    let record = report.map(|report| RunRecord {
        experiment: run.name.clone(),
        title: report.journal["experiment"]["title"]
            .as_str()
            .unwrap_or(&run.name)
            .to_string(),
        started: run.started.clone(),
        journal_path: run.journal_path.display().to_string(),
        verdict: report.verdict.label().to_string(),
        reasons: report.verdict.reasons.clone(),
        time_to_detect_seconds: time_to_detect(&report.journal),
        time_to_recover_seconds: time_to_recover(&report.journal),
        journal: report.journal.clone(),
    });
    store
        .update(&run.session, |s| {
            s.current_run = None;
            if let Some(r) = record.clone() {
                s.runs.push(r);
            }
            Ok(())
        })
        .map_err(|e| e.to_string())?;
    Ok(record)
}
