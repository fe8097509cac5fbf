//! The run engine: one run of one experiment as a task that takes [`Control`]s and emits
//! [`Event`]s, writing the journal as it goes. It knows nothing about terminals.

pub mod durable;
pub mod events;
pub mod journal;
pub mod ledger;
mod runner;
pub mod strategy;
pub mod verdict;

pub use events::{ActivityRef, ActivityStatus, Control, Event, Phase, Signal};
pub use strategy::{DryMode, HypothesisStrategy, RollbackStrategy};
pub use verdict::Verdict;

use crate::experiment::config::Resolved;
use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::mpsc;

/// An experiment ready to run: validated document and resolved configuration.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub doc: Value,
    pub source: String,
    pub resolved: Resolved,
}

/// When the run holds for a go-ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StepMode {
    #[default]
    Off,
    /// Before each method activity and once before the rollbacks.
    EachActivity,
    /// Before each method action only (and before the rollbacks).
    EachAction,
}

/// How to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub hypothesis_strategy: HypothesisStrategy,
    pub hypothesis_frequency: Duration,
    pub fail_fast: bool,
    pub rollback_strategy: RollbackStrategy,
    pub dry: Option<DryMode>,
    pub journal_path: Option<PathBuf>,
    pub step: StepMode,
    /// Abort with rollback once the run has lasted this long.
    pub max_duration: Option<Duration>,
    /// Timeout of a rollback activity that sets none itself.
    pub rollback_timeout: Duration,
    /// Where owed rollbacks are recorded; `None` keeps no ledger.
    pub ledger_dir: Option<PathBuf>,
    /// Play only the rollbacks, from this index on (recovering an earlier run).
    pub recover_from: Option<usize>,
    /// Check the steady state again after the rollbacks until it holds (GameDays, `--recovery`).
    pub recovery: Option<RecoveryCheck>,
}

/// How the steady state is checked again after the rollbacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecoveryCheck {
    /// Time between two checks.
    pub interval: Duration,
    /// When to give up: the system did not recover.
    pub limit: Duration,
}

impl Default for RecoveryCheck {
    fn default() -> Self {
        RecoveryCheck {
            interval: Duration::from_secs(5),
            limit: Duration::from_secs(300),
        }
    }
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            hypothesis_strategy: HypothesisStrategy::Default,
            hypothesis_frequency: Duration::from_secs(1),
            fail_fast: false,
            rollback_strategy: RollbackStrategy::Safe,
            dry: None,
            journal_path: None,
            step: StepMode::Off,
            max_duration: None,
            rollback_timeout: Duration::from_secs(60),
            ledger_dir: None,
            recover_from: None,
            recovery: None,
        }
    }
}

/// The end of a run.
#[derive(Debug, Clone)]
pub struct RunReport {
    pub journal: Value,
    pub status: String,
    pub deviated: bool,
    pub verdict: Verdict,
    /// Set when the journal could not be written.
    pub journal_error: Option<String>,
}

impl RunReport {
    /// Chaos Toolkit's exit code: 0 only for a completed run that did not deviate.
    pub fn ctk_exit_code(&self) -> i32 {
        i32::from(self.status != "completed" || self.deviated)
    }
}

/// Runs an experiment to its end.
pub async fn run(
    prepared: Prepared,
    options: RunOptions,
    controls: mpsc::UnboundedReceiver<Control>,
    events: mpsc::UnboundedSender<Event>,
) -> RunReport {
    runner::Runner::new(prepared, options, controls, events)
        .run()
        .await
}
