//! The docker provider against the real engine (issue #4): every action and probe, targets by
//! name, id, Compose service and service + project, health `none`, and missing targets refused
//! before a run with the nearest existing names. Each test starts its own containers from the
//! offline-built busybox image and removes them when it ends, pass or fail.

mod common;

use bollard::models::{ContainerCreateBody, HealthConfig, HostConfig, RestartPolicy};
use bollard::models::{
    EndpointSettings, NetworkCreateRequest, NetworkingConfig, RestartPolicyNameEnum,
};
use bollard::query_parameters::CreateContainerOptionsBuilder;
use bollard::Docker;
use chaosdeck::providers::{execute, Ctx, Outcome};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const IMAGE: &str = "chaosdeck-busybox:local";
/// Generous: the machine is shared and small.
const DEADLINE: Duration = Duration::from_secs(60);

/// Builds the test image once per test binary.
fn image() {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/build-images.sh");
        let out = std::process::Command::new(script)
            .arg("busybox")
            .output()
            .expect("run scripts/build-images.sh");
        assert!(
            out.status.success(),
            "building {IMAGE} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    });
}

/// A unique name for this test's containers and networks.
fn unique(what: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    format!("chaosdeck-test-{}-{n}-{what}", std::process::id())
}

/// Removes the containers and networks a test made, however the test ends.
#[derive(Default)]
struct Cleanup {
    containers: Vec<String>,
    networks: Vec<String>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for c in &self.containers {
            let _ = std::process::Command::new("docker")
                .args(["rm", "-f", c])
                .output();
        }
        for n in &self.networks {
            let _ = std::process::Command::new("docker")
                .args(["network", "rm", n])
                .output();
        }
    }
}

/// How a test container is made.
#[derive(Default)]
struct Spec {
    cmd: Vec<&'static str>,
    labels: HashMap<String, String>,
    health: Option<&'static str>,
    restart_on_failure: bool,
    network: Option<(String, String)>,
}

/// `sh` that exits at once on SIGTERM (PID 1 ignores it otherwise).
const SLEEPER: &[&str] = &["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"];

async fn engine() -> Docker {
    image();
    chaosdeck::docker::connect()
        .await
        .expect("the Docker engine answers")
}

async fn start(docker: &Docker, cleanup: &mut Cleanup, name: &str, spec: Spec) -> String {
    cleanup.containers.push(name.to_string());
    let cmd = if spec.cmd.is_empty() {
        SLEEPER.to_vec()
    } else {
        spec.cmd
    };
    let healthcheck = spec.health.map(|test| HealthConfig {
        test: Some(vec!["CMD-SHELL".into(), test.into()]),
        interval: Some(500_000_000),
        timeout: Some(2_000_000_000),
        retries: Some(1),
        ..Default::default()
    });
    let host_config = HostConfig {
        network_mode: spec.network.as_ref().map(|(n, _)| n.clone()),
        restart_policy: spec.restart_on_failure.then_some(RestartPolicy {
            name: Some(RestartPolicyNameEnum::ON_FAILURE),
            maximum_retry_count: Some(3),
        }),
        ..Default::default()
    };
    let body = ContainerCreateBody {
        image: Some(IMAGE.into()),
        cmd: Some(cmd.into_iter().map(str::to_string).collect()),
        labels: Some(spec.labels),
        healthcheck,
        host_config: Some(host_config),
        networking_config: spec.network.map(|(net, alias)| NetworkingConfig {
            endpoints_config: Some(HashMap::from([(
                net,
                EndpointSettings {
                    aliases: Some(vec![alias]),
                    ..Default::default()
                },
            )])),
        }),
        ..Default::default()
    };
    let options = CreateContainerOptionsBuilder::default().name(name).build();
    let created = docker
        .create_container(Some(options), body)
        .await
        .expect("create container");
    docker.start_container(name, None).await.expect("start");
    created.id
}

fn compose(project: &str, service: &str) -> HashMap<String, String> {
    HashMap::from([
        ("com.docker.compose.project".into(), project.into()),
        ("com.docker.compose.service".into(), service.into()),
    ])
}

/// Runs one docker activity through the engine's provider dispatch (with `expect` applied).
async fn run(provider: Value) -> Outcome {
    let activity = json!({"type": "action", "name": "a", "provider": provider});
    let ctx = Ctx::new(Default::default(), Default::default());
    execute(&activity, &ctx, true).await
}

