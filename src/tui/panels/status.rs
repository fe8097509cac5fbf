//! The status line: the run's state, its verdict once done, the run clock; then the key hints
//! of the current context from the key table.

use crate::tui::app::App;
use crate::tui::keys;
use crate::tui::text;
use crate::tui::theme;
use crate::tui::timeline::RunState;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::Frame;
use std::time::Instant;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, now: Instant) {
    let t = app.theme;
    let [state_area, hints_area] =
        Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(area);
    let width = usize::from(area.width);
    let state = match &app.run {
        None => match &app.gameday {
            Some(gd) => {
                let (ticked, total) = gd.before_ticked();
                let gate = if gd.session.go_override.is_some() {
                    "override recorded".to_string()
                } else {
                    format!("before {ticked}/{total} ticked")
                };
                let text = format!("ready · GameDay {} · {gate}", gd.session.id);
                (theme::PENDING, t.dim(), text)
            }
            None => (theme::PENDING, t.dim(), "ready".to_string()),
        },
        Some(run) => {
            let word = match &run.state {
                RunState::Running => (theme::RUNNING, t.running(), "running".to_string()),
                RunState::Pausing => (theme::PAUSED, t.warn(), "pausing…".to_string()),
                RunState::Held(Some(next)) => {
                    (theme::PAUSED, t.warn(), format!("held before {next}"))
                }
                RunState::Held(None) => (
                    theme::PAUSED,
                    t.warn(),
                    "held before the rollbacks".to_string(),
                ),
                RunState::Aborting {
                    with_rollback: true,
                } => (
                    theme::STOPPED,
                    t.warn(),
                    "aborting, rolling back".to_string(),
                ),
                RunState::Aborting {
                    with_rollback: false,
                } => (
                    theme::STOPPED,
                    t.fail(),
                    "aborting, no rollback".to_string(),
                ),
                RunState::Finished {
                    status,
                    passed: true,
                } => (theme::OK, t.ok(), format!("PASSED ({status})")),
                RunState::Finished {
                    status,
                    passed: false,
                } => (theme::FAIL, t.fail(), format!("FAILED ({status})")),
            };
            let clock = text::duration(run.elapsed(now));
            (
                word.0,
                word.1,
                format!("{} · {} · {clock}", word.2, run.title),
            )
        }
    };
    let line = text::fit(&format!("{} {}", state.0, state.2), width);
    frame.render_widget(
        Line::styled(line, state.1.add_modifier(ratatui::style::Modifier::BOLD)),
        state_area,
    );
    let mut spans = Vec::new();
    for b in keys::hints(&app.contexts()) {
        spans.push(Span::styled(b.shown, t.heading()));
        spans.push(Span::raw(format!(" {}  ", b.label)));
    }
    let hints: String = spans.iter().map(|s| s.content.as_ref()).collect();
    if unicode_width::UnicodeWidthStr::width(hints.as_str()) <= width {
        frame.render_widget(Line::from(spans), hints_area);
    } else {
        frame.render_widget(Line::from(text::fit(&hints, width)), hints_area);
    }
}
