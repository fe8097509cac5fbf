//! Abort latency (issue #3): the time from the Abort command to the first rollback's request
//! reaching a loopback server, with a process (`sleep 300`) and with an HTTP call to a server
//! that never answers in flight. Run: `cargo bench --bench abort_latency` (prints median and
//! 99th percentile over the iterations; `ABORT_BENCH_RUNS` sets how many).

use chaosdeck::engine::{self, Control, Event, Prepared, RunOptions};
use chaosdeck::experiment::config::Resolved;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

/// A loopback server: `/hang` never answers; `/rollback` reports when its request arrived.
fn server() -> (u16, std_mpsc::Receiver<Instant>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let port = listener.local_addr().expect("addr").port();
    let (tx, rx) = std_mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let tx = tx.clone();
            std::thread::spawn(move || {
                let mut stream = stream;
                let mut buf = [0u8; 2048];
                let Ok(n) = stream.read(&mut buf) else { return };
                let arrived = Instant::now();
                let head = String::from_utf8_lossy(&buf[..n]);
                if head.starts_with("GET /rollback") {
                    let _ = tx.send(arrived);
                    let _ = stream.write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                    );
                } else {
                    std::thread::sleep(Duration::from_secs(600));
                }
            });
        }
    });
    (port, rx)
}

fn experiment(in_flight: &str, port: u16) -> serde_json::Value {
    let provider = match in_flight {
        "process" => serde_json::json!({"type": "process", "path": "sleep", "arguments": ["300"]}),
        _ => serde_json::json!({"type": "http", "url": format!("http://127.0.0.1:{port}/hang")}),
    };
    serde_json::json!({
        "title": "abort latency", "description": "bench",
        "method": [{"type": "action", "name": "in-flight", "provider": provider}],
        "rollbacks": [{"type": "action", "name": "undo",
            "provider": {"type": "http", "url": format!("http://127.0.0.1:{port}/rollback")}}]
    })
}

async fn once(in_flight: &str, port: u16, arrivals: &std_mpsc::Receiver<Instant>) -> Duration {
    let prepared = Prepared {
        doc: experiment(in_flight, port),
        source: "bench".into(),
        resolved: Resolved::default(),
    };
    let (ctx, crx) = tokio::sync::mpsc::unbounded_channel();
    let (etx, mut erx) = tokio::sync::mpsc::unbounded_channel();
    let run = tokio::spawn(engine::run(prepared, RunOptions::default(), crx, etx));
    let mut sent = None;
    while let Some(e) = erx.recv().await {
        if let Event::ActivityStarted(a) = &e {
            if a.name == "in-flight" {
                // Let the process start or the request leave before aborting.
                tokio::time::sleep(Duration::from_millis(20)).await;
                sent = Some(Instant::now());
                let _ = ctx.send(Control::Abort);
            }
        }
        if matches!(e, Event::RunFinished { .. }) {
            break;
        }
    }
    let _ = run.await;
    let arrived = arrivals
        .recv_timeout(Duration::from_secs(5))
        .expect("the rollback request arrived");
    arrived.saturating_duration_since(sent.expect("aborted"))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    let runs: usize = std::env::var("ABORT_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (port, arrivals) = server();
    for in_flight in ["process", "http"] {
        let mut times = Vec::with_capacity(runs);
        rt.block_on(async {
            for _ in 0..runs {
                times.push(once(in_flight, port, &arrivals).await);
            }
        });
        times.sort();
        println!(
            "abort with {in_flight:7} in flight -> first rollback request: median {:.3} ms, p99 {:.3} ms, max {:.3} ms ({runs} runs)",
            percentile(&times, 0.5).as_secs_f64() * 1000.0,
            percentile(&times, 0.99).as_secs_f64() * 1000.0,
            times[times.len() - 1].as_secs_f64() * 1000.0,
        );
    }
}
