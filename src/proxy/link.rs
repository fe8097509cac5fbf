//! One running proxy: a listener that connects each client to the upstream, and the pumps that
//! carry the bytes of both directions through the toxics of that direction. The toxics are read
//! from a watch channel, so a toxic added or removed acts on open connections too.

use super::toxics::{random, vary, Effect, Stream, Toxic};
use std::collections::HashMap;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::{sleep, sleep_until, Instant};
use tokio_util::sync::CancellationToken;

/// The toxics of a proxy as the pumps see them.
pub type Toxics = Arc<Vec<Toxic>>;

const CHUNK: usize = 32 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A proxy that listens; dropping the listener and every connection is `stop`.
pub struct Link {
    stop: CancellationToken,
    accept: JoinHandle<()>,
}

impl Link {
    /// Accepts on `listener`, connecting each client to `upstream`.
    pub fn start(listener: TcpListener, upstream: String, toxics: watch::Receiver<Toxics>) -> Link {
        let stop = CancellationToken::new();
        let token = stop.clone();
        let accept = tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    _ = token.cancelled() => break,
                    accepted = listener.accept() => accepted,
                };
                match accepted {
                    Ok((client, _)) => {
                        let conn = Connection {
                            upstream: upstream.clone(),
                            toxics: toxics.clone(),
                            kill: token.child_token(),
                            reason: Arc::new(AtomicU8::new(KEEP)),
                        };
                        tokio::spawn(conn.run(client));
                    }
                    Err(_) => sleep(Duration::from_millis(20)).await,
                }
            }
        });
        Link { stop, accept }
    }

    /// Closes the listener (new connections are refused once this returns) and every
    /// connection.
    pub async fn stop(self) {
        self.stop.cancel();
        let _ = self.accept.await;
    }
}

const KEEP: u8 = 0;
const CLOSE: u8 = 1;
const RESET: u8 = 2;

struct Connection {
    upstream: String,
    toxics: watch::Receiver<Toxics>,
    kill: CancellationToken,
    reason: Arc<AtomicU8>,
}

impl Connection {
    async fn run(self, mut client: TcpStream) {
        let connect = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(&self.upstream));
        let mut server = tokio::select! {
            _ = self.kill.cancelled() => return,
            c = connect => match c {
                Ok(Ok(s)) => s,
                _ => return,
            },
        };
        let _ = client.set_nodelay(true);
        let _ = server.set_nodelay(true);
        {
            let (client_read, client_write) = client.split();
            let (server_read, server_write) = server.split();
            tokio::join!(
                self.pump(Stream::Upstream, client_read, server_write),
                self.pump(Stream::Downstream, server_read, client_write),
            );
        }
        if self.reason.load(Ordering::SeqCst) == RESET {
            reset_on_close(&client);
            reset_on_close(&server);
        }
    }

    /// Ends the connection for both directions.
    fn end(&self, reason: u8) {
        let _ = self
            .reason
            .compare_exchange(KEEP, reason, Ordering::SeqCst, Ordering::SeqCst);
        self.kill.cancel();
    }

    /// Reads one direction into a queue (each chunk with the instant it arrived) and writes it
    /// out through the toxics.
    async fn pump<R, W>(&self, stream: Stream, mut from: R, mut to: W)
    where
        R: AsyncRead + Unpin,
        W: AsyncWrite + Unpin,
    {
        let (tx, mut rx) = mpsc::channel::<(Instant, Vec<u8>)>(16);
        let read = async move {
            let mut buf = vec![0u8; CHUNK];
            loop {
                let n = tokio::select! {
                    _ = self.kill.cancelled() => return,
                    n = from.read(&mut buf) => n,
                };
                match n {
                    Ok(0) | Err(_) => return,
                    Ok(n) => {
                        if tx.send((Instant::now(), buf[..n].to_vec())).await.is_err() {
                            return;
                        }
                    }
                }
            }
        };
        let write = async {
            let mut state = PumpState::new(stream, self.toxics.clone());
            let mut source_done = false;
            loop {
                let active = state.active();
                // A timeout toxic holds the close back as well as the data.
                let holding = active
                    .iter()
                    .any(|t| matches!(t.effect, Effect::Timeout { .. }));
                if source_done && !holding {
                    return self.close_write(&active, &mut to).await;
                }
                let deadline = state.deadline(&active);
                let next = tokio::select! {
                    _ = self.kill.cancelled() => return,
                    changed = state.watch.changed() => {
                        if changed.is_err() {
                            return self.end(CLOSE);
                        }
                        continue;
                    }
                    _ = wait_for(deadline.map(|d| d.0)) => {
                        let reason = deadline.map(|d| d.1).unwrap_or(CLOSE);
                        return self.end(reason);
                    }
                    next = rx.recv(), if !source_done => next,
                };
                let Some((arrived, data)) = next else {
                    source_done = true;
                    continue;
                };
                tokio::select! {
                    _ = self.kill.cancelled() => return,
                    done = state.deliver(&active, arrived, data, &mut to) => {
                        if let Err(reason) = done {
                            return self.end(reason);
                        }
                    }
                }
            }
        };
        tokio::join!(read, write);
    }

    /// The source closed: after any slow_close delay, the other side sees the close.
    async fn close_write<W: AsyncWrite + Unpin>(&self, active: &[Toxic], to: &mut W) {
        let delay = active
            .iter()
            .filter_map(|t| match t.effect {
                Effect::SlowClose { delay } => Some(delay),
                _ => None,
            })
            .max();
        if let Some(ms) = delay {
            tokio::select! {
                _ = self.kill.cancelled() => return,
                _ = sleep(Duration::from_millis(ms)) => {}
            }
        }
        let _ = to.shutdown().await;
    }
}

