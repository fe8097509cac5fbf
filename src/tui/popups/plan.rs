//! The plan popup: exactly what will run — hypothesis probes, actions and their targets,
//! rollbacks — and the question whether to start.

use crate::tui::app::App;
use crate::tui::plan::plan;
use crate::tui::text;
use crate::tui::view::centered;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Paragraph};
use ratatui::Frame;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, index: usize) {
    let t = app.theme;
    let Some(entry) = app.experiments.get(index) else {
        return;
    };
    // What will really run: `${name}` as the configuration resolves it, secrets masked.
    let sections = entry
        .prepared
        .as_ref()
        .ok()
        .map(|p| {
            let vars = &p.resolved.vars;
            plan(&vars.mask_value(&vars.substitute(&p.doc)))
        })
        .unwrap_or_default();
    let popup = centered(
        area,
        area.width.saturating_sub(8),
        area.height.saturating_sub(4),
    );
    frame.render_widget(Clear, popup);
    let block = Block::bordered().title(" Plan — start this run? ");
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let width = usize::from(inner.width);
    let mut lines = vec![Line::styled(text::fit(&entry.title, width), t.heading())];
    for s in &sections {
        lines.push(Line::styled(text::fit(&s.heading, width), t.heading()));
        if s.steps.is_empty() {
            lines.push(Line::from("  (nothing)"));
        }
        for (i, step) in s.steps.iter().enumerate() {
            lines.push(Line::from(text::fit(
                &format!("  {}. {step}", i + 1),
                width,
            )));
        }
    }
    let body_rows = usize::from(inner.height).saturating_sub(1);
    if lines.len() > body_rows {
        let hidden = lines.len() - body_rows + 1;
        lines.truncate(body_rows.saturating_sub(1));
        lines.push(Line::styled(format!("… {hidden} more lines"), t.dim()));
    }
    while lines.len() < body_rows {
        lines.push(Line::from(""));
    }
    lines.push(Line::styled(
        text::fit("y/enter start   t start stepping   n/esc cancel", width),
        t.warn(),
    ));
    frame.render_widget(Paragraph::new(lines), inner);
}
