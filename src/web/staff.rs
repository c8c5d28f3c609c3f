//! A ticket as staff see it: what the enterprise sees, plus internal notes, phone calls and
//! site visits, internal files, every extension request, and the actions the caller may take
//! now as forms. Every form carries the version it was rendered from: a stale one shows the
//! ticket as it is now, with the words typed kept, and changes nothing.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::context::{Ctx, Errors, Visitor, WebError};
use super::tickets::{ActionForm, Due, Entry, Loaded, TicketPage, due, load, name_of, placement};
use crate::domain::ids::TicketId;
use crate::domain::role::Role;
use crate::domain::ticket::{self, Action, ActorRelation, CommentKind, EventKind, ExtensionStatus};
use crate::error::{AppError, ProblemType};
use crate::service::AppState;
use crate::service::admin::{self, DepartmentQuery};
use crate::service::attachments::AttachmentView;
use crate::service::extensions::{self, Decision, ExtensionView, NewExtensionRequest};
use crate::service::queue::{self, Assignable};
use crate::service::tickets::{
    self as svc, ActionRequest, CommentView, EventView, NewComment, TicketView,
};
use crate::service::views::DepartmentView;

/// What a refused form's fields held, by field name, to show them again.
#[derive(Default)]
pub struct Drafts(HashMap<&'static str, String>);

impl Drafts {
    pub fn with(mut self, field: &'static str, value: String) -> Drafts {
        self.0.insert(field, value);
        self
    }

    pub fn get(&self, field: &str) -> &str {
        self.0.get(field).map_or("", String::as_str)
    }
}

/// A staff record of the work: an internal note, a phone call or a site visit.
pub struct Record {
    pub kind_key: &'static str,
    pub entry: Entry,
}

/// An extension request with the name of who asked.
pub struct Extension {
    pub x: ExtensionView,
    pub by: String,
}

/// The actions the caller may take now.
#[derive(Default)]
pub struct Can {
    pub accept: bool,
    pub return_: bool,
    pub resolve: bool,
    pub request_info: bool,
    pub extend: bool,
    pub assign: bool,
    pub close: bool,
    pub decide: bool,
}

#[derive(Template)]
#[template(path = "web/staff_ticket.html")]
struct StaffPage<'a> {
    ctx: &'a Ctx,
    t: TicketView,
    due: Due,
    category: String,
    department: String,
    working_days: Option<i32>,
    enterprise: String,
    assignee: Option<String>,
    timeline: Vec<Entry>,
    messages: Vec<Entry>,
    records: Vec<Record>,
    extensions: Vec<Extension>,
    pending: Option<ExtensionView>,
    can: Can,
    departments: Vec<DepartmentView>,
    chosen_department: String,
    officials: Vec<Assignable>,
    errors: Errors,
    stale: bool,
    drafts: Drafts,
    attachments: Vec<AttachmentView>,
    max_attachment_mib: i64,
}

impl TicketPage for StaffPage<'_> {
    fn ctx(&self) -> &Ctx {
        self.ctx
    }

    fn max_attachment_mib(&self) -> i64 {
        self.max_attachment_mib
    }
}

impl StaffPage<'_> {
    fn open_tickets(&self, n: &i64) -> String {
        self.ctx.tf("staff_ticket.open_tickets", n)
    }

    fn extension_key(&self, s: &ExtensionStatus) -> &'static str {
        match s {
            ExtensionStatus::Pending => "staff_ticket.extension_pending",
            ExtensionStatus::Approved => "staff_ticket.extension_approved",
            ExtensionStatus::Rejected => "staff_ticket.extension_rejected",
        }
    }
}

fn record_key(kind: CommentKind) -> &'static str {
    match kind {
        CommentKind::InternalNote => "staff_ticket.kind_internal_note",
        CommentKind::PhoneCall => "staff_ticket.kind_phone_call",
        CommentKind::SiteVisit => "staff_ticket.kind_site_visit",
        CommentKind::Message => "staff_ticket.kind_message",
    }
}

