//! The demo's GameDay plan and experiments, built into the binary so `chaosdeck demo` needs
//! nothing but the executable: they are written out at each start under the demo folder of the
//! data directory, the plan in `gamedays/`, the experiments of the chosen flavour in
//! `experiments/`, where the plan's relative paths find them.

use std::io;
use std::path::{Path, PathBuf};

/// Which system the demo's experiments act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    /// The stack as containers; the experiments use the docker provider.
    Docker,
    /// Supervised processes on loopback; the experiments use the demo's control API.
    Loopback,
}

/// The plan `chaosdeck demo` opens.
pub const PLAN: (&str, &str) = ("demo.yaml", include_str!("../../assets/demo/gameday.yaml"));

/// The docker flavour: the project's own experiments, unchanged (their targets come from the
/// environment the demo sets).
pub const DOCKER: [(&str, &str); 3] = [
    (
        "database-failure.yaml",
        include_str!("../../experiments/database-failure.yaml"),
    ),
    (
        "cache-unavailable.yaml",
        include_str!("../../experiments/cache-unavailable.yaml"),
    ),
    (
        "multi-component-failure.yaml",
        include_str!("../../experiments/multi-component-failure.yaml"),
    ),
];

/// The loopback flavour: the same scenarios through the supervisor's control API.
pub const LOOPBACK: [(&str, &str); 3] = [
    (
        "database-failure.yaml",
        include_str!("../../assets/demo/loopback/database-failure.yaml"),
    ),
    (
        "cache-unavailable.yaml",
        include_str!("../../assets/demo/loopback/cache-unavailable.yaml"),
    ),
    (
        "multi-component-failure.yaml",
        include_str!("../../assets/demo/loopback/multi-component-failure.yaml"),
    ),
];

impl Flavour {
    /// The experiments of this flavour, by file name.
    pub fn experiments(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Flavour::Docker => &DOCKER,
            Flavour::Loopback => &LOOPBACK,
        }
    }
}

/// Where the written-out files are.
#[derive(Debug, Clone)]
pub struct Written {
    pub plan: PathBuf,
    pub experiments: PathBuf,
}

/// Writes the plan and the experiments of `flavour` under `demo_dir`, replacing whatever an
/// earlier demo wrote there (the other flavour's files included).
pub fn write_out(demo_dir: &Path, flavour: Flavour) -> io::Result<Written> {
    let experiments = demo_dir.join("experiments");
    let gamedays = demo_dir.join("gamedays");
    if experiments.exists() {
        std::fs::remove_dir_all(&experiments)?;
    }
    std::fs::create_dir_all(&experiments)?;
    std::fs::create_dir_all(&gamedays)?;
    for (name, text) in flavour.experiments() {
        std::fs::write(experiments.join(name), text)?;
    }
    let plan = gamedays.join(PLAN.0);
    std::fs::write(&plan, PLAN.1)?;
    Ok(Written { plan, experiments })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_flavours_have_every_experiment_the_plan_names() {
        for flavour in [Flavour::Docker, Flavour::Loopback] {
            let dir = std::env::temp_dir().join(format!(
                "chaosdeck-embedded-{}-{flavour:?}",
                std::process::id()
            ));
            let written = write_out(&dir, flavour).unwrap();
            let loaded = crate::gameday::plan::load(&written.plan)
                .unwrap_or_else(|e| panic!("{flavour:?}: the plan does not load: {e:?}"));
            assert_eq!(loaded.experiment_files.len(), 3);
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}
