//! The simulated organization: every record the sandbox holds, the id generator and the
//! shared invariants (uniqueness of customer emails and mobile phones, merged customers,
//! required topics, agent membership of inboxes).
//!
//! `Org` is plain data behind one lock, serialisable as a whole: that is what
//! `Sandbox::snapshot`, `GET /__sandbox/state` and `--state FILE` expose. It knows nothing
//! about HTTP; routes read and change it and turn broken rules into `GladlyError`s.
//!
//! The org also carries its [`Clock`] (not serialised): every "now" the sandbox uses (record
//! timestamps, the events and export windows, due dates) comes from it, so a sandbox started
//! with a fixed clock lives at that instant whatever the machine's time.

use std::collections::BTreeMap;
use std::time::Instant;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// A Gladly id: 22 characters of URL-safe base64 over 16 bytes derived from `seed` and `label`.
pub fn gladly_id(seed: u64, label: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(seed.to_le_bytes());
    hasher.update(label.as_bytes());
    let digest = hasher.finalize();
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

/// Formats an instant the way Gladly does: `YYYY-MM-DDTHH:MM:SS.sssZ`.
pub fn format_ts(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The sandbox's notion of "now", one per sandbox (never process-global).
///
/// [`Clock::real`] reads the machine's time. [`Clock::starting_at`] starts at a given
/// instant and advances with the real time elapsed since it was made, so a sandbox started
/// with `--clock 2026-11-20T18:00:00Z` says it is 18:00:05 five seconds later.
#[derive(Debug, Clone, Copy, Default)]
pub struct Clock {
    /// The instant the clock started at, and when (on the monotonic clock) that was.
    fixed: Option<(DateTime<Utc>, Instant)>,
}

impl Clock {
    /// The machine's time.
    pub fn real() -> Self {
        Clock { fixed: None }
    }

    /// A clock that reads `at` now and then advances with real time.
    pub fn starting_at(at: DateTime<Utc>) -> Self {
        Clock {
            fixed: Some((at, Instant::now())),
        }
    }

    /// `Some(at)` for [`Clock::starting_at`], `None` for the real time.
    pub fn from_option(at: Option<DateTime<Utc>>) -> Self {
        at.map_or_else(Clock::real, Clock::starting_at)
    }

    /// Whether this clock was set to a fixed start rather than the machine's time.
    pub fn is_fixed(&self) -> bool {
        self.fixed.is_some()
    }

    /// The instant a fixed clock started at (`None` for the real time).
    pub fn started_at(&self) -> Option<DateTime<Utc>> {
        self.fixed.map(|(at, _)| at)
    }

    /// The current instant on this clock.
    pub fn now(&self) -> DateTime<Utc> {
        match self.fixed {
            None => Utc::now(),
            Some((at, since)) => {
                at + chrono::Duration::from_std(since.elapsed()).unwrap_or_default()
            }
        }
    }

    /// The current instant on this clock, in Gladly's format.
    pub fn now_ts(&self) -> String {
        format_ts(self.now())
    }
}

/// Parses an ISO 8601 / RFC 3339 instant (offsets allowed, seconds optional) into UTC.
///
/// A `+` offset sent unencoded in a query string arrives as a space; that is read as `+`.
pub fn parse_ts(text: &str) -> Option<DateTime<Utc>> {
    parse_exact(text).or_else(|| {
        let at = text.rfind(' ')?;
        parse_exact(&format!("{}+{}", &text[..at], &text[at + 1..]))
    })
}

fn parse_exact(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.with_timezone(&Utc));
    }
    // Minute precision (`2021-09-28T00:00-07:00`, `2021-09-28T00:00Z`) as the reports use.
    for format in ["%Y-%m-%dT%H:%M%:z", "%Y-%m-%dT%H:%M%#z"] {
        if let Ok(at) = DateTime::parse_from_str(text, format) {
            return Some(at.with_timezone(&Utc));
        }
    }
    let zulu = text.strip_suffix('Z')?;
    chrono::NaiveDateTime::parse_from_str(zulu, "%Y-%m-%dT%H:%M")
        .ok()
        .map(|naive| naive.and_utc())
}

