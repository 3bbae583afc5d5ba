//! The deterministic default org every sandbox starts with (unless `--state` loads one).
//!
//! Ids come from the seed and a fixed label (`gladly_id(seed, "inbox:Billing")`), so the
//! same seed always gives the same ids and the sample inputs in `jobs/` can name them;
//! timestamps are relative to the start (the sandbox's clock: `--clock` fixes it), so
//! events fall in the last 24 hours and export jobs in the last 14 days. Names and emails
//! are readable (inbox "Billing", agent `alice@example.com`, customer `ada@example.com`).
//! This module only builds data; the rules that apply to it live in `state` and the routes.
//!
//! What it holds (the label in brackets gives the id: `gladly_id(seed, "customer:ada")`):
//!
//! - Inboxes Billing, Support, Returns, VIP and Legacy (disabled) `[inbox:NAME]`.
//! - Agents alice (Billing, Support), bob (Support), carol (Billing, Returns), dave
//!   (Returns, VIP) `@example.com`, and the API user (the `--username`, Support)
//!   `[agent:alice]`…`[agent:api]`; teams Tier 1 and Escalations `[team:NAME]`; audiences
//!   Audience 1, Audience 2, VIP Customers `[audience:NAME]`.
//! - Topics: Contact Reason (required to close) > Billing Question, Shipping > Late
//!   Delivery, Returns > Wrong Size; VIP; Loyalty Program (ARCHIVED, disabled) `[topic:NAME]`.
//! - Customers Ada Lovelace, Grace Hopper, Alan Turing, Katherine Johnson, Margaret
//!   Hamilton (`FIRSTNAME@example.com`) `[customer:ada]`…; `[customer:ada-old]` is merged
//!   into Ada.
//! - Conversations: Ada's OPEN chat awaiting a reply `[conversation:ada-chat]`, Grace's
//!   WAITING email `[conversation:grace-email]`, Alan's CLOSED phone call with a recording,
//!   note and topic change `[conversation:alan-call]`, Margaret's OPEN SMS without topic
//!   `[conversation:margaret-sms]`; Ada's CLOSED email thread in Billing (cc, bcc, two topic
//!   changes, a freeform topic) `[conversation:ada-email]` and alice's CLOSED outbound,
//!   recorded call to her `[conversation:ada-call]`, both on the events' working day.
//! - Tasks `[task:grace-refund]` (open, one comment), `[task:ada-invoice]` (open),
//!   `[task:alan-followup]` (closed).
//! - Answers How to: Say Hello, Return Policy (en-us public, email, messaging and
//!   reference; fr-ca public and email) and Internal Escalation (in use, reference only)
//!   `[answer:NAME]`; help center `[help-center:main]`.
//! - Export jobs completed (four files), in-progress, failed, and one 20 days old
//!   `[export-job:KEY]`; a webhook, business hours, freeform-topic definitions, two
//!   campaigns, a live call for dave, and a day of agent and contact events (logins 20 h
//!   before the start, availability changes, phone contacts with agent-initiated holds,
//!   three outbound calls, Ada's inbound email contact).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::sandbox::state::parse_ts;

use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value, json};

use super::state::{
    Agent, Answer, Audience, Clock, Comment, Conversation, Customer, Email, ExportJob, Inbox, Item,
    Org, Organization, Phone, Task, Team, Topic, Webhook, format_ts, gladly_id, normalize_email,
    normalize_phone,
};

/// Builds the default org for `seed`; `username` becomes the API user's agent email.
///
/// Timestamps are relative to `clock`: to its start instant exactly when it is fixed (so
/// `--clock 2026-11-20T18:00:00Z` always gives the same records), else to the real now.
/// The org keeps the clock for every later "now".
pub fn default_org(seed: u64, username: &str, base_url: &str, clock: Clock) -> Org {
    let mut org = Org::empty(seed);
    org.clock = clock;
    let mut b = Builder {
        org,
        now: clock.started_at().unwrap_or_else(|| clock.now()),
    };
    b.org.organization = Organization {
        id: b.id("organization"),
        name: "Acme Outfitters (sandbox)".into(),
        login_domain: "acme.gladly.qa".into(),
        timezone: "America/Los_Angeles".into(),
        gladly_url: base_url.to_owned(),
    };
    b.org.languages = vec!["en-us".into(), "fr-ca".into()];
    b.directory(username);
    b.topics();
    b.customers();
    b.conversations();
    b.tasks();
    b.answers();
    b.webhooks();
    b.extras();
    b.export();
    b.events();
    b.org
}

struct Builder {
    org: Org,
    now: DateTime<Utc>,
}

impl Builder {
    fn id(&self, label: &str) -> String {
        gladly_id(self.org.seed, label)
    }

    /// An instant `minutes` before the start, in Gladly's format.
    fn ago(&self, minutes: i64) -> String {
        format_ts(self.now - Duration::minutes(minutes))
    }

    /// An instant `minutes` before the start plus `seconds`, in Gladly's format.
    fn ago_plus(&self, minutes: i64, seconds: i64) -> String {
        format_ts(self.now - Duration::minutes(minutes) + Duration::seconds(seconds))
    }

