"""A local server that follows VideoSDK's contracts (seed 003, providers.md and VideoSDK's v2 API
reference), run as its own process, plus the first steps of its browser SDK's connection for the
browser test.

REST, on plain HTTP: every call but the public key needs `Authorization: <JWT>` with no prefix,
HS256-signed with the account's secret, carrying `apikey`, `version: 2` and `roles: ["crawler"]`
(401 otherwise). POST /v2/rooms (idempotent on customRoomId, ids like abcd-efgh-ijkl, a webhook
endPoint of at most 512 characters), GET /v2/rooms, GET /v2/rooms/validate/{roomId} (400 for an
unknown id, the room with disabled: true once deactivated), POST /v2/rooms/deactivate;
GET /v2/sessions/ and GET /v2/recordings by roomId, paged with page/perPage and pageInfo
{currentPage, perPage, lastPage, total}; POST /v2/sessions/participants/remove and
POST /v2/sessions/end on the live session (400 when there is none); GET /v2/public/rsa-public-key.
429 past a per-second limit or injected (Retry-After), 503 injected.

The server holds the private half of the webhook key: /_control/deliver posts a webhook to a URL
with a `videosdk-signature` header (base64 RSA-SHA256 of the body as sent, or of its compact JSON,
or tampered), as VideoSDK does.

SDK side, on HTTPS (a certificate made at start for 127.0.0.1; the browser test ignores that it is
self-signed): POST /infra/v1/meetings/init-config, where @videosdk.live/js-sdk first sends the token
(checked: HS256 with the secret, apikey, version 2, roles rtc, roomId equal to the body's and a
room of this server), answered with this server as the signalling host; then the socket.io
WebSocket (GET /socket.io/ with Upgrade), whose address carries the token as `secret`: accepted,
recorded and closed.

    python tests/videosdk_api_server.py --control-token SECRET     # prints "LISTENING <port>"
"""

import base64
import datetime
import ipaddress
import json
import math
import re
import secrets
import ssl
import string
import tempfile
import threading
import time
import uuid
from http.server import ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import contract_server
import jwt
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

ROOM_ALPHABET = string.ascii_lowercase + string.digits
PERMISSIONS = {"allow_join", "ask_join", "allow_mod"}


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(key) -> str:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def sign(key, raw: bytes) -> str:
    return base64.b64encode(key.sign(raw, padding.PKCS1v15(), hashes.SHA256())).decode()


def room_id() -> str:
    return "-".join("".join(secrets.choice(ROOM_ALPHABET) for _ in range(4)) for _ in range(3))


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class State(contract_server.State):
    def __init__(self, control_token):
        self.webhook_key = new_key()
        self.tls_port = 0
        super().__init__(control_token)

    def reset(self, api_key="", secret="", per_second=50):
        super().reset()
        self.api_key, self.secret = api_key, secret
        self.per_second = per_second
        self.rooms: dict[str, dict] = {}
        self.sessions: list[dict] = []
        self.recordings: list[dict] = []
        self.retry_after = "1"
        self.slow_create = 0.0  # seconds a room creation takes (to widen races in tests)
        self.refuse_init = ""  # init-config refuses every token with this message (a key VideoSDK disabled)
        self.inits: list[dict] = []
        self.sockets: list[dict] = []

    def snapshot(self) -> dict:
        return {"requests": self.log, "rooms": list(self.rooms.values()), "inits": self.inits,
                "sockets": self.sockets, "tls_port": self.tls_port, "public_key": public_pem(self.webhook_key)}

    def check(self, token: str, *, role: str) -> tuple[dict | None, str]:
        """The claims of a token this server accepts for `role`, or None and why not."""
        if not token or token.lower().startswith("bearer "):
            return None, "the token goes in Authorization with no prefix"
        try:
            claims = jwt.decode(token, self.secret, algorithms=["HS256"], options={"require": ["exp"]})
        except jwt.PyJWTError as error:
            return None, f"invalid token: {error.__class__.__name__}"
        if not self.secret or claims.get("apikey") != self.api_key:
            return None, "unknown apikey"
        if claims.get("version") != 2 or role not in (claims.get("roles") or []):
            return None, f"a version 2 token with the {role} role is required"
        permissions = claims.get("permissions") or []
        if not permissions or not set(permissions) <= PERMISSIONS or (
                "ask_join" in permissions and len(permissions) > 1):
            return None, "permissions must be allow_join, allow_mod or ask_join alone"
        return claims, ""


