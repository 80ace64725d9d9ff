//! One blocking HTTP client for the live facts: short timeouts (an unreachable index must not make `init` slow),
//! proxies from `HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY` with `NO_PROXY` (ureq reads them), TLS by rustls with the
//! system's trust store, non-2xx answers returned as values (the registry's 401 is a step of its token dance).

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    #[error("{url}: {why}")]
    Unreachable { url: String, why: String },
    #[error("{url}: HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("{url}: {why}")]
    Invalid { url: String, why: String },
}

/// The parts of an answer the facts need.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub content_type: String,
    pub body: String,
    /// The body as received (a registry blob is binary).
    pub bytes: Vec<u8>,
    /// Lower-case header name → value (the last one when repeated).
    pub headers: Vec<(String, String)>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().rev().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

#[derive(Clone)]
pub struct Http {
    agent: ureq::Agent,
}

/// Time limits: connecting (and resolving) must be quick, a whole answer may take a little longer (PyTorch's
/// index page for torch is a few MB).
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub connect: Duration,
    pub total: Duration,
}

impl Http {
    pub fn new(t: Timeouts) -> Http {
        let config = ureq::Agent::config_builder()
            .timeout_connect(Some(t.connect))
            .timeout_resolve(Some(t.connect))
            .timeout_global(Some(t.total))
            .http_status_as_error(false)
            .user_agent(concat!("devgpu/", env!("CARGO_PKG_VERSION")))
            // The system's trust store, as pip and uv (--native-tls) use it: behind a TLS-inspecting proxy the
            // Mozilla roots alone refuse every index.
            .tls_config(ureq::tls::TlsConfig::builder().root_certs(ureq::tls::RootCerts::PlatformVerifier).build())
            .build();
        Http { agent: config.into() }
    }

    pub fn get(&self, url: &str, headers: &[(&str, &str)]) -> Result<Response, HttpError> {
        let mut req = self.agent.get(url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.call().map_err(|e| HttpError::Unreachable { url: url.to_string(), why: e.to_string() })?;
        Self::read(url, resp)
    }

    pub fn head(&self, url: &str, headers: &[(&str, &str)]) -> Result<Response, HttpError> {
        let mut req = self.agent.head(url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.call().map_err(|e| HttpError::Unreachable { url: url.to_string(), why: e.to_string() })?;
        Self::read(url, resp)
    }

    fn read(url: &str, mut resp: ureq::http::Response<ureq::Body>) -> Result<Response, HttpError> {
        let status = resp.status().as_u16();
        let headers: Vec<(String, String)> =
            resp.headers().iter().map(|(k, v)| (k.as_str().to_ascii_lowercase(), v.to_str().unwrap_or_default().to_string())).collect();
        let content_type = headers.iter().find(|(k, _)| k == "content-type").map(|(_, v)| v.clone()).unwrap_or_default();
        let bytes = resp
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_vec()
            .map_err(|e| HttpError::Unreachable { url: url.to_string(), why: format!("reading the answer: {e}") })?;
        let body = String::from_utf8_lossy(&bytes).into_owned();
        Ok(Response { status, content_type, body, bytes, headers })
    }
}
