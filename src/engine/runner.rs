//! The run state machine: hypothesis before, method (with a hypothesis during it), hypothesis
//! after, rollbacks — with holds, steps, skips, pauses that freeze, and aborts that cancel what is
//! in flight and go straight to the rollbacks.

use super::events::{ActivityRef, ActivityStatus, Control, Event, Phase};
use super::journal::{Entry, EntryEnd, HypothesisState, Journal};
use super::strategy::HypothesisStrategy;
use super::{verdict, Prepared, RunOptions, RunReport, StepMode};
use crate::providers::{self, ActivityError, Ctx, Outcome};
use crate::tolerance::{judge, truthy, Judgement};
use chrono::Utc;
use serde_json::{json, Map, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Why the run stopped early.
#[derive(Debug, Clone, PartialEq)]
enum Stop {
    Abort { rollback: bool, reason: String },
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
}

/// A background activity in flight: its entry index and its task.
struct Background {
    index: usize,
    aref: ActivityRef,
    task: JoinHandle<(Entry, Outcome)>,
}

impl Runner {
    pub(super) fn new(
        prepared: Prepared,
        opts: RunOptions,
        controls: mpsc::UnboundedReceiver<Control>,
        events: mpsc::UnboundedSender<Event>,
    ) -> Self {
        let Prepared { doc, resolved, .. } = prepared;
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
        let ctx = Ctx::new(vars, resolved.env.clone());
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

    /// The next control; never resolves once the sender is gone.
    async fn next_control(&mut self) -> Control {
        if let Some(rx) = self.controls.as_mut() {
            if let Some(c) = rx.recv().await {
                return c;
            }
            self.controls = None;
        }
        std::future::pending().await
    }

    async fn deadline_passed(deadline: Option<tokio::time::Instant>) {
        match deadline {
            Some(d) => tokio::time::sleep_until(d).await,
            None => std::future::pending().await,
        }
    }

    fn log_control(&mut self, c: Control) {
        self.control_log.push(json!({
            "at": super::journal::timestamp(Utc::now()),
            "control": format!("{c:?}"),
        }));
    }

    /// Applies a control that arrived while something runs. Returns true when it stops the run.
    fn take_control(&mut self, c: Control) -> bool {
        self.log_control(c);
        match c {
            Control::Pause => self.paused = true,
            Control::Resume => {
                self.paused = false;
                self.step = StepMode::Off;
            }
            Control::Step | Control::Skip => {}
            Control::Abort => return self.abort(true, "aborted by the operator"),
            Control::AbortWithoutRollback => {
                return self.abort(false, "aborted by the operator, without rollback")
            }
        }
        false
    }

    /// Records an abort; the first one decides whether rollbacks play.
    fn abort(&mut self, rollback: bool, reason: &str) -> bool {
        if self.stop.is_none() {
            self.stop = Some(Stop::Abort {
                rollback,
                reason: reason.to_string(),
            });
            self.status = Some("interrupted".into());
            self.emit(Event::Aborting {
                with_rollback: rollback,
                reason: reason.to_string(),
            });
        }
        true
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
            if !self.stopped() || !state.probes.is_empty() {
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
        let entries = self.ctx.vars.clone();
        let _ = entries;
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

    /// Checks the hypothesis once; stops at the first probe that fails or misses.
    async fn hypothesis(&mut self, phase: Phase, probes: &[Value]) -> HypothesisState {
        self.emit(Event::PhaseStarted(phase));
        let mut state = HypothesisState {
            met: true,
            probes: Vec::new(),
        };
        for (i, probe) in probes.iter().enumerate() {
            let activity = self.resolve_ref(probe);
            let aref = activity_ref(phase, i, &activity);
            let dry = self.is_dry(&activity);
            if !dry {
                self.pause(&aref, &activity, "before").await;
            }
            if self.stopped() {
                break;
            }
            let start = Utc::now();
            let mut entry = Entry::started(activity.clone(), start);
            self.emit(Event::ActivityStarted(aref.clone()));
            let began = Instant::now();
            let checked = if dry {
                None
            } else {
                let ctx = self.ctx.clone();
                let act = activity.clone();
                let fut = async move { check_probe(&act, &ctx).await };
                match self.supervise(fut, None).await {
                    Some(c) => Some(c),
                    None => {
                        entry.end = Some((Utc::now(), EntryEnd::Unfinished));
                        state.met = false;
                        state.probes.push(entry);
                        self.emit_finished(aref, ActivityStatus::Interrupted, began, None, None);
                        break;
                    }
                }
            };
            let (met, status) = match checked {
                None => {
                    entry.end = Some((Utc::now(), EntryEnd::Succeeded));
                    entry.tolerance_met = Some(true);
                    (true, ActivityStatus::Dry)
                }
                Some((outcome, met, detail)) => {
                    entry.output = outcome.output.clone().map(|o| self.ctx.vars.mask_value(&o));
                    let end = match &outcome.error {
                        Some(e) => EntryEnd::Failed(self.ctx.vars.mask(&e.to_string())),
                        None => EntryEnd::Succeeded,
                    };
                    let status = to_status(&end);
                    entry.end = Some((Utc::now(), end));
                    entry.tolerance_met = Some(met);
                    let out = entry.output.clone();
                    self.emit_finished(
                        aref.clone(),
                        status.clone(),
                        began,
                        out,
                        Some((met, detail)),
                    );
                    (met, status)
                }
            };
            if status == ActivityStatus::Dry {
                self.emit_finished(
                    aref.clone(),
                    status,
                    began,
                    None,
                    Some((true, "dry run".into())),
                );
            }
            state.probes.push(entry);
            if !dry {
                self.pause(&aref, &activity, "after").await;
            }
            if !met {
                state.met = false;
                break;
            }
        }
        self.emit(Event::HypothesisFinished {
            phase,
            met: state.met,
        });
        self.emit(Event::PhaseFinished(phase));
        state
    }

    fn emit_finished(
        &self,
        activity: ActivityRef,
        status: ActivityStatus,
        began: Instant,
        output: Option<Value>,
        tolerance: Option<(bool, String)>,
    ) {
        self.emit(Event::ActivityFinished {
            activity,
            status,
            duration: began.elapsed(),
            output,
            tolerance,
        });
    }

    /// Awaits `fut` while taking controls; `None` when an abort or the deadline cut it short.
    async fn supervise<T>(
        &mut self,
        fut: impl std::future::Future<Output = T>,
        timeout: Option<Duration>,
    ) -> Option<T> {
        tokio::pin!(fut);
        let limit = async move {
            match timeout {
                Some(t) => tokio::time::sleep(t).await,
                None => std::future::pending().await,
            }
        };
        tokio::pin!(limit);
        loop {
            let deadline = self.deadline;
            tokio::select! {
                out = &mut fut => return Some(out),
                c = self.next_control() => {
                    if self.take_control(c) { return None; }
                }
                _ = Self::deadline_passed(deadline) => {
                    self.deadline = None;
                    self.abort(true, "the run reached its --max-duration");
                    return None;
                }
                _ = &mut limit => return None,
            }
        }
    }

    fn resolve_ref(&self, activity: &Value) -> Value {
        let Some(name) = activity.get("ref").and_then(Value::as_str) else {
            return activity.clone();
        };
        let by_name = |list: Option<&Value>| {
            list.and_then(Value::as_array).and_then(|l| {
                l.iter()
                    .find(|a| a.get("name").and_then(Value::as_str) == Some(name))
                    .cloned()
            })
        };
        by_name(
            self.doc
                .get("steady-state-hypothesis")
                .and_then(|h| h.get("probes")),
        )
        .or_else(|| by_name(self.doc.get("method")))
        .unwrap_or_else(|| activity.clone())
    }

    fn is_dry(&self, activity: &Value) -> bool {
        let kind = activity.get("type").and_then(Value::as_str).unwrap_or("");
        self.opts.dry.is_some_and(|d| d.skips(kind))
    }

    fn skip_pauses(&self, activity: &Value) -> bool {
        self.opts.dry.is_some_and(|d| d == super::DryMode::Pause) || self.is_dry(activity)
    }

    /// Waits an activity's `pauses.before` or `pauses.after`; a hold freezes the countdown.
    async fn pause(&mut self, aref: &ActivityRef, activity: &Value, when: &'static str) {
        if self.skip_pauses(activity) || self.stopped() {
            return;
        }
        let raw = activity.get("pauses").and_then(|p| p.get(when));
        let secs = raw
            .map(|v| self.ctx.vars.substitute(v))
            .and_then(|v| providers::seconds(Some(&v)));
        let Some(secs) = secs.filter(|s| *s > 0.0) else {
            return;
        };
        let mut remaining = Duration::from_secs_f64(secs);
        loop {
            self.emit(Event::Countdown {
                activity: aref.clone(),
                when,
                remaining,
            });
            let until = tokio::time::Instant::now() + remaining;
            let deadline = self.deadline;
            tokio::select! {
                _ = tokio::time::sleep_until(until) => return,
                c = self.next_control() => {
                    let left = until.saturating_duration_since(tokio::time::Instant::now());
                    if self.take_control(c) { return; }
                    remaining = left;
                    if self.paused {
                        self.emit(Event::CountdownFrozen { remaining });
                        self.wait_for_go().await;
                        if self.stopped() { return; }
                    }
                }
                _ = Self::deadline_passed(deadline) => {
                    self.deadline = None;
                    self.abort(true, "the run reached its --max-duration");
                    return;
                }
            }
        }
    }

    /// Holds until Resume or Step (true) or Skip (false); an abort ends the hold too.
    async fn wait_for_go(&mut self) -> bool {
        loop {
            let deadline = self.deadline;
            tokio::select! {
                c = self.next_control() => {
                    self.log_control(c);
                    match c {
                        Control::Resume => {
                            self.paused = false;
                            self.step = StepMode::Off;
                            self.emit(Event::Resumed);
                            return true;
                        }
                        Control::Step => {
                            self.paused = false;
                            if self.step == StepMode::Off {
                                self.step = StepMode::EachActivity;
                            }
                            self.emit(Event::Resumed);
                            return true;
                        }
                        Control::Skip => {
                            self.paused = false;
                            return false;
                        }
                        Control::Pause => {}
                        Control::Abort => { self.abort(true, "aborted by the operator"); return false; }
                        Control::AbortWithoutRollback => {
                            self.abort(false, "aborted by the operator, without rollback");
                            return false;
                        }
                    }
                }
                _ = Self::deadline_passed(deadline) => {
                    self.deadline = None;
                    self.abort(true, "the run reached its --max-duration");
                    return false;
                }
            }
        }
    }

    /// A point between activities where the run may hold. Returns false when the next activity
    /// is to be skipped or the run stopped.
    async fn hold_point(&mut self, next: Option<(&ActivityRef, bool)>, _why: &str) -> bool {
        while let Ok(c) = self
            .controls
            .as_mut()
            .map_or(Err(mpsc::error::TryRecvError::Disconnected), |r| {
                r.try_recv()
            })
        {
            if self.take_control(c) {
                return false;
            }
        }
        if self.stopped() {
            return false;
        }
        let stepping = match (self.step, next) {
            (StepMode::Off, _) => false,
            (StepMode::EachActivity, _) => true,
            (StepMode::EachAction, Some((_, is_action))) => is_action,
            (StepMode::EachAction, None) => true,
        };
        if !(self.paused || stepping) {
            return true;
        }
        self.emit(Event::Held {
            next: next.map(|(a, _)| a.clone()),
        });
        self.wait_for_go().await && !self.stopped()
    }

    async fn method_phase(&mut self, strategy: HypothesisStrategy, probes: &[Value]) {
        let method = self
            .doc
            .get("method")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        self.emit(Event::PhaseStarted(Phase::Method));
        let failed_during = Arc::new(AtomicBool::new(false));
        let during = (strategy.during() && !probes.is_empty())
            .then(|| self.spawn_during(probes.to_vec(), failed_during.clone()));
        let mut background: Vec<Background> = Vec::new();
        for (i, raw) in method.iter().enumerate() {
            if self.stopped() {
                break;
            }
            if self.opts.fail_fast && failed_during.load(Ordering::SeqCst) {
                self.status = Some("failed".into());
                break;
            }
            if matches!(self.status.as_deref(), Some("failed" | "aborted")) {
                break;
            }
            let activity = self.resolve_ref(raw);
            let aref = activity_ref(Phase::Method, i, &activity);
            let is_action = aref.kind == "action";
            if !self
                .hold_point(Some((&aref, is_action)), "before a method activity")
                .await
            {
                if self.stopped() {
                    break;
                }
                self.skipped
                    .push(json!({"phase": "method", "index": i, "name": aref.name}));
                self.emit(Event::Skipped(aref));
                continue;
            }
            self.method_started = true;
            if aref.background {
                let index = self.journal.run.len();
                self.journal
                    .run
                    .push(Entry::started(activity.clone(), Utc::now()));
                self.emit(Event::ActivityStarted(aref.clone()));
                let task = self.spawn_background(activity, aref.clone());
                background.push(Background { index, aref, task });
                continue;
            }
            let (entry, unexpected) = self.run_one(&aref, &activity, None).await;
            self.journal.run.push(entry);
            self.persist(false);
            if let Some(msg) = unexpected {
                self.status = Some("aborted".into());
                self.journal
                    .chaosdeck
                    .insert("aborted_by".into(), Value::String(msg));
                break;
            }
        }
        self.join_background(background).await;
        if let Some((task, stop)) = during {
            stop.store(true, Ordering::SeqCst);
            let states = if self.stopped() {
                task.abort();
                task.await.unwrap_or_default()
            } else {
                task.await.unwrap_or_default()
            };
            let broke = states.iter().any(|s| !s.met);
            self.journal.during = states;
            if self.opts.fail_fast && broke && self.status.is_none() {
                self.status = Some("failed".into());
            }
        }
        self.emit(Event::PhaseFinished(Phase::Method));
        self.persist(true);
    }

    /// Runs one activity in the foreground with its pauses; returns its entry and, for an
    /// unexpected error, its message.
    async fn run_one(
        &mut self,
        aref: &ActivityRef,
        activity: &Value,
        default_timeout: Option<Duration>,
    ) -> (Entry, Option<String>) {
        let dry = self.is_dry(activity);
        self.pause(aref, activity, "before").await;
        let mut entry = Entry::started(activity.clone(), Utc::now());
        if self.stopped() && aref.phase != Phase::Rollbacks {
            entry.end = Some((Utc::now(), EntryEnd::Unfinished));
            return (entry, None);
        }
        self.emit(Event::ActivityStarted(aref.clone()));
        let began = Instant::now();
        if dry {
            entry.end = Some((Utc::now(), EntryEnd::Succeeded));
            self.emit_finished(aref.clone(), ActivityStatus::Dry, began, None, None);
            return (entry, None);
        }
        let timeout = activity_timeout(activity).or(default_timeout);
        let ctx = self.ctx.clone();
        let act = activity.clone();
        let fut = async move { providers::execute(&act, &ctx, true).await };
        // Rollbacks are not cut short by an abort: only by their timeout.
        let outcome = if aref.phase == Phase::Rollbacks {
            match timeout {
                Some(t) => tokio::time::timeout(t, fut).await.ok(),
                None => Some(fut.await),
            }
        } else {
            self.supervise(fut, timeout).await
        };
        let mut unexpected = None;
        let status = match outcome {
            Some(outcome) => {
                entry.output = outcome.output.map(|o| self.ctx.vars.mask_value(&o));
                let end = match outcome.error {
                    None => EntryEnd::Succeeded,
                    Some(ActivityError::Failed(m)) => EntryEnd::Failed(self.ctx.vars.mask(&m)),
                    Some(ActivityError::Unexpected(m)) => {
                        unexpected = Some(self.ctx.vars.mask(&m));
                        EntryEnd::Unfinished
                    }
                };
                let status = match &unexpected {
                    Some(m) => ActivityStatus::Failed(m.clone()),
                    None => to_status(&end),
                };
                entry.end = Some((Utc::now(), end));
                status
            }
            None if self.stopped() => {
                entry.end = Some((Utc::now(), EntryEnd::Unfinished));
                ActivityStatus::Interrupted
            }
            None => {
                let secs = timeout.map_or(0.0, |t| t.as_secs_f64());
                let msg = format!("activity took longer than its timeout of {secs} s");
                entry.end = Some((Utc::now(), EntryEnd::Failed(msg.clone())));
                ActivityStatus::Failed(msg)
            }
        };
        let out = entry.output.clone();
        self.emit_finished(aref.clone(), status, began, out, None);
        if !self.stopped() || aref.phase == Phase::Rollbacks {
            self.pause(aref, activity, "after").await;
        }
        (entry, unexpected)
    }

    fn spawn_background(&self, activity: Value, aref: ActivityRef) -> JoinHandle<(Entry, Outcome)> {
        let ctx = self.ctx.clone();
        let events = self.events.clone();
        let dry = self.is_dry(&activity);
        let skip_pauses = self.skip_pauses(&activity);
        tokio::spawn(async move {
            let wait = |when: &str| {
                let secs = activity
                    .get("pauses")
                    .and_then(|p| p.get(when))
                    .map(|v| ctx.vars.substitute(v))
                    .and_then(|v| providers::seconds(Some(&v)))
                    .filter(|_| !skip_pauses);
                async move {
                    if let Some(s) = secs {
                        tokio::time::sleep(Duration::from_secs_f64(s)).await;
                    }
                }
            };
            wait("before").await;
            let mut entry = Entry::started(activity.clone(), Utc::now());
            let began = Instant::now();
            let outcome = if dry {
                Outcome {
                    output: None,
                    error: None,
                }
            } else {
                let fut = providers::execute(&activity, &ctx, true);
                match activity_timeout(&activity) {
                    Some(t) => tokio::time::timeout(t, fut).await.unwrap_or_else(|_| {
                        Outcome::failed(ActivityError::Failed(format!(
                            "activity took longer than its timeout of {} s",
                            t.as_secs_f64()
                        )))
                    }),
                    None => fut.await,
                }
            };
            entry.output = outcome.output.as_ref().map(|o| ctx.vars.mask_value(o));
            let end = match &outcome.error {
                None => EntryEnd::Succeeded,
                Some(ActivityError::Failed(m)) => EntryEnd::Failed(ctx.vars.mask(m)),
                Some(ActivityError::Unexpected(_)) => EntryEnd::Unfinished,
            };
            let status = if dry {
                ActivityStatus::Dry
            } else {
                to_status(&end)
            };
            entry.end = Some((Utc::now(), end));
            let _ = events.send(Event::ActivityFinished {
                activity: aref,
                status,
                duration: began.elapsed(),
                output: entry.output.clone(),
                tolerance: None,
            });
            wait("after").await;
            (entry, outcome)
        })
    }

    /// Waits for background activities (all of them, also after an abort, which cancels them).
    async fn join_background(&mut self, background: Vec<Background>) {
        for bg in background {
            let mut task = bg.task;
            if self.stopped() {
                task.abort();
            }
            let result = loop {
                if self.stopped() {
                    task.abort();
                    break (&mut task).await;
                }
                let deadline = self.deadline;
                tokio::select! {
                    r = &mut task => break r,
                    c = self.next_control() => { self.take_control(c); }
                    _ = Self::deadline_passed(deadline) => {
                        self.deadline = None;
                        self.abort(true, "the run reached its --max-duration");
                    }
                }
            };
            let entry = match result {
                Ok((entry, _)) => entry,
                Err(_) => {
                    let mut e = self.journal.run[bg.index].clone();
                    e.end = Some((Utc::now(), EntryEnd::Unfinished));
                    self.emit_finished(
                        bg.aref,
                        ActivityStatus::Interrupted,
                        self.started,
                        None,
                        None,
                    );
                    e
                }
            };
            if let Some(slot) = self.journal.run.get_mut(bg.index) {
                *slot = entry;
            }
            self.persist(false);
        }
    }

    /// The during-method hypothesis: checked at once, then every `hypothesis_frequency`,
    /// until the method ends.
    fn spawn_during(
        &self,
        probes: Vec<Value>,
        failed: Arc<AtomicBool>,
    ) -> (JoinHandle<Vec<HypothesisState>>, Arc<AtomicBool>) {
        let stop = Arc::new(AtomicBool::new(false));
        let stop_flag = stop.clone();
        let ctx = self.ctx.clone();
        let every = self.opts.hypothesis_frequency;
        let fail_fast = self.opts.fail_fast;
        let events = self.events.clone();
        let doc = self.doc.clone();
        let task = tokio::spawn(async move {
            let mut states = Vec::new();
            loop {
                let mut state = HypothesisState {
                    met: true,
                    probes: Vec::new(),
                };
                for (i, probe) in probes.iter().enumerate() {
                    let activity = resolve_in(&doc, probe);
                    let start = Utc::now();
                    let (outcome, met, _detail) = check_probe(&activity, &ctx).await;
                    let mut entry = Entry::started(activity.clone(), start);
                    entry.output = outcome.output.map(|o| ctx.vars.mask_value(&o));
                    let end = match outcome.error {
                        Some(e) => EntryEnd::Failed(ctx.vars.mask(&e.to_string())),
                        None => EntryEnd::Succeeded,
                    };
                    entry.end = Some((Utc::now(), end));
                    entry.tolerance_met = Some(met);
                    state.probes.push(entry);
                    let _ = i;
                    if !met {
                        state.met = false;
                        break;
                    }
                }
                let met = state.met;
                states.push(state);
                let _ = events.send(Event::HypothesisFinished {
                    phase: Phase::During,
                    met,
                });
                if !met && fail_fast {
                    failed.store(true, Ordering::SeqCst);
                    break;
                }
                if stop_flag.load(Ordering::SeqCst) {
                    break;
                }
                let step = Duration::from_millis(20);
                let mut waited = Duration::ZERO;
                while waited < every && !stop_flag.load(Ordering::SeqCst) {
                    tokio::time::sleep(step.min(every - waited)).await;
                    waited += step;
                }
                if stop_flag.load(Ordering::SeqCst) {
                    break;
                }
            }
            states
        });
        (task, stop)
    }

    async fn rollback_phase(&mut self) {
        let status = self.status.clone().unwrap_or_else(|| "completed".into());
        let with_rollback = !matches!(
            self.stop,
            Some(Stop::Abort {
                rollback: false,
                ..
            })
        );
        let plays = with_rollback
            && self.opts.rollback_strategy.plays(
                &status,
                self.journal.deviated,
                self.method_started,
            );
        let rollbacks = self
            .doc
            .get("rollbacks")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if !plays || rollbacks.is_empty() {
            if !rollbacks.is_empty() {
                self.journal.chaosdeck.insert(
                    "rollbacks_skipped".into(),
                    json!({
                        "strategy": self.opts.rollback_strategy.to_string(),
                        "status": status,
                        "owed": !with_rollback && self.method_started,
                    }),
                );
            }
            return;
        }
        if !self.stopped() && !self.hold_point(None, "before the rollbacks").await {
            if !self.stopped() {
                self.skipped
                    .push(json!({"phase": "rollbacks", "index": null, "name": null}));
                return;
            }
            if matches!(
                self.stop,
                Some(Stop::Abort {
                    rollback: false,
                    ..
                })
            ) {
                return;
            }
        }
        self.emit(Event::PhaseStarted(Phase::Rollbacks));
        for (i, activity) in rollbacks.iter().enumerate() {
            // Abort without rollback stops after the current one; a plain abort changes nothing.
            let mut pending = Vec::new();
            if let Some(rx) = self.controls.as_mut() {
                while let Ok(c) = rx.try_recv() {
                    pending.push(c);
                }
            }
            {
                for c in pending {
                    self.log_control(c);
                    if c == Control::AbortWithoutRollback {
                        self.stop = Some(Stop::Abort {
                            rollback: false,
                            reason: "rollbacks stopped by the operator".into(),
                        });
                        self.status = Some("interrupted".into());
                    }
                }
            }
            if matches!(
                self.stop,
                Some(Stop::Abort {
                    rollback: false,
                    ..
                })
            ) {
                self.journal
                    .chaosdeck
                    .insert("rollbacks_owed_from".into(), Value::from(i));
                break;
            }
            let aref = activity_ref(Phase::Rollbacks, i, activity);
            if aref.background {
                self.emit(Event::ActivityStarted(aref.clone()));
                let index = self.journal.rollbacks.len();
                self.journal
                    .rollbacks
                    .push(Entry::started(activity.clone(), Utc::now()));
                let task = self.spawn_background(activity.clone(), aref.clone());
                let entry = match task.await {
                    Ok((e, _)) => e,
                    Err(_) => self.journal.rollbacks[index].clone(),
                };
                self.journal.rollbacks[index] = entry;
                self.persist(false);
                continue;
            }
            let timeout = Some(self.opts.rollback_timeout);
            let (entry, _) = self.run_one(&aref, activity, timeout).await;
            self.journal.rollbacks.push(entry);
            self.persist(false);
        }
        self.emit(Event::PhaseFinished(Phase::Rollbacks));
    }

    fn finish(mut self) -> RunReport {
        let end = Utc::now();
        let status = self.status.clone().unwrap_or_else(|| "completed".into());
        self.journal.status = Some(status.clone());
        self.journal.end = Some(end);
        self.journal.wall = Some(self.started.elapsed().as_secs_f64());
        if let Some(Stop::Abort { rollback, reason }) = &self.stop {
            self.journal.interruption = Some(json!({
                "kind": "operator",
                "name": if *rollback { "abort" } else { "abort-without-rollback" },
                "reason": reason,
            }));
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

/// Runs a hypothesis probe and judges it: its tolerance and its `expect` (both must hold).
/// Returns the outcome, whether the tolerance was met, and the comparison made.
async fn check_probe(activity: &Value, ctx: &Ctx) -> (Outcome, bool, String) {
    let outcome = providers::execute(activity, ctx, false).await;
    if let Some(e) = &outcome.error {
        return (outcome.clone(), false, e.to_string());
    }
    let output = outcome.output.clone().unwrap_or(Value::Null);
    let mut details = Vec::new();
    let mut met = true;
    if let Some(tolerance) = activity.get("tolerance") {
        let (ok, detail) = match judge(tolerance, &output, &ctx.vars) {
            Judgement::Decided { met, detail } => (met, detail),
            Judgement::Error(why) => (false, why),
            Judgement::RunProbe(probe) => {
                let inner = providers::execute(&probe, ctx, true).await;
                match (inner.error, inner.output) {
                    (Some(e), _) => (false, format!("tolerance probe failed: {e}")),
                    (None, out) => {
                        let ok = out.as_ref().is_some_and(truthy);
                        (
                            ok,
                            format!(
                                "tolerance probe returned {}",
                                out.map_or("None".into(), |o| crate::pyvalue::py_repr(&o))
                            ),
                        )
                    }
                }
            }
        };
        met &= ok;
        details.push(detail);
    }
    if let Some(expect) = providers::expectations(activity) {
        match crate::experiment::expect::check_expect(expect, &output) {
            Ok(d) => details.push(d),
            Err(d) => {
                met = false;
                details.push(d);
            }
        }
    }
    (outcome, met, details.join("; "))
}
