//! EDGE: Podman's own REST API (libpod), for the one request its Docker-compatible API gets wrong: creating a
//! container with CDI devices (see [`crate::plan::podman_spec`]). Everything else — start, inspect, exec, stop,
//! remove — stays on the compatible API through bollard, which handles a container created here like any other.
//!
//! bollard has no raw-request API, so this is one HTTP/1.1 request on a connection of its own (hyper's client
//! connection over the same unix socket or TCP address bollard uses). ssh:// and TLS endpoints are refused
//! with a message: their transports belong to bollard's clients.

use std::pin::Pin;

use bytes::Bytes;
use hyper::body::Body;
use hyper_util::rt::TokioIo;
use serde_json::Value;

use super::Docker;

/// The libpod API version in the path: 4.0.0 is the oldest Podman 4 serves (`MinAPIVersion`), so any 4.x or
/// newer service answers it.
const LIBPOD_PREFIX: &str = "/v4.0.0/libpod";

/// Why a libpod request failed.
#[derive(Debug, thiserror::Error)]
pub enum LibpodError {
    #[error("Podman's own API is reached over unix:// or plain tcp:// only; {url} is neither")]
    Transport { url: String },
    #[error("cannot talk to Podman's own API at {url}: {message}")]
    Io { url: String, message: String },
    /// Podman answered with an error status; `message` is its `message` (its `cause` when there is none).
    #[error("{message}")]
    Status { status: u16, message: String },
}

/// Whether devgpu reaches Podman's own API at this endpoint: a unix socket, or TCP without TLS.
pub fn reachable(endpoint: &super::Endpoint) -> bool {
    endpoint.unix_path().is_some() || tcp_address(endpoint).is_some()
}

/// `HOST:PORT` of a plain `tcp://` (or `http://`) endpoint.
fn tcp_address(endpoint: &super::Endpoint) -> Option<&str> {
    let url = endpoint.url.as_str();
    url.strip_prefix("tcp://").or_else(|| url.strip_prefix("http://")).filter(|_| endpoint.tls.is_none()).map(|a| a.trim_end_matches('/'))
}

/// Creates a container from a SpecGenerator; returns its id.
pub async fn create_container(docker: &Docker, spec: &Value) -> Result<String, LibpodError> {
    let (status, body) = post(docker, &format!("{LIBPOD_PREFIX}/containers/create"), spec).await?;
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if !(200..300).contains(&status) {
        let message = v.get("message").or_else(|| v.get("cause")).and_then(Value::as_str).map(str::to_string).unwrap_or_else(|| String::from_utf8_lossy(&body).trim().to_string());
        return Err(LibpodError::Status { status, message });
    }
    v.get("Id").and_then(Value::as_str).map(str::to_string).ok_or_else(|| LibpodError::Io { url: docker.endpoint.url.clone(), message: format!("no container id in the answer: {}", String::from_utf8_lossy(&body)) })
}

/// One POST with a JSON body: (status, body).
async fn post(docker: &Docker, path: &str, json: &Value) -> Result<(u16, Vec<u8>), LibpodError> {
    let url = docker.endpoint.url.clone();
    let io = |e: &dyn std::fmt::Display| LibpodError::Io { url: url.clone(), message: e.to_string() };
    let request = hyper::Request::post(path)
        .header("Host", "d")
        .header("Content-Type", "application/json")
        .body(bollard::body_full(Bytes::from(serde_json::to_vec(json).map_err(|e| io(&e))?)))
        .map_err(|e| io(&e))?;
    let answer = async {
        if let Some(socket) = docker.endpoint.unix_path() {
            let stream = tokio::net::UnixStream::connect(socket).await.map_err(|e| io(&e))?;
            send(TokioIo::new(stream), request).await.map_err(|e| io(&e))
        } else if let Some(addr) = tcp_address(&docker.endpoint) {
            let stream = tokio::net::TcpStream::connect(addr).await.map_err(|e| io(&e))?;
            send(TokioIo::new(stream), request).await.map_err(|e| io(&e))
        } else {
            Err(LibpodError::Transport { url: url.clone() })
        }
    };
    match tokio::time::timeout(super::REQUEST_TIMEOUT, answer).await {
        Ok(r) => r,
        Err(_) => Err(io(&format!("no answer in {} s", super::REQUEST_TIMEOUT.as_secs()))),
    }
}

async fn send<T>(io: T, request: bollard::BollardRequest) -> Result<(u16, Vec<u8>), hyper::Error>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io).await?;
    let driver = tokio::spawn(conn);
    let response = sender.send_request(request).await?;
    let status = response.status().as_u16();
    let mut body = response.into_body();
    let mut out = Vec::new();
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        if let Ok(data) = frame?.into_data() {
            out.extend_from_slice(&data);
        }
    }
    drop(sender);
    driver.abort();
    Ok((status, out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docker::Endpoint;

    fn endpoint(url: &str) -> Endpoint {
        Endpoint { url: url.into(), origin: "--docker-host".into(), tls: None }
    }

    #[test]
    fn reached_over_a_socket_or_plain_tcp_only() {
        assert!(reachable(&endpoint("unix:///run/podman/podman.sock")));
        assert!(reachable(&endpoint("tcp://127.0.0.1:8888")));
        assert_eq!(tcp_address(&endpoint("tcp://127.0.0.1:8888/")), Some("127.0.0.1:8888"));
        assert!(!reachable(&endpoint("ssh://me@gpubox")));
        let mut tls = endpoint("tcp://gpubox:2376");
        tls.tls = Some(crate::model::host::TlsSettings { verify: true, ca: None, cert: None, key: None, origin: "DOCKER_TLS_VERIFY".into() });
        assert!(!reachable(&tls));
    }
}
