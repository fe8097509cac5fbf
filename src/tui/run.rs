//! The event loop: terminal input, engine events, watcher snapshots, the run's end and signals
//! all meet in one `select!`. The screen is drawn only after something changed, at most
//! [`FRAME`] apart; a timer exists only while a clock on screen moves.

use super::app::{App, Effect};
use super::catalog::{self, Entry, LastResult};
use super::gameday_io;
use super::terminal::Guard;
use super::theme::Theme;
use super::timeline::RunState;
use super::{keys, view};
use crate::docker::snapshot::Snapshot;
use crate::docker::watcher::{Focus, Watcher};
use crate::engine::{self, ledger, Control, Event, Prepared, RunOptions, RunReport, StepMode};
use crate::headless::owed::{self, owed_runs, prepare_recovery};
use crate::headless::{run_options, RunFlags};
use crossterm::event::{Event as TermEvent, EventStream, KeyEventKind};
use futures_util::StreamExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// The shortest time between two frames for routine changes (clocks, container figures, activity
/// rows): a burst of them costs at most one frame per interval. A key press and a change of the
/// run's state (a phase, a hold, an abort, the end) are drawn at once, so the screen answers
/// within a display refresh.
pub const FRAME: Duration = Duration::from_millis(16);

/// How often a running clock or countdown on screen is redrawn.
pub const CLOCK_TICK: Duration = Duration::from_millis(100);

/// A run in flight: where its controls go and where its events and report come from.
struct Live {
    controls: mpsc::UnboundedSender<Control>,
    events: mpsc::UnboundedReceiver<Event>,
    report: JoinHandle<Result<RunReport, String>>,
}

impl Live {
    /// Runs `work` (which ends in the engine) as its own task.
    fn spawn<F>(work: impl FnOnce(mpsc::UnboundedReceiver<Control>, Sender) -> F) -> Live
    where
        F: std::future::Future<Output = Result<RunReport, String>> + Send + 'static,
    {
        let (controls, controls_rx) = mpsc::unbounded_channel();
        let (events_tx, events) = mpsc::unbounded_channel();
        Live {
            controls,
            events,
            report: tokio::spawn(work(controls_rx, events_tx)),
        }
    }
}

type Sender = mpsc::UnboundedSender<Event>;

/// How often, at most, the editor's draft is written while someone types: killing chaosdeck
/// loses at most this much typing.
pub const DRAFT_SAVE: Duration = Duration::from_millis(500);

/// How often, in GameDay mode, the session file is checked for changes made elsewhere.
pub const SESSION_CHECK: Duration = Duration::from_secs(1);

/// What the TUI opens on.
#[derive(Debug, Clone, Default)]
pub struct TuiOptions {
    /// The experiments folder of the plain screen (`--experiments`).
    pub folder: PathBuf,
    /// A GameDay plan: open its session (today's, or `date`'s) in GameDay mode.
    pub plan: Option<PathBuf>,
    /// The session's date, `YYYY-MM-DD` (default today).
    pub date: Option<String>,
    /// Who ticks and writes (default the plan's facilitator, else `$USER`).
    pub who: Option<String>,
    /// Where the health panel's snapshots come from instead of the Docker engine (the loopback
    /// demo publishes its processes this way).
    pub health: Option<tokio::sync::watch::Receiver<Snapshot>>,
}

/// Opens the TUI on the experiments of `folder`; returns the exit code.
pub async fn run(folder: PathBuf) -> i32 {
    run_with(TuiOptions {
        folder,
        ..TuiOptions::default()
    })
    .await
}

/// Opens the TUI in GameDay mode on the session of `plan` (started, or resumed when one exists
/// for the date): the plan's experiments with their time boxes, the checklist and its gate,
/// predictions, notes, exports. A plan that cannot be read is reported on stderr before the
/// terminal is taken. Returns the exit code. `chaosdeck gameday PLAN` and `chaosdeck demo` call
/// it; `options.folder` is where the picker looks for `../gamedays`.
pub async fn run_gameday(plan: PathBuf, options: TuiOptions) -> i32 {
    run_with(TuiOptions {
        plan: Some(plan),
        ..options
    })
    .await
}

