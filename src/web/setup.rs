//! `keel setup`: registers Keel as a GitHub App in one click, through GitHub's manifest flow.
//! A one-shot server on this machine serves a page whose button posts Keel's manifest to
//! GitHub; GitHub shows the App with its least permissions for the person to confirm, then
//! sends the browser back here with a one-hour code, which Keel exchanges for the App's id,
//! private key and webhook secret. Those go to two files only their owner can read (never
//! over an existing file, never to the terminal or a log). The `state` sent to GitHub and
//! checked on the way back ties the code to this run: a link made elsewhere cannot make Keel
//! exchange a code or write a file.

use super::{answer, escape, page, with_code};
use crate::github::manifest::{self, PERMISSIONS};
use anyhow::{Context, bail};
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The file holding the App's id, webhook secret and key path (`set -a; . ./keel-app.env`).
pub const ENV_FILE: &str = "keel-app.env";
/// The file holding the App's private key.
pub const KEY_FILE: &str = "keel-app.pem";

/// Largest answer read from GitHub's manifest conversion.
const MAX_ANSWER_BYTES: usize = 1 << 20;

/// What to register, and where its files go.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The server's public address: GitHub sends webhooks to it plus `/webhook`.
    pub public_url: String,
    /// The organisation to register the App for; `None`: the signed-in account.
    pub org: Option<String>,
    /// GitHub's web address (`https://github.com`).
    pub github_url: String,
    /// GitHub's API address (`https://api.github.com`).
    pub api_url: String,
    /// The directory the two files are written to.
    pub out_dir: PathBuf,
}

/// The App GitHub created, and where its secrets were written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    /// The App's id (`KEEL_APP_ID`).
    pub id: u64,
    /// Its URL name.
    pub slug: String,
    /// Its page on GitHub.
    pub html_url: String,
    /// [`ENV_FILE`], written.
    pub env_file: PathBuf,
    /// [`KEY_FILE`], written.
    pub key_file: PathBuf,
    /// GitHub gave no webhook secret: one must be set in the App's settings and the file.
    pub webhook_secret_missing: bool,
}

impl Setup {
    /// What can be refused before anything is registered: an address GitHub cannot post to,
    /// an organisation name GitHub would not have, files already there (an App registered
    /// whose key cannot be written would be lost).
    pub fn check(&self) -> anyhow::Result<()> {
        let url = self.public_url.trim();
        if !(url.starts_with("https://") || url.starts_with("http://"))
            || url.contains(['"', '<', '>', ' '])
        {
            bail!(
                "--url must be the http(s) address GitHub sends webhooks to, like https://keel.example.com"
            );
        }
        if let Some(org) = &self.org
            && (org.is_empty()
                || org.len() > 39
                || !org.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        {
            bail!("--org must be an organisation's login (letters, digits and `-`), not `{org}`");
        }
        let api = self.api_url.trim();
        if !(api.starts_with("https://") || crate::github::client::is_loopback_http(api)) {
            bail!("--github-api-url must be an https:// address (plain http only to this machine)");
        }
        if !self.out_dir.is_dir() {
            bail!("--out {}: no such directory", self.out_dir.display());
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&self.out_dir)?.permissions().mode();
            if mode & 0o002 != 0 {
                bail!(
                    "--out {}: anyone on this machine can write there (and plant a file where the App's key goes); pass a directory only you can write to",
                    self.out_dir.display()
                );
            }
        }
        for file in [ENV_FILE, KEY_FILE] {
            let path = self.out_dir.join(file);
            // A symbolic link counts too, even one pointing nowhere.
            if path.symlink_metadata().is_ok() {
                bail!(
                    "{} already exists: keel setup never overwrites an App's secrets (move it away, or pass --out)",
                    path.display()
                );
            }
        }
        let key = absolute(&self.out_dir.join(KEY_FILE))?;
        if !is_plain_path(&key) {
            bail!(
                "{}: the key's path goes unquoted into {ENV_FILE}; pass --out a directory whose path has no spaces or quotes",
                key.display()
            );
        }
        Ok(())
    }

