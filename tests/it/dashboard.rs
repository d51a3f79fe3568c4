//! The dashboard over real sockets: a viewer signs in through the FakeGitHub's OAuth flow
//! (state and PKCE checked as GitHub checks them), sees only what GitHub says they can read,
//! and reads the weekly summary's own figures; revoking Keel, or losing access, ends what
//! they see. On SQLite and PostgreSQL.

use crate::summary_flow::{REPO, at, deployment, incident, merged_pull_request, summary_job};
use crate::support::db::backends;
use crate::support::github::{APP_ID, FakeGitHub, app_key};
use crate::support::viewers::{CLIENT_ID, CLIENT_SECRET, ViewerGitHub};
use crate::support::webhook::{TestServer, payload, signed};
use keel::github::client::GitHub;
use keel::jobs::worker::Worker;
use keel::store::Store;
use keel::web::dashboard::{Dashboard, SESSION_MS, Viewers, router};
use secrecy::SecretString;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A repository on the same installation that the viewer cannot read.
const HIDDEN: &str = "acme/payroll";
/// The viewer.
pub(crate) const ALICE: u64 = 501;

/// A title a contributor chose: markup that would run in a page that did not escape it.
const HOSTILE_TITLE: &str = "Checkout <img src=x onerror=alert(1)> & \"more\"";

/// `body` (a `pull_request` payload) with [`HOSTILE_TITLE`].
fn hostile(body: Vec<u8>) -> Vec<u8> {
    let mut p: serde_json::Value = serde_json::from_slice(&body).unwrap();
    p["pull_request"]["title"] = json!(HOSTILE_TITLE);
    serde_json::to_vec(&p).unwrap()
}

/// An HTTP answer.
pub(crate) struct Answer {
    pub(crate) status: u16,
    head: String,
    pub(crate) body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Vec<String> {
        self.head
            .lines()
            .filter_map(|l| l.split_once(": "))
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.to_owned())
            .collect()
    }

    fn location(&self) -> String {
        self.header("location").pop().unwrap_or_default()
    }

    /// `name=value` of the cookie the answer sets whose `name=value` starts with `start`.
    fn cookie(&self, start: &str) -> Option<String> {
        self.header("set-cookie")
            .into_iter()
            .map(|c| c.split(';').next().unwrap().to_owned())
            .find(|c| c.starts_with(start))
    }
}

/// One request over a socket (`url` is `http://host:port/path?query`).
async fn request(verb: &str, url: &str, cookie: Option<&str>) -> Answer {
    request_with(verb, url, cookie, "").await
}

/// [`request`] with `extra` header lines (each ending in `\r\n`).
async fn request_with(verb: &str, url: &str, cookie: Option<&str>, extra: &str) -> Answer {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let cookie = cookie.map_or(String::new(), |c| format!("Cookie: {c}\r\n"));
    let head = format!(
        "{verb} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n{cookie}{extra}Content-Length: 0\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    Answer {
        status: head.split(' ').nth(1).unwrap().parse().unwrap(),
        head: head.to_owned(),
        body: body.to_owned(),
    }
}

pub(crate) async fn get(url: &str, cookie: Option<&str>) -> Answer {
    request("GET", url, cookie).await
}

/// Keel's dashboard on a socket, its GitHub the FakeGitHub, its clock in the test's hands.
pub(crate) struct Site {
    pub(crate) base: String,
    pub(crate) fake: FakeGitHub,
    pub(crate) github: ViewerGitHub,
    pub(crate) clock: Arc<AtomicI64>,
}

