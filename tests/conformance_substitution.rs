//! Substitution conformance: configuration, secrets, `${name}` substitution, `--var` and
//! `--var-file` as ctk-reference.md §4 describes them, through `Vars`, `config::resolve`,
//! `headless::prepare`, the engine and the binary. Every expected value is the one §4 gives,
//! except where a test says it pins chaosdeck's deliberate difference (design.md).

mod common;

use chaosdeck::engine::RunOptions;
use chaosdeck::experiment::config::{load_var_file, parse_var, resolve, Overrides};
use chaosdeck::experiment::substitute::Vars;
use chaosdeck::headless::{prepare, PrepareOptions};
use common::{chaosdeck, run_yaml, tempdir, write_temp, Reply, Server};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

// ---------------------------------------------------------------------------------------------
// helpers

/// Vars as `resolve` builds them for a document, with no overrides.
fn resolved(doc: &Value) -> Vars {
    resolve(doc, "exp.yaml", &Overrides::default())
        .unwrap_or_else(|e| panic!("{e:?}"))
        .vars
}

/// Vars for a document with `.env`-style variables (what a non-yaml/json var file injects into
/// the environment before configuration loads).
fn resolved_with_env(doc: &Value, env: &[(&str, &str)]) -> Vars {
    let mut overrides = Overrides::default();
    for (k, v) in env {
        overrides.env.insert((*k).to_string(), (*v).to_string());
    }
    resolve(doc, "exp.yaml", &overrides)
        .unwrap_or_else(|e| panic!("{e:?}"))
        .vars
}

/// A configuration with one env entry read from `key`, converted to `kind` when given.
fn env_entry(key: &str, kind: Option<&str>, default: Option<Value>) -> Value {
    let mut entry = json!({"type": "env", "key": key});
    if let Some(kind) = kind {
        entry["env_var_type"] = json!(kind);
    }
    if let Some(default) = default {
        entry["default"] = default;
    }
    json!({"configuration": {"value": entry}})
}

fn vars_with(config: &[(&str, Value)]) -> Vars {
    let mut vars = Vars::new();
    for (k, v) in config {
        vars.add_config(k, v.clone());
    }
    vars
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn read_journal(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("journal.json")).expect("journal written");
    serde_json::from_str(&text).expect("journal is JSON")
}

// ---------------------------------------------------------------------------------------------
// configuration and secrets entries

/// §4: literal configuration entries (any JSON type, dicts without `type` and dicts of another
/// type included) are kept as they are.
#[test]
fn literal_configuration_entries_are_kept_as_is() {
    let literals = json!({
        "text": "hello", "int": 3, "float": 0.5, "bool": false, "null": null,
        "list": [1, "two"], "dict": {"a": {"b": [1]}}, "typed": {"type": "literal", "v": 1}
    });
    let vars = resolved(&json!({"configuration": literals}));
    for (k, v) in literals.as_object().unwrap() {
        assert_eq!(vars.get(k), Some(v), "{k}");
    }
}

/// §4: an env entry reads the variable; without `env_var_type` the value is text.
#[test]
fn env_entry_reads_the_variable_as_text() {
    let vars = resolved_with_env(&env_entry("CD_SUB_A", None, None), &[("CD_SUB_A", "42")]);
    assert_eq!(vars.get("value"), Some(&json!("42")));
}

/// §4: `env_var_type` conversions: str/string, int/integer, float/number, bytes, json.
#[test]
fn env_var_type_conversions() {
    let cases = [
        ("str", "42", json!("42")),
        ("string", "hello", json!("hello")),
        ("int", "42", json!(42)),
        ("integer", "-7", json!(-7)),
        ("float", "0.25", json!(0.25)),
        ("number", "2.5", json!(2.5)),
        (
            "json",
            r#"{"a": [1, true, null]}"#,
            json!({"a": [1, true, null]}),
        ),
        ("json", "[1, 2]", json!([1, 2])),
    ];
    for (kind, raw, expected) in cases {
        let doc = env_entry("CD_SUB_B", Some(kind), None);
        let vars = resolved_with_env(&doc, &[("CD_SUB_B", raw)]);
        assert_eq!(vars.get("value"), Some(&expected), "{kind} {raw:?}");
    }
    let doc = env_entry("CD_SUB_B", Some("bytes"), None);
    let vars = resolved_with_env(&doc, &[("CD_SUB_B", "raw bytes")]);
    assert!(vars.get("value").is_some(), "bytes is a known conversion");
}

