//! Loading an experiment document from a file or an http(s) URL, as JSON or YAML, into a JSON
//! value whose keys keep the order they were written in.
//!
//! YAML is read the safe way (no tags that build objects), anchors and merge keys (`<<`) work,
//! and wherever Chaos Toolkit's YAML 1.1 reader would see something else than ours (`on`,
//! `0755`, `1:30`...), a warning names the line. Every error names the file, and the line and
//! column when the text is at fault.

mod depth;
mod scan;
mod yaml11;

use super::validate::join_key;
use super::Diagnostic;
use serde_json::{Map, Number, Value};
use std::time::Duration;

/// A loaded document, with the warnings found while reading it.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The document; always a JSON object when loading succeeded.
    pub doc: Value,
    /// The file path or URL it came from, as given.
    pub source: String,
    /// YAML 1.1 versus YAML 1.2 differences, each naming its line and column.
    pub warnings: Vec<Diagnostic>,
}

/// Why a document could not be loaded; its Display is the diagnostic (`file:line:col: message`).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct LoadError(pub Diagnostic);

/// How to fetch documents.
#[derive(Debug, Clone, Copy)]
pub struct LoadOptions {
    /// Check the TLS certificate of an https URL (`--no-verify-tls` turns it off).
    pub verify_tls: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions { verify_tls: true }
    }
}

/// The syntax a text is read with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Yaml,
    /// JSON first, then YAML (a URL served as `text/plain` or an unknown type).
    Guess,
}

const EMPTY: &str = "an empty experiment is not an experiment: the document holds nothing";
const HTTP_TIMEOUT: Duration = Duration::from_secs(60);

/// Loads an experiment from a file path or an http(s) URL.
///
/// Files are read by extension (`.json`; `.yaml` or `.yml`); URLs by the content type the
/// server sends.
pub async fn load(spec: &str, opts: LoadOptions) -> Result<Loaded, LoadError> {
    let lower = spec.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return load_url(spec, opts).await;
    }
    if spec.contains("://") {
        return Err(error_at(
            spec,
            "only local files and http(s) URLs can be loaded",
        ));
    }
    load_file(spec).await
}

fn error_at(source: &str, message: impl Into<String>) -> LoadError {
    LoadError(Diagnostic::at_path(source, "", message))
}

fn format_of_path(path: &str) -> Option<Format> {
    let lower = path.to_ascii_lowercase();
    if lower.ends_with(".json") {
        Some(Format::Json)
    } else if lower.ends_with(".yaml") || lower.ends_with(".yml") {
        Some(Format::Yaml)
    } else {
        None
    }
}

fn io_reason(err: &std::io::Error) -> String {
    match err.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => err.to_string(),
    }
}

async fn load_file(path: &str) -> Result<Loaded, LoadError> {
    let meta = tokio::fs::metadata(path).await.map_err(|e| {
        error_at(
            path,
            format!("cannot read the experiment: {}", io_reason(&e)),
        )
    })?;
    if meta.is_dir() {
        return Err(error_at(
            path,
            "cannot read the experiment: it is a directory",
        ));
    }
    let Some(format) = format_of_path(path) else {
        return Err(error_at(
            path,
            "only files with json, yaml or yml extensions are supported: name the file \
             *.json, *.yaml or *.yml",
        ));
    };
    let bytes = tokio::fs::read(path).await.map_err(|e| {
        error_at(
            path,
            format!("cannot read the experiment: {}", io_reason(&e)),
        )
    })?;
    let text =
        String::from_utf8(bytes).map_err(|_| error_at(path, "the experiment is not UTF-8 text"))?;
    parse_text(path, &text, format)
}

/// The error and the errors that caused it, on one line.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

fn format_of_content_type(content_type: &str) -> Format {
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if mime == "application/json" || mime.ends_with("+json") {
        Format::Json
    } else if matches!(
        mime.as_str(),
        "application/yaml" | "application/x-yaml" | "text/yaml" | "text/x-yaml"
    ) {
        Format::Yaml
    } else {
        Format::Guess
    }
}