/// Whether a client-supplied id is acceptable: URL-safe characters, 1 to 49 of them.
pub fn valid_client_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() < 50
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'))
}

/// Lower-cased, trimmed form of an email address (the addr-spec only).
pub fn normalize_email(email: &str) -> String {
    let trimmed = email.trim();
    let addr = match (trimmed.rfind('<'), trimmed.rfind('>')) {
        (Some(start), Some(end)) if start < end => &trimmed[start + 1..end],
        _ => trimmed,
    };
    addr.trim().to_lowercase()
}

/// E.164 form of a phone number; numbers without `+` are read as US numbers.
pub fn normalize_phone(phone: &str) -> String {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    if phone.trim_start().starts_with('+') {
        format!("+{digits}")
    } else if digits.len() == 10 {
        format!("+1{digits}")
    } else {
        format!("+{digits}")
    }
}

/// `{id, name, loginDomain, timezone, gladlyUrl}` of the organization.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Organization {
    /// Organization id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Login domain.
    pub login_domain: String,
    /// IANA time zone of the org.
    pub timezone: String,
    /// The org's Gladly URL.
    pub gladly_url: String,
}

/// An inbox.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Inbox {
    /// Inbox id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Whether the inbox is disabled.
    pub disabled: bool,
}

/// An agent, with the inboxes it may be assigned work in (not exposed by the API).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Agent {
    /// Agent id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Login email.
    pub email_address: String,
    /// Inboxes the agent belongs to.
    pub inbox_ids: Vec<String>,
}

/// A team of agents.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Team {
    /// Team id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Members.
    pub agent_ids: Vec<String>,
}

/// An audience (answers are published to audiences).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Audience {
    /// Audience id.
    pub id: String,
    /// Display name.
    pub name: String,
}

/// A topic of the topic tree.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Topic {
    /// Topic id.
    pub id: String,
    /// Unique name.
    pub name: String,
    /// Archived topics are disabled.
    pub disabled: bool,
    /// Parent topic, for nested topics.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
}

/// One email address of a customer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Email {
    /// The address as given.
    pub original: String,
    /// Lower-cased addr-spec.
    #[serde(default)]
    pub normalized: String,
    /// Whether this is the primary address.
    #[serde(default)]
    pub primary: bool,
}

/// One phone number of a customer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Phone {
    /// The number as given.
    pub original: String,
    /// E.164 form.
    #[serde(default)]
    pub normalized: String,
    /// Extension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension: Option<String>,
    /// Region used to read a non-E.164 number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region_code: Option<String>,
    /// Whether this is the primary number.
    #[serde(default)]
    pub primary: bool,
    /// ON, OFF or FORBIDDEN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sms_preference: Option<String>,
    /// HOME, MOBILE or OFFICE.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// A customer profile.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    /// Customer id.
    pub id: String,
    /// Full name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Avatar URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Postal address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Email addresses.
    #[serde(default)]
    pub emails: Vec<Email>,
    /// Phone numbers.
    #[serde(default)]
    pub phones: Vec<Phone>,
    /// Legacy lookup-adaptor id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_customer_id: Option<String>,
    /// Lookup-adaptor ids by adaptor.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub external_customer_ids: Map<String, Value>,
    /// Org-defined attributes.
    #[serde(default)]
    pub custom_attributes: Map<String, Value>,
    /// Creation instant.
    pub created_at: String,
    /// Last update instant.
    pub updated_at: String,
}

/// A conversation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Conversation {
    /// Conversation id.
    pub id: String,
    /// Owning customer.
    pub customer_id: String,
    /// Assigned inbox.
    pub inbox_id: String,
    /// OPEN, WAITING or CLOSED.
    pub status: String,
    /// Creation instant.
    pub created_at: String,
    /// Closing instant, only while closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<String>,
    /// Assigned agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    /// Applied topics.
    #[serde(default)]
    pub topic_ids: Vec<String>,
    /// Freeform topics `{id, value}`.
    #[serde(default)]
    pub custom_attributes: Vec<Value>,
}

