//! The container health watcher: a tokio task that follows the engine's event stream and the
//! containers' stats, and publishes a [`Snapshot`] on a `watch` channel only when something a
//! reader would see changed. The TUI only reads snapshots; it never waits on Docker.
//!
//! Cost: events drive inspections, so states and health show at once without polling. Stats
//! come two ways, chosen by the [`Focus`]: the containers in focus (by default all; in the TUI,
//! the ones the experiment targets) each get a streamed feed, one sample a second; the others
//! are sampled one at a time, each about every [`SAMPLE_PERIOD`], by a timer that exists only
//! while there is such a container. With none and no events, the watcher never wakes.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bollard::query_parameters::{EventsOptions, InspectContainerOptions, ListContainersOptions};
use bollard::Docker;
use futures_util::StreamExt;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use feed::{CpuCounters, Feed, FeedMessage, Sample};

use bollard::models::EventMessage;

use super::snapshot::{ContainerStatus, Engine, Snapshot, State};

mod feed;

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

/// How often a running container outside the focus gets a fresh CPU and memory figure.
pub const SAMPLE_PERIOD: Duration = Duration::from_secs(10);

/// At most this many one-shot samples are on their way at once.
const SAMPLES_IN_FLIGHT: usize = 4;

/// The shortest wait between two samples, however many containers share the period.
const SAMPLE_GAP_MIN: Duration = Duration::from_millis(50);

/// Which running containers get a streamed stats feed (a figure every second); the others are
/// sampled every [`SAMPLE_PERIOD`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Focus {
    /// Every running container streams.
    #[default]
    All,
    /// Only the containers these targets name (see [`ContainerStatus::is_target`]).
    Only(Vec<String>),
}

impl Focus {
    fn includes(&self, status: &ContainerStatus) -> bool {
        match self {
            Focus::All => true,
            Focus::Only(names) => names.iter().any(|n| status.is_target(n)),
        }
    }
}

/// A running watcher. Dropping it stops the task and every stats stream it opened.
#[derive(Debug)]
pub struct Watcher {
    snapshots: watch::Receiver<Snapshot>,
    focus: watch::Sender<Focus>,
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
        let (focus, focus_rx) = watch::channel(Focus::All);
        let task = tokio::spawn(run(address, sender, focus_rx));
        Watcher {
            snapshots,
            focus,
            task,
        }
    }

    /// Chooses which containers stream their stats; a change takes effect at once.
    pub fn set_focus(&self, focus: Focus) {
        self.focus.send_if_modified(|current| {
            let changed = *current != focus;
            *current = focus;
            changed
        });
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
async fn run(address: String, sender: watch::Sender<Snapshot>, focus: watch::Receiver<Focus>) {
    let mut backoff = RECONNECT_FIRST;
    loop {
        let reason = match connect_at(&address).await {
            Ok(docker) => {
                backoff = RECONNECT_FIRST;
                Session::new(docker, &address, &sender, focus.clone())
                    .follow()
                    .await
            }
            Err(reason) => reason,
        };
        let unreachable = Snapshot::empty(Engine::Unreachable {
            address: address.clone(),
            reason: reason.to_string(),
        });
        publish_if_changed(&sender, || unreachable);
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = sender.closed() => return,
        }
        backoff = (backoff * 2).min(RECONNECT_MAX);
    }
}

