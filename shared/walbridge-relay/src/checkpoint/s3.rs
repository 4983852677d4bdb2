//! The checkpoint as an S3 object, written with conditional requests.

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::operation::put_object::PutObjectError;
use aws_sdk_s3::primitives::ByteStream;
use tracing::warn;

use super::{Checkpoint, CheckpointStore};
use crate::error::{CheckpointError, error_chain};

/// The checkpoint as an S3 object.
#[derive(Debug)]
pub struct S3CheckpointStore {
    client: aws_sdk_s3::Client,
    /// See [`CheckpointTarget::S3`](super::CheckpointTarget::S3); `None`: AWS S3.
    endpoint: Option<String>,
    bucket: String,
    key: String,
    /// ETag of the object as this store last read or wrote it; `None`: it did not exist.
    etag: Option<String>,
}

/// An `If-Match` no object's ETag has: a PUT under it must be refused.
const MATCHES_NOTHING: &str = "\"walbridge-probe-matches-no-object\"";

impl S3CheckpointStore {
    /// A store for the object `key` in `bucket`, which need not exist yet; nothing is read until
    /// `load`.
    pub fn new(client: aws_sdk_s3::Client, bucket: String, key: String) -> Self {
        Self {
            client,
            endpoint: None,
            bucket,
            key,
            etag: None,
        }
    }

    /// Names the endpoint of a store that is not AWS S3 in messages.
    pub fn at_endpoint(mut self, endpoint: Option<String>) -> Self {
        self.endpoint = endpoint;
        self
    }

    fn location(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key)
    }

    fn io_error<E>(&self, action: &'static str, source: E) -> CheckpointError
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        CheckpointError::Io {
            action,
            location: self.location(),
            source: Box::new(source),
        }
    }

    /// Checks that walbridge may write beside the checkpoint and that the store honours the
    /// conditions `save` fences writers with, never writing the checkpoint key itself: creates
    /// `<key>.probe` with `If-None-Match: *`, then a second such PUT and one with an `If-Match` that
    /// matches nothing must both be refused (412), and the probe is deleted again. A store that
    /// accepts them would let a stale or concurrent invocation overwrite the checkpoint unnoticed.
    ///
    /// # Errors
    /// [`CheckpointError::ConditionsIgnored`] when a conditional PUT that must fail succeeds;
    /// [`CheckpointError::Io`] when writing is refused or the store cannot be reached.
    pub async fn probe_write(&self) -> Result<(), CheckpointError> {
        let probe = format!("{}.probe", self.key);
        let created = match self.put_probe(&probe, None).await {
            Ok(()) => true,
            // A probe left by an earlier run (or one running now): the store refused to replace
            // it, which is the answer the second PUT would have given. AWS checks permission
            // before the condition, so a refusal also means writing is allowed.
            Err(err) if refused(&err, false) => false,
            Err(err) => return Err(self.probe_error(&probe, "write", err)),
        };
        let mut checked = Ok(());
        if created {
            checked = self.expect_refused(&probe, None).await;
        }
        if checked.is_ok() {
            checked = self.expect_refused(&probe, Some(MATCHES_NOTHING)).await;
        }
        if created
            && let Err(err) = self
                .client
                .delete_object()
                .bucket(&self.bucket)
                .key(&probe)
                .send()
                .await
        {
            // Harmless where it stays: the next probe finds it and is refused, as it should be.
            warn!(
                error = %error_chain(&self.probe_error(&probe, "delete", err)),
                "write probe left in place"
            );
        }
        checked
    }

    /// PUTs the probe under `If-Match: if_match`, or `If-None-Match: *` when `None`.
    async fn put_probe(
        &self,
        probe: &str,
        if_match: Option<&str>,
    ) -> Result<(), SdkError<PutObjectError, HttpResponse>> {
        let put = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(probe)
            .content_type("text/plain")
            .body(ByteStream::from_static(
                b"walbridge's probe of conditional writes; safe to delete\n",
            ));
        let put = match if_match {
            Some(etag) => put.if_match(etag),
            None => put.if_none_match("*"),
        };
        put.send().await.map(drop)
    }

    /// A PUT of the existing probe whose condition cannot hold: it must be refused.
    async fn expect_refused(
        &self,
        probe: &str,
        if_match: Option<&str>,
    ) -> Result<(), CheckpointError> {
        match self.put_probe(probe, if_match).await {
            Err(err) if refused(&err, if_match.is_some()) => Ok(()),
            Err(err) => Err(self.probe_error(probe, "write", err)),
            Ok(()) => Err(CheckpointError::ConditionsIgnored {
                endpoint: self
                    .endpoint
                    .clone()
                    .unwrap_or_else(|| "AWS S3's endpoint".to_owned()),
                location: format!("s3://{}/{probe}", self.bucket),
                condition: match if_match {
                    Some(etag) => format!("If-Match: {etag}"),
                    None => "If-None-Match: *".to_owned(),
                },
            }),
        }
    }

    fn probe_error<E>(&self, probe: &str, action: &'static str, source: E) -> CheckpointError
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        CheckpointError::Io {
            action,
            location: format!("s3://{}/{probe}", self.bucket),
            source: Box::new(source),
        }
    }
}

