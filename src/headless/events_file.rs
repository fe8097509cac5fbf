//! `--events-file`: the run's events as NDJSON, one object a line, named as Chaos Toolkit 1.21
//! names its events where it has one, and `chaosdeck-…` for the events only chaosdeck has.

use crate::engine::journal::timestamp;
use crate::engine::{ActivityStatus, Event, Phase};
use chrono::Utc;
use serde_json::{json, Map, Value};
use std::io::Write;

/// Largest output carried inline by `activity-completed`.
pub const OUTPUT_LIMIT: usize = 4096;

/// The NDJSON lines for one event.
pub fn records(event: &Event) -> Vec<Value> {
    let mut out = Vec::new();
    let mut push = |name: &str, fields: Value| {
        let mut m = Map::new();
        m.insert("event".into(), name.into());
        m.insert("ts".into(), timestamp(Utc::now()).into());
        if let Value::Object(f) = fields {
            m.extend(f);
        }
        out.push(Value::Object(m));
    };
    match event {
        Event::RunStarted { title } => push("run-started", json!({"title": title})),
        Event::PhaseStarted(Phase::Method) => push("method-started", json!({})),
        Event::PhaseFinished(Phase::Method) => push("method-completed", json!({})),
        Event::PhaseStarted(Phase::Rollbacks) => push("rollbacks-started", json!({})),
        Event::PhaseFinished(Phase::Rollbacks) => push("rollbacks-completed", json!({})),
        Event::PhaseStarted(p) => push("hypothesis-started", json!({"phase": p.as_str()})),
        Event::PhaseFinished(_) => {}
        Event::HypothesisFinished { phase, met } => push(
            "hypothesis-completed",
            json!({"phase": phase.as_str(), "met": met}),
        ),
        Event::ActivityStarted(a) => push(
            "activity-started",
            json!({"name": a.name, "activity_type": a.kind, "background": a.background,
                   "phase": a.phase.as_str()}),
        ),
        Event::ActivityFinished {
            activity,
            status,
            duration,
            output,
            tolerance,
        } => {
            let (status, error) = match status {
                ActivityStatus::Succeeded | ActivityStatus::Dry => ("succeeded", None),
                ActivityStatus::Failed(m) => ("failed", Some(m.clone())),
                ActivityStatus::Interrupted => ("interrupted", None),
            };
            let mut f = json!({"name": activity.name, "phase": activity.phase.as_str(),
                               "status": status, "duration": duration.as_secs_f64()});
            let text = output
                .as_ref()
                .map(|o| serde_json::to_string(o).unwrap_or_default());
            match (output, text) {
                (Some(o), Some(t)) if t.len() <= OUTPUT_LIMIT => f["output"] = o.clone(),
                (Some(_), Some(_)) => f["output_truncated"] = Value::Bool(true),
                _ => f["output"] = Value::Null,
            }
            if let Some(e) = error {
                f["error"] = Value::String(e);
            }
            if let Some((met, detail)) = tolerance {
                f["tolerance_met"] = Value::Bool(*met);
                f["comparison"] = Value::String(detail.clone());
            }
            push("activity-completed", f);
        }
        Event::Aborting {
            with_rollback,
            reason,
        } => {
            push("run-interrupted", json!({"reason": reason}));
            push(
                "chaosdeck-abort",
                json!({"with_rollback": with_rollback, "reason": reason}),
            );
        }
        Event::RunFinished {
            status,
            deviated,
            passed,
        } => push(
            "run-finished",
            json!({"status": status, "deviated": deviated,
                   "verdict": if *passed { "passed" } else { "failed" }}),
        ),
        Event::Countdown {
            activity,
            when,
            remaining,
        } => push(
            "chaosdeck-countdown",
            json!({"name": activity.name, "when": when, "remaining": remaining.as_secs_f64()}),
        ),
        Event::CountdownFrozen { remaining } => push(
            "chaosdeck-countdown-frozen",
            json!({"remaining": remaining.as_secs_f64()}),
        ),
        Event::Held { next } => push(
            "chaosdeck-held",
            json!({"next": next.as_ref().map(|a| a.name.clone())}),
        ),
        Event::Resumed => push("chaosdeck-resumed", json!({})),
        Event::Skipped(a) => push(
            "chaosdeck-skipped",
            json!({"name": a.name, "phase": a.phase.as_str()}),
        ),
        Event::Deviated => push("chaosdeck-deviated", json!({})),
        Event::RecoveryChecked { met, elapsed } => push(
            "chaosdeck-recovery-check",
            json!({"met": met, "elapsed": elapsed.as_secs_f64()}),
        ),
    }
    out
}

/// Appends an event's lines to the file, flushed at once so a reader sees them live.
pub fn write(file: &mut std::fs::File, event: &Event) -> std::io::Result<()> {
    for r in records(event) {
        let mut line = serde_json::to_vec(&r)?;
        line.push(b'\n');
        file.write_all(&line)?;
    }
    file.flush()
}
