//! The rollback ledger: before a method action starts, a run records in the data directory the
//! rollbacks it now owes; the record goes when they have played. A run that died, or was
//! stopped without rollback, leaves its record behind for `chaosdeck recover`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// chaosdeck's data directory (`$XDG_DATA_HOME/chaosdeck` on Linux).
pub fn data_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "chaosdeck").map(|d| d.data_dir().to_path_buf())
}

/// Where ledger records live under a data directory.
pub fn ledger_dir(data: &Path) -> PathBuf {
    data.join("ledger")
}

/// What a run owes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Owed {
    pub id: String,
    pub pid: u32,
    pub started: String,
    pub source: String,
    pub title: String,
    /// `running` while the run goes on; `owed` once it ended without playing them.
    pub state: String,
    /// Index of the first rollback still owed.
    pub owed_from: usize,
    /// The experiment as it was run (its rollbacks are what is owed).
    pub experiment: Value,
    /// Configuration as resolved for the run; secrets are not stored and are read again.
    pub configuration: Map<String, Value>,
    pub journal_path: Option<String>,
}

impl Owed {
    /// Names of the rollbacks still owed.
    pub fn rollback_names(&self) -> Vec<String> {
        self.experiment
            .get("rollbacks")
            .and_then(Value::as_array)
            .map(|l| {
                l.iter()
                    .skip(self.owed_from)
                    .map(|a| {
                        a.get("name")
                            .and_then(Value::as_str)
                            .unwrap_or("(unnamed)")
                            .to_string()
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Whether the run that wrote this record has ended (it is no longer alive, or it said so).
    pub fn ended(&self) -> bool {
        self.state == "owed" || !process_alive(self.pid)
    }
}

fn process_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// A record on disk.
#[derive(Debug)]
pub struct Ledger {
    path: PathBuf,
    pub owed: Owed,
}

impl Ledger {
    /// Writes a new record (atomically, flushed to disk).
    pub fn create(dir: &Path, owed: Owed) -> std::io::Result<Ledger> {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        let ledger = Ledger {
            path: dir.join(format!("{}.json", owed.id)),
            owed,
        };
        ledger.save()?;
        Ok(ledger)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes the record, readable by its owner only.
    pub fn save(&self) -> std::io::Result<()> {
        use std::os::unix::fs::PermissionsExt;
        let value = serde_json::to_value(&self.owed).map_err(std::io::Error::other)?;
        super::journal::write_atomic(&self.path, &value, true)?;
        std::fs::set_permissions(&self.path, std::fs::Permissions::from_mode(0o600))
    }

    /// Removes the record: nothing is owed any more.
    pub fn clear(self) -> std::io::Result<()> {
        match std::fs::remove_file(&self.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

/// Every record in a ledger directory, oldest first; unreadable files are reported as errors.
pub fn list(dir: &Path) -> (Vec<Ledger>, Vec<String>) {
    let (records, errors) = super::durable::read_json_dir::<Owed>(dir);
    let mut found: Vec<Ledger> = records
        .into_iter()
        .map(|(path, owed)| Ledger { path, owed })
        .collect();
    found.sort_by(|a, b| a.owed.started.cmp(&b.owed.started));
    (found, errors)
}
