//! The journal: Chaos Toolkit's record of a run, with its keys, their order, its entry shapes and
//! its timestamp format, plus chaosdeck's own facts under one extra key, `chaosdeck`. It is
//! rewritten atomically after every entry, so a crash leaves a valid journal of all done so far.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use std::io::Write;
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

/// One entry of `run`, `rollbacks` or a hypothesis' `probes`.
#[derive(Debug, Clone)]
pub struct Entry {
    pub activity: Value,
    pub output: Option<Value>,
    pub start: DateTime<Utc>,
    pub end: Option<(DateTime<Utc>, EntryEnd)>,
    pub tolerance_met: Option<bool>,
}

impl Entry {
    pub fn started(activity: Value, start: DateTime<Utc>) -> Self {
        Entry {
            activity,
            output: None,
            start,
            end: None,
            tolerance_met: None,
        }
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
#[derive(Debug, Clone)]
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
            path,
        }
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The journal as Chaos Toolkit lays it out.
    pub fn to_value(&self) -> Value {
        let state = |s: &Option<HypothesisState>| s.as_ref().map_or(Value::Null, |s| s.to_value());
        let mut m = Map::new();
        m.insert(
            "chaoslib-version".into(),
            format!("chaosdeck {}", env!("CARGO_PKG_VERSION")).into(),
        );
        m.insert("platform".into(), platform().into());
        m.insert("node".into(), node().into());
        m.insert("experiment".into(), self.experiment.clone());
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
        m.insert(
            "run".into(),
            Value::Array(self.run.iter().map(Entry::to_value).collect()),
        );
        m.insert(
            "rollbacks".into(),
            Value::Array(self.rollbacks.iter().map(Entry::to_value).collect()),
        );
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
        Value::Object(m)
    }

    /// Writes the journal to its path, atomically (a temporary file renamed over it); `sync`
    /// also flushes it to disk, at phase boundaries.
    pub fn persist(&self, sync: bool) -> std::io::Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        write_atomic(path, &self.to_value(), sync)
    }
}

/// Writes JSON (2-space indent, UTF-8) to `path` through a temporary file in the same folder.
pub fn write_atomic(path: &Path, value: &Value, sync: bool) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "journal.json".into());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    {
        let file = std::fs::File::create(&tmp)?;
        let mut w = std::io::BufWriter::new(file);
        serde_json::to_writer_pretty(&mut w, value)?;
        w.flush()?;
        if sync {
            w.get_ref().sync_all()?;
        }
    }
    std::fs::rename(&tmp, path)?;
    Ok(())
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
    fn timestamps_follow_isoformat() {
        let t = Utc.with_ymd_and_hms(2026, 12, 4, 15, 32, 13).unwrap();
        assert_eq!(timestamp(t), "2026-12-04T15:32:13+00:00");
        let t = t + chrono::Duration::microseconds(680573);
        assert_eq!(timestamp(t), "2026-12-04T15:32:13.680573+00:00");
        let t2 = t + chrono::Duration::microseconds(4071);
        assert_eq!(duration(t, t2), 0.004071);
    }
}
