//! The whole screen: the layout of the panels, the popup on top, and the notice shown instead
//! when the terminal is too small. Draws from `&App` only.

use super::app::{App, Popup};
use super::{panels, popups, text};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::widgets::Paragraph;
use ratatui::Frame;
use std::time::Instant;

/// The smallest terminal the panels are laid out for.
pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;

/// Draws one frame at `now`.
pub fn draw(frame: &mut Frame, app: &App, now: Instant) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        too_small(frame, area);
        return;
    }
    let banner_height = u16::from(app.banner.is_some());
    let [banner, main, status] = Layout::vertical([
        Constraint::Length(banner_height),
        Constraint::Min(0),
        Constraint::Length(2),
    ])
    .areas(area);
    if let Some(text) = &app.banner {
        let line = text::fit(text, usize::from(banner.width));
        frame.render_widget(Paragraph::new(line).style(app.theme.warn()), banner);
    }
    let [top, bottom] =
        Layout::vertical([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(main);
    let [list, timeline] =
        Layout::horizontal([Constraint::Percentage(35), Constraint::Percentage(65)]).areas(top);
    let [probe, containers] =
        Layout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(bottom);
    panels::experiments::draw(frame, list, app);
    panels::containers::draw(frame, containers, app);
    panels::timeline::draw(frame, timeline, app, now);
    panels::probe::draw(frame, probe, app);
    panels::status::draw(frame, status, app, now);
    match app.popup {
        Some(Popup::Help) => popups::help::draw(frame, area, app),
        Some(Popup::Plan(index)) => popups::plan::draw(frame, area, app, index),
        Some(Popup::Ask(question)) => popups::ask::draw(frame, area, app, question),
        Some(Popup::Session) => popups::session::draw(frame, area, app),
        Some(Popup::Editor) => popups::editor::draw(frame, area, app, now),
        Some(Popup::Picker) => popups::picker::draw(frame, area, app),
        None => {}
    }
}

fn too_small(frame: &mut Frame, area: Rect) {
    let width = usize::from(area.width);
    let lines = [
        "terminal too small".to_string(),
        format!(
            "need {MIN_WIDTH}×{MIN_HEIGHT}, have {}×{}",
            area.width, area.height
        ),
        "q quits".to_string(),
    ];
    let text: Vec<_> = lines
        .iter()
        .map(|l| ratatui::text::Line::from(text::fit(l, width)))
        .collect();
    frame.render_widget(Paragraph::new(text), area);
}

/// A rectangle of at most `width`×`height` in the middle of `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    }
}
