//! Signing a viewer in with GitHub: the App's user authorisation (OAuth web flow) with a
//! random `state` and PKCE (S256). The `state`, the PKCE verifier and the page to come back
//! to ride in a short-lived cookie only this site can read, so a sign-in begun elsewhere
//! (someone else's code, a forged link) is refused, and any replica can finish it. The
//! token GitHub gives is used for three questions (who is this, which installations of Keel
//! can they see, which repositories of those can they read) and then dropped.

use super::{Dashboard, SESSION_MS, cookie, html, id_hash, see_other};
use crate::store::ViewerSession;
use anyhow::{Context, bail};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// Largest answer read from GitHub.
const MAX_ANSWER_BYTES: usize = 1 << 20;
/// Installations, and repositories in them, one sign-in lists (100 a page, up to 50 pages
/// each): a viewer who can read more is told so rather than shown part of it.
const MAX_LISTED: u64 = 5_000;
/// How long a begun sign-in may take, seconds.
const SIGN_IN_SECS: u32 = 600;

/// `?then=…`: the dashboard page to come back to.
#[derive(Debug, Deserialize)]
pub(super) struct Start {
    then: Option<String>,
}

/// `GET /dashboard/login`: off to GitHub, with a new `state` and PKCE challenge.
pub(super) async fn start(State(d): State<Dashboard>, Query(q): Query<Start>) -> Response {
    let then = q
        .then
        .filter(|t| safe_return(t))
        .unwrap_or_else(|| "/dashboard".to_owned());
    let (Ok(state), Ok(verifier)) = (random_token(), random_token()) else {
        return unavailable("Keel could not make a random sign-in code.");
    };
    let challenge = {
        use sha2::Digest;
        base64url(&sha2::Sha256::digest(verifier.as_bytes()))
    };
    let v = &d.viewers;
    let mut to = format!(
        "{}/login/oauth/authorize?client_id=",
        crate::github::client::web_url_of(&v.api_url)
    );
    encode_into(&mut to, &v.client_id);
    to.push_str("&redirect_uri=");
    encode_into(&mut to, &v.callback_url());
    to.push_str("&state=");
    to.push_str(&state);
    to.push_str("&code_challenge=");
    to.push_str(&challenge);
    to.push_str("&code_challenge_method=S256");
    let cookie = format!(
        "{}={state}|{verifier}|{then}; {}; Max-Age={SIGN_IN_SECS}",
        login_cookie(&d),
        attributes(&d)
    );
    see_other(&to, &[cookie])
}

