//! The plan of a run, read from the experiment before it starts: what the hypothesis checks,
//! what the method does and to what, and what the rollbacks undo.

use serde_json::Value;

/// One section of the plan (hypothesis, method, rollbacks) with a line per activity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub heading: String,
    pub steps: Vec<String>,
}

/// The sections of an experiment's plan, empty ones left out except the method.
pub fn plan(doc: &Value) -> Vec<Section> {
    let list = |v: Option<&Value>| v.and_then(Value::as_array).cloned().unwrap_or_default();
    let hypothesis = doc.get("steady-state-hypothesis");
    let title = hypothesis
        .and_then(|h| h.get("title"))
        .and_then(Value::as_str)
        .unwrap_or("steady state");
    let mut sections = Vec::new();
    let probes = list(hypothesis.and_then(|h| h.get("probes")));
    if !probes.is_empty() {
        sections.push(Section {
            heading: format!("Hypothesis probes — {title}"),
            steps: probes.iter().map(step).collect(),
        });
    }
    sections.push(Section {
        heading: "Method".to_string(),
        steps: list(doc.get("method")).iter().map(step).collect(),
    });
    let rollbacks = list(doc.get("rollbacks"));
    if !rollbacks.is_empty() {
        sections.push(Section {
            heading: "Rollbacks".to_string(),
            steps: rollbacks.iter().map(step).collect(),
        });
    }
    sections
}

/// `action remove-marker: process rm -f /tmp/x (pause after 1s)`.
fn step(activity: &Value) -> String {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("").to_string();
    let kind = text(activity.get("type"));
    let name = text(activity.get("name"));
    let target = activity
        .get("provider")
        .or_else(|| activity.get("tolerance").and_then(|t| t.get("provider")))
        .map(provider)
        .unwrap_or_else(|| "no provider".to_string());
    let mut line = format!("{kind} {name}: {target}");
    if let Some(pauses) = activity.get("pauses").and_then(Value::as_object) {
        for (when, secs) in pauses {
            line.push_str(&format!(" (pause {when} {secs}s)"));
        }
    }
    if activity.get("background").and_then(Value::as_bool) == Some(true) {
        line.push_str(" [background]");
    }
    line
}

/// What a provider does, in a few words: `GET http://…`, `process rm -f x`, `docker stop db`.
fn provider(p: &Value) -> String {
    let text = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    match text("type").as_str() {
        "http" => {
            let method = p.get("method").and_then(Value::as_str).unwrap_or("GET");
            format!("{method} {}", text("url"))
        }
        "process" => {
            let args = match p.get("arguments") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Array(a)) => a
                    .iter()
                    .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
                    .collect::<Vec<_>>()
                    .join(" "),
                _ => String::new(),
            };
            format!("process {} {args}", text("path"))
                .trim_end()
                .to_string()
        }
        "docker" => {
            let target = ["container", "service"]
                .iter()
                .find_map(|k| p.get(*k).and_then(Value::as_str))
                .unwrap_or("?");
            format!("docker {} {target}", text("func"))
        }
        other => format!("{other} {}", text("func")).trim_end().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_every_activity_with_its_target() {
        let doc = serde_json::json!({
            "steady-state-hypothesis": {"title": "api up", "probes": [
                {"type": "probe", "name": "health", "provider":
                    {"type": "http", "url": "http://127.0.0.1:8080/health"}}]},
            "method": [{"type": "action", "name": "stop-db", "pauses": {"after": 5},
                "provider": {"type": "docker", "func": "stop", "container": "db"}}],
            "rollbacks": [{"type": "action", "name": "start-db",
                "provider": {"type": "docker", "func": "start", "container": "db"}}]
        });
        let p = plan(&doc);
        assert_eq!(p.len(), 3);
        assert_eq!(
            p[0].steps,
            vec!["probe health: GET http://127.0.0.1:8080/health"]
        );
        assert_eq!(
            p[1].steps,
            vec!["action stop-db: docker stop db (pause after 5s)"]
        );
        assert_eq!(p[2].steps, vec!["action start-db: docker start db"]);
    }
}
