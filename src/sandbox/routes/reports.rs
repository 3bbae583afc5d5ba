//! The Reports API: `POST /api/v1/reports` answers `text/csv` for every metric set of the
//! API reference, with the columns of Gladly's documentation of that report
//! (`report_columns.json`, each list with its page). Rows are computed for the contact,
//! conversation, agent-timestamp, contact-timestamp, conversation-timestamp and task
//! reports, and per day for the channel-mix, contact-summary and conversation-summary
//! reports; `POST /api/v1/reports/work-session-events` answers the work-session CSV. Rows
//! are derived from the org's conversations, items, tasks and events: a contact is one
//! channel of a conversation (its message items; a call ends at its `completedAt`), its
//! handle time the span from first item to end (at least 30 s). The reports rate class
//! (10/minute, 2 at once) is enforced by the gate.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde_json::{Map, Value};

use super::{App, JsonBody, lock, required};
use crate::sandbox::error::{GladlyError, RouteResult};
use crate::sandbox::state::{Item, Org, format_ts, gladly_id, parse_ts};

/// Metric sets whose rows the sandbox computes, with the filters each accepts. Every other
/// metric set of the API reference answers too: its documented columns with no rows, or,
/// where Gladly's documentation of the report was not found, an empty CSV (no columns
/// are made up). `ContactExportReport` is the name Gladly's get-reports example sends; the
/// reference lists only its V3.
const SUPPORTED: [(&str, &[&str]); 12] = [
    ("ContactExportReportV3", &["channel", "inboxes"]),
    ("ContactExportReport", &["channel", "inboxes"]),
    ("ConversationExportReport", &["channel", "inboxes"]),
    ("AgentTimestampsReport", &["teams"]),
    ("TaskExportReport", &["inboxes"]),
    ("ContactTimestampsReport", &["channel", "inboxes"]),
    ("ConversationTimestampsReport", &["inboxes"]),
    ("ChannelMixReportV2", &["channel", "inboxes"]),
    ("ContactSummaryCountsReport", &["channel", "inboxes"]),
    ("ContactSummaryReport", &["channel", "inboxes"]),
    ("ContactSummaryReportV2", &["channel", "inboxes"]),
    ("ConversationSummaryReport", &["inboxes"]),
];

/// Each metric set's columns as Gladly's help-center documentation gives them (with the
/// page each list comes from); `null` where no documentation of the report was found.
/// Some lists are the documented beginning of a longer list (`complete: false`).
static REPORT_COLUMNS: std::sync::LazyLock<BTreeMap<String, Value>> =
    std::sync::LazyLock::new(|| {
        serde_json::from_str(include_str!("../report_columns.json"))
            .expect("report_columns.json is valid JSON")
    });

/// The documented columns of `metric`, if its documentation was found.
fn documented(metric: &str) -> Option<Vec<String>> {
    let name = if metric == "ContactExportReport" {
        "ContactExportReportV3"
    } else {
        metric
    };
    let columns = REPORT_COLUMNS.get(name)?.get("columns")?.as_array()?;
    Some(
        columns
            .iter()
            .filter_map(|c| c.as_str().map(str::to_owned))
            .collect(),
    )
}

const AGGREGATION_LEVELS: [&str; 5] = ["halfHourly", "daily", "weekly", "monthly", "quarterly"];
const CHANNELS: [&str; 9] = [
    "allChannels",
    "chat",
    "email",
    "fbMessenger",
    "sms",
    "twitter",
    "voice",
    "whatsapp",
    "instagramDirect",
];

