//! Enqueueing: jobs stored with one multi-row statement per chunk and one commit for all of
//! them (how concurrent deliveries share a commit), duplicates told apart by their keys, and
//! each new job placed in its lane.

use super::Store;
use super::jobs::{Enqueued, NewJob};
use super::tx::{Arg, Tx};
use anyhow::Context;
use std::collections::HashMap;

/// Rows per multi-row insert (10 parameters each, well under both databases' limits).
const MAX_ROWS_PER_INSERT: usize = 256;
/// Columns of a multi-row insert.
const INSERT_COLUMNS: usize = 10;

/// `INSERT … VALUES (…), (…) ON CONFLICT DO NOTHING RETURNING …` for `rows` jobs,
/// [`INSERT_COLUMNS`] parameters a row in column order.
fn multi_row_insert(tx: &Tx, rows: usize) -> String {
    let mut sql = String::from(
        "INSERT INTO jobs (kind, delivery_id, dedupe_key, serial_key, payload, run_at, installation_id, fair_group, created_at, updated_at) VALUES ",
    );
    for n in 1..=rows * INSERT_COLUMNS {
        sql.push_str(match n % INSERT_COLUMNS {
            1 if n == 1 => "(",
            1 => "), (",
            _ => ", ",
        });
        sql.push_str(&tx.ph(n));
    }
    sql.push(')');
    sql.push_str(" ON CONFLICT DO NOTHING RETURNING id, delivery_id, dedupe_key, serial_key");
    sql
}

/// A row the insert returned: id, delivery id, dedupe key, serial key.
type Returned = (i64, Option<String>, Option<String>, Option<String>);

/// The id each job of `chunk` was stored under (`None`: a duplicate), given the rows the
/// insert returned. A job with a key was stored if a returned row has that key and no earlier
/// job of the chunk claimed it; jobs without keys cannot conflict and take the keyless rows
/// in order.
fn stored_ids(chunk: &[NewJob], returned: &[Returned]) -> Vec<Option<i64>> {
    let mut delivered: HashMap<&str, i64> = returned
        .iter()
        .filter_map(|r| Some((r.1.as_deref()?, r.0)))
        .collect();
    let mut deduped: HashMap<&str, i64> = returned
        .iter()
        .filter(|r| r.1.is_none())
        .filter_map(|r| Some((r.2.as_deref()?, r.0)))
        .collect();
    let mut keyless = returned
        .iter()
        .filter(|r| r.1.is_none() && r.2.is_none())
        .map(|r| r.0);
    chunk
        .iter()
        .map(
            |job| match (job.delivery_id.as_deref(), job.dedupe_key.as_deref()) {
                (None, None) => keyless.next(),
                (Some(d), _) => delivered.remove(d),
                (None, Some(k)) => deduped.remove(k),
            },
        )
        .collect()
}

impl Store {
    /// Stores one job; a duplicate delivery id or dedupe key changes nothing.
    pub async fn enqueue(&self, job: &NewJob, now: i64) -> anyhow::Result<Enqueued> {
        Ok(self.enqueue_batch(std::slice::from_ref(job), now).await?[0])
    }

    /// Stores several jobs with one multi-row statement per chunk: one transaction (one
    /// fsync) for all of them. This is how concurrent webhook deliveries share a commit (group
    /// commit). Inserted rows come back through `RETURNING`, so duplicates (of stored jobs or
    /// within the batch) are told apart by their keys. Each new job joins its lane: the first
    /// of a free lane becomes claimable (or waits for its time), the others wait behind it.
    pub async fn enqueue_batch(&self, jobs: &[NewJob], now: i64) -> anyhow::Result<Vec<Enqueued>> {
        let mut out = Vec::with_capacity(jobs.len());
        for chunk in jobs.chunks(MAX_ROWS_PER_INSERT) {
            let mut tx = self.begin().await?;
            let sql = multi_row_insert(&tx, chunk.len());
            let args: Vec<Arg> = chunk
                .iter()
                .flat_map(|job| {
                    [
                        Arg::Text(&job.kind),
                        Arg::OptText(job.delivery_id.as_deref()),
                        Arg::OptText(job.dedupe_key.as_deref()),
                        Arg::OptText(job.serial_key.as_deref()),
                        Arg::Bytes(&job.payload),
                        Arg::Int(job.run_at),
                        Arg::OptInt(job.installation),
                        Arg::OptText(job.fair_group.as_deref()),
                        Arg::Int(now),
                        Arg::Int(now),
                    ]
                })
                .collect();
            let returned: Vec<Returned> = tx.rows(&sql, &args).await.context("insert jobs")?;
            let ids = stored_ids(chunk, &returned);
            let mut first_in_lane: HashMap<&str, i64> = HashMap::new();
            let mut heads = Vec::new();
            for (id, key, ..) in returned.iter().map(|r| (r.0, r.3.as_deref())) {
                match key {
                    Some(key) => {
                        let first = first_in_lane.entry(key).or_insert(id);
                        *first = (*first).min(id);
                    }
                    None => heads.push(id),
                }
            }
            let wanted = first_in_lane
                .into_iter()
                .map(|(k, id)| (k.to_owned(), id))
                .collect();
            heads.extend(
                tx.take_lanes(wanted)
                    .await
                    .context("join the jobs' lanes")?,
            );
            let claimable = tx.schedule(&heads, now).await.context("schedule jobs")?;
            tx.commit().await.context("commit jobs")?;
            out.extend(ids.into_iter().map(|id| match id {
                None => Enqueued::Duplicate,
                Some(id) if claimable.contains(&id) => Enqueued::Inserted,
                Some(_) => Enqueued::Waiting,
            }));
        }
        Ok(out)
    }
}
