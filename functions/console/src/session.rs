//! Sessions: a cookie `name.expires.nonce.generation.mac`, the MAC an HMAC-SHA256 under the
//! session key over the first four parts and the operator's password hash (so a changed
//! password or a removed operator ends their sessions), and a per-session CSRF token derived
//! from it. The cookie is read from the right, so a name may hold dots. The generation is
//! the operator's in the database when the session was issued: signing out raises it
//! ([`revoke`]), which ends every session issued before.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use qwen_core::ports::{Sql, SqlError, SqlValue};

use crate::settings::{ConsoleSettings, Operator};

/// The session cookie's name.
pub const COOKIE: &str = "qc_session";
/// The path every console cookie is scoped to.
pub const PATH: &str = "/console";

/// A signed-in operator. Its `Debug` shows at most 4 characters of the cookie value.
#[derive(Clone, PartialEq, Eq)]
pub struct Session {
    /// The operator's name.
    pub operator: String,
    /// When it ends, Unix ms.
    pub expires_ms: i64,
    /// The operator's session generation it was issued under.
    pub generation: i64,
    /// The cookie value.
    pub value: String,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("operator", &self.operator)
            .field("expires_ms", &self.expires_ms)
            .field("generation", &self.generation)
            .field("value", &qwen_core::signing::redact(&self.value))
            .finish()
    }
}

fn mac(key: &str, op: &Operator, payload: &str) -> Vec<u8> {
    let mut m = match Hmac::<Sha256>::new_from_slice(key.as_bytes()) {
        Ok(m) => m,
        Err(_) => return Vec::new(),
    };
    m.update(payload.as_bytes());
    m.update(b"\0");
    m.update(op.hash.to_string().as_bytes());
    m.finalize().into_bytes().to_vec()
}

/// A new session for `op` under its current `generation`, valid for the configured length
/// from `now_ms`.
pub fn issue(s: &ConsoleSettings, op: &Operator, now_ms: i64, generation: i64) -> Session {
    let expires_ms = now_ms + s.session_ms;
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    let payload = format!("{}.{expires_ms}.{nonce}.{generation}", op.name);
    let sig = hex::encode(mac(&s.session_key, op, &payload));
    Session {
        operator: op.name.clone(),
        expires_ms,
        generation,
        value: format!("{payload}.{sig}"),
    }
}

/// The session a cookie value proves, if it is well signed, unexpired and its operator
/// still exists (whether its generation is still current is [`current`]'s question).
pub fn verify(s: &ConsoleSettings, value: &str, now_ms: i64) -> Option<Session> {
    let (payload, sig) = value.rsplit_once('.')?;
    // From the right: only the name may hold a dot.
    let mut parts = payload.rsplitn(4, '.');
    let (generation, _nonce, expires, name) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let op = s.operator(name)?;
    let given = hex::decode(sig).ok()?;
    let want = mac(&s.session_key, op, payload);
    if want.is_empty() || !bool::from(want.ct_eq(&given)) {
        return None;
    }
    let expires_ms: i64 = expires.parse().ok()?;
    let generation: i64 = generation.parse().ok()?;
    (expires_ms > now_ms).then(|| Session {
        operator: op.name.clone(),
        expires_ms,
        generation,
        value: value.to_owned(),
    })
}

/// The operator's current session generation (0 before their first sign-out).
///
/// # Errors
/// The database's error.
pub async fn generation(sql: &dyn Sql, operator: &str) -> Result<i64, SqlError> {
    let rows = sql
        .execute(
            "SELECT generation FROM console_sessions WHERE operator = ?1",
            &[SqlValue::Text(operator.to_owned())],
        )
        .await?;
    qwen_core::db::count(&rows)
}

/// Whether `session` was issued under its operator's current generation (not signed out).
///
/// # Errors
/// The database's error.
pub async fn current(sql: &dyn Sql, session: &Session) -> Result<bool, SqlError> {
    Ok(generation(sql, &session.operator).await? == session.generation)
}

/// Ends every session of `operator` issued so far (signing out).
///
/// # Errors
/// The database's error.
pub async fn revoke(sql: &dyn Sql, operator: &str) -> Result<(), SqlError> {
    sql.execute(
        "INSERT INTO console_sessions (operator, generation) VALUES (?1, 1) \
         ON CONFLICT(operator) DO UPDATE SET generation = generation + 1",
        &[SqlValue::Text(operator.to_owned())],
    )
    .await?;
    Ok(())
}