fn can(role: Role, me: &str, t: &TicketView, pending: bool) -> Can {
    let relation = ActorRelation {
        role,
        is_assignee: t.assignee_id.as_deref() == Some(me),
        is_filing_enterprise: false,
    };
    let may = |a| ticket::decide(t.status, a, relation).is_ok();
    Can {
        accept: may(Action::Accept),
        return_: may(Action::Return),
        resolve: may(Action::Resolve),
        request_info: may(Action::RequestInfo),
        extend: relation.is_assignee && t.status.is_open() && !pending,
        assign: may(Action::Assign),
        close: may(Action::Close),
        decide: role == Role::Admin && pending && t.status.is_open(),
    }
}

/// The staff page of a ticket; `department` is the reassignment's chosen department.
pub(crate) async fn page(
    state: &AppState,
    v: &Visitor,
    id: String,
    department: Option<String>,
    errors: Errors,
    stale: bool,
    drafts: Drafts,
) -> Result<HttpResponse, WebError> {
    let principal = v.principal()?;
    let fail = |e| v.fail(e);
    let p = || principal.clone();
    let Loaded {
        t,
        events,
        comments,
        extensions: all_extensions,
        people,
        attachments,
    } = load(state, v, id).await?;
    let users = t.assignee_id.iter().map(ToString::to_string).collect();
    let names = queue::names(state, p(), users, vec![t.enterprise_id.to_string()])
        .await
        .map_err(fail)?;
    let (department_name, category, working_days) = placement(state, v, &t).await?;
    let me = principal.user_id.as_str();
    let pending = all_extensions
        .iter()
        .find(|x| x.status == ExtensionStatus::Pending)
        .cloned();
    let can = can(principal.role, me, &t, pending.is_some());
    let (departments, officials, chosen_department) = if can.assign {
        reassignment(state, v, department, &t).await?
    } else {
        (Vec::new(), Vec::new(), String::new())
    };
    let (timeline, messages, records) = entries(v, &people, me, events, comments);
    let extensions = all_extensions
        .into_iter()
        .map(|x| Extension {
            by: name_of(&v.ctx, &people, me, Some(&x.requested_by)).0,
            x,
        })
        .collect();
    let status = if stale {
        StatusCode::CONFLICT
    } else {
        errors.status()
    };
    v.ctx.render(
        status,
        &StaffPage {
            ctx: &v.ctx,
            due: due(&t, state.clock.now_utc()),
            enterprise: names.enterprise_of(&t),
            assignee: names.assignee_of(&t),
            t,
            category,
            department: department_name,
            working_days,
            timeline,
            messages,
            records,
            extensions,
            pending,
            can,
            departments,
            chosen_department,
            officials,
            errors,
            stale,
            drafts,
            attachments,
            max_attachment_mib: super::tickets::max_mib(state),
        },
    )
}

/// The reassignment form's choices: active departments, the chosen one (the ticket's own by
/// default), and that department's officials with their open counts.
async fn reassignment(
    state: &AppState,
    v: &Visitor,
    department: Option<String>,
    t: &TicketView,
) -> Result<(Vec<DepartmentView>, Vec<Assignable>, String), WebError> {
    let principal = v.principal()?;
    let q = DepartmentQuery {
        limit: Some(100),
        cursor: None,
        q: None,
    };
    let departments: Vec<DepartmentView> = admin::list_departments(state, principal.clone(), q)
        .await
        .map_err(|e| v.fail(e))?
        .items
        .into_iter()
        .filter(|d| d.active)
        .collect();
    let chosen = department
        .filter(|d| departments.iter().any(|x| &x.id == d))
        .or_else(|| t.department_id.as_deref().map(str::to_owned))
        .unwrap_or_default();
    let officials = if chosen.is_empty() {
        Vec::new()
    } else {
        queue::assignable(state, principal, chosen.clone())
            .await
            .map_err(|e| v.fail(e))?
    };
    Ok((departments, officials, chosen))
}

