//! Tests of the loader: formats, syntax errors with positions, YAML 1.1 warnings, merge keys,
//! unsafe tags, files and URLs.

use super::*;
use crate::experiment::Location;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn yaml(text: &str) -> Result<Loaded, LoadError> {
    parse_text("exp.yaml", text, Format::Yaml)
}

fn err_text(result: Result<Loaded, LoadError>) -> String {
    match result {
        Ok(loaded) => panic!("expected an error, loaded {:?}", loaded.doc),
        Err(e) => e.to_string(),
    }
}

fn warning_lines(loaded: &Loaded) -> Vec<String> {
    loaded.warnings.iter().map(|w| w.to_string()).collect()
}

#[test]
fn json_keeps_key_order() {
    let loaded = parse_text("e.json", r#"{"z": 1, "a": {"y": 2, "b": 3}}"#, Format::Json)
        .expect("valid JSON");
    let keys: Vec<&String> = loaded.doc.as_object().expect("object").keys().collect();
    assert_eq!(keys, vec!["z", "a"]);
    assert_eq!(
        serde_json::to_string(&loaded.doc).ok(),
        Some(r#"{"z":1,"a":{"y":2,"b":3}}"#.into())
    );
    assert_eq!(loaded.source, "e.json");
    assert!(loaded.warnings.is_empty());
}

#[test]
fn yaml_keeps_key_order() {
    let loaded = yaml("title: t\ndescription: d\nmethod: []\nb: 1\na: 2\n").expect("valid");
    let keys: Vec<&String> = loaded.doc.as_object().expect("object").keys().collect();
    assert_eq!(keys, vec!["title", "description", "method", "b", "a"]);
}

#[test]
fn json_syntax_error_names_line_and_column() {
    let err = parse_text(
        "e.json",
        "{\n  \"title\": \"x\",\n  \"method\": [,]\n}",
        Format::Json,
    )
    .unwrap_err();
    assert!(
        matches!(
            err.0.location,
            Location::Text {
                line: 3,
                column: 14
            }
        ),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.starts_with("e.json:3:14: invalid JSON: expected value"),
        "{text}"
    );
    assert!(!text.contains("at line"), "{text}");
}

#[test]
fn yaml_syntax_error_names_line_and_column() {
    let err = yaml("title: x\nmethod: [1, 2\nrollbacks: []\n").unwrap_err();
    let Location::Text { line, column } = err.0.location else {
        panic!("no position in {err}");
    };
    assert_eq!((line, column), (3, 10), "{err}");
    assert!(
        err.to_string().starts_with("exp.yaml:3:10: invalid YAML: "),
        "{err}"
    );
    let err = yaml("title: x\n  bad: indentation\n").unwrap_err();
    assert!(
        err.to_string().starts_with("exp.yaml:2:6: invalid YAML"),
        "{err}"
    );
}

#[test]
fn duplicate_keys_and_several_documents_are_refused() {
    let err = err_text(yaml("title: a\ntitle: b\n"));
    assert!(err.contains("duplicate entry with key \"title\""), "{err}");
    assert!(err.starts_with("exp.yaml:1:1:"), "{err}");
    let err = err_text(yaml("title: a\n---\ntitle: b\n"));
    assert!(err.contains("more than one document"), "{err}");
}

#[test]
fn empty_documents_are_not_experiments() {
    for (text, format) in [
        ("", Format::Yaml),
        ("   \n\n", Format::Json),
        ("# only a comment\n", Format::Yaml),
        ("null", Format::Json),
        ("{}", Format::Json),
        ("---\n", Format::Yaml),
        ("~", Format::Guess),
    ] {
        let err = err_text(parse_text("e", text, format));
        assert_eq!(err, format!("e: {EMPTY}"), "{text:?}");
    }
}

#[test]
fn top_level_must_be_a_mapping() {
    let err = err_text(yaml("- title: x\n"));
    assert!(
        err.contains("mapping of keys") && err.ends_with("is a list"),
        "{err}"
    );
    let err = err_text(parse_text("e.json", "\"text\"", Format::Json));
    assert!(err.ends_with("is a string"), "{err}");
}

#[test]
fn anchors_and_merge_keys_work() {
    let text = "\
defaults: &http
  type: http
  timeout: 3
method:
  - name: a
    provider:
      <<: *http
      url: http://x
  - name: b
    provider:
      <<: *http
      timeout: 9
      url: http://y
  - *http
";
    let loaded = yaml(text).expect("valid");
    let method = &loaded.doc["method"];
    assert_eq!(
        method[0]["provider"],
        json!({"type": "http", "timeout": 3, "url": "http://x"})
    );
    assert_eq!(method[1]["provider"]["timeout"], json!(9));
    assert_eq!(method[1]["provider"]["type"], json!("http"));
    assert_eq!(method[2], json!({"type": "http", "timeout": 3}));
    assert!(method[0]["provider"].get("<<").is_none());
}

#[test]
fn merge_keys_keep_the_written_order() {
    let text = "\
a: &a {x: 1, y: 2}
b: &b {y: 3, z: 4}
c: &c
  first: 0
  <<: [*a, *b]
  x: 9
  last: 5
d:
  <<: *c
  w: 1
";
    let loaded = yaml(text).expect("valid");
    let c = serde_json::to_string(&loaded.doc["c"]).unwrap_or_default();
    // Merged keys stand where `<<` is; written keys win; the first merged mapping wins.
    assert_eq!(c, r#"{"first":0,"y":2,"z":4,"x":9,"last":5}"#);
    let d = serde_json::to_string(&loaded.doc["d"]).unwrap_or_default();
    assert_eq!(d, r#"{"first":0,"y":2,"z":4,"x":9,"last":5,"w":1}"#);
    let err = err_text(yaml("a:\n  <<: 3\n"));
    assert!(
        err.starts_with("exp.yaml: a[\"<<\"]: a merge key (<<) must hold a mapping"),
        "{err}"
    );
    let err = err_text(yaml("a:\n  <<: [{x: 1}, 2]\n"));
    assert!(err.contains("merge key"), "{err}");
}

#[test]
fn unsafe_tags_are_refused_with_their_line() {
    let text = "title: x\nmethod:\n  - !!python/object/apply:os.system [\"rm -rf /\"]\n";
    let err = yaml(text).unwrap_err();
    assert_eq!(err.0.location, Location::Text { line: 3, column: 5 });
    assert!(err.to_string().contains("unsafe tags are refused"), "{err}");
    let err = err_text(yaml("title: !secret x\n"));
    assert!(err.starts_with("exp.yaml:1:8: the tag '!secret'"), "{err}");
    let loaded = yaml("title: !!str 0755\ndescription: d\n").expect("!!str is plain data");
    assert_eq!(loaded.doc["title"], json!("0755"));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

#[test]
fn non_string_keys_become_strings() {
    let loaded =
        yaml("codes:\n  200: ok\n  1.5: half\n  true: yes-key\n  null: nothing\n").expect("valid");
    assert_eq!(
        loaded.doc["codes"],
        json!({"200": "ok", "1.5": "half", "true": "yes-key", "null": "nothing"})
    );
    let err = err_text(yaml("method:\n  ? [a, b]\n  : 1\n"));
    assert!(
        err.starts_with("exp.yaml: method: a mapping key must be a single value"),
        "{err}"
    );
}

#[test]
fn not_a_number_is_refused_with_its_path() {
    let err = err_text(yaml("method:\n  - provider:\n      timeout: .nan\n"));
    assert!(
        err.starts_with("exp.yaml: method[0].provider.timeout: '.NaN' cannot be used")
            || err.starts_with("exp.yaml: method[0].provider.timeout: '.nan' cannot be used"),
        "{err}"
    );
}

#[test]
fn yaml_11_differences_are_warned_with_line_and_column() {
    let text = "\
title: x
method:
  - name: a
    background: on
    provider:
      type: process
      path: chmod
      arguments: [0755, 'on', \"yes\", off]
      timeout: 1:30
      note: |
        on yes 0755
  - name: \"b\"
    background: false
    count: 1_000
";
    let loaded = yaml(text).expect("valid");
    let lines = warning_lines(&loaded);
    assert_eq!(lines.len(), 5, "{lines:#?}");
    assert_eq!(
        lines[0],
        "exp.yaml:4:17: unquoted 'on' is the boolean true for Chaos Toolkit (YAML 1.1) but the \
         string \"on\" here; quote it to keep the text, or write true"
    );
    assert!(
        lines[1].starts_with("exp.yaml:8:19: unquoted '0755' is the integer 493"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].starts_with("exp.yaml:8:38: unquoted 'off' is the boolean false"),
        "{}",
        lines[2]
    );
    assert!(
        lines[3].starts_with("exp.yaml:9:16: unquoted '1:30' is the integer 90"),
        "{}",
        lines[3]
    );
    assert!(
        lines[4].starts_with("exp.yaml:14:12: unquoted '1_000' is the integer 1000"),
        "{}",
        lines[4]
    );
    // chaosdeck's reading is YAML 1.2: the words stay strings.
    assert_eq!(loaded.doc["method"][0]["background"], json!("on"));
    assert_eq!(
        loaded.doc["method"][0]["provider"]["arguments"][0],
        json!("0755")
    );
}

#[test]
fn yaml_11_keys_are_checked_too() {
    let loaded = yaml("title: x\non:\n  push: 1\n0o17: x\n").expect("valid");
    let lines = warning_lines(&loaded);
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert!(
        lines[0].starts_with("exp.yaml:2:1: unquoted 'on'"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].contains("is the string \"0o17\" for Chaos Toolkit (YAML 1.1) but the integer 15"),
        "{}",
        lines[1]
    );
}

#[test]
fn json_has_no_yaml_11_warnings() {
    let loaded = parse_text("e.json", r#"{"title": "on", "n": 493}"#, Format::Json).expect("valid");
    assert!(loaded.warnings.is_empty());
}

#[test]
fn guess_tries_json_then_yaml() {
    let loaded = parse_text("u", r#"{"title": "x"}"#, Format::Guess).expect("json");
    assert_eq!(loaded.doc, json!({"title": "x"}));
    let loaded = parse_text("u", "title: x\nflag: yes\n", Format::Guess).expect("yaml");
    assert_eq!(loaded.doc, json!({"title": "x", "flag": "yes"}));
    assert_eq!(loaded.warnings.len(), 1);
    let err = err_text(parse_text("u", "{\"title\": [}", Format::Guess));
    assert!(err.contains("invalid JSON"), "{err}");
    let err = err_text(parse_text("u", "title: [x\n", Format::Guess));
    assert!(err.contains("invalid YAML"), "{err}");
}

#[test]
fn byte_order_mark_is_ignored() {
    let loaded = parse_text("e.json", "\u{feff}{\"title\": \"x\"}", Format::Json).expect("bom");
    assert_eq!(loaded.doc["title"], json!("x"));
}

#[test]
fn odd_inputs_never_panic() {
    for text in [
        "\0",
        "[",
        "{",
        "- - -",
        "a: *nope",
        "a: &x [*x]",
        "? ? ?",
        "%YAML 9.9\n---\na: 1",
        "a: !<tag:yaml.org,2002:str> x",
        "<<: 3",
        "a:\n  <<: [1]",
        "\"\\u12\"",
        "a: 'b",
    ] {
        for format in [Format::Json, Format::Yaml, Format::Guess] {
            let _ = parse_text("odd", text, format);
        }
    }
}

struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("chaosdeck-load-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }

    fn write(&self, name: &str, text: &str) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, text).expect("write");
        path.to_string_lossy().into_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::test]
async fn files_are_read_by_extension() {
    let dir = TempDir::new("files");
    let opts = LoadOptions::default();
    let json_path = dir.write("e.json", r#"{"title": "j"}"#);
    assert_eq!(
        load(&json_path, opts).await.expect("json").doc["title"],
        json!("j")
    );
    let yaml_path = dir.write("e.yaml", "title: y\n");
    assert_eq!(
        load(&yaml_path, opts).await.expect("yaml").doc["title"],
        json!("y")
    );
    let yml_path = dir.write("e.yml", "title: z\n");
    let loaded = load(&yml_path, opts).await.expect("yml");
    assert_eq!(loaded.source, yml_path);

    let txt = dir.write("e.txt", "title: t\n");
    let err = load(&txt, opts).await.unwrap_err().to_string();
    assert_eq!(
        err,
        format!("{txt}: only files with json, yaml or yml extensions are supported: name the file *.json, *.yaml or *.yml")
    );
    // JSON read as JSON: a YAML text in a .json file is a JSON syntax error.
    let wrong = dir.write("wrong.json", "title: y\n");
    let err = load(&wrong, opts).await.unwrap_err().to_string();
    assert!(
        err.starts_with(&format!("{wrong}:1:2: invalid JSON")),
        "{err}"
    );
}

#[tokio::test]
async fn unreadable_files_are_explained() {
    let dir = TempDir::new("missing");
    let opts = LoadOptions::default();
    let missing = dir.0.join("nope.yaml").to_string_lossy().into_owned();
    let err = load(&missing, opts).await.unwrap_err().to_string();
    assert_eq!(
        err,
        format!("{missing}: cannot read the experiment: no such file")
    );
    let as_dir = dir.0.to_string_lossy().into_owned();
    let err = load(&as_dir, opts).await.unwrap_err().to_string();
    assert!(err.ends_with("it is a directory"), "{err}");
    let latin1 = dir.0.join("l.yaml");
    std::fs::write(&latin1, b"title: caf\xe9\n").expect("write");
    let err = load(&latin1.to_string_lossy(), opts)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.ends_with("not UTF-8 text"), "{err}");
    let err = load("ftp://example.invalid/e.json", opts)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("only local files and http(s) URLs"), "{err}");
}

/// Serves each accepted connection one fixed response per route, on loopback.
async fn serve(routes: Vec<(&'static str, &'static str, u16, &'static str)>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let routes = routes.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let n = stream.read(&mut buf).await.unwrap_or(0);
                let request = String::from_utf8_lossy(&buf[..n]).to_string();
                let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
                let (status, ctype, body) = routes
                    .iter()
                    .find(|r| r.0 == path)
                    .map(|r| (r.2, r.1, r.3))
                    .unwrap_or((404, "text/plain", "not here"));
                let response = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn urls_are_read_by_content_type() {
    let base = serve(vec![
        (
            "/e.json",
            "application/json; charset=utf-8",
            200,
            r#"{"title": "json"}"#,
        ),
        (
            "/e.yaml",
            "application/x-yaml",
            200,
            "title: yaml\nflag: on\n",
        ),
        (
            "/plain-json",
            "text/plain",
            200,
            r#"{"title": "plain json"}"#,
        ),
        ("/plain-yaml", "text/plain", 200, "title: plain yaml\n"),
        ("/odd", "application/octet-stream", 200, "title: odd\n"),
        ("/yaml-as-json", "application/json", 200, "title: x\n"),
    ])
    .await;
    let opts = LoadOptions { verify_tls: false };
    let loaded = load(&format!("{base}/e.json"), opts).await.expect("json");
    assert_eq!(loaded.doc["title"], json!("json"));
    assert_eq!(loaded.source, format!("{base}/e.json"));
    let loaded = load(&format!("{base}/e.yaml"), opts).await.expect("yaml");
    assert_eq!(loaded.doc["title"], json!("yaml"));
    assert_eq!(loaded.warnings.len(), 1);
    assert!(loaded.warnings[0]
        .to_string()
        .starts_with(&format!("{base}/e.yaml:2:7: unquoted 'on'")));
    for (route, title) in [
        ("/plain-json", "plain json"),
        ("/plain-yaml", "plain yaml"),
        ("/odd", "odd"),
    ] {
        let loaded = load(&format!("{base}{route}"), LoadOptions::default())
            .await
            .expect(route);
        assert_eq!(loaded.doc["title"], json!(title));
    }
    let err = load(&format!("{base}/yaml-as-json"), opts)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("invalid JSON"), "{err}");
    let err = load(&format!("{base}/missing"), opts)
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        format!(
            "{base}/missing: cannot fetch the experiment: the server answered HTTP 404 Not Found"
        )
    );
}

#[tokio::test]
async fn unreachable_url_is_an_error() {
    // Bind then drop a listener so the port is (almost certainly) closed.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let err = load(
        &format!("http://127.0.0.1:{port}/e.json"),
        LoadOptions::default(),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("cannot fetch the experiment"), "{err}");
}

#[test]
fn content_types() {
    assert_eq!(format_of_content_type("application/json"), Format::Json);
    assert_eq!(
        format_of_content_type("application/vnd.x+json"),
        Format::Json
    );
    assert_eq!(
        format_of_content_type("text/yaml; charset=utf-8"),
        Format::Yaml
    );
    assert_eq!(format_of_content_type("application/yaml"), Format::Yaml);
    assert_eq!(format_of_content_type("text/plain"), Format::Guess);
    assert_eq!(format_of_content_type(""), Format::Guess);
}
