//! Validation of docker provider keys: a known func, a container or a Compose service (not
//! both), and the arguments each func takes. Whether the target exists is asked of the engine
//! later, before the run ([`crate::docker::target::check_targets`]).

use super::activity::{is_non_negative_number, is_placeholder};
use super::{join_key, kind_of, show, Checker};
use crate::providers::docker::{ACTIONS, PROBES};
use serde_json::{Map, Value};

/// Validates the keys of a docker provider at `path`.
pub(super) fn docker(check: &mut Checker, map: &Map<String, Value>, path: &str) {
    let func = match map.get("func") {
        Some(Value::String(f)) if ACTIONS.contains(&f.as_str()) || PROBES.contains(&f.as_str()) => {
            Some(f.as_str())
        }
        other => {
            let found = other.map_or("nothing".to_string(), show);
            check.error(
                &join_key(path, "func"),
                format!(
                    "a docker provider needs a func: an action ({}) or a probe ({}), not {found}",
                    ACTIONS.join(", "),
                    PROBES.join(", ")
                ),
            );
            None
        }
    };
    super::keys::unknown(check, map, path, super::keys::DOCKER);
    target(check, map, path);
    if let Some(timeout) = map.get("timeout") {
        if !(timeout.is_null() || is_non_negative_number(timeout) || is_placeholder(timeout)) {
            check.error(
                &join_key(path, "timeout"),
                format!(
                    "the docker timeout must be a number of seconds, not {}",
                    show(timeout)
                ),
            );
        }
    }
    let arguments_path = join_key(path, "arguments");
    let empty = Map::new();
    let arguments = match map.get("arguments") {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(a)) => a,
        Some(other) => {
            check.error(
                &arguments_path,
                format!("docker arguments must be a mapping, not {}", kind_of(other)),
            );
            return;
        }
    };
    if let Some(func) = func {
        arguments_of(check, func, arguments, &arguments_path);
    }
}

fn target(check: &mut Checker, map: &Map<String, Value>, path: &str) {
    let text = |k: &str| match map.get(k) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if !s.trim().is_empty() => Some(true),
        Some(_) => Some(false),
    };
    for key in ["container", "service", "project"] {
        if text(key) == Some(false) {
            check.error(
                &join_key(path, key),
                format!("`{key}` must be a non-empty name"),
            );
        }
    }
    match (text("container").is_some(), text("service").is_some()) {
        (false, false) => check.error(
            path,
            "a docker provider needs a target: `container` (a name or id) or `service` (a \
             Compose service, with `project` optionally)",
        ),
        (true, true) => check.error(
            path,
            "a docker provider targets a `container` or a `service`, not both",
        ),
        (true, false) if text("project").is_some() => check.error(
            &join_key(path, "project"),
            "`project` narrows a Compose `service`; with `container` it has no meaning",
        ),
        _ => {}
    }
}