/// A conversation (timeline) item; `content` keeps Gladly's per-type shape.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Item {
    /// Item id.
    pub id: String,
    /// Owning customer.
    pub customer_id: String,
    /// Conversation, absent for API-created items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<String>,
    /// Instant of the item.
    pub timestamp: String,
    /// Who started it `{id, type}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initiator: Option<Value>,
    /// Who answered `{id, type}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responder: Option<Value>,
    /// `{type, ...}`.
    pub content: Value,
}

/// A task.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    /// Task id.
    pub id: String,
    /// Owning customer.
    pub customer_id: String,
    /// Creation instant.
    pub timestamp: String,
    /// Creator `{id, type}`.
    pub created_by: Value,
    /// `{inboxId, agentId}`.
    pub assignee: Value,
    /// Rich-text body.
    pub body: String,
    /// Due instant.
    pub due_at: String,
    /// OPEN or CLOSED.
    pub status: String,
}

/// A comment on a task.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Comment {
    /// Comment id.
    pub id: String,
    /// Task it belongs to.
    pub task_id: String,
    /// Author.
    pub agent_id: String,
    /// Text.
    pub comment: String,
    /// Creation instant.
    pub created_at: String,
}

/// An answer (management view).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Answer {
    /// Answer id.
    pub id: String,
    /// Unique name.
    pub name: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Audiences it is published to.
    #[serde(default)]
    pub audience_ids: Vec<String>,
    /// Creation instant.
    pub created_at: String,
    /// Last update instant.
    pub updated_at: String,
    /// Tied to a rule or Help Center section, so it cannot be deleted (sandbox-only flag).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub in_use: bool,
}

/// A webhook registration (credentials and header values are write-only).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Webhook {
    /// Webhook id.
    pub id: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Event types delivered.
    pub events: Vec<String>,
    /// HTTPS target.
    pub url: String,
    /// Basic credentials, never returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<Value>,
    /// Extra headers, never returned (only their keys).
    #[serde(default)]
    pub headers: Map<String, Value>,
    /// Whether deliveries are on.
    pub enabled: bool,
    /// Set when Gladly turned it off after failed deliveries.
    #[serde(default)]
    pub disabled_at_due_to_retry_limit: Option<String>,
    /// Creation instant.
    pub created_at: String,
    /// Last update instant.
    pub updated_at: String,
}

/// An export job with its files (JSON Lines text by file name).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportJob {
    /// Job id.
    pub id: String,
    /// Schedule that produced it.
    pub schedule_id: String,
    /// `PENDING`, `IN_PROGRESS`, `COMPLETED` or `FAILED`.
    pub status: String,
    /// Last update instant.
    pub updated_at: String,
    /// `{type, startAt, endAt}`.
    pub parameters: Value,
    /// File contents by name.
    #[serde(default)]
    pub files: BTreeMap<String, String>,
}

