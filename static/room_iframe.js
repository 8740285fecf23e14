// A provider's room in an iframe. The provider's bridge script reports what happens to this person
// (joined, connection lost, camera and microphone); the page relays it to the portal, so hosts see
// live state. The page also follows the portal's view of the stay: removed, replaced or ended
// reloads it, and the portal then explains why.
(function () {
  var room = document.getElementById("provider-room");
  var csrf = document.querySelector("input[name=csrfmiddlewaretoken]").value;

  function report(event, data) {
    fetch(room.dataset.bridgeUrl, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf},
      body: JSON.stringify({event: event, peerId: (data && data.peerId) || ""}),
    }).catch(function () {});
  }

  function listen() {
    if (!window.MeetIframeBridge) return;
    var bridge = new window.MeetIframeBridge.default({element: room, roomId: room.dataset.roomId});
    room.dataset.events.split(",").forEach(function (name) {
      bridge.on(name, function (data) { report(name, data); });
    });
  }

  var script = document.createElement("script");
  script.src = room.dataset.bridge;
  script.onload = listen;  // without the bridge the room still works; only live state is missing
  document.head.appendChild(script);

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
