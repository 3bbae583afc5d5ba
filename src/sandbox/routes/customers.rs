//! Customer profiles: create (client id, 201 + `Location`), find by exactly one of email /
//! phone / external id (50 newest-updated, `Gladly-Limited-Data`), get (301 for merged
//! ids), patch (arrays replaced whole, 404 for merged ids) and delete (refused while an
//! OPEN or WAITING conversation exists). Owns the uniqueness of customer id, every email
//! and every mobile phone, and the find-or-create that items and tasks use.

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{
    App, JsonBody, QueryParams, check_client_id, created, lock, no_content, ok_json, to_json,
};
use crate::sandbox::error::{GladlyError, RouteResult};
use crate::sandbox::state::{Customer, Email, Org, Phone, normalize_email, normalize_phone};

/// The customer-profile routes.
pub(super) fn routes() -> Router<App> {
    Router::new()
        .route("/api/v1/customer-profiles", post(create).get(find))
        .route(
            "/api/v1/customer-profiles/{id}",
            get(get_one).patch(update).delete(remove),
        )
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EmailIn {
    original: Option<String>,
    #[serde(default)]
    primary: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PhoneIn {
    original: Option<String>,
    extension: Option<String>,
    region_code: Option<String>,
    #[serde(default)]
    primary: bool,
    sms_preference: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

/// Builds validated emails from a request array.
fn build_emails(list: Vec<EmailIn>) -> Result<Vec<Email>, GladlyError> {
    let mut out: Vec<Email> = Vec::new();
    for email in list {
        let original = super::required("emails.original", email.original.as_deref())?.to_owned();
        let normalized = normalize_email(&original);
        if !normalized.contains('@') || normalized.starts_with('@') || normalized.ends_with('@') {
            return Err(GladlyError::invalid(
                "emails.original",
                format!("[{original}] is not an email address"),
            ));
        }
        if out.iter().any(|e| e.normalized == normalized) {
            return Err(GladlyError::invalid(
                "emails",
                format!("[{original}] is listed twice"),
            ));
        }
        out.push(Email {
            original,
            normalized,
            primary: email.primary,
        });
    }
    if out.iter().filter(|e| e.primary).count() > 1 {
        return Err(GladlyError::invalid(
            "emails.primary",
            "at most one email can be primary",
        ));
    }
    Ok(out)
}

/// Builds validated phones from a request array.
fn build_phones(list: Vec<PhoneIn>) -> Result<Vec<Phone>, GladlyError> {
    let mut out = Vec::new();
    for phone in list {
        let original = super::required("phones.original", phone.original.as_deref())?.to_owned();
        let normalized = normalize_phone(&original);
        if !(8..=16).contains(&normalized.len()) {
            return Err(GladlyError::invalid(
                "phones.original",
                format!("[{original}] is not a phone number"),
            ));
        }
        // An empty type is no type (Gladly's example scripts send `type: ""`).
        let kind = phone.kind.filter(|k| !k.is_empty());
        if let Some(kind) = kind
            .as_deref()
            .filter(|k| !matches!(*k, "HOME" | "MOBILE" | "OFFICE"))
        {
            return Err(GladlyError::invalid(
                "phones.type",
                format!("[{kind}] must be HOME, MOBILE or OFFICE"),
            ));
        }
        if let Some(pref) = phone
            .sms_preference
            .as_deref()
            .filter(|p| !matches!(*p, "ON" | "OFF" | "FORBIDDEN"))
        {
            return Err(GladlyError::invalid(
                "phones.smsPreference",
                format!("[{pref}] must be ON, OFF or FORBIDDEN"),
            ));
        }
        // The region the number was read in: given, or that of a North American number.
        let region_code = phone
            .region_code
            .or_else(|| normalized.starts_with("+1").then(|| "US".to_owned()));
        out.push(Phone {
            original,
            normalized,
            extension: phone.extension,
            region_code,
            primary: phone.primary,
            sms_preference: phone.sms_preference,
            kind,
        });
    }
    if out.iter().filter(|p| p.primary).count() > 1 {
        return Err(GladlyError::invalid(
            "phones.primary",
            "at most one phone can be primary",
        ));
    }
    Ok(out)
}

/// `taken` when another customer already owns one of the emails or mobile phones: 409 on a
/// create, 400 on an update (the API reference documents no 409 for an update).
fn check_unique(
    org: &Org,
    owner: &str,
    emails: &[Email],
    phones: &[Phone],
    updating: bool,
) -> Result<(), GladlyError> {
    let taken = |attr: &str, detail: String| {
        let error = GladlyError::taken(attr, detail);
        if updating {
            GladlyError {
                status: axum::http::StatusCode::BAD_REQUEST,
                ..error
            }
        } else {
            error
        }
    };
    for email in emails {
        if org
            .customer_by_email(&email.normalized)
            .is_some_and(|c| c.id != owner)
        {
            return Err(taken(
                "emails",
                format!(
                    "email address [{}] is already used by another customer",
                    email.original
                ),
            ));
        }
    }
    for phone in phones
        .iter()
        .filter(|p| p.kind.as_deref() == Some("MOBILE"))
    {
        if org
            .customer_by_mobile(&phone.normalized)
            .is_some_and(|c| c.id != owner)
        {
            return Err(taken(
                "phones",
                format!(
                    "mobile phone [{}] is already used by another customer",
                    phone.original
                ),
            ));
        }
    }
    Ok(())
}

fn parse<T: serde::de::DeserializeOwned>(attr: &str, value: Value) -> Result<T, GladlyError> {
    serde_json::from_value(value)
        .map_err(|e| GladlyError::invalid(attr, format!("{attr} is not valid: {e}")))
}

fn opt_string(attr: &str, value: &Value) -> Result<Option<String>, GladlyError> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        _ => Err(GladlyError::invalid(
            attr,
            format!("{attr} must be a string"),
        )),
    }
}

async fn create(
    State(app): State<App>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> RouteResult {
    let id = body
        .get("id")
        .map(|v| opt_string("id", v))
        .transpose()?
        .flatten();
    check_client_id(id.as_deref())?;
    let mut org = lock(&app);
    let id = match id {
        Some(id) if org.customers.contains_key(&id) || org.merged_customers.contains_key(&id) => {
            return Err(GladlyError::taken("id", "customer ID exists"));
        }
        Some(id) => id,
        None => org.new_id(),
    };
    let now = org.now();
    let mut customer = Customer {
        id: id.clone(),
        name: None,
        image: None,
        address: None,
        emails: Vec::new(),
        phones: Vec::new(),
        external_customer_id: None,
        external_customer_ids: Map::new(),
        custom_attributes: Map::new(),
        created_at: now.clone(),
        updated_at: now,
    };
    apply_fields(&org, &mut customer, body, false)?;
    org.emit("CUSTOMER_PROFILE/CREATED", None, json!({"customerId": id}));
    org.customers.insert(id.clone(), customer);
    drop(org);
    created(&format!("/api/v1/customer-profiles/{id}"))
}

/// Applies the profile fields present in `body`, checking uniqueness. Arrays (`emails`,
/// `phones`) are replaced whole; `customAttributes` merges by key (a `null` value removes
/// the key); `null` clears a scalar field.
fn apply_fields(
    org: &Org,
    customer: &mut Customer,
    body: Map<String, Value>,
    updating: bool,
) -> Result<(), GladlyError> {
    for (key, value) in body {
        match key.as_str() {
            "id" => {}
            "name" => customer.name = opt_string("name", &value)?,
            "image" => customer.image = opt_string("image", &value)?,
            "address" => customer.address = opt_string("address", &value)?,
            "externalCustomerId" => {
                customer.external_customer_id = opt_string("externalCustomerId", &value)?;
            }
            "emails" => customer.emails = build_emails(parse("emails", or_empty(value))?)?,
            "phones" => customer.phones = build_phones(parse("phones", or_empty(value))?)?,
            "customAttributes" => {
                let attrs: Map<String, Value> = parse("customAttributes", or_empty_object(value))?;
                for (k, v) in attrs {
                    if v.is_null() {
                        customer.custom_attributes.remove(&k);
                    } else {
                        customer.custom_attributes.insert(k, v);
                    }
                }
            }
            // A body that echoes a GET (Gladly's own update-customers example sends the
            // profile back with its read-only fields) is accepted; those are ignored.
            "createdAt" | "updatedAt" if updating && (value.is_string() || value.is_null()) => {}
            "externalCustomerIds" | "createdAt" | "updatedAt" => {
                return Err(GladlyError::new(
                    axum::http::StatusCode::BAD_REQUEST,
                    Some(&key),
                    "present",
                    format!("{key} is read-only"),
                ));
            }
            _ => {
                return Err(GladlyError::invalid(
                    &key,
                    format!("unknown customer field [{key}]"),
                ));
            }
        }
    }
    check_unique(
        org,
        &customer.id,
        &customer.emails,
        &customer.phones,
        updating,
    )
}

fn or_empty(value: Value) -> Value {
    if value.is_null() { json!([]) } else { value }
}

fn or_empty_object(value: Value) -> Value {
    if value.is_null() { json!({}) } else { value }
}

async fn find(
    State(app): State<App>,
    QueryParams(query): QueryParams<Vec<(String, String)>>,
) -> RouteResult {
    let filters: Vec<&(String, String)> = query
        .iter()
        .filter(|(k, v)| {
            matches!(k.as_str(), "email" | "phoneNumber" | "externalCustomerId") && !v.is_empty()
        })
        .collect();
    let [(key, wanted)] = filters.as_slice() else {
        return Err(if filters.is_empty() {
            GladlyError::new(
                axum::http::StatusCode::BAD_REQUEST,
                None,
                "blank",
                "one of email, phoneNumber, externalCustomerId must be present",
            )
        } else {
            GladlyError::invalid(
                "query",
                "search by exactly one of email, phoneNumber, externalCustomerId",
            )
        });
    };
    // A `+` not sent as `%2B` arrives as a space (`a+tag@x.com`, `+1415…`).
    let wanted = wanted.replace(' ', "+");
    let (email, phone) = (normalize_email(&wanted), normalize_phone(&wanted));
    let org = lock(&app);
    let mut found: Vec<&Customer> = org
        .customers
        .values()
        .filter(|c| match key.as_str() {
            "email" => c.emails.iter().any(|e| e.normalized == email),
            "phoneNumber" => c.phones.iter().any(|p| p.normalized == phone),
            _ => c.external_customer_id.as_deref() == Some(wanted.as_str()),
        })
        .collect();
    found.sort_by(|a, b| {
        b.updated_at
            .cmp(&a.updated_at)
            .then_with(|| a.id.cmp(&b.id))
    });
    super::capped(found.into_iter().map(to_json).collect(), 50)
}

/// The customer `id`, or the Gladly answer for a missing (404) or merged (301) one.
pub(super) fn existing<'a>(org: &'a Org, id: &str) -> Result<&'a Customer, GladlyError> {
    if let Some(customer) = org.customers.get(id) {
        return Ok(customer);
    }
    if let Some(new) = org.merged_customers.get(id) {
        return Err(GladlyError::moved(
            "customerId",
            "customer id has changed",
            id,
            new,
        ));
    }
    Err(not_found(id))
}

