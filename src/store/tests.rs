//! Store behaviour across writes: retention, and damaged or contended stores told apart.

use crate::model::{Sighting, StoryId};
use crate::normalize::Candidate;
use crate::store::test_backends::{on_both_backends, TestStore};
use crate::store::SourceState;
use crate::store::{Store, StoreError};
use chrono::{Duration, TimeZone, Utc};

fn candidates(n: i64, now: chrono::DateTime<Utc>) -> Vec<Candidate> {
    (0..n)
        .map(|day| {
            let sighting = Sighting {
                published: Some(now - Duration::days(day)),
                ..Sighting::on_feed(
                    &format!("https://example.com/{day}"),
                    &format!("Day {day}"),
                    now,
                )
            };
            Candidate::from_sighting(sighting, 60, false).unwrap()
        })
        .collect()
}

fn pruning_removes_only_stories_older_than_the_cutoff_in_batches(backend: &TestStore) {
    let store = backend.open();
    let now = Utc.with_ymd_and_hms(2026, 11, 21, 0, 0, 0).unwrap();
    let candidates = candidates(10, now);
    store
        .apply(&candidates, "s", &SourceState::default())
        .unwrap();
    let generation = store.generation();
    let cutoff = now - Duration::days(6) - Duration::hours(1);
    // Days 7, 8 and 9 are older than the cutoff: removed two at a time.
    assert_eq!(store.prune_before(cutoff, 2).unwrap(), 2);
    assert_eq!(store.prune_before(cutoff, 2).unwrap(), 1);
    assert_eq!(store.prune_before(cutoff, 2).unwrap(), 0);
    assert!(store.generation() > generation, "readers see the change");
    assert_eq!(store.story_count(), 7);
    let left: Vec<String> = store
        .stories_since(now - Duration::days(365))
        .unwrap()
        .into_iter()
        .map(|s| s.title)
        .collect();
    assert_eq!(
        left,
        ["Day 0", "Day 1", "Day 2", "Day 3", "Day 4", "Day 5", "Day 6"]
    );
    assert!(store
        .story(StoryId::from_canonical_url("https://example.com/8"))
        .unwrap()
        .is_none());
}

/// A store of `n` stories at `dir`, closed.
fn filled(dir: &std::path::Path, n: i64) {
    let store = Store::reopen(dir).unwrap();
    let now = Utc::now();
    for chunk in candidates(n, now).chunks(50) {
        store.apply(chunk, "s", &SourceState::default()).unwrap();
    }
    store.flush().unwrap();
}

fn damaged_message(dir: &std::path::Path) -> String {
    match Store::reopen(dir) {
        Err(e @ StoreError::Damaged { .. }) => e.to_string(),
        Err(other) => panic!("expected a damaged store, got: {other}"),
        Ok(store) => panic!(
            "a damaged store opened with {} stories as if nothing happened",
            store.story_count()
        ),
    }
}

#[test]
fn a_database_cut_short_or_replaced_is_never_taken_for_an_empty_store() {
    let dir = tempfile::tempdir().unwrap();
    filled(dir.path(), 300);
    let db = dir.path().join("db");
    let bytes = std::fs::read(&db).unwrap();
    std::fs::write(&db, &bytes[..bytes.len() / 2]).unwrap();
    let message = damaged_message(dir.path());
    assert!(message.contains("feedsift-ledger"), "{message}");
    assert!(
        message.contains("restore") && message.contains("move it aside"),
        "{message}"
    );

    // The database files gone altogether: the same.
    let dir = tempfile::tempdir().unwrap();
    filled(dir.path(), 30);
    for name in ["db", "conf"] {
        std::fs::remove_file(dir.path().join(name)).unwrap();
    }
    damaged_message(dir.path());
}

#[test]
fn a_flipped_byte_is_reported_not_opened_as_empty() {
    let dir = tempfile::tempdir().unwrap();
    filled(dir.path(), 300);
    let db = dir.path().join("db");
    let mut bytes = std::fs::read(&db).unwrap();
    // Somewhere in the written data (sled's file may be mostly preallocated zeroes).
    let written = bytes.iter().rposition(|b| *b != 0).unwrap();
    bytes[written / 2] ^= 0x5a;
    std::fs::write(&db, &bytes).unwrap();
    match Store::reopen(dir.path()) {
        // A store that opens must hold what it held: every story readable, not just counted.
        Ok(store) => assert_eq!(
            store
                .stories_since(chrono::DateTime::<Utc>::MIN_UTC)
                .map(|s| s.len())
                .map_err(|e| e.to_string()),
            Ok(300)
        ),
        Err(e) => assert!(matches!(e, StoreError::Damaged { .. }), "{e}"),
    }
    // A flipped byte in `conf` is damage too, not "another process".
    let dir = tempfile::tempdir().unwrap();
    filled(dir.path(), 3);
    let conf = dir.path().join("conf");
    let mut bytes = std::fs::read(&conf).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x5a;
    std::fs::write(&conf, &bytes).unwrap();
    match Store::reopen(dir.path()) {
        Ok(store) => assert_eq!(store.story_count(), 3),
        Err(e) => {
            assert!(!e.to_string().contains("another"), "{e}");
        }
    }
}

