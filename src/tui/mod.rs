//! The GameDay TUI: the screen a facilitator shares while experiments run. It drives the engine
//! and the Docker watcher through channels and draws what they report; it never waits on Docker,
//! HTTP or a process itself. State ([`app`]) is kept apart from drawing ([`view`], [`panels`],
//! [`popups`]); one key table ([`keys`]) feeds dispatch, hints and help.

pub mod app;
pub mod catalog;
pub mod gameday;
pub mod gameday_io;
pub mod keys;
pub mod panels;
pub mod plan;
pub mod popups;
pub mod run;
pub mod terminal;
pub mod text;
pub mod theme;
pub mod timeline;
pub mod view;

pub use run::{run, run_gameday, run_with, TuiOptions};