    fn directory(&mut self, username: &str) {
        for (name, disabled) in [
            ("Billing", false),
            ("Support", false),
            ("Returns", false),
            ("VIP", false),
            ("Legacy", true),
        ] {
            let id = self.id(&format!("inbox:{name}"));
            self.org.inboxes.insert(
                id.clone(),
                Inbox {
                    id,
                    name: name.into(),
                    disabled,
                },
            );
        }
        let agents: [(&str, &str, &str, &[&str]); 5] = [
            (
                "alice",
                "Alice Anders",
                "alice@example.com",
                &["Billing", "Support"],
            ),
            ("bob", "Bob Baker", "bob@example.com", &["Support"]),
            (
                "carol",
                "Carol Chen",
                "carol@example.com",
                &["Billing", "Returns"],
            ),
            ("dave", "Dave Diaz", "dave@example.com", &["Returns", "VIP"]),
            ("api", "API User", username, &["Support"]),
        ];
        for (key, name, email, inboxes) in agents {
            let id = self.id(&format!("agent:{key}"));
            let inbox_ids = inboxes
                .iter()
                .map(|i| self.id(&format!("inbox:{i}")))
                .collect();
            self.org.agents.insert(
                id.clone(),
                Agent {
                    id,
                    name: name.into(),
                    email_address: email.into(),
                    inbox_ids,
                },
            );
        }
        let teams: [(&str, &str, &[&str]); 2] = [
            ("Tier 1", "Front-line support", &["alice", "bob"]),
            (
                "Escalations",
                "Billing and returns escalations",
                &["carol", "dave"],
            ),
        ];
        for (name, description, members) in teams {
            let id = self.id(&format!("team:{name}"));
            let agent_ids = members
                .iter()
                .map(|m| self.id(&format!("agent:{m}")))
                .collect();
            self.org.teams.insert(
                id.clone(),
                Team {
                    id,
                    name: name.into(),
                    description: description.into(),
                    agent_ids,
                },
            );
        }
        for name in ["Audience 1", "Audience 2", "VIP Customers"] {
            let id = self.id(&format!("audience:{name}"));
            self.org.audiences.insert(
                id.clone(),
                Audience {
                    id,
                    name: name.into(),
                },
            );
        }
    }

    fn topics(&mut self) {
        let tree: [(&str, Option<&str>, bool); 8] = [
            ("Contact Reason", None, false),
            ("Billing Question", Some("Contact Reason"), false),
            ("Shipping", Some("Contact Reason"), false),
            ("Late Delivery", Some("Shipping"), false),
            ("Returns", Some("Contact Reason"), false),
            ("Wrong Size", Some("Returns"), false),
            ("VIP", None, false),
            ("Loyalty Program (ARCHIVED)", None, true),
        ];
        for (name, parent, disabled) in tree {
            let id = self.id(&format!("topic:{name}"));
            let parent_id = parent.map(|p| self.id(&format!("topic:{p}")));
            self.org.topics.insert(
                id.clone(),
                Topic {
                    id,
                    name: name.into(),
                    disabled,
                    parent_id,
                },
            );
        }
        self.org.required_topic_ids = vec![self.id("topic:Contact Reason")];
    }

    fn customer(
        &mut self,
        key: &str,
        name: &str,
        emails: &[&str],
        mobile: Option<(&str, &str)>,
        age_days: i64,
    ) -> String {
        let id = self.id(&format!("customer:{key}"));
        let emails = emails
            .iter()
            .enumerate()
            .map(|(i, e)| Email {
                original: (*e).into(),
                normalized: normalize_email(e),
                primary: i == 0,
            })
            .collect();
        let phones = mobile
            .map(|(number, kind)| Phone {
                original: number.into(),
                normalized: normalize_phone(number),
                extension: None,
                region_code: Some("US".into()),
                primary: true,
                sms_preference: Some("ON".into()),
                kind: Some(kind.into()),
            })
            .into_iter()
            .collect();
        let customer = Customer {
            id: id.clone(),
            name: Some(name.into()),
            image: None,
            address: None,
            emails,
            phones,
            external_customer_id: None,
            external_customer_ids: Map::new(),
            custom_attributes: Map::new(),
            created_at: self.ago(age_days * 1440),
            updated_at: self.ago(age_days * 60),
        };
        self.org.customers.insert(id.clone(), customer);
        id
    }

    fn customers(&mut self) {
        let ada = self.customer(
            "ada",
            "Ada Lovelace",
            &["ada@example.com", "ada.l@work.example"],
            Some(("+14155550101", "MOBILE")),
            90,
        );
        if let Some(c) = self.org.customers.get_mut(&ada) {
            c.address = Some("12 Analytical Way, London".into());
            c.custom_attributes.insert("tier".into(), json!("gold"));
        }
        self.customer(
            "grace",
            "Grace Hopper",
            &["grace@example.com"],
            Some(("+14155550102", "MOBILE")),
            60,
        );
        self.customer(
            "alan",
            "Alan Turing",
            &["alan@example.com"],
            Some(("+14155550103", "HOME")),
            45,
        );
        let katherine = self.customer(
            "katherine",
            "Katherine Johnson",
            &["katherine@example.com"],
            None,
            30,
        );
        if let Some(c) = self.org.customers.get_mut(&katherine) {
            c.external_customer_id = Some("EXT-1001".into());
        }
        self.customer(
            "margaret",
            "Margaret Hamilton",
            &["margaret@example.com"],
            Some(("+14155550105", "MOBILE")),
            20,
        );
        // A profile merged into Ada's: GET answers 301, PATCH 404.
        self.org
            .merged_customers
            .insert(self.id("customer:ada-old"), ada);
        // An item of a kind the API does not serve (GET answers 400).
        let hidden = self.id("item:ada-unsupported");
        self.org.unsupported_items.insert(hidden);
        let activity = self.id("item:katherine-activity");
        self.item(&activity, "katherine", None, 2 * 1440, "API", json!({
            "type": "CUSTOMER_ACTIVITY", "activityType": "ISSUE", "title": "Order #1001 delivered",
            "body": "Package left at front door", "sourceName": "Shop", "expandByDefault": false,
            "receivedAt": self.ago(2 * 1440),
        }));
    }

