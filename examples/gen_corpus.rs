//! Writes a synthetic corpus for `scripts/bench-ingest.sh`: FEEDS listings of ENTRIES items
//! each, cycling through every source kind (RSS, Atom, JSON Feed, Hacker News, Reddit,
//! Lobsters, Dev.to), with article URLs drawn from a shared pool so about one entry in five
//! repeats a story another listing also has (under another tracking parameter or host form).
//! Prints the `[[source]]` tables that poll them from BASE_URL.
//!
//! Usage: cargo run --release --example gen_corpus -- DIR FEEDS ENTRIES BASE_URL > sources.toml

#[path = "../benches/common/mod.rs"]
mod common;

use chrono::Utc;
use common::{Kind, Rng};
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(dir), Some(Ok(feeds)), Some(Ok(entries)), Some(base)) = (
        args.first().map(PathBuf::from),
        args.get(1).map(|a| a.parse::<u64>()),
        args.get(2).map(|a| a.parse::<usize>()),
        args.get(3),
    ) else {
        eprintln!("usage: gen_corpus DIR FEEDS ENTRIES BASE_URL");
        return ExitCode::from(2);
    };
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("gen_corpus: {}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    let mut rng = Rng::new(feeds * 1_000 + entries as u64);
    // Drawing N*M URLs from a pool twice that size repeats about one in five.
    let pool = 2 * feeds * entries as u64;
    let newest = Utc::now().timestamp();
    let mut bytes = 0;
    for i in 0..feeds {
        let kind = Kind::ALL[(i % Kind::ALL.len() as u64) as usize];
        let items = common::items(&mut rng, entries, 0..pool.max(1), newest, 7 * 86_400);
        let body = kind.listing(&items);
        let ext = match kind {
            Kind::Rss | Kind::Atom => "xml",
            _ => "json",
        };
        let name = format!("{i:04}-{}.{ext}", kind.name());
        if let Err(e) = std::fs::write(dir.join(&name), &body) {
            eprintln!("gen_corpus: {name}: {e}");
            return ExitCode::FAILURE;
        }
        bytes += body.len();
        let id = format!("s{i:04}-{}", kind.name());
        println!("{}", kind.source_toml(&id, &format!("{base}/{name}")));
    }
    eprintln!(
        "gen_corpus: {feeds} listings x {entries} entries, {bytes} bytes in {}",
        dir.display()
    );
    ExitCode::SUCCESS
}
