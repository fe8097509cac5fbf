//! The demo API: the service a GameDay watches. It answers the endpoints the guide's
//! experiments call (`/health`, `/ready`, `/health/detailed`, `/metrics`, `POST /api/auth/login`)
//! and judges its health by pinging its database and cache stand-ins on every health request,
//! so a stopped dependency shows at once and a restarted one is seen as soon as it answers.

use super::login::login;
pub use super::login::User;
use super::{ping, spawn_listener, Running};
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, ALLOW, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

/// The port the guide's API answers on, and the demo's default.
pub const DEFAULT_PORT: u16 = 8000;
/// A client that has not sent its request head within this long is disconnected.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long open connections get to finish their request when the API stops.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// What the API depends on and how it judges them.
#[derive(Clone, Debug)]
pub struct ApiConfig {
    /// `host:port` of the database stand-in; names are resolved on every check.
    pub database: String,
    /// `host:port` of the cache stand-in.
    pub cache: String,
    pub users: Vec<User>,
    /// `/health` answers 200 whatever the database does, as a bare liveness endpoint would; for
    /// showing that an experiment catches a health check that hides a failure.
    pub health_ignores_database: bool,
    /// A dependency that has not answered its ping within this long counts as down.
    pub dependency_timeout: Duration,
    /// One line per request on stdout (what `docker logs` shows).
    pub access_log: bool,
}

impl ApiConfig {
    /// Dependencies at the given addresses, the guide's test user, a 300 ms ping timeout.
    pub fn new(database: impl Into<String>, cache: impl Into<String>) -> Self {
        ApiConfig {
            database: database.into(),
            cache: cache.into(),
            users: vec![User {
                email: "test@example.com".into(),
                password: "testpass".into(),
            }],
            health_ignores_database: false,
            dependency_timeout: Duration::from_millis(300),
            access_log: false,
        }
    }
}

struct State {
    config: ApiConfig,
    /// Requests answered, by route, method and status.
    requests: Mutex<BTreeMap<(&'static str, &'static str, u16), u64>>,
    tokens_issued: AtomicU64,
}

/// Starts the API on `listen` (`host:port`, port 0 for any).
pub async fn spawn(listen: &str, config: ApiConfig) -> io::Result<Running> {
    let state = Arc::new(State {
        config,
        requests: Mutex::default(),
        tokens_issued: AtomicU64::new(0),
    });
    spawn_listener(listen, move |stream, stop| {
        serve_connection(stream, stop, state.clone())
    })
    .await
}

/// HTTP/1.1 on one connection, with keep-alive, until the client leaves or the API stops.
async fn serve_connection(stream: TcpStream, stop: CancellationToken, state: Arc<State>) {
    let service = service_fn(move |request| {
        let state = state.clone();
        async move { Ok::<_, Infallible>(handle(&state, request).await) }
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .keep_alive(true);
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => {}
        _ = stop.cancelled() => {
            connection.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(SHUTDOWN_GRACE, connection).await;
        }
    }
}

/// The routes the API knows; anything else is `Other` (404), so metrics labels stay bounded.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Route {
    Health,
    Ready,
    HealthDetailed,
    Metrics,
    Login,
    Other,
}

impl Route {
    fn of(path: &str) -> Route {
        match path.trim_end_matches('/') {
            "/health" => Route::Health,
            "/ready" => Route::Ready,
            "/health/detailed" => Route::HealthDetailed,
            "/metrics" => Route::Metrics,
            "/api/auth/login" => Route::Login,
            _ => Route::Other,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Route::Health => "/health",
            Route::Ready => "/ready",
            Route::HealthDetailed => "/health/detailed",
            Route::Metrics => "/metrics",
            Route::Login => "/api/auth/login",
            Route::Other => "other",
        }
    }

    fn allows(self, method: &Method) -> bool {
        match self {
            Route::Login => method == Method::POST,
            _ => method == Method::GET || method == Method::HEAD,
        }
    }
}

fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        _ => "other",
    }
}

