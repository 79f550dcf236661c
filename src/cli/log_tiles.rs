//! `log audit`'s download of every tile: several requests at once, each worker on one kept-alive
//! connection. A log of 1,000,000 entries is about 7,800 tiles; fetched one at a time on a new
//! connection each (the CDP fetcher's way, right for one CRL) the audit spent most of its time
//! waiting for round trips (bench/README.md, "Transparency log").

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;

use super::CliError;
use crate::tlog::Tile;

/// Requests in flight at once: enough to keep a service's cores busy over a network's round
/// trip, few enough to be a polite client.
const CONNECTIONS: usize = 8;
/// One tile's answer must come within this.
const TIMEOUT: Duration = Duration::from_secs(30);
/// The largest tile: an entry bundle of 256 entries of at most 65,535 bytes and their lengths.
const MAX_TILE_BYTES: usize = 256 * (2 + 65_535);

/// Where the service is: `http://host[:port][/prefix]`.
#[derive(Clone, Debug)]
struct Service {
    host: String,
    port: u16,
    /// Put before every path (no trailing slash).
    prefix: String,
}

impl Service {
    fn parse(url: &str) -> Result<Service, CliError> {
        let bad = |why: &str| CliError::Input(format!("--url {url}: {why}"));
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| bad("tiles are fetched over http:// only"))?;
        let (authority, prefix) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) => (host, port.parse().map_err(|_| bad("bad port"))?),
            None => (authority, 80),
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        Ok(Service {
            host: host.to_owned(),
            port,
            prefix: prefix.trim_end_matches('/').to_owned(),
        })
    }

    fn host_header(&self) -> String {
        if self.port == 80 {
            self.host.clone()
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    async fn connect(&self) -> Result<SendRequest<Empty<Bytes>>, String> {
        let at = format!("{}:{}", self.host, self.port);
        let stream = tokio::net::TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|e| format!("{at}: {e}"))?;
        let (sender, connection) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .map_err(|e| format!("{at}: {e}"))?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(sender)
    }
}

/// The answer to one GET on `sender`'s connection. `Err((retry, why))`: `retry` when the
/// connection failed before an answer (a kept-alive connection the server closed), so the
/// request may go again on a new one; an answer that is not a success never is.
async fn get(
    service: &Service,
    sender: &mut SendRequest<Empty<Bytes>>,
    path: &str,
) -> Result<Vec<u8>, (bool, String)> {
    let url = format!("{}{path}", service.prefix);
    let path = url.as_str();
    let request = hyper::Request::get(path)
        .header(hyper::header::HOST, service.host_header())
        .body(Empty::new())
        .map_err(|e| (false, format!("{path}: {e}")))?;
    let answer = async {
        sender
            .ready()
            .await
            .map_err(|e| (true, format!("{path}: {e}")))?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| (true, format!("{path}: {e}")))?;
        if !response.status().is_success() {
            let status = response.status();
            // The service names a damaged log's missing entry in its answer: pass it on.
            let said = Limited::new(response.into_body(), 4096)
                .collect()
                .await
                .map(|body| crate::verify::said_briefly(&body.to_bytes()))
                .unwrap_or_default();
            return Err((false, format!("{path}: HTTP {status}{said}")));
        }
        let body = Limited::new(response.into_body(), MAX_TILE_BYTES)
            .collect()
            .await
            .map_err(|e| {
                (
                    false,
                    format!("{path}: {e} (at most {MAX_TILE_BYTES} bytes)"),
                )
            })?;
        Ok(body.to_bytes().to_vec())
    };
    tokio::time::timeout(TIMEOUT, answer)
        .await
        .map_err(|_| (false, format!("{path}: no answer within {TIMEOUT:?}")))?
}

