//! The authorization matrix: every operation in the served OpenAPI spec, called by an anonymous
//! client, a participant, a judge and an organizer, against the table below.
//!
//! *Allowed* means the request got past authorization: any status but a refusal (placeholder ids
//! and bodies may well give 400, 404 or 409), and never a server error. *Refused* means `401`
//! with code `unauthenticated` for anonymous callers and `403` with code `forbidden` for a
//! logged-in role without the right. Bodies are the smallest ones the spec's schema accepts, so
//! that a handler runs and its service's `actor.require` is what answers.
//!
//! The test fails when the spec has an operation the table does not list (a new endpoint must be
//! added here), and when the table lists one the spec no longer has.

use std::collections::{BTreeMap, BTreeSet};

use dxcontest::domain::account::Role;
use serde_json::{Map, Value, json};

use crate::admin::{NO_SUCH_ID, call, login, make_organizer, make_user};
use crate::common::{Backend, TestApp, spawn_app_with};
use crate::on_both_backends;

on_both_backends!(every_operation_for_every_role);

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Who {
    Anonymous,
    Participant,
    Judge,
    Organizer,
}

use Who::{Anonymous, Judge, Organizer, Participant};

const EVERYONE: &[Who] = &[Anonymous, Participant, Judge, Organizer];
const LOGGED_IN: &[Who] = &[Participant, Judge, Organizer];
const PARTICIPANTS: &[Who] = &[Participant];
const ORGANIZERS: &[Who] = &[Organizer];
const TEAMS_AND_ORGANIZERS: &[Who] = &[Participant, Organizer];

/// operationId → who may call it. Keep in sync with the API: the test fails otherwise.
const TABLE: &[(&str, &[Who])] = &[
    // Problem catalog (public).
    ("listProblems", EVERYONE),
    ("getProblem", EVERYONE),
    ("listFields", EVERYONE),
    // Accounts and sessions.
    ("register", EVERYONE),
    ("verifyEmail", EVERYONE),
    ("login", EVERYONE),
    ("logout", LOGGED_IN),
    ("requestPasswordReset", EVERYONE),
    ("resetPassword", EVERYONE),
    ("getMe", LOGGED_IN),
    ("updateMe", LOGGED_IN),
    ("changePassword", LOGGED_IN),
    ("changeEmail", LOGGED_IN),
    ("confirmEmailChange", EVERYONE),
    ("myNotifications", LOGGED_IN),
    // Teams.
    ("createTeam", PARTICIPANTS),
    ("myTeam", LOGGED_IN),
    ("getTeam", LOGGED_IN),
    ("inviteMember", PARTICIPANTS),
    ("listInvitations", LOGGED_IN),
    ("revokeInvitation", PARTICIPANTS),
    ("acceptInvitation", PARTICIPANTS),
    ("acceptInvitationNewAccount", EVERYONE),
    ("removeMember", PARTICIPANTS),
    ("handOver", PARTICIPANTS),
    ("listTeamKinds", EVERYONE),
    ("listProvinces", EVERYONE),
    // Timeline and extensions.
    ("getTimeline", EVERYONE),
    ("setTimeline", ORGANIZERS),
    ("listExtensions", ORGANIZERS),
    ("grantExtension", ORGANIZERS),
    ("revokeExtension", ORGANIZERS),
    // Entries: the team's side.
    ("myEntries", PARTICIPANTS),
    ("createEntry", PARTICIPANTS),
    ("saveEntry", PARTICIPANTS),
    ("deleteEntry", PARTICIPANTS),
    ("uploadAttachment", PARTICIPANTS),
    ("removeAttachment", PARTICIPANTS),
    ("submitEntry", PARTICIPANTS),
    ("withdrawEntry", PARTICIPANTS),
    // Entries: read by the team and organizers.
    ("getEntry", TEAMS_AND_ORGANIZERS),
    ("getReceipt", TEAMS_AND_ORGANIZERS),
    ("downloadAttachment", TEAMS_AND_ORGANIZERS),
    // Entries: organizers.
    ("listEntries", ORGANIZERS),
    ("exportEntries", ORGANIZERS),
    ("changeStatus", ORGANIZERS),
    ("changeStatuses", ORGANIZERS),
    // Organizer tools.
    ("inviteJudge", ORGANIZERS),
    ("listJudgeInvitations", ORGANIZERS),
    ("judgeInvitationInfo", EVERYONE),
    ("acceptJudgeInvitation", LOGGED_IN),
    ("acceptJudgeInvitationNewAccount", EVERYONE),
    ("listUsers", ORGANIZERS),
    ("disableUser", ORGANIZERS),
    ("enableUser", ORGANIZERS),
    ("listOutbox", ORGANIZERS),
    ("retryMail", ORGANIZERS),
    ("listAudit", ORGANIZERS),
];