    /// Where GitHub's form for a new App from a manifest is, with `state`.
    fn form_action(&self, state: &str) -> String {
        let web = self.github_url.trim_end_matches('/');
        match &self.org {
            Some(org) => format!("{web}/organizations/{org}/settings/apps/new?state={state}"),
            None => format!("{web}/settings/apps/new?state={state}"),
        }
    }
}

/// The registration page, bound and not yet serving.
pub struct Page {
    shared: Arc<Shared>,
    listener: tokio::net::TcpListener,
}

impl Page {
    /// Readies the page on `listener`, under a random path: only whoever reads it here (on
    /// the terminal) can open it, not another user or a page of this machine.
    pub fn open(setup: Setup, listener: tokio::net::TcpListener) -> anyhow::Result<Page> {
        setup.check()?;
        let addr = listener
            .local_addr()
            .context("the registration page's address")?;
        let [state, token] = [32, 16].map(random_hex);
        let (state, token) = (state?, token?);
        let mut manifest = manifest::manifest(Some(setup.public_url.trim()));
        manifest["redirect_url"] = serde_json::json!(format!("http://{addr}/{token}/done"));
        let shared = Arc::new(Shared {
            setup,
            addr,
            token,
            state,
            manifest: manifest.to_string(),
            registered: Mutex::new(None),
            exchanging: tokio::sync::Mutex::new(()),
            finished: tokio::sync::Notify::new(),
        });
        Ok(Page { shared, listener })
    }

    /// The page's address, to open in a browser.
    pub fn url(&self) -> String {
        format!("http://{}/{}/", self.shared.addr, self.shared.token)
    }

    /// Serves the page until GitHub has created the App and its files are written; returns
    /// it.
    pub async fn serve(self) -> anyhow::Result<Registered> {
        let token = &self.shared.token;
        let app = Router::new()
            .route(&format!("/{token}/"), get(start))
            .route(&format!("/{token}/done"), get(done))
            .with_state(Arc::clone(&self.shared));
        let finished = Arc::clone(&self.shared);
        axum::serve(self.listener, app)
            .with_graceful_shutdown(async move { finished.finished.notified().await })
            .await
            .context("serve the registration page")?;
        let registered = self.shared.registered.lock().expect("not poisoned").clone();
        registered.context("the registration page stopped before an App was registered")
    }
}

/// `bytes` random bytes, in hex.
fn random_hex(bytes: usize) -> anyhow::Result<String> {
    let mut buffer = vec![0u8; bytes];
    getrandom::fill(&mut buffer).map_err(|e| anyhow::anyhow!("random bytes: {e}"))?;
    Ok(hex::encode(buffer))
}

impl Shared {
    /// `html` with the headers every page of the registration carries.
    fn page(&self, status: StatusCode, html: String) -> Response {
        answer(status, self.setup.github_url.trim_end_matches('/'), html)
    }