/// §4: `env_var_type: bool` — "false", "0" and "no" are false, anything else is true.
#[test]
fn env_var_type_bool() {
    for (raw, expected) in [
        ("false", false),
        ("0", false),
        ("no", false),
        ("true", true),
        ("1", true),
        ("yes", true),
        ("anything", true),
    ] {
        let doc = env_entry("CD_SUB_C", Some("bool"), None);
        let vars = resolved_with_env(&doc, &[("CD_SUB_C", raw)]);
        assert_eq!(vars.get("value"), Some(&json!(expected)), "{raw:?}");
    }
}

/// §4: a value that does not convert to its `env_var_type` is an error naming the entry.
#[test]
fn env_var_type_conversion_failure_is_an_error() {
    let doc = env_entry("CD_SUB_D", Some("int"), None);
    let mut overrides = Overrides::default();
    overrides.env.insert("CD_SUB_D".into(), "forty-two".into());
    let errors = resolve(&doc, "exp.yaml", &overrides).expect_err("not an int");
    let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(text.len(), 1, "{text:#?}");
    assert!(text[0].contains("configuration.value"), "{text:#?}");
    assert!(text[0].contains("forty-two"), "{text:#?}");
}

/// §4: the default is used when the variable is unset, and the conversion applies to it too.
#[test]
fn env_default_is_converted() {
    let cases = [
        (None, json!("fallback"), json!("fallback")),
        (Some("int"), json!("7"), json!(7)),
        (Some("float"), json!("0.5"), json!(0.5)),
        (Some("bool"), json!("no"), json!(false)),
        (Some("bool"), json!("yes"), json!(true)),
        (Some("json"), json!("{\"k\": 1}"), json!({"k": 1})),
        (None, json!(""), json!("")),
    ];
    for (kind, default, expected) in cases {
        let doc = env_entry("CD_SUB_NEVER_SET_E", kind, Some(default.clone()));
        let vars = resolved(&doc);
        assert_eq!(vars.get("value"), Some(&expected), "{kind:?} {default}");
    }
}

/// §4: the conversion applies to a non-text default as well: `float` turns a default of 5 into
/// 5.0 (so `"${value}s"` renders "5.0s", as Python's `str(5.0)`).
#[test]
fn env_default_non_text_is_converted() {
    let doc = env_entry("CD_SUB_NEVER_SET_F", Some("float"), Some(json!(5)));
    let vars = resolved(&doc);
    assert_eq!(vars.substitute_str("${value}s"), json!("5.0s"));
}

/// §4 (and chaostoolkit-lib's own tests): a variable set to "" wins over the default.
#[test]
fn empty_env_value_wins_over_the_default() {
    let doc = env_entry("CD_SUB_G", None, Some(json!("fallback")));
    let vars = resolved_with_env(&doc, &[("CD_SUB_G", "")]);
    assert_eq!(vars.get("value"), Some(&json!("")));
}

/// §4: env secrets read the variable; they have no `default` support.
#[test]
fn env_secrets_read_the_variable_and_have_no_default() {
    let doc = json!({"secrets": {"api": {"token": {"type": "env", "key": "CD_SUB_H"},
                                         "user": "literal-user"}}});
    let vars = resolved_with_env(&doc, &[("CD_SUB_H", "s3cr3t")]);
    assert_eq!(vars.get("token"), Some(&json!("s3cr3t")));
    assert_eq!(vars.get("user"), Some(&json!("literal-user")));

    let doc = json!({"secrets": {"api": {"token":
        {"type": "env", "key": "CD_SUB_NEVER_SET_I", "default": "ignored"}}}});
    let errors = resolve(&doc, "exp.yaml", &Overrides::default()).expect_err("no default");
    assert!(
        errors[0].to_string().contains("CD_SUB_NEVER_SET_I"),
        "{errors:?}"
    );
}

/// §4: the lookup map is configuration first, then the secret scopes flattened in declaration
/// order — the first definition of a name wins.
#[test]
fn configuration_comes_before_secrets_and_first_scope_wins() {
    let doc = json!({
        "configuration": {"host": "from-configuration"},
        "secrets": {
            "first": {"host": "from-first-scope", "token": "first-token"},
            "second": {"token": "second-token", "only_here": "second-only"}
        }
    });
    let vars = resolved(&doc);
    assert_eq!(vars.substitute_str("${host}"), json!("from-configuration"));
    assert_eq!(vars.substitute_str("${token}"), json!("first-token"));
    assert_eq!(vars.substitute_str("${only_here}"), json!("second-only"));

    let mut direct = Vars::new();
    direct.add_config("name", json!("config"));
    direct.add_secret("name", json!("secret"));
    assert_eq!(direct.substitute_str("${name}"), json!("config"));
}