/// One operation of the spec.
#[derive(Debug, Clone)]
struct Operation {
    id: String,
    method: String,
    path: String,
    query: Vec<(String, String)>,
    body: Option<Value>,
}

/// Follows `$ref` and a leading `allOf` to the schema itself.
fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or("");
        return resolve(spec, &spec["components"]["schemas"][name]);
    }
    if let Some(first) = schema
        .get("allOf")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
    {
        return resolve(spec, first);
    }
    schema
}

/// The smallest value the schema accepts: required properties only, placeholders for scalars.
fn placeholder(spec: &Value, schema: &Value) -> Value {
    let schema = resolve(spec, schema);
    if let Some(first) = schema
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return first.clone();
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("integer" | "number") => json!(1),
        Some("boolean") => json!(false),
        Some("array") => json!([]),
        Some("object") | None if schema.get("properties").is_some() => {
            let mut obj = Map::new();
            let required = schema["required"].as_array().cloned().unwrap_or_default();
            for name in required.iter().filter_map(Value::as_str) {
                obj.insert(
                    name.to_owned(),
                    placeholder(spec, &schema["properties"][name]),
                );
            }
            Value::Object(obj)
        }
        Some("object") => json!({}),
        _ => json!("x"),
    }
}

fn operations(spec: &Value) -> Vec<Operation> {
    let mut ops = Vec::new();
    let paths = spec["paths"].as_object().expect("paths");
    for (path, methods) in paths {
        for (method, op) in methods.as_object().expect("methods") {
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} has no operationId"))
                .to_owned();
            let mut concrete = path.clone();
            let mut query = Vec::new();
            for p in op["parameters"].as_array().into_iter().flatten() {
                let name = p["name"].as_str().expect("parameter name");
                match p["in"].as_str() {
                    Some("path") => {
                        // Ids are placeholders; a version number must look like one.
                        let v = if name == "version" { "1" } else { NO_SUCH_ID };
                        concrete = concrete.replace(&format!("{{{name}}}"), v);
                    }
                    Some("query") if p["required"] == true => {
                        let v = placeholder(spec, &p["schema"]);
                        let v = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                        query.push((name.to_owned(), v));
                    }
                    _ => {}
                }
            }
            let body = op["requestBody"]["content"].as_object().map(|content| {
                let (kind, media) = content.iter().next().expect("a content type");
                assert!(
                    kind.starts_with("application/json") || kind == "application/octet-stream",
                    "{id}: the matrix sends JSON or raw bodies, not {kind}"
                );
                if kind == "application/octet-stream" {
                    // Uploads take the raw body whatever its label; a few bytes do.
                    json!("x")
                } else {
                    placeholder(spec, &media["schema"])
                }
            });
            ops.push(Operation {
                id,
                method: method.to_uppercase(),
                path: format!("/api/v1{concrete}"),
                query,
                body,
            });
        }
    }
    ops
}

fn is_refusal(status: u16, body: &Value) -> bool {
    matches!(
        (status, body["code"].as_str()),
        (401, Some("unauthenticated")) | (403, Some("forbidden"))
    )
}

struct Callers {
    emails: BTreeMap<Who, &'static str>,
    tokens: BTreeMap<Who, String>,
}

