//! The listener: at most a set number of connections open at once, and a connection that
//! moves no byte for a while is closed. When the cap is reached, the connection quiet for
//! longest (at least [`EVICT_QUIET`]) — or, failing that, the oldest past [`MAX_AGE_AT_CAP`] —
//! is closed to make room, so clients that hold connections
//! open with a trickle of bytes cannot lock out the ones sending whole requests; only when
//! every connection is busy do newcomers wait in the kernel's accept queue. With the body
//! budget and deadlines of [`super::guard`], this bounds what an unauthenticated client can
//! make Keel hold.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex as StdMutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

/// Connections open at once, by default (`KEEL_MAX_CONNECTIONS`).
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;
/// A connection that sends and receives nothing this long is closed: GitHub itself gives up
/// on a delivery after 10 s.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(10);
/// At the cap, a connection quiet at least this long may be closed for a newcomer.
pub const EVICT_QUIET: Duration = Duration::from_millis(500);
/// At the cap, a connection open this long may be closed for a newcomer however busy it is:
/// a trickle of bytes keeps a connection from being quiet, but GitHub gives up on a delivery
/// after 10 s, so no request it sends needs longer.
pub const MAX_AGE_AT_CAP: Duration = Duration::from_secs(10);

/// What the listener knows of an open connection.
#[derive(Debug)]
struct Tracked {
    /// Milliseconds since the listener started, when it was accepted.
    opened: u64,
    /// Milliseconds since the listener started, when it last moved a byte.
    last: AtomicU64,
    /// Set to close it at its next poll.
    evicted: AtomicBool,
    /// Its task, to wake when it is evicted.
    waker: StdMutex<Option<Waker>>,
}

/// The open connections, for eviction.
#[derive(Debug, Default)]
struct Registry {
    next: AtomicU64,
    open: StdMutex<HashMap<u64, Arc<Tracked>>>,
}

impl Registry {
    /// Closes the connection quiet for longest, if it has been quiet `quiet` at least, else
    /// the oldest, if it has been open `max_age` at least. Whether one was closed.
    fn evict(&self, now_ms: u64, quiet: Duration, max_age: Duration) -> bool {
        let open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let live = || open.values().filter(|t| !t.evicted.load(Ordering::Relaxed));
        let since =
            |at: u64, least: Duration| now_ms.saturating_sub(at) >= least.as_millis() as u64;
        let quietest = live()
            .min_by_key(|t| t.last.load(Ordering::Relaxed))
            .filter(|t| since(t.last.load(Ordering::Relaxed), quiet));
        let oldest = || {
            live()
                .min_by_key(|t| t.opened)
                .filter(|t| since(t.opened, max_age))
        };
        let Some(t) = quietest.or_else(oldest) else {
            return false;
        };
        t.evicted.store(true, Ordering::Relaxed);
        if let Some(w) = t.waker.lock().unwrap_or_else(|p| p.into_inner()).take() {
            w.wake();
        }
        true
    }
}

/// A TCP listener that holds a permit per open connection.
#[derive(Debug)]
pub struct CappedListener {
    inner: TcpListener,
    permits: Arc<Semaphore>,
    idle: Duration,
    registry: Arc<Registry>,
    started: Instant,
    max_age: Duration,
}

impl CappedListener {
    /// At most `max_connections` open at once, each closed after `idle` without traffic.
    pub fn new(inner: TcpListener, max_connections: usize, idle: Duration) -> CappedListener {
        CappedListener {
            inner,
            permits: Arc::new(Semaphore::new(max_connections.max(1))),
            idle,
            registry: Arc::default(),
            started: Instant::now(),
            max_age: MAX_AGE_AT_CAP,
        }
    }

    /// At the cap, closes a connection open `max_age` (instead of [`MAX_AGE_AT_CAP`]).
    pub fn with_max_age(mut self, max_age: Duration) -> CappedListener {
        self.max_age = max_age;
        self
    }

    /// Connections that may still open now.
    pub fn available(&self) -> usize {
        self.permits.available_permits()
    }
}

