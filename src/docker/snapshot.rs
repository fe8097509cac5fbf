//! What the container health panel shows: the engine's reachability and, per container, the
//! figures a facilitator watches during a GameDay. The watcher publishes a [`Snapshot`] only when
//! it [looks different](Snapshot::looks_different) from the last one, so CPU and memory jitter
//! below the thresholds here never wakes the TUI.

use std::collections::HashMap;
use std::fmt;

use bollard::models::{ContainerInspectResponse, ContainerStateStatusEnum, HealthStatusEnum};

/// A CPU figure counts as changed when it moves by at least this many percentage points (of one
/// core = 100). The panel shows whole percents, so smaller moves are mostly invisible noise.
pub const CPU_VISIBLE_CHANGE: f64 = 0.5;

/// A memory figure counts as changed when it moves by at least this many bytes (1 MiB).
pub const MEMORY_VISIBLE_CHANGE: u64 = 1024 * 1024;

/// The Compose label naming a container's service.
pub const COMPOSE_SERVICE_LABEL: &str = "com.docker.compose.service";

/// The Compose label naming a container's project.
pub const COMPOSE_PROJECT_LABEL: &str = "com.docker.compose.project";

/// Everything the health panel needs at one moment; the TUI draws from it and never asks Docker.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// Whether the engine answers, and where it was looked for.
    pub engine: Engine,
    /// Every container the engine knows (running or not), sorted by name. Empty while the engine
    /// is unreachable: stale figures would mislead during a fault.
    pub containers: Vec<ContainerStatus>,
}

/// The engine as the watcher last saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Engine {
    /// The first connection attempt has not finished yet.
    Connecting { address: String },
    /// The engine answers; `api_version` is the version negotiated with it.
    Connected {
        address: String,
        api_version: String,
    },
    /// No engine answers at `address`; the watcher keeps retrying with backoff.
    Unreachable { address: String, reason: String },
}

/// One container's row in the health panel.
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerStatus {
    /// The full container id.
    pub id: String,
    /// The first 12 characters of the id, as `docker ps` shows it.
    pub short_id: String,
    /// The name without Docker's leading `/`.
    pub name: String,
    /// The Compose service (label `com.docker.compose.service`), if any.
    pub service: Option<String>,
    /// The Compose project (label `com.docker.compose.project`), if any.
    pub project: Option<String>,
    pub state: State,
    pub health: Health,
    /// Restarts done by the engine's restart policy (a `docker restart` does not count).
    pub restart_count: u64,
    /// The last exit code, only while the container is exited or dead.
    pub exit_code: Option<i64>,
    /// The kernel's OOM killer struck: at the last exit, or since the last start.
    pub oom_killed: bool,
    /// CPU use in percent of one core (100 = one full core); `None` until the first sample or
    /// when not running.
    pub cpu_percent: Option<f64>,
    /// Memory in use, without the reclaimable page cache, as `docker stats` counts it.
    pub memory_bytes: Option<u64>,
}

/// A container's lifecycle state, as the engine names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    Created,
    Running,
    Paused,
    Restarting,
    Removing,
    Exited,
    Dead,
    /// The engine reported a state this version does not know.
    Unknown,
}

/// A container's health, with `None` for a container without a healthcheck (neither healthy nor
/// a crash).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Health {
    None,
    Starting,
    Healthy,
    Unhealthy,
}

impl Snapshot {
    /// A snapshot with no containers.
    pub fn empty(engine: Engine) -> Self {
        Snapshot {
            engine,
            containers: Vec::new(),
        }
    }

    /// The container with this name, if the engine has it.
    pub fn container(&self, name: &str) -> Option<&ContainerStatus> {
        self.containers.iter().find(|c| c.name == name)
    }

    /// Whether a reader would see a difference between the two (see
    /// [`ContainerStatus::looks_different`]).
    pub fn looks_different(&self, other: &Snapshot) -> bool {
        self.engine != other.engine
            || self.containers.len() != other.containers.len()
            || self
                .containers
                .iter()
                .zip(&other.containers)
                .any(|(a, b)| a.looks_different(b))
    }
}

impl ContainerStatus {
    /// Whether an experiment's target names this container: its name, its Compose service, or
    /// `project/service` for a service of one project.
    pub fn is_target(&self, target: &str) -> bool {
        match target.split_once('/') {
            Some((project, service)) => {
                self.project.as_deref() == Some(project) && self.service.as_deref() == Some(service)
            }
            None => target == self.name || self.service.as_deref() == Some(target),
        }
    }

    /// Whether a reader would see a difference: any field other than CPU and memory changed, or
    /// CPU moved by [`CPU_VISIBLE_CHANGE`] or memory by [`MEMORY_VISIBLE_CHANGE`], or a figure
    /// appeared or vanished.
    pub fn looks_different(&self, other: &ContainerStatus) -> bool {
        self.id != other.id
            || self.name != other.name
            || self.service != other.service
            || self.project != other.project
            || self.state != other.state
            || self.health != other.health
            || self.restart_count != other.restart_count
            || self.exit_code != other.exit_code
            || self.oom_killed != other.oom_killed
            || readings_differ(
                Reading {
                    cpu_percent: self.cpu_percent,
                    memory_bytes: self.memory_bytes,
                },
                Reading {
                    cpu_percent: other.cpu_percent,
                    memory_bytes: other.memory_bytes,
                },
            )
    }

