//! GameDay mode's state and its part of the update step: the open session (checklist, gate,
//! predictions), the editor popup (notes with their tag, predictions, an override's reason), and
//! the picker of plans and sessions. Everything that touches disk is an [`Effect`] the event
//! loop carries out.

use super::app::{Action, App, Effect, Popup};
use crate::gameday::store::Store;
use crate::gameday::{Draft, Session, Tag};
use ratatui::style::Style;
use ratatui_textarea::{TextArea, WrapMode};
use std::path::PathBuf;

/// The session the screen works in.
#[derive(Debug, Clone)]
pub struct GamedayView {
    pub store: Store,
    /// The session as last read from the store (every change is written there first).
    pub session: Session,
    /// Who ticks and writes.
    pub who: String,
    /// The plan's time box of each experiment file.
    pub time_boxes: Vec<(PathBuf, String)>,
    /// The checklist row the session panel points at.
    pub cursor: usize,
    /// A draft an editor left (chaosdeck was killed while someone typed); offered back when an
    /// editor for the same purpose opens.
    pub draft: Option<Draft>,
    /// How many of the session's observations the timeline already reflects: later ones were
    /// written from elsewhere (`chaosdeck gameday note`) and are added when seen.
    pub notes_shown: usize,
    /// The session file's modification time when last read.
    pub read_at: Option<std::time::SystemTime>,
}

impl GamedayView {
    /// The time box of an experiment file, as the plan writes it.
    pub fn time_box(&self, path: &std::path::Path) -> Option<&str> {
        self.time_boxes
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, t)| t.as_str())
    }

    /// Ticked "before" items and how many there are.
    pub fn before_ticked(&self) -> (usize, usize) {
        let before = self
            .session
            .checklist
            .iter()
            .filter(|i| i.group == "before");
        let total = before.clone().count();
        (before.filter(|i| i.ticked_by.is_some()).count(), total)
    }
}

/// What an editor writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purpose {
    /// An observation (or decision, question, issue found, action item).
    Note,
    /// A prediction about this experiment (its name), before it runs.
    Prediction(String),
    /// Why a run starts before the "before" items are ticked; then the plan of the experiment at
    /// this index opens.
    Override(usize),
}

impl Purpose {
    /// The name drafts are kept under.
    pub fn word(&self) -> &'static str {
        match self {
            Purpose::Note => "note",
            Purpose::Prediction(_) => "prediction",
            Purpose::Override(_) => "override",
        }
    }
}

/// Which box of the editor takes the keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Text,
    Owner,
    Due,
}

/// The editor popup's state.
#[derive(Debug, Clone)]
pub struct Editor {
    pub purpose: Purpose,
    /// A note's moment: the run clock and the activity in progress when the editor opened
    /// (what was seen then), kept however long the typing takes. `None` between runs.
    pub moment: Option<Moment>,
    pub tag: Tag,
    pub text: TextArea<'static>,
    /// An action item's owner and due date (`YYYY-MM-DD`).
    pub owner: TextArea<'static>,
    pub due: TextArea<'static>,
    pub field: Field,
    /// Why the last save was refused.
    pub error: Option<String>,
}

fn area(text: &str, placeholder: &str) -> TextArea<'static> {
    let mut t = TextArea::new(vec![text.to_string()]);
    t.set_cursor_line_style(Style::new());
    t.set_placeholder_text(placeholder);
    t.set_wrap_mode(WrapMode::WordOrGlyph);
    t.move_cursor(ratatui_textarea::CursorMove::End);
    t
}

fn first_line(t: &TextArea) -> String {
    t.lines().join(" ").trim().to_string()
}

impl Editor {
    pub fn new(purpose: Purpose, owner: &str) -> Editor {
        let placeholder = match purpose {
            Purpose::Note => "what did you see?",
            Purpose::Prediction(_) => "what do you expect this experiment to show?",
            Purpose::Override(_) => "why run before the checklist is done?",
        };
        Editor {
            purpose,
            moment: None,
            tag: Tag::Observation,
            text: area("", placeholder),
            owner: area(owner, "who"),
            due: area("", "YYYY-MM-DD"),
            field: Field::Text,
            error: None,
        }
    }

