//! What a run tells the outside while it goes: typed events for the headless printer, the
//! events file and the TUI, and the controls it takes.

use serde_json::Value;
use std::time::Duration;

/// The parts of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Before,
    Method,
    During,
    After,
    Rollbacks,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Before => "before",
            Phase::Method => "method",
            Phase::During => "during",
            Phase::After => "after",
            Phase::Rollbacks => "rollbacks",
        }
    }
}

/// How an activity ended, as shown to people.
#[derive(Debug, Clone, PartialEq)]
pub enum ActivityStatus {
    Succeeded,
    Failed(String),
    /// Cut short by an abort or an unexpected error.
    Interrupted,
    /// Not executed (a dry run).
    Dry,
}

/// Where an activity stands in the run.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityRef {
    pub phase: Phase,
    pub index: usize,
    pub name: String,
    /// `probe` or `action`.
    pub kind: String,
    pub background: bool,
}

/// A command sent into a running run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Hold at the next point between activities; freezes a pause countdown.
    Pause,
    /// Go on without holding (leaves step mode).
    Resume,
    /// Run the held activity, then hold again.
    Step,
    /// Leave the held activity out.
    Skip,
    /// Cancel what is in flight, then play the rollbacks at once.
    Abort,
    /// Cancel what is in flight and play no rollbacks (they stay owed).
    AbortWithoutRollback,
    /// A signal reached the runner: SIGUSR2 aborts without rollback, the others with.
    Signal(Signal),
}

/// The signals a headless run answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Int,
    Term,
    Usr1,
    Usr2,
}

impl Signal {
    pub fn name(self) -> &'static str {
        match self {
            Signal::Int => "SIGINT",
            Signal::Term => "SIGTERM",
            Signal::Usr1 => "SIGUSR1",
            Signal::Usr2 => "SIGUSR2",
        }
    }
}

/// What happened.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    RunStarted {
        title: String,
    },
    PhaseStarted(Phase),
    PhaseFinished(Phase),
    HypothesisFinished {
        phase: Phase,
        met: bool,
    },
    ActivityStarted(ActivityRef),
    ActivityFinished {
        activity: ActivityRef,
        status: ActivityStatus,
        duration: Duration,
        output: Option<Value>,
        /// For hypothesis probes: whether the tolerance held, and the comparison made.
        tolerance: Option<(bool, String)>,
    },
    /// A `pauses` wait began (or went on after a hold) with this much left.
    Countdown {
        activity: ActivityRef,
        when: &'static str,
        remaining: Duration,
    },
    /// The run holds before an activity (`None`: before the rollbacks) until told to go on.
    Held {
        next: Option<ActivityRef>,
    },
    /// A pause countdown froze with this much left.
    CountdownFrozen {
        remaining: Duration,
    },
    Resumed,
    Skipped(ActivityRef),
    /// An abort was taken; rollbacks follow unless `with_rollback` is false.
    Aborting {
        with_rollback: bool,
        reason: String,
    },
    Deviated,
    /// A recovery check after the rollbacks: whether the steady state held, how long after the
    /// first check.
    RecoveryChecked {
        met: bool,
        elapsed: Duration,
    },
    RunFinished {
        status: String,
        deviated: bool,
        passed: bool,
    },
}
