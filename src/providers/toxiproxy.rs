//! The toxiproxy provider: proxies and toxics through Toxiproxy's HTTP API (a real Toxiproxy or
//! `chaosdeck proxy`). `create_proxy` and `modify_proxy` define `<name>_PORT` in the run's
//! variables, as chaostoolkit-toxiproxy does, so later activities can write `${name_PORT}`.

use super::{ActivityError, Ctx};
use serde_json::{json, Map, Value};
use std::time::Duration;

/// The API address when neither the provider nor the configuration gives one.
pub const DEFAULT_URL: &str = "http://127.0.0.1:8474";
/// Seconds an API call may take when the provider sets no `timeout`.
pub const DEFAULT_TIMEOUT: f64 = 10.0;

/// The funcs of the provider.
pub const FUNCS: &[&str] = &[
    "create_proxy",
    "modify_proxy",
    "enable_proxy",
    "disable_proxy",
    "delete_proxy",
    "list_proxies",
    "create_toxic",
    "update_toxic",
    "delete_toxic",
    "reset",
    "proxy_exist",
    "get_proxy_attribute",
];

/// An API to call: its base URL and how long a call may take.
pub struct Api {
    pub base: String,
    pub timeout: Duration,
}

/// An API answer: its status and its body (JSON when it parses, else text).
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Answer {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
    /// The message a refusal carries (Toxiproxy's `error` field, or the body).
    pub fn message(&self) -> String {
        match self.body.get("error").and_then(Value::as_str) {
            Some(e) => e.to_string(),
            None => crate::pyvalue::py_str(&self.body),
        }
    }
}

impl Api {
    /// The API from the provider's `url`, else the configuration (`toxiproxy_url`, else
    /// `toxiproxy_host` and `toxiproxy_port`), else the default; `timeout` in seconds.
    pub fn of(url: Option<&Value>, timeout: Option<&Value>, ctx: &Ctx) -> Api {
        let vars = ctx.current_vars();
        let text = |v: Option<&Value>| match v {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        let base = text(url)
            .or_else(|| text(vars.get("toxiproxy_url")))
            .or_else(|| {
                let host = text(vars.get("toxiproxy_host"))?;
                let port = text(vars.get("toxiproxy_port")).unwrap_or_else(|| "8474".into());
                Some(format!("http://{host}:{port}"))
            })
            .unwrap_or_else(|| DEFAULT_URL.to_string());
        let secs = super::seconds(timeout).unwrap_or(DEFAULT_TIMEOUT);
        Api {
            base: base.trim_end_matches('/').to_string(),
            timeout: Duration::from_secs_f64(secs.min(86_400.0)),
        }
    }

    /// One call; no answer within the timeout, or none at all, fails the activity.
    pub async fn call(
        &self,
        ctx: &Ctx,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<Answer, ActivityError> {
        let client = ctx.http.plain()?;
        let method = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|e| ActivityError::Unexpected(e.to_string()))?;
        let url = format!("{}{path}", self.base);
        let mut request = client.request(method.clone(), &url).timeout(self.timeout);
        if let Some(b) = body {
            request = request
                .header("Content-Type", "application/json")
                .body(b.to_string());
        }
        let failed = |e: reqwest::Error| {
            let why = if e.is_timeout() {
                format!("no answer within {} s", self.timeout.as_secs_f64())
            } else {
                let mut text = e.to_string();
                let mut source = std::error::Error::source(&e);
                while let Some(s) = source {
                    text = format!("{text}: {s}");
                    source = s.source();
                }
                text
            };
            ActivityError::Failed(format!("Toxiproxy API {method} {url}: {why}"))
        };
        let response = request.send().await.map_err(failed)?;
        let status = response.status().as_u16();
        let text = response.text().await.map_err(failed)?;
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok(Answer { status, body })
    }

    fn refused(&self, what: &str, answer: &Answer) -> ActivityError {
        ActivityError::Failed(format!(
            "{what}: the Toxiproxy API at {} answered {}: {}",
            self.base,
            answer.status,
            answer.message()
        ))
    }
}

/// Runs a toxiproxy provider (already substituted).
pub async fn run(provider: &Value, ctx: &Ctx) -> Result<Value, ActivityError> {
    let func = provider.get("func").and_then(Value::as_str).unwrap_or("");
    if !FUNCS.contains(&func) {
        return Err(ActivityError::Unexpected(format!(
            "the toxiproxy provider has no func '{func}': it knows {}",
            FUNCS.join(", ")
        )));
    }
    let empty = Map::new();
    let args = match provider.get("arguments") {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(m)) => m,
        Some(_) => {
            return Err(ActivityError::Unexpected(
                "toxiproxy arguments must be a mapping".into(),
            ))
        }
    };
    let api = Api::of(provider.get("url"), provider.get("timeout"), ctx);
    let name = || required(args, "name", func);
    match func {
        "create_proxy" => {
            let mut body = json!({
                "name": name()?,
                "upstream": required(args, "upstream", func)?,
                "listen": text_arg(args, "listen").unwrap_or("127.0.0.1:0"),
            });
            if let Some(on) = args.get("enabled") {
                body["enabled"] = json!(super::flag(Some(on), true));
            }
            create_proxy(&api, ctx, body).await
        }
        "modify_proxy" | "enable_proxy" | "disable_proxy" => {
            let mut body = Map::new();
            for key in ["listen", "upstream"] {
                if let Some(v) = text_arg(args, key) {
                    body.insert(key.into(), json!(v));
                }
            }
            let on = match func {
                "enable_proxy" => Some(true),
                "disable_proxy" => Some(false),
                _ => args.get("enabled").map(|v| super::flag(Some(v), true)),
            };
            if let Some(on) = on {
                body.insert("enabled".into(), json!(on));
            }
            modify_proxy(&api, ctx, name()?, Value::Object(body)).await
        }
        "delete_proxy" => {
            let n = name()?;
            expect_ok(&api, ctx, "DELETE", &format!("/proxies/{n}"), None, func).await
        }
        "list_proxies" => expect_ok(&api, ctx, "GET", "/proxies", None, func).await,
        "reset" => expect_ok(&api, ctx, "POST", "/reset", None, func).await,
        "create_toxic" => {
            let proxy = required(args, "proxy", func)?;
            let mut body = args.clone();
            body.remove("proxy");
            let path = format!("/proxies/{proxy}/toxics");
            expect_ok(&api, ctx, "POST", &path, Some(Value::Object(body)), func).await
        }
        "update_toxic" | "delete_toxic" => {
            let proxy = required(args, "proxy", func)?;
            let path = format!("/proxies/{proxy}/toxics/{}", name()?);
            let mut body = args.clone();
            body.remove("proxy");
            body.remove("name");
            let (method, body) = match func {
                "update_toxic" => ("POST", Some(Value::Object(body))),
                _ => ("DELETE", None),
            };
            expect_ok(&api, ctx, method, &path, body, func).await
        }
        "proxy_exist" => {
            let n = name()?;
            let answer = api.call(ctx, "GET", &format!("/proxies/{n}"), None).await?;
            Ok(json!(
                answer.ok() && answer.body.get("name") == Some(&json!(n))
            ))
        }
        _ => {
            let n = name()?;
            let attribute = required(args, "attribute", func)?;
            let answer = api.call(ctx, "GET", &format!("/proxies/{n}"), None).await?;
            if !answer.ok() {
                return Err(api.refused(&format!("get_proxy_attribute of '{n}'"), &answer));
            }
            Ok(answer.body.get(attribute).cloned().unwrap_or(Value::Null))
        }
    }
}

