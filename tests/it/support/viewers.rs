//! The half of the FakeGitHub people sign in to: GitHub's OAuth web flow for a GitHub App
//! (`/login/oauth/authorize`, `/login/oauth/access_token`, with PKCE checked as GitHub
//! checks it) and the user-to-server API the dashboard asks (`/user`, `/user/installations`,
//! `/user/installations/{id}/repositories`). Mounted on the FakeGitHub's own server.

use super::github::FakeGitHub;
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, Request, ResponseTemplate};

/// The client id and secret the fake App has.
pub const CLIENT_ID: &str = "Iv23liKeelTest";
pub const CLIENT_SECRET: &str = "keel-client-secret";

#[derive(Default)]
struct State {
    /// Who is signed in to GitHub in "the browser" (GitHub asks nothing more of them).
    signed_in: Option<(u64, String)>,
    /// Per user: each installation they can see, with the repositories they can read in it.
    readable: HashMap<u64, Vec<(u64, Vec<String>)>>,
    /// Codes handed out: user, PKCE challenge, redirect URI.
    codes: HashMap<String, (u64, String, String)>,
    /// Tokens handed out, and whose.
    tokens: HashMap<String, u64>,
    /// Every form posted to the token endpoint.
    pub exchanges: Vec<HashMap<String, String>>,
    next: u64,
}

/// The sign-in half of GitHub; clones share it.
#[derive(Clone)]
pub struct ViewerGitHub {
    state: Arc<Mutex<State>>,
}

impl ViewerGitHub {
    /// Mounts GitHub's sign-in and user endpoints on `fake`.
    pub async fn mount(fake: &FakeGitHub) -> ViewerGitHub {
        let viewers = ViewerGitHub {
            state: Arc::default(),
        };
        let route =
            |verb: &str, pattern: &str, handler: fn(&mut State, &Request) -> ResponseTemplate| {
                let state = Arc::clone(&viewers.state);
                Mock::given(method(verb))
                    .and(path_regex(pattern))
                    .respond_with(move |req: &Request| handler(&mut state.lock().unwrap(), req))
            };
        route("GET", r"^/login/oauth/authorize$", authorize)
            .mount(&fake.server)
            .await;
        route("POST", r"^/login/oauth/access_token$", access_token)
            .mount(&fake.server)
            .await;
        route("GET", r"^/user$", user).mount(&fake.server).await;
        route("GET", r"^/user/installations$", installations)
            .mount(&fake.server)
            .await;
        route(
            "GET",
            r"^/user/installations/\d+/repositories$",
            repositories,
        )
        .mount(&fake.server)
        .await;
        viewers
    }

    /// `login` (user `id`) is the one signed in to GitHub in the browser.
    pub fn sign_in_as(&self, id: u64, login: &str) {
        self.state.lock().unwrap().signed_in = Some((id, login.to_owned()));
    }

    /// What user `id` can read: each installation with its repositories.
    pub fn can_read(&self, id: u64, installations: &[(u64, &[&str])]) {
        self.state.lock().unwrap().readable.insert(
            id,
            installations
                .iter()
                .map(|(i, repos)| (*i, repos.iter().map(|r| (*r).to_owned()).collect()))
                .collect(),
        );
    }

    /// Every form posted to the token endpoint.
    pub fn exchanges(&self) -> Vec<HashMap<String, String>> {
        self.state.lock().unwrap().exchanges.clone()
    }
}

fn query(req: &Request) -> HashMap<String, String> {
    req.url.query_pairs().into_owned().collect()
}

/// The signed-in user agrees at once (as GitHub does for someone who authorised the App
/// before): back to `redirect_uri` with a code and the `state` as given.
fn authorize(s: &mut State, req: &Request) -> ResponseTemplate {
    let q = query(req);
    if q.get("client_id").map(String::as_str) != Some(CLIENT_ID) {
        return ResponseTemplate::new(404);
    }
    let Some((user, _)) = s.signed_in.clone() else {
        return ResponseTemplate::new(401);
    };
    // GitHub takes only S256.
    if q.get("code_challenge_method").map(String::as_str) != Some("S256") {
        return ResponseTemplate::new(400);
    }
    s.next += 1;
    let code = format!("code{}", s.next);
    let redirect = q.get("redirect_uri").cloned().unwrap_or_default();
    s.codes.insert(
        code.clone(),
        (
            user,
            q.get("code_challenge").cloned().unwrap_or_default(),
            redirect.clone(),
        ),
    );
    // Keel's state is hex and the code is alphanumeric: neither needs encoding.
    let to = format!(
        "{redirect}?code={code}&state={}",
        q.get("state").map_or("", String::as_str)
    );
    ResponseTemplate::new(302).insert_header("location", to.as_str())
}

