//! Attachments: upload, scope, download with ETag and Range, removal, the orphan sweep, and
//! every bad input of issue 13, on both backends.

use std::path::{Path, PathBuf};

use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

use super::helpers::{BOUNDARY, Id, Part, Session, TestApp, attachments_path, events_path, poll};

/// A PNG as far as its magic number goes.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0\x90wS\xde";
const PDF: &[u8] = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n";
const ELF: &[u8] = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\x3e\0\x01\0\0\0";

struct World {
    app: TestApp,
    admin: Session,
    official: Session,
    ent: Session,
    other: Session,
    ticket: Value,
    category: String,
}

async fn world_with(overrides: Value) -> World {
    let app = TestApp::spawn_with(overrides).await;
    let admin = app.with_admin("admin@qifu.test").await;
    let desk = app
        .with_desk(&admin, "商务局", "许可证办理", 48, &["off@qifu.test"])
        .await;
    let ent = app.with_enterprise(0, "wang@ent.test").await;
    let other = app.with_enterprise(1, "li@other.test").await;
    let ticket = app.file_ticket(&ent, "营业执照变更", &desk.category).await;
    let category = desk.category.clone();
    let official = desk.officials.into_iter().next().expect("an official");
    World {
        category,
        app,
        admin,
        official,
        ent,
        other,
        ticket,
    }
}

async fn world() -> World {
    world_with(json!({})).await
}

/// Every file under the store's directory, staging files of unfinished uploads included.
fn stored_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found
}

fn content_path(id: &str) -> String {
    format!("/attachments/{id}/content")
}

async fn download(
    app: &TestApp,
    who: &Session,
    id: &str,
    headers: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let mut req = app.request(Method::GET, &content_path(id), who.t());
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let res = req.send().await.expect("request sent");
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    (
        status,
        headers,
        res.bytes().await.unwrap_or_default().to_vec(),
    )
}

fn header<'a>(headers: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// A zip whose local headers name `entries` (what the type detection reads).
fn zip_with(entries: &[&str]) -> Vec<u8> {
    let mut out = Vec::new();
    for name in entries {
        out.extend_from_slice(b"PK\x03\x04\x14\0\0\0\x08\0");
        out.extend_from_slice(&[0; 16]);
        out.extend_from_slice(&u16::try_from(name.len()).unwrap().to_le_bytes());
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"\x03\0deflated bytes");
    }
    out
}

#[actix_web::test]
async fn files_are_stored_typed_by_their_bytes_and_served_back() {
    let w = world().await;
    let app = &w.app;
    let docx = zip_with(&["[Content_Types].xml", "_rels/.rels", "word/document.xml"]);
    let parts = [
        Part {
            content_type: Some("text/html"),
            ..Part::file("现场照片.png", PNG)
        },
        Part::file("营业执照 扫描件.pdf", PDF),
        Part::file("申请书.docx", &docx),
    ];
    let r = app.upload(&w.ent, &w.ticket, &parts).await.expect(201);
    let items = r.items().clone();
    assert_eq!(items.len(), 3);
    assert_eq!(
        items[0]["content_type"], "image/png",
        "the claim is ignored"
    );
    assert_eq!(items[0]["filename"], "现场照片.png");
    assert_eq!(items[0]["size"], PNG.len());
    assert_eq!(items[0]["ticket_id"], w.ticket.id());
    assert_eq!(items[0]["uploaded_by"], w.ent.id());
    assert_eq!(items[0]["internal"], false);
    assert_eq!(items[0]["comment_id"], Value::Null);
    assert_eq!(items[1]["content_type"], "application/pdf");
    assert_eq!(
        items[2]["content_type"],
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    );

    let list = app
        .get(&attachments_path(&w.ticket), w.official.t())
        .await
        .expect(200);
    assert_eq!(list.items().len(), 3);
    assert_eq!(list.body["next_cursor"], Value::Null);
    let one = app
        .get(&format!("/attachments/{}", items[1].id()), w.admin.t())
        .await
        .expect(200);
    assert_eq!(one.body["filename"], "营业执照 扫描件.pdf");

    let (status, headers, bytes) = download(app, &w.official, items[0].id(), &[]).await;
    assert_eq!(status, 200);
    assert_eq!(bytes, PNG);
    assert_eq!(header(&headers, "content-type"), "image/png");
    assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
    assert_eq!(header(&headers, "content-length"), PNG.len().to_string());
    assert_eq!(
        header(&headers, "etag"),
        format!("\"{}\"", items[0]["sha256"].as_str().unwrap())
    );
    assert_eq!(
        header(&headers, "content-disposition"),
        "inline; filename=\"____.png\"; filename*=UTF-8''%E7%8E%B0%E5%9C%BA%E7%85%A7%E7%89%87.png"
    );
    let (_, headers, bytes) = download(app, &w.ent, items[1].id(), &[]).await;
    assert_eq!(bytes, PDF);
    assert!(header(&headers, "content-disposition").starts_with("inline;"));
    let (_, headers, bytes) =
        download(app, &w.ent, items[2].id(), &[("accept-encoding", "gzip")]).await;
    assert_eq!(bytes, docx, "sent as stored, not compressed");
    assert!(header(&headers, "content-disposition").starts_with("attachment;"));

    let timeline = app.timeline(&w.ent, &w.ticket).await;
    let added: Vec<&Value> = timeline
        .iter()
        .filter(|e| e["kind"] == "attachment_added")
        .collect();
    assert_eq!(added.len(), 3);
    assert_eq!(added[0]["note"], "现场照片.png");
    assert_eq!(added[0]["actor_id"], w.ent.id());

    // The assignee hears of it, with the names (the files themselves are not mailed).
    let mail = app
        .wait_mail(w.official.email(), "attachment mail", |m| {
            m.text.contains("现场照片.png")
        })
        .await;
    assert!(mail.text.contains("申请书.docx"), "{}", mail.text);
}