impl Callers {
    async fn new(app: &TestApp) -> Callers {
        let emails = BTreeMap::from([
            (Participant, "thi.sinh@example.vn"),
            (Judge, "giam.khao@example.vn"),
            (Organizer, "ban.to.chuc@example.vn"),
        ]);
        make_user(app, emails[&Participant], "Thí Sinh", Role::Participant).await;
        make_user(app, emails[&Judge], "Giám Khảo", Role::Judge).await;
        make_organizer(app, emails[&Organizer], "Ban Tổ Chức").await;
        let mut tokens = BTreeMap::new();
        for (who, email) in &emails {
            tokens.insert(*who, login(app, email).await);
        }
        Callers { emails, tokens }
    }

    /// Logs in again when a call ended the session (e.g. `logout`).
    async fn refresh(&mut self, app: &TestApp, who: Who) {
        let Some(token) = self.tokens.get(&who) else {
            return;
        };
        let (status, _) = call(app, "GET", "/api/v1/me", None, Some(token)).await;
        if status == 401 {
            let fresh = login(app, self.emails[&who]).await;
            self.tokens.insert(who, fresh);
        }
    }
}

async fn every_operation_for_every_role(backend: Backend) {
    let app = spawn_app_with(
        backend,
        &[
            ("rate_limits.login_per_ip", 1000.into()),
            ("rate_limits.login_per_account", 1000.into()),
            ("rate_limits.register_per_ip", 1000.into()),
            ("rate_limits.reset_per_ip", 1000.into()),
            ("rate_limits.reset_per_account", 1000.into()),
        ],
    )
    .await;
    let (status, spec) = app.get_json("/api/openapi.json").await;
    assert_eq!(status, 200);
    let ops = operations(&spec);

    // The table and the spec list the same operations.
    let in_spec: BTreeSet<&str> = ops.iter().map(|o| o.id.as_str()).collect();
    let in_table: BTreeSet<&str> = TABLE.iter().map(|(id, _)| *id).collect();
    assert_eq!(TABLE.len(), in_table.len(), "an operation is listed twice");
    let missing: Vec<_> = in_spec.difference(&in_table).collect();
    assert!(
        missing.is_empty(),
        "operations missing from the authorization table in tests/it/authz.rs: {missing:?}"
    );
    let stale: Vec<_> = in_table.difference(&in_spec).collect();
    assert!(stale.is_empty(), "table entries not in the spec: {stale:?}");

    let mut callers = Callers::new(&app).await;
    let mut failures = Vec::new();
    let mut refused = 0;
    let mut checked = 0;
    for op in &ops {
        let allowed = TABLE
            .iter()
            .find(|(id, _)| *id == op.id)
            .map(|(_, who)| *who)
            .unwrap_or_default();
        for who in [Anonymous, Participant, Judge, Organizer] {
            let token = callers.tokens.get(&who).cloned();
            let mut path = op.path.clone();
            if !op.query.is_empty() {
                let q: Vec<String> = op.query.iter().map(|(k, v)| format!("{k}={v}")).collect();
                path = format!("{path}?{}", q.join("&"));
            }
            let (status, body) =
                call(&app, &op.method, &path, op.body.clone(), token.as_deref()).await;
            checked += 1;
            let what = format!("{} {} ({}) as {who:?}", op.method, op.path, op.id);
            if allowed.contains(&who) {
                if is_refusal(status, &body) {
                    failures.push(format!("{what}: should be allowed, got {status} {body}"));
                } else if status >= 500 {
                    failures.push(format!("{what}: server error {status} {body}"));
                }
            } else {
                refused += 1;
                let expected = if who == Anonymous {
                    (401, "unauthenticated")
                } else {
                    (403, "forbidden")
                };
                if (status, body["code"].as_str()) != (expected.0, Some(expected.1)) {
                    failures.push(format!(
                        "{what}: should be refused with {} {}, got {status} {body}",
                        expected.0, expected.1
                    ));
                }
            }
            callers.refresh(&app, who).await;
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} requests broke the table:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(checked, ops.len() * 4);
    assert!(refused > 0, "no request was expected to be refused");
}
