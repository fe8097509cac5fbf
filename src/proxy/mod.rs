//! `chaosdeck proxy`: a TCP fault proxy that speaks Toxiproxy's HTTP API, for when no Toxiproxy
//! is running. Each proxy listens on its own address and forwards to its upstream; toxics
//! (latency, bandwidth, slow_close, timeout, reset_peer, slicer, limit_data) act on either
//! direction of its connections.

pub mod api;
pub mod link;
pub mod toxics;

use link::{Link, Toxics};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::net::ToSocketAddrs;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::{watch, Mutex};
use toxics::Toxic;

/// The version `GET /version` reports.
pub const VERSION: &str = concat!("chaosdeck-", env!("CARGO_PKG_VERSION"));

/// The default address of the API.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8474";

/// Why a request to the registry failed: an HTTP status and a message.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub status: u16,
    pub message: String,
}

impl Refusal {
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        Refusal {
            status,
            message: message.into(),
        }
    }
    pub fn not_found(what: &str) -> Self {
        Refusal::new(404, format!("{what} not found"))
    }
    pub fn bad(message: impl Into<String>) -> Self {
        Refusal::new(400, message)
    }
}

/// One proxy: what the API shows, and the running listener when enabled.
struct Proxy {
    listen: String,
    upstream: String,
    enabled: bool,
    toxics: Vec<Toxic>,
    watch: watch::Sender<Toxics>,
    link: Option<Link>,
}

impl Proxy {
    fn to_json(&self, name: &str) -> Value {
        json!({
            "name": name,
            "listen": self.listen,
            "upstream": self.upstream,
            "enabled": self.enabled,
            "toxics": self.toxics.iter().map(Toxic::to_json).collect::<Vec<_>>(),
        })
    }

    fn publish(&self) {
        self.watch.send_replace(Arc::new(self.toxics.clone()));
    }

    /// Starts listening (on the address recorded, which holds the real port after the first
    /// start).
    fn start(&mut self) -> Result<(), Refusal> {
        let listener = bind(&self.listen)?;
        if let Ok(addr) = listener.local_addr() {
            self.listen = addr.to_string();
        }
        let rx = self.watch.subscribe();
        self.link = Some(Link::start(listener, self.upstream.clone(), rx));
        Ok(())
    }

    async fn stop(&mut self) {
        if let Some(link) = self.link.take() {
            link.stop().await;
        }
    }
}

fn bind(listen: &str) -> Result<TcpListener, Refusal> {
    let fail = |e: std::io::Error| Refusal::new(500, format!("listen tcp {listen}: {e}"));
    let addr = listen
        .to_socket_addrs()
        .map_err(fail)?
        .next()
        .ok_or_else(|| Refusal::new(500, format!("listen tcp {listen}: no address")))?;
    let std_listener = std::net::TcpListener::bind(addr).map_err(fail)?;
    std_listener.set_nonblocking(true).map_err(fail)?;
    TcpListener::from_std(std_listener).map_err(fail)
}

/// Every proxy, by name.
#[derive(Default)]
pub struct Registry {
    proxies: Mutex<BTreeMap<String, Proxy>>,
}

fn text<'a>(obj: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, Refusal> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(Refusal::bad(format!("'{key}' must be a string"))),
    }
}

fn enabled(obj: &Map<String, Value>) -> Result<Option<bool>, Refusal> {
    match obj.get("enabled") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(Refusal::bad("'enabled' must be true or false")),
    }
}

fn object(body: &Value) -> Result<&Map<String, Value>, Refusal> {
    body.as_object()
        .ok_or_else(|| Refusal::bad("the body must be a JSON object"))
}

impl Registry {
    pub async fn list(&self) -> Value {
        let proxies = self.proxies.lock().await;
        Value::Object(
            proxies
                .iter()
                .map(|(n, p)| (n.clone(), p.to_json(n)))
                .collect(),
        )
    }

    pub async fn create(&self, body: &Value) -> Result<Value, Refusal> {
        let obj = object(body)?;
        let name = text(obj, "name")?
            .filter(|n| !n.is_empty())
            .ok_or_else(|| Refusal::bad("a proxy needs a 'name'"))?;
        let upstream = text(obj, "upstream")?
            .filter(|u| !u.is_empty())
            .ok_or_else(|| Refusal::bad("a proxy needs an 'upstream'"))?;
        let listen = text(obj, "listen")?.unwrap_or("127.0.0.1:0");
        let on = enabled(obj)?.unwrap_or(true);
        let mut proxies = self.proxies.lock().await;
        if proxies.contains_key(name) {
            return Err(Refusal::new(409, "proxy already exists"));
        }
        let mut proxy = Proxy {
            listen: listen.to_string(),
            upstream: upstream.to_string(),
            enabled: on,
            toxics: Vec::new(),
            watch: watch::channel(Arc::new(Vec::new())).0,
            link: None,
        };
        if on {
            proxy.start()?;
        } else {
            bind(listen)?;
        }
        let shown = proxy.to_json(name);
        proxies.insert(name.to_string(), proxy);
        Ok(shown)
    }