/// Whether a conditional PUT was refused for its condition: 412, or 409 (AWS, for a conditional
/// write racing another); for `If-Match` also 404 (AWS, when the object is gone meanwhile).
fn refused<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>, if_match: bool) -> bool {
    match http_status(err) {
        Some(412 | 409) => true,
        Some(404) => if_match && !no_such_bucket(err),
        _ => false,
    }
}

fn http_status<E>(err: &SdkError<E, HttpResponse>) -> Option<u16> {
    err.raw_response().map(|raw| raw.status().as_u16())
}

/// A 404 that means the bucket, not the object, is missing: a configuration error, not "no
/// checkpoint yet".
fn no_such_bucket<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> bool {
    err.as_service_error()
        .and_then(ProvideErrorMetadata::code)
        .is_some_and(|code| code == "NoSuchBucket")
}

impl CheckpointStore for S3CheckpointStore {
    async fn load(&mut self) -> Result<Option<Checkpoint>, CheckpointError> {
        let got = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(&self.key)
            .send()
            .await;
        let object = match got {
            Ok(object) => object,
            Err(err) if http_status(&err) == Some(404) && !no_such_bucket(&err) => {
                self.etag = None;
                return Ok(None);
            }
            Err(err) => return Err(self.io_error("read", err)),
        };
        let etag = object.e_tag().map(str::to_owned);
        let body = object
            .body
            .collect()
            .await
            .map_err(|err| self.io_error("read", err))?
            .into_bytes();
        let checkpoint = Checkpoint::from_json(&body, &self.location())?;
        self.etag = etag;
        Ok(Some(checkpoint))
    }

    async fn save(&mut self, checkpoint: &Checkpoint) -> Result<(), CheckpointError> {
        let body = serde_json::to_vec(checkpoint).expect("a checkpoint serialises");
        let put = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(&self.key)
            .content_type("application/json")
            .body(ByteStream::from(body));
        let put = match &self.etag {
            Some(etag) => put.if_match(etag),
            None => put.if_none_match("*"),
        };
        match put.send().await {
            Ok(output) => {
                self.etag = output.e_tag().map(str::to_owned);
                Ok(())
            }
            // 412: the condition failed. AWS answers If-Match on a deleted object with 404 and
            // concurrent conditional writes with 409; all mean somebody else wrote.
            Err(err) if matches!(http_status(&err), Some(412 | 409 | 404)) => {
                Err(CheckpointError::Conflict {
                    location: self.location(),
                })
            }
            Err(err) => Err(self.io_error("write", err)),
        }
    }
}
