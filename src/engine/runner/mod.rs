//! The run state machine: hypothesis before, method (with a hypothesis during it), hypothesis
//! after, rollbacks — with holds, steps, skips, pauses that freeze, and aborts that cancel what is
//! in flight and go straight to the rollbacks.

use super::{verdict, Prepared, RunOptions, RunReport, StepMode};
use crate::engine::events::{ActivityRef, ActivityStatus, Control, Event, Phase, Signal};
use crate::engine::journal::{Entry, EntryEnd, HypothesisState, Journal};
use crate::engine::ledger::{Ledger, Owed};
use crate::engine::strategy::HypothesisStrategy;
use crate::providers::{self, ActivityError, Ctx, Outcome};
use crate::tolerance::{judge, truthy, Judgement};
use chrono::Utc;
use serde_json::{json, Map, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

mod control;
mod hypothesis;
mod method;
mod recovery;
mod rollbacks;

/// Why the run stopped early.
#[derive(Debug, Clone, PartialEq)]
enum Stop {
    Abort {
        rollback: bool,
        reason: String,
        /// The signal that caused it, for the journal's `interruption`.
        signal: Option<&'static str>,
    },
}

pub(super) struct Runner {
    doc: Value,
    opts: RunOptions,
    ctx: Ctx,
    journal: Journal,
    controls: Option<mpsc::UnboundedReceiver<Control>>,
    events: mpsc::UnboundedSender<Event>,
    status: Option<String>,
    stop: Option<Stop>,
    /// A hold was asked for (Pause) and takes effect at the next point between activities.
    paused: bool,
    step: StepMode,
    deadline: Option<tokio::time::Instant>,
    method_started: bool,
    skipped: Vec<Value>,
    control_log: Vec<Value>,
    started: Instant,
    source: String,
    ledger: Option<Ledger>,
    /// The first rollback not played, once the rollback phase has decided.
    owed_from: Option<usize>,
    /// The operator skipped the rollbacks at their hold.
    rollbacks_skipped: bool,
}

impl Runner {
    pub(super) fn new(
        prepared: Prepared,
        opts: RunOptions,
        controls: mpsc::UnboundedReceiver<Control>,
        events: mpsc::UnboundedSender<Event>,
    ) -> Self {
        let Prepared {
            doc,
            resolved,
            source,
        } = prepared;
        let vars = resolved.vars.clone();
        let mut experiment = doc.clone();
        if let Some(map) = experiment.as_object_mut() {
            if let Some(title) = map.get("title").cloned() {
                map.insert("title".into(), vars.substitute(&title));
            }
            if let Some(secrets) = map.get("secrets").cloned() {
                map.insert("secrets".into(), mask_secrets(&secrets));
            }
            map.insert(
                "dry".into(),
                opts.dry
                    .map_or(Value::Null, |d| Value::String(d.as_str().into())),
            );
        }
        let journal = Journal::new(experiment, opts.journal_path.clone());
        let mut ctx = Ctx::new(vars, resolved.env.clone());
        ctx.secrets = std::sync::Arc::new(resolved.secrets.clone());
        let step = opts.step;
        Runner {
            doc,
            opts,
            ctx,
            journal,
            controls: Some(controls),
            events,
            status: None,
            stop: None,
            paused: false,
            step,
            deadline: None,
            method_started: false,
            skipped: Vec::new(),
            control_log: Vec::new(),
            started: Instant::now(),
            source,
            ledger: None,
            owed_from: None,
            rollbacks_skipped: false,
        }
    }

    fn emit(&self, e: Event) {
        let _ = self.events.send(e);
    }

    fn persist(&mut self, sync: bool) {
        if let Err(e) = self.journal.persist(sync) {
            self.journal
                .chaosdeck
                .insert("journal_error".into(), Value::String(e.to_string()));
        }
    }

    fn stopped(&self) -> bool {
        self.stop.is_some()
    }

    pub(super) async fn run(mut self) -> RunReport {
        if let Some(max) = self.opts.max_duration {
            self.deadline = Some(tokio::time::Instant::now() + max);
        }
        let title = self.journal.experiment["title"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        self.emit(Event::RunStarted { title });
        self.persist(true);
        if self.opts.recover_from.is_some() {
            self.method_started = true;
            self.rollback_phase().await;
            return self.finish();
        }
        self.prepare_http_clients();
        self.dynamic_configuration().await;
        let strategy = self.opts.hypothesis_strategy;
        let probes = self.hypothesis_probes();
        let mut before_ok = true;
        if strategy.before() && !probes.is_empty() {
            let state = self.hypothesis(Phase::Before, &probes).await;
            before_ok = state.met;
            if !state.met && !self.stopped() {
                let errored = state
                    .probes
                    .iter()
                    .any(|p| matches!(p.status(), Some(EntryEnd::Failed(_))));
                self.status = Some(if errored { "failed" } else { "completed" }.into());
            }
            // Interrupted mid-hypothesis, `before` stays null (as Chaos Toolkit leaves it).
            if !self.stopped() {
                self.journal.before = Some(state);
            }
            self.persist(true);
        }
        if before_ok && !self.stopped() {
            self.method_phase(strategy, &probes).await;
            if strategy.after()
                && !probes.is_empty()
                && !matches!(self.status.as_deref(), Some("interrupted" | "aborted"))
            {
                self.hold_point(None, "before the after-hypothesis").await;
                if !self.stopped() {
                    let state = self.hypothesis(Phase::After, &probes).await;
                    if !state.met && !self.stopped() {
                        self.journal.deviated = true;
                        self.emit(Event::Deviated);
                        let errored = state
                            .probes
                            .iter()
                            .any(|p| matches!(p.status(), Some(EntryEnd::Failed(_))));
                        self.status = Some(if errored { "failed" } else { "completed" }.into());
                    }
                    self.journal.after = Some(state);
                    self.persist(true);
                }
            }
        }
        self.rollback_phase().await;
        self.recovery_check().await;
        self.finish()
    }

    fn hypothesis_probes(&self) -> Vec<Value> {
        self.doc
            .get("steady-state-hypothesis")
            .and_then(|h| h.get("probes"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    }

    /// Evaluates dynamic configuration entries in order; a failing one leaves its key out.
    async fn dynamic_configuration(&mut self) {
        let dynamic = self
            .doc
            .get("configuration")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter(|(_, v)| {
                        matches!(
                            v.get("type").and_then(Value::as_str),
                            Some("probe" | "action")
                        )
                    })
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        for (key, activity) in dynamic {
            if self.ctx.vars.contains(&key) {
                continue;
            }
            let outcome = providers::execute(&activity, &self.ctx, false).await;
            let value = match (outcome.error, outcome.output) {
                (None, Some(out)) => dynamic_value(&activity, out),
                _ => None,
            };
            if let Some(v) = value {
                let mut vars = (*self.ctx.vars).clone();
                vars.set(&key, v);
                self.ctx.vars = Arc::new(vars);
            }
        }
    }

    /// Builds every HTTP client the run will need before anything runs.
    fn prepare_http_clients(&self) {
        fn visit(v: &Value, ctx: &Ctx) {
            match v {
                Value::Object(map) => {
                    if map.get("type").and_then(Value::as_str) == Some("http")
                        && map.contains_key("url")
                    {
                        ctx.http
                            .prepare(&providers::substitute_provider(v, &ctx.vars));
                    }
                    map.values().for_each(|x| visit(x, ctx));
                }
                Value::Array(items) => items.iter().for_each(|x| visit(x, ctx)),
                _ => {}
            }
        }
        for key in ["steady-state-hypothesis", "method", "rollbacks"] {
            if let Some(part) = self.doc.get(key) {
                visit(part, &self.ctx);
            }
        }
    }

    fn resolve_ref(&self, activity: &Value) -> Value {
        resolve_in(&self.doc, activity)
    }

    fn is_dry(&self, activity: &Value) -> bool {
        let kind = activity.get("type").and_then(Value::as_str).unwrap_or("");
        self.opts.dry.is_some_and(|d| d.skips(kind))
    }

    fn skip_pauses(&self, activity: &Value) -> bool {
        self.opts.dry.is_some_and(|d| d == super::DryMode::Pause) || self.is_dry(activity)
    }

    fn finish(mut self) -> RunReport {
        providers::process::kill_terminating();
        let end = Utc::now();
        let status = self.status.clone().unwrap_or_else(|| "completed".into());
        self.journal.status = Some(status.clone());
        self.journal.end = Some(end);
        self.journal.wall = Some(self.started.elapsed().as_secs_f64());
        self.close_ledger();
        if let Some(Stop::Abort {
            rollback,
            reason,
            signal,
        }) = &self.stop
        {
            self.journal.interruption = Some(match signal {
                Some(name) => json!({"kind": "signal", "name": name, "reason": reason}),
                None => json!({
                    "kind": "operator",
                    "name": if *rollback { "abort" } else { "abort-without-rollback" },
                    "reason": reason,
                }),
            });
        }
        let mut verdict = verdict::judge(&self.journal);
        let skipped_method = self
            .skipped
            .iter()
            .filter(|s| s["phase"] == "method")
            .count();
        if skipped_method > 0 {
            verdict.passed = false;
            verdict
                .reasons
                .push(format!("method: {skipped_method} skipped"));
        }
        if let Some(owed) = self.journal.chaosdeck.get("rollbacks_owed") {
            let from = owed["from"].as_u64().unwrap_or(0);
            verdict.passed = false;
            verdict.reasons.push(format!(
                "rollbacks: owed from rollbacks[{from}] (chaosdeck recover)"
            ));
        }
        if self.rollbacks_skipped {
            verdict.passed = false;
            verdict
                .reasons
                .push("rollbacks: skipped by the operator (still owed)".to_string());
        }
        if let Some(mode) = self
            .opts
            .dry
            .filter(|d| *d != crate::engine::DryMode::Pause)
        {
            verdict.passed = false;
            verdict.reasons.push(format!(
                "dry run (--dry {}): activities were not executed",
                mode.as_str()
            ));
        }
        if self
            .journal
            .chaosdeck
            .get("recovery")
            .and_then(|r| r.get("recovered"))
            == Some(&Value::Bool(false))
        {
            verdict.passed = false;
            verdict
                .reasons
                .push("recovery: the steady state did not come back in time".to_string());
        }
        let mut extra = std::mem::take(&mut self.journal.chaosdeck);
        extra.insert("verdict".into(), Value::String(verdict.label().into()));
        extra.insert("reasons".into(), json!(verdict.reasons));
        extra.insert(
            "strategies".into(),
            json!({
                "hypothesis": self.opts.hypothesis_strategy.to_string(),
                "rollbacks": self.opts.rollback_strategy.to_string(),
            }),
        );
        if !self.skipped.is_empty() {
            extra.insert("skipped".into(), Value::Array(self.skipped.clone()));
        }
        if !self.control_log.is_empty() {
            extra.insert("controls".into(), Value::Array(self.control_log.clone()));
        }
        extra.insert("variables".into(), masked_variables(&self.ctx));
        let reordered = reorder(extra);
        self.journal.chaosdeck = reordered;
        self.persist(true);
        self.journal.close();
        let journal_error = self
            .journal
            .chaosdeck
            .get("journal_error")
            .and_then(Value::as_str)
            .map(str::to_string);
        self.emit(Event::RunFinished {
            status: status.clone(),
            deviated: self.journal.deviated,
            passed: verdict.passed,
        });
        RunReport {
            journal: self.journal.to_value(),
            status,
            deviated: self.journal.deviated,
            verdict,
            journal_error,
        }
    }
}

/// Puts the verdict first in the `chaosdeck` block.
fn reorder(extra: Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for k in ["verdict", "reasons"] {
        if let Some(v) = extra.get(k) {
            out.insert(k.into(), v.clone());
        }
    }
    for (k, v) in extra {
        if !out.contains_key(&k) {
            out.insert(k, v);
        }
    }
    out
}

/// Resolved variables with every secret value masked.
fn masked_variables(ctx: &Ctx) -> Value {
    let vars = &ctx.vars;
    let mut out = Map::new();
    for (k, v) in vars.values() {
        out.insert(k.clone(), vars.mask_value(v));
    }
    Value::Object(out)
}

/// Literal secret values in the journal's copy of the experiment are replaced by `***`.
fn mask_secrets(secrets: &Value) -> Value {
    match secrets {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let masked = match v {
                        Value::Object(inner) if inner.get("type").is_some() => v.clone(),
                        Value::Object(_) => mask_secrets(v),
                        _ => Value::String("***".into()),
                    };
                    (k.clone(), masked)
                })
                .collect(),
        ),
        _ => Value::String("***".into()),
    }
}

fn resolve_in(doc: &Value, activity: &Value) -> Value {
    let Some(name) = activity.get("ref").and_then(Value::as_str) else {
        return activity.clone();
    };
    ["steady-state-hypothesis", "method"]
        .iter()
        .filter_map(|k| {
            let list = if *k == "method" {
                doc.get("method")
            } else {
                doc.get(k).and_then(|h| h.get("probes"))
            };
            list.and_then(Value::as_array).and_then(|l| {
                l.iter()
                    .find(|a| a.get("name").and_then(Value::as_str) == Some(name))
                    .cloned()
            })
        })
        .next()
        .unwrap_or_else(|| activity.clone())
}

fn activity_ref(phase: Phase, index: usize, activity: &Value) -> ActivityRef {
    ActivityRef {
        phase,
        index,
        name: activity
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("(unnamed)")
            .to_string(),
        kind: activity
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("activity")
            .to_string(),
        background: providers::flag(activity.get("background"), false),
    }
}

fn activity_timeout(activity: &Value) -> Option<Duration> {
    providers::seconds(activity.get("timeout")).map(Duration::from_secs_f64)
}

fn to_status(end: &EntryEnd) -> ActivityStatus {
    match end {
        EntryEnd::Succeeded => ActivityStatus::Succeeded,
        EntryEnd::Failed(m) => ActivityStatus::Failed(m.clone()),
        EntryEnd::Unfinished => ActivityStatus::Interrupted,
    }
}

/// The value a dynamic configuration entry takes from its activity's output.
fn dynamic_value(activity: &Value, output: Value) -> Option<Value> {
    let kind = activity
        .get("provider")
        .and_then(|p| p.get("type"))
        .and_then(Value::as_str);
    match kind {
        Some("process") => {
            if output.get("status").and_then(Value::as_i64) != Some(0) {
                return None;
            }
            output
                .get("stdout")
                .and_then(Value::as_str)
                .map(|s| Value::String(s.trim().to_string()))
        }
        Some("http") => output.get("body").cloned(),
        _ => Some(output),
    }
}
