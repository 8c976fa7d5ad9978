//! The on-disk schema version and the migrations between versions. Version 1 kept stories
//! as JSON; version 2 keeps them in postcard (compact binary, several times faster to read);
//! version 3 adds the story's article excerpt, and reads version 2 records as they are
//! (without one); version 4 adds the language model's summary and reads version 3 records
//! as stories without one; version 5 keys what webhooks were sent by story first, so pruning a
//! story forgets it. Opening a store migrates an older one in place; a newer one is refused.

use super::kv::{Batch, Direction, KeyRange, Kv, Tree};
use super::StoreError;
use crate::model::Story;

/// Version of the on-disk layout this build reads and writes.
pub const SCHEMA_VERSION: u64 = 5;
const KEY: &str = "schema_version";
/// Where the number of stories is kept (updated with every write that changes it).
pub(super) const COUNT_KEY: &str = "story_count";
/// Set while every stored story is known to be queued for its embedding or to have one
/// (the embedding queue has been on since that was last checked).
/// Its name changes with what `Story::embedding_text` reads (v2: tags added), so that a store
/// from before queues every story again once, at the next start.
pub(super) const EMBEDDINGS_QUEUED_KEY: &str = "embeddings_queued_v2";
/// Set while every stored story of the LLM topics' windows is known to be queued for the
/// model's summary or to have one (like `EMBEDDINGS_QUEUED_KEY`).
pub(super) const LLM_QUEUED_KEY: &str = "llm_queued";
/// Where the language model stands (`llm::LlmState`, JSON).
pub(super) const LLM_STATE_KEY: &str = "llm_state";
/// Stories rewritten per batch while migrating.
const BATCH: usize = 1000;

/// Brings the store at `place` to `SCHEMA_VERSION`, or refuses a newer one.
pub(super) fn migrate(kv: &Kv, place: &str) -> Result<(), StoreError> {
    let found = match kv.get(Tree::Meta, KEY.as_bytes())? {
        Some(v) => v
            .as_slice()
            .try_into()
            .map(u64::from_be_bytes)
            .unwrap_or(u64::MAX),
        None if kv.is_empty(Tree::Stories)? => SCHEMA_VERSION,
        None => 1,
    };
    if found > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema {
            place: place.to_string(),
            found,
        });
    }
    if found == 1 {
        stories_json_to_postcard(kv)?;
        tracing::info!(store = %place, "store migrated from schema 1 to 2");
    }
    if found < 5 {
        let moved = sent_keys_by_story(kv)?;
        if moved > 0 {
            tracing::info!(store = %place, moved, "webhook sent marks keyed by story (schema 5)");
        }
    }
    if found != SCHEMA_VERSION || !kv.contains(Tree::Meta, KEY.as_bytes())? {
        kv.put(Tree::Meta, KEY.as_bytes(), &SCHEMA_VERSION.to_be_bytes())?;
    }
    kv.flush()
}

/// The stored story count; a store written before it was kept is counted once (by-time keys
/// only) and the count stored.
pub(super) fn story_count(kv: &Kv) -> Result<u64, StoreError> {
    if let Some(bytes) = kv.get(Tree::Meta, COUNT_KEY.as_bytes())? {
        if let Ok(raw) = <[u8; 8]>::try_from(bytes.as_slice()) {
            return Ok(u64::from_be_bytes(raw));
        }
    }
    let count = kv
        .scan_keys(Tree::ByTime, KeyRange::all(), Direction::Forward)
        .try_fold(0u64, |n, key| key.map(|_| n + 1))?;
    kv.put(Tree::Meta, COUNT_KEY.as_bytes(), &count.to_be_bytes())?;
    Ok(count)
}

