//! With no engine at `DOCKER_HOST`, docker activities are refused before the run with one error
//! naming the address tried, and a docker activity run anyway fails naming it too (issue #4).
//! A binary of its own: it changes the environment.

mod common;

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_engine_is_named_before_and_during_a_run() {
    let socket = "unix:///nonexistent/chaosdeck-test.sock";
    // The only test in this binary, so changing the environment races with nothing.
    std::env::set_var("DOCKER_HOST", socket);
    let yaml = "title: t\ndescription: d\nmethod:\n\
        - type: action\n  name: a\n  provider: {type: docker, func: stop, container: db}\n\
        - type: action\n  name: b\n  provider: {type: docker, func: kill, service: cache}\n";
    let path = common::write_temp("experiment.yaml", yaml);
    let findings =
        match chaosdeck::headless::prepare(path.to_str().unwrap(), &Default::default()).await {
            Ok(_) => panic!("nothing runs without the engine"),
            Err(findings) => findings,
        };
    let errors: Vec<String> = findings.errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        errors.len(),
        1,
        "one error, not one per activity: {errors:#?}"
    );
    assert!(errors[0].contains(socket), "{errors:#?}");

    let activity = serde_json::json!({"type": "action", "name": "a",
        "provider": {"type": "docker", "func": "stop", "container": "db"}});
    let ctx = chaosdeck::providers::Ctx::new(Default::default(), Default::default());
    let outcome = chaosdeck::providers::execute(&activity, &ctx, true).await;
    let why = outcome.error.expect("fails").to_string();
    assert!(why.contains(socket) && why.contains("stop"), "{why}");
    std::env::remove_var("DOCKER_HOST");
}
