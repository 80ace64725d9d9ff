//! Docker over TCP with TLS, configured as the docker CLI configures it:
//! - for `--docker-host` / `DOCKER_HOST`: `DOCKER_TLS_VERIFY` (any non-empty value: TLS, and the daemon's
//!   certificate must be signed by `ca.pem`) or `DOCKER_TLS` (TLS without checking the daemon), with `ca.pem`,
//!   `cert.pem` and `key.pem` from `DOCKER_CERT_PATH` (default `~/.docker`);
//! - for a docker context: the files under `contexts/tls/<id>/docker/` and the endpoint's `SkipTLSVerify`.
//!
//! Pure: [`resolve_env`] and [`resolve_context`]. Edge: [`client_factory`] (rustls with the ring provider, connections
//! pooled), its errors say which certificate was refused by whom.

use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::rustls;
pub use crate::model::host::{TlsSettings};


/// TLS settings from the environment for a `tcp://` host given by flag or `DOCKER_HOST` (pure). `exists` says
/// whether a file is there.
pub fn resolve_env(env: &dyn Fn(&str) -> Option<String>, config_dir: Option<&str>, exists: &dyn Fn(&str) -> bool) -> Option<TlsSettings> {
    let set = |k: &str| env(k).is_some_and(|v| !v.is_empty());
    let verify = set("DOCKER_TLS_VERIFY");
    if !verify && !set("DOCKER_TLS") {
        return None;
    }
    let (dir, dir_origin) = match env("DOCKER_CERT_PATH").filter(|d| !d.is_empty()) {
        Some(d) => (d.clone(), format!("DOCKER_CERT_PATH={d}")),
        None => {
            let d = config_dir.unwrap_or("~/.docker").to_string();
            (d.clone(), format!("certificates from {d}"))
        }
    };
    let file = |name: &str| format!("{}/{name}", dir.trim_end_matches('/'));
    let (cert, key) = (file("cert.pem"), file("key.pem"));
    let client = exists(&cert) && exists(&key);
    Some(TlsSettings {
        verify,
        // Verification needs the CA file; a missing one is reported when connecting, naming the path.
        ca: verify.then(|| file("ca.pem")),
        cert: client.then_some(cert),
        key: client.then_some(key),
        origin: format!("{}, {dir_origin}", if verify { "DOCKER_TLS_VERIFY" } else { "DOCKER_TLS" }),
    })
}

/// TLS settings of a docker context: its files in `tls_dir` (`contexts/tls/<id>/docker`) and `SkipTLSVerify`
/// (pure). None when the context has neither (plain TCP).
pub fn resolve_context(name: &str, tls_dir: &str, skip_verify: bool, exists: &dyn Fn(&str) -> bool) -> Option<TlsSettings> {
    let file = |f: &str| Some(format!("{tls_dir}/{f}")).filter(|p| exists(p));
    let (ca, cert, key) = (file("ca.pem"), file("cert.pem"), file("key.pem"));
    if ca.is_none() && cert.is_none() && key.is_none() && !skip_verify {
        return None;
    }
    let client = cert.is_some() && key.is_some();
    Some(TlsSettings {
        verify: !skip_verify,
        ca: if skip_verify { None } else { Some(ca.unwrap_or_else(|| format!("{tls_dir}/ca.pem"))) },
        cert: if client { cert } else { None },
        key: if client { key } else { None },
        origin: format!("docker context \"{name}\" ({tls_dir})"),
    })
}

/// A TLS failure: what went wrong and how to fix it (carried inside bollard's error; see [`super::map_error`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFailure {
    pub reason: String,
    pub hints: Vec<String>,
}

impl std::fmt::Display for TlsFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for TlsFailure {}

fn failure(reason: impl Into<String>, hint: impl Into<String>) -> TlsFailure {
    TlsFailure { reason: reason.into(), hints: vec![hint.into()] }
}

