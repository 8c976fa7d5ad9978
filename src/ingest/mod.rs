//! One poll of one source: fetch with the stored validators, parse with the kind's adapter,
//! normalize, merge into the store, and record the source's fetch state on every path.

pub(crate) mod articles;
pub mod hosts;
pub(crate) mod llm_summaries;
pub(crate) mod schedule;

use crate::config::Config;
use crate::fetch::{FetchError, FetchSettings, Fetched, Fetcher};
use crate::normalize::Candidate;
use crate::sources::{self, SourceConfig, SourceContext};
use crate::store::{ApplyReport, Queue, SourceState, Store};
use chrono::Utc;
use hosts::HostLimits;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};
use url::Url;

#[derive(Debug)]
pub enum PollOutcome {
    Stored { report: ApplyReport, skipped: usize },
    NotModified,
    Failed(String),
}

impl PollOutcome {
    /// A short name for metrics: `stored`, `not_modified` or `failed`.
    pub fn label(&self) -> &'static str {
        match self {
            PollOutcome::Stored { .. } => "stored",
            PollOutcome::NotModified => "not_modified",
            PollOutcome::Failed(_) => "failed",
        }
    }
}

#[derive(Debug)]
pub struct PollReport {
    pub source_id: String,
    pub outcome: PollOutcome,
    pub status: Option<u16>,
    pub bytes: usize,
    pub duration: Duration,
    /// When this source should be polled next.
    pub next_in: Duration,
}

impl std::fmt::Display for PollReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms = self.duration.as_millis();
        let status = self
            .status
            .map_or_else(|| "---".to_string(), |s| s.to_string());
        match &self.outcome {
            PollOutcome::Stored { report, skipped } => write!(
                f,
                "{:<24} {status} ok        {} new, {} updated, {} unchanged, {} skipped  {} bytes  {ms} ms",
                self.source_id, report.new, report.updated, report.unchanged, skipped, self.bytes
            ),
            PollOutcome::NotModified => write!(f, "{:<24} {status} unchanged  (not modified)  {ms} ms", self.source_id),
            PollOutcome::Failed(e) => write!(f, "{:<24} {status} FAILED    {e}  {ms} ms", self.source_id),
        }
    }
}

/// What the network and the adapter produced, before anything is written.
enum Step {
    NotModified,
    Parsed {
        candidates: Vec<Candidate>,
        skipped: usize,
    },
    Failed(String),
}

/// Polls sources into the store.
#[derive(Clone)]
pub struct Ingester {
    store: Store,
    fetcher: Fetcher,
    settings: PollSettings,
    /// Fetches in flight per host, shared by everything that fetches.
    hosts: HostLimits,
    /// Sources some `content = "full"` topic reads: only their HTML is sanitized and kept.
    full_content_sources: Arc<HashSet<String>>,
}

/// Everything of the config a poll depends on besides its source and whether its HTML is
/// kept: what `Ingester::new` reads, so a poller started with other settings is restarted.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PollSettings {
    pub(crate) fetch: FetchSettings,
    pub(crate) summary_words: usize,
    /// Entries of one response kept, newest first.
    pub(crate) max_entries: usize,
}

impl PollSettings {
    pub(crate) fn of(config: &Config) -> PollSettings {
        PollSettings {
            fetch: fetch_settings(config),
            summary_words: config.defaults.summary_words,
            max_entries: config.defaults.max_entries,
        }
    }
}

