//! Downloads that are either whole and verified or not there at all.
//!
//! A file is streamed into a `.part` file next to its destination, its length
//! checked against what the server announced and what Koji recorded, and an RPM's
//! header and payload hashed (MD5, Koji's `payloadhash`, the RPM's own `sigmd5`);
//! only then is it renamed into place. So a download that breaks half way or comes
//! back corrupt is never seen under its real name. With a cache directory, verified
//! files are kept there and linked into each run; a cached file is verified again
//! before it is used.

use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use md5::{Digest, Md5};

/// What a downloaded file must be.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expected {
    /// Its length in bytes.
    pub size: Option<u64>,
    /// The MD5 of an RPM's header and payload, hex (Koji's `payloadhash`).
    pub payload_md5: Option<String>,
}

/// Why a download did not produce a file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DownloadError {
    /// The server has no such file (HTTP 404).
    #[error("{url} does not exist on the server (HTTP 404)")]
    NotFound {
        /// What was asked for.
        url: String,
    },
    /// The transfer ended before the whole file arrived.
    #[error("the download of {url} broke off after {got} of {expected} bytes")]
    Incomplete {
        /// What was asked for.
        url: String,
        /// Bytes received.
        got: u64,
        /// Bytes announced or recorded.
        expected: u64,
    },
    /// The file arrived whole but is not what Koji recorded.
    #[error("{url} does not match its checksum: expected {expected}, got {actual}")]
    Checksum {
        /// What was asked for.
        url: String,
        /// The recorded digest.
        expected: String,
        /// The digest of what arrived.
        actual: String,
    },
    /// The server could not be reached or answered an error.
    #[error("cannot download {url}: {reason}")]
    Unreachable {
        /// What was asked for.
        url: String,
        /// What failed.
        reason: String,
    },
    /// The destination leaves the run's directories or passes through a link.
    #[error("{reason}")]
    Refused {
        /// What was refused, and why.
        reason: String,
    },
    /// A local file could not be written.
    #[error("cannot write {path}: {reason}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        reason: String,
    },
}

impl DownloadError {
    /// The failure's name in execution reports and whose problem it is.
    pub fn kind(&self) -> crate::failure::FailureKind {
        use crate::failure::{Cause, FailureKind};
        match self {
            Self::NotFound { .. } => FailureKind::new("DOWNLOAD_NOT_FOUND", Cause::Infrastructure),
            Self::Incomplete { .. } => {
                FailureKind::new("DOWNLOAD_INCOMPLETE", Cause::Infrastructure)
            }
            Self::Checksum { .. } => FailureKind::new("CHECKSUM_MISMATCH", Cause::Infrastructure),
            Self::Unreachable { .. } => FailureKind::new("DOWNLOAD_FAILED", Cause::Infrastructure),
            Self::Io { .. } => FailureKind::new("DOWNLOAD_FAILED", Cause::Infrastructure),
            Self::Refused { .. } => FailureKind::PATH_REFUSED,
        }
    }

    fn worth_retrying(&self) -> bool {
        matches!(self, Self::Incomplete { .. } | Self::Unreachable { .. })
    }
}

/// A downloader with an optional cache.
#[derive(Debug, Clone)]
pub struct Downloader {
    agent: ureq::Agent,
    cache: Option<PathBuf>,
    attempts: u32,
    pause: Duration,
}

/// Where a file came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Downloaded now.
    Network,
    /// Taken from the cache, verified again.
    Cache,
}

impl Downloader {
    /// A downloader whose transfers each end within `timeout` (a stalled server
    /// cannot hang a run), keeping verified files in `cache` when given.
    pub fn new(timeout: Duration, cache: Option<PathBuf>) -> Self {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .timeout_recv_body(Some(timeout.min(Duration::from_secs(60))))
            .http_status_as_error(false)
            .build();
        Self {
            agent: config.into(),
            cache,
            attempts: 3,
            pause: Duration::from_millis(100),
        }
    }