    pub async fn get(&self, name: &str) -> Result<Value, Refusal> {
        let proxies = self.proxies.lock().await;
        let p = proxies
            .get(name)
            .ok_or_else(|| Refusal::not_found("proxy"))?;
        Ok(p.to_json(name))
    }

    /// Changes `listen`, `upstream` and `enabled`; the proxy restarts when any of them changed
    /// (open connections close). If it cannot listen, it keeps its former settings.
    pub async fn update(&self, name: &str, body: &Value) -> Result<Value, Refusal> {
        let obj = object(body)?;
        let listen = text(obj, "listen")?.filter(|l| !l.is_empty());
        let upstream = text(obj, "upstream")?.filter(|u| !u.is_empty());
        let on = enabled(obj)?;
        let mut proxies = self.proxies.lock().await;
        let p = proxies
            .get_mut(name)
            .ok_or_else(|| Refusal::not_found("proxy"))?;
        let before = (p.listen.clone(), p.upstream.clone(), p.enabled);
        let after = (
            listen.map_or(before.0.clone(), str::to_string),
            upstream.map_or(before.1.clone(), str::to_string),
            on.unwrap_or(before.2),
        );
        if after != before {
            p.stop().await;
            (p.listen, p.upstream, p.enabled) = after;
            if p.enabled {
                if let Err(e) = p.start() {
                    (p.listen, p.upstream, p.enabled) = before;
                    if p.enabled {
                        let _ = p.start();
                    }
                    return Err(e);
                }
            }
        }
        Ok(p.to_json(name))
    }

    pub async fn delete(&self, name: &str) -> Result<(), Refusal> {
        let mut proxies = self.proxies.lock().await;
        let mut p = proxies
            .remove(name)
            .ok_or_else(|| Refusal::not_found("proxy"))?;
        p.stop().await;
        Ok(())
    }

    /// Enables every proxy and removes every toxic.
    pub async fn reset(&self) -> Result<(), Refusal> {
        let mut proxies = self.proxies.lock().await;
        for p in proxies.values_mut() {
            p.toxics.clear();
            p.publish();
            if !p.enabled {
                p.enabled = true;
                p.start()?;
            }
        }
        Ok(())
    }

    pub async fn toxics(&self, proxy: &str) -> Result<Value, Refusal> {
        let proxies = self.proxies.lock().await;
        let p = proxies
            .get(proxy)
            .ok_or_else(|| Refusal::not_found("proxy"))?;
        Ok(Value::Array(p.toxics.iter().map(Toxic::to_json).collect()))
    }

    pub async fn add_toxic(&self, proxy: &str, body: &Value) -> Result<Value, Refusal> {
        let mut proxies = self.proxies.lock().await;
        let p = proxies
            .get_mut(proxy)
            .ok_or_else(|| Refusal::not_found("proxy"))?;
        let toxic = Toxic::from_request(body).map_err(Refusal::bad)?;
        if p.toxics.iter().any(|t| t.name == toxic.name) {
            return Err(Refusal::new(409, "toxic already exists"));
        }
        let shown = toxic.to_json();
        p.toxics.push(toxic);
        p.publish();
        Ok(shown)
    }

    pub async fn toxic(&self, proxy: &str, name: &str) -> Result<Value, Refusal> {
        let proxies = self.proxies.lock().await;
        let p = proxies
            .get(proxy)
            .ok_or_else(|| Refusal::not_found("proxy"))?;
        let t = p.toxics.iter().find(|t| t.name == name);
        Ok(t.ok_or_else(|| Refusal::not_found("toxic"))?.to_json())
    }

    /// Changes a toxic's `attributes` (those given) and `toxicity`.
    pub async fn update_toxic(
        &self,
        proxy: &str,
        name: &str,
        body: &Value,
    ) -> Result<Value, Refusal> {
        let obj = object(body)?;
        let mut proxies = self.proxies.lock().await;
        let p = proxies
            .get_mut(proxy)
            .ok_or_else(|| Refusal::not_found("proxy"))?;
        let t = p
            .toxics
            .iter_mut()
            .find(|t| t.name == name)
            .ok_or_else(|| Refusal::not_found("toxic"))?;
        let mut changed = t.clone();
        changed.apply_update(obj).map_err(Refusal::bad)?;
        *t = changed;
        let shown = t.to_json();
        p.publish();
        Ok(shown)
    }

    pub async fn remove_toxic(&self, proxy: &str, name: &str) -> Result<(), Refusal> {
        let mut proxies = self.proxies.lock().await;
        let p = proxies
            .get_mut(proxy)
            .ok_or_else(|| Refusal::not_found("proxy"))?;
        let before = p.toxics.len();
        p.toxics.retain(|t| t.name != name);
        if p.toxics.len() == before {
            return Err(Refusal::not_found("toxic"));
        }
        p.publish();
        Ok(())
    }

    /// Stops every proxy (their listeners and connections).
    pub async fn shutdown(&self) {
        let mut proxies = self.proxies.lock().await;
        for p in proxies.values_mut() {
            p.stop().await;
        }
    }
}
