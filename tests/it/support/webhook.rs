//! Signed webhook requests, and an in-process server over a test database.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use keel::metrics::Metrics;
use keel::server::{AppState, app, ingest::Ingest, signature};
use keel::store::Store;
use secrecy::SecretString;
use std::sync::Arc;
use tower::ServiceExt;

/// The secret test servers are configured with.
pub const SECRET: &str = "test-webhook-secret";

/// A real webhook payload from `tests/fixtures/webhooks`.
pub fn payload(rel: &str) -> Vec<u8> {
    std::fs::read(super::fixture(&format!("webhooks/{rel}"))).expect("fixture")
}

/// A delivery signed with [`SECRET`].
pub fn signed(event: &str, delivery: &str, body: Vec<u8>) -> Request<Body> {
    let sig = signature::sign(SECRET.as_bytes(), &body);
    Request::post("/webhook")
        .header("content-type", "application/json")
        .header("x-github-event", event)
        .header("x-github-delivery", delivery)
        .header("x-hub-signature-256", sig)
        .body(Body::from(body))
        .unwrap()
}

/// The Keel router over `store`, called in-process.
pub struct TestServer {
    router: axum::Router,
    /// Notified for every stored delivery (as workers are in `keel serve`).
    pub wake: Arc<tokio::sync::Notify>,
    /// What `/metrics` renders; give it to the worker and client as `keel serve` does.
    pub metrics: Arc<Metrics>,
}

impl TestServer {
    /// The router, to serve on a real socket.
    pub fn router(&self) -> axum::Router {
        self.router.clone()
    }
}

impl TestServer {
    pub fn new(store: &Store) -> TestServer {
        TestServer::with_guard(store, Arc::new(keel::server::guard::IntakeGuard::default()))
    }

    /// As [`TestServer::new`], with `guard` on unauthenticated bodies.
    pub fn with_guard(store: &Store, guard: Arc<keel::server::guard::IntakeGuard>) -> TestServer {
        TestServer::with_guards(
            store,
            guard,
            Arc::new(keel::server::guard::IntakeGuard::for_uploads(64 << 20)),
        )
    }

    /// As [`TestServer::with_guard`], with `uploads` on `keel upload` bodies.
    pub fn with_guards(
        store: &Store,
        guard: Arc<keel::server::guard::IntakeGuard>,
        uploads: Arc<keel::server::guard::IntakeGuard>,
    ) -> TestServer {
        let wake = Arc::new(tokio::sync::Notify::new());
        let metrics = Arc::new(Metrics::default());
        let state = AppState {
            store: store.clone(),
            ingest: Ingest::start(store.clone(), || 1_000),
            webhook_secret: Arc::new(SecretString::from(SECRET)),
            metrics: Arc::clone(&metrics),
            wake: Arc::clone(&wake),
            guard,
            uploads,
        };
        TestServer {
            router: app(state),
            wake,
            metrics,
        }
    }

    pub async fn send(&self, request: Request<Body>) -> (StatusCode, String) {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    pub async fn get(&self, path: &str) -> (StatusCode, String) {
        self.send(Request::get(path).body(Body::empty()).unwrap())
            .await
    }
}
