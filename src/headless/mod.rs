//! The headless runner: `run`, `run-all` and `validate` for terminals, CI jobs and scripts.
//! Progress goes to stderr a line per activity; the verdict decides the exit code.

pub mod events_file;
pub mod gameday;
pub mod owed;
pub mod printer;
pub mod recover;
pub mod run;
pub mod run_all;

use crate::engine::{DryMode, HypothesisStrategy, Prepared, RollbackStrategy, RunOptions};
use crate::experiment::config::{self, check_names, Overrides};
use crate::experiment::load::{load, LoadOptions};
use crate::experiment::validate::validate;
use crate::experiment::Diagnostic;
use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;

/// How to read an experiment before running or checking it.
#[derive(Debug, Clone, Default)]
pub struct PrepareOptions {
    pub vars: Vec<String>,
    pub var_files: Vec<PathBuf>,
    pub no_validation: bool,
    pub no_verify_tls: bool,
    /// Do not ask the Docker engine whether docker targets exist.
    pub skip_targets: bool,
}

/// Everything wrong with a document, or the warnings it carries.
#[derive(Debug, Clone, Default)]
pub struct Findings {
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
}

/// Loads, validates and resolves an experiment. All errors are reported together; nothing runs
/// while any stands.
pub async fn prepare(spec: &str, opts: &PrepareOptions) -> Result<(Prepared, Findings), Findings> {
    let mut findings = Findings::default();
    let overrides = match overrides(opts) {
        Ok(o) => o,
        Err(msg) => {
            findings.errors.push(Diagnostic::at_path(spec, "", msg));
            return Err(findings);
        }
    };
    let loaded = match load(
        spec,
        LoadOptions {
            verify_tls: !opts.no_verify_tls,
        },
    )
    .await
    {
        Ok(l) => l,
        Err(e) => {
            findings.errors.push(e.0);
            return Err(findings);
        }
    };
    findings.warnings.extend(loaded.warnings.iter().cloned());
    if !opts.no_validation {
        let report = validate(&loaded.doc, &loaded.source);
        findings.errors.extend(report.errors);
        findings.warnings.extend(report.warnings);
    }
    let resolved = match config::resolve(&loaded.doc, &loaded.source, &overrides) {
        Ok(r) => Some(r),
        Err(errs) => {
            findings.errors.extend(errs);
            None
        }
    };
    if !opts.no_validation && !opts.skip_targets {
        // Asks the engine only when the document has docker activities; targets written with
        // `${name}` are checked with the values they will have.
        let doc = match &resolved {
            Some(r) => with_docker_targets_resolved(&loaded.doc, &r.vars),
            None => loaded.doc.clone(),
        };
        let missing = crate::docker::target::check_targets(&doc, &loaded.source).await;
        findings.errors.extend(missing);
    }
    if let Some(resolved) = &resolved {
        let (errors, warnings) = check_names(
            &loaded.doc,
            &loaded.source,
            resolved,
            &runtime_names(&loaded.doc),
        );
        findings.errors.extend(errors);
        findings.warnings.extend(warnings);
    }
    match resolved {
        Some(resolved) if findings.errors.is_empty() => Ok((
            Prepared {
                doc: loaded.doc,
                source: loaded.source,
                resolved,
            },
            findings,
        )),
        _ => Err(findings),
    }
}

