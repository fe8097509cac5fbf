//! The toxiproxy provider and chaostoolkit-toxiproxy's python activities, run natively against
//! `chaosdeck proxy` on loopback: results, `<name>_PORT`, and the error cases.

use chaosdeck::experiment::substitute::Vars;
use chaosdeck::providers::{execute, ActivityError, Ctx};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A loopback HTTP server answering `ok` to every request.
async fn upstream() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let mut seen = Vec::new();
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                let reply = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
                let _ = s.write_all(reply.as_bytes()).await;
            });
        }
    });
    addr
}

fn ctx(config: Value) -> Ctx {
    chaosdeck::providers::http::install_crypto();
    let mut vars = Vars::new();
    for (k, v) in config.as_object().unwrap() {
        vars.add_config(k, v.clone());
    }
    Ctx::new(vars, HashMap::new())
}

async fn run(activity: Value, ctx: &Ctx) -> Result<Value, ActivityError> {
    let outcome = execute(&activity, ctx, true).await;
    match outcome.error {
        Some(e) => Err(e),
        None => Ok(outcome.output.unwrap_or(Value::Null)),
    }
}

fn toxi(func: &str, arguments: Value) -> Value {
    json!({"type": "action", "name": func,
           "provider": {"type": "toxiproxy", "func": func, "arguments": arguments}})
}

fn chaostoxi(module: &str, func: &str, arguments: Value) -> Value {
    json!({"type": "action", "name": func,
           "provider": {"type": "python", "module": module, "func": func,
                        "arguments": arguments}})
}

fn get(url: &str) -> Value {
    json!({"type": "probe", "name": "get",
           "provider": {"type": "http", "url": url, "timeout": 10}})
}

#[tokio::test]
async fn the_provider_manages_proxies_and_toxics() {
    let server = chaosdeck::proxy::api::spawn("127.0.0.1:0").await.unwrap();
    let up = upstream().await;
    let c = ctx(json!({"toxiproxy_url": format!("http://{}", server.addr())}));
    let create = toxi(
        "create_proxy",
        json!({"name": "web", "upstream": up.to_string(), "listen": "127.0.0.1:0"}),
    );
    let proxy = run(create.clone(), &c).await.unwrap();
    assert_eq!(proxy["name"], "web");
    let port = c.current_vars().get("web_PORT").cloned().unwrap();
    assert_eq!(proxy["listen"], format!("127.0.0.1:{port}"));
    let through = get("http://127.0.0.1:${web_PORT}/");
    assert_eq!(run(through.clone(), &c).await.unwrap()["status"], 200);

    // A name already taken: a clear error, and the proxy is left as it was.
    let taken = toxi(
        "create_proxy",
        json!({"name": "web", "upstream": "127.0.0.1:1", "listen": "127.0.0.1:0"}),
    );
    let err = run(taken, &c).await.unwrap_err().to_string();
    assert!(err.contains("'web' already exists"), "{err}");
    let upstream_now = toxi(
        "get_proxy_attribute",
        json!({"name": "web", "attribute": "upstream"}),
    );
    assert_eq!(run(upstream_now, &c).await.unwrap(), json!(up.to_string()));

    let lat = json!({"proxy": "web", "name": "lat", "type": "latency", "stream": "downstream",
                     "toxicity": 1.0, "attributes": {"latency": 300}});
    assert_eq!(
        run(toxi("create_toxic", lat), &c).await.unwrap()["name"],
        "lat"
    );
    let started = Instant::now();
    run(through.clone(), &c).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(280));
    let upd = json!({"proxy": "web", "name": "lat", "attributes": {"jitter": 10}});
    let t = run(toxi("update_toxic", upd), &c).await.unwrap();
    assert_eq!(t["attributes"], json!({"latency": 300, "jitter": 10}));
    run(
        toxi("delete_toxic", json!({"proxy": "web", "name": "lat"})),
        &c,
    )
    .await
    .unwrap();
    let err = run(
        toxi("delete_toxic", json!({"proxy": "web", "name": "lat"})),
        &c,
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("404"), "{err}");

    run(toxi("disable_proxy", json!({"name": "web"})), &c)
        .await
        .unwrap();
    assert!(
        run(through.clone(), &c).await.is_err(),
        "a disabled proxy is down"
    );
    run(toxi("enable_proxy", json!({"name": "web"})), &c)
        .await
        .unwrap();
    assert_eq!(run(through.clone(), &c).await.unwrap()["status"], 200);
    let listed = run(toxi("list_proxies", json!({})), &c).await.unwrap();
    assert!(listed.get("web").is_some());
    let exist = toxi("proxy_exist", json!({"name": "web"}));
    assert_eq!(run(exist.clone(), &c).await.unwrap(), json!(true));
    run(toxi("reset", json!({})), &c).await.unwrap();
    run(toxi("delete_proxy", json!({"name": "web"})), &c)
        .await
        .unwrap();
    assert_eq!(run(exist, &c).await.unwrap(), json!(false));
    let bad = run(toxi("nope", json!({})), &c).await.unwrap_err();
    assert!(matches!(bad, ActivityError::Unexpected(_)));
    server.stop().await;
}

