//! Attachment storage behind one interface, [`FileStore`]. Local disk ([`LocalDisk`]) is the
//! default; an S3-compatible store can implement the same trait later.
//!
//! An upload streams chunk by chunk into a temporary file while its SHA-256 is computed; the file
//! is never held whole in memory. The first bytes are checked against the expected type as soon
//! as they arrive, and the size against the limit at every chunk, so a wrong or oversized file
//! is refused without reading the rest into storage. A finished upload is flushed to disk and
//! renamed into place, so a stored object is always complete. Keys are generated here; nothing
//! a user sends ever becomes part of a path.

use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::domain::account::Invalid;
use crate::domain::attachment::{FileKind, SNIFF_BYTES, check_content};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
pub type ByteStream<'a> = Pin<Box<dyn Stream<Item = io::Result<Bytes>> + Send + 'a>>;

/// A stored object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// Where the object lives, opaque to callers.
    pub key: String,
    pub size: u64,
    /// Lower-case hex.
    pub sha256: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PutError {
    /// The content is not what was expected (empty, or the wrong type).
    #[error("refused: {0}")]
    Refused(Invalid),
    /// More than the limit arrived.
    #[error("larger than {limit} bytes")]
    TooLarge { limit: u64 },
    /// Reading the request failed (the client went away).
    #[error("reading the upload failed: {0}")]
    Body(io::Error),
    /// Writing to storage failed.
    #[error("storage failed: {0}")]
    Storage(io::Error),
}

/// Where attachments are kept.
pub trait FileStore: Send + Sync + 'static {
    /// Streams `body` into a new object, checking the content against `kind` (reported as
    /// `field`) and the size against `limit`. On any error nothing is left behind.
    fn put<'a>(
        &'a self,
        body: ByteStream<'a>,
        kind: FileKind,
        field: &'static str,
        limit: u64,
    ) -> BoxFuture<'a, Result<Stored, PutError>>;

    /// Opens an object for reading.
    fn open<'a>(&'a self, key: &'a str) -> BoxFuture<'a, io::Result<tokio::fs::File>>;

    /// Removes an object; a missing object is not an error.
    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, io::Result<()>>;

    /// The object's path on this machine, for checks that need to seek (the Office check).
    fn local_path(&self, key: &str) -> Option<PathBuf>;
}

/// Objects as files under one folder: `objects/<2 hex>/<uuid>`, with uploads in progress under
/// `tmp/`.
#[derive(Debug, Clone)]
pub struct LocalDisk {
    root: PathBuf,
}

impl LocalDisk {
    /// Creates the folders when missing.
    pub fn open_dir(root: &Path) -> io::Result<LocalDisk> {
        std::fs::create_dir_all(root.join("tmp"))?;
        std::fs::create_dir_all(root.join("objects"))?;
        Ok(LocalDisk {
            root: root.to_owned(),
        })
    }