    /// Fetches `url` into `dest` (a file path; its directory is created), verified
    /// against `expected`. A transfer that breaks is tried again, twice.
    ///
    /// # Errors
    /// The file could not be fetched whole and verified; nothing is left at `dest`.
    pub fn fetch(
        &self,
        url: &str,
        expected: &Expected,
        dest: &Path,
    ) -> Result<Source, DownloadError> {
        let io = |path: &Path, e: std::io::Error| DownloadError::Io {
            path: path.to_path_buf(),
            reason: e.to_string(),
        };
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
        }
        let cached = self.cache.as_ref().map(|c| c.join(cache_key(url)));
        if let Some(c) = &cached {
            if verify(c, url, expected).is_ok() {
                place(c, dest).map_err(|e| io(dest, e))?;
                return Ok(Source::Cache);
            }
            let _ = std::fs::remove_file(c);
        }
        let target = cached.as_deref().unwrap_or(dest);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
        }
        let mut last = None;
        for attempt in 0..self.attempts {
            if attempt > 0 {
                std::thread::sleep(self.pause * attempt);
            }
            match self.transfer(url, expected, target) {
                Ok(()) => {
                    if target != dest {
                        place(target, dest).map_err(|e| io(dest, e))?;
                    }
                    return Ok(Source::Network);
                }
                Err(e) if e.worth_retrying() => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| DownloadError::Unreachable {
            url: url.to_string(),
            reason: "no attempt was made".into(),
        }))
    }

    /// Fetches `url` as [`Downloader::fetch`] does, into `rel` beneath `dir` (a
    /// directory of the run, which a task may have written): the file is staged
    /// where only the runner writes (the cache, or a private temporary directory)
    /// and put in place without following any link the task left on the way.
    ///
    /// # Errors
    /// As [`Downloader::fetch`]; [`DownloadError::Refused`] when `rel` climbs or
    /// passes through a link.
    pub fn fetch_into(
        &self,
        url: &str,
        expected: &Expected,
        dir: &taskotron_beneath::Dir,
        rel: &Path,
    ) -> Result<Source, DownloadError> {
        let beneath = |e: taskotron_beneath::Error| {
            if e.is_refusal() {
                DownloadError::Refused {
                    reason: e.to_string(),
                }
            } else {
                DownloadError::Io {
                    path: e.path().to_path_buf(),
                    reason: e.to_string(),
                }
            }
        };
        let io = |path: &Path, e: std::io::Error| DownloadError::Io {
            path: path.to_path_buf(),
            reason: e.to_string(),
        };
        let (parent, name) = match (rel.parent(), rel.file_name()) {
            (Some(p), Some(n)) if !p.as_os_str().is_empty() => {
                (dir.create_dir_all(p).map_err(beneath)?, n)
            }
            (_, Some(n)) => (dir.try_clone().map_err(beneath)?, n),
            (_, None) => {
                return Err(DownloadError::Refused {
                    reason: format!("`{}` names no file", rel.display()),
                })
            }
        };
        // Refused before anything is transferred: a link at the name itself is
        // replaced, but a directory there is an error to report now.
        if let Some(e) = parent.entry(name).map_err(beneath)? {
            if e.kind == taskotron_beneath::Kind::Dir {
                return Err(DownloadError::Io {
                    path: parent.shown(name),
                    reason: "a directory is in the way".into(),
                });
            }
        }
        let stage_in = match &self.cache {
            Some(c) => {
                std::fs::create_dir_all(c).map_err(|e| io(c, e))?;
                c.clone()
            }
            None => std::env::temp_dir(),
        };
        let stage = tempfile::Builder::new()
            .prefix(".taskotron-download-")
            .tempdir_in(&stage_in)
            .map_err(|e| io(&stage_in, e))?;
        let staged = stage.path().join("file");
        let source = self.fetch(url, expected, &staged)?;
        parent.place(name, &staged).map_err(beneath)?;
        Ok(source)
    }

    /// One transfer into `<target>.part`, verified, then renamed to `target`.
    fn transfer(&self, url: &str, expected: &Expected, target: &Path) -> Result<(), DownloadError> {
        let part = part_path(target);
        let result = self.transfer_to(url, expected, &part).and_then(|()| {
            std::fs::rename(&part, target).map_err(|e| DownloadError::Io {
                path: target.to_path_buf(),
                reason: e.to_string(),
            })
        });
        if result.is_err() {
            let _ = std::fs::remove_file(&part);
        }
        result
    }

    fn transfer_to(
        &self,
        url: &str,
        expected: &Expected,
        part: &Path,
    ) -> Result<(), DownloadError> {
        let unreachable = |reason: String| DownloadError::Unreachable {
            url: url.to_string(),
            reason,
        };
        let mut response = self
            .agent
            .get(url)
            .call()
            .map_err(|e| unreachable(e.to_string()))?;
        match response.status().as_u16() {
            200 => {}
            404 => {
                return Err(DownloadError::NotFound {
                    url: url.to_string(),
                })
            }
            s => return Err(unreachable(format!("HTTP {s}"))),
        }
        let announced: Option<u64> = response
            .headers()
            .get("content-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        let want = expected.size.or(announced);
        let mut file = File::create(part).map_err(|e| DownloadError::Io {
            path: part.to_path_buf(),
            reason: e.to_string(),
        })?;
        let mut body = response.body_mut().with_config().limit(u64::MAX).reader();
        let mut buf = vec![0; 64 * 1024];
        let mut got = 0u64;
        let mut broken = None;
        loop {
            let n = match body.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                // A connection closed before the announced length (or mid-chunk)
                // reads as an error: the file is not whole, whatever its size says.
                Err(e) => {
                    broken = Some(e.to_string());
                    break;
                }
            };
            got += n as u64;
            file.write_all(&buf[..n]).map_err(|e| DownloadError::Io {
                path: part.to_path_buf(),
                reason: e.to_string(),
            })?;
        }
        file.sync_all().map_err(|e| DownloadError::Io {
            path: part.to_path_buf(),
            reason: e.to_string(),
        })?;
        drop(file);
        if let Some(want) = want.or(announced) {
            if got < want {
                return Err(DownloadError::Incomplete {
                    url: url.to_string(),
                    got,
                    expected: want,
                });
            }
        }
        if let Some(why) = broken {
            // No length to compare with (dist-git answers chunked): the error itself
            // says the file is cut short.
            return Err(unreachable(format!(
                "the transfer broke off after {got} bytes: {why}"
            )));
        }
        verify(part, url, expected)
    }
}