/// The ticket's history as the page shows it: status changes on the timeline, messages in the
/// conversation, and work records (notes, calls, visits) apart.
fn entries(
    v: &Visitor,
    people: &HashMap<String, (String, Role)>,
    me: &str,
    events: Vec<EventView>,
    comments: Vec<CommentView>,
) -> (Vec<Entry>, Vec<Entry>, Vec<Record>) {
    let entry = |at, author: Option<&str>, text: String, note: Option<String>| {
        let (author, staff) = name_of(&v.ctx, people, me, author);
        Entry {
            at,
            author,
            staff,
            text,
            note,
        }
    };
    let timeline = events
        .into_iter()
        .filter(|e| e.kind != EventKind::Comment)
        .map(|e| {
            let key = format!("event.{}", e.kind);
            let text = if v.ctx.t(&key) == key {
                v.ctx.t("event.other").to_owned()
            } else {
                v.ctx.t(&key).to_owned()
            };
            entry(e.created_at, e.actor_id.as_deref(), text, e.note)
        })
        .collect();
    let (mut messages, mut records) = (Vec::new(), Vec::new());
    for c in comments {
        let e = entry(c.created_at, Some(&c.author_id), c.body, None);
        if c.kind == CommentKind::Message {
            messages.push(e);
        } else {
            records.push(Record {
                kind_key: record_key(c.kind),
                entry: e,
            });
        }
    }
    (timeline, messages, records)
}

fn if_match(version: &str) -> Option<String> {
    Some(format!("\"{}\"", version.trim()))
}

/// A refusal that means the form no longer fits the ticket: someone else acted first.
fn is_stale(e: &AppError) -> bool {
    matches!(
        e.kind(),
        ProblemType::PreconditionFailed
            | ProblemType::VersionMismatch
            | ProblemType::InvalidTransition
            | ProblemType::ExtensionDecided
            | ProblemType::WrongActor
    )
}

/// A staff action (accept, return, resolve, request_info, assign, close) from its form.
pub(crate) async fn act(
    state: &AppState,
    mut v: Visitor,
    id: String,
    action: Action,
    form: ActionForm,
) -> Result<HttpResponse, WebError> {
    let principal = v.principal()?;
    let text = |s: &str| (!s.trim().is_empty()).then(|| s.to_owned());
    let req = ActionRequest {
        note: text(&form.note),
        resolution: text(&form.resolution),
        department_id: text(&form.department_id),
        assignee_id: text(&form.assignee_id),
        ..ActionRequest::default()
    };
    // Each form names its text field after the action, so its error sits beside it.
    let field = match action {
        Action::Resolve => "resolution",
        Action::Return => "return_note",
        Action::RequestInfo => "info_note",
        Action::Close => "close_note",
        Action::Assign => "assignee_id",
        _ => "note",
    };
    let result = svc::act(
        state,
        principal,
        TicketId::from(id.clone()),
        action,
        req,
        if_match(&form.version),
    )
    .await;
    let (errors, stale) = match result {
        Ok(_) => {
            v.ctx.flash_next(match action {
                Action::Accept => "flash.accepted",
                Action::Return => "flash.returned",
                Action::Resolve => "flash.resolved",
                Action::RequestInfo => "flash.info_requested",
                Action::Assign => "flash.assigned",
                _ => "flash.closed",
            });
            return Ok(v.ctx.redirect(&format!("/tickets/{id}")));
        }
        Err(AppError::Invalid { .. }) if action == Action::Close => {
            v.ctx.has_errors = true;
            let errors = Errors::one(&v.ctx, field, "field.close_note");
            return close_page(state, &v, id, errors, form.note).await;
        }
        Err(AppError::Invalid { .. }) => {
            (Errors::one(&v.ctx, field, &format!("field.{field}")), false)
        }
        Err(e) if is_stale(&e) => (Errors::one(&v.ctx, "stale", "field.stale"), true),
        Err(e) => return Err(v.fail(e)),
    };
    v.ctx.has_errors = true;
    let value = if action == Action::Resolve {
        form.resolution
    } else {
        form.note
    };
    let drafts = Drafts::default().with(field, value);
    let department = (!form.department_id.is_empty()).then_some(form.department_id);
    page(state, &v, id, department, errors, stale, drafts).await
}

