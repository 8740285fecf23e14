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

Control: as tests/contract_server.py says; /_control/reset takes api_key, api_secret and per_second,
and /_control/log also answers the sockets, rooms and participants.

    python tests/livekit_api_server.py --control-token SECRET     # prints "LISTENING <port>"
"""

import secrets
import time
from urllib.parse import parse_qs, urlsplit

import contract_server
import jwt
from google.protobuf.json_format import MessageToDict, Parse, ParseDict, ParseError
from google.protobuf.message import DecodeError
from livekit.protocol import models, room

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


class State(contract_server.State):
    def reset(self, api_key="", api_secret="", per_second=50):
        super().reset()
        self.api_key, self.api_secret, self.per_second = api_key, api_secret, per_second
        self.rooms: dict[str, dict] = {}
        self.participants: dict[str, list] = {}  # room name -> ParticipantInfo dicts (JSON names)
        self.retry_after = "1"
        self.sockets: list[dict] = []

    def snapshot(self) -> dict:
        return {"requests": self.log, "sockets": self.sockets, "rooms": list(self.rooms.values()),
                "participants": self.participants}


class Handler(contract_server.Handler):
    state: State

    # --- plumbing --------------------------------------------------------------------------------
    def _error(self, error: TwirpError):
        self._json(error.status, {"code": error.code, "msg": error.msg}, error.headers)

    def do_GET(self):
        url = urlsplit(self.path)
        if url.path.startswith("/_control"):
            return self._control("GET", url.path)
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
            return self._control("POST", url.path)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        method = url.path[len(PREFIX):] if url.path.startswith(PREFIX) else ""
        protobuf = self.headers.get("Content-Type", "").split(";")[0].strip() == "application/protobuf"
        state = self.state
        self.entry = {"at": time.time(), "method": method, "path": url.path,
                      "encoding": "protobuf" if protobuf else "json", "body": None, "grants": None, "status": None}
        limited, failing = state.admit(self.entry)
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
        return self._json(200, MessageToDict(answer))

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

    # --- the SDK's signalling socket: record the query, close --------------------------------------
    def _websocket(self, url):
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        with self.state.lock:
            self.state.sockets.append({"at": time.time(), "path": url.path,
                                       "access_token": query.get("access_token", ""), "query_keys": sorted(query)})
        self._accept_websocket()
        self._close_websocket()


if __name__ == "__main__":
    contract_server.serve(State, Handler)
