//! What the gate needs to hold: one verdict per pull request at a head commit (the commit's
//! check run shows the worst of them), whether a tracked pull request is still open, and the
//! newest GitHub state Keel acted on, so that an older delivery never moves state backwards.

use super::{Store, on_pool};
use anyhow::Context;
use sqlx::Row;

/// Where one pull request's judgement of a head commit stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerdictState {
    /// Its definition of done is met.
    Success,
    /// Its definition of done is not met (or cannot be judged).
    Failure,
    /// Still waiting for reports or other checks.
    Waiting,
    /// Its base has no definition of done: it does not count.
    Exempt,
}

impl VerdictState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            VerdictState::Success => "success",
            VerdictState::Failure => "failure",
            VerdictState::Waiting => "waiting",
            VerdictState::Exempt => "exempt",
        }
    }

    fn parse(text: &str) -> VerdictState {
        match text {
            "success" => VerdictState::Success,
            "waiting" => VerdictState::Waiting,
            "exempt" => VerdictState::Exempt,
            // Anything unreadable counts against the change.
            _ => VerdictState::Failure,
        }
    }
}

/// One pull request's verdict on a head commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeadVerdict {
    /// The pull request (0: a merge group).
    pub number: u64,
    /// The branch it targets.
    pub base_ref: String,
    /// How it came out.
    pub state: VerdictState,
    /// The check run title it would show.
    pub title: String,
    /// The check run summary it would show.
    pub summary: String,
    /// Other check runs this verdict read or waits for: one of them completing judges again.
    pub checks: Vec<String>,
    /// Which finished workflow runs of the head judge it again.
    pub watch: Watch,
    /// The state of the pull request it was made for (its `state_digest`; `None` for a merge
    /// group). It counts only while the pull request is still in that state.
    pub state_digest: Option<String>,
    /// How many changes of the pull request's decisions (`/keel` waivers, links, debt calls)
    /// it was judged with ([`Store::decided`], read before the decisions): it counts only
    /// while no decision changed since.
    pub decided: i64,
}

/// Which finished workflow runs of its head a verdict is judged again for: a run costs an
/// evaluation (and its API calls) only when it can change the verdict.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Watch {
    /// None: it needs no reports, or read them already from some run (once per commit).
    #[default]
    Nothing,
    /// Any: it waits for reports from whichever run uploads them, or for a required check
    /// that fails once every workflow finished without it.
    AnyRun,
    /// Runs of this workflow file (`[reports] workflow`): a re-run brings new reports.
    Workflow(String),
}

impl Watch {
    fn as_str(&self) -> &str {
        match self {
            Watch::Nothing => "",
            Watch::AnyRun => "*",
            Watch::Workflow(file) => file,
        }
    }

    fn parse(stored: Option<&str>) -> Watch {
        match stored {
            Some("") => Watch::Nothing,
            None | Some("*") => Watch::AnyRun,
            Some(file) => Watch::Workflow(file.to_owned()),
        }
    }
}

/// An open pull request at a head commit that has no verdict on it yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unjudged {
    /// The pull request.
    pub number: u64,
}

fn id(v: u64) -> anyhow::Result<i64> {
    i64::try_from(v).context("an id beyond 2^63 cannot be stored")
}

/// How a pull request event's `updated_at` compares with the newest state Keel acted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// Newer (or Keel knows no time for either): act on it.
    Newer,
    /// The same second: GitHub's times are whole seconds, so the order is unknown; read the
    /// pull request as it is now instead of trusting the payload.
    Tie,
    /// Older: stale, act on nothing.
    Stale,
}

/// SQL: verdict `v` was made for the state pull request `p` is in now, with the decisions it
/// has now (no `/keel` decision recorded since it was judged). A verdict or a state Keel does
/// not know (a pull request found but not read yet) never matches: that pull request is
/// judged again. Verdicts from before states were kept were stamped with the state last
/// tracked when the column was added (migration 0015).
macro_rules! made_for_current_state {
    () => {
        "v.state_digest = p.state_digest AND v.decided = p.decided"
    };
}

