//! `chaosdeck gameday …`, `export` and `report`: GameDay sessions from the command line. Every
//! change is saved at once; a run refuses to start until the checklist's "before" items are
//! ticked or an override records why.

use super::run::{execute_with_hook, RunRequest};
use crate::engine::Event;
use crate::gameday::export::{json_bundle, markdown, prometheus};
use crate::gameday::metrics::{human, mean};
use crate::gameday::plan::{self, Targets};
use crate::gameday::runs::{self, load_plan};
use crate::gameday::store::Store;
use crate::gameday::{
    ActionItem, ChecklistItem, Observation, Override, Prediction, RunRecord, Session, Tag,
};
use chrono::{Local, Utc};
use std::io::Write;
use std::path::{Path, PathBuf};

fn now() -> String {
    crate::engine::journal::timestamp(Utc::now())
}

/// A calendar date written `YYYY-MM-DD`, or an error naming `what`.
fn check_date(what: &str, text: &str) -> Result<(), String> {
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(|_| ())
        .map_err(|_| format!("{what} '{text}' is not a date: write it as YYYY-MM-DD"))
}

/// Starts a session of a plan for a date, or resumes the one that exists.
pub fn start(
    store: &Store,
    plan_path: &Path,
    date: Option<String>,
    facilitator: Option<String>,
) -> Result<Session, String> {
    if let Some(d) = &date {
        check_date("--date", d)?;
    }
    let loaded = load_plan(plan_path)?;
    let date = date.unwrap_or_else(|| Local::now().format("%Y-%m-%d").to_string());
    let stem = plan_path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "gameday".into());
    let id = format!("{stem}-{date}");
    if let Ok(existing) = store.load(&id) {
        return Ok(existing);
    }
    let p = &loaded.plan;
    let mut checklist = Vec::new();
    for (group, items) in [
        ("before", &p.checklist.before),
        ("during", &p.checklist.during),
        ("after", &p.checklist.after),
    ] {
        for text in items {
            checklist.push(ChecklistItem {
                group: group.into(),
                text: text.clone(),
                ticked_by: None,
                ticked_at: None,
            });
        }
    }
    let session = Session {
        id,
        plan: std::fs::canonicalize(plan_path)
            .unwrap_or_else(|_| plan_path.to_path_buf())
            .display()
            .to_string(),
        title: p.title.clone(),
        date,
        created: now(),
        facilitator: facilitator.or_else(|| p.roles.facilitator.clone()),
        checklist,
        go_override: None,
        overrides: Vec::new(),
        predictions: Vec::new(),
        runs: Vec::new(),
        observations: Vec::new(),
        action_items: Vec::new(),
        current_run: None,
    };
    store.save(&session).map_err(|e| e.to_string())?;
    Ok(session)
}

/// Ticks a checklist item, named by `group.N` (from 1) or by the start of its text.
pub fn tick(store: &Store, id: &str, item: &str, by: &str) -> Result<String, String> {
    store
        .update(id, |s| {
            let index = find_item(s, item)?;
            let entry = &mut s.checklist[index];
            entry.ticked_by = Some(by.to_string());
            entry.ticked_at = Some(now());
            Ok(format!("ticked ({}) {}", entry.group, entry.text))
        })
        .map_err(|e| e.to_string())
}

fn find_item(s: &Session, item: &str) -> Result<usize, String> {
    if let Some((group, n)) = item.split_once('.') {
        if let Ok(n) = n.parse::<usize>() {
            let found = s
                .checklist
                .iter()
                .enumerate()
                .filter(|(_, i)| i.group == group)
                .nth(n.saturating_sub(1));
            if let (Some((i, _)), true) = (found, n > 0) {
                return Ok(i);
            }
        }
    }
    let lower = item.to_lowercase();
    let matches: Vec<usize> = s
        .checklist
        .iter()
        .enumerate()
        .filter(|(_, i)| i.text.to_lowercase().starts_with(&lower))
        .map(|(i, _)| i)
        .collect();
    match matches.as_slice() {
        [one] => Ok(*one),
        [] => Err(format!(
            "no checklist item '{item}' (use before.1, during.2 … or the start of its text)"
        )),
        _ => Err(format!(
            "'{item}' matches several checklist items; say more"
        )),
    }
}

