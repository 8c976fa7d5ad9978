//! feedsift's integration tests, one binary.

mod support;

mod articles;
mod cli_check;
mod cli_operator;
mod corpus_feeds;
mod corpus_sites;
mod crash_safety;
mod feeds;
mod fetch_failures;
mod hostile;
mod indexes;
mod reload;
mod serving;
mod sites;
