//! What the integration tests share.
#![allow(dead_code)]

pub mod bad_upstream;
pub mod upstream;
pub mod xml;

pub use upstream::*;
