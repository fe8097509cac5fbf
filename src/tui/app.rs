//! The TUI's state and its one update step: an [`Action`] goes in, the state changes, and what
//! the event loop must do outside (start a run, send a control, quit) comes out as an [`Effect`].

use super::catalog::Entry;
use super::gameday::Moment;
use super::gameday::{Choice, Editor, GamedayView, Picker};
use super::keys::Context;
use super::theme::Theme;
use super::timeline::{RunState, RunView};
use crate::docker::snapshot::{Engine, Snapshot};
use crate::engine::Control;
use crate::gameday::Tag;
use crossterm::event::KeyEvent;
use std::path::PathBuf;
use std::time::Instant;

/// What a key means, whatever key it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The list of GameDay plans and sessions.
    OpenGamedays,
    /// The session panel: checklist and predictions.
    SessionPanel,
    /// Write an observation.
    Note,
    /// Write the session's Markdown notes and JSON bundle.
    Export,
    /// Tick or untick the checklist item pointed at.
    Tick,
    /// Write a prediction for the selected experiment.
    Predict,
    /// Save what the editor holds.
    Save,
    /// The note's next tag.
    CycleTag,
    /// An action item's owner, then due date, then the text again.
    NextField,
    /// A key typed into the editor.
    Type(KeyEvent),
    Up,
    Down,
    Focus,
    Start,
    PauseResume,
    Step,
    /// Leave out the activity the run holds before.
    Skip,
    Abort,
    AbortNoRollback,
    Confirm,
    /// In the plan: start, holding before each method activity.
    ConfirmStepping,
    Cancel,
    /// Offer to play the rollbacks earlier runs still owe.
    PlayOwed,
    Help,
    Quit,
}

/// What the event loop does on the app's behalf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Start the experiment at this index of the list.
    StartRun(usize),
    /// Start it in step mode: it holds before each method activity.
    StartStepping(usize),
    /// Play the owed rollbacks of the oldest earlier run that ended owing some.
    PlayOwed,
    Control(Control),
    Quit,
    /// Read the plans and sessions there are and show them.
    OpenGamedays,
    /// Start or resume this session and work in it.
    OpenSession(Choice),
    /// Tick (or untick) the checklist item at this index.
    Tick {
        index: usize,
        ticked: bool,
    },
    /// Record an override with its reason, then show the plan of the experiment at this index.
    Override {
        reason: String,
        then_plan: usize,
    },
    Predict {
        experiment: String,
        text: String,
    },
    /// Record a note, stamped on the run clock; an action item's owner and due date with it.
    SaveNote {
        tag: Tag,
        text: String,
        action: Option<(String, String)>,
        /// The moment the note is about: the run clock and activity when the editor opened.
        moment: Option<Moment>,
    },
    /// The editor was cancelled: its draft goes.
    DiscardDraft,
    Export,
}

/// A question that needs a yes before it acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Question {
    AbortWithoutRollback,
    QuitDuringRun,
    PlayOwed,
}

/// The popup over the panels, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Popup {
    Help,
    /// The plan of the experiment at this index, waiting for a go.
    Plan(usize),
    Ask(Question),
    /// The session panel.
    Session,
    /// The editor ([`App::editor`]).
    Editor,
    /// The plans and sessions to choose from ([`App::picker`]).
    Picker,
}

/// Which panel the arrows move in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Experiments,
    Timeline,
}

/// Everything the screen shows.
#[derive(Debug, Clone)]
pub struct App {
    pub theme: Theme,
    pub folder: String,
    pub experiments: Vec<Entry>,
    /// Whether the folder is still being read.
    pub loading: bool,
    pub selected: usize,
    pub focus: Focus,
    /// The current run, or the last one once it ended.
    pub run: Option<RunView>,
    pub containers: Snapshot,
    pub popup: Option<Popup>,
    /// Shown above the panels: runs that ended owing rollbacks, a journal that could not be
    /// written, a folder that could not be read.
    pub banner: Option<String>,
    /// Quit once the run has finished (an abort was sent for it).
    pub quit_after_run: bool,
    /// How many earlier runs ended owing rollbacks.
    pub owed_runs: usize,
    /// The GameDay session, in GameDay mode.
    pub gameday: Option<GamedayView>,
    pub editor: Option<Editor>,
    pub picker: Option<Picker>,
    /// The editor's text changed since its draft was last saved.
    pub draft_changed: bool,
    /// Experiment files the event loop must load into the list in place of what it shows.
    pub reload: Option<Vec<PathBuf>>,
}

