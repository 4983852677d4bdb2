//! Checkpoint stores: an S3 object written with conditional requests (`If-None-Match: *` for the first
//! write, `If-Match: <ETag read>` after), so a stale or concurrent writer fails instead of
//! overwriting; and a local file for runs without S3.

use std::path::PathBuf;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;

use crate::error::CheckpointError;
use crate::pipeline::{Checkpoint, CheckpointStore};

/// Where the checkpoint lives, with the client that reaches it: built once per cold start.
#[derive(Debug, Clone)]
pub enum CheckpointTarget {
    S3 {
        client: aws_sdk_s3::Client,
        bucket: String,
        key: String,
    },
    File(PathBuf),
}

impl CheckpointTarget {
    /// A store for one invocation (it remembers the version it read, for the conditional write).
    pub fn store(&self) -> AnyCheckpointStore {
        match self {
            Self::S3 {
                client,
                bucket,
                key,
            } => AnyCheckpointStore::S3(S3CheckpointStore::new(
                client.clone(),
                bucket.clone(),
                key.clone(),
            )),
            Self::File(path) => AnyCheckpointStore::File(FileCheckpointStore::new(path.clone())),
        }
    }
}

impl AnyCheckpointStore {
    /// Checks that this store could write the checkpoint, without changing it: on S3 a conditional
    /// write that cannot match (AWS checks permission before the condition, so 412 or 404 means
    /// allowed; 403 not), for a file a scratch file beside it, removed again.
    ///
    /// # Errors
    /// [`CheckpointError::Io`] when writing is refused.
    pub async fn probe_write(&self) -> Result<(), CheckpointError> {
        match self {
            Self::S3(store) => {
                let put = store
                    .client
                    .put_object()
                    .bucket(&store.bucket)
                    .key(&store.key)
                    .if_match("\"walbridge-validate-matches-no-object\"")
                    .body(ByteStream::from_static(b""))
                    .send()
                    .await;
                match put {
                    Err(err)
                        if matches!(http_status(&err), Some(412 | 404 | 409))
                            && !no_such_bucket(&err) =>
                    {
                        Ok(())
                    }
                    Err(err) => Err(store.io_error("write", err)),
                    Ok(_) => Ok(()),
                }
            }
            Self::File(store) => {
                if let Some(dir) = store.path.parent() {
                    tokio::fs::create_dir_all(dir)
                        .await
                        .map_err(|err| store.io_error("create the directory of", err))?;
                }
                let probe = store.path.with_extension("validate");
                tokio::fs::write(&probe, b"")
                    .await
                    .map_err(|err| store.io_error("write", err))?;
                tokio::fs::remove_file(&probe)
                    .await
                    .map_err(|err| store.io_error("write", err))
            }
        }
    }
}

/// Either store, chosen by `checkpoint.uri`.
#[derive(Debug)]
pub enum AnyCheckpointStore {
    S3(S3CheckpointStore),
    File(FileCheckpointStore),
}

impl CheckpointStore for AnyCheckpointStore {
    async fn load(&mut self) -> Result<Option<Checkpoint>, CheckpointError> {
        match self {
            Self::S3(store) => store.load().await,
            Self::File(store) => store.load().await,
        }
    }

    async fn save(&mut self, checkpoint: &Checkpoint) -> Result<(), CheckpointError> {
        match self {
            Self::S3(store) => store.save(checkpoint).await,
            Self::File(store) => store.save(checkpoint).await,
        }
    }
}

/// The checkpoint as an S3 object.
#[derive(Debug)]
pub struct S3CheckpointStore {
    client: aws_sdk_s3::Client,
    bucket: String,
    key: String,
    /// ETag of the object as this store last read or wrote it; `None`: it did not exist.
    etag: Option<String>,
}

impl S3CheckpointStore {
    pub fn new(client: aws_sdk_s3::Client, bucket: String, key: String) -> Self {
        Self {
            client,
            bucket,
            key,
            etag: None,
        }
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
        let checkpoint = serde_json::from_slice(&body)
            .map_err(|err| CheckpointError::Corrupt(format!("{}: {err}", self.location())))?;
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

/// The checkpoint as a local file (`checkpoint.uri=file:///…`), replaced atomically by rename. The
/// condition is checked by comparing contents: enough for one machine, not a fence between machines.
#[derive(Debug)]
pub struct FileCheckpointStore {
    path: PathBuf,
    /// The file's content as this store last read or wrote it; `None`: it did not exist.
    seen: Option<Vec<u8>>,
}

impl FileCheckpointStore {
    pub fn new(path: PathBuf) -> Self {
        Self { path, seen: None }
    }

    fn io_error(&self, action: &'static str, source: std::io::Error) -> CheckpointError {
        CheckpointError::Io {
            action,
            location: format!("file://{}", self.path.display()),
            source: Box::new(source),
        }
    }

    async fn read(&self) -> Result<Option<Vec<u8>>, CheckpointError> {
        match tokio::fs::read(&self.path).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(self.io_error("read", err)),
        }
    }
}

impl CheckpointStore for FileCheckpointStore {
    async fn load(&mut self) -> Result<Option<Checkpoint>, CheckpointError> {
        self.seen = self.read().await?;
        self.seen
            .as_deref()
            .map(|bytes| {
                serde_json::from_slice(bytes).map_err(|err| {
                    CheckpointError::Corrupt(format!("{}: {err}", self.path.display()))
                })
            })
            .transpose()
    }

    async fn save(&mut self, checkpoint: &Checkpoint) -> Result<(), CheckpointError> {
        if self.read().await? != self.seen {
            return Err(CheckpointError::Conflict {
                location: format!("file://{}", self.path.display()),
            });
        }
        let body = serde_json::to_vec(checkpoint).expect("a checkpoint serialises");
        if let Some(dir) = self.path.parent() {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(|err| self.io_error("create the directory of", err))?;
        }
        let tmp = self.path.with_extension("tmp");
        tokio::fs::write(&tmp, &body)
            .await
            .map_err(|err| self.io_error("write", err))?;
        tokio::fs::rename(&tmp, &self.path)
            .await
            .map_err(|err| self.io_error("replace", err))?;
        self.seen = Some(body);
        Ok(())
    }
}
