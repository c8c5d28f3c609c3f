//! Attachments: upload (streamed to the blob store, then one transaction for the rows, the
//! timeline and the mail), listing, download and removal, scoped exactly like their ticket.

use bytes::{Bytes, BytesMut};
use chrono::{DateTime, Duration, Utc};
use futures_util::{Stream, StreamExt, TryStreamExt, stream::BoxStream};
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;
use super::auth::{Actor, Principal, load_actor};
use super::notify;
use super::page::Page;
use super::tickets::ticket_in_scope;
use super::views::ts;
use crate::blobs::{StoredBlob, SweepCandidate};
use crate::domain::attachment::{self, FileKind, SNIFF_BYTES, TextCheck};
use crate::domain::ids::{AttachmentId, CommentId, TicketId, UserId};
use crate::domain::role::Role;
use crate::domain::ticket::{CommentKind, EventKind};
use crate::error::{AppError, AppResult, ProblemType};
use crate::store::attachments::{self as store, AttachmentRow};
use crate::store::db::DbConn;
use crate::store::tickets::{self as tickets_store, NewEvent, TicketRow};

#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentView {
    pub id: AttachmentId,
    pub ticket_id: TicketId,
    pub comment_id: Option<CommentId>,
    /// For display only: path parts and control characters removed, at most 255 bytes.
    pub filename: String,
    /// Decided from the file's bytes, never from what the uploader claimed.
    pub content_type: String,
    pub size: i64,
    /// Hex SHA-256 of the content; also the download's ETag.
    pub sha256: String,
    /// Staff only: never shown to the enterprise.
    pub internal: bool,
    pub uploaded_by: UserId,
    pub created_at: DateTime<Utc>,
}

pub fn view(row: AttachmentRow) -> AttachmentView {
    AttachmentView {
        id: row.id,
        ticket_id: row.ticket_id,
        comment_id: row.comment_id,
        filename: row.filename,
        content_type: row.content_type,
        size: row.size,
        sha256: row.sha256,
        internal: row.internal,
        uploaded_by: row.uploaded_by,
        created_at: ts(row.created_at),
    }
}

fn open_ticket(conn: &mut DbConn, actor: &Actor, id: &TicketId) -> AppResult<TicketRow> {
    let t = ticket_in_scope(conn, actor, id)?;
    if t.status.is_terminal() {
        return Err(AppError::new(
            ProblemType::TicketClosed,
            "the ticket is closed or cancelled and takes no more attachments",
        ));
    }
    Ok(t)
}

/// The attachment if the actor may see it: in scope of its ticket, and not internal unless
/// the actor is staff. Anything else looks absent.
fn visible(conn: &mut DbConn, actor: &Actor, id: &AttachmentId) -> AppResult<AttachmentRow> {
    let row = store::find(conn, id)?
        .filter(|a| actor.is_staff() || !a.internal)
        .ok_or_else(|| AppError::not_found("attachment"))?;
    ticket_in_scope(conn, actor, &row.ticket_id).map_err(|_| AppError::not_found("attachment"))?;
    Ok(row)
}

fn too_many(max: i64) -> AppError {
    AppError::new(
        ProblemType::TooManyAttachments,
        format!("a ticket has at most {max} attachments"),
    )
}

struct Stored {
    filename: String,
    kind: FileKind,
    blob: StoredBlob,
}

/// One upload request in progress: files are stored as they arrive; [`Upload::commit`]
/// writes their rows. Files stored by an upload that never commits are removed by the sweep.
pub struct Upload<'a> {
    state: &'a AppState,
    principal: Principal,
    ticket_id: TicketId,
    staff: bool,
    existing: i64,
    files: Vec<Stored>,
    comment_id: Option<CommentId>,
    internal: bool,
}

/// Checks that the caller may add files to the ticket before any byte is stored.
#[tracing::instrument(skip_all, fields(user_id = %principal.user_id, ticket_id = %ticket_id))]
pub async fn begin(
    state: &AppState,
    principal: Principal,
    ticket_id: TicketId,
) -> AppResult<Upload<'_>> {
    let max = state.settings.attachments.max_per_ticket;
    let (staff, existing) = {
        let principal = principal.clone();
        let ticket_id = ticket_id.clone();
        state
            .db
            .read(move |conn| {
                let actor = load_actor(conn, &principal)?;
                let t = open_ticket(conn, &actor, &ticket_id)?;
                let existing = store::count_for_ticket(conn, &t.id)?;
                if existing >= max {
                    return Err(too_many(max));
                }
                Ok((actor.is_staff(), existing))
            })
            .await?
    };
    Ok(Upload {
        state,
        principal,
        ticket_id,
        staff,
        existing,
        files: Vec::new(),
        comment_id: None,
        internal: false,
    })
}

fn unsupported(filename: &str) -> AppError {
    AppError::new(
        ProblemType::UnsupportedMediaType,
        format!(
            "{filename}: not a photo, PDF, OFD, office document, text or CSV file (judged by its content)"
        ),
    )
}

