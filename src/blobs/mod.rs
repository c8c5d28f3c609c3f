//! Where attachment bytes live: one [`BlobStore`] over `object_store`, on a local directory
//! (`file://data/attachments`) or any S3-compatible service (`s3://bucket/prefix`).
//!
//! Objects are keyed by the SHA-256 of their content (`sha256/ab/cd/abcd…`), so the same file
//! uploaded twice is one object. An upload streams: it is hashed while it is written, small
//! files in one put, larger ones as a multipart upload to a temporary key that is renamed to
//! the content key once the hash is known. Nothing here knows about tickets or rows: the
//! service decides what may be stored and which objects are still referenced.

use std::sync::Arc;

use anyhow::{Context, bail};
use bytes::{Bytes, BytesMut};
use chrono::{DateTime, Utc};
use futures_util::{StreamExt, TryStreamExt, stream::BoxStream};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};

use crate::config::AttachmentSettings;

/// The smallest part S3 accepts (every part but the last); also the most an upload holds in
/// memory before it writes (twice this while one part is in flight).
const S3_PART_BYTES: usize = 5 * 1024 * 1024;
/// Local parts are written straight to the staging file, so they can be smaller.
const LOCAL_PART_BYTES: usize = 1024 * 1024;

pub struct BlobStore {
    inner: Arc<dyn ObjectStore>,
    root: Path,
    part_bytes: usize,
}

/// What a finished upload stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBlob {
    pub sha256: String,
    pub size: u64,
}

/// A stored object nobody may still be writing: its content hash, or a temporary upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SweepCandidate {
    Content(String),
    Temporary(String),
}

impl BlobStore {
    pub fn from_settings(settings: &AttachmentSettings) -> anyhow::Result<BlobStore> {
        let url = settings.store.trim();
        if let Some(dir) = url.strip_prefix("file://") {
            if dir.is_empty() {
                bail!("attachments.store: file:// needs a directory");
            }
            std::fs::create_dir_all(dir)
                .with_context(|| format!("creating attachments.store directory {dir}"))?;
            let local = LocalFileSystem::new_with_prefix(dir)
                .with_context(|| format!("attachments.store {url}"))?;
            return Ok(BlobStore {
                inner: Arc::new(local),
                root: Path::default(),
                part_bytes: LOCAL_PART_BYTES,
            });
        }
        if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                bail!("attachments.store: s3:// needs a bucket");
            }
            // reqwest is built without a TLS provider of its own; use ring, which the mail
            // transport's TLS already links. Installing twice is harmless.
            let _ = rustls::crypto::ring::default_provider().install_default();
            // The AWS_* environment (and instance credentials) first; settings override it.
            let mut builder = AmazonS3Builder::from_env()
                .with_bucket_name(bucket)
                .with_region(&settings.s3_region);
            if let Some(endpoint) = &settings.s3_endpoint {
                builder = builder
                    .with_endpoint(endpoint)
                    .with_allow_http(endpoint.starts_with("http://"));
            }
            if let Some(key) = &settings.s3_access_key_id {
                builder = builder.with_access_key_id(key);
            }
            if let Some(secret) = &settings.s3_secret_access_key {
                builder = builder.with_secret_access_key(secret.expose_secret());
            }
            let s3 = builder
                .build()
                .with_context(|| format!("attachments.store {url}"))?;
            return Ok(BlobStore {
                inner: Arc::new(s3),
                root: Path::from(prefix),
                part_bytes: S3_PART_BYTES,
            });
        }
        bail!("attachments.store must start with file:// or s3://, not {url}")
    }

    fn child(&self, parts: &[&str]) -> Path {
        parts
            .iter()
            .fold(self.root.clone(), |path, part| path.join(*part))
    }

    fn content_path(&self, sha256: &str) -> Path {
        self.child(&["sha256", &sha256[..2], &sha256[2..4], sha256])
    }

    /// Starts an upload; nothing is written until its first part is full or it finishes.
    pub fn writer(&self) -> BlobWriter<'_> {
        BlobWriter {
            store: self,
            hasher: Sha256::new(),
            size: 0,
            buffer: BytesMut::new(),
            upload: None,
        }
    }

    /// The bytes `start..=end` (or all), as a stream.
    pub async fn read(
        &self,
        sha256: &str,
        range: Option<(u64, u64)>,
    ) -> anyhow::Result<BoxStream<'static, anyhow::Result<Bytes>>> {
        let options = GetOptions {
            range: range.map(|(start, end)| GetRange::Bounded(start..end + 1)),
            ..GetOptions::default()
        };
        let result = self
            .inner
            .get_opts(&self.content_path(sha256), options)
            .await
            .with_context(|| format!("reading attachment {sha256}"))?;
        Ok(result.into_stream().map_err(anyhow::Error::from).boxed())
    }

    pub async fn exists(&self, sha256: &str) -> anyhow::Result<bool> {
        match self.inner.head(&self.content_path(sha256)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Objects last written before `cutoff`: anything newer may belong to an upload whose row
    /// has not committed yet.
    pub async fn older_than(&self, cutoff: DateTime<Utc>) -> anyhow::Result<Vec<SweepCandidate>> {
        let mut found = Vec::new();
        for (folder, temporary) in [("sha256", false), ("tmp", true)] {
            let mut listing = self.inner.list(Some(&self.child(&[folder])));
            while let Some(meta) = listing.next().await {
                let meta = meta?;
                if meta.last_modified >= cutoff {
                    continue;
                }
                let Some(name) = meta.location.filename() else {
                    continue;
                };
                found.push(if temporary {
                    SweepCandidate::Temporary(name.to_owned())
                } else {
                    SweepCandidate::Content(name.to_owned())
                });
            }
        }
        Ok(found)
    }

    /// Removes an object found by [`older_than`](Self::older_than), unless it was written again
    /// since (an upload of the same content rewrites its object, and then commits its row).
    pub async fn remove(
        &self,
        candidate: &SweepCandidate,
        cutoff: DateTime<Utc>,
    ) -> anyhow::Result<bool> {
        let path = match candidate {
            SweepCandidate::Content(sha) if sha.len() == 64 => self.content_path(sha),
            SweepCandidate::Content(_) => return Ok(false),
            SweepCandidate::Temporary(name) => self.child(&["tmp", name]),
        };
        match self.inner.head(&path).await {
            Ok(meta) if meta.last_modified < cutoff => {}
            Ok(_) | Err(object_store::Error::NotFound { .. }) => return Ok(false),
            Err(e) => return Err(e.into()),
        }
        match self.inner.delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(true),
            Err(e) => Err(e.into()),
        }
    }
}

