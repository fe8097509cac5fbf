//! The loopback demo: the API, database and cache as child processes of `chaosdeck demo`
//! (`chaosdeck demo-service …`, each in its own process group, killed with the demo by
//! `PR_SET_PDEATHSIG`), and a small control API on loopback through which experiments stop and
//! start them for real: a stopped database is a process that has exited and a closed port.
//!
//! The TUI's health panel shows the three processes as it shows containers (state, exit code,
//! memory), from a snapshot the supervisor publishes on every start and stop and on a look at
//! the processes every [`HEALTH_EVERY`] (a process can also end by itself).
//!
//! `GET /services`, `GET /services/{name}` (`{name, running, pid, address, exit}`),
//! `POST /services/{name}/stop[?signal=SIGKILL]` and `POST /services/{name}/start` (both answer
//! with the new state once it holds).

use super::api::json_response;
use super::record::{Record, StartedProcess};
use super::{ping, spawn_listener, Running};
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::process::{Child, Command};
use tokio::sync::watch;

use crate::docker::snapshot::{ContainerStatus, Engine, Health, Snapshot, State};

/// How often the processes are looked at for the health panel.
pub const HEALTH_EVERY: Duration = Duration::from_secs(2);

/// How long a service has to answer after it was started.
const READY_WITHIN: Duration = Duration::from_secs(10);
/// How long a service has to exit after SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// Where each service listens.
#[derive(Debug, Clone)]
pub struct Addresses {
    pub api: String,
    pub database: String,
    pub cache: String,
    pub control: String,
}

struct Service {
    address: String,
    /// Arguments after `demo-service ROLE --listen ADDRESS`.
    extra: Vec<String>,
    child: Option<Child>,
    /// How the last run of the process ended, once it has.
    exit: Option<String>,
    /// Its exit code as a shell tells it (128 + N for signal N).
    exit_code: Option<i64>,
}

struct Shared {
    exe: PathBuf,
    logs: PathBuf,
    services: tokio::sync::Mutex<BTreeMap<&'static str, Service>>,
    record: Arc<Mutex<Record>>,
    health: watch::Sender<Snapshot>,
}

/// The running loopback demo.
pub struct Supervisor {
    shared: Arc<Shared>,
    control: Option<Running>,
    looker: tokio::task::JoinHandle<()>,
    pub addresses: Addresses,
}

impl Supervisor {
    /// Starts the database, the cache, then the API (each answering before the next), then the
    /// control API; every process is written to `record` as soon as it exists. On an error,
    /// whatever did start is still in the record for the caller to remove.
    pub async fn start(
        addresses: Addresses,
        demo_dir: &Path,
        record: Arc<Mutex<Record>>,
    ) -> Result<Supervisor, String> {
        let exe = std::env::current_exe()
            .map_err(|e| format!("cannot find the running executable: {e}"))?;
        let logs = demo_dir.join("logs");
        std::fs::create_dir_all(&logs)
            .map_err(|e| format!("cannot create {}: {e}", logs.display()))?;
        let api_extra = vec![
            "--database".to_string(),
            addresses.database.clone(),
            "--cache".to_string(),
            addresses.cache.clone(),
        ];
        let mut services = BTreeMap::new();
        for (role, address, extra) in [
            ("database", &addresses.database, Vec::new()),
            ("cache", &addresses.cache, Vec::new()),
            ("api", &addresses.api, api_extra),
        ] {
            let service = Service {
                address: address.clone(),
                extra,
                child: None,
                exit: None,
                exit_code: None,
            };
            services.insert(role, service);
        }
        let (health, _) = watch::channel(Snapshot::empty(Engine::Connecting {
            address: LOOPBACK.to_string(),
        }));
        let shared = Arc::new(Shared {
            exe,
            logs,
            services: tokio::sync::Mutex::new(services),
            record,
            health,
        });
        for role in ["database", "cache", "api"] {
            shared.start(role).await?;
        }
        let watched = shared.clone();
        let looker = tokio::spawn(async move {
            loop {
                tokio::time::sleep(HEALTH_EVERY).await;
                let mut services = watched.services.lock().await;
                watched.publish(&mut services);
            }
        });
        let state = shared.clone();
        let control = spawn_listener(&addresses.control, move |stream, stop| {
            let state = state.clone();
            async move {
                let service = service_fn(move |request| {
                    let state = state.clone();
                    async move { Ok::<_, std::convert::Infallible>(state.handle(request).await) }
                });
                let connection =
                    http1::Builder::new().serve_connection(TokioIo::new(stream), service);
                tokio::select! {
                    _ = connection => {}
                    _ = stop.cancelled() => {}
                }
            }
        })
        .await
        .map_err(|e| {
            format!(
                "the demo's control API cannot listen on {}: {e}",
                addresses.control
            )
        })?;
        Ok(Supervisor {
            shared,
            control: Some(control),
            looker,
            addresses,
        })
    }

    /// The processes as the health panel shows them, updated on every change.
    pub fn health(&self) -> watch::Receiver<Snapshot> {
        self.shared.health.subscribe()
    }

