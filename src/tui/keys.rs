//! The one key table: dispatch, the hint bar and the `?` help popup all read it, so help never
//! drifts from the keys that work.

use super::app::Action;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// When a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// No run is going: choosing an experiment.
    Idle,
    /// A run is going.
    Running,
    /// The run holds before an activity (step mode, or paused), waiting for a go.
    Held,
    /// A question or the plan is open.
    Asking,
    /// Anywhere a popup does not take the keys.
    Always,
    /// A GameDay session is open (and no popup takes the keys).
    Session,
    /// The session panel: the checklist and the predictions.
    Checklist,
    /// The list of GameDay plans and sessions.
    Picking,
    /// An editor: every key not bound here is typed into the text.
    Editing,
    /// The editor of a note, whose tag can be chosen.
    Tagging,
}

/// One row of the table.
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    pub action: Action,
    pub keys: &'static [KeyCode],
    /// Whether the keys are pressed with Ctrl.
    pub ctrl: bool,
    /// The keys as printed in hints and help.
    pub shown: &'static str,
    pub label: &'static str,
    pub group: &'static str,
    /// Where it applies (the first is named in help).
    pub contexts: &'static [Context],
    /// Whether the hint bar shows it (help shows every row).
    pub hint: bool,
}

const fn bind(
    action: Action,
    keys: &'static [KeyCode],
    shown: &'static str,
    label: &'static str,
    group: &'static str,
    contexts: &'static [Context],
    hint: bool,
) -> Binding {
    Binding {
        action,
        keys,
        ctrl: false,
        shown,
        label,
        group,
        contexts,
        hint,
    }
}

/// A binding pressed with Ctrl.
const fn ctrl(binding: Binding) -> Binding {
    Binding {
        ctrl: true,
        ..binding
    }
}

use Context::{Always, Asking, Checklist, Editing, Held, Idle, Picking, Running, Session, Tagging};
use KeyCode::{Char, Down, Enter, Esc, Tab, Up};

/// Every key chaosdeck answers.
pub const TABLE: &[Binding] = &[
    bind(
        Action::Up,
        &[Up, Char('k')],
        "↑/k",
        "up",
        "move",
        &[Always, Checklist, Picking],
        false,
    ),
    bind(
        Action::Down,
        &[Down, Char('j')],
        "↓/j",
        "down",
        "move",
        &[Always, Checklist, Picking],
        false,
    ),
    bind(
        Action::Focus,
        &[Tab],
        "tab",
        "switch panel",
        "move",
        &[Always],
        true,
    ),
    bind(
        Action::Start,
        &[Char('s'), Enter],
        "s",
        "start",
        "run",
        &[Idle],
        true,
    ),
    bind(
        Action::PauseResume,
        &[Char('p'), Char(' ')],
        "p",
        "pause/resume",
        "run",
        &[Running],
        true,
    ),
    bind(
        Action::Step,
        &[Char('n')],
        "n",
        "step",
        "run",
        &[Running],
        true,
    ),
    bind(
        Action::Skip,
        &[Char('x')],
        "x",
        "skip",
        "run",
        &[Held],
        true,
    ),
    bind(
        Action::Abort,
        &[Char('a')],
        "a",
        "abort + rollback",
        "run",
        &[Running],
        true,
    ),
    bind(
        Action::AbortNoRollback,
        &[Char('A')],
        "A",
        "abort, no rollback",
        "run",
        &[Running],
        false,
    ),
    bind(
        Action::Confirm,
        &[Char('y'), Enter],
        "y",
        "yes / choose",
        "answer",
        &[Asking, Picking],
        true,
    ),
    bind(
        Action::ConfirmStepping,
        &[Char('t')],
        "t",
        "start stepping",
        "answer",
        &[Asking],
        false,
    ),
    bind(
        Action::Cancel,
        &[Char('n'), Esc],
        "n/esc",
        "no / close",
        "answer",
        &[Asking, Checklist, Picking],
        true,
    ),
    bind(
        Action::PlayOwed,
        &[Char('r')],
        "r",
        "play owed rollbacks",
        "run",
        &[Idle],
        false,
    ),
    bind(
        Action::OpenGamedays,
        &[Char('g')],
        "g",
        "GameDay plans",
        "gameday",
        &[Idle],
        true,
    ),
    bind(
        Action::Note,
        &[Char('o')],
        "o",
        "note",
        "gameday",
        &[Session],
        true,
    ),
    bind(
        Action::SessionPanel,
        &[Char('c')],
        "c",
        "checklist",
        "gameday",
        &[Session, Checklist],
        true,
    ),
    bind(
        Action::Export,
        &[Char('e')],
        "e",
        "export notes",
        "gameday",
        &[Session],
        true,
    ),
    bind(
        Action::Tick,
        &[Char(' '), Enter],
        "space",
        "tick / untick",
        "gameday",
        &[Checklist],
        true,
    ),
    bind(
        Action::Predict,
        &[Char('w')],
        "w",
        "write prediction",
        "gameday",
        &[Checklist],
        true,
    ),
    bind(
        Action::Save,
        &[Enter],
        "enter",
        "save",
        "editor",
        &[Editing],
        true,
    ),
    ctrl(bind(
        Action::Save,
        &[Char('s')],
        "ctrl-s",
        "save",
        "editor",
        &[Editing],
        false,
    )),
    ctrl(bind(
        Action::CycleTag,
        &[Char('t')],
        "ctrl-t",
        "next tag",
        "editor",
        &[Tagging],
        true,
    )),
    bind(
        Action::NextField,
        &[Tab],
        "tab",
        "owner / due",
        "editor",
        &[Editing],
        false,
    ),
    bind(
        Action::Cancel,
        &[Esc],
        "esc",
        "cancel",
        "editor",
        &[Editing],
        true,
    ),
    bind(
        Action::Help,
        &[Char('?')],
        "?",
        "help",
        "app",
        &[Always],
        true,
    ),
    bind(
        Action::Quit,
        &[Char('q')],
        "q",
        "quit",
        "app",
        &[Always],
        true,
    ),
];

/// The action a key means in these contexts; Ctrl-C is quit everywhere (raw mode makes it a
/// key). In an editor, a key the table does not bind is typed.
pub fn action_for(key: KeyEvent, contexts: &[Context]) -> Option<Action> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && key.code == Char('c') {
        return Some(Action::Quit);
    }
    let bound = TABLE
        .iter()
        .filter(|b| b.ctrl == ctrl && b.contexts.iter().any(|c| contexts.contains(c)))
        .find(|b| b.keys.contains(&key.code))
        .map(|b| b.action);
    match bound {
        None if contexts.contains(&Editing) => Some(Action::Type(key)),
        found => found,
    }
}

/// The bindings the hint bar shows in these contexts.
pub fn hints(contexts: &[Context]) -> impl Iterator<Item = &'static Binding> + '_ {
    TABLE
        .iter()
        .filter(move |b| b.hint && b.contexts.iter().any(|c| contexts.contains(c)))
}