impl App {
    pub fn new(theme: Theme, folder: String) -> App {
        App {
            theme,
            folder,
            experiments: Vec::new(),
            loading: true,
            selected: 0,
            focus: Focus::Experiments,
            run: None,
            containers: Snapshot::empty(Engine::Connecting {
                address: String::new(),
            }),
            popup: None,
            banner: None,
            quit_after_run: false,
            owed_runs: 0,
            gameday: None,
            editor: None,
            picker: None,
            draft_changed: false,
            reload: None,
        }
    }

    /// Whether a run is going.
    pub fn running(&self) -> bool {
        self.run.as_ref().is_some_and(RunView::live)
    }

    /// Whether the run holds, waiting for a go.
    pub fn held(&self) -> bool {
        self.run
            .as_ref()
            .is_some_and(|r| matches!(r.state, RunState::Held(_)))
    }

    /// The contexts whose keys apply now.
    pub fn contexts(&self) -> Vec<Context> {
        let session = self.gameday.is_some();
        let with_session = |mut v: Vec<Context>| {
            if session {
                v.insert(1, Context::Session);
            }
            v
        };
        match self.popup {
            Some(Popup::Plan(_) | Popup::Ask(_)) => vec![Context::Asking],
            Some(Popup::Help) => vec![Context::Asking, Context::Always],
            Some(Popup::Session) => vec![Context::Checklist],
            Some(Popup::Picker) => vec![Context::Picking],
            Some(Popup::Editor) => match &self.editor {
                Some(e) if e.purpose == super::gameday::Purpose::Note => {
                    vec![Context::Editing, Context::Tagging]
                }
                _ => vec![Context::Editing],
            },
            None if self.held() => {
                with_session(vec![Context::Held, Context::Running, Context::Always])
            }
            None if self.running() => with_session(vec![Context::Running, Context::Always]),
            None => with_session(vec![Context::Idle, Context::Always]),
        }
    }

    /// Applies one action; returns what must happen outside the state.
    pub fn update(&mut self, action: Action) -> Option<Effect> {
        match self.popup {
            Some(Popup::Editor) => return self.edit(action),
            Some(Popup::Session) => return self.in_session_panel(action),
            Some(Popup::Picker) => return self.in_picker(action),
            Some(popup) => return self.answer(popup, action),
            None => {}
        }
        if let Some(effect) = self.gameday_key(action) {
            return effect;
        }
        match action {
            Action::Up => self.move_selection(-1),
            Action::Down => self.move_selection(1),
            Action::Focus => {
                self.focus = match self.focus {
                    Focus::Experiments if self.run.is_some() => Focus::Timeline,
                    _ => Focus::Experiments,
                }
            }
            Action::Start if !self.running() => {
                let ready = self
                    .experiments
                    .get(self.selected)
                    .is_some_and(|e| e.prepared.is_ok());
                if ready && !self.gate() {
                    self.popup = Some(Popup::Plan(self.selected));
                }
                if let Some(Err(errors)) = self.experiments.get(self.selected).map(|e| &e.prepared)
                {
                    let n = errors.lines().count();
                    self.banner = Some(format!(
                        "this experiment cannot run: {n} error{} (under \"Why … cannot run\"); \
                         fix the file and restart chaosdeck",
                        if n == 1 { "" } else { "s" }
                    ));
                }
            }
            Action::PauseResume if self.running() => return self.pause_or_resume(),
            Action::Step if self.running() => return self.step(),
            Action::Skip if self.held() => return Some(Effect::Control(Control::Skip)),
            Action::PlayOwed if !self.running() && self.owed_runs > 0 => {
                self.popup = Some(Popup::Ask(Question::PlayOwed));
            }
            Action::Abort if self.running() => {
                return Some(Effect::Control(Control::Abort));
            }
            Action::AbortNoRollback if self.running() => {
                self.popup = Some(Popup::Ask(Question::AbortWithoutRollback));
            }
            Action::Help => self.popup = Some(Popup::Help),
            Action::Quit if self.running() => {
                self.popup = Some(Popup::Ask(Question::QuitDuringRun));
            }
            Action::Quit => return Some(Effect::Quit),
            _ => {}
        }
        None
    }