    /// A request not addressed to this page's own address, refused: a site that points its
    /// own name at 127.0.0.1 (DNS rebinding) sends that name, and must read no `state`.
    fn misdirected(&self, headers: &HeaderMap) -> Option<Response> {
        let port = self.addr.port();
        let host = headers
            .get(axum::http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let ours = [
            format!("127.0.0.1:{port}"),
            format!("localhost:{port}"),
            format!("[::1]:{port}"),
        ];
        (!ours.contains(&host)).then(|| {
            self.page(
                StatusCode::MISDIRECTED_REQUEST,
                page(
                    "Not this address",
                    &format!(
                        "<h1>Not this address</h1>\n<p>Open the address <code>keel setup</code> printed, on <code>{}</code>.</p>",
                        self.addr
                    ),
                ),
            )
        })
    }
}

struct Shared {
    setup: Setup,
    /// Where the page is served; the only `Host` it answers.
    addr: std::net::SocketAddr,
    /// The page's random path.
    token: String,
    /// Sent to GitHub with the manifest and checked when the browser comes back.
    state: String,
    manifest: String,
    registered: Mutex<Option<Registered>>,
    /// One exchange at a time: a code is used once.
    exchanging: tokio::sync::Mutex<()>,
    finished: tokio::sync::Notify,
}

/// `GET /`: what will be registered, and the button that posts the manifest to GitHub.
async fn start(State(s): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if let Some(refused) = s.misdirected(&headers) {
        return refused;
    }
    let owner = match &s.setup.org {
        Some(org) => format!("the organisation <code>{}</code>", escape(org)),
        None => "your GitHub account".to_owned(),
    };
    let mut rows = String::new();
    for (name, access, why) in PERMISSIONS {
        rows.push_str(&format!(
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>\n",
            escape(name),
            escape(access),
            with_code(why)
        ));
    }
    let body = format!(
        "<h1>Register Keel on GitHub</h1>\n\
         <p>Keel will be registered as a private GitHub App of {owner}, receiving webhooks at \
         <code>{hook}/webhook</code>. GitHub shows the App before creating it; nothing is created until you confirm there.</p>\n\
         <h2>What it may do</h2>\n<table>\n<tr><th>Permission</th><th>Access</th><th>Why</th></tr>\n{rows}</table>\n\
         <form method=\"post\" action=\"{action}\">\n<input type=\"hidden\" name=\"manifest\" value=\"{manifest}\">\n\
         <button type=\"submit\">Register Keel on GitHub</button>\n</form>\n\
         <p>GitHub then sends you back here, and Keel writes the App's id, key and webhook secret to \
         <code>{env}</code> and <code>{key}</code> in <code>{dir}</code>, readable by you only.</p>",
        hook = escape(s.setup.public_url.trim().trim_end_matches('/')),
        action = escape(&s.setup.form_action(&s.state)),
        manifest = escape(&s.manifest),
        env = ENV_FILE,
        key = KEY_FILE,
        dir = escape(&s.setup.out_dir.display().to_string()),
    );
    s.page(StatusCode::OK, page("Register Keel on GitHub", &body))
}

/// `?code=…&state=…`, as GitHub sends the browser back.
#[derive(Debug, Deserialize)]
struct Back {
    code: Option<String>,
    state: Option<String>,
}

/// `GET /done`: GitHub created the App; exchange its code for the App's secrets.
async fn done(
    State(s): State<Arc<Shared>>,
    Query(back): Query<Back>,
    headers: HeaderMap,
) -> Response {
    use subtle::ConstantTimeEq;
    if let Some(refused) = s.misdirected(&headers) {
        return refused;
    }
    let refuse = |status, title: &str, text: String| {
        s.page(
            status,
            page(title, &format!("<h1>{}</h1>\n<p>{text}</p>", escape(title))),
        )
    };
    let given = back.state.unwrap_or_default();
    let ours = s.state.as_bytes();
    if !(given.len() == ours.len() && bool::from(given.as_bytes().ct_eq(ours))) {
        return refuse(
            StatusCode::BAD_REQUEST,
            "Not this registration",
            "This address was not reached from the registration this <code>keel setup</code> started, so no code is exchanged. Start again from <a href=\"./\">the registration page</a>.".to_owned(),
        );
    }
    let code = back.code.unwrap_or_default();
    if code.is_empty()
        || code.len() > 100
        || !code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-".contains(&b))
    {
        return refuse(
            StatusCode::BAD_REQUEST,
            "No code from GitHub",
            "GitHub sent no usable code. Start again from <a href=\"./\">the registration page</a>."
                .to_owned(),
        );
    }
    let _one = s.exchanging.lock().await;
    if let Some(app) = s.registered.lock().expect("not poisoned").clone() {
        return s.page(StatusCode::OK, registered_page(&app));
    }
    let app = match exchange(&s.setup.api_url, &code).await {
        Ok(app) => app,
        Err(e) => {
            tracing::warn!(
                error = format!("{e:#}"),
                "keel setup: the manifest code was not exchanged"
            );
            return refuse(
                StatusCode::BAD_GATEWAY,
                "GitHub did not hand over the App",
                format!(
                    "{}. A code holds for one hour and is used once: start again from <a href=\"./\">the registration page</a> (an App GitHub did create meanwhile is under its settings, to delete).",
                    escape(&format!("{e:#}"))
                ),
            );
        }
    };
    match write_files(&s.setup.out_dir, &app, &s.setup.public_url) {
        Ok(registered) => {
            *s.registered.lock().expect("not poisoned") = Some(registered.clone());
            s.finished.notify_one();
            s.page(StatusCode::OK, registered_page(&registered))
        }
        Err(e) => refuse(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The App's files could not be written",
            format!(
                "GitHub created the App <code>{}</code>, but {}. Delete it under its settings and start again.",
                escape(&app.slug),
                escape(&format!("{e:#}"))
            ),
        ),
    }
}

/// What GitHub hands over for a manifest's code.
#[derive(Deserialize)]
struct Conversion {
    id: u64,
    slug: String,
    html_url: String,
    pem: SecretString,
    webhook_secret: Option<SecretString>,
    client_id: Option<String>,
    client_secret: Option<SecretString>,
}

/// `POST /app-manifests/{code}/conversions`: the App's id, key and webhook secret.
async fn exchange(api_url: &str, code: &str) -> anyhow::Result<Conversion> {
    let api = api_url.trim_end_matches('/');
    let client = crate::github::client::plain_client(api, std::time::Duration::from_secs(30))?;
    let request = axum::http::Request::post(format!("{api}/app-manifests/{code}/conversions"))
        .header("accept", "application/vnd.github+json")
        .header("user-agent", "keel-setup")
        .body(Vec::new())
        .context("build the request")?;
    let (status, body) =
        crate::github::client::plain_answer(&client, request, MAX_ANSWER_BYTES).await?;
    if !status.is_success() {
        bail!("GitHub answered {status}");
    }
    let app: Conversion = serde_json::from_slice(&body).map_err(|e| {
        anyhow::anyhow!(
            "GitHub's answer is not an App (line {}, column {})",
            e.line(),
            e.column()
        )
    })?;
    // The slug and address go to the terminal and into a comment of the environment file:
    // nothing but what GitHub makes of them.
    let plain_url = (app.html_url.starts_with("https://")
        || crate::github::client::is_loopback_http(&app.html_url))
        && app
            .html_url
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b"\"'<>`\\".contains(&b));
    let plain_slug = !app.slug.is_empty()
        && app.slug.len() <= 100
        && app
            .slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !(plain_url && plain_slug) {
        bail!("GitHub's answer names the App in a way no GitHub App is named");
    }
    Ok(app)
}