    fn item(
        &mut self,
        id: &str,
        customer: &str,
        conversation: Option<&str>,
        minutes_ago: i64,
        who: &str,
        content: Value,
    ) {
        let customer_id = self.id(&format!("customer:{customer}"));
        let initiator = match who {
            "CUSTOMER" => json!({"id": customer_id, "type": "CUSTOMER"}),
            "API" => json!({"id": self.id("agent:api"), "type": "API"}),
            agent => json!({"id": self.id(&format!("agent:{agent}")), "type": "AGENT"}),
        };
        self.org.items.insert(
            id.to_owned(),
            Item {
                id: id.to_owned(),
                customer_id,
                conversation_id: conversation.map(|c| self.id(&format!("conversation:{c}"))),
                timestamp: self.ago(minutes_ago),
                initiator: Some(initiator),
                responder: None,
                content,
            },
        );
    }

    #[allow(clippy::too_many_arguments)] // one call per fixture row reads best
    fn conversation(
        &mut self,
        key: &str,
        customer: &str,
        inbox: &str,
        agent: &str,
        status: &str,
        topics: &[&str],
        minutes_ago: i64,
    ) {
        let id = self.id(&format!("conversation:{key}"));
        let conversation = Conversation {
            id: id.clone(),
            customer_id: self.id(&format!("customer:{customer}")),
            inbox_id: self.id(&format!("inbox:{inbox}")),
            status: status.into(),
            created_at: self.ago(minutes_ago),
            closed_at: (status == "CLOSED").then(|| self.ago(minutes_ago - 30)),
            agent_id: Some(self.id(&format!("agent:{agent}"))),
            topic_ids: topics
                .iter()
                .map(|t| self.id(&format!("topic:{t}")))
                .collect(),
            custom_attributes: Vec::new(),
        };
        self.org.conversations.insert(id, conversation);
    }

    fn conversations(&mut self) {
        // Ada: OPEN chat in Support, the customer spoke last (closing needs force).
        self.conversation("ada-chat", "ada", "Support", "alice", "OPEN", &[], 120);
        let session = self.id("session:ada-chat");
        for (n, (who, text, at)) in [
            ("CUSTOMER", "Hi, my invoice looks wrong", 120),
            ("alice", "Let me check that for you", 110),
            ("CUSTOMER", "Any news?", 60),
        ]
        .into_iter()
        .enumerate()
        {
            let id = self.id(&format!("item:ada-chat-{n}"));
            self.item(&id, "ada", Some("ada-chat"), at, who, json!({"type": "CHAT_MESSAGE", "messageType": "TEXT", "sessionId": session, "content": text}));
        }
        // Grace: WAITING email thread in Billing, the agent answered last.
        self.conversation(
            "grace-email",
            "grace",
            "Billing",
            "carol",
            "WAITING",
            &["Billing Question"],
            3 * 1440,
        );
        let email = |from: &str, to: &str, subject: &str, text: &str| json!({"type": "EMAIL", "from": from, "to": [to], "subject": subject, "content": text});
        let grace_1 = self.id("item:grace-email-0");
        self.item(
            &grace_1,
            "grace",
            Some("grace-email"),
            3 * 1440,
            "CUSTOMER",
            email(
                "grace@example.com",
                "billing@acme.example",
                "Double charge",
                "I was charged twice for order #2002.",
            ),
        );
        let grace_2 = self.id("item:grace-email-1");
        self.item(
            &grace_2,
            "grace",
            Some("grace-email"),
            3 * 1440 - 90,
            "carol",
            email(
                "billing@acme.example",
                "grace@example.com",
                "Re: Double charge",
                "We refunded the duplicate charge.",
            ),
        );
        // Alan: CLOSED phone call in Support with a recording, a note and topic changes.
        self.conversation(
            "alan-call",
            "alan",
            "Support",
            "bob",
            "CLOSED",
            &["Late Delivery"],
            1170,
        );
        let call = self.id("item:alan-call");
        let call_content = json!({
            "type": "PHONE_CALL", "from": "+14155550103", "to": "+18005550000",
            "startedAt": self.ago(1170), "answeredAt": self.ago(1168), "completedAt": self.ago(1160),
            "recordingStatus": "AVAILABLE", "recordingUrl": format!("/api/v1/conversation-items/{call}/media/recording"),
            "recordingDuration": 245,
            "recordingSummary": {"status": "READY", "summary": "Customer asked where the parcel is.", "language": "en-us"},
        });
        self.item(
            &call,
            "alan",
            Some("alan-call"),
            1170,
            "CUSTOMER",
            call_content,
        );
        let note = self.id("item:alan-note");
        self.item(
            &note,
            "alan",
            Some("alan-call"),
            1159,
            "bob",
            json!({"type": "CONVERSATION_NOTE", "body": "Carrier confirmed a two-day delay."}),
        );
        let change = self.id("item:alan-topics");
        let late = self.id("topic:Late Delivery");
        self.item(
            &change,
            "alan",
            Some("alan-call"),
            1158,
            "bob",
            json!({"type": "TOPIC_CHANGE", "addedTopicIds": [late], "removedTopicIds": []}),
        );
        let closed = self.id("item:alan-closed");
        self.item(
            &closed,
            "alan",
            Some("alan-call"),
            1140,
            "bob",
            json!({"type": "CONVERSATION_STATUS_CHANGE", "status": "CLOSED"}),
        );
        // Margaret: OPEN SMS thread in Returns, agent spoke last, no topic yet.
        self.conversation(
            "margaret-sms",
            "margaret",
            "Returns",
            "dave",
            "OPEN",
            &[],
            300,
        );
        let sms_in = self.id("item:margaret-sms-0");
        self.item(&sms_in, "margaret", Some("margaret-sms"), 300, "CUSTOMER", json!({"type": "SMS", "from": "+14155550105", "to": "+18005550000", "content": "These shoes are too small"}));
        let sms_out = self.id("item:margaret-sms-1");
        self.item(&sms_out, "margaret", Some("margaret-sms"), 290, "dave", json!({"type": "SMS", "from": "+18005550000", "to": "+14155550105", "content": "A return label is on its way"}));
        self.ada_email();
        self.ada_call();
        self.outbound_call(
            "grace-call",
            "grace",
            "+14155550102",
            "alice",
            "Billing",
            1140,
        );
        self.outbound_call(
            "margaret-call",
            "margaret",
            "+14155550105",
            "carol",
            "Returns",
            1080,
        );
    }

