//! The container health watcher: a tokio task that follows the engine's event stream and one
//! streamed stats feed per running container, and publishes a [`Snapshot`] on a `watch` channel
//! only when something a reader would see changed. The TUI only reads snapshots; it never waits
//! on Docker.
//!
//! Cost: no polling. Events drive inspections; stats streams start and stop with their
//! containers; the only timer is the reconnect backoff while the engine is unreachable.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bollard::query_parameters::{
    EventsOptions, InspectContainerOptions, ListContainersOptions, StatsOptions,
};
use bollard::Docker;
use futures_util::StreamExt;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use bollard::models::EventMessage;

use super::snapshot::{readings_differ, ContainerStatus, Engine, Reading, Snapshot, State};

/// The first wait before retrying an unreachable engine.
pub const RECONNECT_FIRST: Duration = Duration::from_millis(500);

/// The longest wait between retries; the wait doubles from [`RECONNECT_FIRST`] up to this.
pub const RECONNECT_MAX: Duration = Duration::from_secs(5);

/// How long one request (connect, list, inspect) may take before the engine counts as gone.
/// Streams (events, stats) are not bounded by it.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// How far back the event stream starts before the initial listing, so that nothing that happens
/// between the listing and the subscription is missed (replayed events are harmless).
const EVENTS_OVERLAP: Duration = Duration::from_secs(1);

/// The container events that can change what the panel shows.
const WATCHED_EVENTS: [&str; 12] = [
    "create",
    "start",
    "die",
    "stop",
    "kill",
    "pause",
    "unpause",
    "health_status",
    "oom",
    "destroy",
    "restart",
    "rename",
];

/// Room for stats readings waiting for the watcher loop.
const READINGS_QUEUE: usize = 256;

/// A running watcher. Dropping it stops the task and every stats stream it opened.
#[derive(Debug)]
pub struct Watcher {
    snapshots: watch::Receiver<Snapshot>,
    task: JoinHandle<()>,
}

impl Watcher {
    /// Starts watching the engine named by `DOCKER_HOST` (or the local socket). Must be called
    /// inside a tokio runtime.
    pub fn spawn() -> Watcher {
        Watcher::spawn_at(super::address())
    }

    /// Starts watching the engine at `address` (`unix:///path`, `tcp://host:port`, …), the same
    /// forms `DOCKER_HOST` takes.
    pub fn spawn_at(address: impl Into<String>) -> Watcher {
        let address = address.into();
        let (sender, snapshots) = watch::channel(Snapshot::empty(Engine::Connecting {
            address: address.clone(),
        }));
        let task = tokio::spawn(run(address, sender));
        Watcher { snapshots, task }
    }

    /// A receiver of snapshots: `borrow()` for the latest, `changed().await` to wait for the next.
    pub fn subscribe(&self) -> watch::Receiver<Snapshot> {
        self.snapshots.clone()
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Connects, follows the engine until it goes away, reports it unreachable, waits, and again.
async fn run(address: String, sender: watch::Sender<Snapshot>) {
    let mut backoff = RECONNECT_FIRST;
    loop {
        let reason = match connect_at(&address).await {
            Ok(docker) => {
                backoff = RECONNECT_FIRST;
                Session::new(docker, &address, &sender).follow().await
            }
            Err(reason) => reason,
        };
        let unreachable = Snapshot::empty(Engine::Unreachable {
            address: address.clone(),
            reason,
        });
        publish_if_changed(&sender, || unreachable);
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = sender.closed() => return,
        }
        backoff = (backoff * 2).min(RECONNECT_MAX);
    }
}

/// Connects to `address` and negotiates the API version down to what the engine speaks.
async fn connect_at(address: &str) -> Result<Docker, String> {
    let docker = Docker::connect_with_host(address)
        .map_err(|e| e.to_string())?
        .with_timeout(REQUEST_TIMEOUT);
    let docker = docker
        .negotiate_version()
        .await
        .map_err(|e| e.to_string())?;
    docker.ping().await.map_err(|e| e.to_string())?;
    Ok(docker)
}

/// Sends a new snapshot unless the one already published looks the same.
fn publish_if_changed(sender: &watch::Sender<Snapshot>, next: impl FnOnce() -> Snapshot) {
    sender.send_if_modified(|current| {
        let next = next();
        if current.looks_different(&next) {
            *current = next;
            true
        } else {
            false
        }
    });
}

/// A message from a stats stream to the watcher loop.
/// Each carries the id of the feed that sent it, so a message from a feed already replaced is
/// ignored.
enum StatsMessage {
    Reading(String, u64, Reading),
    Ended(String, u64),
}

/// One stats stream; aborted when dropped, so removing it from the map (or dropping the session)
/// closes the stream.
struct StatsFeed {
    task: JoinHandle<()>,
    feed_id: u64,
}

impl Drop for StatsFeed {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One connection's worth of watching: the containers known, their stats feeds, and what was
/// published.
struct Session<'a> {
    docker: Docker,
    address: &'a str,
    sender: &'a watch::Sender<Snapshot>,
    containers: BTreeMap<String, ContainerStatus>,
    feeds: HashMap<String, StatsFeed>,
    /// Containers that had an `oom` event since their last start.
    oom_seen: HashSet<String>,
    /// The id the next stats feed gets.
    next_feed_id: u64,
    readings_tx: mpsc::Sender<StatsMessage>,
    readings_rx: mpsc::Receiver<StatsMessage>,
}

impl<'a> Session<'a> {
    fn new(docker: Docker, address: &'a str, sender: &'a watch::Sender<Snapshot>) -> Self {
        let (readings_tx, readings_rx) = mpsc::channel(READINGS_QUEUE);
        Session {
            docker,
            address,
            sender,
            containers: BTreeMap::new(),
            feeds: HashMap::new(),
            oom_seen: HashSet::new(),
            next_feed_id: 0,
            readings_tx,
            readings_rx,
        }
    }

