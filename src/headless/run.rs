//! `chaosdeck run`: one experiment, headless, with signals mapped to aborts, an optional
//! NDJSON events file, and `--step` asking on the terminal before each held activity.

use super::printer::{colour_enabled, line, summary};
use super::{events_file, prepare, run_options, Findings, PrepareOptions, RunFlags};
use crate::engine::{self, ledger, Control, Event, RunReport, Signal, StepMode};
use std::io::{BufRead, Write};
use std::path::PathBuf;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::mpsc;

/// Everything `run` needs.
#[derive(Debug, Clone)]
pub struct RunRequest {
    pub spec: String,
    pub prepare: PrepareOptions,
    pub flags: RunFlags,
    pub journal_path: PathBuf,
    pub ctk_exit_code: bool,
    pub events_file: Option<PathBuf>,
    pub step: StepMode,
}

/// Prints errors and warnings of a document.
pub fn print_findings(findings: &Findings, out: &mut impl Write) {
    for w in &findings.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    for e in &findings.errors {
        let _ = writeln!(out, "error: {e}");
    }
}

/// Runs one experiment and returns the process exit code.
pub async fn run(req: RunRequest) -> i32 {
    let mut err = std::io::stderr();
    match execute(&req, &mut err).await {
        // A run whose journal was lost is not a success, whatever its verdict.
        Ok(report) if report.journal_error.is_some() => 1,
        Ok(report) => {
            if req.ctk_exit_code {
                report.ctk_exit_code()
            } else {
                i32::from(!report.verdict.passed)
            }
        }
        Err(()) => 1,
    }
}

/// Runs and reports; `Err` when the experiment could not start (its errors printed).
pub async fn execute(req: &RunRequest, err: &mut impl Write) -> Result<RunReport, ()> {
    execute_with_hook(req, err, Box::new(|_| {})).await
}

/// Something told of every event of the run (a GameDay session follows the activity in
/// progress this way).
pub type EventHook = Box<dyn FnMut(&Event) + Send>;

/// Like [`execute`], calling `hook` with each event as it happens.
pub async fn execute_with_hook(
    req: &RunRequest,
    err: &mut impl Write,
    hook: EventHook,
) -> Result<RunReport, ()> {
    // Signals are taken from the start: a SIGTERM while loading must not kill us half-way.
    let (control_tx, control_rx) = mpsc::unbounded_channel();
    let signals = tokio::spawn(forward_signals(control_tx.clone()));
    let outcome = execute_with(req, err, control_tx, control_rx, hook).await;
    signals.abort();
    outcome
}

