// STAND-IN for Jitsi Meet's external_api.js, served by the tests' local stand-in of a Jitsi domain.
// It is not Jitsi's code (no npm package ships the real file). It implements the documented IFrame
// API constructor minimally: new JitsiMeetExternalAPI(domain, {roomName, jwt, parentNode, width,
// height, noSSL}) appends an iframe of <scheme>://<domain>/<roomName>?jwt=<jwt>#jitsi_meet_external_api_id=0
// (as the real API builds it), on(name, listener), executeCommand(name) and dispose(). Events come
// from the stand-in room page by postMessage.
(function () {
  function JitsiMeetExternalAPI(domain, options) {
    options = options || {};
    var url = (options.noSSL ? "http" : "https") + "://" + domain + "/" + (options.roomName || "");
    if (options.jwt) url += "?jwt=" + options.jwt;
    url += "#jitsi_meet_external_api_id=0";
    var frame = document.createElement("iframe");
    frame.allow = "autoplay; camera; clipboard-write; display-capture; microphone; screen-wake-lock";
    frame.name = "jitsiConferenceFrame0";
    frame.id = "jitsiConferenceFrame0";
    frame.src = url;
    frame.style.width = "100%";
    frame.style.height = "100%";
    frame.style.border = "0";
    (options.parentNode || document.body).appendChild(frame);
    this._frame = frame;
    this._listeners = {};
    var api = this;
    this._onMessage = function (event) {
      if (event.source !== frame.contentWindow || !event.data || !event.data.standinJitsi) return;
      (api._listeners[event.data.event] || []).forEach(function (listener) { listener(event.data.data || {}); });
    };
    window.addEventListener("message", this._onMessage);
  }
  JitsiMeetExternalAPI.prototype.on = function (name, listener) {
    (this._listeners[name] = this._listeners[name] || []).push(listener);
    return this;
  };
  JitsiMeetExternalAPI.prototype.addListener = JitsiMeetExternalAPI.prototype.on;
  JitsiMeetExternalAPI.prototype.executeCommand = function (name) {
    if (this._frame.contentWindow) this._frame.contentWindow.postMessage({standinCommand: name}, "*");
  };
  JitsiMeetExternalAPI.prototype.getIFrame = function () { return this._frame; };
  JitsiMeetExternalAPI.prototype.dispose = function () {
    window.removeEventListener("message", this._onMessage);
    this._frame.remove();
  };
  window.JitsiMeetExternalAPI = JitsiMeetExternalAPI;
})();