    /// An agent's outbound call that the customer answers, closed half an hour later: the
    /// conversation and items behind the `{key}` contact of the events.
    fn outbound_call(
        &mut self,
        key: &str,
        customer: &str,
        phone: &str,
        agent: &str,
        inbox: &str,
        at: i64,
    ) {
        self.conversation(key, customer, inbox, agent, "CLOSED", &[], at);
        let call = self.id(&format!("item:{key}"));
        let content = json!({
            "type": "PHONE_CALL", "from": "+18005550000", "to": phone,
            "startedAt": self.ago(at), "answeredAt": self.ago_plus(at, 15), "completedAt": self.ago(at - 10),
        });
        self.item(&call, customer, Some(key), at, agent, content);
        let customer_id = self.id(&format!("customer:{customer}"));
        if let Some(item) = self.org.items.get_mut(&call) {
            item.responder = Some(json!({"id": customer_id, "type": "CUSTOMER"}));
        }
        let closed = self.id(&format!("item:{key}-closed"));
        self.item(
            &closed,
            customer,
            Some(key),
            at - 30,
            agent,
            json!({"type": "CONVERSATION_STATUS_CHANGE", "status": "CLOSED"}),
        );
    }

    /// Ada's CLOSED email thread in Billing (about 19 hours before the start, the working
    /// day of the events): cc and bcc addresses, two topic changes, a freeform topic.
    fn ada_email(&mut self) {
        self.conversation(
            "ada-email",
            "ada",
            "Billing",
            "alice",
            "CLOSED",
            &["Billing Question"],
            1150,
        );
        let order = self.id("custom-attribute:order_number");
        if let Some(c) = self
            .org
            .conversations
            .get_mut(&self.id("conversation:ada-email"))
        {
            c.custom_attributes = vec![json!({"id": order, "value": "3003"})];
        }
        let asked = self.id("item:ada-email-0");
        self.item(
            &asked,
            "ada",
            Some("ada-email"),
            1150,
            "CUSTOMER",
            json!({"type": "EMAIL", "from": "ada@example.com", "to": ["billing@acme.example"],
                   "cc": ["ada.l@work.example"], "subject": "Copy of invoice #3003",
                   "content": "Could you send me a copy of invoice #3003? Please copy my work address."}),
        );
        let answered = self.id("item:ada-email-1");
        self.item(
            &answered,
            "ada",
            Some("ada-email"),
            1140,
            "alice",
            json!({"type": "EMAIL", "from": "billing@acme.example", "to": ["ada@example.com"],
                   "cc": ["ada.l@work.example"], "bcc": ["records@acme.example"],
                   "subject": "Re: Copy of invoice #3003", "content": "Here is the copy of invoice #3003."}),
        );
        let (shipping, billing) = (self.id("topic:Shipping"), self.id("topic:Billing Question"));
        let first = self.id("item:ada-email-topics-0");
        self.item(
            &first,
            "ada",
            Some("ada-email"),
            1138,
            "alice",
            json!({"type": "TOPIC_CHANGE", "addedTopicIds": [shipping], "removedTopicIds": []}),
        );
        let second = self.id("item:ada-email-topics-1");
        self.item(
            &second,
            "ada",
            Some("ada-email"),
            1136,
            "alice",
            json!({"type": "TOPIC_CHANGE", "addedTopicIds": [billing], "removedTopicIds": [shipping]}),
        );
        let closed = self.id("item:ada-email-closed");
        self.item(
            &closed,
            "ada",
            Some("ada-email"),
            1120,
            "alice",
            json!({"type": "CONVERSATION_STATUS_CHANGE", "status": "CLOSED"}),
        );
    }

