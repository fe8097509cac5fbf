//! The demo API's login (`POST /api/auth/login`), answering as the guide's FastAPI service does:
//! a bearer token for a known account, 401 for wrong credentials, and 422 with one problem per
//! field (FastAPI's shape) for a body that is not `{"email": "...", "password": "..."}`.

use super::api::json_response;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, WWW_AUTHENTICATE};
use hyper::{Request, Response, StatusCode};
use serde_json::{json, Value};
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

/// Largest request body read (a login is a few dozen bytes); more is answered 413.
const MAX_BODY: usize = 64 * 1024;

/// An account the login endpoint accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub email: String,
    pub password: String,
}

impl User {
    /// Reads `email:password[,email:password...]`; the password may itself hold colons.
    pub fn parse_list(spec: &str) -> Result<Vec<User>, String> {
        spec.split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| match entry.split_once(':') {
                Some((email, password)) if !email.is_empty() => Ok(User {
                    email: email.to_string(),
                    password: password.to_string(),
                }),
                _ => Err(format!("'{entry}' is not email:password")),
            })
            .collect()
    }
}

/// `POST /api/auth/login`: 200 with a token for a known account, 401 for wrong credentials, 422
/// for a body that is not `{email, password}` as strings, 413 for an oversized one.
pub(super) async fn login(
    users: &[User],
    tokens_issued: &AtomicU64,
    request: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let body = match Limited::new(request.into_body(), MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
            return json_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                json!({"detail": format!("the body may hold at most {MAX_BODY} bytes")}),
            );
        }
        Err(_) => {
            return json_response(
                StatusCode::BAD_REQUEST,
                json!({"detail": "the request body could not be read"}),
            );
        }
    };
    let (email, password) = match credentials(&body) {
        Ok(pair) => pair,
        Err(problems) => {
            return json_response(
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({"detail": problems}),
            )
        }
    };
    let known = users
        .iter()
        .any(|u| u.email == email && u.password == password);
    if !known {
        let mut response = json_response(
            StatusCode::UNAUTHORIZED,
            json!({"detail": "Incorrect email or password"}),
        );
        response
            .headers_mut()
            .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return response;
    }
    let serial = tokens_issued.fetch_add(1, Ordering::Relaxed);
    json_response(
        StatusCode::OK,
        json!({"access_token": token(&email, serial), "token_type": "bearer"}),
    )
}

/// The email and password of a login body, or the problems found, one entry per field in the
/// shape FastAPI uses for its 422 answers.
fn credentials(body: &[u8]) -> Result<(String, String), Vec<Value>> {
    let problem =
        |loc: &[&str], msg: String, kind: &str| json!({"loc": loc, "msg": msg, "type": kind});
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        vec![problem(
            &["body"],
            format!("invalid JSON: {e}"),
            "json_invalid",
        )]
    })?;
    let Value::Object(map) = value else {
        let msg = "the body must be a JSON object with email and password".to_string();
        return Err(vec![problem(&["body"], msg, "model_attributes_type")]);
    };
    let mut problems = Vec::new();
    let mut field = |name: &str| match map.get(name) {
        Some(Value::String(text)) => Some(text.clone()),
        None => {
            problems.push(problem(&["body", name], "Field required".into(), "missing"));
            None
        }
        Some(_) => {
            let msg = "Input should be a valid string".to_string();
            problems.push(problem(&["body", name], msg, "string_type"));
            None
        }
    };
    match (field("email"), field("password")) {
        (Some(email), Some(password)) => Ok((email, password)),
        _ => Err(problems),
    }
}

/// An opaque bearer token; the demo never checks it, it only has to look like one.
fn token(email: &str, serial: u64) -> String {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write(email.as_bytes());
    hasher.write_u64(serial);
    let first = hasher.finish();
    hasher.write_u64(first);
    format!("demo.{first:016x}{:016x}", hasher.finish())
}

#[cfg(test)]
mod tests {
    use super::{credentials, User};

    #[test]
    fn users_parse_from_a_list() {
        let users = User::parse_list("a@x:1, b@x:p:w ,").unwrap();
        assert_eq!(users.len(), 2);
        assert_eq!(users[1].password, "p:w");
        assert!(User::parse_list("nopassword").is_err());
        assert!(User::parse_list(":pw").is_err());
    }

    #[test]
    fn malformed_login_bodies_name_their_problems() {
        assert!(credentials(br#"{"email":"a","password":"b"}"#).is_ok());
        for body in [
            &b"not json"[..],
            b"[]",
            b"{}",
            br#"{"email":1,"password":"b"}"#,
            b"",
        ] {
            let problems = credentials(body).unwrap_err();
            assert!(!problems.is_empty(), "{}", String::from_utf8_lossy(body));
        }
        let problems = credentials(br#"{"email":"a"}"#).unwrap_err();
        assert_eq!(problems[0]["loc"][1], "password");
    }
}
