//! What an unauthenticated client can make the listener hold before a signature is checked:
//! a global budget of body bytes in flight, a wait for room in it, and a deadline for reading
//! a body. Room is taken as the bytes arrive, never for a length only declared: a client that
//! declares a large body and sends nothing holds nothing. Over the budget a delivery waits
//! briefly, then is refused with 503 (GitHub shows it as failed, to be redelivered); a body
//! that trickles in slower than the deadline gets 408.

use axum::body::{Body, Bytes};
use http_body_util::BodyExt;
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

/// Why a body was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Bodies in flight fill the budget and did not make room in time.
    Busy,
    /// The body is longer than the limit.
    TooLarge,
    /// The connection failed while the body was read.
    Broken,
}

/// Room in the budget held for a body read; given back when dropped.
#[derive(Debug, Default)]
pub struct Held {
    permit: Option<OwnedSemaphorePermit>,
}

impl Held {
    /// KiB held.
    fn kib(&self) -> u64 {
        self.permit.as_ref().map_or(0, |p| p.num_permits() as u64)
    }

    fn add(&mut self, more: OwnedSemaphorePermit) {
        match &mut self.permit {
            Some(held) => held.merge(more),
            None => self.permit = Some(more),
        }
    }
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

    /// A guard for `keel upload` bodies: at most `in_flight_bytes` together, 10 s to wait
    /// for room and 120 s to read one (an authenticated client on a slow CI link).
    pub fn for_uploads(in_flight_bytes: u64) -> IntakeGuard {
        IntakeGuard::new(
            in_flight_bytes,
            Duration::from_secs(10),
            Duration::from_secs(120),
        )
    }

    /// Reads `body`, at most `limit` bytes, taking room in the budget for each part as it
    /// arrives (waiting at most [`wait`](Self::wait) for it); the room stays held until the
    /// returned [`Held`] is dropped. The caller bounds the whole read with
    /// [`body_timeout`](Self::body_timeout).
    pub async fn read(&self, mut body: Body, limit: usize) -> Result<(Bytes, Held), Refusal> {
        let mut held = Held::default();
        let mut bytes = Vec::new();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|_| Refusal::Broken)?;
            let Ok(data) = frame.into_data() else {
                continue; // trailers: nothing to hold
            };
            if bytes.len() + data.len() > limit {
                return Err(Refusal::TooLarge);
            }
            let total = (bytes.len() + data.len()) as u64;
            let wanted = total
                .div_ceil(UNIT)
                .min(u64::from(self.capacity_kib.max(1)));
            if wanted > held.kib() {
                let more = u32::try_from(wanted - held.kib()).unwrap_or(u32::MAX);
                let budget = Arc::clone(&self.budget);
                match tokio::time::timeout(self.wait, budget.acquire_many_owned(more)).await {
                    Ok(Ok(permit)) => held.add(permit),
                    _ => return Err(Refusal::Busy),
                }
            }
            bytes.extend_from_slice(&data);
        }
        Ok((Bytes::from(bytes), held))
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