pub(crate) async fn site(store: &Store) -> Site {
    let fake = FakeGitHub::start().await;
    let github = ViewerGitHub::mount(&fake).await;
    github.sign_in_as(ALICE, "alice");
    github.can_read(ALICE, &[(1, &[REPO])]);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let clock = Arc::new(AtomicI64::new(at("2026-12-02T10:00:00Z")));
    let now = Arc::clone(&clock);
    let app = GitHub::new(APP_ID, &SecretString::from(app_key()), &fake.uri()).unwrap();
    let dashboard = Dashboard::new(
        Viewers {
            client_id: CLIENT_ID.into(),
            client_secret: SecretString::from(CLIENT_SECRET),
            public_url: base.clone(),
            api_url: fake.uri(),
        },
        store.clone(),
        Arc::new(app),
        Arc::new(move || now.load(Ordering::SeqCst)),
    );
    tokio::spawn(async move { axum::serve(listener, router(dashboard)).await });
    store
        .add_installation_repos(1, &[REPO.into(), HIDDEN.into()], 0)
        .await
        .unwrap();
    Site {
        base,
        fake,
        github,
        clock,
    }
}

impl Site {
    /// Signs in as whoever the FakeGitHub's browser is signed in as, starting at `then`;
    /// the session cookie and where Keel sent the viewer.
    pub(crate) async fn sign_in(&self, then: &str) -> (String, String) {
        let start = get(&format!("{}/dashboard/login?then={then}", self.base), None).await;
        assert_eq!(start.status, 303, "{}", start.body);
        let login = start.cookie("keel_login_").expect("the sign-in cookie");
        let github = get(&start.location(), None).await;
        assert_eq!(github.status, 302, "GitHub agrees: {}", github.body);
        let back = get(&github.location(), Some(&login)).await;
        assert_eq!(back.status, 303, "{}", back.body);
        let session = back.cookie("keel_session=").expect("a session");
        (session, back.location())
    }

    /// W48 as the summary tests record it (a merge, its deployment, an incident it caused),
    /// and its weekly issue written; the issue's body.
    async fn record_a_week(&self, store: &Store) -> String {
        self.fake.put_file(
            REPO,
            "HEAD",
            ".github/keel.toml",
            b"[summary]\nschedule = \"0 9 * * MON\"\n\n[coverage]\nmin_total = 80\n",
        );
        // The base of the pull request has it too: Keel judges it, and keeps its title.
        self.fake.put_file(
            REPO,
            crate::support::github::EXAMPLE_BASE,
            ".github/keel.toml",
            b"[summary]\nschedule = \"0 9 * * MON\"\n",
        );
        self.fake
            .put_pr_commits(REPO, 2, &["2026-11-23T14:00:00Z", "2026-11-24T09:00:00Z"]);
        let server = TestServer::new(store);
        for (event, id, body) in [
            (
                "pull_request",
                "d-0",
                hostile(payload("pull_request/opened.2.json")),
            ),
            ("pull_request", "d-1", hostile(merged_pull_request())),
            (
                "deployment_status",
                "d-2",
                deployment(1, "success", "2026-11-24T14:00:00Z"),
            ),
            ("issues", "d-3", incident()),
        ] {
            let (status, text) = server.send(signed(event, id, body)).await;
            assert_eq!(status, 202, "{event}: {text}");
        }
        let app = GitHub::new(APP_ID, &SecretString::from(app_key()), &self.fake.uri()).unwrap();
        let worker = Worker::new(store.clone(), Arc::new(app));
        let now = self.clock.load(Ordering::SeqCst);
        worker.run_until_idle(now).await.unwrap();
        store
            .enqueue(&summary_job(Some("2026-W48"), "s-1", now), now)
            .await
            .unwrap();
        worker.run_until_idle(now).await.unwrap();
        self.fake
            .opened_issues()
            .pop()
            .expect("the weekly issue")
            .body
    }

    pub(crate) async fn page(&self, path: &str, session: &str) -> Answer {
        get(&format!("{}{path}", self.base), Some(session)).await
    }
}

