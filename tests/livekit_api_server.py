"""A local stand-in for a LiveKit server (livekit-server is on no registry these machines reach), run as
its own process: the RoomService Twirp API and the first step of the client's signalling socket.

Twirp: POST /twirp/livekit.RoomService/<Method>, in JSON (application/json, snake_case or camelCase
keys) or protobuf (application/protobuf, what livekit-api sends), answered in the same encoding.
Methods: CreateRoom (idempotent on the name: an open room is returned as it is), ListRooms (names
filter), DeleteRoom, ListParticipants, GetParticipant, RemoveParticipant, MutePublishedTrack, UpdateParticipant.
Auth: `Authorization: Bearer <JWT>` HS256-signed with the API secret, `iss` = the API key, `exp`
required, and the video grant each method needs (roomCreate for Create/DeleteRoom, roomList for
ListRooms, roomAdmin for the named room otherwise); failures answer Twirp errors:
401 unauthenticated, 403 permission_denied, 400 invalid_argument / malformed, 404 not_found,
429 resource_exhausted with Retry-After (past a per-second limit or injected), 503 unavailable.

Signalling: GET /rtc, /rtc/v1 (and under a path prefix) with `Upgrade: websocket` is accepted, its
query (the SDK's `access_token`) recorded, and closed at once. GET …/rtc/validate answers 200 for a
token that verifies, 401 otherwise (the SDK asks it after a failed connection).

    python tests/livekit_api_server.py --control-token SECRET     # prints "LISTENING <port>"
"""

import argparse
import base64
import hashlib
import json
import secrets
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import jwt
from google.protobuf.json_format import MessageToDict, Parse, ParseDict, ParseError
from google.protobuf.message import DecodeError
from livekit.protocol import models, room

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
PREFIX = "/twirp/livekit.RoomService/"
# Method -> (request type, grant it needs: "roomCreate", "roomList" or "roomAdmin" for the request's room)
METHODS = {
    "CreateRoom": (room.CreateRoomRequest, "roomCreate"),
    "ListRooms": (room.ListRoomsRequest, "roomList"),
    "DeleteRoom": (room.DeleteRoomRequest, "roomCreate"),
    "ListParticipants": (room.ListParticipantsRequest, "roomAdmin"),
    "GetParticipant": (room.RoomParticipantIdentity, "roomAdmin"),
    "RemoveParticipant": (room.RoomParticipantIdentity, "roomAdmin"),
    "MutePublishedTrack": (room.MuteRoomTrackRequest, "roomAdmin"),
    "UpdateParticipant": (room.UpdateParticipantRequest, "roomAdmin"),
}


class TwirpError(Exception):
    def __init__(self, status, code, msg, headers=None):
        super().__init__(msg)
        self.status, self.code, self.msg, self.headers = status, code, msg, headers or {}


class State:
    def __init__(self, control_token):
        self.control_token = control_token
        self.lock = threading.Lock()
        self.reset()

    def reset(self, api_key="", api_secret="", per_second=50):
        self.api_key, self.api_secret, self.per_second = api_key, api_secret, per_second
        self.rooms: dict[str, dict] = {}
        self.participants: dict[str, list] = {}  # room name -> ParticipantInfo dicts (JSON names)
        self.throttle_next = 0
        self.fail_next = 0
        self.retry_after = "1"
        self.recent: deque = deque()
        self.log: list[dict] = []
        self.sockets: list[dict] = []