pub fn override_checklist(store: &Store, id: &str, by: &str, reason: &str) -> Result<(), String> {
    if reason.trim().is_empty() {
        return Err("an override needs its reason".into());
    }
    store
        .update(id, |s| {
            let recorded = Override {
                by: by.into(),
                at: now(),
                reason: reason.into(),
            };
            // Sessions saved before the history was kept have only the last one.
            if s.overrides.is_empty() {
                s.overrides.extend(s.go_override.take());
            }
            s.overrides.push(recorded.clone());
            s.go_override = Some(recorded);
            Ok(())
        })
        .map_err(|e| e.to_string())
}

pub fn predict(
    store: &Store,
    id: &str,
    experiment: &str,
    author: &str,
    text: &str,
) -> Result<(), String> {
    store
        .update(id, |s| {
            s.predictions.push(Prediction {
                experiment: experiment.into(),
                author: author.into(),
                text: text.into(),
                at: now(),
            });
            Ok(())
        })
        .map_err(|e| e.to_string())
}

/// Records a note, stamped on the clock of the run in progress and linked to its activity.
pub fn note(store: &Store, id: &str, author: &str, tag: Tag, text: &str) -> Result<(), String> {
    note_stamped(store, id, author, tag, text, None)
}

/// Where a note stands in the run in progress, as a screen that follows the run knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Stamp {
    /// Seconds since the run started.
    pub clock: f64,
    /// The activity in progress.
    pub activity: Option<String>,
}

/// Like [`note`], with the run clock and activity given by the caller; without a run in
/// progress the stamp is left out and the note goes with the last run.
pub fn note_stamped(
    store: &Store,
    id: &str,
    author: &str,
    tag: Tag,
    text: &str,
    stamp: Option<Stamp>,
) -> Result<(), String> {
    store
        .update(id, |s| {
            let (run, clock, activity) = match (&s.current_run, stamp) {
                (Some(_), Some(stamp)) => (Some(s.runs.len()), Some(stamp.clock), stamp.activity),
                (Some(c), None) => {
                    let clock = chrono::DateTime::parse_from_rfc3339(&c.started)
                        .ok()
                        .map(|t| {
                            (Utc::now() - t.with_timezone(&Utc)).num_milliseconds() as f64 / 1000.0
                        });
                    (Some(s.runs.len()), clock, c.activity.clone())
                }
                // The run ended while the note was written: it goes with that run, at its moment.
                (None, Some(stamp)) => (
                    s.runs.len().checked_sub(1),
                    Some(stamp.clock),
                    stamp.activity,
                ),
                (None, None) => (s.runs.len().checked_sub(1), None, None),
            };
            s.observations.push(Observation {
                run,
                run_clock_seconds: clock,
                activity,
                at: now(),
                author: author.into(),
                tag,
                text: text.into(),
            });
            Ok(())
        })
        .map_err(|e| e.to_string())
}

/// Ticks (`by` given) or unticks the checklist item at `index` of the session's list.
pub fn set_tick(store: &Store, id: &str, index: usize, by: Option<&str>) -> Result<(), String> {
    store
        .update(id, |s| {
            let item = s
                .checklist
                .get_mut(index)
                .ok_or_else(|| format!("no checklist item {}", index + 1))?;
            item.ticked_by = by.map(str::to_string);
            item.ticked_at = by.map(|_| now());
            Ok(())
        })
        .map_err(|e| e.to_string())
}

pub fn action(
    store: &Store,
    id: &str,
    owner: &str,
    due: &str,
    issue: bool,
    text: &str,
) -> Result<(), String> {
    check_date("the due date", due)?;
    if text.trim().is_empty() {
        return Err("an action item needs its text".into());
    }
    if owner.trim().is_empty() {
        return Err("an action item needs its owner (--owner)".into());
    }
    store
        .update(id, |s| {
            s.action_items.push(ActionItem {
                text: text.into(),
                owner: owner.into(),
                due: due.into(),
                issue_found: issue,
                at: now(),
            });
            Ok(())
        })
        .map_err(|e| e.to_string())
}

/// Runs one of the plan's experiments in the session, with the recovery check.
pub async fn run(
    store: &Store,
    id: &str,
    experiment: &str,
    request: RunRequest,
) -> Result<i32, String> {
    let begun = runs::begin(store, id, experiment)?;
    let mut req = request;
    req.spec = begun.file.display().to_string();
    req.journal_path = begun.journal_path.clone();
    req.flags.recovery = Some(begun.recovery);
    let hook_store = store.clone();
    let hook_id = id.to_string();
    let hook = move |event: &Event| runs::follow(&hook_store, &hook_id, event);
    let outcome = execute_with_hook(&req, &mut std::io::stderr(), Box::new(hook)).await;
    let record = runs::finish(store, &begun, outcome.as_ref().ok())?;
    match (outcome, record) {
        (Ok(_), Some(r)) => {
            eprintln!(
                "time to detect: {}; time to recover: {}",
                human(r.time_to_detect_seconds),
                human(r.time_to_recover_seconds)
            );
            Ok(i32::from(r.verdict != "passed"))
        }
        _ => Ok(1),
    }
}