    /// Alice's outbound call to Ada (the `alice-outbound-2` contact of the events), answered
    /// by Ada (`responder`), recorded and summarised, then closed.
    fn ada_call(&mut self) {
        self.conversation(
            "ada-call",
            "ada",
            "Billing",
            "alice",
            "CLOSED",
            &["Billing Question"],
            1110,
        );
        let call = self.id("item:ada-call");
        let content = json!({
            "type": "PHONE_CALL", "from": "+18005550000", "to": "+14155550101",
            "startedAt": self.ago(1110), "answeredAt": self.ago_plus(1110, 12), "completedAt": self.ago(1100),
            "recordingStatus": "AVAILABLE", "recordingUrl": format!("/api/v1/conversation-items/{call}/media/recording"),
            "recordingDuration": 588,
            "recordingSummary": {"status": "READY", "summary": "Agent confirmed invoice #3003 was resent.", "language": "en-us"},
        });
        self.item(&call, "ada", Some("ada-call"), 1110, "alice", content);
        let ada = self.id("customer:ada");
        if let Some(item) = self.org.items.get_mut(&call) {
            item.responder = Some(json!({"id": ada, "type": "CUSTOMER"}));
        }
        let closed = self.id("item:ada-call-closed");
        self.item(
            &closed,
            "ada",
            Some("ada-call"),
            1080,
            "alice",
            json!({"type": "CONVERSATION_STATUS_CHANGE", "status": "CLOSED"}),
        );
    }

    fn tasks(&mut self) {
        let rows = [
            (
                "grace-refund",
                "grace",
                "Billing",
                "carol",
                "Confirm the refund for order #2002 reached the card",
                "OPEN",
                2 * 1440,
                -3 * 1440,
            ),
            (
                "alan-followup",
                "alan",
                "Support",
                "bob",
                "Call back about the late parcel",
                "CLOSED",
                1400,
                -1440,
            ),
            (
                "ada-invoice",
                "ada",
                "Billing",
                "alice",
                "Send a corrected invoice",
                "OPEN",
                100,
                -2 * 1440,
            ),
        ];
        for (key, customer, inbox, agent, body, status, created, due) in rows {
            let id = self.id(&format!("task:{key}"));
            let task = Task {
                id: id.clone(),
                customer_id: self.id(&format!("customer:{customer}")),
                timestamp: self.ago(created),
                created_by: json!({"id": self.id(&format!("agent:{agent}")), "type": "AGENT"}),
                assignee: json!({"inboxId": self.id(&format!("inbox:{inbox}")), "agentId": self.id(&format!("agent:{agent}"))}),
                body: body.into(),
                due_at: self.ago(due),
                status: status.into(),
            };
            self.org.tasks.insert(id, task);
        }
        let comment = self.id("comment:grace-refund");
        self.org.comments.insert(
            comment.clone(),
            Comment {
                id: comment,
                task_id: self.id("task:grace-refund"),
                agent_id: self.id("agent:carol"),
                comment: "Refund issued, waiting for the bank".into(),
                created_at: self.ago(1440),
            },
        );
    }

    fn answers(&mut self) {
        let rows: [(&str, &str, &[&str], bool); 3] = [
            (
                "How to: Say Hello",
                "Greeting customers",
                &["Audience 1"],
                false,
            ),
            (
                "Return Policy",
                "30-day returns",
                &["Audience 1", "Audience 2"],
                false,
            ),
            (
                "Internal Escalation",
                "Used by an escalation rule",
                &[],
                true,
            ),
        ];
        for (name, description, audiences, in_use) in rows {
            let id = self.id(&format!("answer:{name}"));
            let answer = Answer {
                id: id.clone(),
                name: name.into(),
                description: Some(description.into()),
                audience_ids: audiences
                    .iter()
                    .map(|a| self.id(&format!("audience:{a}")))
                    .collect(),
                created_at: self.ago(30 * 1440),
                updated_at: self.ago(7 * 1440),
                in_use,
            };
            self.org.answers.insert(id, answer);
        }
        let contents = [
            (
                "How to: Say Hello",
                "en-us",
                "public",
                json!({"title": "Say hello", "bodyHtml": "<p>Hello!</p>"}),
            ),
            (
                "How to: Say Hello",
                "fr-ca",
                "public",
                json!({"title": "Dire bonjour", "bodyHtml": "<p>Bonjour!</p>"}),
            ),
            (
                "Return Policy",
                "en-us",
                "public",
                json!({"title": "Returns", "bodyHtml": "<p>Return within 30 days.</p>"}),
            ),
            (
                "Return Policy",
                "en-us",
                "email",
                json!({"subject": "Our return policy", "bodyHtml": "<p>Return within 30 days.</p>"}),
            ),
            (
                "Return Policy",
                "en-us",
                "messaging",
                json!({"bodyHtml": "Return within 30 days."}),
            ),
            (
                "Return Policy",
                "en-us",
                "reference",
                json!({"bodyHtml": "<p>After 30 days, a return needs a team lead's approval.</p>", "internal": false}),
            ),
            (
                "Return Policy",
                "fr-ca",
                "public",
                json!({"title": "Retours", "bodyHtml": "<p>Retour sous 30 jours.</p>"}),
            ),
            (
                "Return Policy",
                "fr-ca",
                "email",
                json!({"subject": "Notre politique de retour", "bodyHtml": "<p>Retour sous 30 jours.</p>"}),
            ),
            (
                "Internal Escalation",
                "en-us",
                "reference",
                json!({"bodyHtml": "<p>Escalate to Tier 2.</p>", "internal": true}),
            ),
        ];
        for (name, language, kind, fields) in contents {
            let id = self.id(&format!("answer:{name}"));
            let mut content = json!({"answerId": id, "language": language, "type": kind});
            if let (Some(obj), Value::Object(extra)) = (content.as_object_mut(), fields) {
                obj.extend(extra);
            }
            self.org
                .answer_contents
                .insert(format!("{id}/{language}/{kind}"), content);
        }
    }

