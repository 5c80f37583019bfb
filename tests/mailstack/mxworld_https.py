#!/usr/bin/env python3
"""tests/mailstack/mxworld_https.py - the MTA-STS policy hosts of the MX
world (mxworld.sh): one HTTPS server for every mta-sts.<domain> name.

    mxworld_https.py ADDR PORT STSDIR TLSDIR

Serves STSDIR/www/<host>/<path>, <host> from the Host header (else the SNI
name); <path>.redirect holding a URL answers 301 to it; a missing file is
404.  Certificate: TLSDIR/https.chain.pem, or for a name with a file
STSDIR/sni/<name> the chain of the role named in it (a certificate for
another name).  Files are read at each request, so a changed policy is
served at once.  Every request is one line in STSDIR/access.log:
"UNIXTIME CLIENT SNI HOST METHOD PATH STATUS BYTES" (tests count fetches);
a connection that fails before a request (e.g. the client refused the
certificate) is "UNIXTIME CLIENT SNI - ERRORTYPE - 0 0".
"""
import http.server
import os
import signal
import socketserver
import ssl
import sys
import threading
import time

ADDR, PORT, STS, TLS = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
LOG_LOCK = threading.Lock()


def context(role):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(os.path.join(TLS, f"{role}.chain.pem"))
    return ctx


CONTEXTS = {}


def sni(sock, name, _ctx):
    """Pick the certificate by SNI; remember the name for the log."""
    sock.sni_name = name or "-"
    if not name:
        return None
    try:
        with open(os.path.join(STS, "sni", os.path.basename(name))) as f:
            role = f.read().strip()
    except OSError:
        return None
    if role not in CONTEXTS:
        CONTEXTS[role] = context(role)
    sock.context = CONTEXTS[role]
    return None


DEFAULT = context("https")
DEFAULT.sni_callback = sni


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "mxworld-https"
    sys_version = ""
    timeout = 10

    def log_message(self, fmt, *args):
        pass

    def log_request(self, code="-", size="-"):
        pass

    def record(self, status, size):
        line = "%.6f %s %s %s %s %s %d %d\n" % (
            time.time(), self.client_address[0], getattr(self.connection, "sni_name", "-"),
            self.host(), self.command, self.path.replace(" ", "%20"), status, size)
        with LOG_LOCK, open(os.path.join(STS, "access.log"), "a") as f:
            f.write(line)

    def host(self):
        h = (self.headers.get("Host") or getattr(self.connection, "sni_name", "") or "-")
        return h.split(":")[0].lower()

    def reply(self, status, body, extra=()):
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.record(status, len(body))

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        parts = [p for p in path.split("/") if p]
        host = self.host()
        if not parts or any(p in (".", "..") for p in parts) or "/" in host or host.startswith("."):
            return self.reply(404, b"not found\n")
        f = os.path.join(STS, "www", host, *parts)
        try:
            with open(f + ".redirect") as r:
                return self.reply(301, b"moved\n", [("Location", r.read().strip())])
        except OSError:
            pass
        try:
            with open(f, "rb") as r:
                body = r.read()
        except OSError:
            return self.reply(404, b"not found\n")
        return self.reply(200, body)

    do_HEAD = do_GET


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def get_request(self):
        sock, peer = self.socket.accept()
        sock.settimeout(10)
        # The handshake runs in the request's thread (first read), so a
        # client that stalls in it blocks nobody else.
        return DEFAULT.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), peer

    def handle_error(self, request, client_address):
        """A client that leaves mid-handshake (certificate refused) is normal
        here: one log line with status 0, so refused fetches can be counted."""
        err = sys.exc_info()[1]
        line = "%.6f %s %s - %s - 0 0\n" % (time.time(), client_address[0],
                                           getattr(request, "sni_name", "-"), type(err).__name__)
        with LOG_LOCK, open(os.path.join(STS, "access.log"), "a") as f:
            f.write(line)


def main():
    srv = Server((ADDR, PORT), Handler)
    signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
    print(f"mxworld_https: serving {STS}/www on {ADDR}:{PORT}", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
