//! The demo system on loopback: every endpoint of the API and its status codes, the health
//! endpoints following the database and cache as they stop and come back, robustness against
//! bad clients, and the `demo-service` command as a container runs it.

use chaosdeck::demo::api::{self, ApiConfig};
use chaosdeck::demo::{cache, database, ping, Running};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

struct Stack {
    api: Running,
    database: Option<Running>,
    cache: Option<Running>,
    database_addr: SocketAddr,
    cache_addr: SocketAddr,
    client: reqwest::Client,
}

impl Stack {
    async fn start(configure: impl FnOnce(&mut ApiConfig)) -> Stack {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let database = database::spawn("127.0.0.1:0").await.unwrap();
        let cache = cache::spawn("127.0.0.1:0").await.unwrap();
        let mut config = ApiConfig::new(database.addr().to_string(), cache.addr().to_string());
        configure(&mut config);
        let api = api::spawn("127.0.0.1:0", config).await.unwrap();
        Stack {
            database_addr: database.addr(),
            cache_addr: cache.addr(),
            api,
            database: Some(database),
            cache: Some(cache),
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .unwrap(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.api.addr())
    }

    async fn get(&self, path: &str) -> (u16, String) {
        let response = self.client.get(self.url(path)).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    }

    async fn status(&self, path: &str) -> u16 {
        self.get(path).await.0
    }

    async fn login(&self, body: &str) -> (u16, Value) {
        let response = self
            .client
            .post(self.url("/api/auth/login"))
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

#[tokio::test]
async fn every_endpoint_answers_on_a_healthy_stack() {
    let stack = Stack::start(|_| {}).await;
    assert_eq!(
        stack.get("/health").await,
        (200, r#"{"status":"ok"}"#.into())
    );
    assert_eq!(stack.status("/ready").await, 200);
    let (status, detailed) = stack.get("/health/detailed").await;
    assert_eq!(status, 200);
    let detailed: Value = serde_json::from_str(&detailed).unwrap();
    assert_eq!(detailed["dependencies"]["database"]["status"], "up");
    assert_eq!(detailed["dependencies"]["cache"]["status"], "up");

    let (status, token) = stack
        .login(r#"{"email": "test@example.com", "password": "testpass"}"#)
        .await;
    assert_eq!(status, 200);
    assert!(token["access_token"].as_str().unwrap().len() > 16);
    let wrong = r#"{"email": "test@example.com", "password": "nope"}"#;
    assert_eq!(stack.login(wrong).await.0, 401);
    let unknown = r#"{"email": "who@example.com", "password": "testpass"}"#;
    assert_eq!(stack.login(unknown).await.0, 401);
    for malformed in [
        "not json",
        "",
        "[1, 2]",
        r#"{"email": "test@example.com"}"#,
        r#"{"password": "testpass"}"#,
        r#"{"email": 42, "password": "testpass"}"#,
        r#"{"email": "test@example.com", "password": null}"#,
    ] {
        let (status, body) = stack.login(malformed).await;
        assert_eq!(status, 422, "{malformed}");
        assert!(body["detail"].is_array(), "{malformed}: {body}");
    }

    assert_eq!(stack.status("/nowhere").await, 404);
    let post_health = stack
        .client
        .post(stack.url("/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(post_health.status().as_u16(), 405);
    let get_login = stack.get("/api/auth/login").await;
    assert_eq!(get_login.0, 405);

    let response = stack
        .client
        .get(stack.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let metrics = response.text().await.unwrap();
    for line in [
        "demo_http_requests_total{route=\"/health\",method=\"GET\",status=\"200\"} 1",
        "demo_http_requests_total{route=\"/api/auth/login\",method=\"POST\",status=\"422\"} 7",
        "demo_http_requests_total{route=\"other\",method=\"GET\",status=\"404\"} 1",
        "demo_dependency_up{dependency=\"database\"} 1",
        "demo_dependency_up{dependency=\"cache\"} 1",
        "demo_auth_tokens_issued_total 1",
    ] {
        assert!(metrics.contains(line), "missing {line} in\n{metrics}");
    }
}

#[tokio::test]
async fn health_follows_the_database_and_readiness_both_dependencies() {
    let mut stack = Stack::start(|_| {}).await;
    stack.database.take().unwrap().stop().await;
    assert_eq!(stack.status("/health").await, 503);
    assert_eq!(stack.status("/ready").await, 503);
    let (status, detailed) = stack.get("/health/detailed").await;
    assert_eq!(status, 503);
    let detailed: Value = serde_json::from_str(&detailed).unwrap();
    assert_eq!(detailed["dependencies"]["database"]["status"], "down");
    assert_eq!(detailed["dependencies"]["cache"]["status"], "up");
    let metrics = stack.get("/metrics").await.1;
    assert!(metrics.contains("demo_dependency_up{dependency=\"database\"} 0"));
    // The login does not need the database in the demo: a wrong password is still a 401.
    let wrong = r#"{"email": "test@example.com", "password": "nope"}"#;
    assert_eq!(stack.login(wrong).await.0, 401);

    let addr = stack.database_addr.to_string();
    stack.database = Some(database::spawn(&addr).await.unwrap());
    assert_eq!(stack.status("/health").await, 200);
    assert_eq!(stack.status("/ready").await, 200);

    stack.cache.take().unwrap().stop().await;
    assert_eq!(stack.status("/health").await, 200);
    assert_eq!(stack.status("/ready").await, 503);
    assert_eq!(stack.status("/health/detailed").await, 503);
    let addr = stack.cache_addr.to_string();
    stack.cache = Some(cache::spawn(&addr).await.unwrap());
    assert_eq!(stack.status("/health").await, 200);
    assert_eq!(stack.status("/ready").await, 200);
    assert_eq!(stack.status("/health/detailed").await, 200);
}

#[tokio::test]
async fn health_can_be_told_to_ignore_the_database() {
    let mut stack = Stack::start(|c| c.health_ignores_database = true).await;
    stack.database.take().unwrap().stop().await;
    assert_eq!(stack.status("/health").await, 200);
    assert_eq!(stack.status("/ready").await, 503);
}

#[tokio::test]
async fn a_dependency_that_never_answers_is_down_within_the_timeout() {
    // Accepts connections (the kernel does, through the backlog) but never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_addr = silent.local_addr().unwrap().to_string();
    let mut stack = Stack::start(|c| c.database = silent_addr.clone()).await;
    let started = Instant::now();
    assert_eq!(stack.status("/health").await, 503);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let err = ping(&silent_addr, Duration::from_millis(100))
        .await
        .unwrap_err();
    assert!(err.contains("no answer"), "{err}");
    stack.cache.take().unwrap().stop().await;
    assert!(
        ping(&stack.cache_addr.to_string(), Duration::from_millis(300))
            .await
            .is_err()
    );
}

/// Sends raw bytes on one connection and reads what comes back until the server closes it or
/// goes quiet.
fn raw_exchange(addr: SocketAddr, request: &[u8]) -> String {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    stream.write_all(request).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn bad_clients_get_errors_and_good_ones_keep_alive() {
    let stack = Stack::start(|_| {}).await;
    let addr = stack.api.addr();
    let answers = tokio::task::spawn_blocking(move || {
        let garbage = raw_exchange(addr, b"THIS IS NOT HTTP\r\n\r\n");
        let binary = raw_exchange(addr, &[0xff, 0x00, 0x13, b'\r', b'\n', b'\r', b'\n']);
        let two = raw_exchange(
            addr,
            b"GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /ready HTTP/1.1\r\nHost: x\r\n\r\n",
        );
        let big = format!(
            "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{}",
            200_000,
            "x".repeat(200_000)
        );
        let big = raw_exchange(addr, big.as_bytes());
        (garbage, binary, two, big)
    })
    .await
    .unwrap();
    assert!(answers.0.starts_with("HTTP/1.1 400"), "{}", answers.0);
    assert!(answers.1.starts_with("HTTP/1.1 400"), "{}", answers.1);
    assert_eq!(
        answers.2.matches("HTTP/1.1 200 OK").count(),
        2,
        "{}",
        answers.2
    );
    assert!(answers.3.starts_with("HTTP/1.1 413"), "{}", answers.3);

    // Many at once, and the API still answers afterwards.
    let requests = (0..64).map(|_| stack.client.get(stack.url("/ready")).send());
    for response in spawn_all(requests).await {
        assert_eq!(response.unwrap().status().as_u16(), 200);
    }
    assert_eq!(stack.status("/health").await, 200);
}

/// Runs every future on its own task at once and collects their outputs in order.
async fn spawn_all<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut outputs = Vec::new();
    for handle in handles {
        outputs.push(handle.await.unwrap());
    }
    outputs
}

#[test]
fn the_command_serves_until_sigterm_and_reports_a_busy_port() {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy_addr = busy.local_addr().unwrap().to_string();
    let output = Command::new(env!("CARGO_BIN_EXE_chaosdeck"))
        .args(["demo-service", "cache", "--listen", &busy_addr])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot listen"));

    let mut child = Command::new(env!("CARGO_BIN_EXE_chaosdeck"))
        .args(["demo-service", "database", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let addr = first.rsplit(' ').next().unwrap().to_string();
    assert!(first.starts_with("demo database listening on"), "{first}");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime
        .block_on(ping(&addr, Duration::from_secs(2)))
        .unwrap();
    let started = Instant::now();
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    assert!(started.elapsed() < Duration::from_secs(2));
}
