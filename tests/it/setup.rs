//! `keel setup` as a process against a GitHub of its own on loopback (a real HTTP server that
//! records what it is asked): the page posts the manifest, GitHub sends the browser back with
//! a code, Keel exchanges it and writes the App's secrets to files only their owner reads,
//! and `keel serve` starts from them.

use crate::serve::KillOnDrop;
use crate::support::form_decode;
use crate::support::github::app_key;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

const WEBHOOK_SECRET: &str = "whsec0123456789abcdef";

/// GitHub's side of the manifest flow: the form that creates an App from a manifest (it
/// answers at once, as if the person confirmed) and the code's exchange; every request is
/// recorded as `METHOD path`.
struct ManifestGitHub {
    address: std::net::SocketAddr,
    log: Arc<Mutex<Vec<String>>>,
}

impl ManifestGitHub {
    async fn start() -> ManifestGitHub {
        use axum::extract::{Path, Query, State};
        use axum::routing::post;
        let log = Arc::new(Mutex::new(Vec::new()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        type Shared = (Arc<Mutex<Vec<String>>>, std::net::SocketAddr);
        async fn new_app(
            State((log, _)): State<Shared>,
            Query(query): Query<std::collections::HashMap<String, String>>,
            body: String,
        ) -> axum::response::Response {
            log.lock().unwrap().push("POST /settings/apps/new".into());
            let manifest = body
                .strip_prefix("manifest=")
                .map(|m| form_decode(m.split('&').next().unwrap_or_default()))
                .unwrap_or_default();
            let manifest: serde_json::Value = serde_json::from_str(&manifest).unwrap();
            let back = format!(
                "{}?code=good-code&state={}",
                manifest["redirect_url"].as_str().unwrap(),
                query.get("state").cloned().unwrap_or_default()
            );
            axum::response::Response::builder()
                .status(302)
                .header("location", back)
                .body(axum::body::Body::empty())
                .unwrap()
        }
        async fn conversion(
            State((log, address)): State<Shared>,
            Path(code): Path<String>,
        ) -> (axum::http::StatusCode, String) {
            log.lock()
                .unwrap()
                .push(format!("POST /app-manifests/{code}/conversions"));
            let mut app = serde_json::json!({
                "id": 4242, "slug": "keel-acme", "name": "Keel",
                "html_url": format!("http://{address}/apps/keel-acme"),
                "pem": app_key(), "webhook_secret": WEBHOOK_SECRET,
                "client_id": "Iv1.abc", "client_secret": "shh"
            });
            match code.as_str() {
                "good-code" => {}
                // An answer no GitHub gives: a slug that would run a command where the
                // environment file is sourced.
                "hostile-code" => app["slug"] = serde_json::json!("keel\ntouch pwned\n#"),
                // No webhook secret, and a client secret that would run a command where the
                // file is sourced.
                "secretless-code" => {
                    app["webhook_secret"] = serde_json::Value::Null;
                    app["client_secret"] = serde_json::json!("x$(touch pwned)");
                }
                _ => {
                    return (
                        axum::http::StatusCode::NOT_FOUND,
                        "{\"message\":\"Not Found\"}".into(),
                    );
                }
            }
            (axum::http::StatusCode::CREATED, app.to_string())
        }
        let router = axum::Router::new()
            .route("/settings/apps/new", post(new_app))
            .route("/organizations/{org}/settings/apps/new", post(new_app))
            .route("/app-manifests/{code}/conversions", post(conversion))
            .with_state((Arc::clone(&log), address));
        tokio::spawn(async move { axum::serve(listener, router).await });
        ManifestGitHub { address, log }
    }

    fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

/// `application/x-www-form-urlencoded` encoding, as a browser posts a form.
fn form_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                (b as char).to_string()
            }
            b' ' => "+".to_owned(),
            b => format!("%{b:02X}"),
        })
        .collect()
}

/// One HTTP/1.1 request over a socket: (status, headers, body).
fn http(address: &str, method: &str, path: &str, body: &str) -> (u16, String, String) {
    http_as(address, address, method, path, body)
}