async fn wait_for(deadline: Option<Instant>) {
    match deadline {
        Some(d) => sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// What one direction of one connection remembers about its toxics.
struct PumpState {
    stream: Stream,
    watch: watch::Receiver<Toxics>,
    /// Whether each toxic (by name) acts on this connection: toxicity is drawn once.
    rolled: HashMap<String, bool>,
    /// When each timeout or reset_peer toxic began to act on this connection.
    since: HashMap<String, Instant>,
    sent: u64,
}

impl PumpState {
    fn new(stream: Stream, watch: watch::Receiver<Toxics>) -> Self {
        PumpState {
            stream,
            watch,
            rolled: HashMap::new(),
            since: HashMap::new(),
            sent: 0,
        }
    }

    /// The toxics of this direction that act on this connection now.
    fn active(&mut self) -> Vec<Toxic> {
        let all = self.watch.borrow_and_update().clone();
        self.rolled.retain(|n, _| all.iter().any(|t| &t.name == n));
        self.since.retain(|n, _| all.iter().any(|t| &t.name == n));
        let mut out = Vec::new();
        for t in all.iter().filter(|t| t.stream == self.stream) {
            let on = *self
                .rolled
                .entry(t.name.clone())
                .or_insert_with(|| t.toxicity >= 1.0 || random() < t.toxicity);
            if on {
                self.since
                    .entry(t.name.clone())
                    .or_insert_with(Instant::now);
                out.push(t.clone());
            }
        }
        out
    }

    /// The earliest moment a timeout or reset_peer toxic ends the connection, and how.
    fn deadline(&self, active: &[Toxic]) -> Option<(Instant, u8)> {
        active
            .iter()
            .filter_map(|t| {
                let since = *self.since.get(&t.name)?;
                match t.effect {
                    Effect::Timeout { timeout } if timeout > 0 => {
                        Some((since + Duration::from_millis(timeout), CLOSE))
                    }
                    Effect::ResetPeer { timeout } => {
                        Some((since + Duration::from_millis(timeout), RESET))
                    }
                    _ => None,
                }
            })
            .min_by_key(|d| d.0)
    }

    /// Writes one chunk through the toxics; `Err` ends the connection that way.
    async fn deliver<W: AsyncWrite + Unpin>(
        &mut self,
        active: &[Toxic],
        arrived: Instant,
        mut data: Vec<u8>,
        to: &mut W,
    ) -> Result<(), u8> {
        let mut delay = Duration::ZERO;
        let mut rate = None;
        let mut slices = None;
        let mut close_after = false;
        for t in active {
            match t.effect {
                Effect::Timeout { .. } => return Ok(()),
                Effect::Latency { latency, jitter } => {
                    delay += Duration::from_millis(vary(latency, jitter))
                }
                Effect::Bandwidth { rate: r } => rate = Some(rate.map_or(r, |o: u64| o.min(r))),
                Effect::Slicer {
                    average_size,
                    size_variation,
                    delay,
                } => slices = Some((average_size.max(1), size_variation, delay)),
                Effect::LimitData { bytes } => {
                    let left = bytes.saturating_sub(self.sent);
                    if (data.len() as u64) >= left {
                        data.truncate(left as usize);
                        close_after = true;
                    }
                }
                Effect::SlowClose { .. } | Effect::ResetPeer { .. } => {}
            }
        }
        if !delay.is_zero() {
            sleep_until(arrived + delay).await;
        }
        if rate == Some(0) {
            return Ok(());
        }
        let mut rest = &data[..];
        while !rest.is_empty() {
            let mut size = match slices {
                Some((avg, var, _)) => vary(avg, var).max(1) as usize,
                None => rest.len(),
            };
            if let Some(r) = rate {
                size = size.min((r * 100).max(1) as usize);
            }
            let (piece, tail) = rest.split_at(size.min(rest.len()));
            to.write_all(piece).await.map_err(|_| CLOSE)?;
            self.sent += piece.len() as u64;
            rest = tail;
            let mut pause = Duration::ZERO;
            if let Some(r) = rate {
                pause = Duration::from_secs_f64(piece.len() as f64 / (r as f64 * 1000.0));
            }
            if let Some((_, _, us)) = slices {
                pause = pause.max(Duration::from_micros(us));
            }
            if !pause.is_zero() {
                sleep(pause).await;
            }
        }
        if close_after {
            let _ = to.flush().await;
            return Err(CLOSE);
        }
        Ok(())
    }
}

/// Makes the close of `stream` a reset (SO_LINGER with a zero timeout).
fn reset_on_close(stream: &TcpStream) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: the descriptor belongs to `stream`, alive for this call; the option value is a
    // properly sized `linger`.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            &linger as *const libc::linger as *const libc::c_void,
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
}