/// The whole simulated organization.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Org {
    /// Seed of the id generator.
    pub seed: u64,
    /// Ids generated so far at run time (the generator's position).
    pub next_id: u64,
    /// The last timestamp handed out by [`Org::now`], in Unix milliseconds.
    #[serde(default)]
    pub last_ms: i64,
    /// Where "now" comes from (not saved: a loaded org takes the running sandbox's clock).
    #[serde(skip)]
    pub clock: Clock,
    /// The organization record.
    pub organization: Organization,
    /// Answer languages configured for the org.
    pub languages: Vec<String>,
    /// Topics a conversation must carry (itself or a descendant) before it can be closed.
    pub required_topic_ids: Vec<String>,
    /// Inboxes by id.
    pub inboxes: BTreeMap<String, Inbox>,
    /// Agents by id.
    pub agents: BTreeMap<String, Agent>,
    /// Teams by id.
    pub teams: BTreeMap<String, Team>,
    /// Audiences by id.
    pub audiences: BTreeMap<String, Audience>,
    /// Topics by id.
    pub topics: BTreeMap<String, Topic>,
    /// Customers by id.
    pub customers: BTreeMap<String, Customer>,
    /// Merged-away customer id → surviving id.
    pub merged_customers: BTreeMap<String, String>,
    /// Conversations by id.
    pub conversations: BTreeMap<String, Conversation>,
    /// Conversation items by id.
    pub items: BTreeMap<String, Item>,
    /// Ids of items of a kind the API does not serve (GET answers 400, as the spec
    /// documents: "exists but is not supported by the API").
    #[serde(default)]
    pub unsupported_items: std::collections::BTreeSet<String>,
    /// Tasks by id.
    pub tasks: BTreeMap<String, Task>,
    /// Task comments by id.
    pub comments: BTreeMap<String, Comment>,
    /// Answers by id.
    pub answers: BTreeMap<String, Answer>,
    /// Answer content keyed `answerId/language/type`.
    pub answer_contents: BTreeMap<String, Value>,
    /// Webhooks by id.
    pub webhooks: BTreeMap<String, Webhook>,
    /// Export schedules.
    pub export_schedules: Vec<Value>,
    /// Export jobs by id.
    pub export_jobs: BTreeMap<String, ExportJob>,
    /// The event stream, oldest first.
    pub events: Vec<Value>,
    /// Business-hours configurations by id (`bh_…`).
    #[serde(default)]
    pub business_hours: BTreeMap<String, Value>,
    /// Conversation custom-attribute (freeform topic) definitions by id.
    #[serde(default)]
    pub custom_attributes: BTreeMap<String, Value>,
    /// Proactive campaigns by id (`{id, name, type}`).
    #[serde(default)]
    pub campaigns: BTreeMap<String, Value>,
    /// Recipient collections added to campaigns, by id.
    #[serde(default)]
    pub recipient_collections: BTreeMap<String, Value>,
    /// Help centers: id → the answers placed in it.
    #[serde(default)]
    pub help_centers: BTreeMap<String, Vec<String>>,
    /// Calls in progress by agent id (`{agentId, customerId, conversationItemId, recording}`).
    #[serde(default)]
    pub live_calls: BTreeMap<String, Value>,
    /// Voice transcripts by conversation-item id.
    #[serde(default)]
    pub transcripts: BTreeMap<String, Value>,
    /// Email addresses the org sends from.
    #[serde(default)]
    pub sender_addresses: Vec<String>,
    /// Phone numbers the org sends texts from.
    #[serde(default)]
    pub sender_numbers: Vec<String>,
}

impl Org {
    /// An empty org with the given seed (fixtures fill it).
    pub fn empty(seed: u64) -> Self {
        Org {
            seed,
            next_id: 0,
            last_ms: 0,
            clock: Clock::real(),
            organization: Organization {
                id: gladly_id(seed, "organization"),
                name: String::new(),
                login_domain: String::new(),
                timezone: "UTC".into(),
                gladly_url: String::new(),
            },
            languages: Vec::new(),
            required_topic_ids: Vec::new(),
            inboxes: BTreeMap::new(),
            agents: BTreeMap::new(),
            teams: BTreeMap::new(),
            audiences: BTreeMap::new(),
            topics: BTreeMap::new(),
            customers: BTreeMap::new(),
            merged_customers: BTreeMap::new(),
            conversations: BTreeMap::new(),
            items: BTreeMap::new(),
            unsupported_items: std::collections::BTreeSet::new(),
            tasks: BTreeMap::new(),
            comments: BTreeMap::new(),
            answers: BTreeMap::new(),
            answer_contents: BTreeMap::new(),
            webhooks: BTreeMap::new(),
            export_schedules: Vec::new(),
            export_jobs: BTreeMap::new(),
            events: Vec::new(),
            business_hours: BTreeMap::new(),
            custom_attributes: BTreeMap::new(),
            campaigns: BTreeMap::new(),
            recipient_collections: BTreeMap::new(),
            help_centers: BTreeMap::new(),
            live_calls: BTreeMap::new(),
            transcripts: BTreeMap::new(),
            sender_addresses: Vec::new(),
            sender_numbers: Vec::new(),
        }
    }