/// A copy of the document whose docker providers have their target keys substituted.
fn with_docker_targets_resolved(doc: &Value, vars: &crate::experiment::substitute::Vars) -> Value {
    match doc {
        Value::Object(map) => {
            let docker = map.get("type").and_then(Value::as_str) == Some("docker");
            Value::Object(
                map.iter()
                    .map(|(k, v)| {
                        let v = if docker
                            && matches!(k.as_str(), "container" | "service" | "project")
                        {
                            vars.substitute(v)
                        } else {
                            with_docker_targets_resolved(v, vars)
                        };
                        (k.clone(), v)
                    })
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| with_docker_targets_resolved(v, vars))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Names that activities define while the run goes: `<name>_PORT` of the proxies they create.
fn runtime_names(doc: &Value) -> Vec<String> {
    crate::providers::toxiproxy::defined_names(doc)
}

fn overrides(opts: &PrepareOptions) -> Result<Overrides, String> {
    let mut o = Overrides::default();
    for file in &opts.var_files {
        config::load_var_file(file, &mut o)?;
    }
    for spec in &opts.vars {
        let (k, v) = config::parse_var(spec)?;
        o.configuration.insert(k, v);
    }
    Ok(o)
}

/// Flags that shape a run, as typed on the command line.
#[derive(Debug, Clone, Default)]
pub struct RunFlags {
    pub hypothesis_strategy: Option<String>,
    pub hypothesis_frequency: Option<f64>,
    pub fail_fast: bool,
    pub rollback_strategy: Option<String>,
    pub dry: Option<String>,
    pub settings: Option<PathBuf>,
    pub max_duration: Option<f64>,
    pub rollback_timeout: Option<f64>,
    /// Check the steady state again after the rollbacks: (interval, limit) in seconds.
    pub recovery: Option<(f64, f64)>,
}

/// Builds run options: settings file, then the experiment's `runtime`, then the command line.
pub fn run_options(doc: &Value, flags: &RunFlags) -> Result<RunOptions, String> {
    let mut opts = RunOptions::default();
    let mut hypothesis = HypothesisStrategy::Default;
    let mut rollbacks = RollbackStrategy::Safe;
    if let Some(path) = &flags.settings {
        if let Ok(text) = std::fs::read_to_string(path) {
            let settings: Value = serde_yaml::from_str(&text)
                .map_err(|e| format!("cannot read settings {}: {e}", path.display()))?;
            apply_runtime(
                settings.get("runtime"),
                &mut hypothesis,
                &mut rollbacks,
                false,
            )?;
        }
    }
    if let Some(runtime) = doc.get("runtime") {
        apply_runtime(Some(runtime), &mut hypothesis, &mut rollbacks, true)?;
    }
    if let Some(s) = &flags.hypothesis_strategy {
        hypothesis = s.parse()?;
        if hypothesis == HypothesisStrategy::Skip {
            return Err("'skip' is only accepted from an experiment's runtime".into());
        }
    }
    if let Some(s) = &flags.rollback_strategy {
        rollbacks = s.parse()?;
    }
    opts.hypothesis_strategy = hypothesis;
    opts.rollback_strategy = rollbacks;
    opts.fail_fast = flags.fail_fast;
    if let Some(f) = flags.hypothesis_frequency {
        if !(f.is_finite() && f >= 0.0) {
            return Err(format!(
                "--hypothesis-frequency must be a number of seconds, not {f}"
            ));
        }
        opts.hypothesis_frequency = Duration::from_secs_f64(f);
    }
    if let Some(d) = &flags.dry {
        opts.dry = Some(d.parse::<DryMode>()?);
    }
    if let Some(m) = flags.max_duration {
        if !(m.is_finite() && m > 0.0) {
            return Err(format!(
                "--max-duration must be a positive number of seconds, not {m}"
            ));
        }
        opts.max_duration = Some(Duration::from_secs_f64(m));
    }
    if let Some((interval, limit)) = flags.recovery {
        let ok = |v: f64| v.is_finite() && v > 0.0;
        if !(ok(interval) && ok(limit)) {
            return Err("--recovery-interval and --recovery-limit must be positive seconds".into());
        }
        opts.recovery = Some(crate::engine::RecoveryCheck {
            interval: Duration::from_secs_f64(interval),
            limit: Duration::from_secs_f64(limit),
        });
    }
    if let Some(t) = flags.rollback_timeout {
        if !(t.is_finite() && t > 0.0) {
            return Err(format!(
                "--rollback-timeout must be a positive number of seconds, not {t}"
            ));
        }
        opts.rollback_timeout = Duration::from_secs_f64(t);
    }
    Ok(opts)
}

/// Reads `runtime.hypothesis.strategy` and `runtime.rollbacks.strategy`. From the experiment,
/// the hypothesis strategy resets to `default` when `runtime` exists but names none (Chaos
/// Toolkit's rule); the rollback strategy stays `safe` unless one is named.
fn apply_runtime(
    runtime: Option<&Value>,
    hypothesis: &mut HypothesisStrategy,
    rollbacks: &mut RollbackStrategy,
    from_experiment: bool,
) -> Result<(), String> {
    let Some(runtime) = runtime else {
        return Ok(());
    };
    let named = |k: &str| {
        runtime
            .get(k)
            .and_then(|r| r.get("strategy"))
            .and_then(Value::as_str)
    };
    match named("hypothesis") {
        Some(s) => *hypothesis = s.parse()?,
        None if from_experiment => *hypothesis = HypothesisStrategy::Default,
        None => {}
    }
    if let Some(s) = named("rollbacks") {
        *rollbacks = s.parse()?;
    }
    Ok(())
}
