//! The panels of the main screen, one file each; each draws from `&App` into its area.

pub mod containers;
pub mod experiments;
pub mod probe;
pub mod status;
pub mod timeline;

use super::theme::Theme;
use ratatui::widgets::{Block, BorderType};

/// A panel's frame; the focused panel's border is bold.
pub fn block(title: &str, focused: bool, theme: Theme) -> Block<'_> {
    let block = Block::bordered().title(format!(" {title} "));
    if focused {
        block
            .border_type(BorderType::Thick)
            .title_style(theme.heading())
    } else {
        block
    }
}
