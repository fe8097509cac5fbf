"""Loopback target for the side-by-side benchmarks and the compatibility check (127.0.0.1 only).

Usage: python3 target.py PORT [LOGFILE]
Each request's arrival is appended to LOGFILE as "<time.monotonic()> <METHOD> <path>" (the
monotonic clock is system-wide on Linux, so a driver can compare it with its own).

GET  /health            200 text/plain "up"
GET  /json              200 application/json {"status": "ok", "count": 580, "items": [...]}
GET  /json-charset      the same body as "application/json; charset=utf-8"
GET  /status/N          status N, text/plain
*    /echo              200 application/json: method, path, parsed query, content type, parsed body
GET  /svc               200 "up" or 503 "down" (state below)
*    /svc/break|fix     sets the state down / up
*    /reset             state up
GET  /slow              answers after 2 s
GET  /hang              answers after 30 s
*    /mark, /rollback   200 (their arrival is what a driver looks for in LOGFILE)
"""
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

STATE = {"up": True}
LOG_LOCK = threading.Lock()
LOG = sys.argv[2] if len(sys.argv) > 2 else None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def reply(self, status, body, ctype="text/plain"):
        data = body if isinstance(body, bytes) else body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self):
        arrived = time.monotonic()
        url = urlsplit(self.path)
        path = url.path
        if LOG:
            with LOG_LOCK, open(LOG, "a") as f:
                f.write(f"{arrived:.6f} {self.command} {path}\n")
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        doc = {"status": "ok", "count": 580, "items": [{"name": "a", "v": 1}, {"name": "b", "v": 2}]}
        if path == "/health":
            self.reply(200, "up")
        elif path == "/json":
            self.reply(200, json.dumps(doc), "application/json")
        elif path == "/json-charset":
            self.reply(200, json.dumps(doc), "application/json; charset=utf-8")
        elif path.startswith("/status/"):
            code = int(path.rsplit("/", 1)[1])
            self.reply(code, f"status {code}")
        elif path == "/echo":
            ctype = self.headers.get("Content-Type")
            text = raw.decode("utf-8", "replace")
            if ctype == "application/json" and text:
                body = json.loads(text)
            elif ctype == "application/x-www-form-urlencoded":
                body = parse_qs(text)
            else:
                body = text
            out = {"method": self.command, "path": path, "query": parse_qs(url.query),
                   "content_type": ctype, "body": body}
            self.reply(200, json.dumps(out, sort_keys=True), "application/json")
        elif path == "/svc":
            self.reply(200, "up") if STATE["up"] else self.reply(503, "down")
        elif path in ("/svc/break", "/svc/fix", "/reset"):
            STATE["up"] = path != "/svc/break"
            self.reply(200, "ok")
        elif path == "/slow":
            time.sleep(2)
            self.reply(200, "slow")
        elif path == "/hang":
            time.sleep(30)
            self.reply(200, "late")
        elif path in ("/mark", "/rollback"):
            self.reply(200, path[1:])
        else:
            self.reply(404, "not found")

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = handle_any


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client that gave up (timeout, abort) is expected here


Server(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
