#!/usr/bin/env python3
"""A TLS front for the local Docker socket, for devgpu's TLS tests: `dockerd --tlsverify` in miniature.

    tls-docker-proxy.py CERT KEY CA [SOCKET]

Listens on 127.0.0.1 on a port the kernel picks (printed on the first stdout line: `port N`), requires a client
certificate signed by CA, and relays each connection to SOCKET (default /var/run/docker.sock). Loopback only.
"""
import socket
import ssl
import sys
import threading

from relay import relay


def serve(conn, ctx, sock_path):
    try:
        tls = ctx.wrap_socket(conn, server_side=True)
    except (ssl.SSLError, OSError):
        conn.close()
        return
    up = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    up.connect(sock_path)
    relay(tls, up)
    tls.close()
    up.close()


def main():
    cert, key, ca = sys.argv[1:4]
    sock_path = sys.argv[4] if len(sys.argv) > 4 else "/var/run/docker.sock"
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ctx.load_verify_locations(ca)
    ctx.verify_mode = ssl.CERT_REQUIRED
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    print(f"port {srv.getsockname()[1]}", flush=True)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn, ctx, sock_path), daemon=True).start()


if __name__ == "__main__":
    main()
