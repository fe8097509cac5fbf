//! The record of what a `chaosdeck demo` started (`<data>/chaosdeck/demo/started.json`): each
//! container, network and process is written down before it is started, so whatever ends the
//! demo — a quit, a signal, a panic, or `kill -9` and the next start — everything it names can
//! be removed, and nothing it does not name ever is.

use bollard::Docker;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The label every container and network of a demo stack carries, with its project as value
/// (the same mark `scripts/demo-stack.sh` uses); only those are removed.
pub const OWNER_LABEL: &str = "dev.chaosdeck.demo.project";

/// A process the loopback demo started.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StartedProcess {
    pub pid: u32,
    pub service: String,
}

/// What one demo started.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Started {
    /// The `chaosdeck demo` that wrote it.
    pub pid: u32,
    /// The Compose project of its containers, when it started any.
    pub project: Option<String>,
    pub networks: Vec<String>,
    pub containers: Vec<String>,
    pub processes: Vec<StartedProcess>,
}

impl Started {
    pub fn is_empty(&self) -> bool {
        self.networks.is_empty() && self.containers.is_empty() && self.processes.is_empty()
    }
}

/// The record on disk, rewritten atomically on every change.
#[derive(Debug, Clone)]
pub struct Record {
    path: PathBuf,
    pub started: Started,
}

impl Record {
    /// The record file of a demo folder.
    pub fn path_in(demo_dir: &Path) -> PathBuf {
        demo_dir.join("started.json")
    }

    /// What an earlier demo left, if it left a record; an unreadable one is an error.
    pub fn read(demo_dir: &Path) -> Result<Option<Record>, String> {
        let path = Record::path_in(demo_dir);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        let started = serde_json::from_str(&text).map_err(|e| {
            format!(
                "{} is not a record chaosdeck demo wrote ({e}); remove it once you have checked \
                 what it names",
                path.display()
            )
        })?;
        Ok(Some(Record { path, started }))
    }

    /// A fresh record for this process.
    pub fn create(demo_dir: &Path) -> std::io::Result<Record> {
        let record = Record {
            path: Record::path_in(demo_dir),
            started: Started {
                pid: std::process::id(),
                ..Started::default()
            },
        };
        record.save()?;
        Ok(record)
    }

    pub fn save(&self) -> std::io::Result<()> {
        let value = serde_json::to_value(&self.started).map_err(std::io::Error::other)?;
        crate::engine::journal::write_atomic(&self.path, &value, true)
    }

    /// Notes a change and writes it before anything else happens.
    pub fn update(&mut self, change: impl FnOnce(&mut Started)) -> std::io::Result<()> {
        change(&mut self.started);
        self.save()
    }

    /// Removes the record file.
    pub fn clear(self) -> std::io::Result<()> {
        match std::fs::remove_file(&self.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Whether the demo that wrote this record still runs (another process than this one).
    pub fn owner_alive(&self) -> bool {
        let pid = self.started.pid;
        pid != std::process::id() && cmdline(pid).is_some_and(|c| c.contains("demo"))
    }
}

/// A process's command line, arguments joined by spaces, if it exists and is not a zombie.
fn cmdline(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let zombie = stat
        .rsplit(')')
        .next()
        .is_some_and(|rest| rest.trim_start().starts_with('Z'));
    if zombie {
        return None;
    }
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    Some(String::from_utf8_lossy(&raw).replace('\0', " "))
}

/// Removes everything `record` names — processes that are still demo services, containers and
/// networks that still carry the record's project label — and says what it removed or left.
/// The record stays when something it names could not be removed (no Docker engine answers,
/// say), so a later try still knows about it.
pub async fn remove_all(mut record: Record, docker: Option<&Docker>) -> (Vec<String>, Vec<String>) {
    let (mut removed, mut problems) = (Vec::new(), Vec::new());
    for p in std::mem::take(&mut record.started.processes) {
        if cmdline(p.pid).is_some_and(|c| c.contains("demo-service")) {
            // SAFETY: kill(2) on a pid that is, as just checked, one of our demo services.
            unsafe { libc::kill(p.pid as i32, libc::SIGKILL) };
            removed.push(format!("process {} ({})", p.pid, p.service));
        }
    }
    let project = record.started.project.clone().unwrap_or_default();
    let mut kept = Started {
        pid: record.started.pid,
        project: record.started.project.clone(),
        ..Started::default()
    };
    for name in std::mem::take(&mut record.started.containers) {
        match remove_container(docker, &name, &project).await {
            Ok(true) => removed.push(format!("container {name}")),
            Ok(false) => {}
            Err(e) => {
                problems.push(e);
                kept.containers.push(name);
            }
        }
    }
    for name in std::mem::take(&mut record.started.networks) {
        match remove_network(docker, &name, &project).await {
            Ok(true) => removed.push(format!("network {name}")),
            Ok(false) => {}
            Err(e) => {
                problems.push(e);
                kept.networks.push(name);
            }
        }
    }
    let path = record.path.clone();
    let outcome = if kept.is_empty() {
        record.clear()
    } else {
        record.started = kept;
        record.save()
    };
    if let Err(e) = outcome {
        problems.push(format!("cannot update {}: {e}", path.display()));
    }
    (removed, problems)
}

/// Removes the container `name` if it carries our label for `project`; Ok(false) when it is
/// gone already or is not ours (left alone).
async fn remove_container(
    docker: Option<&Docker>,
    name: &str,
    project: &str,
) -> Result<bool, String> {
    let docker = docker.ok_or_else(|| {
        format!("container {name} was left: no Docker engine answers to remove it")
    })?;
    let labels = match docker.inspect_container(name, None).await {
        Ok(c) => c.config.and_then(|c| c.labels).unwrap_or_default(),
        Err(e) if not_found(&e) => return Ok(false),
        Err(e) => return Err(format!("container {name}: {e}")),
    };
    if labels.get(OWNER_LABEL).map(String::as_str) != Some(project) {
        return Ok(false);
    }
    let options = bollard::query_parameters::RemoveContainerOptionsBuilder::default()
        .force(true)
        .build();
    match docker.remove_container(name, Some(options)).await {
        Ok(()) => Ok(true),
        Err(e) if not_found(&e) => Ok(false),
        Err(e) => Err(format!("cannot remove container {name}: {e}")),
    }
}

async fn remove_network(
    docker: Option<&Docker>,
    name: &str,
    project: &str,
) -> Result<bool, String> {
    let docker = docker
        .ok_or_else(|| format!("network {name} was left: no Docker engine answers to remove it"))?;
    let labels = match docker.inspect_network(name, None).await {
        Ok(n) => n.labels.unwrap_or_default(),
        Err(e) if not_found(&e) => return Ok(false),
        Err(e) => return Err(format!("network {name}: {e}")),
    };
    if labels.get(OWNER_LABEL).map(String::as_str) != Some(project) {
        return Ok(false);
    }
    match docker.remove_network(name).await {
        Ok(()) => Ok(true),
        Err(e) if not_found(&e) => Ok(false),
        Err(e) => Err(format!("cannot remove network {name}: {e}")),
    }
}

/// Whether the engine said "no such object".
pub fn not_found(e: &bollard::errors::Error) -> bool {
    matches!(
        e,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}