fn stories_json_to_postcard(kv: &Kv) -> Result<(), StoreError> {
    let mut batch = Batch::default();
    for entry in kv.scan(Tree::Stories, KeyRange::all(), Direction::Forward) {
        let (key, json) = entry?;
        let story: Story = serde_json::from_slice(&json).map_err(|e| StoreError::Corrupt {
            key: hex(&key),
            message: format!("schema 1 story: {e}"),
        })?;
        let bytes = encode_story(&story)?;
        batch.put(Tree::Stories, key, bytes);
        if batch.ops.len() == BATCH {
            kv.commit(std::mem::take(&mut batch))?;
        }
    }
    kv.commit(batch)
}

/// Rewrites schema 4's sent marks under today's keys, a batch at a time as the scan reads
/// them (each batch moves its marks in one commit, so a crash in between leaves every mark
/// under one key or the other; a rewritten key met again by the scan is not schema 4's).
fn sent_keys_by_story(kv: &Kv) -> Result<usize, StoreError> {
    let mut keys = kv.scan_keys(Tree::WebhookSent, KeyRange::all(), Direction::Forward);
    let mut moved = 0;
    loop {
        let chunk: Vec<Vec<u8>> = keys.by_ref().take(BATCH).collect::<Result<_, _>>()?;
        if chunk.is_empty() {
            return Ok(moved);
        }
        let mut batch = Batch::default();
        for key in chunk {
            if let Some(new) = super::outbox::sent_key_from_v4(&key) {
                batch.delete(Tree::WebhookSent, key);
                batch.put(Tree::WebhookSent, new, []);
                moved += 1;
            }
        }
        kv.commit(batch)?;
    }
}

pub(super) fn encode_story(story: &Story) -> Result<Vec<u8>, StoreError> {
    postcard::to_stdvec(story).map_err(|e| StoreError::Corrupt {
        key: story.id.to_hex(),
        message: e.to_string(),
    })
}

pub(super) fn decode_story(bytes: &[u8], key: &[u8]) -> Result<Story, StoreError> {
    // Newest first: postcard ignores trailing bytes, so an older layout could read the
    // front of a newer record.
    postcard::from_bytes(bytes)
        .or_else(|e| match postcard::from_bytes::<StoryV3>(bytes) {
            Ok(v3) => Ok(v3.into()),
            Err(_) => match postcard::from_bytes::<StoryV2>(bytes) {
                Ok(v2) => Ok(Story::from(StoryV3 {
                    v2,
                    article: None,
                    embedding: None,
                })),
                Err(_) => Err(e),
            },
        })
        .map_err(|e| StoreError::Corrupt {
            key: hex(key),
            message: e.to_string(),
        })
}

/// A story as schema 2 wrote it: every field of `Story` but the article, in the same order.
#[derive(serde::Deserialize)]
struct StoryV2 {
    id: crate::model::StoryId,
    canonical_url: String,
    url: String,
    title: String,
    summary: String,
    content_html: Option<String>,
    author: Option<String>,
    published: chrono::DateTime<chrono::Utc>,
    updated: chrono::DateTime<chrono::Utc>,
    revised: Option<chrono::DateTime<chrono::Utc>>,
    tags: Vec<String>,
    sources: Vec<String>,
    sightings: Vec<crate::model::StoredSighting>,
}

/// A story as schema 3 wrote it: schema 2's fields, then the article and the embedding.
#[derive(serde::Deserialize)]
struct StoryV3 {
    v2: StoryV2,
    article: Option<crate::model::Article>,
    embedding: Option<crate::model::StoredEmbedding>,
}

impl From<StoryV3> for Story {
    fn from(v3: StoryV3) -> Story {
        let v2 = v3.v2;
        Story {
            id: v2.id,
            canonical_url: v2.canonical_url,
            url: v2.url,
            title: v2.title,
            summary: v2.summary,
            content_html: v2.content_html,
            author: v2.author,
            published: v2.published,
            updated: v2.updated,
            revised: v2.revised,
            tags: v2.tags,
            sources: v2.sources,
            sightings: v2.sightings,
            article: v3.article,
            embedding: v3.embedding,
            llm_summary: None,
        }
    }
}

