//! `chaosdeck proxy` on loopback: its Toxiproxy API, and what each toxic does to real
//! connections through it to a small HTTP server.

use chaosdeck::proxy::api::{spawn, Server};
use serde_json::{json, Value};
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A loopback HTTP server answering every request with `size` bytes, then closing.
async fn upstream(size: usize) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                continue;
            };
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let mut seen = Vec::new();
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {size}\r\nConnection: close\r\n\r\n"
                );
                let mut out = head.into_bytes();
                out.extend(std::iter::repeat_n(b'x', size));
                let _ = s.write_all(&out).await;
                let _ = s.shutdown().await;
            });
        }
    });
    addr
}

struct Fixture {
    server: Server,
    http: reqwest::Client,
}

impl Fixture {
    async fn new() -> Fixture {
        chaosdeck::providers::http::install_crypto();
        Fixture {
            server: spawn("127.0.0.1:0").await.unwrap(),
            http: reqwest::Client::new(),
        }
    }
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.server.addr())
    }
    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.http.request(m, self.url(path));
        if let Some(b) = body {
            req = req.body(b.to_string());
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
    /// Creates a proxy in front of `up` and returns the address it listens on.
    async fn proxy(&self, name: &str, up: SocketAddr) -> SocketAddr {
        let body = json!({"name": name, "listen": "127.0.0.1:0", "upstream": up.to_string()});
        let (status, proxy) = self.call("POST", "/proxies", Some(body)).await;
        assert_eq!(status, 201, "{proxy}");
        proxy["listen"].as_str().unwrap().parse().unwrap()
    }
    async fn toxic(&self, proxy: &str, toxic: Value) {
        let path = format!("/proxies/{proxy}/toxics");
        let (status, body) = self.call("POST", &path, Some(toxic)).await;
        assert_eq!(status, 200, "{body}");
    }
}

/// One request through `addr`: the bytes received (or the error) and how long it took.
async fn round_trip(addr: SocketAddr, limit: Duration) -> (Result<Vec<u8>, ErrorKind>, Duration) {
    let started = Instant::now();
    let exchange = async {
        let mut s = TcpStream::connect(addr).await?;
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await?;
        let mut out = Vec::new();
        s.read_to_end(&mut out).await?;
        Ok::<_, std::io::Error>(out)
    };
    let result = match tokio::time::timeout(limit, exchange).await {
        Err(_) => Err(ErrorKind::TimedOut),
        Ok(r) => r.map_err(|e| e.kind()),
    };
    (result, started.elapsed())
}

fn ok_body(r: &Result<Vec<u8>, ErrorKind>) -> bool {
    matches!(r, Ok(b) if b.starts_with(b"HTTP/1.1 200") && b.ends_with(b"xx"))
}

