//! Exports of a session: Markdown notes for people, a JSON bundle for tools (each run's Chaos
//! Toolkit journal inside), and Prometheus text exposition of the GameDay metrics.

use super::metrics::{human, mean};
use super::plan::Targets;
use super::{Observation, Override, Session};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fmt::Write;

/// The JSON bundle: the session and, per run, its journal as Chaos Toolkit wrote it.
pub fn json_bundle(session: &Session) -> Value {
    json!({
        "format": "chaosdeck-session-bundle/1",
        "session": session,
        "journals": session.runs.iter().map(|r| r.journal.clone()).collect::<Vec<_>>(),
    })
}

fn pass_mark(verdict: &str) -> &'static str {
    if verdict == "passed" {
        "✓ passed"
    } else {
        "✗ failed"
    }
}

/// One line of a run's timeline, with when it started (for ordering).
struct Step {
    start: String,
    phase: &'static str,
    name: String,
    line: String,
}

fn steps(journal: &Value) -> Vec<Step> {
    let mut out = Vec::new();
    let mut add = |phase: &'static str, entries: &Value| {
        for e in entries.as_array().into_iter().flatten() {
            let name = e["activity"]["name"].as_str().unwrap_or("?").to_string();
            let status = e["status"].as_str().unwrap_or("interrupted");
            let mut line = format!(
                "{} {} `{}` — {status}",
                e["activity"]["type"].as_str().unwrap_or("activity"),
                phase,
                name
            );
            if let Some(met) = e.get("tolerance_met").and_then(Value::as_bool) {
                let _ = write!(line, ", tolerance {}", if met { "met" } else { "not met" });
            }
            if let Some(code) = e["output"]["status"].as_i64() {
                let _ = write!(line, " (status {code})");
            }
            if let Some(last) = e["exception"].as_array().and_then(|x| x.last()) {
                let text = last.as_str().unwrap_or("").trim();
                let text = text.rsplit("ActivityFailed: ").next().unwrap_or(text);
                let _ = write!(line, ": {text}");
            }
            out.push(Step {
                start: e["start"].as_str().unwrap_or("").to_string(),
                phase,
                name,
                line,
            });
        }
    };
    add("before", &journal["steady_states"]["before"]["probes"]);
    add("method", &journal["run"]);
    add("after", &journal["steady_states"]["after"]["probes"]);
    add("rollback", &journal["rollbacks"]);
    // Activities the operator skipped at a hold: never run, but part of what happened.
    for s in journal["chaosdeck"]["skipped"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let name = s["name"].as_str().unwrap_or("?").to_string();
        out.push(Step {
            start: s["at"].as_str().unwrap_or("").to_string(),
            phase: "method",
            line: format!(
                "{} method `{name}` — skipped by the operator",
                s["type"].as_str().unwrap_or("activity")
            ),
            name,
        });
    }
    out.sort_by(|a, b| a.start.cmp(&b.start));
    out
}

fn note_line(o: &Observation) -> String {
    let clock = o
        .run_clock_seconds
        .map(|s| format!("+{s:.1}s "))
        .unwrap_or_default();
    format!(
        "  - {clock}**{}** ({}): {}",
        o.tag.as_str(),
        o.author,
        o.text
    )
}

