//! Static export: every topic's feeds, page and embed, the index and the OPML, written as
//! files holding exactly the bytes the server sends, for any static host. A file whose bytes
//! did not change is not rewritten (its mtime stays), so syncing tools see only real changes.

use crate::config::Config;
use crate::render::Format;
use crate::topics::views::{self, View};
use std::io::Write;
use std::path::{Path, PathBuf};

/// One file of the export and the server path it mirrors.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ExportFile {
    /// Relative to the output directory.
    pub file: PathBuf,
    pub server_path: String,
    pub view: Option<(String, View)>,
}

/// Every file an export writes, in a stable order.
pub(crate) fn plan(config: &Config) -> Vec<ExportFile> {
    let mut files = vec![
        ExportFile {
            file: "index.html".into(),
            server_path: "/".into(),
            view: None,
        },
        ExportFile {
            file: "opml.xml".into(),
            server_path: "/opml".into(),
            view: None,
        },
    ];
    for topic in &config.topics {
        let slug = &topic.slug;
        for format in [Format::Rss, Format::Atom, Format::JsonFeed] {
            files.push(ExportFile {
                file: format!("t/{slug}.{}", format.extension()).into(),
                server_path: format!("/t/{slug}.{}", format.extension()),
                view: Some((slug.clone(), View::Feed(format))),
            });
        }
        files.push(ExportFile {
            file: format!("t/{slug}/index.html").into(),
            server_path: format!("/t/{slug}"),
            view: Some((slug.clone(), View::Page)),
        });
        files.push(ExportFile {
            file: format!("t/{slug}/embed/index.html").into(),
            server_path: format!("/t/{slug}/embed"),
            view: Some((slug.clone(), View::Embed)),
        });
    }
    files
}

/// The bytes of one planned file, rendered from the store.
pub(crate) fn render_local(
    config: &Config,
    store: &crate::store::Store,
    file: &ExportFile,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<u8>, crate::store::StoreError> {
    match &file.view {
        None if file.server_path == "/" => Ok(views::render_index(config)),
        None => Ok(views::render_opml(config)),
        Some((slug, view)) => match config.topic(slug) {
            Some(topic) => {
                views::render_topic(config, store, topic, *view, "", now).map(|r| r.bytes)
            }
            None => Ok(Vec::new()),
        },
    }
}

/// Writes `bytes` to `dir/file` unless the file already holds exactly them. Returns whether
/// it wrote. Writes go through a temporary file and a rename, so readers never see half.
pub(crate) fn write_if_changed(dir: &Path, file: &Path, bytes: &[u8]) -> std::io::Result<bool> {
    let path = dir.join(file);
    if std::fs::read(&path).is_ok_and(|old| old == bytes) {
        return Ok(false);
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let tmp = path.with_extension("feedsift-tmp");
    let mut out = std::fs::File::create(&tmp)?;
    out.write_all(bytes)?;
    out.sync_all()?;
    std::fs::rename(&tmp, &path)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unchanged_files_are_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        assert!(write_if_changed(dir.path(), Path::new("t/a.rss"), b"one").unwrap());
        let mtime = std::fs::metadata(dir.path().join("t/a.rss"))
            .unwrap()
            .modified()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(!write_if_changed(dir.path(), Path::new("t/a.rss"), b"one").unwrap());
        assert_eq!(
            std::fs::metadata(dir.path().join("t/a.rss"))
                .unwrap()
                .modified()
                .unwrap(),
            mtime
        );
        assert!(write_if_changed(dir.path(), Path::new("t/a.rss"), b"two").unwrap());
        assert_eq!(std::fs::read(dir.path().join("t/a.rss")).unwrap(), b"two");
    }
}
