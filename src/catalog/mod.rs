//! The Gladly REST API as data: every operation (80 of them) with its method, path
//! template, query parameters, request body shape, success status, response kind and
//! rate class.
//!
//! The manifest validator, the dry run, the sandbox and `runner ops` all read this one
//! table, so they cannot drift apart. It describes and checks; it sends nothing, and it
//! uses nothing else in the crate.
//!
//! The table is `gladly.json`, compiled in with `include_str!` and parsed once on first
//! use. It is generated from Gladly's public `OpenAPI` spec (3.0.1) by a dev tool that is
//! run by hand, and checked in:
//!
//! ```text
//! python3 tools/gen_catalog.py path/to/gladly-openapi.yml -o src/catalog/gladly.json
//! ```
//!
//! It holds facts only: names, methods, paths, types, enums, required flags, maximum
//! lengths, statuses. None of the spec's prose. The pseudo-path `/gladly/webhook`
//! (the payload Gladly posts to *your* webhook) is not an operation and is left out.
//!
//! # Choices where the spec is silent or contradicts itself
//!
//! - Names for the four operations without an operationId: `generateReport`
//!   (`POST /api/v1/reports`), `generateWorkSessionReport`
//!   (`POST /api/v1/reports/work-session-events`), `getEvents` (`GET /api/v1/events`),
//!   `updateConversationCustomAttributes` (the freeform-topic `POST`).
//! - Task comment: the field is `comment` (required); the spec requires `message` but
//!   defines only `comment`.
//! - Add topics to a conversation: the field is `topicIds` (required); the spec requires
//!   `topicIDs`.
//! - Add note: the body is `{content: {body}}`, both required, as the spec's example
//!   sends; the schema's top-level `body` is not used.
//! - Freeform topics: the body is `{add: [{key, value}], remove: [{key, value}]}`, both
//!   lists optional, `key` and `value` required strings; the spec types it as a string.
//! - `/api/v1/custom-attributes/:customAttributeId` is `{customAttributeId}`.
//! - Public Answer path keys that embed a query string (`?lng={lng}&audienceId=…`,
//!   `?q=…`) lose it; those names are ordinary optional query parameters.
//! - `generateReport` requires only `metricSet`: `startAt`/`endAt` are marked required,
//!   but the `startAtTime`/`endAtTime` form must leave them out.
//! - `generateReport` `metricSet` also accepts `ContactExportReport` (the name Gladly's
//!   get-reports sample sends; same report as `ContactExportReportV3`), which the enum omits.
//! - `redactContent` takes no body (the spec's schema says it must be empty).
//! - `sendEmail`: a stray example object listed among `to[]`'s fields is dropped.
//! - Webhook `events`: the value `CUSTOMER_PROFILE/MERGED (deprecated)` is
//!   `CUSTOMER_PROFILE/MERGED`.
//! - `getEvents` `entities` is a repeated parameter with the eight entity types as its
//!   enum (the spec lists them only in text).
//! - Limits stated only by documented 400 responses are kept: answer `name` at most 500
//!   characters (and required on create), answer `description` at most 10000, reply
//!   `content.body` at most 2048.
//! - A body is required when the spec says so *or* when it has a required field (several
//!   bodies with required fields omit the flag).
//! - `readOnly` properties are left out of request shapes: sending one is an unknown field.
//! - `oneOf` variants are merged into one shape: fields unioned, a field required only
//!   when every variant requires it, enums unioned (see [`Shape`]).
//! - Success is the first documented 2xx, or 303 for attachments; the 301 of a merged
//!   customer is not a success. The two report `POST`s only read, so they don't
//!   [`mutate`](Operation::mutates).

mod check;
mod operation;
mod path;
mod shape;
mod similar;

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;

pub use check::{BodyProblem, BodyProblemKind};
pub use operation::{
    BodySpec, Method, Operation, ParseMethodError, QueryParam, RateClass, ResponseKind,
};
pub use path::encode_segment;
pub use shape::{Field, Shape};
pub use similar::closest;

use path::Segment;

