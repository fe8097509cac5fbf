//! The python provider: `module.func(**arguments)`. Well-known callables run natively; any other
//! goes to a small bridge run by the user's Python interpreter (`CHAOSDECK_PYTHON`, else
//! `python3`), with JSON in and out.

use super::natives::{self, native};
use super::process::Invocation;
use super::{ActivityError, Ctx};
use crate::experiment::pathlookup::resolve_executable;
use serde_json::{json, Value};

const BRIDGE: &str = r#"
import sys, json, importlib, inspect
req = json.load(sys.stdin)
real = sys.stdout
sys.stdout = sys.stderr
try:
    fn = getattr(importlib.import_module(req["module"]), req["func"])
    args = dict(req.get("arguments") or {})
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        params = {}
    if "configuration" in params:
        args["configuration"] = req.get("configuration") or {}
    if "secrets" in params:
        args["secrets"] = req.get("secrets") or {}
    out = fn(**args)
    try:
        text = json.dumps({"ok": out})
    except (TypeError, ValueError):
        text = json.dumps({"ok": repr(out)})
except BaseException as e:
    text = json.dumps({"error": "%s: %s" % (type(e).__name__, e)})
real.write(text)
real.flush()
"#;

/// The interpreter python activities run under.
pub fn interpreter() -> String {
    std::env::var("CHAOSDECK_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

/// Runs a python provider (already substituted).
pub async fn run(provider: &Value, ctx: &Ctx) -> Result<Value, ActivityError> {
    let module = provider.get("module").and_then(Value::as_str).unwrap_or("");
    let func = provider.get("func").and_then(Value::as_str).unwrap_or("");
    let arguments = provider.get("arguments");
    if let Some(kind) = native(module, func) {
        return natives::run(kind, arguments, ctx).await;
    }
    if let Some(func) = super::chaostoxi::native(module, func) {
        return super::chaostoxi::run(func, provider, ctx).await;
    }
    let python = interpreter();
    let program = resolve_executable(&python).map_err(|e| {
        ActivityError::Failed(format!(
            "{module}.{func} needs a Python interpreter: {e} (set CHAOSDECK_PYTHON)"
        ))
    })?;
    let request = json!({
        "module": module,
        "func": func,
        "arguments": arguments.cloned().unwrap_or(Value::Null),
        "configuration": Value::Object(ctx.current_vars().values().clone()),
        "secrets": requested_secrets(provider, ctx),
    });
    let invocation = Invocation::direct(program, vec!["-c".to_string(), BRIDGE.to_string()]);
    let stdin = serde_json::to_vec(&request).unwrap_or_default();
    let timeout = super::seconds(provider.get("timeout"));
    let done = invocation.run(timeout, Some(stdin), ctx).await?;
    let reply: Value = serde_json::from_str(done.stdout.trim()).map_err(|_| {
        ActivityError::Failed(format!(
            "{module}.{func} gave no result (exit status {}): {}",
            done.status,
            done.stderr.trim()
        ))
    })?;
    if let Some(err) = reply.get("error").and_then(Value::as_str) {
        return Err(ActivityError::Failed(err.to_string()));
    }
    Ok(reply.get("ok").cloned().unwrap_or(Value::Null))
}

/// The secrets a python function gets: the values of the scopes its provider lists in
/// `secrets`, merged in that order (as Chaos Toolkit passes them).
fn requested_secrets(provider: &Value, ctx: &Ctx) -> Value {
    let mut merged = serde_json::Map::new();
    if let Some(scopes) = provider.get("secrets").and_then(Value::as_array) {
        for scope in scopes.iter().filter_map(Value::as_str) {
            if let Some(Value::Object(values)) = ctx.secrets.get(scope) {
                for (k, v) in values {
                    merged.insert(k.clone(), v.clone());
                }
            }
        }
    }
    Value::Object(merged)
}