    /// Stops the control API and every service (SIGTERM, then SIGKILL after a grace period).
    pub async fn shutdown(mut self) {
        self.looker.abort();
        if let Some(control) = self.control.take() {
            control.stop().await;
        }
        for role in ["api", "database", "cache"] {
            let _ = self.shared.stop(role, libc::SIGTERM).await;
        }
    }
}

impl Shared {
    /// Starts `role` unless it runs, and waits until it answers.
    async fn start(&self, role: &str) -> Result<Value, String> {
        let mut services = self.services.lock().await;
        let Some((role, service)) = lookup(&mut services, role) else {
            return Err(format!("no demo service named {role}"));
        };
        if running(service) {
            return Ok(state(role, service));
        }
        let log_path = self.logs.join(format!("{role}.log"));
        let open_log = || {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&log_path)
                .map_err(|e| format!("cannot open {}: {e}", log_path.display()))
        };
        let mut command = Command::new(&self.exe);
        command
            .args(["demo-service", role, "--listen", &service.address])
            .args(&service.extra)
            .stdin(Stdio::null())
            .stdout(open_log()?)
            .stderr(open_log()?)
            .process_group(0)
            .kill_on_drop(true);
        let parent = std::process::id() as libc::pid_t;
        // SAFETY: only async-signal-safe calls (prctl, getppid) between fork and exec.
        unsafe {
            command.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                if libc::getppid() != parent {
                    return Err(std::io::Error::other("the demo ended while starting"));
                }
                Ok(())
            });
        }
        let child = command
            .spawn()
            .map_err(|e| format!("cannot start the demo {role}: {e}"))?;
        let pid = child.id().unwrap_or(0);
        self.note(|s| {
            s.processes.push(StartedProcess {
                pid,
                service: role.to_string(),
            })
        })?;
        service.child = Some(child);
        service.exit = None;
        service.exit_code = None;
        let ready = self.wait_ready(role, service, &log_path).await;
        let now = state(role, service);
        self.publish(&mut services);
        ready.map(|()| now)
    }

    /// Publishes the processes as containers of the health panel, when a reader would see a
    /// difference.
    fn publish(&self, services: &mut BTreeMap<&'static str, Service>) {
        let mut rows = Vec::new();
        for (role, service) in services.iter_mut() {
            let alive = running(service);
            let pid = service.child.as_ref().and_then(Child::id);
            rows.push(ContainerStatus {
                id: role.to_string(),
                short_id: pid.map_or_else(|| "-".to_string(), |p| p.to_string()),
                name: role.to_string(),
                service: Some(role.to_string()),
                project: None,
                state: if alive { State::Running } else { State::Exited },
                health: Health::None,
                restart_count: 0,
                exit_code: if alive { None } else { service.exit_code },
                oom_killed: false,
                cpu_percent: None,
                memory_bytes: pid.and_then(resident_bytes),
            });
        }
        let next = Snapshot {
            engine: Engine::Connected {
                address: LOOPBACK.to_string(),
                api_version: String::new(),
            },
            containers: rows,
        };
        self.health.send_if_modified(|current| {
            let differs = current.looks_different(&next);
            if differs {
                *current = next;
            }
            differs
        });
    }

    async fn wait_ready(
        &self,
        role: &str,
        service: &mut Service,
        log: &Path,
    ) -> Result<(), String> {
        let deadline = tokio::time::Instant::now() + READY_WITHIN;
        loop {
            let answered = if role == "api" {
                tokio::net::TcpStream::connect(&service.address)
                    .await
                    .is_ok()
            } else {
                ping(&service.address, Duration::from_millis(300))
                    .await
                    .is_ok()
            };
            if answered {
                return Ok(());
            }
            if !running(service) {
                let said = last_line(log);
                return Err(format!(
                    "the demo {role} could not start on {} ({}): {said}",
                    service.address,
                    service.exit.as_deref().unwrap_or("exited")
                ));
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(format!(
                    "the demo {role} did not answer on {} within {} s (log: {})",
                    service.address,
                    READY_WITHIN.as_secs(),
                    log.display()
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops `role` with `signal` (then SIGKILL after [`STOP_GRACE`]) and waits for its exit.
    async fn stop(&self, role: &str, signal: i32) -> Result<Value, String> {
        let mut services = self.services.lock().await;
        let Some((role, service)) = lookup(&mut services, role) else {
            return Err(format!("no demo service named {role}"));
        };
        if let Some(mut child) = service.child.take() {
            let pid = child.id();
            if let Some(pid) = pid {
                // SAFETY: kill(2) on our own child, which has not been reaped yet.
                unsafe { libc::kill(pid as libc::pid_t, signal) };
            }
            let status = match tokio::time::timeout(STOP_GRACE, child.wait()).await {
                Ok(status) => status,
                Err(_) => {
                    let _ = child.start_kill();
                    child.wait().await
                }
            };
            service.exit_code = status.as_ref().ok().and_then(shell_code);
            service.exit = Some(status.map_or_else(|e| e.to_string(), |s| s.to_string()));
            if let Some(pid) = pid {
                self.note(|s| s.processes.retain(|p| p.pid != pid))?;
            }
        }
        let now = state(role, service);
        self.publish(&mut services);
        Ok(now)
    }

    /// Writes a change to the record of what the demo started.
    fn note(&self, change: impl FnOnce(&mut super::record::Started)) -> Result<(), String> {
        let mut record = self.record.lock().unwrap_or_else(|p| p.into_inner());
        record
            .update(change)
            .map_err(|e| format!("cannot write the demo's record: {e}"))
    }

    async fn state_of(&self, role: &str) -> Option<Value> {
        let mut services = self.services.lock().await;
        let (role, service) = lookup(&mut services, role)?;
        running(service);
        Some(state(role, service))
    }

    async fn handle(&self, request: Request<Incoming>) -> Response<Full<Bytes>> {
        let path = request.uri().path().trim_end_matches('/').to_string();
        let query = request.uri().query().unwrap_or("").to_string();
        let parts: Vec<&str> = path.split('/').skip(1).collect();
        let method = request.method().clone();
        let result = match (method, parts.as_slice()) {
            (Method::GET, ["services"]) => {
                let mut all = Vec::new();
                for role in ["api", "database", "cache"] {
                    all.extend(self.state_of(role).await);
                }
                Ok(Value::Array(all))
            }
            (Method::GET, ["services", name]) => {
                self.state_of(name).await.ok_or_else(|| unknown(name))
            }
            (Method::POST, ["services", name, "stop"]) => match signal_of(&query) {
                Ok(signal) => self
                    .stop(name, signal)
                    .await
                    .map_err(|e| (StatusCode::NOT_FOUND, e)),
                Err(e) => Err((StatusCode::BAD_REQUEST, e)),
            },
            (Method::POST, ["services", name, "start"]) => self
                .start(name)
                .await
                .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e)),
            _ => Err((
                StatusCode::NOT_FOUND,
                "routes: GET /services, GET /services/NAME, POST /services/NAME/stop, \
                 POST /services/NAME/start"
                    .to_string(),
            )),
        };
        match result {
            Ok(body) => json_response(StatusCode::OK, body),
            Err((status, message)) => json_response(status, json!({"error": message})),
        }
    }
}

/// The service named `name`, with its name as a static string.
fn lookup<'a>(
    services: &'a mut BTreeMap<&'static str, Service>,
    name: &str,
) -> Option<(&'static str, &'a mut Service)> {
    let role = ["api", "database", "cache"]
        .into_iter()
        .find(|r| *r == name)?;
    services.get_mut(role).map(|service| (role, service))
}

fn unknown(name: &str) -> (StatusCode, String) {
    (
        StatusCode::NOT_FOUND,
        format!("no demo service named {name} (api, database, cache)"),
    )
}

/// `signal=SIGKILL` (or SIGTERM, SIGINT, the default SIGTERM) from a query string.
fn signal_of(query: &str) -> Result<i32, String> {
    let value = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("signal="))
        .unwrap_or("SIGTERM");
    match value.trim_start_matches("SIG") {
        "TERM" => Ok(libc::SIGTERM),
        "KILL" => Ok(libc::SIGKILL),
        "INT" => Ok(libc::SIGINT),
        other => Err(format!("signal {other}: use SIGTERM, SIGKILL or SIGINT")),
    }
}