/// Opens the TUI as `options` say; returns the exit code.
pub async fn run_with(options: TuiOptions) -> i32 {
    let session = match &options.plan {
        Some(plan) => {
            let opened = crate::gameday::store::Store::default_store()
                .map_err(|e| e.to_string())
                .and_then(|store| {
                    gameday_io::open(store, plan, options.date.clone(), options.who.clone())
                });
            match opened {
                Ok(opened) => Some(opened),
                Err(e) if e.starts_with("error:") => {
                    eprintln!("{e}");
                    return 1;
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    return 1;
                }
            }
        }
        None => None,
    };
    let folder = options.folder;
    let health = options.health;
    let mut guard = match Guard::enter() {
        Ok(g) => g,
        Err(e) => {
            eprintln!("error: cannot take the terminal: {e}");
            return 1;
        }
    };
    let outcome = event_loop(&mut guard, folder, session, health).await;
    drop(guard);
    match outcome {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

async fn event_loop(
    guard: &mut Guard,
    folder: PathBuf,
    session: Option<(super::gameday::GamedayView, Vec<PathBuf>)>,
    health: Option<tokio::sync::watch::Receiver<Snapshot>>,
) -> std::io::Result<()> {
    let data = ledger::data_dir();
    let journals = data.as_ref().map(|d| d.join("journals"));
    let mut app = App::new(Theme::from_env(), folder.display().to_string());
    app.owed_runs = count_owed(data.as_deref());
    app.banner = owed_banner(app.owed_runs);
    let mut entries = match session {
        Some((view, files)) => {
            gameday_io::switch(&mut app, view, files);
            app.banner = app.banner.take().or_else(|| owed_banner(app.owed_runs));
            let files = app.reload.take().unwrap_or_default();
            spawn_files(files, session_journals(&app))
        }
        None => spawn_catalog(folder, journals.clone()),
    };
    let mut draft_due: Option<Instant> = None;
    // In GameDay mode the session file is looked at now and then: other terminals tick items
    // and write notes there.
    let mut session_due: Option<Instant> = None;
    // The Docker engine's containers, unless someone else publishes what the panel shows.
    let (watcher, mut snapshots) = match health {
        Some(given) => (None, given),
        None => {
            let watcher = Watcher::spawn();
            let snapshots = watcher.subscribe();
            (Some(watcher), snapshots)
        }
    };
    app.containers = snapshots.borrow_and_update().clone();
    let mut input = EventStream::new();
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;
    let mut live: Option<Live> = None;
    let mut dirty = true;
    // Drawn without waiting for the frame interval.
    let mut urgent = false;
    let mut last_draw: Option<Instant> = None;
    let mut quit = false;
    while !quit {
        if dirty && (urgent || last_draw.is_none_or(|t| t.elapsed() >= FRAME)) {
            // The experiment's targets stream their stats; the other containers are sampled.
            if let Some(watcher) = &watcher {
                watcher.set_focus(Focus::Only(app.targets()));
            }
            let now = Instant::now();
            guard.terminal.draw(|f| view::draw(f, &app, now))?;
            last_draw = Some(now);
            dirty = false;
            urgent = false;
        }
        if app.gameday.is_some() && session_due.is_none() {
            session_due = Some(Instant::now() + SESSION_CHECK);
        }
        let animating = app.run.as_ref().is_some_and(|r| r.animating());
        let wake = match (dirty, animating, last_draw) {
            (true, _, Some(t)) => Some(FRAME.saturating_sub(t.elapsed())),
            (false, true, _) => Some(CLOCK_TICK),
            _ => None,
        };
        tokio::select! {
            term = input.next() => match term {
                Some(Ok(TermEvent::Key(key))) if key.kind != KeyEventKind::Release => {
                    if let Some(action) = keys::action_for(key, &app.contexts()) {
                        let effect = app.update(action);
                        app.fix_note_moment(Instant::now());
                        quit = apply(&mut app, effect, &mut live, data.as_deref());
                    }
                    if let Some(files) = app.reload.take() {
                        entries = spawn_files(files, session_journals(&app).or(journals.clone()));
                    }
                    if app.draft_changed && draft_due.is_none() {
                        draft_due = Some(Instant::now() + DRAFT_SAVE);
                    } else if app.editor.is_none() {
                        draft_due = None;
                    }
                    dirty = true;
                    urgent = true;
                }
                Some(Ok(TermEvent::Resize(..))) => {
                    dirty = true;
                    urgent = true;
                }
                Some(Ok(_)) => {}
                // The terminal is gone: abort with rollback and leave once it has played.
                Some(Err(_)) | None => quit = hang_up(&mut app, &live),
            },
            entry = entries.recv(), if app.loading => {
                match entry {
                    Some(e) => app.experiments.push(e),
                    None => app.loading = false,
                }
                dirty = true;
            }
            news = from_run(&mut live) => match news {
                RunNews::Event(event) => {
                    urgent |= changes_run_state(&event);
                    if let Some(run) = app.run.as_mut() {
                        run.apply(event, Instant::now());
                    }
                    dirty = true;
                }
                RunNews::Ended(report) => {
                    quit = finish(&mut app, &mut live, report);
                    if let Some(view) = app.gameday.as_mut() {
                        gameday_io::reload(view);
                    }
                    app.owed_runs = count_owed(data.as_deref());
                    if app.banner.as_deref().is_none_or(is_owed_banner) {
                        app.banner = owed_banner(app.owed_runs);
                    }
                    dirty = true;
                    urgent = true;
                }
            },
            changed = snapshots.changed() => {
                if changed.is_ok() {
                    app.containers = snapshots.borrow_and_update().clone();
                    dirty = true;
                }
            }
            _ = sigterm.recv() => quit = hang_up(&mut app, &live),
            _ = sighup.recv() => quit = hang_up(&mut app, &live),
            _ = tokio::time::sleep(wake.unwrap_or(Duration::MAX)), if wake.is_some() => {
                dirty = true;
            }
            _ = sleep_until(session_due), if session_due.is_some() => {
                session_due = None;
                if gameday_io::refresh(&mut app) {
                    dirty = true;
                }
            }
            _ = sleep_until(draft_due), if draft_due.is_some() => {
                draft_due = None;
                gameday_io::save_draft(&mut app);
            }
        }
    }
    Ok(())
}

/// Whether an engine event changes the run's state or phase (drawn at once) rather than one
/// activity's row or a clock (drawn at the frame interval).
fn changes_run_state(event: &Event) -> bool {
    matches!(
        event,
        Event::RunStarted { .. }
            | Event::PhaseStarted(_)
            | Event::Held { .. }
            | Event::Resumed
            | Event::CountdownFrozen { .. }
            | Event::Aborting { .. }
            | Event::Deviated
            | Event::RunFinished { .. }
    )
}

/// Does what an update asked for; returns true to leave the loop.
fn apply(
    app: &mut App,
    effect: Option<Effect>,
    live: &mut Option<Live>,
    data: Option<&Path>,
) -> bool {
    let journals = data.map(|d| d.join("journals"));
    if let Some(e) = effect.as_ref() {
        if gameday_io::apply(app, e, Instant::now()) {
            return false;
        }
    }
    let (index, step) = match effect {
        Some(Effect::Quit) => return true,
        Some(Effect::Control(control)) => {
            if let Some(l) = live {
                let _ = l.controls.send(control);
            }
            return false;
        }
        Some(Effect::PlayOwed) => {
            match data.map(play_owed) {
                Some(Ok((started, title, doc))) => {
                    app.run_started(usize::MAX, Instant::now());
                    if let Some(run) = app.run.as_mut() {
                        run.title = title;
                        run.recovering = Some(doc);
                    }
                    *live = Some(started);
                }
                Some(Err(message)) => app.banner = Some(message),
                None => app.banner = Some("no data directory (is HOME set?)".to_string()),
            }
            return false;
        }
        Some(Effect::StartRun(index)) => (index, StepMode::Off),
        Some(Effect::StartStepping(index)) => (index, StepMode::EachActivity),
        _ => return false,
    };
    let started = if app.gameday.is_some() {
        start_in_session(app, index, step)
    } else {
        start(app, index, step, journals.as_deref())
    };
    match started {
        Ok((started, journal)) => {
            app.run_started(index, Instant::now());
            if let Some(run) = app.run.as_mut() {
                run.journal_path = journal;
            }
            *live = Some(started);
        }
        Err(message) => app.banner = Some(message),
    }
    false
}

/// Starts the engine on the experiment at `index` as its own task.
fn start(
    app: &App,
    index: usize,
    step: StepMode,
    journals: Option<&Path>,
) -> Result<(Live, Option<PathBuf>), String> {
    let entry = app
        .experiments
        .get(index)
        .ok_or_else(|| "no experiment selected".to_string())?;
    let prepared = entry.prepared.clone()?;
    let mut options = run_options(&prepared.doc, &RunFlags::default())?;
    let journal = journals.and_then(|dir| {
        std::fs::create_dir_all(dir)
            .ok()
            .map(|()| catalog::journal_path(dir, &entry.name))
    });
    options.journal_path = journal.clone();
    options.ledger_dir = ledger::data_dir().map(|d| ledger::ledger_dir(&d));
    options.step = step;
    let live = Live::spawn(|controls, events| run_engine(prepared, options, controls, events));
    Ok((live, journal))
}

/// Starts a run of the plan's experiment at `index` recorded in the session.
fn start_in_session(
    app: &App,
    index: usize,
    step: StepMode,
) -> Result<(Live, Option<PathBuf>), String> {
    let (store, begun, prepared, mut options) = gameday_io::begin_run(app, index)?;
    options.step = step;
    let journal = Some(begun.journal_path.clone());
    let live = Live::spawn(|controls, events| {
        gameday_io::run_in_session(store, begun, prepared, options, controls, events)
    });
    Ok((live, journal))
}

/// Sleeps until `at` (forever without one).
async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

/// Where the journals of the session's runs go (their last results come from there).
fn session_journals(app: &App) -> Option<PathBuf> {
    app.gameday
        .as_ref()
        .map(|v| v.store.dir().join(&v.session.id))
}

/// Loads these experiment files one by one in a task, in this order (a plan's experiments).
fn spawn_files(files: Vec<PathBuf>, journals: Option<PathBuf>) -> mpsc::UnboundedReceiver<Entry> {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        for path in files {
            if tx
                .send(catalog::load(path, journals.as_deref()).await)
                .is_err()
            {
                break;
            }
        }
    });
    rx
}