#[actix_web::test]
async fn the_same_file_twice_is_stored_once() {
    let w = world().await;
    let first = w
        .app
        .upload(&w.ent, &w.ticket, &[Part::file("a.pdf", PDF)])
        .await
        .expect(201);
    let second = w
        .app
        .upload(&w.official, &w.ticket, &[Part::file("copy.pdf", PDF)])
        .await
        .expect(201);
    assert_ne!(first.items()[0].id(), second.items()[0].id());
    assert_eq!(first.items()[0]["sha256"], second.items()[0]["sha256"]);
    let files = stored_files(w.app.blobs.path());
    assert_eq!(files.len(), 1, "{files:?}");
    let sha = first.items()[0]["sha256"].as_str().unwrap().to_owned();
    assert!(files[0].ends_with(&sha), "stored under its hash: {files:?}");
}

#[actix_web::test]
async fn a_file_is_judged_by_its_bytes_not_its_name_or_claim() {
    let w = world().await;
    let app = &w.app;
    let renamed = [Part {
        content_type: Some("image/jpeg"),
        ..Part::file("photo.jpg", ELF)
    }];
    let r = app
        .upload(&w.ent, &w.ticket, &renamed)
        .await
        .problem(415, "unsupported_media_type");
    assert_eq!(r.body["type"], "/problems/unsupported-media-type");
    let exe = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0\xb8\0\0\0";
    app.upload(&w.ent, &w.ticket, &[Part::file("scan.pdf", exe)])
        .await
        .problem(415, "unsupported_media_type");
    app.upload(
        &w.ent,
        &w.ticket,
        &[Part::file("run.txt", b"#!/bin/sh\necho hi\n")],
    )
    .await
    .problem(415, "unsupported_media_type");
    let zip = zip_with(&["setup.exe"]);
    app.upload(&w.ent, &w.ticket, &[Part::file("report.docx", &zip)])
        .await
        .problem(415, "unsupported_media_type");
    // Text must be text to its last byte, however long its clean start.
    let mut late_nul = "正常的文字内容\n".repeat(10_000).into_bytes();
    late_nul.extend_from_slice(b"\0binary tail");
    app.upload(&w.ent, &w.ticket, &[Part::file("notes.txt", &late_nul)])
        .await
        .problem(415, "unsupported_media_type");
    // One bad file refuses the whole request.
    let mixed = [Part::file("ok.pdf", PDF), Part::file("bad.jpg", ELF)];
    app.upload(&w.ent, &w.ticket, &mixed)
        .await
        .problem(415, "unsupported_media_type");
    let list = app
        .get(&attachments_path(&w.ticket), w.ent.t())
        .await
        .expect(200);
    assert!(list.items().is_empty());
    app.run_jobs().await;
    app.clock.advance(chrono::Duration::hours(2));
    app.run_jobs().await;
    assert_eq!(stored_files(app.blobs.path()), Vec::<PathBuf>::new());

    let csv = "名称,数量\n营业执照,1\n".as_bytes();
    let r = app
        .upload(&w.ent, &w.ticket, &[Part::file("清单.csv", csv)])
        .await
        .expect(201);
    assert_eq!(r.items()[0]["content_type"], "text/csv; charset=utf-8");
}

