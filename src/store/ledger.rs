//! What the store should hold, recorded outside sled's own files: the least number of
//! stories it holds. A damaged database (a flipped byte, a file cut short) can open as a
//! valid empty store; the ledger tells that apart from a store that is really empty.

use super::StoreError;
use std::path::{Path, PathBuf};

const FILE: &str = "feedsift-ledger";

pub(super) struct Ledger {
    path: PathBuf,
}

impl Ledger {
    pub(super) fn in_dir(dir: &Path) -> Ledger {
        Ledger {
            path: dir.join(FILE),
        }
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// The recorded count, `None` for a store that never recorded one (new, or older than
    /// the ledger).
    pub(super) fn read(&self) -> Result<Option<u64>, StoreError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(StoreError::io(&self.path, e)),
        };
        let count = text
            .strip_prefix("stories ")
            .and_then(|rest| rest.trim().parse().ok())
            .ok_or_else(|| StoreError::Corrupt {
                key: self.path.display().to_string(),
                message: format!(
                    "unreadable ledger {text:?}; delete it to accept the store as it is"
                ),
            })?;
        Ok(Some(count))
    }

    /// Records that the store holds at least `stories` (written whole, then renamed, so a
    /// crash leaves the old record or the new one).
    pub(super) fn record(&self, stories: u64) -> Result<(), StoreError> {
        let partial = self.path.with_extension("new");
        std::fs::write(&partial, format!("stories {stories}\n"))
            .and_then(|()| std::fs::rename(&partial, &self.path))
            .map_err(|e| StoreError::io(&self.path, e))
    }
}