/// Markdown notes: summary table, each run's timeline with observations under the activity
/// they were written during, checklist, predictions beside results, action items, figures
/// against targets.
pub fn markdown(session: &Session, targets: &Targets) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# {} — {}\n", session.title, session.date);
    if let Some(f) = &session.facilitator {
        let _ = writeln!(md, "Facilitator: {f}\n");
    }
    let _ = writeln!(md, "## Summary\n");
    let _ = writeln!(
        md,
        "| experiment | verdict | time to detect | time to recover |"
    );
    let _ = writeln!(md, "| --- | --- | --- | --- |");
    for r in &session.runs {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} |",
            r.experiment,
            pass_mark(&r.verdict),
            human(r.time_to_detect_seconds),
            human(r.time_to_recover_seconds)
        );
    }
    let mttr = mean(session.runs.iter().map(|r| r.time_to_recover_seconds));
    let rate = session.success_rate();
    let _ = writeln!(md, "\n## Figures against targets\n");
    let _ = writeln!(
        md,
        "- Success rate: {} (target over {:.0} %){}",
        rate.map_or("no runs".into(), |r| format!("{r:.0} %")),
        targets.success_rate_percent,
        match rate {
            Some(r) if r > targets.success_rate_percent => " — met",
            Some(_) => " — **missed**",
            None => "",
        }
    );
    let _ = writeln!(
        md,
        "- Mean time to recover: {} (target under {}){}",
        human(mttr),
        human(Some(targets.mttr_seconds)),
        match mttr {
            Some(m) if m < targets.mttr_seconds => " — met",
            Some(_) => " — **missed**",
            None => "",
        }
    );
    let _ = writeln!(md, "\n## Checklist\n");
    for item in &session.checklist {
        match (&item.ticked_by, &item.ticked_at) {
            (Some(by), Some(at)) => {
                let _ = writeln!(md, "- [x] ({}) {} — {by}, {at}", item.group, item.text);
            }
            _ => {
                let _ = writeln!(md, "- [ ] ({}) {}", item.group, item.text);
            }
        }
    }
    let overrides: Vec<&Override> = if session.overrides.is_empty() {
        session.go_override.iter().collect()
    } else {
        session.overrides.iter().collect()
    };
    for o in overrides {
        let _ = writeln!(
            md,
            "\nRun without the full checklist, by {} at {}: {}",
            o.by, o.at, o.reason
        );
    }
    for (i, run) in session.runs.iter().enumerate() {
        let _ = writeln!(
            md,
            "\n## Run {}: {} — {}\n",
            i + 1,
            run.title,
            pass_mark(&run.verdict)
        );
        let _ = writeln!(
            md,
            "Started {}; journal `{}`.\n",
            run.started, run.journal_path
        );
        for reason in &run.reasons {
            let _ = writeln!(md, "- {reason}");
        }
        let predictions: Vec<_> = session
            .predictions
            .iter()
            .filter(|p| p.experiment == run.experiment)
            .collect();
        if !predictions.is_empty() {
            let _ = writeln!(
                md,
                "\n**Predicted** (result: {}):\n",
                pass_mark(&run.verdict)
            );
            for p in predictions {
                let _ = writeln!(md, "- {}: {}", p.author, p.text);
            }
        }
        let notes: Vec<&Observation> = session
            .observations
            .iter()
            .filter(|o| o.run == Some(i))
            .collect();
        let _ = writeln!(md, "\n### Timeline\n");
        let mut placed = vec![false; notes.len()];
        for step in steps(&run.journal) {
            let _ = writeln!(md, "- {}", step.line);
            for (n, o) in notes.iter().enumerate() {
                if !placed[n] && o.activity.as_deref() == Some(step.name.as_str()) {
                    let _ = writeln!(md, "{}", note_line(o));
                    placed[n] = true;
                }
            }
            let _ = step.phase;
        }
        for (n, o) in notes.iter().enumerate() {
            if !placed[n] {
                let _ = writeln!(md, "{}", note_line(o));
            }
        }
    }
    let loose: Vec<_> = session
        .observations
        .iter()
        .filter(|o| o.run.is_none())
        .collect();
    if !loose.is_empty() {
        let _ = writeln!(md, "\n## Other notes\n");
        for o in loose {
            let _ = writeln!(md, "{}", note_line(o));
        }
    }
    let _ = writeln!(md, "\n## Action items\n");
    if session.action_items.is_empty() {
        let _ = writeln!(md, "None recorded.");
    }
    for a in &session.action_items {
        let issue = if a.issue_found { " (issue found)" } else { "" };
        let _ = writeln!(md, "- [ ] {} — {}, due {}{issue}", a.text, a.owner, a.due);
    }
    md
}

fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Prometheus text exposition of the sessions' metrics.
pub fn prometheus(sessions: &[&Session]) -> String {
    let mut total: BTreeMap<&str, u64> = BTreeMap::new();
    let mut passed: BTreeMap<&str, u64> = BTreeMap::new();
    let mut recovery: BTreeMap<&str, f64> = BTreeMap::new();
    let mut issues = 0u64;
    for s in sessions {
        for r in &s.runs {
            *total.entry(&r.experiment).or_default() += 1;
            let p = passed.entry(&r.experiment).or_default();
            if r.verdict == "passed" {
                *p += 1;
            }
            if let Some(t) = r.time_to_recover_seconds {
                recovery.insert(&r.experiment, t);
            }
        }
        issues += s.action_items.iter().filter(|a| a.issue_found).count() as u64;
    }
    let mut out = String::new();
    let family = |out: &mut String, name: &str, kind: &str, help: &str| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
    };
    family(
        &mut out,
        "chaos_experiment_total",
        "counter",
        "Experiment runs in GameDay sessions.",
    );
    for (e, n) in &total {
        let _ = writeln!(
            out,
            "chaos_experiment_total{{experiment=\"{}\"}} {n}",
            label(e)
        );
    }
    family(
        &mut out,
        "chaos_experiment_success_total",
        "counter",
        "Experiment runs whose verdict passed.",
    );
    for (e, n) in &passed {
        let _ = writeln!(
            out,
            "chaos_experiment_success_total{{experiment=\"{}\"}} {n}",
            label(e)
        );
    }
    family(
        &mut out,
        "chaos_experiment_recovery_duration_seconds",
        "gauge",
        "Time to recover of the last run of each experiment that measured it.",
    );
    for (e, t) in &recovery {
        let _ = writeln!(
            out,
            "chaos_experiment_recovery_duration_seconds{{experiment=\"{}\"}} {t}",
            label(e)
        );
    }
    family(
        &mut out,
        "chaos_issues_discovered_total",
        "counter",
        "Action items recorded as issues found.",
    );
    let _ = writeln!(out, "chaos_issues_discovered_total {issues}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_skipped_activity_takes_its_place_in_the_timeline() {
        let journal = serde_json::json!({
            "run": [
                {"activity": {"type": "action", "name": "stop-db"}, "status": "succeeded",
                 "start": "2026-12-04T10:00:01.000000"},
                {"activity": {"type": "probe", "name": "check"}, "status": "succeeded",
                 "start": "2026-12-04T10:00:09.000000"}
            ],
            "chaosdeck": {"skipped": [
                {"phase": "method", "index": 1, "name": "tail-logs", "type": "probe",
                 "at": "2026-12-04T10:00:05.000000"}
            ]}
        });
        let lines: Vec<String> = steps(&journal).into_iter().map(|s| s.line).collect();
        assert_eq!(
            lines,
            vec![
                "action method `stop-db` — succeeded",
                "probe method `tail-logs` — skipped by the operator",
                "probe method `check` — succeeded",
            ]
        );
    }
}