#[derive(Deserialize)]
pub struct RecordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    visit_date: String,
    #[serde(default)]
    visit_place: String,
    #[serde(default)]
    visit_people: String,
}

/// Whichever visit fields are empty, in the form's order.
fn missing_visit_fields(ctx: &Ctx, form: &RecordForm) -> Errors {
    let mut errors = Errors::default();
    for (field, value) in [
        ("visit_date", &form.visit_date),
        ("visit_place", &form.visit_place),
        ("visit_people", &form.visit_people),
        ("visit_body", &form.body),
    ] {
        if value.trim().is_empty() {
            errors
                .items
                .extend(Errors::one(ctx, field, &format!("field.{field}")).items);
        }
    }
    errors
}

/// An internal note, a phone call or a site visit. A visit's date, place and the people met
/// lead its text, so the record reads whole wherever it is shown (and in the API).
pub async fn record(
    state: web::Data<AppState>,
    mut v: Visitor,
    id: web::Path<String>,
    form: web::Form<RecordForm>,
) -> Result<HttpResponse, WebError> {
    let principal = v.submitter(&form.csrf)?;
    let id = id.into_inner();
    let form = form.into_inner();
    let kind = match form.kind.parse::<CommentKind>() {
        Ok(k) if k.is_internal() => k,
        _ => CommentKind::InternalNote,
    };
    let visit = kind == CommentKind::SiteVisit;
    let field = if visit { "visit_body" } else { "record_body" };
    let mut errors = if visit {
        missing_visit_fields(&v.ctx, &form)
    } else {
        Errors::default()
    };
    if errors.is_empty() {
        let body = if visit {
            format!(
                "{}{}\n{}{}\n{}{}\n\n{}",
                v.ctx.t("staff_ticket.visit_date_label"),
                form.visit_date.trim(),
                v.ctx.t("staff_ticket.visit_place_label"),
                form.visit_place.trim(),
                v.ctx.t("staff_ticket.visit_people_label"),
                form.visit_people.trim(),
                form.body.trim()
            )
        } else {
            form.body.clone()
        };
        let req = NewComment {
            body,
            kind: Some(kind),
        };
        match svc::comment(&state, principal, TicketId::from(id.clone()), req).await {
            Ok(_) => {
                v.ctx.flash_next("flash.recorded");
                return Ok(v.ctx.redirect(&format!("/tickets/{id}#records")));
            }
            Err(AppError::Invalid { .. }) => {
                errors = Errors::one(&v.ctx, field, &format!("field.{field}"));
            }
            Err(e) => return Err(v.fail(e)),
        }
    }
    v.ctx.has_errors = true;
    let record_kind = if visit { "" } else { kind.as_str() };
    let drafts = Drafts::default()
        .with(field, form.body)
        .with("visit_date", form.visit_date)
        .with("visit_place", form.visit_place)
        .with("visit_people", form.visit_people)
        .with("record_kind", record_kind.to_owned());
    page(&state, &v, id, None, errors, false, drafts).await
}

#[derive(Deserialize)]
pub struct ExtensionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    working_days: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    note: String,
}

