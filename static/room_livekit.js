// A LiveKit room on livekit-client (the pinned npm package the portal serves, UMD global LivekitClient).
// The page connects to the account's server with the access token the portal minted for this
// person's role; LiveKit enforces what the token allows (viewers publish nothing, interpreters only
// their microphone). Controls: microphone, camera, screen share and leave; moderators also see the
// people in the room and can mute, remove or change the role of each, through the portal (which
// checks they are a moderator and calls LiveKit's RoomService). The page reports this person's own
// state to the portal in the iframe bridge's words, and follows the portal's view of the stay.
(function () {
  var root = document.getElementById("livekit-room");
  var badge = document.getElementById("connection");
  var tiles = document.getElementById("tiles");
  var csrf = document.querySelector("input[name=csrfmiddlewaretoken]").value;
  var data = root.dataset;
  var LK = window.LivekitClient;
  var sources = data.sources ? data.sources.split(",") : [];
  var moderator = data.moderator === "true";
  var room = new LK.Room({adaptiveStream: true, dynacast: true});
  var buttons = {mic: document.getElementById("toggle-mic"), camera: document.getElementById("toggle-camera"),
                 screen: document.getElementById("toggle-screen")};

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

  function report(event) { post(data.bridgeUrl, {event: event, peerId: data.me}).catch(function () {}); }

  function setConnected(connected) {
    badge.textContent = connected ? t("connected") : t("reconnecting");
    badge.className = connected ? "badge live" : "badge";
  }

  // --- tiles -------------------------------------------------------------------------------------
  function tileFor(participant) {
    var id = "tile-" + participant.identity;
    var tile = document.getElementById(id);
    if (!tile) {
      tile = document.createElement("figure");
      tile.id = id;
      tile.className = "tile";
      var caption = document.createElement("figcaption");
      caption.textContent = participant.name || participant.identity;
      tile.appendChild(caption);
      tiles.appendChild(tile);
    }
    return tile;
  }

  function attach(track, participant) {
    var element = track.attach();
    element.dataset.trackSid = track.sid || "";
    if (participant === room.localParticipant) element.muted = true;
    tileFor(participant).appendChild(element);
  }

  room.on(LK.RoomEvent.TrackSubscribed, function (track, publication, participant) { attach(track, participant); });
  room.on(LK.RoomEvent.LocalTrackPublished, function (publication) {
    if (publication.track && publication.track.kind === "video") attach(publication.track, room.localParticipant);
    refreshButtons();
  });
  function detach(track) { track.detach().forEach(function (element) { element.remove(); }); }
  room.on(LK.RoomEvent.TrackUnsubscribed, detach);
  room.on(LK.RoomEvent.LocalTrackUnpublished, function (publication) {
    if (publication.track) detach(publication.track);
    refreshButtons();
  });
  room.on(LK.RoomEvent.ParticipantDisconnected, function (participant) {
    var tile = document.getElementById("tile-" + participant.identity);
    if (tile) tile.remove();
    renderPeople();
  });
  room.on(LK.RoomEvent.ParticipantConnected, renderPeople);
  room.on(LK.RoomEvent.TrackMuted, refreshButtons);
  room.on(LK.RoomEvent.TrackUnmuted, refreshButtons);
  room.on(LK.RoomEvent.Reconnecting, function () { setConnected(false); report("disconnected"); });
  room.on(LK.RoomEvent.Reconnected, function () { setConnected(true); report("join"); });
  var joined = false;  // a connection that never came up is reported by start(), not here
  var leaving = false;
  // LiveKit dropped this connection: removed for a role change that took moderation away, its own
  // reconnection given up, or a real removal. The portal tells them apart: while the stay is live it
  // answers a fresh token (with the current role) to connect again with; otherwise the page reloads
  // and says why (removed, ended, or joined elsewhere).
  room.on(LK.RoomEvent.Disconnected, function () {
    if (!joined || leaving) return;
    joined = false;
    setConnected(false);
    report("disconnected");
    post(data.tokenUrl).then(function (response) {
      if (!response.ok) throw new Error("no live stay");
      return response.json();
    }).then(function (answer) { return start(answer.token); })
      .catch(function () { window.location.reload(); });
  });
  // A moderator changed this person's role (not taking moderation away: that reconnects, above):
  // LiveKit updated the permissions; the controls follow.
  room.on(LK.RoomEvent.ParticipantPermissionsChanged, function (previous, participant) {
    if (participant !== room.localParticipant || !participant.permissions) return;
    var allowed = participant.permissions.canPublishSources || [];
    var names = {1: "camera", 2: "microphone", 3: "screen_share", 4: "screen_share_audio"};
    sources = participant.permissions.canPublish ? allowed.map(function (s) { return names[s] || s; }) : [];
    refreshButtons();
  });

  // --- own controls ------------------------------------------------------------------------------
  function can(source) { return sources.indexOf(source) !== -1; }

  function refreshButtons() {
    var me = room.localParticipant;
    buttons.mic.hidden = !can("microphone");
    buttons.camera.hidden = !can("camera");
    buttons.screen.hidden = !can("screen_share");
    buttons.mic.textContent = me.isMicrophoneEnabled ? t("mute_microphone") : t("unmute_microphone");
    buttons.camera.textContent = me.isCameraEnabled ? t("turn_camera_off") : t("turn_camera_on");
    buttons.screen.textContent = me.isScreenShareEnabled ? t("stop_sharing") : t("share");
  }

  function toggle(button, enabled, setter, on, off) {
    button.addEventListener("click", function () {
      var want = !enabled();
      setter(want).then(function () { report(want ? on : off); refreshButtons(); })
        .catch(function (error) { showMessage(t("action_failed", {error: reason(error)})); });
    });
  }
  var me = room.localParticipant;
  toggle(buttons.mic, function () { return me.isMicrophoneEnabled; },
         function (on) { return me.setMicrophoneEnabled(on); }, "switchOnMic", "switchOffMic");
  toggle(buttons.camera, function () { return me.isCameraEnabled; },
         function (on) { return me.setCameraEnabled(on); }, "switchOnCamera", "switchOffCamera");
  toggle(buttons.screen, function () { return me.isScreenShareEnabled; },
         function (on) { return me.setScreenShareEnabled(on); }, "switchOnShare", "switchOffShare");

  // --- moderation through the portal -----------------------------------------------------------------
  function moderate(body) {
    return post(data.moderateUrl, body).then(function (response) {
      return response.json().then(function (answer) {
        if (!response.ok) showMessage(answer.error || t("portal_refused"));
        return answer;
      });
    });
  }

  function button(text, onClick) {
    var element = document.createElement("button");
    element.type = "button";
    element.textContent = text;
    element.addEventListener("click", onClick);
    return element;
  }

  function renderPeople() {
    if (!moderator) return;
    var list = document.getElementById("people");
    document.getElementById("people-panel").hidden = false;
    list.textContent = "";
    room.remoteParticipants.forEach(function (participant) {
      var item = document.createElement("li");
      item.dataset.identity = participant.identity;
      item.appendChild(document.createTextNode((participant.name || participant.identity) + " "));
      item.appendChild(button(t("mute"), function () { moderate({action: "mute", identity: participant.identity}); }));
      item.appendChild(button(t("remove"), function () {
        moderate({action: "remove", identity: participant.identity});
      }));
      var roles = data.roles ? data.roles.split(",") : [];
      if (roles.length) {
        var select = document.createElement("select");
        select.setAttribute("aria-label", t("role_of", {name: participant.name || participant.identity}));
        roles.forEach(function (role) {
          var option = document.createElement("option");
          option.value = role;
          option.textContent = role;
          select.appendChild(option);
        });
        try { select.value = JSON.parse(participant.metadata || "{}").role || ""; } catch (e) { /* no metadata */ }
        select.addEventListener("change", function () {
          moderate({action: "role", identity: participant.identity, role: select.value});
        });
        item.appendChild(select);
      }
      list.appendChild(item);
    });
  }

  // --- connect -------------------------------------------------------------------------------------
  // What a token allows decides the controls (a reconnect's token may carry another role); LiveKit
  // and the portal enforce the rights themselves.
  function adopt(token) {
    var part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    var video = JSON.parse(atob(part)).video || {};
    moderator = video.roomAdmin === true;
    sources = video.canPublish ? (video.canPublishSources || []) : [];
    if (!moderator) {
      document.getElementById("people-panel").hidden = true;
      document.getElementById("people").textContent = "";
    }
    refreshButtons();
  }

  function start(token) {
    adopt(token);
    return room.connect(data.url, token).then(function () {
      joined = true;
      setConnected(true);
      report("join");
      renderPeople();
      var tracks = [];
      if (can("microphone")) tracks.push(me.setMicrophoneEnabled(true));
      if (can("camera")) tracks.push(me.setCameraEnabled(true));
      return Promise.all(tracks).then(refreshButtons);
    });
  }

  start(data.token).catch(function (error) {
    setConnected(false);
    showMessage(t("video_failed", {error: reason(error)}));
  });

  function leave() {
    leaving = true;
    room.disconnect();
  }
  // Leaving through the portal's button also leaves LiveKit's room at once.
  document.getElementById("leave").form.addEventListener("submit", leave);

  function follow() {
    fetch(data.stateUrl, {credentials: "same-origin"})
      .then(function (response) { return response.json(); })
      .then(function (state) {
        if (state.state === "ended" || state.state === "gone") {
          leave();
          window.location.reload();
          return;
        }
        setTimeout(follow, 5000);
      })
      .catch(function () { setTimeout(follow, 10000); });
  }
  setTimeout(follow, 5000);
})();
