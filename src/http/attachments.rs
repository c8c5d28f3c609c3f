//! /tickets/{id}/attachments and /attachments/{id}: multipart upload streamed to the blob
//! store, metadata, download with ETag and Range, removal.

use std::cell::Cell;
use utoipa_actix_web::service_config::ServiceConfig;

use actix_multipart::{Multipart, MultipartError};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError, delete, get, post, web};
use futures_util::{Stream, StreamExt};
use serde::Serialize;
use utoipa::ToSchema;

use super::extract::Auth;
use crate::domain::attachment::{self, RangeRequest};
use crate::domain::ids::{AttachmentId, TicketId};
use crate::error::{AppError, AppResult, Problem, ProblemType};
use crate::service::AppState;
use crate::service::attachments::{self, AttachmentView, Upload};
use crate::service::page::Page;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(upload_attachments)
        .service(list_attachments)
        .service(get_attachment)
        .service(delete_attachment)
        .service(attachment_content);
}

/// The multipart body of an upload, as documented (the handler reads it as a stream).
#[derive(ToSchema)]
#[expect(
    dead_code,
    reason = "describes the multipart form in the OpenAPI document only"
)]
pub struct UploadForm {
    /// One or more files (repeat the part). JPEG, PNG, WebP, GIF, HEIC, PDF, OFD, DOC/DOCX,
    /// XLS/XLSX, PPT/PPTX, plain text or CSV, judged by content; at most
    /// `attachments.max_bytes` each.
    #[schema(value_type = Vec<String>, format = Binary)]
    file: Vec<Vec<u8>>,
    /// A comment of this ticket the files belong to.
    comment_id: Option<String>,
    /// Staff only: hide the files from the enterprise.
    internal: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct Uploaded {
    pub items: Vec<AttachmentView>,
}

fn multipart_error(e: MultipartError) -> AppError {
    match e {
        MultipartError::ContentTypeMissing
        | MultipartError::ContentTypeParse
        | MultipartError::ContentTypeIncompatible => AppError::new(
            ProblemType::UnsupportedMediaType,
            "expected Content-Type: multipart/form-data",
        ),
        other => AppError::new(
            ProblemType::MalformedRequest,
            format!("malformed multipart body: {other}"),
        ),
    }
}

/// Reads what the client is still sending, up to `budget` bytes, so an early answer (413,
/// 404, …) reaches it instead of a connection reset on unread data; past the budget the
/// connection is simply closed.
async fn drain<S, T, E>(stream: &mut S, mut budget: usize)
where
    S: Stream<Item = Result<T, E>> + Unpin,
    T: AsRef<[u8]>,
{
    while let Some(Ok(piece)) = stream.next().await {
        budget = budget.saturating_sub(piece.as_ref().len());
        if budget == 0 {
            break;
        }
    }
}

pub(crate) async fn drain_multipart(multipart: &mut Multipart, mut budget: usize) {
    while let Some(Ok(mut field)) = multipart.next().await {
        while let Some(Ok(piece)) = field.next().await {
            budget = budget.saturating_sub(piece.len());
            if budget == 0 {
                return;
            }
        }
    }
}

/// A small text part (`internal`, `comment_id`).
async fn text_part(
    field: &mut actix_multipart::Field,
    name: &str,
    broken: &Cell<bool>,
) -> AppResult<String> {
    let mut bytes = Vec::new();
    while let Some(piece) = field.next().await {
        bytes.extend_from_slice(&piece.map_err(|e| unreadable(e, broken))?);
        if bytes.len() > 200 {
            return Err(AppError::validation(name, "is too long"));
        }
    }
    String::from_utf8(bytes).map_err(|_| AppError::validation(name, "must be UTF-8 text"))
}

/// A multipart error, remembering that the body can no longer be read (actix-multipart
/// panics when polled again after an error).
fn unreadable(e: MultipartError, broken: &Cell<bool>) -> AppError {
    broken.set(true);
    multipart_error(e)
}

async fn part(
    upload: &mut Upload<'_>,
    mut field: actix_multipart::Field,
    broken: &Cell<bool>,
) -> AppResult<()> {
    match field.name() {
        Some("file") => {
            let filename = field.content_disposition().and_then(|cd| {
                cd.get_filename_ext()
                    .and_then(|ext| String::from_utf8(ext.value.clone()).ok())
                    .or_else(|| cd.get_filename().map(str::to_owned))
            });
            let body = (&mut field).map(|piece| piece.map_err(|e| unreadable(e, broken)));
            upload.add_file(filename.as_deref(), body).await
        }
        Some("internal") => upload.set_internal(&text_part(&mut field, "internal", broken).await?),
        Some("comment_id") => {
            upload.set_comment(&text_part(&mut field, "comment_id", broken).await?);
            Ok(())
        }
        _ => Err(AppError::validation(
            field.name().unwrap_or("part"),
            "unknown part; send file, comment_id or internal",
        )),
    }
}

async fn receive(
    upload: &mut Upload<'_>,
    first: Option<actix_multipart::Field>,
    multipart: &mut Multipart,
    broken: &Cell<bool>,
) -> AppResult<()> {
    if let Some(field) = first {
        part(upload, field, broken).await?;
    }
    while let Some(field) = multipart.next().await {
        part(upload, field.map_err(|e| unreadable(e, broken))?, broken).await?;
    }
    Ok(())
}

/// Feeds every part (after `first`, one the caller already read) to the upload; on failure
/// reads on (within `budget`) while the body is still readable, so the client gets the
/// answer. Shared with the console.
pub(crate) async fn receive_all(
    upload: &mut Upload<'_>,
    first: Option<actix_multipart::Field>,
    multipart: &mut Multipart,
    budget: usize,
) -> AppResult<()> {
    let broken = Cell::new(false);
    let result = receive(upload, first, multipart, &broken).await;
    if result.is_err() && !broken.get() {
        drain_multipart(multipart, budget).await;
    }
    result
}

/// How much of an unwanted body is still read so that the answer reaches the client.
pub(crate) fn drain_budget(state: &AppState) -> usize {
    usize::try_from(state.settings.attachments.max_bytes)
        .unwrap_or(usize::MAX)
        .saturating_add(1024 * 1024)
}

/// Attach files to a ticket (or one of its comments).
#[utoipa::path(tag = "attachments", security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
    (status = 201, description = "Stored", body = Uploaded),
    (status = 400, description = "Broken multipart body", body = Problem),
    (status = 401, description = "Not signed in", body = Problem),
    (status = 403, description = "Only staff may add internal attachments", body = Problem),
    (status = 404, description = "No such ticket in your scope", body = Problem),
    (status = 409, description = "The ticket is closed or cancelled, or has as many attachments as allowed", body = Problem),
    (status = 413, description = "A file is larger than attachments.max_bytes", body = Problem),
    (status = 415, description = "Not multipart, or a file of a type not allowed", body = Problem),
    (status = 422, description = "No file, an empty file, or an invalid field", body = Problem)))]