/// A JSON string starting with this stands for a value only a write would produce (a
/// dry run has no id for a customer it did not create); it is accepted for any shape.
pub const UNKNOWN_PREFIX: &str = "<unknown";

/// The Gladly catalog, parsed from the compiled-in `gladly.json` on first use.
pub fn gladly() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        Catalog::from_json(include_str!("gladly.json"))
            .expect("the compiled-in gladly.json is valid (the catalog tests load it)")
    })
}

/// Every operation of an API, with lookups by id, by concrete request and by text.
#[derive(Debug)]
pub struct Catalog {
    operations: Vec<Operation>,
    by_id: HashMap<String, usize>,
    templates: Vec<Vec<Segment>>,
}

/// An operation matched from a concrete request, with the values of its path parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved<'a> {
    /// The operation whose method and path template fit.
    pub operation: &'a Operation,
    /// `(name, value)` per path parameter, in path order, values percent-decoded.
    pub params: Vec<(String, String)>,
}

/// The top level of `gladly.json`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    /// Provenance (spec version and hash) for readers of the file; unused at run time.
    #[serde(rename = "source")]
    _source: serde::de::IgnoredAny,
    operations: Vec<Operation>,
}

impl Catalog {
    fn from_json(text: &str) -> Result<Catalog, serde_json::Error> {
        let file: CatalogFile = serde_json::from_str(text)?;
        let by_id = file
            .operations
            .iter()
            .enumerate()
            .map(|(i, op)| (op.id.clone(), i))
            .collect();
        let templates = file
            .operations
            .iter()
            .map(|op| path::parse(&op.path))
            .collect();
        Ok(Catalog {
            operations: file.operations,
            by_id,
            templates,
        })
    }

    /// Every operation, sorted by path, then by method (`GET`, `POST`, `PUT`, `PATCH`,
    /// `DELETE`).
    pub fn operations(&self) -> &[Operation] {
        &self.operations
    }

    /// The operation with exactly this id.
    pub fn get(&self, id: &str) -> Option<&Operation> {
        self.by_id.get(id).map(|&i| &self.operations[i])
    }

    /// The id closest to a misspelt `id`, for a "did you mean" hint; `None` when nothing
    /// is close.
    pub fn suggest(&self, id: &str) -> Option<&str> {
        closest(id, self.operations.iter().map(|op| op.id.as_str()))
    }

