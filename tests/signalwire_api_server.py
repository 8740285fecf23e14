"""A local server that follows SignalWire's REST contracts (seeds 000-002 and providers.md), run as its
own process, plus the first step of its client WebSocket protocol for browser tests.

REST: Basic `project:token` auth (401 {"error":"Unauthorized"}); video rooms (list, get by id or
name, create with validation and unique names, update); room_tokens (a JWT whose header names the
WebSocket host in `ch`, as SignalWire's do); Relay JWTs and their refresh; Fabric guest and subscriber
tokens, subscriber refresh and addresses; room_sessions with members and recordings; paging through
links.next (page_size); 404 {"error":"Not Found"}; 422 {"errors":[{type, code, message, attribute}]};
429 rate_limit_exceeded with Retry-After, past a per-second limit or injected.

WebSocket (GET with Upgrade): accepts the connection and records the first JSON-RPC message the SDK
sends (signalwire.connect with the token), then closes.

    python tests/signalwire_api_server.py --control-token SECRET     # prints "LISTENING <port>"
"""

import base64
import hashlib
import hmac
import json
import re
import secrets
import struct
import time
import uuid
from urllib.parse import parse_qs, urlencode, urlsplit

import contract_server

NAME = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
SIGNING_KEY = secrets.token_bytes(32)  # SignalWire's own: the portal never has it


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def make_jwt(header: dict, payload: dict) -> str:
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(payload).encode())}"
    signature = hmac.new(SIGNING_KEY, signing_input.encode(), hashlib.sha512).digest()
    return f"{signing_input}.{b64url(signature)}"


class State(contract_server.State):
    def reset(self, project_id="", api_token="", per_second=50, channel_host=""):
        super().reset()
        self.project_id, self.api_token = project_id, api_token
        self.per_second = per_second
        self.channel_host = channel_host  # the `ch` room tokens carry (the browser test's WebSocket)
        self.rooms: dict[str, dict] = {}
        self.addresses: dict[str, dict] = {}
        self.sessions: list[dict] = []
        self.members: dict[str, list] = {}
        self.recordings: dict[str, list] = {}
        self.refresh_tokens: dict[str, str] = {}  # refresh token -> what it refreshes
        self.retry_after = "1"
        self.slow_create = 0.0  # seconds a room creation takes (to widen races in tests)
        self.sockets: list[dict] = []

    def snapshot(self) -> dict:
        return {"requests": self.log, "sockets": self.sockets, "rooms": list(self.rooms.values())}