fn text_arg<'a>(args: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    args.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

fn required<'a>(
    args: &'a Map<String, Value>,
    key: &str,
    func: &str,
) -> Result<&'a str, ActivityError> {
    text_arg(args, key).ok_or_else(|| {
        ActivityError::Unexpected(format!("toxiproxy {func} needs the argument '{key}'"))
    })
}

/// A call whose non-2xx answer fails the activity; the body is the result (`true` when empty).
async fn expect_ok(
    api: &Api,
    ctx: &Ctx,
    method: &str,
    path: &str,
    body: Option<Value>,
    func: &str,
) -> Result<Value, ActivityError> {
    let answer = api.call(ctx, method, path, body).await?;
    if !answer.ok() {
        return Err(api.refused(&format!("{func} ({method} {path})"), &answer));
    }
    Ok(match answer.body {
        Value::String(s) if s.is_empty() => Value::Bool(true),
        other => other,
    })
}

/// Creates a proxy and defines `<name>_PORT`. A name already taken fails and leaves that
/// proxy as it is.
pub async fn create_proxy(api: &Api, ctx: &Ctx, body: Value) -> Result<Value, ActivityError> {
    let name = body["name"].as_str().unwrap_or("").to_string();
    let answer = api.call(ctx, "POST", "/proxies", Some(body)).await?;
    if answer.status == 409 {
        return Err(ActivityError::Failed(format!(
            "a proxy named '{name}' already exists at {}: it was left as it is (delete it \
             first, or change it with modify_proxy)",
            api.base
        )));
    }
    if !answer.ok() {
        return Err(api.refused(&format!("create_proxy '{name}'"), &answer));
    }
    define_port(ctx, &name, &answer.body);
    Ok(answer.body)
}

/// Changes a proxy and updates `<name>_PORT`.
pub async fn modify_proxy(
    api: &Api,
    ctx: &Ctx,
    name: &str,
    body: Value,
) -> Result<Value, ActivityError> {
    let answer = api
        .call(ctx, "POST", &format!("/proxies/{name}"), Some(body))
        .await?;
    if !answer.ok() {
        return Err(api.refused(&format!("modify_proxy '{name}'"), &answer));
    }
    define_port(ctx, name, &answer.body);
    Ok(answer.body)
}

/// Sets `<name>_PORT` to the port of the proxy's `listen`.
fn define_port(ctx: &Ctx, name: &str, proxy: &Value) {
    let port = proxy
        .get("listen")
        .and_then(Value::as_str)
        .and_then(|l| l.rsplit(':').next())
        .and_then(|p| p.parse::<u16>().ok());
    if let Some(port) = port {
        ctx.define(&format!("{name}_PORT"), json!(port));
    }
}

/// The names `create_proxy` activities of a document will define (`<name>_PORT`), for
/// validation: toxiproxy providers and `chaostoxi` python activities, nested ones too.
pub fn defined_names(doc: &Value) -> Vec<String> {
    let mut out = Vec::new();
    collect(doc, &mut out);
    out
}

fn collect(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            let ty = map.get("type").and_then(Value::as_str);
            let func = map.get("func").and_then(Value::as_str);
            let module = map.get("module").and_then(Value::as_str);
            let args = map.get("arguments");
            let name = match (ty, module, func) {
                (Some("toxiproxy"), _, Some("create_proxy" | "modify_proxy")) => {
                    args.and_then(|a| a.get("name"))
                }
                (Some("python"), Some("chaostoxi.proxy.actions"), Some(f))
                    if f == "create_proxy" || f == "modify_proxy" =>
                {
                    args.and_then(|a| a.get("proxy_name"))
                }
                _ => None,
            };
            if let Some(Value::String(n)) = name {
                out.push(format!("{n}_PORT"));
            }
            map.values().for_each(|x| collect(x, out));
        }
        Value::Array(items) => items.iter().for_each(|x| collect(x, out)),
        _ => {}
    }
}