    /// Business hours, freeform-topic definitions, campaigns, a help center, a live call,
    /// a call transcript, an email attachment and the org's sender addresses.
    fn extras(&mut self) {
        let hours = self.id("business-hours:standard");
        let day = json!([{"start": "09:00", "stop": "17:00"}]);
        self.org.business_hours.insert(
            format!("bh_{hours}"),
            json!({
                "id": format!("bh_{hours}"), "version": 1, "createdAt": self.ago(60 * 1440), "updatedAt": self.ago(60 * 1440),
                "name": "Standard Hours", "primary": true,
                "officeHours": {"timezone": "America/Los_Angeles", "monday": day, "tuesday": day, "wednesday": day,
                                "thursday": day, "friday": day, "saturday": [], "sunday": [], "exceptions": []},
            }),
        );
        for (key, label, deactivated) in [
            ("order_number", "Order number", false),
            ("sku", "SKU", false),
            ("legacy_code", "Legacy code", true),
        ] {
            let id = self.id(&format!("custom-attribute:{key}"));
            let definition = json!({"id": id, "key": key, "label": label, "deactivated": deactivated,
                                    "createdAt": self.ago(90 * 1440), "createdBy": self.id("agent:api")});
            self.org.custom_attributes.insert(id, definition);
        }
        for (name, kind) in [("Spring Sale", "EMAIL"), ("Delivery Reminders", "SMS")] {
            let id = self.id(&format!("campaign:{name}"));
            self.org
                .campaigns
                .insert(id.clone(), json!({"id": id, "name": name, "type": kind}));
        }
        let placed = ["How to: Say Hello", "Return Policy"]
            .iter()
            .map(|n| self.id(&format!("answer:{n}")))
            .collect();
        self.org
            .help_centers
            .insert(self.id("help-center:main"), placed);
        let dave = self.id("agent:dave");
        let live = json!({"agentId": dave, "customerId": self.id("customer:margaret"),
                          "conversationItemId": self.id("item:margaret-live-call"), "recording": true});
        self.org.live_calls.insert(dave, live);
        let call = self.id("item:alan-call");
        let transcript = json!({
            "paragraphs": [
                {"transcript": "Hi, my parcel has not arrived.", "speaker": 0, "startTime": 0.5, "endTime": 3.2},
                {"transcript": "Let me check with the carrier.", "speaker": 1, "startTime": 3.8, "endTime": 6.1},
            ],
            "customerId": self.id("customer:alan"), "numberOfSpeakers": 2, "language": "en-us",
            "createdAt": self.ago(1430), "updatedAt": self.ago(1430),
        });
        self.org.transcripts.insert(call, transcript);
        let email = self.id("item:grace-email-0");
        let attachment = json!([{"id": self.id("attachment:invoice-2002"), "contentType": "application/pdf",
                                 "filename": "invoice-2002.pdf", "fileSize": 1234}]);
        if let Some(item) = self.org.items.get_mut(&email) {
            item.content["attachments"] = attachment;
        }
        self.org.sender_addresses =
            vec!["billing@acme.example".into(), "support@acme.example".into()];
        self.org.sender_numbers = vec!["+18005550000".into()];
    }

    fn webhooks(&mut self) {
        let id = self.id("webhook:order-sync");
        self.org.webhooks.insert(
            id.clone(),
            Webhook {
                id,
                name: "Order sync".into(),
                events: vec!["CONVERSATION/CLOSED".into()],
                url: "https://hooks.example.com/gladly".into(),
                credentials: None,
                headers: Map::new(),
                enabled: false,
                disabled_at_due_to_retry_limit: None,
                created_at: self.ago(10 * 1440),
                updated_at: self.ago(10 * 1440),
            },
        );
    }