#[tokio::test]
async fn a_viewer_sees_only_the_repositories_they_can_read_on_github() {
    for db in backends().await {
        let site = site(&db.store).await;
        // Signed out: off to sign in, and back to the page asked for.
        let out = get(&format!("{}/dashboard/{REPO}", site.base), None).await;
        assert_eq!(out.status, 303);
        assert_eq!(
            out.location(),
            "/dashboard/login?then=%2Fdashboard%2FCodertocat%2FHello-World"
        );
        let (session, landed) = site.sign_in("%2Fdashboard").await;
        assert_eq!(landed, "/dashboard");
        let overview = site.page("/dashboard", &session).await;
        assert_eq!(overview.status, 200, "{}: {}", db.backend, overview.body);
        assert!(overview.body.contains("signed in as viewer501"));
        assert!(
            overview
                .body
                .contains(&format!("href=\"/dashboard/{REPO}\"")),
            "{}",
            overview.body
        );
        assert!(
            !overview.body.contains(HIDDEN),
            "a repository on the same installation that GitHub says they cannot read: {}",
            overview.body
        );
        let readable = site.page(&format!("/dashboard/{REPO}"), &session).await;
        assert_eq!(readable.status, 200, "{}", readable.body);
        // Hidden, not installed and made up: one and the same 404.
        let hidden = site.page(&format!("/dashboard/{HIDDEN}"), &session).await;
        let made_up = site.page("/dashboard/acme/nothing-here", &session).await;
        assert_eq!((hidden.status, made_up.status), (404, 404));
        assert_eq!(hidden.body, made_up.body);
        // A cookie of one's own making is no session.
        let forged = site
            .page(&format!("/dashboard/{REPO}"), "keel_session=00ff")
            .await;
        assert_eq!(forged.status, 303);
        db.finish().await;
    }
}

#[tokio::test]
async fn the_repository_page_says_what_the_weekly_issue_says() {
    for db in backends().await {
        let site = site(&db.store).await;
        let issue = site.record_a_week(&db.store).await;
        for row in [
            "| Deployment frequency | 1 |",
            "| Lead time for changes | 24.0 h |",
            "| Change failure rate | 100% |",
            "| Time to restore | 3.0 h |",
        ] {
            assert!(issue.contains(row), "{row}: {issue}");
        }

        let (session, _) = site.sign_in("%2Fdashboard").await;
        // The last whole week by default: W48, as the issue.
        let page = site.page(&format!("/dashboard/{REPO}"), &session).await;
        assert_eq!(page.status, 200, "{}: {}", db.backend, page.body);
        let body = &page.body;
        for cell in [
            "<td>Deployment frequency</td><td>1</td>",
            "<td>Lead time for changes</td><td>24.0 h</td>",
            "<td>Change failure rate</td><td>100%</td>",
            "<td>Time to restore</td><td>3.0 h</td>",
        ] {
            assert!(body.contains(cell), "{cell}: {body}");
        }
        // Each figure says how many it was measured over.
        for sample in [
            "<td>median of 1 change</td>",
            "<td>1 deployment</td>",
            "<td>median of 1 restore</td>",
        ] {
            assert!(body.contains(sample), "{sample}: {body}");
        }
        assert!(body.contains("23–29 Nov 2026 (2026-W48)"), "{body}");
        assert!(
            body.contains(&format!("/{REPO}/issues/100\">this week's summary issue")),
            "{body}"
        );
        // Weeks before Keel recorded anything are gaps, never zeros; the target is a line.
        assert!(
            body.contains("<td>W47</td><td colspan=\"4\">no data</td>"),
            "{body}"
        );
        assert!(body.contains("class=\"gap\">no data"), "{body}");
        assert!(body.contains("target 80%"), "{body}");
        // Behind the change failure rate: the incident that failed the deployment.
        assert!(
            body.contains("incident #9 names a commit it shipped as the root cause"),
            "{body}"
        );
        // Each week of a chart opens that week's page.
        assert!(body.contains("<a href=\"?week=2026-W45\">"), "{body}");
        assert!(body.contains("<td>W48</td><td>1</td><td>24.0 h</td><td>100%</td><td>3.0 h</td>"));
        // A contributor's title is text, never markup.
        assert!(
            body.contains("Checkout &lt;img src=x onerror=alert(1)&gt; &amp; &quot;more&quot;"),
            "{body}"
        );
        assert!(!body.contains("<img"), "{body}");
        // No script can run on it, and no other site may frame it.
        let policy = page.header("content-security-policy").pop().unwrap();
        assert!(policy.contains("default-src 'none'") && policy.contains("frame-ancestors 'none'"));
        assert!(!body.contains("<script"));
        // The overview's row says the same of the same week.
        let overview = site.page("/dashboard", &session).await;
        assert!(
            overview
                .body
                .contains("<td>W48</td><td>1</td><td>24.0 h</td><td>100%</td><td>3.0 h</td>"),
            "{}",
            overview.body
        );
        // However often it is looked at, the config is read from GitHub once (the page and
        // the overview already read it) and the week gathered once a minute.
        let config_reads = |log: Vec<String>| {
            log.iter()
                .filter(|l| l.starts_with("GET ") && l.contains("contents/.github/keel.toml"))
                .count()
        };
        let before = config_reads(site.fake.log().await);
        for _ in 0..5 {
            assert_eq!(site.page("/dashboard", &session).await.status, 200);
            let page = site.page(&format!("/dashboard/{REPO}"), &session).await;
            assert_eq!(page.status, 200);
        }
        assert_eq!(
            config_reads(site.fake.log().await),
            before,
            "{}",
            db.backend
        );
        // Another week is a link away, and a made-up one is said so.
        let w47 = site
            .page(&format!("/dashboard/{REPO}?week=2026-W47"), &session)
            .await;
        assert!(w47.body.contains("no delivery figures yet"), "{}", w47.body);
        let bad = site
            .page(&format!("/dashboard/{REPO}?week=next"), &session)
            .await;
        assert_eq!(bad.status, 400);
        // A year at the calendar's end is no week either (its next week would not exist).
        let far = site
            .page(&format!("/dashboard/{REPO}?week=262142-W52"), &session)
            .await;
        assert_eq!(far.status, 400, "{}", far.body);
        db.finish().await;
    }
}

