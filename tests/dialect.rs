//! The constructs the guide's experiments use (design.md, Engine: "Expect dialect"; native
//! providers) and the http, process and python providers of ctk-reference.md §2, each run
//! against real processes or a real HTTP server on loopback.

mod common;

use chaosdeck::engine::RunOptions;
use common::{alive, chaosdeck, run_yaml, tempdir, Ran, Reply, Server};
use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};

/// An experiment with only a method.
fn experiment(method: &str) -> String {
    format!("title: dialect\ndescription: the expect dialect and providers\nmethod:\n{method}")
}

/// An experiment whose hypothesis holds `probes` and whose method does nothing.
fn hypothesis_experiment(probes: &str) -> String {
    format!(
        "title: dialect\ndescription: d\nsteady-state-hypothesis:\n  title: h\n  probes:\n{probes}\
         method:\n  - type: action\n    name: noop\n    provider:\n      type: process\n      \
         path: \"true\"\n"
    )
}

async fn run(yaml: &str) -> Ran {
    run_yaml(yaml, RunOptions::default()).await
}

/// The `index`th entry of the journal's `run` list.
fn step(ran: &Ran, index: usize) -> &Value {
    let run = ran.journal["run"].as_array().expect("run is a list");
    run.get(index)
        .unwrap_or_else(|| panic!("no run entry {index} in {}", ran.journal["run"]))
}

fn status(entry: &Value) -> &str {
    entry["status"].as_str().unwrap_or("<none>")
}

/// The exception of a failed entry as one text ("" when there is none).
fn failure(entry: &Value) -> String {
    entry["exception"]
        .as_array()
        .map(|lines| {
            lines
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("")
        })
        .unwrap_or_default()
}

fn duration(entry: &Value) -> f64 {
    entry["duration"].as_f64().expect("entry has a duration")
}

/// The header a request carried, by case-insensitive name (every value, in order).
fn header_values(seen: &common::Seen, name: &str) -> Vec<String> {
    seen.headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.clone())
        .collect()
}

/// The one request the server saw for `path`.
fn only_request(server: &Server, path: &str) -> common::Seen {
    let seen: Vec<_> = server
        .seen()
        .into_iter()
        .filter(|s| s.target.split('?').next() == Some(path))
        .collect();
    assert_eq!(seen.len(), 1, "requests to {path}: {seen:?}");
    seen.into_iter().next().unwrap()
}

/// Reads the journal `chaosdeck run` wrote in `dir`.
fn journal_in(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("journal.json")).expect("journal written");
    serde_json::from_str(&text).expect("journal is JSON")
}

fn run_binary(dir: &Path, yaml: &str, env: &[(&str, &str)]) -> (std::process::Output, Value) {
    std::fs::write(dir.join("e.yaml"), yaml).unwrap();
    let out = chaosdeck(dir, &["run", "e.yaml"], env);
    let journal = journal_in(dir);
    (out, journal)
}