async fn execute_with(
    req: &RunRequest,
    err: &mut impl Write,
    control_tx: mpsc::UnboundedSender<Control>,
    control_rx: mpsc::UnboundedReceiver<Control>,
    mut hook: EventHook,
) -> Result<RunReport, ()> {
    let (prepared, findings) = match prepare(&req.spec, &req.prepare).await {
        Ok(ok) => ok,
        Err(findings) => {
            print_findings(&findings, err);
            let n = findings.errors.len();
            let _ = writeln!(
                err,
                "{}: {n} error{} — nothing was run",
                req.spec,
                if n == 1 { "" } else { "s" }
            );
            return Err(());
        }
    };
    print_findings(&findings, err);
    let mut options = match run_options(&prepared.doc, &req.flags) {
        Ok(o) => o,
        Err(msg) => {
            let _ = writeln!(err, "error: {msg}");
            return Err(());
        }
    };
    // The journal's folder must exist before anything runs: a run whose record is lost
    // cannot be looked at afterwards.
    let folder = req
        .journal_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    if let Err(why) = journal_writable(&req.journal_path, folder) {
        let _ = writeln!(
            err,
            "error: --journal-path {}: {why} — nothing was run",
            req.journal_path.display()
        );
        return Err(());
    }
    options.journal_path = Some(req.journal_path.clone());
    options.step = req.step;
    options.ledger_dir = ledger::data_dir().map(|d| ledger::ledger_dir(&d));
    let mut events_out = match &req.events_file {
        Some(path) => match std::fs::File::create(path) {
            Ok(f) => Some(f),
            Err(e) => {
                let _ = writeln!(err, "error: cannot write {}: {e}", path.display());
                return Err(());
            }
        },
        None => None,
    };
    let (event_tx, mut event_rx) = mpsc::unbounded_channel();
    let colour = colour_enabled();
    let prompts = req.step != StepMode::Off;
    let printer = tokio::spawn(async move {
        while let Some(event) = event_rx.recv().await {
            hook(&event);
            if let Some(l) = line(&event, colour) {
                let _ = writeln!(std::io::stderr(), "{l}");
            }
            if let Some(f) = events_out.as_mut() {
                let _ = events_file::write(f, &event);
            }
            if let (true, Event::Held { next }) = (prompts, &event) {
                let what = next
                    .as_ref()
                    .map_or("the rollbacks".to_string(), |a| a.name.clone());
                let answer = ask(what).await;
                let _ = control_tx.send(answer);
            }
            if matches!(event, Event::RunFinished { .. }) {
                break;
            }
        }
    });
    let report = engine::run(prepared, options, control_rx, event_tx).await;
    let _ = printer.await;
    summary(
        &report,
        Some(&req.journal_path.display().to_string()),
        colour,
        err,
    );
    Ok(report)
}

/// Whether a journal can be written at `path` (in `folder`): a folder that exists and takes a new
/// file, and a path that is not a folder itself. An existing file or device is written through.
fn journal_writable(path: &std::path::Path, folder: &std::path::Path) -> Result<(), String> {
    if !folder.is_dir() {
        return Err(format!("the folder {} does not exist", folder.display()));
    }
    if path.is_dir() {
        return Err("that is a folder; give a file name".to_string());
    }
    if path.exists() {
        return Ok(());
    }
    // The journal is written beside itself and swapped in: the folder must take a new file.
    let probe = folder.join(format!(".chaosdeck-journal-check-{}", std::process::id()));
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .map(|_| {
            let _ = std::fs::remove_file(&probe);
        })
        .map_err(|e| format!("cannot create a file in {}: {e}", folder.display()))
}

/// Asks on the terminal what to do with a held activity: run it, skip it, or abort.
async fn ask(what: String) -> Control {
    tokio::task::spawn_blocking(move || {
        let stdin = std::io::stdin();
        loop {
            eprint!("next: {what} — [r]un, [s]kip, [a]bort? ");
            let _ = std::io::stderr().flush();
            let mut answer = String::new();
            match stdin.lock().read_line(&mut answer) {
                Ok(0) | Err(_) => return Control::Abort,
                Ok(_) => {}
            }
            match answer.trim().to_ascii_lowercase().as_str() {
                "" | "r" | "run" => return Control::Step,
                "s" | "skip" => return Control::Skip,
                "a" | "abort" => return Control::Abort,
                _ => eprintln!("answer r, s or a"),
            }
        }
    })
    .await
    .unwrap_or(Control::Abort)
}

/// SIGINT, SIGTERM and SIGUSR1 abort with rollback; SIGUSR2 aborts without.
async fn forward_signals(tx: mpsc::UnboundedSender<Control>) {
    let kinds = [
        (SignalKind::interrupt(), Signal::Int),
        (SignalKind::terminate(), Signal::Term),
        (SignalKind::user_defined1(), Signal::Usr1),
        (SignalKind::user_defined2(), Signal::Usr2),
    ];
    for (kind, sig) in kinds {
        if let Ok(mut stream) = signal(kind) {
            let tx = tx.clone();
            tokio::spawn(async move {
                while stream.recv().await.is_some() {
                    if tx.send(Control::Signal(sig)).is_err() {
                        break;
                    }
                }
            });
        }
    }
    std::future::pending::<()>().await
}
