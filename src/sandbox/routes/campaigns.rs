//! Proactive conversations: add a batch of recipients to a campaign (200 with the
//! collection, status `PENDING`). Email campaigns need each recipient's email address,
//! SMS and voice campaigns a phone number.

use axum::extract::{Path, State};
use serde_json::{Map, Value, json};

use super::{App, JsonBody, lock, ok_json, required};
use crate::sandbox::error::{GladlyError, RouteResult};
use crate::sandbox::state::parse_ts;

/// Checks one recipient against the campaign type.
fn check_recipient(kind: &str, recipient: &Value) -> Result<(), GladlyError> {
    let text = |k: &str| recipient.get(k).and_then(Value::as_str);
    required("recipients.customerName", text("customerName"))?;
    let zone = required("recipients.timezone", text("timezone"))?;
    if zone.parse::<chrono_tz::Tz>().is_err() {
        return Err(GladlyError::invalid(
            "recipients.timezone",
            format!("[{zone}] is not an IANA time zone"),
        ));
    }
    if kind == "EMAIL" {
        required("recipients.emailAddress", text("emailAddress"))?;
    } else {
        required("recipients.phoneNumber", text("phoneNumber"))?;
    }
    Ok(())
}

/// `POST /api/v1/campaigns/{campaignId}/recipient-collections`.
pub(super) async fn create(
    State(app): State<App>,
    Path(campaign): Path<String>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> RouteResult {
    let mut org = lock(&app);
    let kind = org
        .campaigns
        .get(&campaign)
        .and_then(|c| c["type"].as_str())
        .map(str::to_owned)
        .ok_or_else(|| GladlyError::not_exist(format!("campaign [{campaign}] does not exist")))?;
    let text = |k: &str| body.get(k).and_then(Value::as_str);
    let name = required("name", text("name"))?;
    let start = required("startAfter", text("startAfter"))?;
    let start_at = parse_ts(start).ok_or_else(|| {
        GladlyError::invalid("startAfter", format!("[{start}] is not a date-time"))
    })?;
    if let Some(end) = text("endBefore") {
        let end_at = parse_ts(end).ok_or_else(|| {
            GladlyError::invalid("endBefore", format!("[{end}] is not a date-time"))
        })?;
        if end_at <= start_at {
            return Err(GladlyError::invalid(
                "endBefore",
                "endBefore must be after startAfter",
            ));
        }
    }
    let recipients = body
        .get("recipients")
        .and_then(Value::as_array)
        .filter(|r| !r.is_empty());
    let recipients =
        recipients.ok_or_else(|| GladlyError::blank("recipients", "recipients must be present"))?;
    for recipient in recipients {
        check_recipient(&kind, recipient)?;
    }
    let id = org.new_id();
    let mut collection = json!({"id": id, "campaignId": campaign, "type": kind, "startAfter": start,
                                "name": name, "status": "PENDING", "recipientCount": recipients.len()});
    // Absent when not given, never null (the reference types it as a string).
    if let Some(end) = text("endBefore") {
        collection["endBefore"] = json!(end);
    }
    org.recipient_collections.insert(id, collection.clone());
    ok_json(collection)
}
