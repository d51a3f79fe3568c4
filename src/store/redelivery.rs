//! What the redelivery of missed webhooks needs: whether Keel stored a delivery, and how far
//! back GitHub's delivery log was read.

use super::{Store, on_pool};
use anyhow::Context;

impl Store {
    /// Whether Keel stored the delivery with id `guid` (the `X-GitHub-Delivery` header), so
    /// it will be processed whatever GitHub recorded of Keel's answer. Deliveries are kept
    /// with their jobs, for the retention period.
    pub async fn delivery_stored(&self, guid: &str) -> anyhow::Result<bool> {
        let row: Option<(i64,)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT id FROM jobs WHERE delivery_id = $1",
        )
        .bind(guid)
        .fetch_optional(pool)
        .await)
        .context("look up a delivery")?;
        Ok(row.is_some())
    }

    /// How often Keel asked GitHub to deliver `guid` again.
    pub async fn redelivery_asks(&self, guid: &str) -> anyhow::Result<i64> {
        let row: Option<(i64,)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT asks FROM redelivery_asks WHERE guid = $1",
        )
        .bind(guid)
        .fetch_optional(pool)
        .await)
        .context("read how often a delivery was asked for")?;
        Ok(row.map_or(0, |r| r.0))
    }

    /// Counts one more ask for `guid` at `at`, and forgets asks older than `forget_before`
    /// (GitHub redelivers nothing that old).
    pub async fn count_redelivery_ask(
        &self,
        guid: &str,
        at: i64,
        forget_before: i64,
    ) -> anyhow::Result<()> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO redelivery_asks (guid, asks, asked_at) VALUES ($1, 1, $2) \
                 ON CONFLICT (guid) DO UPDATE SET asks = redelivery_asks.asks + 1, asked_at = excluded.asked_at",
            )
            .bind(guid)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM redelivery_asks WHERE asked_at < $1")
                .bind(forget_before)
                .execute(&mut *tx)
                .await?;
            tx.commit().await
        })
        .context("count an ask for a delivery")
    }

    /// Up to when GitHub's delivery log was last read, unix ms.
    pub async fn redelivery_scanned_until(&self) -> anyhow::Result<Option<i64>> {
        let row: Option<(i64,)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT scanned_until FROM redelivery_scans WHERE id = 1",
        )
        .fetch_optional(pool)
        .await)
        .context("read when the delivery log was last read")?;
        Ok(row.map(|r| r.0))
    }

    /// Records that GitHub's delivery log was read up to `at` (never moving back).
    pub async fn set_redelivery_scanned_until(&self, at: i64) -> anyhow::Result<()> {
        on_pool!(self, pool => sqlx::query(
            "INSERT INTO redelivery_scans (id, scanned_until) VALUES (1, $1) ON CONFLICT (id) \
             DO UPDATE SET scanned_until = excluded.scanned_until \
             WHERE excluded.scanned_until > redelivery_scans.scanned_until",
        )
        .bind(at)
        .execute(pool)
        .await
        .map(|_| ()))
        .context("record when the delivery log was read")
    }
}