#[actix_web::test]
async fn empty_missing_and_broken_uploads_are_refused() {
    let w = world().await;
    let app = &w.app;
    let r = app
        .upload(&w.ent, &w.ticket, &[Part::file("empty.pdf", b"")])
        .await
        .problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "file");
    app.upload(&w.ent, &w.ticket, &[])
        .await
        .problem(422, "validation_failed");
    app.upload(&w.ent, &w.ticket, &[Part::field("internal", "false")])
        .await
        .problem(422, "validation_failed");
    app.upload(
        &w.ent,
        &w.ticket,
        &[Part::field("colour", "blue"), Part::file("a.pdf", PDF)],
    )
    .await
    .problem(422, "validation_failed");

    let send_raw = |content_type: &str, body: Vec<u8>| {
        app.request(Method::POST, &attachments_path(&w.ticket), w.ent.t())
            .header("content-type", content_type.to_owned())
            .body(body)
    };
    let multipart = format!("multipart/form-data; boundary={BOUNDARY}");
    // Cut off before the closing boundary.
    let truncated = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n%PDF-1.7 and then nothing"
    );
    app.send(send_raw(&multipart, truncated.into_bytes()))
        .await
        .problem(400, "bad_request");
    app.send(send_raw(&multipart, b"no boundary at all".to_vec()))
        .await
        .problem(400, "bad_request");
    let no_headers = format!("--{BOUNDARY}\r\ngarbage\r\n\r\nx\r\n--{BOUNDARY}--\r\n");
    app.send(send_raw(&multipart, no_headers.into_bytes()))
        .await
        .problem(400, "bad_request");
    app.send(send_raw("application/json", b"{}".to_vec()))
        .await
        .problem(415, "unsupported_media_type");
    app.send(send_raw("multipart/form-data", b"x".to_vec()))
        .await
        .problem(400, "bad_request");

    let list = app
        .get(&attachments_path(&w.ticket), w.ent.t())
        .await
        .expect(200);
    assert!(list.items().is_empty());
}

#[actix_web::test]
async fn files_over_the_limit_are_refused_while_streaming_and_the_body_limit_does_not_apply() {
    let w = world().await;
    let app = &w.app;
    let mut big = PDF.to_vec();
    big.resize(21 * 1024 * 1024, b' ');
    let r = app
        .upload(&w.ent, &w.ticket, &[Part::file("big.pdf", &big)])
        .await
        .problem(413, "payload_too_large");
    assert_eq!(r.body["type"], "/problems/payload-too-large");
    assert!(
        r.body["detail"].as_str().unwrap().contains("20971520"),
        "{}",
        r.body
    );
    // Larger than server.body_limit_bytes (1 MiB) but within attachments.max_bytes.
    big.truncate(3 * 1024 * 1024);
    let r = app
        .upload(&w.ent, &w.ticket, &[Part::file("3mib.pdf", &big)])
        .await
        .expect(201);
    assert_eq!(r.items()[0]["size"], 3 * 1024 * 1024);
    let (_, _, bytes) = download(app, &w.ent, r.items()[0].id(), &[]).await;
    assert!(bytes == big, "the multipart-uploaded file reads back whole");
    // Only the 3 MiB file is left once the sweep has run past the grace period.
    app.clock.advance(chrono::Duration::hours(2));
    app.run_jobs().await;
    assert_eq!(stored_files(app.blobs.path()).len(), 1);
}

#[actix_web::test]
async fn file_names_are_sanitized_for_display_and_never_used_for_storage() {
    let w = world().await;
    let app = &w.app;
    let r = app
        .upload(
            &w.ent,
            &w.ticket,
            &[Part::file("../../etc/passwd", b"root:x:0:0\n")],
        )
        .await
        .expect(201);
    assert_eq!(r.items()[0]["filename"], "passwd");
    assert_eq!(r.items()[0]["content_type"], "text/plain; charset=utf-8");
    let long = "营".repeat(10_000) + ".pdf";
    let r = app
        .upload(&w.ent, &w.ticket, &[Part::file(&long, PDF)])
        .await
        .expect(201);
    let name = r.items()[0]["filename"].as_str().unwrap().to_owned();
    assert!(name.len() <= 255 && name.ends_with("营.pdf"), "{name}");
    for f in stored_files(app.blobs.path()) {
        let n = f.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            n.len() == 64 && n.bytes().all(|b| b.is_ascii_hexdigit()),
            "{f:?}"
        );
        assert!(f.starts_with(app.blobs.path()));
    }
    let (_, headers, _) = download(app, &w.ent, r.items()[0].id(), &[]).await;
    assert!(header(&headers, "content-disposition").len() < 4096);
}

