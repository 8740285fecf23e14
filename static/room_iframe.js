// A provider's room in an iframe. The provider's bridge script (Gcore's meetBridgeApi.js) reports what
// happens to this person (joined, connection lost, camera and microphone); the page relays it to the
// portal, so hosts see live state. The page also follows the portal's view of the stay: removed,
// replaced or ended reloads it, and the portal then explains why.
//
// Order, as the seed asks: the bridge script first, then the iframe (its src is set here, so its load
// cannot be missed), and the bridge is made only once the iframe has loaded. The room URL skips Gcore's
// name screen (nameScreenDisabled=true, the portal's pre-join page already asked), so the bridge calls
// "join" when the room says readyToJoin. Without the bridge nothing could call it: the name screen
// then stays.
(function () {
  var room = document.getElementById("provider-room");
  var csrf = document.querySelector("input[name=csrfmiddlewaretoken]").value;
  var joined = false;

  function report(event, data) {
    fetch(room.dataset.bridgeUrl, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf},
      body: JSON.stringify({event: event, peerId: (data && data.peerId) || ""}),
    }).then(function (response) { return response.text(); })  // read to the end: the request is then done
      .catch(function () {});
  }

  function join(bridge) {
    if (joined) return;
    joined = true;
    var sends = room.dataset.sendsMedia === "true";  // webinar viewers have no camera or microphone
    bridge.method({name: "join", data: {constraints: {video: sends, audio: sends}},
                   callback: function () { return true; }});
  }

  function connect() {
    var bridge = new window.MeetIframeBridge.default({element: room, roomId: room.dataset.roomId});
    bridge.on("readyToJoin", function () { join(bridge); });  // ready to join, not in the room yet
    room.dataset.events.split(",").forEach(function (name) {
      if (name) bridge.on(name, function (data) { report(name, data); });
    });
  }

  function open(withBridge) {
    var url = new URL(room.dataset.src);
    if (withBridge) {
      room.addEventListener("load", connect, {once: true});
    } else {
      url.searchParams.delete("nameScreenDisabled");
    }
    room.src = url.toString();
  }

  // The portal names a bridge only on the provider's own hosts; without it the room still works and
  // only live state is missing.
  if (room.dataset.bridge) {
    var script = document.createElement("script");
    script.src = room.dataset.bridge;
    script.onload = function () { open(Boolean(window.MeetIframeBridge)); };
    script.onerror = function () { open(false); };
    document.head.appendChild(script);
  } else {
    open(false);
  }

  function follow() {
    fetch(room.dataset.stateUrl, {credentials: "same-origin"})
      .then(function (response) { return response.json(); })
      .then(function (state) {
        if (state.state === "ended" || state.state === "gone") { window.location.reload(); return; }
        setTimeout(follow, 5000);
      })
      .catch(function () { setTimeout(follow, 10000); });
  }
  setTimeout(follow, 5000);
})();
