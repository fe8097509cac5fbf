//! The recovery check: after the rollbacks, the steady-state probes are checked again every few
//! seconds until they hold or a time limit passes. Chaos Toolkit checks the steady state before
//! the rollbacks, so nothing there tells when the system came back; this does.

use super::hypothesis::check_probe;
use super::*;
use crate::engine::journal::timestamp;

impl Runner {
    /// Checks the hypothesis after the rollbacks until it holds or the limit passes, and
    /// records the outcome under the journal's `chaosdeck.recovery`.
    pub(super) async fn recovery_check(&mut self) {
        let Some(check) = self.opts.recovery else {
            return;
        };
        let probes = self.hypothesis_probes();
        if probes.is_empty() || !self.method_started || self.owed_from.is_some() {
            return;
        }
        // The clock starts when the rollbacks did, or when the method ended without any.
        let from = self
            .journal
            .rollbacks
            .first()
            .map(|e| e.start)
            .or_else(|| {
                self.journal
                    .run
                    .iter()
                    .filter_map(|e| e.end.as_ref().map(|(t, _)| *t))
                    .max()
            })
            .unwrap_or_else(Utc::now);
        let began = Instant::now();
        let mut checks = 0usize;
        let mut recovered_at = None;
        let mut last_detail = String::new();
        loop {
            checks += 1;
            let mut met = true;
            for probe in &probes {
                let activity = resolve_in(&self.doc, probe);
                let (_, ok, detail) = check_probe(&activity, &self.ctx).await;
                if !ok {
                    met = false;
                    last_detail =
                        format!("{}: {detail}", activity["name"].as_str().unwrap_or("probe"));
                    break;
                }
            }
            self.emit(Event::RecoveryChecked {
                met,
                elapsed: began.elapsed(),
            });
            if met {
                recovered_at = Some(Utc::now());
                break;
            }
            if began.elapsed() + check.interval > check.limit {
                break;
            }
            tokio::time::sleep(check.interval).await;
        }
        let mut record = Map::new();
        record.insert("from".into(), timestamp(from).into());
        record.insert("checks".into(), Value::from(checks));
        record.insert("recovered".into(), Value::Bool(recovered_at.is_some()));
        match recovered_at {
            Some(at) => {
                record.insert("recovered_at".into(), timestamp(at).into());
                record.insert(
                    "seconds".into(),
                    Value::from(crate::engine::journal::duration(from, at)),
                );
            }
            None => {
                record.insert("last_failure".into(), Value::String(last_detail));
            }
        }
        self.journal
            .chaosdeck
            .insert("recovery".into(), Value::Object(record));
        self.persist(false);
    }
}