#[actix_web::test]
async fn uploads_follow_the_tickets_scope_and_status() {
    let w = world().await;
    let app = &w.app;
    app.upload(&w.other, &w.ticket, &[Part::file("a.pdf", PDF)])
        .await
        .problem(404, "not_found");
    let mine = app
        .upload(&w.ent, &w.ticket, &[Part::file("a.pdf", PDF)])
        .await
        .expect(201);
    let id = mine.items()[0].id().to_owned();
    app.get(&attachments_path(&w.ticket), w.other.t())
        .await
        .problem(404, "not_found");
    app.get(&format!("/attachments/{id}"), w.other.t())
        .await
        .problem(404, "not_found");
    app.get(&content_path(&id), w.other.t())
        .await
        .problem(404, "not_found");
    app.get(&content_path("nope"), w.ent.t())
        .await
        .problem(404, "not_found");
    app.get(&content_path(&id), None)
        .await
        .problem(401, "unauthorized");

    app.act(&w.ent, &w.ticket, "cancel", json!({}))
        .await
        .expect(200);
    let r = app
        .upload(&w.ent, &w.ticket, &[Part::file("late.pdf", PDF)])
        .await
        .problem(409, "conflict");
    assert_eq!(r.body["type"], "/problems/ticket-closed");
    app.upload(&w.admin, &w.ticket, &[Part::file("late.pdf", PDF)])
        .await
        .problem(409, "conflict");
    // What was attached before stays readable.
    let (status, _, _) = download(app, &w.ent, &id, &[]).await;
    assert_eq!(status, 200);
}

#[actix_web::test]
async fn internal_attachments_never_reach_the_enterprise() {
    let w = world().await;
    let app = &w.app;
    app.upload(
        &w.ent,
        &w.ticket,
        &[Part::field("internal", "true"), Part::file("a.pdf", PDF)],
    )
    .await
    .problem(403, "forbidden");
    app.upload(
        &w.ent,
        &w.ticket,
        &[Part::file("a.pdf", PDF), Part::field("internal", "true")],
    )
    .await
    .problem(403, "forbidden");
    let r = app
        .upload(
            &w.official,
            &w.ticket,
            &[
                Part::field("internal", "true"),
                Part::file("内部审批单.pdf", PDF),
            ],
        )
        .await
        .expect(201);
    let internal = r.items()[0].clone();
    assert_eq!(internal["internal"], true);
    let public = app
        .upload(&w.official, &w.ticket, &[Part::file("回复函.pdf", PNG)])
        .await
        .expect(201);

    let list = app
        .get(&attachments_path(&w.ticket), w.ent.t())
        .await
        .expect(200);
    let names: Vec<&Value> = list.items().iter().map(|a| &a["filename"]).collect();
    assert_eq!(names, vec!["回复函.pdf"]);
    let staff = app
        .get(&attachments_path(&w.ticket), w.official.t())
        .await
        .expect(200);
    assert_eq!(staff.items().len(), 2);
    app.get(&format!("/attachments/{}", internal.id()), w.ent.t())
        .await
        .problem(404, "not_found");
    app.get(&content_path(internal.id()), w.ent.t())
        .await
        .problem(404, "not_found");
    let (status, _, _) = download(app, &w.admin, internal.id(), &[]).await;
    assert_eq!(status, 200);
    let seen = app.timeline(&w.ent, &w.ticket).await;
    assert!(
        !seen.iter().any(|e| e["note"] == "内部审批单.pdf"),
        "{seen:?}"
    );
    assert!(seen.iter().any(|e| e["note"] == "回复函.pdf"));
    let (_, headers, _) = download(app, &w.ent, public.items()[0].id(), &[]).await;
    assert_eq!(header(&headers, "content-type"), "image/png");

    // Only the public one is mailed to the filer.
    app.wait_mail(w.ent.email(), "attachment mail", |m| {
        m.text.contains("回复函.pdf")
    })
    .await;
    assert!(
        !w.app
            .smtp
            .to(w.ent.email())
            .iter()
            .any(|m| m.text.contains("内部审批单"))
    );
}

