//! Faults that need remembering: resource limits (the original values are kept in a file under
//! the data directory, keyed by container id, so a later run or a rollback after a crash can put
//! them back) and network disconnect/connect (the endpoint's aliases are kept so a reconnected
//! container answers to the same names).

use super::{ActivityError, Aim};
use crate::engine::ledger::data_dir;
use bollard::models::{ContainerUpdateBody, EndpointSettings};
use bollard::models::{NetworkConnectRequest, NetworkDisconnectRequest};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::path::PathBuf;

/// CFS period used when limiting CPU by quota (the kernel's default, 100 ms).
const CPU_PERIOD: i64 = 100_000;

/// A container's limits before `set_limits` changed them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Original {
    pub container: String,
    pub memory: i64,
    pub memory_swap: i64,
    pub nano_cpus: i64,
    pub cpu_period: i64,
    pub cpu_quota: i64,
}

/// Where remembered values for a container live.
fn remembered(kind: &str, id: &str) -> Option<PathBuf> {
    let kind: String = kind
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    Some(data_dir()?.join("docker").join(format!("{kind}-{id}.json")))
}

fn recall<T: for<'de> Deserialize<'de>>(kind: &str, id: &str) -> Option<T> {
    let text = std::fs::read_to_string(remembered(kind, id)?).ok()?;
    serde_json::from_str(&text).ok()
}

fn remember<T: Serialize>(kind: &str, id: &str, value: &T) -> Result<(), String> {
    let path = remembered(kind, id).ok_or("no data directory for this user")?;
    let dir = path.parent().ok_or("no data directory for this user")?;
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let text = serde_json::to_vec_pretty(value).map_err(|e| e.to_string())?;
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, text)
        .and_then(|_| std::fs::rename(&tmp, &path))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn forget(kind: &str, id: &str) {
    if let Some(path) = remembered(kind, id) {
        let _ = std::fs::remove_file(path);
    }
}

/// Reads a memory size: bytes as a number, or text with a unit b, k, m or g (powers of 1024).
pub fn parse_memory(value: &Value) -> Option<i64> {
    if let Some(n) = value.as_f64() {
        return (n.is_finite() && n > 0.0).then_some(n as i64);
    }
    let text = value.as_str()?.trim().to_ascii_lowercase();
    let text = text.strip_suffix('b').unwrap_or(&text);
    let (digits, scale) = match text.chars().last()? {
        'k' => (&text[..text.len() - 1], 1i64 << 10),
        'm' => (&text[..text.len() - 1], 1 << 20),
        'g' => (&text[..text.len() - 1], 1 << 30),
        _ => (text, 1),
    };
    let n: f64 = digits.trim().parse().ok()?;
    (n.is_finite() && n > 0.0).then_some((n * scale as f64) as i64)
}

/// Limits CPU (`cpus`, in cores) and/or memory (`memory`, e.g. "64m"); the first call keeps the
/// originals, so repeated calls still restore to what was there before the experiment.
pub async fn set(aim: &Aim<'_>) -> Result<Value, ActivityError> {
    let func = "set_limits";
    let cpus = aim.number("cpus").filter(|c| *c > 0.0);
    let memory = aim.arguments.get("memory").and_then(parse_memory);
    if cpus.is_none() && memory.is_none() {
        return Err(aim.fail(
            func,
            "set_limits needs `cpus` (cores, e.g. 0.5) or `memory` (e.g. \"64m\")",
        ));
    }
    let id = &aim.found.id;
    let inspect = aim
        .docker
        .inspect_container(id, None)
        .await
        .map_err(|e| aim.fail(func, e))?;
    let host = inspect.host_config.unwrap_or_default();
    let original = Original {
        container: aim.found.name.clone(),
        memory: host.memory.unwrap_or(0),
        memory_swap: host.memory_swap.unwrap_or(0),
        nano_cpus: host.nano_cpus.unwrap_or(0),
        cpu_period: host.cpu_period.unwrap_or(0),
        cpu_quota: host.cpu_quota.unwrap_or(0),
    };
    let kept: Original = match recall("limits", id) {
        Some(earlier) => earlier,
        None => {
            remember("limits", id, &original).map_err(|e| aim.fail(func, e))?;
            original.clone()
        }
    };
    let mut body = ContainerUpdateBody::default();
    if let Some(cpus) = cpus {
        // An engine refuses a CPU quota on a container limited by NanoCpus, and the reverse.
        if original.nano_cpus > 0 {
            body.nano_cpus = Some((cpus * 1e9) as i64);
        } else {
            body.cpu_period = Some(CPU_PERIOD);
            body.cpu_quota = Some((cpus * CPU_PERIOD as f64).max(1000.0) as i64);
        }
    }
    if let Some(memory) = memory {
        // Swap limited to the same value: the memory limit is a real one.
        body.memory = Some(memory);
        body.memory_swap = Some(memory);
    }
    aim.docker
        .update_container(id, body)
        .await
        .map_err(|e| aim.fail(func, e))?;
    let mut out = aim.after(func).await?;
    out["original"] = json!(kept);
    Ok(out)
}

