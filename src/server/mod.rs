//! The HTTP server: `POST /webhook`, `POST /reports/{owner}/{repo}/{sha}` (`keel upload`),
//! `GET /healthz`, `GET /readyz`, `GET /metrics`.
//!
//! `app(state)` builds the router; the webhook handler checks size, signature, headers and
//! payload before anything is stored, and answers 202 only after the commit holding the
//! delivery. [`run`] runs the App: these listeners, the workers and the hourly summary step,
//! until SIGTERM or Ctrl-C; [`settings`] are `keel serve`'s settings, validated at start.

pub mod guard;
pub mod ingest;
pub mod listener;
pub mod run;
pub mod settings;
pub mod signature;
pub mod upload;
pub mod webhook;

use crate::store::Store;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use secrecy::SecretString;
use std::sync::Arc;

/// Largest webhook body accepted (GitHub caps payloads at 25 MB).
pub const MAX_WEBHOOK_BYTES: usize = 25 * 1024 * 1024;

/// What every request handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub store: Store,
    /// Durable, group-committed intake.
    pub ingest: ingest::Ingest,
    /// The webhook secret.
    pub webhook_secret: Arc<SecretString>,
    /// Counters for `/metrics`.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Notified for every stored delivery, so an idle worker picks it up at once.
    pub wake: Arc<tokio::sync::Notify>,
    /// What unauthenticated requests may hold.
    pub guard: Arc<guard::IntakeGuard>,
    /// What `keel upload` bodies may hold together (apart from webhooks, so that token
    /// holders cannot crowd deliveries out).
    pub uploads: Arc<guard::IntakeGuard>,
}

/// The router, `/metrics` included.
pub fn app(state: AppState) -> Router {
    intake(state.clone()).merge(metrics_app(state))
}

/// The public router: webhooks and probes (for `KEEL_METRICS_LISTEN`, which serves
/// [`metrics_app`] on an address of its own).
pub fn intake(state: AppState) -> Router {
    Router::new()
        .route("/webhook", post(webhook::receive))
        .route("/reports/{owner}/{repo}/{sha}", post(upload::receive))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .layer(tower_http::catch_panic::CatchPanicLayer::new())
        .layer(
            tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer::new([
                axum::http::header::AUTHORIZATION,
                axum::http::HeaderName::from_static("x-hub-signature-256"),
            ]),
        )
        .with_state(state)
}

/// `GET /metrics` alone.
pub fn metrics_app(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(render_metrics))
        .with_state(state)
}

async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(e) => {
            tracing::warn!(error = format!("{e:#}"), "not ready");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}

async fn render_metrics(State(state): State<AppState>) -> String {
    state.metrics.render()
}
