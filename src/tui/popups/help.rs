//! The `?` help popup: every row of the key table, grouped, with where it applies, and where
//! the log goes. When one column does not fit the terminal, the rows go in two.

use crate::tui::app::App;
use crate::tui::keys::{Binding, Context, TABLE};
use crate::tui::text;
use crate::tui::view::centered;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};
use ratatui::Frame;

const CTRL_C: &str = "ctrl-c  quits as q does (asks during a run)";

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let t = app.theme;
    let rows = TABLE.len() as u16 + 1;
    let two_columns = rows + 2 > area.height;
    let (width, height) = if two_columns {
        (80, TABLE.len().div_ceil(2) as u16 + 3)
    } else {
        (68, rows + 2)
    };
    let popup = centered(area, width, height);
    frame.render_widget(Clear, popup);
    let block = Block::bordered().title(" Keys — ? or esc closes ");
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let width = usize::from(inner.width);
    let mut lines: Vec<Line> = if two_columns {
        let column = width / 2;
        let half = TABLE.len().div_ceil(2);
        (0..half)
            .map(|i| {
                let left = text::fit(&short_row(&TABLE[i]), column.saturating_sub(1));
                let right = TABLE.get(half + i).map(short_row).unwrap_or_default();
                let pad =
                    column.saturating_sub(unicode_width::UnicodeWidthStr::width(left.as_str()));
                let row = format!("{left}{}{right}", " ".repeat(pad));
                Line::from(Span::raw(text::fit(&row, width)))
            })
            .collect()
    } else {
        TABLE
            .iter()
            .map(|b| {
                let row = format!(
                    "{:<8} {:<7} {:<20} {}",
                    b.group,
                    b.shown,
                    b.label,
                    context(b.contexts[0])
                );
                Line::from(Span::raw(text::fit(&row, width)))
            })
            .collect()
    };
    lines.push(Line::styled(text::fit(CTRL_C, width), t.dim()));
    frame.render_widget(Paragraph::new(lines), inner);
}

/// A row for two columns: keys, what they do, and where in a word.
fn short_row(b: &Binding) -> String {
    format!("{:<6} {:<18} {}", b.shown, b.label, short(b.contexts[0]))
}

fn context(c: Context) -> &'static str {
    match c {
        Context::Idle => "no run",
        Context::Running => "during a run",
        Context::Held => "while held",
        Context::Asking => "in a question",
        Context::Always => "anywhere",
        Context::Session => "in a GameDay",
        Context::Checklist => "in the checklist",
        Context::Picking => "in the plan list",
        Context::Editing => "in the editor",
        Context::Tagging => "in a note",
    }
}

fn short(c: Context) -> &'static str {
    match c {
        Context::Idle => "idle",
        Context::Running => "run",
        Context::Held => "held",
        Context::Asking => "asked",
        Context::Always => "any",
        Context::Session => "GameDay",
        Context::Checklist => "list",
        Context::Picking => "plans",
        Context::Editing => "editor",
        Context::Tagging => "note",
    }
}