async fn run_engine(
    prepared: Prepared,
    options: RunOptions,
    controls: mpsc::UnboundedReceiver<Control>,
    events: Sender,
) -> Result<RunReport, String> {
    Ok(engine::run(prepared, options, controls, events).await)
}

/// Plays the owed rollbacks of the oldest run that owes some, as a run of its own; the ledger
/// record goes once all of them played. Returns the run, its title and its experiment.
fn play_owed(data: &Path) -> Result<(Live, String, serde_json::Value), String> {
    let (mut found, _) = owed_runs(data);
    found.sort_by(|a, b| a.owed.started.cmp(&b.owed.started));
    let oldest = found
        .into_iter()
        .next()
        .ok_or_else(|| "no earlier run owes rollbacks".to_string())?;
    let title = format!("recovering {} — {}", oldest.owed.id, oldest.owed.title);
    let doc = oldest.owed.experiment.clone();
    let data = data.to_path_buf();
    let live = Live::spawn(|controls, events| async move {
        // Reading secrets again may fetch the experiment: the task does it, never the loop.
        let recovery = prepare_recovery(oldest, &data, &[])
            .await
            .map_err(|reasons| reasons.join("; "))?;
        let report = engine::run(recovery.prepared, recovery.options, controls, events).await;
        owed::settle(recovery.ledger, &report);
        Ok(report)
    });
    Ok((live, title, doc))
}

