//! The state of one run as the TUI knows it: folded from the engine's events, drawn by the
//! timeline, probe and status panels. Times are `Instant`s passed in, so tests fix the clock.

use crate::engine::{ActivityRef, ActivityStatus, Event, Phase};
use serde_json::Value;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Where the run stands.
#[derive(Debug, Clone, PartialEq)]
pub enum RunState {
    Running,
    /// Pause asked; the run holds at the next point between activities.
    Pausing,
    /// Held before this activity (`None`: before the rollbacks) until told to go on.
    Held(Option<String>),
    /// An abort was taken; rollbacks play unless `with_rollback` is false.
    Aborting {
        with_rollback: bool,
    },
    Finished {
        status: String,
        passed: bool,
    },
}

/// How far an activity got.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    Running {
        since: Instant,
    },
    Done {
        status: ActivityStatus,
        duration: Duration,
    },
    /// Left out by the operator while the run held before it: it never ran.
    Skipped,
}

/// One activity's row.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityRow {
    pub activity: ActivityRef,
    pub progress: Progress,
    pub output: Option<Value>,
    /// For hypothesis probes: whether the tolerance held, and the comparison made.
    pub tolerance: Option<(bool, String)>,
    /// A `pauses` wait: when it ends, or how much is left while frozen.
    pub countdown: Option<Countdown>,
}

/// A `pauses` wait shown on its activity's row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Countdown {
    Ticking { until: Instant, when: &'static str },
    Frozen { remaining: Duration },
}

/// A note of the GameDay session shown among the engine's events.
#[derive(Debug, Clone, PartialEq)]
pub struct NoteRow {
    /// Where it stands on the run clock.
    pub clock: Option<Duration>,
    pub tag: crate::gameday::Tag,
    pub text: String,
    pub author: String,
}

/// A line of the timeline.
#[derive(Debug, Clone, PartialEq)]
pub enum Row {
    Phase(Phase),
    Activity(Box<ActivityRow>),
    /// A note written during the activity above it.
    Note(Box<NoteRow>),
}

/// One run, from its first event to its report.
#[derive(Debug, Clone, PartialEq)]
pub struct RunView {
    pub experiment: usize,
    pub title: String,
    pub started: Instant,
    pub ended: Option<Instant>,
    pub state: RunState,
    pub rows: Vec<Row>,
    /// The row the probe panel shows; `None` follows the latest activity.
    pub selected: Option<usize>,
    pub journal_path: Option<PathBuf>,
    /// Why the run failed, once it ended.
    pub reasons: Vec<String>,
    /// Set when the run plays an earlier run's owed rollbacks: that run's experiment (the list's
    /// `experiment` index then means nothing).
    pub recovering: Option<Value>,
}

impl RunView {
    pub fn new(experiment: usize, title: String, started: Instant) -> RunView {
        RunView {
            experiment,
            title,
            started,
            ended: None,
            state: RunState::Running,
            rows: Vec::new(),
            selected: None,
            journal_path: None,
            reasons: Vec::new(),
            recovering: None,
        }
    }

    /// Whether the run is still going.
    pub fn live(&self) -> bool {
        !matches!(self.state, RunState::Finished { .. })
    }

    /// Whether something on screen changes with the clock alone.
    pub fn animating(&self) -> bool {
        self.live()
            && self.rows.iter().any(|r| match r {
                Row::Activity(a) => {
                    matches!(a.progress, Progress::Running { .. })
                        || matches!(a.countdown, Some(Countdown::Ticking { .. }))
                }
                Row::Phase(_) | Row::Note(_) => false,
            })
    }

    /// The row index the probe panel shows.
    pub fn focused_row(&self) -> Option<usize> {
        self.selected.or_else(|| {
            self.rows
                .iter()
                .rposition(|r| matches!(r, Row::Activity(_)))
        })
    }

    /// The activity the probe panel shows.
    pub fn focused(&self) -> Option<&ActivityRow> {
        match self.rows.get(self.focused_row()?)? {
            Row::Activity(a) => Some(a.as_ref()),
            Row::Phase(_) | Row::Note(_) => None,
        }
    }

    /// Moves the selection among activity rows by `delta`.
    pub fn move_selection(&mut self, delta: isize) {
        let activities: Vec<usize> = (0..self.rows.len())
            .filter(|&i| matches!(self.rows[i], Row::Activity(_)))
            .collect();
        let Some(current) = self.focused_row() else {
            return;
        };
        let at = activities.iter().position(|&i| i == current).unwrap_or(0);
        let next = (at as isize + delta).clamp(0, activities.len() as isize - 1) as usize;
        self.selected = Some(activities[next]);
    }

