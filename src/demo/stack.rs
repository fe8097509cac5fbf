//! The demo as containers: a user network and three containers of the demo image (database,
//! cache, API), labelled as Compose labels a project's services so experiments can target them
//! by service, with healthchecks that need nothing but the binary inside, and the API published
//! on 127.0.0.1 only. Each container and the network are written to the record before they are
//! created.

use super::image::IMAGE;
use super::record::{not_found, Record, OWNER_LABEL};
use bollard::models::{
    ContainerCreateBody, EndpointSettings, HealthConfig, HostConfig, NetworkCreateRequest,
    NetworkingConfig, PortBinding,
};
use bollard::query_parameters::CreateContainerOptionsBuilder;
use bollard::Docker;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long the API has to become ready once its container started.
const READY_WITHIN: Duration = Duration::from_secs(60);
/// Port the API listens on inside its container.
const API_PORT: u16 = 8000;

/// Names of a project's network and containers, as `scripts/demo-stack.sh` and Compose v2 name
/// them.
#[derive(Debug, Clone)]
pub struct Names {
    pub project: String,
    pub network: String,
}

impl Names {
    pub fn new(project: &str) -> Names {
        Names {
            project: project.to_string(),
            network: format!("{project}_default"),
        }
    }

    pub fn container(&self, service: &str) -> String {
        format!("{}-{service}-1", self.project)
    }
}

/// Brings the stack up; returns once the API answers `/ready` with 200 on 127.0.0.1:`api_port`.
/// Whatever was created is in `record` even when this fails.
pub async fn up(
    docker: &Docker,
    names: &Names,
    api_port: u16,
    record: &Arc<Mutex<Record>>,
) -> Result<(), String> {
    let services = ["database", "cache", "api"];
    for service in services {
        refuse_foreign_container(docker, &names.container(service)).await?;
    }
    note(record, |s| {
        s.project = Some(names.project.clone());
        s.networks.push(names.network.clone());
    })?;
    let labels = HashMap::from([
        (OWNER_LABEL.to_string(), names.project.clone()),
        (
            "com.docker.compose.project".to_string(),
            names.project.clone(),
        ),
        (
            "com.docker.compose.network".to_string(),
            "default".to_string(),
        ),
    ]);
    docker
        .create_network(NetworkCreateRequest {
            name: names.network.clone(),
            labels: Some(labels),
            ..Default::default()
        })
        .await
        .map_err(|e| format!("cannot create the network {}: {e}", names.network))?;
    for service in services {
        let name = names.container(service);
        note(record, |s| s.containers.push(name.clone()))?;
        let body = container(names, service, api_port);
        let options = CreateContainerOptionsBuilder::default().name(&name).build();
        docker
            .create_container(Some(options), body)
            .await
            .map_err(|e| format!("cannot create the container {name}: {e}"))?;
        docker
            .start_container(
                &name,
                None::<bollard::query_parameters::StartContainerOptions>,
            )
            .await
            .map_err(|e| format!("cannot start the container {name}: {e}"))?;
    }
    wait_ready(api_port).await
}

/// A container of this name that the record does not name is someone else's: never touched.
async fn refuse_foreign_container(docker: &Docker, name: &str) -> Result<(), String> {
    match docker
        .inspect_container(
            name,
            None::<bollard::query_parameters::InspectContainerOptions>,
        )
        .await
    {
        Err(e) if not_found(&e) => Ok(()),
        Err(e) => Err(format!("cannot ask the Docker engine about {name}: {e}")),
        Ok(_) => Err(format!(
            "a container named {name} exists that this demo did not start; remove it \
             (scripts/demo-stack.sh down, if that script started it) or pass --project NAME"
        )),
    }
}

fn note(
    record: &Arc<Mutex<Record>>,
    change: impl FnOnce(&mut super::record::Started),
) -> Result<(), String> {
    let mut record = record.lock().unwrap_or_else(|p| p.into_inner());
    record
        .update(change)
        .map_err(|e| format!("cannot write the demo's record: {e}"))
}

/// The create request of one service's container.
fn container(names: &Names, service: &str, api_port: u16) -> ContainerCreateBody {
    let (cmd, health): (Vec<String>, Vec<&str>) = match service {
        "api" => (
            strings(&[
                "/bin/chaosdeck",
                "demo-service",
                "api",
                "--listen",
                "0.0.0.0:8000",
                "--database",
                "database:5432",
                "--cache",
                "cache:6379",
            ]),
            vec!["127.0.0.1:8000", "--http", "/health"],
        ),
        "database" => (
            strings(&[
                "/bin/chaosdeck",
                "demo-service",
                "database",
                "--listen",
                "0.0.0.0:5432",
            ]),
            vec!["127.0.0.1:5432"],
        ),
        _ => (
            strings(&[
                "/bin/chaosdeck",
                "demo-service",
                "cache",
                "--listen",
                "0.0.0.0:6379",
            ]),
            vec!["127.0.0.1:6379"],
        ),
    };
    let mut test = strings(&["CMD", "/bin/chaosdeck", "demo-service", "ping"]);
    test.extend(strings(&health));
    let labels = HashMap::from([
        (OWNER_LABEL.to_string(), names.project.clone()),
        (
            "com.docker.compose.project".to_string(),
            names.project.clone(),
        ),
        (
            "com.docker.compose.service".to_string(),
            service.to_string(),
        ),
        (
            "com.docker.compose.container-number".to_string(),
            "1".to_string(),
        ),
        ("com.docker.compose.oneoff".to_string(), "False".to_string()),
    ]);
    let port_bindings = (service == "api").then(|| {
        HashMap::from([(
            format!("{API_PORT}/tcp"),
            Some(vec![PortBinding {
                host_ip: Some("127.0.0.1".to_string()),
                host_port: Some(api_port.to_string()),
            }]),
        )])
    });
    ContainerCreateBody {
        image: Some(IMAGE.to_string()),
        cmd: Some(cmd),
        labels: Some(labels),
        exposed_ports: (service == "api").then(|| vec![format!("{API_PORT}/tcp")]),
        healthcheck: Some(HealthConfig {
            test: Some(test),
            interval: Some(2_000_000_000),
            timeout: Some(2_000_000_000),
            retries: Some(3),
            ..Default::default()
        }),
        host_config: Some(HostConfig {
            network_mode: Some(names.network.clone()),
            port_bindings,
            ..Default::default()
        }),
        networking_config: Some(NetworkingConfig {
            endpoints_config: Some(HashMap::from([(
                names.network.clone(),
                EndpointSettings {
                    aliases: Some(vec![service.to_string()]),
                    ..Default::default()
                },
            )])),
        }),
        ..Default::default()
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// Polls `GET /ready` on the published port until it answers 200.
async fn wait_ready(api_port: u16) -> Result<(), String> {
    let address = format!("127.0.0.1:{api_port}");
    let deadline = tokio::time::Instant::now() + READY_WITHIN;
    let mut last = String::from("no answer yet");
    while tokio::time::Instant::now() < deadline {
        match super::http_status(&address, "/ready", Duration::from_secs(2)).await {
            Ok(200) => return Ok(()),
            Ok(status) => last = format!("it answered {status}"),
            Err(e) => last = e,
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Err(format!(
        "the demo API did not become ready on http://{address} within {} s ({last})",
        READY_WITHIN.as_secs()
    ))
}
