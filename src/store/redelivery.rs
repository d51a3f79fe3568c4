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