#[tokio::test]
async fn a_sign_in_begun_elsewhere_is_refused_and_the_pkce_verifier_is_sent() {
    for db in backends().await {
        let site = site(&db.store).await;
        let start = get(&format!("{}/dashboard/login", site.base), None).await;
        let login = start.cookie("keel_login_").unwrap();
        let set = start.header("set-cookie").pop().unwrap();
        assert!(
            set.contains("HttpOnly") && set.contains("SameSite=Lax"),
            "{set}"
        );
        let github = get(&start.location(), None).await;
        let callback = github.location();
        // An attacker's link to the callback (their own code, any state) lands in a browser
        // that began no sign-in, or began another: nothing is exchanged.
        let no_cookie = get(&callback, None).await;
        assert_eq!(no_cookie.status, 400, "{}", no_cookie.body);
        let other = get(&format!("{}/dashboard/login", site.base), None).await;
        let other_login = other.cookie("keel_login_").unwrap();
        let crossed = get(&callback, Some(&other_login)).await;
        assert_eq!(crossed.status, 400, "{}", crossed.body);
        assert!(site.github.exchanges().is_empty(), "no code exchanged");
        // The sign-in's own browser (which began another since, in another tab): exchanged
        // with the verifier GitHub checks against the challenge, and the session's id is not
        // what the store holds.
        // (A browser keeps both: each sign-in has a cookie of its own name.)
        assert_ne!(login.split('=').next(), other_login.split('=').next());
        let both = format!("{login}; {other_login}");
        let back = get(&callback, Some(&both)).await;
        assert_eq!(back.status, 303, "{}", back.body);
        let exchanges = site.github.exchanges();
        assert_eq!(exchanges.len(), 1);
        assert_eq!(exchanges[0]["code_verifier"].len(), 64);
        let session = back.cookie("keel_session=").unwrap();
        let id = session.trim_start_matches("keel_session=");
        assert_eq!(id.len(), 64);
        assert!(db.store.viewer_session(id, 0).await.unwrap().is_none());
        // A return address off the dashboard is not followed.
        let start = get(
            &format!(
                "{}/dashboard/login?then=%2F%2Fevil.example%2Fdashboard",
                site.base
            ),
            None,
        )
        .await;
        let github = get(&start.location(), None).await;
        let back = get(&github.location(), start.cookie("keel_login_").as_deref()).await;
        assert_eq!(back.location(), "/dashboard");
        // Sign-ins begun and never finished do not pile up in the browser: past a few, the
        // older ones are dropped.
        let begun: Vec<String> = (0..4).map(|i| format!("keel_login_{i:016x}=x")).collect();
        let more = get(
            &format!("{}/dashboard/login", site.base),
            Some(&begun.join("; ")),
        )
        .await;
        let dropped = more
            .header("set-cookie")
            .iter()
            .filter(|c| c.contains("Max-Age=0"))
            .count();
        assert_eq!(dropped, 4, "{}", more.head);
        // Another site's form does not sign anyone out.
        let forged = request_with(
            "POST",
            &format!("{}/dashboard/logout", site.base),
            Some(&session),
            "Origin: http://evil.example\r\n",
        )
        .await;
        assert_eq!(forged.status, 403);
        // Nor does one whose browser says it came from another site, whatever it claims.
        let cross = request_with(
            "POST",
            &format!("{}/dashboard/logout", site.base),
            Some(&session),
            "Sec-Fetch-Site: cross-site\r\nOrigin: null\r\n",
        )
        .await;
        assert_eq!(cross.status, 403);
        assert!(forged.cookie("keel_session=").is_none());
        assert_eq!(site.page("/dashboard", &session).await.status, 200);
        // Signing out ends the session here, not only in the browser.
        let out = request(
            "POST",
            &format!("{}/dashboard/logout", site.base),
            Some(&session),
        )
        .await;
        assert_eq!(out.status, 200);
        assert_eq!(site.page("/dashboard", &session).await.status, 303);
        db.finish().await;
    }
}