fn arguments_of(check: &mut Checker, func: &str, arguments: &Map<String, Value>, path: &str) {
    let fine = |v: &Value| is_placeholder(v) || matches!(v, Value::String(s) if s.contains("${"));
    let number = |check: &mut Checker, key: &str, what: &str| {
        if let Some(v) = arguments.get(key) {
            if !(v.is_null() || is_non_negative_number(v) || fine(v)) {
                check.error(&join_key(path, key), format!("{what}, not {}", show(v)));
            }
        }
    };
    let required_text = |check: &mut Checker, key: &str, what: &str| match arguments.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => {}
        other => check.error(
            &join_key(path, key),
            format!("{what}, not {}", other.map_or("nothing".into(), show)),
        ),
    };
    let known: &[&str] = match func {
        "stop" | "restart" => &["grace"],
        "kill" => &["signal"],
        "exec" => &["command", "user", "workdir", "env"],
        "set_limits" => &["cpus", "memory"],
        "disconnect" | "connect" => &["network"],
        "logs" => &["tail"],
        _ => &[],
    };
    super::keys::unknown(check, arguments, path, known);
    match func {
        "stop" | "restart" => number(
            check,
            "grace",
            "grace is the seconds to wait before SIGKILL",
        ),
        "kill" if arguments.contains_key("signal") => {
            required_text(check, "signal", "signal is a signal name such as SIGKILL")
        }
        "exec" => {
            let fine_command = match arguments.get("command") {
                Some(Value::Array(words)) => !words.is_empty(),
                Some(Value::String(line)) => !line.trim().is_empty(),
                _ => false,
            };
            if !fine_command {
                check.error(
                    &join_key(path, "command"),
                    "exec needs a command: a list of words, or one string run by `sh -c`",
                );
            }
            if let Some(env) = arguments.get("env") {
                if !(env.is_null() || env.is_object()) {
                    check.error(
                        &join_key(path, "env"),
                        "env must be a mapping of names to values",
                    );
                }
            }
        }
        "set_limits" => {
            number(check, "cpus", "cpus is a number of cores such as 0.5");
            if let Some(memory) = arguments.get("memory") {
                let parsed = crate::providers::docker::parse_memory(memory).is_some();
                if !(parsed || fine(memory)) {
                    check.error(
                        &join_key(path, "memory"),
                        format!(
                            "memory is a size such as \"64m\" or \"1g\", not {}",
                            show(memory)
                        ),
                    );
                }
            }
            if !arguments.contains_key("cpus") && !arguments.contains_key("memory") {
                check.error(
                    path,
                    "set_limits needs `cpus` (cores), `memory` (\"64m\") or both",
                );
            }
        }
        "disconnect" | "connect" => required_text(
            check,
            "network",
            "a network cut needs `network`: the network's name",
        ),
        "logs" if arguments.get("tail").and_then(Value::as_str) != Some("all") => number(
            check,
            "tail",
            "tail is the number of lines to keep, or \"all\"",
        ),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use crate::experiment::validate::validate;
    use crate::experiment::Location;
    use serde_json::{json, Value};

    fn errors(provider: Value) -> Vec<(String, String)> {
        let doc = json!({"title": "t", "description": "d", "method": [
            {"type": "action", "name": "a", "provider": provider}]});
        validate(&doc, "exp.yaml")
            .errors
            .into_iter()
            .map(|d| match d.location {
                Location::Path(p) => (p, d.message),
                Location::Text { .. } => (String::new(), d.message),
            })
            .collect()
    }

    #[test]
    fn func_target_and_arguments_are_checked() {
        let ok = [
            json!({"type": "docker", "func": "kill", "service": "db", "project": "shop",
                   "arguments": {"signal": "SIGTERM"}}),
            json!({"type": "docker", "func": "exec", "container": "db",
                   "arguments": {"command": ["true"], "env": {"A": 1}}}),
            json!({"type": "docker", "func": "set_limits", "container": "db",
                   "arguments": {"cpus": 0.5, "memory": "64m"}, "timeout": 10}),
            json!({"type": "docker", "func": "logs", "container": "${c}",
                   "arguments": {"tail": "all"}}),
        ];
        for provider in ok {
            assert!(errors(provider.clone()).is_empty(), "{provider}");
        }
        let bad = [
            (
                json!({"type": "docker", "func": "explode", "container": "db"}),
                "method[0].provider.func",
                "needs a func",
            ),
            (
                json!({"type": "docker", "func": "stop"}),
                "method[0].provider",
                "needs a target",
            ),
            (
                json!({"type": "docker", "func": "stop", "container": "a", "service": "b"}),
                "method[0].provider",
                "not both",
            ),
            (
                json!({"type": "docker", "func": "exec", "container": "a"}),
                "method[0].provider.arguments.command",
                "exec needs a command",
            ),
            (
                json!({"type": "docker", "func": "set_limits", "container": "a",
                    "arguments": {"memory": "lots"}}),
                "method[0].provider.arguments.memory",
                "a size such as",
            ),
            (
                json!({"type": "docker", "func": "disconnect", "container": "a"}),
                "method[0].provider.arguments.network",
                "needs `network`",
            ),
            (
                json!({"type": "docker", "func": "stop", "container": "a",
                    "arguments": {"grace": "soon"}}),
                "method[0].provider.arguments.grace",
                "grace is",
            ),
        ];
        for (provider, path, fragment) in bad {
            let found = errors(provider);
            assert_eq!(found.len(), 1, "{found:#?}");
            assert_eq!(found[0].0, path, "{found:#?}");
            assert!(found[0].1.contains(fragment), "{found:#?}");
        }
    }
}
