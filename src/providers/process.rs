//! The process provider: runs a program with its arguments (a list without a shell, a string
//! through `/bin/sh -c`), captures its exit status and output, and never leaves its process group
//! behind — on timeout, and when the run drops the activity on abort.

use super::{seconds, ActivityError, Ctx};
use crate::experiment::pathlookup::resolve_executable;
use crate::pyvalue::py_str;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

/// How much of each of stdout and stderr is kept.
pub const OUTPUT_CAP: usize = 1024 * 1024;

/// Runs a process provider.
pub async fn run(provider: &Value, ctx: &Ctx) -> Result<Value, ActivityError> {
    let path = provider.get("path").and_then(Value::as_str).unwrap_or("");
    let program = resolve_executable(path).map_err(ActivityError::Failed)?;
    let timeout = seconds(provider.get("timeout"));
    let spec = match provider.get("arguments") {
        None | Some(Value::Null) => Invocation::direct(program, Vec::new()),
        Some(Value::String(s)) => Invocation::shell(format!("{} {}", program.display(), s)),
        Some(Value::Array(items)) => Invocation::direct(program, list_args(items)),
        Some(Value::Object(map)) => {
            let mut args = Vec::new();
            for (k, v) in map {
                args.push(k.clone());
                if !v.is_null() && v != "" {
                    args.push(py_str(v));
                }
            }
            Invocation::direct(program, args)
        }
        Some(other) => Invocation::direct(program, vec![py_str(other)]),
    };
    let done = spec.run(timeout, None, ctx).await?;
    Ok(done.to_value())
}

/// A list of arguments as Python stringifies them, `null` and `""` left out.
pub fn list_args(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .filter(|v| !v.is_null() && *v != "")
        .map(py_str)
        .collect()
}

/// A program and its arguments, ready to run.
pub struct Invocation {
    pub program: PathBuf,
    pub args: Vec<String>,
}

impl Invocation {
    pub fn direct(program: PathBuf, args: Vec<String>) -> Self {
        Invocation { program, args }
    }

    pub fn shell(line: String) -> Self {
        Invocation {
            program: PathBuf::from("/bin/sh"),
            args: vec!["-c".to_string(), line],
        }
    }

    /// Runs it in a process group of its own. `timeout` kills the group and fails the activity;
    /// dropping the returned future (an abort) terminates the group.
    pub async fn run(
        &self,
        timeout: Option<f64>,
        stdin: Option<Vec<u8>>,
        ctx: &Ctx,
    ) -> Result<Finished, ActivityError> {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args)
            .envs(ctx.env.iter())
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let mut child = cmd.spawn().map_err(|e| {
            ActivityError::Failed(format!("cannot start {}: {e}", self.program.display()))
        })?;
        let mut guard = GroupGuard {
            pgid: child.id().map(|p| p as i32),
            grace: ctx.kill_grace,
        };
        if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
            tokio::spawn(async move {
                let _ = pipe.write_all(&input).await;
            });
        }
        let out = tokio::spawn(read_capped(child.stdout.take()));
        let err = tokio::spawn(read_capped(child.stderr.take()));
        let waited = match timeout {
            Some(t) => match tokio::time::timeout(Duration::from_secs_f64(t), child.wait()).await {
                Ok(r) => r,
                Err(_) => {
                    guard.kill_now();
                    let _ = child.wait().await;
                    return Err(ActivityError::Failed(
                        "process activity took too long to complete".to_string(),
                    ));
                }
            },
            None => child.wait().await,
        };
        let status = waited.map_err(|e| ActivityError::Failed(format!("waiting failed: {e}")))?;
        // The program ended by itself: what it started in the background is its own business,
        // as with Chaos Toolkit (the output is read until those close it too).
        guard.pgid = None;
        let stdout = out.await.unwrap_or_default();
        let stderr = err.await.unwrap_or_default();
        let code = match status.code() {
            Some(c) => c,
            None => {
                use std::os::unix::process::ExitStatusExt;
                -status.signal().unwrap_or(0)
            }
        };
        Ok(Finished {
            status: code,
            stdout,
            stderr,
        })
    }
}

/// A finished process: exit status (negative signal number when killed), decoded output.
#[derive(Debug, Clone)]
pub struct Finished {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Finished {
    /// The process provider's result shape.
    pub fn to_value(&self) -> Value {
        json!({"status": self.status, "stdout": self.stdout, "stderr": self.stderr})
    }
}

/// Reads a stream to its end, keeping at most [`OUTPUT_CAP`] bytes; bytes that are not UTF-8
/// are replaced, so any output can be stored and shown.
async fn read_capped<R: AsyncRead + Unpin>(stream: Option<R>) -> String {
    let Some(mut stream) = stream else {
        return String::new();
    };
    let mut kept = Vec::new();
    let mut dropped: u64 = 0;
    let mut buf = [0u8; 8192];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let room = OUTPUT_CAP.saturating_sub(kept.len());
                let take = n.min(room);
                kept.extend_from_slice(&buf[..take]);
                dropped += (n - take) as u64;
            }
        }
    }
    let mut text = String::from_utf8_lossy(&kept).into_owned();
    if dropped > 0 {
        text.push_str(&format!("\n[chaosdeck: {dropped} more bytes not kept]"));
    }
    text
}

/// Terminates a process group when dropped: SIGTERM at once, SIGKILL after a grace period.
struct GroupGuard {
    pgid: Option<i32>,
    grace: Duration,
}

impl GroupGuard {
    fn kill_now(&mut self) {
        if let Some(pgid) = self.pgid.take() {
            signal_group(pgid, libc::SIGKILL);
        }
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if let Some(pgid) = self.pgid.take() {
            terminate_group(pgid, self.grace);
        }
    }
}

/// Groups sent SIGTERM whose grace has not run out yet.
static TERMINATING: std::sync::Mutex<Vec<i32>> = std::sync::Mutex::new(Vec::new());

/// Sends SIGTERM to a process group, then SIGKILL after `grace` if any member is left.
pub fn terminate_group(pgid: i32, grace: Duration) {
    if !signal_group(pgid, libc::SIGTERM) {
        return;
    }
    TERMINATING
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(pgid);
    let finish = move || {
        signal_group(pgid, libc::SIGKILL);
        TERMINATING
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|g| *g != pgid);
    };
    let step = Duration::from_millis(20);
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => {
            handle.spawn(async move {
                let mut waited = Duration::ZERO;
                while waited < grace && signal_group(pgid, 0) {
                    tokio::time::sleep(step).await;
                    waited += step;
                }
                finish();
            });
        }
        Err(_) => {
            std::thread::spawn(move || {
                let mut waited = Duration::ZERO;
                while waited < grace && signal_group(pgid, 0) {
                    std::thread::sleep(step);
                    waited += step;
                }
                finish();
            });
        }
    }
}

/// Kills at once every group still in its grace period: called when a run ends, so no
/// process that ignores SIGTERM outlives it.
pub fn kill_terminating() {
    let groups = std::mem::take(&mut *TERMINATING.lock().unwrap_or_else(|p| p.into_inner()));
    for pgid in groups {
        signal_group(pgid, libc::SIGKILL);
    }
}

/// Signals every process of a group; false when the group no longer exists.
fn signal_group(pgid: i32, sig: i32) -> bool {
    if pgid <= 1 {
        return false;
    }
    // SAFETY: kill(2) with a negative pid only sends a signal; it touches no memory of ours.
    unsafe { libc::kill(-pgid, sig) == 0 }
}