#[actix_web::test]
async fn files_can_belong_to_a_comment_of_the_ticket() {
    let w = world().await;
    let app = &w.app;
    let c = app
        .comment(&w.ent, &w.ticket, json!({"body": "补充材料见附件"}))
        .await
        .expect(201);
    let r = app
        .upload(
            &w.ent,
            &w.ticket,
            &[
                Part::field("comment_id", c.body.id()),
                Part::file("a.pdf", PDF),
            ],
        )
        .await
        .expect(201);
    assert_eq!(r.items()[0]["comment_id"], c.body.id());
    let note = app
        .comment(
            &w.official,
            &w.ticket,
            json!({"body": "内部", "kind": "internal_note"}),
        )
        .await
        .expect(201);
    let r = app
        .upload(
            &w.ent,
            &w.ticket,
            &[
                Part::field("comment_id", note.body.id()),
                Part::file("a.pdf", PDF),
            ],
        )
        .await
        .problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "comment_id");
    app.upload(
        &w.ent,
        &w.ticket,
        &[Part::field("comment_id", "nope"), Part::file("a.pdf", PDF)],
    )
    .await
    .problem(422, "validation_failed");
}

#[actix_web::test]
async fn a_ticket_takes_at_most_max_per_ticket_attachments() {
    let w = world_with(json!({"attachments": {"max_per_ticket": 2}})).await;
    let app = &w.app;
    let r = app
        .upload(
            &w.ent,
            &w.ticket,
            &[
                Part::file("1.pdf", PDF),
                Part::file("2.pdf", PDF),
                Part::file("3.pdf", PDF),
            ],
        )
        .await
        .problem(409, "conflict");
    assert_eq!(r.body["type"], "/problems/too-many-attachments");
    app.upload(
        &w.ent,
        &w.ticket,
        &[Part::file("1.pdf", PDF), Part::file("2.png", PNG)],
    )
    .await
    .expect(201);
    app.upload(&w.ent, &w.ticket, &[Part::file("3.pdf", PDF)])
        .await
        .problem(409, "conflict");
}

#[actix_web::test]
async fn downloads_answer_ranges_and_conditional_requests() {
    let w = world().await;
    let app = &w.app;
    let r = app
        .upload(&w.ent, &w.ticket, &[Part::file("scan.pdf", PDF)])
        .await
        .expect(201);
    let a = r.items()[0].clone();
    let etag = format!("\"{}\"", a["sha256"].as_str().unwrap());
    let size = PDF.len();

    let (status, headers, bytes) = download(app, &w.ent, a.id(), &[("range", "bytes=0-7")]).await;
    assert_eq!(status, 206);
    assert_eq!(bytes, &PDF[..8]);
    assert_eq!(
        header(&headers, "content-range"),
        format!("bytes 0-7/{size}")
    );
    assert_eq!(header(&headers, "content-length"), "8");
    assert_eq!(header(&headers, "accept-ranges"), "bytes");
    let (status, _, bytes) = download(app, &w.ent, a.id(), &[("range", "bytes=-6")]).await;
    assert_eq!(status, 206);
    assert_eq!(bytes, &PDF[size - 6..]);
    let (status, _, bytes) = download(app, &w.ent, a.id(), &[("range", "bytes=10-")]).await;
    assert_eq!(status, 206);
    assert_eq!(bytes, &PDF[10..]);
    let (status, headers, _) = download(app, &w.ent, a.id(), &[("range", "bytes=100000-")]).await;
    assert_eq!(status, 416);
    assert_eq!(header(&headers, "content-range"), format!("bytes */{size}"));
    let (status, _, bytes) = download(app, &w.ent, a.id(), &[("range", "bytes=0-1,4-5")]).await;
    assert_eq!((status, bytes.as_slice()), (200, PDF));
    let (status, _, bytes) = download(
        app,
        &w.ent,
        a.id(),
        &[("range", "bytes=0-3"), ("if-range", "\"other\"")],
    )
    .await;
    assert_eq!((status, bytes.as_slice()), (200, PDF));
    let (status, _, _) = download(
        app,
        &w.ent,
        a.id(),
        &[("range", "bytes=0-3"), ("if-range", &etag)],
    )
    .await;
    assert_eq!(status, 206);

    let (status, headers, bytes) = download(app, &w.ent, a.id(), &[("if-none-match", &etag)]).await;
    assert_eq!(status, 304);
    assert!(bytes.is_empty());
    assert_eq!(header(&headers, "etag"), etag);
    let (status, _, _) = download(app, &w.ent, a.id(), &[("if-none-match", "\"stale\"")]).await;
    assert_eq!(status, 200);
}