    /// A fresh Gladly id, deterministic for the seed and the number of ids made before.
    pub fn new_id(&mut self) -> String {
        self.next_id += 1;
        gladly_id(self.seed, &format!("generated:{}", self.next_id))
    }

    /// The current instant (on the org's [`Clock`]) in Gladly's format, strictly increasing
    /// for this org (by at least a millisecond), so records created in one burst keep their
    /// creation order in every "oldest first" / "newest first" list.
    pub fn now(&mut self) -> String {
        self.last_ms = self.clock.now().timestamp_millis().max(self.last_ms + 1);
        format_ts(DateTime::from_timestamp_millis(self.last_ms).unwrap_or_default())
    }

    /// The customer owning `email` (normalized comparison), if any.
    pub fn customer_by_email(&self, email: &str) -> Option<&Customer> {
        let wanted = normalize_email(email);
        self.customers
            .values()
            .find(|c| c.emails.iter().any(|e| e.normalized == wanted))
    }

    /// The customer owning `phone` as a MOBILE number, if any.
    pub fn customer_by_mobile(&self, phone: &str) -> Option<&Customer> {
        let wanted = normalize_phone(phone);
        self.customers.values().find(|c| {
            c.phones
                .iter()
                .any(|p| p.kind.as_deref() == Some("MOBILE") && p.normalized == wanted)
        })
    }

    /// The agent the API user (the token's owner) is.
    pub fn api_agent_id(&self) -> String {
        gladly_id(self.seed, "agent:api")
    }

    /// Whether `agent_id` may be assigned work in `inbox_id`.
    pub fn agent_in_inbox(&self, agent_id: &str, inbox_id: &str) -> bool {
        self.agents
            .get(agent_id)
            .is_some_and(|a| a.inbox_ids.iter().any(|i| i == inbox_id))
    }

    /// Whether `topic_id` is `ancestor` or nested (at any depth) under it.
    pub fn topic_within(&self, topic_id: &str, ancestor: &str) -> bool {
        let mut current = Some(topic_id.to_owned());
        let mut hops = 0;
        while let Some(id) = current {
            if id == ancestor {
                return true;
            }
            hops += 1;
            if hops > 64 {
                return false;
            }
            current = self.topics.get(&id).and_then(|t| t.parent_id.clone());
        }
        false
    }

    /// Required topics a conversation with `topic_ids` still lacks.
    pub fn missing_required_topics(&self, topic_ids: &[String]) -> Vec<String> {
        self.required_topic_ids
            .iter()
            .filter(|required| !topic_ids.iter().any(|t| self.topic_within(t, required)))
            .cloned()
            .collect()
    }

    /// Whether the last message of the conversation came from the customer.
    pub fn awaits_reply(&self, conversation_id: &str) -> bool {
        let last = self
            .items
            .values()
            .filter(|i| i.conversation_id.as_deref() == Some(conversation_id))
            .filter(|i| is_message(&i.content))
            .max_by(|a, b| a.timestamp.cmp(&b.timestamp));
        last.and_then(|i| i.initiator.as_ref())
            .and_then(|who| who.get("type"))
            .and_then(Value::as_str)
            == Some("CUSTOMER")
    }

    /// Whether the customer has an OPEN or WAITING conversation.
    pub fn has_active_conversation(&self, customer_id: &str) -> bool {
        self.conversations
            .values()
            .any(|c| c.customer_id == customer_id && c.status != "CLOSED")
    }

