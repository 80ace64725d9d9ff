//! The Docker Registry HTTP API v2 (distribution spec): the tags of `nvidia/cuda` and a tag's manifest digest, and
//! the manifests and blobs of Dev Container Features (see [`crate::docker::devcontainer::features`]).
//! Docker Hub answers 401 with a `WWW-Authenticate: Bearer realm=…,service=…,scope=…` challenge; an anonymous
//! token from the realm opens pulls. The tag list is paginated with `Link: <…?last=X&n=N>; rel="next"`.
//! The parsers are pure; [`tags`] and [`digest`] are the requests.

use super::http::{Http, HttpError, Response};

pub const REPO: &str = "nvidia/cuda";
/// Page size asked for; registries may answer with fewer.
const PAGE: u32 = 1000;
/// A bound on pages followed (nvidia/cuda has a few thousand tags), so a registry that loops cannot hang init.
const MAX_PAGES: usize = 50;

/// Manifest kinds a digest can name: a multi-arch index is what `docker pull` resolves first.
const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";

/// A Bearer challenge's parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub realm: String,
    pub service: Option<String>,
    pub scope: Option<String>,
}

/// `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:nvidia/cuda:pull"`.
pub fn parse_challenge(header: &str) -> Option<Challenge> {
    let rest = header.trim().strip_prefix("Bearer ").or_else(|| header.trim().strip_prefix("bearer "))?;
    let mut realm = None;
    let mut service = None;
    let mut scope = None;
    let mut s = rest;
    while !s.is_empty() {
        let (key, after) = s.split_once('=')?;
        let key = key.trim().trim_start_matches(',').trim();
        let (value, next) = if let Some(q) = after.strip_prefix('"') {
            let end = q.find('"')?;
            (&q[..end], &q[end + 1..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        match key {
            "realm" => realm = Some(value.to_string()),
            "service" => service = Some(value.to_string()),
            "scope" => scope = Some(value.to_string()),
            _ => {}
        }
        s = next.trim_start_matches(',').trim_start();
    }
    Some(Challenge { realm: realm?, service, scope })
}

/// The `rel="next"` target of a Link header.
pub fn parse_next_link(header: &str) -> Option<String> {
    header.split(',').find(|part| part.contains("rel=\"next\"") || part.contains("rel=next")).and_then(|part| {
        let start = part.find('<')? + 1;
        let end = part[start..].find('>')? + start;
        Some(part[start..end].to_string())
    })
}

/// `{"name": "nvidia/cuda", "tags": [...]}` (tags may be null for an empty repository).
pub fn parse_tags(body: &str) -> Result<Vec<String>, String> {
    let v: serde_json::Value = serde_json::from_str(body).map_err(|e| format!("not a tag list: {e}"))?;
    Ok(v["tags"].as_array().map(|a| a.iter().filter_map(|t| t.as_str().map(str::to_string)).collect()).unwrap_or_default())
}

/// A registry client for one repository, holding the token once it has one.
pub struct Registry<'a> {
    http: &'a Http,
    base: String,
    token: Option<String>,
}

impl<'a> Registry<'a> {
    /// `base`: `https://registry-1.docker.io`, or a mirror such as `http://127.0.0.1:5000`.
    pub fn new(http: &'a Http, base: &str) -> Registry<'a> {
        Registry { http, base: base.trim_end_matches('/').to_string(), token: None }
    }

    fn absolute(&self, link: &str) -> String {
        if link.starts_with("http://") || link.starts_with("https://") {
            link.to_string()
        } else {
            format!("{}{}", self.base, link)
        }
    }

    fn request(&mut self, head: bool, url: &str, accept: &str) -> Result<Response, HttpError> {
        let mut tried_auth = false;
        loop {
            let auth = self.token.as_ref().map(|t| format!("Bearer {t}"));
            let mut headers = vec![("Accept", accept)];
            if let Some(a) = &auth {
                headers.push(("Authorization", a.as_str()));
            }
            let resp = if head { self.http.head(url, &headers)? } else { self.http.get(url, &headers)? };
            if resp.status != 401 || tried_auth {
                return Ok(resp);
            }
            tried_auth = true;
            let challenge = resp
                .header("www-authenticate")
                .and_then(parse_challenge)
                .ok_or_else(|| HttpError::Invalid { url: url.to_string(), why: "401 without a Bearer challenge".into() })?;
            self.token = Some(self.fetch_token(&challenge)?);
        }
    }

    fn fetch_token(&self, c: &Challenge) -> Result<String, HttpError> {
        let mut url = c.realm.clone();
        let mut sep = if url.contains('?') { '&' } else { '?' };
        for (k, v) in [("service", &c.service), ("scope", &c.scope)] {
            if let Some(v) = v {
                url.push(sep);
                url.push_str(&format!("{k}={}", v.replace(':', "%3A").replace('/', "%2F")));
                sep = '&';
            }
        }
        let resp = self.http.get(&url, &[("Accept", "application/json")])?;
        if resp.status != 200 {
            return Err(HttpError::Status { url, status: resp.status });
        }
        let v: serde_json::Value = serde_json::from_str(&resp.body).map_err(|e| HttpError::Invalid { url: url.clone(), why: e.to_string() })?;
        v["token"].as_str().or_else(|| v["access_token"].as_str()).map(str::to_string).ok_or(HttpError::Invalid { url, why: "no token in the answer".into() })
    }

    /// Every tag of the repository, following the pagination.
    pub fn tags(&mut self, repo: &str) -> Result<Vec<String>, HttpError> {
        let mut url = format!("{}/v2/{repo}/tags/list?n={PAGE}", self.base);
        let mut all = Vec::new();
        for _ in 0..MAX_PAGES {
            let resp = self.request(false, &url, "application/json")?;
            if resp.status != 200 {
                return Err(HttpError::Status { url, status: resp.status });
            }
            all.extend(parse_tags(&resp.body).map_err(|why| HttpError::Invalid { url: url.clone(), why })?);
            match resp.header("link").and_then(parse_next_link) {
                Some(next) => url = self.absolute(&next),
                None => return Ok(all),
            }
        }
        Ok(all)
    }

    /// A manifest's body and digest (`Docker-Content-Digest`, else the SHA-256 of the body), `None` when the
    /// reference is unknown.
    pub fn manifest(&mut self, repo: &str, reference: &str, accept: &str) -> Result<Option<(Vec<u8>, String)>, HttpError> {
        let url = format!("{}/v2/{repo}/manifests/{reference}", self.base);
        let resp = self.request(false, &url, accept)?;
        match resp.status {
            200 => {
                let digest = resp.header("docker-content-digest").map(str::to_string).unwrap_or_else(|| sha256_digest(&resp.bytes));
                Ok(Some((resp.bytes, digest)))
            }
            404 => Ok(None),
            s => Err(HttpError::Status { url, status: s }),
        }
    }

    /// A blob's bytes, checked against its digest.
    pub fn blob(&mut self, repo: &str, digest: &str) -> Result<Vec<u8>, HttpError> {
        let url = format!("{}/v2/{repo}/blobs/{digest}", self.base);
        let resp = self.request(false, &url, "*/*")?;
        if resp.status != 200 {
            return Err(HttpError::Status { url, status: resp.status });
        }
        if sha256_digest(&resp.bytes) != digest {
            return Err(HttpError::Invalid { url, why: "the blob does not match its digest".into() });
        }
        Ok(resp.bytes)
    }

    /// The digest `docker pull REPO:TAG` resolves to (`sha256:…`), None when the tag is unknown.
    pub fn digest(&mut self, repo: &str, tag: &str) -> Result<Option<String>, HttpError> {
        let url = format!("{}/v2/{repo}/manifests/{tag}", self.base);
        let resp = self.request(true, &url, MANIFEST_ACCEPT)?;
        match resp.status {
            200 => Ok(resp.header("docker-content-digest").map(str::to_string)),
            404 => Ok(None),
            s => Err(HttpError::Status { url, status: s }),
        }
    }
}

/// `sha256:<hex>` of some bytes (a content digest of the distribution spec).
pub fn sha256_digest(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    format!("sha256:{}", Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect::<String>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_hub_challenge_and_links() {
        let c = parse_challenge(r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:nvidia/cuda:pull""#).unwrap();
        assert_eq!(c.realm, "https://auth.docker.io/token");
        assert_eq!(c.service.as_deref(), Some("registry.docker.io"));
        assert_eq!(c.scope.as_deref(), Some("repository:nvidia/cuda:pull"));
        assert_eq!(parse_challenge("Basic realm=\"x\""), None);
        assert_eq!(parse_next_link(r#"</v2/nvidia/cuda/tags/list?last=12.4.1-base-ubuntu22.04&n=1000>; rel="next""#).unwrap(), "/v2/nvidia/cuda/tags/list?last=12.4.1-base-ubuntu22.04&n=1000");
        assert_eq!(parse_next_link(r#"<x>; rel="prev""#), None);
        assert_eq!(parse_tags(r#"{"name":"nvidia/cuda","tags":["a","b"]}"#).unwrap(), vec!["a", "b"]);
        assert!(parse_tags(r#"{"name":"nvidia/cuda","tags":null}"#).unwrap().is_empty());
    }
}
