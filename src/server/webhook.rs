//! `POST /webhook`: limit → body read before its deadline, room in the in-flight budget
//! taken as its bytes arrive → signature → headers → parse → store → 202.

use super::guard::Refusal;
use super::{AppState, MAX_WEBHOOK_BYTES, signature};
use crate::github::event::{Parsed, parse_event};
use crate::metrics::Outcome;
use crate::store::Enqueued;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use secrecy::ExposeSecret;
use tracing::Instrument;

pub(super) async fn receive(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> (StatusCode, String) {
    let event = header(&headers, "x-github-event");
    let delivery = header(&headers, "x-github-delivery");
    let span = tracing::info_span!(
        "delivery",
        delivery = delivery.unwrap_or("-"),
        event = event.unwrap_or("-")
    );
    // Instrumented, never entered: an entered span held across an `.await` leaks into
    // whatever else runs on the thread meanwhile.
    let (outcome, status, message) = handle(&state, event, delivery, &headers, body)
        .instrument(span.clone())
        .await;
    state.metrics.delivery(event, outcome);
    span.in_scope(|| tracing::info!(status = status.as_u16(), outcome = ?outcome, "{message}"));
    (status, message)
}

async fn handle(
    state: &AppState,
    event: Option<&str>,
    delivery: Option<&str>,
    headers: &HeaderMap,
    body: Body,
) -> (Outcome, StatusCode, String) {
    // Counted from here so that a commit about to start waits for this delivery (see
    // `ingest`); dropped on every early answer.
    let arrival = state.ingest.arriving();
    let too_large = || {
        (
            Outcome::TooLarge,
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("body over {MAX_WEBHOOK_BYTES} bytes"),
        )
    };
    let declared = header(headers, "content-length").and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_WEBHOOK_BYTES as u64) {
        return too_large();
    }
    // Bytes are held before the signature can be checked: only those that arrived, only as
    // many as the budget has room for, and only as long as the deadline allows.
    let read = state.guard.read(body, MAX_WEBHOOK_BYTES);
    let (bytes, _room) = match tokio::time::timeout(state.guard.body_timeout, read).await {
        Ok(Ok(read)) => read,
        Ok(Err(Refusal::TooLarge)) => return too_large(),
        Ok(Err(Refusal::Busy)) => {
            return (
                Outcome::Busy,
                StatusCode::SERVICE_UNAVAILABLE,
                "too many bodies in flight; redeliver it".into(),
            );
        }
        Ok(Err(Refusal::Broken)) => {
            return (
                Outcome::Malformed,
                StatusCode::BAD_REQUEST,
                "the body could not be read".into(),
            );
        }
        Err(_) => {
            return (
                Outcome::TimedOut,
                StatusCode::REQUEST_TIMEOUT,
                "the body did not arrive in time".into(),
            );
        }
    };
    let valid = header(headers, "x-hub-signature-256").is_some_and(|sig| {
        signature::is_valid(state.webhook_secret.expose_secret().as_bytes(), &bytes, sig)
    });
    if !valid {
        return (
            Outcome::BadSignature,
            StatusCode::UNAUTHORIZED,
            "missing or invalid X-Hub-Signature-256".into(),
        );
    }
    let (Some(event), Some(delivery)) = (event, delivery) else {
        return (
            Outcome::Malformed,
            StatusCode::BAD_REQUEST,
            "X-GitHub-Event and X-GitHub-Delivery are required".into(),
        );
    };
    if delivery.is_empty() || delivery.len() > 128 {
        return (
            Outcome::Malformed,
            StatusCode::BAD_REQUEST,
            "X-GitHub-Delivery must be 1 to 128 characters".into(),
        );
    }
    let parsed = match parse_event(event, &bytes) {
        Ok(p) => p,
        Err(e) => return (Outcome::Malformed, StatusCode::BAD_REQUEST, e.to_string()),
    };
    let event_data = match parsed {
        Parsed::Ignored(reason) => {
            return (
                Outcome::Ignored,
                StatusCode::OK,
                format!("ignored: {reason}"),
            );
        }
        Parsed::Event(e) => e,
    };
    let job = crate::jobs::event_job(&event_data, Some(delivery.to_owned()), None, 0)
        .expect("an event is plain data");
    match state.ingest.submit(arrival, job).await {
        // Workers are woken only for a job they can claim: one that waits behind its pull
        // request's running job is claimed when that one finishes.
        Ok(Enqueued::Inserted) => {
            state.wake.notify_one();
            (Outcome::Accepted, StatusCode::ACCEPTED, "accepted".into())
        }
        Ok(Enqueued::Waiting) => (Outcome::Accepted, StatusCode::ACCEPTED, "accepted".into()),
        Ok(Enqueued::Duplicate) => (
            Outcome::Duplicate,
            StatusCode::OK,
            "already received".into(),
        ),
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "could not store the delivery");
            (
                Outcome::Failed,
                StatusCode::SERVICE_UNAVAILABLE,
                "could not store the delivery; redeliver it".into(),
            )
        }
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}
