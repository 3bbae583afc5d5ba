//! Business hours: list, get, create (201 with the configuration), replace with an
//! optimistic lock (`version` must be current, else 409 `version_outdated`; 200 with the
//! new configuration) and delete (the primary configuration cannot be deleted).

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::{Map, Value, json};

use super::{App, JsonBody, check_len, lock, no_content, ok_json};
use crate::sandbox::error::{GladlyError, RouteResult};
use crate::sandbox::state::{Org, parse_ts};

/// The business-hours routes.
pub(super) fn routes() -> Router<App> {
    Router::new()
        .route("/api/v1/business-hours", get(list).post(create))
        .route(
            "/api/v1/business-hours/{id}",
            get(get_one).put(replace).delete(remove),
        )
}

const DAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

fn not_found() -> GladlyError {
    GladlyError::not_exist("business hours does not exist")
}

/// Minutes since midnight of an `HH:MM` 24-hour time.
fn minutes(text: &str) -> Option<u32> {
    let (h, m) = text.split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60 && text.len() == 5).then_some(h * 60 + m)
}

/// Validates `name` and `officeHours` of a request; returns them normalised.
fn check_config(body: &Map<String, Value>) -> Result<(String, Value), GladlyError> {
    let name = body
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim()
        .to_owned();
    if name.is_empty() {
        return Err(GladlyError::invalid("name", "name must be present"));
    }
    check_len("name", Some(&name), 200)?;
    let hours = body
        .get("officeHours")
        .and_then(Value::as_object)
        .ok_or_else(|| GladlyError::blank("officeHours", "officeHours must be present"))?;
    let zone = hours
        .get("timezone")
        .and_then(Value::as_str)
        .filter(|z| !z.is_empty());
    let zone =
        zone.ok_or_else(|| GladlyError::blank("officeHours.timezone", "timezone must be present"))?;
    if zone.parse::<chrono_tz::Tz>().is_err() {
        return Err(GladlyError::invalid(
            "officeHours.timezone",
            format!("[{zone}] is not an IANA time zone"),
        ));
    }
    let mut out = Map::new();
    out.insert("timezone".into(), json!(zone));
    for day in DAYS {
        let blocks = hours.get(day).cloned().unwrap_or(json!([]));
        for block in blocks.as_array().into_iter().flatten() {
            let (start, stop) = (
                block["start"].as_str().and_then(minutes),
                block["stop"].as_str().and_then(minutes),
            );
            if !matches!((start, stop), (Some(a), Some(b)) if a < b) {
                return Err(GladlyError::invalid(
                    &format!("officeHours.{day}"),
                    "each block needs start and stop as HH:MM with start before stop",
                ));
            }
        }
        out.insert(day.into(), blocks);
    }
    let exceptions = hours.get("exceptions").cloned().unwrap_or(json!([]));
    for exception in exceptions.as_array().into_iter().flatten() {
        if exception["name"].as_str().is_none_or(str::is_empty) {
            return Err(GladlyError::blank(
                "officeHours.exceptions.name",
                "exception name must be present",
            ));
        }
        for key in ["start", "stop"] {
            if exception[key].as_str().and_then(parse_ts).is_none() {
                return Err(GladlyError::invalid(
                    &format!("officeHours.exceptions.{key}"),
                    "must be a date-time",
                ));
            }
        }
    }
    out.insert("exceptions".into(), exceptions);
    Ok((name, Value::Object(out)))
}

/// Makes `id` the only primary configuration.
fn make_primary(org: &mut Org, id: &str) {
    for (other, config) in &mut org.business_hours {
        config["primary"] = json!(other == id);
    }
}

async fn list(State(app): State<App>) -> RouteResult {
    let org = lock(&app);
    ok_json(org.business_hours.values().collect::<Vec<_>>())
}

async fn get_one(State(app): State<App>, Path(id): Path<String>) -> RouteResult {
    let org = lock(&app);
    ok_json(org.business_hours.get(&id).ok_or_else(not_found)?)
}

async fn create(
    State(app): State<App>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> RouteResult {
    let (name, hours) = check_config(&body)?;
    let mut org = lock(&app);
    let id = format!("bh_{}", org.new_id());
    let now = org.now();
    let primary = body
        .get("primary")
        .and_then(Value::as_bool)
        .unwrap_or(false)
        || org.business_hours.is_empty();
    let config = json!({"id": id, "version": 1, "createdAt": now, "updatedAt": now, "name": name,
                        "primary": primary, "officeHours": hours});
    org.business_hours.insert(id.clone(), config);
    if primary {
        make_primary(&mut org, &id);
    }
    let config = org.business_hours[&id].clone();
    Ok((StatusCode::CREATED, axum::Json(config)).into_response())
}

async fn replace(
    State(app): State<App>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> RouteResult {
    let mut org = lock(&app);
    let current = org.business_hours.get(&id).ok_or_else(not_found)?.clone();
    let version = body
        .get("version")
        .and_then(Value::as_i64)
        .ok_or_else(|| GladlyError::blank("version", "version must be present"))?;
    if Some(version) != current["version"].as_i64() {
        return Err(GladlyError::new(
            StatusCode::CONFLICT,
            None,
            "version_outdated",
            "the version provided is outdated",
        ));
    }
    let (name, hours) = check_config(&body)?;
    let now = org.now();
    // The org always has one primary configuration: it stays primary until another is
    // made primary, so `primary: false` on it changes nothing.
    let primary = current["primary"] == true
        || body
            .get("primary")
            .and_then(Value::as_bool)
            .unwrap_or(false);
    let config = json!({"id": id, "version": version + 1, "createdAt": current["createdAt"], "updatedAt": now,
                        "name": name, "primary": primary, "officeHours": hours});
    org.business_hours.insert(id.clone(), config);
    if primary {
        make_primary(&mut org, &id);
    }
    ok_json(&org.business_hours[&id])
}

async fn remove(State(app): State<App>, Path(id): Path<String>) -> RouteResult {
    let mut org = lock(&app);
    let config = org.business_hours.get(&id).ok_or_else(not_found)?;
    if config["primary"] == true {
        return Err(GladlyError::invalid(
            "id",
            "the primary business hours cannot be deleted",
        ));
    }
    org.business_hours.remove(&id);
    no_content()
}
