//! The topic indexes across writes, rebuilds, reopenings and writers that do not maintain
//! them: what a reader finds under an index prefix after catching up.

use crate::model::{Sighting, StoryId};
use crate::normalize::Candidate;
use crate::select::{MinPoints, Sort, Term, Topic};
use crate::store::test_backends::{on_both_backends, TestStore};
use crate::store::SourceState;
use crate::store::{Store, StoryIndex};
use crate::topics::index::TopicIndex;
use chrono::{DateTime, Duration, TimeZone, Utc};
use std::sync::Arc;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap()
}

fn raft_topic(min_points: i64) -> Topic {
    Topic {
        slug: "raft".into(),
        title: "Raft".into(),
        description: String::new(),
        sources: None,
        window: std::time::Duration::from_secs(30 * 86_400),
        limit: 10,
        sort: Sort::Points,
        rules: crate::select::TopicRules {
            keywords: vec![Term::new("raft", 1.0).unwrap()],
            min_relevance: 1.0,
            min_points: MinPoints::All(min_points),
            ..Default::default()
        },
        summaries: Default::default(),
        full_content: false,
    }
}

fn seen(path: &str, title: &str, points: i64, days_ago: i64) -> Candidate {
    let sighting = Sighting {
        source: "hn".into(),
        site: "hackernews".into(),
        site_name: "Hacker News".into(),
        points: Some(points),
        published: Some(now() - Duration::days(days_ago)),
        ..Sighting::on_feed(&format!("https://example.com/{path}"), title, now())
    };
    Candidate::from_sighting(sighting, 60, false).unwrap()
}

fn id(path: &str) -> StoryId {
    StoryId::from_canonical_url(&format!("https://example.com/{path}"))
}

fn apply(store: &Store, candidates: &[Candidate]) {
    store
        .apply(candidates, "hn", &SourceState::default())
        .unwrap();
}

/// (story path, points) filed under the topic's index, in key order.
fn filed(store: &Store, topic: &Topic, paths: &[&str]) -> Vec<(String, i64)> {
    let index = TopicIndex::new(topic);
    store
        .index_keys(index.prefix())
        .map(|k| index.decode(&k.unwrap()).unwrap())
        .map(|rank| {
            let path = paths
                .iter()
                .find(|p| id(p) == rank.id)
                .expect("known story");
            (path.to_string(), rank.points)
        })
        .collect()
}

fn register(store: &Store, topic: &Topic) {
    store
        .register_indexes(vec![Arc::new(TopicIndex::new(topic)) as Arc<dyn StoryIndex>])
        .unwrap();
}

fn ready(store: &Store, topic: &Topic) -> bool {
    let index = TopicIndex::new(topic);
    store.index_ready(index.prefix(), index.fingerprint())
}

const PATHS: &[&str] = &["a", "b", "c", "d"];

fn a_built_index_holds_admitted_stories_and_follows_every_write(backend: &TestStore) {
    let store = backend.open();
    let topic = raft_topic(10);
    apply(
        &store,
        &[
            seen("a", "Raft in practice", 50, 1),
            seen("b", "Raft, small", 5, 1),
            seen("c", "Paxos made simple", 90, 1),
        ],
    );
    register(&store, &topic);
    assert!(
        !ready(&store, &topic),
        "a new index is not ready before it is built"
    );
    assert_eq!(store.build_indexes(now(), &|| false).unwrap(), 1);
    assert!(ready(&store, &topic));
    assert_eq!(filed(&store, &topic, PATHS), [("a".into(), 50)]);

    // Points move the entry; crossing the threshold files a story; a new story is filed.
    apply(
        &store,
        &[
            seen("a", "Raft in practice", 70, 1),
            seen("b", "Raft, small", 80, 1),
            seen("d", "Raft at scale", 60, 2),
        ],
    );
    assert_eq!(store.catch_up_indexes().unwrap(), 3);
    assert_eq!(
        filed(&store, &topic, PATHS),
        [("b".into(), 80), ("a".into(), 70), ("d".into(), 60)]
    );
    assert_eq!(store.catch_up_indexes().unwrap(), 0, "nothing left dirty");

    // Pruned stories leave the index.
    assert_eq!(
        store
            .prune_before(now() - Duration::days(1) - Duration::hours(1), 100)
            .unwrap(),
        1
    );
    store.catch_up_indexes().unwrap();
    assert_eq!(
        filed(&store, &topic, PATHS),
        [("b".into(), 80), ("a".into(), 70)]
    );
    assert_eq!(store.story_count(), 3);
}