#[tokio::test]
async fn an_api_that_never_answers_fails_at_the_timeout() {
    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = silent.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = silent.accept().await {
            held.push(s);
        }
    });
    let c = ctx(json!({}));
    let mut activity = toxi("reset", json!({}));
    activity["provider"]["url"] = json!(format!("http://{addr}"));
    activity["provider"]["timeout"] = json!(1);
    let started = Instant::now();
    let err = run(activity, &c).await.unwrap_err();
    assert!(matches!(err, ActivityError::Failed(_)), "the run goes on");
    assert!(err.to_string().contains("no answer within 1 s"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
    // Nothing listening at all: a failure too, not a hang.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let c = ctx(json!({"toxiproxy_host": "127.0.0.1", "toxiproxy_port": port}));
    let exist = chaostoxi(
        "chaostoxi.proxy.probes",
        "proxy_exist",
        json!({"proxy_name": "x"}),
    );
    assert!(matches!(
        run(exist, &c).await,
        Err(ActivityError::Failed(_))
    ));
}

#[tokio::test]
async fn chaostoxi_activities_run_natively_and_define_the_port() {
    let server = chaosdeck::proxy::api::spawn("127.0.0.1:0").await.unwrap();
    let up = upstream().await;
    let api = server.addr();
    let c = ctx(json!({"toxiproxy_host": "127.0.0.1", "toxiproxy_port": api.port()}));
    let pa = "chaostoxi.proxy.actions";
    let ta = "chaostoxi.toxic.actions";
    let create = chaostoxi(
        pa,
        "create_proxy",
        json!({"proxy_name": "api", "upstream_host": "127.0.0.1",
               "upstream_port": up.port(), "listen_host": "127.0.0.1"}),
    );
    assert_eq!(run(create.clone(), &c).await.unwrap(), json!(true));
    assert!(run(create, &c).await.is_err(), "the name is taken");
    let through = get("http://127.0.0.1:${api_PORT}/");
    assert_eq!(run(through.clone(), &c).await.unwrap()["status"], 200);
    let lat = json!({"for_proxy": "api", "toxic_name": "slow", "latency": 400});
    assert_eq!(
        run(chaostoxi(ta, "create_latency_toxic", lat), &c)
            .await
            .unwrap(),
        json!(true)
    );
    let started = Instant::now();
    run(through.clone(), &c).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(380));
    let probes = "chaostoxi.proxy.probes";
    let attr = json!({"proxy_name": "api", "attribute": "toxics"});
    let toxics = run(chaostoxi(probes, "get_proxy_attribute", attr), &c)
        .await
        .unwrap();
    assert_eq!(
        toxics[0]["attributes"],
        json!({"latency": 400, "jitter": 0})
    );
    for (func, args) in [
        ("create_bandwith_degradation_toxic", json!({"rate": 100})),
        ("create_slow_connection_close_toxic", json!({"delay": 10})),
        ("create_timeout_toxic", json!({"timeout": 0})),
        (
            "create_slicer_toxic",
            json!({"average_size": 10, "size_variation": 2, "delay": 5}),
        ),
        ("create_limiter_toxic", json!({"bytes_limit": 100})),
    ] {
        let mut a = args.clone();
        a["for_proxy"] = json!("api");
        a["toxic_name"] = json!(func);
        assert_eq!(run(chaostoxi(ta, func, a), &c).await.unwrap(), json!(true));
    }
    let generic = json!({"for_proxy": "api", "toxic_name": "rp", "toxic_type": "reset_peer",
                         "stream": "upstream", "toxicity": 0.5, "attributes": {"timeout": 5}});
    assert_eq!(
        run(chaostoxi(ta, "create_toxic", generic), &c)
            .await
            .unwrap(),
        json!(true)
    );
    let dup = json!({"for_proxy": "api", "toxic_name": "rp", "toxic_type": "latency"});
    assert!(run(chaostoxi(ta, "create_toxic", dup), &c).await.is_err());
    let del = json!({"for_proxy": "api", "toxic_name": "rp"});
    assert_eq!(
        run(chaostoxi(ta, "delete_toxic", del), &c).await.unwrap(),
        json!(true)
    );
    assert_eq!(
        run(chaostoxi(pa, "reset", json!({})), &c).await.unwrap(),
        json!(true)
    );
    let off = json!({"proxy_name": "api"});
    run(chaostoxi(pa, "disable_proxy", off.clone()), &c)
        .await
        .unwrap();
    assert!(run(through.clone(), &c).await.is_err());
    run(chaostoxi(pa, "enable_proxy", off.clone()), &c)
        .await
        .unwrap();
    assert_eq!(run(through, &c).await.unwrap()["status"], 200);
    let exist = chaostoxi(probes, "proxy_exist", off.clone());
    assert_eq!(run(exist.clone(), &c).await.unwrap(), json!(true));
    assert_eq!(
        run(chaostoxi(pa, "delete_proxy", off.clone()), &c)
            .await
            .unwrap(),
        Value::Null
    );
    assert_eq!(run(exist, &c).await.unwrap(), json!(false));
    server.stop().await;
}

