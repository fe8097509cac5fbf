//! What the event loop does for a GameDay: open or resume a session, write each change through
//! the session store at once (atomic, locked), keep the editor's draft, export, and run a plan's
//! experiment recorded in the session exactly as `chaosdeck gameday run` records it.

use super::app::{App, Effect, Popup};
use super::gameday::{Choice, GamedayView, Moment, Picker};
use super::timeline::NoteRow;
use crate::engine::{self, Control, Event, Prepared, RunOptions, RunReport};
use crate::gameday::runs::{self, SessionRun};
use crate::gameday::store::Store;
use crate::headless::gameday::{self as gd, Stamp};
use crate::headless::{run_options, RunFlags};
use std::path::{Path, PathBuf};
use std::time::Instant;
use tokio::sync::mpsc;

/// Who ticks and writes when nobody said (and the session names no facilitator): the plan's
/// facilitator, else `$USER`.
fn default_who(plan: &crate::gameday::plan::Plan) -> String {
    plan.roles
        .facilitator
        .clone()
        .filter(|f| !f.trim().is_empty())
        .or_else(|| std::env::var("USER").ok().filter(|u| !u.is_empty()))
        .unwrap_or_else(|| "facilitator".to_string())
}

/// Starts the session of `plan` for `date` (today by default), or resumes it; returns the view
/// and the plan's experiment files, in the plan's order.
pub fn open(
    store: Store,
    plan: &Path,
    date: Option<String>,
    who: Option<String>,
) -> Result<(GamedayView, Vec<PathBuf>), String> {
    if let Some(d) = &date {
        if chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_err() {
            return Err(format!(
                "--date: '{d}' is not a date (write it as YYYY-MM-DD)"
            ));
        }
    }
    let loaded = runs::load_plan(plan)?;
    let given = who.filter(|w| !w.trim().is_empty());
    let fallback = default_who(&loaded.plan);
    let session = gd::start(&store, plan, date, given.clone().or(Some(fallback.clone())))?;
    // Resuming without --as: the session's facilitator writes, as `gameday start` recorded.
    let who = given
        .or_else(|| session.facilitator.clone().filter(|f| !f.trim().is_empty()))
        .unwrap_or(fallback);
    let time_boxes = loaded
        .experiment_files
        .iter()
        .cloned()
        .zip(loaded.plan.experiments.iter().map(|e| e.time_box.clone()))
        .collect();
    let draft = store.load_draft(&session.id);
    let session_notes = session.observations.len();
    let read_at = modified(&store, &session.id);
    let view = GamedayView {
        store,
        session,
        who,
        time_boxes,
        cursor: 0,
        draft,
        notes_shown: session_notes,
        read_at,
    };
    Ok((view, loaded.experiment_files))
}

/// Puts the app in GameDay mode on `view`; the loop loads the plan's experiments.
pub fn switch(app: &mut App, view: GamedayView, files: Vec<PathBuf>) {
    app.banner = view.draft.as_ref().map(|d| {
        format!(
            "a {} being written when chaosdeck stopped was kept — it opens with its editor",
            d.purpose
        )
    });
    app.gameday = Some(view);
    app.experiments.clear();
    app.selected = 0;
    app.loading = true;
    app.run = None;
    app.reload = Some(files);
}

/// Carries out a GameDay effect; `false` when the effect is not one.
pub fn apply(app: &mut App, effect: &Effect, now: Instant) -> bool {
    let outcome = match effect {
        Effect::OpenGamedays => {
            app.picker = Some(picker(app));
            app.popup = Some(Popup::Picker);
            Ok(())
        }
        Effect::OpenSession(choice) => open_choice(app, choice),
        Effect::Tick { index, ticked } => with_session(app, |v| {
            let by = ticked.then_some(v.who.as_str());
            gd::set_tick(&v.store, &v.session.id, *index, by)
        }),
        Effect::Override { reason, .. } => with_session(app, |v| {
            gd::override_checklist(&v.store, &v.session.id, &v.who, reason)
        }),
        Effect::Predict { experiment, text } => with_session(app, |v| {
            v.store
                .clear_draft(&v.session.id)
                .map_err(|e| e.to_string())?;
            gd::predict(&v.store, &v.session.id, experiment, &v.who, text)
        }),
        Effect::SaveNote {
            tag,
            text,
            action,
            moment,
        } => save_note(app, *tag, text, action, moment.clone(), now),
        Effect::DiscardDraft => with_session(app, |v| {
            v.store
                .clear_draft(&v.session.id)
                .map_err(|e| e.to_string())
        }),
        Effect::Export => export(app),
        _ => return false,
    };
    if let Err(message) = outcome {
        if matches!(effect, Effect::Override { .. }) {
            app.popup = None;
        }
        app.banner = Some(message);
    }
    true
}