    /// The activity in progress: the last one started (a note written now is about it).
    pub fn current_activity(&self) -> Option<&str> {
        self.rows.iter().rev().find_map(|r| match r {
            Row::Activity(a) => Some(a.activity.name.as_str()),
            _ => None,
        })
    }

    /// Puts a note under the row of `activity` (after the notes already there), or at the end
    /// when it names none or one not shown.
    pub fn add_note(&mut self, activity: Option<&str>, note: NoteRow) {
        let under = activity.and_then(|name| {
            self.rows
                .iter()
                .rposition(|r| matches!(r, Row::Activity(a) if a.activity.name == name))
        });
        let at = match under {
            Some(i) => {
                let notes_after = self.rows[i + 1..]
                    .iter()
                    .take_while(|r| matches!(r, Row::Note(_)))
                    .count();
                i + 1 + notes_after
            }
            None => self.rows.len(),
        };
        self.rows.insert(at, Row::Note(Box::new(note)));
    }

    /// Elapsed run time at `now`.
    pub fn elapsed(&self, now: Instant) -> Duration {
        self.ended
            .unwrap_or(now)
            .saturating_duration_since(self.started)
    }

    /// Folds one engine event into the view.
    pub fn apply(&mut self, event: Event, now: Instant) {
        match event {
            // A recovery keeps its own title, which says what it recovers.
            Event::RunStarted { title } if self.recovering.is_none() => self.title = title,
            Event::RunStarted { .. } => {}
            Event::PhaseStarted(phase) => {
                self.clear_countdowns();
                self.rows.push(Row::Phase(phase));
            }
            Event::ActivityStarted(activity) => {
                self.clear_countdowns();
                self.rows.push(Row::Activity(Box::new(ActivityRow {
                    activity,
                    progress: Progress::Running { since: now },
                    output: None,
                    tolerance: None,
                    countdown: None,
                })));
            }
            Event::ActivityFinished {
                activity,
                status,
                duration,
                output,
                tolerance,
            } => {
                if let Some(row) = self.row_of(&activity) {
                    row.progress = Progress::Done { status, duration };
                    row.output = output;
                    row.tolerance = tolerance;
                }
            }
            Event::Countdown {
                activity,
                when,
                remaining,
            } => {
                if let Some(row) = self.row_of(&activity) {
                    row.countdown = Some(Countdown::Ticking {
                        until: now + remaining,
                        when,
                    });
                }
            }
            Event::CountdownFrozen { remaining } => {
                for row in self.activity_rows_mut() {
                    if matches!(row.countdown, Some(Countdown::Ticking { .. })) {
                        row.countdown = Some(Countdown::Frozen { remaining });
                    }
                }
            }
            Event::Held { next } => self.state = RunState::Held(next.map(|a| a.name)),
            Event::Resumed => {
                if matches!(self.state, RunState::Held(_) | RunState::Pausing) {
                    self.state = RunState::Running;
                }
            }
            Event::Aborting { with_rollback, .. } => {
                self.state = RunState::Aborting { with_rollback }
            }
            Event::RunFinished { status, passed, .. } => {
                self.state = RunState::Finished { status, passed };
                self.ended = Some(now);
                self.clear_countdowns();
            }
            // A skipped activity: it keeps its place in the timeline, and the hold it was taken
            // in is over.
            Event::Skipped(activity) => {
                self.clear_countdowns();
                self.rows.push(Row::Activity(Box::new(ActivityRow {
                    activity,
                    progress: Progress::Skipped,
                    output: None,
                    tolerance: None,
                    countdown: None,
                })));
                if matches!(self.state, RunState::Held(_)) {
                    self.state = RunState::Running;
                }
            }
            Event::PhaseFinished(_)
            | Event::HypothesisFinished { .. }
            | Event::Deviated
            | Event::RecoveryChecked { .. } => {}
        }
    }

    fn clear_countdowns(&mut self) {
        for row in self.activity_rows_mut() {
            row.countdown = None;
        }
    }

    fn activity_rows_mut(&mut self) -> impl Iterator<Item = &mut ActivityRow> {
        self.rows.iter_mut().filter_map(|r| match r {
            Row::Activity(a) => Some(a.as_mut()),
            Row::Phase(_) | Row::Note(_) => None,
        })
    }

    /// The latest row of this activity (a probe may run more than once in a continuous
    /// hypothesis).
    fn row_of(&mut self, activity: &ActivityRef) -> Option<&mut ActivityRow> {
        self.rows.iter_mut().rev().find_map(|r| match r {
            Row::Activity(a) if &a.activity == activity => Some(a.as_mut()),
            _ => None,
        })
    }
}