    /// The operation a concrete request hits, e.g. `GET /api/v1/customer-profiles/abc`.
    ///
    /// Anything from `?` on is ignored. Where two templates fit, the one with a literal
    /// segment where the other has a `{param}` wins, leftmost difference first.
    pub fn resolve(&self, method: Method, path: &str) -> Option<Resolved<'_>> {
        let path = path.split(['?', '#']).next().unwrap_or_default();
        let segments: Vec<&str> = path.strip_prefix('/')?.split('/').collect();
        let mut best: Option<(usize, path::Rank)> = None;
        for (i, op) in self.operations.iter().enumerate() {
            if op.method != method {
                continue;
            }
            if let Some(rank) = path::rank(&self.templates[i], &segments)
                && path::better(&rank, best.as_ref().map(|(_, r)| r))
            {
                best = Some((i, rank));
            }
        }
        let (i, _) = best?;
        Some(Resolved {
            operation: &self.operations[i],
            params: path::params(&self.templates[i], &segments),
        })
    }

    /// The operations whose id, method, path or resource contains `text`, ignoring case,
    /// in catalog order. Empty text matches everything.
    pub fn filter(&self, text: &str) -> Vec<&Operation> {
        let needle = text.to_lowercase();
        self.operations
            .iter()
            .filter(|op| {
                [op.id.as_str(), op.method.as_str(), &op.path, &op.resource]
                    .iter()
                    .any(|hay| hay.to_lowercase().contains(&needle))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use serde_json::{Value, json};

    use super::*;

    fn op(id: &str) -> &'static Operation {
        gladly()
            .get(id)
            .unwrap_or_else(|| panic!("no operation {id}"))
    }

    fn body_messages(id: &str, body: &Value) -> Vec<String> {
        op(id)
            .check_body(Some(body))
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn has_exactly_80_operations_with_unique_ids() {
        let ops = gladly().operations();
        assert_eq!(ops.len(), 80);
        let ids: HashSet<&str> = ops.iter().map(|op| op.id.as_str()).collect();
        assert_eq!(ids.len(), 80);
        assert!(ops.iter().all(|op| !op.path.starts_with("/gladly")));
    }

    #[test]
    fn operations_are_sorted_by_path_then_method() {
        let ops = gladly().operations();
        for pair in ops.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            assert!(
                (&a.path, a.method) < (&b.path, b.method),
                "{} {}",
                a.id,
                b.id
            );
        }
    }

    #[test]
    fn path_params_match_the_template() {
        for op in gladly().operations() {
            let in_path: Vec<String> = path::parse(&op.path)
                .into_iter()
                .filter_map(|s| match s {
                    Segment::Param(name) => Some(name),
                    Segment::Literal(_) => None,
                })
                .collect();
            assert_eq!(in_path, op.path_params, "{}", op.id);
            assert!(!op.path.contains([':', '?']), "{}", op.path);
        }
    }

    #[test]
    fn spot_facts() {
        let create = op("createCustomer");
        assert_eq!(create.method, Method::Post);
        assert_eq!(create.path, "/api/v1/customer-profiles");
        assert_eq!(
            (create.success, create.response),
            (201, ResponseKind::Empty)
        );
        assert!(create.location && create.mutates);
        assert_eq!(create.resource, "Customers");
        assert_eq!(
            (op("addAnswer").success, op("addAnswer").response),
            (200, ResponseKind::Json)
        );
        assert_eq!(op("generateReport").rate_class, RateClass::Reports);
        assert_eq!(
            op("generateWorkSessionReport").rate_class,
            RateClass::Reports
        );
        assert_eq!(op("generateReport").response, ResponseKind::Csv);
        assert!(!op("generateReport").mutates);
        assert_eq!(op("getCustomer").rate_class, RateClass::Default);
        assert_eq!(op("getFile").response, ResponseKind::JsonLines);
        assert_eq!(
            op("getFile").content_type.as_deref(),
            Some("application/x-ndjson")
        );
        assert_eq!(op("getEvents").response, ResponseKind::JsonLines);
        assert_eq!(op("getMedia").response, ResponseKind::Audio);
        assert_eq!(
            (op("getAttachment").success, op("getAttachment").response),
            (303, ResponseKind::Redirect)
        );
        assert_eq!(op("createBusinessHours").success, 201);
        assert_eq!(op("createBusinessHours").response, ResponseKind::Json);
        assert_eq!(op("patchConversation").success, 204);
        assert_eq!(op("deleteCustomer").success, 204);
        assert!(op("redactContent").body.is_none());
    }

    #[test]
    fn phone_type_is_an_enum() {
        let body = &op("createCustomer").body.as_ref().unwrap().shape;
        let Some(Shape::Array(phone)) = body.field("phones").map(|f| &f.shape) else {
            panic!("phones is not an array");
        };
        let Some(Shape::String { enum_values, .. }) = phone.field("type").map(|f| &f.shape) else {
            panic!("phones[].type is not a string");
        };
        assert_eq!(enum_values, &["HOME", "MOBILE", "OFFICE"]);
    }

    #[test]
    fn spec_contradictions_resolve_as_documented() {
        let comment = &op("createTaskComment").body.as_ref().unwrap().shape;
        assert!(comment.field("comment").unwrap().required);
        assert!(comment.field("message").is_none());
        let topics = &op("addTopicToConversation").body.as_ref().unwrap().shape;
        assert!(topics.field("topicIds").unwrap().required);
        assert!(
            body_messages("addNoteToConversation", &json!({"content": {"body": "hi"}})).is_empty()
        );
        let freeform = json!({"add": [{"key": "ORDER_ID", "value": "1"}], "remove": []});
        assert!(body_messages("updateConversationCustomAttributes", &freeform).is_empty());
        assert_eq!(
            op("getCustomAttribute").path,
            "/api/v1/custom-attributes/{customAttributeId}"
        );
        assert_eq!(op("listAnswers").path, "/api/v1/orgs/{orgId}/answers");
        assert!(op("listAnswers").query_param("audienceId").is_some());
        let entities = op("getEvents").query_param("entities").unwrap();
        assert!(entities.required && entities.repeated);
        let report = json!({"metricSet": "ContactExportReportV3",
                            "startAtTime": "2024-01-01T00:00Z", "endAtTime": "2024-01-02T00:00Z"});
        assert!(body_messages("generateReport", &report).is_empty());
        let older = json!({"metricSet": "ContactExportReport", "timezone": "America/Los_Angeles",
                           "startAt": "2021-09-28", "endAt": "2021-09-28"});
        assert!(body_messages("generateReport", &older).is_empty());
    }

    #[test]
    fn seed_payloads_pass() {
        let customer = json!({"id":"XRJvp8lSS5aD2RucjY5zkw","name":"First1 Last1",
            "address":"Address 1, CA, 12345","emails":[{"original":"a@b.com"}],
            "phones":[{"original":"650 123 4567"}],"customAttributes":{"attr1":"hello"}});
        assert_eq!(
            body_messages("createCustomer", &customer),
            Vec::<String>::new()
        );
        let task = json!({"id":"G2tzvtq1TPWcxqlf1h2vng",
            "assignee":{"inboxId":"0tvvSDnvQVGchp-GaxCeGQ","agentId":null},
            "body":"please initiate a return","dueAt":"2024-09-28T00:00:00.000Z",
            "customer":{"emailAddress":"a@b.com"}});
        assert_eq!(
            body_messages("createTaskAndCustomer", &task),
            Vec::<String>::new()
        );
        let close = json!({"status": {"value": "CLOSED", "force": true},
                           "assignee": {"inboxId": "i", "agentId": "a"}});
        assert_eq!(
            body_messages("patchConversation", &close),
            Vec::<String>::new()
        );
    }

    #[test]
    fn check_body_reports_each_kind_on_real_operations() {
        let customer = json!({"name": 5, "emails": [{"original": "x", "typ": "HOME"}],
                              "phones": [{"type": "MOBIL"}]});
        assert_eq!(
            body_messages("createCustomer", &customer),
            [
                "`name` must be a string, found an integer",
                "unknown field `emails[0].typ`",
                "`phones[0].type` must be one of `HOME`, `MOBILE`, `OFFICE`, found `MOBIL` (did you mean `MOBILE`?)",
                "missing required field `phones[0].original`",
            ]
        );
        let comment = json!({"agentId": "a", "comment": "x".repeat(10_001)});
        assert_eq!(
            body_messages("createTaskComment", &comment),
            ["`comment` is too long: 10001 characters, at most 10000 allowed"]
        );
        let typo = json!({"topicIDs": ["t"]});
        assert_eq!(
            body_messages("addTopicToConversation", &typo),
            [
                "unknown field `topicIDs` (did you mean `topicIds`?)",
                "missing required field `topicIds`",
            ]
        );
        let missing = op("createCustomer").check_body(None);
        assert_eq!(missing[0].kind, BodyProblemKind::MissingBody);
        let unexpected = op("getCustomer").check_body(Some(&json!({})));
        assert_eq!(unexpected[0].kind, BodyProblemKind::UnexpectedBody);
    }

    #[test]
    fn unknown_stand_ins_pass_in_real_bodies() {
        let unknown = format!("{UNKNOWN_PREFIX}: customer.id>");
        let body = json!({"id": unknown, "assignee": unknown, "body": "b", "dueAt": unknown,
                          "customer": {"emailAddress": unknown}});
        assert!(body_messages("createTaskAndCustomer", &body).is_empty());
    }

    #[test]
    fn resolves_concrete_paths_with_params() {
        let hit = gladly()
            .resolve(Method::Get, "/api/v1/customer-profiles/abc?x=1")
            .unwrap();
        assert_eq!(hit.operation.id, "getCustomer");
        assert_eq!(hit.params, [("customerId".to_owned(), "abc".to_owned())]);
        let hit = gladly()
            .resolve(Method::Get, "/api/v1/tasks/t%201/comments/c")
            .unwrap();
        assert_eq!(hit.operation.id, "getTaskComment");
        assert_eq!(hit.params[0], ("taskId".to_owned(), "t 1".to_owned()));
        assert_eq!(
            gladly()
                .resolve(Method::Delete, "/api/v1/customer-profiles/abc")
                .unwrap()
                .operation
                .id,
            "deleteCustomer"
        );
    }

    #[test]
    fn literal_segments_win_over_params() {
        let hit = gladly()
            .resolve(Method::Post, "/api/v1/reports/work-session-events")
            .unwrap();
        assert_eq!(hit.operation.id, "generateWorkSessionReport");
        assert!(hit.params.is_empty());
        let hit = gladly()
            .resolve(Method::Get, "/api/v1/orgs/o/answers-search")
            .unwrap();
        assert_eq!(hit.operation.id, "searchAnswers");
        let hit = gladly()
            .resolve(Method::Get, "/api/v1/orgs/o/answers/a")
            .unwrap();
        assert_eq!(hit.operation.id, "getAnswer");
    }

    #[test]
    fn resolve_misses_cleanly() {
        let catalog = gladly();
        assert!(
            catalog
                .resolve(Method::Put, "/api/v1/customer-profiles/abc")
                .is_none()
        );
        assert!(
            catalog
                .resolve(Method::Get, "/api/v1/customer-profiles/")
                .is_none()
        );
        assert!(catalog.resolve(Method::Get, "api/v1/agents").is_none());
        assert!(catalog.resolve(Method::Get, "/api/v1/nothing").is_none());
    }

    #[test]
    fn render_path_round_trips_through_resolve() {
        let comment = op("getTaskComment");
        let path = comment
            .render_path(&|name| Some(format!("{name} /x")))
            .unwrap();
        assert_eq!(
            path,
            "/api/v1/tasks/taskId%20%2Fx/comments/commentId%20%2Fx"
        );
        let hit = gladly().resolve(Method::Get, &path).unwrap();
        assert_eq!(hit.operation.id, "getTaskComment");
        assert_eq!(hit.params[1].1, "commentId /x");
        assert_eq!(
            comment.render_path(&|_| None).unwrap_err(),
            "missing path parameter `taskId`"
        );
    }

    #[test]
    fn lookups_by_id_and_text() {
        let catalog = gladly();
        assert!(catalog.get("createcustomer").is_none());
        assert_eq!(catalog.suggest("createcustomer"), Some("createCustomer"));
        assert_eq!(catalog.suggest("getCustomr"), Some("getCustomer"));
        assert_eq!(catalog.suggest("zzzzzzzz"), None);
        assert_eq!(catalog.filter("").len(), 80);
        let reports: Vec<&str> = catalog
            .filter("REPORTS")
            .iter()
            .map(|op| op.id.as_str())
            .collect();
        assert_eq!(reports, ["generateReport", "generateWorkSessionReport"]);
        assert!(
            catalog
                .filter("delete")
                .iter()
                .all(|op| op.method == Method::Delete || op.id.to_lowercase().contains("delete"))
        );
        assert!(catalog.filter("no such thing").is_empty());
    }

    /// The catalog carries facts, never the spec's prose: no long strings but paths.
    #[test]
    fn gladly_json_holds_no_prose() {
        fn walk(value: &Value, key: &str, long: &mut Vec<String>) {
            match value {
                Value::String(text) if key != "path" && text.chars().count() > 80 => {
                    long.push(text.clone());
                }
                Value::Array(items) => items.iter().for_each(|v| walk(v, key, long)),
                Value::Object(map) => map.iter().for_each(|(k, v)| walk(v, k, long)),
                _ => {}
            }
        }
        let file: Value = serde_json::from_str(include_str!("gladly.json")).unwrap();
        let mut long = Vec::new();
        walk(&file, "", &mut long);
        assert!(long.is_empty(), "long strings: {long:?}");
        let text = include_str!("gladly.json");
        for prose_key in [
            "\"description\":",
            "\"summary\":",
            "\"example\":",
            "\"title\":",
        ] {
            assert!(!text.contains(prose_key), "{prose_key} in gladly.json");
        }
    }
}