#[test]
fn a_store_held_by_another_opener_is_named_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let _held = Store::open(dir.path()).unwrap();
    // sled's lock is an flock on its file, so a second open contends even in this process
    // (as a second feedsift process would): it must be named as such, never as damage.
    match Store::open(dir.path()) {
        Err(e @ StoreError::Locked { .. }) => {
            assert!(e.to_string().contains("another feedsift process"), "{e}")
        }
        Err(e) => panic!("contention reported as something else: {e}"),
        Ok(_) => panic!("a store held by another opener was opened again"),
    }
}

#[test]
fn an_empty_unfinished_snapshot_does_not_make_the_store_unopenable() {
    let dir = tempfile::tempdir().unwrap();
    filled(dir.path(), 5);
    std::fs::write(dir.path().join("snap.0000000000001234.generating"), b"").unwrap();
    let store = Store::reopen(dir.path()).unwrap();
    assert_eq!(store.story_count(), 5);
}

/// The error sled hands out after a write hit a full disk: a copy, with the kind kept and
/// the OS code lost.
fn disk_full_copy() -> sled::Error {
    sled::Error::Io(std::io::Error::new(
        std::io::ErrorKind::StorageFull,
        "Os { code: 28, kind: StorageFull, message: \"No space left on device\" }",
    ))
}

#[test]
fn a_full_disk_is_told_apart_in_sleds_copies_of_the_error_too() {
    assert!(matches!(
        StoreError::from(disk_full_copy()),
        StoreError::DiskFull { .. }
    ));
    let from_the_os = std::io::Error::from_raw_os_error(28);
    assert!(matches!(
        StoreError::from(sled::Error::Io(from_the_os)),
        StoreError::DiskFull { .. }
    ));
    let denied = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "denied");
    assert!(matches!(
        StoreError::from(sled::Error::Io(denied)),
        StoreError::Sled(_)
    ));
}

fn a_fetch_state_that_could_not_be_written_is_remembered_until_one_is(backend: &TestStore) {
    let store = backend.open();
    assert_eq!(store.state_write_error("s"), None);
    let failed: Result<(), StoreError> = Err(disk_full_copy().into());
    store.note_state_write("s", &failed);
    let remembered = store.state_write_error("s").expect("remembered");
    assert!(remembered.contains("the disk is full"), "{remembered}");
    assert_eq!(store.state_write_error("other"), None);
    // Every handle of the store sees it (the daemon's pollers and server hold clones).
    assert_eq!(store.clone().state_write_error("s"), Some(remembered));
    store
        .put_source_state("s", &SourceState::default())
        .unwrap();
    assert_eq!(store.state_write_error("s"), None);
    store.note_state_write("s", &failed);
    store
        .apply(&candidates(2, Utc::now()), "s", &SourceState::default())
        .unwrap();
    assert_eq!(
        store.state_write_error("s"),
        None,
        "a stored fetch clears it"
    );
}

#[test]
fn a_database_migrated_by_a_newer_feedsift_is_refused_with_a_clear_message() {
    let backend = TestStore::postgres();
    drop(backend.open());
    let crate::store::test_backends::TestStore::Postgres(options) = &backend else {
        unreachable!()
    };
    let mut client = postgres::Client::connect(&options.url, postgres::NoTls).unwrap();
    client
        .execute("INSERT INTO feedsift_migrations (version) VALUES (99)", &[])
        .unwrap();
    let err = Store::open_postgres(options)
        .err()
        .expect("refused")
        .to_string();
    assert!(
        err.contains("migrated by a newer feedsift (database schema 99, this build knows 1)"),
        "{err}"
    );
}

