//! The http provider: one request as Chaos Toolkit sends it (query arguments for GET, JSON or
//! form bodies otherwise, the dialect's `body`), with its result shaped as Chaos Toolkit shapes
//! it: status, headers, and a body parsed as JSON exactly when the server says `application/json`.

use super::{ActivityError, Ctx};
use crate::pyvalue::py_str;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Clients by TLS verification and timeouts, built once per run and reused, so a probe costs a
/// request and not a client.
#[derive(Clone, Default)]
pub struct Clients {
    cache: Arc<Mutex<HashMap<ClientKey, reqwest::Client>>>,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct ClientKey {
    verify_tls: bool,
    connect_ms: Option<u64>,
    read_ms: Option<u64>,
}

impl Clients {
    fn get(&self, key: ClientKey) -> Result<reqwest::Client, ActivityError> {
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = cache.get(&key) {
            return Ok(c.clone());
        }
        install_crypto();
        let mut b = reqwest::Client::builder().danger_accept_invalid_certs(!key.verify_tls);
        if let Some(ms) = key.connect_ms {
            b = b.connect_timeout(Duration::from_millis(ms));
        }
        if let Some(ms) = key.read_ms {
            b = b.read_timeout(Duration::from_millis(ms));
        }
        let client = b
            .build()
            .map_err(|e| ActivityError::Unexpected(format!("cannot build an HTTP client: {e}")))?;
        cache.insert(key, client.clone());
        Ok(client)
    }
}

/// Installs the TLS crypto provider once per process.
pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The client an http provider (already substituted) needs.
fn client_key(provider: &Value) -> ClientKey {
    let (connect_ms, read_ms) = match provider.get("timeout") {
        Some(Value::Array(pair)) if pair.len() == 2 => (millis(pair.first()), millis(pair.get(1))),
        other => (millis(other), millis(other)),
    };
    ClientKey {
        verify_tls: super::flag(provider.get("verify_tls"), true),
        connect_ms,
        read_ms,
    }
}

impl Clients {
    /// A client with TLS verified and no timeouts of its own (callers set one per request).
    pub fn plain(&self) -> Result<reqwest::Client, ActivityError> {
        self.get(ClientKey {
            verify_tls: true,
            connect_ms: None,
            read_ms: None,
        })
    }

    /// Builds, ahead of time, the client an http provider will use: building one loads the
    /// system's TLS roots, which must not delay a rollback after an abort.
    pub fn prepare(&self, provider: &Value) {
        let _ = self.get(client_key(provider));
    }
}

fn millis(v: Option<&Value>) -> Option<u64> {
    super::seconds(v).map(|s| (s * 1000.0).round() as u64)
}

/// Runs an http provider (already substituted).
pub async fn run(provider: &Value, ctx: &Ctx) -> Result<Value, ActivityError> {
    let url = provider.get("url").and_then(Value::as_str).unwrap_or("");
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| ActivityError::Unexpected(format!("invalid URL '{url}': {e}")))?;
    let method = provider
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or("GET")
        .to_uppercase();
    let method = reqwest::Method::from_bytes(method.as_bytes())
        .map_err(|_| ActivityError::Unexpected(format!("invalid HTTP method '{method}'")))?;
    let client = ctx.http.get(client_key(provider))?;
    let headers = provider.get("headers").and_then(Value::as_object);
    let content_type = headers.and_then(|h| {
        h.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            .map(|(_, v)| py_str(v))
    });
    let content_type_json = content_type.as_deref() == Some("application/json");
    let mut req = client.request(method.clone(), parsed);
    if let Some(h) = headers {
        for (k, v) in h {
            req = req.header(k.as_str(), py_str(v));
        }
    }
    match provider.get("arguments") {
        None | Some(Value::Null) => {}
        Some(args) if method == reqwest::Method::GET => {
            if let Some(map) = args.as_object() {
                let pairs: Vec<(String, String)> = query_pairs(map);
                req = req.query(&pairs);
            }
        }
        Some(args) if content_type_json => req = req.json(args),
        Some(Value::String(s)) => req = req.body(s.clone()),
        Some(Value::Object(map)) => {
            let pairs = query_pairs(map);
            let body = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs)
                .finish();
            if content_type.is_none() {
                req = req.header("Content-Type", "application/x-www-form-urlencoded");
            }
            req = req.body(body);
        }
        Some(other) => req = req.json(other),
    }
    match provider.get("body") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => req = req.body(s.clone()),
        Some(other) => {
            if content_type.is_none() {
                req = req.header("Content-Type", "application/json");
            }
            req = req.body(serde_json::to_vec(other).unwrap_or_default());
        }
    }
    let request = req
        .build()
        .map_err(|e| ActivityError::Unexpected(format!("cannot build the request: {e}")))?;
    let retries = provider
        .get("max_retries")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let mut attempt = 0;
    let response = loop {
        let Some(this) = request.try_clone() else {
            break client.execute(request).await;
        };
        match client.execute(this).await {
            Err(e) if e.is_connect() && attempt < retries => attempt += 1,
            other => break other,
        }
    };
    let response = response.map_err(|e| request_error(url, e))?;
    let status = response.status().as_u16();
    let mut out_headers = Map::new();
    for (name, value) in response.headers() {
        let key = title_case(name.as_str());
        let text = String::from_utf8_lossy(value.as_bytes()).into_owned();
        match out_headers.get_mut(&key) {
            Some(Value::String(prev)) => {
                prev.push_str(", ");
                prev.push_str(&text);
            }
            _ => {
                out_headers.insert(key, Value::String(text));
            }
        }
    }
    let is_json = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == b"application/json");
    let bytes = response.bytes().await.map_err(|e| request_error(url, e))?;
    let body = if is_json {
        serde_json::from_slice(&bytes).map_err(|e| {
            ActivityError::Unexpected(format!("the response says JSON but is not: {e}"))
        })?
    } else {
        Value::String(String::from_utf8_lossy(&bytes).into_owned())
    };
    let mut out = Map::new();
    out.insert("status".into(), Value::from(status));
    out.insert("headers".into(), Value::Object(out_headers));
    out.insert("body".into(), body);
    Ok(Value::Object(out))
}

fn query_pairs(map: &Map<String, Value>) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    for (k, v) in map {
        match v {
            Value::Null => {}
            Value::Array(items) => {
                for item in items {
                    pairs.push((k.clone(), py_str(item)));
                }
            }
            other => pairs.push((k.clone(), py_str(other))),
        }
    }
    pairs
}

fn request_error(url: &str, e: reqwest::Error) -> ActivityError {
    if e.is_timeout() {
        ActivityError::Failed("activity took too long to complete".to_string())
    } else if e.is_connect() || e.is_request() {
        ActivityError::Failed(format!("failed to connect to {url}: {}", root_cause(&e)))
    } else {
        ActivityError::Failed(format!("request to {url} failed: {}", root_cause(&e)))
    }
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// Header names as servers commonly write them (`content-type` → `Content-Type`): the HTTP
/// stack lowercases names, and Chaos Toolkit reports them as received.
pub fn title_case(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut c = part.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}
