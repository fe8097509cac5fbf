//! Container targets of the docker provider: a container name or id, or a Compose service (and
//! project) found through the `com.docker.compose.*` labels. Targets are checked against the
//! engine before a run starts, and a missing one is reported with the nearest existing names.

use super::{address, connect};
use crate::experiment::validate::{join_index, join_key};
use crate::experiment::Diagnostic;
use bollard::models::ContainerSummary;
use bollard::query_parameters::ListContainersOptionsBuilder;
use bollard::Docker;
use serde_json::Value;

/// The Compose label naming a container's service.
pub const SERVICE_LABEL: &str = "com.docker.compose.service";
/// The Compose label naming a container's project.
pub const PROJECT_LABEL: &str = "com.docker.compose.project";
const NUMBER_LABEL: &str = "com.docker.compose.container-number";
/// How long the check before a run waits for the engine.
const CHECK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

/// What a docker provider points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A container name or (a prefix of) its id.
    Container(String),
    /// A Compose service, optionally within one project.
    Service {
        service: String,
        project: Option<String>,
    },
}

impl Target {
    /// Reads `container`, or `service` (+ `project`), from a provider; `None` when neither is
    /// set as text.
    pub fn of(provider: &Value) -> Option<Target> {
        let text = |k: &str| {
            provider
                .get(k)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        if let Some(c) = text("container") {
            return Some(Target::Container(c));
        }
        text("service").map(|service| Target::Service {
            service,
            project: text("project"),
        })
    }

    /// True when a value still holds a `${...}` placeholder (known only at run time).
    pub fn is_templated(provider: &Value) -> bool {
        ["container", "service", "project"].iter().any(|k| {
            provider
                .get(*k)
                .and_then(Value::as_str)
                .is_some_and(|s| s.contains("${"))
        })
    }

    /// How the target reads in messages.
    pub fn describe(&self) -> String {
        match self {
            Target::Container(c) => format!("container '{c}'"),
            Target::Service {
                service,
                project: Some(p),
            } => format!("service '{service}' of Compose project '{p}'"),
            Target::Service {
                service,
                project: None,
            } => format!("service '{service}'"),
        }
    }
}

/// A container the engine knows, as found in its list.
#[derive(Debug, Clone)]
pub struct Found {
    /// The full container id.
    pub id: String,
    /// The container's name, without the leading slash.
    pub name: String,
}

/// Every container of the engine, running or not.
pub async fn list_all(docker: &Docker) -> Result<Vec<ContainerSummary>, String> {
    let options = ListContainersOptionsBuilder::default().all(true).build();
    docker
        .list_containers(Some(options))
        .await
        .map_err(|e| format!("the Docker engine at {} said: {e}", address()))
}

/// The container's first name, without the engine's leading slash.
pub fn name_of(c: &ContainerSummary) -> String {
    c.names
        .as_ref()
        .and_then(|n| n.first())
        .map(|n| n.trim_start_matches('/').to_string())
        .unwrap_or_default()
}

fn label<'a>(c: &'a ContainerSummary, key: &str) -> Option<&'a str> {
    c.labels.as_ref()?.get(key).map(String::as_str)
}