async fn load_url(url: &str, opts: LoadOptions) -> Result<Loaded, LoadError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .danger_accept_invalid_certs(!opts.verify_tls)
        .timeout(HTTP_TIMEOUT)
        .build()
        .map_err(|e| {
            error_at(
                url,
                format!("cannot prepare the download: {}", error_chain(&e)),
            )
        })?;
    let response = client.get(url).send().await.map_err(|e| {
        error_at(
            url,
            format!("cannot fetch the experiment: {}", error_chain(&e)),
        )
    })?;
    let status = response.status();
    if !status.is_success() {
        return Err(error_at(
            url,
            format!("cannot fetch the experiment: the server answered HTTP {status}"),
        ));
    }
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let text = response.text().await.map_err(|e| {
        error_at(
            url,
            format!("cannot read the experiment: {}", error_chain(&e)),
        )
    })?;
    parse_text(url, &text, format_of_content_type(&content_type))
}

/// Parses a document from text; `source` names it in diagnostics.
pub fn parse_text(source: &str, text: &str, format: Format) -> Result<Loaded, LoadError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(error_at(source, EMPTY));
    }
    let (doc, warnings) = match format {
        Format::Json => (parse_json(source, text)?, Vec::new()),
        Format::Yaml => parse_yaml(source, text)?,
        Format::Guess => match parse_json(source, text) {
            Ok(doc) => (doc, Vec::new()),
            Err(json_error) => match parse_yaml(source, text) {
                Ok(parsed) => parsed,
                Err(_) if text.trim_start().starts_with(['{', '[']) => return Err(json_error),
                Err(yaml_error) => return Err(yaml_error),
            },
        },
    };
    match &doc {
        Value::Null => Err(error_at(source, EMPTY)),
        Value::Object(map) if map.is_empty() => Err(error_at(source, EMPTY)),
        Value::Object(_) => Ok(Loaded {
            doc,
            source: source.to_string(),
            warnings,
        }),
        other => Err(error_at(
            source,
            format!(
                "an experiment is a mapping of keys (title, description, method...), but this \
                 document is {}",
                kind_of(other)
            ),
        )),
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

fn parse_json(source: &str, text: &str) -> Result<Value, LoadError> {
    serde_json::from_str::<Value>(text).map_err(|e| {
        let full = e.to_string();
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        let message = full.strip_suffix(&suffix).unwrap_or(&full);
        LoadError(Diagnostic::at_text(
            source,
            e.line(),
            e.column().max(1),
            format!("invalid JSON: {message}"),
        ))
    })
}

fn parse_yaml(source: &str, text: &str) -> Result<(Value, Vec<Diagnostic>), LoadError> {
    if let Some((line, column)) = depth::too_deep(text) {
        return Err(LoadError(Diagnostic::at_text(
            source,
            line,
            column,
            format!(
                "invalid YAML: brackets nest deeper than {} levels",
                depth::MAX_FLOW_DEPTH
            ),
        )));
    }
    let value = serde_yaml::from_str::<serde_yaml::Value>(text).map_err(|e| {
        let full = e.to_string();
        match e.location() {
            Some(loc) => {
                let at = format!(" at line {} column {}", loc.line(), loc.column());
                let message = full.replacen(&at, "", 1);
                LoadError(Diagnostic::at_text(
                    source,
                    loc.line(),
                    loc.column(),
                    format!("invalid YAML: {message}"),
                ))
            }
            None => error_at(source, format!("invalid YAML: {full}")),
        }
    })?;
    let scan = scan::scan(text);
    for tag in &scan.tags {
        if let Err(message) = yaml11::check_tag(&tag.text) {
            return Err(LoadError(Diagnostic::at_text(
                source, tag.line, tag.column, message,
            )));
        }
    }
    let doc = yaml_to_json(&value, "")
        .map_err(|(path, message)| LoadError(Diagnostic::at_path(source, path, message)))?;
    let warnings = scan
        .scalars
        .iter()
        .filter(|s| !s.multi_line && !s.tagged)
        .filter_map(|s| {
            yaml11::difference(&s.text)
                .map(|message| Diagnostic::at_text(source, s.line, s.column, message))
        })
        .collect();
    Ok((doc, warnings))
}

/// Converts a YAML value to JSON; Err is (document path, message).
fn yaml_to_json(value: &serde_yaml::Value, path: &str) -> Result<Value, (String, String)> {
    use serde_yaml::Value as Y;
    Ok(match value {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(*b),
        Y::Number(n) => number_to_json(n).ok_or_else(|| {
            (
                path.to_string(),
                format!("'{n}' cannot be used: JSON has no infinite or not-a-number values"),
            )
        })?,
        Y::String(s) => Value::String(s.clone()),
        Y::Sequence(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| yaml_to_json(item, &format!("{path}[{i}]")))
                .collect::<Result<_, _>>()?,
        ),
        Y::Mapping(mapping) => mapping_to_json(mapping, path)?,
        Y::Tagged(tagged) => {
            return Err((
                path.to_string(),
                format!(
                    "the tag '{}' is not supported: remove it (unsafe tags are refused)",
                    tagged.tag
                ),
            ))
        }
    })
}