impl axum::serve::Listener for CappedListener {
    type Io = Capped;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let permit = loop {
            if let Ok(permit) = Arc::clone(&self.permits).try_acquire_owned() {
                break permit;
            }
            // Full: close the quietest connection, if one is quiet enough, and take its place;
            // else wait (further clients wait in the kernel's accept queue).
            let now = self.started.elapsed().as_millis() as u64;
            if !self.registry.evict(now, EVICT_QUIET, self.max_age) {
                tokio::select! {
                    permit = Arc::clone(&self.permits).acquire_owned() => {
                        break permit.expect("the semaphore is never closed");
                    }
                    () = tokio::time::sleep(EVICT_QUIET) => continue,
                }
            }
            match tokio::time::timeout(
                Duration::from_secs(1),
                Arc::clone(&self.permits).acquire_owned(),
            )
            .await
            {
                Ok(permit) => break permit.expect("the semaphore is never closed"),
                Err(_) => continue,
            }
        };
        loop {
            match self.inner.accept().await {
                Ok((stream, addr)) => {
                    let _ = stream.set_nodelay(true);
                    let id = self.registry.next.fetch_add(1, Ordering::Relaxed);
                    let tracked = Arc::new(Tracked {
                        opened: self.started.elapsed().as_millis() as u64,
                        last: AtomicU64::new(self.started.elapsed().as_millis() as u64),
                        evicted: AtomicBool::new(false),
                        waker: StdMutex::new(None),
                    });
                    self.registry
                        .open
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(id, Arc::clone(&tracked));
                    let conn = Capped {
                        stream,
                        _permit: permit,
                        idle: self.idle,
                        deadline: Box::pin(tokio::time::sleep(self.idle)),
                        tracked,
                        id,
                        registry: Arc::clone(&self.registry),
                        started: self.started,
                    };
                    return (conn, addr);
                }
                // Out of file descriptors and the like: wait, as axum's own listener does.
                Err(e) => {
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// An accepted connection: it gives its permit back when dropped, and fails once it has
/// moved no byte for its idle time.
#[derive(Debug)]
pub struct Capped {
    stream: TcpStream,
    _permit: OwnedSemaphorePermit,
    idle: Duration,
    deadline: Pin<Box<Sleep>>,
    tracked: Arc<Tracked>,
    id: u64,
    registry: Arc<Registry>,
    started: Instant,
}

impl Drop for Capped {
    fn drop(&mut self) {
        let mut open = self.registry.open.lock().unwrap_or_else(|p| p.into_inner());
        open.remove(&self.id);
    }
}

impl Capped {
    /// Traffic moved: the idle clock starts again.
    fn moved(&mut self) {
        self.deadline.as_mut().reset(Instant::now() + self.idle);
        self.tracked
            .last
            .store(self.started.elapsed().as_millis() as u64, Ordering::Relaxed);
    }

    /// While waiting on the socket: whether the idle time ran out or the listener evicted it
    /// (the wakers are registered either way, so a silent connection is woken to be closed).
    fn timed_out(&mut self, cx: &mut Context<'_>) -> bool {
        *self.tracked.waker.lock().unwrap_or_else(|p| p.into_inner()) = Some(cx.waker().clone());
        self.tracked.evicted.load(Ordering::Relaxed) || self.deadline.as_mut().poll(cx).is_ready()
    }

    fn evicted(&self) -> bool {
        self.tracked.evicted.load(Ordering::Relaxed)
    }
}

fn idle_error() -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        "the connection was idle too long, or made room for another",
    )
}

impl AsyncRead for Capped {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.evicted() {
            return Poll::Ready(Err(idle_error()));
        }
        let before = buf.filled().len();
        match Pin::new(&mut this.stream).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    this.moved();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending if this.timed_out(cx) => Poll::Ready(Err(idle_error())),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncWrite for Capped {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.evicted() {
            return Poll::Ready(Err(idle_error()));
        }
        match Pin::new(&mut this.stream).poll_write(cx, data) {
            Poll::Ready(Ok(n)) => {
                if n > 0 {
                    this.moved();
                }
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending if this.timed_out(cx) => Poll::Ready(Err(idle_error())),
            Poll::Pending => Poll::Pending,
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::serve::Listener;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn listener(max: usize, idle: Duration) -> (CappedListener, SocketAddr) {
        let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = tcp.local_addr().unwrap();
        (CappedListener::new(tcp, max, idle), addr)
    }

    #[tokio::test]
    async fn at_the_cap_the_quietest_connection_makes_room_and_busy_ones_are_kept() {
        let (mut listener, addr) = listener(2, IDLE_TIMEOUT).await;
        let mut slow = TcpStream::connect(addr).await.unwrap();
        let (mut slow_conn, _) = listener.accept().await;
        let mut busy = TcpStream::connect(addr).await.unwrap();
        let (mut busy_conn, _) = listener.accept().await;
        assert_eq!(listener.available(), 0);
        // The slow client trickles one byte, then goes quiet; the busy one keeps sending.
        slow.write_all(b"G").await.unwrap();
        let mut buf = [0u8; 8];
        slow_conn.read_exact(&mut buf[..1]).await.unwrap();
        // As the server does, something waits to read from it (and drops it on an error).
        let slow_reader = tokio::spawn(async move {
            let mut buf = [0u8; 8];
            slow_conn
                .read(&mut buf)
                .await
                .map(|_| ())
                .unwrap_err()
                .kind()
        });
        let newcomer = tokio::spawn(async move {
            let _third = TcpStream::connect(addr).await.unwrap();
            let (conn, _) = listener.accept().await;
            (conn, listener)
        });
        for _ in 0..8 {
            busy.write_all(b"x").await.unwrap();
            busy_conn.read_exact(&mut buf[..1]).await.unwrap();
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let (_third, listener) = tokio::time::timeout(Duration::from_secs(5), newcomer)
            .await
            .expect("the newcomer got in")
            .unwrap();
        assert_eq!(
            slow_reader.await.unwrap(),
            io::ErrorKind::TimedOut,
            "the quiet one was closed"
        );
        busy.write_all(b"y").await.unwrap();
        busy_conn.read_exact(&mut buf[..1]).await.unwrap();
        assert_eq!(&buf[..1], b"y", "the busy one is kept");
        assert_eq!(listener.available(), 0);
        drop(slow);
    }

    #[tokio::test]
    async fn at_the_cap_a_connection_trickling_bytes_makes_room_once_it_is_old() {
        let (listener, addr) = listener(1, IDLE_TIMEOUT).await;
        let mut listener = listener.with_max_age(Duration::from_millis(800));
        let mut trickle = TcpStream::connect(addr).await.unwrap();
        let (mut conn, _) = listener.accept().await;
        let reader = tokio::spawn(async move {
            let mut buf = [0u8; 1];
            loop {
                if let Err(e) = conn.read_exact(&mut buf).await {
                    return e.kind();
                }
            }
        });
        let newcomer = tokio::spawn(async move {
            let _client = TcpStream::connect(addr).await.unwrap();
            listener.accept().await.1
        });
        // One byte every 100 ms: never quiet, but old after 800 ms.
        for _ in 0..30 {
            if newcomer.is_finished() {
                break;
            }
            let _ = trickle.write_all(b"x").await;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(
            newcomer.is_finished(),
            "the newcomer got the old connection's place"
        );
        assert_eq!(reader.await.unwrap(), io::ErrorKind::TimedOut);
    }

    #[tokio::test]
    async fn when_every_connection_is_busy_a_newcomer_waits() {
        let (mut listener, addr) = listener(1, IDLE_TIMEOUT).await;
        let mut client = TcpStream::connect(addr).await.unwrap();
        let (mut conn, _) = listener.accept().await;
        let _second = TcpStream::connect(addr).await.unwrap();
        let waiting = tokio::spawn(async move { listener.accept().await.1 });
        let mut buf = [0u8; 1];
        for _ in 0..10 {
            client.write_all(b"x").await.unwrap();
            conn.read_exact(&mut buf).await.unwrap();
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(!waiting.is_finished(), "a busy connection is not evicted");
        drop(conn);
        tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("a closed connection makes room")
            .unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_connection_is_closed_after_its_idle_time_and_gives_its_place_back() {
        let (mut listener, addr) = listener(1, Duration::from_secs(10)).await;
        let mut client = TcpStream::connect(addr).await.unwrap();
        let (mut conn, _) = listener.accept().await;
        client.write_all(b"GET /").await.unwrap();
        let mut buf = [0u8; 16];
        let n = conn.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"GET /");
        // Then nothing: the read fails once the idle time has passed.
        let err = conn.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        drop(conn);
        assert_eq!(listener.available(), 1);
    }
}
