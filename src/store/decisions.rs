//! Comment commands' bookkeeping: which comments ran (a redelivery does nothing twice, a
//! retried job replies once) and the decisions they took on pull requests (waivers, links,
//! debt calls), each bound to the head commit it was given on. Ended decisions keep their
//! rows: a waiver is debt taken on purpose, on the record.

use super::{Store, on_pool};
use anyhow::Context;

/// Where someone pushed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushedTo<'a> {
    /// A pull request's head (its `synchronize`).
    PullRequest(u64),
    /// A branch of the repository (its `push`), before or after a pull request is opened.
    Branch(&'a str),
}

impl PushedTo<'_> {
    fn key(self) -> String {
        match self {
            PushedTo::PullRequest(number) => format!("pull/{number}"),
            PushedTo::Branch(name) => format!("branch/{name}"),
        }
    }
}

/// How far a comment's commands got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentProgress {
    /// Not run before.
    New,
    /// A run began (a retry): its reply was posted or not.
    Begun {
        /// The one reply is already posted.
        replied: bool,
    },
    /// Ran to the end: a redelivery does nothing.
    Done,
}

/// SQL: pull request `$2` of repository `$1` has new decisions; its verdicts stop counting.
const BUMP_DECIDED: &str =
    "UPDATE pull_requests SET decided = decided + 1 WHERE repo = $1 AND number = $2";

/// A decision to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDecision {
    /// The pull request.
    pub number: u64,
    /// The comment it was written in.
    pub comment_id: u64,
    /// `waiver`, `link` or `debt`: the latest decision per topic and subject counts.
    pub topic: &'static str,
    /// The criterion id, the roadmap item, or empty for `debt`.
    pub subject: String,
    /// The verb (`waive`, `link`, `unlink`, `debt`).
    pub verb: &'static str,
    /// Why (a waiver's reason), or the debt call.
    pub reason: String,
    /// A waiver's last day, `YYYY-MM-DD`.
    pub until: Option<String>,
    /// Who.
    pub by: String,
    /// The head commit it was given on.
    pub head_sha: String,
    /// The base branch it was given against.
    pub base_ref: String,
    /// The giver's permission on the repository then (GitHub's role name).
    pub permission: String,
    /// When, unix ms.
    pub at: i64,
}

/// A recorded decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDecision {
    /// The pull request.
    pub number: u64,
    /// `waiver`, `link` or `debt`.
    pub topic: String,
    /// The criterion id, the roadmap item, or empty.
    pub subject: String,
    /// The verb.
    pub verb: String,
    /// Why, or the debt call.
    pub reason: String,
    /// A waiver's last day, `YYYY-MM-DD`.
    pub until: Option<String>,
    /// Who.
    pub by: String,
    /// The head commit it was given on.
    pub head_sha: String,
    /// The base branch it was given against.
    pub base_ref: String,
    /// The giver's permission then.
    pub permission: String,
    /// When, unix ms.
    pub at: i64,
    /// When it ended (`unwaive`, a later call), unix ms.
    pub ended_at: Option<i64>,
}

const COLUMNS: &str = "number, topic, subject, verb, reason, until_day, given_by, head_sha, \
     base_ref, permission, given_at, ended_at";

/// A decision's columns, in [`COLUMNS`] order.
type DecisionRow = (
    i64,
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    String,
    String,
    String,
    i64,
    Option<i64>,
);

fn decision(row: DecisionRow) -> StoredDecision {
    let (
        number,
        topic,
        subject,
        verb,
        reason,
        until,
        by,
        head_sha,
        base_ref,
        permission,
        at,
        ended_at,
    ) = row;
    StoredDecision {
        number: u64::try_from(number).unwrap_or(0),
        topic,
        subject,
        verb,
        reason,
        until,
        by,
        head_sha,
        base_ref,
        permission,
        at,
        ended_at,
    }
}

