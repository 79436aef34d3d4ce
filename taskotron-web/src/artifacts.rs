//! `/artifacts/<run_id>/...`: each run's directory over HTTP, so the log URLs sent to
//! ResultsDB and Bodhi answer on a single machine. Directories are listed; files
//! are served with their content type (logs as UTF-8 text, `report.html` as HTML),
//! range requests and conditional GETs (tower-http's `ServeFile`), gzip for clients
//! that ask (not for ranges).
//!
//! *Invariant: never a byte outside the artifacts directory.* A path with an encoded
//! slash or backslash, a `.` or `..` segment, or a NUL is refused before the file
//! system is touched; what remains is opened beneath the artifacts directory with
//! `taskotron-beneath`, following no symbolic link (a running task can write its
//! run's directory, and could swap a name for a link between a check and a read),
//! and the file is served from that open descriptor. Links are neither served nor
//! listed. Every refusal is a plain 404.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use percent_encoding::{percent_decode_str, AsciiSet, CONTROLS};
use tower::ServiceExt;
use tower_http::compression::predicate::{DefaultPredicate, Predicate};
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeFile;

use crate::WebSettings;

/// What is percent-encoded in a path segment of a link.
pub const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'\\');

/// Whether `name` can be one path segment as it is (a run id, a file name).
pub fn is_plain_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\', '\0'])
}

/// The segments of a request path under `/artifacts`, decoded; `None` for a path
/// that could climb out or smuggle a separator.
pub fn segments(raw_path: &str) -> Option<(Vec<String>, bool)> {
    let rest = raw_path.strip_prefix("/artifacts")?;
    if !(rest.is_empty() || rest.starts_with('/')) {
        return None;
    }
    let lower = rest.to_ascii_lowercase();
    if lower.contains("%2f") || lower.contains("%5c") || lower.contains("%00") {
        return None;
    }
    let trailing = rest.ends_with('/') || rest.is_empty();
    let mut out = Vec::new();
    for seg in rest.split('/').filter(|s| !s.is_empty()) {
        let decoded = percent_decode_str(seg).decode_utf8().ok()?.into_owned();
        if !is_plain_name(&decoded) {
            return None;
        }
        out.push(decoded);
    }
    Some((out, trailing))
}

/// The content type of a file, by its name.
pub fn content_type(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map_or("", |(_, e)| e)
        .to_ascii_lowercase();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "json" => "application/json",
        "xml" => "application/xml",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "rpm" => "application/x-rpm",
        "gz" => "application/gzip",
        // An action's `.stdout` and `.stderr` are what people open most: shown in
        // the browser, never downloaded.
        "log" | "txt" | "tap" | "yml" | "yaml" | "jsonl" | "spec" | "py" | "sh" | "out" | "err"
        | "stdout" | "stderr" | "conf" | "cfg" | "ini" | "md" | "diff" | "patch" | "" => {
            "text/plain; charset=utf-8"
        }
        _ => "application/octet-stream",
    }
}

/// Gzip for what the client accepts, except partial content (a range of the
/// compressed bytes would not be the range asked for).
#[derive(Clone, Copy, Debug, Default)]
pub struct NotForRanges;

impl Predicate for NotForRanges {
    fn should_compress<B>(&self, response: &axum::http::Response<B>) -> bool
    where
        B: axum::body::HttpBody,
    {
        response.status() != StatusCode::PARTIAL_CONTENT
            && !response.headers().contains_key(header::CONTENT_RANGE)
            && DefaultPredicate::new().should_compress(response)
    }
}

/// The compression layer of every route.
pub fn compression() -> CompressionLayer<NotForRanges> {
    CompressionLayer::new().compress_when(NotForRanges)
}

