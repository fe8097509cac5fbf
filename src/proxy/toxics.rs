//! Toxics: what a fault does to the bytes of one direction of a connection. A toxic is kept as
//! the JSON the API shows (`{name, type, stream, toxicity, attributes}`) together with its
//! parsed effect, which the connection pumps read.

use serde_json::{json, Map, Value};
use std::sync::atomic::{AtomicU64, Ordering};

/// The direction a toxic acts on: `upstream` is client to server, `downstream` server to client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Upstream,
    Downstream,
}

impl Stream {
    pub fn parse(text: &str) -> Option<Stream> {
        match text {
            "upstream" => Some(Stream::Upstream),
            "downstream" => Some(Stream::Downstream),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Upstream => "upstream",
            Stream::Downstream => "downstream",
        }
    }
}

/// The effect of a toxic, its attributes read. Times are milliseconds unless named otherwise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Effect {
    /// Each chunk waits `latency` ± `jitter`.
    Latency { latency: u64, jitter: u64 },
    /// At most `rate` KB (1000 bytes) per second; 0 lets nothing through.
    Bandwidth { rate: u64 },
    /// The close waits `delay` after the source closed.
    SlowClose { delay: u64 },
    /// Data is dropped; the connection closes after `timeout` (never when 0).
    Timeout { timeout: u64 },
    /// The connection is reset (TCP RST) after `timeout` (at once when 0).
    ResetPeer { timeout: u64 },
    /// Chunks are cut into pieces of `average_size` ± `size_variation` bytes, `delay`
    /// microseconds apart.
    Slicer {
        average_size: u64,
        size_variation: u64,
        delay: u64,
    },
    /// The connection closes once `bytes` bytes have gone through.
    LimitData { bytes: u64 },
}

/// The attribute names of each type, in the order shown, each defaulting to 0.
fn attribute_names(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "latency" => &["latency", "jitter"],
        "bandwidth" => &["rate"],
        "slow_close" => &["delay"],
        "timeout" => &["timeout"],
        "reset_peer" => &["timeout"],
        "slicer" => &["average_size", "size_variation", "delay"],
        "limit_data" => &["bytes"],
        _ => return None,
    })
}

/// One toxic of a proxy.
#[derive(Debug, Clone, PartialEq)]
pub struct Toxic {
    pub name: String,
    pub kind: String,
    pub stream: Stream,
    pub toxicity: f64,
    pub attributes: Map<String, Value>,
    pub effect: Effect,
}

impl Toxic {
    /// Reads a toxic as the API receives it; the error is the message of a 400.
    pub fn from_request(body: &Value) -> Result<Toxic, String> {
        let obj = body.as_object().ok_or("a toxic must be a JSON object")?;
        let kind = match obj.get("type") {
            Some(Value::String(t)) => t.clone(),
            _ => return Err("a toxic needs a 'type'".into()),
        };
        if attribute_names(&kind).is_none() {
            return Err(format!("invalid toxic type: {kind}"));
        }
        let stream = match obj.get("stream") {
            None | Some(Value::Null) => Stream::Downstream,
            Some(Value::String(s)) if s.is_empty() => Stream::Downstream,
            Some(Value::String(s)) => {
                Stream::parse(s).ok_or_else(|| format!("invalid stream: {s}"))?
            }
            Some(_) => return Err("'stream' must be a string".into()),
        };
        let name = match obj.get("name") {
            Some(Value::String(n)) if !n.is_empty() => n.clone(),
            None | Some(Value::Null) | Some(Value::String(_)) => {
                format!("{kind}_{}", stream.as_str())
            }
            Some(_) => return Err("'name' must be a string".into()),
        };
        let mut toxic = Toxic {
            name,
            kind,
            stream,
            toxicity: 1.0,
            attributes: Map::new(),
            effect: Effect::LimitData { bytes: 0 },
        };
        toxic.apply_update(obj)?;
        Ok(toxic)
    }

