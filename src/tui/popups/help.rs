//! The `?` help popup: every row of the key table, grouped, with where it applies, and where
//! the log goes.

use crate::tui::app::App;
use crate::tui::keys::{Context, TABLE};
use crate::tui::text;
use crate::tui::view::centered;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};
use ratatui::Frame;

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let t = app.theme;
    let height = TABLE.len() as u16 + 4;
    let popup = centered(area, 64, height);
    frame.render_widget(Clear, popup);
    let block = Block::bordered().title(" Keys — ? or esc closes ");
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let width = usize::from(inner.width);
    let lines: Vec<Line> = TABLE
        .iter()
        .map(|b| {
            let row = format!(
                "{:<7} {:<7} {:<20} {}",
                b.group,
                b.shown,
                b.label,
                context(b.context)
            );
            let cut = text::fit(&row, width);
            Line::from(Span::raw(cut))
        })
        .chain(std::iter::once(Line::styled(
            text::fit("ctrl-c  quits as q does (asks during a run)", width),
            t.dim(),
        )))
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

fn context(c: Context) -> &'static str {
    match c {
        Context::Idle => "no run",
        Context::Running => "during a run",
        Context::Asking => "in a question",
        Context::Always => "anywhere",
    }
}
