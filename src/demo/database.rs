//! The database stand-in: where the real stack has PostgreSQL, the demo has a service that
//! answers `PING` with `PONG` on its own port. Stopping it is the database failure the GameDay
//! rehearses; the API notices because its pings go unanswered.

use super::{serve_lines, spawn_listener, Running};
use std::io;

/// The port the real service would use, and the stand-in's default.
pub const DEFAULT_PORT: u16 = 5432;

/// Starts the database stand-in on `listen` (`host:port`, port 0 for any).
pub async fn spawn(listen: &str) -> io::Result<Running> {
    spawn_listener(listen, |stream, stop| serve_lines(stream, stop, answer)).await
}

/// The reply to one request line: `PING` → `PONG`, `SELECT 1` → `1`, anything else an error.
fn answer(line: &str) -> String {
    let line = line.trim();
    if line.eq_ignore_ascii_case("PING") {
        "PONG".to_string()
    } else if line.eq_ignore_ascii_case("SELECT 1") || line.eq_ignore_ascii_case("SELECT 1;") {
        "1".to_string()
    } else {
        "ERR unknown command (try PING)".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::answer;

    #[test]
    fn answers_ping_and_rejects_the_rest() {
        assert_eq!(answer("PING"), "PONG");
        assert_eq!(answer(" ping "), "PONG");
        assert_eq!(answer("select 1;"), "1");
        assert!(answer("DROP TABLE users").starts_with("ERR"));
        assert!(answer("").starts_with("ERR"));
    }
}
