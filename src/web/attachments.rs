//! Attachments in the console: the files of a ticket page (thumbnails for photos) and the
//! upload form beside the reply box. Same use cases and download answer as the API.

use actix_multipart::Multipart;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;

use super::context::{Errors, Visitor, WebError};
use crate::error::{AppError, ProblemType};
use crate::http::attachments::{download, drain_budget, receive_all};
use crate::service::AppState;
use crate::service::attachments;

/// The bytes of an attachment the signed-in visitor may see (thumbnails and downloads).
pub async fn content(
    state: web::Data<AppState>,
    v: Visitor,
    id: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, WebError> {
    let principal = v.principal()?;
    let a = attachments::get(&state, principal, id.into_inner().into())
        .await
        .map_err(|e| v.fail(e))?;
    download(&state, &a, &req).await.map_err(|e| v.fail(e))
}

/// The form's first part must be its CSRF token: nothing is stored for a forged form.
async fn csrf_part(multipart: &mut Multipart) -> String {
    let Some(Ok(mut field)) = multipart.next().await else {
        return String::new();
    };
    if field.name() != Some("csrf") {
        return String::new();
    }
    let mut token = Vec::new();
    while let Some(Ok(piece)) = field.next().await {
        token.extend_from_slice(&piece);
        if token.len() > 200 {
            return String::new();
        }
    }
    String::from_utf8(token).unwrap_or_default()
}

/// Which message a refused upload shows beside the file field; other failures get a page.
fn refusal(e: &AppError) -> Option<&'static str> {
    match e.kind() {
        ProblemType::PayloadTooLarge => Some("field.file_size"),
        ProblemType::UnsupportedMediaType => Some("field.file_type"),
        ProblemType::TooManyAttachments => Some("field.file_count"),
        ProblemType::TicketClosed => Some("field.closed"),
        ProblemType::Validation => Some("field.file"),
        _ => None,
    }
}

pub async fn upload(
    state: web::Data<AppState>,
    mut v: Visitor,
    id: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, WebError> {
    let principal = v.principal()?;
    let id = id.into_inner();
    let mut multipart = Multipart::new(req.headers(), payload.into_inner());
    v.check_csrf(&csrf_part(&mut multipart).await)?;
    let result = async {
        let mut upload = attachments::begin(&state, principal, id.clone().into()).await?;
        receive_all(&mut upload, None, &mut multipart, drain_budget(&state)).await?;
        upload.commit().await
    }
    .await;
    match result {
        Ok(_) => {
            v.ctx.flash_next("flash.attached");
            Ok(v.ctx.redirect(&format!("/tickets/{id}#attachments")))
        }
        Err(e) => {
            let Some(key) = refusal(&e) else {
                return Err(v.fail(e));
            };
            v.ctx.has_errors = true;
            let errors = Errors::one(&v.ctx, "file", key);
            let stale = e.kind() == ProblemType::TicketClosed;
            super::tickets::show_with_errors(&state, &v, id, errors, stale).await
        }
    }
}

/// Sizes as people read them.
pub fn human_size(bytes: i64, ctx_kb: &str, ctx_mb: &str) -> String {
    let bytes = bytes.max(0) as f64;
    if bytes >= 1024.0 * 1024.0 {
        format!("{:.1} {ctx_mb}", bytes / (1024.0 * 1024.0))
    } else {
        format!("{:.0} {ctx_kb}", (bytes / 1024.0).ceil().max(1.0))
    }
}

/// Photos a browser shows in an `<img>`; HEIC is left to the download.
pub fn thumbnail(content_type: &str) -> bool {
    matches!(
        content_type,
        "image/jpeg" | "image/png" | "image/webp" | "image/gif"
    )
}
