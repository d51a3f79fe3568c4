//! The dashboard leads open any day: the weekly summary's figures for every repository a
//! viewer can read, as pages that need no JavaScript (`keel serve` with
//! `KEEL_PUBLIC_URL`, `KEEL_APP_CLIENT_ID` and `KEEL_APP_CLIENT_SECRET`).
//!
//! Access follows GitHub, never Keel's own list: a viewer signs in with GitHub ([`signin`],
//! the App's user authorisation with `state` and PKCE), GitHub says which of Keel's
//! repositories they can read, and that list is all a session holds (no token is kept). A
//! session lasts [`SESSION_MS`]; then the viewer passes through GitHub again, which asks
//! nothing of someone already authorised, so a lost permission stops showing within that
//! time. Revoking Keel's authorisation ends every session at once. A repository the viewer
//! cannot read, one Keel is not installed on and one that does not exist get the same 404,
//! and the overview counts only what the viewer may see.

mod chart;
mod figures;
mod pages;
mod signin;
mod viewer;

use crate::github::client::GitHub;
use crate::store::{Store, ViewerSession};
use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use secrecy::SecretString;
use std::sync::Arc;

/// How long a session lasts before GitHub is asked again what its viewer can read.
pub const SESSION_MS: i64 = 10 * 60 * 1000;

/// Sign-ins that may ask GitHub at once (anyone may start one).
const SIGNING_IN_AT_ONCE: usize = 16;

/// What the dashboard needs to sign viewers in.
#[derive(Debug, Clone)]
pub struct Viewers {
    /// The App's OAuth client id (`KEEL_APP_CLIENT_ID`).
    pub client_id: String,
    /// The App's OAuth client secret (`KEEL_APP_CLIENT_SECRET`).
    pub client_secret: SecretString,
    /// Where people reach Keel (`KEEL_PUBLIC_URL`), without a trailing slash; the App's
    /// callback URL is this followed by `/dashboard/callback`.
    pub public_url: String,
    /// GitHub's API address.
    pub api_url: String,
}

impl Viewers {
    /// The address GitHub sends a signing-in viewer back to.
    pub fn callback_url(&self) -> String {
        format!("{}/dashboard/callback", self.public_url)
    }

    /// Cookies are `Secure` (and the session's `__Host-`) when Keel is reached over https;
    /// plain http is for this machine only.
    fn secure(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    fn session_cookie(&self) -> &'static str {
        if self.secure() {
            "__Host-keel_session"
        } else {
            "keel_session"
        }
    }
}

/// What the dashboard's pages share.
#[derive(Clone)]
pub struct Dashboard {
    viewers: Arc<Viewers>,
    store: Store,
    clock: Arc<dyn Fn() -> i64 + Send + Sync>,
    /// Sign-ins asking GitHub now.
    signing_in: Arc<tokio::sync::Semaphore>,
    /// What the pages show, cached.
    figures: Arc<figures::Figures>,
}

impl Dashboard {
    /// The dashboard over `store`, reading configs through `github`, signing viewers in with
    /// `viewers`; `clock` gives unix ms.
    pub fn new(
        viewers: Viewers,
        store: Store,
        github: Arc<GitHub>,
        clock: Arc<dyn Fn() -> i64 + Send + Sync>,
    ) -> Dashboard {
        Dashboard {
            viewers: Arc::new(viewers),
            figures: Arc::new(figures::Figures::new(store.clone(), github)),
            store,
            clock,
            signing_in: Arc::new(tokio::sync::Semaphore::new(SIGNING_IN_AT_ONCE)),
        }
    }

    fn now(&self) -> i64 {
        (self.clock)()
    }

    /// The signed-in viewer, if the request carries a live session.
    async fn viewer(&self, headers: &HeaderMap) -> anyhow::Result<Option<ViewerSession>> {
        let Some(id) = cookie(headers, self.viewers.session_cookie()) else {
            return Ok(None);
        };
        self.store.viewer_session(&id_hash(id), self.now()).await
    }
}

/// The dashboard's routes, all under `/dashboard`.
pub fn router(dashboard: Dashboard) -> Router {
    Router::new()
        .route("/dashboard", get(pages::overview))
        .route("/dashboard/login", get(signin::start))
        .route("/dashboard/callback", get(signin::callback))
        .route("/dashboard/logout", post(signin::logout))
        .route("/dashboard/{owner}/{repo}", get(pages::repository))
        .layer(tower_http::catch_panic::CatchPanicLayer::new())
        .with_state(dashboard)
}

/// The value of cookie `name` in `headers`.
fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    cookies(headers).find(|(n, _)| *n == name).map(|(_, v)| v)
}

/// Every cookie in `headers`, as `(name, value)`.
fn cookies(headers: &HeaderMap) -> impl Iterator<Item = (&str, &str)> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
}

/// What the store keeps of a session id: its SHA-256, in hex.
fn id_hash(id: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(id.as_bytes()))
}

/// A page of the dashboard: no script, no framing, forms only to itself.
fn html(status: StatusCode, title: &str, body: &str) -> Response {
    let mut page = super::answer(status, "", super::page(title, body));
    // Its own forms name where they come from (a browser sends `Origin: null` under
    // `no-referrer`); other sites still learn nothing.
    page.headers_mut().insert(
        header::REFERRER_POLICY,
        axum::http::HeaderValue::from_static("same-origin"),
    );
    page
}

/// The one answer for a repository the viewer may not see, whatever the reason.
fn not_found() -> Response {
    html(
        StatusCode::NOT_FOUND,
        "Not found",
        "<h1>Not found</h1>\n<p>This repository does not exist, you cannot read it on GitHub, or Keel is not installed on it.</p>\n<p><a href=\"/dashboard\">Your repositories</a></p>",
    )
}

/// A redirect (303) to `to`, a path on this site or GitHub's sign-in page.
fn see_other(to: &str, cookies: &[String]) -> Response {
    let mut answer = Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, to)
        .header(header::CACHE_CONTROL, "no-store")
        .header(header::REFERRER_POLICY, "no-referrer");
    for c in cookies {
        answer = answer.header(header::SET_COOKIE, c);
    }
    answer
        .body(axum::body::Body::empty())
        .expect("static headers")
}

/// Sends the viewer to sign in, to come back to `then`.
fn sign_in_first(then: &str) -> Response {
    let mut to = String::from("/dashboard/login?then=");
    signin::encode_into(&mut to, then);
    see_other(&to, &[])
}
