"""Byte relays for the test proxies (connect-proxy.py, tls-docker-proxy.py, record-docker-proxy.py): imported, never run."""
import socket
import threading


def pump(src, dst):
    """Copies src to dst until src ends, then half-closes dst so the far side sees the end too."""
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def relay(a, b):
    """Relays both ways between two connected sockets until both directions have ended."""
    t = threading.Thread(target=pump, args=(b, a), daemon=True)
    t.start()
    pump(a, b)
    t.join()
