#!/usr/bin/env python3
"""oauth2_introspect.py PORT TOKENS_FILE - the OAuth2 token introspection
endpoint (RFC 7662) that the test stack's Dovecot asks about every XOAUTH2 /
OAUTHBEARER login (passdb oauth2, introspection_mode = post).

TOKENS_FILE holds "TOKEN USER" lines and is read on every request, so a
test makes a token valid or revokes it by editing the file, the way an
identity provider issues and expires access tokens.  Answers
{"active": true, "username": USER} or {"active": false}.  Listens on
127.0.0.1 only.  Stop it with SIGTERM (mailstack.sh stop does, by PID)."""
import json
import signal
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer


class Introspect(BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        form = urllib.parse.parse_qs(self.rfile.read(n).decode(errors="replace"))
        token = (form.get("token") or [""])[0]
        users = {}
        with open(sys.argv[2]) as f:
            for line in f:
                w = line.split()
                if len(w) == 2:
                    users[w[0]] = w[1]
        body = {"active": True, "username": users[token]} if token in users else {"active": False}
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *args):
        # Never the token: only the verdict reaches the log.
        sys.stderr.write("introspect: %s\n" % (fmt % args))


signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
HTTPServer(("127.0.0.1", int(sys.argv[1])), Introspect).serve_forever()
