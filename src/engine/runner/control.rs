//! Holds, steps, pause countdowns, aborts and the run deadline: how a run takes its controls.

use super::*;

impl Runner {
    /// The next control; never resolves once the sender is gone.
    pub(super) async fn next_control(&mut self) -> Control {
        if let Some(rx) = self.controls.as_mut() {
            if let Some(c) = rx.recv().await {
                return c;
            }
            self.controls = None;
        }
        std::future::pending().await
    }

    pub(super) async fn deadline_passed(deadline: Option<tokio::time::Instant>) {
        match deadline {
            Some(d) => tokio::time::sleep_until(d).await,
            None => std::future::pending().await,
        }
    }

    pub(super) fn log_control(&mut self, c: Control) {
        self.control_log.push(json!({
            "at": crate::engine::journal::timestamp(Utc::now()),
            "control": format!("{c:?}"),
        }));
    }

    /// Applies a control that arrived while something runs. Returns true when it stops the run.
    pub(super) fn take_control(&mut self, c: Control) -> bool {
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
            Control::Signal(sig) => return self.abort_by_signal(sig),
        }
        false
    }

    /// Records an abort; the first one decides whether rollbacks play.
    pub(super) fn abort(&mut self, rollback: bool, reason: &str) -> bool {
        self.abort_with(rollback, reason, None)
    }

    /// SIGUSR2 aborts without rollback; SIGINT, SIGTERM and SIGUSR1 with.
    pub(super) fn abort_by_signal(&mut self, sig: Signal) -> bool {
        let reason = format!("received {}", sig.name());
        self.abort_with(sig != Signal::Usr2, &reason, Some(sig.name()))
    }

    fn abort_with(&mut self, rollback: bool, reason: &str, signal: Option<&'static str>) -> bool {
        if self.stop.is_none() {
            self.stop = Some(Stop::Abort {
                rollback,
                reason: reason.to_string(),
                signal,
            });
            self.status = Some("interrupted".into());
            self.emit(Event::Aborting {
                with_rollback: rollback,
                reason: reason.to_string(),
            });
        }
        true
    }

    /// Awaits `fut` while taking controls; `None` when an abort or the deadline cut it short.
    pub(super) async fn supervise<T>(
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

    /// Waits an activity's `pauses.before` or `pauses.after`; a hold freezes the countdown.
    /// A rollback's pauses are part of undoing the fault (waiting for a restarted service, say),
    /// so they play after an abort too, and a second abort does not cut them short.
    pub(super) async fn pause(&mut self, aref: &ActivityRef, activity: &Value, when: &'static str) {
        let rollback = aref.phase == crate::engine::Phase::Rollbacks;
        if self.skip_pauses(activity) || (self.stopped() && !rollback) {
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
                    if self.take_control(c) && !rollback { return; }
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
    pub(super) async fn wait_for_go(&mut self) -> bool {
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
                        Control::Signal(sig) => {
                            self.abort_by_signal(sig);
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
    pub(super) async fn hold_point(
        &mut self,
        next: Option<(&ActivityRef, bool)>,
        _why: &str,
    ) -> bool {
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
}
