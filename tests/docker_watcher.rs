//! The health watcher against the real Docker engine: snapshots on start, stop, health change and
//! engine loss. Engine loss is played by a relay this test owns (a unix socket forwarding to the
//! real one); the machine's engine is never stopped. Only containers named
//! `chaosdeck-watch-<unique>` are touched, and a guard removes them even when a test fails.

use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chaosdeck::docker::snapshot::{ContainerStatus, Engine, Health, Snapshot, State};
use chaosdeck::docker::watcher::{Focus, Watcher};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::watch;
use tokio::task::{AbortHandle, JoinHandle};

const IMAGE: &str = "chaosdeck-busybox:local";
const ENGINE_SOCKET: &str = "/var/run/docker.sock";
/// Generous: the machine has 2 cores shared with other builds.
const DEADLINE: Duration = Duration::from_secs(60);

fn build_image_once() {
    static BUILD: Once = Once::new();
    BUILD.call_once(|| {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/build-images.sh");
        let status = Command::new(script)
            .arg("busybox")
            .status()
            .expect("run build-images.sh");
        assert!(status.success(), "scripts/build-images.sh busybox failed");
    });
}

fn unique(test: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("chaosdeck-watch-{}-{nanos}-{test}", std::process::id())
}

/// Removes the named containers when dropped, whatever happened.
struct Containers(Vec<String>);

impl Containers {
    fn run(&mut self, name: &str, args: &[&str], command: &[&str]) {
        self.0.push(name.to_string());
        docker(&[&["run", "-d", "--name", name], args, &[IMAGE], command].concat());
    }
}

impl Drop for Containers {
    fn drop(&mut self) {
        if !self.0.is_empty() {
            let _ = Command::new("docker")
                .args(["rm", "-f"])
                .args(&self.0)
                .output();
        }
    }
}

fn docker(args: &[&str]) -> String {
    let output = Command::new("docker")
        .args(args)
        .output()
        .expect("run docker");
    assert!(
        output.status.success(),
        "docker {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// Waits until a snapshot satisfies `check`, and returns it; fails with the last one seen.
async fn wait_for(
    snapshots: &mut watch::Receiver<Snapshot>,
    what: &str,
    check: impl Fn(&Snapshot) -> bool,
) -> Snapshot {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let snapshot = snapshots.borrow_and_update().clone();
        if check(&snapshot) {
            return snapshot;
        }
        let changed = tokio::time::timeout_at(deadline, snapshots.changed()).await;
        assert!(
            matches!(changed, Ok(Ok(()))),
            "no snapshot showed {what} within {DEADLINE:?}; last: {snapshot:#?}"
        );
    }
}

fn container<'a>(snapshot: &'a Snapshot, name: &str) -> Option<&'a ContainerStatus> {
    snapshot.container(name)
}

