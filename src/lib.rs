//! chaosdeck: runs Chaos Toolkit experiments for GameDays. The library holds the experiment model,
//! the engine and the providers; the binary only wires the command line to them.

pub mod demo;
pub mod docker;
pub mod engine;
pub mod experiment;
pub mod gameday;
pub mod headless;
pub mod providers;
pub mod proxy;
pub mod pyregex;
pub mod pyvalue;
pub mod tolerance;
pub mod tui;