/// Every tile's bytes, in the order of `tiles`, from the service at `url` (`/log/<tile path>`).
pub(super) async fn download(url: &str, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, CliError> {
    let service = Arc::new(Service::parse(url)?);
    let paths: Arc<Vec<String>> =
        Arc::new(tiles.iter().map(|t| format!("/log/{}", t.path())).collect());
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..CONNECTIONS.min(paths.len()) {
        let (service, paths, next) = (Arc::clone(&service), Arc::clone(&paths), Arc::clone(&next));
        workers.spawn(async move {
            let mut got: Vec<(usize, Vec<u8>)> = Vec::new();
            let mut sender = None;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(path) = paths.get(i) else {
                    return Ok(got);
                };
                let mut tries = 0;
                let bytes = loop {
                    tries += 1;
                    let connection = match sender.as_mut() {
                        Some(connection) => connection,
                        None => sender.insert(service.connect().await?),
                    };
                    match get(&service, connection, path).await {
                        Ok(bytes) => break bytes,
                        Err((true, _)) if tries == 1 => sender = None,
                        Err((_, why)) => return Err(why),
                    }
                };
                got.push((i, bytes));
            }
        });
    }
    let mut out: Vec<Option<Vec<u8>>> = vec![None; paths.len()];
    while let Some(done) = workers.join_next().await {
        let got = done
            .map_err(|e| CliError::Failed(format!("a tile download stopped: {e}")))?
            .map_err(CliError::Failed)?;
        for (i, bytes) in got {
            out[i] = Some(bytes);
        }
    }
    // Every worker ran until the list was done, so every slot is filled; fail closed if not.
    out.into_iter()
        .zip(paths.iter())
        .map(|(bytes, path)| {
            bytes.ok_or_else(|| CliError::Failed(format!("{path} was not downloaded")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{download, Service};
    use crate::tlog::{tiles_at, Tile};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A loopback HTTP/1.1 server that answers each GET with its path as the body, on kept-alive
    /// connections; 404 for `missing`; it closes a connection after `per_connection` answers
    /// (as a server ending keep-alive does). Returns its URL.
    async fn echo_server(missing: Option<String>, per_connection: usize) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/prefix", listener.local_addr().unwrap());
        tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                let missing = missing.clone();
                tokio::spawn(async move {
                    let mut buffer = Vec::new();
                    for _ in 0..per_connection {
                        let head_end = loop {
                            if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                                break at + 4;
                            }
                            let mut chunk = [0u8; 1024];
                            match socket.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                            }
                        };
                        let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
                        buffer.drain(..head_end);
                        let path = head.split(' ').nth(1).unwrap_or_default().to_owned();
                        let status = if missing.as_deref() == Some(path.as_str()) {
                            "404 Not Found"
                        } else {
                            "200 OK"
                        };
                        let answer = format!(
                            "HTTP/1.1 {status}\r\ncontent-length: {}\r\n\r\n{path}",
                            path.len()
                        );
                        if socket.write_all(answer.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        url
    }

    /// Every tile of a log of 70,000 entries: a few hundred, more than the workers.
    fn many_tiles() -> Vec<Tile> {
        (0..=2)
            .map(Some)
            .chain([None])
            .flat_map(|level| tiles_at(level, 70_000))
            .collect()
    }

    #[tokio::test]
    async fn tiles_come_back_in_order_over_kept_alive_connections_that_the_server_may_close() {
        let tiles = many_tiles();
        assert!(tiles.len() > 500, "{} tiles", tiles.len());
        // Each connection is closed by the server after 7 answers: the workers reconnect.
        let url = echo_server(None, 7).await;
        let got = download(&url, &tiles).await.unwrap();
        assert_eq!(got.len(), tiles.len());
        for (tile, bytes) in tiles.iter().zip(&got) {
            assert_eq!(
                String::from_utf8_lossy(bytes),
                format!("/prefix/log/{}", tile.path())
            );
        }
    }

    #[tokio::test]
    async fn a_tile_the_service_does_not_serve_fails_the_download_and_is_named() {
        let tiles = many_tiles();
        let missing = format!("/prefix/log/{}", tiles[300].path());
        let url = echo_server(Some(missing.clone()), usize::MAX).await;
        let err = download(&url, &tiles).await.unwrap_err().to_string();
        assert!(err.contains(&missing) && err.contains("404"), "{err}");
    }

    #[test]
    fn a_service_url_gives_host_port_and_prefix() {
        let s = Service::parse("http://127.0.0.1:8080").ok();
        assert_eq!(
            s.map(|s| (s.host, s.port, s.prefix)),
            Some(("127.0.0.1".into(), 8080, String::new()))
        );
        let s = Service::parse("http://registry.example/qoltanba/").ok();
        assert_eq!(
            s.map(|s| (s.host, s.port, s.prefix)),
            Some(("registry.example".into(), 80, "/qoltanba".into()))
        );
        assert!(Service::parse("https://registry.example").is_err());
        assert!(Service::parse("http://:80").is_err());
        assert!(Service::parse("http://host:port").is_err());
    }
}
