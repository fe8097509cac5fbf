//! The rollbacks: played by strategy, never cut short by a second abort; an abort without
//! rollback stops them after the current one and leaves the rest owed in the ledger.

use super::*;

impl Runner {
    fn without_rollback(&self) -> bool {
        matches!(
            self.stop,
            Some(Stop::Abort {
                rollback: false,
                ..
            })
        )
    }

    /// Takes the controls that arrived while a rollback played: only an abort without
    /// rollback matters now.
    fn drain_controls_during_rollbacks(&mut self) {
        let mut pending = Vec::new();
        if let Some(rx) = self.controls.as_mut() {
            while let Ok(c) = rx.try_recv() {
                pending.push(c);
            }
        }
        for c in pending {
            self.log_control(c);
            let stops = matches!(
                c,
                Control::AbortWithoutRollback | Control::Signal(Signal::Usr2)
            );
            if stops {
                self.stop = Some(Stop::Abort {
                    rollback: false,
                    reason: "rollbacks stopped by the operator".into(),
                    signal: None,
                });
                self.status = Some("interrupted".into());
            }
        }
    }

    pub(super) async fn rollback_phase(&mut self) {
        let status = self.status.clone().unwrap_or_else(|| "completed".into());
        let with_rollback = !self.without_rollback();
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
        let first = self.opts.recover_from.unwrap_or(0);
        if !plays || rollbacks.len() <= first {
            if !rollbacks.is_empty() {
                self.journal.chaosdeck.insert(
                    "rollbacks_skipped".into(),
                    json!({
                        "strategy": self.opts.rollback_strategy.to_string(),
                        "status": status,
                    }),
                );
            }
            self.owed_from = Some(first);
            return;
        }
        if !self.stopped() && !self.hold_point(None, "before the rollbacks").await {
            if !self.stopped() {
                self.skipped
                    .push(json!({"phase": "rollbacks", "index": null, "name": null}));
                self.owed_from = Some(first);
                self.rollbacks_skipped = true;
                return;
            }
            if self.without_rollback() {
                self.owed_from = Some(first);
                return;
            }
        }
        self.emit(Event::PhaseStarted(Phase::Rollbacks));
        for (i, activity) in rollbacks.iter().enumerate().skip(first) {
            self.drain_controls_during_rollbacks();
            if self.without_rollback() {
                self.owed_from = Some(i);
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
            self.pause_after(&aref, activity).await;
        }
        self.emit(Event::PhaseFinished(Phase::Rollbacks));
    }

    /// Records in the ledger, before the first method action starts, the rollbacks now owed.
    pub(super) fn open_ledger(&mut self) {
        if self.ledger.is_some() || self.opts.recover_from.is_some() {
            return;
        }
        let Some(dir) = self.opts.ledger_dir.clone() else {
            return;
        };
        let has_rollbacks = self
            .doc
            .get("rollbacks")
            .and_then(Value::as_array)
            .is_some_and(|l| !l.is_empty());
        if !has_rollbacks {
            return;
        }
        let started = crate::engine::journal::timestamp(self.journal.start);
        let owed = Owed {
            id: format!(
                "{}-{}",
                self.journal.start.format("%Y%m%dT%H%M%S%.6f"),
                std::process::id()
            ),
            pid: std::process::id(),
            started,
            source: self.source.clone(),
            title: self.journal.experiment["title"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            state: "running".into(),
            owed_from: 0,
            // Literal secrets are not stored: `recover` reads them again from the source.
            experiment: {
                let mut doc = self.doc.clone();
                if let Some(secrets) = doc.get("secrets").cloned() {
                    doc["secrets"] = mask_secrets(&secrets);
                }
                doc
            },
            configuration: self.ctx.vars.configuration(),
            journal_path: self.journal.path().map(|p| p.display().to_string()),
        };
        match Ledger::create(&dir, owed) {
            Ok(l) => self.ledger = Some(l),
            Err(e) => {
                self.journal.chaosdeck.insert(
                    "ledger_error".into(),
                    Value::String(format!(
                        "cannot record owed rollbacks in {}: {e}",
                        dir.display()
                    )),
                );
            }
        }
    }

    /// Clears the ledger record, or marks the rollbacks still owed after an abort without
    /// rollback or an interruption that skipped them.
    pub(super) fn close_ledger(&mut self) {
        let Some(mut ledger) = self.ledger.take() else {
            return;
        };
        let status = self.status.as_deref().unwrap_or("completed");
        let skipped_by_interruption = status == "interrupted"
            && self.opts.rollback_strategy != crate::engine::RollbackStrategy::Never;
        let owed = match self.owed_from {
            Some(i)
                if self.without_rollback() || skipped_by_interruption || self.rollbacks_skipped =>
            {
                Some(i)
            }
            _ => None,
        };
        match owed {
            Some(i) => {
                ledger.owed.state = "owed".into();
                ledger.owed.owed_from = i;
                let _ = ledger.save();
                self.journal.chaosdeck.insert(
                    "rollbacks_owed".into(),
                    json!({"from": i, "ledger": ledger.path().display().to_string()}),
                );
            }
            None => {
                let _ = ledger.clear();
            }
        }
    }
}
