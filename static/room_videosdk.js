// A VideoSDK room, on the @videosdk.live/js-sdk the portal serves (pinned in package.json). The page
// joins with the token the portal minted for this person (its permissions: allow_join, ask_join for
// people who wait to be let in, allow_mod for moderators), shows everyone's camera and sound, lets
// moderators admit or deny people waiting, and reports this person's own state to the portal in the
// iframe bridge's words (join, disconnected, microphone and camera on or off) so hosts see it live.
// It follows the portal's view of the stay: removed, replaced or ended reloads it and the portal
// says why.
(function () {
  var root = document.getElementById("videosdk-room");
  var data = root.dataset;
  var badge = document.getElementById("connection");
  var tiles = document.getElementById("tiles");
  var csrf = document.querySelector("input[name=csrfmiddlewaretoken]").value;
  var micButton = document.getElementById("toggle-mic");
  var cameraButton = document.getElementById("toggle-camera");
  var recordButton = document.getElementById("toggle-record");
  var entries = document.getElementById("entry-requests");
  var meeting = null;
  var state = {mic: false, camera: false, recording: false};

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

  function report(event) {
    fetch(data.bridgeUrl, {method: "POST", credentials: "same-origin",
                           headers: {"Content-Type": "application/json", "X-CSRFToken": csrf},
                           body: JSON.stringify({event: event, peerId: data.participantId})}).catch(function () {});
  }

  function failed(text) {
    document.getElementById("waiting").hidden = true;
    setConnected(false, "not connected");
    showMessage(text);
  }

  function setConnected(connected, text) {
    badge.textContent = text || (connected ? t("connected") : t("reconnecting"));
    badge.className = connected ? "badge live" : "badge";
  }

  function tileFor(participant) {
    var id = "tile-" + participant.id;
    var tile = document.getElementById(id);
    if (tile) return tile;
    tile = document.createElement("div");
    tile.className = "tile";
    tile.id = id;
    var label = document.createElement("span");
    label.className = "label";
    label.textContent = participant.displayName + (participant.local ? " " + t("you") : "");
    tile.appendChild(label);
    tiles.appendChild(tile);
    return tile;
  }

  function attach(participant, stream) {
    var tile = tileFor(participant);
    var kind = stream.kind === "share" ? "video" : stream.kind;
    if (kind !== "video" && (kind !== "audio" || participant.local)) return;  // never play one's own sound
    var element = tile.querySelector(kind + "[data-kind='" + stream.kind + "']");
    if (!element) {
      element = document.createElement(kind);
      element.dataset.kind = stream.kind;
      element.autoplay = true;
      element.playsInline = true;
      element.muted = kind === "video";
      tile.insertBefore(element, tile.firstChild);
    }
    element.srcObject = new MediaStream([stream.track]);
    element.play().catch(function () {});
  }

  function detach(participant, stream) {
    var tile = document.getElementById("tile-" + participant.id);
    var element = tile && tile.querySelector("[data-kind='" + stream.kind + "']");
    if (element) element.remove();
  }

  var OWN_EVENTS = {audio: ["switchOnMic", "switchOffMic", "mic"], video: ["switchOnCamera", "switchOffCamera", "camera"],
                    share: ["switchOnShare", "switchOffShare", null]};

  function watch(participant) {
    tileFor(participant);
    participant.streams.forEach(function (stream) { attach(participant, stream); });
    participant.on("stream-enabled", function (stream) {
      attach(participant, stream);
      if (participant.local && OWN_EVENTS[stream.kind]) ownDevice(stream.kind, true);
    });
    participant.on("stream-disabled", function (stream) {
      detach(participant, stream);
      if (participant.local && OWN_EVENTS[stream.kind]) ownDevice(stream.kind, false);
    });
  }

  function ownDevice(kind, on) {
    var names = OWN_EVENTS[kind];
    report(on ? names[0] : names[1]);
    if (names[2] === "mic") { state.mic = on; micButton.textContent = on ? t("mute") : t("unmute"); }
    if (names[2] === "camera") { state.camera = on; cameraButton.textContent = on ? t("camera_off") : t("camera_on"); }
  }

  function entryRequested(request) {
    if (!entries || request.participantId === data.participantId) return;
    var item = document.createElement("li");
    item.id = "entry-" + request.participantId;
    item.appendChild(document.createTextNode(request.name + " "));
    [[t("admit"), request.allow], [t("deny"), request.deny]].forEach(function (choice) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "secondary";
      button.textContent = choice[0];
      button.addEventListener("click", function () { choice[1](); item.remove(); entries.hidden = !entries.querySelector("li"); });
      item.appendChild(button);
    });
    document.getElementById("entry-list").appendChild(item);
    entries.hidden = false;
  }

  function entryResponded(participantId, decision) {
    var item = document.getElementById("entry-" + participantId);
    if (item) item.remove();
    if (entries) entries.hidden = !entries.querySelector("li");
    if (participantId === data.participantId && decision !== "allowed") {
      document.getElementById("waiting").hidden = true;
      setConnected(false, "not admitted");
      showMessage(t("not_admitted"));
    }
  }

  function start() {
    VideoSDK.config(data.token);
    var options = {meetingId: data.roomId, participantId: data.participantId, name: data.name,
                   micEnabled: true, webcamEnabled: data.sendVideo === "true"};
    if (data.signalingHost) options.signalingBaseUrl = data.signalingHost;
    meeting = VideoSDK.initMeeting(options);
    meeting.on("meeting-joined", function () {
      document.getElementById("waiting").hidden = true;
      setConnected(true);
      report("join");
      document.getElementById("controls").hidden = false;  // they act on a joined meeting only
      watch(meeting.localParticipant);
      meeting.participants.forEach(watch);
    });
    meeting.on("meeting-left", function () { setConnected(false, "left"); report("disconnected"); });
    meeting.on("participant-joined", watch);
    meeting.on("participant-left", function (participant) {
      var tile = document.getElementById("tile-" + participant.id);
      if (tile) tile.remove();
    });
    meeting.on("entry-requested", entryRequested);
    meeting.on("entry-responded", entryResponded);
    meeting.on("recording-state-changed", function (change) {
      state.recording = /STARTED|STARTING/.test(change.status || "");
      if (recordButton) recordButton.textContent = state.recording ? t("stop_recording") : t("record");
    });
    meeting.on("error", function (error) {
      showMessage(t("video_problem", {error: reason(error)}));
    });
    if (data.asksToJoin === "true") document.getElementById("waiting").hidden = false;
    return meeting.join();
  }

  micButton.addEventListener("click", function () { (state.mic ? meeting.muteMic() : meeting.unmuteMic()).catch(function () {}); });
  cameraButton.addEventListener("click", function () {
    (state.camera ? meeting.disableWebcam() : meeting.enableWebcam()).catch(function () {});
  });
  if (recordButton) {
    recordButton.addEventListener("click", function () {
      (state.recording ? meeting.stopRecording() : meeting.startRecording()).catch(function (error) {
        showMessage(t("recording_toggle_failed", {error: reason(error)}));
      });
    });
  }

  function couldNotStart(error) {
    failed(t("video_failed", {error: reason(error)}));
  }
  try {
    Promise.resolve(start()).catch(couldNotStart);
  } catch (error) {
    couldNotStart(error);
  }

  // Leaving through the portal's button also leaves VideoSDK's room at once.
  document.getElementById("leave").form.addEventListener("submit", function () {
    if (meeting) meeting.leave().catch(function () {});
  });

  function follow() {
    fetch(data.stateUrl, {credentials: "same-origin"})
      .then(function (response) { return response.json(); })
      .then(function (portal) {
        if (portal.state === "ended" || portal.state === "gone") {
          if (meeting) meeting.leave().catch(function () {});
          window.location.reload();
          return;
        }
        setTimeout(follow, 5000);
      })
      .catch(function () { setTimeout(follow, 10000); });
  }
  setTimeout(follow, 5000);
})();
