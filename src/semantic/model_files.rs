//! The model's files on disk: their names, the weights' expected sha256, the default cache
//! directory, a status report for `feedsift model status`, a cached hash verification, and
//! a small Hugging Face download for `feedsift model fetch`.

use super::error::ModelError;
use sha2::{Digest, Sha256};
use std::ffi::OsString;
use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

pub const MODEL_NAME: &str = "all-MiniLM-L6-v2";
pub const WEIGHTS_FILE: &str = "model.safetensors";
pub const TOKENIZER_FILE: &str = "tokenizer.json";
pub const CONFIG_FILE: &str = "config.json";
pub const MODEL_FILES: [&str; 3] = [WEIGHTS_FILE, TOKENIZER_FILE, CONFIG_FILE];
/// sha256 of sentence-transformers/all-MiniLM-L6-v2's model.safetensors (also in
/// scripts/fetch-model.sh, which must agree).
pub const MODEL_SHA256: &str = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db";
/// Where the tests look, relative to the repository, when FEEDSIFT_MODEL_DIR is unset
/// (scripts/fetch-model.sh's default destination).
pub const REPO_MODEL_DIR: &str = "target/model/all-MiniLM-L6-v2";
/// Overrides every default location.
pub const MODEL_DIR_ENV: &str = "FEEDSIFT_MODEL_DIR";

/// The model directory for this repository's tests and benches: `FEEDSIFT_MODEL_DIR` when
/// set, else scripts/fetch-model.sh's default under `repo` (pass `env!("CARGO_MANIFEST_DIR")`).
pub fn dev_model_dir(repo: &Path) -> PathBuf {
    match std::env::var_os(MODEL_DIR_ENV) {
        Some(dir) => PathBuf::from(dir),
        None => repo.join(REPO_MODEL_DIR),
    }
}

/// Records a successful hash check, so that verifying 90 MB happens once per file version.
const VERIFIED_STAMP: &str = ".model.safetensors.verified";

/// `$XDG_CACHE_HOME/feedsift/models/all-MiniLM-L6-v2`, else `~/.cache/feedsift/models/…`;
/// `None` without either variable.
pub fn default_cache_dir() -> Option<PathBuf> {
    cache_dir_from(std::env::var_os("XDG_CACHE_HOME"), std::env::var_os("HOME"))
}

fn cache_dir_from(xdg_cache_home: Option<OsString>, home: Option<OsString>) -> Option<PathBuf> {
    // The XDG spec says a relative value is invalid and must be ignored.
    let xdg = xdg_cache_home
        .map(PathBuf::from)
        .filter(|p| p.is_absolute());
    let base = xdg.or_else(|| {
        home.filter(|h| !h.is_empty())
            .map(|h| PathBuf::from(h).join(".cache"))
    })?;
    Some(base.join("feedsift").join("models").join(MODEL_NAME))
}

/// What `check` found for one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileStatus {
    pub name: &'static str,
    /// `None` when the file is missing.
    pub size: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WeightsHash {
    Matches,
    Differs {
        found: String,
    },
    /// The weights file is missing or unreadable.
    Unknown,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    pub dir: PathBuf,
    pub files: Vec<FileStatus>,
    pub weights_hash: WeightsHash,
}

impl Status {
    /// Every file present and the weights are the expected ones.
    pub fn is_complete(&self) -> bool {
        self.files.iter().all(|f| f.size.is_some()) && self.weights_hash == WeightsHash::Matches
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{MODEL_NAME} in {}", self.dir.display())?;
        for file in &self.files {
            match file.size {
                Some(size) => writeln!(f, "  {:<18} {size} bytes", file.name)?,
                None => writeln!(f, "  {:<18} missing", file.name)?,
            }
        }
        match &self.weights_hash {
            WeightsHash::Matches => write!(f, "  sha256 of {WEIGHTS_FILE}: ok"),
            WeightsHash::Differs { found } => write!(
                f,
                "  sha256 of {WEIGHTS_FILE}: {found}, expected {MODEL_SHA256} (fetch it again)"
            ),
            WeightsHash::Unknown => write!(f, "  sha256 of {WEIGHTS_FILE}: not checked"),
        }
    }
}

/// Which files are in `dir`, their sizes, and whether the weights hash to `MODEL_SHA256`
/// (hashed every time: this is the thorough report, `verify` is the cached check).
pub fn check(dir: &Path) -> Status {
    let files = MODEL_FILES
        .iter()
        .map(|&name| FileStatus {
            name,
            size: std::fs::metadata(dir.join(name)).ok().map(|m| m.len()),
        })
        .collect();
    let weights_hash = match sha256_file(&dir.join(WEIGHTS_FILE)) {
        Ok(found) if found == MODEL_SHA256 => WeightsHash::Matches,
        Ok(found) => WeightsHash::Differs { found },
        Err(_) => WeightsHash::Unknown,
    };
    Status {
        dir: dir.to_path_buf(),
        files,
        weights_hash,
    }
}