/// Why the watcher lost the engine; its text becomes the snapshot's `reason`.
#[derive(Debug, thiserror::Error)]
enum Lost {
    #[error("{0}")]
    Request(#[from] bollard::errors::Error),
    #[error("the event stream failed: {0}")]
    Events(bollard::errors::Error),
    #[error("the engine closed the event stream")]
    EventsEnded,
    #[error("the watcher stopped")]
    Stopped,
}

/// Connects to `address` and negotiates the API version down to what the engine speaks.
async fn connect_at(address: &str) -> Result<Docker, Lost> {
    Ok(super::connect_to(address, Some(REQUEST_TIMEOUT)).await?)
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

/// One connection's worth of watching: the containers known, their stats feeds, and what was
/// published.
struct Session<'a> {
    docker: Docker,
    address: &'a str,
    sender: &'a watch::Sender<Snapshot>,
    containers: BTreeMap<String, ContainerStatus>,
    feeds: HashMap<String, Feed>,
    /// Containers that had an `oom` event since their last start.
    oom_seen: HashSet<String>,
    /// How many feeds were opened; numbers them.
    feeds_opened: u64,
    readings_tx: mpsc::Sender<FeedMessage>,
    readings_rx: mpsc::Receiver<FeedMessage>,
    focus: watch::Receiver<Focus>,
    /// The sampled containers' counters from their last sample (absent: never sampled).
    counters: HashMap<String, Option<CpuCounters>>,
    /// Samples on their way, by container; aborted when dropped.
    sampling: HashMap<String, Sampling>,
    /// Sampled containers whose first sample has not been asked for yet.
    unsampled: HashSet<String>,
    /// The container sampled last; the next one follows it in name order.
    cursor: Option<String>,
    /// When the next sample is due, while some container is sampled rather than streamed.
    next_sample: Option<Instant>,
}

/// A one-shot sample on its way.
struct Sampling(JoinHandle<()>);

impl Drop for Sampling {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl<'a> Session<'a> {
    fn new(
        docker: Docker,
        address: &'a str,
        sender: &'a watch::Sender<Snapshot>,
        focus: watch::Receiver<Focus>,
    ) -> Self {
        let (readings_tx, readings_rx) = mpsc::channel(READINGS_QUEUE);
        Session {
            docker,
            address,
            sender,
            containers: BTreeMap::new(),
            feeds: HashMap::new(),
            oom_seen: HashSet::new(),
            feeds_opened: 0,
            readings_tx,
            readings_rx,
            focus,
            counters: HashMap::new(),
            sampling: HashMap::new(),
            unsampled: HashSet::new(),
            cursor: None,
            next_sample: None,
        }
    }

    /// Lists every container, publishes the full state, then follows events and stats until the
    /// engine goes away; returns why it went away.
    async fn follow(mut self) -> Lost {
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
            let due = self.next_sample;
            tokio::select! {
                event = events.next() => match event {
                    Some(Ok(event)) => {
                        if let Err(reason) = self.on_event(event).await {
                            return reason;
                        }
                    }
                    Some(Err(e)) => return Lost::Events(e),
                    None => return Lost::EventsEnded,
                },
                Some(message) = self.readings_rx.recv() => self.on_stats(message),
                changed = self.focus.changed() => {
                    if changed.is_err() {
                        return Lost::Stopped;
                    }
                    self.refocus();
                }
                _ = tokio::time::sleep_until(due.unwrap_or_else(Instant::now).into()),
                    if due.is_some() => self.sample_next(),
                _ = self.sender.closed() => return Lost::Stopped,
            }
            self.publish();
        }
    }

    /// Inspects every container the engine has, running or not.
    async fn load_all(&mut self) -> Result<(), Lost> {
        let options = ListContainersOptions {
            all: true,
            ..Default::default()
        };
        let listed = self.docker.list_containers(Some(options)).await?;
        for id in listed.into_iter().filter_map(|c| c.id) {
            self.refresh(&id).await?;
        }
        Ok(())
    }

    async fn on_event(&mut self, event: EventMessage) -> Result<(), Lost> {
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
    async fn refresh(&mut self, id: &str) -> Result<(), Lost> {
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
            Err(e) => return Err(e.into()),
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
        }
        let id = status.id.clone();
        self.containers.insert(id.clone(), status);
        self.arrange_stats(&id);
        Ok(())
    }

    /// Gives a container the stats it should have now: a feed when it runs and is in focus,
    /// samples when it runs outside the focus, nothing when it does not run.
    fn arrange_stats(&mut self, id: &str) {
        let Some(status) = self.containers.get(id) else {
            return;
        };
        let running = status.state.has_processes();
        let streamed = running && self.focus.borrow().includes(status);
        if streamed {
            self.stop_sampling(id);
            if !self.feeds.contains_key(id) {
                let feed = self.open_feed(id.to_string());
                self.feeds.insert(id.to_string(), feed);
            }
        } else {
            self.feeds.remove(id);
            if running {
                if !self.counters.contains_key(id) {
                    // Never sampled: first in line, so its figures show soon.
                    self.counters.insert(id.to_string(), None);
                    self.unsampled.insert(id.to_string());
                    self.next_sample = Some(Instant::now());
                } else if self.next_sample.is_none() {
                    self.next_sample = Some(Instant::now() + self.sample_gap());
                }
            } else {
                self.stop_sampling(id);
            }
        }
    }

    /// The focus changed: move every container to the stats it should have.
    fn refocus(&mut self) {
        let ids: Vec<String> = self.containers.keys().cloned().collect();
        for id in ids {
            self.arrange_stats(&id);
        }
    }

    fn stop_sampling(&mut self, id: &str) {
        self.counters.remove(id);
        self.unsampled.remove(id);
        self.sampling.remove(id);
    }

