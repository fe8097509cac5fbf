//! The popups drawn over the panels, one file each.

pub mod ask;
pub mod help;
pub mod plan;
