//! What an unauthenticated client can make the listener hold before a signature is checked:
//! a global budget of body bytes in flight, a wait for room in it, and a deadline for reading
//! a body. Over the budget a delivery waits briefly, then is refused with 503 (GitHub shows it
//! as failed, to be redelivered); a body that trickles in slower than the deadline gets 408.

use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The budget's unit: a body costs one permit per KiB (rounded up).
const UNIT: u64 = 1024;

/// Limits on what requests may hold before they are authenticated.
#[derive(Debug)]
pub struct IntakeGuard {
    budget: Arc<Semaphore>,
    capacity_kib: u32,
    /// Longest wait for room in the budget.
    pub wait: Duration,
    /// Longest time to read one body.
    pub body_timeout: Duration,
}

/// Why a body may not be read now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Bodies in flight fill the budget and did not make room in time.
    Busy,
}

impl IntakeGuard {
    /// A guard holding at most `in_flight_bytes` of bodies at once.
    pub fn new(in_flight_bytes: u64, wait: Duration, body_timeout: Duration) -> IntakeGuard {
        let capacity_kib =
            u32::try_from(in_flight_bytes.div_ceil(UNIT)).unwrap_or(Semaphore::MAX_PERMITS as u32);
        IntakeGuard {
            budget: Arc::new(Semaphore::new(capacity_kib as usize)),
            capacity_kib,
            wait,
            body_timeout,
        }
    }

    /// Room for a body of `bytes` (the declared length, or the largest accepted when none is
    /// declared), held until the returned permit is dropped.
    pub async fn admit(&self, bytes: u64) -> Result<OwnedSemaphorePermit, Refusal> {
        let kib = u32::try_from(bytes.div_ceil(UNIT))
            .unwrap_or(u32::MAX)
            .clamp(1, self.capacity_kib.max(1));
        let budget = Arc::clone(&self.budget);
        match tokio::time::timeout(self.wait, budget.acquire_many_owned(kib)).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(Refusal::Busy),
        }
    }

    /// Bytes of room left in the budget now (for tests and metrics).
    pub fn available_bytes(&self) -> u64 {
        self.budget.available_permits() as u64 * UNIT
    }
}

impl Default for IntakeGuard {
    /// 64 MiB in flight, a 2 s wait for room, 10 s to read a body (GitHub waits 10 s for an
    /// answer in all).
    fn default() -> IntakeGuard {
        IntakeGuard::new(
            64 * 1024 * 1024,
            Duration::from_secs(2),
            Duration::from_secs(10),
        )
    }
}
