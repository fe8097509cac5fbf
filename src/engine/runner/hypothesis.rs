//! The steady-state hypothesis: checked before and after the method, and repeatedly during it.

use super::*;

impl Runner {
    /// Checks the hypothesis once; stops at the first probe that fails or misses.
    pub(super) async fn hypothesis(&mut self, phase: Phase, probes: &[Value]) -> HypothesisState {
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

    pub(super) fn emit_finished(
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

    /// The during-method hypothesis: checked at once, then every `hypothesis_frequency`,
    /// until the method ends.
    pub(super) fn spawn_during(
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
                for probe in &probes {
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
}

/// Runs a hypothesis probe and judges it: its tolerance and its `expect` (both must hold).
/// Returns the outcome, whether the tolerance was met, and the comparison made.
pub(super) async fn check_probe(activity: &Value, ctx: &Ctx) -> (Outcome, bool, String) {
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