/// [`http`] with `host` as the `Host` header (a page of another site whose name points at
/// this machine).
fn http_as(
    host: &str,
    address: &str,
    method: &str,
    path: &str,
    body: &str,
) -> (u16, String, String) {
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, head.to_owned(), body.to_owned())
}

/// HTML attribute text back to what it says.
fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The value of the first `name="…"` attribute in `html`.
fn attribute(html: &str, name: &str) -> String {
    let start = html.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
    unescape(&html[start..start + html[start..].find('"').unwrap()])
}

/// `keel setup` with `args`, its GitHub at `github`; every `KEEL_` variable of the test's
/// own environment removed.
fn setup(github: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_keel"));
    cmd.arg("setup");
    for (k, _) in std::env::vars() {
        if k.starts_with("KEEL_") {
            cmd.env_remove(k);
        }
    }
    cmd.args(args)
        .env("KEEL_GITHUB_API_URL", github)
        .env("KEEL_GITHUB_URL", github)
        .stderr(Stdio::piped());
    cmd
}

/// A started `keel setup`: the process, the address its page is on, the page's path (`/…/`)
/// and its standard error.
type Started = (
    KillOnDrop,
    String,
    String,
    BufReader<std::process::ChildStderr>,
);

/// Starts `keel setup`.
fn started(cmd: &mut Command) -> Started {
    let mut child = cmd.spawn().unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let url = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no address in: {line}"));
    let (address, path) = url.split_at(url.find('/').unwrap());
    (
        KillOnDrop(child),
        address.to_owned(),
        path.to_owned(),
        stderr,
    )
}