// ---------------------------------------------------------------------------------------------
// substitution syntax

/// §4: a string that is exactly `${name}` takes the value with its native type.
#[test]
fn whole_placeholder_keeps_the_native_type() {
    let vars = vars_with(&[
        ("n", json!(5)),
        ("flag", json!(true)),
        ("list", json!([1, "a"])),
        ("dict", json!({"a": 1})),
        ("ratio", json!(0.5)),
    ]);
    assert_eq!(vars.substitute_str("${n}"), json!(5));
    assert_eq!(vars.substitute_str("${flag}"), json!(true));
    assert_eq!(vars.substitute_str("${list}"), json!([1, "a"]));
    assert_eq!(vars.substitute_str("${dict}"), json!({"a": 1}));
    assert_eq!(vars.substitute_str("${ratio}"), json!(0.5));
}

/// §4: any other string gets text interpolation, values rendered as Python's `str()`: dicts
/// `{'a': 1}`, booleans `True`, lists `[1, 'a']`, null `None`.
#[test]
fn embedded_placeholder_interpolates_python_text() {
    let vars = vars_with(&[
        ("n", json!(5)),
        ("flag", json!(true)),
        ("off", json!(false)),
        ("list", json!([1, "a"])),
        ("dict", json!({"a": 1})),
        ("nothing", json!(null)),
        ("word", json!("db")),
    ]);
    assert_eq!(vars.substitute_str("x${n}"), json!("x5"));
    assert_eq!(vars.substitute_str("${n} "), json!("5 "));
    assert_eq!(vars.substitute_str("is ${flag}"), json!("is True"));
    assert_eq!(vars.substitute_str("is ${off}"), json!("is False"));
    assert_eq!(vars.substitute_str("l=${list}"), json!("l=[1, 'a']"));
    assert_eq!(vars.substitute_str("d=${dict}"), json!("d={'a': 1}"));
    assert_eq!(vars.substitute_str("v=${nothing}"), json!("v=None"));
    assert_eq!(vars.substitute_str("${word}-${n}"), json!("db-5"));
}

/// §4: bare `$name` also interpolates, always as text (even alone).
#[test]
fn bare_dollar_name_interpolates_as_text() {
    let vars = vars_with(&[("n", json!(5)), ("host", json!("db"))]);
    assert_eq!(vars.substitute_str("$n"), json!("5"));
    assert_eq!(vars.substitute_str("$host:$n"), json!("db:5"));
    assert_eq!(vars.substitute_str("/srv/$host/x"), json!("/srv/db/x"));
}

/// §4: `$$` is a literal `$`.
#[test]
fn double_dollar_is_a_dollar() {
    let vars = vars_with(&[("n", json!(5))]);
    assert_eq!(vars.substitute_str("$$"), json!("$"));
    assert_eq!(vars.substitute_str("$$n"), json!("$n"));
    assert_eq!(vars.substitute_str("$${n}"), json!("${n}"));
    assert_eq!(vars.substitute_str("cost: $$${n}"), json!("cost: $5"));
}

/// §4 (Chaos Toolkit): unknown names are left verbatim, never an error.
#[test]
fn unknown_names_are_left_verbatim() {
    let vars = vars_with(&[("n", json!(5))]);
    assert_eq!(vars.substitute_str("${missing}"), json!("${missing}"));
    assert_eq!(vars.substitute_str("$missing"), json!("$missing"));
    assert_eq!(
        vars.substitute_str("a ${missing} b ${n}"),
        json!("a ${missing} b 5")
    );
    assert_eq!(vars.substitute_str("${unclosed"), json!("${unclosed"));
    assert_eq!(vars.substitute_str("trailing $"), json!("trailing $"));
}

/// §4: applied recursively in lists and dicts; keys are not substituted.
#[test]
fn substitution_is_recursive_and_leaves_keys_alone() {
    let vars = vars_with(&[("n", json!(5)), ("word", json!("db"))]);
    let value = json!({"${word}": ["${n}", {"deep": "x-${word}"}, 7, null], "k": "${n}"});
    assert_eq!(
        vars.substitute(&value),
        json!({"${word}": [5, {"deep": "x-db"}, 7, null], "k": 5})
    );
}

// ---------------------------------------------------------------------------------------------
// --var and --var-file