fn a_late_summary_can_bring_a_story_into_a_keyword_topic(backend: &TestStore) {
    let store = backend.open();
    let topic = raft_topic(0);
    register(&store, &topic);
    store.build_indexes(now(), &|| false).unwrap();
    apply(&store, &[seen("a", "Consensus notes", 40, 1)]);
    store.catch_up_indexes().unwrap();
    assert!(filed(&store, &topic, PATHS).is_empty());
    let summary = "How Raft elects a leader.";
    assert!(store
        .set_article(
            id("a"),
            None,
            summary,
            &crate::store::ArticleState::default(),
            now()
        )
        .unwrap());
    store.catch_up_indexes().unwrap();
    assert_eq!(filed(&store, &topic, PATHS), [("a".into(), 40)]);
}

fn indexes_persist_and_are_rebuilt_when_the_rules_change(backend: &TestStore) {
    let topic = raft_topic(10);
    {
        let store = backend.open();
        apply(
            &store,
            &[seen("a", "Raft", 50, 1), seen("b", "Raft", 20, 1)],
        );
        register(&store, &topic);
        store.build_indexes(now(), &|| false).unwrap();
    }
    // A writer that maintains no index (`fetch --once`) still marks what it changes.
    {
        let store = backend.open();
        apply(&store, &[seen("b", "Raft", 95, 1)]);
        assert_eq!(store.story_count(), 2, "the count survives reopening");
    }
    let store = backend.open();
    register(&store, &topic);
    assert!(
        ready(&store, &topic),
        "a complete index with the same rules is kept"
    );
    store.catch_up_indexes().unwrap();
    assert_eq!(
        filed(&store, &topic, PATHS),
        [("b".into(), 95), ("a".into(), 50)]
    );

    let stricter = raft_topic(60);
    register(&store, &stricter);
    assert!(!ready(&store, &stricter) && !ready(&store, &topic));
    assert!(
        filed(&store, &stricter, PATHS).is_empty(),
        "the old entries are dropped"
    );
    store.build_indexes(now(), &|| false).unwrap();
    assert_eq!(filed(&store, &stricter, PATHS), [("b".into(), 95)]);
}

fn a_build_stopped_halfway_is_not_used_and_starts_over(backend: &TestStore) {
    let topic = raft_topic(0);
    {
        let store = backend.open();
        apply(&store, &[seen("a", "Raft", 5, 1)]);
        register(&store, &topic);
        assert_eq!(store.build_indexes(now(), &|| true).unwrap(), 0);
        assert!(!ready(&store, &topic));
    }
    let store = backend.open();
    register(&store, &topic);
    assert!(
        !ready(&store, &topic),
        "an unfinished build is never taken as complete"
    );
    store.build_indexes(now(), &|| false).unwrap();
    assert_eq!(filed(&store, &topic, PATHS), [("a".into(), 5)]);
}

