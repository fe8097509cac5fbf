//! Probe results for the selected activity: its status, the comparison its tolerance made, the
//! failure message, and an excerpt of the HTTP body or the process output.

use crate::engine::ActivityStatus;
use crate::tui::app::{App, Focus};
use crate::tui::text;
use crate::tui::timeline::Progress;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;
use serde_json::Value;

/// How many lines of body or stdout the excerpt keeps at most.
const EXCERPT_LINES: usize = 8;

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let t = app.theme;
    let focused = app.run.as_ref().and_then(|r| r.focused());
    // With nothing to show of a run, an invalid experiment's errors: every one, wrapped.
    let choosing = !app.running() && (focused.is_none() || app.focus == Focus::Experiments);
    let invalid = app
        .experiments
        .get(app.selected)
        .filter(|_| choosing)
        .and_then(|e| e.prepared.as_ref().err().map(|errors| (&e.name, errors)));
    let title = match (invalid, focused) {
        (Some((name, _)), _) => format!("Why {name} cannot run"),
        (None, Some(a)) => format!("Result — {}", a.activity.name),
        (None, None) => "Result".to_string(),
    };
    let block = super::block(&title, false, t);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = usize::from(inner.width);
    if let Some((_, errors)) = invalid {
        let lines: Vec<Line> = errors
            .lines()
            .map(|l| Line::styled(l.to_string(), t.fail()))
            .collect();
        let wrapped = Paragraph::new(lines).wrap(ratatui::widgets::Wrap { trim: false });
        frame.render_widget(wrapped, inner);
        return;
    }
    let Some(a) = focused else {
        frame.render_widget(Line::from(text::fit("nothing selected", width)), inner);
        return;
    };
    let (symbol, style, word) = super::timeline::verdict(a, t);
    let mut lines = vec![Line::from(vec![
        Span::raw("verdict: "),
        Span::styled(format!("{symbol} {word}"), style),
    ])];
    if let Some((_, comparison)) = &a.tolerance {
        lines.push(Line::from(format!("comparison: {comparison}")));
    }
    if let Progress::Done {
        status: ActivityStatus::Failed(message),
        ..
    } = &a.progress
    {
        lines.push(Line::styled(format!("failure: {message}"), t.fail()));
    }
    if let Some(output) = &a.output {
        lines.extend(excerpt(output).into_iter().map(Line::from));
    }
    let lines: Vec<Line> = lines
        .into_iter()
        .map(|l| {
            let style = l.style;
            let joined: String = l.spans.iter().map(|s| s.content.as_ref()).collect();
            if unicode_width::UnicodeWidthStr::width(joined.as_str()) <= width {
                l
            } else {
                Line::styled(text::fit(&joined, width), style)
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The lines worth reading in an activity's output: status or exit code, then the body or
/// stdout (and stderr), cut to [`EXCERPT_LINES`].
pub fn excerpt(output: &Value) -> Vec<String> {
    let Value::Object(map) = output else {
        return vec![format!("output: {}", compact(output))];
    };
    let mut lines = Vec::new();
    if let Some(status) = map.get("status") {
        let label = if map.contains_key("stdout") {
            "exit code"
        } else {
            "status"
        };
        lines.push(format!("{label}: {}", compact(status)));
    }
    for key in ["body", "stdout", "stderr"] {
        let Some(v) = map.get(key) else { continue };
        let body = compact(v);
        if body.trim().is_empty() {
            continue;
        }
        lines.push(format!("{key}:"));
        lines.extend(
            body.lines()
                .take(EXCERPT_LINES)
                .map(|l| format!("  {}", l.replace('\t', "    "))),
        );
    }
    if lines.is_empty() {
        lines.push(format!("output: {}", compact(output)));
    }
    lines
}

fn compact(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
