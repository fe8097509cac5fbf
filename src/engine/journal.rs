//! The journal: Chaos Toolkit's record of a run, with its keys, their order, its entry shapes and
//! its timestamp format, plus chaosdeck's own facts under one extra key, `chaosdeck`. It is
//! rewritten atomically after every entry, so a crash leaves a valid journal of all done so far.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// A timestamp as Python's `datetime.isoformat()` writes an aware UTC time: microseconds, and
/// no fraction at all when they are zero.
pub fn timestamp(t: DateTime<Utc>) -> String {
    if t.timestamp_subsec_micros() == 0 {
        t.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()
    } else {
        t.format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string()
    }
}

/// Seconds between two instants at microsecond precision, as Chaos Toolkit computes durations.
pub fn duration(start: DateTime<Utc>, end: DateTime<Utc>) -> f64 {
    // Both ends at the precision the journal shows them, so readers can recompute it exactly.
    let micros = end.timestamp_micros() - start.timestamp_micros();
    micros as f64 / 1_000_000.0
}

/// How an activity ended, for its entry.
#[derive(Debug, Clone, PartialEq)]
pub enum EntryEnd {
    Succeeded,
    Failed(String),
    /// Abandoned by an interruption or an unexpected error: no `status` key.
    Unfinished,
}

/// One entry of `run`, `rollbacks` or a hypothesis' `probes`. Its JSON text is kept once made:
/// the journal is rewritten after every entry, and only new entries are serialized again. An
/// entry is not changed once it is in the journal; it is replaced (a clone starts afresh).
#[derive(Debug)]
pub struct Entry {
    pub activity: Value,
    pub output: Option<Value>,
    pub start: DateTime<Utc>,
    pub end: Option<(DateTime<Utc>, EntryEnd)>,
    pub tolerance_met: Option<bool>,
    text: std::sync::OnceLock<String>,
}

impl Clone for Entry {
    fn clone(&self) -> Self {
        Entry {
            activity: self.activity.clone(),
            output: self.output.clone(),
            start: self.start,
            end: self.end.clone(),
            tolerance_met: self.tolerance_met,
            text: std::sync::OnceLock::new(),
        }
    }
}

impl Entry {
    pub fn started(activity: Value, start: DateTime<Utc>) -> Self {
        Entry {
            activity,
            output: None,
            start,
            end: None,
            tolerance_met: None,
            text: std::sync::OnceLock::new(),
        }
    }

    /// The entry as pretty JSON indented as it stands in `run` and `rollbacks`, made once.
    fn text(&self) -> &str {
        self.text.get_or_init(|| {
            let mut out = String::new();
            let plain = serde_json::to_string_pretty(&self.to_value()).unwrap_or_default();
            push_indented(&mut out, &plain, ENTRY_INDENT);
            out
        })
    }

    /// The entry in Chaos Toolkit's key order.
    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("activity".into(), self.activity.clone());
        m.insert("output".into(), self.output.clone().unwrap_or(Value::Null));
        m.insert("start".into(), Value::String(timestamp(self.start)));
        if let Some((end, how)) = &self.end {
            match how {
                EntryEnd::Succeeded => {
                    m.insert("status".into(), "succeeded".into());
                }
                EntryEnd::Failed(msg) => {
                    m.insert("status".into(), "failed".into());
                    m.insert("exception".into(), exception(msg));
                }
                EntryEnd::Unfinished => {}
            }
            m.insert("end".into(), Value::String(timestamp(*end)));
            m.insert("duration".into(), Value::from(duration(self.start, *end)));
        }
        if let Some(met) = self.tolerance_met {
            m.insert("tolerance_met".into(), Value::Bool(met));
        }
        Value::Object(m)
    }

    pub fn status(&self) -> Option<&EntryEnd> {
        self.end.as_ref().map(|(_, e)| e)
    }
}

/// The `exception` list of a failed entry: Chaos Toolkit's readers take its last line as the
/// failure.
pub fn exception(message: &str) -> Value {
    Value::Array(vec![Value::String(format!(
        "chaoslib.exceptions.ActivityFailed: {message}\n"
    ))])
}

/// A checked steady-state hypothesis.
#[derive(Debug, Clone, Default)]
pub struct HypothesisState {
    pub met: bool,
    pub probes: Vec<Entry>,
}

impl HypothesisState {
    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("steady_state_met".into(), Value::Bool(self.met));
        m.insert(
            "probes".into(),
            Value::Array(self.probes.iter().map(Entry::to_value).collect()),
        );
        Value::Object(m)
    }
}

