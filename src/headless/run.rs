//! `chaosdeck run`: one experiment, headless, with signals mapped to aborts.

use super::printer::{colour_enabled, line, summary};
use super::{prepare, run_options, Findings, PrepareOptions, RunFlags};
use crate::engine::{self, Control, Event, RunReport};
use std::io::Write;
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
}

/// Prints errors and warnings of a document to stderr.
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
    options.journal_path = Some(req.journal_path.clone());
    let (control_tx, control_rx) = mpsc::unbounded_channel();
    let (event_tx, mut event_rx) = mpsc::unbounded_channel();
    let signals = tokio::spawn(forward_signals(control_tx));
    let colour = colour_enabled();
    let printer = tokio::spawn(async move {
        let mut lines = Vec::new();
        while let Some(event) = event_rx.recv().await {
            if let Some(l) = line(&event, colour) {
                let _ = writeln!(std::io::stderr(), "{l}");
                lines.push(l);
            }
            if matches!(event, Event::RunFinished { .. }) {
                break;
            }
        }
    });
    let report = engine::run(prepared, options, control_rx, event_tx).await;
    let _ = printer.await;
    signals.abort();
    summary(
        &report,
        Some(&req.journal_path.display().to_string()),
        colour,
        err,
    );
    Ok(report)
}

/// SIGINT, SIGTERM and SIGUSR1 abort with rollback; SIGUSR2 aborts without.
async fn forward_signals(tx: mpsc::UnboundedSender<Control>) {
    let kinds = [
        (SignalKind::interrupt(), Control::Abort),
        (SignalKind::terminate(), Control::Abort),
        (SignalKind::user_defined1(), Control::Abort),
        (SignalKind::user_defined2(), Control::AbortWithoutRollback),
    ];
    let mut streams = Vec::new();
    for (kind, control) in kinds {
        if let Ok(s) = signal(kind) {
            streams.push((s, control));
        }
    }
    let (merged_tx, mut merged_rx) = mpsc::unbounded_channel();
    for (mut s, control) in streams {
        let m = merged_tx.clone();
        tokio::spawn(async move {
            while s.recv().await.is_some() {
                if m.send(control).is_err() {
                    break;
                }
            }
        });
    }
    drop(merged_tx);
    while let Some(c) = merged_rx.recv().await {
        if tx.send(c).is_err() {
            break;
        }
    }
}