class Handler(contract_server.Handler):
    state: State

    # --- plumbing --------------------------------------------------------------------------------
    def _unprocessable(self, attribute, message, code="invalid_parameter"):
        return self._json(422, {"errors": [{"type": "validation_error", "code": code, "message": message,
                                            "attribute": attribute}]})

    def _authorized(self) -> bool:
        expected = "Basic " + base64.b64encode(f"{self.state.project_id}:{self.state.api_token}".encode()).decode()
        return bool(self.state.api_token) and hmac.compare_digest(self.headers.get("Authorization", ""), expected)

    def _page(self, url, query, items):
        size = max(1, min(1000, int(query.get("page_size", 50))))
        start = int(query.get("page_token", 0) or 0)
        links = {"self": url.path, "first": url.path + "?" + urlencode({**query, "page_token": 0})}
        if start + size < len(items):
            links["next"] = f"http://{self.headers['Host']}{url.path}?" + urlencode(
                {**query, "page_size": size, "page_token": start + size})
        return self._json(200, {"links": links, "data": items[start:start + size]})

    def _handle(self, method):
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path.startswith("/_control"):
            return self._control(method, url.path)
        if method == "GET" and self.headers.get("Upgrade", "").lower() == "websocket":
            return self._websocket()
        body = self._body() if method in ("POST", "PUT") else {}
        state = self.state
        self.entry = {"at": time.time(), "method": method, "path": url.path, "query": query, "body": body,
                      "authorized": self._authorized()}
        limited, failing = state.admit(self.entry)
        if not self.entry["authorized"]:
            return self._json(401, {"error": "Unauthorized"})
        if limited:
            return self._json(429, {"errors": [{"type": "rate_limit", "code": "rate_limit_exceeded",
                                                "message": "Too many requests", "attribute": None}]},
                              headers={"Retry-After": state.retry_after} if state.retry_after else {})
        if failing:
            return self._json(503, {"error": "Service Unavailable"})
        if body is None:
            return self._json(400, {"error": "Bad Request"})
        return self._route(method, url, query, body)

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_PUT(self):
        self._handle("PUT")

    # --- the API ---------------------------------------------------------------------------------
    def _route(self, method, url, query, body):
        path, state = url.path, self.state
        if path == "/api/video/rooms" and method == "GET":
            return self._page(url, query, sorted(state.rooms.values(), key=lambda r: r["created_at"]))
        if path == "/api/video/rooms" and method == "POST":
            return self._create_room(body)
        if match := re.fullmatch(r"/api/video/rooms/([^/]+)", path):
            room = self._room(match.group(1))
            if room is None:
                return self._json(404, {"error": "Not Found"})
            if method == "PUT":
                problem = self._room_problem(body, creating=False)
                if problem:
                    return self._unprocessable(*problem)
                with state.lock:
                    room.update({k: v for k, v in body.items() if k != "name"})
                    room["updated_at"] = _now()
            return self._json(200, room)
        if path == "/api/video/room_tokens" and method == "POST":
            return self._room_token(body)
        if path == "/api/relay/rest/jwt" and method == "POST":
            return self._relay(body, refreshing=False)
        if path == "/api/relay/rest/jwt" and method == "PUT":
            return self._relay(body, refreshing=True)
        if path == "/api/fabric/guests/tokens" and method == "POST":
            addresses = body.get("allowed_addresses")
            if not isinstance(addresses, list) or not addresses or any(
                    a not in {x["id"] for x in state.addresses.values()} for a in addresses):
                return self._unprocessable("allowed_addresses", "must list existing address ids")
            return self._json(201, self._fabric_pair("guest", {"allowed_addresses": addresses,
                                                               "expire_at": body.get("expire_at")}))
        if path == "/api/fabric/subscribers/tokens" and method == "POST":
            if not isinstance(body.get("reference"), str) or not body["reference"]:
                return self._unprocessable("reference", "is required")
            pair = self._fabric_pair("subscriber", {"reference": body["reference"]})
            return self._json(201, {"subscriber_id": str(uuid.uuid5(uuid.NAMESPACE_URL, body["reference"])), **pair})
        if path == "/api/fabric/subscribers/tokens/refresh" and method == "POST":
            subject = state.refresh_tokens.pop(body.get("refresh_token") or "", None)
            if subject is None or not subject.startswith("subscriber"):
                return self._json(401, {"error": "Unauthorized"})
            return self._json(200, self._fabric_pair("subscriber", {"reference": subject.split(":", 1)[1]}))
        if path == "/api/fabric/addresses" and method == "GET":
            found = [a for a in state.addresses.values() if not query.get("name") or a["name"] == query["name"]]
            return self._page(url, {k: v for k, v in query.items() if k not in ("page_size", "page_token")} |
                              {k: query[k] for k in ("page_size", "page_token") if k in query}, found)
        if path == "/api/video/room_sessions" and method == "GET":
            found = [s for s in state.sessions if not query.get("room_name") or s["name"] == query["room_name"]]
            return self._page(url, query, found)
        if match := re.fullmatch(r"/api/video/room_sessions/([^/]+)/(members|recordings)", path):
            if not any(s["id"] == match.group(1) for s in state.sessions):
                return self._json(404, {"error": "Not Found"})
            source = state.members if match.group(2) == "members" else state.recordings
            return self._page(url, query, source.get(match.group(1), []))
        return self._json(404, {"error": "Not Found"})

    def _room(self, key):
        return self.state.rooms.get(key) or next((r for r in self.state.rooms.values() if r["id"] == key), None)

    def _room_problem(self, body, *, creating):
        if creating and (not isinstance(body.get("name"), str) or not NAME.match(body["name"])):
            return "name", "must match ^[A-Za-z0-9_-]+$ and be at most 100 characters"
        if "max_members" in body and not (isinstance(body["max_members"], int) and 1 <= body["max_members"] <= 300):
            return "max_members", "must be between 1 and 300"
        if "quality" in body and body["quality"] not in ("720p", "1080p"):
            return "quality", "must be 720p or 1080p"
        return None

    def _create_room(self, body):
        state = self.state
        problem = self._room_problem(body, creating=True)
        if problem:
            return self._unprocessable(*problem)
        if state.slow_create:
            time.sleep(state.slow_create)  # a slow provider, so concurrent first joins overlap
        with state.lock:
            if body["name"] in state.rooms:
                return self._unprocessable("name", "has already been taken", code="taken")
            room = {"id": str(uuid.uuid4()), "name": body["name"],
                    "display_name": body.get("display_name") or body["name"], "max_members": 20,
                    "quality": "720p", "layout": "grid-responsive", "record_on_start": False,
                    "created_at": _now(), "updated_at": _now(), **{k: v for k, v in body.items() if k != "name"}}
            state.rooms[room["name"]] = room
            state.addresses[room["name"]] = {"id": str(uuid.uuid4()), "name": room["name"], "type": "room",
                                             "display_name": room["display_name"],
                                             "channels": {"video": f"/public/{room['name']}?channel=video"}}
        return self._json(201, room)

    def _room_token(self, body):
        name = body.get("room_name")
        if not isinstance(name, str) or not name:
            return self._unprocessable("room_name", "is required")
        permissions = body.get("permissions", [])
        if not isinstance(permissions, list) or not all(
                isinstance(p, str) and p.startswith("room.") for p in permissions):
            return self._unprocessable("permissions", "must be a list of permission names")
        if body.get("join_as", "member") not in ("member", "audience"):
            return self._unprocessable("join_as", "must be member or audience")
        if name not in self.state.rooms and not body.get("auto_create_room"):
            return self._unprocessable("room_name", "does not exist")
        header = {"typ": "VRT", "alg": "HS512"}
        if self.state.channel_host:
            header["ch"] = self.state.channel_host
        payload = {"iat": int(time.time()), "jti": str(uuid.uuid4()), "sub": self.state.project_id,
                   "u": body.get("user_name", ""), "r": name,
                   "s": [] if body.get("join_as") == "audience" else permissions,
                   "ja": body.get("join_as", "member"), "jut": body.get("join_until"), "rat": body.get("remove_at"),
                   "mta": body.get("meta") or {}}
        return self._json(200, {"token": make_jwt(header, payload)})

    def _relay(self, body, *, refreshing):
        state = self.state
        if refreshing:
            resource = state.refresh_tokens.pop(body.get("refresh_token") or "", None)
            if resource is None or not resource.startswith("relay:"):
                return self._json(401, {"error": "Unauthorized"})
            resource, minutes = resource.split(":", 1)[1], 15
        else:
            resource = body.get("resource") or str(uuid.uuid4())
            minutes = body.get("expires_in", 15)
            if not isinstance(minutes, int) or minutes < 1:
                return self._unprocessable("expires_in", "must be a whole number of minutes")
        now = int(time.time())
        claims = {"iat": now, "jti": str(uuid.uuid4()), "iss": "SignalWire JWT", "resource": resource,
                  "exp": now + 60 * minutes}
        token = make_jwt({"typ": "JWT", "alg": "HS512"}, claims)
        refresh = make_jwt({"typ": "Refresh", "alg": "HS512"}, {"iat": now, "jti": str(uuid.uuid4())})
        state.refresh_tokens[refresh] = f"relay:{resource}"
        return self._json(200 if refreshing else 201, {"jwt_token": token, "refresh_token": refresh})

    def _fabric_pair(self, kind, claims):
        header = {"typ": "SAT", "alg": "HS512"}
        if self.state.channel_host:
            header["ch"] = self.state.channel_host
        token = make_jwt(header, {"iat": int(time.time()), "jti": str(uuid.uuid4()), "kind": kind, **claims})
        refresh = secrets.token_urlsafe(24)
        subject = claims.get("reference") or ",".join(claims.get("allowed_addresses") or [])
        self.state.refresh_tokens[refresh] = f"{kind}:{subject}"
        return {"token": token, "refresh_token": refresh}

    # --- the SDK's WebSocket: take the first message, record it, close ----------------------------
    def _websocket(self):
        self._accept_websocket()
        message = _read_frame(self.rfile)
        with self.state.lock:
            self.state.sockets.append({"at": time.time(), "path": self.path, "message": message})
        self._close_websocket()


def _read_frame(stream) -> str:
    first, second = stream.read(2)
    length = second & 0x7F
    if length == 126:
        length = struct.unpack(">H", stream.read(2))[0]
    elif length == 127:
        length = struct.unpack(">Q", stream.read(8))[0]
    mask = stream.read(4) if second & 0x80 else b"\0\0\0\0"
    payload = bytes(b ^ mask[i % 4] for i, b in enumerate(stream.read(length)))
    return payload.decode(errors="replace")


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


if __name__ == "__main__":
    contract_server.serve(State, Handler)
