//! chaostoolkit-toxiproxy's python activities (`chaostoxi.*`), run natively through the
//! toxiproxy provider with the arguments, defaults and results that package has. The API is
//! `toxiproxy_url` from the configuration, else `toxiproxy_host`:`toxiproxy_port` (8474).

use super::toxiproxy::{create_proxy, modify_proxy, Api};
use super::{ActivityError, Ctx};
use serde_json::{json, Map, Value};

/// Recognises `module.func` of chaostoolkit-toxiproxy; returns the func.
pub fn native(module: &str, func: &str) -> Option<&'static str> {
    const PROXY_ACTIONS: &[&str] = &[
        "create_proxy",
        "modify_proxy",
        "disable_proxy",
        "enable_proxy",
        "delete_proxy",
        "reset",
    ];
    const PROXY_PROBES: &[&str] = &["proxy_exist", "get_proxy_attribute"];
    const TOXIC_ACTIONS: &[&str] = &[
        "create_toxic",
        "create_latency_toxic",
        "create_bandwith_degradation_toxic",
        "create_slow_connection_close_toxic",
        "create_timeout_toxic",
        "create_slicer_toxic",
        "create_limiter_toxic",
        "delete_toxic",
    ];
    let known = match module {
        "chaostoxi.proxy.actions" => PROXY_ACTIONS,
        "chaostoxi.proxy.probes" => PROXY_PROBES,
        "chaostoxi.toxic.actions" => TOXIC_ACTIONS,
        _ => return None,
    };
    known.iter().copied().find(|f| *f == func)
}

fn arg<'a>(
    args: &'a Map<String, Value>,
    key: &str,
    func: &str,
) -> Result<&'a Value, ActivityError> {
    args.get(key).filter(|v| !v.is_null()).ok_or_else(|| {
        ActivityError::Failed(format!("{func}() missing required argument: '{key}'"))
    })
}

/// Text of a value as Python's `str` would give it for a host or a port.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => crate::pyvalue::py_str(other),
    }
}

/// `env:VAR` reads the environment, as chaostoolkit-toxiproxy allows for upstream values.
fn from_env(v: &Value, ctx: &Ctx) -> String {
    let t = text(v);
    match t.strip_prefix("env:") {
        Some(var) => ctx
            .env
            .get(var)
            .cloned()
            .or_else(|| std::env::var(var).ok())
            .unwrap_or_default(),
        None => t,
    }
}