#[tokio::test]
async fn revoking_keels_authorisation_ends_the_viewers_sessions_at_once() {
    for db in backends().await {
        let site = site(&db.store).await;
        let (session, _) = site.sign_in("%2Fdashboard").await;
        assert_eq!(site.page("/dashboard", &session).await.status, 200);
        let server = TestServer::new(&db.store);
        let revoked = serde_json::to_vec(&json!({
            "action": "revoked",
            "sender": {"login": "alice", "id": ALICE, "type": "User"}
        }))
        .unwrap();
        let (status, text) = server
            .send(signed("github_app_authorization", "r-1", revoked))
            .await;
        assert_eq!(status, 202, "{text}");
        let app = GitHub::new(APP_ID, &SecretString::from(app_key()), &site.fake.uri()).unwrap();
        Worker::new(db.store.clone(), Arc::new(app))
            .run_until_idle(site.clock.load(Ordering::SeqCst))
            .await
            .unwrap();
        let after = site.page("/dashboard", &session).await;
        assert_eq!(after.status, 303, "{}: {}", db.backend, after.body);
        db.finish().await;
    }
}

#[tokio::test]
async fn a_lost_permission_shows_once_the_session_asks_github_again() {
    for db in backends().await {
        let site = site(&db.store).await;
        let (session, _) = site.sign_in("%2Fdashboard").await;
        let path = format!("/dashboard/{REPO}");
        assert_eq!(site.page(&path, &session).await.status, 200);
        // Alice loses read access on GitHub.
        site.github.can_read(ALICE, &[(1, &[])]);
        site.clock.fetch_add(SESSION_MS, Ordering::SeqCst);
        let expired = site.page(&path, &session).await;
        assert_eq!(
            expired.status, 303,
            "past its time the session asks GitHub again"
        );
        let (session, landed) = site
            .sign_in("%2Fdashboard%2FCodertocat%2FHello-World")
            .await;
        assert_eq!(landed, path);
        assert_eq!(site.page(&path, &session).await.status, 404);
        db.finish().await;
    }
}

