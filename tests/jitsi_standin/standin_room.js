// STAND-IN of a Jitsi room page: says the conference was joined (with the microphone on and the camera
// off), asks for the microphone and camera and reports the outcome to the stand-in server, and on "hangup" (or its
// button) leaves the conference and says the room is ready to close.
(function () {
  function emit(name, data) {
    window.parent.postMessage({standinJitsi: true, event: name, data: data || {}}, "*");
  }
  function beacon(query) { new Image().src = "/report?" + query; }
  function hangUp() {
    emit("videoConferenceLeft", {roomName: location.pathname.slice(1)});
    emit("readyToClose");
  }
  window.addEventListener("message", function (event) {
    if (event.source !== window.parent || !event.data) return;
    if (event.data.standinCommand) beacon("command=" + encodeURIComponent(event.data.standinCommand));
    if (event.data.standinCommand === "hangup") hangUp();
  });
  document.getElementById("standin-hangup").addEventListener("click", hangUp);
  emit("videoConferenceJoined", {roomName: location.pathname.slice(1), id: "local"});
  emit("audioMuteStatusChanged", {muted: false});
  emit("videoMuteStatusChanged", {muted: true});
  var devices = navigator.mediaDevices;
  if (!devices) { beacon("media=unavailable"); return; }
  devices.getUserMedia({audio: true, video: true}).then(function (stream) {
    var kinds = stream.getTracks().map(function (track) { return track.kind; }).sort().join(",");
    stream.getTracks().forEach(function (track) { track.stop(); });  // the fake camera costs CPU
    beacon("media=ok&tracks=" + encodeURIComponent(kinds));
  }, function (error) { beacon("media=" + encodeURIComponent(error.name)); });
})();