    /// The wait between two samples that spreads the sampled containers over the period.
    fn sample_gap(&self) -> Duration {
        let sampled = self.counters.len().max(1) as u32;
        (SAMPLE_PERIOD / sampled).max(SAMPLE_GAP_MIN)
    }

    fn start_sample(&mut self, id: String) {
        let first = self.counters.get(&id).is_none_or(Option::is_none);
        let task = feed::sample(&self.docker, id.clone(), first, self.readings_tx.clone());
        self.sampling.insert(id, Sampling(task));
    }

    /// The timer fired: samples the next sampled container in name order that has no sample on
    /// its way, and sets the timer again while any container is sampled.
    fn sample_next(&mut self) {
        self.next_sample = None;
        if self.counters.is_empty() {
            return;
        }
        // Containers never sampled go first, a few at a time, so a full engine's figures fill
        // the panel within seconds without a burst of requests (or of connections) at once.
        let mut first: Vec<String> = self.unsampled.iter().cloned().collect();
        first.sort();
        for id in first {
            if self.sampling.len() >= SAMPLES_IN_FLIGHT {
                // The next answer sets the timer again.
                return;
            }
            self.unsampled.remove(&id);
            self.start_sample(id);
        }
        if self.sampling.len() >= SAMPLES_IN_FLIGHT {
            self.next_sample = Some(Instant::now() + self.sample_gap());
            return;
        }
        let order = |id: &String| {
            self.containers
                .get(id)
                .map(|c| (c.name.clone(), id.clone()))
        };
        let mut candidates: Vec<(String, String)> = self
            .counters
            .keys()
            .filter(|id| !self.sampling.contains_key(*id))
            .filter_map(order)
            .collect();
        candidates.sort();
        let after = self.cursor.as_ref().and_then(order);
        let next = candidates
            .iter()
            .find(|key| after.as_ref().is_none_or(|a| *key > a))
            .or_else(|| candidates.first())
            .map(|(_, id)| id.clone());
        if let Some(id) = next {
            self.cursor = Some(id.clone());
            self.start_sample(id);
        }
        self.next_sample = Some(Instant::now() + self.sample_gap());
    }

    /// Marks a container exited with its stats feed closed, as a `die` event says.
    fn mark_exited(&mut self, id: &str, exit_code: Option<i64>) {
        self.feeds.remove(id);
        self.stop_sampling(id);
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
        self.stop_sampling(id);
        self.oom_seen.remove(id);
    }

    fn open_feed(&mut self, id: String) -> Feed {
        self.feeds_opened += 1;
        feed::open(
            &self.docker,
            id,
            self.feeds_opened,
            self.readings_tx.clone(),
        )
    }

    /// Whether feed `number` is the one currently open for container `id`.
    fn is_current_feed(&self, id: &str, number: u64) -> bool {
        self.feeds.get(id).is_some_and(|f| f.number == number)
    }

    fn on_stats(&mut self, message: FeedMessage) {
        match message {
            FeedMessage::Reading(id, number, reading) => {
                if !self.is_current_feed(&id, number) {
                    return;
                }
                if let Some(status) = self.containers.get_mut(&id) {
                    status.cpu_percent = reading.cpu_percent;
                    status.memory_bytes = reading.memory_bytes;
                }
            }
            // The next event for the container opens a new feed if it still runs.
            FeedMessage::Ended(id, number) => {
                if self.is_current_feed(&id, number) {
                    self.feeds.remove(&id);
                }
            }
            FeedMessage::Sampled(id, taken) => self.on_sample(id, taken),
        }
    }

    /// A one-shot sample came back: CPU from the engine's own interval (a first sample) or from
    /// the counters of the previous sample.
    fn on_sample(&mut self, id: String, taken: Option<Sample>) {
        if self.sampling.remove(&id).is_none() {
            return;
        }
        if !self.unsampled.is_empty() {
            self.next_sample = Some(Instant::now());
        } else if self.next_sample.is_none() && !self.counters.is_empty() {
            self.next_sample = Some(Instant::now() + self.sample_gap());
        }
        let Some(previous) = self.counters.get_mut(&id) else {
            return;
        };
        let Some(sample) = taken else {
            return;
        };
        let cpu = sample.reading.cpu_percent.or_else(|| {
            let (now, before) = (sample.counters?, (*previous)?);
            now.percent_since(before)
        });
        *previous = sample.counters;
        if let Some(status) = self.containers.get_mut(&id) {
            status.cpu_percent = cpu.or(status.cpu_percent);
            status.memory_bytes = sample.reading.memory_bytes.or(status.memory_bytes);
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
