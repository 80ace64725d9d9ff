#!/usr/bin/env python3
"""A static PyPI-style simple index on loopback, for the live-facts tests and bench/uv-vs-pip.sh's wheelhouse.

Usage: simple-index.py ROOT

ROOT holds one folder per index (e.g. `pypi/`, `whl/`), each with one folder per project holding
`index.html` (PEP 503) and optionally `index.json` (PEP 691); a folder's `index.html` may also be a find-links
page. Like a real index (and unlike `python3 -m http.server`), it negotiates the form: a client that accepts
`application/vnd.pypi.simple.v1+json` gets the JSON file when there is one, everyone else the HTML. Other files
(the wheels) are served as they are, and a single byte range (`Range: bytes=a-b` or `bytes=-n`) is answered 206,
as nginx, S3 or a CDN answer it: uv reads a remote wheel's metadata through ranges, and without them downloads
every wheel twice (once to resolve, once to install), which no real index makes it do. Prints `PORT <n>` on
stdout once it listens on 127.0.0.1:<n>, and logs one line per request (method, path, the form served) on stderr.
"""
import http.server
import os
import re
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
        if self.headers.get("Range") and os.path.isfile(path):
            return self.serve_range(path, self.headers["Range"])
        return super().send_head()

    def serve_range(self, path, header):
        """One byte range of a file (206), or 416 for a range outside it or a form this server does not take."""
        f = open(path, "rb")
        size = os.fstat(f.fileno()).st_size
        m = re.fullmatch(r"bytes=(\d*)-(\d*)", header.strip())
        if m and m.group(1):
            start, end = int(m.group(1)), min(size - 1, int(m.group(2) or size - 1))
        elif m and m.group(2):
            start, end = max(0, size - int(m.group(2))), size - 1
        else:
            start, end = size, -1
        if start > end:
            f.close()
            self.send_response(416)
            self.send_header("Content-Range", "bytes */%d" % size)
            self.end_headers()
            return None
        f.seek(start)
        self.remaining = end - start + 1
        self.send_response(206)
        self.send_header("Content-Type", self.guess_type(path))
        self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end, size))
        self.send_header("Content-Length", str(self.remaining))
        self.end_headers()
        return f

    def end_headers(self):
        self.send_header("Accept-Ranges", "bytes")
        super().end_headers()

    def copyfile(self, source, outputfile):
        left = getattr(self, "remaining", None)
        if left is None:
            return super().copyfile(source, outputfile)
        while left > 0:
            chunk = source.read(min(1 << 16, left))
            if not chunk:
                break
            outputfile.write(chunk)
            left -= len(chunk)

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