/// Converts a mapping, resolving merge keys (`<<: *anchor` or `<<: [*a, *b]`) in place: the
/// merged keys take the position of `<<`, keys written in the mapping win over merged ones,
/// and among merged mappings the first one listed wins.
fn mapping_to_json(mapping: &serde_yaml::Mapping, path: &str) -> Result<Value, (String, String)> {
    let merge_key = serde_yaml::Value::String("<<".to_string());
    let written: Vec<String> = mapping
        .keys()
        .filter(|k| **k != merge_key)
        .filter_map(key_text)
        .collect();
    let mut map = Map::new();
    for (key, item) in mapping {
        if *key == merge_key {
            let merge_path = join_key(path, "<<");
            for source in merge_sources(yaml_to_json(item, &merge_path)?, &merge_path)? {
                for (k, v) in source {
                    if !written.contains(&k) && !map.contains_key(&k) {
                        map.insert(k, v);
                    }
                }
            }
            continue;
        }
        let key = key_text(key).ok_or_else(|| {
            (
                path.to_string(),
                "a mapping key must be a single value (text or a number), not a list or a \
                 mapping"
                    .to_string(),
            )
        })?;
        let item_path = join_key(path, &key);
        map.insert(key, yaml_to_json(item, &item_path)?);
    }
    Ok(Value::Object(map))
}

/// The mappings a merge key brings in.
fn merge_sources(merged: Value, path: &str) -> Result<Vec<Map<String, Value>>, (String, String)> {
    let refuse = || {
        (
            path.to_string(),
            "a merge key (<<) must hold a mapping, usually an alias such as *defaults, or a \
             list of them"
                .to_string(),
        )
    };
    match merged {
        Value::Object(map) => Ok(vec![map]),
        Value::Array(items) => items
            .into_iter()
            .map(|item| match item {
                Value::Object(map) => Ok(map),
                _ => Err(refuse()),
            })
            .collect(),
        _ => Err(refuse()),
    }
}

fn number_to_json(n: &serde_yaml::Number) -> Option<Value> {
    if let Some(i) = n.as_i64() {
        Some(Value::from(i))
    } else if let Some(u) = n.as_u64() {
        Some(Value::from(u))
    } else {
        n.as_f64().and_then(Number::from_f64).map(Value::Number)
    }
}

/// A mapping key as text, the way Python's json module writes non-string keys.
fn key_text(key: &serde_yaml::Value) -> Option<String> {
    use serde_yaml::Value as Y;
    match key {
        Y::String(s) => Some(s.clone()),
        Y::Number(n) => Some(n.to_string()),
        Y::Bool(b) => Some(b.to_string()),
        Y::Null => Some("null".to_string()),
        Y::Sequence(_) | Y::Mapping(_) | Y::Tagged(_) => None,
    }
}

#[cfg(test)]
mod tests;