    /// Lists every container, publishes the full state, then follows events and stats until the
    /// engine goes away; returns why it went away.
    async fn follow(mut self) -> String {
        let since = since_argument(EVENTS_OVERLAP);
        if let Err(reason) = self.load_all().await {
            return reason;
        }
        self.publish();
        let filters = HashMap::from([
            ("type".to_string(), vec!["container".to_string()]),
            (
                "event".to_string(),
                WATCHED_EVENTS.iter().map(|e| e.to_string()).collect(),
            ),
        ]);
        let options = EventsOptions {
            since: Some(since),
            until: None,
            filters: Some(filters),
        };
        let mut events = self.docker.events(Some(options));
        loop {
            tokio::select! {
                event = events.next() => match event {
                    Some(Ok(event)) => {
                        if let Err(reason) = self.on_event(event).await {
                            return reason;
                        }
                    }
                    Some(Err(e)) => return format!("the event stream failed: {e}"),
                    None => return "the engine closed the event stream".to_string(),
                },
                Some(message) = self.readings_rx.recv() => self.on_stats(message),
                _ = self.sender.closed() => return "the watcher stopped".to_string(),
            }
            self.publish();
        }
    }

    /// Inspects every container the engine has, running or not.
    async fn load_all(&mut self) -> Result<(), String> {
        let options = ListContainersOptions {
            all: true,
            ..Default::default()
        };
        let listed = self
            .docker
            .list_containers(Some(options))
            .await
            .map_err(|e| e.to_string())?;
        for id in listed.into_iter().filter_map(|c| c.id) {
            self.refresh(&id).await?;
        }
        Ok(())
    }

    async fn on_event(&mut self, event: EventMessage) -> Result<(), String> {
        let action = event.action.unwrap_or_default();
        let (id, attributes) = match event.actor {
            Some(actor) => (actor.id.unwrap_or_default(), actor.attributes),
            None => return Ok(()),
        };
        let id = id.as_str();
        // Health events come as `health_status: healthy`; the part before the colon names them.
        match action.split(':').next().unwrap_or_default().trim() {
            "" => Ok(()),
            _ if id.is_empty() => Ok(()),
            // Nothing visible changes until the `die` that follows (if the signal ends the
            // process); inspecting here would only delay that `die`.
            "kill" => Ok(()),
            "destroy" => {
                self.forget(id);
                Ok(())
            }
            "die" => {
                // Show the exit at once from the event, then inspect for the rest (restart
                // policy, OOM flag); the inspection can wait on the engine's cleanup.
                let exit_code = attributes
                    .as_ref()
                    .and_then(|a| a.get("exitCode"))
                    .and_then(|code| code.parse().ok());
                self.mark_exited(id, exit_code);
                self.publish();
                self.refresh(id).await
            }
            "start" => {
                self.oom_seen.remove(id);
                self.refresh(id).await
            }
            "oom" => {
                self.oom_seen.insert(id.to_string());
                self.refresh(id).await
            }
            _ => self.refresh(id).await,
        }
    }