fn stories_changed_during_a_build_are_filed_once_where_they_now_rank(backend: &TestStore) {
    let store = backend.open();
    let first = raft_topic(0);
    register(&store, &first);
    store.build_indexes(now(), &|| false).unwrap();
    apply(&store, &[seen("a", "Raft", 5, 1)]);
    store.catch_up_indexes().unwrap();
    // Dirty when the second index is registered and built: the build leaves it to catch-up.
    apply(&store, &[seen("a", "Raft", 30, 1)]);
    let mut second = raft_topic(0);
    second.slug = "raft-too".into();
    store
        .register_indexes(vec![
            Arc::new(TopicIndex::new(&first)) as Arc<dyn StoryIndex>,
            Arc::new(TopicIndex::new(&second)),
        ])
        .unwrap();
    store.build_indexes(now(), &|| false).unwrap();
    apply(&store, &[seen("a", "Raft", 45, 1)]);
    store.catch_up_indexes().unwrap();
    assert_eq!(filed(&store, &first, PATHS), [("a".into(), 45)]);
    assert_eq!(filed(&store, &second, PATHS), [("a".into(), 45)]);
}

fn a_render_reads_the_last_filed_index_and_filing_invalidates_what_readers_derived(
    backend: &TestStore,
) {
    let store = backend.open();
    let topic = raft_topic(10);
    apply(&store, &[seen("a", "Raft in practice", 50, 1)]);
    register(&store, &topic);
    store.build_indexes(now(), &|| false).unwrap();
    let items = |store: &Store| -> Vec<String> {
        crate::topics::items::items(store, &topic, &topic, now())
            .unwrap()
            .into_iter()
            .map(|s| s.title)
            .collect()
    };
    assert_eq!(items(&store), ["Raft in practice"]);
    apply(&store, &[seen("b", "Raft at scale", 80, 1)]);
    assert_eq!(
        items(&store),
        ["Raft in practice"],
        "a render does not do the filing work itself"
    );
    let before = store.generation();
    assert_eq!(store.catch_up_indexes().unwrap(), 1);
    assert!(
        store.generation() > before,
        "filing bumps the generation, so cached renders are redone"
    );
    assert_eq!(items(&store), ["Raft at scale", "Raft in practice"]);
    let unchanged = store.generation();
    assert_eq!(store.catch_up_indexes().unwrap(), 0);
    assert_eq!(
        store.generation(),
        unchanged,
        "nothing filed, nothing stale"
    );
}

on_both_backends!(
    a_built_index_holds_admitted_stories_and_follows_every_write,
    a_late_summary_can_bring_a_story_into_a_keyword_topic,
    indexes_persist_and_are_rebuilt_when_the_rules_change,
    a_build_stopped_halfway_is_not_used_and_starts_over,
    stories_changed_during_a_build_are_filed_once_where_they_now_rank,
    a_render_reads_the_last_filed_index_and_filing_invalidates_what_readers_derived,
);

/// Waits up to `within` for `done`, else fails with `what`.
fn eventually(within: std::time::Duration, what: &str, done: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + within;
    while !done() {
        assert!(std::time::Instant::now() < deadline, "{what}");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

#[test]
fn a_story_one_node_files_is_heard_by_the_others_so_their_renders_refresh() {
    let backend = TestStore::postgres();
    let (a, b) = (backend.node("a"), backend.node("b"));
    let wait = std::time::Duration::from_secs(3);
    // The listener counts from its LISTEN (the generation starts at 1).
    eventually(wait, "node b's listener never started", || {
        b.generation() >= 2
    });
    let topic = raft_topic(10);
    for node in [&a, &b] {
        register(node, &topic);
        node.build_indexes(now(), &|| false).unwrap();
    }
    let before = b.generation();
    apply(&a, &[seen("a", "Raft at scale", 80, 1)]);
    eventually(wait, "node b never heard of the write", || {
        b.generation() > before
    });
    // What b renders now comes from the index, where the story is not yet filed.
    let heard = b.generation();
    assert!(filed(&b, &topic, PATHS).is_empty());
    assert_eq!(a.catch_up_indexes().unwrap(), 1);
    eventually(wait, "node b never heard that a filed the story", || {
        b.generation() > heard
    });
    assert_eq!(filed(&b, &topic, PATHS), [("a".into(), 80)]);
    assert_eq!(
        b.catch_up_indexes().unwrap(),
        0,
        "nothing left for b to file"
    );
}
