//! The picker: the GameDay plans of `gamedays/` (start today's session) and the sessions there
//! are (resume one).

use crate::tui::app::App;
use crate::tui::gameday::Choice;
use crate::tui::text;
use crate::tui::view::centered;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, List, ListItem, ListState, Paragraph};
use ratatui::Frame;

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let Some(picker) = &app.picker else {
        return;
    };
    let t = app.theme;
    let popup = centered(
        area,
        area.width.saturating_sub(8).min(100),
        area.height.saturating_sub(4),
    );
    frame.render_widget(Clear, popup);
    let block = Block::bordered().title(" GameDay — choose a plan or a session to resume ");
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let width = usize::from(inner.width);
    let [list_area, foot] = ratatui::layout::Layout::vertical([
        ratatui::layout::Constraint::Min(0),
        ratatui::layout::Constraint::Length(1 + picker.problems.len().min(2) as u16),
    ])
    .areas(inner);
    if picker.choices.is_empty() {
        frame.render_widget(
            Line::from(text::fit(
                "no plans in gamedays/ and no sessions yet",
                width,
            )),
            list_area,
        );
    }
    let items: Vec<ListItem> = picker
        .choices
        .iter()
        .map(|c| {
            let row = match c {
                Choice::Plan { path, title } => {
                    format!("▸ plan     {title} — {}", path.display())
                }
                Choice::Session {
                    id, title, summary, ..
                } => format!("↺ session  {id} — {title} · {summary}"),
            };
            ListItem::new(Line::from(text::fit(&row, width)))
        })
        .collect();
    let mut state = ListState::default().with_selected(Some(picker.cursor));
    frame.render_stateful_widget(
        List::new(items).highlight_style(t.selected()),
        list_area,
        &mut state,
    );
    let mut lines: Vec<Line> = picker
        .problems
        .iter()
        .take(2)
        .map(|p| Line::styled(text::fit(p, width), t.warn()))
        .collect();
    lines.push(Line::styled(
        text::fit("enter open   ↑/↓ choose   esc close", width),
        t.heading(),
    ));
    frame.render_widget(Paragraph::new(lines), foot);
}
