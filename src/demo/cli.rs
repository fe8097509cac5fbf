//! `chaosdeck demo-service api|database|cache`: runs one demo service in the foreground until
//! SIGINT or SIGTERM. This is the command of every demo container (as PID 1, where a signal
//! without a handler would be ignored, so `docker stop` would wait out its grace period).

use super::api::{self, ApiConfig, User};
use super::{cache, database, Running};
use clap::{Args, Subcommand};
use std::time::Duration;

/// Which demo service to run, and how.
#[derive(Args, Debug)]
pub struct DemoServiceArgs {
    #[command(subcommand)]
    pub role: Role,
}

#[derive(Subcommand, Debug)]
pub enum Role {
    /// The HTTP API, whose health follows its database and cache.
    Api(ApiArgs),
    /// The database stand-in (answers PING with PONG).
    Database {
        /// host:port to listen on.
        #[arg(long, env = "CHAOSDECK_DEMO_LISTEN", default_value = "127.0.0.1:5432")]
        listen: String,
    },
    /// The cache stand-in (PING, GET, SET, DEL).
    Cache {
        /// host:port to listen on.
        #[arg(long, env = "CHAOSDECK_DEMO_LISTEN", default_value = "127.0.0.1:6379")]
        listen: String,
    },
    /// Checks a demo service once (a container healthcheck that needs no shell): exit 0 when
    /// the stand-in at ADDRESS answers PONG, or with --http when GET PATH answers 200.
    Ping {
        /// host:port of the service.
        address: String,
        /// Ask the API for this path instead of pinging a stand-in.
        #[arg(long, value_name = "PATH")]
        http: Option<String>,
        /// Milliseconds to wait for the answer.
        #[arg(long, default_value_t = 1500)]
        timeout_ms: u64,
    },
}

#[derive(Args, Debug)]
pub struct ApiArgs {
    /// host:port to listen on.
    #[arg(long, env = "CHAOSDECK_DEMO_LISTEN", default_value = "127.0.0.1:8000")]
    listen: String,
    /// host:port of the database stand-in (a container name works on a Docker network).
    #[arg(
        long,
        env = "CHAOSDECK_DEMO_DATABASE",
        default_value = "127.0.0.1:5432"
    )]
    database: String,
    /// host:port of the cache stand-in.
    #[arg(long, env = "CHAOSDECK_DEMO_CACHE", default_value = "127.0.0.1:6379")]
    cache: String,
    /// Accounts the login accepts: email:password[,email:password...].
    #[arg(
        long,
        env = "CHAOSDECK_DEMO_USERS",
        default_value = "test@example.com:testpass",
        value_parser = User::parse_list
    )]
    users: std::vec::Vec<User>,
    /// /health answers 200 whatever the database does (a health check that hides failures).
    #[arg(long, env = "CHAOSDECK_DEMO_HEALTH_IGNORES_DATABASE")]
    health_ignores_database: bool,
    /// Milliseconds a dependency has to answer its ping before it counts as down.
    #[arg(
        long,
        env = "CHAOSDECK_DEMO_DEPENDENCY_TIMEOUT_MS",
        default_value_t = 300
    )]
    dependency_timeout_ms: u64,
}

/// Runs the service until SIGINT or SIGTERM; returns the process exit code.
pub async fn run_service(args: DemoServiceArgs) -> i32 {
    let (name, started) = match args.role {
        Role::Ping {
            address,
            http,
            timeout_ms,
        } => return check(&address, http.as_deref(), Duration::from_millis(timeout_ms)).await,
        Role::Api(a) => {
            let config = ApiConfig {
                users: a.users,
                health_ignores_database: a.health_ignores_database,
                dependency_timeout: Duration::from_millis(a.dependency_timeout_ms),
                access_log: true,
                ..ApiConfig::new(a.database, a.cache)
            };
            ("api", api::spawn(&a.listen, config).await)
        }
        Role::Database { listen } => ("database", database::spawn(&listen).await),
        Role::Cache { listen } => ("cache", cache::spawn(&listen).await),
    };
    let running: Running = match started {
        Ok(running) => running,
        Err(e) => {
            eprintln!("error: the demo {name} cannot listen: {e}");
            return 1;
        }
    };
    println!("demo {name} listening on {}", running.addr());
    if std::process::id() == 1 {
        tokio::spawn(reap_orphans());
    }
    let signal = wait_for_signal().await;
    println!("demo {name} stopping ({signal})");
    running.stop().await;
    0
}

/// One healthcheck: 0 when the service answers as it should, 1 (saying why) otherwise.
async fn check(address: &str, http: Option<&str>, timeout: Duration) -> i32 {
    let outcome = match http {
        Some(path) => match super::http_status(address, path, timeout).await {
            Ok(200) => Ok(()),
            Ok(status) => Err(format!("GET {path} answered {status}")),
            Err(e) => Err(e),
        },
        None => super::ping(address, timeout).await.map(|_| ()),
    };
    match outcome {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("{address}: {e}");
            1
        }
    }
}

/// As PID 1 of a container, the service inherits every orphan of `docker exec` (a backgrounded
/// stress-ng, say); it waits for them so they do not linger as zombies. The service starts no
/// children of its own, so no one else is waiting for these.
async fn reap_orphans() {
    use tokio::signal::unix::{signal, SignalKind};
    let Ok(mut children) = signal(SignalKind::child()) else {
        return;
    };
    while children.recv().await.is_some() {
        // SAFETY: waitpid with WNOHANG and a null status pointer only reaps exited children.
        while unsafe { libc::waitpid(-1, std::ptr::null_mut(), libc::WNOHANG) } > 0 {}
    }
}

async fn wait_for_signal() -> &'static str {
    use tokio::signal::unix::{signal, SignalKind};
    let term = signal(SignalKind::terminate());
    let int = signal(SignalKind::interrupt());
    match (term, int) {
        (Ok(mut term), Ok(mut int)) => tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        },
        // Without handlers, only being killed ends the service.
        _ => std::future::pending().await,
    }
}
