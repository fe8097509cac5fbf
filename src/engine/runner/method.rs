//! The method: activities in order, background ones in parallel, with holds and aborts.

use super::*;

/// A background activity in flight: its entry index and its task.
pub(super) struct Background {
    index: usize,
    aref: ActivityRef,
    task: JoinHandle<(Entry, Outcome)>,
}

impl Runner {
    pub(super) async fn method_phase(&mut self, strategy: HypothesisStrategy, probes: &[Value]) {
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
                self.skipped.push(json!({
                    "phase": "method",
                    "index": i,
                    "name": aref.name,
                    "type": aref.kind,
                    "at": crate::engine::journal::timestamp(Utc::now()),
                }));
                self.emit(Event::Skipped(aref));
                continue;
            }
            self.method_started = true;
            if is_action && !self.is_dry(&activity) {
                self.open_ledger();
            }
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
            self.pause_after(&aref, &activity).await;
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
        // After an abort the rollbacks come first; the journal is flushed to disk at the end.
        let sync = !self.stopped();
        self.persist(sync);
    }

    /// Runs one activity in the foreground with its `pauses.before`; returns its entry and, for
    /// an unexpected error, its message. The caller records the entry, then calls
    /// [`Self::pause_after`].
    pub(super) async fn run_one(
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
            // A rollback is never cut short by an abort: only its timeout ends it.
            None if self.stopped() && aref.phase != Phase::Rollbacks => {
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
        (entry, unexpected)
    }

    /// The `pauses.after` of an activity whose entry is in the journal already, so that a
    /// `kill -9` during the pause still finds it there.
    pub(super) async fn pause_after(&mut self, aref: &ActivityRef, activity: &Value) {
        if !self.stopped() || aref.phase == Phase::Rollbacks {
            self.pause(aref, activity, "after").await;
        }
    }

    pub(super) fn spawn_background(
        &self,
        activity: Value,
        aref: ActivityRef,
    ) -> JoinHandle<(Entry, Outcome)> {
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
    pub(super) async fn join_background(&mut self, background: Vec<Background>) {
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
}
