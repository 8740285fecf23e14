// The Jitsi room, inside the room page's frame served by JITSI_FRAME_ORIGIN (another site than the
// portal: no portal cookies, DOM or same-origin requests). Says "ready" to the room page, which then
// sends the person's JWT and display options; starts Jitsi's IFrame API with them and passes the API's
// events back, keeping only what the page needs. Only messages from the parent window in the
// portal's origin count.
(function () {
  var root = document.getElementById("jitsi");
  var data = root.dataset;
  var EVENTS = ["videoConferenceJoined", "videoConferenceLeft", "participantJoined", "participantLeft",
                "participantKickedOut", "recordingLinkAvailable", "readyToClose", "audioMuteStatusChanged",
                "videoMuteStatusChanged"];
  var api = null;

  function tell(name, details) {
    window.parent.postMessage({jitsi: name, data: details || {}}, data.portal);
  }

  function summary(name, event) {
    event = event || {};
    if (name === "audioMuteStatusChanged" || name === "videoMuteStatusChanged") return {muted: event.muted === true};
    if (name === "participantKickedOut") return {local: Boolean(event.kicked && event.kicked.local)};
    return {};
  }

  function start(message) {
    if (typeof message.jwt !== "string" || !message.jwt) return;
    var options = {
      roomName: data.room, jwt: message.jwt, parentNode: root, width: "100%", height: "100%",
      userInfo: {displayName: typeof message.name === "string" ? message.name : ""},
      configOverwrite: {prejoinConfig: {enabled: false}, startWithVideoMuted: message.audioOnly === true},
    };
    if (data.noSsl === "true") options.noSSL = true;  // only with the test-only JITSI_BASE_URL
    api = new window.JitsiMeetExternalAPI(data.domain, options);
    root.style.height = "100vh";
    EVENTS.forEach(function (name) {
      api.on(name, function (event) { tell(name, summary(name, event)); });
    });
  }

  document.body.style.margin = "0";
  if (window.parent === window) return;  // only ever a frame of the portal's room page
  if (typeof window.JitsiMeetExternalAPI !== "function") {
    tell("apiMissing");
    return;
  }
  window.addEventListener("message", function (event) {
    if (event.source !== window.parent || event.origin !== data.portal) return;
    var message = event.data;
    if (!message || typeof message !== "object") return;
    if (message.command === "start" && api === null) start(message);
    else if (message.command === "hangup" && api !== null) api.executeCommand("hangup");
  });
  tell("ready");
})();