    /// Inspects one container and brings its row and stats feed up to date. A container that is
    /// gone is forgotten; any other failure means the engine is gone.
    async fn refresh(&mut self, id: &str) -> Result<(), String> {
        let inspect = match self
            .docker
            .inspect_container(id, None::<InspectContainerOptions>)
            .await
        {
            Ok(inspect) => inspect,
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => {
                self.forget(id);
                return Ok(());
            }
            Err(e) => return Err(e.to_string()),
        };
        let Some(mut status) = ContainerStatus::from_inspect(&inspect) else {
            return Ok(());
        };
        status.oom_killed |= self.oom_seen.contains(&status.id);
        if status.state.has_processes() {
            if let Some(previous) = self.containers.get(&status.id) {
                status.cpu_percent = previous.cpu_percent;
                status.memory_bytes = previous.memory_bytes;
            }
            if !self.feeds.contains_key(&status.id) {
                let feed = self.open_feed(status.id.clone());
                self.feeds.insert(status.id.clone(), feed);
            }
        } else {
            self.feeds.remove(&status.id);
        }
        self.containers.insert(status.id.clone(), status);
        Ok(())
    }

    /// Marks a container exited with its stats feed closed, as a `die` event says.
    fn mark_exited(&mut self, id: &str, exit_code: Option<i64>) {
        self.feeds.remove(id);
        if let Some(status) = self.containers.get_mut(id) {
            status.state = State::Exited;
            status.exit_code = exit_code;
            status.cpu_percent = None;
            status.memory_bytes = None;
        }
    }

    fn forget(&mut self, id: &str) {
        // Events name containers by full id; a short id can only come from elsewhere.
        self.containers.remove(id);
        self.feeds.remove(id);
        self.oom_seen.remove(id);
    }

    /// Opens a streamed stats feed for one container. It forwards only readings that look
    /// different from the last one it forwarded, so idle containers cost the loop nothing.
    fn open_feed(&mut self, id: String) -> StatsFeed {
        let feed_id = self.next_feed_id;
        self.next_feed_id += 1;
        let docker = self.docker.clone();
        let out = self.readings_tx.clone();
        let task = tokio::spawn(async move {
            let options = StatsOptions {
                stream: true,
                one_shot: false,
            };
            let mut stream = docker.stats(&id, Some(options));
            let mut last = Reading::default();
            while let Some(Ok(sample)) = stream.next().await {
                let reading = Reading::from_stats(&sample);
                // The first sample has no CPU figure yet; wait for one that does.
                if reading.cpu_percent.is_none() || !readings_differ(reading, last) {
                    continue;
                }
                last = reading;
                if out
                    .send(StatsMessage::Reading(id.clone(), feed_id, reading))
                    .await
                    .is_err()
                {
                    return;
                }
            }
            let _ = out.send(StatsMessage::Ended(id, feed_id)).await;
        });
        StatsFeed { task, feed_id }
    }

    /// Whether `feed_id` is the feed currently open for container `id`.
    fn is_current_feed(&self, id: &str, feed_id: u64) -> bool {
        self.feeds.get(id).is_some_and(|f| f.feed_id == feed_id)
    }

    fn on_stats(&mut self, message: StatsMessage) {
        match message {
            StatsMessage::Reading(id, feed_id, reading) => {
                if !self.is_current_feed(&id, feed_id) {
                    return;
                }
                if let Some(status) = self.containers.get_mut(&id) {
                    status.cpu_percent = reading.cpu_percent;
                    status.memory_bytes = reading.memory_bytes;
                }
            }
            // The next event for the container opens a new feed if it still runs.
            StatsMessage::Ended(id, feed_id) => {
                if self.is_current_feed(&id, feed_id) {
                    self.feeds.remove(&id);
                }
            }
        }
    }

    /// Publishes the current state if a reader would see a difference.
    fn publish(&self) {
        let engine = Engine::Connected {
            address: self.address.to_string(),
            api_version: self.docker.client_version().to_string(),
        };
        if !self.differs_from_published(&engine) {
            return;
        }
        let mut containers: Vec<ContainerStatus> = self.containers.values().cloned().collect();
        containers.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
        self.sender.send_replace(Snapshot { engine, containers });
    }

    /// Compares without building a snapshot: most stats readings change nothing visible.
    fn differs_from_published(&self, engine: &Engine) -> bool {
        let published = self.sender.borrow();
        published.engine != *engine
            || published.containers.len() != self.containers.len()
            || published.containers.iter().any(|shown| {
                self.containers
                    .get(&shown.id)
                    .is_none_or(|now| now.looks_different(shown))
            })
    }
}

/// The `since` argument of the events request: `overlap` before now, in seconds with nanoseconds.
fn since_argument(overlap: Duration) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .saturating_sub(overlap);
    format!("{}.{:09}", now.as_secs(), now.subsec_nanos())
}
