//! The dashboard's pages: an overview of the repositories the viewer can read, and one page
//! per repository and week. Their figures come from the weekly summary's own gathering
//! (`jobs::summary::report::gather`) under the default branch's config, so a page and the
//! weekly issue of the same week say the same.

use super::chart::{self, Series};
use super::figures::Gathered;
use super::{Dashboard, html, not_found, sign_in_first};
use crate::github::api::Repo;
use crate::github::{InstallationId, RepoName};
use crate::store::ViewerSession;
use crate::web::{escape, with_code};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use keel_core::render::summary::{
    BANDS, dates, definitions, hours, percent, performer, what_failed,
};
use keel_core::summary::dora::bands;
use keel_core::summary::report::WeeklyReport;
use keel_core::week::{Week, Zone};
use std::sync::Arc;

/// How long a page waits for its figures: the listener closes a connection that moves no
/// byte for 10 s. What is not ready by then keeps being gathered for the next look.
const PAGE_BUDGET: std::time::Duration = std::time::Duration::from_secs(6);
/// Repositories the overview gathers figures for (the rest are listed, a click away).
const OVERVIEW_FIGURES: usize = 100;
use serde::Deserialize;
use std::fmt::Write;

/// `GET /dashboard`: every repository the viewer can read, last week's figures in a row.
pub(super) async fn overview(State(d): State<Dashboard>, headers: HeaderMap) -> Response {
    let viewer = match d.viewer(&headers).await {
        Ok(Some(viewer)) => viewer,
        Ok(None) => return sign_in_first("/dashboard"),
        Err(e) => return unavailable(&e),
    };
    let repos = match visible(&d, &viewer).await {
        Ok(repos) => repos,
        Err(e) => return unavailable(&e),
    };
    let mut body = header(&viewer);
    body.push_str("<h1>Delivery health</h1>\n");
    if repos.is_empty() {
        body.push_str("<p>You cannot read any repository Keel is installed on. If that is wrong, ask an owner to install Keel on it, or to give you read access on GitHub.</p>\n");
        return html(StatusCode::OK, "Keel", &body);
    }
    body.push_str("<p>Last week in each repository you can read on GitHub. Open one for its trends.</p>\n<table>\n<thead><tr><th>Repository</th><th>Week</th><th>Deployments</th><th>Lead time</th><th>Change failure rate</th><th>Time to restore</th><th>Definition of done met</th><th>Coverage</th></tr></thead>\n<tbody>\n");
    // Every repository's figures at once; what is not ready by the deadline is said so, and
    // keeps being gathered for the next look.
    let now = d.now();
    let deadline = tokio::time::Instant::now() + PAGE_BUDGET;
    let gathering: Vec<_> = repos
        .iter()
        .take(OVERVIEW_FIGURES)
        .map(|repo| start_gathering(&d, repo, None, now))
        .collect();
    for (repo, gathered) in repos.iter().zip(gathering) {
        let link = format!(
            "<a href=\"/dashboard/{}\">{}</a>",
            escape(&repo.name.0),
            escape(&repo.name.0)
        );
        let gathered = match gathered_by(deadline, gathered).await {
            Ok(gathered) => gathered,
            Err(unready) => {
                let _ = writeln!(
                    body,
                    "<tr><td>{link}</td><td colspan=\"7\">{}</td></tr>",
                    escape(&unready.why())
                );
                continue;
            }
        };
        let report = &gathered.report;
        let this = report.weeks.last().expect("gather gives weeks");
        let coverage = report.health.last().and_then(|h| h.coverage);
        let _ = writeln!(
            body,
            "<tr><td>{link}</td><td>{}</td>{}<td>{}</td><td>{}</td></tr>",
            escape(short(&this.week.name)),
            if this.observed {
                format!(
                    "<td>{}</td><td>{}</td><td>{}</td><td>{}</td>",
                    this.deployments,
                    hours(this.lead_time_hours),
                    percent(this.change_failure_rate),
                    hours(this.time_to_restore_hours)
                )
            } else {
                "<td colspan=\"4\">no data yet</td>".to_owned()
            },
            pass_rate(report),
            coverage.map_or("—".to_owned(), |c| format!("{c:.1}%")),
        );
    }
    for repo in repos.iter().skip(OVERVIEW_FIGURES) {
        let _ = writeln!(
            body,
            "<tr><td><a href=\"/dashboard/{0}\">{0}</a></td><td colspan=\"7\">open it for its figures</td></tr>",
            escape(&repo.name.0)
        );
    }
    body.push_str("</tbody>\n</table>\n");
    html(StatusCode::OK, "Keel", &body)
}

