#!/usr/bin/env python3
"""A static PyPI-style simple index on loopback, for the live-facts tests.

Usage: simple-index.py ROOT

ROOT holds one folder per index (e.g. `pypi/`, `whl/`), each with one folder per project holding
`index.html` (PEP 503) and optionally `index.json` (PEP 691). Like a real index (and unlike
`python3 -m http.server`), it negotiates the form: a client that accepts
`application/vnd.pypi.simple.v1+json` gets the JSON file when there is one, everyone else the HTML. Other files
(the stand-in wheels) are served as they are. Prints `PORT <n>` on stdout once it listens on 127.0.0.1:<n>, and
logs one line per request (method, path, the form served) on stderr.
"""
import http.server
import os
import sys

ROOT = os.path.abspath(sys.argv[1])
JSON = "application/vnd.pypi.simple.v1+json"


class Handler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *a, **kw):
        super().__init__(*a, directory=ROOT, **kw)

    def send_head(self):
        path = self.translate_path(self.path)
        if os.path.isdir(path):
            if not self.path.split("?")[0].endswith("/"):
                # PEP 503: project URLs end with a slash; redirect like real indexes do.
                self.send_response(301)
                self.send_header("Location", self.path.split("?")[0] + "/")
                self.end_headers()
                return None
            as_json = os.path.join(path, "index.json")
            if JSON in self.headers.get("Accept", "") and os.path.exists(as_json):
                return self.serve(as_json, JSON, "json")
            as_html = os.path.join(path, "index.html")
            if os.path.exists(as_html):
                return self.serve(as_html, "text/html", "html")
            self.send_error(404)
            return None
        return super().send_head()

    def serve(self, file, ctype, form):
        f = open(file, "rb")
        self.form = form  # before send_response, which logs the request
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(os.fstat(f.fileno()).st_size))
        self.end_headers()
        return f

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s %s\n" % (self.command, self.path, getattr(self, "form", "-")))
        sys.stderr.flush()


# devgpu asks for a dozen pages at once: the default listen backlog of 5 drops SYNs, and a dropped SYN is
# retried only after devgpu's connect timeout.
http.server.ThreadingHTTPServer.request_queue_size = 128
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print("PORT", server.server_address[1], flush=True)
server.serve_forever()
