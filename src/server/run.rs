//! Runs the GitHub App: the HTTP server and its workers, until SIGTERM or Ctrl-C. The server
//! receives, verifies and durably stores webhook deliveries; the workers run the stored jobs
//! against GitHub; an hourly step enqueues the weekly summaries that are due.

use crate::clock::now_ms;
use crate::github::client::GitHub;
use crate::jobs::worker::Worker;
use crate::metrics::Metrics;
use crate::server::listener::{CappedListener, IDLE_TIMEOUT};
use crate::server::settings::{MetricsAt, Settings};
use crate::server::{AppState, app, ingest::Ingest};
use crate::store::Store;
use anyhow::Context;
use std::sync::Arc;

/// Connections the metrics listener keeps open at once (scrapers are few).
const METRICS_CONNECTIONS: usize = 16;

/// Pages served beside the webhook, made from the store and the App's client once they are
/// ready (`None`: none). The server does not know them: they live in a room above it.
pub type Pages = Box<dyn FnOnce(&Store, &Arc<GitHub>) -> Option<axum::Router> + Send>;

/// Runs the server, with `pages` beside the webhook, until SIGTERM or Ctrl-C, then finishes
/// in-flight requests and exits.
pub async fn serve(settings: Settings, pages: Pages) -> anyhow::Result<()> {
    let store = Store::connect(settings.database_url()).await?;
    let metrics = Arc::new(Metrics::default());
    let github = Arc::new(
        GitHub::new(
            settings.app_id,
            &settings.private_key,
            &settings.github_api_url,
        )?
        .with_metrics(Arc::clone(&metrics)),
    );
    let pages = pages(&store, &github);
    let wake = Arc::new(tokio::sync::Notify::new());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let reports = Arc::new(crate::jobs::report_cache::ReportCache::default());
    let workers: Vec<_> = (0..settings.workers)
        .map(|_| {
            let worker = Worker::new(store.clone(), Arc::clone(&github))
                .with_metrics(Arc::clone(&metrics))
                .with_report_cache(Arc::clone(&reports))
                .with_lease_ms(settings.job_lease_ms)
                .with_max_crashes(settings.max_crashes);
            tokio::spawn(worker.run_loop(Arc::clone(&wake), stopped.clone(), None))
        })
        .collect();
    let scheduler = tokio::spawn(schedule_summaries(
        store.clone(),
        Arc::clone(&wake),
        stopped.clone(),
        settings.retention,
    ));
    let state = AppState {
        ingest: Ingest::start(store.intake_writer().await?, now_ms),
        store: store.clone(),
        webhook_secret: Arc::new(settings.webhook_secret),
        metrics,
        wake,
        guard: Arc::new(crate::server::guard::IntakeGuard::new(
            settings.max_in_flight_bytes,
            std::time::Duration::from_secs(2),
            std::time::Duration::from_secs(10),
        )),
        uploads: Arc::new(crate::server::guard::IntakeGuard::for_uploads(
            settings.max_in_flight_bytes,
        )),
    };
    let listener = CappedListener::new(
        tokio::net::TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("listen on {}", settings.listen))?,
        settings.max_connections,
        IDLE_TIMEOUT,
    );
    tracing::info!(
        addr = %axum::serve::Listener::local_addr(&listener)?,
        backend = store.backend(),
        app_id = settings.app_id,
        workers = settings.workers,
        "keel serve listening"
    );
    // `/metrics` on an address of its own when one is given (an internal port), beside the
    // webhook only when asked, else nowhere.
    let (router, metrics_server) = match settings.metrics_listen {
        MetricsAt::Own(addr) => {
            let metrics_listener = CappedListener::new(
                tokio::net::TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("listen on {addr} (KEEL_METRICS_LISTEN)"))?,
                METRICS_CONNECTIONS,
                IDLE_TIMEOUT,
            );
            tracing::info!(%addr, "metrics listening");
            let metrics_router = crate::server::metrics_app(state.clone());
            let mut stopping = stopped.clone();
            let task = tokio::spawn(async move {
                let shutdown = async move {
                    let _ = stopping.changed().await;
                };
                axum::serve(metrics_listener, metrics_router)
                    .with_graceful_shutdown(shutdown)
                    .await
            });
            (crate::server::intake(state), Some(task))
        }
        MetricsAt::Webhook => (app(state), None),
        MetricsAt::Nowhere => (crate::server::intake(state), None),
    };
    let router = match pages {
        Some(pages) => router.merge(pages),
        None => router,
    };
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("serve HTTP")?;
    let _ = stop.send(true);
    for worker in workers {
        let _ = worker.await;
    }
    let _ = scheduler.await;
    if let Some(task) = metrics_server {
        let _ = task.await;
    }
    store.close().await;
    tracing::info!("keel serve stopped");
    Ok(())
}

/// Every minute (and at once on start-up), enqueues this hour's summary checks and this
/// slot's read of the webhook delivery log (missed deliveries asked for again).
async fn schedule_summaries(
    store: Store,
    wake: Arc<tokio::sync::Notify>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
    retention: crate::store::Retention,
) {
    let mut last_prune = 0i64;
    while !*shutdown.borrow() {
        let now = now_ms();
        // Once an hour, what is past its retention goes (see `store::retention`).
        if now.saturating_sub(last_prune) >= 60 * 60 * 1000 {
            last_prune = now;
            match store.prune(now, retention).await {
                Ok(pruned) => tracing::info!(
                    payloads = pruned.payloads,
                    rows = pruned.rows,
                    "pruned old data"
                ),
                Err(e) => tracing::warn!(error = format!("{e:#}"), "pruning failed"),
            }
        }
        match crate::jobs::redeliver::enqueue(&store, now_ms()).await {
            Ok(true) => wake.notify_waiters(),
            Ok(false) => {}
            Err(e) => tracing::warn!(error = format!("{e:#}"), "redelivery scheduling failed"),
        }
        match crate::jobs::summary::enqueue_checks(&store, now_ms()).await {
            Ok(n) if n > 0 => wake.notify_waiters(),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = format!("{e:#}"), "summary scheduling failed"),
        }
        tokio::select! {
            () = tokio::time::sleep(std::time::Duration::from_secs(60)) => {}
            _ = shutdown.changed() => {}
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
