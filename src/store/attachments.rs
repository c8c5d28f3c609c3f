//! Attachment rows: metadata of files whose bytes are in the blob store under `sha256`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::StoreResult;
use super::db::DbConn;
use super::schema::{attachments, comments};
use crate::domain::ids::{AttachmentId, CommentId, TicketId, UserId};
use crate::domain::ticket::CommentKind;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = attachments)]
pub struct AttachmentRow {
    pub id: AttachmentId,
    pub ticket_id: TicketId,
    pub comment_id: Option<CommentId>,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub internal: bool,
    pub uploaded_by: UserId,
    pub created_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConn, row: &AttachmentRow) -> StoreResult<()> {
    diesel::insert_into(attachments::table)
        .values((
            attachments::id.eq(&row.id),
            attachments::ticket_id.eq(&row.ticket_id),
            attachments::comment_id.eq(&row.comment_id),
            attachments::filename.eq(&row.filename),
            attachments::content_type.eq(&row.content_type),
            attachments::size.eq(row.size),
            attachments::sha256.eq(&row.sha256),
            attachments::internal.eq(row.internal),
            attachments::uploaded_by.eq(&row.uploaded_by),
            attachments::created_at.eq(row.created_at),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConn, id: &AttachmentId) -> StoreResult<Option<AttachmentRow>> {
    Ok(attachments::table
        .find(id)
        .select(AttachmentRow::as_select())
        .first(conn)
        .optional()?)
}

/// A ticket's attachments, oldest first; without the internal ones unless `with_internal`.
pub fn list_for_ticket(
    conn: &mut DbConn,
    ticket_id: &TicketId,
    with_internal: bool,
) -> StoreResult<Vec<AttachmentRow>> {
    let mut q = attachments::table
        .filter(attachments::ticket_id.eq(ticket_id))
        .select(AttachmentRow::as_select())
        .into_boxed();
    if !with_internal {
        q = q.filter(attachments::internal.eq(false));
    }
    Ok(
        q.order((attachments::created_at.asc(), attachments::id.asc()))
            .load(conn)?,
    )
}

pub fn count_for_ticket(conn: &mut DbConn, ticket_id: &TicketId) -> StoreResult<i64> {
    Ok(attachments::table
        .filter(attachments::ticket_id.eq(ticket_id))
        .count()
        .get_result(conn)?)
}

pub fn delete(conn: &mut DbConn, id: &AttachmentId) -> StoreResult<usize> {
    Ok(diesel::delete(attachments::table.find(id)).execute(conn)?)
}

/// Which of `hashes` some row still references.
pub fn referenced(conn: &mut DbConn, hashes: &[String]) -> StoreResult<Vec<String>> {
    let mut found = Vec::new();
    // Bounded IN lists: SQLite caps bound parameters per statement.
    for chunk in hashes.chunks(500) {
        found.extend(
            attachments::table
                .filter(attachments::sha256.eq_any(chunk))
                .select(attachments::sha256)
                .distinct()
                .load::<String>(conn)?,
        );
    }
    Ok(found)
}

/// The kind of a comment on this ticket, if it is one.
pub fn comment_kind(
    conn: &mut DbConn,
    ticket_id: &TicketId,
    comment_id: &CommentId,
) -> StoreResult<Option<CommentKind>> {
    Ok(comments::table
        .filter(comments::id.eq(comment_id))
        .filter(comments::ticket_id.eq(ticket_id))
        .select(comments::kind)
        .first(conn)
        .optional()?)
}