    fn export(&mut self) {
        let schedule = self.id("export-schedule:daily");
        let midnight = self
            .now
            .date_naive()
            .and_hms_opt(0, 0, 0)
            .expect("midnight")
            .and_utc();
        self.org.export_schedules.push(json!({
            "id": schedule, "frequency": "DAILY", "type": "CONVERSATIONS",
            "nextStartAt": format_ts(midnight + Duration::days(1)), "updatedAt": self.ago(30 * 1440),
        }));
        // The completed job covers the week up to half an hour ago, when it completed: its
        // file holds the items of that window only (none before it, none after it).
        let done_at = self.now - Duration::minutes(30);
        let week = midnight - Duration::days(7);
        let files = self.export_files(week, done_at);
        let jobs = [
            ("completed", "COMPLETED", 30, Some((week, done_at)), files),
            ("in-progress", "IN_PROGRESS", 10, None, BTreeMap::default()),
            ("failed", "FAILED", 3 * 1440, None, BTreeMap::default()),
            ("expired", "COMPLETED", 20 * 1440, None, BTreeMap::default()),
        ];
        for (n, (key, status, updated, window, files)) in jobs.into_iter().enumerate() {
            let id = self.id(&format!("export-job:{key}"));
            let days_back = [1, 0, 3, 20][n];
            let start = midnight - Duration::days(days_back.max(1));
            let (start, end) = window.unwrap_or((start, start + Duration::days(1)));
            let job = ExportJob {
                id: id.clone(),
                schedule_id: schedule.clone(),
                status: status.into(),
                updated_at: self.ago(updated),
                parameters: json!({"type": "CONVERSATIONS", "startAt": format_ts(start), "endAt": format_ts(end)}),
                files,
            };
            self.org.export_jobs.insert(id, job);
        }
    }

