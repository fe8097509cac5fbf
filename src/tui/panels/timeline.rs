//! The live step timeline: a header per phase, then per activity its state, name, kind, clock
//! or final duration and verdict, a `pauses` countdown while one runs, the rollbacks as they
//! play.

use crate::engine::{ActivityStatus, Phase};
use crate::tui::app::{App, Focus};
use crate::tui::text;
use crate::tui::theme::{self, Theme};
use crate::tui::timeline::{ActivityRow, Countdown, NoteRow, Progress, Row};
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{List, ListItem, ListState};
use ratatui::Frame;
use std::time::Instant;

/// The fewest columns an activity's name keeps before the countdown is shortened.
const MIN_NAME: usize = 16;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, now: Instant) {
    let t = app.theme;
    let focused = app.focus == Focus::Timeline;
    let block = super::block("Timeline", focused, t);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = usize::from(inner.width);
    let Some(run) = &app.run else {
        let hint = "no run yet — choose an experiment and press s";
        frame.render_widget(Line::from(text::fit(hint, width)), inner);
        return;
    };
    let items: Vec<ListItem> = run
        .rows
        .iter()
        .map(|row| match row {
            Row::Phase(phase) => ListItem::new(Line::styled(
                text::fit(&format!("── {}", heading(*phase)), width),
                t.heading(),
            )),
            Row::Activity(a) => ListItem::new(activity_line(a, width, now, t)),
            Row::Note(n) => ListItem::new(note_line(n, width, t)),
        })
        .collect();
    let selected = if focused { run.focused_row() } else { None };
    let mut state = ListState::default().with_selected(selected.or(run.focused_row()));
    let list = List::new(items).highlight_style(if focused { t.selected() } else { Style::new() });
    frame.render_stateful_widget(list, inner, &mut state);
}

/// A phase as people call it.
pub fn heading(phase: Phase) -> &'static str {
    match phase {
        Phase::Before => "Steady state, before",
        Phase::Method => "Method",
        Phase::During => "Steady state, during",
        Phase::After => "Steady state, after",
        Phase::Rollbacks => "Rollbacks",
    }
}

/// The symbol, style and verdict word of a row.
pub fn verdict(a: &ActivityRow, t: Theme) -> (&'static str, Style, String) {
    match &a.progress {
        Progress::Running { .. } => (theme::RUNNING, t.running(), "running".to_string()),
        Progress::Done { status, .. } => match (status, &a.tolerance) {
            (ActivityStatus::Succeeded, Some((false, _))) => {
                (theme::FAIL, t.fail(), "tolerance not met".to_string())
            }
            (ActivityStatus::Succeeded, Some((true, _))) => {
                (theme::OK, t.ok(), "tolerance met".to_string())
            }
            (ActivityStatus::Succeeded, None) => (theme::OK, t.ok(), "succeeded".to_string()),
            (ActivityStatus::Failed(_), _) => (theme::FAIL, t.fail(), "failed".to_string()),
            (ActivityStatus::Interrupted, _) => {
                (theme::STOPPED, t.warn(), "interrupted".to_string())
            }
            (ActivityStatus::Dry, _) => (theme::PENDING, t.dim(), "dry".to_string()),
        },
        Progress::Skipped => (theme::PENDING, t.dim(), "skipped".to_string()),
    }
}

fn activity_line(a: &ActivityRow, width: usize, now: Instant, t: Theme) -> Line<'static> {
    let (symbol, style, word) = verdict(a, t);
    let clock = match &a.progress {
        Progress::Running { since } => text::duration(now.saturating_duration_since(*since)),
        Progress::Done { duration, .. } => text::duration(*duration),
        Progress::Skipped => "-".to_string(),
    };
    let countdown = |long: bool| match a.countdown {
        Some(Countdown::Ticking { until, when }) => {
            let left = text::duration(until.saturating_duration_since(now));
            if long {
                format!(" {} pause {when}: {left} left", theme::PAUSED)
            } else {
                format!(" {} {left}", theme::PAUSED)
            }
        }
        Some(Countdown::Frozen { remaining }) => {
            let left = text::duration(remaining);
            if long {
                format!(" {} pause frozen: {left} left", theme::PAUSED)
            } else {
                format!(" {} {left}", theme::PAUSED)
            }
        }
        None => String::new(),
    };
    let tail_of = |long: bool| {
        format!(
            " {:<6} {:>7} {word}{}",
            a.activity.kind,
            clock,
            countdown(long)
        )
    };
    // A narrow timeline keeps the name readable and shortens the countdown instead.
    let long = tail_of(true);
    let tail = if width.saturating_sub(long.chars().count() + 2) >= MIN_NAME {
        long
    } else {
        tail_of(false)
    };
    let tail_width = tail.chars().count();
    let name_width = width.saturating_sub(tail_width + 2).max(1);
    let name = text::fit(&a.activity.name, name_width);
    let pad = name_width.saturating_sub(unicode_width::UnicodeWidthStr::width(name.as_str()));
    let line = Line::from(vec![
        Span::styled(format!("{symbol} "), style),
        Span::raw(format!("{name}{}", " ".repeat(pad))),
        Span::styled(tail, style),
    ]);
    line
}

/// The mark of a note in the timeline.
pub const NOTE_MARK: &str = "✎";

/// `  ✎ +12.3s [issue found] alerts stayed silent — cy`, under its activity.
fn note_line(n: &NoteRow, width: usize, t: Theme) -> Line<'static> {
    let clock = n
        .clock
        .map_or(String::new(), |c| format!("+{} ", text::duration(c)));
    let head = format!("  {NOTE_MARK} {clock}[{}] ", n.tag.as_str());
    let rest = format!("{} — {}", n.text.replace('\n', " "), n.author);
    let rest_width = width.saturating_sub(unicode_width::UnicodeWidthStr::width(head.as_str()));
    if rest_width == 0 {
        return Line::from(text::fit(&head, width));
    }
    Line::from(vec![
        Span::styled(head, t.heading()),
        Span::raw(text::fit(&rest, rest_width)),
    ])
}