/// Runs a chaostoxi function with the provider's (substituted) arguments.
pub async fn run(func: &str, provider: &Value, ctx: &Ctx) -> Result<Value, ActivityError> {
    let empty = Map::new();
    let args = provider
        .get("arguments")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let api = Api::of(None, provider.get("timeout"), ctx);
    let proxy_name = || arg(args, "proxy_name", func).map(text);
    match func {
        "create_proxy" => {
            let host = from_env(arg(args, "upstream_host", func)?, ctx);
            let port = from_env(arg(args, "upstream_port", func)?, ctx);
            let listen_host = args.get("listen_host").map_or("0.0.0.0".into(), text);
            let listen_port = args.get("listen_port").map_or("0".into(), text);
            let body = json!({
                "name": proxy_name()?,
                "upstream": format!("{host}:{port}"),
                "listen": format!("{listen_host}:{listen_port}"),
                "enabled": super::flag(args.get("enabled"), true),
            });
            create_proxy(&api, ctx, body).await.map(|_| json!(true))
        }
        "modify_proxy" | "disable_proxy" | "enable_proxy" => {
            let mut body = Map::new();
            for (key, field) in [
                ("listen_address", "listen"),
                ("upstream_address", "upstream"),
            ] {
                if let Some(v) = args.get(key).filter(|v| !v.is_null()) {
                    body.insert(field.into(), json!(text(v)));
                }
            }
            let on = match func {
                "enable_proxy" => Some(true),
                "disable_proxy" => Some(false),
                _ => args
                    .get("enabled")
                    .filter(|v| !v.is_null())
                    .map(|v| super::flag(Some(v), true)),
            };
            if let Some(on) = on {
                body.insert("enabled".into(), json!(on));
            }
            let name = proxy_name()?;
            modify_proxy(&api, ctx, &name, Value::Object(body))
                .await
                .map(|_| json!(true))
        }
        "delete_proxy" => {
            // chaostoolkit-toxiproxy only logs a refusal here.
            let name = proxy_name()?;
            api.call(ctx, "DELETE", &format!("/proxies/{name}"), None)
                .await?;
            Ok(Value::Null)
        }
        "reset" => Ok(json!(api.call(ctx, "POST", "/reset", None).await?.ok())),
        "proxy_exist" => {
            let name = proxy_name()?;
            let a = api
                .call(ctx, "GET", &format!("/proxies/{name}"), None)
                .await?;
            Ok(json!(a.ok() && a.body.get("name") == Some(&json!(name))))
        }
        "get_proxy_attribute" => {
            let name = proxy_name()?;
            let attribute = text(arg(args, "attribute", func)?);
            let a = api
                .call(ctx, "GET", &format!("/proxies/{name}"), None)
                .await?;
            Ok(a.body.get(&attribute).cloned().unwrap_or(Value::Null))
        }
        "delete_toxic" => {
            let path = format!(
                "/proxies/{}/toxics/{}",
                text(arg(args, "for_proxy", func)?),
                text(arg(args, "toxic_name", func)?)
            );
            Ok(json!(api.call(ctx, "DELETE", &path, None).await?.ok()))
        }
        _ => create_toxic(func, args, &api, ctx).await,
    }
}

/// `create_toxic` and its convenience forms (stream downstream, toxicity 1.0).
async fn create_toxic(
    func: &str,
    args: &Map<String, Value>,
    api: &Api,
    ctx: &Ctx,
) -> Result<Value, ActivityError> {
    let number = |key: &str| arg(args, key, func).cloned();
    let (kind, stream, toxicity, attributes) = match func {
        "create_toxic" => (
            text(arg(args, "toxic_type", func)?),
            args.get("stream").map_or("downstream".into(), text),
            args.get("toxicity").cloned().unwrap_or(json!(1.0)),
            args.get("attributes").cloned().unwrap_or(Value::Null),
        ),
        other => {
            let (kind, attributes) = match other {
                "create_latency_toxic" => (
                    "latency",
                    json!({"latency": number("latency")?,
                           "jitter": args.get("jitter").cloned().unwrap_or(json!(0))}),
                ),
                "create_bandwith_degradation_toxic" => {
                    ("bandwidth", json!({"rate": number("rate")?}))
                }
                "create_slow_connection_close_toxic" => {
                    ("slow_close", json!({"delay": number("delay")?}))
                }
                "create_timeout_toxic" => ("timeout", json!({"timeout": number("timeout")?})),
                "create_slicer_toxic" => (
                    "slicer",
                    json!({"average_size": number("average_size")?,
                           "size_variation": number("size_variation")?,
                           "delay": number("delay")?}),
                ),
                _ => ("limit_data", json!({"bytes": number("bytes_limit")?})),
            };
            (
                kind.to_string(),
                "downstream".into(),
                json!(1.0),
                attributes,
            )
        }
    };
    let proxy = text(arg(args, "for_proxy", func)?);
    let body = json!({
        "name": text(arg(args, "toxic_name", func)?),
        "type": kind,
        "stream": stream,
        "toxicity": toxicity,
        "attributes": attributes,
    });
    let path = format!("/proxies/{proxy}/toxics");
    let answer = api.call(ctx, "POST", &path, Some(body)).await?;
    if !answer.ok() {
        return Err(ActivityError::Failed(format!(
            "{func}: the Toxiproxy API at {} answered {}: {}",
            api.base,
            answer.status,
            answer.message()
        )));
    }
    Ok(json!(true))
}
