//! The docker provider: container faults (stop, start, restart, kill, pause, unpause, exec,
//! resource limits, network disconnect and connect) and probes (state, health, restart count,
//! stats, logs) through the Docker engine API. Targets are a container name or id, or a Compose
//! service (and project); see [`crate::docker::target`].

mod limits;
mod memory;
mod probes;

pub use limits::parse_memory;
pub use memory::RunMemory;

use super::{seconds, ActivityError, Ctx};
use crate::docker::target::{find, list_all, Found, Target};
use crate::docker::{address, connect};
use bollard::errors::Error as EngineError;
use bollard::query_parameters::{
    KillContainerOptionsBuilder, RestartContainerOptionsBuilder, StopContainerOptionsBuilder,
};
use bollard::Docker;
use serde_json::{json, Value};
use std::time::Duration;

/// The provider's functions that change a container.
pub const ACTIONS: &[&str] = &[
    "stop",
    "start",
    "restart",
    "kill",
    "pause",
    "unpause",
    "exec",
    "set_limits",
    "restore_limits",
    "disconnect",
    "connect",
];
/// The provider's functions that only read.
pub const PROBES: &[&str] = &["state", "health", "restart_count", "stats", "logs"];

/// How long an engine call may take when the provider sets no `timeout`, on top of a grace.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// A resolved target: the engine connection and the container it names.
pub(crate) struct Aim<'a> {
    /// The engine, version negotiated.
    pub docker: Docker,
    /// The container acted on.
    pub found: Found,
    /// What the provider asked for (a service target names its service in messages).
    pub target: Target,
    /// The provider's `arguments` (null when absent).
    pub arguments: &'a Value,
}

impl Aim<'_> {
    /// An activity failure naming the target, its container and the engine.
    pub fn fail(&self, func: &str, why: impl std::fmt::Display) -> ActivityError {
        let short = short_id(&self.found.id);
        let what = match &self.target {
            Target::Container(_) => format!("container '{}' ({short})", self.found.name),
            t => format!(
                "{} (container '{}', {short})",
                t.describe(),
                self.found.name
            ),
        };
        ActivityError::Failed(format!(
            "docker {func} on {what} failed at {}: {}",
            address(),
            why.to_string().trim()
        ))
    }

    /// A number argument, if given.
    pub fn number(&self, key: &str) -> Option<f64> {
        seconds(self.arguments.get(key))
    }

    /// A text argument, if given.
    pub fn text(&self, key: &str) -> Option<&str> {
        self.arguments.get(key).and_then(Value::as_str)
    }

    /// The action result: the container, its short id and its state after.
    pub async fn after(&self, func: &str) -> Result<Value, ActivityError> {
        let inspect = self
            .docker
            .inspect_container(&self.found.id, None)
            .await
            .map_err(|e| self.fail(func, e))?;
        let status = inspect
            .state
            .and_then(|s| s.status)
            .map(|s| s.to_string())
            .unwrap_or_default();
        Ok(json!({"container": self.found.name, "id": short_id(&self.found.id), "status": status}))
    }
}

/// The first 12 characters of an id, as `docker ps` shows it.
pub fn short_id(id: &str) -> String {
    id.chars().take(12).collect()
}

/// Runs a docker provider.
pub async fn run(provider: &Value, ctx: &Ctx) -> Result<Value, ActivityError> {
    let func = provider.get("func").and_then(Value::as_str).unwrap_or("");
    if !ACTIONS.contains(&func) && !PROBES.contains(&func) {
        return Err(ActivityError::Failed(format!(
            "the docker provider has no func '{func}': actions are {}; probes are {}",
            ACTIONS.join(", "),
            PROBES.join(", ")
        )));
    }
    let Some(target) = Target::of(provider) else {
        return Err(ActivityError::Failed(
            "a docker provider needs a `container` (name or id) or a Compose `service`".into(),
        ));
    };
    let null = Value::Null;
    let arguments = provider.get("arguments").unwrap_or(&null);
    let grace = seconds(arguments.get("grace")).unwrap_or(0.0);
    let limit = seconds(provider.get("timeout"))
        .map(Duration::from_secs_f64)
        .unwrap_or(DEFAULT_TIMEOUT + Duration::from_secs_f64(grace));
    let work = async {
        let docker = connect()
            .await
            .map_err(|e| ActivityError::Failed(format!("docker {func}: {e}")))?;
        let all = list_all(&docker)
            .await
            .map_err(|e| ActivityError::Failed(format!("docker {func}: {e}")))?;
        let found = pinned_or_found(&ctx.docker, &all, &target)
            .map_err(|e| ActivityError::Failed(format!("docker {func}: {e}")))?;
        let aim = Aim {
            docker,
            found,
            target: target.clone(),
            arguments,
        };
        if func == "start" || func == "unpause" {
            settle_abandoned_stop(&ctx.docker, &aim).await;
        }
        let stopping = matches!(func, "stop" | "restart").then(|| {
            ctx.docker
                .stop_guard(&aim.found.id, Duration::from_secs_f64(grace))
        });
        let result = dispatch(func, &aim).await;
        if let Some(guard) = stopping {
            guard.done();
        }
        result
    };
    match tokio::time::timeout(limit, work).await {
        Ok(result) => result,
        Err(_) => Err(ActivityError::Failed(format!(
            "docker {func} on {} took longer than {:.0} s (engine at {})",
            target.describe(),
            limit.as_secs_f64(),
            address()
        ))),
    }
}