/// The whole journal of one run.
#[derive(Debug)]
pub struct Journal {
    pub experiment: Value,
    pub start: DateTime<Utc>,
    pub status: Option<String>,
    pub deviated: bool,
    pub before: Option<HypothesisState>,
    pub after: Option<HypothesisState>,
    pub during: Vec<HypothesisState>,
    pub run: Vec<Entry>,
    pub rollbacks: Vec<Entry>,
    pub end: Option<DateTime<Utc>>,
    pub wall: Option<f64>,
    pub interruption: Option<Value>,
    pub chaosdeck: Map<String, Value>,
    path: Option<PathBuf>,
    file: Option<std::sync::Mutex<super::durable::DurableFile>>,
    /// The experiment's text in the journal, made once: it does not change during a run.
    experiment_text: std::sync::OnceLock<String>,
}

impl Journal {
    pub fn new(experiment: Value, path: Option<PathBuf>) -> Self {
        Journal {
            experiment,
            start: Utc::now(),
            status: None,
            deviated: false,
            before: None,
            after: None,
            during: Vec::new(),
            run: Vec::new(),
            rollbacks: Vec::new(),
            end: None,
            wall: None,
            interruption: None,
            chaosdeck: Map::new(),
            path: path.clone(),
            file: path.map(|p| std::sync::Mutex::new(super::durable::DurableFile::new(p))),
            experiment_text: std::sync::OnceLock::new(),
        }
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Removes what the journal's writes left beside it; the journal itself stays.
    pub fn close(&self) {
        if let Some(f) = &self.file {
            f.lock().unwrap_or_else(|p| p.into_inner()).close();
        }
    }

    /// The journal as Chaos Toolkit lays it out.
    pub fn to_value(&self) -> Value {
        Value::Object(self.fields(true))
    }

    /// The top-level fields in order; without `entries`, `run` and `rollbacks` are left null
    /// for the caller to fill.
    fn fields(&self, entries: bool) -> Map<String, Value> {
        let list = |l: &[Entry]| {
            if entries {
                Value::Array(l.iter().map(Entry::to_value).collect())
            } else {
                Value::Null
            }
        };
        let state = |s: &Option<HypothesisState>| s.as_ref().map_or(Value::Null, |s| s.to_value());
        let mut m = Map::new();
        m.insert(
            "chaoslib-version".into(),
            format!("chaosdeck {}", env!("CARGO_PKG_VERSION")).into(),
        );
        m.insert("platform".into(), platform().into());
        m.insert("node".into(), node().into());
        m.insert(
            "experiment".into(),
            if entries || self.experiment_text.get().is_none() {
                self.experiment.clone()
            } else {
                Value::Null
            },
        );
        m.insert("start".into(), timestamp(self.start).into());
        m.insert(
            "status".into(),
            self.status.clone().map_or(Value::Null, Value::String),
        );
        m.insert("deviated".into(), Value::Bool(self.deviated));
        let mut states = Map::new();
        states.insert("before".into(), state(&self.before));
        states.insert("after".into(), state(&self.after));
        states.insert(
            "during".into(),
            Value::Array(self.during.iter().map(HypothesisState::to_value).collect()),
        );
        m.insert("steady_states".into(), Value::Object(states));
        m.insert("run".into(), list(&self.run));
        m.insert("rollbacks".into(), list(&self.rollbacks));
        if let Some(end) = self.end {
            m.insert("end".into(), timestamp(end).into());
            m.insert("duration".into(), Value::from(self.wall.unwrap_or(0.0)));
        }
        if let Some(i) = &self.interruption {
            m.insert("interruption".into(), i.clone());
        }
        if !self.chaosdeck.is_empty() {
            m.insert("chaosdeck".into(), Value::Object(self.chaosdeck.clone()));
        }
        m
    }

    /// The journal as the pretty JSON `to_value` would give, assembled from the entries'
    /// kept texts.
    pub fn to_text(&self) -> String {
        let map = self.fields(false);
        let mut out = String::with_capacity(4096 + 512 * (self.run.len() + self.rollbacks.len()));
        out.push_str("{\n");
        let last = map.len().saturating_sub(1);
        for (i, (key, value)) in map.iter().enumerate() {
            out.push_str("  ");
            out.push_str(&serde_json::to_string(key).unwrap_or_default());
            out.push_str(": ");
            match key.as_str() {
                "run" => push_entries(&mut out, &self.run),
                "rollbacks" => push_entries(&mut out, &self.rollbacks),
                "experiment" => out.push_str(self.experiment_text.get_or_init(|| {
                    let mut t = String::new();
                    let plain = serde_json::to_string_pretty(value).unwrap_or_default();
                    push_indented(&mut t, &plain, 2);
                    t
                })),
                _ => push_indented(
                    &mut out,
                    &serde_json::to_string_pretty(value).unwrap_or_default(),
                    2,
                ),
            }
            out.push_str(if i == last { "\n" } else { ",\n" });
        }
        out.push('}');
        out
    }

    /// Writes the journal to its path, atomically (a temporary file renamed over it); `sync`
    /// also flushes it to disk, at phase boundaries.
    pub fn persist(&self, sync: bool) -> std::io::Result<()> {
        let Some(file) = &self.file else {
            return Ok(());
        };
        let text = self.to_text();
        file.lock()
            .unwrap_or_else(|p| p.into_inner())
            .write(text.as_bytes(), sync)
    }
}

/// Appends pretty JSON text, its lines after the first indented by `indent` spaces.
fn push_indented(out: &mut String, text: &str, indent: usize) {
    let pad = " ".repeat(indent);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
            out.push_str(&pad);
        }
        out.push_str(line);
    }
}

