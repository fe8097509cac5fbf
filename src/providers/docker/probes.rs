//! Docker probes (state, stats, logs) and `exec`, whose result has the process provider's shape
//! so `expect` checks work the same on both.

use super::super::process::OUTPUT_CAP;
use super::{ActivityError, Aim};
use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, StartExecResults};
use bollard::models::ContainerStatsResponse;
use bollard::query_parameters::{LogsOptionsBuilder, StatsOptionsBuilder};
use futures_util::{Stream, StreamExt};
use serde_json::{json, Value};

/// The container's state: status, running, exit code, OOM flag, restart count and health
/// (`none` when it has no healthcheck).
pub async fn state(aim: &Aim<'_>) -> Result<Value, ActivityError> {
    let inspect = aim
        .docker
        .inspect_container(&aim.found.id, None)
        .await
        .map_err(|e| aim.fail("state", e))?;
    let state = inspect.state.unwrap_or_default();
    let health = state
        .health
        .and_then(|h| h.status)
        .map(|s| s.to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "none".to_string());
    Ok(json!({
        "status": state.status.map(|s| s.to_string()).unwrap_or_default(),
        "running": state.running.unwrap_or(false),
        "exit_code": state.exit_code.unwrap_or(0),
        "oom_killed": state.oom_killed.unwrap_or(false),
        "restart_count": inspect.restart_count.unwrap_or(0),
        "health": health,
    }))
}

/// CPU and memory from the engine's one-shot stats, which carry two samples about a second
/// apart: CPU in percent of one core (a container using two full cores reads 200).
pub async fn stats(aim: &Aim<'_>) -> Result<Value, ActivityError> {
    // A stopped container has no figures: zeros would pass a "CPU below" check on a dead box.
    let running = aim
        .docker
        .inspect_container(&aim.found.id, None)
        .await
        .map_err(|e| aim.fail("stats", e))?
        .state
        .and_then(|s| s.running)
        .unwrap_or(false);
    if !running {
        return Err(aim.fail(
            "stats",
            "the container is not running, so it has no figures",
        ));
    }
    let options = StatsOptionsBuilder::default()
        .stream(false)
        .one_shot(false)
        .build();
    let mut stream = std::pin::pin!(aim.docker.stats(&aim.found.id, Some(options)));
    let sample = match stream.next().await {
        Some(Ok(s)) => s,
        Some(Err(e)) => return Err(aim.fail("stats", e)),
        None => return Err(aim.fail("stats", "the engine sent no sample")),
    };
    Ok(figures(&sample))
}

