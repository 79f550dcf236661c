//! Fetching CRLs and OCSP answers over HTTP: bounded in time and size, plain http only (what
//! CDP and AIA URLs use; NCA publishes over http).

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Fetcher {
    pub timeout: Duration,
    pub max_bytes: usize,
}

impl Default for Fetcher {
    fn default() -> Self {
        Fetcher {
            timeout: Duration::from_secs(10),
            max_bytes: 64 * 1024 * 1024,
        }
    }
}

fn split_url(url: &str) -> Result<(String, u16, String), String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("{url}: only http:// URLs are fetched"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, p.parse::<u16>().map_err(|_| format!("{url}: bad port"))?),
        None => (authority, 80),
    };
    if host.is_empty() {
        return Err(format!("{url}: no host"));
    }
    Ok((host.to_owned(), port, path.to_owned()))
}

impl Fetcher {
    pub async fn get(&self, url: &str) -> Result<Vec<u8>, String> {
        self.request(url, None).await
    }

    pub async fn post(
        &self,
        url: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<Vec<u8>, String> {
        self.request(url, Some((content_type, body))).await
    }

    async fn request(&self, url: &str, body: Option<(&str, Vec<u8>)>) -> Result<Vec<u8>, String> {
        tokio::time::timeout(self.timeout, self.request_inner(url, body))
            .await
            .map_err(|_| format!("{url}: no answer within {:?}", self.timeout))?
    }

    async fn request_inner(
        &self,
        url: &str,
        body: Option<(&str, Vec<u8>)>,
    ) -> Result<Vec<u8>, String> {
        let (host, port, path) = split_url(url)?;
        let stream = tokio::net::TcpStream::connect((host.as_str(), port))
            .await
            .map_err(|e| format!("{url}: {e}"))?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .map_err(|e| format!("{url}: {e}"))?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        let builder = hyper::Request::builder().uri(path).header(
            hyper::header::HOST,
            if port == 80 {
                host.clone()
            } else {
                format!("{host}:{port}")
            },
        );
        let request = match body {
            None => builder.method("GET").body(Full::new(Bytes::new())),
            Some((content_type, bytes)) => builder
                .method("POST")
                .header(hyper::header::CONTENT_TYPE, content_type)
                .body(Full::new(Bytes::from(bytes))),
        }
        .map_err(|e| format!("{url}: {e}"))?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| format!("{url}: {e}"))?;
        if !response.status().is_success() {
            let status = response.status();
            // What the server said, briefly: an auditor reading "HTTP 500" alone could not
            // tell a damaged log (which names the entry) from a passing fault.
            let said = Limited::new(response.into_body(), 4096)
                .collect()
                .await
                .map(|body| said_briefly(&body.to_bytes()))
                .unwrap_or_default();
            return Err(format!("{url}: HTTP {status}{said}"));
        }
        let limited = Limited::new(response.into_body(), self.max_bytes);
        let collected = limited
            .collect()
            .await
            .map_err(|e| format!("{url}: {e} (limit {} bytes)", self.max_bytes))?;
        Ok(collected.to_bytes().to_vec())
    }
}

/// At most 300 printable characters of an error answer's body, as ": …"; nothing if it has none.
pub(crate) fn said_briefly(body: &[u8]) -> String {
    let text: String = String::from_utf8_lossy(body)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(300)
        .collect();
    let text = text.trim();
    if text.is_empty() {
        String::new()
    } else {
        format!(": {text}")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn urls_split_into_host_port_and_path() {
        assert_eq!(
            super::split_url("http://test.pki.gov.kz/crl/nca_rsa_test.crl").ok(),
            Some(("test.pki.gov.kz".into(), 80, "/crl/nca_rsa_test.crl".into()))
        );
        assert_eq!(
            super::split_url("http://127.0.0.1:8080").ok(),
            Some(("127.0.0.1".into(), 8080, "/".into()))
        );
        assert!(super::split_url("https://x/").is_err());
        assert!(super::split_url("http://:80/").is_err());
    }
}
