//! Container health from the watcher's latest snapshot: state, health, restarts, CPU and
//! memory, with the containers the experiment aims at marked and listed first. Never asks Docker
//! itself.

use crate::docker::snapshot::{ContainerStatus, Engine, Health, State};
use crate::tui::app::App;
use crate::tui::text;
use crate::tui::theme::{self, Theme};
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

/// The mark on a container the experiment targets.
pub const TARGET_MARK: &str = "◆";

/// From this inner width on, the health and restart columns are shown.
const WIDE: usize = 56;

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let t = app.theme;
    let block = super::block("Containers", false, t);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = usize::from(inner.width);
    let snapshot = &app.containers;
    let note = match &snapshot.engine {
        Engine::Connecting { .. } => {
            Some(("connecting to the Docker engine…".to_string(), t.dim()))
        }
        Engine::Unreachable { reason, .. } => {
            Some((format!("engine unreachable: {reason}"), t.warn()))
        }
        Engine::Connected { .. } if snapshot.containers.is_empty() => {
            Some(("no containers".to_string(), t.dim()))
        }
        Engine::Connected { .. } => None,
    };
    if let Some((note, style)) = note {
        frame.render_widget(Line::styled(text::fit(&note, width), style), inner);
        return;
    }
    let targets = app.targets();
    let mut lines = vec![Line::styled(
        text::fit(
            &row_text("  name", "state", "health", "rst", "cpu", "mem", width),
            width,
        ),
        t.heading(),
    )];
    let mut rows: Vec<(&ContainerStatus, bool)> = snapshot
        .containers
        .iter()
        .map(|c| {
            let aimed = targets.iter().any(|n| c.is_target(n));
            (c, aimed)
        })
        .collect();
    // The experiment's targets first, so they stay in view on an engine with more containers
    // than the panel has rows; the rest keep their order.
    rows.sort_by_key(|&(_, aimed)| !aimed);
    for (c, aimed) in rows {
        lines.push(container_line(c, aimed, width, t));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

fn container_line(c: &ContainerStatus, aimed: bool, width: usize, t: Theme) -> Line<'static> {
    let (symbol, style) = state_look(c, t);
    let mark = if aimed { TARGET_MARK } else { " " };
    let cpu = c
        .cpu_percent
        .map_or("-".to_string(), |p| format!("{p:.0}%"));
    let mem = c.memory_bytes.map_or("-".to_string(), mebibytes);
    let state = match c.exit_code {
        Some(code) => format!("{} ({code})", c.state.as_str()),
        None => c.state.as_str().to_string(),
    };
    let health = match c.health {
        Health::None => "-",
        Health::Starting => "starting",
        Health::Healthy => "healthy",
        Health::Unhealthy => "unhealthy",
    };
    let name = format!("{mark}{symbol}{}", c.name);
    let restarts = c.restart_count.to_string();
    let line = row_text(&name, &state, health, &restarts, &cpu, &mem, width);
    Line::from(vec![Span::styled(text::fit(&line, width), style)])
}

/// Lays one row out: the name takes what the figures leave.
fn row_text(
    name: &str,
    state: &str,
    health: &str,
    restarts: &str,
    cpu: &str,
    mem: &str,
    width: usize,
) -> String {
    // Narrow panels keep state, CPU and memory; health and restarts need the room.
    let figures = if width >= WIDE {
        format!(" {state:<11} {health:<9} {restarts:>3} {cpu:>4} {mem:>6}")
    } else {
        format!(" {state:<11} {cpu:>4} {mem:>6}")
    };
    let name_width = width.saturating_sub(figures.chars().count()).max(4);
    let name = text::fit(name, name_width);
    let pad = name_width.saturating_sub(unicode_width::UnicodeWidthStr::width(name.as_str()));
    format!("{name}{}{figures}", " ".repeat(pad))
}

fn state_look(c: &ContainerStatus, t: Theme) -> (&'static str, Style) {
    match (c.state, c.health) {
        (_, Health::Unhealthy) => (theme::FAIL, t.fail()),
        (State::Running, Health::Starting) => (theme::RUNNING, t.warn()),
        (State::Running, _) => (theme::OK, t.ok()),
        (State::Paused, _) => (theme::PAUSED, t.warn()),
        (State::Restarting | State::Created, _) => (theme::RUNNING, t.warn()),
        (State::Exited | State::Dead | State::Removing | State::Unknown, _) => {
            (theme::STOPPED, t.fail())
        }
    }
}

fn mebibytes(bytes: u64) -> String {
    format!("{:.0}MiB", bytes as f64 / (1024.0 * 1024.0))
}