#[test]
fn a_node_hears_each_write_as_it_comes_even_while_another_keeps_writing() {
    let backend = TestStore::postgres();
    let (a, b) = (backend.node("a"), backend.node("b"));
    let started = std::time::Instant::now();
    while b.generation() < 2 {
        assert!(started.elapsed().as_secs() < 5, "listener never started");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let seen = b.generation();
    // A new story every 100 ms for 3 s: never a quiet moment of 250 ms.
    let writer = std::thread::spawn(move || {
        for i in 0..30 {
            let sighting = Sighting::on_feed(
                &format!("https://example.com/stream/{i}"),
                &format!("Story {i}"),
                Utc::now(),
            );
            let story = Candidate::from_sighting(sighting, 60, false).unwrap();
            a.apply(&[story], "s", &SourceState::default()).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    });
    let first = std::time::Instant::now();
    while b.generation() == seen {
        assert!(
            first.elapsed() < std::time::Duration::from_secs(1),
            "node b heard nothing within a second of a stream of writes"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    writer.join().unwrap();
    // Writes 100 ms apart are each heard (notices within 50 ms of another move it once).
    let done = std::time::Instant::now();
    while b.generation() < seen + 10 {
        assert!(
            done.elapsed() < std::time::Duration::from_secs(3),
            "node b heard {} of 30 writes",
            b.generation() - seen
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

#[test]
fn a_write_on_one_node_is_heard_by_another_within_a_second_and_leases_split_the_work() {
    let backend = TestStore::postgres();
    let (a, b) = (backend.node("a"), backend.node("b"));
    let now = Utc::now();
    // The listener counts from its LISTEN: wait for it to be up before writing.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while b.generation() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "listener never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let seen = b.generation();
    a.apply(&candidates(3, now), "s", &SourceState::default())
        .unwrap();
    let heard = std::time::Instant::now() + std::time::Duration::from_secs(1);
    while b.generation() == seen {
        assert!(
            std::time::Instant::now() < heard,
            "node b never heard of a's write"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(b.story_count(), 3, "the count is the database's");
    assert_eq!(b.stories_since(now - Duration::days(30)).unwrap().len(), 3);
    // Queued work goes to one node at a time.
    let ids: Vec<StoryId> = a
        .stories_since(now - Duration::days(30))
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    let to_a = a
        .lease_work(crate::store::Queue::Articles, ids.clone())
        .unwrap();
    assert_eq!(to_a, ids);
    assert!(b
        .lease_work(crate::store::Queue::Articles, ids.clone())
        .unwrap()
        .is_empty());
    // Done: the lease goes with the work.
    a.dequeue(crate::store::Queue::Articles, &ids[..1]).unwrap();
    assert_eq!(
        b.lease_work(crate::store::Queue::Articles, ids.clone())
            .unwrap(),
        ids[..1]
    );
    // Two nodes draining one queue split it instead of taking turns at its head.
    let queue = crate::store::Queue::Embeddings;
    a.set_queueing(queue, true);
    a.apply(&candidates(8, now), "t", &SourceState::default())
        .unwrap();
    let queued = a.queued(queue, 100).unwrap();
    assert_eq!(queued.len(), 5, "the five new stories are queued");
    let first = a.claim_queued(queue, 3).unwrap();
    let second = b.claim_queued(queue, 3).unwrap();
    assert_eq!(first.len(), 3);
    assert_eq!(second.len(), 2, "b gets the rest");
    assert!(
        first.iter().all(|id| !second.contains(id)),
        "never the same story"
    );
    // a asks again: its own leases come back, none of b's.
    assert_eq!(a.claim_queued(queue, 100).unwrap(), first);
    // A role is one node's at a time; asking again renews it.
    assert!(a.holds_role("webhooks"));
    assert!(!b.holds_role("webhooks"));
    assert!(a.holds_role("webhooks"));
    assert!(b.holds_role("websub"), "another role is free");
}

/// What webhooks were sent survives the schema 5 migration (marks rewritten under keys that
/// start with the story), and pruning a story forgets its marks, so they do not pile up.
fn sent_marks_survive_the_migration_and_leave_with_their_story(backend: &TestStore) {
    use crate::store::kv::{Batch, Direction, KeyRange, Tree};
    use crate::store::Delivery;
    let old = Utc::now() - Duration::days(90);
    // Marks of stories kept (not stored here, so never pruned): more than one migration batch.
    let kept: Vec<StoryId> = (0..1500)
        .map(|n| StoryId::from_canonical_url(&format!("https://kept.example/{n}")))
        .collect();
    let ids: Vec<StoryId> = {
        let store = backend.open();
        let written = candidates(2, old);
        store.apply(&written, "s", &SourceState::default()).unwrap();
        let ids: Vec<StoryId> = written.iter().map(|c| c.id).collect();
        let delivery = Delivery {
            id: "d".into(),
            topic: "ds".into(),
            created: old,
            stories: [ids.clone(), kept.clone()].concat(),
            body: "{}".into(),
            attempted: false,
        };
        store.put_delivery("h", None, &delivery).unwrap();
        // As schema 4 kept them.
        let mut batch = Batch::default();
        for id in ids.iter().chain(&kept) {
            batch.delete(Tree::WebhookSent, super::outbox::sent_key("h", "ds", *id));
            batch.put(Tree::WebhookSent, format!("h/ds/{}", id.to_hex()), []);
        }
        batch.put(Tree::Meta, "schema_version", 4u64.to_be_bytes());
        store.kv.commit(batch).unwrap();
        ids
    };
    let store = backend.open();
    assert!(
        store.unsent("h", "ds", &ids).unwrap().is_empty(),
        "still sent"
    );
    assert!(
        store.unsent("h", "ds", &kept).unwrap().is_empty(),
        "all batches"
    );
    assert_eq!(store.unsent("h", "rust", &ids).unwrap(), ids, "per topic");
    let keys: Vec<Vec<u8>> = store
        .kv
        .scan_keys(Tree::WebhookSent, KeyRange::all(), Direction::Forward)
        .collect::<Result<_, _>>()
        .unwrap();
    let mut expected: Vec<Vec<u8>> = ids
        .iter()
        .chain(&kept)
        .map(|id| super::outbox::sent_key("h", "ds", *id))
        .collect();
    expected.sort();
    assert_eq!(keys, expected);

    assert_eq!(store.prune_before(Utc::now(), 100).unwrap(), 2);
    assert_eq!(
        store.kv.len(Tree::WebhookSent).unwrap(),
        kept.len(),
        "the pruned stories' marks went, no others"
    );
    assert_eq!(store.unsent("h", "ds", &ids).unwrap(), ids);
    assert!(store.unsent("h", "ds", &kept).unwrap().is_empty());
}

fn keys_with_prefixes_finds_each_prefixs_keys_and_no_neighbours(backend: &TestStore) {
    use crate::store::kv::{Batch, Tree};
    let store = backend.open();
    let mut batch = Batch::default();
    let keys: [&[u8]; 7] = [
        b"\x01a",
        b"\x01b",
        b"\x01",
        b"\x02a",
        b"\x00\xff",
        b"\xff\xff",
        b"\xff\xff\x00",
    ];
    for key in keys {
        batch.put(Tree::WebhookSent, key, []);
    }
    store.kv.commit(batch).unwrap();
    let prefixes: [&[u8]; 3] = [b"\x01", b"\xff\xff", b"\x03"];
    let mut found = store
        .kv
        .keys_with_prefixes(Tree::WebhookSent, &prefixes)
        .unwrap();
    found.sort();
    let expected: Vec<Vec<u8>> = [
        &b"\x01"[..],
        b"\x01a",
        b"\x01b",
        b"\xff\xff",
        b"\xff\xff\x00",
    ]
    .iter()
    .map(|k| k.to_vec())
    .collect();
    assert_eq!(found, expected);
    assert!(store
        .kv
        .keys_with_prefixes(Tree::WebhookSent, &[])
        .unwrap()
        .is_empty());
}

on_both_backends!(
    keys_with_prefixes_finds_each_prefixs_keys_and_no_neighbours,
    pruning_removes_only_stories_older_than_the_cutoff_in_batches,
    a_fetch_state_that_could_not_be_written_is_remembered_until_one_is,
    sent_marks_survive_the_migration_and_leave_with_their_story,
);

#[test]
fn an_unreachable_database_is_named_without_its_password() {
    // Opening at `url` fails: the error, which must never hold the password.
    let refused = |url: &str| {
        let options = crate::store::PgOptions {
            url: url.into(),
            node_id: "n".into(),
            connections: 1,
            lease: std::time::Duration::from_secs(30),
        };
        let err = Store::open_postgres(&options)
            .err()
            .expect("nothing listens on port 1, or the URL is refused")
            .to_string();
        assert!(!err.contains("hunter2"), "{err}");
        err
    };
    let err = refused("postgres://feedsift:hunter2@127.0.0.1:1/feedsift");
    assert!(
        err.starts_with("store postgres://feedsift:***@127.0.0.1:1/feedsift: "),
        "{err}"
    );
    let err = refused("postgres://feedsift@127.0.0.1:1/feedsift?password=hunter2&sslmode=disable");
    assert!(err.contains("password=***"), "{err}");
    let err = refused("postgres://feedsift:hunter2@[::1");
    assert!(err.contains("not a PostgreSQL URL"), "{err}");
}