/// `?week=2026-W48`.
#[derive(Debug, Deserialize)]
pub(super) struct Chosen {
    week: Option<String>,
}

/// `GET /dashboard/{owner}/{repo}`: one repository's week, with eight weeks of trends.
pub(super) async fn repository(
    State(d): State<Dashboard>,
    Path((owner, name)): Path<(String, String)>,
    Query(chosen): Query<Chosen>,
    headers: HeaderMap,
) -> Response {
    let viewer = match d.viewer(&headers).await {
        Ok(Some(viewer)) => viewer,
        Ok(None) => {
            let mut here = format!("/dashboard/{owner}/{name}");
            if let Some(week) = &chosen.week {
                here.push_str("?week=");
                here.push_str(week);
            }
            return sign_in_first(&here);
        }
        Err(e) => return unavailable(&e),
    };
    let wanted = format!("{owner}/{name}").to_lowercase();
    let repo = match visible(&d, &viewer).await {
        Ok(repos) => repos
            .into_iter()
            .find(|r| r.name.0.to_lowercase() == wanted),
        Err(e) => return unavailable(&e),
    };
    let Some(repo) = repo else {
        return not_found();
    };
    let gathering = start_gathering(&d, &repo, chosen.week.clone(), d.now());
    let deadline = tokio::time::Instant::now() + PAGE_BUDGET;
    let gathered = match gathered_by(deadline, gathering).await {
        Ok(gathered) => gathered,
        Err(Unready::Pending) => {
            return html(
                StatusCode::SERVICE_UNAVAILABLE,
                &repo.name.0,
                "<h1>Still being read</h1>\n<p>GitHub is slow to give this repository's config. Reload in a moment.</p>",
            );
        }
        Err(Unready::Failed(why)) => {
            return html(
                StatusCode::BAD_REQUEST,
                &repo.name.0,
                &format!(
                    "{}<h1>{}</h1>\n<p>{}</p>",
                    header(&viewer),
                    escape(&repo.name.0),
                    escape(&why)
                ),
            );
        }
    };
    let (report, zone) = (&gathered.report, gathered.zone);
    let issue = d
        .store
        .summary_issue(&repo.name.0, &report.weeks.last().expect("weeks").week.name)
        .await
        .ok()
        .flatten();
    let web = crate::github::client::web_url_of(&d.viewers.api_url);
    let body = repository_page(&viewer, report, &web, issue, zone, d.now());
    html(StatusCode::OK, &repo.name.0, &body)
}

/// Gathers `repo`'s `week` in a task of its own: what a page cannot wait for goes on and is
/// kept for the next look.
fn start_gathering(
    d: &Dashboard,
    repo: &Repo,
    week: Option<String>,
    now: i64,
) -> tokio::task::JoinHandle<Result<Arc<Gathered>, String>> {
    let (figures, repo) = (Arc::clone(&d.figures), repo.clone());
    tokio::spawn(async move { figures.week(&repo, week.as_deref(), now).await })
}

/// Why a page has no figures for a repository.
enum Unready {
    /// They could not be read (what to tell the viewer).
    Failed(String),
    /// Not by the page's deadline: still being read.
    Pending,
}

impl Unready {
    fn why(self) -> String {
        match self {
            Unready::Failed(why) => why,
            Unready::Pending => "Still being read (GitHub is slow): reload in a moment.".to_owned(),
        }
    }
}

/// The figures `gathering` finds by `deadline`.
async fn gathered_by(
    deadline: tokio::time::Instant,
    gathering: tokio::task::JoinHandle<Result<Arc<Gathered>, String>>,
) -> Result<Arc<Gathered>, Unready> {
    match tokio::time::timeout_at(deadline, gathering).await {
        Ok(Ok(found)) => found.map_err(Unready::Failed),
        Ok(Err(_)) => Err(Unready::Failed(
            "Keel could not read its figures for this repository; try again.".to_owned(),
        )),
        Err(_) => Err(Unready::Pending),
    }
}

/// The repositories Keel is installed on that the viewer can read, by name.
async fn visible(d: &Dashboard, viewer: &ViewerSession) -> anyhow::Result<Vec<Repo>> {
    let mut repos: Vec<Repo> = d
        .store
        .installed_repos()
        .await?
        .into_iter()
        .filter(|(name, _)| viewer.repos.binary_search(&name.to_lowercase()).is_ok())
        .map(|(name, installation)| Repo {
            installation: InstallationId(installation),
            name: RepoName(name),
        })
        .collect();
    repos.sort_by(|a, b| a.name.0.cmp(&b.name.0));
    Ok(repos)
}