    /// Uploads left in `tmp/` by a crash; safe to remove at start.
    pub fn sweep_tmp(&self) -> io::Result<usize> {
        let mut n = 0;
        for entry in std::fs::read_dir(self.root.join("tmp"))? {
            let entry = entry?;
            if entry.file_type()?.is_file() {
                std::fs::remove_file(entry.path())?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Only keys this store made are accepted: `<2 hex>/<uuid>`.
    fn path_of(&self, key: &str) -> Option<PathBuf> {
        let (dir, name) = key.split_once('/')?;
        let ok = dir.len() == 2
            && dir.bytes().all(|b| b.is_ascii_hexdigit())
            && uuid::Uuid::parse_str(name).is_ok();
        ok.then(|| self.root.join("objects").join(dir).join(name))
    }

    async fn write_stream(
        &self,
        mut body: ByteStream<'_>,
        kind: FileKind,
        field: &'static str,
        limit: u64,
        tmp: &Path,
    ) -> Result<(u64, String), PutError> {
        let mut file = tokio::fs::File::create(tmp)
            .await
            .map_err(PutError::Storage)?;
        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        // The first bytes, kept until the type is known.
        let mut prefix: Vec<u8> = Vec::with_capacity(SNIFF_BYTES);
        let mut checked = false;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(PutError::Body)?;
            size = size.saturating_add(chunk.len() as u64);
            if size > limit {
                return Err(PutError::TooLarge { limit });
            }
            if !checked {
                let take = (SNIFF_BYTES - prefix.len()).min(chunk.len());
                prefix.extend_from_slice(&chunk[..take]);
                if prefix.len() >= SNIFF_BYTES {
                    check_content(field, kind, &prefix).map_err(PutError::Refused)?;
                    checked = true;
                }
            }
            hasher.update(&chunk);
            file.write_all(&chunk).await.map_err(PutError::Storage)?;
        }
        if !checked {
            check_content(field, kind, &prefix).map_err(PutError::Refused)?;
        }
        file.flush().await.map_err(PutError::Storage)?;
        file.sync_all().await.map_err(PutError::Storage)?;
        Ok((size, hex::encode(hasher.finalize())))
    }
}

impl FileStore for LocalDisk {
    fn put<'a>(
        &'a self,
        body: ByteStream<'a>,
        kind: FileKind,
        field: &'static str,
        limit: u64,
    ) -> BoxFuture<'a, Result<Stored, PutError>> {
        Box::pin(async move {
            let id = uuid::Uuid::now_v7();
            let tmp = self.root.join("tmp").join(format!("{id}.part"));
            let written = self.write_stream(body, kind, field, limit, &tmp).await;
            let (size, sha256) = match written {
                Ok(w) => w,
                Err(e) => {
                    let _ = tokio::fs::remove_file(&tmp).await;
                    return Err(e);
                }
            };
            // The last hex digits of a v7 id are random, so objects spread over the folders.
            let simple = id.simple().to_string();
            let key = format!("{}/{id}", &simple[simple.len() - 2..]);
            let dest = self
                .path_of(&key)
                .ok_or_else(|| PutError::Storage(io::Error::other("bad key")))?;
            let result = async {
                if let Some(dir) = dest.parent() {
                    tokio::fs::create_dir_all(dir).await?;
                }
                tokio::fs::rename(&tmp, &dest).await?;
                if let Some(dir) = dest.parent() {
                    // Make the rename itself durable.
                    tokio::fs::File::open(dir).await?.sync_all().await?;
                }
                Ok::<(), io::Error>(())
            }
            .await;
            if let Err(e) = result {
                // Whichever step failed, neither path may keep a file.
                let _ = tokio::fs::remove_file(&tmp).await;
                let _ = tokio::fs::remove_file(&dest).await;
                return Err(PutError::Storage(e));
            }
            Ok(Stored { key, size, sha256 })
        })
    }