fn hex(key: &[u8]) -> String {
    key.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::StoryId;
    use crate::store::Store;
    use chrono::{TimeZone, Utc};

    fn story(n: u32) -> Story {
        let at = Utc.with_ymd_and_hms(2026, 11, 20, 0, 0, n % 60).unwrap();
        let url = format!("https://example.com/{n}");
        Story {
            id: StoryId::from_canonical_url(&url),
            canonical_url: url.clone(),
            url,
            title: format!("Story {n}"),
            summary: "A summary.".into(),
            content_html: None,
            author: None,
            published: at,
            updated: at,
            revised: None,
            tags: vec!["raft".into()],
            sources: vec!["hn".into()],
            sightings: vec![],
            article: None,
            embedding: None,
            llm_summary: None,
        }
    }

    #[test]
    fn a_schema_1_store_is_migrated_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let originals: Vec<Story> = (0..2500).map(story).collect();
        {
            // What a schema 1 build left behind: stories as JSON, version 1.
            let db = sled::open(dir.path()).unwrap();
            let stories = db.open_tree("stories").unwrap();
            let by_time = db.open_tree("by_time").unwrap();
            for s in &originals {
                stories
                    .insert(s.id.0, serde_json::to_vec(s).unwrap())
                    .unwrap();
                by_time
                    .insert(crate::store::keys::by_time_key(s.published, s.id), &[])
                    .unwrap();
            }
            db.open_tree("meta")
                .unwrap()
                .insert(KEY, &1u64.to_be_bytes())
                .unwrap();
            db.flush().unwrap();
        }
        let store = Store::reopen(dir.path()).unwrap();
        assert_eq!(store.story_count(), 2500);
        for s in originals.iter().step_by(97) {
            assert_eq!(store.story(s.id).unwrap().as_ref(), Some(s));
        }
        assert_eq!(
            store
                .stories_since(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap())
                .unwrap()
                .len(),
            2500
        );
        drop(store);
        // Reopening finds schema 2 and leaves it alone.
        assert_eq!(
            Store::reopen(dir.path())
                .unwrap()
                .story(originals[0].id)
                .unwrap()
                .as_ref(),
            Some(&originals[0])
        );
    }

    #[test]
    fn a_newer_store_is_refused_with_a_clear_message() {
        let dir = tempfile::tempdir().unwrap();
        {
            let db = sled::open(dir.path()).unwrap();
            db.open_tree("meta")
                .unwrap()
                .insert(KEY, &99u64.to_be_bytes())
                .unwrap();
            db.flush().unwrap();
        }
        let err = Store::reopen(dir.path()).err().unwrap().to_string();
        assert!(
            err.contains("written by a newer feedsift (schema 99, this build reads 5)"),
            "{err}"
        );
    }

    #[test]
    fn older_records_read_as_stories_without_what_came_later() {
        let mut original = story(7);
        let v2 = postcard::to_stdvec(&(
            &original.id,
            &original.canonical_url,
            &original.url,
            &original.title,
            &original.summary,
            &original.content_html,
            &original.author,
            &original.published,
            &original.updated,
            &original.revised,
            &original.tags,
            &original.sources,
            &original.sightings,
        ))
        .unwrap();
        assert_eq!(decode_story(&v2, b"k").unwrap(), original);
        original.article = Some(crate::model::Article {
            excerpt: "Replication in practice".into(),
        });
        // Postcard writes a record field after field: schema 3 is schema 2 and two more.
        let mut v3 = v2.clone();
        v3.extend(postcard::to_stdvec(&(&original.article, &original.embedding)).unwrap());
        assert_eq!(decode_story(&v3, b"k").unwrap(), original);
        original.llm_summary = Some(crate::model::LlmSummary {
            text: "A summary by the model. It has two sentences.".into(),
            model: "m".into(),
            input_hash: 7,
            made_at: original.published,
        });
        let v4 = encode_story(&original).unwrap();
        assert_eq!(decode_story(&v4, b"k").unwrap(), original);
    }
}
