#!/usr/bin/env python3
"""A recording front for the local Docker socket, for the GPU parity test: what a client asks the daemon for.

    record-docker-proxy.py LISTEN_SOCKET LOG [SOCKET]

Listens on the unix socket LISTEN_SOCKET (prints `ready` on stdout once it does), relays each connection to SOCKET
(default /var/run/docker.sock) and appends every byte the client sends to LOG. It exists because devgpu removes a
container whose start failed (no GPU here), so its create request can be read only on the way to the daemon.
"""
import os
import socket
import sys
import threading

from relay import pump

LOCK = threading.Lock()


class Teed:
    """A socket whose received bytes are also appended to the log."""

    def __init__(self, sock, log):
        self.sock, self.log = sock, log

    def recv(self, n):
        data = self.sock.recv(n)
        with LOCK:
            self.log.write(data)
            self.log.flush()
        return data

    def shutdown(self, how):
        self.sock.shutdown(how)


def serve(conn, sock_path, log):
    up = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    up.connect(sock_path)
    t = threading.Thread(target=pump, args=(up, conn), daemon=True)
    t.start()
    pump(Teed(conn, log), up)
    t.join()
    conn.close()
    up.close()


def main():
    listen, log_path = sys.argv[1:3]
    sock_path = sys.argv[3] if len(sys.argv) > 3 else "/var/run/docker.sock"
    log = open(log_path, "ab")
    if os.path.exists(listen):
        os.unlink(listen)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(listen)
    srv.listen(16)
    print("ready", flush=True)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn, sock_path, log), daemon=True).start()


if __name__ == "__main__":
    main()