/// §4: `--var key[:type]=value` with types str/string, int/integer, float/number, bytes, bool
/// (false/0/no are false) and json; str is the default; the value may hold `=`.
#[test]
fn var_types_convert() {
    let cases = [
        ("k=v", json!("v")),
        ("k:str=5", json!("5")),
        ("k:string=text", json!("text")),
        ("k:int=45", json!(45)),
        ("k:integer=-3", json!(-3)),
        ("k:float=45.5", json!(45.5)),
        ("k:number=0.25", json!(0.25)),
        ("k:bool=false", json!(false)),
        ("k:bool=0", json!(false)),
        ("k:bool=no", json!(false)),
        ("k:bool=true", json!(true)),
        ("k:bool=yes", json!(true)),
        ("k:json={\"a\": [1]}", json!({"a": [1]})),
        ("k=a=b", json!("a=b")),
        ("k=", json!("")),
    ];
    for (spec, expected) in cases {
        let (key, value) = parse_var(spec).unwrap_or_else(|e| panic!("{spec}: {e}"));
        assert_eq!(key, "k", "{spec}");
        assert_eq!(value, expected, "{spec}");
    }
    let (key, _) = parse_var("k:bytes=stuff").expect("bytes is a --var type");
    assert_eq!(key, "k");
    // Python's float("45") is 45.0, and str(45.0) is "45.0".
    let (_, float) = parse_var("k:float=45").unwrap();
    assert_eq!(
        vars_with(&[("k", float)]).substitute_str("x${k}"),
        json!("x45.0")
    );
}

/// §4: a malformed `--var`, an unknown type or a value that does not convert is refused.
#[test]
fn var_errors() {
    for bad in [
        "todo/stuff",
        "novalue",
        "k:object=stuff",
        "k:int=two",
        "k:float=fast",
        "k:json={not json",
    ] {
        assert!(parse_var(bad).is_err(), "{bad} must be refused");
    }
}

/// §4: `--var` in the wrong format is a command-line usage error: exit code 2 (click), and
/// nothing runs.
#[test]
fn malformed_var_is_a_usage_error() {
    let dir = tempdir();
    write(
        &dir,
        "e.yaml",
        "title: t\ndescription: d\nconfiguration:\n  k: v\nmethod: []\n",
    );
    let out = chaosdeck(&dir, &["run", "e.yaml", "--var", "todo/stuff"], &[]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!dir.join("journal.json").exists());
}

/// §4: a `.yaml`/`.yml` var file holds top-level `configuration:` and `secrets:` maps.
#[test]
fn yaml_var_file_holds_configuration_and_secrets() {
    for name in ["vars.yaml", "vars.yml"] {
        let path = write_temp(
            name,
            "configuration:\n  greeting: bonjour\n  count: 3\nsecrets:\n  api:\n    token: t0k3n\n",
        );
        let mut overrides = Overrides::default();
        load_var_file(&path, &mut overrides).expect("var file loads");
        assert_eq!(overrides.configuration["greeting"], json!("bonjour"));
        assert_eq!(overrides.configuration["count"], json!(3));
        assert_eq!(overrides.secrets["api"], json!({"token": "t0k3n"}));
    }
}

/// §4: a `.json` var file holds the same maps.
#[test]
fn json_var_file_holds_configuration_and_secrets() {
    let path = write_temp(
        "vars.json",
        r#"{"configuration": {"greeting": "hola", "n": 2}, "secrets": {"db": {"pw": "x"}}}"#,
    );
    let mut overrides = Overrides::default();
    load_var_file(&path, &mut overrides).expect("var file loads");
    assert_eq!(overrides.configuration["greeting"], json!("hola"));
    assert_eq!(overrides.configuration["n"], json!(2));
    assert_eq!(overrides.secrets["db"], json!({"pw": "x"}));
}

/// §4: any other var file is a `.env`-style list of `K=V` lines (`#` comments) feeding the
/// environment that configuration reads.
#[test]
fn dotenv_var_file_feeds_the_environment() {
    let path = write_temp(
        "settings.env",
        "# a comment\nCD_SUB_DOTENV_A=from-dotenv\n\nCD_SUB_DOTENV_B=42\n",
    );
    let mut overrides = Overrides::default();
    load_var_file(&path, &mut overrides).expect("var file loads");
    assert!(overrides.configuration.is_empty());
    let doc = json!({"configuration": {
        "a": {"type": "env", "key": "CD_SUB_DOTENV_A"},
        "b": {"type": "env", "key": "CD_SUB_DOTENV_B", "env_var_type": "int"}
    }});
    let vars = resolve(&doc, "exp.yaml", &overrides)
        .expect("resolves")
        .vars;
    assert_eq!(vars.get("a"), Some(&json!("from-dotenv")));
    assert_eq!(vars.get("b"), Some(&json!(42)));
}