/// The code, client secret, redirect URI and PKCE verifier checked; a token for the user.
fn access_token(s: &mut State, req: &Request) -> ResponseTemplate {
    use sha2::Digest;
    let form = form(&req.body);
    s.exchanges.push(form.clone());
    let refuse = |error: &str| ResponseTemplate::new(200).set_body_json(json!({"error": error}));
    if form.get("client_id").map(String::as_str) != Some(CLIENT_ID)
        || form.get("client_secret").map(String::as_str) != Some(CLIENT_SECRET)
    {
        return refuse("incorrect_client_credentials");
    }
    let Some((user, challenge, redirect)) = form.get("code").and_then(|c| s.codes.remove(c)) else {
        return refuse("bad_verification_code");
    };
    if form.get("redirect_uri") != Some(&redirect) {
        return refuse("redirect_uri_mismatch");
    }
    let verifier = form.get("code_verifier").cloned().unwrap_or_default();
    let hashed = sha2::Sha256::digest(verifier.as_bytes());
    if base64url(&hashed) != challenge {
        return refuse("bad_verification_code");
    }
    s.next += 1;
    let token = format!("ghu_{}", s.next);
    s.tokens.insert(token.clone(), user);
    ResponseTemplate::new(200).set_body_json(json!({
        "access_token": token, "token_type": "bearer", "expires_in": 28800
    }))
}

fn whose(s: &State, req: &Request) -> Option<u64> {
    let token = req
        .headers
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")?;
    s.tokens.get(token).copied()
}

fn user(s: &mut State, req: &Request) -> ResponseTemplate {
    match whose(s, req) {
        Some(id) => ResponseTemplate::new(200).set_body_json(json!({
            "id": id, "login": format!("viewer{id}")
        })),
        None => ResponseTemplate::new(401),
    }
}

fn installations(s: &mut State, req: &Request) -> ResponseTemplate {
    let Some(id) = whose(s, req) else {
        return ResponseTemplate::new(401);
    };
    let list: Vec<_> = s
        .readable
        .get(&id)
        .map(|l| l.iter().map(|(i, _)| json!({"id": i})).collect())
        .unwrap_or_default();
    ResponseTemplate::new(200)
        .set_body_json(json!({"total_count": list.len(), "installations": list}))
}

/// One page of 100 at most, as `per_page` and `page` ask.
fn repositories(s: &mut State, req: &Request) -> ResponseTemplate {
    let Some(id) = whose(s, req) else {
        return ResponseTemplate::new(401);
    };
    let installation: u64 = req.url.path().split('/').nth(3).unwrap().parse().unwrap();
    let q = query(req);
    let per_page: usize = q
        .get("per_page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(30)
        .min(100);
    let page: usize = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
    let Some(all) = s
        .readable
        .get(&id)
        .and_then(|l| l.iter().find(|(i, _)| *i == installation))
        .map(|(_, repos)| repos.clone())
    else {
        return ResponseTemplate::new(404);
    };
    let shown: Vec<_> = all
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(|r| json!({"full_name": r}))
        .collect();
    ResponseTemplate::new(200)
        .set_body_json(json!({"total_count": all.len(), "repositories": shown}))
}

/// An `application/x-www-form-urlencoded` body.
fn form(body: &[u8]) -> HashMap<String, String> {
    std::str::from_utf8(body)
        .unwrap()
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (super::form_decode(k), super::form_decode(v)))
        .collect()
}

fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut bits = 0u32;
    let mut held = 0;
    let mut out = String::new();
    for b in bytes {
        bits = bits << 8 | u32::from(*b);
        held += 8;
        while held >= 6 {
            held -= 6;
            out.push(ALPHABET[(bits >> held & 63) as usize] as char);
        }
    }
    if held > 0 {
        out.push(ALPHABET[(bits << (6 - held) & 63) as usize] as char);
    }
    out
}
