//! `/artifacts/<run_id>/...`: each run's directory over HTTP, so the log URLs sent to
//! ResultsDB and Bodhi answer on a single machine. Directories are listed; files
//! are served with their content type (logs as UTF-8 text, `report.html` as HTML),
//! range requests and conditional GETs (tower-http's `ServeFile`), gzip for clients
//! that ask (not for ranges).
//!
//! *Invariant: never a byte outside the artifacts directory.* A path with an encoded
//! slash or backslash, a `.` or `..` segment, or a NUL is refused before the file
//! system is touched; what remains is resolved (symlinks followed) and served only
//! if it is still under the artifacts directory. Every refusal is a plain 404.

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
        "log" | "txt" | "tap" | "yml" | "yaml" | "jsonl" | "spec" | "py" | "sh" | "out" | "err"
        | "conf" | "cfg" | "ini" | "md" | "diff" | "patch" | "" => "text/plain; charset=utf-8",
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
    let Some((path, is_dir)) = resolved else {
        return crate::pages::not_found().await;
    };
    if is_dir {
        if !trailing {
            return Redirect::permanent(&format!("{}/", request.uri().path())).into_response();
        }
        let path_shown = request.uri().path().to_string();
        return match tokio::task::spawn_blocking(move || listing(&listed_root, &path, &path_shown))
            .await
        {
            Ok(Some(page)) => page.into_response(),
            _ => crate::pages::not_found().await,
        };
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mime = HeaderValue::from_static(content_type(&name));
    // ServeFile guesses a type; ours (text with its charset for logs) replaces it.
    match ServeFile::new(&path).oneshot(request).await {
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

/// The file or directory `segs` name under `root`, if it exists and, with every
/// symlink resolved, is still under `root`.
pub fn resolve(root: &Path, segs: &[String]) -> Option<(PathBuf, bool)> {
    let root = root.canonicalize().ok()?;
    let mut path = root.clone();
    for s in segs {
        path.push(s);
    }
    let real = path.canonicalize().ok()?;
    if !real.starts_with(&root) {
        return None;
    }
    let meta = std::fs::metadata(&real).ok()?;
    if meta.is_dir() {
        Some((real, true))
    } else if meta.is_file() {
        Some((real, false))
    } else {
        None
    }
}

/// A directory's listing page: what the route serves (no symlink out of `root`).
fn listing(root: &Path, dir: &Path, shown: &str) -> Option<maud::Markup> {
    let root = root.canonicalize().ok()?;
    let mut entries: Vec<(String, bool, u64)> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let real = e.path().canonicalize().ok()?;
            if !real.starts_with(&root) {
                return None;
            }
            let meta = std::fs::metadata(&real).ok()?;
            Some((name, meta.is_dir(), meta.len()))
        })
        .collect();
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
        let r = |p: &[&str]| resolve(&root, &p.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert!(r(&["run", "ok.log"]).is_some_and(|(_, d)| !d));
        assert!(r(&["run"]).is_some_and(|(_, d)| d));
        assert!(r(&["run", "in"]).is_some());
        assert!(r(&["run", "out"]).is_none());
        assert!(r(&["run", "missing"]).is_none());
    }
}