    /// An editor holding what a draft kept.
    pub fn from_draft(purpose: Purpose, draft: &Draft) -> Editor {
        let mut e = Editor::new(purpose, &draft.owner);
        e.tag = draft.tag;
        e.text = area(&draft.text, "");
        e.due = area(&draft.due, "YYYY-MM-DD");
        e
    }

    /// Whether the text (and, for an action item, its owner and due date) is empty.
    pub fn text(&self) -> String {
        first_line(&self.text)
    }

    pub fn owner(&self) -> String {
        first_line(&self.owner)
    }

    pub fn due(&self) -> String {
        first_line(&self.due)
    }

    /// Whether the owner and due date are asked (an action item's note).
    pub fn asks_owner(&self) -> bool {
        self.purpose == Purpose::Note && self.tag == Tag::ActionItem
    }

    /// What the draft file keeps of this editor.
    pub fn draft(&self, at: String) -> Draft {
        Draft {
            purpose: self.purpose.word().to_string(),
            experiment: match &self.purpose {
                Purpose::Prediction(e) => Some(e.clone()),
                _ => None,
            },
            tag: self.tag,
            text: self.text.lines().join("\n"),
            owner: self.owner(),
            due: self.due(),
            saved_at: at,
        }
    }

    fn focused(&mut self) -> &mut TextArea<'static> {
        match self.field {
            Field::Text => &mut self.text,
            Field::Owner => &mut self.owner,
            Field::Due => &mut self.due,
        }
    }

    /// Checks what was written; the effect that saves it.
    fn save(&self) -> Result<Effect, String> {
        let text = self.text();
        if text.is_empty() {
            return Err("write something first (esc cancels)".into());
        }
        Ok(match &self.purpose {
            Purpose::Note if self.asks_owner() => {
                let (owner, due) = (self.owner(), self.due());
                if owner.is_empty() {
                    return Err("an action item needs its owner (tab moves to it)".into());
                }
                if chrono::NaiveDate::parse_from_str(&due, "%Y-%m-%d").is_err() {
                    return Err(format!(
                        "'{due}' is not a due date: write it as YYYY-MM-DD (tab moves to it)"
                    ));
                }
                Effect::SaveNote {
                    tag: self.tag,
                    text,
                    action: Some((owner, due)),
                    moment: self.moment.clone(),
                }
            }
            Purpose::Note => Effect::SaveNote {
                tag: self.tag,
                text,
                action: None,
                moment: self.moment.clone(),
            },
            Purpose::Prediction(experiment) => Effect::Predict {
                experiment: experiment.clone(),
                text,
            },
            Purpose::Override(index) => Effect::Override {
                reason: text,
                then_plan: *index,
            },
        })
    }
}

/// One line of the picker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// A plan file: start today's session (or resume it).
    Plan { path: PathBuf, title: String },
    /// A session that exists: resume it.
    Session {
        id: String,
        title: String,
        plan: PathBuf,
        date: String,
        /// "checklist 3/7 · runs 1 · notes 2".
        summary: String,
    },
}

/// The picker popup's state.
#[derive(Debug, Clone, Default)]
pub struct Picker {
    pub choices: Vec<Choice>,
    pub cursor: usize,
    /// Plans that could not be read, and why.
    pub problems: Vec<String>,
}

/// A point of a run: its clock and the activity then in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moment {
    pub clock: std::time::Duration,
    pub activity: Option<String>,
}

impl App {
    /// Fixes an open note editor's moment to `now` on the live run's clock, once: called by
    /// the event loop right after the key that opened it.
    pub fn fix_note_moment(&mut self, now: std::time::Instant) {
        let run = self.run.as_ref().filter(|r| r.live());
        if let (Some(editor), Some(run)) = (self.editor.as_mut(), run) {
            if editor.purpose == Purpose::Note && editor.moment.is_none() {
                editor.moment = Some(Moment {
                    clock: run.elapsed(now),
                    activity: run.current_activity().map(str::to_string),
                });
            }
        }
    }

    /// Opens an editor for `purpose`, with its draft when one was left.
    pub fn open_editor(&mut self, purpose: Purpose) {
        let Some(gd) = self.gameday.as_mut() else {
            return;
        };
        let draft = gd.draft.take_if(|d| {
            d.purpose == purpose.word()
                && match &purpose {
                    Purpose::Prediction(e) => d.experiment.as_deref() == Some(e.as_str()),
                    _ => true,
                }
        });
        self.editor = Some(match draft {
            Some(d) => Editor::from_draft(purpose, &d),
            None => Editor::new(purpose, &gd.who),
        });
        self.popup = Some(Popup::Editor);
    }