#[actix_web::test]
async fn admins_remove_attachments_and_the_sweep_frees_what_no_row_references() {
    let w = world().await;
    let app = &w.app;
    let kept = app
        .upload(&w.ent, &w.ticket, &[Part::file("kept.png", PNG)])
        .await
        .expect(201);
    let gone = app
        .upload(&w.ent, &w.ticket, &[Part::file("gone.pdf", PDF)])
        .await
        .expect(201);
    let id = gone.items()[0].id().to_owned();
    let path = format!("/attachments/{id}");
    let delete = |who: &Session| app.send(app.request(Method::DELETE, &path, who.t()));
    delete(&w.official).await.problem(403, "forbidden");
    delete(&w.ent).await.problem(403, "forbidden");
    delete(&w.other).await.problem(404, "not_found");
    delete(&w.admin).await.expect(204);
    delete(&w.admin).await.problem(404, "not_found");
    app.get(&path, w.admin.t()).await.problem(404, "not_found");
    let list = app
        .get(&attachments_path(&w.ticket), w.ent.t())
        .await
        .expect(200);
    assert_eq!(list.items().len(), 1);
    let removed = app
        .get(&events_path(&w.ticket), w.ent.t())
        .await
        .expect(200);
    assert!(
        removed
            .items()
            .iter()
            .any(|e| e["kind"] == "attachment_removed"
                && e["note"] == "gone.pdf"
                && e["actor_id"] == w.admin.id())
    );

    // Within the grace period the object stays (an upload of it may be about to commit).
    assert_eq!(stored_files(app.blobs.path()).len(), 2);
    app.run_jobs().await;
    assert_eq!(stored_files(app.blobs.path()).len(), 2);
    app.clock.advance(chrono::Duration::hours(2));
    app.run_jobs().await;
    let left = stored_files(app.blobs.path());
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(left[0].ends_with(kept.items()[0]["sha256"].as_str().unwrap()));
    let (status, _, bytes) = download(app, &w.ent, kept.items()[0].id(), &[]).await;
    assert_eq!((status, bytes.as_slice()), (200, PNG));
}

#[actix_web::test]
async fn a_client_that_goes_away_mid_upload_leaves_no_row_and_no_file() {
    let w = world().await;
    let app = &w.app;
    // 3 MiB announced, 2 MiB sent: past the first multipart part, so the store has begun.
    let head = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.pdf\"\r\n\r\n"
    );
    let mut body = head.into_bytes();
    body.extend_from_slice(PDF);
    body.resize(2 * 1024 * 1024, b' ');
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let request = format!(
        "POST /api/v1{} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {}\r\n\r\n",
        attachments_path(&w.ticket),
        w.ent.token,
        3 * 1024 * 1024
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    stream.write_all(&body).await.unwrap();
    stream.flush().await.unwrap();
    let blobs = app.blobs.path().to_path_buf();
    poll(|| async {
        let files = stored_files(&blobs);
        if files.is_empty() {
            Err("the upload has not reached the store yet".to_owned())
        } else {
            Ok(())
        }
    })
    .await;
    drop(stream);

    poll(|| async {
        app.clock.advance(chrono::Duration::hours(2));
        app.run_jobs().await;
        let files = stored_files(&blobs);
        if files.is_empty() {
            Ok(())
        } else {
            Err(format!("left behind: {files:?}"))
        }
    })
    .await;
    let list = app
        .get(&attachments_path(&w.ticket), w.ent.t())
        .await
        .expect(200);
    assert!(list.items().is_empty());
    assert!(
        !app.timeline(&w.ent, &w.ticket)
            .await
            .iter()
            .any(|e| e["kind"] == "attachment_added")
    );
}