#[tokio::test]
async fn in_a_real_browser_a_lead_signs_in_and_reads_the_trends() {
    let db = crate::support::db::sqlite().await;
    let site = site(&db.store).await;
    site.record_a_week(&db.store).await;
    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).to_owned();
    let base = site.base.clone();
    let (overview, page, charts, gaps, url, out) = tokio::task::spawn_blocking(move || {
        let browser = crate::support::browser::Browser::start();
        // Signed out: the browser goes to GitHub and back, and lands on the overview.
        browser.open(&format!("{base}/dashboard"));
        let overview = browser.text();
        browser.screenshot(&shots.join("keel-dashboard-overview.png"));
        browser.click("a[href='/dashboard/Codertocat/Hello-World']");
        browser.wait_for_heading("Codertocat/Hello-World");
        browser.screenshot(&shots.join("keel-dashboard-repository.png"));
        let page = browser.text();
        let (charts, gaps, url) = (
            browser.count("figure svg"),
            browser.count("svg .gap"),
            browser.url(),
        );
        // The page's own "Sign out" button signs out (the browser says where it came from).
        browser.click("nav form button[type=submit]");
        browser.wait_for_heading("Signed out");
        let out = browser.text();
        (overview, page, charts, gaps, url, out)
    })
    .await
    .unwrap();
    assert!(overview.contains("Delivery health"), "{overview}");
    assert!(overview.contains("signed in as viewer501"), "{overview}");
    assert!(!overview.contains(HIDDEN), "{overview}");
    assert_eq!(url, format!("{}/dashboard/{REPO}", site.base));
    assert!(page.contains("Lead time for changes 24.0 h"), "{page}");
    assert_eq!(charts, 3, "deployments, lead time, coverage");
    assert!(gaps > 0, "weeks before Keel recorded anything are gaps");
    assert!(out.contains("Signed out"), "{out}");
    db.finish().await;
}

#[tokio::test]
async fn a_viewer_who_can_read_more_than_one_sign_in_lists_is_told_so() {
    let db = crate::support::db::sqlite().await;
    let site = site(&db.store).await;
    let names: Vec<String> = (0..5_000).map(|i| format!("acme/repo-{i}")).collect();
    let mut many: Vec<&str> = names.iter().map(String::as_str).collect();
    many.push(REPO);
    site.github.can_read(ALICE, &[(1, &many)]);
    let start = get(&format!("{}/dashboard/login", site.base), None).await;
    let github = get(&start.location(), None).await;
    let back = get(&github.location(), start.cookie("keel_login_").as_deref()).await;
    assert_eq!(back.status, 403, "{}", back.body);
    assert!(back.body.contains("Too many repositories"), "{}", back.body);
    assert!(back.cookie("keel_session=").is_none());
    // 5,000 exactly fit: the page of 100 after them comes back empty.
    many.pop();
    site.github.can_read(ALICE, &[(1, &many)]);
    let (session, _) = site.sign_in("%2Fdashboard").await;
    assert_eq!(site.page("/dashboard", &session).await.status, 200);
    db.finish().await;
}

#[tokio::test]
async fn a_viewer_keeps_a_few_sessions_and_ended_ones_are_not_kept() {
    use keel::store::{MAX_SESSIONS_PER_USER, Retention, ViewerSession};
    for db in backends().await {
        let session = |expires_at| ViewerSession {
            user_id: ALICE,
            login: "alice".into(),
            repos: vec![REPO.to_lowercase()],
            expires_at,
        };
        let now = 1_000_000;
        // Signing in again and again: only the newest few stay.
        for i in 0..12 {
            db.store
                .start_viewer_session(&format!("{i:064}"), &session(now + SESSION_MS), now + i)
                .await
                .unwrap();
        }
        let mut live = 0;
        for i in 0..12 {
            if db
                .store
                .viewer_session(&format!("{i:064}"), now + 20)
                .await
                .unwrap()
                .is_some()
            {
                assert!(i >= 12 - MAX_SESSIONS_PER_USER, "{}: {i}", db.backend);
                live += 1;
            }
        }
        assert_eq!(live, MAX_SESSIONS_PER_USER, "{}", db.backend);
        // Once ended, the rows go at the next pruning, not a retention later.
        db.store
            .prune(now + SESSION_MS + 1, Retention::days(30))
            .await
            .unwrap();
        assert_eq!(
            db.store.end_sessions_of(ALICE).await.unwrap(),
            0,
            "{}: the ended sessions were pruned",
            db.backend
        );
        db.finish().await;
    }
}