    /// Builds a row from the engine's inspect answer; `None` when it lacks an id.
    pub(crate) fn from_inspect(inspect: &ContainerInspectResponse) -> Option<Self> {
        let id = inspect.id.clone()?;
        let state = inspect.state.as_ref();
        let status = state
            .and_then(|s| s.status)
            .map_or(State::Unknown, State::from);
        let health = state
            .and_then(|s| s.health.as_ref())
            .and_then(|h| h.status)
            .map_or(Health::None, Health::from);
        let exit_code = match status {
            State::Exited | State::Dead => state.and_then(|s| s.exit_code),
            _ => None,
        };
        let labels = inspect.config.as_ref().and_then(|c| c.labels.as_ref());
        let label = |key: &str| labels.and_then(|l: &HashMap<String, String>| l.get(key).cloned());
        Some(ContainerStatus {
            short_id: id.chars().take(12).collect(),
            name: inspect
                .name
                .as_deref()
                .unwrap_or_default()
                .trim_start_matches('/')
                .to_string(),
            service: label(COMPOSE_SERVICE_LABEL),
            project: label(COMPOSE_PROJECT_LABEL),
            state: status,
            health,
            restart_count: inspect.restart_count.unwrap_or(0).max(0) as u64,
            exit_code,
            oom_killed: state.and_then(|s| s.oom_killed).unwrap_or(false),
            cpu_percent: None,
            memory_bytes: None,
            id,
        })
    }
}

impl State {
    /// The engine's word for the state.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Created => "created",
            State::Running => "running",
            State::Paused => "paused",
            State::Restarting => "restarting",
            State::Removing => "removing",
            State::Exited => "exited",
            State::Dead => "dead",
            State::Unknown => "unknown",
        }
    }

    /// Whether the container has processes the engine can report stats for.
    pub fn has_processes(self) -> bool {
        matches!(self, State::Running | State::Paused)
    }
}

impl From<ContainerStateStatusEnum> for State {
    fn from(status: ContainerStateStatusEnum) -> Self {
        match status {
            ContainerStateStatusEnum::CREATED => State::Created,
            ContainerStateStatusEnum::RUNNING => State::Running,
            ContainerStateStatusEnum::PAUSED => State::Paused,
            ContainerStateStatusEnum::RESTARTING => State::Restarting,
            ContainerStateStatusEnum::REMOVING => State::Removing,
            ContainerStateStatusEnum::EXITED => State::Exited,
            ContainerStateStatusEnum::DEAD => State::Dead,
            _ => State::Unknown,
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Health {
    /// The engine's word for the health (`none` without a healthcheck).
    pub fn as_str(self) -> &'static str {
        match self {
            Health::None => "none",
            Health::Starting => "starting",
            Health::Healthy => "healthy",
            Health::Unhealthy => "unhealthy",
        }
    }
}

impl From<HealthStatusEnum> for Health {
    fn from(status: HealthStatusEnum) -> Self {
        match status {
            HealthStatusEnum::STARTING => Health::Starting,
            HealthStatusEnum::HEALTHY => Health::Healthy,
            HealthStatusEnum::UNHEALTHY => Health::Unhealthy,
            HealthStatusEnum::NONE | HealthStatusEnum::EMPTY => Health::None,
        }
    }
}

impl fmt::Display for Health {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The CPU and memory figures drawn from one stats sample.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Reading {
    pub cpu_percent: Option<f64>,
    pub memory_bytes: Option<u64>,
}

/// Whether a reader would see the difference between two readings.
pub(crate) fn readings_differ(a: Reading, b: Reading) -> bool {
    let cpu = match (a.cpu_percent, b.cpu_percent) {
        (Some(x), Some(y)) => (x - y).abs() >= CPU_VISIBLE_CHANGE,
        (x, y) => x.is_some() != y.is_some(),
    };
    let memory = match (a.memory_bytes, b.memory_bytes) {
        (Some(x), Some(y)) => x.abs_diff(y) >= MEMORY_VISIBLE_CHANGE,
        (x, y) => x.is_some() != y.is_some(),
    };
    cpu || memory
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(cpu: Option<f64>, memory: Option<u64>) -> Reading {
        Reading {
            cpu_percent: cpu,
            memory_bytes: memory,
        }
    }

    #[test]
    fn a_service_target_of_one_project_leaves_other_projects_alone() {
        let row = |name: &str, project: &str| ContainerStatus {
            id: format!("{name}-id"),
            short_id: name.to_string(),
            name: name.to_string(),
            service: Some("database".into()),
            project: Some(project.into()),
            state: State::Running,
            health: Health::None,
            restart_count: 0,
            exit_code: None,
            oom_killed: false,
            cpu_percent: None,
            memory_bytes: None,
        };
        let (ours, theirs) = (
            row("chaosdeck-database-1", "chaosdeck"),
            row("shop-database-1", "shop"),
        );
        assert!(ours.is_target("chaosdeck/database"));
        assert!(!theirs.is_target("chaosdeck/database"));
        // Without a project, the service name (or the container's name) is enough.
        assert!(ours.is_target("database") && theirs.is_target("database"));
        assert!(theirs.is_target("shop-database-1") && !theirs.is_target("shop"));
    }

    #[test]
    fn small_moves_are_not_visible() {
        let mib = MEMORY_VISIBLE_CHANGE;
        assert!(!readings_differ(
            reading(Some(1.0), Some(10 * mib)),
            reading(Some(1.4), Some(10 * mib + mib - 1))
        ));
        assert!(readings_differ(
            reading(Some(1.0), Some(0)),
            reading(Some(1.5), Some(0))
        ));
        assert!(readings_differ(
            reading(Some(0.0), Some(0)),
            reading(Some(0.0), Some(mib))
        ));
    }

    #[test]
    fn figures_appearing_or_vanishing_are_visible() {
        assert!(readings_differ(
            reading(None, None),
            reading(Some(0.0), None)
        ));
        assert!(readings_differ(reading(None, Some(1)), reading(None, None)));
        assert!(!readings_differ(reading(None, None), reading(None, None)));
    }
}