/// `?code=…&state=…` (or `?error=…`), as GitHub sends the viewer back.
#[derive(Debug, Deserialize)]
pub(super) struct Back {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /dashboard/callback`: GitHub signed the viewer in; ask who they are and what they
/// can read, and start their session.
pub(super) async fn callback(
    State(d): State<Dashboard>,
    Query(back): Query<Back>,
    headers: HeaderMap,
) -> Response {
    use subtle::ConstantTimeEq;
    let again = |status, title: &str, text: &str| {
        html(
            status,
            title,
            &format!(
                "<h1>{}</h1>\n<p>{text}</p>\n<p><a href=\"/dashboard/login\">Sign in again</a></p>",
                super::super::escape(title)
            ),
        )
    };
    let Some((state, verifier, then)) = cookie(&headers, login_cookie(&d)).and_then(|c| {
        let mut parts = c.splitn(3, '|');
        Some((parts.next()?, parts.next()?, parts.next()?))
    }) else {
        return again(
            StatusCode::BAD_REQUEST,
            "Sign-in not started here",
            "This sign-in was not started from this browser, or took longer than ten minutes.",
        );
    };
    if back.error.is_some() {
        return again(
            StatusCode::FORBIDDEN,
            "GitHub did not sign you in",
            "GitHub answered that the sign-in was refused or cancelled.",
        );
    }
    let given = back.state.unwrap_or_default();
    if !(given.len() == state.len() && bool::from(given.as_bytes().ct_eq(state.as_bytes()))) {
        return again(
            StatusCode::BAD_REQUEST,
            "Not this sign-in",
            "This address was not reached from the sign-in this browser started, so nothing is exchanged.",
        );
    }
    let code = back.code.unwrap_or_default();
    if code.is_empty() || code.len() > 100 || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return again(
            StatusCode::BAD_REQUEST,
            "No code from GitHub",
            "GitHub sent no usable code.",
        );
    }
    let session = match viewer_of(&d, &code, verifier).await {
        Ok(session) => session,
        Err(e) if e.is::<TooMany>() => {
            return again(
                StatusCode::FORBIDDEN,
                "Too many repositories",
                "You can read more repositories with Keel than the dashboard lists at one sign-in (5,000).",
            );
        }
        Err(e) => {
            tracing::warn!(error = format!("{e:#}"), "dashboard sign-in failed");
            return again(
                StatusCode::BAD_GATEWAY,
                "GitHub did not finish the sign-in",
                "Keel could not ask GitHub who you are and what you can read. Try again in a moment.",
            );
        }
    };
    let Ok(id) = random_token() else {
        return unavailable("Keel could not make a random session id.");
    };
    let now = d.now();
    if let Err(e) = d
        .store
        .start_viewer_session(&id_hash(&id), &session, now)
        .await
    {
        tracing::warn!(error = format!("{e:#}"), "dashboard session not stored");
        return unavailable("Keel could not store your session.");
    }
    tracing::info!(
        user_id = session.user_id,
        repos = session.repos.len(),
        "dashboard viewer signed in"
    );
    let then = if safe_return(then) {
        then
    } else {
        "/dashboard"
    };
    let cookies = [
        format!("{}={id}; {}", d.viewers.session_cookie(), attributes(&d)),
        format!("{}=; {}; Max-Age=0", login_cookie(&d), attributes(&d)),
    ];
    see_other(then, &cookies)
}

/// `POST /dashboard/logout`: the session ends here and now.
pub(super) async fn logout(State(d): State<Dashboard>, headers: HeaderMap) -> Response {
    if let Some(id) = cookie(&headers, d.viewers.session_cookie())
        && let Err(e) = d.store.end_viewer_session(&id_hash(id)).await
    {
        tracing::warn!(error = format!("{e:#}"), "dashboard session not ended");
        return unavailable("Keel could not end your session; try again.");
    }
    let gone = format!(
        "{}=; {}; Max-Age=0",
        d.viewers.session_cookie(),
        attributes(&d)
    );
    let mut page = html(
        StatusCode::OK,
        "Signed out",
        "<h1>Signed out</h1>\n<p><a href=\"/dashboard\">Sign in again</a></p>",
    );
    page.headers_mut().insert(
        axum::http::header::SET_COOKIE,
        gone.parse().expect("plain cookie"),
    );
    page
}

/// The cookie that carries a begun sign-in.
fn login_cookie(d: &Dashboard) -> &'static str {
    if d.viewers.secure() {
        "__Host-keel_login"
    } else {
        "keel_login"
    }
}

/// Every cookie Keel sets: the whole site, never to scripts, not on other sites' requests
/// (only on following a link here), and only over https where Keel is reached over https.
fn attributes(d: &Dashboard) -> &'static str {
    if d.viewers.secure() {
        "Path=/; HttpOnly; SameSite=Lax; Secure"
    } else {
        "Path=/; HttpOnly; SameSite=Lax"
    }
}

/// A page to come back to after signing in: one of the dashboard's own, nothing else.
fn safe_return(then: &str) -> bool {
    (then == "/dashboard" || then.starts_with("/dashboard/") || then.starts_with("/dashboard?"))
        && then.len() <= 300
        && !then.contains("..")
        && !then.contains("//")
        && then
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/-_.?=&".contains(&b))
}

/// The viewer GitHub signed in with `code`: who they are and what they can read.
async fn viewer_of(d: &Dashboard, code: &str, verifier: &str) -> anyhow::Result<ViewerSession> {
    let v = &d.viewers;
    let web = crate::github::client::web_url_of(&v.api_url);
    let mut form = String::from("client_id=");
    encode_into(&mut form, &v.client_id);
    form.push_str("&client_secret=");
    encode_into(&mut form, v.client_secret.expose_secret());
    form.push_str("&code=");
    encode_into(&mut form, code);
    form.push_str("&redirect_uri=");
    encode_into(&mut form, &v.callback_url());
    form.push_str("&code_verifier=");
    encode_into(&mut form, verifier);
    #[derive(Deserialize)]
    struct Token {
        access_token: Option<SecretString>,
        error: Option<String>,
    }
    let token: Token = ask(&web, "POST", "/login/oauth/access_token", None, form).await?;
    let Some(token) = token.access_token else {
        bail!(
            "GitHub gave no token ({})",
            token.error.as_deref().unwrap_or("no reason given")
        );
    };
    #[derive(Deserialize)]
    struct User {
        id: u64,
        login: String,
    }
    let api = &v.api_url;
    let user: User = ask(api, "GET", "/user", Some(&token), String::new()).await?;
    #[derive(Deserialize)]
    struct Installations {
        total_count: u64,
        installations: Vec<Id>,
    }
    #[derive(Deserialize)]
    struct Id {
        id: u64,
    }
    #[derive(Deserialize)]
    struct Repositories {
        total_count: u64,
        repositories: Vec<Named>,
    }
    #[derive(Deserialize)]
    struct Named {
        full_name: String,
    }
    // Every page of both lists, read while GitHub's totals stay within what one sign-in lists.
    let mut installations = Vec::new();
    for page in 1.. {
        let path = format!("/user/installations?per_page=100&page={page}");
        let got: Installations = ask(api, "GET", &path, Some(&token), String::new()).await?;
        if got.total_count > MAX_LISTED {
            bail!(TooMany);
        }
        let done = got.installations.is_empty();
        installations.extend(got.installations.into_iter().map(|i| i.id));
        if done || installations.len() as u64 >= got.total_count {
            break;
        }
    }
    let mut repos = Vec::new();
    let mut counted = 0u64;
    for installation in installations {
        for page in 1.. {
            let path =
                format!("/user/installations/{installation}/repositories?per_page=100&page={page}");
            let got: Repositories = ask(api, "GET", &path, Some(&token), String::new()).await?;
            if page == 1 {
                counted += got.total_count;
            }
            if counted > MAX_LISTED {
                bail!(TooMany);
            }
            let done = got.repositories.is_empty();
            let before = repos.len();
            repos.extend(
                got.repositories
                    .into_iter()
                    .map(|r| r.full_name.to_lowercase()),
            );
            if done || (repos.len() - before) < 100 || page * 100 >= got.total_count {
                break;
            }
        }
    }
    repos.sort();
    repos.dedup();
    Ok(ViewerSession {
        user_id: user.id,
        login: user.login,
        repos,
        expires_at: d.now().saturating_add(SESSION_MS),
    })
}

/// A viewer can read more than [`MAX_LISTED`] repositories.
#[derive(Debug, thiserror::Error)]
#[error("the viewer can read more repositories than one sign-in lists")]
struct TooMany;

/// One request to GitHub (as the viewer, with `token`), its JSON answer read within
/// [`MAX_ANSWER_BYTES`].
async fn ask<T: serde::de::DeserializeOwned>(
    base: &str,
    method: &str,
    path: &str,
    token: Option<&SecretString>,
    form: String,
) -> anyhow::Result<T> {
    use http_body_util::BodyExt;
    let client = crate::github::client::plain_client(base, std::time::Duration::from_secs(30))?;
    let mut request = axum::http::Request::builder()
        .method(method)
        .uri(format!("{base}{path}"))
        .header("accept", "application/json")
        .header("user-agent", "keel-dashboard");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {}", token.expose_secret()));
    }
    if !form.is_empty() {
        request = request.header("content-type", "application/x-www-form-urlencoded");
    }
    let request = request
        .body(form.into_bytes())
        .context("build the request")?;
    let response = client
        .execute(request)
        .await
        .map_err(|e| anyhow::anyhow!("could not reach GitHub: {e}"))?;
    let status = response.status();
    let body = http_body_util::Limited::new(response.into_body(), MAX_ANSWER_BYTES)
        .collect()
        .await
        .map_err(|e| anyhow::anyhow!("GitHub's answer could not be read: {e}"))?
        .to_bytes();
    if !status.is_success() {
        bail!("GitHub answered {status} to {method} {}", path_only(path));
    }
    serde_json::from_slice(&body).with_context(|| {
        format!(
            "GitHub's answer to {method} {} is not what it documents",
            path_only(path)
        )
    })
}

/// A path without its query, for messages.
fn path_only(path: &str) -> &str {
    path.split('?').next().unwrap_or(path)
}

fn unavailable(text: &str) -> Response {
    html(
        StatusCode::SERVICE_UNAVAILABLE,
        "Try again",
        &format!("<h1>Try again</h1>\n<p>{}</p>", super::super::escape(text)),
    )
}

/// 32 random bytes in hex.
fn random_token() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("random bytes: {e}"))?;
    Ok(hex::encode(bytes))
}

/// `text` percent-encoded into `out`: RFC 3986's unreserved characters as they are.
pub(super) fn encode_into(out: &mut String, text: &str) {
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

/// `bytes` in base64url without padding (RFC 4648 §5), as PKCE's S256 challenge is written.
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{base64url, encode_into, safe_return};

    #[test]
    fn the_pkce_challenge_is_rfc_7636s_example() {
        use sha2::Digest;
        // RFC 7636, appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(
            base64url(&sha2::Sha256::digest(verifier.as_bytes())),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        // RFC 4648's vectors, unpadded.
        for (plain, coded) in [
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
        ] {
            assert_eq!(base64url(plain.as_bytes()), coded);
        }
    }

    #[test]
    fn only_the_dashboards_own_pages_are_returned_to() {
        for good in [
            "/dashboard",
            "/dashboard/acme/web?week=2026-W48",
            "/dashboard?x=1",
        ] {
            assert!(safe_return(good), "{good}");
        }
        for bad in [
            "https://evil.example/dashboard",
            "//evil.example/dashboard",
            "/dashboard//evil.example",
            "/dashboardx",
            "/dashboard/../webhook",
            "/dashboard/a\r\nSet-Cookie: x=1",
            "/dashboard/a|b",
            "/webhook",
        ] {
            assert!(!safe_return(bad), "{bad}");
        }
    }

    #[test]
    fn percent_encoding_keeps_only_unreserved_characters() {
        let mut out = String::new();
        encode_into(&mut out, "https://k.example/a b?c=d&e");
        assert_eq!(out, "https%3A%2F%2Fk.example%2Fa%20b%3Fc%3Dd%26e");
    }
}