#[tokio::test]
async fn a_run_validates_and_uses_the_port_create_proxy_defines() {
    let server = chaosdeck::proxy::api::spawn("127.0.0.1:0").await.unwrap();
    let up = upstream().await;
    let dir = std::env::temp_dir().join(format!("chaosdeck-toxi-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let experiment = json!({
        "title": "through a proxy the run creates",
        "description": "create_proxy defines api_PORT for the probe after it",
        "configuration": {"toxiproxy_url": format!("http://{}", server.addr())},
        "method": [
            chaostoxi("chaostoxi.proxy.actions", "create_proxy",
                      json!({"proxy_name": "api", "upstream_host": "127.0.0.1",
                             "upstream_port": up.port(), "listen_host": "127.0.0.1"})),
            {"type": "probe", "name": "through", "provider": {"type": "http",
             "url": "http://127.0.0.1:${api_PORT}/", "timeout": 5}, "expect": [{"status": 200}]}
        ],
        "rollbacks": [chaostoxi("chaostoxi.proxy.actions", "delete_proxy",
                                json!({"proxy_name": "api"}))]
    });
    let file = dir.join("exp.json");
    std::fs::write(&file, experiment.to_string()).unwrap();
    let journal = dir.join("journal.json");
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_chaosdeck"))
        .arg("run")
        .arg(&file)
        .arg("--journal-path")
        .arg(&journal)
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let j: Value = serde_json::from_str(&std::fs::read_to_string(&journal).unwrap()).unwrap();
    assert_eq!(j["status"], "completed", "{j}");
    assert_eq!(j["run"][1]["output"]["status"], 200, "{j}");
    let _ = std::fs::remove_dir_all(&dir);
    server.stop().await;
}
