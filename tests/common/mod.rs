//! Shared test fixtures: a real HTTP server on loopback whose answers each test scripts, and
//! helpers to run experiments through the engine and the binary.
#![allow(dead_code)]

pub mod tmux;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One scripted answer.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub body: String,
    pub delay: Duration,
    /// Accept the connection and never answer.
    pub hang: bool,
    pub headers: Vec<(String, String)>,
}

impl Reply {
    pub fn text(status: u16, body: &str) -> Self {
        Reply {
            status,
            content_type: "text/plain".into(),
            body: body.into(),
            delay: Duration::ZERO,
            hang: false,
            headers: Vec::new(),
        }
    }
    pub fn json(status: u16, body: &str) -> Self {
        Reply {
            content_type: "application/json".into(),
            ..Reply::text(status, body)
        }
    }
    pub fn with_content_type(mut self, ct: &str) -> Self {
        self.content_type = ct.into();
        self
    }
    pub fn delayed(mut self, d: Duration) -> Self {
        self.delay = d;
        self
    }
    pub fn hang() -> Self {
        Reply {
            hang: true,
            ..Reply::text(200, "")
        }
    }
}

/// A request the server received.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// An HTTP/1.1 server on 127.0.0.1 with per-path replies (`*` for any other path).
#[derive(Clone)]
pub struct Server {
    pub addr: SocketAddr,
    routes: Arc<Mutex<HashMap<String, Reply>>>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let server = Server {
            addr,
            routes: Arc::new(Mutex::new(HashMap::new())),
            seen: Arc::new(Mutex::new(Vec::new())),
        };
        let s = server.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let s = s.clone();
                std::thread::spawn(move || s.serve(stream));
            }
        });
        server
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn route(&self, path: &str, reply: Reply) -> &Self {
        self.routes.lock().unwrap().insert(path.to_string(), reply);
        self
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    pub fn hits(&self, path_prefix: &str) -> usize {
        self.seen()
            .iter()
            .filter(|s| s.target.starts_with(path_prefix))
            .count()
    }

    fn serve(&self, stream: TcpStream) {
        let mut reader = BufReader::new(match stream.try_clone() {
            Ok(s) => s,
            Err(_) => return,
        });
        let mut stream = stream;
        loop {
            let mut first = String::new();
            if reader.read_line(&mut first).unwrap_or(0) == 0 {
                return;
            }
            let mut parts = first.split_whitespace();
            let method = parts.next().unwrap_or("").to_string();
            let target = parts.next().unwrap_or("").to_string();
            let mut headers = Vec::new();
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                if let Some((k, v)) = line.split_once(':') {
                    if k.eq_ignore_ascii_case("content-length") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                    headers.push((k.trim().to_string(), v.trim().to_string()));
                }
            }
            let mut body = vec![0u8; length];
            if reader.read_exact(&mut body).is_err() {
                return;
            }
            self.seen.lock().unwrap().push(Seen {
                method,
                target: target.clone(),
                headers,
                body: String::from_utf8_lossy(&body).into_owned(),
            });
            let path = target.split('?').next().unwrap_or("").to_string();
            let reply = {
                let routes = self.routes.lock().unwrap();
                routes
                    .get(&path)
                    .or_else(|| routes.get("*"))
                    .cloned()
                    .unwrap_or_else(|| Reply::text(404, "no route"))
            };
            if reply.hang {
                std::thread::sleep(Duration::from_secs(600));
                return;
            }
            std::thread::sleep(reply.delay);
            let mut head = format!(
                "HTTP/1.1 {} X\r\nContent-Type: {}\r\nContent-Length: {}\r\n",
                reply.status,
                reply.content_type,
                reply.body.len()
            );
            for (k, v) in &reply.headers {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            head.push_str("\r\n");
            if stream.write_all(head.as_bytes()).is_err()
                || stream.write_all(reply.body.as_bytes()).is_err()
            {
                return;
            }
        }
    }
}

/// Writes a file into a fresh temporary folder and returns its path.
pub fn write_temp(name: &str, text: &str) -> std::path::PathBuf {
    let dir = tempdir();
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write fixture");
    path
}

/// A fresh folder under the system temp dir, unique per call.
pub fn tempdir() -> std::path::PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "chaosdeck-test-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

/// The result of running an experiment through the engine.
pub struct Ran {
    pub report: chaosdeck::engine::RunReport,
    /// The journal as written on disk.
    pub journal: serde_json::Value,
    pub events: Vec<chaosdeck::engine::Event>,
}

/// Runs YAML text through the same path as `chaosdeck run`: load, validate, resolve, run.
/// Panics with the findings if the experiment does not prepare.
pub async fn run_yaml(yaml: &str, mut opts: chaosdeck::engine::RunOptions) -> Ran {
    run_yaml_with(
        yaml,
        &mut opts,
        chaosdeck::headless::PrepareOptions::default(),
        Vec::new(),
    )
    .await
}

/// Like [`run_yaml`], with prepare options and controls sent as soon as the run starts.
pub async fn run_yaml_with(
    yaml: &str,
    opts: &mut chaosdeck::engine::RunOptions,
    prepare: chaosdeck::headless::PrepareOptions,
    controls: Vec<chaosdeck::engine::Control>,
) -> Ran {
    let path = write_temp("experiment.yaml", yaml);
    let (prepared, _) = chaosdeck::headless::prepare(path.to_str().unwrap(), &prepare)
        .await
        .unwrap_or_else(|f| panic!("experiment did not prepare: {:?}", f.errors));
    let journal_path = path.with_file_name("journal.json");
    opts.journal_path = Some(journal_path.clone());
    let (ctx, crx) = tokio::sync::mpsc::unbounded_channel();
    for c in controls {
        ctx.send(c).unwrap();
    }
    let (etx, mut erx) = tokio::sync::mpsc::unbounded_channel();
    let report = chaosdeck::engine::run(prepared, opts.clone(), crx, etx).await;
    drop(ctx);
    let mut events = Vec::new();
    while let Ok(e) = erx.try_recv() {
        events.push(e);
    }
    let text = std::fs::read_to_string(&journal_path).expect("journal written");
    let journal = serde_json::from_str(&text).expect("journal is valid JSON");
    Ran {
        report,
        journal,
        events,
    }
}

/// Runs the chaosdeck binary with arguments, in `dir`, with extra environment.
pub fn chaosdeck(
    dir: &std::path::Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> std::process::Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_chaosdeck"));
    cmd.args(args).current_dir(dir).env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run chaosdeck")
}

/// Whether a process with this pid still exists (and is not a zombie).
pub fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// A port on 127.0.0.1 that nothing listened on a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Names of the containers and networks carrying the demo's label for `project`.
pub fn demo_labelled(project: &str) -> Vec<String> {
    let filter = format!("label=dev.chaosdeck.demo.project={project}");
    let mut names = Vec::new();
    for args in [
        vec!["ps", "-a", "--filter", &filter, "--format", "{{.Names}}"],
        vec![
            "network",
            "ls",
            "--filter",
            &filter,
            "--format",
            "{{.Name}}",
        ],
    ] {
        let out = std::process::Command::new("docker")
            .args(&args)
            .output()
            .expect("docker");
        assert!(out.status.success(), "{out:?}");
        names.extend(
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(str::to_string),
        );
    }
    names.sort();
    names
}
