// A SignalWire Video room, on the @signalwire/js SDK the portal serves (pinned in package.json).
// Video mode joins with the room token the portal minted for this person's role; Fabric mode signs
// in with a guest or subscriber token and dials the room's address. The page reports this person's
// own state to the portal in the iframe bridge's words (join, disconnected, camera and microphone
// on or off), so hosts see it live, and follows the portal's view of the stay: removed, replaced or
// ended reloads it and the portal explains why.
(function () {
  var root = document.getElementById("signalwire-room");
  var badge = document.getElementById("connection");
  var csrf = document.querySelector("input[name=csrfmiddlewaretoken]").value;
  var data = root.dataset;
  var session = null;
  var myMemberId = null;

  var strings = JSON.parse(document.getElementById("room-strings").textContent);

  // A translated text (templates/meetings/join/room_base.html), with its {placeholders} filled in.
  function t(key, values) {
    return (strings[key] || key).replace(/\{(\w+)\}/g, function (_, name) {
      return values && name in values ? values[name] : "";
    });
  }
  function reason(error) { return (error && error.message) || String(error); }

  function showMessage(text) {
    var box = document.getElementById("room-message");
    box.textContent = text;
    box.hidden = false;
  }

  function post(url, body) {
    return fetch(url, {method: "POST", credentials: "same-origin",
                       headers: {"Content-Type": "application/json", "X-CSRFToken": csrf},
                       body: JSON.stringify(body || {})});
  }

  function report(event) { post(data.bridgeUrl, {event: event}).catch(function () {}); }

  // A fresh token from the portal, which refreshes it with SignalWire server-side.
  function freshToken() {
    return post(data.tokenUrl).then(function (response) {
      if (!response.ok) throw new Error("the portal refused a new token (HTTP " + response.status + ")");
      return response.json();
    });
  }

  function setConnected(connected) {
    badge.textContent = connected ? t("connected") : t("reconnecting");
    badge.className = connected ? "badge live" : "badge";
  }

  function watch(target) {
    target.on("room.joined", function (event) {
      myMemberId = event && event.member_id;
      setConnected(true);
      report("join");
    });
    target.on("room.left", function () { setConnected(false); report("disconnected"); });
    target.on("room.ended", function () { report("disconnected"); window.location.reload(); });
    target.on("member.updated", function (event) {
      var member = event && event.member;
      if (!member || member.id !== myMemberId) return;
      if ("audio_muted" in member) report(member.audio_muted ? "switchOffMic" : "switchOnMic");
      if ("video_muted" in member) report(member.video_muted ? "switchOffCamera" : "switchOnCamera");
    });
  }

  function joinVideo() {
    var audience = data.audience === "true";
    session = new SignalWire.Video.RoomSession({token: data.token, rootElement: root});
    watch(session);
    return session.join({audio: !audience, video: !audience && data.sendVideo === "true"});
  }

  function joinFabric() {
    return SignalWire.SignalWire({token: data.token, onRefreshToken: function () {
      return freshToken().then(function (fresh) { return fresh.token; });
    }}).then(function (client) {
      return client.dial({to: data.address, rootElement: root});
    }).then(function (call) {
      session = call;
      watch(call);
      return call.start();
    });
  }

  (data.mode === "fabric" ? joinFabric() : joinVideo()).catch(function (error) {
    setConnected(false);
    showMessage(t("video_failed", {error: reason(error)}));
  });

  // Leaving through the portal's button also leaves SignalWire's room at once.
  document.getElementById("leave").form.addEventListener("submit", function () {
    if (session && session.leave) session.leave().catch(function () {});
  });

  function follow() {
    fetch(data.stateUrl, {credentials: "same-origin"})
      .then(function (response) { return response.json(); })
      .then(function (state) {
        if (state.state === "ended" || state.state === "gone") {
          if (session && session.leave) session.leave().catch(function () {});
          window.location.reload();
          return;
        }
        setTimeout(follow, 5000);
      })
      .catch(function () { setTimeout(follow, 10000); });
  }
  setTimeout(follow, 5000);
})();