    fn open<'a>(&'a self, key: &'a str) -> BoxFuture<'a, io::Result<tokio::fs::File>> {
        Box::pin(async move {
            let path = self
                .path_of(key)
                .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "unknown key"))?;
            tokio::fs::File::open(path).await
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, io::Result<()>> {
        Box::pin(async move {
            let Some(path) = self.path_of(key) else {
                return Ok(());
            };
            match tokio::fs::remove_file(path).await {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            }
        })
    }

    fn local_path(&self, key: &str) -> Option<PathBuf> {
        self.path_of(key)
    }
}

/// Reads and drops what is left of a refused upload, up to a few MiB, so that a client still
/// sending gets to read the refusal instead of a reset connection. A larger remainder is cut off
/// (the connection then closes).
pub async fn discard_rest(stream: &mut ByteStream<'_>) {
    const MAX_DISCARD: u64 = 8 * 1024 * 1024;
    let mut discarded = 0u64;
    while discarded < MAX_DISCARD {
        match tokio::time::timeout(std::time::Duration::from_secs(5), stream.next()).await {
            Ok(Some(Ok(chunk))) => discarded += chunk.len() as u64,
            _ => break,
        }
    }
}

/// For Office files: does the ZIP's directory list the part such a document must hold? Reads the
/// directory at the end of the file only; nothing is unpacked. Blocking: call it from
/// `spawn_blocking`.
pub fn zip_has_part(path: &Path, part: &str) -> bool {
    let Ok(mut file) = std::fs::File::open(path) else {
        return false;
    };
    // The directory is parsed into memory, so its size is checked first from the end record.
    if !zip_directory_is_small(&mut file) {
        return false;
    }
    match zip::ZipArchive::new(std::io::BufReader::new(file)) {
        Ok(archive) => archive.index_for_name(part).is_some(),
        Err(_) => false,
    }
}

/// Most entries and directory bytes an Office file may list; real documents hold hundreds.
const MAX_ZIP_ENTRIES: u64 = 10_000;
const MAX_ZIP_DIRECTORY: u64 = 2 * 1024 * 1024;

/// Reads the end-of-central-directory record (in the last 64 KiB) and checks the directory's
/// entry count and size. ZIP64 archives (not needed for Office files of this size) are refused.
fn zip_directory_is_small(file: &mut std::fs::File) -> bool {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(len) = file.seek(SeekFrom::End(0)) else {
        return false;
    };
    let tail_len = len.min(65_536 + 22);
    let mut tail = vec![0u8; usize::try_from(tail_len).unwrap_or(0)];
    if file.seek(SeekFrom::End(-(tail_len as i64))).is_err() || file.read_exact(&mut tail).is_err()
    {
        return false;
    }
    let _ = file.seek(SeekFrom::Start(0));
    let Some(at) = tail.windows(4).rposition(|w| w == b"PK\x05\x06") else {
        return false;
    };
    let eocd = &tail[at..];
    if eocd.len() < 22 {
        return false;
    }
    let entries = u64::from(u16::from_le_bytes([eocd[10], eocd[11]]));
    let size = u64::from(u32::from_le_bytes([eocd[12], eocd[13], eocd[14], eocd[15]]));
    entries != 0xFFFF
        && size != 0xFFFF_FFFF
        && entries <= MAX_ZIP_ENTRIES
        && size <= MAX_ZIP_DIRECTORY
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(chunks: Vec<&'static [u8]>) -> ByteStream<'static> {
        Box::pin(futures_util::stream::iter(
            chunks.into_iter().map(|c| Ok(Bytes::from_static(c))),
        ))
    }

    fn files_in(dir: &Path) -> usize {
        walk(dir)
    }

    fn walk(dir: &Path) -> usize {
        std::fs::read_dir(dir)
            .map(|rd| {
                rd.flatten()
                    .map(|e| {
                        if e.path().is_dir() {
                            walk(&e.path())
                        } else {
                            1
                        }
                    })
                    .sum()
            })
            .unwrap_or(0)
    }

    #[tokio::test]
    async fn stores_hashes_and_reads_back() {
        let dir = tempfile::tempdir().expect("dir");
        let disk = LocalDisk::open_dir(dir.path()).expect("open");
        let stored = disk
            .put(
                stream(vec![b"%PDF-1.7\n", b"rest"]),
                FileKind::Pdf,
                "file",
                100,
            )
            .await
            .expect("stored");
        assert_eq!(stored.size, 13);
        assert_eq!(
            stored.sha256,
            hex::encode(Sha256::digest(b"%PDF-1.7\nrest"))
        );
        let path = disk.local_path(&stored.key).expect("path");
        assert_eq!(std::fs::read(path).expect("read"), b"%PDF-1.7\nrest");
        assert_eq!(files_in(&dir.path().join("tmp")), 0);
        disk.delete(&stored.key).await.expect("delete");
        assert_eq!(files_in(dir.path()), 0);
    }

    #[tokio::test]
    async fn refusals_leave_nothing_behind() {
        let dir = tempfile::tempdir().expect("dir");
        let disk = LocalDisk::open_dir(dir.path()).expect("open");
        let big = disk
            .put(
                stream(vec![b"%PDF-", b"0123456789"]),
                FileKind::Pdf,
                "file",
                8,
            )
            .await;
        assert!(matches!(big, Err(PutError::TooLarge { limit: 8 })));
        let wrong = disk
            .put(
                stream(vec![b"\x89PNG\r\n\x1a\n"]),
                FileKind::Pdf,
                "file",
                100,
            )
            .await;
        assert!(matches!(wrong, Err(PutError::Refused(_))));
        let empty = disk.put(stream(vec![]), FileKind::Pdf, "file", 100).await;
        assert!(matches!(empty, Err(PutError::Refused(_))));
        assert_eq!(files_in(dir.path()), 0);
    }

    #[test]
    fn huge_zip_directories_are_refused_before_parsing() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("x.docx");
        // An end record that claims 60,000 entries.
        let mut bytes = b"PK\x03\x04".to_vec();
        bytes.extend_from_slice(b"PK\x05\x06\0\0\0\0");
        bytes.extend_from_slice(&60_000u16.to_le_bytes());
        bytes.extend_from_slice(&60_000u16.to_le_bytes());
        bytes.extend_from_slice(&1_000u32.to_le_bytes());
        bytes.extend_from_slice(&4u32.to_le_bytes());
        bytes.extend_from_slice(&[0, 0]);
        std::fs::write(&path, &bytes).expect("write");
        let mut f = std::fs::File::open(&path).expect("open");
        assert!(!zip_directory_is_small(&mut f));
        assert!(!zip_has_part(&path, "word/document.xml"));
        // Not a ZIP at all.
        std::fs::write(&path, b"%PDF-1.7").expect("write");
        assert!(!zip_has_part(&path, "word/document.xml"));
    }

    #[test]
    fn only_generated_keys_reach_the_disk() {
        let disk = LocalDisk {
            root: PathBuf::from("/srv/up"),
        };
        assert!(disk.path_of("../etc/passwd").is_none());
        assert!(disk.path_of("ab/../../x").is_none());
        assert!(
            disk.path_of("zz/0190f0e0-0000-7000-8000-000000000000")
                .is_none()
        );
        assert_eq!(
            disk.path_of("ab/0190f0e0-0000-7000-8000-000000000000"),
            Some(PathBuf::from(
                "/srv/up/objects/ab/0190f0e0-0000-7000-8000-000000000000"
            ))
        );
    }
}
