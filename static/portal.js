// Small progressive enhancements: local times, the pre-join camera check, the room's live state.
(function () {
  "use strict";

  // Times rendered in the invitee's zone also show the browser's own zone when it differs.
  document.querySelectorAll("time[data-local]").forEach(function (el) {
    var when = new Date(el.getAttribute("datetime"));
    if (isNaN(when)) return;
    var local = new Intl.DateTimeFormat(undefined, {dateStyle: "full", timeStyle: "short"}).format(when);
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (el.textContent.indexOf(local) === -1) {
      var hint = document.createElement("small");
      hint.className = "local-time";
      hint.textContent = "Your time: " + local + " (" + zone + ")";
      var line = el.closest("p") || el;
      line.appendChild(document.createElement("br"));
      line.appendChild(hint);
    }
  });

  function csrfToken(form) {
    var input = form && form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  // Pre-join page: report that a person (not a mail previewer) opened the link; preview devices.
  var joinForm = document.getElementById("join-form");
  if (joinForm) {
    fetch(joinForm.dataset.openedUrl, {method: "POST", headers: {"X-CSRFToken": csrfToken(joinForm)}, credentials: "same-origin"});
    var video = document.getElementById("preview");
    var status = document.getElementById("preview-status");
    var cameraSelect = document.getElementById("camera");
    var micSelect = document.getElementById("microphone");
    var stream = null;
    function start(constraints) {
      if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
      return navigator.mediaDevices.getUserMedia(constraints).then(function (s) {
        stream = s;
        video.srcObject = s;
        status.textContent = "Camera and microphone work.";
        return navigator.mediaDevices.enumerateDevices();
      }).then(function (devices) {
        [[cameraSelect, "videoinput"], [micSelect, "audioinput"]].forEach(function (pair) {
          var select = pair[0], current = select.value;
          select.innerHTML = "";
          devices.filter(function (d) { return d.kind === pair[1]; }).forEach(function (d, i) {
            var option = new Option(d.label || (pair[1] === "videoinput" ? "Camera " : "Microphone ") + (i + 1), d.deviceId);
            select.add(option);
          });
          if (current) select.value = current;
        });
      }).catch(function (error) {
        status.textContent = "No camera or microphone (" + error.name + "). You can still join and listen.";
      });
    }
    if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
      start({video: true, audio: true});
      [cameraSelect, micSelect].forEach(function (select) {
        select.addEventListener("change", function () {
          start({video: {deviceId: {exact: cameraSelect.value}}, audio: {deviceId: {exact: micSelect.value}}});
        });
      });
    } else {
      status.textContent = "This browser cannot use a camera here.";
    }
    joinForm.addEventListener("submit", function () {
      if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
    });
  }

  // Room page (built-in provider, minimal): who is here, waiting room, and why the session ended.
  var room = document.getElementById("room");
  if (room) {
    var people = document.getElementById("people");
    var waiting = document.getElementById("waiting");
    var message = document.getElementById("room-message");
    var timer = null;
    function render(state) {
      if (state.state === "ended") {
        clearInterval(timer);
        message.hidden = false;
        message.innerHTML = "";
        var title = document.createElement("strong");
        title.textContent = state.title;
        message.appendChild(title);
        message.appendChild(document.createTextNode(" " + state.message));
        message.dataset.reason = state.reason;
        waiting.hidden = true;
        return;
      }
      waiting.hidden = state.state !== "waiting";
      people.innerHTML = "";
      state.people.forEach(function (p) {
        var li = document.createElement("li");
        li.textContent = p.name + " ";
        var small = document.createElement("small");
        small.textContent = p.role + (p.me ? " · you" : "") + (p.admitted ? "" : " · waiting");
        li.appendChild(small);
        people.appendChild(li);
      });
    }
    function poll() {
      fetch(room.dataset.stateUrl, {credentials: "same-origin"})
        .then(function (r) { return r.json(); })
        .then(render)
        .catch(function () { /* a dropped request is retried at the next tick */ });
    }
    timer = setInterval(poll, 2000);
  }
})();
