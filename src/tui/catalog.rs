//! The experiments of a folder as the list panel shows them: each loaded and validated in the
//! background, an invalid one kept with its errors, each with the result of its last run.

use crate::engine::Prepared;
use crate::headless::{prepare, PrepareOptions};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// How the last run of an experiment ended, read from its newest journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastResult {
    pub passed: bool,
    pub status: String,
}

/// One experiment of the folder.
#[derive(Debug, Clone)]
pub struct Entry {
    pub path: PathBuf,
    /// The file name without extension; journals are named after it.
    pub name: String,
    pub title: String,
    /// The validated experiment, or every error found, one per line.
    pub prepared: Result<Prepared, String>,
    pub last: Option<LastResult>,
    /// The containers and services it aims at, `${name}` resolved: worked out once here, read
    /// on every frame.
    pub targets: Vec<String>,
}

impl Entry {
    /// The document, when it loaded.
    pub fn doc(&self) -> Option<&Value> {
        self.prepared.as_ref().ok().map(|p| &p.doc)
    }
}

/// The experiment files of a folder, sorted by name.
pub fn files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut found: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && matches!(
                    p.extension().and_then(|e| e.to_str()),
                    Some("yaml" | "yml" | "json")
                )
        })
        .collect();
    found.sort();
    Ok(found)
}

/// Loads and validates one experiment (may ask Docker: call it from a task, never the loop).
pub async fn load(path: PathBuf, journals: Option<&Path>) -> Entry {
    let name = path
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    let spec = path.display().to_string();
    let prepared = prepare(&spec, &PrepareOptions::default())
        .await
        .map(|(p, _)| p)
        .map_err(|f| {
            f.errors
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        });
    let title = prepared
        .as_ref()
        .ok()
        .and_then(|p| p.doc.get("title").and_then(Value::as_str))
        .unwrap_or(&name)
        .to_string();
    let last = journals.and_then(|dir| last_result(dir, &name));
    let targets = prepared.as_ref().map(resolved_targets).unwrap_or_default();
    Entry {
        path,
        name,
        title,
        prepared,
        last,
        targets,
    }
}

/// Where a new journal of `name` goes: `<dir>/<name>-<UTC timestamp>.json`.
pub fn journal_path(dir: &Path, name: &str) -> PathBuf {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
    dir.join(format!("{name}-{stamp}.json"))
}

/// The result in the newest journal of `name` (timestamps sort as text).
pub fn last_result(dir: &Path, name: &str) -> Option<LastResult> {
    let prefix = format!("{name}-");
    let newest = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|f| {
            f.strip_prefix(&prefix)
                .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
                && f.ends_with(".json")
        })
        .max()?;
    let text = std::fs::read_to_string(dir.join(newest)).ok()?;
    let journal: Value = serde_json::from_str(&text).ok()?;
    Some(LastResult {
        passed: journal
            .pointer("/chaosdeck/verdict")
            .and_then(Value::as_str)
            == Some("passed"),
        // A journal without a status is a run that died (killed, or the machine went down).
        status: journal
            .get("status")
            .and_then(Value::as_str)
            .unwrap_or("did not finish")
            .to_string(),
    })
}

/// An experiment's targets with `${name}` written as its configuration resolves it.
pub fn resolved_targets(prepared: &Prepared) -> Vec<String> {
    targets(&prepared.resolved.vars.substitute(&prepared.doc))
}

/// The containers and Compose services an experiment's docker activities aim at.
pub fn targets(doc: &Value) -> Vec<String> {
    let mut found = Vec::new();
    collect_targets(doc, &mut found);
    found.sort();
    found.dedup();
    found
}

fn collect_targets(v: &Value, found: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            if let Some(p) = map.get("provider") {
                if p.get("type").and_then(Value::as_str) == Some("docker") {
                    let text = |key: &str| p.get(key).and_then(Value::as_str);
                    if let Some(name) = text("container") {
                        found.push(name.to_string());
                    }
                    // A service of one Compose project is `project/service`.
                    match (text("service"), text("project")) {
                        (Some(service), Some(project)) => {
                            found.push(format!("{project}/{service}"))
                        }
                        (Some(service), None) => found.push(service.to_string()),
                        _ => {}
                    }
                }
            }
            map.values().for_each(|x| collect_targets(x, found));
        }
        Value::Array(items) => items.iter().for_each(|x| collect_targets(x, found)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_journal_without_a_status_is_a_run_that_did_not_finish() {
        let dir = std::env::temp_dir().join(format!("chaosdeck-died-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let j = serde_json::json!({"status": null, "run": []});
        std::fs::write(dir.join("db-20261204T101010.000Z.json"), j.to_string()).unwrap();
        let last = last_result(&dir, "db").expect("a result");
        assert_eq!(last.status, "did not finish");
        assert!(!last.passed);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn finds_docker_targets_anywhere() {
        let doc = serde_json::json!({
            "method": [{"provider": {"type": "docker", "container": "db"}}],
            "rollbacks": [{"provider": {"type": "docker", "service": "cache"}},
                          {"provider": {"type": "http", "container": "no"}}]
        });
        assert_eq!(targets(&doc), vec!["cache", "db"]);
        let doc = serde_json::json!({
            "method": [{"provider": {"type": "docker", "service": "database", "project": "shop"}}]
        });
        assert_eq!(targets(&doc), vec!["shop/database"]);
    }

    #[test]
    fn last_result_reads_the_newest_journal() {
        let dir = std::env::temp_dir().join(format!("chaosdeck-catalog-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let write = |f: &str, v: &str, s: &str| {
            let j = serde_json::json!({"status": s, "chaosdeck": {"verdict": v}});
            std::fs::write(dir.join(f), j.to_string()).unwrap();
        };
        write("db-20240101T000000.000Z.json", "passed", "completed");
        write("db-20250101T000000.000Z.json", "failed", "interrupted");
        write("db-extra-20990101T000000.000Z.json", "passed", "completed");
        let last = last_result(&dir, "db").unwrap();
        assert!(!last.passed);
        assert_eq!(last.status, "interrupted");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
