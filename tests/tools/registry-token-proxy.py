#!/usr/bin/env python3
"""Docker Hub's front, imitated on loopback in front of a real registry (Debian's docker-registry).

Usage: registry-token-proxy.py UPSTREAM_PORT PAGE_SIZE

Like registry-1.docker.io it answers every /v2/ request without a token with
`401 WWW-Authenticate: Bearer realm=".../token",service="test-registry",scope="repository:<repo>:pull"` (the
repository of the request path: nvidia/cuda for image tags, a Feature's repository for Dev Container Features),
hands out an anonymous token at /token, and passes requests with that token on to the registry. Tag lists are
asked of the registry with at most PAGE_SIZE tags per page, so its `Link: <...>; rel="next"` pagination is
exercised with a handful of tags (the front pages the list itself, by the spec's `n`/`last` rules: the
reference registry 2.8 in Debian returns tag lists whole). Prints `PORT <n>` once it listens; logs requests on stderr.
"""
import http.client
import http.server
import json
import sys
import urllib.parse

UPSTREAM = int(sys.argv[1])
PAGE = sys.argv[2]
TOKEN = "devgpu-test-token"


def repository(path):
    """`/v2/<repo>/manifests/<ref>` (or blobs/, tags/) -> `<repo>`."""
    parts = path.split("/")[2:]
    for i, p in enumerate(parts):
        if p in ("manifests", "blobs", "tags"):
            return "/".join(parts[:i])
    return "nvidia/cuda"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self.forward("GET")

    def do_HEAD(self):
        self.forward("HEAD")

    def forward(self, method):
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/token":
            q = urllib.parse.parse_qs(url.query)
            scope = (q.get("scope") or [""])[0]
            ok = q.get("service") == ["test-registry"] and scope.startswith("repository:") and scope.endswith(":pull") and len(scope) > len("repository::pull")
            body = json.dumps({"token": TOKEN} if ok else {"error": "bad scope"}).encode()
            self.reply(200 if ok else 400, {"Content-Type": "application/json"}, body, method)
            return
        if self.headers.get("Authorization") != "Bearer " + TOKEN:
            host = self.headers.get("Host")
            challenge = 'Bearer realm="http://%s/token",service="test-registry",scope="repository:%s:pull"' % (host, repository(url.path))
            body = b'{"errors":[{"code":"UNAUTHORIZED"}]}'
            self.reply(401, {"WWW-Authenticate": challenge, "Content-Type": "application/json"}, body, method)
            return
        path = self.path
        if url.path.endswith("/tags/list"):
            path = url.path
        conn = http.client.HTTPConnection("127.0.0.1", UPSTREAM, timeout=10)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "authorization")}
        conn.request(method, path, headers=headers)
        resp = conn.getresponse()
        body = resp.read()
        out = {k: v for k, v in resp.getheaders() if k.lower() in ("content-type", "link", "docker-content-digest")}
        if url.path.endswith("/tags/list") and resp.status == 200:
            q = dict(urllib.parse.parse_qsl(url.query))
            n = min(int(q.get("n", PAGE)), int(PAGE))
            doc = json.loads(body)
            tags = sorted(t for t in (doc.get("tags") or []) if "last" not in q or t > q["last"])
            page, rest = tags[:n], tags[n:]
            body = json.dumps({"name": doc["name"], "tags": page}).encode()
            if rest:
                out["Link"] = '<%s?%s>; rel="next"' % (url.path, urllib.parse.urlencode({"n": q.get("n", PAGE), "last": page[-1]}))
        self.reply(resp.status, out, body, method)

    def reply(self, status, headers, body, method):
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(body)

    def log_message(self, fmt, *args):
        sys.stderr.write("%s\n" % (fmt % args))
        sys.stderr.flush()


# devgpu asks for a dozen pages at once: the default listen backlog of 5 drops SYNs, and a dropped SYN is
# retried only after devgpu's connect timeout.
http.server.ThreadingHTTPServer.request_queue_size = 128
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print("PORT", server.server_address[1], flush=True)
server.serve_forever()