impl Upload<'_> {
    /// The `internal` form field: `true` or `false`; only staff may hide a file.
    pub fn set_internal(&mut self, value: &str) -> AppResult<()> {
        let internal = match value.trim() {
            "true" | "1" | "on" => true,
            "false" | "0" | "" => false,
            _ => return Err(AppError::validation("internal", "must be true or false")),
        };
        if internal && !self.staff {
            return Err(AppError::forbidden(
                "only staff may add internal attachments",
            ));
        }
        self.internal = internal;
        Ok(())
    }

    pub fn set_comment(&mut self, comment_id: &str) {
        let id = comment_id.trim();
        self.comment_id = (!id.is_empty()).then(|| CommentId::from(id));
    }

    pub fn file_count(&self) -> usize {
        self.files.len()
    }

    /// Streams one file into the store: its type is decided from its first bytes, its size
    /// counted as it arrives (413 as soon as it passes the limit), text checked to the end.
    pub async fn add_file<S>(&mut self, filename: Option<&str>, mut body: S) -> AppResult<()>
    where
        S: Stream<Item = AppResult<Bytes>> + Unpin,
    {
        let settings = &self.state.settings.attachments;
        if self.existing + self.files.len() as i64 >= settings.max_per_ticket {
            return Err(too_many(settings.max_per_ticket));
        }
        // A browser sends an empty, unnamed part for a file input left empty.
        let chosen = filename.is_some_and(|f| !f.is_empty());
        let filename = attachment::sanitize_filename(filename.unwrap_or_default());
        let mut writer = self.state.blobs.writer();
        let mut head = BytesMut::new();
        let mut kind: Option<FileKind> = None;
        let mut text = TextCheck::default();
        let mut size: u64 = 0;
        let outcome: AppResult<()> = async {
            while let Some(piece) = body.next().await {
                let piece = piece?;
                size += piece.len() as u64;
                if size > settings.max_bytes {
                    return Err(AppError::new(
                        ProblemType::PayloadTooLarge,
                        format!(
                            "{filename}: a file may have at most {} bytes",
                            settings.max_bytes
                        ),
                    ));
                }
                match kind {
                    None => {
                        head.extend_from_slice(&piece);
                        if head.len() >= SNIFF_BYTES {
                            let k = attachment::sniff(&head, &filename)
                                .ok_or_else(|| unsupported(&filename))?;
                            if k.is_text() {
                                text.feed(&head);
                            }
                            kind = Some(k);
                            writer.write(std::mem::take(&mut head).freeze()).await?;
                        }
                    }
                    Some(k) => {
                        if k.is_text() && !text.feed(&piece) {
                            return Err(unsupported(&filename));
                        }
                        writer.write(piece).await?;
                    }
                }
            }
            Ok(())
        }
        .await;
        if let Err(e) = outcome {
            writer.abort().await;
            return Err(e);
        }
        let kind = match kind {
            Some(k) => k,
            None if head.is_empty() && !chosen => return Ok(()),
            None if head.is_empty() => {
                return Err(AppError::validation("file", format!("{filename} is empty")));
            }
            None => {
                let k =
                    attachment::sniff(&head, &filename).ok_or_else(|| unsupported(&filename))?;
                if k.is_text() {
                    text.feed(&head);
                }
                writer
                    .write(head.freeze())
                    .await
                    .map_err(AppError::Internal)?;
                k
            }
        };
        if kind.is_text() && !text.finish() {
            writer.abort().await;
            return Err(unsupported(&filename));
        }
        let blob = writer.finish().await.map_err(AppError::Internal)?;
        self.files.push(Stored {
            filename,
            kind,
            blob,
        });
        Ok(())
    }

    /// Writes the rows, one `attachment_added` event each and the mail, in one transaction.
    pub async fn commit(self) -> AppResult<Vec<AttachmentView>> {
        if self.files.is_empty() {
            return Err(AppError::validation(
                "file",
                "send at least one file part named file",
            ));
        }
        let max = self.state.settings.attachments.max_per_ticket;
        let now = self.state.clock.now();
        let notifier = self.state.notifier.clone();
        let Upload {
            principal,
            ticket_id,
            files,
            comment_id,
            internal,
            ..
        } = self;
        self.state
            .db
            .write(move |conn| {
                let actor = load_actor(conn, &principal)?;
                if internal && !actor.is_staff() {
                    return Err(AppError::forbidden(
                        "only staff may add internal attachments",
                    ));
                }
                let t = open_ticket(conn, &actor, &ticket_id)?;
                if let Some(comment) = &comment_id {
                    let kind = store::comment_kind(conn, &t.id, comment)?;
                    let allowed =
                        kind.is_some_and(|k| actor.is_staff() || k == CommentKind::Message);
                    if !allowed {
                        return Err(AppError::validation(
                            "comment_id",
                            "not a comment of this ticket",
                        ));
                    }
                }
                if store::count_for_ticket(conn, &t.id)? + files.len() as i64 > max {
                    return Err(too_many(max));
                }
                let mut views = Vec::with_capacity(files.len());
                for f in files {
                    let row = AttachmentRow {
                        id: AttachmentId::generate(),
                        ticket_id: t.id.clone(),
                        comment_id: comment_id.clone(),
                        filename: f.filename,
                        content_type: f.kind.content_type().to_owned(),
                        size: i64::try_from(f.blob.size).unwrap_or(i64::MAX),
                        sha256: f.blob.sha256,
                        internal,
                        uploaded_by: actor.id.clone(),
                        created_at: now,
                    };
                    store::insert(conn, &row)?;
                    tickets_store::insert_event(
                        conn,
                        &NewEvent {
                            ticket_id: &t.id,
                            kind: EventKind::AttachmentAdded,
                            actor_id: Some(&actor.id),
                            from_status: None,
                            to_status: None,
                            note: Some(&row.filename),
                            internal,
                        },
                        now,
                    )?;
                    views.push(view(row));
                }
                if !internal {
                    let names: Vec<&str> = views.iter().map(|v| v.filename.as_str()).collect();
                    notify::attachments(conn, &notifier, &t, &actor, &names.join(", "), now)?;
                }
                Ok(views)
            })
            .await
    }
}