async fn handle(state: &State, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let route = Route::of(request.uri().path());
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let response = if route == Route::Other {
        json_response(StatusCode::NOT_FOUND, json!({"detail": "Not Found"}))
    } else if !route.allows(&method) {
        let mut response = json_response(
            StatusCode::METHOD_NOT_ALLOWED,
            json!({"detail": "Method Not Allowed"}),
        );
        let allow = if route == Route::Login {
            "POST"
        } else {
            "GET, HEAD"
        };
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static(allow));
        response
    } else {
        match route {
            Route::Health => health(state).await,
            Route::Ready => ready(state, false).await,
            Route::HealthDetailed => ready(state, true).await,
            Route::Metrics => metrics(state).await,
            Route::Login => login(&state.config.users, &state.tokens_issued, request).await,
            Route::Other => json_response(StatusCode::NOT_FOUND, json!({"detail": "Not Found"})),
        }
    };
    let status = response.status().as_u16();
    if let Ok(mut requests) = state.requests.lock() {
        *requests
            .entry((route.label(), method_label(&method), status))
            .or_default() += 1;
    }
    if state.config.access_log {
        println!(
            "{} {} {}",
            method_label(&method),
            path.escape_debug(),
            status
        );
    }
    response
}

/// One dependency as the last check found it.
struct Dependency {
    name: &'static str,
    address: String,
    outcome: Result<Duration, String>,
}

impl Dependency {
    async fn check(name: &'static str, address: &str, timeout: Duration) -> Dependency {
        Dependency {
            name,
            address: address.to_string(),
            outcome: ping(address, timeout).await,
        }
    }

    fn up(&self) -> bool {
        self.outcome.is_ok()
    }

    fn detail(&self) -> Value {
        match &self.outcome {
            Ok(took) => json!({
                "status": "up",
                "address": self.address,
                "latency_ms": (took.as_secs_f64() * 1e5).round() / 100.0,
            }),
            Err(why) => json!({"status": "down", "address": self.address, "error": why}),
        }
    }
}

async fn dependencies(state: &State) -> [Dependency; 2] {
    let timeout = state.config.dependency_timeout;
    let (database, cache) = tokio::join!(
        Dependency::check("database", &state.config.database, timeout),
        Dependency::check("cache", &state.config.cache, timeout),
    );
    [database, cache]
}

async fn health(state: &State) -> Response<Full<Bytes>> {
    if state.config.health_ignores_database {
        return json_response(StatusCode::OK, json!({"status": "ok"}));
    }
    let timeout = state.config.dependency_timeout;
    let database = Dependency::check("database", &state.config.database, timeout).await;
    if database.up() {
        json_response(StatusCode::OK, json!({"status": "ok"}))
    } else {
        json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"status": "unhealthy", "database": database.detail()}),
        )
    }
}

/// `/ready` (brief) and `/health/detailed` (each dependency): 503 while any is down.
async fn ready(state: &State, detailed: bool) -> Response<Full<Bytes>> {
    let deps = dependencies(state).await;
    let all_up = deps.iter().all(Dependency::up);
    let status = if all_up {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = if detailed {
        let details: Map<String, Value> = deps
            .iter()
            .map(|d| (d.name.to_string(), d.detail()))
            .collect();
        json!({"status": if all_up { "ok" } else { "degraded" }, "dependencies": details})
    } else {
        let down: Vec<&str> = deps.iter().filter(|d| !d.up()).map(|d| d.name).collect();
        if all_up {
            json!({"status": "ready"})
        } else {
            json!({"status": "not ready", "unavailable": down})
        }
    };
    json_response(status, body)
}

/// Prometheus text exposition: request counters, dependency gauges checked at scrape time.
async fn metrics(state: &State) -> Response<Full<Bytes>> {
    let deps = dependencies(state).await;
    let mut text = String::from(
        "# HELP demo_http_requests_total HTTP requests answered, by route, method and status.\n\
         # TYPE demo_http_requests_total counter\n",
    );
    if let Ok(requests) = state.requests.lock() {
        for ((route, method, status), count) in requests.iter() {
            text.push_str(&format!(
                "demo_http_requests_total{{route=\"{route}\",method=\"{method}\",\
                 status=\"{status}\"}} {count}\n"
            ));
        }
    }
    text.push_str(
        "# HELP demo_dependency_up Whether a dependency answered its ping (1) or not (0).\n\
         # TYPE demo_dependency_up gauge\n",
    );
    for dep in &deps {
        text.push_str(&format!(
            "demo_dependency_up{{dependency=\"{}\"}} {}\n",
            dep.name,
            u8::from(dep.up())
        ));
    }
    text.push_str(&format!(
        "# HELP demo_auth_tokens_issued_total Successful logins.\n\
         # TYPE demo_auth_tokens_issued_total counter\n\
         demo_auth_tokens_issued_total {}\n",
        state.tokens_issued.load(Ordering::Relaxed)
    ));
    let mut response = Response::new(Full::new(Bytes::from(text)));
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}

pub(super) fn json_response(status: StatusCode, body: Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}
