//! The `push` tree: per topic, the digest of the feed the WebSub hubs were last told of, so
//! a restart pings for what changed while the daemon was down, and for nothing else. A new
//! tree, read only by push: the schema of the other trees is untouched.

use super::kv::Tree;
use super::{Store, StoreError};

fn digest_key(slug: &str) -> Vec<u8> {
    [b"announced/".as_slice(), slug.as_bytes()].concat()
}

impl Store {
    /// The digest hubs were last told of for `slug` (none when never, or unreadable: then
    /// the next change is announced, which is the safe side).
    pub(crate) fn announced_digest(&self, slug: &str) -> Result<Option<[u8; 32]>, StoreError> {
        Ok(self
            .kv
            .get(Tree::Push, &digest_key(slug))?
            .and_then(|v| <[u8; 32]>::try_from(v.as_slice()).ok()))
    }

    pub(crate) fn put_announced_digest(
        &self,
        slug: &str,
        digest: &[u8; 32],
    ) -> Result<(), StoreError> {
        self.kv.put(Tree::Push, &digest_key(slug), digest)?;
        self.kv.flush()
    }
}
