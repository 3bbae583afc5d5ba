//! Outbound messages: send an SMS to a mobile number or an email to one address, from a
//! number or address the org owns. The customer is found (or created) by that number or
//! address; the message becomes a conversation item. Both answer 200
//! `{customerId, conversationItemId}`. Nothing is delivered anywhere.

use axum::Router;
use axum::extract::State;
use axum::routing::post;
use serde_json::{Map, Value, json};

use super::{App, JsonBody, check_len, lock, ok_json, required};
use crate::sandbox::error::{GladlyError, RouteResult};
use crate::sandbox::state::{Item, Org};

/// The communication routes.
pub(super) fn routes() -> Router<App> {
    Router::new()
        .route("/api/v1/communications/sms", post(send_sms))
        .route("/api/v1/communications/email", post(send_email))
}

fn record(org: &mut Org, customer_id: &str, content: Value) -> Value {
    let id = org.new_id();
    let timestamp = org.now();
    let initiator = json!({"id": org.api_agent_id(), "type": "AGENT"});
    org.items.insert(
        id.clone(),
        Item {
            id: id.clone(),
            customer_id: customer_id.to_owned(),
            conversation_id: None,
            timestamp,
            initiator: Some(initiator),
            responder: None,
            content,
        },
    );
    json!({"customerId": customer_id, "conversationItemId": id})
}

async fn send_sms(
    State(app): State<App>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> RouteResult {
    let mobile = required(
        "customer.mobileNumber",
        body.get("customer")
            .and_then(|c| c.get("mobileNumber"))
            .and_then(Value::as_str),
    )?;
    let from = required("from", body.get("from").and_then(Value::as_str))?;
    let text = required("body", body.get("body").and_then(Value::as_str))?;
    let mut org = lock(&app);
    if !org.sender_numbers.iter().any(|n| n == from) {
        return Err(GladlyError::invalid(
            "from",
            format!("[{from}] is not a number of the organization"),
        ));
    }
    let customer_id =
        super::customers::find_or_create(&mut org, Some(&json!({"mobilePhone": mobile})))?;
    let to = crate::sandbox::state::normalize_phone(mobile);
    ok_json(record(
        &mut org,
        &customer_id,
        json!({"type": "SMS", "from": from, "to": to, "content": text}),
    ))
}

async fn send_email(
    State(app): State<App>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> RouteResult {
    let to = body
        .get("to")
        .and_then(Value::as_array)
        .filter(|t| !t.is_empty());
    let to = to.ok_or_else(|| GladlyError::blank("to", "to must be present"))?;
    let [recipient] = to.as_slice() else {
        return Err(GladlyError::invalid(
            "to",
            "an email is sent to exactly one recipient",
        ));
    };
    let address = required("to.email", recipient.get("email").and_then(Value::as_str))?;
    let from = required("from", body.get("from").and_then(Value::as_str))?;
    let subject = required("subject", body.get("subject").and_then(Value::as_str))?;
    check_len("subject", Some(subject), 999)?;
    let content = body.get("body");
    let text = content
        .and_then(|b| b.get("text"))
        .or_else(|| content.and_then(|b| b.get("html")))
        .and_then(Value::as_str);
    let text = required("body", text)?;
    let mut org = lock(&app);
    if !org
        .sender_addresses
        .iter()
        .any(|a| a.eq_ignore_ascii_case(from))
    {
        return Err(GladlyError::invalid(
            "from",
            format!("[{from}] is not an address of the organization"),
        ));
    }
    let known = org.customer_by_email(address).is_some();
    let customer_id =
        super::customers::find_or_create(&mut org, Some(&json!({"emailAddress": address})))?;
    if let (false, Some(name), Some(customer)) = (
        known,
        recipient.get("name").and_then(Value::as_str),
        org.customers.get_mut(&customer_id),
    ) {
        customer.name = Some(name.to_owned());
    }
    let email = json!({"type": "EMAIL", "from": from, "to": [address], "subject": subject, "content": text});
    ok_json(record(&mut org, &customer_id, email))
}
