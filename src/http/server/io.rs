//! The two places a connection's phase is learnt: its socket (bytes moved) and its service (a
//! request began, its response began, its response ended).

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::response::Response;
use axum::Router;
use hyper::body::{Frame, Incoming, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::watch::Tracker;

/// A client's socket that tells its tracker whenever bytes move.
pub(super) struct Watched {
    stream: TcpStream,
    tracker: Arc<Tracker>,
}

impl Watched {
    pub(super) fn new(stream: TcpStream, tracker: Arc<Tracker>) -> Watched {
        Watched { stream, tracker }
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let poll = Pin::new(&mut this.stream).poll_read(cx, buf);
        if matches!(poll, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.tracker.read();
        }
        poll
    }
}

impl Watched {
    fn wrote(&self, poll: Poll<io::Result<usize>>) -> Poll<io::Result<usize>> {
        if matches!(poll, Poll::Ready(Ok(n)) if n > 0) {
            self.tracker.wrote();
        }
        poll
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.stream).poll_write(cx, buf);
        this.wrote(poll)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        this.wrote(poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// The router as one connection's hyper service.
#[derive(Clone)]
pub(super) struct Service {
    router: Router,
    peer: SocketAddr,
    tracker: Arc<Tracker>,
}

impl Service {
    pub(super) fn new(router: Router, peer: SocketAddr, tracker: Arc<Tracker>) -> Service {
        Service {
            router,
            peer,
            tracker,
        }
    }
}

impl hyper::service::Service<hyper::Request<Incoming>> for Service {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn call(&self, mut request: hyper::Request<Incoming>) -> Self::Future {
        // The rate limit of anonymous callers is per address (as axum::serve's ConnectInfo).
        request.extensions_mut().insert(ConnectInfo(self.peer));
        self.tracker.handling();
        let router = self.router.clone();
        let tracker = Arc::clone(&self.tracker);
        Box::pin(async move {
            let response = tower::ServiceExt::oneshot(router, request).await?;
            tracker.responding();
            Ok(response.map(|body| Body::new(Sent { body, tracker })))
        })
    }
}

/// A response body that tells the tracker when hyper is done with it (written, or abandoned).
struct Sent {
    body: Body,
    tracker: Arc<Tracker>,
}

impl hyper::body::Body for Sent {
    type Data = <Body as hyper::body::Body>::Data;
    type Error = <Body as hyper::body::Body>::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    // Keeps the Content-Length hyper derives from an exact hint.
    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

impl Drop for Sent {
    fn drop(&mut self) {
        self.tracker.idle();
    }
}