    /// Keys while the editor is open.
    pub(super) fn edit(&mut self, action: Action) -> Option<Effect> {
        let editor = self.editor.as_mut()?;
        match action {
            Action::Type(key) if editor.focused().input(key) => {
                editor.error = None;
                self.draft_changed = true;
            }
            Action::CycleTag if editor.purpose == Purpose::Note => {
                editor.tag = editor.tag.next();
                if !editor.asks_owner() {
                    editor.field = Field::Text;
                }
                self.draft_changed = true;
            }
            Action::NextField if editor.asks_owner() => {
                editor.field = match editor.field {
                    Field::Text => Field::Owner,
                    Field::Owner => Field::Due,
                    Field::Due => Field::Text,
                };
                // A field reached with tab is selected whole, so typing replaces the default
                // owner instead of adding to it.
                if editor.field == Field::Owner {
                    editor.owner.select_all();
                }
            }
            Action::Save => match editor.save() {
                Ok(effect) => {
                    let then = match &editor.purpose {
                        Purpose::Override(index) => Some(Popup::Plan(*index)),
                        Purpose::Prediction(_) => Some(Popup::Session),
                        Purpose::Note => None,
                    };
                    self.editor = None;
                    self.popup = then;
                    self.draft_changed = false;
                    return Some(effect);
                }
                Err(message) => editor.error = Some(message),
            },
            Action::Cancel | Action::Quit => {
                self.editor = None;
                self.popup = None;
                self.draft_changed = false;
                return Some(Effect::DiscardDraft);
            }
            _ => {}
        }
        None
    }

    /// Keys in the session panel.
    pub(super) fn in_session_panel(&mut self, action: Action) -> Option<Effect> {
        let gd = self.gameday.as_mut()?;
        let last = gd.session.checklist.len().saturating_sub(1);
        match action {
            Action::Up => gd.cursor = gd.cursor.saturating_sub(1),
            Action::Down => gd.cursor = (gd.cursor + 1).min(last),
            Action::Tick => {
                let item = gd.session.checklist.get(gd.cursor)?;
                return Some(Effect::Tick {
                    index: gd.cursor,
                    ticked: item.ticked_by.is_none(),
                });
            }
            Action::Predict => {
                let name = self.experiments.get(self.selected)?.name.clone();
                self.open_editor(Purpose::Prediction(name));
            }
            Action::Cancel | Action::SessionPanel => self.popup = None,
            _ => {}
        }
        None
    }

    /// Keys in the picker of plans and sessions.
    pub(super) fn in_picker(&mut self, action: Action) -> Option<Effect> {
        let picker = self.picker.as_mut()?;
        let last = picker.choices.len().saturating_sub(1);
        match action {
            Action::Up => picker.cursor = picker.cursor.saturating_sub(1),
            Action::Down => picker.cursor = (picker.cursor + 1).min(last),
            Action::Confirm => {
                let choice = picker.choices.get(picker.cursor)?.clone();
                self.popup = None;
                return Some(Effect::OpenSession(choice));
            }
            Action::Cancel => self.popup = None,
            _ => {}
        }
        None
    }

    /// GameDay keys outside popups; `None` when the key is not one of them.
    pub(super) fn gameday_key(&mut self, action: Action) -> Option<Option<Effect>> {
        match action {
            Action::OpenGamedays if !self.running() => Some(Some(Effect::OpenGamedays)),
            Action::SessionPanel if self.gameday.is_some() => {
                self.popup = Some(Popup::Session);
                Some(None)
            }
            Action::Note if self.gameday.is_some() => {
                self.open_editor(Purpose::Note);
                Some(None)
            }
            Action::Export if self.gameday.is_some() => Some(Some(Effect::Export)),
            _ => None,
        }
    }

    /// In GameDay mode, a start before the "before" items are ticked asks for an override's
    /// reason first; `true` when it did.
    pub(super) fn gate(&mut self) -> bool {
        let closed = self
            .gameday
            .as_ref()
            .is_some_and(|gd| gd.session.may_run().is_err());
        if closed {
            self.open_editor(Purpose::Override(self.selected));
        }
        closed
    }
}