/// A service target keeps the container it first resolved to for the whole run, while that
/// container exists: the rollback acts on the replica the method hit.
fn pinned_or_found(
    memory: &RunMemory,
    all: &[bollard::models::ContainerSummary],
    target: &Target,
) -> Result<Found, String> {
    let Target::Service { .. } = target else {
        return find(all, target);
    };
    let key = target.describe();
    if let Some(id) = memory.pinned(&key) {
        if let Some(c) = all.iter().find(|c| c.id.as_deref() == Some(id.as_str())) {
            return Ok(Found {
                id,
                name: crate::docker::target::name_of(c),
            });
        }
    }
    let found = find(all, target)?;
    memory.pin(&key, &found.id);
    Ok(found)
}

/// Before starting a container whose stop was abandoned (an abort while the engine waited out
/// its grace), waits until that stop has really ended, so the start is not a no-op on a
/// container about to die.
async fn settle_abandoned_stop(memory: &RunMemory, aim: &Aim<'_>) {
    let Some(until) = memory.stopping_until(&aim.found.id) else {
        return;
    };
    while std::time::Instant::now() < until {
        let running = aim
            .docker
            .inspect_container(&aim.found.id, None)
            .await
            .ok()
            .and_then(|i| i.state)
            .and_then(|s| s.running)
            .unwrap_or(false);
        if !running {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn dispatch(func: &str, aim: &Aim<'_>) -> Result<Value, ActivityError> {
    let id = aim.found.id.as_str();
    let docker = &aim.docker;
    let grace = aim.number("grace").map(|g| g.round() as i32);
    let done = match func {
        "stop" => {
            let mut o = StopContainerOptionsBuilder::default();
            if let Some(g) = grace {
                o = o.t(g);
            }
            docker.stop_container(id, Some(o.build())).await
        }
        "start" => docker.start_container(id, None).await,
        "restart" => {
            let mut o = RestartContainerOptionsBuilder::default();
            if let Some(g) = grace {
                o = o.t(g);
            }
            docker.restart_container(id, Some(o.build())).await
        }
        "kill" => {
            let signal = aim.text("signal").unwrap_or("SIGKILL");
            let o = KillContainerOptionsBuilder::default()
                .signal(signal)
                .build();
            docker.kill_container(id, Some(o)).await
        }
        "pause" => docker.pause_container(id).await,
        "unpause" => docker.unpause_container(id).await,
        "exec" => return probes::exec(aim).await,
        "set_limits" => return limits::set(aim).await,
        "restore_limits" => return limits::restore(aim).await,
        "disconnect" => return limits::disconnect(aim).await,
        "connect" => return limits::connect(aim).await,
        "state" => return probes::state(aim).await,
        "health" => return probes::state(aim).await.map(|s| s["health"].clone()),
        "restart_count" => return probes::state(aim).await.map(|s| s["restart_count"].clone()),
        "stats" => return probes::stats(aim).await,
        "logs" => return probes::logs(aim).await,
        other => {
            return Err(ActivityError::Failed(format!(
                "the docker provider has no func '{other}'"
            )))
        }
    };
    match done {
        Ok(()) => {}
        // 304: already in the asked state (start of a running container, stop of a stopped one).
        Err(EngineError::DockerResponseServerError {
            status_code: 304, ..
        }) => {}
        Err(e) => return Err(aim.fail(func, e)),
    }
    aim.after(func).await
}