async fn ok(provider: Value) -> Value {
    let outcome = run(provider.clone()).await;
    assert!(outcome.error.is_none(), "{provider}: {:?}", outcome.error);
    outcome.output.expect("output")
}

fn on(container: &str, func: &str, arguments: Value) -> Value {
    json!({"type": "docker", "func": func, "container": container, "arguments": arguments})
}

/// Polls a probe until `done` holds on its output, or fails after [`DEADLINE`].
async fn until(provider: Value, done: impl Fn(&Value) -> bool) -> Value {
    let start = Instant::now();
    loop {
        let out = run(provider.clone()).await.output.unwrap_or(Value::Null);
        if done(&out) {
            return out;
        }
        assert!(start.elapsed() < DEADLINE, "{provider}: still {out}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn lifecycle_actions_by_name_and_state_probes() {
    let docker = engine().await;
    let mut cleanup = Cleanup::default();
    let name = unique("life");
    start(&docker, &mut cleanup, &name, Spec::default()).await;

    let state = ok(on(&name, "state", json!({}))).await;
    assert_eq!(state["status"], "running");
    assert_eq!(
        state["health"], "none",
        "no healthcheck: neither healthy nor a crash"
    );
    assert_eq!(ok(on(&name, "health", json!({}))).await, "none");

    let stopped = ok(on(&name, "stop", json!({"grace": 10}))).await;
    assert_eq!(stopped["container"], name);
    assert_eq!(stopped["status"], "exited");
    assert_eq!(stopped["id"].as_str().unwrap().len(), 12);
    let state = ok(on(&name, "state", json!({}))).await;
    assert_eq!(
        (state["running"].clone(), state["exit_code"].clone()),
        (json!(false), json!(0))
    );

    assert_eq!(ok(on(&name, "start", json!({}))).await["status"], "running");
    // Starting a running container is no failure: it is already in the asked state.
    assert_eq!(ok(on(&name, "start", json!({}))).await["status"], "running");
    assert_eq!(
        ok(on(&name, "restart", json!({"grace": 5}))).await["status"],
        "running"
    );
    assert_eq!(ok(on(&name, "pause", json!({}))).await["status"], "paused");
    assert_eq!(ok(on(&name, "state", json!({}))).await["status"], "paused");
    assert_eq!(
        ok(on(&name, "unpause", json!({}))).await["status"],
        "running"
    );

    let killed = ok(on(&name, "kill", json!({"signal": "SIGKILL"}))).await;
    assert_ne!(killed["status"], "running");
    let state = until(on(&name, "state", json!({})), |s| s["status"] == "exited").await;
    assert_eq!(state["exit_code"], 137);
    assert_eq!(state["oom_killed"], false);
}

#[tokio::test(flavor = "multi_thread")]
async fn restart_count_follows_the_engines_restarts() {
    let docker = engine().await;
    let mut cleanup = Cleanup::default();
    let name = unique("flaky");
    let spec = Spec {
        cmd: vec!["sh", "-c", "sleep 1; exit 3"],
        restart_on_failure: true,
        ..Spec::default()
    };
    start(&docker, &mut cleanup, &name, spec).await;
    let count = until(on(&name, "restart_count", json!({})), |c| {
        c.as_i64() >= Some(1)
    })
    .await;
    assert!(count.as_i64().unwrap() >= 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn targets_by_id_service_and_project() {
    let docker = engine().await;
    let mut cleanup = Cleanup::default();
    let (p1, p2) = (unique("shop"), unique("shop"));
    let service = unique("web");
    let only = unique("cache");
    let a = unique("a");
    let b = unique("b");
    let c = unique("c");
    let spec = |labels| Spec {
        labels,
        ..Spec::default()
    };
    let id_a = start(&docker, &mut cleanup, &a, spec(compose(&p1, &service))).await;
    start(&docker, &mut cleanup, &b, spec(compose(&p2, &service))).await;
    start(&docker, &mut cleanup, &c, spec(compose(&p1, &only))).await;

    // By id, short or full.
    assert_eq!(
        ok(on(&id_a[..12], "state", json!({}))).await["status"],
        "running"
    );
    assert_eq!(ok(on(&id_a, "pause", json!({}))).await["container"], a);
    ok(on(&a, "unpause", json!({}))).await;

    // By service alone, when it is in one project.
    let out = ok(json!({"type": "docker", "func": "stop", "service": only})).await;
    assert_eq!(
        (out["container"].as_str(), out["status"].as_str()),
        (Some(c.as_str()), Some("exited"))
    );

    // By service + project, when the same service is in two projects.
    let out =
        ok(json!({"type": "docker", "func": "stop", "service": service, "project": p2})).await;
    assert_eq!(out["container"], b);
    assert_eq!(
        ok(on(&a, "state", json!({}))).await["status"],
        "running",
        "the other project's is untouched"
    );
    let ambiguous = run(json!({"type": "docker", "func": "stop", "service": service})).await;
    let why = ambiguous.error.expect("ambiguous service").to_string();
    assert!(
        why.contains(&p1) && why.contains(&p2) && why.contains("project"),
        "{why}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn exec_and_logs_capture_output_and_status() {
    let docker = engine().await;
    let mut cleanup = Cleanup::default();
    let name = unique("exec");
    let spec = Spec {
        cmd: vec![
            "sh",
            "-c",
            "echo out-line; echo err-line >&2; trap 'exit 0' TERM; sleep 3600 & wait",
        ],
        ..Spec::default()
    };
    start(&docker, &mut cleanup, &name, spec).await;

    let out = ok(on(&name, "exec", json!({"command": ["echo", "hello"]}))).await;
    assert_eq!(out, json!({"status": 0, "stdout": "hello\n", "stderr": ""}));
    let out = ok(on(
        &name,
        "exec",
        json!({
        "command": "echo $GREETING from $(pwd) as $(id -u); echo oops >&2; exit 4",
        "env": {"GREETING": "hi"}, "workdir": "/bin", "user": "1234"}),
    ))
    .await;
    assert_eq!(out["status"], 4);
    assert_eq!(out["stdout"], "hi from /bin as 1234\n");
    assert_eq!(out["stderr"], "oops\n");

    // Same shape as the process provider: `expect` works on it.
    let mut provider = on(&name, "exec", json!({"command": "echo ready"}));
    provider["expect"] = json!([{"status": 0}, {"type": "string", "pattern": "ready"}]);
    assert!(run(provider.clone()).await.error.is_none());
    provider["expect"] = json!([{"type": "string", "pattern": "never"}]);
    assert!(
        run(provider).await.error.is_some(),
        "an unmet expectation fails the activity"
    );

    let logs = until(on(&name, "logs", json!({"tail": 50})), |l| {
        l["stdout"].as_str().is_some_and(|s| s.contains("out-line"))
    })
    .await;
    assert_eq!(logs["status"], 0);
    assert_eq!(logs["stderr"], "err-line\n");
    let last = ok(on(&name, "logs", json!({"tail": 0}))).await;
    assert_eq!(last["stdout"], "");
}

#[tokio::test(flavor = "multi_thread")]
async fn health_reports_starting_unhealthy_and_healthy() {
    let docker = engine().await;
    let mut cleanup = Cleanup::default();
    let name = unique("health");
    let spec = Spec {
        health: Some("test -f /ok"),
        ..Spec::default()
    };
    start(&docker, &mut cleanup, &name, spec).await;
    let first = ok(on(&name, "health", json!({}))).await;
    assert!(first == "starting" || first == "unhealthy", "{first}");
    until(on(&name, "health", json!({})), |h| h == "unhealthy").await;
    let touched = ok(on(&name, "exec", json!({"command": ["touch", "/ok"]}))).await;
    assert_eq!(touched["status"], 0, "{touched}");
    until(on(&name, "health", json!({})), |h| h == "healthy").await;
    assert_eq!(ok(on(&name, "state", json!({}))).await["health"], "healthy");
}

#[tokio::test(flavor = "multi_thread")]
async fn limits_are_set_remembered_and_restored_and_stats_see_them() {
    let docker = engine().await;
    let mut cleanup = Cleanup::default();
    let name = unique("busy");
    let spec = Spec {
        cmd: vec!["sh", "-c", "trap 'exit 0' TERM; while :; do :; done"],
        ..Spec::default()
    };
    let id = start(&docker, &mut cleanup, &name, spec).await;

    let stats = until(on(&name, "stats", json!({})), |s| {
        s["cpu_percent"].as_f64().is_some_and(|c| c > 20.0)
    })
    .await;
    assert!(
        stats["memory_bytes"].as_u64().is_some_and(|m| m > 0),
        "{stats}"
    );

    let set = ok(on(
        &name,
        "set_limits",
        json!({"cpus": 0.1, "memory": "64m"}),
    ))
    .await;
    assert_eq!(set["status"], "running");
    let host = docker
        .inspect_container(&id, None)
        .await
        .unwrap()
        .host_config
        .unwrap();
    assert_eq!(host.memory, Some(64 << 20));
    assert_eq!(
        (host.cpu_quota, host.cpu_period),
        (Some(10_000), Some(100_000))
    );
    // A second call keeps the first originals.
    ok(on(&name, "set_limits", json!({"memory": "32m"}))).await;

    let limited = until(on(&name, "stats", json!({})), |s| {
        s["cpu_percent"].as_f64().is_some_and(|c| c < 20.0)
            && s["memory_limit_bytes"] == json!(32u64 << 20)
    })
    .await;
    assert!(limited["memory_percent"].as_f64().is_some(), "{limited}");

    let restored = ok(on(&name, "restore_limits", json!({}))).await;
    assert_eq!(restored["restored"], true);
    let host = docker
        .inspect_container(&id, None)
        .await
        .unwrap()
        .host_config
        .unwrap();
    let total = docker.info().await.unwrap().mem_total.unwrap();
    assert_eq!(
        host.memory,
        Some(total),
        "no limit comes back as the host's memory"
    );
    assert_eq!(host.cpu_quota, Some(-1), "no CPU quota again");
    until(on(&name, "stats", json!({})), |s| {
        s["cpu_percent"].as_f64().is_some_and(|c| c > 20.0)
    })
    .await;
    // Nothing remembered any more: a rollback may still run it.
    assert_eq!(
        ok(on(&name, "restore_limits", json!({}))).await["restored"],
        false
    );
    ok(on(&name, "kill", json!({}))).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn network_disconnect_and_connect_keep_the_aliases() {
    let docker = engine().await;
    let mut cleanup = Cleanup::default();
    let net = unique("net");
    cleanup.networks.push(net.clone());
    let request = NetworkCreateRequest {
        name: net.clone(),
        internal: Some(true),
        ..Default::default()
    };
    docker
        .create_network(request)
        .await
        .expect("create network");
    let name = unique("netted");
    let spec = Spec {
        labels: compose(&unique("p"), "db"),
        network: Some((net.clone(), "db".into())),
        ..Spec::default()
    };
    let id = start(&docker, &mut cleanup, &name, spec).await;
    let networks = |docker: Docker, id: String| async move {
        let inspect = docker.inspect_container(&id, None).await.unwrap();
        inspect
            .network_settings
            .unwrap()
            .networks
            .unwrap_or_default()
    };

    let out = ok(on(&name, "disconnect", json!({"network": net}))).await;
    assert_eq!(out["status"], "running");
    assert!(!networks(docker.clone(), id.clone())
        .await
        .contains_key(&net));
    ok(on(&name, "connect", json!({"network": net}))).await;
    let now = networks(docker.clone(), id.clone()).await;
    let aliases = now[&net].aliases.clone().unwrap_or_default();
    assert!(aliases.contains(&"db".to_string()), "{aliases:?}");

    let missing = run(on(&name, "disconnect", json!({"network": unique("nonet")}))).await;
    let why = missing.error.expect("no such network").to_string();
    assert!(why.contains(&name) && why.contains("disconnect"), "{why}");
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_targets_are_refused_before_the_run_with_the_nearest_names() {
    let docker = engine().await;
    let mut cleanup = Cleanup::default();
    let project = unique("shop");
    let web = format!("{project}-web-1");
    let service = unique("postgres");
    start(
        &docker,
        &mut cleanup,
        &web,
        Spec {
            labels: compose(&project, &service),
            ..Spec::default()
        },
    )
    .await;

    let asked_v1 = format!("{project}_web_1").replace('-', "_");
    let yaml = format!(
        "title: t\ndescription: d\nmethod:\n\
         - type: action\n  name: stop web\n  provider:\n    type: docker\n    func: stop\n    container: {asked_v1}\n\
         - type: action\n  name: stop db\n  provider:\n    type: docker\n    func: stop\n    service: {service}s\n\
         - type: probe\n  name: templated\n  provider:\n    type: docker\n    func: state\n    container: ${{later}}\n\
         - type: probe\n  name: fine\n  provider:\n    type: docker\n    func: state\n    container: {web}\n\
         configuration:\n  later: x\n"
    );
    let path = common::write_temp("experiment.yaml", &yaml);
    let findings =
        match chaosdeck::headless::prepare(path.to_str().unwrap(), &Default::default()).await {
            Ok(_) => panic!("missing targets stop the run"),
            Err(findings) => findings,
        };
    let errors: Vec<String> = findings.errors.iter().map(ToString::to_string).collect();
    // A target written `${later}` is checked with the value it will have ('x', missing too).
    assert_eq!(errors.len(), 3, "{errors:#?}");
    assert!(
        errors[2].contains("method[2].provider.container") && errors[2].contains("'x'"),
        "{errors:#?}"
    );
    assert!(
        errors[0].contains("method[0].provider.container"),
        "{errors:#?}"
    );
    assert!(
        errors[0].contains(&asked_v1) && errors[0].contains(&format!("'{web}'")),
        "{errors:#?}"
    );
    assert!(
        errors[1].contains("method[1].provider.service"),
        "{errors:#?}"
    );
    assert!(
        errors[1].contains(&format!("did you mean '{service}'")),
        "{errors:#?}"
    );
    assert!(
        errors[0].contains(&chaosdeck::docker::address()),
        "{errors:#?}"
    );

    // At run time too, a vanished target fails the activity naming it and the engine.
    let gone = run(on(&asked_v1, "stop", json!({}))).await;
    let why = gone.error.expect("missing").to_string();
    assert!(why.contains(&asked_v1) && why.contains(&web), "{why}");
}

/// One run acts on one replica of a scaled service: the rollback starts the container the
/// method stopped, not another running replica.
#[tokio::test(flavor = "multi_thread")]
async fn a_service_target_keeps_its_replica_for_the_whole_run() {
    let docker = engine().await;
    let mut cleanup = Cleanup::default();
    let project = unique("scale");
    for n in ["1", "2"] {
        let mut labels = compose(&project, "web");
        labels.insert("com.docker.compose.container-number".into(), n.into());
        let name = format!("{project}-web-{n}");
        start(
            &docker,
            &mut cleanup,
            &name,
            Spec {
                labels,
                ..Spec::default()
            },
        )
        .await;
    }
    let ctx = Ctx::new(Default::default(), Default::default());
    let step = |func: &str| {
        json!({"type": "action", "name": func,
               "provider": {"type": "docker", "func": func, "service": "web", "project": project}})
    };
    let stopped = execute(&step("stop"), &ctx, true).await;
    assert!(stopped.error.is_none(), "{:?}", stopped.error);
    let first = stopped.output.unwrap()["container"].clone();
    assert_eq!(first, format!("{project}-web-1"));
    let started = execute(&step("start"), &ctx, true).await;
    assert_eq!(
        started.output.unwrap()["container"],
        first,
        "the same replica came back"
    );
    let state = ok(on(first.as_str().unwrap(), "state", json!({}))).await;
    assert_eq!(state["running"], true);
}

/// A stop abandoned by an abort goes on in the engine; a later start waits for it to end, so the
/// container is really running after the rollback.
#[tokio::test(flavor = "multi_thread")]
async fn start_after_an_abandoned_stop_brings_the_container_back() {
    let docker = engine().await;
    let mut cleanup = Cleanup::default();
    let name = unique("stubborn");
    // Ignores SIGTERM: the engine waits out the whole grace before killing it.
    let spec = Spec {
        cmd: vec!["sh", "-c", "trap '' TERM; sleep 3600 & wait"],
        ..Spec::default()
    };
    start(&docker, &mut cleanup, &name, spec).await;
    let ctx = Ctx::new(Default::default(), Default::default());
    let stop = json!({"type": "action", "name": "stop",
        "provider": {"type": "docker", "func": "stop", "container": name, "arguments": {"grace": 4}}});
    // The abort: the stop's future is dropped after a second, the engine carries on.
    let abandoned = tokio::time::timeout(Duration::from_secs(1), execute(&stop, &ctx, true)).await;
    assert!(abandoned.is_err(), "the stop was still going on");
    let start_again = json!({"type": "action", "name": "start",
        "provider": {"type": "docker", "func": "start", "container": name}});
    let started = execute(&start_again, &ctx, true).await;
    assert!(started.error.is_none(), "{:?}", started.error);
    tokio::time::sleep(Duration::from_secs(5)).await;
    let state = ok(on(&name, "state", json!({}))).await;
    assert_eq!(
        state["running"], true,
        "running after the abandoned stop ended: {state}"
    );
}