class Handler(contract_server.Handler):
    state: State

    # --- plumbing --------------------------------------------------------------------------------
    def _error(self, status, message, headers=None):
        reasons = {400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 429: "Too Many Requests",
                   503: "Service Unavailable"}
        return self._json(status, {"statusCode": status, "error": reasons.get(status, "Error"), "message": message},
                          headers)

    def _cors(self) -> dict:
        return {"Access-Control-Allow-Origin": self.headers.get("Origin") or "*",
                "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
                "Access-Control-Allow-Headers": "authorization, content-type", "Access-Control-Max-Age": "600"}

    def do_OPTIONS(self):
        self.send_response(204)
        for name, value in self._cors().items():
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def _handle(self, method):
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path.startswith("/_control"):
            return self._control(method, url.path)
        if self.server.tls:
            return self._sdk(method, url, query)
        body = self._body() if method == "POST" else {}
        state = self.state
        now = time.time()
        token = self.headers.get("Authorization", "")
        public = url.path == "/v2/public/rsa-public-key"
        claims, problem = (None, "") if public else state.check(token, role="crawler")
        self.entry = {"at": now, "method": method, "path": url.path, "query": query, "body": body,
                      "authorized": public or claims is not None, "claims": claims, "token": token}
        limited, failing = state.admit(self.entry)
        if not self.entry["authorized"]:
            return self._error(401, problem)
        if limited:
            return self._error(429, "Too many requests", {"Retry-After": state.retry_after} if state.retry_after
                               else {})
        if failing:
            return self._error(503, "Service Unavailable")
        if body is None:
            return self._error(400, "the body is not JSON")
        return self._route(method, url.path, query, body)

    # --- the REST API ----------------------------------------------------------------------------
    def _route(self, method, path, query, body):
        state = self.state
        if path == "/v2/public/rsa-public-key" and method == "GET":
            return self._json(200, {"publicKey": public_pem(state.webhook_key)})
        if path == "/v2/rooms" and method == "POST":
            return self._create_room(body)
        if path == "/v2/rooms" and method == "GET":
            return self._page(query, sorted(state.rooms.values(), key=lambda r: r["createdAt"]))
        if (match := re.fullmatch(r"/v2/rooms/validate/([^/]+)", path)) and method == "GET":
            room = state.rooms.get(match.group(1))
            return self._json(200, room) if room else self._error(400, "Invalid roomId")
        if path == "/v2/rooms/deactivate" and method == "POST":
            room = state.rooms.get(body.get("roomId"))
            if room is None:
                return self._error(400, "Invalid roomId")
            room["disabled"] = True
            return self._json(200, room)
        if path in ("/v2/sessions", "/v2/sessions/") and method == "GET":
            return self._page(query, [s for s in state.sessions if s["roomId"] == query.get("roomId")])
        if path == "/v2/sessions/participants/remove" and method == "POST":
            return self._remove(body)
        if path == "/v2/sessions/end" and method == "POST":
            return self._end(body)
        if path == "/v2/recordings" and method == "GET":
            return self._page(query, [r for r in state.recordings if r["roomId"] == query.get("roomId")])
        return self._error(404, "Not Found")

    def _page(self, query, items):
        try:
            page, per_page = max(1, int(query.get("page", 1))), max(1, min(100, int(query.get("perPage", 20))))
        except ValueError:
            return self._error(400, "page and perPage are numbers")
        last = max(1, math.ceil(len(items) / per_page))
        return self._json(200, {"pageInfo": {"currentPage": page, "perPage": per_page, "lastPage": last,
                                             "total": len(items)},
                                "data": items[(page - 1) * per_page:page * per_page]})

    def _create_room(self, body):
        state = self.state
        custom = body.get("customRoomId")
        if custom is not None and (not isinstance(custom, str) or not custom):
            return self._error(400, "customRoomId must be a string")
        hook = body.get("webhook")
        if hook is not None and not (isinstance(hook, dict) and isinstance(hook.get("endPoint"), str)
                                     and 0 < len(hook["endPoint"]) <= 512 and isinstance(hook.get("events"), list)):
            return self._error(400, "webhook needs an endPoint of at most 512 characters and a list of events")
        if state.slow_create:
            time.sleep(state.slow_create)  # a slow provider, so concurrent first joins overlap
        with state.lock:
            existing = next((r for r in state.rooms.values() if custom and r["customRoomId"] == custom), None)
            if existing is not None:
                return self._json(200, existing)  # idempotent on customRoomId
            new_id = room_id()
            room = {"roomId": new_id, "customRoomId": custom, "userId": "5f7edbb14c938bcd42944527", "disabled": False,
                    "createdAt": _now(), "updatedAt": _now(), "id": uuid.uuid4().hex[:24], "webhook": hook,
                    "autoCloseConfig": body.get("autoCloseConfig"),
                    "links": {"get_room": f"/v2/rooms/{new_id}", "get_session": f"/v2/sessions/?roomId={new_id}"}}
            state.rooms[new_id] = room
        return self._json(200, room)

    def _live_session(self, room):
        return next((s for s in self.state.sessions if s["roomId"] == room and s["status"] == "ongoing"), None)

    def _remove(self, body):
        with self.state.lock:
            session = self._live_session(body.get("roomId"))
            person = next((p for p in (session or {}).get("participants", [])
                           if p["participantId"] == body.get("participantId") and p["timelog"][-1]["end"] is None),
                          None)
            if person is None:
                return self._error(400, "The participant is not in a live session of this room")
            person["timelog"][-1]["end"] = _now()
        return self._json(200, session)

    def _end(self, body):
        with self.state.lock:
            session = self._live_session(body.get("roomId"))
            if session is None:
                return self._error(400, "No live session in this room")
            for person in session["participants"]:
                if person["timelog"][-1]["end"] is None:
                    person["timelog"][-1]["end"] = _now()
            session.update(status="ended", end=_now())
        return self._json(200, session)

    # --- the browser SDK's side (HTTPS) ----------------------------------------------------------
    def _sdk(self, method, url, query):
        if method == "GET" and self.headers.get("Upgrade", "").lower() == "websocket":
            return self._websocket(url, query)
        if url.path != "/infra/v1/meetings/init-config" or method != "POST":
            return self._json(404, {"error": "Not Found"}, self._cors())
        body = self._body() or {}
        token = self.headers.get("Authorization", "")
        claims, problem = self.state.check(token, role="rtc")
        if claims is not None and (claims.get("roomId") != body.get("roomId")
                                   or body.get("roomId") not in self.state.rooms):
            claims, problem = None, "the token is not for this room"
        if self.state.refuse_init:
            claims, problem = None, self.state.refuse_init
        with self.state.lock:
            self.state.inits.append({"at": time.time(), "token": token, "body": body, "claims": claims,
                                     "problem": problem, "origin": self.headers.get("Origin", "")})
        if claims is None:
            return self._json(401, {"error": problem, "code": 4001}, self._cors())
        host = f"127.0.0.1:{self.state.tls_port}"
        return self._json(200, {"data": {
            "baseUrl": host, "iceServers": None, "signalingUrl": None, "socketPath": None, "socketUrl": None,
            "observability": {"jwt": "", "traces": {"enabled": False, "endPoint": ""},
                              "logs": {"enabled": False, "endPoint": ""}, "metaData": {}}}}, self._cors())

    def _websocket(self, url, query):
        self._accept_websocket()
        with self.state.lock:
            self.state.sockets.append({"at": time.time(), "path": url.path, "query": query})
        self._close_websocket()  # this stand-in speaks no socket.io

    # --- control ---------------------------------------------------------------------------------
    def control(self, path, body):
        state = self.state
        if path == "/_control/deliver":
            return self._deliver(body)  # not under the lock: the portal's answer may take a while
        if path not in ("/_control/rotate-key", "/_control/session", "/_control/recording"):
            return super().control(path, body)
        with state.lock:
            if path == "/_control/rotate-key":
                state.webhook_key = new_key()
            elif path == "/_control/session":
                state.sessions.append(body)
            else:
                state.recordings.append(body)
        return {"ok": True}

    def _deliver(self, body) -> dict:
        """Post a webhook as VideoSDK does: {url, event (an object) or raw (text), signing: "raw" (the
        bytes sent), "compact" (JSON.stringify of the event, sent pretty-printed), "tampered",
        "other-key" or "none"}."""
        signing = body.get("signing", "raw")
        if "raw" in body:
            raw = body["raw"].encode()
        elif signing == "compact":
            raw = json.dumps(body["event"], indent=2).encode()
        else:
            raw = json.dumps(body["event"], separators=(",", ":")).encode()
        signed = json.dumps(body["event"], separators=(",", ":"), ensure_ascii=False).encode() \
            if signing == "compact" else raw
        headers = {"Content-Type": "application/json"}
        if signing != "none":
            key = new_key() if signing == "other-key" else self.state.webhook_key
            headers["videosdk-signature"] = sign(key, signed)
        if signing == "tampered":
            raw = raw.replace(b"participant-joined", b"participant-left")
        answer = requests.post(body["url"], data=raw, headers=headers, timeout=10)
        return {"status": answer.status_code, "body": answer.text[:500]}


def tls_context(directory: Path) -> ssl.SSLContext:
    """A self-signed certificate for 127.0.0.1, made now."""
    key = new_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
                   .not_valid_after(now + datetime.timedelta(days=2))
                   .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                                  critical=False)
                   .sign(key, hashes.SHA256()))
    (directory / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (directory / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                          serialization.PrivateFormat.PKCS8,
                                                          serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(directory / "cert.pem", directory / "key.pem")
    return context


def serve_sdk(state: State, handler, server: ThreadingHTTPServer):
    """Beside the REST server, the SDK's side on HTTPS, on a port of its own (state.tls_port)."""
    server.tls = False
    sdk = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    sdk.tls = True
    with tempfile.TemporaryDirectory() as directory:
        sdk.socket = tls_context(Path(directory)).wrap_socket(sdk.socket, server_side=True)
    state.tls_port = sdk.server_port
    threading.Thread(target=sdk.serve_forever, daemon=True).start()


if __name__ == "__main__":
    contract_server.serve(State, Handler, also=serve_sdk)