/// The stats result computed from one engine sample.
pub fn figures(s: &ContainerStatsResponse) -> Value {
    let total = |c: &Option<bollard::models::ContainerCpuStats>| {
        let c = c.as_ref();
        (
            c.and_then(|c| c.cpu_usage.as_ref())
                .and_then(|u| u.total_usage)
                .unwrap_or(0),
            c.and_then(|c| c.system_cpu_usage).unwrap_or(0),
        )
    };
    let (cpu, system) = total(&s.cpu_stats);
    let (pre_cpu, pre_system) = total(&s.precpu_stats);
    let cpus = s
        .cpu_stats
        .as_ref()
        .and_then(|c| {
            c.online_cpus.map(u64::from).or_else(|| {
                c.cpu_usage
                    .as_ref()
                    .and_then(|u| u.percpu_usage.as_ref())
                    .map(|p| p.len() as u64)
            })
        })
        .filter(|n| *n > 0)
        .unwrap_or(1);
    let cpu_delta = cpu.saturating_sub(pre_cpu) as f64;
    let system_delta = system.saturating_sub(pre_system) as f64;
    let cpu_percent = if pre_system > 0 && system_delta > 0.0 {
        cpu_delta / system_delta * cpus as f64 * 100.0
    } else {
        0.0
    };
    let memory = s.memory_stats.as_ref();
    let usage = memory.and_then(|m| m.usage).unwrap_or(0);
    // Page cache the kernel can drop is not the container's own memory (as `docker stats`).
    let cache = memory
        .and_then(|m| m.stats.as_ref())
        .and_then(|st| {
            st.get("total_inactive_file")
                .or_else(|| st.get("inactive_file"))
        })
        .copied()
        .unwrap_or(0);
    let used = usage.saturating_sub(cache);
    let limit = memory.and_then(|m| m.limit).unwrap_or(0);
    let memory_percent = if limit > 0 {
        used as f64 / limit as f64 * 100.0
    } else {
        0.0
    };
    json!({
        "cpu_percent": round2(cpu_percent),
        "memory_bytes": used,
        "memory_limit_bytes": limit,
        "memory_percent": round2(memory_percent),
    })
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The last `tail` lines (50 unless given) of the container's output, stdout and stderr apart.
pub async fn logs(aim: &Aim<'_>) -> Result<Value, ActivityError> {
    let tail = aim
        .number("tail")
        .map(|t| (t.round() as u64).to_string())
        .or_else(|| (aim.text("tail") == Some("all")).then(|| "all".to_string()))
        .unwrap_or_else(|| "50".to_string());
    let options = LogsOptionsBuilder::default()
        .stdout(true)
        .stderr(true)
        .tail(&tail)
        .build();
    let stream = aim.docker.logs(&aim.found.id, Some(options));
    let (stdout, stderr) = collect(stream).await.map_err(|e| aim.fail("logs", e))?;
    Ok(json!({"status": 0, "stdout": stdout, "stderr": stderr}))
}

/// Runs a command in the container (a list of words, or one string through `sh -c`) with
/// optional `user`, `workdir` and `env`; returns its exit status and output.
pub async fn exec(aim: &Aim<'_>) -> Result<Value, ActivityError> {
    let cmd: Vec<String> = match aim.arguments.get("command") {
        Some(Value::String(line)) if !line.trim().is_empty() => {
            vec!["sh".into(), "-c".into(), line.clone()]
        }
        Some(Value::Array(words)) if !words.is_empty() => {
            words.iter().map(crate::pyvalue::py_str).collect()
        }
        _ => {
            return Err(aim.fail(
                "exec",
                "exec needs `arguments.command`: a list of words or one shell string",
            ))
        }
    };
    let env: Option<Vec<String>> = aim
        .arguments
        .get("env")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", crate::pyvalue::py_str(v)))
                .collect()
        });
    let options = CreateExecOptions {
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        cmd: Some(cmd),
        env,
        user: aim.text("user").map(str::to_string),
        working_dir: aim.text("workdir").map(str::to_string),
        ..Default::default()
    };
    let docker = &aim.docker;
    let created = docker
        .create_exec(&aim.found.id, options)
        .await
        .map_err(|e| aim.fail("exec", e))?;
    let started = docker
        .start_exec(&created.id, None)
        .await
        .map_err(|e| aim.fail("exec", e))?;
    let (stdout, stderr) = match started {
        StartExecResults::Attached { output, .. } => {
            collect(output).await.map_err(|e| aim.fail("exec", e))?
        }
        StartExecResults::Detached => (String::new(), String::new()),
    };
    let inspect = docker
        .inspect_exec(&created.id)
        .await
        .map_err(|e| aim.fail("exec", e))?;
    let status = inspect.exit_code.unwrap_or(-1);
    Ok(json!({"status": status, "stdout": stdout, "stderr": stderr}))
}

/// Reads an engine output stream to its end, stdout and stderr apart, each capped.
async fn collect<S>(stream: S) -> Result<(String, String), bollard::errors::Error>
where
    S: Stream<Item = Result<LogOutput, bollard::errors::Error>>,
{
    let mut stream = std::pin::pin!(stream);
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let (mut out_dropped, mut err_dropped) = (0u64, 0u64);
    while let Some(chunk) = stream.next().await {
        let (sink, dropped, bytes) = match chunk? {
            LogOutput::StdErr { message } => (&mut err, &mut err_dropped, message),
            LogOutput::StdOut { message } | LogOutput::Console { message } => {
                (&mut out, &mut out_dropped, message)
            }
            LogOutput::StdIn { .. } => continue,
        };
        let room = OUTPUT_CAP.saturating_sub(sink.len());
        let take = bytes.len().min(room);
        sink.extend_from_slice(&bytes[..take]);
        *dropped += (bytes.len() - take) as u64;
    }
    let text = |bytes: &[u8], dropped: u64| {
        let mut t = String::from_utf8_lossy(bytes).into_owned();
        if dropped > 0 {
            t.push_str(&format!("\n[chaosdeck: {dropped} more bytes not kept]"));
        }
        t
    };
    Ok((text(&out, out_dropped), text(&err, err_dropped)))
}
