"""Who is in a built-in room as its page knows it, kept from the socket's messages the way
static/room.js keeps it: the snapshot on connect, then the changes (meetings/presence.py)."""

PRESENCE_MESSAGES = {"presence", "peers", "waiting", "gone", "removed"}


class Roster:
    def __init__(self):
        self.peers, self.waiting, self.removed = {}, {}, []

    def apply(self, message: dict) -> bool:
        """Take one socket message in; whether it was about who is there."""
        kind = message["type"]
        if kind == "presence":
            self.peers = {p["peer"]: p for p in message["peers"]}
            self.waiting = {w["peer"]: w for w in message.get("waiting", [])}
            self.removed = message.get("removed", [])
        elif kind == "peers":
            for info in message["peers"]:
                self.waiting.pop(info["peer"], None)
                self.peers[info["peer"]] = info
        elif kind == "waiting":
            self.waiting.update({w["peer"]: w for w in message["waiting"] if w["peer"] not in self.peers})
        elif kind == "gone":
            for code in message["peers"]:
                self.peers.pop(code, None)
                self.waiting.pop(code, None)
        elif kind == "removed":
            self.removed = message["removed"]
        return kind in PRESENCE_MESSAGES

    def view(self) -> dict:
        """The room as the page shows it: people, and for moderators the waiting and removed lists."""
        return {"peers": list(self.peers.values()), "waiting": list(self.waiting.values()), "removed": self.removed}