/// `keel setup` for webhooks at keel.example.com, against `github`, writing to `out`, on a
/// free port, with `more` arguments.
async fn launch(github: &ManifestGitHub, out: &std::path::Path, more: &[&str]) -> Started {
    let url = github.url();
    let mut args: Vec<String> = [
        "--url",
        "https://keel.example.com",
        "--listen",
        "127.0.0.1:0",
        "--out",
    ]
    .map(str::to_owned)
    .to_vec();
    args.push(out.to_str().unwrap().to_owned());
    args.extend(more.iter().map(|a| (*a).to_owned()));
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        started(&mut setup(&url, &args))
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn keel_setup_registers_the_app_in_one_click_and_keel_serve_starts_from_its_files() {
    let github = ManifestGitHub::start().await;
    let out = tempfile::tempdir().unwrap();
    let (mut keel, address, root, mut stderr) = launch(&github, out.path(), &[]).await;
    // Only the random path keel setup printed opens the page: not another user's guess.
    for guess in ["/", "/done", "/0123456789abcdef0123456789abcdef/"] {
        let (status, _, _) = {
            let address = address.clone();
            tokio::task::spawn_blocking(move || http(&address, "GET", guess, ""))
                .await
                .unwrap()
        };
        assert_eq!(status, 404, "{guess}");
    }
    let (status, head, page) = {
        let (address, root) = (address.clone(), root.clone());
        tokio::task::spawn_blocking(move || http(&address, "GET", &root, ""))
            .await
            .unwrap()
    };
    assert_eq!(status, 200, "{page}");
    // No script runs, no other site frames the page, and its address leaks to no link.
    let head = head.to_ascii_lowercase();
    for header in [
        "content-security-policy: default-src 'none'",
        "frame-ancestors 'none'",
        "referrer-policy: no-referrer",
    ] {
        assert!(head.contains(header), "{header}: {head}");
    }
    // The page's one button posts the manifest to GitHub, with a state of this run.
    let action = attribute(&page, "action");
    let state = action
        .strip_prefix(&format!("{}/settings/apps/new?state=", github.url()))
        .unwrap_or_else(|| panic!("{action}"))
        .to_owned();
    assert!(
        state.len() == 64 && state.bytes().all(|b| b.is_ascii_hexdigit()),
        "{state}"
    );
    let manifest: serde_json::Value = serde_json::from_str(&attribute(&page, "value")).unwrap();
    assert_eq!(
        manifest["redirect_url"],
        format!("http://{address}{root}done")
    );
    assert_eq!(
        manifest["hook_attributes"]["url"],
        "https://keel.example.com/webhook"
    );
    assert_eq!(manifest["default_permissions"]["checks"], "write");
    assert!(
        page.contains("Register Keel on GitHub") && page.contains("<td><code>checks</code></td>")
    );

    // A site that points its own name at this machine (DNS rebinding) reads no page and
    // exchanges nothing, even with the right state.
    let port = address.rsplit(':').next().unwrap().to_owned();
    for path in [
        root.clone(),
        format!("{root}done?code=good-code&state={state}"),
    ] {
        let (status, _, text) = {
            let (address, host) = (address.clone(), format!("evil.example:{port}"));
            tokio::task::spawn_blocking(move || http_as(&host, &address, "GET", &path, ""))
                .await
                .unwrap()
        };
        assert_eq!(status, 421, "{text}");
        assert!(!text.contains(&state), "{text}");
    }
    assert!(github.log().is_empty(), "{:?}", github.log());

    // A link made elsewhere, with a code but not this run's state: nothing is exchanged.
    let forged = format!("{root}done?code=good-code&state={}", "0".repeat(64));
    let (status, _, text) = {
        let address = address.clone();
        tokio::task::spawn_blocking(move || http(&address, "GET", &forged, ""))
            .await
            .unwrap()
    };
    assert_eq!(status, 400, "{text}");
    assert!(github.log().is_empty(), "{:?}", github.log());
    assert!(!out.path().join("keel-app.env").exists());

    // The person clicks; GitHub creates the App and sends the browser back with the code.
    let form = format!("manifest={}", form_encode(&manifest.to_string()));
    let (status, head, _) = {
        let gh = github.address.to_string();
        let path = action.strip_prefix(&github.url()).unwrap().to_owned();
        tokio::task::spawn_blocking(move || http(&gh, "POST", &path, &form))
            .await
            .unwrap()
    };
    assert_eq!(status, 302, "{head}");
    let back = head
        .lines()
        .find_map(|l| l.strip_prefix("location: "))
        .unwrap()
        .strip_prefix(&format!("http://{address}"))
        .unwrap()
        .to_owned();
    let (status, _, done) = {
        let address = address.clone();
        tokio::task::spawn_blocking(move || http(&address, "GET", &back, ""))
            .await
            .unwrap()
    };
    assert_eq!(status, 200, "{done}");
    assert!(
        done.contains("Keel is registered") && done.contains("/apps/keel-acme/installations/new"),
        "{done}"
    );
    assert_eq!(
        github.log(),
        [
            "POST /settings/apps/new",
            "POST /app-manifests/good-code/conversions"
        ]
    );
    let status = tokio::task::spawn_blocking(move || keel.0.wait().unwrap())
        .await
        .unwrap();
    assert!(
        status.success(),
        "keel setup ends once the App is registered"
    );
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    assert!(rest.contains("installations/new"), "{rest}");
    assert!(
        !rest.contains(WEBHOOK_SECRET) && !rest.contains("PRIVATE KEY"),
        "no secret on the terminal: {rest}"
    );

    // The secrets are in two files only their owner can read.
    let env_file = out.path().join("keel-app.env");
    let key_file = out.path().join("keel-app.pem");
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), app_key());
    {
        use std::os::unix::fs::PermissionsExt;
        for file in [&env_file, &key_file] {
            let mode = std::fs::metadata(file).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", file.display());
        }
    }
    let env = std::fs::read_to_string(&env_file).unwrap();
    let vars: Vec<(String, String)> = env
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap();
            (k.to_owned(), v.to_owned())
        })
        .collect();
    assert_eq!(
        vars.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
        [
            "KEEL_APP_ID",
            "KEEL_WEBHOOK_SECRET",
            "KEEL_PRIVATE_KEY_PATH",
            "KEEL_PUBLIC_URL",
            "KEEL_APP_CLIENT_ID",
            "KEEL_APP_CLIENT_SECRET"
        ]
    );
    assert_eq!(vars[0].1, "4242");
    assert_eq!(vars[1].1, WEBHOOK_SECRET);
    // The dashboard's sign-in: the App's OAuth client, and where viewers come back to.
    assert_eq!(
        (vars[3].1.as_str(), vars[4].1.as_str(), vars[5].1.as_str()),
        ("https://keel.example.com", "Iv1.abc", "shh")
    );
    assert_eq!(
        manifest["callback_urls"],
        serde_json::json!(["https://keel.example.com/dashboard/callback"])
    );

    // `keel serve` starts from them.
    let db = format!("sqlite://{}", out.path().join("keel.db").display());
    let mut serve = Command::new(env!("CARGO_BIN_EXE_keel"));
    serve.arg("serve");
    for (k, _) in std::env::vars() {
        if k.starts_with("KEEL_") || k == "DATABASE_URL" {
            serve.env_remove(k);
        }
    }
    let mut child = serve
        .envs(vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("DATABASE_URL", &db)
        .env("KEEL_LISTEN", "127.0.0.1:0")
        .env("KEEL_WORKERS", "0")
        .env("KEEL_GITHUB_API_URL", github.url())
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let logs = BufReader::new(child.stderr.take().unwrap());
    let _serve = KillOnDrop(child);
    let started = tokio::task::spawn_blocking(move || {
        let mut seen = Vec::new();
        for line in logs.lines().map_while(Result::ok) {
            let done = line.contains("keel serve listening");
            seen.push(line);
            if done {
                break;
            }
        }
        seen
    })
    .await
    .unwrap();
    assert!(
        started
            .last()
            .is_some_and(|l| l.contains("keel serve listening") && l.contains("app_id=4242")),
        "keel serve starts as the registered App: {started:?}"
    );
    assert!(
        started.iter().any(|l| l.contains("dashboard on")),
        "with its dashboard: {started:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn keel_setup_for_an_organisation_posts_to_its_settings_and_a_bad_code_writes_nothing() {
    let github = ManifestGitHub::start().await;
    let out = tempfile::tempdir().unwrap();
    let (_keel, address, root, _stderr) = launch(&github, out.path(), &["--org", "acme"]).await;
    let (_, _, page) = {
        let (address, root) = (address.clone(), root.clone());
        tokio::task::spawn_blocking(move || http(&address, "GET", &root, ""))
            .await
            .unwrap()
    };
    let action = attribute(&page, "action");
    let state = action
        .strip_prefix(&format!(
            "{}/organizations/acme/settings/apps/new?state=",
            github.url()
        ))
        .unwrap_or_else(|| panic!("{action}"))
        .to_owned();
    // A code GitHub does not know (expired, or used already): said, nothing written, and the
    // page can be started again.
    let (status, _, text) = {
        let address = address.clone();
        let path = format!("{root}done?code=stale&state={state}");
        tokio::task::spawn_blocking(move || http(&address, "GET", &path, ""))
            .await
            .unwrap()
    };
    assert_eq!(status, 502, "{text}");
    assert!(
        text.contains("404") && text.contains("start again"),
        "{text}"
    );
    assert_eq!(github.log(), ["POST /app-manifests/stale/conversions"]);
    assert!(
        std::fs::read_dir(out.path()).unwrap().next().is_none(),
        "nothing written"
    );
    let get = |path: String| {
        let address = address.clone();
        tokio::task::spawn_blocking(move || http(&address, "GET", &path, ""))
    };
    let (status, _, _) = get(root.clone()).await.unwrap();
    assert_eq!(status, 200, "still serving the registration page");
    // An answer no GitHub gives (a slug with a line break, that would run a command where
    // the environment file is sourced): refused, nothing written.
    let (status, _, text) = get(format!("{root}done?code=hostile-code&state={state}"))
        .await
        .unwrap();
    assert_eq!(status, 502, "{text}");
    assert!(!text.contains("pwned"), "{text}");
    assert!(std::fs::read_dir(out.path()).unwrap().next().is_none());
    // No webhook secret: the key is still kept (GitHub shows it once), and the page says
    // what to set.
    let (status, _, text) = get(format!("{root}done?code=secretless-code&state={state}"))
        .await
        .unwrap();
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("GitHub gave no webhook secret"), "{text}");
    assert_eq!(
        std::fs::read_to_string(out.path().join("keel-app.pem")).unwrap(),
        app_key()
    );
    let env = std::fs::read_to_string(out.path().join("keel-app.env")).unwrap();
    assert!(
        env.contains("KEEL_APP_ID=4242") && !env.contains("\nKEEL_WEBHOOK_SECRET="),
        "{env}"
    );
    assert!(
        !env.contains("touch") && !env.contains("KEEL_APP_CLIENT_SECRET="),
        "{env}"
    );
    assert!(env.contains("# No dashboard"), "{env}");
}