/// Checks a file on disk against `expected`.
///
/// # Errors
/// Its length or checksum differ.
pub fn verify(path: &Path, url: &str, expected: &Expected) -> Result<(), DownloadError> {
    let io = |e: std::io::Error| DownloadError::Io {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let len = std::fs::metadata(path).map_err(io)?.len();
    if let Some(size) = expected.size {
        if len != size {
            return Err(if len < size {
                DownloadError::Incomplete {
                    url: url.to_string(),
                    got: len,
                    expected: size,
                }
            } else {
                DownloadError::Checksum {
                    url: url.to_string(),
                    expected: format!("{size} bytes"),
                    actual: format!("{len} bytes"),
                }
            });
        }
    }
    if let Some(want) = &expected.payload_md5 {
        let file = File::open(path).map_err(io)?;
        let actual = payload_md5(BufReader::new(file)).unwrap_or_else(|e| format!("({e})"));
        if !actual.eq_ignore_ascii_case(want) {
            return Err(DownloadError::Checksum {
                url: url.to_string(),
                expected: want.clone(),
                actual,
            });
        }
    }
    Ok(())
}

/// The MD5 of an RPM's header and payload, hex: what `rpm` stores as `sigmd5` and
/// Koji as `payloadhash`. Reads past the 96-byte lead and the signature header.
///
/// # Errors
/// The data is not an RPM.
pub fn payload_md5(mut r: impl Read) -> Result<String, String> {
    let mut lead = [0u8; 96];
    r.read_exact(&mut lead)
        .map_err(|_| "shorter than an RPM lead")?;
    if lead[..4] != [0xed, 0xab, 0xee, 0xdb] {
        return Err("not an RPM file (bad lead magic)".into());
    }
    let mut intro = [0u8; 16];
    r.read_exact(&mut intro)
        .map_err(|_| "no signature header")?;
    if intro[..3] != [0x8e, 0xad, 0xe8] {
        return Err("not an RPM file (bad signature header magic)".into());
    }
    let nindex = u64::from(u32::from_be_bytes([
        intro[8], intro[9], intro[10], intro[11],
    ]));
    let hsize = u64::from(u32::from_be_bytes([
        intro[12], intro[13], intro[14], intro[15],
    ]));
    let body = nindex * 16 + hsize;
    // The signature header is padded to a multiple of 8 bytes.
    let padded = (16 + body).div_ceil(8) * 8 - 16;
    let skipped = std::io::copy(&mut (&mut r).take(padded), &mut std::io::sink())
        .map_err(|e| e.to_string())?;
    if skipped != padded {
        return Err("truncated signature header".into());
    }
    let mut md5 = Md5::new();
    let mut buf = vec![0; 64 * 1024];
    loop {
        let n = r.read(&mut buf).map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        md5.update(&buf[..n]);
    }
    Ok(md5.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// The cache path of `url`: its host and path, with nothing that could climb out.
fn cache_key(url: &str) -> PathBuf {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split('/')
        .filter(|s| !s.is_empty() && *s != "." && *s != "..")
        .map(|s| s.replace(':', "_"))
        .collect()
}

fn part_path(target: &Path) -> PathBuf {
    let mut name = target.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".part-{}", std::process::id()));
    target.with_file_name(name)
}

/// Puts a verified file at `dest`: a hard link when it can, a copy otherwise, via a
/// temporary name so `dest` is never half written.
fn place(from: &Path, dest: &Path) -> std::io::Result<()> {
    let tmp = part_path(dest);
    let _ = std::fs::remove_file(&tmp);
    if std::fs::hard_link(from, &tmp).is_err() {
        std::fs::copy(from, &tmp)?;
    }
    std::fs::rename(&tmp, dest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_keys_stay_inside_the_cache() {
        assert_eq!(
            cache_key("http://127.0.0.1:8080/packages/a/1/1/../../x.rpm"),
            PathBuf::from("127.0.0.1_8080/packages/a/1/1/x.rpm")
        );
    }

    /// A server that answers every connection with `response` and hangs up.
    fn serve(response: &'static str) -> String {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf);
                let _ = stream.write_all(response.as_bytes());
            }
        });
        format!("http://{addr}/rpms/htop/raw/f41/f/htop.spec")
    }

    #[test]
    fn a_chunked_answer_cut_short_is_not_a_file() {
        // No length anywhere: only the broken chunk says the file is not whole.
        let url = serve("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("htop.spec");
        let d = Downloader::new(Duration::from_secs(5), None);
        let err = d.fetch(&url, &Expected::default(), &dest).unwrap_err();
        assert_eq!(err.kind().name, "DOWNLOAD_FAILED", "{err}");
        assert!(err.to_string().contains("broke off after 5 bytes"), "{err}");
        assert!(!dest.exists());
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "no .part left"
        );
        // The same answer, whole, is a file.
        let url =
            serve("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
        d.fetch(&url, &Expected::default(), &dest).unwrap();
        assert_eq!(std::fs::read_to_string(&dest).unwrap(), "hello");
    }

    #[test]
    fn payload_md5_refuses_what_is_not_an_rpm() {
        assert!(payload_md5(&b"hello"[..]).is_err());
        assert!(payload_md5(&[0u8; 200][..]).is_err());
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever URL Koji's data makes, its cache entry stays under the cache.
        #[test]
        fn cache_keys_never_climb_out(url in "[a-z]{0,5}(://)?[a-zA-Z0-9./:%_-]{0,60}") {
            let key = cache_key(&url);
            prop_assert!(key.is_relative());
            prop_assert!(key.components().all(|c| matches!(c, std::path::Component::Normal(_))));
        }

        /// The RPM header reader never panics, and accepts nothing shorter than a
        /// lead and a signature header intro.
        #[test]
        fn payload_md5_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
            if payload_md5(&bytes[..]).is_ok() {
                prop_assert!(bytes.len() >= 112);
            }
        }
    }
}
