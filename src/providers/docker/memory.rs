//! What a run remembers about the containers it acts on, so that the activities of one run
//! agree: the replica a Compose service target first chose stays the one acted on (the rollback
//! starts the container the method stopped), and a stop cut short by an abort — which the engine
//! carries on with — is waited for before a later `start`, which would otherwise be a no-op on
//! a container about to die.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Shared by every activity of one run.
#[derive(Debug, Default, Clone)]
pub struct RunMemory {
    /// Service target → container id it resolved to first.
    pinned: Arc<Mutex<HashMap<String, String>>>,
    /// Container id → until when a stop the engine still carries out may end it.
    stopping: Arc<Mutex<HashMap<String, Instant>>>,
}

impl RunMemory {
    /// The container a service target resolved to before, if any.
    pub fn pinned(&self, target: &str) -> Option<String> {
        self.pinned
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(target)
            .cloned()
    }

    pub fn pin(&self, target: &str, id: &str) {
        self.pinned
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(target.to_string())
            .or_insert_with(|| id.to_string());
    }

    /// Until when the engine may still be stopping this container after an abandoned stop.
    pub fn stopping_until(&self, id: &str) -> Option<Instant> {
        let mut map = self.stopping.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(id) {
            Some(until) if *until > Instant::now() => Some(*until),
            Some(_) => {
                map.remove(id);
                None
            }
            None => None,
        }
    }

    /// A guard that, dropped before [`StopGuard::done`], records the stop as still going on.
    pub fn stop_guard(&self, id: &str, grace: Duration) -> StopGuard {
        StopGuard {
            memory: self.clone(),
            id: id.to_string(),
            until: Instant::now() + grace + Duration::from_secs(5),
            armed: true,
        }
    }
}

/// See [`RunMemory::stop_guard`].
pub struct StopGuard {
    memory: RunMemory,
    id: String,
    until: Instant,
    armed: bool,
}

impl StopGuard {
    /// The engine answered: the stop is over.
    pub fn done(mut self) {
        self.armed = false;
    }
}

impl Drop for StopGuard {
    fn drop(&mut self) {
        if self.armed {
            self.memory
                .stopping
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(self.id.clone(), self.until);
        }
    }
}