fn header(viewer: &ViewerSession) -> String {
    format!(
        "<nav><a href=\"/dashboard\">Keel</a> · signed in as {} \
         <form method=\"post\" action=\"/dashboard/logout\" style=\"display:inline\"><button type=\"submit\" style=\"padding:0 .5rem\">Sign out</button></form></nav>\n",
        escape(&viewer.login)
    )
}

fn repository_page(
    viewer: &ViewerSession,
    report: &WeeklyReport,
    web: &str,
    issue: Option<u64>,
    zone: Zone,
    now: i64,
) -> String {
    let this = report.weeks.last().expect("gather gives weeks");
    let mut s = header(viewer);
    let _ = writeln!(
        s,
        "<h1>{}</h1>\n<p>{}</p>",
        escape(&report.repo),
        escape(&dates(&this.week.name))
    );
    let before = this.week.previous(zone);
    let _ = write!(
        s,
        "<p><a href=\"?week={}\">← {}</a>",
        escape(&before.name),
        escape(short(&before.name))
    );
    let next = Week::containing(this.week.end, zone);
    if next.end <= now {
        let _ = write!(
            s,
            " · <a href=\"?week={}\">{} →</a>",
            escape(&next.name),
            escape(short(&next.name))
        );
    }
    if let Some(number) = issue {
        let _ = write!(
            s,
            " · <a href=\"{}/{}/issues/{number}\">this week's summary issue</a>",
            escape(web),
            escape(&report.repo)
        );
    }
    s.push_str("</p>\n");
    if this.observed {
        let per_week = report.deployments_per_week();
        s.push_str("<h2>Delivery (DORA)</h2>\n<table>\n<thead><tr><th>Metric</th><th>This week</th><th>Measured over</th><th>Performance</th></tr></thead>\n<tbody>\n");
        let _ = writeln!(
            s,
            "<tr><td>Deployment frequency</td><td>{}</td><td>this week</td><td>{} ({per_week:.1} a week)</td></tr>",
            this.deployments,
            escape(&performer(Some(bands::deployment_frequency(per_week))))
        );
        let of =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        for (metric, value, band, text, sample) in [
            (
                "Lead time for changes",
                this.lead_time_hours,
                bands::lead_time as fn(f64) -> _,
                hours(this.lead_time_hours),
                format!(
                    "median of {}",
                    of(this.lead_time_changes, "change", "changes")
                ),
            ),
            (
                "Change failure rate",
                this.change_failure_rate,
                bands::change_failure_rate,
                percent(this.change_failure_rate),
                of(this.deployments as usize, "deployment", "deployments"),
            ),
            (
                "Time to restore",
                this.time_to_restore_hours,
                bands::time_to_restore,
                hours(this.time_to_restore_hours),
                format!("median of {}", of(this.restores, "restore", "restores")),
            ),
        ] {
            let _ = writeln!(
                s,
                "<tr><td>{metric}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&text),
                escape(&sample),
                escape(&performer(value.map(band)))
            );
        }
        s.push_str("</tbody>\n</table>\n");
        let _ = writeln!(
            s,
            "<details><summary>What these mean</summary>\n<p>{}</p>\n<p>{}</p>\n</details>",
            escape(&definitions(report, this)),
            escape(BANDS)
        );
    } else {
        s.push_str(
            "<p>Keel had recorded nothing by the end of this week: no delivery figures yet.</p>\n",
        );
    }
    let failed = what_failed(report, this);
    if !failed.is_empty() {
        s.push_str("<h2>What failed</h2>\n<ul>\n");
        for line in failed {
            let _ = writeln!(s, "<li>{}</li>", with_code(&line));
        }
        s.push_str("</ul>\n");
    }
    trends(report, &mut s);
    merged(report, web, &mut s);
    waivers(report, web, &mut s);
    s
}

