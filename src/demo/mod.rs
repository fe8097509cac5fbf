//! The demo system GameDays practise on: an HTTP API whose health depends on a database and a
//! cache, and the two stand-ins for them. Each runs on its own port, on loopback for
//! `chaosdeck demo` and the tests, or as a container of the `chaosdeck-demo:local` image.
//!
//! The stand-ins speak a one-line protocol (`PING` → `PONG`), enough for the API to tell whether
//! each dependency answers, and enough for a fault (a stopped container, a cut network) to show.

pub mod api;
pub mod cache;
pub mod cli;
pub mod database;
pub mod embedded;
pub mod image;
pub mod launch;
mod login;
pub mod record;
pub mod stack;
pub mod supervisor;
mod tar;

use std::io;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// The longest request line a stand-in reads; a longer one closes the connection.
const MAX_LINE: u64 = 4096;
/// A connection that sends nothing for this long is closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(300);

/// A demo service running on a task of the current runtime.
pub struct Running {
    addr: SocketAddr,
    stop: CancellationToken,
    tracker: TaskTracker,
}

impl Running {
    /// The address it listens on (with the real port when it was asked for port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops listening, closes every open connection, and returns once all of them are gone.
    pub async fn stop(self) {
        self.stop.cancel();
        self.tracker.close();
        self.tracker.wait().await;
    }
}

/// Binds `listen` (`host:port`) and accepts connections until stopped, handing each to `serve`
/// on its own task together with a token that is cancelled on stop.
pub(crate) async fn spawn_listener<F, Fut>(listen: &str, serve: F) -> io::Result<Running>
where
    F: Fn(TcpStream, CancellationToken) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let stop = CancellationToken::new();
    let tracker = TaskTracker::new();
    let (token, conns) = (stop.clone(), tracker.clone());
    tracker.spawn(async move {
        loop {
            let accepted = tokio::select! {
                _ = token.cancelled() => break,
                accepted = listener.accept() => accepted,
            };
            match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    conns.spawn(serve(stream, token.clone()));
                }
                // Out of file descriptors and the like: wait a moment instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    });
    Ok(Running {
        addr,
        stop,
        tracker,
    })
}

/// Serves a line protocol on one connection: each request line (without its newline) goes to
/// `answer`, whose reply is written back followed by a newline.
pub(crate) async fn serve_lines<A>(stream: TcpStream, stop: CancellationToken, answer: A)
where
    A: Fn(&str) -> String,
{
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let mut line = Vec::new();
    loop {
        line.clear();
        let mut limited = (&mut reader).take(MAX_LINE);
        let read = tokio::select! {
            _ = stop.cancelled() => return,
            read = tokio::time::timeout(IDLE_TIMEOUT, limited.read_until(b'\n', &mut line)) => read,
        };
        let complete = match read {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return,
            Ok(Ok(_)) => line.ends_with(b"\n"),
        };
        if !complete {
            let _ = write.write_all(b"ERR line too long\n").await;
            return;
        }
        let text = String::from_utf8_lossy(&line);
        let mut reply = answer(text.trim_end_matches(['\r', '\n']));
        reply.push('\n');
        if write.write_all(reply.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// Asks the stand-in at `addr` (`host:port`, names resolved on every call) for `PONG` within
/// `timeout`; returns how long the answer took, or why there was none.
pub async fn ping(addr: &str, timeout: Duration) -> Result<Duration, String> {
    let started = tokio::time::Instant::now();
    let exchange = async {
        let stream = TcpStream::connect(addr).await?;
        let (read, mut write) = stream.into_split();
        write.write_all(b"PING\n").await?;
        let mut reply = String::new();
        BufReader::new(read)
            .take(MAX_LINE)
            .read_line(&mut reply)
            .await?;
        Ok::<_, io::Error>(reply)
    };
    match tokio::time::timeout(timeout, exchange).await {
        Err(_) => Err(format!("no answer within {} ms", timeout.as_millis())),
        Ok(Err(e)) => Err(e.to_string()),
        Ok(Ok(reply)) if reply.trim_end() == "PONG" => Ok(started.elapsed()),
        Ok(Ok(reply)) if reply.is_empty() => Err("closed without answering".to_string()),
        Ok(Ok(reply)) => Err(format!("answered {:?} instead of PONG", reply.trim_end())),
    }
}

/// The status code of `GET path` on `addr` (`host:port`), within `timeout`; for readiness
/// checks and container healthchecks, which need no HTTP client beyond this.
pub async fn http_status(addr: &str, path: &str, timeout: Duration) -> Result<u16, String> {
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await?;
        let request = format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await?;
        let mut line = String::new();
        BufReader::new(stream)
            .take(MAX_LINE)
            .read_line(&mut line)
            .await?;
        Ok::<_, io::Error>(line)
    };
    let line = match tokio::time::timeout(timeout, exchange).await {
        Err(_) => return Err(format!("no answer within {} ms", timeout.as_millis())),
        Ok(Err(e)) => return Err(e.to_string()),
        Ok(Ok(line)) => line,
    };
    line.split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("not an HTTP answer: {:?}", line.trim_end()))
}