/// §4: precedence `--var` > var files > experiment; among var files the later one wins.
#[tokio::test]
async fn var_beats_var_files_beats_experiment() {
    let dir = tempdir();
    let experiment = write(
        &dir,
        "e.yaml",
        "title: t\ndescription: d\nconfiguration:\n  a: experiment\n  b: experiment\n  \
         c: experiment\n  d: experiment\nmethod: []\n",
    );
    let first = write(
        &dir,
        "first.yaml",
        "configuration:\n  b: first-file\n  c: first-file\n  d: first-file\n",
    );
    let second = write(
        &dir,
        "second.json",
        r#"{"configuration": {"c": "second-file", "d": "second-file"}}"#,
    );
    let opts = PrepareOptions {
        vars: vec!["d=command-line".into()],
        var_files: vec![first, second],
        ..PrepareOptions::default()
    };
    let (prepared, _) = prepare(experiment.to_str().unwrap(), &opts)
        .await
        .unwrap_or_else(|f| panic!("{:?}", f.errors));
    let vars = &prepared.resolved.vars;
    assert_eq!(vars.get("a"), Some(&json!("experiment")));
    assert_eq!(vars.get("b"), Some(&json!("first-file")));
    assert_eq!(vars.get("c"), Some(&json!("second-file")));
    assert_eq!(vars.get("d"), Some(&json!("command-line")));
}

/// §4: only keys declared in the experiment's `configuration` are overridden: a `--var` naming
/// a secret does not replace it (the lookup finds the secret; chaosdeck's deliberate difference
/// only lets `--var` define names that are defined nowhere else).
#[tokio::test]
async fn var_does_not_override_a_secret() {
    let path = write_temp(
        "e.yaml",
        "title: t\ndescription: d\nsecrets:\n  api:\n    token: secret-token\nmethod: []\n",
    );
    let opts = PrepareOptions {
        vars: vec!["token=from-command-line".into()],
        ..PrepareOptions::default()
    };
    let (prepared, _) = prepare(path.to_str().unwrap(), &opts)
        .await
        .unwrap_or_else(|f| panic!("{:?}", f.errors));
    assert_eq!(
        prepared.resolved.vars.substitute_str("${token}"),
        json!("secret-token")
    );
}

/// §4: an override replaces the whole entry — an env-typed entry becomes the literal: the
/// variable is not read (its absence is no error) and `env_var_type` does not apply.
#[test]
fn override_replaces_the_whole_entry() {
    let doc = json!({"configuration": {
        "port": {"type": "env", "key": "CD_SUB_NEVER_SET_J", "env_var_type": "int"}
    }});
    let mut overrides = Overrides::default();
    overrides.configuration.insert("port".into(), json!("8080"));
    let vars = resolve(&doc, "exp.yaml", &overrides)
        .expect("an overridden env entry needs no variable")
        .vars;
    assert_eq!(
        vars.get("port"),
        Some(&json!("8080")),
        "a literal, not converted"
    );

    let mut overrides = Overrides::default();
    overrides.env.insert("CD_SUB_K".into(), "from-env".into());
    overrides
        .configuration
        .insert("who".into(), json!({"name": "literal"}));
    let doc = json!({"configuration": {"who": {"type": "env", "key": "CD_SUB_K"}}});
    let vars = resolve(&doc, "exp.yaml", &overrides).unwrap().vars;
    assert_eq!(vars.get("who"), Some(&json!({"name": "literal"})));
}

/// §4: a var-file secret scope replaces the entire declared scope (keys it omits are gone).
#[test]
fn var_file_secret_scope_replaces_the_declared_scope() {
    let doc = json!({"secrets": {
        "api": {"token": "experiment-token", "user": "experiment-user"},
        "other": {"kept": "still-here"}
    }});
    let path = write_temp("secrets.yaml", "secrets:\n  api:\n    token: file-token\n");
    let mut overrides = Overrides::default();
    load_var_file(&path, &mut overrides).unwrap();
    let vars = resolve(&doc, "exp.yaml", &overrides).unwrap().vars;
    assert_eq!(vars.get("token"), Some(&json!("file-token")));
    assert_eq!(vars.get("user"), None, "the whole scope was replaced");
    assert_eq!(vars.get("kept"), Some(&json!("still-here")));
}

// ---------------------------------------------------------------------------------------------
// end to end

