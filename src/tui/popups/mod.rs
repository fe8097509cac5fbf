//! The popups drawn over the panels, one file each.

pub mod ask;
pub mod editor;
pub mod help;
pub mod picker;
pub mod plan;
pub mod session;
