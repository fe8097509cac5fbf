//! GameDay plans (`gamedays/*.yaml`): title, schedule, roles, the experiments with a time box
//! each, and a checklist in three groups. A bad plan gets an error naming the file, the line and
//! the field.

use serde::Deserialize;
use std::path::{Path, PathBuf};

/// A GameDay plan.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub schedule: Option<Schedule>,
    #[serde(default)]
    pub roles: Roles,
    pub experiments: Vec<PlannedExperiment>,
    pub checklist: Checklist,
    /// How the steady state is checked again after each run's rollbacks.
    #[serde(default)]
    pub recovery: Option<RecoverySettings>,
    /// Targets the report compares against.
    #[serde(default)]
    pub targets: Targets,
}

/// When GameDays happen, and what each one practises.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    pub cadence: String,
    #[serde(default)]
    pub rotation: Vec<RotationWeek>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RotationWeek {
    pub week: u32,
    pub theme: String,
    #[serde(default)]
    pub experiments: Vec<String>,
}

/// Who does what.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Roles {
    #[serde(default)]
    pub facilitator: Option<String>,
    #[serde(default)]
    pub scribe: Option<String>,
    #[serde(default)]
    pub observers: Vec<String>,
}

/// An experiment of the plan.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PlannedExperiment {
    /// Path to the experiment, relative to the plan's folder's parent (the project root) or
    /// absolute.
    pub path: String,
    /// How long it may take, e.g. `30m`, `45s`, `1h`.
    pub time_box: String,
    #[serde(default)]
    pub week: Option<u32>,
}

/// The go/no-go checklist.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Checklist {
    #[serde(default)]
    pub before: Vec<String>,
    #[serde(default)]
    pub during: Vec<String>,
    #[serde(default)]
    pub after: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RecoverySettings {
    /// Seconds between checks.
    pub interval: f64,
    /// Seconds after which the system counts as not recovered.
    pub limit: f64,
}

/// What the team aims for.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Targets {
    /// Mean time to recover, seconds.
    #[serde(default = "default_mttr")]
    pub mttr_seconds: f64,
    /// Share of runs that pass, percent.
    #[serde(default = "default_success")]
    pub success_rate_percent: f64,
}

fn default_mttr() -> f64 {
    300.0
}
fn default_success() -> f64 {
    90.0
}

impl Default for Targets {
    fn default() -> Self {
        Targets {
            mttr_seconds: default_mttr(),
            success_rate_percent: default_success(),
        }
    }
}

/// Why a plan cannot be used.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// `file:line:column: message`, or `file: message` for a file that could not be read (line 0).
impl std::fmt::Display for PlanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            0 => write!(f, "{}: {}", self.file, self.message),
            line => write!(f, "{}:{line}:{}: {}", self.file, self.column, self.message),
        }
    }
}

impl std::error::Error for PlanError {}

/// A plan read from a file, with its experiments' paths resolved.
#[derive(Debug, Clone)]
pub struct LoadedPlan {
    pub path: PathBuf,
    pub plan: Plan,
    /// The experiments' files, in the plan's order.
    pub experiment_files: Vec<PathBuf>,
}

/// Reads and checks a plan. Every problem found names the file, line and field.
pub fn load(path: &Path) -> Result<LoadedPlan, Vec<PlanError>> {
    let file = path.display().to_string();
    let at = |line: usize, column: usize, message: String| PlanError {
        file: file.clone(),
        line,
        column,
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| {
        let reason = match e.kind() {
            std::io::ErrorKind::NotFound => "no such file".to_string(),
            _ => e.to_string(),
        };
        vec![PlanError {
            file: file.clone(),
            line: 0,
            column: 0,
            message: format!("cannot read the plan: {reason}"),
        }]
    })?;
    let plan: Plan = serde_yaml::from_str(&text).map_err(|e| {
        let (line, column) = e
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((1, 1));
        vec![at(line, column, e.to_string())]
    })?;
    let mut errors = Vec::new();
    let root = path
        .parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let mut files = Vec::new();
    for (i, e) in plan.experiments.iter().enumerate() {
        let (line, column) = locate(&text, &e.path);
        let candidate = if Path::new(&e.path).is_absolute() {
            PathBuf::from(&e.path)
        } else {
            root.join(&e.path)
        };
        if !candidate.is_file() {
            errors.push(at(
                line,
                column,
                format!(
                    "experiments[{i}].path: {} does not exist (paths are relative to {})",
                    e.path,
                    root.display()
                ),
            ));
        }
        if parse_duration(&e.time_box).is_none() {
            let (line, column) = locate(&text, &e.time_box);
            errors.push(at(
                line,
                column,
                format!(
                    "experiments[{i}].time_box: '{}' is not a duration (write 30m, 45s or 1h)",
                    e.time_box
                ),
            ));
        }
        files.push(candidate);
    }
    let rate = plan.targets.success_rate_percent;
    if !(0.0..100.0).contains(&rate) {
        let (line, column) = locate(&text, "success_rate_percent");
        errors.push(at(
            line,
            column,
            format!(
                "targets.success_rate_percent: {rate} cannot be exceeded; give the share of \
                 passed runs to beat, from 0 to under 100 (e.g. 90)"
            ),
        ));
    }
    if plan.checklist.before.is_empty() {
        let (line, column) = locate(&text, "checklist");
        errors.push(at(
            line,
            column,
            "checklist.before: a plan needs at least one item to tick before a run".into(),
        ));
    }
    if errors.is_empty() {
        Ok(LoadedPlan {
            path: path.to_path_buf(),
            plan,
            experiment_files: files,
        })
    } else {
        Err(errors)
    }
}

/// Where a value first appears in the text (1-based), for errors found after parsing.
fn locate(text: &str, needle: &str) -> (usize, usize) {
    for (n, line) in text.lines().enumerate() {
        if let Some(c) = line.find(needle) {
            return (n + 1, c + 1);
        }
    }
    (1, 1)
}

/// `30m`, `45s`, `1h`, `90` (seconds) as seconds.
pub fn parse_duration(text: &str) -> Option<f64> {
    let t = text.trim();
    let (number, unit) = match t.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((i, _)) => (&t[..i], &t[i..]),
        None => (t, "s"),
    };
    let n: f64 = number
        .trim()
        .parse()
        .ok()
        .filter(|n: &f64| *n > 0.0 && n.is_finite())?;
    let factor = match unit {
        "s" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        _ => return None,
    };
    Some(n * factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30m"), Some(1800.0));
        assert_eq!(parse_duration("45s"), Some(45.0));
        assert_eq!(parse_duration("2h"), Some(7200.0));
        assert_eq!(parse_duration("90"), Some(90.0));
        assert_eq!(parse_duration("soon"), None);
        assert_eq!(parse_duration("-5m"), None);
    }
}
