//! User identity: mint a token that identifies a customer (by email or mobile number) to
//! Gladly Chat. The sandbox's token is JWT-shaped and signed with a hash of the org id;
//! nothing verifies it.

use axum::extract::State;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::{App, JsonBody, lock, ok_json, required};
use crate::sandbox::error::{GladlyError, RouteResult};

/// `POST /api/v1/user-identity-jwt`.
pub(super) async fn create(
    State(app): State<App>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> RouteResult {
    let kind = required(
        "identityType",
        body.get("identityType").and_then(Value::as_str),
    )?;
    let identity = required("identity", body.get("identity").and_then(Value::as_str))?;
    let valid = match kind {
        "EMAIL" => identity.contains('@'),
        "MOBILE_PHONE_NUMBER" => {
            identity.starts_with('+')
                && identity[1..].bytes().all(|b| b.is_ascii_digit())
                && identity.len() > 8
        }
        _ => {
            return Err(GladlyError::invalid(
                "identityType",
                format!("[{kind}] must be EMAIL or MOBILE_PHONE_NUMBER"),
            ));
        }
    };
    if !valid {
        return Err(GladlyError::invalid(
            "identity",
            format!("[{identity}] is not a valid {kind}"),
        ));
    }
    let org = lock(&app);
    let issued_at = org.clock.now().timestamp();
    let header = URL_SAFE_NO_PAD.encode(json!({"alg": "HS256", "typ": "JWT"}).to_string());
    let claims = json!({"identityType": kind, "identity": identity, "iss": org.organization.id, "iat": issued_at});
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signature = URL_SAFE_NO_PAD.encode(Sha256::digest(format!(
        "{}.{header}.{payload}",
        org.organization.id
    )));
    ok_json(json!({"token": format!("{header}.{payload}.{signature}")}))
}