    /// Appends an event to the stream.
    pub fn emit(&mut self, kind: &str, initiator: Option<Value>, content: Value) {
        let id = self.new_id();
        let mut event = Map::new();
        event.insert("id".into(), Value::String(id));
        event.insert("type".into(), Value::String(kind.to_owned()));
        let now = self.now();
        event.insert("timestamp".into(), Value::String(now));
        if let Some(initiator) = initiator {
            event.insert("initiator".into(), initiator);
        }
        event.insert("content".into(), content);
        self.events.push(Value::Object(event));
    }

    /// Record counts by collection, for `/__sandbox/state`.
    pub fn counts(&self) -> Value {
        serde_json::json!({
            "inboxes": self.inboxes.len(),
            "agents": self.agents.len(),
            "teams": self.teams.len(),
            "audiences": self.audiences.len(),
            "topics": self.topics.len(),
            "customers": self.customers.len(),
            "mergedCustomers": self.merged_customers.len(),
            "conversations": self.conversations.len(),
            "items": self.items.len(),
            "tasks": self.tasks.len(),
            "comments": self.comments.len(),
            "answers": self.answers.len(),
            "answerContents": self.answer_contents.len(),
            "webhooks": self.webhooks.len(),
            "exportJobs": self.export_jobs.len(),
            "events": self.events.len(),
            "businessHours": self.business_hours.len(),
            "recipientCollections": self.recipient_collections.len(),
        })
    }
}

/// Whether an item's content is a message that a customer or an agent sent.
fn is_message(content: &Value) -> bool {
    matches!(
        content.get("type").and_then(Value::as_str),
        Some(
            "CHAT_MESSAGE"
                | "EMAIL"
                | "SMS"
                | "FACEBOOK_MESSAGE"
                | "INSTAGRAM_DIRECT"
                | "WHATSAPP"
                | "TWITTER"
                | "PHONE_CALL"
                | "VOICEMAIL"
        )
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_22_url_safe_chars_and_deterministic() {
        let id = gladly_id(1, "inbox:Billing");
        assert_eq!(id.len(), 22);
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(id, gladly_id(1, "inbox:Billing"));
        assert_ne!(id, gladly_id(2, "inbox:Billing"));
    }

    #[test]
    fn timestamps_have_millis_and_z() {
        let at = parse_ts("2021-09-28T00:00-07:00").unwrap();
        assert_eq!(format_ts(at), "2021-09-28T07:00:00.000Z");
        assert!(parse_ts("2021-09-28T07:00:00.5Z").is_some());
        assert!(parse_ts("2021-09-28T07:00Z").is_some());
        assert!(parse_ts("yesterday").is_none());
        assert_eq!(
            parse_ts("2021-09-28T00:00:00 02:00"),
            parse_ts("2021-09-27T22:00:00Z")
        );
    }

    #[test]
    fn now_is_strictly_increasing() {
        let mut org = Org::empty(1);
        let stamps: Vec<String> = (0..100).map(|_| org.now()).collect();
        assert!(stamps.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn a_fixed_clock_starts_at_its_instant_and_advances() {
        let at = parse_ts("2026-11-20T18:00:00Z").unwrap();
        let clock = Clock::starting_at(at);
        let first = clock.now();
        assert!(first >= at && first - at < chrono::Duration::seconds(5));
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(clock.now() > first);
        assert!(clock.is_fixed() && !Clock::real().is_fixed());
        let mut org = Org::empty(1);
        org.clock = clock;
        assert!(org.now().starts_with("2026-11-20T18:00:"));
    }

    #[test]
    fn client_ids_are_checked() {
        assert!(valid_client_id("abc_DEF-123"));
        assert!(!valid_client_id("has space"));
        assert!(!valid_client_id(&"x".repeat(50)));
        assert!(!valid_client_id(""));
    }

    #[test]
    fn phones_and_emails_normalize() {
        assert_eq!(normalize_phone("(415) 555-0101"), "+14155550101");
        assert_eq!(normalize_phone("+44 20 7946 0000"), "+442079460000");
        assert_eq!(normalize_email(" Ada <ADA@Example.com>"), "ada@example.com");
    }
}
