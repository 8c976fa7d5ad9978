//! `ModelError`: why the model could not be loaded, always naming the file at fault.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("{}: missing (run scripts/fetch-model.sh, or set FEEDSIFT_MODEL_DIR to a directory holding all-MiniLM-L6-v2)", path.display())]
    Missing { path: PathBuf },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is there but its content is unusable: truncated, corrupt, a tensor missing or
    /// of the wrong shape, a config this engine does not implement.
    #[error("{}: {problem}", path.display())]
    Invalid { path: PathBuf, problem: String },
    #[error("downloading {url}: {problem}")]
    Download { url: String, problem: String },
    #[error("{}: sha256 is {found}, expected {expected} (corrupt or wrong file; fetch it again)", path.display())]
    HashMismatch {
        path: PathBuf,
        found: String,
        expected: &'static str,
    },
}

impl ModelError {
    pub(crate) fn invalid(path: &Path, problem: impl Into<String>) -> Self {
        ModelError::Invalid {
            path: path.to_path_buf(),
            problem: problem.into(),
        }
    }

    /// A missing file is reported as such (with the fetch hint), anything else as I/O.
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        if source.kind() == std::io::ErrorKind::NotFound {
            ModelError::Missing {
                path: path.to_path_buf(),
            }
        } else {
            ModelError::Io {
                path: path.to_path_buf(),
                source,
            }
        }
    }
}
