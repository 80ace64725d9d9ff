#!/usr/bin/env python3
"""An HTTP CONNECT proxy on loopback (what HTTPS_PROXY names in a corporate network), for the live-facts tests.

Usage: connect-proxy.py LOG
Prints `PORT <n>` once it listens on 127.0.0.1:<n>; appends `CONNECT host:port` to LOG for every tunnel it opens,
then relays bytes both ways.
"""
import socket
import socketserver
import sys

from relay import relay

LOG = sys.argv[1]


class Tunnel(socketserver.BaseRequestHandler):
    def handle(self):
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.request.recv(4096)
            if not chunk:
                return
            head += chunk
        line = head.split(b"\r\n", 1)[0].decode()
        method, target = line.split(" ")[:2]
        if method != "CONNECT":
            self.request.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        with open(LOG, "a") as log:
            log.write("CONNECT %s\n" % target)
        host, port = target.rsplit(":", 1)
        upstream = socket.create_connection((host, int(port)), timeout=10)
        self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        rest = head.split(b"\r\n\r\n", 1)[1]
        if rest:
            upstream.sendall(rest)
        relay(self.request, upstream)
        upstream.close()


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


server = Server(("127.0.0.1", 0), Tunnel)
print("PORT", server.server_address[1], flush=True)
server.serve_forever()