#[post("/tickets/{id}/attachments")]
pub async fn upload_attachments(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<TicketId>,
    req: HttpRequest,
    payload: web::Payload,
) -> AppResult<HttpResponse> {
    let mut payload = payload.into_inner();
    let budget = drain_budget(&state);
    let mut upload = match attachments::begin(&state, auth.0, id.into_inner()).await {
        Ok(upload) => upload,
        Err(e) => {
            drain(&mut payload, budget).await;
            return Err(e);
        }
    };
    let mut multipart = Multipart::new(req.headers(), payload);
    receive_all(&mut upload, None, &mut multipart, budget).await?;
    let items = upload.commit().await?;
    Ok(HttpResponse::Created().json(Uploaded { items }))
}

/// A ticket's attachments, oldest first (enterprises never see internal ones).
#[utoipa::path(tag = "attachments", security(("bearer" = [])),
    params(("id" = String, Path)), responses(
    (status = 200, description = "All of them, on one page", body = Page<AttachmentView>),
    (status = 401, description = "Not signed in", body = Problem),
    (status = 404, description = "No such ticket in your scope", body = Problem)))]
#[get("/tickets/{id}/attachments")]
pub async fn list_attachments(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<TicketId>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(attachments::list(&state, auth.0, id.into_inner()).await?))
}

/// One attachment's metadata.
#[utoipa::path(tag = "attachments", security(("bearer" = [])),
    params(("id" = String, Path)), responses(
    (status = 200, description = "The attachment", body = AttachmentView),
    (status = 401, description = "Not signed in", body = Problem),
    (status = 404, description = "No such attachment in your scope", body = Problem)))]
#[get("/attachments/{id}")]
pub async fn get_attachment(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<AttachmentId>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(attachments::get(&state, auth.0, id.into_inner()).await?))
}