fn supported_list() -> String {
    SUPPORTED
        .iter()
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `POST /api/v1/reports`.
pub(super) async fn generate(
    State(app): State<App>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> RouteResult {
    let text = |k: &str| body.get(k).and_then(Value::as_str);
    let metric = required("metricSet", text("metricSet"))?;
    let filters_allowed: &[&str] = match SUPPORTED.iter().find(|(name, _)| *name == metric) {
        Some((_, allowed)) => allowed,
        None if REPORT_COLUMNS.contains_key(metric) => &["channel", "inboxes", "teams"],
        None => {
            return Err(GladlyError::invalid(
                "metricSet",
                format!(
                    "metricSet [{metric}] is not one of Gladly's report metric sets (rows are \
                     computed for {})",
                    supported_list()
                ),
            ));
        }
    };
    if let Some(level) = text("aggregationLevel").filter(|l| !AGGREGATION_LEVELS.contains(l)) {
        return Err(GladlyError::invalid(
            "aggregationLevel",
            format!("[{level}] must be one of {}", AGGREGATION_LEVELS.join(", ")),
        ));
    }
    let org = lock(&app);
    let (start, end) = window(&org, metric, &body)?;
    let filters = check_filters(&org, filters_allowed, body.get("filters"))?;
    let rows = match metric {
        "ConversationExportReport" => conversation_rows(&org, start, end, &filters),
        "AgentTimestampsReport" => agent_rows(&org, start, end, &filters),
        "TaskExportReport" => task_rows(&org, start, end, &filters),
        "ContactExportReportV3" | "ContactExportReport" => contact_rows(&org, start, end, &filters),
        "ContactTimestampsReport" => event_rows(&org, start, end, &filters, "CONTACT/"),
        "ConversationTimestampsReport" => event_rows(&org, start, end, &filters, "CONVERSATION"),
        "ChannelMixReportV2"
        | "ContactSummaryCountsReport"
        | "ContactSummaryReport"
        | "ContactSummaryReportV2"
        | "ConversationSummaryReport" => {
            let days = Days {
                start,
                end,
                zone: zone_of(&org, &body),
            };
            summary_rows(&org, metric, &days, &filters)
        }
        // Documented columns, no rows computed; nothing at all when undocumented.
        _ => documented(metric).map(|c| vec![c]).unwrap_or_default(),
    };
    let filename = format!(
        "{metric}-{}-{}.csv",
        start.format("%Y%m%d"),
        end.format("%Y%m%d")
    );
    Ok(csv_response(&filename, &rows))
}

/// The report window in UTC: `startAtTime`/`endAtTime`, or whole days in `timezone`.
fn window(
    org: &Org,
    metric: &str,
    body: &Map<String, Value>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), GladlyError> {
    let text = |k: &str| body.get(k).and_then(Value::as_str);
    if text("startAtTime").is_some() || text("endAtTime").is_some() {
        if !metric.starts_with("ContactExportReport") {
            return Err(GladlyError::invalid(
                "startAtTime",
                format!("startAtTime is not applicable to {metric}"),
            ));
        }
        if let Some(extra) = ["startAt", "endAt", "timezone"]
            .into_iter()
            .find(|k| body.contains_key(*k))
        {
            return Err(GladlyError::new(
                StatusCode::BAD_REQUEST,
                Some(extra),
                "present",
                format!("{extra} must be absent when startAtTime is given"),
            ));
        }
        let start = instant("startAtTime", text("startAtTime"))?;
        let end = instant("endAtTime", text("endAtTime"))?;
        if end < start {
            return Err(GladlyError::invalid(
                "startAtTime",
                "startAtTime must be before endAtTime",
            ));
        }
        return Ok((start, end));
    }
    let zone_name = text("timezone").unwrap_or(&org.organization.timezone);
    let zone: chrono_tz::Tz = zone_name.parse().map_err(|_| {
        GladlyError::invalid(
            "timezone",
            format!("[{zone_name}] is not an IANA time zone"),
        )
    })?;
    let day = |attr: &str| -> Result<NaiveDate, GladlyError> {
        let t = required(attr, text(attr))?;
        NaiveDate::parse_from_str(t, "%Y-%m-%d")
            .map_err(|_| GladlyError::invalid(attr, format!("[{t}] must be a YYYY-mm-dd date")))
    };
    let (first, last) = (day("startAt")?, day("endAt")?);
    if last < first {
        return Err(GladlyError::invalid(
            "startAt",
            "startAt must not be after endAt",
        ));
    }
    let midnight = |d: NaiveDate| {
        zone.from_local_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight"))
            .earliest()
            .map_or_else(
                || d.and_hms_opt(0, 0, 0).expect("midnight").and_utc(),
                |t| t.with_timezone(&Utc),
            )
    };
    Ok((midnight(first), midnight(last.succ_opt().unwrap_or(last))))
}

fn instant(attr: &str, value: Option<&str>) -> Result<DateTime<Utc>, GladlyError> {
    let t = required(attr, value)?;
    parse_ts(t)
        .ok_or_else(|| GladlyError::invalid(attr, format!("[{t}] is not an ISO 8601 date-time")))
}

/// Validated filters: `channel` (lower-case report name), `inboxes` and `teams` ids.
#[derive(Debug, Default)]
struct Filters {
    channel: Option<String>,
    inboxes: Vec<String>,
    teams: Vec<String>,
}

fn check_filters(
    org: &Org,
    allowed: &[&str],
    filters: Option<&Value>,
) -> Result<Filters, GladlyError> {
    let mut out = Filters::default();
    let Some(filters) = filters.and_then(Value::as_object) else {
        return Ok(out);
    };
    let ids = |key: &str, value: &Value| -> Result<Vec<String>, GladlyError> {
        serde_json::from_value(value.clone())
            .map_err(|_| GladlyError::invalid(&format!("filters.{key}"), "must be a list of ids"))
    };
    for (key, value) in filters {
        if !allowed.contains(&key.as_str()) {
            return Err(GladlyError::invalid(
                &format!("filters.{key}"),
                format!("filter [{key}] is not applicable to this metricSet"),
            ));
        }
        match key.as_str() {
            "channel" => {
                let channel = value.as_str().unwrap_or_default();
                if !CHANNELS.contains(&channel) {
                    return Err(GladlyError::invalid(
                        "filters.channel",
                        format!("[{channel}] must be one of {}", CHANNELS.join(", ")),
                    ));
                }
                out.channel = (channel != "allChannels").then(|| channel.to_owned());
            }
            "inboxes" => out.inboxes = ids(key, value)?,
            _ => out.teams = ids(key, value)?,
        }
    }
    let unknown = |attr: &str, id: &String| {
        GladlyError::new(
            StatusCode::BAD_REQUEST,
            Some(attr),
            "present",
            format!("[{id}] does not exist"),
        )
    };
    if let Some(bad) = out.inboxes.iter().find(|i| !org.inboxes.contains_key(*i)) {
        return Err(unknown("filters.inboxes", bad));
    }
    if let Some(bad) = out.teams.iter().find(|t| !org.teams.contains_key(*t)) {
        return Err(unknown("filters.teams", bad));
    }
    Ok(out)
}

fn csv_response(filename: &str, rows: &[Vec<String>]) -> axum::response::Response {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in rows {
        writer.write_record(row).expect("writing to memory");
    }
    let bytes = writer.into_inner().expect("writing to memory");
    (
        [
            (header::CONTENT_TYPE, "text/csv".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename={filename}"),
            ),
        ],
        bytes,
    )
        .into_response()
}

fn within(ts: &str, start: DateTime<Utc>, end: DateTime<Utc>) -> bool {
    parse_ts(ts).is_some_and(|at| at >= start && at < end)
}

fn header_row(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

/// A contact: one channel session of a conversation, derived from its message items.
struct Contact {
    id: String,
    conversation_id: String,
    customer_id: String,
    channel: &'static str,
    direction: &'static str,
    inbox_id: String,
    agent_id: String,
    created_at: String,
    ended_at: String,
    answered: bool,
    /// Message items the customer sent, and those agents sent.
    from_customer: usize,
    from_agent: usize,
}

fn channel_of(item: &Item) -> Option<&'static str> {
    match item.content.get("type").and_then(Value::as_str)? {
        "CHAT_MESSAGE" => Some("CHAT"),
        "EMAIL" => Some("EMAIL"),
        "SMS" => Some("SMS"),
        "PHONE_CALL" => Some("PHONE_CALL"),
        "VOICEMAIL" => Some("VOICEMAIL"),
        "WHATSAPP" => Some("WHATSAPP"),
        "FACEBOOK_MESSAGE" => Some("FB_MESSENGER"),
        "INSTAGRAM_DIRECT" => Some("INSTAGRAM_DIRECT"),
        _ => None,
    }
}

fn who(item: &Item) -> &str {
    item.initiator
        .as_ref()
        .and_then(|i| i.get("type"))
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn contacts(org: &Org) -> Vec<Contact> {
    let mut groups: BTreeMap<(String, &'static str), Vec<&Item>> = BTreeMap::new();
    for item in org.items.values() {
        if let (Some(conversation), Some(channel)) = (&item.conversation_id, channel_of(item)) {
            groups
                .entry((conversation.clone(), channel))
                .or_default()
                .push(item);
        }
    }
    let mut out = Vec::new();
    for ((conversation_id, channel), mut items) in groups {
        items.sort_by(|a, b| a.timestamp.cmp(&b.timestamp));
        let (first, last) = (items[0], items[items.len() - 1]);
        let conversation = org.conversations.get(&conversation_id);
        out.push(Contact {
            id: gladly_id(org.seed, &format!("contact:{}", first.id)),
            customer_id: first.customer_id.clone(),
            channel,
            direction: if who(first) == "CUSTOMER" {
                "INBOUND"
            } else {
                "OUTBOUND"
            },
            inbox_id: conversation.map(|c| c.inbox_id.clone()).unwrap_or_default(),
            agent_id: conversation
                .and_then(|c| c.agent_id.clone())
                .unwrap_or_default(),
            created_at: first.timestamp.clone(),
            ended_at: ended_at(last),
            answered: items.iter().any(|i| who(i) == "AGENT") || channel == "PHONE_CALL",
            from_customer: items.iter().filter(|i| who(i) == "CUSTOMER").count(),
            from_agent: items.iter().filter(|i| who(i) == "AGENT").count(),
            conversation_id,
        });
    }
    out.sort_by(|a, b| a.created_at.cmp(&b.created_at));
    out
}

/// When a contact's last item ended: a call's `completedAt` when it has one (a call item
/// is stamped when it starts), else the item's timestamp.
fn ended_at(last: &Item) -> String {
    let completed = last
        .content
        .get("completedAt")
        .and_then(Value::as_str)
        .and_then(parse_ts);
    match (completed, parse_ts(&last.timestamp)) {
        (Some(completed), Some(stamped)) if completed > stamped => format_ts(completed),
        _ => last.timestamp.clone(),
    }
}

fn channel_matches(filter: Option<&str>, channel: &str) -> bool {
    let wanted = match filter {
        None => return true,
        Some("chat") => "CHAT",
        Some("email") => "EMAIL",
        Some("sms") => "SMS",
        Some("voice") => "PHONE_CALL",
        Some("whatsapp") => "WHATSAPP",
        Some("fbMessenger") => "FB_MESSENGER",
        Some("instagramDirect") => "INSTAGRAM_DIRECT",
        Some(_) => "TWITTER",
    };
    wanted == channel
}

/// The Contact Export report: the documented columns (help.gladly.com, Contact Export),
/// one line per contact queued in the window.
fn contact_rows(
    org: &Org,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    filters: &Filters,
) -> Vec<Vec<String>> {
    let columns = documented("ContactExportReportV3").unwrap_or_default();
    let mut rows = vec![columns.clone()];
    for c in contacts(org) {
        if !within(&c.created_at, start, end)
            || !channel_matches(filters.channel.as_deref(), c.channel)
            || (!filters.inboxes.is_empty() && !filters.inboxes.contains(&c.inbox_id))
        {
            continue;
        }
        let link = format!(
            "{}/customer/{}/conversation/{}",
            org.organization.gladly_url, c.customer_id, c.conversation_id
        );
        rows.push(
            columns
                .iter()
                .map(|column| match column.as_str() {
                    "Queued At" => c.created_at.clone(),
                    "Customer ID" => c.customer_id.clone(),
                    "Conversation ID" => c.conversation_id.clone(),
                    "Contact ID" => c.id.clone(),
                    "Link" => link.clone(),
                    "Channel" => c.channel.to_owned(),
                    "Direction" => c.direction.to_owned(),
                    "Contact Initiator" => if c.direction == "INBOUND" {
                        "Customer"
                    } else {
                        "Agent"
                    }
                    .to_owned(),
                    _ => String::new(),
                })
                .collect(),
        );
    }
    rows
}

/// The Contact and Conversation Timestamps reports: one line per event of the window whose
/// type starts with `prefix`, from the same events the Events API serves.
fn event_rows(
    org: &Org,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    filters: &Filters,
    prefix: &str,
) -> Vec<Vec<String>> {
    let metric = if prefix == "CONTACT/" {
        "ContactTimestampsReport"
    } else {
        "ConversationTimestampsReport"
    };
    let columns = documented(metric).unwrap_or_default();
    let mut rows = vec![columns.clone()];
    for event in &org.events {
        let kind = event["type"].as_str().unwrap_or("");
        let at = event["timestamp"].as_str().unwrap_or("");
        let content = &event["content"];
        let text = |v: &Value| v.as_str().unwrap_or("").to_owned();
        let inbox = text(&content["context"]["assignee"]["inboxId"]);
        if !kind.starts_with(prefix)
            || !within(at, start, end)
            || !channel_matches(
                filters.channel.as_deref(),
                content["channel"].as_str().unwrap_or(""),
            )
            || (!filters.inboxes.is_empty() && !filters.inboxes.contains(&inbox))
        {
            continue;
        }
        let initiator = &event["initiator"];
        let agent_name = |id: &str| {
            org.agents
                .get(id)
                .map(|a| a.name.clone())
                .unwrap_or_default()
        };
        let assigned_agent = text(&content["context"]["assignee"]["agentId"]);
        rows.push(
            columns
                .iter()
                .map(|column| match column.as_str() {
                    "Timestamp" => at.to_owned(),
                    "Event Type" => kind.to_owned(),
                    "Contact ID" => text(&content["contactId"]),
                    "Conversation ID" => text(&content["conversationId"]),
                    "Customer ID" => text(&content["customerId"]),
                    "Channel" => text(&content["channel"]),
                    "Initiator Type" => text(&initiator["type"]),
                    "Initiator ID" => text(&initiator["id"]),
                    "Initiator Agent Name" if initiator["type"] == "AGENT" => {
                        agent_name(initiator["id"].as_str().unwrap_or(""))
                    }
                    "Assigned Inbox ID" => inbox.clone(),
                    "Assigned Inbox Name" => org
                        .inboxes
                        .get(&inbox)
                        .map(|i| i.name.clone())
                        .unwrap_or_default(),
                    "Assigned Agent ID" => assigned_agent.clone(),
                    "Assigned Agent Name" => agent_name(&assigned_agent),
                    _ => String::new(),
                })
                .collect(),
        );
    }
    rows
}

/// The Conversation Export report: the documented columns (help.gladly.com, Conversation
/// Export), one line per conversation created in the window.
fn conversation_rows(
    org: &Org,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    filters: &Filters,
) -> Vec<Vec<String>> {
    let columns = documented("ConversationExportReport").unwrap_or_default();
    let mut rows = vec![columns.clone()];
    let mut list: Vec<_> = org
        .conversations
        .values()
        .filter(|c| within(&c.created_at, start, end))
        .collect();
    list.sort_by(|a, b| a.created_at.cmp(&b.created_at));
    for c in list {
        if !filters.inboxes.is_empty() && !filters.inboxes.contains(&c.inbox_id) {
            continue;
        }
        let agent = c.agent_id.clone().unwrap_or_default();
        let agent_name = org
            .agents
            .get(&agent)
            .map(|a| a.name.clone())
            .unwrap_or_default();
        let inbox = org
            .inboxes
            .get(&c.inbox_id)
            .map(|i| i.name.clone())
            .unwrap_or_default();
        let closed = c.closed_at.clone().unwrap_or_default();
        rows.push(
            columns
                .iter()
                .map(|column| match column.as_str() {
                    "Created At" => c.created_at.clone(),
                    "Conversation ID" => c.id.clone(),
                    "Customer ID" => c.customer_id.clone(),
                    "Conversation Link" => format!(
                        "{}/customer/{}/conversation/{}",
                        org.organization.gladly_url, c.customer_id, c.id
                    ),
                    "Status" => if c.status == "CLOSED" {
                        "CLOSED"
                    } else {
                        "OPEN"
                    }
                    .to_owned(),
                    "Assigned Agent ID - Current" => agent.clone(),
                    "Assigned Agent Name - Current" => agent_name.clone(),
                    "Inbox ID - Current" => c.inbox_id.clone(),
                    "Inbox Name - Current" => inbox.clone(),
                    // The sandbox keeps one closing per conversation.
                    "First Closed At" | "Last Closed At" => closed.clone(),
                    _ => String::new(),
                })
                .collect(),
        );
    }
    rows
}

fn agent_rows(
    org: &Org,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    filters: &Filters,
) -> Vec<Vec<String>> {
    // Columns of Gladly's Agent Timestamps report, in its documentation's order
    // (help.gladly.com/docs/agent-timestamps).
    let mut rows = vec![header_row(&[
        "Timestamp",
        "Occurred At",
        "Agent",
        "Type",
        "Available For",
        "Away Reason",
        "Active Reason",
        "Agent ID",
    ])];
    let in_teams = |agent: &str| {
        filters.teams.is_empty()
            || filters.teams.iter().any(|t| {
                org.teams
                    .get(t)
                    .is_some_and(|team| team.agent_ids.iter().any(|a| a == agent))
            })
    };
    for event in &org.events {
        let kind = event["type"].as_str().unwrap_or("");
        let agent_id = event["content"]["agentId"].as_str().unwrap_or("");
        let at = event["timestamp"].as_str().unwrap_or("");
        if !(kind.starts_with("AGENT_STATUS/") || kind.starts_with("AGENT_AVAILABILITY/"))
            || !within(at, start, end)
            || !in_teams(agent_id)
        {
            continue;
        }
        let agent = org.agents.get(agent_id);
        let available: Vec<&str> = event["content"]["availableFor"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let text = |key: &str| event["content"][key].as_str().unwrap_or("").to_owned();
        rows.push(vec![
            at.to_owned(),
            text("occurredAt"),
            agent.map(|a| a.name.clone()).unwrap_or_default(),
            kind.to_owned(),
            // The set of channels after an availability change; `[ ]` for none.
            if kind == "AGENT_AVAILABILITY/UPDATED" {
                if available.is_empty() {
                    "[ ]".to_owned()
                } else {
                    format!("[{}]", available.join(", "))
                }
            } else {
                String::new()
            },
            text("awayReason"),
            text("activeReason"),
            agent_id.to_owned(),
        ]);
    }
    rows
}

fn task_rows(
    org: &Org,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    filters: &Filters,
) -> Vec<Vec<String>> {
    let mut rows = vec![header_row(&[
        "Task ID",
        "Customer ID",
        "Inbox ID",
        "Agent ID",
        "Status",
        "Body",
        "Created At",
        "Due At",
    ])];
    let mut list: Vec<_> = org
        .tasks
        .values()
        .filter(|t| within(&t.timestamp, start, end))
        .collect();
    list.sort_by(|a, b| a.timestamp.cmp(&b.timestamp));
    for t in list {
        let inbox = t.assignee["inboxId"].as_str().unwrap_or("").to_owned();
        if !filters.inboxes.is_empty() && !filters.inboxes.contains(&inbox) {
            continue;
        }
        let agent = t.assignee["agentId"].as_str().unwrap_or("").to_owned();
        rows.push(vec![
            t.id.clone(),
            t.customer_id.clone(),
            inbox,
            agent,
            t.status.clone(),
            t.body.clone(),
            t.timestamp.clone(),
            t.due_at.clone(),
        ]);
    }
    rows
}

/// `POST /api/v1/reports/work-session-events`.
pub(super) async fn work_sessions(
    State(app): State<App>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> RouteResult {
    let text = |k: &str| body.get(k).and_then(Value::as_str);
    let start = instant("startAtTime", text("startAtTime"))?;
    let end = instant("endAtTime", text("endAtTime"))?;
    if end < start {
        return Err(GladlyError::invalid(
            "startAtTime",
            "startAtTime must be before endAtTime",
        ));
    }
    // The end is inclusive up to one minute past.
    let end_inclusive = end + chrono::Duration::minutes(1);
    let org = lock(&app);
    let mut rows = vec![header_row(&[
        "id",
        "contact_session_id",
        "contact_session_created_at",
        "customer_id",
        "conversation_id",
        "inbox_id",
        "channel",
        "direction",
        "agent_accepted_at",
        "contact_session_routed_at",
        "agent_id",
        "sla_fulfilled_at",
        "contact_session_ended_at",
        "status",
        "within_sla",
        "work_session_handle_time_sec",
        "work_session_after_contact_time_sec",
        "work_session_unknown_time_sec",
        "accepted_inbox_id",
    ])];
    for c in contacts(&org) {
        if !within(&c.ended_at, start, end_inclusive) {
            continue;
        }
        let handle = match (parse_ts(&c.created_at), parse_ts(&c.ended_at)) {
            (Some(a), Some(b)) => (b - a).num_seconds().max(30),
            _ => 30,
        };
        let status = if c.answered { "ANSWERED" } else { "UNANSWERED" };
        rows.push(vec![
            gladly_id(org.seed, &format!("work-session:{}", c.id)),
            c.id.clone(),
            c.created_at.clone(),
            c.customer_id.clone(),
            c.conversation_id.clone(),
            c.inbox_id.clone(),
            c.channel.into(),
            c.direction.into(),
            c.created_at.clone(),
            c.created_at.clone(),
            c.agent_id.clone(),
            c.ended_at.clone(),
            c.ended_at.clone(),
            status.into(),
            "true".into(),
            handle.to_string(),
            "15".into(),
            "0".into(),
            c.inbox_id.clone(),
        ]);
    }
    let filename = format!(
        "WorkSessionEventsReport-{}-{}.csv",
        format_ts(start),
        format_ts(end)
    );
    Ok(csv_response(&filename, &rows))
}

/// The report window and the time zone its days are counted in.
struct Days {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    zone: chrono_tz::Tz,
}

impl Days {
    /// The day (`YYYY-MM-DD` in the report's zone) of an instant inside the window.
    fn of(&self, ts: &str) -> Option<String> {
        let at = parse_ts(ts)?;
        (at >= self.start && at < self.end).then(|| {
            at.with_timezone(&self.zone)
                .date_naive()
                .format("%Y-%m-%d")
                .to_string()
        })
    }
}

/// The zone a report's days are counted in: its `timezone`, else the org's.
fn zone_of(org: &Org, body: &Map<String, Value>) -> chrono_tz::Tz {
    body.get("timezone")
        .and_then(Value::as_str)
        .unwrap_or(&org.organization.timezone)
        .parse()
        .unwrap_or(chrono_tz::UTC)
}

/// `part` of `whole` as a percentage with one decimal (`40.0%`); blank when `whole` is 0.
fn percent(part: usize, whole: usize) -> String {
    if whole == 0 {
        return String::new();
    }
    #[allow(clippy::cast_precision_loss)] // counts of a sandbox org
    let share = part as f64 * 100.0 / whole as f64;
    format!("{share:.1}%")
}

/// `total / count` with two decimals; blank when `count` is 0.
fn average(total: usize, count: usize) -> String {
    if count == 0 {
        return String::new();
    }
    #[allow(clippy::cast_precision_loss)] // counts of a sandbox org
    let mean = total as f64 / count as f64;
    format!("{mean:.2}")
}

/// The daily summary reports, computed from the same contacts as the Contact Export report
/// and the same conversations as the Conversation Export report. The sandbox org has no
/// service-level targets and no first-contact-resolution rules, so the SLA and FCR
/// columns stay blank rather than invented.
fn summary_rows(org: &Org, metric: &str, days: &Days, filters: &Filters) -> Vec<Vec<String>> {
    let columns = documented(metric).unwrap_or_default();
    let mut rows = vec![columns.clone()];
    let contacts: Vec<Contact> = contacts(org)
        .into_iter()
        .filter(|c| {
            channel_matches(filters.channel.as_deref(), c.channel)
                && (filters.inboxes.is_empty() || filters.inboxes.contains(&c.inbox_id))
        })
        .collect();
    let cell = |column: &str, values: &BTreeMap<&str, String>| {
        values.get(column).cloned().unwrap_or_default()
    };
    match metric {
        "ChannelMixReportV2" => {
            // Per queued day and channel; the share is of the day's inbound contacts.
            let mut groups: BTreeMap<(String, &str), Vec<&Contact>> = BTreeMap::new();
            for c in &contacts {
                if let Some(day) = days.of(&c.created_at) {
                    groups.entry((day, c.channel)).or_default().push(c);
                }
            }
            let mut inbound_by_day: BTreeMap<&str, usize> = BTreeMap::new();
            for ((day, _), group) in &groups {
                *inbound_by_day.entry(day.as_str()).or_default() +=
                    group.iter().filter(|c| c.direction == "INBOUND").count();
            }
            for ((day, channel), group) in &groups {
                let inbound = group.iter().filter(|c| c.direction == "INBOUND").count();
                let values = BTreeMap::from([
                    ("Queued Date", day.clone()),
                    ("Channel", (*channel).to_owned()),
                    (
                        "Messages from Customer",
                        group
                            .iter()
                            .map(|c| c.from_customer)
                            .sum::<usize>()
                            .to_string(),
                    ),
                    (
                        "Messages from Agent",
                        group
                            .iter()
                            .map(|c| c.from_agent)
                            .sum::<usize>()
                            .to_string(),
                    ),
                    ("Contacts Inbound", inbound.to_string()),
                    (
                        "% of Inbound Contacts",
                        percent(inbound, inbound_by_day[day.as_str()]),
                    ),
                ]);
                rows.push(columns.iter().map(|c| cell(c, &values)).collect());
            }
        }
        "ConversationSummaryReport" => {
            let mut groups: BTreeMap<String, Vec<&crate::sandbox::state::Conversation>> =
                BTreeMap::new();
            for conversation in org.conversations.values() {
                let inbox_ok =
                    filters.inboxes.is_empty() || filters.inboxes.contains(&conversation.inbox_id);
                if let (true, Some(day)) = (
                    inbox_ok,
                    conversation.closed_at.as_deref().and_then(|t| days.of(t)),
                ) {
                    groups.entry(day).or_default().push(conversation);
                }
            }
            for (day, group) in groups {
                let of = |id: &String| {
                    let id = id.clone();
                    contacts.iter().filter(move |c| c.conversation_id == id)
                };
                let customers: std::collections::BTreeSet<&str> =
                    group.iter().map(|c| c.customer_id.as_str()).collect();
                let channels: Vec<usize> = group
                    .iter()
                    .map(|conv| {
                        of(&conv.id)
                            .map(|c| c.channel)
                            .collect::<std::collections::BTreeSet<_>>()
                            .len()
                    })
                    .collect();
                let notes = |id: &str| {
                    org.items
                        .values()
                        .filter(|i| {
                            i.conversation_id.as_deref() == Some(id)
                                && i.content["type"] == "CONVERSATION_NOTE"
                        })
                        .count()
                };
                let closes = |id: &str| {
                    org.items
                        .values()
                        .filter(|i| {
                            i.conversation_id.as_deref() == Some(id)
                                && i.content["type"] == "CONVERSATION_STATUS_CHANGE"
                                && i.content["status"] == "CLOSED"
                        })
                        .count()
                        .max(1)
                };
                let n = group.len();
                let values = BTreeMap::from([
                    ("Last Closed At", day),
                    ("Conversations Closed", n.to_string()),
                    ("Unique Customers", customers.len().to_string()),
                    (
                        "% Multichannel",
                        percent(channels.iter().filter(|k| **k > 1).count(), n),
                    ),
                    (
                        "Avg Count of Contacts",
                        average(group.iter().map(|c| of(&c.id).count()).sum(), n),
                    ),
                    ("Avg Count of Channels", average(channels.iter().sum(), n)),
                    (
                        "Avg Count of Notes",
                        average(group.iter().map(|c| notes(&c.id)).sum(), n),
                    ),
                    (
                        "Avg Count of Agents Assigned",
                        average(group.iter().filter(|c| c.agent_id.is_some()).count(), n),
                    ),
                    ("Avg Count of Inboxes Assigned", average(n, n)),
                    (
                        "Avg Times Closed",
                        average(group.iter().map(|c| closes(&c.id)).sum(), n),
                    ),
                ]);
                rows.push(columns.iter().map(|c| cell(c, &values)).collect());
            }
        }
        _ => {
            // The contact summaries: per day the contacts ended.
            let mut groups: BTreeMap<String, Vec<&Contact>> = BTreeMap::new();
            for c in &contacts {
                if let Some(day) = days.of(&c.ended_at) {
                    groups.entry(day).or_default().push(c);
                }
            }
            for (day, group) in groups {
                let inbound = group.iter().filter(|c| c.direction == "INBOUND");
                let fulfilled = inbound.clone().filter(|c| c.answered).count();
                let values = BTreeMap::from([
                    ("Ended Date", day.clone()),
                    ("Ended At Date", day),
                    ("Contacts Ended", group.len().to_string()),
                    ("Contacts Inbound", inbound.clone().count().to_string()),
                    ("Contacts Fulfilled", fulfilled.to_string()),
                    ("Contacts Fulfilled by Response", fulfilled.to_string()),
                    (
                        "Contacts Abandoned",
                        inbound.filter(|c| !c.answered).count().to_string(),
                    ),
                    (
                        "Contacts Outbound",
                        group
                            .iter()
                            .filter(|c| c.direction == "OUTBOUND")
                            .count()
                            .to_string(),
                    ),
                ]);
                rows.push(columns.iter().map(|c| cell(c, &values)).collect());
            }
        }
    }
    rows
}
