"""A small stand-in for `make local` while developing the web clients: serves each client's
dist/ with a config.json, a minimal OIDC issuer (authorization code + PKCE S256, refresh) and
in-memory fakes of the three APIs, and publishes Ask Around Me's live messages to a mosquitto
with a WebSocket listener. Not a copy of the backends: the end-to-end tests run against
`make local`, which executes the real mapping templates and handlers.

    python -m tests.web.standin      # prints the URLs, Ctrl-C stops
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, urlencode, urlsplit

import paho.mqtt.client as paho
import pygeohash

ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID = "standin-web"
PASSWORD = "local-password"
USERS = ("alice@example.com", "bob@example.com")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class State:
    issuer: str = ""
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)  # token -> email
    refresh: dict[str, str] = field(default_factory=dict)
    links: dict[str, dict[str, str]] = field(default_factory=dict)
    questions: dict[str, dict[str, Any]] = field(default_factory=dict)
    answers: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    commands: list[dict[str, Any]] = field(default_factory=list)
    publish: Callable[[str, dict[str, Any]], None] = lambda topic, payload: None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def token_for(self, email: str) -> dict[str, Any]:
        now = int(time.time())
        claims = {"iss": self.issuer, "sub": f"sub-{email.split('@')[0]}", "aud": CLIENT_ID, "email": email,
                  "email_verified": True, "cognito:username": email, "token_use": "id", "iat": now, "exp": now + 3600}
        id_token = ".".join([_b64(json.dumps({"alg": "none", "typ": "JWT"}).encode()),
                             _b64(json.dumps(claims).encode()), _b64(secrets.token_bytes(8))])
        access, refresh = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        self.tokens[id_token] = self.tokens[access] = email
        self.refresh[refresh] = email
        return {"id_token": id_token, "access_token": access, "refresh_token": refresh, "token_type": "Bearer",
                "expires_in": 3600}


class Handler(BaseHTTPRequestHandler):
    state: State
    route: Callable[[Handler, str, str, dict[str, list[str]], bytes], None]

    def log_message(self, *args: Any) -> None:
        pass

    def _dispatch(self) -> None:
        parts = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).route(self, self.command, parts.path, parse_qs(parts.query), body)

    do_GET = do_POST = do_PUT = do_DELETE = do_OPTIONS = _dispatch

    def send(self, status: int, body: Any = None, headers: dict[str, str] | None = None,
             content_type: str = "application/json") -> None:
        data = b"" if body is None else body if isinstance(body, bytes) else (
            body.encode() if isinstance(body, str) else json.dumps(body).encode())
        self.send_response(status)
        self.send_header("Access-Control-Allow-Origin", self.headers.get("Origin") or "*")
        self.send_header("Access-Control-Allow-Headers", "Authorization, Content-Type")
        self.send_header("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if data:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def caller(self) -> str | None:
        token = (self.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
        return self.state.tokens.get(token)


def issuer_route(h: Handler, method: str, path: str, query: dict[str, list[str]], body: bytes) -> None:
    state = h.state
    one = {k: v[0] for k, v in query.items()}
    if path == "/.well-known/openid-configuration":
        h.send(200, {"issuer": state.issuer, "authorization_endpoint": f"{state.issuer}/authorize",
                     "token_endpoint": f"{state.issuer}/token", "jwks_uri": f"{state.issuer}/jwks",
                     "end_session_endpoint": f"{state.issuer}/logout", "response_types_supported": ["code"],
                     "code_challenge_methods_supported": ["S256"]})
    elif path == "/authorize" and method == "GET":
        hidden = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                         for k, v in one.items())
        h.send(200, f"""<!doctype html><html lang="en"><title>Sign in</title>
            <form method="post" action="/authorize">{hidden}
            <label>Email <input type="email" name="username"></label>
            <label>Password <input type="password" name="password"></label>
            <button type="submit">Sign in</button></form></html>""", content_type="text/html")
    elif path == "/authorize" and method == "POST":
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        if form.get("username") not in USERS or form.get("password") != PASSWORD:
            h.send(401, "<p>Wrong email or password</p>", content_type="text/html")
            return
        code = secrets.token_urlsafe(16)
        state.codes[code] = {"email": form["username"], "challenge": form.get("code_challenge"),
                             "redirect_uri": form["redirect_uri"]}
        query = urlencode({"code": code, "state": form.get("state", "")})
        h.send(302, headers={"Location": f"{form['redirect_uri']}?{query}"})
    elif path == "/token" and method == "POST":
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        if form.get("grant_type") == "refresh_token" and form.get("refresh_token") in state.refresh:
            h.send(200, state.token_for(state.refresh.pop(form["refresh_token"])))
            return
        grant = state.codes.pop(form.get("code", ""), None)
        verifier = form.get("code_verifier", "")
        if not grant or _b64(hashlib.sha256(verifier.encode()).digest()) != grant["challenge"]:
            h.send(400, {"error": "invalid_grant"})
            return
        h.send(200, state.token_for(grant["email"]))
    elif path == "/logout":
        h.send(302, headers={"Location": one.get("post_logout_redirect_uri") or one.get("logout_uri") or "/"})
    elif path == "/jwks":
        h.send(200, {"keys": []})
    elif path == "/_expire" and method == "POST":  # test hook: every issued token stops working
        state.tokens.clear()
        state.refresh.clear()
        h.send(204)
    else:
        h.send(404, {"message": "not found"})


def shortener_route(h: Handler, method: str, path: str, query: dict[str, list[str]], body: bytes) -> None:
    state = h.state
    if method == "OPTIONS":
        h.send(204)
        return
    if not path.startswith("/app") and method == "GET":
        link = state.links.get(path.strip("/"))
        h.send(301 if link else 302, headers={"Location": link["url"] if link else "https://example.com/link-not-found"})
        return
    owner = h.caller()
    if owner is None:
        h.send(401, {"message": "Unauthorized"})
        return
    link_id = path.removeprefix("/app").strip("/")
    data = json.loads(body or b"{}")
    now = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime())
    with state.lock:
        if method == "GET":
            mine = sorted((link for link in state.links.values() if link["owner"] == owner), key=lambda x: x["id"])
            start = query.get("next", [""])[0]
            mine = [link for link in mine if link["id"] > start]
            page, rest = mine[:25], mine[25:]
            h.send(200, {"items": [{k: v for k, v in link.items() if k != "owner"} for link in page],
                         "next": page[-1]["id"] if rest else None})
        elif method == "POST":
            if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", str(data.get("id"))) or not re.fullmatch(
                    r"https?://\S{1,2040}", str(data.get("url"))):
                h.send(400, {"message": "Invalid request body: [ECMA 262 regex does not match input string]"})
            elif data["id"] in state.links:
                h.send(409, {"message": "A link with this id already exists"})
            else:
                link = {"id": data["id"], "url": data["url"], "owner": owner, "timestamp": now, "updatedAt": now}
                state.links[data["id"]] = link
                h.send(201, link)
        elif method == "PUT":
            link = state.links.get(link_id)
            if not link or link["owner"] != owner:
                h.send(404, {"message": "You have no link with this id"})
            else:
                link.update(url=data["url"], updatedAt=now)
                h.send(200, link)
        elif method == "DELETE":
            link = state.links.get(link_id)
            if not link or link["owner"] != owner:
                h.send(404, {"message": "You have no link with this id"})
            else:
                del state.links[link_id]
                h.send(204)


def _view(question: dict[str, Any]) -> dict[str, Any]:
    count = question["answerCount"]
    avg = round(question["totalScore"] / count, 2) if count and question["type"] == "star" else 0
    return {**{k: question[k] for k in ("questionId", "type", "text", "author", "created", "lat", "lng")},
            "answerCount": count, "avgScore": avg}


def askaroundme_route(h: Handler, method: str, path: str, query: dict[str, list[str]], body: bytes) -> None:
    state = h.state
    if method == "OPTIONS":
        h.send(204)
        return
    email = h.caller()
    if email is None:
        h.send(401, {"message": "Unauthorized"})
        return
    sub = f"sub-{email.split('@')[0]}"
    data = json.loads(body or b"{}")
    if path == "/questions" and method == "GET":
        h.send(200, {"questions": [_view(q) for q in state.questions.values()]})
    elif path == "/questions" and method == "POST":
        question = {"questionId": str(uuid.uuid4()), "type": data["type"], "text": data["text"], "author": sub,
                    "created": time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime()), "lat": data["lat"],
                    "lng": data["lng"], "answerCount": 0, "totalScore": 0, "heatmap": {}, "seq": 0}
        h.send(202, {"questionId": question["questionId"], "created": question["created"]})
        time.sleep(0.3)  # saved from a queue: not at once
        state.questions[question["questionId"]] = question
        state.publish(f"askaroundme/geo/{pygeohash.encode(data['lat'], data['lng'], 5)}",
                      {"event": "question.created", **_view(question)})
    elif path.endswith("/heatmap"):
        question = state.questions[path.split("/")[2]]
        h.send(200, {"questionId": question["questionId"], "answerCount": question["answerCount"],
                     "cells": [{"geohash": c, "count": n} for c, n in question["heatmap"].items()]})
    elif path == "/answers" and method == "POST":
        question = state.questions.get(data.get("questionId"))
        if question is None:
            h.send(404, {"message": f"question {data.get('questionId')} not found"})
            return
        h.send(202, {"questionId": question["questionId"], "answeredAt": "now"})
        with state.lock:
            state.answers[(question["questionId"], sub)] = data
            answers = [a for (qid, _), a in state.answers.items() if qid == question["questionId"]]
            question["answerCount"] = len(answers)
            question["totalScore"] = sum(a.get("rating", 0) for a in answers)
            cells: dict[str, int] = {}
            for answer in answers:
                if "lat" in answer:
                    cell = pygeohash.encode(answer["lat"], answer["lng"], 6)
                    cells[cell] = cells.get(cell, 0) + 1
            question["heatmap"] = cells
            question["seq"] += 1
            seq = str(question["seq"])
        view = _view(question)
        payload = {"event": "question.summary", "seq": seq,
                   **{k: view[k] for k in ("questionId", "type", "answerCount", "avgScore")}}
        if question["type"] == "geo":
            payload["cells"] = cells
        state.publish(f"askaroundme/questions/{question['questionId']}", payload)
    elif path == "/realtime/session":
        h.send(200, {"identityId": f"local:{sub}", "region": "us-east-1", "iotEndpoint": "",
                     "clientIdPrefix": f"askaroundme-{sub}-",
                     "topics": {"geo": "askaroundme/geo/<geohash5>", "question": "askaroundme/questions/<questionId>",
                                "user": f"askaroundme/users/{sub}", "system": "askaroundme/system"}})
    else:
        h.send(404, {"message": "not found"})


def robot_route(h: Handler, method: str, path: str, query: dict[str, list[str]], body: bytes) -> None:
    if method == "OPTIONS":
        h.send(204)
    elif h.caller() is None:
        h.send(401, {"message": "Unauthorized"})
    elif path == "/publish" and method == "POST":
        command = json.loads(body)
        h.state.commands.append({**command, "at": time.monotonic()})
        h.state.publish("robot1/action", command if command.get("action") != "stop" else {"action": "stop"})
        h.send(202, {"topic": "robot1/action", "command": command})
    elif path == "/_commands":
        h.send(200, h.state.commands)
    else:
        h.send(404, {"message": "not found"})


def static_route(client: str, config: Callable[[], dict[str, Any]]) -> Callable[..., None]:
    dist = ROOT / "web" / client / "dist"
    types = {".js": "text/javascript", ".css": "text/css", ".html": "text/html", ".svg": "image/svg+xml",
             ".png": "image/png", ".map": "application/json", ".txt": "text/plain"}

    def route(h: Handler, method: str, path: str, query: dict[str, list[str]], body: bytes) -> None:
        if path == "/config.json":
            h.send(200, config())
            return
        file = (dist / path.lstrip("/")).resolve()
        if not file.is_file() or dist not in file.parents:
            file = dist / "index.html"  # SPA fallback (/callback)
        h.send(200, file.read_bytes(), content_type=types.get(file.suffix, "application/octet-stream"))
    return route


def serve(route: Callable[..., None], state: State) -> tuple[ThreadingHTTPServer, str]:
    handler = type("Bound", (Handler,), {"state": state, "route": staticmethod(route)})
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def start_mosquitto(workdir: Path) -> tuple[subprocess.Popen[bytes], int, int]:
    tcp, ws = free_port(), free_port()
    config = workdir / "mosquitto.conf"
    config.write_text(f"user root\nallow_anonymous true\npersistence false\nlog_dest stderr\nlistener {tcp} 127.0.0.1\n"
                      f"listener {ws} 127.0.0.1\nprotocol websockets\n")
    process = subprocess.Popen([shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-c", str(config)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", ws), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    return process, tcp, ws


@dataclass
class StandIn:
    urls: dict[str, str]
    state: State
    stop: Callable[[], None]


def start() -> StandIn:
    state = State()
    workdir = Path(tempfile.mkdtemp(prefix="web-standin-"))
    broker, tcp, ws = start_mosquitto(workdir)
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="standin-publisher")
    client.connect("127.0.0.1", tcp)
    client.loop_start()
    state.publish = lambda topic, payload: client.publish(topic, json.dumps(payload), qos=1)
    servers, urls = [], {}
    for name, route in (("issuer", issuer_route), ("shortenerApi", shortener_route),
                        ("askaroundmeApi", askaroundme_route), ("robotApi", robot_route)):
        server, urls[name] = serve(route, state)
        servers.append(server)
    state.issuer = urls["issuer"]
    urls["mqttWebSocket"], urls["mqttTcp"] = f"ws://127.0.0.1:{ws}", f"127.0.0.1:{tcp}"

    def auth(site: str) -> dict[str, Any]:
        return {"authority": urls["issuer"], "clientId": CLIENT_ID, "redirectUri": f"{site}/callback",
                "postLogoutRedirectUri": f"{site}/", "scope": "openid email profile", "idTokenForApi": True}

    configs = {
        "shortener": lambda site: {"auth": auth(site), "apiUrl": urls["shortenerApi"],
                                   "shortLinkBase": urls["shortenerApi"]},
        "askaroundme": lambda site: {"auth": auth(site), "apiUrl": urls["askaroundmeApi"], "region": "us-east-1",
                                     "identityPoolId": None,
                                     "realtime": {"mode": "local", "url": urls["mqttWebSocket"]},
                                     "tiles": {"url": f"{site}/tiles/{{z}}/{{x}}/{{y}}.png",
                                               "attribution": "No tiles (stand-in)"}},
        "robot": lambda site: {"auth": auth(site), "apiUrl": f"{urls['robotApi']}/publish", "region": "us-east-1",
                               "identityPoolId": None, "signalingChannelArn": None,
                               "telemetry": {"mode": "local", "url": urls["mqttWebSocket"], "topic": "robot1/telemetry",
                                             "intervalSeconds": 2}},
    }
    for name, make in configs.items():
        site: list[str] = []
        server, url = serve(static_route(name, lambda make=make, site=site: make(site[0])), state)
        site.append(url)
        urls[name] = url
        servers.append(server)

    def stop() -> None:
        for server in servers:
            server.shutdown()
            server.server_close()
        client.loop_stop()
        client.disconnect()
        broker.terminate()
        broker.wait(5)
        shutil.rmtree(workdir, ignore_errors=True)

    return StandIn(urls, state, stop)


if __name__ == "__main__":
    running = start()
    print(json.dumps(running.urls, indent=2), flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        running.stop()
        sys.exit(0)