/// Writes [`KEY_FILE`] and [`ENV_FILE`] into `dir`, each readable by its owner only and never
/// over an existing file.
fn write_files(dir: &Path, app: &Conversion, public_url: &str) -> anyhow::Result<Registered> {
    let key_file = absolute(&dir.join(KEY_FILE))?;
    let env_file = absolute(&dir.join(ENV_FILE))?;
    // The key first: GitHub shows it once, whatever else is missing.
    write_private(&key_file, app.pem.expose_secret())?;
    let secret = app
        .webhook_secret
        .as_ref()
        .map(|s| s.expose_secret().to_owned())
        .filter(|s| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_-".contains(&b))
        });
    let secret_line = match &secret {
        Some(secret) => format!("KEEL_WEBHOOK_SECRET={secret}\n"),
        None => {
            "# GitHub gave no webhook secret Keel can keep here: set one under the App's settings\n\
                 # (Webhook secret), then add it as KEEL_WEBHOOK_SECRET=…\n"
                .to_owned()
        }
    };
    let env = format!(
        "# The GitHub App `{slug}` ({html_url}), registered by `keel setup`.\n\
         # Load it with `set -a; . ./{ENV_FILE}; set +a`, then run `keel serve`.\n\
         KEEL_APP_ID={id}\n{secret_line}KEEL_PRIVATE_KEY_PATH={key}\n{dashboard}",
        dashboard = dashboard_lines(app, public_url),
        slug = app.slug,
        html_url = app.html_url,
        id = app.id,
        key = key_file.display(),
    );
    write_private(&env_file, &env)?;
    Ok(Registered {
        id: app.id,
        slug: app.slug.clone(),
        html_url: app.html_url.clone(),
        env_file,
        key_file,
        webhook_secret_missing: secret.is_none(),
    })
}