/// moto's standalone S3 server on a free port, stopped when dropped.
struct Moto {
    child: std::process::Child,
    endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts moto (`pip install 'moto[server]'`), or `None` with a notice when it is not
/// installed; with `QIFU_REQUIRE_S3=1` (CI) its absence fails the test.
async fn moto() -> Option<Moto> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = std::process::Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    let child = match child {
        Ok(child) => child,
        Err(e) if std::env::var("QIFU_REQUIRE_S3").is_ok() => {
            panic!("QIFU_REQUIRE_S3 is set but moto_server does not start: {e}")
        }
        Err(e) => {
            eprintln!("skipped: the S3 test needs moto_server (pip install 'moto[server]'): {e}");
            return None;
        }
    };
    let moto = Moto {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
    };
    let client = reqwest::Client::new();
    poll(|| async {
        client
            .get(format!("{}/moto-api/", moto.endpoint))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| format!("moto is not up yet: {e}"))
    })
    .await;
    let bucket = client
        .put(format!("{}/qifu-test", moto.endpoint))
        .send()
        .await
        .expect("bucket created");
    assert!(bucket.status().is_success(), "{bucket:?}");
    Some(moto)
}

#[actix_web::test]
async fn the_s3_store_keeps_streams_serves_and_sweeps_files() {
    let Some(moto) = moto().await else {
        return;
    };
    let w = world_with(json!({"attachments": {
        "store": "s3://qifu-test/attachments",
        "s3_endpoint": moto.endpoint,
        "s3_access_key_id": "test",
        "s3_secret_access_key": "test",
    }}))
    .await;
    let app = &w.app;
    let objects = || async {
        let far = chrono::Utc::now() + chrono::Duration::days(1);
        app.state.blobs.older_than(far).await.expect("listing")
    };
    // Past one S3 part (5 MiB): a multipart upload to a temporary key, then renamed.
    let mut big = PDF.to_vec();
    big.resize(6 * 1024 * 1024 + 123, b'%');
    let r = app
        .upload(
            &w.ent,
            &w.ticket,
            &[Part::file("大文件.pdf", &big), Part::file("photo.png", PNG)],
        )
        .await
        .expect(201);
    let big_id = r.items()[0].id().to_owned();
    let (status, _, bytes) = download(app, &w.official, &big_id, &[]).await;
    assert_eq!(status, 200);
    assert!(bytes == big, "the multipart upload reads back whole");
    let (status, headers, bytes) =
        download(app, &w.ent, &big_id, &[("range", "bytes=6291456-")]).await;
    assert_eq!(status, 206);
    assert_eq!(bytes, &big[6 * 1024 * 1024..]);
    assert_eq!(
        header(&headers, "content-range"),
        format!("bytes 6291456-6291578/{}", big.len())
    );

    app.upload(&w.official, &w.ticket, &[Part::file("again.png", PNG)])
        .await
        .expect(201);
    let stored = objects().await;
    assert_eq!(
        stored.len(),
        2,
        "deduplicated, no temporary left: {stored:?}"
    );

    app.send(app.request(
        Method::DELETE,
        &format!("/attachments/{big_id}"),
        w.admin.t(),
    ))
    .await
    .expect(204);
    app.clock.advance(chrono::Duration::hours(2));
    app.run_jobs().await;
    let stored = objects().await;
    assert_eq!(stored.len(), 1, "{stored:?}");
    let (status, _, bytes) = download(app, &w.ent, r.items()[1].id(), &[]).await;
    assert_eq!((status, bytes.as_slice()), (200, PNG));
}