/// The CSRF token of `session`: every form of the session carries it.
pub fn csrf_token(s: &ConsoleSettings, session: &Session) -> String {
    let Ok(mut m) = Hmac::<Sha256>::new_from_slice(s.session_key.as_bytes()) else {
        return String::new();
    };
    m.update(b"csrf\0");
    m.update(session.value.as_bytes());
    hex::encode(m.finalize().into_bytes())
}

/// Whether `given` is the session's CSRF token (constant-time).
pub fn csrf_ok(s: &ConsoleSettings, session: &Session, given: &str) -> bool {
    let want = csrf_token(s, session);
    !want.is_empty() && bool::from(want.as_bytes().ct_eq(given.as_bytes()))
}

/// The `Set-Cookie` value for `session`.
pub fn set_cookie(session: &Session, now_ms: i64, secure: bool) -> String {
    let max_age = ((session.expires_ms - now_ms) / 1000).max(0);
    format!(
        "{COOKIE}={}; Path={PATH}; Max-Age={max_age}; HttpOnly; SameSite=Strict{}",
        session.value,
        if secure { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie(secure: bool) -> String {
    format!(
        "{COOKIE}=; Path={PATH}; Max-Age=0; HttpOnly; SameSite=Strict{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The value of cookie `name` in a `Cookie` header.
pub fn cookie<'a>(header: Option<&'a str>, name: &str) -> Option<&'a str> {
    header?
        .split(';')
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::password::PasswordHash;

    fn settings() -> ConsoleSettings {
        ConsoleSettings {
            operators: vec![Operator {
                name: "anna".into(),
                hash: PasswordHash::new("pw", &[1u8; 16], 1_000),
            }],
            session_key: "k".repeat(40),
            session_ms: 60_000,
            client_ip_header: crate::settings::DEFAULT_CLIENT_IP_HEADER.into(),
        }
    }

    #[test]
    fn issued_sessions_verify_until_they_expire() {
        let s = settings();
        let session = issue(&s, &s.operators[0], 1_000, 3);
        assert_eq!(verify(&s, &session.value, 2_000), Some(session.clone()));
        assert_eq!(verify(&s, &session.value, 61_000), None);
        let forged = session.value.replacen("anna.61000", "anna.99999999", 1);
        assert_eq!(verify(&s, &forged, 2_000), None);
        let (payload, sig) = session.value.rsplit_once('.').expect("signed");
        let older = format!("{}.2.{sig}", payload.trim_end_matches(".3"));
        assert_eq!(verify(&s, &older, 2_000), None, "the generation is signed");
        let mut other = s.clone();
        other.session_key = "x".repeat(40);
        assert_eq!(verify(&other, &session.value, 2_000), None);
    }

    #[test]
    fn csrf_tokens_belong_to_their_session() {
        let s = settings();
        let (a, b) = (
            issue(&s, &s.operators[0], 0, 0),
            issue(&s, &s.operators[0], 0, 0),
        );
        assert!(csrf_ok(&s, &a, &csrf_token(&s, &a)));
        assert!(!csrf_ok(&s, &a, &csrf_token(&s, &b)));
        assert!(!csrf_ok(&s, &a, ""));
    }

    #[test]
    fn a_dotted_name_verifies() {
        let mut s = settings();
        s.operators[0].name = "anna.k".into();
        let session = issue(&s, &s.operators[0], 1_000, 0);
        let found = verify(&s, &session.value, 2_000).map(|f| f.operator);
        assert_eq!(found.as_deref(), Some("anna.k"));
    }

    #[test]
    fn debug_hides_the_cookie_value() {
        let s = settings();
        let session = issue(&s, &s.operators[0], 0, 0);
        let shown = format!("{session:?}");
        assert!(!shown.contains(&session.value[4..]), "{shown}");
    }

    #[test]
    fn cookies_are_found_by_name() {
        let h = Some("a=1; qc_session=x.y; b=2");
        assert_eq!(cookie(h, COOKIE), Some("x.y"));
        assert_eq!(cookie(h, "c"), None);
    }
}