const VARS_EXPERIMENT: &str = r#"title: vars for ${who}
description: d ${who}
configuration:
  greeting: hello
  count: 1
  level: low
  who:
    type: env
    key: CD_SUB_E2E_WHO
    default: nobody
secrets:
  api:
    token: experiment-token
method:
  - type: action
    name: echo-values
    provider:
      type: process
      path: echo
      arguments: ["${greeting}", "${count}", "${level}", "${who}"]
  - type: action
    name: token-is-the-files
    provider:
      type: process
      path: sh
      arguments: ["-c", "test \"$1\" = file-token", "check", "${token}"]
  - type: action
    name: child-sees-dotenv
    provider:
      type: process
      path: sh
      arguments: ["-c", "echo \"$CD_SUB_E2E_WHO\""]
"#;

/// §4 end to end through `chaosdeck run`: `--var` (typed) beats the var files, the later var
/// file beats the earlier, var files beat the experiment, a `.env` file feeds env entries and
/// child processes, a var-file secret scope replaces the declared one; the journal keeps
/// activities unsubstituted and substitutes only the title.
#[test]
fn var_and_var_files_through_the_binary() {
    let dir = tempdir();
    write(&dir, "e.yaml", VARS_EXPERIMENT);
    write(
        &dir,
        "first.yaml",
        "configuration:\n  greeting: bonjour\n  count: 2\n  level: medium\n\
         secrets:\n  api:\n    token: file-token\n",
    );
    write(
        &dir,
        "second.json",
        r#"{"configuration": {"level": "high"}}"#,
    );
    write(
        &dir,
        "people.env",
        "# who runs it\nCD_SUB_E2E_WHO=dotenv-person\n",
    );
    let out = chaosdeck(
        &dir,
        &[
            "run",
            "e.yaml",
            "--var-file",
            "first.yaml",
            "--var-file",
            "second.json",
            "--var-file",
            "people.env",
            "--var",
            "count:int=3",
        ],
        &[],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let journal = read_journal(&dir);
    let run = journal["run"].as_array().expect("run entries");
    assert_eq!(run.len(), 3, "{stderr}");
    assert_eq!(
        run[0]["output"]["stdout"],
        json!("bonjour 3 high dotenv-person\n"),
        "{stderr}"
    );
    assert_eq!(
        run[1]["output"]["status"],
        json!(0),
        "the file's token was passed"
    );
    assert_eq!(run[2]["output"]["stdout"], json!("dotenv-person\n"));
    assert!(out.status.success(), "{stderr}");

    // The journal: title substituted, description and activities as written.
    assert_eq!(
        journal["experiment"]["title"],
        json!("vars for dotenv-person")
    );
    assert_eq!(journal["experiment"]["description"], json!("d ${who}"));
    let written = json!(["${greeting}", "${count}", "${level}", "${who}"]);
    assert_eq!(
        journal["experiment"]["method"][0]["provider"]["arguments"],
        written
    );
    assert_eq!(run[0]["activity"]["provider"]["arguments"], written);
}

/// §4: the real environment feeds env entries (`env_var_type: bool`, "no" → false, rendered
/// `False` in text) when the binary runs.
#[test]
fn environment_feeds_env_entries_through_the_binary() {
    let dir = tempdir();
    write(
        &dir,
        "e.yaml",
        r#"title: t
description: d
configuration:
  enabled: {type: env, key: CD_SUB_E2E_FLAG, env_var_type: bool}
  retries: {type: env, key: CD_SUB_E2E_RETRIES, env_var_type: int}
method:
  - type: action
    name: show
    provider: {type: process, path: echo, arguments: ["enabled=${enabled}", "${retries}"]}
"#,
    );
    let out = chaosdeck(
        &dir,
        &["run", "e.yaml"],
        &[("CD_SUB_E2E_FLAG", "no"), ("CD_SUB_E2E_RETRIES", "4")],
    );
    let journal = read_journal(&dir);
    assert_eq!(
        journal["run"][0]["output"]["stdout"],
        json!("enabled=False 4\n"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// §4 substituted fields: http `url`, `headers`, `arguments` (GET: the query string) and
/// `timeout`, with whole-value types kept.
#[tokio::test(flavor = "multi_thread")]
async fn http_fields_are_substituted() {
    let server = Server::start();
    server.route("/check", Reply::text(200, "ok"));
    let yaml = format!(
        r#"title: http
description: d
configuration:
  base: "http://{}"
  token: abc123
  q: hello
  seconds: 5
method:
  - type: probe
    name: get
    provider:
      type: http
      url: "${{base}}/check"
      headers: {{X-Token: "Bearer ${{token}}"}}
      arguments: {{q: "${{q}}"}}
      timeout: "${{seconds}}"
"#,
        server.addr
    );
    let ran = run_yaml(&yaml, RunOptions::default()).await;
    assert_eq!(ran.journal["run"][0]["status"], json!("succeeded"));
    let seen = server.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].target, "/check?q=hello");
    assert!(
        seen[0]
            .headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("x-token") && v == "Bearer abc123"),
        "{:?}",
        seen[0].headers
    );
}

/// §4 dynamic configuration: `{type: probe}` entries are evaluated in order at run start (not
/// at validation), may use earlier keys; a process gives its stdout stripped (exit 0 only), an
/// http probe its body; a failing one just omits the key (so `${key}` stays as written).
#[tokio::test(flavor = "multi_thread")]
async fn dynamic_configuration_is_evaluated_at_run_start() {
    let server = Server::start();
    server.route("/value", Reply::text(200, "from-http"));
    let dir = tempdir();
    let witness = dir.join("dynamic-ran");
    let yaml = format!(
        r#"title: dynamic
description: d
configuration:
  stamp:
    type: probe
    name: stamp
    provider: {{type: process, path: sh, arguments: ["-c", "touch '{witness}'; echo '  dyn-value  '"]}}
  chained:
    type: probe
    name: chained
    provider: {{type: process, path: echo, arguments: ["${{stamp}}-2"]}}
  failing:
    type: probe
    name: failing
    provider: {{type: process, path: sh, arguments: ["-c", "echo nope; exit 1"]}}
  fetched:
    type: probe
    name: fetched
    provider: {{type: http, url: "{url}"}}
method:
  - type: action
    name: show
    provider: {{type: process, path: echo, arguments: ["${{stamp}}", "${{chained}}", "${{failing}}", "${{fetched}}"]}}
"#,
        witness = witness.display(),
        url = server.url("/value")
    );
    let path = write(&dir, "e.yaml", &yaml);
    prepare(path.to_str().unwrap(), &PrepareOptions::default())
        .await
        .unwrap_or_else(|f| panic!("{:?}", f.errors));
    assert!(!witness.exists(), "dynamic configuration ran at validation");
    let ran = run_yaml(&yaml, RunOptions::default()).await;
    assert!(witness.exists(), "dynamic configuration did not run");
    assert_eq!(
        ran.journal["run"][0]["output"]["stdout"],
        json!("dyn-value dyn-value-2 ${failing} from-http\n")
    );
}

/// §4: process `path` is NOT substituted — `${prog}` is looked up as written, and not found.
#[tokio::test]
async fn process_path_is_not_substituted() {
    let path = write_temp(
        "e.yaml",
        "title: t\ndescription: d\nconfiguration:\n  prog: echo\nmethod:\n  - type: action\n    \
         name: a\n    provider: {type: process, path: \"${prog}\"}\n",
    );
    let findings = prepare(path.to_str().unwrap(), &PrepareOptions::default())
        .await
        .expect_err("`${prog}` is no program");
    let all: Vec<String> = findings.errors.iter().map(|e| e.to_string()).collect();
    assert!(
        all.iter()
            .any(|e| e.contains("method[0].provider.path") && e.contains("${prog}")),
        "{all:#?}"
    );
}

/// §4: names, descriptions and the hypothesis title are NOT substituted: they stay as written
/// in the journal (and, not being substituted, an unknown name there is no error).
#[tokio::test(flavor = "multi_thread")]
async fn names_descriptions_and_hypothesis_title_are_not_substituted() {
    let yaml = r#"title: "run ${n}"
description: "about ${n} and ${nowhere}"
configuration:
  n: 5
steady-state-hypothesis:
  title: "steady ${n}"
  probes:
    - type: probe
      name: "probe-${n}"
      tolerance: 0
      provider: {type: process, path: "true"}
method:
  - type: action
    name: "action-${nowhere}"
    provider: {type: process, path: echo, arguments: ["${n}"]}
"#;
    let ran = run_yaml(yaml, RunOptions::default()).await;
    let j = &ran.journal;
    assert_eq!(j["experiment"]["title"], json!("run 5"));
    assert_eq!(
        j["experiment"]["description"],
        json!("about ${n} and ${nowhere}")
    );
    assert_eq!(
        j["experiment"]["steady-state-hypothesis"]["title"],
        json!("steady ${n}")
    );
    assert_eq!(
        j["steady_states"]["before"]["probes"][0]["activity"]["name"],
        json!("probe-${n}")
    );
    assert_eq!(j["run"][0]["activity"]["name"], json!("action-${nowhere}"));
    assert_eq!(j["run"][0]["output"]["stdout"], json!("5\n"));
}

/// chaosdeck's deliberate difference from §4 (design.md): Chaos Toolkit leaves an unknown
/// `${name}` verbatim, but chaosdeck refuses to run when a substituted `${name}` is defined
/// nowhere (not configuration, secrets, `--var` or the environment) — an error before the run
/// naming it — and only warns when the name exists only in the environment (then it is left as
/// written, as Chaos Toolkit does). A `--var` defines a name even where the experiment does not
/// declare it.
#[test]
fn deliberate_difference_undefined_name_is_an_error_and_env_only_name_a_warning() {
    let dir = tempdir();
    write(
        &dir,
        "e.yaml",
        r#"title: t
description: d
method:
  - type: action
    name: show
    provider:
      type: process
      path: echo
      arguments: ["${CD_SUB_ONLY_IN_ENV}", "${cd_sub_nowhere}"]
"#,
    );
    // Defined nowhere: an error naming it, nothing runs.
    let env = [("CD_SUB_ONLY_IN_ENV", "env-value")];
    let out = chaosdeck(&dir, &["run", "e.yaml"], &env);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("${cd_sub_nowhere}"), "{stderr}");
    assert!(stderr.contains("method[0]"), "{stderr}");
    assert!(!dir.join("journal.json").exists(), "nothing may run");

    // With --var the name is defined; the env-only name warns and stays verbatim.
    let out = chaosdeck(
        &dir,
        &["run", "e.yaml", "--var", "cd_sub_nowhere=from-var"],
        &env,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let warning = stderr
        .lines()
        .find(|l| l.contains("${CD_SUB_ONLY_IN_ENV}"))
        .unwrap_or_else(|| panic!("no warning about the env-only name:\n{stderr}"));
    assert!(warning.to_lowercase().contains("warning"), "{warning}");
    assert!(!stderr.lines().any(|l| l.starts_with("error")), "{stderr}");
    let journal = read_journal(&dir);
    assert_eq!(
        journal["run"][0]["output"]["stdout"],
        json!("${CD_SUB_ONLY_IN_ENV} from-var\n")
    );
}

/// The same deliberate difference through `prepare`: every undefined name is reported with the
/// others, at the activity path.
#[tokio::test]
async fn deliberate_difference_undefined_names_are_reported_by_prepare() {
    let path = write_temp(
        "e.yaml",
        r#"title: "t ${cd_sub_title_nowhere}"
description: d
configuration:
  defined: 1
method:
  - type: action
    name: a
    pauses: {after: "${cd_sub_pause_nowhere}"}
    provider: {type: process, path: echo, arguments: ["${defined}", "${cd_sub_arg_nowhere}"]}
"#,
    );
    let findings = prepare(path.to_str().unwrap(), &PrepareOptions::default())
        .await
        .expect_err("undefined names stop the run");
    let all = findings
        .errors
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(all.contains("${cd_sub_title_nowhere}"), "{all}");
    assert!(all.contains("${cd_sub_pause_nowhere}"), "{all}");
    assert!(all.contains("${cd_sub_arg_nowhere}"), "{all}");
    assert!(!all.contains("${defined}"), "{all}");
    assert_eq!(findings.errors.len(), 3, "{all}");
}

/// §4 (chaostoolkit-lib providers): with neither configuration nor secrets declared, provider
/// `arguments` are not substituted at all, so `$$` stays `$$` (found by bench/compat.sh).
#[tokio::test(flavor = "multi_thread")]
async fn arguments_are_left_alone_without_configuration_or_secrets() {
    let yaml = r#"title: t
description: d
method:
  - type: action
    name: dollars
    provider: {type: process, path: echo, arguments: ["cost $$5 a$$$$b"]}
"#;
    let ran = common::run_yaml(yaml, chaosdeck::engine::RunOptions::default()).await;
    assert_eq!(
        ran.journal["run"][0]["output"]["stdout"],
        "cost $$5 a$$$$b\n"
    );
    let with_config = yaml.replace(
        "description: d\n",
        "description: d\nconfiguration: {x: 1}\n",
    );
    let ran = common::run_yaml(&with_config, chaosdeck::engine::RunOptions::default()).await;
    assert_eq!(ran.journal["run"][0]["output"]["stdout"], "cost $5 a$$b\n");
}
