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
    /// A question or the plan is open.
    Asking,
    /// Anywhere a popup does not take the keys.
    Always,
}

/// One row of the table.
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    pub action: Action,
    pub keys: &'static [KeyCode],
    /// The keys as printed in hints and help.
    pub shown: &'static str,
    pub label: &'static str,
    pub group: &'static str,
    pub context: Context,
    /// Whether the hint bar shows it (help shows every row).
    pub hint: bool,
}

const fn bind(
    action: Action,
    keys: &'static [KeyCode],
    shown: &'static str,
    label: &'static str,
    group: &'static str,
    context: Context,
    hint: bool,
) -> Binding {
    Binding {
        action,
        keys,
        shown,
        label,
        group,
        context,
        hint,
    }
}

use Context::{Always, Asking, Idle, Running};
use KeyCode::{Char, Down, Enter, Esc, Tab, Up};

/// Every key chaosdeck answers.
pub const TABLE: &[Binding] = &[
    bind(
        Action::Up,
        &[Up, Char('k')],
        "↑/k",
        "up",
        "move",
        Always,
        false,
    ),
    bind(
        Action::Down,
        &[Down, Char('j')],
        "↓/j",
        "down",
        "move",
        Always,
        false,
    ),
    bind(
        Action::Focus,
        &[Tab],
        "tab",
        "switch panel",
        "move",
        Always,
        true,
    ),
    bind(
        Action::Start,
        &[Char('s'), Enter],
        "s",
        "start",
        "run",
        Idle,
        true,
    ),
    bind(
        Action::PauseResume,
        &[Char('p'), Char(' ')],
        "p",
        "pause/resume",
        "run",
        Running,
        true,
    ),
    bind(
        Action::Step,
        &[Char('n')],
        "n",
        "step",
        "run",
        Running,
        true,
    ),
    bind(
        Action::Skip,
        &[Char('x')],
        "x",
        "skip (when held)",
        "run",
        Running,
        false,
    ),
    bind(
        Action::Abort,
        &[Char('a')],
        "a",
        "abort + rollback",
        "run",
        Running,
        true,
    ),
    bind(
        Action::AbortNoRollback,
        &[Char('A')],
        "A",
        "abort, no rollback",
        "run",
        Running,
        false,
    ),
    bind(
        Action::Confirm,
        &[Char('y'), Enter],
        "y",
        "yes",
        "answer",
        Asking,
        true,
    ),
    bind(
        Action::ConfirmStepping,
        &[Char('t')],
        "t",
        "start stepping",
        "answer",
        Asking,
        false,
    ),
    bind(
        Action::Cancel,
        &[Char('n'), Esc],
        "n/esc",
        "no",
        "answer",
        Asking,
        true,
    ),
    bind(
        Action::PlayOwed,
        &[Char('r')],
        "r",
        "play owed rollbacks",
        "run",
        Idle,
        false,
    ),
    bind(Action::Help, &[Char('?')], "?", "help", "app", Always, true),
    bind(Action::Quit, &[Char('q')], "q", "quit", "app", Always, true),
];

/// The action a key means in this context; Ctrl-C is quit everywhere (raw mode makes it a key).
pub fn action_for(key: KeyEvent, contexts: &[Context]) -> Option<Action> {
    if key.modifiers.contains(KeyModifiers::CONTROL) {
        return (key.code == Char('c')).then_some(Action::Quit);
    }
    TABLE
        .iter()
        .filter(|b| contexts.contains(&b.context))
        .find(|b| b.keys.contains(&key.code))
        .map(|b| b.action)
}

/// The bindings the hint bar shows in these contexts.
pub fn hints(contexts: &[Context]) -> impl Iterator<Item = &'static Binding> + '_ {
    TABLE
        .iter()
        .filter(move |b| b.hint && contexts.contains(&b.context))
}
