//! GameDays: plans, sessions (checklist, predictions, runs, observations, action items), the
//! figures derived from runs, and exports. Sessions autosave to the data directory on every
//! change, atomically, so killing chaosdeck loses nothing already said.

pub mod export;
pub mod metrics;
pub mod plan;
pub mod runs;
pub mod store;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One execution of a plan on a date.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Session {
    pub id: String,
    /// The plan file it follows.
    pub plan: String,
    pub title: String,
    pub date: String,
    pub created: String,
    #[serde(default)]
    pub facilitator: Option<String>,
    pub checklist: Vec<ChecklistItem>,
    /// Runs allowed although "before" items are not all ticked, and why.
    #[serde(default, rename = "override")]
    pub go_override: Option<Override>,
    /// Every override recorded, oldest first (the last one is `go_override`): a later one
    /// never hides why earlier runs went ahead.
    #[serde(default)]
    pub overrides: Vec<Override>,
    #[serde(default)]
    pub predictions: Vec<Prediction>,
    #[serde(default)]
    pub runs: Vec<RunRecord>,
    #[serde(default)]
    pub observations: Vec<Observation>,
    #[serde(default)]
    pub action_items: Vec<ActionItem>,
    /// The run going on now, so notes written meanwhile are stamped on its clock.
    #[serde(default)]
    pub current_run: Option<CurrentRun>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ChecklistItem {
    /// `before`, `during` or `after`.
    pub group: String,
    pub text: String,
    #[serde(default)]
    pub ticked_by: Option<String>,
    #[serde(default)]
    pub ticked_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Override {
    pub by: String,
    pub at: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Prediction {
    /// The experiment's name (its file name without extension).
    pub experiment: String,
    pub author: String,
    pub text: String,
    pub at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CurrentRun {
    pub experiment: String,
    pub started: String,
    #[serde(default)]
    pub activity: Option<String>,
}

/// A finished run of the session, with its whole journal.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunRecord {
    pub experiment: String,
    pub title: String,
    pub started: String,
    pub journal_path: String,
    pub verdict: String,
    pub reasons: Vec<String>,
    pub time_to_detect_seconds: Option<f64>,
    pub time_to_recover_seconds: Option<f64>,
    pub journal: Value,
}

/// What kind of note an observation is.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Tag {
    Observation,
    Decision,
    Question,
    IssueFound,
    ActionItem,
}

impl Tag {
    pub fn as_str(self) -> &'static str {
        match self {
            Tag::Observation => "observation",
            Tag::Decision => "decision",
            Tag::Question => "question",
            Tag::IssueFound => "issue found",
            Tag::ActionItem => "action item",
        }
    }

    pub fn parse(text: &str) -> Option<Tag> {
        Some(
            match text.to_ascii_lowercase().replace([' ', '_'], "-").as_str() {
                "observation" => Tag::Observation,
                "decision" => Tag::Decision,
                "question" => Tag::Question,
                "issue-found" | "issue" => Tag::IssueFound,
                "action-item" | "action" => Tag::ActionItem,
                _ => return None,
            },
        )
    }
}

/// A note written during the GameDay.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Observation {
    /// Index of the run it was written during (`runs[i]`, or the run in progress).
    pub run: Option<usize>,
    /// Seconds since that run started.
    pub run_clock_seconds: Option<f64>,
    /// The activity in progress when it was written.
    pub activity: Option<String>,
    pub at: String,
    pub author: String,
    pub tag: Tag,
    pub text: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ActionItem {
    pub text: String,
    pub owner: String,
    pub due: String,
    /// Recorded as an issue the GameDay found (counted by `chaos_issues_discovered_total`).
    #[serde(default)]
    pub issue_found: bool,
    pub at: String,
}

/// What an editor was writing when last saved: kept beside the session while someone types, so
/// killing chaosdeck loses at most the last second, and offered back when the editor opens again.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Draft {
    /// What the text is for: `note`, `prediction` or `override`.
    pub purpose: String,
    /// For a prediction: the experiment it is about.
    #[serde(default)]
    pub experiment: Option<String>,
    pub tag: Tag,
    pub text: String,
    #[serde(default)]
    pub owner: String,
    #[serde(default)]
    pub due: String,
    pub saved_at: String,
}

impl Tag {
    /// The next tag, in the order the editor offers them.
    pub fn next(self) -> Tag {
        match self {
            Tag::Observation => Tag::Decision,
            Tag::Decision => Tag::Question,
            Tag::Question => Tag::IssueFound,
            Tag::IssueFound => Tag::ActionItem,
            Tag::ActionItem => Tag::Observation,
        }
    }
}

impl Session {
    /// Whether every "before" item is ticked, or an override says why not.
    pub fn may_run(&self) -> Result<(), String> {
        if self.go_override.is_some() {
            return Ok(());
        }
        let open: Vec<&str> = self
            .checklist
            .iter()
            .filter(|i| i.group == "before" && i.ticked_by.is_none())
            .map(|i| i.text.as_str())
            .collect();
        if open.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "the checklist's \"before\" items are not all ticked: {}. Tick them, or record an \
                 override with its reason",
                open.join("; ")
            ))
        }
    }

    /// Share of runs whose verdict passed, in percent (None before any run).
    pub fn success_rate(&self) -> Option<f64> {
        if self.runs.is_empty() {
            return None;
        }
        let passed = self.runs.iter().filter(|r| r.verdict == "passed").count();
        Some(passed as f64 * 100.0 / self.runs.len() as f64)
    }
}