/// Turn a rustls handshake error into words (pure).
pub fn explain(e: &rustls::Error, tls: &TlsSettings, host: &str) -> TlsFailure {
    use rustls::{AlertDescription as A, CertificateError as C, Error as E};
    let ca = tls.ca.as_deref().unwrap_or("ca.pem");
    match e {
        E::InvalidCertificate(C::UnknownIssuer | C::BadSignature) => failure(
            format!("the daemon's TLS certificate is not signed by {ca} ({})", tls.origin),
            format!("use the CA that signed the daemon's certificate as {ca} (from the server's tlscacert), or correct {}", tls.origin),
        ),
        E::InvalidCertificate(C::NotValidForName | C::NotValidForNameContext { .. }) => failure(
            format!("the daemon's TLS certificate is not valid for {host}"),
            format!("connect by a name or address the certificate lists (its subjectAltName), or reissue the server certificate with {host}"),
        ),
        E::InvalidCertificate(C::Expired | C::ExpiredContext { .. } | C::NotValidYet | C::NotValidYetContext { .. }) => {
            failure(format!("the daemon's TLS certificate has expired or is not valid yet ({e})"), "renew the daemon's certificate (and check both machines' clocks)")
        }
        E::AlertReceived(A::CertificateRequired | A::BadCertificate | A::UnknownCA | A::CertificateUnknown | A::HandshakeFailure) if tls.cert.is_none() => failure(
            format!("the daemon requires a client certificate and devgpu has none ({}: no cert.pem and key.pem)", tls.origin),
            "put the client's cert.pem and key.pem beside ca.pem (DOCKER_CERT_PATH), as `docker --tlsverify` expects them",
        ),
        E::AlertReceived(A::BadCertificate | A::UnknownCA | A::CertificateUnknown | A::DecryptError) => failure(
            format!("the daemon refused the client certificate {} ({e})", tls.cert.as_deref().unwrap_or("cert.pem")),
            "use a client certificate signed by the CA the daemon trusts (its --tlscacert)",
        ),
        E::InvalidMessage(_) => failure(
            format!("what answers at {host} does not speak TLS ({e})"),
            "a daemon without TLS listens there: use it without DOCKER_TLS_VERIFY / DOCKER_TLS (and prefer ssh:// over a plain TCP port)",
        ),
        other => failure(format!("the TLS handshake with {host} failed: {other}"), format!("check the daemon's --tlsverify setup and {}", tls.origin)),
    }
}

fn load_config(tls: &TlsSettings) -> Result<rustls::ClientConfig, TlsFailure> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| failure(format!("TLS setup: {e}"), "report this as a devgpu bug"))?;
    let read_certs = |path: &str, what: &str| -> Result<Vec<CertificateDer<'static>>, TlsFailure> {
        if !Path::new(path).exists() {
            return Err(failure(format!("the {what} {path} does not exist ({})", tls.origin), format!("put the {what} there, or correct {}", tls.origin)));
        }
        let certs = CertificateDer::pem_file_iter(path)
            .and_then(|i| i.collect::<Result<Vec<_>, _>>())
            .map_err(|e| failure(format!("cannot read the {what} {path}: {e}"), format!("{path} must be PEM (-----BEGIN CERTIFICATE-----)")))?;
        if certs.is_empty() {
            return Err(failure(format!("the {what} {path} holds no certificate"), format!("{path} must be PEM (-----BEGIN CERTIFICATE-----)")));
        }
        Ok(certs)
    };
    let builder = if tls.verify {
        let ca = tls.ca.clone().unwrap_or_default();
        let mut roots = rustls::RootCertStore::empty();
        for c in read_certs(&ca, "CA certificate")? {
            roots.add(c).map_err(|e| failure(format!("the CA certificate {ca} is not usable: {e}"), format!("replace {ca} with the CA that signed the daemon's certificate")))?;
        }
        builder.with_root_certificates(roots)
    } else {
        builder.dangerous().with_custom_certificate_verifier(Arc::new(NoVerifier(provider)))
    };
    match (&tls.cert, &tls.key) {
        (Some(cert), Some(key)) => {
            let chain = read_certs(cert, "client certificate")?;
            let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| failure(format!("cannot read the client key {key}: {e}"), format!("{key} must be a PEM private key")))?;
            builder
                .with_client_auth_cert(chain, key_der)
                .map_err(|e| failure(format!("the client certificate {cert} and key {key} do not go together: {e}"), "use the key that belongs to cert.pem"))
        }
        _ => Ok(builder.with_no_client_auth()),
    }
}