#[actix_web::test]
async fn the_console_uploads_beside_the_reply_box_and_shows_thumbnails() {
    let w = world().await;
    let app = &w.app;
    let mut browser = super::console::Visitor::new(app);
    browser.sign_in(w.ent.email()).await;
    let page_path = format!("/tickets/{}", w.ticket.id());
    let upload_path = format!("{page_path}/attachments");
    let page = browser.get(&page_path).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("enctype=\"multipart/form-data\""),
        "{}",
        page.body
    );
    let csrf = page.field("csrf");

    // A forged form (no token first) stores nothing.
    let forged = browser
        .post_multipart(&upload_path, &[Part::file("site.png", PNG)])
        .await;
    assert_eq!(forged.status, 403);
    let done = browser
        .post_multipart(
            &upload_path,
            &[
                Part::field("csrf", &csrf),
                Part::file("现场.png", PNG),
                Part::file("函.pdf", PDF),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.header("location"), format!("{page_path}#attachments"));
    let list = app
        .get(&attachments_path(&w.ticket), w.ent.t())
        .await
        .expect(200);
    assert_eq!(list.items().len(), 2);
    let photo = list.items()[0].id().to_owned();
    let page = browser.get(&page_path).await;
    assert!(
        page.body.contains(&format!(
            "<img class=\"thumb\" src=\"/attachments/{photo}\""
        )),
        "{}",
        page.body
    );
    assert!(page.body.contains("函.pdf"));
    assert!(
        !page
            .body
            .contains(&format!("src=\"/attachments/{}\"", list.items()[1].id())),
        "no thumbnail for a PDF"
    );
    let image = browser.get(&format!("/attachments/{photo}")).await;
    assert_eq!(image.status, 200);
    assert_eq!(image.header("content-type"), "image/png");

    let refused = browser
        .post_multipart(
            &upload_path,
            &[Part::field("csrf", &csrf), Part::file("tool.jpg", ELF)],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("f-file-error"), "{}", refused.body);
    let empty = browser
        .post_multipart(
            &upload_path,
            &[
                Part::field("csrf", &csrf),
                Part {
                    content_type: Some("application/octet-stream"),
                    ..Part::file("", b"")
                },
            ],
        )
        .await;
    assert_eq!(empty.status, 422);

    // Another enterprise's visitor sees neither the page nor the file.
    let mut stranger = super::console::Visitor::new(app);
    stranger.sign_in(w.other.email()).await;
    assert_eq!(
        stranger.get(&format!("/attachments/{photo}")).await.status,
        404
    );
}

/// The filing form's text fields, in the page's order.
fn filing<'a>(csrf: &'a str, key: &'a str, category: &'a str) -> Vec<Part<'a>> {
    vec![
        Part::field("csrf", csrf),
        Part::field("idempotency_key", key),
        Part::field("category_id", category),
        Part::field("title", "经营范围变更"),
        Part::field("description", "附营业执照扫描件"),
    ]
}

#[actix_web::test]
async fn the_filing_form_takes_attachments() {
    let w = world().await;
    let app = &w.app;
    let mut browser = super::console::Visitor::new(app);
    browser.sign_in(w.ent.email()).await;
    let form = browser.get("/tickets/new").await;
    assert!(
        form.body.contains("enctype=\"multipart/form-data\""),
        "{}",
        form.body
    );
    let (csrf, key) = (form.field("csrf"), form.field("idempotency_key"));
    let mut parts = filing(&csrf, &key, &w.category);
    parts.push(Part::file("营业执照.pdf", PDF));
    parts.push(Part::file("门头.png", PNG));
    let filed = browser.post_multipart("/tickets/new", &parts).await;
    assert_eq!(filed.status, 303, "{}", filed.body);
    let ticket_path = filed.header("location");
    let id = ticket_path.trim_start_matches("/tickets/").to_owned();
    let list = app.get(&attachments_path(&id), w.ent.t()).await.expect(200);
    let names: Vec<&Value> = list.items().iter().map(|a| &a["filename"]).collect();
    assert_eq!(names, vec!["营业执照.pdf", "门头.png"]);
    // Sent again (a double click): the same ticket, no second set of files.
    let again = browser.post_multipart("/tickets/new", &parts).await;
    assert_eq!(again.header("location"), ticket_path);
    let list = app.get(&attachments_path(&id), w.ent.t()).await.expect(200);
    assert_eq!(list.items().len(), 2);

    // No file chosen: the browser's empty part is no attachment.
    let fresh = uuid::Uuid::new_v4().to_string();
    let mut parts = filing(&csrf, &fresh, &w.category);
    parts.push(Part {
        content_type: Some("application/octet-stream"),
        ..Part::file("", b"")
    });
    let filed = browser.post_multipart("/tickets/new", &parts).await;
    assert_eq!(filed.status, 303, "{}", filed.body);
    let id = filed
        .header("location")
        .trim_start_matches("/tickets/")
        .to_owned();
    let list = app.get(&attachments_path(&id), w.ent.t()).await.expect(200);
    assert!(list.items().is_empty());

    // A refused file: the ticket is filed and the page says the files were not.
    let fresh = uuid::Uuid::new_v4().to_string();
    let mut parts = filing(&csrf, &fresh, &w.category);
    parts.push(Part::file("tool.pdf", ELF));
    let filed = browser.post_multipart("/tickets/new", &parts).await;
    assert_eq!(filed.status, 303, "{}", filed.body);
    let page = browser.get(&filed.header("location")).await;
    assert!(page.body.contains("附件未能上传"), "{}", page.body);
}
