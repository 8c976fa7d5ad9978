//! Adapter for the devto listing (placeholder until the site adapters land).

use super::{Parsed, SourceContext, SourceError};

pub fn parse(_ctx: &SourceContext, _body: &[u8]) -> Result<Parsed, SourceError> {
    Err(SourceError::Invalid {
        format: "devto",
        message: "not supported yet".into(),
    })
}
