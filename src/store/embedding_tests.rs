//! The embedding queue: filled by the writes that create a story or change its text, only
//! while some topic needs embeddings; drained by `set_embedding`, which keeps the vector with
//! its text's hash.

use crate::model::{Article, Sighting};
use crate::normalize::Candidate;
use crate::store::{ArticleState, SourceState, Store};
use chrono::{TimeZone, Utc};

fn candidate(title: &str, text: &str) -> Candidate {
    let now = Utc.with_ymd_and_hms(2026, 11, 21, 0, 0, 0).unwrap();
    let sighting = Sighting {
        source: "s".into(),
        site: "feed:s".into(),
        site_name: "S".into(),
        item_id: None,
        url: "https://example.com/post".into(),
        title: title.into(),
        text: text.into(),
        html: None,
        author: None,
        tags: vec![],
        points: None,
        comments: None,
        discussion_url: None,
        published: Some(now),
        fetched_at: now,
        is_self_post: false,
    };
    Candidate::from_sighting(sighting, 60, false).unwrap()
}

#[test]
fn new_and_changed_texts_are_queued_and_set_embedding_drains_them() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let state = SourceState::default();
    // Off: nothing queued.
    store.apply(&[candidate("Title", "")], "s", &state).unwrap();
    assert!(store.queued_embeddings(10).unwrap().is_empty());
    store.queue_embeddings(true);
    let c = candidate("Title", "");
    store.apply(std::slice::from_ref(&c), "s", &state).unwrap();
    assert!(
        store.queued_embeddings(10).unwrap().is_empty(),
        "an unchanged story is not queued"
    );
    assert_eq!(
        store
            .queue_missing_embeddings(Utc.timestamp_opt(0, 0).unwrap())
            .unwrap(),
        1
    );
    let story = store.story(c.id).unwrap().unwrap();
    let generation = store.generation();
    assert!(store
        .set_embedding(c.id, story.embedding_text_hash(), vec![1; 384])
        .unwrap());
    assert!(store.generation() > generation);
    assert!(store.queued_embeddings(10).unwrap().is_empty());
    let stored = store.story(c.id).unwrap().unwrap();
    assert_eq!(stored.current_embedding().unwrap().vector, vec![1; 384]);
    // Re-polled unchanged: still current, nothing queued, even by the backfill.
    store.apply(std::slice::from_ref(&c), "s", &state).unwrap();
    assert_eq!(
        store
            .queue_missing_embeddings(Utc.timestamp_opt(0, 0).unwrap())
            .unwrap(),
        0
    );
    assert!(store.queued_embeddings(10).unwrap().is_empty());
    // An article arriving changes the text: queued again, and an embedding of the old text
    // is refused.
    store
        .set_article(
            c.id,
            Some(Article {
                excerpt: "All about replication.".into(),
            }),
            "A summary.",
            &ArticleState::default(),
            Utc::now(),
        )
        .unwrap();
    assert_eq!(store.queued_embeddings(10).unwrap(), [c.id]);
    assert!(!store
        .set_embedding(c.id, story.embedding_text_hash(), vec![2; 384])
        .unwrap());
    assert_eq!(store.queued_embeddings(10).unwrap(), [c.id]);
    let changed = store.story(c.id).unwrap().unwrap();
    assert!(changed.current_embedding().is_none());
    // The record survives a reopen with its embedding.
    assert!(store
        .set_embedding(c.id, changed.embedding_text_hash(), vec![3; 384])
        .unwrap());
    drop(store);
    let store = loop {
        match Store::open(dir.path()) {
            Ok(s) => break s,
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(20)),
        }
    };
    let reread = store.story(c.id).unwrap().unwrap();
    assert_eq!(reread.current_embedding().unwrap().vector, vec![3; 384]);
    assert!(store.queued_embeddings(10).unwrap().is_empty());
}