pub(super) fn not_found(id: &str) -> GladlyError {
    GladlyError::not_exist(format!("customer profile [{id}] does not exist"))
}

async fn get_one(State(app): State<App>, Path(id): Path<String>) -> RouteResult {
    let org = lock(&app);
    ok_json(existing(&org, &id)?)
}

async fn update(
    State(app): State<App>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> RouteResult {
    let mut org = lock(&app);
    // Updating a merged-away id is a 404, unlike GET's 301.
    let mut customer = org
        .customers
        .get(&id)
        .cloned()
        .ok_or_else(|| not_found(&id))?;
    apply_fields(&org, &mut customer, body, true)?;
    customer.updated_at = org.now();
    org.customers.insert(id.clone(), customer);
    org.emit("CUSTOMER_PROFILE/UPDATED", None, json!({"customerId": id}));
    no_content()
}

async fn remove(State(app): State<App>, Path(id): Path<String>) -> RouteResult {
    let mut org = lock(&app);
    if !org.customers.contains_key(&id) {
        return Err(not_found(&id));
    }
    if org.has_active_conversation(&id) {
        return Err(GladlyError::invalid_state(
            "conversation",
            "customer has an OPEN or WAITING conversation; close it before deleting the profile",
        ));
    }
    org.customers.remove(&id);
    org.conversations.retain(|_, c| c.customer_id != id);
    org.items.retain(|_, i| i.customer_id != id);
    let tasks: Vec<String> = org
        .tasks
        .values()
        .filter(|t| t.customer_id == id)
        .map(|t| t.id.clone())
        .collect();
    org.tasks.retain(|_, t| t.customer_id != id);
    org.comments.retain(|_, c| !tasks.contains(&c.task_id));
    org.emit("CUSTOMER_PROFILE/DELETED", None, json!({"customerId": id}));
    no_content()
}

/// Finds the customer named by `{emailAddress}` or `{mobilePhone}` (exactly one), creating
/// a profile when none exists. Returns the customer id.
pub(super) fn find_or_create(
    org: &mut Org,
    reference: Option<&Value>,
) -> Result<String, GladlyError> {
    let reference = reference.and_then(Value::as_object);
    let email = reference
        .and_then(|r| r.get("emailAddress"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());
    let mobile = reference
        .and_then(|r| r.get("mobilePhone"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());
    let now = org.now();
    let (emails, phones) = match (email, mobile) {
        (Some(email), None) => {
            if let Some(customer) = org.customer_by_email(email) {
                return Ok(customer.id.clone());
            }
            (
                build_emails(vec![EmailIn {
                    original: Some(email.to_owned()),
                    primary: true,
                }])?,
                Vec::new(),
            )
        }
        (None, Some(mobile)) => {
            if let Some(customer) = org.customer_by_mobile(mobile) {
                return Ok(customer.id.clone());
            }
            let phone = PhoneIn {
                original: Some(mobile.to_owned()),
                extension: None,
                region_code: None,
                primary: true,
                sms_preference: None,
                kind: Some("MOBILE".into()),
            };
            (Vec::new(), build_phones(vec![phone])?)
        }
        (Some(_), Some(_)) => {
            return Err(GladlyError::invalid(
                "customer",
                "give only one of emailAddress, mobilePhone",
            ));
        }
        (None, None) => {
            return Err(GladlyError::blank(
                "customer",
                "one of emailAddress, mobilePhone must be present",
            ));
        }
    };
    let id = org.new_id();
    org.customers.insert(
        id.clone(),
        Customer {
            id: id.clone(),
            name: None,
            image: None,
            address: None,
            emails,
            phones,
            external_customer_id: None,
            external_customer_ids: Map::new(),
            custom_attributes: Map::new(),
            created_at: now.clone(),
            updated_at: now,
        },
    );
    org.emit("CUSTOMER_PROFILE/CREATED", None, json!({"customerId": id}));
    Ok(id)
}