/// `DOCKER_TLS` without verification: any certificate is accepted (as `docker --tls` does); signatures are still
/// checked so the session is at least bound to the certificate presented.
#[derive(Debug)]
struct NoVerifier(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for NoVerifier {
    fn verify_server_cert(
        &self,
        _: &rustls_pki_types::CertificateDer<'_>,
        _: &[rustls_pki_types::CertificateDer<'_>],
        _: &rustls_pki_types::ServerName<'_>,
        _: &[u8],
        _: rustls_pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls_pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls_pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `tcp://host:port` → (host, port); the TLS port 2376 when none is given (pure).
pub fn host_port(url: &str) -> Result<(String, u16), String> {
    let rest = url.strip_prefix("tcp://").or_else(|| url.strip_prefix("https://")).ok_or_else(|| format!("{url} is not a tcp:// URL"))?;
    let authority = rest.split('/').next().unwrap_or("");
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6.split_once(']').ok_or_else(|| format!("{url}: unclosed ["))?;
        (h.to_string(), after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (authority.to_string(), None),
        }
    };
    if host.is_empty() {
        return Err(format!("{url}: no host"));
    }
    let port = match port {
        None | Some("") => 2376,
        Some(p) => p.parse().map_err(|_| format!("{url}: `{p}` is not a port number"))?,
    };
    Ok((host, port))
}

#[derive(Clone)]
struct TlsConnector {
    host: String,
    port: u16,
    tls: Arc<TlsSettings>,
    connector: tokio_rustls::TlsConnector,
}

struct TlsIo(tokio_rustls::client::TlsStream<TcpStream>);

impl AsyncRead for TlsIo {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsIo {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

impl Connection for TlsIo {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}

impl tower_service::Service<hyper::Uri> for TlsConnector {
    type Response = TokioIo<TlsIo>;
    type Error = io::Error;
    type Future = Pin<Box<dyn std::future::Future<Output = io::Result<Self::Response>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: hyper::Uri) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let tcp = TcpStream::connect((this.host.as_str(), this.port)).await?;
            let _ = tcp.set_nodelay(true);
            let name = rustls_pki_types::ServerName::try_from(this.host.clone())
                .map_err(|e| io::Error::other(failure(format!("{} is not a valid TLS server name: {e}", this.host), "use the host name or address the certificate names")))?;
            match this.connector.connect(name, tcp).await {
                Ok(s) => Ok(TokioIo::new(TlsIo(s))),
                Err(e) => {
                    let rustls_error = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()).cloned();
                    match rustls_error {
                        Some(r) => Err(io::Error::other(explain(&r, &this.tls, &this.host))),
                        None if matches!(e.kind(), io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset) => Err(io::Error::other(failure(
                            format!("the daemon at {}:{} closed the connection during the TLS handshake ({e})", this.host, this.port),
                            format!("check that it listens with --tlsverify and trusts the client certificate ({})", this.tls.origin),
                        ))),
                        None => Err(e),
                    }
                }
            }
        })
    }
}

/// Bollard clients speaking HTTPS to `url` (`tcp://host:port`) with `tls`, one per API version asked for, all
/// sharing one connection pool (edge: reads the PEM files now).
pub fn client_factory(url: &str, tls: &TlsSettings, timeout_s: u64) -> Result<impl Fn(&bollard::ClientVersion) -> Result<bollard::Docker, TlsFailure>, TlsFailure> {
    let (host, port) = host_port(url).map_err(|e| failure(e, "write the Docker host as tcp://HOST:PORT"))?;
    let config = load_config(tls)?;
    let connector = TlsConnector { host: host.clone(), port, tls: Arc::new(tls.clone()), connector: tokio_rustls::TlsConnector::from(Arc::new(config)) };
    let client = hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build(connector);
    let tls = Arc::new(tls.clone());
    Ok(move |version: &bollard::ClientVersion| {
        let client = client.clone();
        let (tls, host) = (tls.clone(), host.clone());
        bollard::Docker::connect_with_custom_transport(
            move |req: bollard::BollardRequest| {
                let client = client.clone();
                let tls = tls.clone();
                let host = host.clone();
                async move { client.request(req).await.map_err(|e| request_error(e, &tls, &host)) }
            },
            Some("https://docker"),
            timeout_s,
            version,
        )
        .map_err(|e| failure(format!("TLS client: {e}"), "report this as a devgpu bug"))
    })
}

