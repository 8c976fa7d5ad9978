//! The read path of a topic: the keys of its index in the store, its items for a view
//! (from the index when complete, else a window scan), the rendered views, which summary a
//! story shows, and the health report that says which topics are served from their index.

pub(crate) mod health;
pub mod index;
#[cfg(test)]
mod index_tests;
pub(crate) mod items;
pub(crate) mod llm_summaries;
pub mod semantic;
pub mod views;
