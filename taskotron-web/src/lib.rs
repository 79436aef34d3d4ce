//! `taskotron serve --http` and `taskotron web`: the pages, files and numbers people
//! look at instead of reading `jobs --format json`.
//!
//! - `/` and `/jobs/<uuid>`: the jobs and each one's life (ExecDB's part in the
//!   original), server-side HTML that works without JavaScript ([`pages`]);
//! - `/history/<name>`: a check's or a test case's outcomes over builds
//!   ([`history`]);
//! - `/jobs/<uuid>/log`: a running job's log as Server-Sent Events ([`live`]);
//! - `/artifacts/<run_id>/...`: each run's directory, with listings, content types,
//!   ranges and gzip, never a byte outside it ([`artifacts`]);
//! - `/api/v1/jobs` and `/api/v1/jobs/<uuid>`: the same as JSON ([`api`]);
//! - `/api/v2.0/...`: the embedded results store in ResultsDB 2.x's shape
//!   ([`resultsdb`]);
//! - `/api/v1.0/...`: Greenwave's decision and WaiverDB's waivers over the same
//!   stores ([`gating`]);
//! - `/metrics` (Prometheus text) and `/healthz` ([`metrics`]).
//!
//! **Invariant: read-only.** Every route reads: GETs, and the POSTs that are
//! queries (a decision, `waivers/+filtered`, `validate-gating-yaml`); a POST that
//! would write (results, a waiver) is answered 405. The server opens the queue
//! read-only, one connection per request on a blocking thread (SQLite in WAL mode:
//! readers never hold a lock a worker waits for), and writes nothing anywhere.

#![warn(missing_docs)]

pub mod api;
pub mod artifacts;
pub mod gating;
pub mod history;
pub mod live;
pub mod metrics;
pub mod pages;
pub mod params;
pub mod resultsdb;
pub mod store;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::routing::{get, post};
use axum::Router;
use taskotron_trigger::trigger::Tally;

/// What the server reads.
#[derive(Debug, Clone)]
pub struct WebSettings {
    /// The queue file (`<state_dir>/queue.sqlite`).
    pub queue: PathBuf,
    /// The artifacts directory, one directory per run.
    pub artifacts: PathBuf,
    /// The ResultsDB spool, whose depth `/metrics` shows.
    pub spool: PathBuf,
    /// The embedded results store, served at `/api/v2.0`.
    pub results: PathBuf,
    /// The trigger's counts, when it runs in this process (`serve`).
    pub trigger: Option<Arc<Mutex<Tally>>>,
    /// Gating's facts and policies, for `/api/v1.0`; `None`: no decisions, no
    /// waivers.
    pub gating: Option<gating::Gating>,
}

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// The address cannot be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// What was asked for.
        addr: String,
        /// What the system said.
        source: std::io::Error,
    },
    /// The address is not `HOST:PORT`.
    #[error("`{0}` is not an address to listen on; expected HOST:PORT such as 127.0.0.1:8080")]
    Address(String),
    /// The runtime or the server failed.
    #[error("the web server failed: {0}")]
    Serve(std::io::Error),
}

/// The routes, for a server or a test.
pub fn router(settings: WebSettings) -> Router {
    let state = Arc::new(settings);
    Router::new()
        .route("/", get(pages::jobs))
        .route("/jobs/{uuid}", get(pages::job))
        .route("/jobs/{uuid}/log", get(live::log))
        .route("/history/{*name}", get(history::page))
        .route("/flaky", get(history::flaky))
        .route("/flaky/{task}", get(history::flaky))
        .route("/api/v1/jobs", get(api::jobs))
        .route("/api/v1/jobs/{uuid}", get(api::job))
        .route("/api/v2.0", get(resultsdb::root))
        .route("/api/v2.0/", get(resultsdb::root))
        .route(
            "/api/v2.0/results",
            get(resultsdb::results).post(resultsdb::read_only),
        )
        .route("/api/v2.0/results/latest", get(resultsdb::latest))
        .route("/api/v2.0/results/{id}", get(resultsdb::result))
        .route(
            "/api/v2.0/testcases",
            get(resultsdb::testcases).post(resultsdb::read_only),
        )
        .route("/api/v2.0/testcases/{*name}", get(resultsdb::testcase))
        .route(
            "/api/v2.0/groups",
            get(resultsdb::groups).post(resultsdb::read_only),
        )
        .route("/api/v2.0/groups/{uuid}", get(resultsdb::group))
        .route("/api/v1.0/decision", post(gating::decision))
        .route("/api/v1.0/policies", get(gating::policies))
        .route("/api/v1.0/subject_types", get(gating::subject_types))
        .route("/api/v1.0/version", get(gating::version))
        .route("/api/v1.0/about", get(gating::version))
        .route(
            "/api/v1.0/validate-gating-yaml",
            post(gating::validate_gating_yaml),
        )
        .route(
            "/api/v1.0/waivers",
            get(gating::waivers).post(gating::create_waiver),
        )
        .route(
            "/api/v1.0/waivers/",
            get(gating::waivers).post(gating::create_waiver),
        )
        .route("/api/v1.0/waivers/+filtered", post(gating::filtered))
        .route("/api/v1.0/waivers/{id}", get(gating::waiver))
        .route("/metrics", get(metrics::metrics))
        .route("/healthz", get(metrics::healthz))
        .route("/artifacts", get(artifacts::serve))
        .route("/artifacts/", get(artifacts::serve))
        .route("/artifacts/{*path}", get(artifacts::serve))
        .fallback(pages::not_found)
        .with_state(state)
        .layer(artifacts::compression())
}

/// A bound server, not yet serving.
#[derive(Debug)]
pub struct Bound {
    listener: std::net::TcpListener,
    settings: WebSettings,
}

/// Binds `addr` (`HOST:PORT`; port 0 picks a free one).
///
/// # Errors
/// Not an address, or it cannot be bound.
pub fn bind(addr: &str, settings: WebSettings) -> Result<Bound, WebError> {
    let parsed: SocketAddr = addr
        .parse()
        .map_err(|_| WebError::Address(addr.to_string()))?;
    let listener = std::net::TcpListener::bind(parsed).map_err(|source| WebError::Bind {
        addr: addr.to_string(),
        source,
    })?;
    listener
        .set_nonblocking(true)
        .map_err(|source| WebError::Bind {
            addr: addr.to_string(),
            source,
        })?;
    Ok(Bound { listener, settings })
}

impl Bound {
    /// The address it listens on.
    ///
    /// # Errors
    /// The system cannot say.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `stop` is set (checked every 100 ms); requests under way finish.
    ///
    /// # Errors
    /// The runtime or the listener failed.
    pub fn run(self, stop: Arc<AtomicBool>) -> Result<(), WebError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .max_blocking_threads(16)
            .enable_io()
            .enable_time()
            .thread_name("taskotron-web")
            .build()
            .map_err(WebError::Serve)?;
        runtime.block_on(async {
            let listener =
                tokio::net::TcpListener::from_std(self.listener).map_err(WebError::Serve)?;
            let app = router(self.settings);
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    while !stop.load(Ordering::Relaxed) {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                })
                .await
                .map_err(WebError::Serve)
        })
    }
}
