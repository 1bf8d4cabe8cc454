//! A Keystone token with its expiry and catalog, and the rule for reusing it.

use std::time::Duration;

use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::openstack::catalog::Catalog;
use crate::openstack::secret::Secret;

/// Re-authenticate when less than this remains (keystoneauth uses the same margin).
pub const REFRESH_MARGIN: Duration = Duration::from_secs(120);

#[derive(Debug, Clone)]
pub struct Token {
    pub value: Secret,
    pub expires_at: OffsetDateTime,
    pub catalog: Catalog,
    pub project_id: Option<String>,
    pub project_name: Option<String>,
    pub user_id: Option<String>,
    pub user_name: Option<String>,
}

impl Token {
    /// Read `expires_at`, `catalog`, `project` and `user` from a `POST /v3/auth/tokens` body.
    pub fn from_response(value: Secret, body: &Value) -> Result<Token, String> {
        let t = body.get("token").ok_or("no 'token' object in the body")?;
        let expires = t.get("expires_at").and_then(Value::as_str).ok_or("the token has no expires_at")?;
        let expires_at = parse_time(expires)?;
        let catalog = Catalog::from_json(t.get("catalog").unwrap_or(&Value::Null));
        let s = |p: &str| t.pointer(p).and_then(Value::as_str).map(str::to_owned);
        Ok(Token {
            value,
            expires_at,
            catalog,
            project_id: s("/project/id"),
            project_name: s("/project/name"),
            user_id: s("/user/id"),
            user_name: s("/user/name"),
        })
    }

    /// Can it still be used at `now`, with at least [`REFRESH_MARGIN`] to spare?
    pub fn is_fresh_at(&self, now: OffsetDateTime) -> bool {
        self.expires_at - now > REFRESH_MARGIN
    }

    pub fn is_fresh(&self) -> bool {
        self.is_fresh_at(OffsetDateTime::now_utc())
    }

    /// Time left at `now` (zero once expired).
    pub fn remaining_at(&self, now: OffsetDateTime) -> Duration {
        Duration::try_from(self.expires_at - now).unwrap_or(Duration::ZERO)
    }
}

/// Keystone writes `2026-11-28T05:16:04.000000Z`; accept any RFC 3339 time, and one without a
/// zone (treated as UTC, as Keystone's own times are).
pub fn parse_time(s: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(s, &Rfc3339)
        .or_else(|_| OffsetDateTime::parse(&format!("{s}Z"), &Rfc3339))
        .map_err(|e| format!("cannot read the time {s:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn token(expires: &str) -> Token {
        let body = json!({"token": {"expires_at": expires, "catalog": [], "project": {"id": "p", "name": "admin"}}});
        Token::from_response(Secret::new("t".into()), &body).unwrap()
    }

    #[test]
    fn reads_keystone_microsecond_time() {
        let t = token("2026-11-28T05:16:04.000000Z");
        assert_eq!(t.expires_at.unix_timestamp(), 1795842964);
        assert_eq!(t.project_name.as_deref(), Some("admin"));
    }

    #[test]
    fn reused_until_120_seconds_remain() {
        let t = token("2026-11-28T05:16:04Z");
        let at = |secs_before: i64| t.expires_at - time::Duration::seconds(secs_before);
        assert!(t.is_fresh_at(at(121)));
        assert!(!t.is_fresh_at(at(120)));
        assert!(!t.is_fresh_at(at(-5)));
        assert_eq!(t.remaining_at(at(-5)), Duration::ZERO);
    }

    #[test]
    fn rejects_a_body_without_expiry() {
        let e = Token::from_response(Secret::new("t".into()), &json!({"token": {}})).unwrap_err();
        assert!(e.contains("expires_at"), "{e}");
    }
}