fn targets_of(session: &Session) -> Targets {
    plan::load(Path::new(&session.plan))
        .map(|p| p.plan.targets)
        .unwrap_or_default()
}

/// Writes a session's export in the format asked for.
pub fn export(
    store: &Store,
    id: &str,
    format: &str,
    output: Option<PathBuf>,
) -> Result<(), String> {
    let session = store.load(id).map_err(|e| e.to_string())?;
    let text = match format {
        "md" | "markdown" => markdown(&session, &targets_of(&session)),
        "json" => {
            serde_json::to_string_pretty(&json_bundle(&session)).map_err(|e| e.to_string())?
        }
        "prom" | "prometheus" => prometheus(&[&session]),
        other => return Err(format!("unknown format '{other}' (md, json, prom)")),
    };
    match output {
        Some(path) => std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display())),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

/// Writes a session's Markdown notes and JSON bundle into `dir` as `<id>.md` and `<id>.json`,
/// each replaced atomically; returns both paths.
pub fn export_files(store: &Store, id: &str, dir: &Path) -> Result<(PathBuf, PathBuf), String> {
    let session = store.load(id).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let md = dir.join(format!("{id}.md"));
    let json = dir.join(format!("{id}.json"));
    let text = markdown(&session, &targets_of(&session));
    write_text_atomic(&md, &text)?;
    let bundle = serde_json::to_string_pretty(&json_bundle(&session)).map_err(|e| e.to_string())?;
    write_text_atomic(&json, &bundle)?;
    Ok((md, json))
}

fn write_text_atomic(path: &Path, text: &str) -> Result<(), String> {
    crate::engine::journal::write_text_atomic(path, text.as_bytes(), true)
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// The figures of every session against the targets.
pub fn report(store: &Store, out: &mut impl Write) -> i32 {
    let (sessions, problems) = store.list();
    for p in problems {
        let _ = writeln!(out, "warning: unreadable session {p}");
    }
    if sessions.is_empty() {
        let _ = writeln!(
            out,
            "No GameDay sessions yet (chaosdeck gameday start PLAN)."
        );
        return 0;
    }
    let targets = sessions.last().map(targets_of).unwrap_or_default();
    let _ = writeln!(
        out,
        "{:<34} {:>5} {:>7} {:>9} {:>14}",
        "session", "runs", "passed", "success", "mean recovery"
    );
    for s in &sessions {
        let passed = s.runs.iter().filter(|r| r.verdict == "passed").count();
        let _ = writeln!(
            out,
            "{:<34} {:>5} {:>7} {:>8} {:>14}",
            s.id,
            s.runs.len(),
            passed,
            s.success_rate().map_or("-".into(), |r| format!("{r:.0} %")),
            human(mean(s.runs.iter().map(|r| r.time_to_recover_seconds)))
        );
    }
    let runs: Vec<&RunRecord> = sessions.iter().flat_map(|s| s.runs.iter()).collect();
    let passed = runs.iter().filter(|r| r.verdict == "passed").count();
    let rate = (!runs.is_empty()).then(|| passed as f64 * 100.0 / runs.len() as f64);
    let mttr = mean(runs.iter().map(|r| r.time_to_recover_seconds));
    let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
    let _ = writeln!(
        out,
        "\nsuccess rate {} — target over {:.0} %: {}",
        rate.map_or("-".into(), |r| format!("{r:.0} %")),
        targets.success_rate_percent,
        rate.map_or("no runs", |r| verdict(r > targets.success_rate_percent))
    );
    let _ = writeln!(
        out,
        "mean time to recover {} — target under {}: {}",
        human(mttr),
        human(Some(targets.mttr_seconds)),
        mttr.map_or("not measured", |m| verdict(m < targets.mttr_seconds))
    );
    0
}

/// Prints the sessions.
pub fn list(store: &Store, out: &mut impl Write) {
    let (sessions, _) = store.list();
    for s in sessions {
        let ticked = s.checklist.iter().filter(|i| i.ticked_by.is_some()).count();
        let _ = writeln!(
            out,
            "{}  {}  checklist {}/{}  runs {}  notes {}",
            s.id,
            s.title,
            ticked,
            s.checklist.len(),
            s.runs.len(),
            s.observations.len()
        );
    }
}
