//! Where sessions live: one JSON file each under the data directory's `sessions/`, rewritten
//! atomically on every change, with a lock so that two chaosdeck processes (one running an
//! experiment, one taking a note) never lose each other's changes.

use super::{Draft, Session};
use crate::engine::journal::write_atomic;
use std::fs::{File, OpenOptions};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

/// The sessions of one data directory.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

/// Why a session could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no session '{0}' (chaosdeck gameday list shows them)")]
    Missing(String),
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    #[error("{0}")]
    Refused(String),
}

impl Store {
    pub fn new(data_dir: &Path) -> Store {
        Store {
            dir: data_dir.join("sessions"),
        }
    }

    /// The default store, under chaosdeck's data directory.
    pub fn default_store() -> Result<Store, StoreError> {
        crate::engine::ledger::data_dir()
            .map(|d| Store::new(&d))
            .ok_or_else(|| StoreError::Refused("no data directory (is HOME set?)".into()))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of session `id`.
    pub fn session_path(&self, id: &str) -> PathBuf {
        self.path(id)
    }

    fn path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    fn io(path: &Path, e: impl std::fmt::Display) -> StoreError {
        StoreError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        }
    }

    /// Holds an exclusive lock on the store while `f` runs.
    fn locked<T>(&self, f: impl FnOnce() -> Result<T, StoreError>) -> Result<T, StoreError> {
        std::fs::create_dir_all(&self.dir).map_err(|e| Self::io(&self.dir, e))?;
        let lock_path = self.dir.join(".lock");
        let lock: File = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| Self::io(&lock_path, e))?;
        // SAFETY: flock on a file descriptor we own; released when `lock` is dropped.
        if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(Self::io(&lock_path, std::io::Error::last_os_error()));
        }
        f()
    }

    pub fn load(&self, id: &str) -> Result<Session, StoreError> {
        let path = self.path(id);
        let text = std::fs::read_to_string(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => StoreError::Missing(id.to_string()),
            _ => Self::io(&path, e),
        })?;
        serde_json::from_str(&text).map_err(|e| Self::io(&path, e))
    }

    /// Writes a session (creating or replacing it).
    pub fn save(&self, session: &Session) -> Result<(), StoreError> {
        self.locked(|| self.write(session, true))
    }

    fn write(&self, session: &Session, sync: bool) -> Result<(), StoreError> {
        let path = self.path(&session.id);
        let value = serde_json::to_value(session).map_err(|e| Self::io(&path, e))?;
        write_atomic(&path, &value, sync).map_err(|e| Self::io(&path, e))
    }

    /// Reads, changes and writes a session under the lock; the change may refuse.
    pub fn update<T>(
        &self,
        id: &str,
        change: impl FnOnce(&mut Session) -> Result<T, String>,
    ) -> Result<T, StoreError> {
        self.update_with(id, true, change)
    }

    /// Like [`Store::update`]; `sync: false` leaves the flush to disk to the system, for
    /// frequent bookkeeping (the activity in progress) that must not slow a run.
    pub fn update_with<T>(
        &self,
        id: &str,
        sync: bool,
        change: impl FnOnce(&mut Session) -> Result<T, String>,
    ) -> Result<T, StoreError> {
        self.locked(|| {
            let mut session = self.load(id)?;
            let out = change(&mut session).map_err(StoreError::Refused)?;
            self.write(&session, sync)?;
            Ok(out)
        })
    }

    fn draft_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.draft"))
    }

    /// Keeps the note being written beside its session, replaced atomically; left to the system
    /// to flush, which a killed process does not prevent.
    pub fn save_draft(&self, id: &str, draft: &Draft) -> Result<(), StoreError> {
        let path = self.draft_path(id);
        std::fs::create_dir_all(&self.dir).map_err(|e| Self::io(&self.dir, e))?;
        let value = serde_json::to_value(draft).map_err(|e| Self::io(&path, e))?;
        write_atomic(&path, &value, false).map_err(|e| Self::io(&path, e))
    }

    /// The draft a session's editor left, if any (an unreadable one counts as none).
    pub fn load_draft(&self, id: &str) -> Option<Draft> {
        let text = std::fs::read_to_string(self.draft_path(id)).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Forgets the draft once its note is saved or cancelled.
    pub fn clear_draft(&self, id: &str) -> Result<(), StoreError> {
        let path = self.draft_path(id);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Self::io(&path, e)),
            _ => Ok(()),
        }
    }

    /// Every session, oldest first; unreadable files are skipped with their error.
    pub fn list(&self) -> (Vec<Session>, Vec<String>) {
        let (found, problems) = crate::engine::durable::read_json_dir::<Session>(&self.dir);
        let mut sessions: Vec<Session> = found.into_iter().map(|(_, s)| s).collect();
        sessions.sort_by(|a, b| a.created.cmp(&b.created));
        (sessions, problems)
    }
}