#[tracing::instrument(skip_all, fields(user_id = %principal.user_id, ticket_id = %ticket_id))]
pub async fn list(
    state: &AppState,
    principal: Principal,
    ticket_id: TicketId,
) -> AppResult<Page<AttachmentView>> {
    state
        .db
        .read(move |conn| {
            let actor = load_actor(conn, &principal)?;
            let t = ticket_in_scope(conn, &actor, &ticket_id)?;
            let rows = store::list_for_ticket(conn, &t.id, actor.is_staff())?;
            Ok(Page {
                items: rows.into_iter().map(view).collect(),
                next_cursor: None,
            })
        })
        .await
}

#[tracing::instrument(skip_all, fields(user_id = %principal.user_id, attachment_id = %id))]
pub async fn get(
    state: &AppState,
    principal: Principal,
    id: AttachmentId,
) -> AppResult<AttachmentView> {
    state
        .db
        .read(move |conn| {
            let actor = load_actor(conn, &principal)?;
            visible(conn, &actor, &id).map(view)
        })
        .await
}

/// The stored bytes of an attachment the caller was allowed to see (`get` first).
#[tracing::instrument(skip_all, fields(attachment_id = %attachment.id))]
pub async fn content(
    state: &AppState,
    attachment: &AttachmentView,
    range: Option<(u64, u64)>,
) -> AppResult<BoxStream<'static, Result<Bytes, std::io::Error>>> {
    let stream = state
        .blobs
        .read(&attachment.sha256, range)
        .await
        .map_err(AppError::Internal)?;
    Ok(stream.map_err(std::io::Error::other).boxed())
}

/// Admins remove an attachment: the row goes, the timeline keeps an `attachment_removed`
/// event, and the bytes go with the next sweep once no other row references them.
#[tracing::instrument(skip_all, fields(user_id = %principal.user_id, attachment_id = %id))]
pub async fn delete(state: &AppState, principal: Principal, id: AttachmentId) -> AppResult<()> {
    let now = state.clock.now();
    state
        .db
        .write(move |conn| {
            let actor = load_actor(conn, &principal)?;
            let row = visible(conn, &actor, &id)?;
            actor.require(&[Role::Admin])?;
            store::delete(conn, &row.id)?;
            Ok(tickets_store::insert_event(
                conn,
                &NewEvent {
                    ticket_id: &row.ticket_id,
                    kind: EventKind::AttachmentRemoved,
                    actor_id: Some(&actor.id),
                    from_status: None,
                    to_status: None,
                    note: Some(&row.filename),
                    internal: row.internal,
                },
                now,
            )?)
        })
        .await
}

/// Removes stored objects that no row references and that are older than
/// `attachments.orphan_grace_minutes` (younger ones may belong to an upload about to commit).
#[tracing::instrument(skip_all)]
pub async fn sweep_orphans(state: &AppState) -> AppResult<usize> {
    let grace = Duration::minutes(state.settings.attachments.orphan_grace_minutes);
    let cutoff = state.clock.now_utc() - grace;
    let candidates = state
        .blobs
        .older_than(cutoff)
        .await
        .map_err(AppError::Internal)?;
    let hashes: Vec<String> = candidates
        .iter()
        .filter_map(|c| match c {
            SweepCandidate::Content(sha) => Some(sha.clone()),
            SweepCandidate::Temporary(_) => None,
        })
        .collect();
    let referenced = state
        .db
        .read(move |conn| Ok(store::referenced(conn, &hashes)?))
        .await?;
    let mut removed = 0;
    for candidate in candidates {
        if let SweepCandidate::Content(sha) = &candidate
            && referenced.contains(sha)
        {
            continue;
        }
        if state
            .blobs
            .remove(&candidate, cutoff)
            .await
            .map_err(AppError::Internal)?
        {
            removed += 1;
        }
    }
    Ok(removed)
}
