//! Shared helpers for the JSON site adapters: reading a document, lenient field
//! deserializers (numbers that may be null or strings, tag lists, ids), and timestamps.

use super::{Parsed, SourceError};
use crate::model::Sighting;
use crate::normalize::collapse_whitespace;
use chrono::{DateTime, Utc};
use serde::de::{DeserializeOwned, Deserializer};
use serde::Deserialize;
use serde_json::Value;

/// Parses `body` as JSON (a leading UTF-8 BOM is ignored); syntax errors carry serde's
/// line and column.
pub(super) fn read_document(format: &'static str, body: &[u8]) -> Result<Value, SourceError> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    serde_json::from_slice(body).map_err(|e| invalid(format, e.to_string()))
}

pub(super) fn invalid(format: &'static str, message: impl Into<String>) -> SourceError {
    SourceError::Invalid {
        format,
        message: message.into(),
    }
}

/// "an array", "a string", ...: for messages about an unexpected document shape.
pub(super) fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Deserializes one item; a field of the wrong type makes only this item unusable.
pub(super) fn decode<T: DeserializeOwned>(value: &Value) -> Result<T, String> {
    T::deserialize(value).map_err(|e| e.to_string())
}

/// Records one item's outcome: a sighting, or the reason it was skipped.
pub(super) fn record(parsed: &mut Parsed, outcome: Result<Sighting, String>) {
    match outcome {
        Ok(sighting) => parsed.sightings.push(sighting),
        Err(reason) => parsed.skipped.push(reason),
    }
}

/// A count such as points or comments: integer, float, numeric string, or null.
pub(super) fn count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

/// An id that some APIs send as a number and others as a string.
pub(super) fn id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => non_empty(Some(s)),
        _ => None,
    })
}

/// Seconds since the epoch, integer or float (Reddit's `created_utc` is a float).
pub(super) fn unix_seconds<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

/// A tag list sent as an array of strings or as one comma-separated string.
pub(super) fn tag_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let raw: Vec<String> = match Value::deserialize(d)? {
        Value::Array(items) => items
            .into_iter()
            .filter_map(|v| match v {
                Value::String(s) => Some(s),
                _ => None,
            })
            .collect(),
        Value::String(s) => s.split(',').map(str::to_string).collect(),
        _ => Vec::new(),
    };
    Ok(raw
        .iter()
        .map(|t| collapse_whitespace(t))
        .filter(|t| !t.is_empty())
        .collect())
}

/// A user given as a plain name or as an object with a `username` field.
pub(super) fn user_name<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => non_empty(Some(s)),
        Value::Object(map) => match map.get("username") {
            Some(Value::String(s)) => non_empty(Some(s.clone())),
            _ => None,
        },
        _ => None,
    })
}

/// The trimmed string, or `None` when absent or blank.
pub(super) fn non_empty(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_string()).filter(|t| !t.is_empty())
}

pub(super) fn from_unix_seconds(seconds: f64) -> Option<DateTime<Utc>> {
    if !seconds.is_finite() {
        return None;
    }
    let whole = seconds.floor();
    let nanos = ((seconds - whole) * 1e9).round().min(999_999_999.0) as u32;
    DateTime::from_timestamp(whole as i64, nanos)
}