/// Whether the service's process runs; notes its exit when it has ended by itself.
fn running(service: &mut Service) -> bool {
    let Some(child) = service.child.as_mut() else {
        return false;
    };
    match child.try_wait() {
        Ok(None) => true,
        Ok(Some(status)) => {
            service.exit_code = shell_code(&status);
            service.exit = Some(status.to_string());
            service.child = None;
            false
        }
        Err(_) => false,
    }
}

fn state(role: &str, service: &Service) -> Value {
    json!({
        "name": role,
        "running": service.child.is_some(),
        "pid": service.child.as_ref().and_then(Child::id),
        "address": service.address,
        "exit": service.exit,
    })
}

/// What the health panel's engine line names in loopback mode.
const LOOPBACK: &str = "loopback processes (chaosdeck demo)";

/// An exit status as a shell tells it: the code, or 128 + the signal.
fn shell_code(status: &std::process::ExitStatus) -> Option<i64> {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .map(i64::from)
        .or_else(|| status.signal().map(|s| 128 + i64::from(s)))
}

/// A process's resident memory, from /proc.
fn resident_bytes(pid: u32) -> Option<u64> {
    let statm = std::fs::read_to_string(format!("/proc/{pid}/statm")).ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Some(pages * u64::try_from(page).ok()?)
}

/// The last non-empty line of a log file (what a service said before it exited).
fn last_line(path: &Path) -> String {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| {
            t.lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .map(str::to_string)
        })
        .unwrap_or_else(|| format!("nothing in {}", path.display()))
}