/// The dashboard's sign-in (`/dashboard`), when GitHub gave the App's client id and secret and
/// the address is one browsers keep a secure cookie for; only plain characters reach the file,
/// which a shell sources.
fn dashboard_lines(app: &Conversion, public_url: &str) -> String {
    let plain = |v: &str| {
        !v.is_empty() && v.len() <= 200 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.')
    };
    let url = public_url.trim().trim_end_matches('/');
    match (&app.client_id, &app.client_secret) {
        (Some(id), Some(secret))
            if plain(id)
                && plain(secret.expose_secret())
                && crate::github::client::is_plain_origin(url) =>
        {
            format!(
                "# The dashboard: leads sign in with GitHub at {url}/dashboard.\n\
                 KEEL_PUBLIC_URL={url}\nKEEL_APP_CLIENT_ID={id}\nKEEL_APP_CLIENT_SECRET={secret}\n",
                secret = secret.expose_secret()
            )
        }
        _ => "# No dashboard: set KEEL_PUBLIC_URL, KEEL_APP_CLIENT_ID and KEEL_APP_CLIENT_SECRET (the App's settings page) to serve one.\n".to_owned(),
    }
}

/// Creates `path` (never over an existing file) readable and writable by its owner only.
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("create {}", path.display()))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("write {}", path.display()))
}

fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    std::path::absolute(path).with_context(|| format!("the absolute path of {}", path.display()))
}

/// A path that goes into an environment file unquoted.
fn is_plain_path(path: &Path) -> bool {
    path.to_str().is_some_and(|p| {
        p.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+@".contains(&b))
    })
}

/// The page after the App is registered: the next two steps.
fn registered_page(app: &Registered) -> String {
    let body = format!(
        "<h1>Keel is registered</h1>\n\
         <p>GitHub created the App <a href=\"{html}\"><code>{slug}</code></a> (id {id}). Its id, private key and webhook secret \
         are in <code>{env}</code> and <code>{key}</code>, readable by you only.</p>\n\
         <h2>Next</h2>\n<ol>\n\
         <li><a href=\"{html}/installations/new\">Install it</a> on the repositories it should judge.</li>\n\
         {secret}<li>Start the server: <code>set -a; . {env}; set +a; keel serve</code></li>\n\
         <li>In each repository, <code>keel init</code> writes a first <code>.github/keel.toml</code>.</li>\n</ol>\n\
         <p>You can close this page.</p>",
        html = escape(&app.html_url),
        slug = escape(&app.slug),
        id = app.id,
        env = escape(&app.env_file.display().to_string()),
        key = escape(&app.key_file.display().to_string()),
        secret = if app.webhook_secret_missing {
            "<li>GitHub gave no webhook secret: set one under the App's settings (Webhook secret) and add it to the file as <code>KEEL_WEBHOOK_SECRET=…</code>.</li>\n"
        } else {
            ""
        },
    );
    page("Keel is registered", &body)
}
