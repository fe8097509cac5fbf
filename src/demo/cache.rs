//! The cache stand-in: where the real stack has Redis, the demo has a small in-memory key-value
//! service on its own port speaking one-line commands (`PING`, `SET key value`, `GET key`,
//! `DEL key`). The API only pings it; `/ready` fails while it is gone.

use super::{serve_lines, spawn_listener, Running};
use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Mutex};

/// The port the real service would use, and the stand-in's default.
pub const DEFAULT_PORT: u16 = 6379;
/// Keys kept at most; a `SET` beyond that is refused, so no client can exhaust memory.
const MAX_KEYS: usize = 10_000;

type Store = Arc<Mutex<HashMap<String, String>>>;

/// Starts the cache stand-in on `listen` (`host:port`, port 0 for any). Its data lives as long
/// as the process: a restarted cache is an empty one, as with a Redis without persistence.
pub async fn spawn(listen: &str) -> io::Result<Running> {
    let store = Store::default();
    spawn_listener(listen, move |stream, stop| {
        let store = store.clone();
        async move { serve_lines(stream, stop, |line| answer(&store, line)).await }
    })
    .await
}

/// The reply to one command line.
fn answer(store: &Store, line: &str) -> String {
    let mut words = line.trim().splitn(3, ' ');
    let command = words.next().unwrap_or("").to_ascii_uppercase();
    let key = words.next().filter(|k| !k.is_empty());
    let value = words.next();
    let Ok(mut store) = store.lock() else {
        return "ERR store unavailable".to_string();
    };
    match (command.as_str(), key, value) {
        ("PING", None, None) => "PONG".to_string(),
        ("GET", Some(key), None) => store.get(key).cloned().unwrap_or_else(|| "NIL".into()),
        ("SET", Some(key), Some(value)) => {
            if store.len() >= MAX_KEYS && !store.contains_key(key) {
                return "ERR cache full".to_string();
            }
            store.insert(key.to_string(), value.to_string());
            "OK".to_string()
        }
        ("DEL", Some(key), None) => u8::from(store.remove(key).is_some()).to_string(),
        _ => "ERR unknown command (PING, GET key, SET key value, DEL key)".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::{answer, Store};

    #[test]
    fn keeps_values_and_answers_ping() {
        let store = Store::default();
        assert_eq!(answer(&store, "PING"), "PONG");
        assert_eq!(answer(&store, "GET k"), "NIL");
        assert_eq!(answer(&store, "SET k hello world"), "OK");
        assert_eq!(answer(&store, "get k"), "hello world");
        assert_eq!(answer(&store, "DEL k"), "1");
        assert_eq!(answer(&store, "DEL k"), "0");
        assert!(answer(&store, "SET k").starts_with("ERR"));
        assert!(answer(&store, "").starts_with("ERR"));
    }
}
