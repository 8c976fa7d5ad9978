//! The optional language model behind `summaries = "llm"`: the chat-completions call
//! (`client`), the messages and the cache key (`prompt`), what makes an answer fit to show
//! (`answer`), and the hourly budget with the worker's backoff (`state`). I/O only in `client`.

pub mod answer;
pub mod client;
pub mod prompt;
pub mod state;

pub use client::{LlmClient, LlmError};
pub use state::LlmState;