/// Serves a file or lists a directory of the artifacts.
pub async fn serve(State(s): State<Arc<WebSettings>>, request: Request) -> Response {
    let Some((segs, trailing)) = segments(request.uri().path()) else {
        return crate::pages::not_found().await;
    };
    let root = s.artifacts.clone();
    let listed_root = s.artifacts.clone();
    let resolved = tokio::task::spawn_blocking(move || resolve(&root, &segs))
        .await
        .ok()
        .flatten();
    let (path, file) = match resolved {
        Some(Found::Dir(dir)) => {
            if !trailing {
                return Redirect::permanent(&format!("{}/", request.uri().path())).into_response();
            }
            let path_shown = request.uri().path().to_string();
            return match tokio::task::spawn_blocking(move || {
                listing(&listed_root, &dir, &path_shown)
            })
            .await
            {
                Ok(Some(page)) => page.into_response(),
                _ => crate::pages::not_found().await,
            };
        }
        Some(Found::File(file, path)) => (path, file),
        None => return crate::pages::not_found().await,
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mime = HeaderValue::from_static(content_type(&name));
    // ServeFile opens by path: the descriptor's own (`/proc/self/fd/N`), so what is
    // served is the file opened beneath the directory, whatever the name is now.
    // `file` stays open until ServeFile has opened it. It guesses a type; ours
    // (text with its charset for logs) replaces it.
    let by_fd = PathBuf::from(format!(
        "/proc/self/fd/{}",
        std::os::fd::AsRawFd::as_raw_fd(&file)
    ));
    let served = ServeFile::new(&by_fd).oneshot(request).await;
    drop(file);
    match served {
        Ok(mut response) => {
            response.headers_mut().insert(header::CONTENT_TYPE, mime);
            response.headers_mut().insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            response.map(Body::new)
        }
        Err(_) => crate::pages::not_found().await,
    }
}

/// What a path of the artifacts names, opened.
#[derive(Debug)]
pub enum Found {
    /// A directory.
    Dir(taskotron_beneath::Dir),
    /// A regular file, open for reading, and its path (for its name).
    File(std::fs::File, PathBuf),
}

/// The directory or regular file `segs` name under `root`, opened beneath it
/// without following any link; `None` for anything else (missing, a link, a
/// FIFO, a path that climbs).
pub fn resolve(root: &Path, segs: &[String]) -> Option<Found> {
    let base = taskotron_beneath::Dir::open(root).ok()?;
    let rel: PathBuf = segs.iter().collect();
    if rel.as_os_str().is_empty() {
        return Some(Found::Dir(base));
    }
    match base.entry(&rel).ok()??.kind {
        taskotron_beneath::Kind::Dir => base.open_dir(&rel).ok().map(Found::Dir),
        taskotron_beneath::Kind::File => {
            let file = base.read(&rel).ok()?;
            Some(Found::File(file, base.shown(&rel)))
        }
        _ => None,
    }
}

/// The entries of `dir` the route serves (directories and regular files, never
/// links): name, whether a directory, length.
pub fn served_entries(dir: &taskotron_beneath::Dir) -> Option<Vec<(String, bool, u64)>> {
    Some(
        dir.list()
            .ok()?
            .into_iter()
            .filter_map(|(name, e)| {
                let name = name.into_string().ok()?;
                match e.kind {
                    taskotron_beneath::Kind::Dir => Some((name, true, 0)),
                    taskotron_beneath::Kind::File => Some((name, false, e.len)),
                    _ => None,
                }
            })
            .collect(),
    )
}

/// A directory's listing page: what the route serves (no symlink out of `root`).
fn listing(_root: &Path, dir: &taskotron_beneath::Dir, shown: &str) -> Option<maud::Markup> {
    let mut entries: Vec<(String, bool, u64)> = served_entries(dir)?;
    entries.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let title = percent_decode_str(shown).decode_utf8_lossy().into_owned();
    let body = html! {
        h1 { "Index of " (title) }
        table {
            thead { tr { th { "Name" } th { "Size" } } }
            tbody {
                @if shown.trim_end_matches('/') != "/artifacts" { tr { td { a href="../" { "../" } } td {} } }
                @for (name, is_dir, len) in &entries {
                    @let href = percent_encoding::utf8_percent_encode(name, SEGMENT).to_string();
                    tr {
                        td { a href={ (href) @if *is_dir { "/" } } { (name) @if *is_dir { "/" } } }
                        td { @if !*is_dir { (len) } }
                    }
                }
            }
        }
    };
    Some(crate::pages::layout(&title, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_could_climb_out_are_refused_before_the_file_system() {
        assert_eq!(
            segments("/artifacts/run-1/actions/01.log"),
            Some((
                vec!["run-1".into(), "actions".into(), "01.log".into()],
                false
            ))
        );
        assert_eq!(segments("/artifacts/"), Some((vec![], true)));
        assert_eq!(
            segments("/artifacts/a%20b/"),
            Some((vec!["a b".into()], true))
        );
        for bad in [
            "/artifacts/../etc/passwd",
            "/artifacts/run/..",
            "/artifacts/%2e%2e/x",
            "/artifacts/run%2f..%2f..%2fetc",
            "/artifacts/run%2F..",
            "/artifacts/run%5c..",
            "/artifacts/a%00b",
            "/artifacts/./x",
            "/artifactsx/y",
        ] {
            assert_eq!(segments(bad), None, "{bad}");
        }
    }

    #[test]
    fn logs_are_text_and_reports_are_html() {
        assert_eq!(content_type("taskotron.log"), "text/plain; charset=utf-8");
        assert_eq!(content_type("report.html"), "text/html; charset=utf-8");
        assert_eq!(content_type("execution.json"), "application/json");
        assert_eq!(content_type("results.junit.xml"), "application/xml");
        assert_eq!(content_type("README"), "text/plain; charset=utf-8");
        for log in [
            "01-unit-tests.stdout",
            "01-unit-tests.stderr",
            "02-x.tests.jsonl",
        ] {
            assert_eq!(content_type(log), "text/plain; charset=utf-8", "{log}");
        }
        assert_eq!(content_type("x.bin"), "application/octet-stream");
    }

    #[test]
    fn symlinks_out_of_the_directory_are_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("artifacts");
        std::fs::create_dir_all(root.join("run")).unwrap();
        std::fs::write(dir.path().join("secret"), "s").unwrap();
        std::fs::write(root.join("run/ok.log"), "ok").unwrap();
        std::os::unix::fs::symlink(dir.path().join("secret"), root.join("run/out")).unwrap();
        std::os::unix::fs::symlink(root.join("run/ok.log"), root.join("run/in")).unwrap();
        std::os::unix::fs::symlink(dir.path(), root.join("run/up")).unwrap();
        let r = |p: &[&str]| resolve(&root, &p.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert!(matches!(r(&["run", "ok.log"]), Some(Found::File(..))));
        assert!(matches!(r(&["run"]), Some(Found::Dir(_))));
        // No link is followed, even one that stays inside: a task can swap a name
        // for a link at any time, so a check on the target proves nothing.
        assert!(r(&["run", "in"]).is_none());
        assert!(r(&["run", "out"]).is_none());
        assert!(r(&["run", "up", "secret"]).is_none());
        assert!(r(&["run", "missing"]).is_none());
        let listed = served_entries(&taskotron_beneath::Dir::open(&root.join("run")).unwrap());
        assert_eq!(listed, Some(vec![("ok.log".into(), false, 2)]));
    }
}
