//! The session panel: the checklist in its three groups with who ticked each item and when, the
//! override if one was recorded, and the predictions for the selected experiment beside the
//! results of its runs.

use crate::gameday::metrics::human;
use crate::gameday::ChecklistItem;
use crate::tui::app::App;
use crate::tui::gameday::GamedayView;
use crate::tui::text;
use crate::tui::theme::{self, Theme};
use crate::tui::view::centered;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Paragraph};
use ratatui::Frame;

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let Some(gd) = &app.gameday else {
        return;
    };
    let t = app.theme;
    let popup = centered(
        area,
        area.width.saturating_sub(6).min(100),
        area.height.saturating_sub(2),
    );
    frame.render_widget(Clear, popup);
    let title = format!(" {} — {} · as {} ", gd.session.title, gd.session.id, gd.who);
    let block = Block::bordered().title(text::fit(
        &title,
        usize::from(popup.width).saturating_sub(4),
    ));
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let width = usize::from(inner.width);
    let fit = |s: &str| text::fit(s, width);
    let mut lines = checklist(gd, width, t);
    if let Some(o) = &gd.session.go_override {
        lines.push(Line::styled(
            fit(&format!(
                "override by {} at {}: {}",
                o.by,
                clock_of(&o.at),
                o.reason
            )),
            t.warn(),
        ));
    }
    lines.extend(predictions(app, gd, width, t));
    let body_rows = usize::from(inner.height).saturating_sub(1);
    if lines.len() > body_rows {
        // Keep the row pointed at in sight: drop rows from the top as needed.
        let cursor_row = lines
            .iter()
            .position(|l| l.spans.iter().any(|s| s.content.starts_with('▸')))
            .unwrap_or(0);
        let skip = (cursor_row + 1).saturating_sub(body_rows).min(lines.len());
        lines.drain(..skip);
        lines.truncate(body_rows);
    }
    while lines.len() < body_rows {
        lines.push(Line::from(""));
    }
    lines.push(Line::styled(
        fit("space tick/untick   w write prediction   c/esc close"),
        t.heading(),
    ));
    frame.render_widget(Paragraph::new(lines), inner);
}

/// `10:42:01` from a journal timestamp.
fn clock_of(at: &str) -> &str {
    at.get(11..19).unwrap_or(at)
}

fn checklist(gd: &GamedayView, width: usize, t: Theme) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    for group in ["before", "during", "after"] {
        let items: Vec<(usize, &ChecklistItem)> = gd
            .session
            .checklist
            .iter()
            .enumerate()
            .filter(|(_, i)| i.group == group)
            .collect();
        if items.is_empty() {
            continue;
        }
        let ticked = items.iter().filter(|(_, i)| i.ticked_by.is_some()).count();
        let gate = if group == "before" {
            " — needed before a run"
        } else {
            ""
        };
        lines.push(Line::styled(
            text::fit(
                &format!("{group} ({ticked}/{} ticked){gate}", items.len()),
                width,
            ),
            t.heading(),
        ));
        for (index, item) in items {
            let pointer = if index == gd.cursor { "▸" } else { " " };
            let (mark, style, who) = match (&item.ticked_by, &item.ticked_at) {
                (Some(by), at) => (
                    theme::OK,
                    t.ok(),
                    format!(" — {by} {}", at.as_deref().map_or("", clock_of)),
                ),
                (None, _) => (theme::PENDING, t.dim(), String::new()),
            };
            let row = text::fit(&format!("{pointer} {mark} {}{who}", item.text), width);
            let style = if index == gd.cursor {
                t.selected()
            } else {
                style
            };
            lines.push(Line::styled(row, style));
        }
    }
    lines
}

fn predictions(app: &App, gd: &GamedayView, width: usize, t: Theme) -> Vec<Line<'static>> {
    let Some(entry) = app.experiments.get(app.selected) else {
        return Vec::new();
    };
    let time_box = gd
        .time_box(&entry.path)
        .map_or(String::new(), |b| format!(" · time box {b}"));
    let mut lines = vec![Line::styled(
        text::fit(&format!("predictions — {}{time_box}", entry.name), width),
        t.heading(),
    )];
    let written: Vec<_> = gd
        .session
        .predictions
        .iter()
        .filter(|p| p.experiment == entry.name)
        .collect();
    if written.is_empty() {
        lines.push(Line::styled(
            text::fit("  none yet — w writes one before the run", width),
            t.dim(),
        ));
    }
    for p in written {
        lines.push(Line::from(text::fit(
            &format!("  {}: {}", p.author, p.text),
            width,
        )));
    }
    let runs: Vec<_> = gd
        .session
        .runs
        .iter()
        .filter(|r| r.experiment == entry.name)
        .collect();
    match runs.last() {
        Some(r) => {
            let (mark, style) = if r.verdict == "passed" {
                (theme::OK, t.ok())
            } else {
                (theme::FAIL, t.fail())
            };
            let line = format!(
                "  result: {mark} {} (last of {} run{}) · detect {} · recover {}",
                r.verdict,
                runs.len(),
                if runs.len() == 1 { "" } else { "s" },
                human(r.time_to_detect_seconds),
                human(r.time_to_recover_seconds)
            );
            lines.push(Line::styled(text::fit(&line, width), style));
        }
        None => lines.push(Line::styled(
            text::fit("  result: not run yet", width),
            t.dim(),
        )),
    }
    lines
}
