//! The connection loop in front of the router: at most `max_connections` served at once, and
//! none kept open by a client that does not send (`header_read_timeout_seconds`) or has gone
//! quiet (`idle_timeout_seconds`); see [`watch`] for what each connection waits for.
//!
//! When every slot is taken, the connection that has waited longest for its client (an
//! unfinished head, or idle between requests) is closed to make room. Simply not accepting
//! would leave a health check queued behind every slow connection in the listen backlog, each
//! holding its slot for a full timeout; accepting and closing at once would refuse it
//! outright. A connection with a request in progress is never cut, so under real load new
//! connections wait in the backlog until a request finishes.
//!
//! Door: [`serve`].

mod io;
mod watch;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch as signal, OwnedSemaphorePermit, Semaphore};

use crate::config::SecurityConfig;
use crate::telemetry;
use watch::{Registered, Registry, Timeouts};

/// How long the accept loop waits for an evicted connection's slot before asking another:
/// the connection may have started a request meanwhile, and keeps its slot then.
const EVICTION_RETRY: Duration = Duration::from_millis(100);

/// Serves `router` on `listener` until `shutdown` resolves; then stops accepting, lets every
/// connection finish the request it is in (idle ones close at once), and returns when all
/// are closed. The caller bounds that wait.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: &SecurityConfig,
    shutdown: impl Future<Output = ()>,
) {
    let timeouts = Timeouts {
        header_read: Duration::from_secs(limits.header_read_timeout_seconds),
        idle: Duration::from_secs(limits.idle_timeout_seconds),
    };
    let max = limits.max_connections;
    let slots = Arc::new(Semaphore::new(max as usize));
    let registry = Arc::new(Registry::default());
    let (stop, stopped) = signal::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let permit = tokio::select! {
            permit = slot(&slots, &registry) => permit,
            () = &mut shutdown => break,
        };
        tokio::spawn(connection(
            stream,
            peer,
            router.clone(),
            timeouts,
            registry.register(permit),
            stopped.clone(),
        ));
    }
    // Closing the listener makes the kernel refuse new connections.
    drop(listener);
    let _ = stop.send(true);
    // Every connection holds a slot until it closes: all slots back means all are closed.
    let _ = slots.acquire_many(max).await;
}

/// A slot for one more connection; when all are taken, one is made (see the module's doc).
async fn slot(slots: &Arc<Semaphore>, registry: &Registry) -> OwnedSemaphorePermit {
    loop {
        if let Ok(permit) = Arc::clone(slots).try_acquire_owned() {
            return permit;
        }
        registry.evict_longest_waiting();
        let freed = tokio::time::timeout(EVICTION_RETRY, Arc::clone(slots).acquire_owned());
        // The semaphore is never closed, so acquiring fails only by timing out.
        if let Ok(Ok(permit)) = freed.await {
            return permit;
        }
    }
}

/// One connection, until the client closes it, a timeout or an eviction closes it, or the
/// shutdown lets it finish its request.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    timeouts: Timeouts,
    // Dropped with the connection: its place among the open ones and its slot.
    registered: Registered,
    mut stopped: signal::Receiver<bool>,
) {
    let tracker = Arc::clone(&registered.tracker);
    let io = TokioIo::new(io::Watched::new(stream, Arc::clone(&tracker)));
    let service = io::Service::new(router, peer, Arc::clone(&tracker));
    let served = hyper::server::conn::http1::Builder::new().serve_connection(io, service);
    let mut served = std::pin::pin!(served);
    let expired = tracker.expired(timeouts);
    let mut expired = std::pin::pin!(expired);
    let mut stopping = false;
    loop {
        tokio::select! {
            result = served.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(%peer, %error, "connection ended with an error");
                }
                return;
            }
            why = &mut expired => {
                // Dropping the connection closes the socket.
                metrics::counter!(telemetry::HTTP_CONNECTIONS_CLOSED, "reason" => why.label())
                    .increment(1);
                tracing::debug!(%peer, reason = why.label(), "closing a waiting connection");
                return;
            }
            _ = stopped.wait_for(|stop| *stop), if !stopping => {
                stopping = true;
                served.as_mut().graceful_shutdown();
            }
        }
    }
}

/// A failed accept. A connection reset before it was accepted is the peer's affair; anything
/// else (out of file descriptors, say) would fail again at once, so the loop pauses.
async fn accept_failed(error: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        error.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!(%error, "accepting a connection failed; pausing for a second");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
