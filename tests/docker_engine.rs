//! The Docker engine is reached with a negotiated API version (issue #4): Debian 12's engine
//! speaks API 1.41 and refuses clients that ask for newer ones; an unreachable engine is named.

#[tokio::test(flavor = "multi_thread")]
async fn connects_with_a_negotiated_version_and_names_an_unreachable_one() {
    let docker = chaosdeck::docker::connect()
        .await
        .expect("the Docker engine answers (.ci/run makes sure it runs)");
    let version = docker.version().await.expect("version");
    assert!(!version.api_version.unwrap_or_default().is_empty());
    assert!(docker.list_containers(None).await.is_ok());

    // The only test in this binary, so changing the environment races with nothing.
    std::env::set_var("DOCKER_HOST", "unix:///nonexistent/chaosdeck.sock");
    let result = chaosdeck::docker::connect().await;
    std::env::remove_var("DOCKER_HOST");
    let text = result.expect_err("no engine there").to_string();
    assert!(text.contains("/nonexistent/chaosdeck.sock"), "{text}");
}