/// A failed request: a TLS alert that arrives after the handshake (TLS 1.3 servers refuse a client certificate on
/// the first read) is put in words too.
fn request_error(e: hyper_util::client::legacy::Error, tls: &TlsSettings, host: &str) -> bollard::errors::Error {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(s) = source {
        let r = s.downcast_ref::<rustls::Error>().or_else(|| s.downcast_ref::<io::Error>().and_then(|io| io.get_ref()).and_then(|i| i.downcast_ref::<rustls::Error>()));
        if let Some(r) = r {
            return bollard::errors::Error::IOError { err: io::Error::other(explain(r, tls, host)) };
        }
        source = s.source();
    }
    bollard::errors::Error::HyperLegacyError { err: e }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn the_docker_cli_environment() {
        let all = |_: &str| true;
        assert_eq!(resolve_env(&env_of(&[]), Some("/home/u/.docker"), &all), None, "no TLS unless asked for");
        let t = resolve_env(&env_of(&[("DOCKER_TLS_VERIFY", "1"), ("DOCKER_CERT_PATH", "/certs/")]), Some("/home/u/.docker"), &all).unwrap();
        assert_eq!(
            t,
            TlsSettings {
                verify: true,
                ca: Some("/certs/ca.pem".into()),
                cert: Some("/certs/cert.pem".into()),
                key: Some("/certs/key.pem".into()),
                origin: "DOCKER_TLS_VERIFY, DOCKER_CERT_PATH=/certs/".into()
            }
        );
        // As in the docker CLI, any non-empty DOCKER_TLS_VERIFY turns verification on; DOCKER_TLS alone does not.
        assert!(resolve_env(&env_of(&[("DOCKER_TLS_VERIFY", "0")]), Some("/h/.docker"), &all).unwrap().verify);
        let t = resolve_env(&env_of(&[("DOCKER_TLS", "1")]), Some("/h/.docker"), &|p: &str| !p.ends_with("key.pem")).unwrap();
        assert!(!t.verify);
        assert_eq!((t.ca, t.cert, t.key), (None, None, None), "no client certificate without its key");
        assert_eq!(t.origin, "DOCKER_TLS, certificates from /h/.docker");
    }

    #[test]
    fn context_material() {
        let dir = "/h/.docker/contexts/tls/abc/docker";
        assert_eq!(resolve_context("gpu", dir, false, &|_: &str| false), None);
        let t = resolve_context("gpu", dir, false, &|_: &str| true).unwrap();
        assert!(t.verify);
        assert_eq!(t.ca.as_deref(), Some("/h/.docker/contexts/tls/abc/docker/ca.pem"));
        assert_eq!(t.origin, "docker context \"gpu\" (/h/.docker/contexts/tls/abc/docker)");
        let t = resolve_context("gpu", dir, true, &|_: &str| false).unwrap();
        assert!(!t.verify && t.ca.is_none());
    }

    #[test]
    fn hosts_and_ports() {
        assert_eq!(host_port("tcp://127.0.0.1:2376").unwrap(), ("127.0.0.1".into(), 2376));
        assert_eq!(host_port("tcp://gpubox").unwrap(), ("gpubox".into(), 2376));
        assert_eq!(host_port("tcp://[::1]:9").unwrap(), ("::1".into(), 9));
        assert!(host_port("tcp://:1").is_err());
        assert!(host_port("unix:///x").is_err());
    }

    #[test]
    fn handshake_errors_in_words() {
        let tls = TlsSettings { verify: true, ca: Some("/c/ca.pem".into()), cert: None, key: None, origin: "DOCKER_TLS_VERIFY, DOCKER_CERT_PATH=/c".into() };
        let f = explain(&rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer), &tls, "127.0.0.1");
        assert!(f.reason.contains("not signed by /c/ca.pem"), "{f}");
        let f = explain(&rustls::Error::AlertReceived(rustls::AlertDescription::CertificateRequired), &tls, "127.0.0.1");
        assert!(f.reason.contains("requires a client certificate"), "{f}");
        let f = explain(&rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForName), &tls, "10.0.0.5");
        assert!(f.reason.contains("not valid for 10.0.0.5"), "{f}");
    }
}