/// Eight weeks: charts, and the table with the same numbers.
fn trends(report: &WeeklyReport, s: &mut String) {
    let weekly = |f: fn(&keel_core::summary::dora::WeekMetrics) -> Option<f64>| {
        report
            .weeks
            .iter()
            .map(|w| {
                (
                    short(&w.week.name).to_owned(),
                    format!("?week={}", w.week.name),
                    if w.observed { f(w) } else { None },
                )
            })
            .collect::<Vec<_>>()
    };
    s.push_str("<h2>Trends</h2>\n");
    s.push_str(&chart::line(&Series {
        title: "Deployments a week",
        points: weekly(|w| Some(w.deployments as f64)),
        format: |v| format!("{v:.0}"),
        target: None,
    }));
    s.push_str(&chart::line(&Series {
        title: "Lead time for changes (median)",
        points: weekly(|w| w.lead_time_hours),
        format: |v| hours(Some(v)),
        target: None,
    }));
    s.push_str(&chart::line(&Series {
        title: "Total line coverage on the default branch",
        points: report
            .health
            .iter()
            .map(|h| {
                (
                    short(&h.week).to_owned(),
                    format!("?week={}", h.week),
                    h.coverage,
                )
            })
            .collect(),
        format: |v| format!("{v:.1}%"),
        target: report
            .coverage_target
            .map(|t| (t, format!("target {t:.0}%"))),
    }));
    s.push_str("<table>\n<thead><tr><th>Week</th><th>Deployments</th><th>Lead time</th><th>Change failure rate</th><th>Time to restore</th><th>Coverage</th><th>Open findings</th></tr></thead>\n<tbody>\n");
    for (w, h) in report.weeks.iter().zip(&report.health) {
        let coverage = h
            .coverage
            .map_or("no data".to_owned(), |c| format!("{c:.1}%"));
        let findings = h.findings.map_or("no data".to_owned(), |f| f.to_string());
        if w.observed {
            let _ = writeln!(
                s,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{coverage}</td><td>{findings}</td></tr>",
                escape(short(&w.week.name)),
                w.deployments,
                hours(w.lead_time_hours),
                percent(w.change_failure_rate),
                hours(w.time_to_restore_hours),
            );
        } else {
            let _ = writeln!(
                s,
                "<tr><td>{}</td><td colspan=\"4\">no data</td><td>{coverage}</td><td>{findings}</td></tr>",
                escape(short(&w.week.name)),
            );
        }
    }
    s.push_str("</tbody>\n</table>\n");
}

/// The pull requests merged in the week.
fn merged(report: &WeeklyReport, web: &str, s: &mut String) {
    let _ = writeln!(
        s,
        "<h2>Merged this week</h2>\n<p>Definition of done met: {} · debt paid down in {:.0}% of merged pull requests</p>",
        pass_rate(report),
        report.debt_share() * 100.0
    );
    if report.merged.is_empty() {
        s.push_str("<p>No pull request was merged.</p>\n");
        return;
    }
    s.push_str("<table>\n<thead><tr><th>Pull request</th><th>Definition of done</th><th>Debt</th><th>Roadmap</th></tr></thead>\n<tbody>\n");
    for m in &report.merged {
        let _ = writeln!(
            s,
            "<tr><td><a href=\"{}/{}/pull/{}\">#{}</a> {}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(web),
            escape(&report.repo),
            m.number,
            m.number,
            escape(m.title.as_deref().unwrap_or("")),
            escape(match m.dod.as_deref() {
                Some("success") => "met",
                Some(_) => "not met",
                None => "not judged",
            }),
            escape(m.debt.as_deref().unwrap_or("—")),
            escape(&m.roadmap_items.join(", ")),
        );
    }
    s.push_str("</tbody>\n</table>\n");
}

/// Waivers given in the week, and those in force that end soon: debt taken on purpose.
fn waivers(report: &WeeklyReport, web: &str, s: &mut String) {
    if report.waivers.is_empty() && report.waivers_in_force.is_empty() {
        return;
    }
    s.push_str("<h2>Waivers</h2>\n<table>\n<thead><tr><th>Pull request</th><th>Criterion</th><th>By</th><th>Why</th><th>Until</th></tr></thead>\n<tbody>\n");
    for w in report.waivers.iter().chain(&report.waivers_in_force) {
        let _ = writeln!(
            s,
            "<tr><td><a href=\"{}/{}/pull/{}\">#{}</a></td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(web),
            escape(&report.repo),
            w.number,
            w.number,
            escape(&w.criterion),
            escape(&w.by),
            escape(&w.reason),
            w.until
                .as_ref()
                .map_or("—".to_owned(), |d| escape(&d.to_string())),
        );
    }
    s.push_str("</tbody>\n</table>\n");
}

/// "80% of 5" (judged merged pull requests that met their definition of done).
fn pass_rate(report: &WeeklyReport) -> String {
    report.dod_pass_rate().map_or("—".to_owned(), |(rate, n)| {
        format!("{:.0}% of {n}", rate * 100.0)
    })
}

/// `W48` of `2026-W48`.
fn short(week: &str) -> &str {
    week.rsplit('-').next().unwrap_or(week)
}

fn unavailable(e: &anyhow::Error) -> Response {
    tracing::warn!(error = format!("{e:#}"), "dashboard page failed");
    html(
        StatusCode::SERVICE_UNAVAILABLE,
        "Try again",
        "<h1>Try again</h1>\n<p>Keel could not read what this page shows. Try again in a moment.</p>",
    )
}
