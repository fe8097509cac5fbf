//! The experiment list: every file of the folder with the result of its last run; an invalid
//! experiment stays listed with its first error.

use crate::tui::app::{App, Focus};
use crate::tui::{text, theme};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{List, ListItem, ListState};
use ratatui::Frame;

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let t = app.theme;
    let block = super::block("Experiments", app.focus == Focus::Experiments, t);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = usize::from(inner.width);
    if app.experiments.is_empty() {
        let note = if app.loading {
            "reading experiments…".to_string()
        } else {
            format!("no experiments in {}", app.folder)
        };
        frame.render_widget(Line::from(text::fit(&note, width)), inner);
        return;
    }
    let items: Vec<ListItem> = app
        .experiments
        .iter()
        .map(|e| {
            let (symbol, style, result) = match (&e.prepared, &e.last) {
                (Err(_), _) => (theme::FAIL, t.fail(), "invalid".to_string()),
                (Ok(_), Some(l)) if l.passed => (theme::OK, t.ok(), "passed".to_string()),
                (Ok(_), Some(l)) => (theme::FAIL, t.fail(), format!("failed ({})", l.status)),
                (Ok(_), None) => (theme::PENDING, t.dim(), "never run".to_string()),
            };
            let time_box = app.gameday.as_ref().and_then(|gd| gd.time_box(&e.path));
            let name_width = width.saturating_sub(result.chars().count() + 3);
            let name = text::fit(&e.title, name_width);
            let pad =
                name_width.saturating_sub(unicode_width::UnicodeWidthStr::width(name.as_str()));
            let mut lines = vec![Line::from(vec![
                Span::styled(format!("{symbol} "), style),
                Span::raw(format!("{name}{} ", " ".repeat(pad))),
                Span::styled(result, style),
            ])];
            if let Some(b) = time_box {
                lines.push(Line::styled(
                    text::fit(&format!("  time box {b}"), width),
                    t.dim(),
                ));
            }
            if let Err(errors) = &e.prepared {
                // The list already names the file: keep the line:column and the message.
                let first = errors.lines().next().unwrap_or("");
                let source = e.path.display().to_string();
                let first = first
                    .strip_prefix(source.as_str())
                    .map_or(first, |rest| rest.trim_start_matches(':'));
                lines.push(Line::styled(
                    text::fit(&format!("  {first}"), width),
                    t.fail(),
                ));
            }
            ListItem::new(lines)
        })
        .collect();
    let mut state = ListState::default().with_selected(Some(app.selected));
    let list = List::new(items).highlight_style(t.selected());
    frame.render_stateful_widget(list, inner, &mut state);
}