/// Finds the one container a target names. For a service with several containers (scaled), a
/// running one with the lowest container number is picked; a service found in several projects
/// must be narrowed with `project`. The error names what was asked and the nearest names.
pub fn find(all: &[ContainerSummary], target: &Target) -> Result<Found, String> {
    let found = |c: &ContainerSummary| Found {
        id: c.id.clone().unwrap_or_default(),
        name: name_of(c),
    };
    match target {
        Target::Container(asked) => {
            let by_name = all.iter().find(|c| {
                c.names
                    .iter()
                    .flatten()
                    .any(|n| n.trim_start_matches('/') == asked)
            });
            let by_id = || {
                all.iter().find(|c| {
                    asked.len() >= 4 && c.id.as_deref().is_some_and(|id| id.starts_with(asked))
                })
            };
            by_name
                .or_else(by_id)
                .map(found)
                .ok_or_else(|| missing(target, &all.iter().map(name_of).collect::<Vec<_>>()))
        }
        Target::Service { service, project } => {
            let mut matches: Vec<&ContainerSummary> = all
                .iter()
                .filter(|c| label(c, SERVICE_LABEL) == Some(service.as_str()))
                .filter(|c| project.is_none() || label(c, PROJECT_LABEL) == project.as_deref())
                .collect();
            if matches.is_empty() {
                return Err(missing(target, &services(all, project.as_deref())));
            }
            let mut projects: Vec<&str> = matches
                .iter()
                .filter_map(|c| label(c, PROJECT_LABEL))
                .collect();
            projects.sort_unstable();
            projects.dedup();
            if projects.len() > 1 {
                return Err(format!(
                    "{} is found in several Compose projects ({}): name one with `project`",
                    target.describe(),
                    projects.join(", ")
                ));
            }
            let running =
                |c: &&ContainerSummary| c.state.map(|s| s.to_string()) != Some("running".into());
            let number = |c: &&ContainerSummary| {
                label(c, NUMBER_LABEL)
                    .and_then(|n| n.parse::<u32>().ok())
                    .unwrap_or(u32::MAX)
            };
            matches.sort_by_key(|c| (running(c), number(c), name_of(c)));
            Ok(found(matches[0]))
        }
    }
}

/// Names of the Compose services the engine knows (within `project` when given, else all).
fn services(all: &[ContainerSummary], project: Option<&str>) -> Vec<String> {
    let mut names: Vec<String> = all
        .iter()
        .filter(|c| project.is_none() || label(c, PROJECT_LABEL) == project)
        .filter_map(|c| label(c, SERVICE_LABEL).map(str::to_string))
        .collect();
    if names.is_empty() && project.is_some() {
        return services(all, None);
    }
    names.sort();
    names.dedup();
    names
}

/// The message for a target that does not exist, with the nearest existing names.
fn missing(target: &Target, candidates: &[String]) -> String {
    let kind = match target {
        Target::Container(_) => "containers",
        Target::Service { .. } => "Compose services",
    };
    let asked = match target {
        Target::Container(c) => c,
        Target::Service { service, .. } => service,
    };
    let near = nearest(asked, candidates);
    let hint = if near.is_empty() {
        if candidates.is_empty() {
            format!("the engine has no {kind}")
        } else {
            format!("no similar {kind} exist")
        }
    } else {
        let quoted: Vec<String> = near.iter().map(|n| format!("'{n}'")).collect();
        format!("did you mean {}?", quoted.join(" or "))
    };
    format!(
        "no {} on the Docker engine at {}: {hint}",
        target.describe(),
        address()
    )
}

/// Up to three candidates closest to `asked`: `_`, `-` and `.` count as the same separator
/// (Compose v1 named `shop_web_1` what v2 names `shop-web-1`), case is ignored.
pub fn nearest(asked: &str, candidates: &[String]) -> Vec<String> {
    let norm = |s: &str| -> Vec<char> {
        s.to_lowercase()
            .chars()
            .map(|c| if c == '_' || c == '.' { '-' } else { c })
            .collect()
    };
    let a = norm(asked);
    let mut scored: Vec<(usize, &String)> = candidates
        .iter()
        .filter_map(|c| {
            let b = norm(c);
            let d = distance(&a, &b);
            let contains = b.len() >= 3 && a.len() >= 3 && {
                let (sa, sb): (String, String) = (a.iter().collect(), b.iter().collect());
                sa.contains(&sb) || sb.contains(&sa)
            };
            let close = d <= (a.len().max(b.len()) / 3).max(2);
            (close || contains).then_some((d, c))
        })
        .collect();
    scored.sort();
    scored.dedup_by(|x, y| x.1 == y.1);
    scored.into_iter().take(3).map(|(_, c)| c.clone()).collect()
}