/// The assignee asks for more working days.
pub async fn request_extension(
    state: web::Data<AppState>,
    mut v: Visitor,
    id: web::Path<String>,
    form: web::Form<ExtensionForm>,
) -> Result<HttpResponse, WebError> {
    let principal = v.submitter(&form.csrf)?;
    let id = id.into_inner();
    let form = form.into_inner();
    let req = NewExtensionRequest {
        working_days: form.working_days.trim().parse().unwrap_or(0),
        reason: form.reason.clone(),
    };
    let result = extensions::request(
        &state,
        principal,
        TicketId::from(id.clone()),
        req,
        if_match(&form.version),
    );
    let (errors, stale) = match result.await {
        Ok(_) => {
            v.ctx.flash_next("flash.extension_requested");
            return Ok(v.ctx.redirect(&format!("/tickets/{id}")));
        }
        Err(e) if e.kind() == ProblemType::ExtensionPending || is_stale(&e) => {
            (Errors::one(&v.ctx, "stale", "field.stale"), true)
        }
        Err(e) => (v.ctx.form_errors(e, &["working_days", "reason"])?, false),
    };
    v.ctx.has_errors = true;
    let drafts = Drafts::default()
        .with("working_days", form.working_days)
        .with("reason", form.reason);
    page(&state, &v, id, None, errors, stale, drafts).await
}

/// An admin approves or rejects the pending extension.
pub async fn decide_extension(
    state: web::Data<AppState>,
    mut v: Visitor,
    path: web::Path<(String, String, String)>,
    form: web::Form<ExtensionForm>,
) -> Result<HttpResponse, WebError> {
    let principal = v.submitter(&form.csrf)?;
    let (id, eid, decision) = path.into_inner();
    let approve = match decision.as_str() {
        "approve" => true,
        "reject" => false,
        _ => return Err(v.fail(AppError::not_found("decision"))),
    };
    let form = form.into_inner();
    let note = (!form.note.trim().is_empty()).then(|| form.note.clone());
    let req = Decision { note };
    let result = extensions::decide(
        &state,
        principal,
        TicketId::from(id.clone()),
        eid.into(),
        approve,
        req,
        if_match(&form.version),
    );
    let (errors, stale) = match result.await {
        Ok(_) => {
            v.ctx.flash_next(if approve {
                "flash.extension_approved"
            } else {
                "flash.extension_rejected"
            });
            return Ok(v.ctx.redirect(&format!("/tickets/{id}")));
        }
        Err(AppError::Invalid { .. }) => (
            Errors::one(&v.ctx, "decision_note", "field.decision_note"),
            false,
        ),
        Err(e) if is_stale(&e) => (Errors::one(&v.ctx, "stale", "field.stale"), true),
        Err(e) => return Err(v.fail(e)),
    };
    v.ctx.has_errors = true;
    let drafts = Drafts::default().with("decision_note", form.note);
    page(&state, &v, id, None, errors, stale, drafts).await
}

#[derive(Template)]
#[template(path = "web/staff_close.html")]
struct ClosePage<'a> {
    ctx: &'a Ctx,
    t: TicketView,
    errors: Errors,
    note: String,
}

async fn close_page(
    state: &AppState,
    v: &Visitor,
    id: String,
    errors: Errors,
    note: String,
) -> Result<HttpResponse, WebError> {
    let t = svc::get(state, v.principal()?, id.into())
        .await
        .map_err(|e| v.fail(e))?;
    v.ctx.render(
        errors.status(),
        &ClosePage {
            ctx: &v.ctx,
            t,
            errors,
            note,
        },
    )
}

/// Closing ends the enterprise's chance to reopen: a page naming the ticket holds the button.
pub async fn close_form(
    state: web::Data<AppState>,
    v: Visitor,
    id: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let id = id.into_inner();
    let t = svc::get(&state, v.principal()?, TicketId::from(id.clone()))
        .await
        .map_err(|e| v.fail(e))?;
    let admin = v.ctx.user.as_ref().is_some_and(|u| u.role == Role::Admin);
    if !admin || !ticket::allowed_from(Action::Close).contains(&t.status) {
        return Ok(v.ctx.redirect(&format!("/tickets/{id}")));
    }
    close_page(&state, &v, id, Errors::default(), String::new()).await
}