/// Outside the focus, a container is sampled instead of streamed: its first figures come at once
/// (the engine measures the first interval), and later CPU figures come from comparing two
/// samples — here a container that idles for its first seconds and then burns a core.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn containers_outside_the_focus_are_sampled() {
    build_image_once();
    let watcher = Watcher::spawn_at(format!("unix://{ENGINE_SOCKET}"));
    let mut guard = Containers(Vec::new());
    let (aimed, other) = (unique("aimed"), unique("other"));
    watcher.set_focus(Focus::Only(vec![aimed.clone()]));
    let mut snapshots = watcher.subscribe();
    guard.run(&aimed, &[], &["sleep", "3600"]);
    guard.run(&other, &[], &["sh", "-c", "sleep 4; while :; do :; done"]);
    let first = wait_for(&mut snapshots, "figures for both", |s| {
        [&aimed, &other].iter().all(|n| {
            container(s, n).is_some_and(|c| c.cpu_percent.is_some() && c.memory_bytes.is_some())
        })
    })
    .await;
    let idle = container(&first, &other).unwrap().cpu_percent.unwrap();
    assert!(idle < 20.0, "sleeping at first, yet {idle}% CPU");
    // The next sample comes about SAMPLE_PERIOD later and compares counters with the first.
    let burning = wait_for(&mut snapshots, "the sampled container burning CPU", |s| {
        container(s, &other).is_some_and(|c| c.cpu_percent.is_some_and(|p| p > 30.0))
    })
    .await;
    assert!(container(&burning, &other).unwrap().memory_bytes.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_stop_and_removal_show_in_snapshots() {
    build_image_once();
    let watcher = Watcher::spawn_at(format!("unix://{ENGINE_SOCKET}"));
    let mut snapshots = watcher.subscribe();
    let mut guard = Containers(Vec::new());
    let name = unique("life");
    wait_for(&mut snapshots, "a connected engine", |s| {
        matches!(s.engine, Engine::Connected { .. })
    })
    .await;

    let labels = [
        "--label",
        "com.docker.compose.service=web",
        "--label",
        "com.docker.compose.project=watchtest",
    ];
    guard.run(&name, &labels, &["sleep", "3600"]);
    let started = wait_for(&mut snapshots, "the container running", |s| {
        container(s, &name).is_some_and(|c| c.state == State::Running)
    })
    .await;
    let row = container(&started, &name).unwrap();
    assert_eq!(row.service.as_deref(), Some("web"));
    assert_eq!(row.project.as_deref(), Some("watchtest"));
    assert_eq!(row.health, Health::None, "no healthcheck means health none");
    assert_eq!(row.short_id.len(), 12);
    assert!(row.id.starts_with(&row.short_id));
    assert_eq!(row.exit_code, None);
    assert!(!row.oom_killed);

    wait_for(&mut snapshots, "CPU and memory figures", |s| {
        container(s, &name).is_some_and(|c| c.cpu_percent.is_some() && c.memory_bytes.is_some())
    })
    .await;

    docker(&["stop", "--time", "0", &name]);
    let stopped = wait_for(&mut snapshots, "the container exited", |s| {
        container(s, &name).is_some_and(|c| c.state == State::Exited)
    })
    .await;
    let row = container(&stopped, &name).unwrap();
    assert_eq!(
        row.exit_code,
        Some(137),
        "stopped with --time 0 means SIGKILL"
    );
    assert_eq!(
        row.cpu_percent, None,
        "a stopped container has no CPU figure"
    );

    docker(&["rm", &name]);
    wait_for(&mut snapshots, "the container gone", |s| {
        container(s, &name).is_none()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_healthcheck_shows_unhealthy() {
    build_image_once();
    let watcher = Watcher::spawn_at(format!("unix://{ENGINE_SOCKET}"));
    let mut snapshots = watcher.subscribe();
    let mut guard = Containers(Vec::new());
    let name = unique("health");
    let health = [
        "--health-cmd",
        "test -f /tmp/ok",
        "--health-interval",
        "1s",
        "--health-timeout",
        "5s",
        "--health-retries",
        "1",
    ];
    guard.run(
        &name,
        &health,
        &[
            "sh",
            "-c",
            "mkdir -p /tmp && touch /tmp/ok && exec sleep 3600",
        ],
    );
    wait_for(&mut snapshots, "the container healthy", |s| {
        container(s, &name).is_some_and(|c| c.health == Health::Healthy)
    })
    .await;

    docker(&["exec", &name, "rm", "/tmp/ok"]);
    let unhealthy = wait_for(&mut snapshots, "the container unhealthy", |s| {
        container(s, &name).is_some_and(|c| c.health == Health::Unhealthy)
    })
    .await;
    assert_eq!(container(&unhealthy, &name).unwrap().state, State::Running);
}

/// A unix socket that forwards every connection to the real engine, and can be cut.
struct Relay {
    path: PathBuf,
    accept: Option<JoinHandle<()>>,
    connections: Arc<Mutex<Vec<AbortHandle>>>,
}

impl Relay {
    fn new(path: PathBuf) -> Self {
        Relay {
            path,
            accept: None,
            connections: Arc::default(),
        }
    }

    fn address(&self) -> String {
        format!("unix://{}", self.path.display())
    }

    fn start(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        let listener = UnixListener::bind(&self.path).expect("bind the relay socket");
        let connections = Arc::clone(&self.connections);
        self.accept = Some(tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let forward = tokio::spawn(async move {
                    if let Ok(mut outbound) = UnixStream::connect(ENGINE_SOCKET).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                connections.lock().unwrap().push(forward.abort_handle());
            }
        }));
    }

    /// Closes the listener and every forwarded connection, and removes the socket file.
    fn stop(&mut self) {
        if let Some(accept) = self.accept.take() {
            accept.abort();
        }
        for connection in self.connections.lock().unwrap().drain(..) {
            connection.abort();
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_loss_shows_unreachable_and_return_republishes() {
    build_image_once();
    let name = unique("relay");
    let mut relay = Relay::new(std::env::temp_dir().join(format!("{name}.sock")));
    relay.start();
    let mut guard = Containers(Vec::new());
    guard.run(&name, &[], &["sleep", "3600"]);

    let watcher = Watcher::spawn_at(relay.address());
    let mut snapshots = watcher.subscribe();
    wait_for(&mut snapshots, "the container through the relay", |s| {
        container(s, &name).is_some_and(|c| c.state == State::Running)
    })
    .await;

    relay.stop();
    let lost = wait_for(&mut snapshots, "the engine unreachable", |s| {
        matches!(s.engine, Engine::Unreachable { .. })
    })
    .await;
    let Engine::Unreachable { address, reason } = &lost.engine else {
        unreachable!()
    };
    assert_eq!(address, &relay.address(), "names the address it tried");
    assert!(!reason.is_empty());
    assert!(
        lost.containers.is_empty(),
        "no stale rows while unreachable"
    );

    relay.start();
    let back = wait_for(&mut snapshots, "the engine back with the container", |s| {
        matches!(s.engine, Engine::Connected { .. })
            && container(s, &name).is_some_and(|c| c.state == State::Running)
    })
    .await;
    let Engine::Connected { address, .. } = &back.engine else {
        unreachable!()
    };
    assert_eq!(address, &relay.address());
}