/// Runs a change on the session, then reads it back so the screen shows what is on disk.
fn with_session(
    app: &mut App,
    change: impl FnOnce(&GamedayView) -> Result<(), String>,
) -> Result<(), String> {
    let view = app
        .gameday
        .as_mut()
        .ok_or("no GameDay session is open (g chooses one)")?;
    let outcome = change(view);
    reload(view);
    outcome
}

fn modified(store: &Store, id: &str) -> Option<std::time::SystemTime> {
    std::fs::metadata(store.session_path(id))
        .and_then(|m| m.modified())
        .ok()
}

/// Reads the session again when its file changed (another chaosdeck ticked an item or wrote a
/// note): the checklist shows the ticks, and notes written from elsewhere during the run in
/// progress join its timeline under their activity. Returns whether anything was read.
pub fn refresh(app: &mut App) -> bool {
    let Some(view) = app.gameday.as_mut() else {
        return false;
    };
    let now = modified(&view.store, &view.session.id);
    if now.is_none() || now == view.read_at {
        return false;
    }
    view.read_at = now;
    let Ok(session) = view.store.load(&view.session.id) else {
        return false;
    };
    let new: Vec<crate::gameday::Observation> = session
        .observations
        .iter()
        .skip(view.notes_shown)
        .cloned()
        .collect();
    view.notes_shown = session.observations.len();
    let live = session.current_run.is_some().then_some(session.runs.len());
    view.session = session;
    if let (Some(run), Some(index)) = (app.run.as_mut().filter(|r| r.live()), live) {
        for o in new.into_iter().filter(|o| o.run == Some(index)) {
            let row = NoteRow {
                clock: o.run_clock_seconds.map(std::time::Duration::from_secs_f64),
                tag: o.tag,
                text: o.text,
                author: o.author,
            };
            run.add_note(o.activity.as_deref(), row);
        }
    }
    true
}

/// Reads the session again from the store (after a change, or at a run's end).
pub fn reload(view: &mut GamedayView) {
    if let Ok(session) = view.store.load(&view.session.id) {
        view.session = session;
    }
}

fn save_note(
    app: &mut App,
    tag: crate::gameday::Tag,
    text: &str,
    action: &Option<(String, String)>,
    moment: Option<Moment>,
    now: Instant,
) -> Result<(), String> {
    // The moment the editor opened, else now when a run is live.
    let live = app.run.as_ref().filter(|r| r.live());
    let stamp = moment
        .map(|m| Stamp {
            clock: m.clock.as_secs_f64(),
            activity: m.activity,
        })
        .or_else(|| {
            live.map(|r| Stamp {
                clock: r.elapsed(now).as_secs_f64(),
                activity: r.current_activity().map(str::to_string),
            })
        });
    let who = app
        .gameday
        .as_ref()
        .map(|v| v.who.clone())
        .unwrap_or_default();
    with_session(app, |v| {
        let id = &v.session.id;
        gd::note_stamped(&v.store, id, &v.who, tag, text, stamp.clone())?;
        if let Some((owner, due)) = action {
            gd::action(&v.store, id, owner, due, false, text)?;
        }
        v.store.clear_draft(id).map_err(|e| e.to_string())
    })?;
    // This note goes into the timeline here; a refresh must not add it again.
    if let Some(view) = app.gameday.as_mut() {
        view.notes_shown = view.session.observations.len();
    }
    if let Some(run) = app.run.as_mut() {
        let row = NoteRow {
            clock: stamp
                .as_ref()
                .map(|s| std::time::Duration::from_secs_f64(s.clock)),
            tag,
            text: text.to_string(),
            author: who,
        };
        run.add_note(stamp.and_then(|s| s.activity).as_deref(), row);
    }
    Ok(())
}

fn export(app: &mut App) -> Result<(), String> {
    let view = app
        .gameday
        .as_ref()
        .ok_or("no GameDay session is open (g chooses one)")?;
    let dir = exports_dir(&view.store);
    let (md, json) = gd::export_files(&view.store, &view.session.id, &dir)?;
    let name = |p: &Path| {
        p.file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into())
    };
    app.banner = Some(format!(
        "exported {} and {} to {}/",
        name(&md),
        name(&json),
        dir.display()
    ));
    Ok(())
}

/// `$XDG_DATA_HOME/chaosdeck/exports/`, beside the sessions folder.
pub fn exports_dir(store: &Store) -> PathBuf {
    store
        .dir()
        .parent()
        .map_or_else(|| store.dir().join("exports"), |d| d.join("exports"))
}

