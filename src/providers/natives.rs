//! Well-known Python callables that chaosdeck runs itself, by what they mean, so that the
//! experiments that use them need no Python: `time.sleep`, `subprocess.run`/`call`/`check_call`/
//! `check_output`, and the activity wrapper `chaoslib.types.run_activity`.

use super::process::{list_args, Invocation};
use super::{execute, ActivityError, Ctx};
use crate::experiment::pathlookup::resolve_executable;
use crate::pyvalue::py_str;
use serde_json::Value;
use std::time::Duration;

/// A callable chaosdeck runs natively.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Native {
    Sleep,
    Subprocess { check: bool },
    RunActivity,
}

/// Recognises `module.func`.
pub fn native(module: &str, func: &str) -> Option<Native> {
    match (module, func) {
        ("time", "sleep") => Some(Native::Sleep),
        ("subprocess", "run") => Some(Native::Subprocess { check: false }),
        ("subprocess", "call") => Some(Native::Subprocess { check: false }),
        ("subprocess", "check_call" | "check_output") => Some(Native::Subprocess { check: true }),
        ("chaoslib.types" | "chaoslib.activity", "run_activity") => Some(Native::RunActivity),
        _ => None,
    }
}

/// The number of seconds `time.sleep` is asked for: the `seconds` or `secs` argument, or the
/// only argument there is, or the first of a list.
pub fn sleep_seconds(arguments: Option<&Value>) -> Option<f64> {
    let value = match arguments? {
        Value::Object(map) => map
            .get("seconds")
            .or_else(|| map.get("secs"))
            .or_else(|| (map.len() == 1).then(|| map.values().next()).flatten()),
        Value::Array(items) => items.first(),
        other => Some(other),
    };
    super::seconds(value)
}

/// Runs a native callable with its (substituted) arguments.
pub async fn run(
    kind: Native,
    arguments: Option<&Value>,
    ctx: &Ctx,
) -> Result<Value, ActivityError> {
    match kind {
        Native::Sleep => {
            let secs = sleep_seconds(arguments).ok_or_else(|| {
                ActivityError::Failed("time.sleep needs a number of seconds".to_string())
            })?;
            tokio::time::sleep(Duration::from_secs_f64(secs)).await;
            Ok(Value::Null)
        }
        Native::Subprocess { check } => subprocess(arguments, check, ctx).await,
        Native::RunActivity => {
            let activity = arguments.and_then(|a| a.get("activity")).ok_or_else(|| {
                ActivityError::Failed("run_activity needs an 'activity' argument".to_string())
            })?;
            let outcome = execute(activity, ctx, true).await;
            match outcome.error {
                Some(e) => Err(e),
                None => Ok(outcome.output.unwrap_or(Value::Null)),
            }
        }
    }
}

async fn subprocess(
    arguments: Option<&Value>,
    check: bool,
    ctx: &Ctx,
) -> Result<Value, ActivityError> {
    let args = arguments
        .and_then(|a| a.get("args"))
        .or_else(|| arguments.filter(|a| a.is_array() || a.is_string()))
        .ok_or_else(|| ActivityError::Failed("subprocess needs 'args'".to_string()))?;
    let shell = super::flag(arguments.and_then(|a| a.get("shell")), false);
    let check = check || super::flag(arguments.and_then(|a| a.get("check")), false);
    let timeout = super::seconds(arguments.and_then(|a| a.get("timeout")));
    let invocation = match args {
        Value::String(line) if shell => Invocation::shell(line.clone()),
        Value::Array(items) if shell => Invocation::shell(list_args(items).join(" ")),
        Value::String(program) => Invocation::direct(resolve(program)?, Vec::new()),
        Value::Array(items) => {
            let mut words = list_args(items).into_iter();
            let program = words
                .next()
                .ok_or_else(|| ActivityError::Failed("subprocess 'args' is empty".to_string()))?;
            Invocation::direct(resolve(&program)?, words.collect())
        }
        other => {
            return Err(ActivityError::Failed(format!(
                "subprocess 'args' must be a list or a string, not {}",
                py_str(other)
            )))
        }
    };
    let done = invocation.run(timeout, None, ctx).await?;
    if check && done.status != 0 {
        return Err(ActivityError::Failed(format!(
            "command {} returned non-zero exit status {}",
            py_str(args),
            done.status
        )));
    }
    Ok(done.to_value())
}

fn resolve(program: &str) -> Result<std::path::PathBuf, ActivityError> {
    resolve_executable(program).map_err(ActivityError::Failed)
}