fn request_header(req: &HttpRequest, name: header::HeaderName) -> Option<&str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The bytes, as stored: `Content-Type`, `Content-Disposition`, `ETag` (the SHA-256), and
/// `Range` answered with 206.
#[utoipa::path(tag = "attachments", security(("bearer" = [])),
    params(("id" = String, Path),
           ("Range" = Option<String>, Header, description = "One range, e.g. bytes=0-1023"),
           ("If-None-Match" = Option<String>, Header, description = "The ETag you have")),
    responses(
    (status = 200, description = "The file", content_type = "application/octet-stream",
        headers(("ETag" = String), ("Content-Disposition" = String))),
    (status = 206, description = "The requested range", content_type = "application/octet-stream",
        headers(("Content-Range" = String))),
    (status = 304, description = "Unchanged since the ETag you sent"),
    (status = 401, description = "Not signed in", body = Problem),
    (status = 404, description = "No such attachment in your scope", body = Problem),
    (status = 416, description = "The range lies past the end", body = Problem)))]
#[get("/attachments/{id}/content")]
pub async fn attachment_content(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<AttachmentId>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let a = attachments::get(&state, auth.0, id.into_inner()).await?;
    download(&state, &a, &req).await
}

/// Answers a download of an attachment the caller may see (shared with the console).
pub async fn download(
    state: &AppState,
    a: &AttachmentView,
    req: &HttpRequest,
) -> AppResult<HttpResponse> {
    let etag = format!("\"{}\"", a.sha256);
    let size = u64::try_from(a.size).unwrap_or_default();
    let response = |status: StatusCode| {
        let mut r = HttpResponse::build(status);
        r.insert_header((header::ETAG, etag.clone()))
            .insert_header((header::ACCEPT_RANGES, "bytes"))
            // In scope of a signed-in user: browsers may keep it, shared caches may not,
            // and it is revalidated by its ETag.
            .insert_header((header::CACHE_CONTROL, "private, no-cache"));
        r
    };
    if request_header(req, header::IF_NONE_MATCH).is_some_and(|h| attachment::none_match(h, &etag))
    {
        return Ok(response(StatusCode::NOT_MODIFIED).finish());
    }
    // If-Range with another validator: the file changed, so send all of it.
    let range = match request_header(req, header::IF_RANGE) {
        Some(validator) if validator.trim() != etag => None,
        _ => request_header(req, header::RANGE),
    };
    let (status, range) = match attachment::parse_range(range, size) {
        RangeRequest::Whole => (StatusCode::OK, None),
        RangeRequest::Part { start, end } => (StatusCode::PARTIAL_CONTENT, Some((start, end))),
        RangeRequest::Unsatisfiable => {
            let mut r = AppError::new(
                ProblemType::RangeNotSatisfiable,
                format!("the file has {size} bytes"),
            )
            .error_response();
            if let Ok(value) = HeaderValue::from_str(&format!("bytes */{size}")) {
                r.headers_mut().insert(header::CONTENT_RANGE, value);
            }
            return Ok(r);
        }
    };
    let length = range.map_or(size, |(start, end)| end - start + 1);
    let body = attachments::content(state, a, range).await?;
    let mut r = response(status);
    r.insert_header((header::CONTENT_TYPE, a.content_type.as_str()))
        .insert_header((
            header::CONTENT_DISPOSITION,
            attachment::content_disposition(
                &a.filename,
                attachment::inline_content_type(&a.content_type),
            ),
        ))
        // Sent as stored: compressing would change the length that ranges count in.
        .insert_header((header::CONTENT_ENCODING, "identity"));
    if let Some((start, end)) = range {
        r.insert_header((header::CONTENT_RANGE, format!("bytes {start}-{end}/{size}")));
    }
    Ok(r.no_chunking(length).streaming(body))
}

/// Remove an attachment (admins); the timeline keeps an `attachment_removed` event.
#[utoipa::path(tag = "attachments", security(("bearer" = [])),
    params(("id" = String, Path)), responses(
    (status = 204, description = "Removed"),
    (status = 401, description = "Not signed in", body = Problem),
    (status = 403, description = "Admins only", body = Problem),
    (status = 404, description = "No such attachment in your scope", body = Problem)))]
#[delete("/attachments/{id}")]
pub async fn delete_attachment(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<AttachmentId>,
) -> AppResult<HttpResponse> {
    attachments::delete(&state, auth.0, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
