//! The job queue's lanes, fair order and rate-limit parks (migration `0009_lanes`).
//!
//! - **Lanes.** Jobs with one serial key form a lane; only its head (the row `job_lanes`
//!   names) may be claimed. The jobs behind it are not in the claim index, so a claim never
//!   walks past a pull request's backlog: it reads the first row of `jobs_claimable`.
//! - **Fair order.** A head becomes claimable with a start tag `fair_at` (start-time fair
//!   queueing): the later of the queue's front and its repository's virtual clock. Each job
//!   moves its repository's clock on by [`FAIR_STEP_MS`] times the installation's busy
//!   repositories, so each installation gets an equal share of the workers and each busy
//!   repository an equal share of its installation's.
//! - **Parks.** An installation whose API budget is spent is parked until GitHub's reset: its
//!   claimable jobs are rescheduled for then and new heads wait too, without counting attempts.
//!
//! Every function here runs inside the caller's transaction.

use super::tx::{Arg, Tx};
use std::collections::{BTreeMap, HashMap, HashSet};

/// A job's nominal cost on its repository's virtual clock, ms. Only ratios matter: a
/// repository with `n` queued jobs ahead of the queue's front waits behind `n` steps.
pub const FAIR_STEP_MS: i64 = 1_000;
/// Rows per statement when many jobs change at once.
const CHUNK: usize = 256;

/// `(id, installation, fair group)` of a head that became claimable.
type DueHead = (i64, Option<i64>, Option<String>);

impl Tx {
    /// Takes the free lanes among `wanted` (serial key, job id; one per key): returns the ids
    /// that became their lane's head. Lanes are locked in key order, so two enqueues never
    /// deadlock.
    pub(super) async fn take_lanes(
        &mut self,
        mut wanted: Vec<(String, i64)>,
    ) -> sqlx::Result<HashSet<i64>> {
        wanted.sort();
        let mut heads = HashSet::new();
        for chunk in wanted.chunks(CHUNK) {
            let values = (0..chunk.len())
                .map(|i| format!("({}, {})", self.ph(2 * i + 1), self.ph(2 * i + 2)))
                .collect::<Vec<_>>()
                .join(", ");
            // On PostgreSQL `DO UPDATE` (a no-op) rather than `DO NOTHING`: it locks a busy
            // lane's row until this transaction ends, so the release of that lane waits and then
            // sees our job. SQLite runs one writer at a time: nothing to lock, and no page to
            // rewrite for every delivery of a busy pull request.
            let conflict = if self.is_postgres() {
                "DO UPDATE SET head = job_lanes.head"
            } else {
                "DO NOTHING"
            };
            let sql = format!(
                "INSERT INTO job_lanes (serial_key, head) VALUES {values} \
                 ON CONFLICT (serial_key) {conflict} RETURNING serial_key, head"
            );
            let args: Vec<Arg> = chunk
                .iter()
                .flat_map(|(key, id)| [Arg::Text(key), Arg::Int(*id)])
                .collect();
            let rows: Vec<(String, i64)> = self.rows(&sql, &args).await?;
            let mine: HashMap<&str, i64> = chunk.iter().map(|(k, id)| (k.as_str(), *id)).collect();
            heads.extend(
                rows.into_iter()
                    .filter(|(key, head)| mine.get(key.as_str()) == Some(head))
                    .map(|(_, head)| head),
            );
        }
        Ok(heads)
    }

    /// Passes lane `key` on from `holder` (which finished, was buried or was cancelled) to the
    /// oldest job queued in it, or frees the lane. Nothing when `holder` does not hold it.
    /// Returns whether a job became claimable.
    pub(super) async fn release_lane(
        &mut self,
        key: &str,
        holder: i64,
        now: i64,
    ) -> sqlx::Result<bool> {
        // Locks the lane: an enqueue into it waits for this transaction, or has committed and
        // its job is seen below.
        let held = self
            .exec(
                "UPDATE job_lanes SET head = head WHERE serial_key = $1 AND head = $2",
                &[Arg::Text(key), Arg::Int(holder)],
            )
            .await?;
        if held == 0 {
            return Ok(false);
        }
        let lock = if self.is_postgres() {
            " FOR UPDATE"
        } else {
            ""
        };
        let next: Vec<(i64,)> = self
            .rows(
                &format!(
                    "SELECT id FROM jobs WHERE serial_key = $1 AND state = 'queued' ORDER BY id LIMIT 1{lock}"
                ),
                &[Arg::Text(key)],
            )
            .await?;
        match next.first() {
            Some(&(id,)) => {
                self.exec(
                    "UPDATE job_lanes SET head = $1 WHERE serial_key = $2",
                    &[Arg::Int(id), Arg::Text(key)],
                )
                .await?;
                Ok(!self.schedule(&[id], now).await?.is_empty())
            }
            None => {
                self.exec(
                    "DELETE FROM job_lanes WHERE serial_key = $1",
                    &[Arg::Text(key)],
                )
                .await?;
                Ok(false)
            }
        }
    }