impl Store {
    /// How a delivery of pull request `number` at `github_updated_at` with state `digest`
    /// compares with the newest state Keel acted on. The same second with the same state (a
    /// retry, a redelivery) counts as newer: it is that state.
    pub async fn pull_request_freshness(
        &self,
        repo: &str,
        number: u64,
        github_updated_at: Option<i64>,
        digest: &str,
    ) -> anyhow::Result<Freshness> {
        let number = id(number)?;
        let stored: Option<(Option<i64>, Option<String>)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT github_updated_at, state_digest FROM pull_requests WHERE repo = $1 AND number = $2",
        )
        .bind(repo)
        .bind(number)
        .fetch_optional(pool)
        .await)
        .context("read a pull request's last state")?;
        let (known, known_digest) = stored.unwrap_or_default();
        Ok(match (known, github_updated_at) {
            (Some(known), Some(at)) if at < known => Freshness::Stale,
            (Some(known), Some(at)) if at == known && known_digest.as_deref() != Some(digest) => {
                Freshness::Tie
            }
            _ => Freshness::Newer,
        })
    }

    /// Remembers that pull request `number` of `repo` is open at `head_sha`, unless Keel has
    /// already acted on a newer state of it (GitHub's `updated_at`, unix ms). Returns `false`
    /// for such a stale delivery: nothing was written and it must not be acted on.
    ///
    /// Its verdicts on other heads stop counting for good: the files GitHub lists for a pull
    /// request are those of its head when asked, so a judgement of an old head that raced a
    /// push may have read the new head's files. If the pull request comes back to that head
    /// (a force-push), it is judged again rather than shown green on that verdict.
    #[expect(
        clippy::too_many_arguments,
        reason = "one row's columns, named at the call"
    )]
    pub async fn track_fresh_pull_request(
        &self,
        repo: &str,
        number: u64,
        head_sha: &str,
        installation_id: u64,
        github_updated_at: Option<i64>,
        digest: &str,
        now: i64,
    ) -> anyhow::Result<bool> {
        let (number, installation) = (id(number)?, id(installation_id)?);
        let written = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let written = sqlx::query(
                "INSERT INTO pull_requests (repo, number, head_sha, installation_id, updated_at, github_updated_at, open, state_digest, head_since) \
                 VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $6) ON CONFLICT (repo, number) DO UPDATE SET \
                 head_since = CASE WHEN pull_requests.head_sha = excluded.head_sha \
                 THEN COALESCE(pull_requests.head_since, excluded.head_since) ELSE excluded.head_since END, \
                 head_sha = excluded.head_sha, installation_id = excluded.installation_id, \
                 updated_at = excluded.updated_at, open = 1, state_digest = excluded.state_digest, \
                 github_updated_at = COALESCE(excluded.github_updated_at, pull_requests.github_updated_at) \
                 WHERE pull_requests.github_updated_at IS NULL OR excluded.github_updated_at IS NULL \
                 OR excluded.github_updated_at >= pull_requests.github_updated_at",
            )
            .bind(repo)
            .bind(number)
            .bind(head_sha)
            .bind(installation)
            .bind(now)
            .bind(github_updated_at)
            .bind(digest)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if written > 0 {
                sqlx::query(
                    "UPDATE head_verdicts SET state_digest = NULL WHERE repo = $1 AND number = $2 \
                     AND head_sha <> $3 AND state_digest IS NOT NULL",
                )
                .bind(repo)
                .bind(number)
                .bind(head_sha)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await.map(|()| written)
        })
        .context("track a pull request")?;
        Ok(written > 0)
    }

    /// The head pull request `number` is tracked at, and since when (GitHub's time of the
    /// event that brought it, unix ms, when known).
    pub async fn head_since(
        &self,
        repo: &str,
        number: u64,
    ) -> anyhow::Result<Option<(String, Option<i64>)>> {
        let number = id(number)?;
        on_pool!(self, pool => sqlx::query_as(
            "SELECT head_sha, head_since FROM pull_requests WHERE repo = $1 AND number = $2",
        )
        .bind(repo)
        .bind(number)
        .fetch_optional(pool)
        .await)
        .context("read when a pull request got its head")
    }

    /// Tracks pull request `number` as open at `head_sha` when Keel has no record of it at
    /// all; returns whether it was added.
    pub async fn track_unknown_pull_request(
        &self,
        repo: &str,
        number: u64,
        head_sha: &str,
        installation_id: u64,
        now: i64,
    ) -> anyhow::Result<bool> {
        let (number, installation) = (id(number)?, id(installation_id)?);
        let added = on_pool!(self, pool => sqlx::query(
            "INSERT INTO pull_requests (repo, number, head_sha, installation_id, updated_at, open) \
             VALUES ($1, $2, $3, $4, $5, 1) ON CONFLICT (repo, number) DO NOTHING",
        )
        .bind(repo)
        .bind(number)
        .bind(head_sha)
        .bind(installation)
        .bind(now)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))
        .context("track a pull request Keel did not know")?;
        Ok(added > 0)
    }

    /// Marks pull request `number` closed (its verdicts stop counting) and returns the head
    /// it was at. Nothing changes (and `None` comes back) when Keel does not track it or has
    /// acted on a newer state of it than `github_updated_at`.
    pub async fn close_pull_request(
        &self,
        repo: &str,
        number: u64,
        github_updated_at: Option<i64>,
    ) -> anyhow::Result<Option<String>> {
        let number = id(number)?;
        let head: Option<(String,)> = on_pool!(self, pool => sqlx::query_as(
            "UPDATE pull_requests SET open = 0, \
             github_updated_at = COALESCE($3, github_updated_at) \
             WHERE repo = $1 AND number = $2 AND open = 1 \
             AND (github_updated_at IS NULL OR $3 IS NULL OR $3 >= github_updated_at) \
             RETURNING head_sha",
        )
        .bind(repo)
        .bind(number)
        .bind(github_updated_at)
        .fetch_optional(pool)
        .await)
        .context("mark a pull request closed")?;
        Ok(head.map(|(h,)| h))
    }

    /// Records one pull request's verdict on `head_sha` (replacing its earlier one).
    pub async fn record_head_verdict(
        &self,
        repo: &str,
        head_sha: &str,
        verdict: &HeadVerdict,
        now: i64,
    ) -> anyhow::Result<()> {
        let number = id(verdict.number)?;
        let checks = serde_json::to_string(&verdict.checks)?;
        on_pool!(self, pool => sqlx::query(
            "INSERT INTO head_verdicts (repo, head_sha, number, base_ref, state, title, summary, checks, judged_at, watch, state_digest, decided) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             ON CONFLICT (repo, head_sha, number) DO UPDATE SET \
             base_ref = excluded.base_ref, state = excluded.state, title = excluded.title, \
             summary = excluded.summary, checks = excluded.checks, judged_at = excluded.judged_at, \
             watch = excluded.watch, state_digest = excluded.state_digest, decided = excluded.decided",
        )
        .bind(repo)
        .bind(head_sha)
        .bind(number)
        .bind(&verdict.base_ref)
        .bind(verdict.state.as_str())
        .bind(&verdict.title)
        .bind(&verdict.summary)
        .bind(&checks)
        .bind(now)
        .bind(verdict.watch.as_str())
        .bind(verdict.state_digest.as_deref())
        .bind(verdict.decided)
        .execute(pool)
        .await
        .map(|_| ()))
        .context("record a head verdict")
    }

    /// Pull request `number`'s state `from` becomes `to` (Keel's own labels put on it), in
    /// its row and in its verdict on `head_sha`, unless a newer state was tracked meanwhile.
    pub async fn relabel(
        &self,
        repo: &str,
        number: u64,
        head_sha: &str,
        from: &str,
        to: &str,
    ) -> anyhow::Result<()> {
        let number = id(number)?;
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let moved = sqlx::query(
                "UPDATE pull_requests SET state_digest = $4 WHERE repo = $1 AND number = $2 AND state_digest = $3",
            )
            .bind(repo)
            .bind(number)
            .bind(from)
            .bind(to)
            .execute(&mut *tx)
            .await?;
            if moved.rows_affected() > 0 {
                sqlx::query(
                    "UPDATE head_verdicts SET state_digest = $5 WHERE repo = $1 AND number = $2 \
                     AND head_sha = $3 AND state_digest = $4",
                )
                .bind(repo)
                .bind(number)
                .bind(head_sha)
                .bind(from)
                .bind(to)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await
        })
        .context("record Keel's labels in a pull request's state")
    }

    /// The verdicts that count for `head_sha`: those of pull requests still open at it, made
    /// for the state they are in now (and of a merge group, number 0), by number; and the open
    /// pull requests at it that have none yet, or only one made before they changed (their
    /// judgement is pending, so the commit cannot be green).
    pub async fn head_verdicts(
        &self,
        repo: &str,
        head_sha: &str,
    ) -> anyhow::Result<(Vec<HeadVerdict>, Vec<Unjudged>)> {
        let verdicts = on_pool!(self, pool => sqlx::query(
            concat!(
                "SELECT v.number, v.base_ref, v.state, v.title, v.summary, v.checks, v.watch, v.state_digest, v.decided FROM head_verdicts v \
                 LEFT JOIN pull_requests p ON p.repo = v.repo AND p.number = v.number \
                 WHERE v.repo = $1 AND v.head_sha = $2 \
                 AND (v.number = 0 OR (p.open = 1 AND p.head_sha = v.head_sha AND ",
                made_for_current_state!(),
                ")) ORDER BY v.number"
            ),
        )
        .bind(repo)
        .bind(head_sha)
        .fetch_all(pool)
        .await
        .and_then(|rows| rows.iter().map(|r| {
            let checks: String = r.try_get("checks")?;
            Ok(HeadVerdict {
                number: u64::try_from(r.try_get::<i64, _>("number")?).unwrap_or_default(),
                base_ref: r.try_get("base_ref")?,
                state: VerdictState::parse(r.try_get::<&str, _>("state")?),
                title: r.try_get("title")?,
                summary: r.try_get("summary")?,
                checks: serde_json::from_str(&checks).unwrap_or_default(),
                watch: Watch::parse(r.try_get::<Option<&str>, _>("watch")?),
                state_digest: r.try_get("state_digest")?,
                decided: r.try_get("decided")?,
            })
        }).collect::<Result<Vec<_>, sqlx::Error>>()))
        .context("read the verdicts of a head commit")?;
        let unjudged: Vec<(i64,)> = on_pool!(self, pool => sqlx::query_as(
            concat!(
                "SELECT p.number FROM pull_requests p WHERE p.repo = $1 AND p.head_sha = $2 AND p.open = 1 \
                 AND NOT EXISTS (SELECT 1 FROM head_verdicts v WHERE v.repo = p.repo \
                 AND v.head_sha = p.head_sha AND v.number = p.number AND ",
                made_for_current_state!(),
                ") ORDER BY p.number"
            ),
        )
        .bind(repo)
        .bind(head_sha)
        .fetch_all(pool)
        .await)
        .context("find unjudged pull requests of a head commit")?;
        let unjudged = unjudged
            .into_iter()
            .map(|(n,)| Unjudged {
                number: u64::try_from(n).unwrap_or_default(),
            })
            .collect();
        Ok((verdicts, unjudged))
    }
}