/// Levenshtein distance between two strings of characters.
fn distance(a: &[char], b: &[char]) -> usize {
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// Docker providers in the hypothesis, the method and the rollbacks (nested activities too), each
/// with the path of its provider.
pub fn docker_providers(doc: &Value) -> Vec<(String, &Value)> {
    let mut out = Vec::new();
    if let Some(probes) = doc
        .get("steady-state-hypothesis")
        .and_then(|h| h.get("probes"))
    {
        walk(probes, "steady-state-hypothesis.probes".into(), &mut out);
    }
    for key in ["method", "rollbacks"] {
        if let Some(list) = doc.get(key) {
            walk(list, key.into(), &mut out);
        }
    }
    out
}

fn walk<'a>(value: &'a Value, path: String, out: &mut Vec<(String, &'a Value)>) {
    match value {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, join_index(&path, i), out);
            }
        }
        Value::Object(map) => {
            if map.get("type").and_then(Value::as_str) == Some("docker")
                && path.ends_with("provider")
            {
                out.push((path.clone(), value));
            }
            for (k, v) in map {
                walk(v, join_key(&path, k), out);
            }
        }
        _ => {}
    }
}

/// Checks that every docker provider's target exists, asking the engine once. A target that
/// does not exist is an error at its activity path naming the nearest existing names; an
/// unreachable engine is one error naming the address tried. Targets with `${...}` are skipped.
pub async fn check_targets(doc: &Value, source: &str) -> Vec<Diagnostic> {
    let providers: Vec<(String, Target)> = docker_providers(doc)
        .into_iter()
        .filter(|(_, p)| !Target::is_templated(p))
        .filter_map(|(path, p)| Target::of(p).map(|t| (path, t)))
        .collect();
    if providers.is_empty() {
        return Vec::new();
    }
    let ask = async {
        match connect().await {
            Ok(docker) => list_all(&docker).await,
            Err(e) => Err(e.to_string()),
        }
    };
    let all = tokio::time::timeout(CHECK_TIMEOUT, ask)
        .await
        .unwrap_or_else(|_| {
            Err(format!(
                "the Docker engine at {} did not answer within {} s",
                address(),
                CHECK_TIMEOUT.as_secs()
            ))
        });
    let all = match all {
        Ok(all) => all,
        Err(why) => {
            return vec![Diagnostic::at_path(
                source,
                "",
                format!("the docker activities' containers cannot be checked: {why}"),
            )]
        }
    };
    providers
        .into_iter()
        .filter_map(|(path, target)| {
            let key = match target {
                Target::Container(_) => "container",
                Target::Service { .. } => "service",
            };
            find(&all, &target)
                .err()
                .map(|why| Diagnostic::at_path(source, join_key(&path, key), why))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compose_v1_names_find_their_v2_spelling() {
        let names = vec![
            "shop-web-1".to_string(),
            "shop-db-1".to_string(),
            "other".into(),
        ];
        assert_eq!(nearest("shop_web_1", &names)[0], "shop-web-1");
        assert_eq!(
            nearest("postgress", &["postgres".to_string()]),
            vec!["postgres"]
        );
        assert!(nearest("zzzzzz", &names).is_empty());
    }

    #[test]
    fn finds_providers_nested_anywhere() {
        let doc: Value = serde_json::json!({
            "method": [
                {"provider": {"type": "docker", "container": "a"}},
                {"name": "n", "tolerance": {"provider": {"type": "docker", "service": "b"}}}
            ],
            "rollbacks": [{"provider": {"type": "python", "module": "chaoslib.types",
                "func": "run_activity", "arguments": {"activity":
                {"provider": {"type": "docker", "container": "${c}"}}}}}]
        });
        let paths: Vec<String> = docker_providers(&doc).into_iter().map(|(p, _)| p).collect();
        assert_eq!(
            paths,
            vec![
                "method[0].provider",
                "method[1].tolerance.provider",
                "rollbacks[0].provider.arguments.activity.provider"
            ]
        );
    }
}