/// Where the entries of `run` and `rollbacks` stand in the journal.
const ENTRY_INDENT: usize = 4;

fn push_entries(out: &mut String, entries: &[Entry]) {
    if entries.is_empty() {
        out.push_str("[]");
        return;
    }
    let pad = " ".repeat(ENTRY_INDENT);
    out.push_str("[\n");
    for (i, e) in entries.iter().enumerate() {
        out.push_str(&pad);
        out.push_str(e.text());
        out.push_str(if i + 1 == entries.len() { "\n" } else { ",\n" });
    }
    out.push_str(&" ".repeat(ENTRY_INDENT - 2));
    out.push(']');
}

/// Writes JSON (2-space indent, UTF-8) to `path` through a temporary file in the same folder.
pub fn write_atomic(path: &Path, value: &Value, sync: bool) -> std::io::Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    write_text_atomic(path, text.as_bytes(), sync)
}

/// Replaces `path` with `bytes` atomically: a reader sees the old file or the new one, whole.
pub fn write_text_atomic(path: &Path, bytes: &[u8], sync: bool) -> std::io::Result<()> {
    super::durable::replace(path, bytes, sync)
}

/// `platform.platform()` as Python prints it on Linux, near enough for readers.
fn platform() -> String {
    static PLATFORM: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PLATFORM
        .get_or_init(|| {
            let read = |p: &str| {
                std::fs::read_to_string(p)
                    .map(|s| s.trim().to_string())
                    .unwrap_or_default()
            };
            format!(
                "{}-{}-{}",
                read("/proc/sys/kernel/ostype"),
                read("/proc/sys/kernel/osrelease"),
                std::env::consts::ARCH
            )
        })
        .clone()
}

/// The host's name.
fn node() -> String {
    static NODE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    NODE.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|_| "localhost".into())
    })
    .clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn assembled_text_equals_plain_serialization() {
        let t = Utc.with_ymd_and_hms(2026, 12, 4, 15, 32, 13).unwrap();
        let mut j = Journal::new(serde_json::json!({"title": "t", "method": []}), None);
        j.start = t;
        assert_eq!(
            j.to_text(),
            serde_json::to_string_pretty(&j.to_value()).unwrap()
        );
        let mut e = Entry::started(serde_json::json!({"name": "a", "x": [1, {"y": "\n"}]}), t);
        e.output = Some(serde_json::json!({"status": 0, "stdout": "a\nb", "stderr": ""}));
        e.end = Some((t, EntryEnd::Failed("boom".into())));
        j.run.push(e.clone());
        j.run
            .push(Entry::started(serde_json::json!({"name": "b"}), t));
        j.rollbacks.push(e);
        j.end = Some(t);
        j.chaosdeck.insert("verdict".into(), "failed".into());
        assert_eq!(
            j.to_text(),
            serde_json::to_string_pretty(&j.to_value()).unwrap()
        );
    }

    #[test]
    fn timestamps_follow_isoformat() {
        let t = Utc.with_ymd_and_hms(2026, 12, 4, 15, 32, 13).unwrap();
        assert_eq!(timestamp(t), "2026-12-04T15:32:13+00:00");
        let t = t + chrono::Duration::microseconds(680573);
        assert_eq!(timestamp(t), "2026-12-04T15:32:13.680573+00:00");
        let t2 = t + chrono::Duration::microseconds(4071);
        assert_eq!(duration(t, t2), 0.004071);
    }
}