pub(super) fn from_rfc3339(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
pub mod testing {
    //! Helpers for adapter tests: a context to parse with, and item builders.
    use super::super::{Parsed, SourceContext, SourceError};
    use crate::sources::{SourceConfig, SourceKind};
    use chrono::{TimeZone, Utc};
    use serde_json::Value;
    use std::time::Duration;

    pub type Adapter = fn(&SourceContext, &[u8]) -> Result<Parsed, SourceError>;

    /// Runs `adapter` over `body` for a source `kind` with id `test`.
    pub fn run(adapter: Adapter, kind: SourceKind, body: &[u8]) -> Result<Parsed, SourceError> {
        run_keeping(adapter, kind, body, 1000)
    }

    /// `run`, keeping at most `max_entries` entries.
    pub fn run_keeping(
        adapter: Adapter,
        kind: SourceKind,
        body: &[u8],
        max_entries: usize,
    ) -> Result<Parsed, SourceError> {
        let url = kind
            .default_url()
            .unwrap_or_else(|| url::Url::parse("https://example.org/").unwrap());
        let source = SourceConfig {
            id: "test".to_string(),
            kind,
            url,
            poll: Duration::from_secs(600),
            name: "test".to_string(),
        };
        let fetched_at = Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap();
        let ctx = SourceContext {
            source: &source,
            url: &source.url,
            fetched_at,
            max_entries,
        };
        adapter(&ctx, body)
    }

    /// Each body must be refused as invalid `format`; a syntax error must name its line.
    pub fn assert_invalid(adapter: Adapter, format: &str, bodies: &[&str]) {
        for body in bodies.iter().chain(&["{\n\n!"]) {
            match run(adapter, SourceKind::HackerNews, body.as_bytes()) {
                Err(SourceError::Invalid { format: f, message }) => {
                    assert_eq!(f, format, "{body}");
                    assert!(!message.is_empty(), "{body}");
                }
                other => panic!("{body}: {other:?}"),
            }
        }
        let err = run(adapter, SourceKind::HackerNews, b"{\n\n!").unwrap_err();
        assert!(err.to_string().contains("line 3"), "{err}");
    }

    /// `base` with the fields of `extra` set over it.
    pub fn with(mut base: Value, extra: &Value) -> Value {
        for (k, v) in extra.as_object().unwrap() {
            base[k] = v.clone();
        }
        base
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Deserialize)]
    struct Probe {
        #[serde(default, deserialize_with = "count")]
        n: Option<i64>,
        #[serde(default, deserialize_with = "tag_list")]
        tags: Vec<String>,
        #[serde(default, deserialize_with = "user_name")]
        user: Option<String>,
        #[serde(default, deserialize_with = "id")]
        id: Option<String>,
    }

    #[test]
    fn lenient_fields() {
        let cases = [
            (
                json!({"n": 5, "tags": ["a", " b "], "user": "u", "id": 7}),
                Some(5),
                vec!["a", "b"],
                Some("u"),
                Some("7"),
            ),
            (
                json!({"n": null, "tags": "go, rust ,", "user": {"username": "v"}, "id": "x1"}),
                None,
                vec!["go", "rust"],
                Some("v"),
                Some("x1"),
            ),
            (
                json!({"n": 3.9, "tags": 12, "user": null, "id": ""}),
                Some(3),
                vec![],
                None,
                None,
            ),
            (json!({"n": "42"}), Some(42), vec![], None, None),
        ];
        for (input, n, tags, user, id) in cases {
            let p: Probe = decode(&input).unwrap();
            assert_eq!(p.n, n, "{input}");
            assert_eq!(p.tags, tags, "{input}");
            assert_eq!(p.user.as_deref(), user, "{input}");
            assert_eq!(p.id.as_deref(), id, "{input}");
        }
    }

    #[test]
    fn timestamps() {
        let t = from_unix_seconds(1_700_000_000.5).unwrap();
        assert_eq!(t.timestamp(), 1_700_000_000);
        assert_eq!(t.timestamp_subsec_millis(), 500);
        assert!(from_unix_seconds(f64::NAN).is_none());
        assert!(from_unix_seconds(1e300).is_none());
        let t = from_rfc3339("2020-09-21T08:04:24.000-05:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2020-09-21T13:04:24+00:00");
        assert!(from_rfc3339("yesterday").is_none());
    }

    #[test]
    fn document_errors_carry_position() {
        let err = read_document("X JSON", b"{\n  \"a\": }").unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("invalid X JSON: "), "{text}");
        assert!(text.contains("line 2"), "{text}");
        assert!(read_document("X JSON", b"\xEF\xBB\xBF[]").is_ok());
    }
}