/// Checks the weights' sha256, skipping the hash when a stamp written by an earlier success
/// still matches the file's size and modification time.
pub fn verify(dir: &Path) -> Result<(), ModelError> {
    let weights = dir.join(WEIGHTS_FILE);
    let fingerprint = fingerprint(&weights)?;
    let stamp_path = dir.join(VERIFIED_STAMP);
    if std::fs::read_to_string(&stamp_path).is_ok_and(|stamp| stamp == fingerprint) {
        return Ok(());
    }
    let found = sha256_file(&weights)?;
    if found != MODEL_SHA256 {
        return Err(ModelError::HashMismatch {
            path: weights,
            found,
            expected: MODEL_SHA256,
        });
    }
    // Only a cache: a read-only model directory just means hashing again next time.
    let _ = std::fs::write(&stamp_path, fingerprint);
    Ok(())
}

/// Size and modification time, with the expected hash so that a stamp from another model
/// version never vouches for this one.
fn fingerprint(path: &Path) -> Result<String, ModelError> {
    let meta = std::fs::metadata(path).map_err(|e| ModelError::io(path, e))?;
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    Ok(format!("{} {modified} {MODEL_SHA256}\n", meta.len()))
}

pub fn sha256_file(path: &Path) -> Result<String, ModelError> {
    let mut file = std::fs::File::open(path).map_err(|e| ModelError::io(path, e))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = file
            .read(&mut buffer)
            .map_err(|e| ModelError::io(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Downloads the three files from the Hugging Face hub into `dir` (for `feedsift model
/// fetch` on a machine with internet access; untested here, where the hub is unreachable).
/// Each file goes to a `.partial` name first and is renamed once complete; the weights
/// only if their sha256 matches.
pub async fn fetch_from_hub(dir: &Path) -> Result<(), ModelError> {
    const HUB: &str = "https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2/resolve/main";
    std::fs::create_dir_all(dir).map_err(|e| ModelError::io(dir, e))?;
    let client = reqwest::Client::new();
    for name in [TOKENIZER_FILE, CONFIG_FILE, WEIGHTS_FILE] {
        let url = format!("{HUB}/{name}");
        let target = dir.join(name);
        let partial = dir.join(format!("{name}.partial"));
        let failed = |problem: String| ModelError::Download {
            url: url.clone(),
            problem,
        };
        let mut response = client
            .get(&url)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| failed(e.to_string()))?;
        let mut file = std::fs::File::create(&partial).map_err(|e| ModelError::io(&partial, e))?;
        let mut hasher = Sha256::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| failed(e.to_string()))? {
            hasher.update(&chunk);
            file.write_all(&chunk)
                .map_err(|e| ModelError::io(&partial, e))?;
        }
        file.sync_all().map_err(|e| ModelError::io(&partial, e))?;
        let found = hex(&hasher.finalize());
        if name == WEIGHTS_FILE && found != MODEL_SHA256 {
            let _ = std::fs::remove_file(&partial);
            return Err(ModelError::HashMismatch {
                path: target,
                found,
                expected: MODEL_SHA256,
            });
        }
        std::fs::rename(&partial, &target).map_err(|e| ModelError::io(&target, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_dir_prefers_an_absolute_xdg_cache_home_then_home() {
        let dir = |xdg: Option<&str>, home: Option<&str>| {
            cache_dir_from(xdg.map(OsString::from), home.map(OsString::from))
        };
        assert_eq!(
            dir(Some("/xdg"), Some("/home/u")),
            Some(PathBuf::from("/xdg/feedsift/models/all-MiniLM-L6-v2"))
        );
        assert_eq!(
            dir(Some("relative"), Some("/home/u")),
            Some(PathBuf::from(
                "/home/u/.cache/feedsift/models/all-MiniLM-L6-v2"
            ))
        );
        assert_eq!(dir(None, Some("")), None);
        assert_eq!(dir(None, None), None);
    }

    #[test]
    fn check_reports_missing_files_and_a_wrong_hash() {
        let dir = tempfile::tempdir().expect("tempdir");
        let status = check(dir.path());
        assert!(status.files.iter().all(|f| f.size.is_none()));
        assert_eq!(status.weights_hash, WeightsHash::Unknown);
        assert!(!status.is_complete());

        std::fs::write(dir.path().join(WEIGHTS_FILE), b"not weights").expect("write");
        let status = check(dir.path());
        assert_eq!(status.files[0].size, Some(11));
        assert!(matches!(status.weights_hash, WeightsHash::Differs { .. }));
        assert!(status.to_string().contains("expected 53aa5117"), "{status}");
        assert!(matches!(
            verify(dir.path()),
            Err(ModelError::HashMismatch { .. })
        ));
        assert!(!dir.path().join(VERIFIED_STAMP).exists());
    }

    #[test]
    fn sha256_of_a_known_input() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("abc");
        std::fs::write(&path, b"abc").expect("write");
        assert_eq!(
            sha256_file(&path).ok().as_deref(),
            Some("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
    }
}
