//! Styles by meaning. Under `NO_COLOR` no colour is used at all; the symbols and bold/reverse
//! carry the meaning alone.

use ratatui::style::{Color, Modifier, Style};

/// State symbols, the same with and without colour.
pub const OK: &str = "✓";
pub const FAIL: &str = "✗";
pub const RUNNING: &str = "▶";
pub const PAUSED: &str = "⏸";
pub const STOPPED: &str = "■";
pub const PENDING: &str = "·";

/// The styles panels draw with, chosen by what a thing means rather than how it looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub colour: bool,
}

impl Theme {
    /// Colour unless `NO_COLOR` is set to anything non-empty (no-color.org).
    pub fn from_env() -> Theme {
        let no_colour = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Theme { colour: !no_colour }
    }

    fn tinted(self, colour: Color, fallback: Style) -> Style {
        if self.colour {
            Style::new().fg(colour)
        } else {
            fallback
        }
    }

    pub fn ok(self) -> Style {
        self.tinted(Color::Green, Style::new())
    }

    pub fn warn(self) -> Style {
        self.tinted(Color::Yellow, Style::new().add_modifier(Modifier::BOLD))
    }

    pub fn fail(self) -> Style {
        self.tinted(Color::Red, Style::new().add_modifier(Modifier::BOLD))
    }

    pub fn running(self) -> Style {
        self.tinted(Color::Cyan, Style::new().add_modifier(Modifier::BOLD))
    }

    pub fn selected(self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    pub fn heading(self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    pub fn dim(self) -> Style {
        self.tinted(Color::DarkGray, Style::new())
    }
}