impl Ingester {
    pub fn new(config: &Config, store: Store, hosts: HostLimits) -> Result<Ingester, FetchError> {
        // Writes queue stories for the article worker while some topic reads articles.
        store.set_queueing(Queue::Articles, config.reads_articles());
        // ... and for the embedding chore while some topic has `[topic.about]`.
        store.set_queueing(Queue::Embeddings, config.uses_about());
        // ... and for the language model while some topic has `summaries = "llm"`.
        store.set_queueing(Queue::LlmSummaries, config.uses_llm());
        let settings = PollSettings::of(config);
        Ok(Ingester {
            store,
            fetcher: Fetcher::new(settings.fetch.clone())?,
            settings,
            hosts,
            full_content_sources: Arc::new(config.full_content_sources()),
        })
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub(crate) fn settings(&self) -> &PollSettings {
        &self.settings
    }

    /// Polls `source` once. Never fails: a failure is recorded in the source's state and
    /// reported; stored stories are untouched.
    pub async fn poll(&self, source: &SourceConfig) -> PollReport {
        let started = Instant::now();
        let now = Utc::now();
        let mut state = self
            .store
            .source_state(&source.id)
            .ok()
            .flatten()
            .unwrap_or_default();
        state.last_attempt = Some(now);
        // The per-host slot covers the request only: parsing and storing need no politeness.
        let slot = self
            .hosts
            .acquire(source.url.host_str().unwrap_or_default())
            .await;
        let fetched = self
            .fetcher
            .get(
                &source.url,
                state.etag.as_deref(),
                state.last_modified.as_deref(),
            )
            .await;
        drop(slot);
        let mut retry_after = None;
        let mut hint = None;
        let (step, status, bytes) = match fetched {
            Ok(Fetched::NotModified {
                etag,
                last_modified,
                moved_to,
            }) => {
                keep_validators(&mut state, etag, last_modified);
                state.moved_to = moved_to.map(String::from);
                (Step::NotModified, Some(304), 0)
            }
            Ok(Fetched::Body(body)) => {
                state.moved_to = body.moved_to.as_ref().map(Url::to_string);
                let bytes = body.bytes.len();
                // Parsing and normalizing are CPU work: off the async threads, which serve.
                let this = self.clone();
                let owned = source.clone();
                let final_url = body.final_url.clone();
                let body_bytes = body.bytes;
                let parsed = tokio::task::spawn_blocking(move || {
                    let ctx = SourceContext {
                        source: &owned,
                        url: &final_url,
                        fetched_at: now,
                        max_entries: this.settings.max_entries,
                    };
                    sources::parse(&ctx, &body_bytes)
                        .map(|parsed| (parsed.ttl, this.normalize(parsed)))
                })
                .await;
                let step = match parsed {
                    Ok(Ok((ttl, step))) => {
                        // Validators are kept only for bytes we could use: a body we failed
                        // to parse must be fetched again, not answered with 304 forever.
                        keep_validators(&mut state, body.etag.clone(), body.last_modified.clone());
                        hint = ttl.max(body.max_age);
                        step
                    }
                    Ok(Err(e)) => Step::Failed(format!("{e}")),
                    Err(e) => Step::Failed(format!("parse task failed: {e}")),
                };
                (step, Some(body.status), bytes)
            }
            Err(e) => {
                if let FetchError::Status { retry_after: r, .. } = &e {
                    retry_after = *r;
                }
                (Step::Failed(e.to_string()), e.status(), 0)
            }
        };
        let failures = match step {
            Step::Failed(_) => state.consecutive_failures.saturating_add(1),
            _ => 0,
        };
        let next_in = schedule::next_delay(
            schedule::hinted_interval(source.poll, hint),
            failures,
            retry_after,
            schedule::jitter_seed(&source.id),
        );
        state.consecutive_failures = failures;
        state.last_status = status;
        state.next_poll = chrono::Duration::from_std(next_in).ok().map(|d| now + d);
        match &step {
            Step::Failed(e) => state.last_error = Some(e.clone()),
            _ => {
                state.last_error = None;
                state.last_success = Some(now);
            }
        }
        let outcome = self.record(&source.id, step, state).await;
        let report = PollReport {
            source_id: source.id.clone(),
            outcome,
            status,
            bytes,
            duration: started.elapsed(),
            next_in,
        };
        log(&report, source);
        report
    }

    /// Normalizes the newest `max_entries` sightings of one response; the rest are skipped
    /// (a feed of 74k items is a mistake or an attack, and older items are the least use).
    /// The XML feed adapter already cut such a response before parsing it (`Parsed::unread`);
    /// this cut holds for every adapter.
    fn normalize(&self, parsed: sources::Parsed) -> Step {
        let mut sightings = parsed.sightings;
        let mut skipped = parsed.skipped.len() + parsed.unread;
        if sightings.len() > self.settings.max_entries {
            // Undated entries count as new: they are stamped with the fetch time.
            sightings.sort_by_key(|s| std::cmp::Reverse(s.published.unwrap_or(s.fetched_at)));
            skipped += sightings.len() - self.settings.max_entries;
            sightings.truncate(self.settings.max_entries);
        }
        let mut candidates = Vec::with_capacity(sightings.len());
        for sighting in sightings {
            let keep_html = self.full_content_sources.contains(&sighting.source);
            match Candidate::from_sighting(sighting, self.settings.summary_words, keep_html) {
                Ok(c) => candidates.push(c),
                Err(_) => skipped += 1,
            }
        }
        Step::Parsed {
            candidates,
            skipped,
        }
    }

    /// Writes the stories (if any) with the state; a store failure turns into a failed poll.
    async fn record(&self, source_id: &str, step: Step, state: SourceState) -> PollOutcome {
        let store = self.store.clone();
        let id = source_id.to_string();
        let result = tokio::task::spawn_blocking(move || match step {
            Step::Failed(e) => store
                .put_source_state(&id, &state)
                .map(|_| PollOutcome::Failed(e)),
            Step::NotModified => store
                .put_source_state(&id, &state)
                .map(|_| PollOutcome::NotModified),
            Step::Parsed {
                candidates,
                skipped,
            } => store
                .apply(&candidates, &id, &state)
                .map(|report| PollOutcome::Stored { report, skipped }),
        })
        .await;
        match result {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(e)) => PollOutcome::Failed(e.to_string()),
            Err(e) => PollOutcome::Failed(format!("store task failed: {e}")),
        }
    }
}

/// Validators are replaced only by new ones: a server that stops sending them keeps ours.
fn keep_validators(state: &mut SourceState, etag: Option<String>, last_modified: Option<String>) {
    if etag.is_some() {
        state.etag = etag;
    }
    if last_modified.is_some() {
        state.last_modified = last_modified;
    }
}

fn log(report: &PollReport, source: &SourceConfig) {
    let ms = report.duration.as_millis() as u64;
    match &report.outcome {
        PollOutcome::Stored { report: r, skipped } => tracing::info!(
            source = %report.source_id, url = %source.url, status = report.status, bytes = report.bytes,
            new = r.new, updated = r.updated, unchanged = r.unchanged, skipped, ms, "fetched"
        ),
        PollOutcome::NotModified => {
            tracing::info!(source = %report.source_id, url = %source.url, status = 304, ms, "not modified")
        }
        PollOutcome::Failed(e) => tracing::warn!(
            source = %report.source_id, url = %source.url, status = report.status, ms, error = %e, "fetch failed"
        ),
    }
}

/// The HTTP client every fetch of `config` uses.
pub(crate) fn fetcher(config: &Config) -> Result<Fetcher, FetchError> {
    Fetcher::new(fetch_settings(config))
}

fn fetch_settings(config: &Config) -> FetchSettings {
    FetchSettings {
        user_agent: config.defaults.user_agent.clone(),
        timeout: config.defaults.timeout,
        max_body: config.defaults.max_body,
        allow_private_networks: config.defaults.allow_private_networks,
    }
}