    /// The four JSON Lines files of the completed export job, from the org built so far:
    /// the conversation items of `[start, end)` only.
    fn export_files(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> BTreeMap<String, String> {
        let lines = |values: Vec<Value>| {
            values.iter().fold(String::new(), |mut out, v| {
                let _ = writeln!(out, "{v}");
                out
            })
        };
        let agents = self
            .org
            .agents
            .values()
            .map(|a| json!({"id": a.id, "name": a.name, "emailAddress": a.email_address}))
            .collect();
        let customers = self
            .org
            .customers
            .values()
            .map(|c| json!({
                "id": c.id, "name": c.name, "address": c.address,
                "emailAddresses": c.emails.iter().map(|e| &e.original).collect::<Vec<_>>(),
                "phoneNumbers": c.phones.iter().map(|p| &p.normalized).collect::<Vec<_>>(),
                "externalCustomerId": c.external_customer_id, "externalCustomerIds": c.external_customer_ids,
            }))
            .collect();
        let mut items: Vec<&Item> = self
            .org
            .items
            .values()
            .filter(|i| i.conversation_id.is_some())
            .filter(|i| parse_ts(&i.timestamp).is_some_and(|at| at >= start && at < end))
            .collect();
        items.sort_by(|a, b| a.timestamp.cmp(&b.timestamp));
        let items = items
            .into_iter()
            .map(|i| serde_json::to_value(i).expect("item"))
            .collect();
        let topics = self
            .org
            .topics
            .values()
            .map(|t| serde_json::to_value(t).expect("topic"))
            .collect();
        [
            ("agents.jsonl", agents),
            ("customers.jsonl", customers),
            ("conversation_items.jsonl", items),
            ("topics.jsonl", topics),
        ]
        .into_iter()
        .map(|(name, values)| (name.to_owned(), lines(values)))
        .collect()
    }

    #[allow(clippy::needless_pass_by_value)] // callers build the values inline
    fn event(&mut self, key: &str, kind: &str, minutes_ago: i64, initiator: Value, content: Value) {
        let event = json!({"id": self.id(&format!("event:{key}")), "type": kind, "timestamp": self.ago(minutes_ago), "initiator": initiator, "content": content});
        self.org.events.push(event);
    }

    /// A working day: logins, availability, an inbound call with a hold, outbound calls, a chat.
    fn events(&mut self) {
        let start = 20 * 60;
        for (n, agent) in ["alice", "bob", "carol"].into_iter().enumerate() {
            let offset = i64::try_from(n).unwrap_or(0) * 5;
            let id = self.id(&format!("agent:{agent}"));
            let who = json!({"id": id, "type": "AGENT"});
            let at = self.ago(start - offset);
            self.event(
                &format!("{agent}-login"),
                "AGENT_STATUS/LOGGED_IN",
                start - offset,
                who.clone(),
                json!({"agentId": id, "occurredAt": at}),
            );
            let at = self.ago(start - offset - 1);
            self.event(&format!("{agent}-available"), "AGENT_AVAILABILITY/UPDATED", start - offset - 1, who.clone(), json!({"agentId": id, "availableFor": ["MAIL", "MESSAGING", "VOICE"], "occurredAt": at}));
            let at = self.ago(start - offset - 240);
            self.event(
                &format!("{agent}-lunch"),
                "AGENT_AVAILABILITY/UPDATED",
                start - offset - 240,
                who.clone(),
                json!({"agentId": id, "availableFor": [], "occurredAt": at}),
            );
            let at = self.ago(start - offset - 280);
            self.event(
                &format!("{agent}-back"),
                "AGENT_AVAILABILITY/UPDATED",
                start - offset - 280,
                who.clone(),
                json!({"agentId": id, "availableFor": ["MAIL", "VOICE"], "occurredAt": at}),
            );
            // Logging out makes the agent unavailable for every channel, then logs out.
            let at = self.ago(start - offset - 480);
            self.event(
                &format!("{agent}-unavailable"),
                "AGENT_AVAILABILITY/UPDATED",
                start - offset - 480,
                who.clone(),
                json!({"agentId": id, "availableFor": [], "occurredAt": at}),
            );
            self.event(
                &format!("{agent}-logout"),
                "AGENT_STATUS/LOGGED_OUT",
                start - offset - 480,
                who,
                json!({"agentId": id, "occurredAt": at}),
            );
        }
        self.contact_events(
            "alan-call",
            "alan",
            "bob",
            "Support",
            start - 30,
            false,
            true,
        );
        self.contact_events(
            "grace-call",
            "grace",
            "alice",
            "Billing",
            start - 60,
            true,
            false,
        );
        self.contact_events(
            "ada-call",
            "ada",
            "alice",
            "Billing",
            start - 90,
            true,
            true,
        );
        self.email_contact_events(
            "ada-email",
            "ada-email-0",
            "ada",
            "alice",
            "Billing",
            1150,
            1120,
        );
        self.contact_events(
            "margaret-call",
            "margaret",
            "carol",
            "Returns",
            start - 120,
            true,
            false,
        );
        self.org
            .events
            .sort_by(|a, b| a["timestamp"].as_str().cmp(&b["timestamp"].as_str()));
    }

    /// The id the reports give the contact that `item` (a fixture key) opened.
    fn contact_id(&self, item: &str) -> String {
        self.id(&format!("contact:{}", self.id(&format!("item:{item}"))))
    }

    /// An inbound email contact of conversation `key`, opened by item `first`: started by
    /// the customer, ended by the agent.
    #[allow(clippy::too_many_arguments)] // one call per fixture row reads best
    fn email_contact_events(
        &mut self,
        key: &str,
        first: &str,
        customer: &str,
        agent: &str,
        inbox: &str,
        started: i64,
        ended: i64,
    ) {
        let customer_id = self.id(&format!("customer:{customer}"));
        let agent_id = self.id(&format!("agent:{agent}"));
        let content = json!({
            "channel": "EMAIL", "contactId": self.contact_id(first),
            "conversationId": self.id(&format!("conversation:{key}")), "customerId": customer_id,
            "context": {"assignee": {"inboxId": self.id(&format!("inbox:{inbox}")), "agentId": agent_id}},
        });
        self.event(
            &format!("{key}-started"),
            "CONTACT/STARTED",
            started,
            json!({"id": customer_id, "type": "CUSTOMER"}),
            content.clone(),
        );
        let mut ended_content = content;
        ended_content["status"] = json!("ANSWERED");
        ended_content["reason"] = json!("CONVERSATION_CLOSED");
        self.event(
            &format!("{key}-ended"),
            "CONTACT/ENDED",
            ended,
            json!({"id": agent_id, "type": "AGENT"}),
            ended_content,
        );
    }

    #[allow(clippy::too_many_arguments)] // one call per fixture row reads best
    fn contact_events(
        &mut self,
        key: &str,
        customer: &str,
        agent: &str,
        inbox: &str,
        at: i64,
        outbound: bool,
        hold: bool,
    ) {
        let contact = self.contact_id(key);
        let agent_id = self.id(&format!("agent:{agent}"));
        let base = json!({
            "channel": "PHONE_CALL", "contactId": contact,
            "conversationId": self.id(&format!("conversation:{key}")),
            "customerId": self.id(&format!("customer:{customer}")),
            "context": {"assignee": {"inboxId": self.id(&format!("inbox:{inbox}")), "agentId": agent_id}},
        });
        let with = |extra: Value| {
            let mut content = base.clone();
            if let (Some(obj), Value::Object(extra)) = (content.as_object_mut(), extra) {
                obj.extend(extra);
            }
            content
        };
        let agent_who = json!({"id": agent_id, "type": "AGENT"});
        let customer_who =
            json!({"id": self.id(&format!("customer:{customer}")), "type": "CUSTOMER"});
        let starter = if outbound {
            agent_who.clone()
        } else {
            customer_who
        };
        self.event(
            &format!("{key}-started"),
            "CONTACT/STARTED",
            at,
            starter,
            with(json!({})),
        );
        if !outbound {
            self.event(
                &format!("{key}-offered"),
                "CONTACT/OFFERED",
                at - 1,
                agent_who.clone(),
                with(json!({"agentId": agent_id})),
            );
            self.event(
                &format!("{key}-accepted"),
                "CONTACT/OFFER_ACCEPTED",
                at - 2,
                agent_who.clone(),
                with(json!({"agentId": agent_id})),
            );
        }
        if hold {
            self.event(
                &format!("{key}-hold"),
                "CONTACT/HOLD_STARTED",
                at - 3,
                agent_who.clone(),
                with(json!({"reason": "MANUAL"})),
            );
            self.event(
                &format!("{key}-unhold"),
                "CONTACT/HOLD_ENDED",
                at - 7,
                agent_who.clone(),
                with(json!({"reason": "MANUAL"})),
            );
        }
        self.event(
            &format!("{key}-ended"),
            "CONTACT/ENDED",
            at - 10,
            agent_who,
            with(json!({"status": "ANSWERED", "reason": "AGENT_ENDED"})),
        );
    }
}
