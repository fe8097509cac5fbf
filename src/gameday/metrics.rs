//! Figures derived from a run's journal: time to detect and time to recover.
//!
//! - **Time to detect**: from the first action's start to the end of the first steady-state
//!   check during the method that failed after it; not measured without a during-method check.
//! - **Time to recover**: from the rollbacks' start (or the method's end when there are none) to
//!   the moment the recovery check held (`chaosdeck.recovery`); not measured without one.

use chrono::{DateTime, FixedOffset};
use serde_json::Value;

fn time(v: &Value) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(v.as_str()?).ok()
}

fn seconds(from: DateTime<FixedOffset>, to: DateTime<FixedOffset>) -> f64 {
    (to - from).num_microseconds().unwrap_or(0) as f64 / 1e6
}

/// Time to detect, in seconds.
pub fn time_to_detect(journal: &Value) -> Option<f64> {
    let first_action = journal["run"]
        .as_array()?
        .iter()
        .filter(|e| e["activity"]["type"] == "action")
        .filter_map(|e| time(&e["start"]))
        .min()?;
    journal["steady_states"]["during"]
        .as_array()?
        .iter()
        .filter(|s| s["steady_state_met"] == false)
        .filter_map(|s| {
            s["probes"]
                .as_array()?
                .iter()
                .filter_map(|p| time(&p["end"]))
                .max()
        })
        .filter(|t| *t >= first_action)
        .min()
        .map(|t| seconds(first_action, t))
}

/// Time to recover, in seconds.
pub fn time_to_recover(journal: &Value) -> Option<f64> {
    let recovery = &journal["chaosdeck"]["recovery"];
    if recovery["recovered"] != true {
        return None;
    }
    Some(seconds(
        time(&recovery["from"])?,
        time(&recovery["recovered_at"])?,
    ))
}

/// Mean of the known values.
pub fn mean(values: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    let known: Vec<f64> = values.flatten().collect();
    (!known.is_empty()).then(|| known.iter().sum::<f64>() / known.len() as f64)
}

/// Seconds as people read them: `42 s`, `3 min 5 s`.
pub fn human(seconds: Option<f64>) -> String {
    match seconds {
        None => "not measured".to_string(),
        Some(s) if s < 60.0 => format!("{s:.1} s"),
        Some(s) => format!("{} min {:.0} s", (s / 60.0).floor(), s % 60.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A hand-made journal with known timestamps.
    fn journal() -> Value {
        json!({
            "run": [
                {"activity": {"type": "probe"}, "start": "2026-12-04T10:00:00+00:00"},
                {"activity": {"type": "action"}, "start": "2026-12-04T10:00:02+00:00"},
                {"activity": {"type": "action"}, "start": "2026-12-04T10:00:05+00:00"}
            ],
            "steady_states": {"during": [
                {"steady_state_met": false, "probes": [{"end": "2026-12-04T10:00:01+00:00"}]},
                {"steady_state_met": true, "probes": [{"end": "2026-12-04T10:00:03+00:00"}]},
                {"steady_state_met": false, "probes": [
                    {"end": "2026-12-04T10:00:06.500000+00:00"},
                    {"end": "2026-12-04T10:00:06.250000+00:00"}]},
                {"steady_state_met": false, "probes": [{"end": "2026-12-04T10:00:09+00:00"}]}
            ]},
            "chaosdeck": {"recovery": {
                "from": "2026-12-04T10:00:10+00:00",
                "recovered": true,
                "recovered_at": "2026-12-04T10:01:25.500000+00:00"
            }}
        })
    }

    #[test]
    fn detect_and_recover_from_known_timestamps() {
        // First action at :02; the first failing check after it ends at :06.5 → 4.5 s.
        assert_eq!(time_to_detect(&journal()), Some(4.5));
        // Rollbacks from :10, steady state back at 1:25.5 → 75.5 s.
        assert_eq!(time_to_recover(&journal()), Some(75.5));
        let mut none = journal();
        none["steady_states"]["during"] = json!([]);
        none["chaosdeck"]["recovery"]["recovered"] = json!(false);
        assert_eq!(time_to_detect(&none), None);
        assert_eq!(time_to_recover(&none), None);
        assert_eq!(human(None), "not measured");
        assert_eq!(human(Some(185.0)), "3 min 5 s");
    }
}
