//! Webhooks Keel never took are asked for again. GitHub does not redeliver a failed delivery
//! on its own: one that met an outage, a deploy or a full intake (503) would be lost, and a
//! change it announced (a pull request moved to a stricter base) never judged. Every few
//! minutes one job (deduplicated across replicas) reads the App's delivery log since the last
//! read and asks GitHub to deliver again each delivery that never got a 2xx answer and that
//! Keel did not store (counted in the store, whatever a read's window sees): [`MAX_ASKS`]
//! times at most when Keel's answer was an error, and at every read for as long as GitHub
//! keeps the delivery when Keel was shedding load (503) or did not answer: a flood that
//! keeps the intake full must not make Keel give up a delivery for good.

use super::{Context, JobError};
use crate::github::api::{ApiError, GitHubApi, HookDelivery};
use crate::github::event::Event;
use std::collections::BTreeMap;

/// How often the delivery log is read, ms.
pub const EVERY_MS: i64 = 10 * 60 * 1000;
/// How far before the last read each read starts (a delivery logged late is still seen), ms.
const OVERLAP_MS: i64 = 10 * 60 * 1000;
/// How far back the first read looks, ms.
const FIRST_LOOKBACK_MS: i64 = 60 * 60 * 1000;
/// GitHub redelivers deliveries of the past three days; a little less, ms.
const MAX_AGE_MS: i64 = 71 * 60 * 60 * 1000;
/// Most attempts read per run.
const MAX_LISTED: usize = 2_000;
/// Most redeliveries asked per run.
const MAX_ASKED: usize = 100;
/// Most times one delivery that Keel answered with an error is asked for again (then it is
/// given up, with a warning).
const MAX_ASKS: i64 = 3;
/// Most times one delivery that met a full intake (or no answer) is asked for again: one ask
/// per read for GitHub's three days.
const MAX_SHED_ASKS: i64 = MAX_AGE_MS / EVERY_MS + 1;

/// Enqueues this slot's read of the delivery log (once across replicas); whether it was new.
pub async fn enqueue(store: &crate::store::Store, now_ms: i64) -> anyhow::Result<bool> {
    let slot = now_ms.div_euclid(EVERY_MS);
    let job = super::event_job(
        &Event::RedeliverFailed,
        None,
        Some(format!("redeliver:{slot}")),
        now_ms,
    )?;
    Ok(store.enqueue(&job, now_ms).await?.stored())
}

/// Whether Keel's answer says the delivery may go through another time: no answer, a
/// timeout, a full intake, a server error, or a signature Keel could not check (its secret
/// being rotated). A malformed or oversized payload would be refused again.
fn worth_again(status: u16) -> bool {
    matches!(status, 0 | 401 | 408 | 429) || status >= 500
}

/// How often a delivery whose latest attempt got `status` is asked for again at most.
fn asks_allowed(status: u16) -> i64 {
    match status {
        // Keel's intake was full, or nothing answered: nothing about the delivery itself.
        0 | 503 => MAX_SHED_ASKS,
        _ => MAX_ASKS,
    }
}

/// Handles [`Event::RedeliverFailed`].
pub async fn run<G: GitHubApi>(ctx: &Context<'_, G>) -> Result<(), JobError> {
    let since = match ctx.store.redelivery_scanned_until().await? {
        Some(at) => at - OVERLAP_MS,
        None => ctx.now - FIRST_LOOKBACK_MS,
    }
    .max(ctx.now - MAX_AGE_MS);
    let attempts = match ctx.github.hook_deliveries(since, MAX_LISTED).await {
        Ok(attempts) => attempts,
        // A GitHub Enterprise Server without the delivery log: nothing to read, every time.
        Err(e) if e.is_not_found() => {
            tracing::info!(
                "GitHub has no webhook delivery log for the App: missed deliveries cannot be asked for again"
            );
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    if attempts.len() >= MAX_LISTED {
        tracing::warn!(
            listed = attempts.len(),
            "the delivery log holds more than one read takes: older failed deliveries are not asked for again"
        );
    }
    let mut by_guid: BTreeMap<&str, Vec<&HookDelivery>> = BTreeMap::new();
    for attempt in &attempts {
        by_guid.entry(&attempt.guid).or_default().push(attempt);
    }
    // Every delivery worth asking for again, least asked first, then oldest: a read that
    // stops at its cap never starves the ones it did not reach.
    let mut due: Vec<(i64, &str, &HookDelivery)> = Vec::new();
    for (guid, tries) in by_guid {
        if tries.iter().any(|t| (200..300).contains(&t.status_code)) {
            continue;
        }
        let Some(latest) = tries.iter().max_by_key(|t| (t.delivered_at, t.id)) else {
            continue;
        };
        if !worth_again(latest.status_code) || ctx.store.delivery_stored(guid).await? {
            continue;
        }
        let asks = ctx.store.redelivery_asks(guid).await?;
        if asks >= asks_allowed(latest.status_code) {
            tracing::warn!(
                guid,
                status = latest.status_code,
                asks,
                "a delivery was asked for again and still failed: not asked again"
            );
            continue;
        }
        due.push((asks, guid, latest));
    }
    due.sort_by_key(|(asks, _, latest)| (*asks, latest.delivered_at, latest.id));
    let more = due.len() > MAX_ASKED;
    if more {
        tracing::warn!(
            due = due.len(),
            "{MAX_ASKED} redeliveries are asked for in one read: the rest wait for the next"
        );
    }
    // Refused asks count too: a read makes at most MAX_ASKED requests.
    for (_, guid, latest) in due.into_iter().take(MAX_ASKED) {
        let refused = match ctx.github.redeliver(latest.id).await {
            Ok(()) => None,
            // GitHub will not deliver this one again (too old, gone): the others still go.
            Err(ApiError::Rejected { status, message }) => Some((status, message)),
            Err(e) => return Err(e.into()),
        };
        ctx.store
            .count_redelivery_ask(guid, ctx.now, ctx.now - MAX_AGE_MS)
            .await?;
        match refused {
            Some((status, message)) => tracing::warn!(
                guid,
                attempt = latest.id,
                status,
                message,
                "GitHub refused to deliver a missed webhook again"
            ),
            None => tracing::info!(
                guid,
                attempt = latest.id,
                status = latest.status_code,
                "asked GitHub to deliver a missed webhook again"
            ),
        }
    }
    // With some left for the next read, it reads this window again (they are still in it).
    if !more {
        ctx.store.set_redelivery_scanned_until(ctx.now).await?;
    }
    Ok(())
}