#[test]
fn keel_setup_refuses_before_registering_what_it_could_not_finish() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap();
    std::fs::write(out.path().join("keel-app.env"), "KEEL_APP_ID=1\n").unwrap();
    // A directory anyone may write to, and one where someone planted a link pointing nowhere
    // where the key would go.
    let shared = tempfile::tempdir().unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(shared.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    let shared_dir = shared.path().to_str().unwrap().to_owned();
    let planted = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(
        "/nonexistent/keel-app.pem",
        planted.path().join("keel-app.pem"),
    )
    .unwrap();
    let planted_dir = planted.path().to_str().unwrap().to_owned();
    for (args, why) in [
        (
            vec![
                "--url",
                "https://keel.example.com",
                "--out",
                dir,
                "--listen",
                "127.0.0.1:0",
            ],
            "keel-app.env already exists",
        ),
        (
            vec!["--url", "https://keel.example.com", "--listen", "0.0.0.0:0"],
            "this machine only",
        ),
        (vec!["--url", "keel.example.com"], "--url must be"),
        (
            vec!["--url", "https://keel.example.com", "--org", "acme/x"],
            "--org must be",
        ),
        (
            vec!["--url", "https://keel.example.com", "--out", &shared_dir],
            "anyone on this machine can write there",
        ),
        (
            vec!["--url", "https://keel.example.com", "--out", &planted_dir],
            "keel-app.pem already exists",
        ),
    ] {
        let out = setup("http://127.0.0.1:9", &args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(why), "{args:?}: {stderr}");
        assert!(!stderr.contains("open http"), "no page served: {stderr}");
    }
    assert_eq!(
        std::fs::read_to_string(out.path().join("keel-app.env")).unwrap(),
        "KEEL_APP_ID=1\n",
        "the existing file is untouched"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn in_a_real_browser_one_click_registers_the_app() {
    let github = ManifestGitHub::start().await;
    let out = tempfile::tempdir().unwrap();
    let (mut keel, address, root, _stderr) = launch(&github, out.path(), &[]).await;
    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let (title, url, text) = tokio::task::spawn_blocking({
        let (address, root) = (address.clone(), root.clone());
        let shots = shots.to_owned();
        move || {
            let browser = crate::support::browser::Browser::start();
            browser.open(&format!("http://{address}{root}"));
            assert_eq!(browser.title(), "Register Keel on GitHub");
            browser.screenshot(&shots.join("keel-setup-register.png"));
            // One click: the browser posts the manifest to GitHub, GitHub sends it back.
            browser.click("form button[type=submit]");
            browser.wait_for_heading("Keel is registered");
            browser.screenshot(&shots.join("keel-setup-registered.png"));
            (browser.title(), browser.url(), browser.text())
        }
    })
    .await
    .unwrap();
    assert_eq!(title, "Keel is registered", "{text}");
    assert!(
        url.starts_with(&format!("http://{address}{root}done?code=good-code&state=")),
        "{url}"
    );
    assert!(
        text.contains("keel-acme") && text.contains("Install it"),
        "{text}"
    );
    assert_eq!(
        github.log(),
        [
            "POST /settings/apps/new",
            "POST /app-manifests/good-code/conversions"
        ]
    );
    let status = tokio::task::spawn_blocking(move || keel.0.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success());
    assert!(out.path().join("keel-app.env").exists() && out.path().join("keel-app.pem").exists());
}
