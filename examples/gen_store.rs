//! Builds a feedsift store with N synthetic stories spread over a time span, through the
//! library's own write path (`Candidate::from_sighting` + `Store::apply`, 1000 per batch),
//! for `scripts/bench-scale.sh` and `scripts/bench-serve.sh`. Fetching a million stories over
//! HTTP would take too long.
//!
//! Usage: cargo run --release --example gen_store -- DIR STORIES [DAYS] [SUMMARY_WORDS]
//!   DAYS (default 365): stories are published uniformly over the last DAYS days
//!   SUMMARY_WORDS (default 60): word budget of each story's summary

#[path = "../benches/common/mod.rs"]
mod common;

use chrono::Utc;
use feedsift::store::SourceState;
use feedsift::store::Store;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

const BATCH: u64 = 1000;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |i: usize, default: u64| -> Option<u64> {
        args.get(i)
            .map_or(Some(default), |a| a.replace('_', "").parse().ok())
    };
    let (Some(dir), Some(Some(stories)), Some(days), Some(words)) = (
        args.first().map(PathBuf::from),
        args.get(1).map(|a| a.replace('_', "").parse::<u64>().ok()),
        number(2, 365),
        number(3, 60),
    ) else {
        eprintln!("usage: gen_store DIR STORIES [DAYS] [SUMMARY_WORDS]");
        return ExitCode::from(2);
    };
    let store = match Store::open(&dir) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("gen_store: {e}");
            return ExitCode::FAILURE;
        }
    };
    let started = Instant::now();
    let newest = Utc::now();
    let mut rng = common::Rng::new(stories ^ days);
    let mut key = 0;
    while key < stories {
        let end = (key + BATCH).min(stories);
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
        key = end;
        if key % 100_000 == 0 {
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
        dir.display(),
        started.elapsed().as_secs_f64()
    );
    ExitCode::SUCCESS
}