/// The run ended: its last events, the verdict in the list, a banner if the journal was lost.
fn finish(
    app: &mut App,
    live: &mut Option<Live>,
    report: Result<Result<RunReport, String>, tokio::task::JoinError>,
) -> bool {
    if let Some(mut l) = live.take() {
        while let Ok(event) = l.events.try_recv() {
            if let Some(run) = app.run.as_mut() {
                run.apply(event, Instant::now());
            }
        }
    }
    match report {
        Ok(Ok(report)) => {
            if let Some(run) = app.run.as_mut() {
                run.reasons = report.verdict.reasons.clone();
                let listed = app.experiments.get_mut(run.experiment);
                if let Some(entry) = listed.filter(|_| run.recovering.is_none()) {
                    entry.last = Some(LastResult {
                        passed: report.verdict.passed,
                        status: report.status.clone(),
                    });
                }
            }
            if let Some(e) = report.journal_error {
                app.banner = Some(format!("the journal could not be written: {e}"));
            }
        }
        Ok(Err(message)) => {
            if let Some(run) = app.run.as_mut() {
                run.state = RunState::Finished {
                    status: "not started".to_string(),
                    passed: false,
                };
            }
            app.banner = Some(message);
        }
        Err(e) => app.banner = Some(format!("the run stopped unexpectedly: {e}")),
    }
    app.quit_after_run
}