#[tokio::test]
async fn api_shapes_and_status_codes() {
    let f = Fixture::new().await;
    let up = upstream(2).await;
    let (s, v) = f.call("GET", "/version", None).await;
    assert_eq!(s, 200);
    assert!(v["version"].is_string());
    f.proxy("api", up).await;
    let (s, v) = f.call("GET", "/proxies/api", None).await;
    assert_eq!(s, 200);
    assert_eq!(v["name"], "api");
    assert_eq!(v["upstream"], up.to_string());
    assert_eq!(v["enabled"], true);
    assert_eq!(v["toxics"], json!([]));
    let dup = json!({"name": "api", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:1"});
    let (s, v) = f.call("POST", "/proxies", Some(dup)).await;
    assert_eq!((s, v["status"].clone()), (409, json!(409)));
    let (s, v) = f.call("GET", "/proxies", None).await;
    assert_eq!(s, 200);
    assert_eq!(
        v["api"]["upstream"],
        up.to_string(),
        "the first proxy is untouched"
    );
    assert_eq!(f.call("GET", "/proxies/nope", None).await.0, 404);
    assert_eq!(f.call("POST", "/proxies", Some(json!("{"))).await.0, 400);
    let (s, _) = f.call("POST", "/proxies/api/toxics", None).await;
    assert_eq!(s, 400, "a toxic without a type");
    let raw = f
        .http
        .post(f.url("/proxies"))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status().as_u16(), 400);
    let lat = json!({"name": "lat", "type": "latency", "stream": "upstream", "toxicity": 0.5,
                     "attributes": {"latency": 10, "jitter": 2}});
    f.toxic("api", lat.clone()).await;
    let (s, _) = f
        .call("POST", "/proxies/api/toxics", Some(lat.clone()))
        .await;
    assert_eq!(s, 409);
    let (s, v) = f.call("GET", "/proxies/api/toxics/lat", None).await;
    assert_eq!((s, v.clone()), (200, lat));
    let upd = json!({"attributes": {"latency": 20}});
    let (s, v) = f.call("POST", "/proxies/api/toxics/lat", Some(upd)).await;
    assert_eq!(s, 200);
    assert_eq!(v["attributes"], json!({"latency": 20, "jitter": 2}));
    let (s, v) = f.call("GET", "/proxies/api/toxics", None).await;
    assert_eq!((s, v.as_array().map(Vec::len)), (200, Some(1)));
    assert_eq!(f.call("GET", "/proxies/api/toxics/x", None).await.0, 404);
    assert_eq!(
        f.call("DELETE", "/proxies/api/toxics/lat", None).await.0,
        204
    );
    assert_eq!(
        f.call("DELETE", "/proxies/api/toxics/lat", None).await.0,
        404
    );
    let off = json!({"enabled": false});
    assert_eq!(
        f.call("POST", "/proxies/api", Some(off)).await.1["enabled"],
        false
    );
    assert_eq!(f.call("POST", "/reset", None).await.0, 204);
    assert_eq!(f.call("GET", "/proxies/api", None).await.1["enabled"], true);
    assert_eq!(f.call("PUT", "/proxies", None).await.0, 405);
    assert_eq!(f.call("DELETE", "/proxies/api", None).await.0, 204);
    assert_eq!(f.call("DELETE", "/proxies/api", None).await.0, 404);
    f.server.stop().await;
}

#[tokio::test]
async fn latency_adds_and_removing_takes_away() {
    let f = Fixture::new().await;
    let addr = f.proxy("slow", upstream(2).await).await;
    let limit = Duration::from_secs(10);
    let (r, base) = round_trip(addr, limit).await;
    assert!(ok_body(&r), "{r:?}");
    let toxic = json!({"name": "lat", "type": "latency",
                       "attributes": {"latency": 500, "jitter": 50}});
    f.toxic("slow", toxic).await;
    let (r, slow) = round_trip(addr, limit).await;
    assert!(ok_body(&r), "{r:?}");
    assert!(slow >= Duration::from_millis(450), "{slow:?}");
    assert!(
        slow < base + Duration::from_millis(2000),
        "{slow:?} (loaded machine margin)"
    );
    assert_eq!(
        f.call("DELETE", "/proxies/slow/toxics/lat", None).await.0,
        204
    );
    let (r, after) = round_trip(addr, limit).await;
    assert!(ok_body(&r), "{r:?}");
    assert!(after < Duration::from_millis(300), "{after:?}");
    f.server.stop().await;
}

#[tokio::test]
async fn toxicity_applies_to_about_that_share_of_connections() {
    let f = Fixture::new().await;
    let addr = f.proxy("half", upstream(2).await).await;
    let toxic = json!({"type": "limit_data", "toxicity": 0.5, "attributes": {"bytes": 0}});
    f.toxic("half", toxic).await;
    let mut broken = 0;
    for _ in 0..200 {
        let (r, _) = round_trip(addr, Duration::from_secs(5)).await;
        if !ok_body(&r) {
            broken += 1;
        }
    }
    assert!((60..=140).contains(&broken), "{broken} of 200 broken");
    f.server.stop().await;
}

#[tokio::test]
async fn timeout_drops_data_then_closes_and_zero_hangs() {
    let f = Fixture::new().await;
    let addr = f.proxy("t", upstream(2).await).await;
    f.toxic(
        "t",
        json!({"name": "to", "type": "timeout", "attributes": {"timeout": 300}}),
    )
    .await;
    let (r, took) = round_trip(addr, Duration::from_secs(5)).await;
    assert!(matches!(&r, Ok(b) if b.is_empty()), "{r:?}");
    assert!(took >= Duration::from_millis(250), "{took:?}");
    f.call("DELETE", "/proxies/t/toxics/to", None).await;
    f.toxic(
        "t",
        json!({"name": "to", "type": "timeout", "attributes": {"timeout": 0}}),
    )
    .await;
    let (r, _) = round_trip(addr, Duration::from_millis(800)).await;
    assert_eq!(r, Err(ErrorKind::TimedOut), "timeout 0 hangs");
    f.call("DELETE", "/proxies/t/toxics/to", None).await;
    assert!(ok_body(&round_trip(addr, Duration::from_secs(5)).await.0));
    f.server.stop().await;
}

#[tokio::test]
async fn reset_peer_resets_the_connection() {
    let f = Fixture::new().await;
    let addr = f.proxy("r", upstream(2).await).await;
    f.toxic(
        "r",
        json!({"type": "reset_peer", "attributes": {"timeout": 100}}),
    )
    .await;
    let mut s = TcpStream::connect(addr).await.unwrap();
    let mut buf = [0u8; 16];
    let got = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await;
    assert!(
        matches!(&got, Ok(Err(e)) if e.kind() == ErrorKind::ConnectionReset),
        "{got:?}"
    );
    f.server.stop().await;
}

#[tokio::test]
async fn limit_data_closes_after_the_limit() {
    let f = Fixture::new().await;
    let addr = f.proxy("l", upstream(1000).await).await;
    f.toxic(
        "l",
        json!({"type": "limit_data", "attributes": {"bytes": 10}}),
    )
    .await;
    let (r, _) = round_trip(addr, Duration::from_secs(5)).await;
    assert_eq!(r.map(|b| b.len()), Ok(10));
    f.server.stop().await;
}

#[tokio::test]
async fn a_disabled_proxy_refuses_connections() {
    let f = Fixture::new().await;
    let addr = f.proxy("d", upstream(2).await).await;
    let off = json!({"enabled": false});
    assert_eq!(f.call("POST", "/proxies/d", Some(off)).await.0, 200);
    let (r, _) = round_trip(addr, Duration::from_secs(5)).await;
    assert_eq!(r, Err(ErrorKind::ConnectionRefused));
    let on = json!({"enabled": true});
    assert_eq!(f.call("POST", "/proxies/d", Some(on)).await.0, 200);
    assert!(ok_body(&round_trip(addr, Duration::from_secs(5)).await.0));
    f.server.stop().await;
}

#[tokio::test]
async fn bandwidth_slicer_and_slow_close_keep_the_data_whole() {
    let f = Fixture::new().await;
    let addr = f.proxy("b", upstream(5000).await).await;
    f.toxic(
        "b",
        json!({"type": "bandwidth", "attributes": {"rate": 10}}),
    )
    .await;
    let (r, took) = round_trip(addr, Duration::from_secs(10)).await;
    assert!(ok_body(&r));
    assert!(
        took >= Duration::from_millis(400),
        "5 KB at 10 KB/s: {took:?}"
    );
    assert_eq!(f.call("POST", "/reset", None).await.0, 204);
    let slicer = json!({"type": "slicer",
                        "attributes": {"average_size": 64, "size_variation": 16, "delay": 100}});
    f.toxic("b", slicer).await;
    f.toxic(
        "b",
        json!({"type": "slow_close", "attributes": {"delay": 300}}),
    )
    .await;
    let (r, took) = round_trip(addr, Duration::from_secs(10)).await;
    assert!(ok_body(&r));
    assert_eq!(r.unwrap().len(), 5000 + 60, "head and body whole");
    assert!(took >= Duration::from_millis(300), "{took:?}");
    f.server.stop().await;
}
