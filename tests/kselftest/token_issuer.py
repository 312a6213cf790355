#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""token_issuer.py - the token service of a registry, for guest tests.

Why this exists: Debian's docker-registry (distribution 2.8) checks the
tokens of its `auth: token` mode but does not issue them; Docker Hub and
every other public registry send clients to such a service.  This one
answers GET /token?service=S&scope=repository:REPO:pull with a JWT signed
RS256 by DIR/key.pem, its certificate (DIR/cert.pem, which the registry
trusts as rootcertbundle) in the x5c header, granting the scope asked.

  token_issuer.py --dir DIR --port PORT [--user U --password P] [--ttl S]
                  [--tls-cert PEM --tls-key KEY]

--user/--password: Basic credentials required (else anyone gets a token).
--tls-cert/--tls-key: serve https with this certificate (a registry
that serves https sends clients to an https realm only).
--ttl: seconds a token is valid (the registry adds 60 s of leeway to the
expiry, which the issuer takes off, so that a short ttl really expires).
Each token issued is logged to DIR/issued.log ("ok USER SCOPE"), each
refusal too ("refused"); secrets are never logged.  Signing is done by
the openssl program (the guest has no Python crypto library).
"""
import argparse
import base64
import json
import os
import subprocess
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlparse

ISSUER = "incrfs-test-issuer"
LEEWAY = 60  # distribution's registry/auth/token Leeway


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def der_cert(path):
    pem = open(path).read()
    body = pem.split("-----BEGIN CERTIFICATE-----")[1]
    body = body.split("-----END CERTIFICATE-----")[0]
    return "".join(body.split())  # base64 of the DER, as x5c wants


def sign(key, data):
    out = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key],
                         input=data, stdout=subprocess.PIPE, check=True)
    return out.stdout


class Handler(BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):  # quiet
        pass

    def note(self, line):
        with open(os.path.join(self.server.args.dir, "issued.log"), "a") as f:
            f.write(line + "\n")

    def reply(self, code, body, extra=None):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        args = self.server.args
        url = urlparse(self.path)
        if url.path != "/token":
            self.reply(404, {"error": "no such path"})
            return
        q = parse_qs(url.query)
        user = ""
        if args.user:
            auth = self.headers.get("Authorization", "")
            want = "Basic " + base64.b64encode(
                (args.user + ":" + args.password).encode()).decode()
            if auth != want:
                self.note("refused")
                self.reply(401, {"errors": [{"code": "UNAUTHORIZED"}]},
                           {"WWW-Authenticate": 'Basic realm="token"'})
                return
            user = args.user
        scope = q.get("scope", [""])[0]
        access = []
        if scope.count(":") >= 2:
            typ, rest = scope.split(":", 1)
            name, actions = rest.rsplit(":", 1)
            access = [{"type": typ, "name": name,
                       "actions": actions.split(",")}]
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256",
                  "x5c": [der_cert(os.path.join(args.dir, "cert.pem"))]}
        claims = {"iss": ISSUER, "sub": user,
                  "aud": q.get("service", [""])[0],
                  "exp": now + args.ttl - LEEWAY, "nbf": now - 10,
                  "iat": now, "jti": "%d-%d" % (now, os.getpid()),
                  "access": access}
        raw = (b64url(json.dumps(header).encode()) + "." +
               b64url(json.dumps(claims).encode()))
        sig = sign(os.path.join(args.dir, "key.pem"), raw.encode())
        token = raw + "." + b64url(sig)
        self.note("ok %s %s" % (user or "-", scope or "-"))
        self.reply(200, {"token": token, "access_token": token,
                         "expires_in": args.ttl})


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--user")
    p.add_argument("--password")
    p.add_argument("--ttl", type=int, default=300)
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    args = p.parse_args()
    server = HTTPServer(("127.0.0.1", args.port), Handler)
    server.args = args
    if args.tls_cert:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
