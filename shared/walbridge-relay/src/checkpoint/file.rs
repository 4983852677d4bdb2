//! The checkpoint as a local file.

use std::path::PathBuf;

use super::{Checkpoint, CheckpointStore};
use crate::error::CheckpointError;

/// The checkpoint as a local file (`checkpoint.uri=file:///…`), replaced atomically by rename. The
/// condition is checked by comparing contents: enough for one machine, not a fence between machines.
#[derive(Debug)]
pub struct FileCheckpointStore {
    path: PathBuf,
    /// The file's content as this store last read or wrote it; `None`: it did not exist.
    seen: Option<Vec<u8>>,
}

impl FileCheckpointStore {
    /// A store for the file at `path`, which need not exist yet; nothing is read until `load`.
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

    /// Writes and removes a scratch file beside the checkpoint.
    pub(crate) async fn probe_write(&self) -> Result<(), CheckpointError> {
        if let Some(dir) = self.path.parent() {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(|err| self.io_error("create the directory of", err))?;
        }
        let probe = self.path.with_extension("validate");
        tokio::fs::write(&probe, b"")
            .await
            .map_err(|err| self.io_error("write", err))?;
        tokio::fs::remove_file(&probe)
            .await
            .map_err(|err| self.io_error("write", err))
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
            .map(|bytes| Checkpoint::from_json(bytes, &self.path.display().to_string()))
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