/// SIGTERM, SIGHUP or a lost terminal: abort with rollback, then quit; at once when idle.
fn hang_up(app: &mut App, live: &Option<Live>) -> bool {
    match live {
        Some(l) if !app.quit_after_run => {
            app.quit_after_run = true;
            let _ = l.controls.send(Control::Abort);
            false
        }
        Some(_) => true,
        None => true,
    }
}

/// What a run in flight said: an event, or its end.
enum RunNews {
    Event(Event),
    Ended(Result<Result<RunReport, String>, tokio::task::JoinError>),
}

/// The next event of the run in flight, events first; its report once they are all read.
async fn from_run(live: &mut Option<Live>) -> RunNews {
    let Some(l) = live else {
        return std::future::pending().await;
    };
    tokio::select! {
        biased;
        Some(event) = l.events.recv() => RunNews::Event(event),
        report = &mut l.report => RunNews::Ended(report),
    }
}

/// Loads the folder's experiments one by one in a task; the channel closes when all are in.
fn spawn_catalog(folder: PathBuf, journals: Option<PathBuf>) -> mpsc::UnboundedReceiver<Entry> {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let Ok(files) = catalog::files(&folder) else {
            return;
        };
        for path in files {
            if tx
                .send(catalog::load(path, journals.as_deref()).await)
                .is_err()
            {
                break;
            }
        }
    });
    rx
}

/// How many earlier runs ended owing rollbacks.
fn count_owed(data: Option<&Path>) -> usize {
    data.map_or(0, |d| owed_runs(d).0.len())
}

/// The banner's words for owed rollbacks.
const OWED_BANNER: &str = "ended owing rollbacks — r plays them";

fn is_owed_banner(text: &str) -> bool {
    text.contains(OWED_BANNER)
}

/// "2 earlier runs ended owing rollbacks — r plays them" when there are such runs.
fn owed_banner(owed: usize) -> Option<String> {
    (owed > 0).then(|| {
        format!(
            "{owed} earlier run{} {OWED_BANNER} (oldest first)",
            if owed == 1 { "" } else { "s" }
        )
    })
}
