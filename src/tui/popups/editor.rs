//! The editor popup (ratatui-textarea): a note with its tag (and, for an action item, its owner
//! and due date), stamped on the run clock; or a prediction; or the reason of an override.

use crate::gameday::Tag;
use crate::tui::app::App;
use crate::tui::gameday::{Editor, Field, Purpose};
use crate::tui::text;
use crate::tui::view::centered;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};
use ratatui::Frame;
use std::time::Instant;

const TAGS: [Tag; 5] = [
    Tag::Observation,
    Tag::Decision,
    Tag::Question,
    Tag::IssueFound,
    Tag::ActionItem,
];

pub fn draw(frame: &mut Frame, area: Rect, app: &App, now: Instant) {
    let Some(editor) = &app.editor else {
        return;
    };
    let t = app.theme;
    let popup = centered(area, area.width.saturating_sub(6).min(90), 14);
    frame.render_widget(Clear, popup);
    let title = match &editor.purpose {
        Purpose::Note => " Note ".to_string(),
        Purpose::Prediction(e) => format!(" Prediction — {e} "),
        Purpose::Override(_) => " Override — the checklist is not done ".to_string(),
    };
    let block = Block::bordered()
        .title(text::fit(
            &title,
            usize::from(popup.width).saturating_sub(2),
        ))
        .title_style(t.heading());
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let width = usize::from(inner.width);
    let [head, body, fields, error, hints] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(1),
        Constraint::Length(u16::from(editor.asks_owner()) * 3),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(inner);
    let head_lines = header(app, editor, width, now);
    frame.render_widget(Paragraph::new(head_lines), head);
    let text_block = Block::bordered().title(if editor.field == Field::Text {
        " text ▸ "
    } else {
        " text "
    });
    let text_area = text_block.inner(body);
    frame.render_widget(text_block, body);
    frame.render_widget(&editor.text, text_area);
    if editor.asks_owner() {
        let [owner, due] =
            Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
                .areas(fields);
        for (rect, label, field, area) in [
            (owner, "owner", Field::Owner, &editor.owner),
            (due, "due (YYYY-MM-DD)", Field::Due, &editor.due),
        ] {
            let pointer = if editor.field == field { " ▸" } else { "" };
            let b = Block::bordered().title(format!(" {label}{pointer} "));
            let inside = b.inner(rect);
            frame.render_widget(b, rect);
            frame.render_widget(area, inside);
        }
    }
    if let Some(message) = &editor.error {
        frame.render_widget(
            Line::styled(text::fit(&format!("✗ {message}"), width), t.fail()),
            error,
        );
    }
    let keys = match editor.purpose {
        Purpose::Note if editor.asks_owner() => {
            "enter/ctrl-s save   ctrl-t tag   tab owner/due   esc cancel"
        }
        Purpose::Note => "enter/ctrl-s save   ctrl-t tag   esc cancel",
        _ => "enter/ctrl-s save   esc cancel",
    };
    frame.render_widget(Line::styled(text::fit(keys, width), t.heading()), hints);
}

/// The tag row (the chosen tag in brackets) and where the note will stand; for the others,
/// what is being written.
fn header(app: &App, editor: &Editor, width: usize, now: Instant) -> Vec<Line<'static>> {
    let t = app.theme;
    match &editor.purpose {
        Purpose::Note => {
            let mut spans = vec![Span::raw("tag: ")];
            for tag in TAGS {
                if tag == editor.tag {
                    spans.push(Span::styled(format!("[{}]", tag.as_str()), t.selected()));
                } else {
                    spans.push(Span::raw(format!(" {} ", tag.as_str())));
                }
            }
            let joined: String = spans.iter().map(|s| s.content.as_ref()).collect();
            let tags = if unicode_width::UnicodeWidthStr::width(joined.as_str()) <= width {
                Line::from(spans)
            } else {
                Line::from(text::fit(&format!("tag: [{}]", editor.tag.as_str()), width))
            };
            let fixed = editor.moment.as_ref().map(|m| {
                format!(
                    "at {} on the run clock, during {}",
                    text::duration(m.clock),
                    m.activity.as_deref().unwrap_or("the start of the run")
                )
            });
            let stamp = match app.run.as_ref().filter(|r| r.live()) {
                _ if fixed.is_some() => fixed.unwrap_or_default(),
                Some(run) => format!(
                    "at {} on the run clock, during {}",
                    text::duration(run.elapsed(now)),
                    run.current_activity().unwrap_or("the start of the run")
                ),
                None => "between runs: kept with the session's last run".to_string(),
            };
            vec![tags, Line::styled(text::fit(&stamp, width), t.dim())]
        }
        Purpose::Prediction(_) => vec![Line::from(text::fit(
            "What will this experiment show? It stands beside the result after the run.",
            width,
        ))],
        Purpose::Override(_) => {
            let open = app.gameday.as_ref().map_or(0, |gd| {
                let (ticked, total) = gd.before_ticked();
                total - ticked
            });
            vec![Line::from(text::fit(
                &format!(
                    "{open} \"before\" item(s) not ticked. The reason is recorded in the session."
                ),
                width,
            ))]
        }
    }
}