/// Puts back the limits `set_limits` remembered. With nothing remembered it changes nothing and
/// says so (`restored: false`), so a rollback may always run it.
pub async fn restore(aim: &Aim<'_>) -> Result<Value, ActivityError> {
    let func = "restore_limits";
    let id = &aim.found.id;
    let Some(original) = recall::<Original>("limits", id) else {
        let mut out = aim.after(func).await?;
        out["restored"] = json!(false);
        return Ok(out);
    };
    let mut body = ContainerUpdateBody::default();
    if original.nano_cpus > 0 {
        body.nano_cpus = Some(original.nano_cpus);
    } else {
        // The engine ignores 0; -1 is "no quota".
        body.cpu_quota = Some(if original.cpu_quota > 0 {
            original.cpu_quota
        } else {
            -1
        });
        body.cpu_period = Some(if original.cpu_period > 0 {
            original.cpu_period
        } else {
            CPU_PERIOD
        });
    }
    // The engine cannot remove a memory limit once set (0 is ignored, -1 refused): "no limit"
    // comes back as the host's whole memory.
    let memory = if original.memory > 0 {
        original.memory
    } else {
        let info = aim.docker.info().await.map_err(|e| aim.fail(func, e))?;
        info.mem_total.unwrap_or(0)
    };
    if memory > 0 {
        body.memory = Some(memory);
        body.memory_swap = Some(if original.memory_swap > memory {
            original.memory_swap
        } else {
            memory
        });
    }
    aim.docker
        .update_container(id, body)
        .await
        .map_err(|e| aim.fail(func, e))?;
    forget("limits", id);
    let mut out = aim.after(func).await?;
    out["restored"] = json!(true);
    Ok(out)
}

fn network<'a>(aim: &'a Aim<'_>, func: &str) -> Result<&'a str, ActivityError> {
    aim.text("network")
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| {
            aim.fail(
                func,
                format!("{func} needs `arguments.network`: the network's name"),
            )
        })
}

/// Cuts the container off a network, remembering its aliases there.
pub async fn disconnect(aim: &Aim<'_>) -> Result<Value, ActivityError> {
    let func = "disconnect";
    let net = network(aim, func)?;
    let id = &aim.found.id;
    let inspect = aim
        .docker
        .inspect_container(id, None)
        .await
        .map_err(|e| aim.fail(func, e))?;
    let endpoint = inspect
        .network_settings
        .and_then(|n| n.networks)
        .and_then(|mut n| n.remove(net));
    if let Some(aliases) = endpoint.and_then(|e| e.aliases) {
        let short = super::short_id(id);
        let aliases: Vec<String> = aliases.into_iter().filter(|a| *a != short).collect();
        remember(&format!("aliases-{net}"), id, &aliases).map_err(|e| aim.fail(func, e))?;
    }
    let request = NetworkDisconnectRequest {
        container: id.clone(),
        force: Some(false),
    };
    aim.docker
        .disconnect_network(net, request)
        .await
        .map_err(|e| aim.fail(func, e))?;
    aim.after(func).await
}

/// Connects the container to a network again, with the aliases it had there (or its Compose
/// service name).
pub async fn connect(aim: &Aim<'_>) -> Result<Value, ActivityError> {
    let func = "connect";
    let net = network(aim, func)?;
    let id = &aim.found.id;
    let kind = format!("aliases-{net}");
    let aliases: Vec<String> = recall(&kind, id).unwrap_or_else(|| match &aim.target {
        crate::docker::target::Target::Service { service, .. } => vec![service.clone()],
        _ => Vec::new(),
    });
    let request = NetworkConnectRequest {
        container: id.clone(),
        endpoint_config: (!aliases.is_empty()).then(|| EndpointSettings {
            aliases: Some(aliases),
            ..Default::default()
        }),
    };
    aim.docker
        .connect_network(net, request)
        .await
        .map_err(|e| aim.fail(func, e))?;
    forget(&kind, id);
    aim.after(func).await
}