class Handler(BaseHTTPRequestHandler):
    state: State
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    # --- plumbing --------------------------------------------------------------------------------
    def _send(self, status, raw: bytes, content_type: str, headers=None):
        if getattr(self, "entry", None) is not None:
            self.entry["status"] = status
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(raw)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(raw)

    def _json(self, status, body, headers=None):
        self._send(status, json.dumps(body).encode(), "application/json", headers)

    def _error(self, error: TwirpError):
        self._json(error.status, {"code": error.code, "msg": error.msg}, error.headers)

    def do_GET(self):
        url = urlsplit(self.path)
        if url.path.startswith("/_control"):
            return self._control("GET", url)
        upgrade = self.headers.get("Upgrade", "").lower() == "websocket"
        if upgrade and url.path.rstrip("/").endswith(("/rtc", "/rtc/v1")):
            return self._websocket(url)
        if url.path.endswith("/rtc/validate"):
            token = parse_qs(url.query).get("access_token", [""])[0]
            with self.state.lock:
                self.state.sockets.append({"at": time.time(), "path": url.path, "validate": True,
                                           "access_token": token})
            try:
                self._claims(token)
            except TwirpError as error:
                return self._send(401, error.msg.encode(), "text/plain")
            return self._send(200, b"success", "text/plain")
        return self._json(404, {"code": "bad_route", "msg": "no such route"})

    def do_POST(self):
        url = urlsplit(self.path)
        if url.path.startswith("/_control"):
            return self._control("POST", url)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        method = url.path[len(PREFIX):] if url.path.startswith(PREFIX) else ""
        protobuf = self.headers.get("Content-Type", "").split(";")[0].strip() == "application/protobuf"
        state, now = self.state, time.time()
        with state.lock:
            self.entry = {"at": now, "method": method, "path": url.path, "encoding": "protobuf" if protobuf else "json",
                          "body": None, "grants": None, "status": None}
            state.log.append(self.entry)
            while state.recent and state.recent[0] <= now - 1:
                state.recent.popleft()
            limited = len(state.recent) >= state.per_second or state.throttle_next > 0
            state.throttle_next = max(0, state.throttle_next - 1)
            failing = not limited and state.fail_next > 0
            if failing:
                state.fail_next -= 1
            state.recent.append(now)
        try:
            if method not in METHODS:
                raise TwirpError(404, "bad_route", f"no handler for path {url.path}")
            request_type, needed = METHODS[method]
            claims = self._claims(self._bearer())
            video = claims.get("video") or {}
            self.entry["grants"] = video
            if limited:
                raise TwirpError(429, "resource_exhausted", "rate limit exceeded",
                                 {"Retry-After": state.retry_after} if state.retry_after else {})
            if failing:
                raise TwirpError(503, "unavailable", "try again later")
            try:
                message = request_type.FromString(raw) if protobuf else (
                    Parse(raw.decode() or "{}", request_type(), ignore_unknown_fields=False))
            except (DecodeError, ParseError, UnicodeDecodeError, ValueError):
                raise TwirpError(400, "malformed", "the body could not be decoded") from None
            self.entry["body"] = MessageToDict(message, preserving_proto_field_name=True)
            self._check_grant(video, needed, getattr(message, "room", ""))
            answer = getattr(self, "_" + method)(message)
        except TwirpError as error:
            return self._error(error)
        if protobuf:
            return self._send(200, answer.SerializeToString(), "application/protobuf")
        return self._send(200, json.dumps(MessageToDict(answer)).encode(), "application/json")

    # --- auth ------------------------------------------------------------------------------------
    def _bearer(self) -> str:
        header = self.headers.get("Authorization", "")
        if not header.startswith("Bearer ") or not header[7:].strip():
            raise TwirpError(401, "unauthenticated", "authorization header must be Bearer <token>")
        return header[7:].strip()

    def _claims(self, token: str) -> dict:
        if not self.state.api_secret:
            raise TwirpError(401, "unauthenticated", "no API key is configured")
        try:
            return jwt.decode(token, self.state.api_secret, algorithms=["HS256"], issuer=self.state.api_key,
                              leeway=60, options={"require": ["exp", "iss"]})
        except jwt.PyJWTError as error:
            raise TwirpError(401, "unauthenticated", f"invalid token: {error.__class__.__name__}") from None

    @staticmethod
    def _check_grant(video: dict, needed: str, room_name: str):
        if not video.get(needed):
            raise TwirpError(403, "permission_denied", f"the token has no {needed} grant")
        if needed == "roomAdmin" and video.get("room") != room_name:
            raise TwirpError(403, "permission_denied", "the token's roomAdmin grant names another room")

    # --- RoomService -----------------------------------------------------------------------------
    def _room(self, name) -> dict:
        found = self.state.rooms.get(name)
        if found is None:
            raise TwirpError(404, "not_found", "requested room does not exist")
        return found

    def _participant(self, room_name, identity) -> dict:
        self._room(room_name)
        found = next((p for p in self.state.participants.get(room_name, []) if p["identity"] == identity), None)
        if found is None:
            raise TwirpError(404, "not_found", "participant does not exist")
        return found

    def _CreateRoom(self, message):
        if not message.name:
            raise TwirpError(400, "invalid_argument", "name is required")
        with self.state.lock:
            found = self.state.rooms.get(message.name)
            if found is None:
                found = {"sid": "RM_" + secrets.token_hex(6), "name": message.name,
                         "emptyTimeout": message.empty_timeout or 300,
                         "departureTimeout": message.departure_timeout or 20,
                         "maxParticipants": message.max_participants, "metadata": message.metadata,
                         "creationTime": str(int(time.time()))}
                self.state.rooms[message.name] = found
        return ParseDict(found, models.Room(), ignore_unknown_fields=True)

    def _ListRooms(self, message):
        rooms = [r for r in self.state.rooms.values() if not message.names or r["name"] in message.names]
        return room.ListRoomsResponse(rooms=[ParseDict({**r, "numParticipants": len(self.state.participants.get(
            r["name"], []))}, models.Room(), ignore_unknown_fields=True) for r in rooms])

    def _DeleteRoom(self, message):
        with self.state.lock:
            self._room(message.room)
            del self.state.rooms[message.room]
            self.state.participants.pop(message.room, None)
        return room.DeleteRoomResponse()

    def _ListParticipants(self, message):
        self._room(message.room)
        return room.ListParticipantsResponse(participants=[
            ParseDict(p, models.ParticipantInfo(), ignore_unknown_fields=True)
            for p in self.state.participants.get(message.room, [])])

    def _GetParticipant(self, message):
        return ParseDict(self._participant(message.room, message.identity), models.ParticipantInfo(),
                         ignore_unknown_fields=True)

    def _RemoveParticipant(self, message):
        with self.state.lock:
            found = self._participant(message.room, message.identity)
            self.state.participants[message.room].remove(found)
        return room.RemoveParticipantResponse()

    def _MutePublishedTrack(self, message):
        with self.state.lock:
            found = self._participant(message.room, message.identity)
            track = next((t for t in found.get("tracks", []) if t["sid"] == message.track_sid), None)
            if track is None:
                raise TwirpError(404, "not_found", "track does not exist")
            track["muted"] = message.muted
        return room.MuteRoomTrackResponse(track=ParseDict(track, models.TrackInfo(), ignore_unknown_fields=True))

    def _UpdateParticipant(self, message):
        with self.state.lock:
            found = self._participant(message.room, message.identity)
            if message.HasField("permission"):
                found["permission"] = MessageToDict(message.permission)
            if message.metadata:
                found["metadata"] = message.metadata
            if message.name:
                found["name"] = message.name
        return ParseDict(found, models.ParticipantInfo(), ignore_unknown_fields=True)

    # --- control ---------------------------------------------------------------------------------
    def _control(self, method, url):
        self.entry = None
        if not secrets.compare_digest(self.headers.get("X-Control-Token", ""), self.state.control_token):
            return self._json(403, {"error": "forbidden"})
        if url.path == "/_control/log":
            with self.state.lock:
                return self._json(200, {"requests": self.state.log, "sockets": self.state.sockets,
                                        "rooms": list(self.state.rooms.values()),
                                        "participants": self.state.participants})
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.loads(raw) if raw else {}
        with self.state.lock:
            if url.path == "/_control/reset":
                self.state.reset(**body)
            else:
                for name, value in body.items():
                    setattr(self.state, name, value)
        return self._json(200, {"ok": True})

    # --- the SDK's signalling socket: record the query, close --------------------------------------
    def _websocket(self, url):
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        with self.state.lock:
            self.state.sockets.append({"at": time.time(), "path": url.path,
                                       "access_token": query.get("access_token", ""), "query_keys": sorted(query)})
        # RFC 6455's handshake digest, not a security use of SHA-1.
        accept = base64.b64encode(hashlib.sha1(  # noqa: S324
            (self.headers["Sec-WebSocket-Key"] + WS_GUID).encode()).digest())
        self.entry = None
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept.decode())
        self.end_headers()
        self.wfile.write(b"\x88\x02\x03\xe8")  # close, 1000
        self.wfile.flush()
        self.close_connection = True


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--control-token", required=True)
    args = parser.parse_args()
    state = State(args.control_token)
    server = ThreadingHTTPServer(("127.0.0.1", 0), type("BoundHandler", (Handler,), {"state": state}))
    print(f"LISTENING {server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