fn make_executable(path: &Path, script: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, script).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn python3_available() -> bool {
    std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

// ---------------------------------------------------------------------------------------------
// expect on the provider and on the activity (design.md, Expect dialect)

/// Expect dialect, `status: 200` on the provider, met: the activity succeeds with the http
/// result as its output and the verdict passes.
#[tokio::test(flavor = "multi_thread")]
async fn expect_status_met_on_the_provider() {
    let server = Server::start();
    server.route("/health", Reply::text(200, "ok"));
    let yaml = experiment(&format!(
        r#"  - type: probe
    name: health
    provider:
      type: http
      url: "{}"
      timeout: 5
      expect:
        - status: 200
"#,
        server.url("/health")
    ));
    let ran = run(&yaml).await;
    let entry = step(&ran, 0);
    assert_eq!(status(entry), "succeeded", "{entry}");
    assert_eq!(entry["output"]["status"], 200);
    assert_eq!(entry["output"]["body"], "ok");
    assert!(ran.report.verdict.passed, "{:?}", ran.report.verdict);
}

/// Expect dialect, `status: 200` unmet in the method: the activity fails with the comparison
/// in its exception, keeps its output, the run still completes and the verdict fails.
#[tokio::test(flavor = "multi_thread")]
async fn expect_status_unmet_fails_the_activity_and_keeps_the_output() {
    let server = Server::start();
    server.route("/health", Reply::text(503, "db down"));
    let yaml = experiment(&format!(
        r#"  - type: probe
    name: health
    provider:
      type: http
      url: "{}"
      expect:
        - status: 200
  - type: action
    name: after
    provider:
      type: process
      path: "true"
"#,
        server.url("/health")
    ));
    let ran = run(&yaml).await;
    let entry = step(&ran, 0);
    assert_eq!(status(entry), "failed", "{entry}");
    let why = failure(entry);
    assert!(why.contains("status 503 not in [200]"), "{why}");
    assert_eq!(entry["output"]["status"], 503, "output kept: {entry}");
    assert_eq!(entry["output"]["body"], "db down");
    assert_eq!(status(step(&ran, 1)), "succeeded", "the run goes on");
    assert_eq!(ran.journal["status"], "completed");
    assert!(!ran.report.verdict.passed, "{:?}", ran.report.verdict);
}

/// Expect dialect, `status: [503, 500]`: either listed status holds, any other fails with the
/// list in the message.
#[tokio::test(flavor = "multi_thread")]
async fn expect_status_list_accepts_any_listed_status() {
    let server = Server::start();
    server
        .route("/unavailable", Reply::text(503, ""))
        .route("/error", Reply::text(500, ""))
        .route("/fine", Reply::text(200, ""));
    let probe = |name: &str, path: &str| {
        format!(
            r#"  - type: probe
    name: {name}
    provider:
      type: http
      url: "{}"
      expect:
        - status: [503, 500]
"#,
            server.url(path)
        )
    };
    let yaml = experiment(&format!(
        "{}{}{}",
        probe("gets-503", "/unavailable"),
        probe("gets-500", "/error"),
        probe("gets-200", "/fine")
    ));
    let ran = run(&yaml).await;
    assert_eq!(status(step(&ran, 0)), "succeeded", "{}", step(&ran, 0));
    assert_eq!(status(step(&ran, 1)), "succeeded", "{}", step(&ran, 1));
    let last = step(&ran, 2);
    assert_eq!(status(last), "failed", "{last}");
    assert!(
        failure(last).contains("status 200 not in [503, 500]"),
        "{}",
        failure(last)
    );
}

/// Expect dialect, `type: string` + `pattern` on a process's stdout (resource-exhaustion's
/// container-id check): found → succeeded; not found → failed naming the pattern.
#[tokio::test(flavor = "multi_thread")]
async fn expect_pattern_searches_process_stdout() {
    let probe = |name: &str, printed: &str| {
        format!(
            r#"  - type: probe
    name: {name}
    provider:
      type: process
      path: printf
      arguments: ["{printed}"]
      expect:
        - type: string
          pattern: "[0-9a-f]+"
"#
        )
    };
    let yaml = experiment(&format!(
        "{}{}",
        probe("id-printed", "4f9c2a1be7d3\\n"),
        probe("nothing-printed", "NO CONTAINER\\n")
    ));
    let ran = run(&yaml).await;
    let found = step(&ran, 0);
    assert_eq!(status(found), "succeeded", "{found}");
    assert_eq!(found["output"]["stdout"], "4f9c2a1be7d3\n");
    let missing = step(&ran, 1);
    assert_eq!(status(missing), "failed", "{missing}");
    let why = failure(missing);
    assert!(
        why.contains("pattern '[0-9a-f]+' not found in stdout"),
        "{why}"
    );
    assert_eq!(missing["output"]["stdout"], "NO CONTAINER\n");
}

/// Expect dialect, `json` + `operator` + `value` on a JSON http body: the first match is
/// compared; a comparison that does not hold fails with the value found and the one expected.
#[tokio::test(flavor = "multi_thread")]
async fn expect_json_operator_value_on_an_http_body() {
    let server = Server::start();
    server.route(
        "/health/detailed",
        Reply::json(
            200,
            r#"{"db": {"ok": true, "latency": 120}, "deps": ["postgres", "redis"]}"#,
        ),
    );
    let url = server.url("/health/detailed");
    let probe = |name: &str, checks: &str| {
        format!(
            r#"  - type: probe
    name: {name}
    provider:
      type: http
      url: "{url}"
      expect:
{checks}"#
        )
    };
    let yaml = experiment(&format!(
        "{}{}{}",
        probe(
            "all-hold",
            "        - json: \"$.db.latency\"\n          operator: lt\n          value: 200\n\
             \x20       - json: \"$.db.ok\"\n          operator: eq\n          value: true\n\
             \x20       - json: \"$.deps\"\n          operator: contains\n          value: redis\n"
        ),
        probe(
            "too-slow",
            "        - json: \"$.db.latency\"\n          operator: gt\n          value: 200\n"
        ),
        probe(
            "no-such-key",
            "        - json: \"$.cache.ok\"\n          value: true\n"
        ),
    ));
    let ran = run(&yaml).await;
    let held = step(&ran, 0);
    assert_eq!(status(held), "succeeded", "{held}");
    assert_eq!(held["output"]["body"]["db"]["latency"], 120);
    let slow = step(&ran, 1);
    assert_eq!(status(slow), "failed", "{slow}");
    let why = failure(slow);
    assert!(
        why.contains("$.db.latency is 120, expected gt 200"),
        "{why}"
    );
    let missing = step(&ran, 2);
    assert_eq!(status(missing), "failed", "{missing}");
    assert!(
        failure(missing).contains("matched nothing"),
        "{}",
        failure(missing)
    );
}

/// Expect dialect, `expect` on the activity rather than its provider: it is applied the same
/// way (a process exit status here).
#[tokio::test(flavor = "multi_thread")]
async fn expect_on_the_activity() {
    let yaml = experiment(
        r#"  - type: action
    name: exits-zero
    expect:
      - status: 0
    provider:
      type: process
      path: sh
      arguments: ["-c", "exit 0"]
  - type: action
    name: exits-two
    expect:
      - status: 0
    provider:
      type: process
      path: sh
      arguments: ["-c", "echo partial; exit 2"]
"#,
    );
    let ran = run(&yaml).await;
    assert_eq!(status(step(&ran, 0)), "succeeded", "{}", step(&ran, 0));
    let failed = step(&ran, 1);
    assert_eq!(status(failed), "failed", "{failed}");
    assert!(
        failure(failed).contains("status 2 not in [0]"),
        "{}",
        failure(failed)
    );
    assert_eq!(failed["output"]["stdout"], "partial\n");
    assert_eq!(failed["output"]["status"], 2);
}

// ---------------------------------------------------------------------------------------------
// expect in the hypothesis (design.md: "in the hypothesis it serves as the tolerance")

/// Expect dialect in the hypothesis, no `tolerance`: `expect` is the tolerance. Unmet, the
/// steady state is not met while the probe entry itself succeeded with tolerance_met false;
/// met, the steady state holds.
#[tokio::test(flavor = "multi_thread")]
async fn hypothesis_expect_serves_as_the_tolerance() {
    let server = Server::start();
    server
        .route("/down", Reply::text(503, "down"))
        .route("/up", Reply::text(200, "up"));
    let probe = |path: &str| {
        format!(
            r#"    - type: probe
      name: health
      provider:
        type: http
        url: "{}"
        timeout: 5
        expect:
          - status: 200
"#,
            server.url(path)
        )
    };
    let ran = run(&hypothesis_experiment(&probe("/down"))).await;
    let before = &ran.journal["steady_states"]["before"];
    assert_eq!(before["steady_state_met"], false, "{before}");
    let entry = &before["probes"][0];
    assert_eq!(status(entry), "succeeded", "{entry}");
    assert_eq!(entry["tolerance_met"], false, "{entry}");
    assert_eq!(entry["output"]["status"], 503);
    assert_eq!(ran.journal["run"].as_array().unwrap().len(), 0);
    assert!(!ran.report.verdict.passed);

    let ran = run(&hypothesis_experiment(&probe("/up"))).await;
    let before = &ran.journal["steady_states"]["before"];
    assert_eq!(before["steady_state_met"], true, "{before}");
    assert_eq!(before["probes"][0]["tolerance_met"], true);
    assert_eq!(status(step(&ran, 0)), "succeeded");
}

/// Expect dialect in the hypothesis with both `tolerance` and `expect`: both must hold.
#[tokio::test(flavor = "multi_thread")]
async fn hypothesis_tolerance_and_expect_must_both_hold() {
    let server = Server::start();
    server
        .route("/healthy", Reply::text(200, "all healthy"))
        .route("/degraded", Reply::text(200, "degraded"));
    let probe = |path: &str, tolerance: u16| {
        format!(
            r#"    - type: probe
      name: health
      tolerance: {tolerance}
      provider:
        type: http
        url: "{}"
        expect:
          - type: string
            pattern: "healthy"
"#,
            server.url(path)
        )
    };
    for (path, tolerance, met) in [
        ("/healthy", 200, true),   // both hold
        ("/degraded", 200, false), // tolerance holds, expect does not
        ("/healthy", 503, false),  // expect holds, tolerance does not
    ] {
        let ran = run(&hypothesis_experiment(&probe(path, tolerance))).await;
        let before = &ran.journal["steady_states"]["before"];
        assert_eq!(
            before["steady_state_met"], met,
            "{path} with tolerance {tolerance}: {before}"
        );
        assert_eq!(before["probes"][0]["tolerance_met"], met, "{before}");
        assert_eq!(status(&before["probes"][0]), "succeeded", "{before}");
    }
}

// ---------------------------------------------------------------------------------------------
// body: on an http provider (design.md)

/// Dialect `body:` as a mapping on a POST without headers: sent as JSON with Content-Type
/// application/json (a single such header).
#[tokio::test(flavor = "multi_thread")]
async fn body_mapping_is_sent_as_json() {
    let server = Server::start();
    server.route("/api/auth/login", Reply::json(401, r#"{"detail": "bad"}"#));
    let yaml = experiment(&format!(
        r#"  - type: probe
    name: login
    provider:
      type: http
      url: "{}"
      method: POST
      body:
        email: "test@example.com"
        password: "wrong"
        remember: true
        attempts: 3
      expect:
        - status: 401
"#,
        server.url("/api/auth/login")
    ));
    let ran = run(&yaml).await;
    assert_eq!(status(step(&ran, 0)), "succeeded", "{}", step(&ran, 0));
    let seen = only_request(&server, "/api/auth/login");
    assert_eq!(seen.method, "POST");
    assert_eq!(
        header_values(&seen, "content-type"),
        ["application/json"],
        "{seen:?}"
    );
    let sent: Value = serde_json::from_str(&seen.body).expect("the body is JSON");
    assert_eq!(
        sent,
        json!({"email": "test@example.com", "password": "wrong", "remember": true, "attempts": 3})
    );
}

/// Dialect `body:` as a mapping with the guide's own `Content-Type: application/json` header:
/// JSON body, and the header is not sent twice.
#[tokio::test(flavor = "multi_thread")]
async fn body_mapping_with_the_guides_json_header() {
    let server = Server::start();
    server.route("/api/auth/login", Reply::json(200, "{}"));
    let yaml = experiment(&format!(
        r#"  - type: probe
    name: login
    provider:
      type: http
      url: "{}"
      method: POST
      headers:
        Content-Type: "application/json"
      body:
        email: "test@example.com"
        password: "test"
"#,
        server.url("/api/auth/login")
    ));
    let ran = run(&yaml).await;
    assert_eq!(status(step(&ran, 0)), "succeeded", "{}", step(&ran, 0));
    let seen = only_request(&server, "/api/auth/login");
    assert_eq!(
        header_values(&seen, "content-type"),
        ["application/json"],
        "{seen:?}"
    );
    let sent: Value = serde_json::from_str(&seen.body).expect("the body is JSON");
    assert_eq!(
        sent,
        json!({"email": "test@example.com", "password": "test"})
    );
}

/// Dialect `body:` as a mapping with a header naming JSON with a charset: the request still
/// carries one Content-Type only (the user's), not a second one added for the mapping.
#[tokio::test(flavor = "multi_thread")]
async fn body_mapping_keeps_a_users_json_content_type_with_charset() {
    let server = Server::start();
    server.route("/toxics", Reply::json(200, "{}"));
    let yaml = experiment(&format!(
        r#"  - type: action
    name: add-toxic
    provider:
      type: http
      url: "{}"
      method: POST
      headers:
        Content-Type: "application/json; charset=utf-8"
      body:
        name: latency_toxic
        type: latency
        attributes: {{latency: 500, jitter: 50}}
"#,
        server.url("/toxics")
    ));
    let ran = run(&yaml).await;
    assert_eq!(status(step(&ran, 0)), "succeeded", "{}", step(&ran, 0));
    let seen = only_request(&server, "/toxics");
    assert_eq!(
        header_values(&seen, "content-type"),
        ["application/json; charset=utf-8"],
        "{seen:?}"
    );
    let sent: Value = serde_json::from_str(&seen.body).expect("the body is JSON");
    assert_eq!(sent["attributes"]["latency"], 500);
}

/// Dialect `body:` as a string: sent as it is written, not JSON-encoded.
#[tokio::test(flavor = "multi_thread")]
async fn body_string_is_sent_raw() {
    let server = Server::start();
    server.route("/raw", Reply::text(200, ""));
    let yaml = experiment(&format!(
        r#"  - type: action
    name: raw
    provider:
      type: http
      url: "{}"
      method: PUT
      body: "name=latency_toxic; raw \"text\""
"#,
        server.url("/raw")
    ));
    let ran = run(&yaml).await;
    assert_eq!(status(step(&ran, 0)), "succeeded", "{}", step(&ran, 0));
    let seen = only_request(&server, "/raw");
    assert_eq!(seen.method, "PUT");
    assert_eq!(seen.body, "name=latency_toxic; raw \"text\"");
    assert!(
        !header_values(&seen, "content-type")
            .iter()
            .any(|v| v.contains("json")),
        "{seen:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// a method step whose tolerance holds an activity (design.md)

/// Dialect: a method step without provider whose `tolerance` holds a whole activity runs that
/// activity, and the step's status and output are the nested one's; an unmet nested `expect`
/// fails the step.
#[tokio::test(flavor = "multi_thread")]
async fn step_with_an_activity_as_tolerance_runs_it() {
    let server = Server::start();
    server.route("/health", Reply::text(503, "degraded"));
    let nested = |name: &str, statuses: &str| {
        format!(
            r#"  - type: probe
    name: {name}
    tolerance:
      type: probe
      provider:
        type: http
        url: "{}"
        timeout: 3
        expect:
          - status: {statuses}
"#,
            server.url("/health")
        )
    };
    let yaml = experiment(&format!(
        "{}{}  - type: probe\n    name: nested-process\n    tolerance:\n      type: probe\n      \
         provider:\n        type: process\n        path: sh\n        arguments: [\"-c\", \
         \"echo nested; exit 4\"]\n",
        nested("verify-graceful-degradation", "[503, 500]"),
        nested("verify-healthy", "200"),
    ));
    let ran = run(&yaml).await;
    assert_eq!(server.hits("/health"), 2, "each nested probe ran once");
    let degraded = step(&ran, 0);
    assert_eq!(status(degraded), "succeeded", "{degraded}");
    assert_eq!(degraded["output"]["status"], 503);
    assert_eq!(degraded["output"]["body"], "degraded");
    assert_eq!(degraded["activity"]["name"], "verify-graceful-degradation");
    let healthy = step(&ran, 1);
    assert_eq!(status(healthy), "failed", "{healthy}");
    assert!(
        failure(healthy).contains("status 503 not in [200]"),
        "{}",
        failure(healthy)
    );
    assert_eq!(healthy["output"]["status"], 503);
    let process = step(&ran, 2);
    assert_eq!(status(process), "succeeded", "{process}");
    assert_eq!(
        process["output"],
        json!({"status": 4, "stdout": "nested\n", "stderr": ""})
    );
}

// ---------------------------------------------------------------------------------------------
// well-known Python callables run natively (design.md)

/// Native `chaoslib.types.run_activity` with an `activity` argument, through the binary with
/// no usable Python interpreter: the nested process runs (marker file), its result is the
/// step's output; a nested activity with an unmet `expect` fails the wrapper.
#[test]
fn run_activity_wrapper_runs_the_nested_activity_natively() {
    let dir = tempdir();
    let marker = dir.join("postgres-stopped");
    let yaml = experiment(&format!(
        r#"  - name: stop-postgres-container
    type: action
    provider:
      type: python
      module: chaoslib.types
      func: run_activity
      arguments:
        activity:
          type: action
          provider:
            type: process
            path: sh
            arguments: ["-c", "touch '{}' && echo stopped"]
  - name: wrapped-unmet
    type: action
    provider:
      type: python
      module: chaoslib.types
      func: run_activity
      arguments:
        activity:
          type: action
          provider:
            type: process
            path: sh
            arguments: ["-c", "exit 1"]
            expect:
              - status: 0
"#,
        marker.display()
    ));
    let (out, journal) = run_binary(
        &dir,
        &yaml,
        &[("CHAOSDECK_PYTHON", "/nonexistent/chaosdeck-no-python")],
    );
    assert!(marker.exists(), "the nested process ran");
    let run = &journal["run"];
    assert_eq!(status(&run[0]), "succeeded", "{}", run[0]);
    assert_eq!(
        run[0]["output"],
        json!({"status": 0, "stdout": "stopped\n", "stderr": ""})
    );
    assert_eq!(status(&run[1]), "failed", "{}", run[1]);
    let why = failure(&run[1]);
    assert!(why.contains("status 1 not in [0]"), "{why}");
    assert!(!why.contains("Python"), "no interpreter involved: {why}");
    assert_eq!(out.status.code(), Some(1), "the verdict fails the run");
}

/// Native `subprocess.run` with an `args` list: the result is shaped like a process provider's
/// ({status, stdout, stderr}); a non-zero exit is not a failure.
#[tokio::test(flavor = "multi_thread")]
async fn subprocess_run_gives_a_process_shaped_result() {
    let yaml = experiment(
        r#"  - name: verify-error-logged
    type: probe
    provider:
      type: python
      module: subprocess
      func: run
      arguments:
        args: ["sh", "-c", "echo logs; echo warn >&2; exit 3"]
"#,
    );
    let ran = run(&yaml).await;
    let entry = step(&ran, 0);
    assert_eq!(status(entry), "succeeded", "{entry}");
    assert_eq!(
        entry["output"],
        json!({"status": 3, "stdout": "logs\n", "stderr": "warn\n"})
    );
}

/// Native `subprocess.check_call`: a non-zero exit fails the activity with Python's
/// "returned non-zero exit status N"; a zero exit succeeds.
#[tokio::test(flavor = "multi_thread")]
async fn subprocess_check_call_fails_on_non_zero_exit() {
    let yaml = experiment(
        r#"  - name: checked-ok
    type: action
    provider:
      type: python
      module: subprocess
      func: check_call
      arguments:
        args: ["true"]
  - name: checked-fails
    type: action
    provider:
      type: python
      module: subprocess
      func: check_call
      arguments:
        args: ["sh", "-c", "exit 5"]
"#,
    );
    let ran = run(&yaml).await;
    assert_eq!(status(step(&ran, 0)), "succeeded", "{}", step(&ran, 0));
    let failed = step(&ran, 1);
    assert_eq!(status(failed), "failed", "{failed}");
    let why = failure(failed);
    assert!(why.contains("returned non-zero exit status 5"), "{why}");
}

/// Native `time.sleep` with the keyword `seconds: 1` (the guide's form) and Python's own
/// parameter name `secs`: each sleeps about a second.
#[tokio::test(flavor = "multi_thread")]
async fn time_sleep_keyword_sleeps_that_long() {
    let yaml = experiment(
        r#"  - name: wait-seconds
    type: action
    provider:
      type: python
      module: time
      func: sleep
      arguments:
        seconds: 1
  - name: wait-secs
    type: action
    provider:
      type: python
      module: time
      func: sleep
      arguments:
        secs: 1
"#,
    );
    let started = Instant::now();
    let ran = run(&yaml).await;
    let took = started.elapsed();
    for i in 0..2 {
        let entry = step(&ran, i);
        assert_eq!(status(entry), "succeeded", "{entry}");
        assert!(duration(entry) >= 1.0, "slept {}: {entry}", duration(entry));
        assert!(duration(entry) < 20.0, "slept {}: {entry}", duration(entry));
    }
    assert!(took >= Duration::from_secs(2), "{took:?}");
}

/// Native `time.sleep` given positionally (`arguments: [1]`, design.md: "seconds, positional
/// or keyword"): validates and sleeps about a second.
#[tokio::test(flavor = "multi_thread")]
async fn time_sleep_positional_sleeps_that_long() {
    let yaml = experiment(
        r#"  - name: wait-positional
    type: action
    provider:
      type: python
      module: time
      func: sleep
      arguments: [1]
"#,
    );
    let ran = run(&yaml).await;
    let entry = step(&ran, 0);
    assert_eq!(status(entry), "succeeded", "{entry}");
    assert!(duration(entry) >= 1.0, "slept {}: {entry}", duration(entry));
}

// ---------------------------------------------------------------------------------------------
// http provider (ctk-reference.md §2)

/// §2 http: GET `arguments` become query-string parameters (numbers stringified, a list
/// repeats the key), and the header mapping is sent (values stringified).
#[tokio::test(flavor = "multi_thread")]
async fn http_get_arguments_become_the_query_and_headers_are_sent() {
    let server = Server::start();
    server.route("/search", Reply::text(200, ""));
    let yaml = experiment(&format!(
        r#"  - type: probe
    name: search
    provider:
      type: http
      url: "{}"
      headers:
        X-Chaos-Run: gameday
        X-Attempt: 3
      arguments:
        q: "slow api"
        limit: 10
        tag: [db, cache]
"#,
        server.url("/search")
    ));
    let ran = run(&yaml).await;
    assert_eq!(status(step(&ran, 0)), "succeeded", "{}", step(&ran, 0));
    let seen = only_request(&server, "/search");
    assert_eq!(seen.method, "GET");
    assert_eq!(seen.body, "", "no body on GET");
    let query = seen.target.split_once('?').map(|(_, q)| q).unwrap_or("");
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let expected: Vec<(String, String)> = [
        ("q", "slow api"),
        ("limit", "10"),
        ("tag", "db"),
        ("tag", "cache"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(pairs, expected, "{}", seen.target);
    assert_eq!(header_values(&seen, "x-chaos-run"), ["gameday"]);
    assert_eq!(header_values(&seen, "x-attempt"), ["3"]);
}

/// §2 http: POST with request header `Content-Type: application/json` sends `arguments` as a
/// JSON body; without it they are form-encoded.
#[tokio::test(flavor = "multi_thread")]
async fn http_post_arguments_json_or_form() {
    let server = Server::start();
    server
        .route("/json", Reply::text(200, ""))
        .route("/form", Reply::text(200, ""));
    let yaml = experiment(&format!(
        r#"  - type: action
    name: as-json
    provider:
      type: http
      url: "{}"
      method: post
      headers:
        Content-Type: application/json
      arguments:
        name: latency_toxic
        attributes: {{latency: 500}}
        enabled: true
  - type: action
    name: as-form
    provider:
      type: http
      url: "{}"
      method: POST
      arguments:
        email: "a b@example.com"
        count: 2
"#,
        server.url("/json"),
        server.url("/form")
    ));
    let ran = run(&yaml).await;
    assert_eq!(status(step(&ran, 0)), "succeeded", "{}", step(&ran, 0));
    assert_eq!(status(step(&ran, 1)), "succeeded", "{}", step(&ran, 1));

    let json_request = only_request(&server, "/json");
    assert_eq!(json_request.method, "POST", "method upper-cased");
    let sent: Value = serde_json::from_str(&json_request.body).expect("JSON body");
    assert_eq!(
        sent,
        json!({"name": "latency_toxic", "attributes": {"latency": 500}, "enabled": true})
    );

    let form = only_request(&server, "/form");
    assert!(
        header_values(&form, "content-type")
            .iter()
            .any(|v| v.starts_with("application/x-www-form-urlencoded")),
        "{form:?}"
    );
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(form.body.as_bytes())
        .into_owned()
        .collect();
    assert_eq!(
        pairs,
        vec![
            ("email".to_string(), "a b@example.com".to_string()),
            ("count".to_string(), "2".to_string())
        ],
        "{}",
        form.body
    );
}

/// §2 http: POST `arguments` without the exact JSON header are form-encoded; a Content-Type the
/// user gave is kept and not sent twice (python-requests only adds its own when none is set).
#[tokio::test(flavor = "multi_thread")]
async fn http_form_arguments_keep_a_users_content_type() {
    let server = Server::start();
    server.route("/form", Reply::text(200, ""));
    let yaml = experiment(&format!(
        r#"  - type: action
    name: as-form
    provider:
      type: http
      url: "{}"
      method: POST
      headers:
        Content-Type: "application/x-www-form-urlencoded; charset=utf-8"
      arguments:
        count: 2
"#,
        server.url("/form")
    ));
    let ran = run(&yaml).await;
    assert_eq!(status(step(&ran, 0)), "succeeded", "{}", step(&ran, 0));
    let form = only_request(&server, "/form");
    assert_eq!(
        header_values(&form, "content-type"),
        ["application/x-www-form-urlencoded; charset=utf-8"],
        "{form:?}"
    );
    assert_eq!(form.body, "count=2");
}

/// §2 http: `timeout: [connect, read]` against a server that answers later than the read
/// timeout → failed "activity took too long to complete", well before the server answers.
#[tokio::test(flavor = "multi_thread")]
async fn http_read_timeout_fails_the_activity() {
    let server = Server::start();
    server.route(
        "/slow",
        Reply::text(200, "late").delayed(Duration::from_secs(6)),
    );
    let yaml = experiment(&format!(
        r#"  - type: probe
    name: slow
    provider:
      type: http
      url: "{}"
      timeout: [3, 0.5]
"#,
        server.url("/slow")
    ));
    let ran = run(&yaml).await;
    let entry = step(&ran, 0);
    assert_eq!(status(entry), "failed", "{entry}");
    let why = failure(entry);
    assert!(why.contains("activity took too long to complete"), "{why}");
    assert_eq!(entry["output"], Value::Null);
    assert!(duration(entry) >= 0.4, "{entry}");
    assert!(
        duration(entry) < 5.0,
        "gave up after the read timeout: {entry}"
    );
}

/// §2 http: the response body is parsed as JSON only when Content-Type is exactly
/// `application/json`; `application/json; charset=utf-8` stays text.
#[tokio::test(flavor = "multi_thread")]
async fn http_body_is_json_only_for_exact_content_type() {
    let server = Server::start();
    server
        .route("/exact", Reply::json(200, r#"{"ok": true}"#))
        .route(
            "/charset",
            Reply::json(200, r#"{"ok": true}"#)
                .with_content_type("application/json; charset=utf-8"),
        );
    let probe = |name: &str, path: &str| {
        format!(
            "  - type: probe\n    name: {name}\n    provider:\n      type: http\n      url: \"{}\"\n",
            server.url(path)
        )
    };
    let yaml = experiment(&format!(
        "{}{}",
        probe("exact", "/exact"),
        probe("charset", "/charset")
    ));
    let ran = run(&yaml).await;
    assert_eq!(step(&ran, 0)["output"]["body"], json!({"ok": true}));
    assert_eq!(step(&ran, 1)["output"]["body"], json!(r#"{"ok": true}"#));
    assert_eq!(
        step(&ran, 1)["output"]["headers"]["Content-Type"],
        "application/json; charset=utf-8"
    );
}

/// A port on loopback that nothing listens on (bound, then released).
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// §2 http: `max_retries` retries connection errors; with nothing listening the activity still
/// fails "failed to connect", promptly (refused connections are not waited for).
#[tokio::test(flavor = "multi_thread")]
async fn http_max_retries_still_fails_on_a_closed_port() {
    let url = format!("http://127.0.0.1:{}/health", closed_port());
    let yaml = experiment(&format!(
        r#"  - type: probe
    name: retried
    provider:
      type: http
      url: "{url}"
      timeout: 2
      max_retries: 3
  - type: probe
    name: not-retried
    provider:
      type: http
      url: "{url}"
      timeout: 2
"#
    ));
    let started = Instant::now();
    let ran = run(&yaml).await;
    for i in 0..2 {
        let entry = step(&ran, i);
        assert_eq!(status(entry), "failed", "{entry}");
        let why = failure(entry);
        assert!(why.contains("failed to connect to"), "{why}");
        assert!(why.contains(&url), "{why}");
        assert!(duration(entry) < 8.0, "{entry}");
    }
    assert!(started.elapsed() < Duration::from_secs(20));
}

/// §2 http: `verify_tls: false` (and the YAML 1.1 word `no`) is accepted by validation and the
/// request is made.
#[tokio::test(flavor = "multi_thread")]
async fn http_verify_tls_false_is_accepted() {
    let server = Server::start();
    server.route("/health", Reply::text(200, "ok"));
    let yaml = experiment(&format!(
        r#"  - type: probe
    name: unverified
    provider:
      type: http
      url: "{0}"
      verify_tls: false
  - type: probe
    name: unverified-word
    provider:
      type: http
      url: "{0}"
      verify_tls: no
"#,
        server.url("/health")
    ));
    let ran = run(&yaml).await;
    assert_eq!(status(step(&ran, 0)), "succeeded", "{}", step(&ran, 0));
    assert_eq!(status(step(&ran, 1)), "succeeded", "{}", step(&ran, 1));
    assert_eq!(server.hits("/health"), 2);
}

// ---------------------------------------------------------------------------------------------
// process provider (ctk-reference.md §2)

/// §2 process: list arguments are stringified as Python does (3 → "3", 2.5 → "2.5",
/// true → "True"); `null` and `""` items are dropped; no shell is involved.
#[tokio::test(flavor = "multi_thread")]
async fn process_list_arguments_are_stringified_and_filtered() {
    let yaml = experiment(
        r#"  - type: action
    name: args
    provider:
      type: process
      path: sh
      arguments: ["-c", 'printf "[%s]" "$@"', "sh", 3, null, "", 2.5, true, "$HOME;x"]
"#,
    );
    let ran = run(&yaml).await;
    let entry = step(&ran, 0);
    assert_eq!(status(entry), "succeeded", "{entry}");
    assert_eq!(entry["output"]["stdout"], "[3][2.5][True][$HOME;x]");
}

/// §2 process: string arguments run through `/bin/sh -c "<path> <string>"` (the shell splits
/// words and expands).
#[tokio::test(flavor = "multi_thread")]
async fn process_string_arguments_go_through_the_shell() {
    let yaml = experiment(
        r#"  - type: action
    name: shell
    provider:
      type: process
      path: echo
      arguments: "one   two; echo $((40 + 2)) | tr 4 X"
"#,
    );
    let ran = run(&yaml).await;
    let entry = step(&ran, 0);
    assert_eq!(status(entry), "succeeded", "{entry}");
    assert_eq!(entry["output"]["stdout"], "one two\nX2\n");
}

/// §2 process: a leading `~` in `path` is expanded against HOME, at validation and at run time
/// (through the binary with a temporary HOME).
#[test]
fn process_path_tilde_is_expanded() {
    let dir = tempdir();
    let home = dir.join("home");
    std::fs::create_dir_all(home.join("bin")).unwrap();
    make_executable(
        &home.join("bin/chaosdeck-hello"),
        "#!/bin/sh\necho \"hello from home $1\"\n",
    );
    let yaml = experiment(
        r#"  - type: action
    name: from-home
    provider:
      type: process
      path: "~/bin/chaosdeck-hello"
      arguments: ["gameday"]
"#,
    );
    let (out, journal) = run_binary(&dir, &yaml, &[("HOME", home.to_str().unwrap())]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        status(&journal["run"][0]),
        "succeeded",
        "{}",
        journal["run"][0]
    );
    assert_eq!(
        journal["run"][0]["output"]["stdout"],
        "hello from home gameday\n"
    );
}

/// §2 process: `timeout` fails the activity ("process activity took too long to complete") and
/// kills the whole process group: the `sleep 30` child the shell started is gone too.
#[tokio::test(flavor = "multi_thread")]
async fn process_timeout_kills_the_process_group() {
    let dir = tempdir();
    let pids = dir.join("pids");
    let yaml = experiment(&format!(
        r#"  - type: action
    name: hangs
    provider:
      type: process
      path: sh
      arguments: ["-c", "sleep 30 & echo $! > '{}'; wait"]
      timeout: 1
"#,
        pids.display()
    ));
    let ran = run(&yaml).await;
    let entry = step(&ran, 0);
    let text = std::fs::read_to_string(&pids).expect("the shell wrote its pids");
    let pids: Vec<i32> = text
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect();
    assert_eq!(pids.len(), 1, "{text}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while pids.iter().any(|p| alive(*p)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let survivors: Vec<i32> = pids.iter().copied().filter(|p| alive(*p)).collect();
    for pid in &survivors {
        // Clean up what this test started before failing.
        let _ = std::process::Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status();
    }
    assert_eq!(status(entry), "failed", "{entry}");
    let why = failure(entry);
    assert!(
        why.contains("process activity took too long to complete"),
        "{why}"
    );
    assert!(duration(entry) < 10.0, "{entry}");
    assert!(
        survivors.is_empty(),
        "still alive after the timeout: {survivors:?}"
    );
}

/// §2 process: output larger than 1 MiB is capped with a truncation mark, and the run goes on.
#[tokio::test(flavor = "multi_thread")]
async fn process_output_over_one_mib_is_capped() {
    let yaml = experiment(
        r#"  - type: action
    name: floods
    provider:
      type: process
      path: sh
      arguments: ["-c", "head -c 3000000 /dev/zero | tr '\\0' a; echo done >&2"]
  - type: action
    name: next
    provider:
      type: process
      path: echo
      arguments: ["still running"]
"#,
    );
    let ran = run(&yaml).await;
    let flood = step(&ran, 0);
    assert_eq!(status(flood), "succeeded", "{}", flood["status"]);
    let stdout = flood["output"]["stdout"].as_str().expect("stdout kept");
    let mib = 1024 * 1024;
    assert!(
        stdout.starts_with(&"a".repeat(mib)),
        "the first MiB is kept"
    );
    assert!(stdout.len() < mib + 200, "capped: {} bytes", stdout.len());
    let mark = &stdout[mib..];
    assert!(
        mark.contains(&(3_000_000 - mib).to_string()) && mark.contains("not kept"),
        "{mark}"
    );
    assert_eq!(flood["output"]["stderr"], "done\n");
    let next = step(&ran, 1);
    assert_eq!(status(next), "succeeded", "{next}");
    assert_eq!(next["output"]["stdout"], "still running\n");
}

// ---------------------------------------------------------------------------------------------
// python provider through the bridge (ctk-reference.md §2)

const PY_MODULE: &str = r#"
def describe(name, configuration):
    return {"who": name, "api": configuration.get("api_url"), "n": 2}

def plain(value):
    return [value, value * 2]

def explode(reason):
    raise ValueError("cannot reach " + reason)

def whisper(secrets):
    return {"keys": sorted(secrets.keys()), "token_length": len(secrets.get("token", ""))}
"#;

/// §2 python via the bridge: a function declaring `configuration` receives it, its return value
/// is the output; an exception fails the activity with "ExcType: message".
#[test]
fn python_bridge_runs_a_users_module() {
    if !python3_available() {
        eprintln!("skipped: python3 is not installed");
        return;
    }
    let dir = tempdir();
    std::fs::write(dir.join("chaosdeck_dialect_ext.py"), PY_MODULE).unwrap();
    let yaml = format!(
        r#"title: python bridge
description: d
configuration:
  api_url: "http://127.0.0.1:1"
secrets:
  api:
    token: "abcdefgh"
  other:
    unused: "zzzzzz"
method:
{}"#,
        r#"  - type: probe
    name: describe
    provider:
      type: python
      module: chaosdeck_dialect_ext
      func: describe
      arguments:
        name: "gameday"
  - type: probe
    name: plain
    provider:
      type: python
      module: chaosdeck_dialect_ext
      func: plain
      arguments:
        value: 21
  - type: action
    name: explode
    provider:
      type: python
      module: chaosdeck_dialect_ext
      func: explode
      arguments:
        reason: "the database"
  - type: probe
    name: whisper
    provider:
      type: python
      module: chaosdeck_dialect_ext
      func: whisper
      secrets: [api]
"#
    );
    let (out, journal) = run_binary(&dir, &yaml, &[("PYTHONPATH", dir.to_str().unwrap())]);
    let run = &journal["run"];
    assert_eq!(
        status(&run[0]),
        "succeeded",
        "{}\n{}",
        run[0],
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        run[0]["output"],
        json!({"who": "gameday", "api": "http://127.0.0.1:1", "n": 2})
    );
    assert_eq!(status(&run[1]), "succeeded", "{}", run[1]);
    assert_eq!(run[1]["output"], json!([21, 42]));
    assert_eq!(status(&run[2]), "failed", "{}", run[2]);
    let why = failure(&run[2]);
    assert!(
        why.contains("ValueError: cannot reach the database"),
        "{why}"
    );
    // A function taking `secrets` gets the scopes its provider lists, and only those.
    assert_eq!(
        run[3]["output"],
        json!({"keys": ["token"], "token_length": 8})
    );
    assert_eq!(out.status.code(), Some(1), "the verdict fails the run");
}

// ---------------------------------------------------------------------------------------------
// the guide's experiments (guide-context.md)

/// The guide's four experiments (shared/guide-experiments) pass `chaosdeck validate` as written.
/// A stub `docker` on PATH stands in for the real one, so the check does not depend on Docker.
#[test]
fn the_guides_experiments_validate() {
    let folder = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/guide-experiments"
    ));
    if !folder.is_dir() {
        eprintln!("skipped: {} is absent", folder.display());
        return;
    }
    let mut files: Vec<String> = std::fs::read_dir(folder)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .map(|p| p.display().to_string())
        .collect();
    files.sort();
    assert_eq!(files.len(), 4, "{files:?}");
    let dir = tempdir();
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    make_executable(&bin.join("docker"), "#!/bin/sh\nexit 0\n");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut args = vec!["validate"];
    args.extend(files.iter().map(String::as_str));
    let out = chaosdeck(&dir, &args, &[("PATH", &path)]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    for file in &files {
        assert!(
            stdout.contains(&format!("{file}: valid")),
            "{file}\n{stdout}\n{stderr}"
        );
    }
    assert!(out.status.success(), "{stdout}\n{stderr}");
}
