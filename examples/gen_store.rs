//! Builds a feedsift store with N synthetic stories spread over a time span, through the
//! library's own write path (`Candidate::from_sighting` + `Store::apply`, 1000 per batch),
//! for `scripts/bench-scale.sh` and `scripts/bench-serve.sh`. Fetching a million stories over
//! HTTP would take too long.
//!
//! Usage: cargo run --release --example gen_store -- DIR STORIES [DAYS] [SUMMARY_WORDS]
//!   DIR: a sled store directory, or a `postgres://` URL (the store in that database, as
//!     `Store::open_postgres` opens it; `scripts/bench-postgres.sh`)
//!   DAYS (default 365): stories are published uniformly over the last DAYS days
//!   SUMMARY_WORDS (default 60): word budget of each story's summary
//! Env: GEN_STORE_BATCH (default 1000): candidates per `Store::apply`
//!      GEN_STORE_FIRST (default 0): the first story's number, so runs into one store add
//!      new stories instead of writing the same ones again

#[path = "../benches/common/mod.rs"]
mod common;

use chrono::Utc;
use feedsift::store::SourceState;
use feedsift::store::{PgOptions, Store};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

const BATCH: u64 = 1000;

/// The store `place` names: a `postgres://` URL, else a sled directory.
fn open(place: &str) -> Result<Store, feedsift::store::StoreError> {
    if place.starts_with("postgres://") || place.starts_with("postgresql://") {
        Store::open_postgres(&PgOptions {
            url: place.to_string(),
            node_id: "gen-store".into(),
            connections: 2,
            lease: std::time::Duration::from_secs(30),
        })
    } else {
        Store::open(&PathBuf::from(place))
    }
}

/// The number in the environment variable `name` (`_` allowed), at least `min`; `default`
/// when unset.
fn env_number(name: &str, default: u64, min: u64) -> Result<u64, String> {
    match std::env::var(name) {
        Err(_) => Ok(default),
        Ok(v) => match v.replace('_', "").parse::<u64>() {
            Ok(n) if n >= min => Ok(n),
            _ => Err(format!("{name}={v} is not a number of at least {min}")),
        },
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |i: usize, default: u64| -> Option<u64> {
        args.get(i)
            .map_or(Some(default), |a| a.replace('_', "").parse().ok())
    };
    let (Some(dir), Some(Some(stories)), Some(days), Some(words)) = (
        args.first().cloned(),
        args.get(1).map(|a| a.replace('_', "").parse::<u64>().ok()),
        number(2, 365),
        number(3, 60),
    ) else {
        eprintln!("usage: gen_store DIR STORIES [DAYS] [SUMMARY_WORDS]");
        return ExitCode::from(2);
    };
    let (batch_size, first) = match (
        env_number("GEN_STORE_BATCH", BATCH, 1),
        env_number("GEN_STORE_FIRST", 0, 0),
    ) {
        (Ok(batch_size), Ok(first)) => (batch_size, first),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("gen_store: {e}");
            return ExitCode::from(2);
        }
    };
    let store = match open(&dir) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("gen_store: {e}");
            return ExitCode::FAILURE;
        }
    };
    let started = Instant::now();
    let newest = Utc::now();
    let mut rng = common::Rng::new(stories ^ days);
    let mut key = first;
    while key < first + stories {
        let end = (key + batch_size).min(first + stories);
        let batch = common::candidate_batch(
            &mut rng,
            key..end,
            newest,
            days as i64 * 86_400,
            words as usize,
        );
        if let Err(e) = store.apply(&batch, "gen-store", &SourceState::default()) {
            eprintln!("gen_store: {e}");
            return ExitCode::FAILURE;
        }
        let before = key;
        key = end;
        if before / 100_000 != key / 100_000 {
            eprintln!("  {key} stories, {:.1} s", started.elapsed().as_secs_f64());
        }
    }
    if let Err(e) = store.flush() {
        eprintln!("gen_store: {e}");
        return ExitCode::FAILURE;
    }
    println!(
        "gen_store: {} stories in {} over {days} days in {:.1} s",
        store.story_count(),
        dir,
        started.elapsed().as_secs_f64()
    );
    ExitCode::SUCCESS
}
