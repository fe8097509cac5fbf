//! The HTTP API of `chaosdeck proxy`, in Toxiproxy's shapes: proxies and toxics as JSON,
//! `{"error": ..., "status": ...}` for refusals, 201 for a created proxy, 204 for a deletion
//! or a reset.

use super::{Refusal, Registry, VERSION};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::CONTENT_TYPE;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::{json, Value};
use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// The largest request body read.
const MAX_BODY: usize = 1 << 20;

/// The API running on a task.
pub struct Server {
    addr: SocketAddr,
    stop: CancellationToken,
    registry: Arc<Registry>,
    accept: tokio::task::JoinHandle<()>,
}

impl Server {
    /// The address the API listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops the API and every proxy.
    pub async fn stop(self) {
        self.stop.cancel();
        let _ = self.accept.await;
        self.registry.shutdown().await;
    }
}

/// Starts the API on `listen` (`host:port`, port 0 for any).
pub async fn spawn(listen: &str) -> io::Result<Server> {
    let listener = TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let registry = Arc::new(Registry::default());
    let stop = CancellationToken::new();
    let (token, reg) = (stop.clone(), registry.clone());
    let accept = tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                _ = token.cancelled() => break,
                a = listener.accept() => a,
            };
            match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    let (reg, token) = (reg.clone(), token.clone());
                    tokio::spawn(async move {
                        let service = service_fn(move |req| {
                            let reg = reg.clone();
                            async move { Ok::<_, Infallible>(handle(&reg, req).await) }
                        });
                        let mut builder = http1::Builder::new();
                        builder
                            .timer(TokioTimer::new())
                            .header_read_timeout(Duration::from_secs(30));
                        let conn = builder.serve_connection(TokioIo::new(stream), service);
                        tokio::select! {
                            _ = conn => {}
                            _ = token.cancelled() => {}
                        }
                    });
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    });
    Ok(Server {
        addr,
        stop,
        registry,
        accept,
    })
}

/// `chaosdeck proxy`: serves until interrupted.
pub async fn run(listen: &str) -> i32 {
    let server = match spawn(listen).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("chaosdeck proxy: cannot listen on {listen}: {e}");
            return 1;
        }
    };
    eprintln!("chaosdeck proxy: Toxiproxy API on http://{}", server.addr());
    let _ = tokio::signal::ctrl_c().await;
    server.stop().await;
    0
}

fn reply(status: u16, body: Option<Value>) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(match &body {
        Some(v) => Bytes::from(v.to_string()),
        None => Bytes::new(),
    }));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if body.is_some() {
        r.headers_mut().insert(
            CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("application/json"),
        );
    }
    r
}

fn refusal(e: Refusal) -> Response<Full<Bytes>> {
    reply(
        e.status,
        Some(json!({"error": e.message, "status": e.status})),
    )
}

fn answer(ok: u16, result: Result<Value, Refusal>) -> Response<Full<Bytes>> {
    match result {
        Ok(v) => reply(ok, Some(v)),
        Err(e) => refusal(e),
    }
}

fn done(result: Result<(), Refusal>) -> Response<Full<Bytes>> {
    match result {
        Ok(()) => reply(204, None),
        Err(e) => refusal(e),
    }
}

/// Reads the body as JSON; an empty body reads as `{}`.
async fn body(request: Request<Incoming>) -> Result<Value, Refusal> {
    let bytes = Limited::new(request.into_body(), MAX_BODY)
        .collect()
        .await
        .map_err(|_| Refusal::bad("the body could not be read"))?
        .to_bytes();
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(&bytes).map_err(|e| Refusal::bad(format!("bad request: {e}")))
}

async fn handle(reg: &Registry, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let post = method == Method::POST;
    let read = |r: Request<Incoming>| async move { body(r).await };
    match (parts.as_slice(), &method) {
        (["version"], &Method::GET) => reply(200, Some(json!({"version": VERSION}))),
        (["reset"], &Method::POST) => done(reg.reset().await),
        (["proxies"], &Method::GET) => reply(200, Some(reg.list().await)),
        (["proxies"], _) if post => match read(request).await {
            Ok(b) => answer(201, reg.create(&b).await),
            Err(e) => refusal(e),
        },
        (["proxies", name], &Method::GET) => answer(200, reg.get(name).await),
        (["proxies", name], _) if post => match read(request).await {
            Ok(b) => answer(200, reg.update(name, &b).await),
            Err(e) => refusal(e),
        },
        (["proxies", name], &Method::DELETE) => done(reg.delete(name).await),
        (["proxies", name, "toxics"], &Method::GET) => answer(200, reg.toxics(name).await),
        (["proxies", name, "toxics"], _) if post => match read(request).await {
            Ok(b) => answer(200, reg.add_toxic(name, &b).await),
            Err(e) => refusal(e),
        },
        (["proxies", p, "toxics", t], &Method::GET) => answer(200, reg.toxic(p, t).await),
        (["proxies", p, "toxics", t], _) if post => match read(request).await {
            Ok(b) => answer(200, reg.update_toxic(p, t, &b).await),
            Err(e) => refusal(e),
        },
        (["proxies", p, "toxics", t], &Method::DELETE) => done(reg.remove_toxic(p, t).await),
        (["version" | "reset" | "proxies"], _)
        | (["proxies", _], _)
        | (["proxies", _, "toxics"], _)
        | (["proxies", _, "toxics", _], _) => refusal(Refusal::new(405, "method not allowed")),
        _ => refusal(Refusal::new(404, "not found")),
    }
}
