//! The inbound HTTP model shared by every component and by the native test adapter: a plain
//! request struct, JSON answers, and the JSON error body `{"error":{"code","message"}}`.

use serde::Serialize;

use qwen_core::error::CoreError;
use qwen_core::ports::HttpResponse;

/// An inbound request, already read (the adapter enforces the body limit while reading).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Request {
    /// `GET`, `POST`…
    pub method: String,
    /// Path without the query, e.g. `/api/jobs/`.
    pub path: String,
    /// Raw query string without `?`.
    pub query: String,
    /// Header name/value pairs.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl Request {
    /// First header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The last header named `name` (case-insensitive): where a client may send a header
    /// the server also sets (Spin's `spin-client-addr`, a proxy's `x-forwarded-for`), the
    /// server's copy comes last.
    pub fn last_header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .rev()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A decoded query parameter.
    pub fn query_param(&self, name: &str) -> Option<String> {
        form_urlencoded::parse(self.query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    /// Parses the JSON body, which must be an object.
    ///
    /// # Errors
    /// A 400 `malformed_json` response naming the problem.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, HttpResponse> {
        let malformed = |e: &dyn std::fmt::Display| {
            error(
                400,
                "malformed_json",
                &format!("request body is not valid JSON for this route: {e}"),
            )
        };
        let mut value: serde_json::Value =
            serde_json::from_slice(&self.body).map_err(|e| malformed(&e))?;
        if !value.is_object() {
            return Err(malformed(&"expected a JSON object"));
        }
        whole_numbers(&mut value);
        serde_json::from_value(value).map_err(|e| malformed(&e))
    }
}

/// An integer in a path segment or query value: decimal digits, or a whole-number float
/// spelling within ±2^53 (`42.0`, `1e3`), the same number as the schema's `integer` reads it.
pub fn int_text(raw: &str) -> Option<i64> {
    raw.parse::<i64>().ok().or_else(|| {
        raw.parse::<f64>()
            .ok()
            .filter(|f| f.fract() == 0.0 && f.abs() <= EXACT_FLOAT_INT)
            .map(|f| f as i64)
    })
}

/// Largest magnitude a JSON float spells exactly as an integer (2^53).
const EXACT_FLOAT_INT: f64 = 9_007_199_254_740_992.0;

/// Rewrites every float with no fraction (`2.0`, `1e3`) within ±2^53 as the integer it
/// spells: JSON and the API's JSON Schema make `2.0` the same number as `2`, and integer
/// fields then take it. Fractions and larger floats stay floats (and integer fields refuse
/// them).
fn whole_numbers(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Number(n) if !n.is_i64() && !n.is_u64() => {
            if let Some(f) = n
                .as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() <= EXACT_FLOAT_INT)
            {
                *value = serde_json::Value::from(f as i64);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(whole_numbers),
        serde_json::Value::Object(map) => map.values_mut().for_each(whole_numbers),
        _ => {}
    }
}

/// Whether a declared `content-length` is over `limit` (a missing or bad header is not).
pub fn declared_too_large(headers: &[(String, String)], limit: usize) -> bool {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse::<u64>().ok())
        .is_some_and(|n| n > limit as u64)
}

/// The 413 answer.
pub fn too_large(limit: usize) -> HttpResponse {
    error(
        413,
        "payload_too_large",
        &format!("request body is larger than {limit} bytes"),
    )
}

/// A JSON answer.
pub fn json<T: Serialize>(status: u16, value: &T) -> HttpResponse {
    match serde_json::to_vec(value) {
        Ok(body) => HttpResponse {
            status,
            headers: vec![json_header()],
            body,
        },
        Err(_) => error(500, "internal", "response could not be encoded"),
    }
}

fn json_header() -> (String, String) {
    ("content-type".into(), "application/json".into())
}

/// A JSON error answer `{"error":{"code","message"}}`.
pub fn error(status: u16, code: &str, message: &str) -> HttpResponse {
    let body = serde_json::json!({ "error": { "code": code, "message": message } });
    HttpResponse {
        status,
        headers: vec![json_header()],
        body: body.to_string().into_bytes(),
    }
}

/// Maps a core error to its status and JSON body `{"error":{"code","message",…details}}`.
/// Internal detail is logged, never shown; an outage of storage or the queue also makes
/// `/health` probe again.
pub fn from_core(e: &CoreError) -> HttpResponse {
    qwen_core::health::forget_after(e);
    let public = e.public();
    if public.status >= 500 {
        tracing::error!(error = %e, code = public.code, "answered with a server error");
    }
    let mut body = serde_json::Map::new();
    body.insert("code".into(), public.code.into());
    body.insert("message".into(), public.message.into());
    for (name, value) in public.details {
        body.insert(name.into(), value.into());
    }
    json(public.status, &serde_json::json!({ "error": body }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_header_takes_the_servers_copy() {
        let req = Request {
            headers: vec![
                ("spin-client-addr".into(), "127.0.0.1:443".into()),
                ("Content-Type".into(), "application/json".into()),
                ("Spin-Client-Addr".into(), "10.0.0.9:5555".into()),
            ],
            ..Request::default()
        };
        assert_eq!(req.last_header("spin-client-addr"), Some("10.0.0.9:5555"));
        assert_eq!(req.header("spin-client-addr"), Some("127.0.0.1:443"));
        assert_eq!(req.last_header("x-missing"), None);
    }

    #[test]
    fn whole_floats_are_integers_fractions_are_not() {
        let body = |b: &str| Request {
            body: b.as_bytes().to_vec(),
            ..Request::default()
        };
        #[derive(serde::Deserialize)]
        struct N {
            n: i64,
        }
        let n = |b: &str| body(b).json::<N>().map(|v| v.n).map_err(|r| r.status);
        assert_eq!(n(r#"{"n": 42}"#), Ok(42));
        assert_eq!(n(r#"{"n": 42.0}"#), Ok(42));
        assert_eq!(n(r#"{"n": -1e3}"#), Ok(-1000));
        assert_eq!(n(r#"{"n": 1.5}"#), Err(400));
        assert_eq!(n(r#"{"n": 1e17}"#), Err(400));
        assert_eq!(n(r#"{"n": 9223372036854775807}"#), Ok(i64::MAX));
        assert_eq!(int_text("42.0"), Some(42));
        assert_eq!(int_text("1e+3"), Some(1000));
        assert_eq!(int_text("-7"), Some(-7));
        for bad in ["1.5", "inf", "NaN", "1e17", "", "0x1"] {
            assert_eq!(int_text(bad), None, "{bad}");
        }
    }
}