    /// Makes the lane heads `ids` claimable in fair order when they are due and their
    /// installation is not parked; the others wait (`ready = 2`) until they are. Returns the
    /// ids that became claimable.
    pub(super) async fn schedule(&mut self, ids: &[i64], now: i64) -> sqlx::Result<HashSet<i64>> {
        let mut claimable = HashSet::new();
        if ids.is_empty() {
            return Ok(claimable);
        }
        let parks: HashMap<i64, i64> = self
            .rows::<(i64, i64)>(
                "SELECT installation_id, until_ms FROM rate_parks WHERE until_ms > $1",
                &[Arg::Int(now)],
            )
            .await?
            .into_iter()
            .collect();
        for chunk in ids.chunks(CHUNK) {
            let sql = format!(
                "SELECT id, run_at, installation_id, fair_group FROM jobs WHERE id IN ({}) ORDER BY id",
                self.phs(1, chunk.len())
            );
            let args: Vec<Arg> = chunk.iter().map(|id| Arg::Int(*id)).collect();
            let jobs: Vec<(i64, i64, Option<i64>, Option<String>)> = self.rows(&sql, &args).await?;
            let mut due: Vec<DueHead> = Vec::new();
            let mut later: Vec<(i64, i64)> = Vec::new();
            for (id, run_at, installation, group) in jobs {
                let parked_until = installation
                    .and_then(|i| parks.get(&i).copied())
                    .unwrap_or(i64::MIN);
                let at = run_at.max(parked_until);
                if at <= now {
                    due.push((id, installation, group));
                } else {
                    later.push((id, at));
                }
            }
            self.set_by_id("ready = 2, run_at", &later).await?;
            let tags = self.fair_tags(&due, now).await?;
            self.set_by_id("ready = 1, fair_at", &tags).await?;
            claimable.extend(tags.iter().map(|(id, _)| *id));
        }
        Ok(claimable)
    }

    /// `UPDATE jobs SET {assignment} = <value of the row's id>` for `(id, value)` pairs;
    /// `assignment` ends with the column the value goes to.
    async fn set_by_id(&mut self, assignment: &str, values: &[(i64, i64)]) -> sqlx::Result<()> {
        for chunk in values.chunks(CHUNK) {
            let mut n = 0;
            let mut next = || {
                n += 1;
                self.ph(n)
            };
            let cases: String = chunk
                .iter()
                .map(|_| format!(" WHEN {} THEN {}", next(), next()))
                .collect();
            let list = (0..chunk.len())
                .map(|_| next())
                .collect::<Vec<_>>()
                .join(", ");
            // Only queued jobs: one cancelled meanwhile stays dead.
            let sql = format!(
                "UPDATE jobs SET {assignment} = CASE id{cases} END WHERE id IN ({list}) AND state = 'queued'"
            );
            let mut args: Vec<Arg> = chunk
                .iter()
                .flat_map(|(id, v)| [Arg::Int(*id), Arg::Int(*v)])
                .collect();
            args.extend(chunk.iter().map(|(id, _)| Arg::Int(*id)));
            self.exec(&sql, &args).await?;
        }
        Ok(())
    }

