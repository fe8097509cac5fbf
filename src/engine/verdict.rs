//! The verdict: chaosdeck's judgement of a run, stricter than Chaos Toolkit's status. A run
//! passes only if it completed, nothing deviated, the steady state held before the method, no
//! method or rollback activity failed and no action exited non-zero.

use super::journal::{Entry, EntryEnd, Journal};
use serde_json::{json, Value};

/// Passed or failed, with every reason it did not pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub passed: bool,
    pub reasons: Vec<String>,
}

impl Verdict {
    pub fn label(&self) -> &'static str {
        if self.passed {
            "passed"
        } else {
            "failed"
        }
    }

    pub fn to_value(&self) -> Value {
        json!({"verdict": self.label(), "reasons": self.reasons})
    }
}

fn is_action(e: &Entry) -> bool {
    e.activity.get("type").and_then(Value::as_str) == Some("action")
}

/// Exit status of an action whose output is shaped like a process result.
fn nonzero_exit(e: &Entry) -> bool {
    is_action(e)
        && e.output
            .as_ref()
            .and_then(|o| o.get("stdout").and(o.get("status")))
            .and_then(Value::as_i64)
            .is_some_and(|s| s != 0)
}

fn phase_reason(name: &str, entries: &[Entry]) -> Option<String> {
    let failed = entries
        .iter()
        .filter(|e| matches!(e.status(), Some(EntryEnd::Failed(_))))
        .count();
    let nonzero = entries.iter().filter(|e| nonzero_exit(e)).count();
    let mut parts = Vec::new();
    if failed > 0 {
        parts.push(format!("{failed} failed"));
    }
    if nonzero > 0 {
        parts.push(format!("{nonzero} non-zero exit"));
    }
    (!parts.is_empty()).then(|| format!("{name}: {}", parts.join(", ")))
}

/// Judges a finished journal.
pub fn judge(journal: &Journal) -> Verdict {
    let mut reasons = Vec::new();
    let status = journal.status.as_deref().unwrap_or("completed");
    if status != "completed" {
        reasons.push(format!("status: {status}"));
    }
    if let Some(before) = &journal.before {
        if !before.met {
            reasons.push("steady state: not met before the method".to_string());
        }
    }
    if journal.deviated {
        reasons.push("steady state: deviated after the method".to_string());
    }
    let broken = journal.during.iter().filter(|s| !s.met).count();
    if broken > 0 {
        reasons.push(format!(
            "steady state: not met during the method ({broken} of {} checks)",
            journal.during.len()
        ));
    }
    if let Some(r) = phase_reason("method", &journal.run) {
        reasons.push(r);
    }
    if let Some(r) = phase_reason("rollbacks", &journal.rollbacks) {
        reasons.push(r);
    }
    Verdict {
        passed: reasons.is_empty(),
        reasons,
    }
}