/// One upload in progress. Dropped unfinished (the client went away, the request failed), it
/// aborts its multipart upload in the background, so no parts are left behind.
pub struct BlobWriter<'a> {
    store: &'a BlobStore,
    hasher: Sha256,
    size: u64,
    buffer: BytesMut,
    upload: Option<(Path, WriteMultipart)>,
}

impl BlobWriter<'_> {
    pub fn size(&self) -> u64 {
        self.size
    }

    pub async fn write(&mut self, bytes: Bytes) -> anyhow::Result<()> {
        self.hasher.update(&bytes);
        self.size += bytes.len() as u64;
        if self.upload.is_none() {
            self.buffer.extend_from_slice(&bytes);
            if self.buffer.len() < self.store.part_bytes {
                return Ok(());
            }
            let tmp = self
                .store
                .child(&["tmp", &uuid::Uuid::new_v4().simple().to_string()]);
            let multipart = self.store.inner.put_multipart(&tmp).await?;
            let mut writer = WriteMultipart::new_with_chunk_size(multipart, self.store.part_bytes);
            writer.put(std::mem::take(&mut self.buffer).freeze());
            self.upload = Some((tmp, writer));
            return Ok(());
        }
        if let Some((_, writer)) = &mut self.upload {
            // One part in flight at a time: memory stays at about two parts per upload.
            writer.wait_for_capacity(1).await?;
            writer.put(bytes);
        }
        Ok(())
    }

    /// Publishes the object under its content hash. Same content already stored: written
    /// again (a rename onto it), which also tells a concurrent sweep it is in use.
    pub async fn finish(mut self) -> anyhow::Result<StoredBlob> {
        let sha256 = hex::encode(std::mem::take(&mut self.hasher).finalize());
        let path = self.store.content_path(&sha256);
        match self.upload.take() {
            None => {
                let payload = PutPayload::from(std::mem::take(&mut self.buffer).freeze());
                self.store.inner.put(&path, payload).await?;
            }
            Some((tmp, writer)) => {
                writer.finish().await?;
                self.store.inner.rename(&tmp, &path).await?;
            }
        }
        Ok(StoredBlob {
            sha256,
            size: self.size,
        })
    }

    pub async fn abort(mut self) {
        if let Some((_, writer)) = self.upload.take()
            && let Err(e) = writer.abort().await
        {
            tracing::warn!(error = %e, "aborting an attachment upload failed; the sweep removes it");
        }
    }
}

impl Drop for BlobWriter<'_> {
    fn drop(&mut self) {
        if let Some((_, writer)) = self.upload.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(async move {
                let _ = writer.abort().await;
            });
        }
    }
}