    /// Start tags for heads becoming claimable (in id order), moving their repositories'
    /// clocks on.
    async fn fair_tags(&mut self, due: &[DueHead], now: i64) -> sqlx::Result<Vec<(i64, i64)>> {
        if due.is_empty() {
            return Ok(Vec::new());
        }
        // The queue's front: where a repository with nothing queued joins.
        let front: Vec<(i64,)> = self
            .rows(
                "SELECT fair_at FROM jobs WHERE state = 'queued' AND ready = 1 ORDER BY fair_at, id LIMIT 1",
                &[],
            )
            .await?;
        let front = front.first().map_or(now, |r| r.0);
        let groups: Vec<&str> = {
            let mut g: Vec<&str> = due.iter().filter_map(|d| d.2.as_deref()).collect();
            g.sort_unstable();
            g.dedup();
            g
        };
        let installations: Vec<i64> = {
            let mut i: Vec<i64> = due.iter().filter_map(|d| d.1).collect();
            i.sort_unstable();
            i.dedup();
            i
        };
        let mut clocks: HashMap<String, i64> = HashMap::new();
        for chunk in groups.chunks(CHUNK) {
            let sql = format!(
                "SELECT fair_group, clock FROM fair_clocks WHERE fair_group IN ({})",
                self.phs(1, chunk.len())
            );
            let args: Vec<Arg> = chunk.iter().map(|g| Arg::Text(g)).collect();
            clocks.extend(self.rows::<(String, i64)>(&sql, &args).await?);
        }
        // Busy repositories per installation: those whose clock is ahead of the front.
        let mut busy: HashMap<i64, i64> = HashMap::new();
        for chunk in installations.chunks(CHUNK) {
            let sql = format!(
                "SELECT installation_id, COUNT(*) FROM fair_clocks WHERE installation_id IN ({}) AND clock > {} GROUP BY installation_id",
                self.phs(1, chunk.len()),
                self.ph(chunk.len() + 1)
            );
            let mut args: Vec<Arg> = chunk.iter().map(|i| Arg::Int(*i)).collect();
            args.push(Arg::Int(front));
            busy.extend(self.rows::<(i64, i64)>(&sql, &args).await?);
        }
        let mut tags = Vec::with_capacity(due.len());
        let mut moved: BTreeMap<String, (Option<i64>, i64)> = BTreeMap::new();
        for (id, installation, group) in due {
            let Some(group) = group else {
                tags.push((*id, front));
                continue;
            };
            let clock = clocks.get(group).copied();
            let tag = clock.map_or(front, |c| c.max(front));
            let share = match installation {
                Some(i) => {
                    let n = busy.entry(*i).or_insert(0);
                    if clock.is_none_or(|c| c <= front) {
                        *n += 1;
                    }
                    (*n).max(1)
                }
                None => 1,
            };
            let next = tag.saturating_add(FAIR_STEP_MS.saturating_mul(share));
            clocks.insert(group.clone(), next);
            moved.insert(group.clone(), (*installation, next));
            tags.push((*id, tag));
        }
        let moved: Vec<(String, (Option<i64>, i64))> = moved.into_iter().collect();
        for chunk in moved.chunks(CHUNK) {
            let mut n = 0;
            let values = chunk
                .iter()
                .map(|_| {
                    n += 3;
                    format!("({}, {}, {})", self.ph(n - 2), self.ph(n - 1), self.ph(n))
                })
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "INSERT INTO fair_clocks (fair_group, installation_id, clock) VALUES {values} \
                 ON CONFLICT (fair_group) DO UPDATE SET installation_id = excluded.installation_id, \
                 clock = CASE WHEN excluded.clock > fair_clocks.clock THEN excluded.clock ELSE fair_clocks.clock END"
            );
            let args: Vec<Arg> = chunk
                .iter()
                .flat_map(|(g, (i, c))| [Arg::Text(g), Arg::OptInt(*i), Arg::Int(*c)])
                .collect();
            self.exec(&sql, &args).await?;
        }
        Ok(tags)
    }

    /// Makes up to `limit` waiting heads whose time has come claimable (or parks them again).
    /// Returns how many became claimable.
    pub(super) async fn promote_due(&mut self, now: i64, limit: i64) -> sqlx::Result<usize> {
        let lock = if self.is_postgres() {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        let sql = format!(
            "UPDATE jobs SET ready = 0 WHERE id IN (SELECT id FROM jobs WHERE state = 'queued' AND ready = 2 \
             AND run_at <= $1 ORDER BY run_at, id LIMIT $2{lock}) RETURNING id"
        );
        let ids: Vec<(i64,)> = self.rows(&sql, &[Arg::Int(now), Arg::Int(limit)]).await?;
        let ids: Vec<i64> = ids.into_iter().map(|r| r.0).collect();
        Ok(self.schedule(&ids, now).await?.len())
    }

    /// Parks `installation` until `until` (unix ms): its claimable jobs wait until then, and
    /// so do its jobs that become claimable meanwhile. Returns how many jobs were put off.
    pub(super) async fn park(&mut self, installation: i64, until: i64) -> sqlx::Result<u64> {
        self.exec(
            "INSERT INTO rate_parks (installation_id, until_ms) VALUES ($1, $2) ON CONFLICT (installation_id) \
             DO UPDATE SET until_ms = CASE WHEN excluded.until_ms > rate_parks.until_ms THEN excluded.until_ms ELSE rate_parks.until_ms END",
            &[Arg::Int(installation), Arg::Int(until)],
        )
        .await?;
        self.exec(
            "UPDATE jobs SET ready = 2, run_at = CASE WHEN run_at > $1 THEN run_at ELSE $1 END \
             WHERE state = 'queued' AND ready = 1 AND installation_id = $2",
            &[Arg::Int(until), Arg::Int(installation)],
        )
        .await
    }
}
