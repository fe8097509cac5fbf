//! Providers: what an activity's `provider` does. One file per provider type; this module picks
//! one, substitutes the fields Chaos Toolkit substitutes, and applies the `expect` dialect.

pub mod chaostoxi;
pub mod docker;
pub mod http;
pub mod natives;
pub mod process;
pub mod python;
pub mod toxiproxy;

use crate::experiment::expect::check_expect;
use crate::experiment::substitute::Vars;
use serde_json::Value;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// Why an activity did not produce a result.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ActivityError {
    /// The activity failed (Chaos Toolkit's `ActivityFailed`): recorded, and the run goes on.
    #[error("{0}")]
    Failed(String),
    /// Something Chaos Toolkit does not catch (an invalid URL, say): the method is aborted.
    #[error("{0}")]
    Unexpected(String),
}

/// What an activity produced: its output (kept even when an expectation failed it) and, when it
/// failed, why.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub output: Option<Value>,
    pub error: Option<ActivityError>,
}

impl Outcome {
    pub fn ok(output: Value) -> Self {
        Outcome {
            output: Some(output),
            error: None,
        }
    }
    pub fn failed(err: ActivityError) -> Self {
        Outcome {
            output: None,
            error: Some(err),
        }
    }
}

/// Everything a provider needs from the run.
#[derive(Clone)]
pub struct Ctx {
    pub vars: Arc<Vars>,
    /// Variables from `.env` var files, passed to child processes.
    pub env: Arc<HashMap<String, String>>,
    pub http: http::Clients,
    /// Secret values by scope, for python functions that take `secrets`.
    pub secrets: Arc<serde_json::Map<String, Value>>,
    /// How long the group of an aborted process gets between SIGTERM and SIGKILL.
    pub kill_grace: std::time::Duration,
    /// Names activities defined while the run goes (`<name>_PORT` of a created proxy), shared
    /// by every clone of the context; they win over `vars`.
    pub defined: Arc<std::sync::Mutex<serde_json::Map<String, Value>>>,
    /// What the docker provider remembers across the run's activities.
    pub docker: docker::RunMemory,
}

impl Ctx {
    pub fn new(vars: Vars, env: HashMap<String, String>) -> Self {
        Ctx {
            vars: Arc::new(vars),
            env: Arc::new(env),
            http: http::Clients::default(),
            secrets: Arc::new(serde_json::Map::new()),
            kill_grace: std::time::Duration::from_millis(500),
            defined: Arc::default(),
            docker: docker::RunMemory::default(),
        }
    }

    /// Defines (or redefines) a name for the activities that follow.
    pub fn define(&self, name: &str, value: Value) {
        let mut defined = self.defined.lock().unwrap_or_else(|p| p.into_inner());
        defined.insert(name.to_string(), value);
    }

    /// The run's variables with the names activities defined.
    pub fn current_vars(&self) -> Arc<Vars> {
        let defined = self.defined.lock().unwrap_or_else(|p| p.into_inner());
        if defined.is_empty() {
            return self.vars.clone();
        }
        let mut vars = (*self.vars).clone();
        for (k, v) in defined.iter() {
            vars.set(k, v.clone());
        }
        Arc::new(vars)
    }
}

/// The `expect` list of an activity: on the activity itself or on its provider.
pub fn expectations(activity: &Value) -> Option<&Value> {
    activity
        .get("expect")
        .or_else(|| activity.get("provider").and_then(|p| p.get("expect")))
}

/// The activity nested in a step that has no provider but holds a whole activity as its
/// `tolerance` (the guide's way of writing a checked probe in the method).
pub fn nested_step(activity: &Value) -> Option<&Value> {
    if activity.get("provider").is_some() {
        return None;
    }
    activity
        .get("tolerance")
        .filter(|t| t.get("provider").is_some())
}

/// Runs an activity's provider and, when `apply_expect` is set, fails it on an unmet
/// expectation (the output is kept). Hypothesis probes pass `false`: there `expect` is judged
/// as a tolerance.
pub fn execute<'a>(
    activity: &'a Value,
    ctx: &'a Ctx,
    apply_expect: bool,
) -> Pin<Box<dyn Future<Output = Outcome> + Send + 'a>> {
    Box::pin(async move {
        if let Some(inner) = nested_step(activity) {
            return execute(inner, ctx, true).await;
        }
        let Some(provider) = activity.get("provider") else {
            return Outcome::failed(ActivityError::Unexpected(
                "the activity has no provider".to_string(),
            ));
        };
        let provider = substitute_provider(provider, &ctx.current_vars());
        let result = match provider.get("type").and_then(Value::as_str) {
            Some("http") => http::run(&provider, ctx).await,
            Some("process") => process::run(&provider, ctx).await,
            Some("python") => python::run(&provider, ctx).await,
            Some("docker") => docker::run(&provider, ctx).await,
            Some("toxiproxy") => toxiproxy::run(&provider, ctx).await,
            Some(other) => Err(ActivityError::Unexpected(format!(
                "provider type '{other}' is not available in this build"
            ))),
            None => Err(ActivityError::Unexpected("the provider has no type".into())),
        };
        let output = match result {
            Ok(v) => v,
            Err(e) => return Outcome::failed(e),
        };
        if apply_expect {
            if let Some(expect) = expectations(activity) {
                if let Err(why) = check_expect(expect, &output) {
                    return Outcome {
                        output: Some(output),
                        error: Some(ActivityError::Failed(format!("expectation not met: {why}"))),
                    };
                }
            }
        }
        Outcome::ok(output)
    })
}

/// A copy of the provider with `${name}` substituted where Chaos Toolkit substitutes: http url,
/// headers, timeout, arguments (and the dialect's body); process and python arguments; docker
/// targets, arguments and timeout.
pub fn substitute_provider(provider: &Value, vars: &Vars) -> Value {
    let Some(map) = provider.as_object() else {
        return provider.clone();
    };
    let kind = map.get("type").and_then(Value::as_str).unwrap_or("");
    let fields: &[&str] = match kind {
        "http" => &["url", "headers", "timeout", "arguments", "body"],
        "process" | "python" => &["arguments"],
        "docker" => &["container", "service", "project", "arguments", "timeout"],
        "toxiproxy" => &["url", "arguments", "timeout"],
        _ => &["arguments"],
    };
    let mut out = map.clone();
    // Chaos Toolkit substitutes provider arguments only when the experiment has configuration
    // or secrets at all; without any, `$$` in arguments stays `$$`.
    let nothing_declared = vars.values().is_empty();
    for f in fields {
        if nothing_declared && matches!(*f, "arguments" | "body") {
            continue;
        }
        if let Some(v) = map.get(*f) {
            out.insert((*f).to_string(), vars.substitute(v));
        }
    }
    Value::Object(out)
}

/// Reads a number of seconds given as a number or a numeric string.
pub fn seconds(value: Option<&Value>) -> Option<f64> {
    match value? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|s| s.is_finite() && *s >= 0.0)
}

/// A boolean key as Chaos Toolkit reads it (YAML 1.1 words included: yes/no, on/off).
pub fn flag(value: Option<&Value>, default: bool) -> bool {
    match value {
        None | Some(Value::Null) => default,
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => match s.to_ascii_lowercase().as_str() {
            "yes" | "on" | "true" | "y" => true,
            "no" | "off" | "false" | "n" => false,
            _ => default,
        },
        Some(other) => crate::tolerance::truthy(other),
    }
}
