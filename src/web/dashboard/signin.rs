//! Signing a viewer in with GitHub: the App's user authorisation (OAuth web flow) with a
//! random `state` and PKCE (S256). The `state`, the PKCE verifier and the page to come back
//! to ride in a short-lived cookie only this site can read, so a sign-in begun elsewhere
//! (someone else's code, a forged link) is refused, and any replica can finish it. The
//! token GitHub gives is used for three questions (who is this, which installations of Keel
//! can they see, which repositories of those can they read) and then dropped.

use super::viewer::{TooMany, viewer_of};
use super::{Dashboard, cookie, cookies, html, id_hash, see_other};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

/// How long the questions to GitHub at a sign-in may take together: the listener closes a
/// connection that moves no byte for 10 s.
const SIGN_IN_BUDGET: std::time::Duration = std::time::Duration::from_secs(8);
/// Sign-ins one browser may have begun and not finished before the older ones are dropped.
const MAX_BEGUN: usize = 4;
/// How long a begun sign-in may take, seconds.
const SIGN_IN_SECS: u32 = 600;

/// `?then=…`: the dashboard page to come back to.
#[derive(Debug, Deserialize)]
pub(super) struct Start {
    then: Option<String>,
}

/// `GET /dashboard/login`: off to GitHub, with a new `state` and PKCE challenge.
pub(super) async fn start(
    State(d): State<Dashboard>,
    Query(q): Query<Start>,
    headers: HeaderMap,
) -> Response {
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
    let mut set = vec![format!(
        "{}={state}|{verifier}|{then}; {}; Max-Age={SIGN_IN_SECS}",
        login_cookie(&d, &state),
        attributes(&d)
    )];
    // Sign-ins begun and never finished (tabs, retries): past a few, the older ones go, so
    // the browser's cookies never outgrow what a proxy lets through.
    let prefix = login_cookie(&d, "");
    let begun: Vec<&str> = cookies(&headers)
        .map(|(name, _)| name)
        .filter(|name| {
            name.strip_prefix(&prefix)
                .is_some_and(|id| id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit()))
        })
        .collect();
    if begun.len() >= MAX_BEGUN {
        set.extend(
            begun
                .iter()
                .map(|name| format!("{name}=; {}; Max-Age=0", attributes(&d))),
        );
    }
    see_other(&to, &set)
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
    let given = back.state.unwrap_or_default();
    let named = (given.len() == 64 && given.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| login_cookie(&d, &given));
    // Whatever the outcome, this sign-in's cookie is spent.
    let spent = named
        .as_ref()
        .map(|name| format!("{name}=; {}; Max-Age=0", attributes(&d)));
    let again = |status, title: &str, text: &str| {
        let mut page = html(
            status,
            title,
            &format!(
                "<h1>{}</h1>\n<p>{text}</p>\n<p><a href=\"/dashboard/login\">Sign in again</a></p>",
                super::super::escape(title)
            ),
        );
        if let Some(spent) = spent.as_deref().and_then(|c| c.parse().ok()) {
            page.headers_mut()
                .append(axum::http::header::SET_COOKIE, spent);
        }
        page
    };
    let Some((state, verifier, then)) = named
        .as_deref()
        .and_then(|name| cookie(&headers, name))
        .and_then(|c| {
            let mut parts = c.splitn(3, '|');
            Some((parts.next()?, parts.next()?, parts.next()?))
        })
    else {
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
    // Sign-ins asking GitHub at once are few (anyone can start one, and each asks GitHub);
    // waiting for a turn counts against the budget too.
    let asked = tokio::time::timeout(SIGN_IN_BUDGET, async {
        let _turn = d.signing_in.acquire().await?;
        viewer_of(&d.viewers, &code, verifier, d.now()).await
    })
    .await;
    let session = match asked {
        Err(_) => {
            return again(
                StatusCode::GATEWAY_TIMEOUT,
                "GitHub took too long",
                "GitHub did not say in time who you are and what you can read (or many people are signing in at once). Try again in a moment.",
            );
        }
        Ok(Ok(session)) => session,
        Ok(Err(e)) if e.is::<TooMany>() => {
            return again(
                StatusCode::FORBIDDEN,
                "Too many repositories",
                "You can read more repositories with Keel than the dashboard lists at one sign-in (5,000).",
            );
        }
        Ok(Err(e)) => {
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
        format!(
            "{}=; {}; Max-Age=0",
            login_cookie(&d, &given),
            attributes(&d)
        ),
    ];
    see_other(then, &cookies)
}

/// `POST /dashboard/logout`: the session ends here and now.
pub(super) async fn logout(State(d): State<Dashboard>, headers: HeaderMap) -> Response {
    // Another site's form is no sign-out: browsers say where a POST comes from.
    if !same_site_post(&headers, &d.viewers.public_url) {
        return html(
            StatusCode::FORBIDDEN,
            "Not from here",
            "<h1>Not from here</h1>\n<p>Sign out from Keel's own page.</p>",
        );
    }
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

/// The cookie that carries the sign-in begun with `state`: one per sign-in, so several begun
/// at once (tabs reloaded after their sessions ended) each finish.
fn login_cookie(d: &Dashboard, state: &str) -> String {
    let prefix = if d.viewers.secure() {
        "__Host-keel_login"
    } else {
        "keel_login"
    };
    format!("{prefix}_{}", &state[..state.len().min(16)])
}

/// Whether a POST comes from this site's own page: `Sec-Fetch-Site`, which a page cannot set,
/// where the browser sends it; else `Origin`; a client that sends neither is no browser.
fn same_site_post(headers: &HeaderMap, public_url: &str) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        return matches!(site.as_bytes(), b"same-origin" | b"none");
    }
    headers
        .get(axum::http::header::ORIGIN)
        .is_none_or(|origin| origin.as_bytes() == public_url.as_bytes())
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