    fn answer(&mut self, popup: Popup, action: Action) -> Option<Effect> {
        match (popup, action) {
            (Popup::Help, Action::Help | Action::Cancel | Action::Quit | Action::Confirm) => {
                self.popup = None;
            }
            (Popup::Help, _) => {}
            (_, Action::Cancel) => self.popup = None,
            (Popup::Plan(index), Action::Confirm) => {
                self.popup = None;
                self.focus = Focus::Timeline;
                return Some(Effect::StartRun(index));
            }
            (Popup::Plan(index), Action::ConfirmStepping) => {
                self.popup = None;
                self.focus = Focus::Timeline;
                return Some(Effect::StartStepping(index));
            }
            (Popup::Ask(Question::PlayOwed), Action::Confirm) => {
                self.popup = None;
                self.focus = Focus::Timeline;
                return Some(Effect::PlayOwed);
            }
            (Popup::Ask(Question::AbortWithoutRollback), Action::Confirm) => {
                self.popup = None;
                return Some(Effect::Control(Control::AbortWithoutRollback));
            }
            (Popup::Ask(Question::QuitDuringRun), Action::Confirm) => {
                self.popup = None;
                self.quit_after_run = true;
                return Some(Effect::Control(Control::Abort));
            }
            // Ctrl-C twice while asked to quit: the answer is yes.
            (Popup::Ask(Question::QuitDuringRun), Action::Quit) => {
                return self.answer(popup, Action::Confirm);
            }
            _ => {}
        }
        None
    }

    fn pause_or_resume(&mut self) -> Option<Effect> {
        let run = self.run.as_mut()?;
        match run.state {
            RunState::Running => {
                run.state = RunState::Pausing;
                Some(Effect::Control(Control::Pause))
            }
            RunState::Pausing | RunState::Held(_) => Some(Effect::Control(Control::Resume)),
            _ => None,
        }
    }

    /// Held: run the next activity and hold again. Running: hold at the next point, so the
    /// next press steps.
    fn step(&mut self) -> Option<Effect> {
        let run = self.run.as_mut()?;
        match run.state {
            RunState::Held(_) => Some(Effect::Control(Control::Step)),
            RunState::Running => {
                run.state = RunState::Pausing;
                Some(Effect::Control(Control::Pause))
            }
            _ => None,
        }
    }

    fn move_selection(&mut self, delta: isize) {
        // Why the last experiment could not run is about that one only.
        if self
            .banner
            .as_deref()
            .is_some_and(|b| b.starts_with("this experiment cannot run"))
        {
            self.banner = None;
        }
        match (self.focus, self.run.as_mut()) {
            (Focus::Timeline, Some(run)) => run.move_selection(delta),
            _ => {
                let last = self.experiments.len().saturating_sub(1) as isize;
                self.selected = (self.selected as isize + delta).clamp(0, last) as usize;
            }
        }
    }

    /// A run of the experiment at `index` has begun.
    pub fn run_started(&mut self, index: usize, now: Instant) {
        let title = self
            .experiments
            .get(index)
            .map_or_else(String::new, |e| e.title.clone());
        self.run = Some(RunView::new(index, title, now));
        self.focus = Focus::Timeline;
        // What an earlier export wrote is old news once a new run starts.
        if self
            .banner
            .as_deref()
            .is_some_and(|b| b.starts_with("exported "))
        {
            self.banner = None;
        }
    }

    /// The experiment targets of the current run, or of the selected experiment.
    pub fn targets(&self) -> Vec<String> {
        if let Some(doc) = self.run.as_ref().and_then(|r| r.recovering.as_ref()) {
            return super::catalog::targets(doc);
        }
        let index = self.run.as_ref().map_or(self.selected, |r| r.experiment);
        self.experiments
            .get(index)
            .map(|e| e.targets.clone())
            .unwrap_or_default()
    }
}