    /// Applies the `toxicity` and `attributes` of an update (or a creation) to this toxic.
    pub fn apply_update(&mut self, obj: &Map<String, Value>) -> Result<(), String> {
        if let Some(t) = obj.get("toxicity").filter(|v| !v.is_null()) {
            let t = t.as_f64().ok_or("'toxicity' must be a number")?;
            if !(0.0..=1.0).contains(&t) {
                return Err("'toxicity' must be between 0 and 1".into());
            }
            self.toxicity = t;
        }
        let names = attribute_names(&self.kind).unwrap_or(&[]);
        let mut values: Vec<u64> = names
            .iter()
            .map(|n| self.attributes.get(*n).and_then(Value::as_u64).unwrap_or(0))
            .collect();
        match obj.get("attributes") {
            None | Some(Value::Null) => {}
            Some(Value::Object(given)) => {
                for (i, n) in names.iter().enumerate() {
                    if let Some(v) = given.get(*n) {
                        values[i] = whole(v).ok_or_else(|| {
                            format!("attribute '{n}' must be a non-negative whole number")
                        })?;
                    }
                }
            }
            Some(_) => return Err("'attributes' must be an object".into()),
        }
        self.attributes = names
            .iter()
            .zip(&values)
            .map(|(n, v)| (n.to_string(), json!(v)))
            .collect();
        let v = |i: usize| values.get(i).copied().unwrap_or(0);
        self.effect = match self.kind.as_str() {
            "latency" => Effect::Latency {
                latency: v(0),
                jitter: v(1),
            },
            "bandwidth" => Effect::Bandwidth { rate: v(0) },
            "slow_close" => Effect::SlowClose { delay: v(0) },
            "timeout" => Effect::Timeout { timeout: v(0) },
            "reset_peer" => Effect::ResetPeer { timeout: v(0) },
            "slicer" => Effect::Slicer {
                average_size: v(0),
                size_variation: v(1),
                delay: v(2),
            },
            _ => Effect::LimitData { bytes: v(0) },
        };
        Ok(())
    }

    /// The toxic as the API shows it.
    pub fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "type": self.kind,
            "stream": self.stream.as_str(),
            "toxicity": self.toxicity,
            "attributes": self.attributes,
        })
    }
}

/// A whole number given as a JSON number (a float with no fraction is accepted).
fn whole(v: &Value) -> Option<u64> {
    v.as_u64().or_else(|| {
        v.as_f64()
            .filter(|f| f.is_finite() && *f >= 0.0 && f.fract() == 0.0 && *f < 1e15)
            .map(|f| f as u64)
    })
}

static SEED: AtomicU64 = AtomicU64::new(0);

/// A uniform number in [0, 1): a small xorshift generator, seeded from the clock.
pub fn random() -> f64 {
    let mut x = SEED.load(Ordering::Relaxed);
    if x == 0 {
        x = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9e37_79b9_7f4a_7c15)
            | 1;
    }
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    SEED.store(x, Ordering::Relaxed);
    (x >> 11) as f64 / (1u64 << 53) as f64
}

/// `base` moved by up to `spread` either way, never below zero.
pub fn vary(base: u64, spread: u64) -> u64 {
    if spread == 0 {
        return base;
    }
    let offset = (random() * (2 * spread + 1) as f64) as i128 - spread as i128;
    (base as i128 + offset).max(0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_attributes() {
        let t = Toxic::from_request(&json!({"type": "latency", "attributes": {"latency": 500}}))
            .unwrap();
        assert_eq!(t.name, "latency_downstream");
        assert_eq!(t.toxicity, 1.0);
        assert_eq!(
            t.effect,
            Effect::Latency {
                latency: 500,
                jitter: 0
            }
        );
        assert_eq!(
            t.to_json()["attributes"],
            json!({"latency": 500, "jitter": 0})
        );
    }

    #[test]
    fn bad_input_is_refused() {
        for body in [
            json!({"type": "nope"}),
            json!({}),
            json!({"type": "latency", "stream": "sideways"}),
            json!({"type": "latency", "toxicity": 2}),
            json!({"type": "latency", "attributes": {"latency": -1}}),
            json!({"type": "latency", "attributes": {"latency": "x"}}),
            json!([1]),
        ] {
            assert!(Toxic::from_request(&body).is_err(), "{body}");
        }
    }

    #[test]
    fn vary_stays_in_range() {
        for _ in 0..1000 {
            let v = vary(100, 10);
            assert!((90..=110).contains(&v));
        }
        assert_eq!(vary(5, 0), 5);
        assert!(random() < 1.0);
    }
}