/// Saves the editor's text as the session's draft, if it changed.
pub fn save_draft(app: &mut App) {
    if !std::mem::take(&mut app.draft_changed) {
        return;
    }
    let (Some(view), Some(editor)) = (&app.gameday, &app.editor) else {
        return;
    };
    let at = crate::engine::journal::timestamp(chrono::Utc::now());
    if let Err(e) = view.store.save_draft(&view.session.id, &editor.draft(at)) {
        app.banner = Some(format!("the draft could not be kept: {e}"));
    }
}

fn open_choice(app: &mut App, choice: &Choice) -> Result<(), String> {
    let store = Store::default_store().map_err(|e| e.to_string())?;
    let who = app.gameday.as_ref().map(|v| v.who.clone());
    let (plan, date) = match choice {
        Choice::Plan { path, .. } => (path.clone(), None),
        Choice::Session { plan, date, .. } => (plan.clone(), Some(date.clone())),
    };
    let (view, files) = open(store, &plan, date, who)?;
    switch(app, view, files);
    Ok(())
}

/// The plans of `gamedays/` (beside the experiments folder, and in the current one) and the
/// sessions of the store.
fn picker(app: &App) -> Picker {
    let mut picker = Picker::default();
    let folder = PathBuf::from(&app.folder);
    let mut dirs = vec![PathBuf::from("gamedays")];
    if let Some(parent) = folder.parent() {
        dirs.insert(0, parent.join("gamedays"));
    }
    let mut seen = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")))
            .collect();
        files.sort();
        for path in files {
            let canonical = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
            if seen.contains(&canonical) {
                continue;
            }
            seen.push(canonical);
            match runs::load_plan(&path) {
                Ok(loaded) => picker.choices.push(Choice::Plan {
                    path,
                    title: loaded.plan.title,
                }),
                Err(e) => picker
                    .problems
                    .push(e.lines().next().unwrap_or_default().to_string()),
            }
        }
    }
    if let Ok(store) = Store::default_store() {
        let (sessions, problems) = store.list();
        picker.problems.extend(problems);
        for s in sessions.into_iter().rev() {
            let ticked = s.checklist.iter().filter(|i| i.ticked_by.is_some()).count();
            picker.choices.push(Choice::Session {
                summary: format!(
                    "checklist {ticked}/{} · runs {} · notes {}",
                    s.checklist.len(),
                    s.runs.len(),
                    s.observations.len()
                ),
                id: s.id,
                title: s.title,
                plan: PathBuf::from(s.plan),
                date: s.date,
            });
        }
    }
    picker
}

/// Begins a run of the experiment at `index` in the session: the gate, `current_run`, the
/// journal beside the session, the plan's recovery check. What the engine task needs.
pub fn begin_run(
    app: &App,
    index: usize,
) -> Result<(Store, SessionRun, Prepared, RunOptions), String> {
    let view = app.gameday.as_ref().ok_or("no GameDay session is open")?;
    let entry = app
        .experiments
        .get(index)
        .ok_or_else(|| "no experiment selected".to_string())?;
    let prepared = entry.prepared.clone()?;
    let begun = runs::begin(&view.store, &view.session.id, &entry.name)?;
    let flags = RunFlags {
        recovery: Some(begun.recovery),
        ..RunFlags::default()
    };
    let mut options = match run_options(&prepared.doc, &flags) {
        Ok(o) => o,
        Err(e) => {
            let _ = runs::finish(&view.store, &begun, None);
            return Err(e);
        }
    };
    options.journal_path = Some(begun.journal_path.clone());
    options.ledger_dir = engine::ledger::data_dir().map(|d| engine::ledger::ledger_dir(&d));
    Ok((view.store.clone(), begun, prepared, options))
}

/// The engine task of a session's run: events go on to the screen, the session follows the
/// activity in progress, and the run is recorded at its end.
pub async fn run_in_session(
    store: Store,
    begun: SessionRun,
    prepared: Prepared,
    options: RunOptions,
    controls: mpsc::UnboundedReceiver<Control>,
    events: mpsc::UnboundedSender<Event>,
) -> Result<RunReport, String> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Event>();
    let follow_store = store.clone();
    let id = begun.session.clone();
    let forward = tokio::spawn(async move {
        while let Some(event) = rx.recv().await {
            runs::follow(&follow_store, &id, &event);
            let _ = events.send(event);
        }
    });
    let report = engine::run(prepared, options, controls, tx).await;
    let _ = forward.await;
    if let Err(e) = runs::finish(&store, &begun, Some(&report)) {
        tracing::error!("the session did not record the run: {e}");
    }
    Ok(report)
}
