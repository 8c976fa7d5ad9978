//! The one error type of the HTTP server: each variant is a status, and the message is the
//! plain-text body a client reads.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Internal(String),
    #[error("{0}")]
    Unavailable(String),
}

impl Error {
    pub(crate) fn unknown_topic(slug: &str) -> Error {
        Error::NotFound(format!(
            "unknown topic {slug:?}: see / for the list of topics"
        ))
    }

    fn status(&self) -> StatusCode {
        match self {
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl From<crate::store::StoreError> for Error {
    fn from(e: crate::store::StoreError) -> Error {
        Error::Internal(e.to_string())
    }
}

/// A blocking task that panicked or was cancelled: `what` failed.
pub(crate) fn task_failed(what: &str, e: tokio::task::JoinError) -> Error {
    Error::Internal(format!("{what} failed: {e}"))
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        (
            self.status(),
            [
                (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            format!("{self}\n"),
        )
            .into_response()
    }
}