impl Store {
    /// Marks a comment's commands as begun and says how far an earlier run got.
    pub async fn begin_comment(
        &self,
        repo: &str,
        kind: &str,
        comment_id: u64,
        now: i64,
    ) -> anyhow::Result<CommentProgress> {
        let id = i64::try_from(comment_id)?;
        let (inserted, row): (bool, (i64, Option<i64>)) = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let inserted = sqlx::query(
                "INSERT INTO command_comments (repo, kind, comment_id, seen_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (repo, kind, comment_id) DO NOTHING",
            )
            .bind(repo)
            .bind(kind)
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            let row = sqlx::query_as(
                "SELECT replied, done_at FROM command_comments WHERE repo = $1 AND kind = $2 AND comment_id = $3",
            )
            .bind(repo)
            .bind(kind)
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>((inserted, row))
        })
        .context("record a comment's commands")?;
        Ok(match row {
            _ if inserted => CommentProgress::New,
            (_, Some(_)) => CommentProgress::Done,
            (replied, None) => CommentProgress::Begun {
                replied: replied == 1,
            },
        })
    }

    /// Marks a comment's one reply as posted, or its commands as done.
    pub async fn comment_progress(
        &self,
        repo: &str,
        kind: &str,
        comment_id: u64,
        done_at: Option<i64>,
    ) -> anyhow::Result<()> {
        let id = i64::try_from(comment_id)?;
        on_pool!(self, pool => match done_at {
            None => sqlx::query(
                "UPDATE command_comments SET replied = 1 WHERE repo = $1 AND kind = $2 AND comment_id = $3",
            )
            .bind(repo)
            .bind(kind)
            .bind(id)
            .execute(pool)
            .await,
            Some(at) => sqlx::query(
                "UPDATE command_comments SET done_at = $4 WHERE repo = $1 AND kind = $2 AND comment_id = $3",
            )
            .bind(repo)
            .bind(kind)
            .bind(id)
            .bind(at)
            .execute(pool)
            .await,
        }
        .map(|_| ()))
        .context("record a comment's progress")
    }

    /// Records a decision: earlier live ones on the same topic and subject end (the latest
    /// counts), and the pull request's verdicts stop counting ([`Store::decided`] moves on).
    /// Recording the same comment's decision again changes nothing.
    pub async fn record_decision(&self, repo: &str, d: &NewDecision) -> anyhow::Result<()> {
        let number = i64::try_from(d.number)?;
        let comment = i64::try_from(d.comment_id)?;
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let ended = sqlx::query(
                "UPDATE decisions SET ended_at = $1, ended_by = $2 WHERE repo = $3 AND number = $4 \
                 AND topic = $5 AND subject = $6 AND ended_at IS NULL AND comment_id <> $7",
            )
            .bind(d.at)
            .bind(&d.by)
            .bind(repo)
            .bind(number)
            .bind(d.topic)
            .bind(&d.subject)
            .bind(comment)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            let added = sqlx::query(
                "INSERT INTO decisions (repo, number, comment_id, topic, subject, verb, reason, until_day, given_by, head_sha, given_at, base_ref, permission) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
                 ON CONFLICT (repo, number, comment_id, topic, subject) DO NOTHING",
            )
            .bind(repo)
            .bind(number)
            .bind(comment)
            .bind(d.topic)
            .bind(&d.subject)
            .bind(d.verb)
            .bind(&d.reason)
            .bind(&d.until)
            .bind(&d.by)
            .bind(&d.head_sha)
            .bind(d.at)
            .bind(&d.base_ref)
            .bind(&d.permission)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if ended + added > 0 {
                sqlx::query(BUMP_DECIDED)
                    .bind(repo)
                    .bind(number)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await
        })
        .context("record a decision")
    }

    /// Ends the live decision on `topic` and `subject` (`/keel unwaive`); whether there was one.
    /// The pull request's verdicts stop counting when it ends one.
    pub async fn end_decision(
        &self,
        repo: &str,
        number: u64,
        topic: &str,
        subject: &str,
        by: &str,
        at: i64,
    ) -> anyhow::Result<bool> {
        let number = i64::try_from(number)?;
        let ended = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let ended = sqlx::query(
                "UPDATE decisions SET ended_at = $1, ended_by = $2 WHERE repo = $3 AND number = $4 \
                 AND topic = $5 AND subject = $6 AND ended_at IS NULL",
            )
            .bind(at)
            .bind(by)
            .bind(repo)
            .bind(number)
            .bind(topic)
            .bind(subject)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if ended > 0 {
                sqlx::query(BUMP_DECIDED)
                    .bind(repo)
                    .bind(number)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await.map(|()| ended)
        })
        .context("end a decision")?;
        Ok(ended > 0)
    }

    /// How many times the decisions on pull request `number` changed (0 for one Keel does not
    /// track yet). A judgement reads it **before** the decisions it applies and stamps its
    /// verdict with it (`HeadVerdict::decided`): a decision recorded
    /// meanwhile moves it on, and that verdict does not count.
    pub async fn decided(&self, repo: &str, number: u64) -> anyhow::Result<i64> {
        let number = i64::try_from(number)?;
        let row: Option<(i64,)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT decided FROM pull_requests WHERE repo = $1 AND number = $2",
        )
        .bind(repo)
        .bind(number)
        .fetch_optional(pool)
        .await)
        .context("read how often a pull request's decisions changed")?;
        Ok(row.map_or(0, |r| r.0))
    }

    /// The live decisions on a pull request, oldest first.
    pub async fn live_decisions(
        &self,
        repo: &str,
        number: u64,
    ) -> anyhow::Result<Vec<StoredDecision>> {
        let number = i64::try_from(number)?;
        let sql = format!(
            "SELECT {COLUMNS} FROM decisions WHERE repo = $1 AND number = $2 AND ended_at IS NULL ORDER BY given_at, comment_id"
        );
        let rows: Vec<DecisionRow> =
            on_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(repo)
            .bind(number)
            .fetch_all(pool)
            .await)
            .context("read a pull request's decisions")?;
        Ok(rows.into_iter().map(decision).collect())
    }

    /// The waivers given in `[from, to)` (unix ms), ended or not, oldest first.
    pub async fn waivers_given(
        &self,
        repo: &str,
        from: i64,
        to: i64,
    ) -> anyhow::Result<Vec<StoredDecision>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM decisions WHERE repo = $1 AND topic = 'waiver' AND given_at >= $2 AND given_at < $3 ORDER BY given_at"
        );
        let rows: Vec<DecisionRow> =
            on_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(repo)
            .bind(from)
            .bind(to)
            .fetch_all(pool)
            .await)
            .context("read waivers")?;
        Ok(rows.into_iter().map(decision).collect())
    }

    /// The waivers given before `at` (unix ms), not ended by then, whose end day falls in
    /// `[from_day, to_day]` (`YYYY-MM-DD`), on pull requests not merged by then: the ones a
    /// summary warns about before they end.
    pub async fn waivers_ending(
        &self,
        repo: &str,
        at: i64,
        from_day: &str,
        to_day: &str,
    ) -> anyhow::Result<Vec<StoredDecision>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM decisions WHERE repo = $1 AND topic = 'waiver' AND given_at < $2 \
             AND (ended_at IS NULL OR ended_at >= $2) AND until_day >= $3 AND until_day <= $4 \
             AND number NOT IN (SELECT number FROM merged_pull_requests WHERE repo = $1 AND merged_at < $2) \
             ORDER BY given_at LIMIT 50"
        );
        let rows: Vec<DecisionRow> =
            on_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(repo)
            .bind(at)
            .bind(from_day)
            .bind(to_day)
            .fetch_all(pool)
            .await)
            .context("read the waivers in force")?;
        Ok(rows.into_iter().map(decision).collect())
    }

    /// The head commit of a pull request's last evaluation, with the ids and titles of the
    /// criteria that failed there.
    pub async fn failed_criteria(
        &self,
        repo: &str,
        number: u64,
    ) -> anyhow::Result<(Option<String>, Vec<(String, String)>)> {
        let number = i64::try_from(number)?;
        let row: Option<(Option<String>, Option<String>, Option<String>)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT failed_ids, failed_criteria, failed_head FROM pull_requests WHERE repo = $1 AND number = $2",
        )
        .bind(repo)
        .bind(number)
        .fetch_optional(pool)
        .await)
        .context("read the failing criteria")?;
        let (ids, titles, head) = row.unwrap_or_default();
        let ids = ids.unwrap_or_default();
        let titles = titles.unwrap_or_default();
        let failing = ids
            .split('\n')
            .zip(titles.split('\n'))
            .filter(|(id, _)| !id.is_empty())
            .map(|(id, line)| (id.to_owned(), super::merged::criterion_line(line).0))
            .collect();
        Ok((head, failing))
    }

    /// Records that `login` pushed to `to` at `now`.
    pub async fn record_pusher(
        &self,
        repo: &str,
        to: PushedTo<'_>,
        login: &str,
        now: i64,
    ) -> anyhow::Result<()> {
        on_pool!(self, pool => sqlx::query(
            "INSERT INTO pushers (repo, pushed_to, login, pushed_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (repo, pushed_to, login) DO UPDATE SET pushed_at = excluded.pushed_at \
             WHERE excluded.pushed_at > pushers.pushed_at",
        )
        .bind(repo)
        .bind(to.key())
        .bind(login.to_lowercase())
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ()))
        .context("record who pushed")
    }

    /// Everyone who pushed to pull request `number` or, when given, to its head `branch` in
    /// the same repository; lowercased.
    pub async fn pushers(
        &self,
        repo: &str,
        number: u64,
        branch: Option<&str>,
    ) -> anyhow::Result<Vec<String>> {
        let pull = PushedTo::PullRequest(number).key();
        let branch = branch.map(|b| PushedTo::Branch(b).key());
        let rows: Vec<(String,)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT DISTINCT login FROM pushers WHERE repo = $1 AND pushed_to IN ($2, $3) ORDER BY login",
        )
        .bind(repo)
        .bind(&pull)
        .bind(branch.as_deref().unwrap_or(&pull))
        .fetch_all(pool)
        .await)
        .context("read who pushed")?;
        Ok(rows.into_iter().map(|(login,)| login).collect())
    }
}
