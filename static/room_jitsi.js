// A Jitsi Meet room. The IFrame API runs in a frame served by JITSI_FRAME_ORIGIN, another site than the
// portal (jitsi_frame.js), so the Jitsi domain's script never runs with the person's portal session.
// When the frame says it is ready, this page sends it the person's JWT and display options (to that
// origin only). The frame passes the API's events here; this page relays the person's own state to
// the portal in the bridge's words (join, disconnected, microphone and camera on or off) so hosts see
// it live, leaves when Jitsi says the room is closed for this person, and hangs up when the portal
// ends the stay.
(function () {
  var frame = document.getElementById("jitsi-frame");
  var badge = document.getElementById("connection");
  var leaveButton = document.getElementById("leave");
  var csrf = document.querySelector("input[name=csrfmiddlewaretoken]").value;
  var data = frame.dataset;
  var frameOrigin = data.frameOrigin;
  var start = {command: "start", jwt: data.jwt, name: data.name, audioOnly: data.audioOnly === "true"};
  var leaving = false;
  frame.removeAttribute("data-jwt");

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
                           body: JSON.stringify({event: event})}).catch(function () {});
  }

  function setConnected(connected) {
    badge.textContent = connected ? t("connected") : t("not_connected");
    badge.className = connected ? "badge live" : "badge";
  }

  function leave() {
    if (leaving) return;
    leaving = true;
    leaveButton.form.submit();
  }

  function hangUp() {
    if (frame.contentWindow) frame.contentWindow.postMessage({command: "hangup"}, frameOrigin);
  }

  window.addEventListener("message", function (event) {
    // Only our own frame, still at JITSI_FRAME_ORIGIN, speaks here.
    if (event.source !== frame.contentWindow || event.origin !== frameOrigin) return;
    var message = event.data;
    if (!message || typeof message.jitsi !== "string") return;
    var details = message.data || {};
    switch (message.jitsi) {
      case "ready":
        if (start) frame.contentWindow.postMessage(start, frameOrigin);
        start = null;  // the JWT goes out once
        break;
      case "videoConferenceJoined": setConnected(true); report("join"); break;
      case "videoConferenceLeft": setConnected(false); report("disconnected"); break;
      case "audioMuteStatusChanged": report(details.muted === true ? "switchOffMic" : "switchOnMic"); break;
      case "videoMuteStatusChanged": report(details.muted === true ? "switchOffCamera" : "switchOnCamera"); break;
      case "participantKickedOut": if (details.local === true) leave(); break;
      case "recordingLinkAvailable": showMessage(t("jitsi_recording_link")); break;
      case "readyToClose": leave(); break;
      case "apiMissing": showMessage(t("jitsi_api_missing")); break;
      default: break;
    }
  });

  leaveButton.form.addEventListener("submit", hangUp);
  frame.src = data.src;  // after the listener, so no event from the frame is missed

  function follow() {
    fetch(data.stateUrl, {credentials: "same-origin"})
      .then(function (response) { return response.json(); })
      .then(function (state) {
        if (state.state === "ended" || state.state === "gone") {
          leaving = true;  // the portal already ended the stay: Jitsi's readyToClose must not post a leave
          hangUp();
          window.location.reload();
          return;
        }
        setTimeout(follow, 5000);
      })
      .catch(function () { setTimeout(follow, 10000); });
  }
  setTimeout(follow, 5000);
})();
