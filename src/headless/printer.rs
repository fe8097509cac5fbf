//! Progress lines for the headless runner: one line per activity with its verdict and duration,
//! then a summary naming every reason a run did not pass.

use crate::engine::{ActivityStatus, Event, Phase, RunReport};
use std::io::{IsTerminal, Write};
use std::time::Duration;

/// Whether to colour output: a terminal, and no `NO_COLOR`.
pub fn colour_enabled() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
}

/// Paints text when colour is on.
pub fn paint(text: &str, code: &str, on: bool) -> String {
    if on {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.2} s", ms / 1000.0)
    }
}

/// Renders one event as a progress line, or nothing for events that need none.
pub fn line(event: &Event, colour: bool) -> Option<String> {
    match event {
        Event::RunStarted { title } => Some(format!("▶ {title}")),
        Event::PhaseStarted(Phase::Rollbacks) => Some("[rollbacks] playing".to_string()),
        Event::ActivityFinished {
            activity,
            status,
            duration,
            tolerance,
            ..
        } => {
            let (mark, what) = match (status, tolerance) {
                (ActivityStatus::Succeeded, Some((false, d))) => {
                    (paint("✗", "31", colour), format!("tolerance not met: {d}"))
                }
                (ActivityStatus::Succeeded, Some((true, d))) => {
                    (paint("✓", "32", colour), format!("tolerance met: {d}"))
                }
                (ActivityStatus::Succeeded, None) => match nonzero_exit(event) {
                    Some(code) if activity.kind == "action" => (
                        paint("!", "33", colour),
                        format!("succeeded, but exited {code}"),
                    ),
                    Some(code) => (paint("✓", "32", colour), format!("succeeded, exit {code}")),
                    None => (paint("✓", "32", colour), "succeeded".into()),
                },
                (ActivityStatus::Failed(m), _) => {
                    (paint("✗", "31", colour), format!("failed: {m}"))
                }
                (ActivityStatus::Interrupted, _) => {
                    (paint("■", "33", colour), "interrupted".into())
                }
                (ActivityStatus::Dry, _) => ("○".to_string(), "not executed (dry run)".into()),
            };
            let bg = if activity.background {
                ", background"
            } else {
                ""
            };
            Some(format!(
                "[{}] {mark} {} ({}{bg}) {} — {what}",
                activity.phase.as_str(),
                activity.name,
                activity.kind,
                ms(*duration)
            ))
        }
        Event::Countdown {
            activity,
            when,
            remaining,
        } => Some(format!(
            "[{}] … pause {when} {}: {:.1} s",
            activity.phase.as_str(),
            activity.name,
            remaining.as_secs_f64()
        )),
        Event::HypothesisFinished { phase, met } => Some(format!(
            "[{}] steady state {}",
            phase.as_str(),
            if *met { "met" } else { "NOT met" }
        )),
        Event::Held { next } => Some(match next {
            Some(a) => format!("[{}] holding before {}", a.phase.as_str(), a.name),
            None => "[rollbacks] holding before the rollbacks".to_string(),
        }),
        Event::Skipped(a) => Some(format!("[{}] skipped {}", a.phase.as_str(), a.name)),
        Event::Aborting {
            with_rollback,
            reason,
        } => Some(format!(
            "■ {reason}: {}",
            if *with_rollback {
                "aborting"
            } else {
                "aborting without rollback"
            }
        )),
        Event::Deviated => Some("[after] the system deviated from its steady state".to_string()),
        Event::RecoveryChecked { met, elapsed } => Some(format!(
            "[recovery] steady state {} after {:.1} s",
            if *met { "back" } else { "not back yet" },
            elapsed.as_secs_f64()
        )),
        _ => None,
    }
}

/// The exit status of a finished activity whose output is shaped like a process result, when
/// it is not 0.
fn nonzero_exit(event: &Event) -> Option<i64> {
    let Event::ActivityFinished {
        output: Some(output),
        ..
    } = event
    else {
        return None;
    };
    output.get("stdout")?;
    output.get("status")?.as_i64().filter(|c| *c != 0)
}

/// Writes the closing summary of a run.
pub fn summary(report: &RunReport, journal: Option<&str>, colour: bool, out: &mut impl Write) {
    let verdict = if report.verdict.passed {
        paint("PASSED", "32;1", colour)
    } else {
        paint("FAILED", "31;1", colour)
    };
    let _ = writeln!(
        out,
        "Run {}{} — verdict {verdict}",
        report.status,
        if report.deviated { ", deviated" } else { "" }
    );
    for reason in &report.verdict.reasons {
        let _ = writeln!(out, "  {reason}");
    }
    if let Some(path) = journal {
        let _ = writeln!(out, "Journal: {path}");
    }
    if let Some(e) = &report.journal_error {
        let _ = writeln!(out, "The journal could not be written: {e}");
    }
}
