//! The Docker engine: connecting with a negotiated API version (so engines from API 1.41 up
//! answer), and the errors that name what was tried.

pub mod target;

use bollard::Docker;

pub mod snapshot;
pub mod watcher;

/// The oldest engine API chaosdeck speaks (Docker 20.10).
pub const MIN_API: &str = "1.41";

/// Why the engine could not be used.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DockerError {
    #[error("no Docker engine answers at {address}: {reason}")]
    Unreachable { address: String, reason: String },
    #[error("the Docker engine at {address} said: {reason}")]
    Engine { address: String, reason: String },
}

/// Where the engine is looked for: `DOCKER_HOST`, else the local socket.
pub fn address() -> String {
    std::env::var("DOCKER_HOST")
        .ok()
        .filter(|h| !h.trim().is_empty())
        .unwrap_or_else(|| "unix:///var/run/docker.sock".to_string())
}

/// Connects to the engine named by `DOCKER_HOST` (or the local socket) and negotiates the API
/// version down to what the engine speaks.
pub async fn connect() -> Result<Docker, DockerError> {
    let address = address();
    connect_to(&address, None)
        .await
        .map_err(|e| DockerError::Unreachable {
            address: address.clone(),
            reason: e.to_string(),
        })
}

/// Connects to the engine at `address` (`unix://…`, `tcp://…`), with requests limited to
/// `timeout` when given, negotiating the API version and checking that the engine answers.
pub async fn connect_to(
    address: &str,
    timeout: Option<std::time::Duration>,
) -> Result<Docker, bollard::errors::Error> {
    let mut docker = Docker::connect_with_host(address)?;
    if let Some(t) = timeout {
        docker = docker.with_timeout(t);
    }
    let docker = docker.negotiate_version().await?;
    docker.ping().await?;
    Ok(docker)
}
