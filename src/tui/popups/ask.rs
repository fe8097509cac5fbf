//! A yes/no question before an action that cannot be taken back.

use crate::tui::app::{App, Question};
use crate::tui::text;
use crate::tui::view::centered;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Paragraph};
use ratatui::Frame;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, question: Question) {
    let t = app.theme;
    let (title, body) = match question {
        Question::AbortWithoutRollback => (
            " Abort without rollback? ",
            "The run stops now and plays no rollbacks; they stay owed (chaosdeck recover).",
        ),
        Question::QuitDuringRun => (
            " Quit during a run? ",
            "The run is aborted, its rollbacks play, then chaosdeck quits.",
        ),
        Question::PlayOwed => (
            " Play owed rollbacks? ",
            "The oldest earlier run's owed rollbacks play now, with its configuration as \
             resolved then; secrets are read again.",
        ),
    };
    let popup = centered(area, 60, 6);
    frame.render_widget(Clear, popup);
    let block = Block::bordered().title(title).title_style(t.warn());
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let width = usize::from(inner.width);
    let mut lines: Vec<Line> = wrap(body, width).into_iter().map(Line::from).collect();
    lines.push(Line::styled(
        text::fit("y yes   n/esc no", width),
        t.heading(),
    ));
    frame.render_widget(Paragraph::new(lines), inner);
}

/// Splits text into lines of at most `width` columns at spaces.
fn wrap(body: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in body.split(' ') {
        let current = lines.last_mut().expect("one line at least");
        if !current.is_empty() && current.chars().count() + 1 + word.chars().count() > width {
            lines.push(word.to_string());
        } else {
            if !current.is_empty() {
                current.push(' ');
            }
            current.push_str(word);
        }
    }
    lines.into_iter().map(|l| text::fit(&l, width)).collect()
}
