// The built-in provider's room: a full mesh of WebRTC peer connections between people who may send
// media, signalled over the portal's WebSocket. The server decides who is admitted, who may publish
// and who moderates; this page only follows what the server says.
(function () {
  "use strict";

  var room = document.getElementById("room");
  if (!room) return;

  var csrf = room.querySelector("input[name=csrfmiddlewaretoken]").value;
  var tiles = document.getElementById("tiles");
  var peopleList = document.getElementById("people");
  var connectionBadge = document.getElementById("connection");
  var messageBox = document.getElementById("room-message");
  var waitingBox = document.getElementById("waiting");

  var me = null;            // {peer, name, role, moderator, can_publish}
  var settings = {};        // {chat, raise_hand, recording, kind}
  var iceServers = [];
  var admitted = false;
  var earlySignals = [];
  var ended = false;
  var socket = null;
  var reconnectDelay = 500;
  var localStream = null;
  var screenTrack = null;
  var handRaised = false;
  var peers = new Map();    // peer code -> {pc, polite, makingOffer, ignoreOffer, info, tile, stream}
  var roster = new Map();   // peer code -> what the server last said about them (see meetings/presence.py)
  var waiting = new Map();  // peer code -> {peer, name}: the waiting room, for moderators
  var removed = [];         // [{invitation, name}], for moderators
  var audioContext = null;

  // --- socket --------------------------------------------------------------------------------------
  function send(message) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  }

  function connect() {
    // The socket server may answer on a port of its own (settings.ROOM_SOCKET_PORT), on this host.
    var host = room.dataset.wsPort ? location.hostname.replace(/^(.*:.*)$/, "[$1]") + ":" + room.dataset.wsPort
      : location.host;
    var origin = (location.protocol === "https:" ? "wss://" : "ws://") + host;
    socket = new WebSocket(origin + room.dataset.wsPath);
    socket.onopen = function () { reconnectDelay = 500; };
    socket.onmessage = function (event) { handle(JSON.parse(event.data)); };
    socket.onclose = function () {
      if (ended) return;
      connectionBadge.textContent = "reconnecting…";
      connectionBadge.className = "badge";
      setTimeout(connect, reconnectDelay);  // a dropped socket comes back without a new join
      reconnectDelay = Math.min(reconnectDelay * 2, 8000);
    };
  }

  function handle(message) {
    switch (message.type) {
      case "welcome": return onWelcome(message);
      case "presence": return onPresence(message);
      case "peers": return onPeers(message.peers);
      case "waiting": return onWaiting(message.waiting);
      case "gone": return onGone(message.peers);
      case "removed": removed = message.removed; return renderModeration();
      case "signal": return onSignal(message.from, message.data);
      case "chat": return onChat(message);
      case "force": return onForce(message.what);
      case "admitted": return onAdmitted();
      case "ended": return onEnded(message);
      case "error": return showMessage(message.message);
    }
  }

  // --- arrival -------------------------------------------------------------------------------------
  function onWelcome(message) {
    connectionBadge.textContent = "connected";
    connectionBadge.className = "badge live";
    me = message.me;
    settings = message.room;
    iceServers = message.ice_servers || [];
    document.getElementById("moderation").hidden = !me.moderator;
    document.getElementById("toggle-record").hidden = !settings.recording;
    ["toggle-mic", "toggle-camera", "toggle-screen", "camera-select", "mic-select"].forEach(function (id) {
      document.getElementById(id).disabled = !me.can_publish;
    });
    if (message.admitted) onAdmitted(); else waitingBox.hidden = false;
  }

  function onAdmitted() {
    admitted = true;
    waitingBox.hidden = true;
    var ready = me.can_publish && !localStream ? startLocalMedia() : Promise.resolve();
    ready.then(function () {
      peers.forEach(function (p) { addLocalTracks(p); });
      reportMedia();
    });
    // Signals that overtook the "admitted" message: answering them now keeps the sender's offer
    // from waiting forever for an answer that was dropped.
    earlySignals.splice(0).forEach(function (signal) { onSignal(signal.from, signal.data); });
  }

  function startLocalMedia(constraints) {
    return navigator.mediaDevices.getUserMedia(constraints || {audio: true, video: true}).then(function (stream) {
      localStream = stream;
      var tile = ensureTile(me.peer, me.name + " (you)");
      tile.video.srcObject = stream;
      tile.video.muted = true;
      watchSpeaking(me.peer, stream);
      return listDevices();
    }).catch(function (error) {
      showMessage("No camera or microphone (" + error.name + "). Others can still see and hear each other.");
    });
  }

  function listDevices() {
    return navigator.mediaDevices.enumerateDevices().then(function (devices) {
      [["camera-select", "videoinput"], ["mic-select", "audioinput"]].forEach(function (pair) {
        var select = document.getElementById(pair[0]);
        var current = localStream && localStream.getTracks().find(function (t) {
          return t.kind === (pair[1] === "videoinput" ? "video" : "audio");
        });
        select.innerHTML = "";
        devices.filter(function (d) { return d.kind === pair[1]; }).forEach(function (d, i) {
          select.add(new Option(d.label || pair[1] + " " + (i + 1), d.deviceId));
        });
        if (current && current.getSettings().deviceId) select.value = current.getSettings().deviceId;
      });
    });
  }

  // --- presence ------------------------------------------------------------------------------------
  // The whole picture when the socket connects, then only what changed.
  function onPresence(message) {
    roster = new Map();
    waiting = new Map();
    message.peers.forEach(function (info) { roster.set(info.peer, info); });
    (message.waiting || []).forEach(function (w) { waiting.set(w.peer, w); });
    removed = message.removed || [];
    showRoster();
  }

  function onPeers(list) {
    list.forEach(function (info) { waiting.delete(info.peer); roster.set(info.peer, info); });
    showRoster();
  }

  function onWaiting(list) {
    list.forEach(function (w) { if (!roster.has(w.peer)) waiting.set(w.peer, w); });
    renderModeration();
  }

  function onGone(codes) {
    codes.forEach(function (code) { roster.delete(code); waiting.delete(code); });
    showRoster();
  }

  function showRoster() {
    var list = Array.from(roster.values());
    list.forEach(function (info) {
      if (me && info.peer === me.peer) return updateTile(me.peer, info);
      if (!admitted) return;
      if (me.can_publish || info.can_publish) ensurePeer(info).info = info;
      updateTile(info.peer, info);
    });
    peers.forEach(function (p, code) { if (!roster.has(code)) dropPeer(code); });
    renderPeople(list);
    renderModeration();
  }

  var renderedPeople = "";
  function renderPeople(list) {
    // Rebuild only on a change, so a moderator's click never lands on a button just replaced.
    var key = JSON.stringify(list);
    if (key === renderedPeople) return;
    renderedPeople = key;
    peopleList.innerHTML = "";
    list.forEach(function (info) {
      var li = document.createElement("li");
      li.dataset.peer = info.peer;
      li.appendChild(document.createTextNode(info.name + " "));
      var small = document.createElement("small");
      small.textContent = info.role + (me && info.peer === me.peer ? " · you" : "") + (info.hand ? " · ✋" : "") +
        (info.audio ? "" : " · muted") + (info.connected ? "" : " · reconnecting");
      li.appendChild(small);
      if (me && me.moderator && info.peer !== me.peer) {
        var actions = document.createElement("span");
        actions.className = "mod-actions";
        [["mute", "Mute"], ["camera_off", "Camera off"], ["lower_hand", "Lower hand"], ["remove", "Remove"]]
          .forEach(function (pair) { actions.appendChild(moderateButton(pair[0], pair[1], info.peer)); });
        if (info.role_key !== "host") actions.appendChild(roleChooser(info));  // the server refuses it anyway
        li.appendChild(actions);
      }
      peopleList.appendChild(li);
    });
  }

  function moderateButton(action, label, peer) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = action === "remove" || action === "deny" ? "danger" : "secondary";
    button.textContent = label;
    button.dataset.action = action;
    button.addEventListener("click", function () {
      if (action === "remove" && !confirm("Remove this person from the meeting?")) return;
      send({type: "moderate", action: action, peer: peer});
    });
    return button;
  }

  var renderedModeration = "";
  function roleChooser(info) {
    var select = document.createElement("select");
    select.setAttribute("aria-label", "Role of " + info.name);
    (settings.roles || []).forEach(function (pair) {  // the roles a room may give: never host
      select.add(new Option(pair[1], pair[0], false, pair[0] === info.role_key));
    });
    select.addEventListener("change", function () {
      var language = select.value === "interpreter" ? prompt("Language code (en, de, fr, …)", "en") : "";
      send({type: "moderate", action: "set_role", peer: info.peer, role: select.value, language: language || ""});
    });
    return select;
  }

  function renderModeration() {
    if (!me || !me.moderator) return;
    var queue = Array.from(waiting.values());
    var key = JSON.stringify([queue, removed]);
    if (key === renderedModeration) return;
    renderedModeration = key;
    var waitingList = document.getElementById("waiting-list");
    waitingList.innerHTML = queue.length ? "<h3>Waiting</h3>" : "";
    queue.forEach(function (w) {
      var row = document.createElement("p");
      row.dataset.waiting = w.peer;
      row.appendChild(document.createTextNode(w.name + " "));
      row.appendChild(moderateButton("admit", "Admit", w.peer));
      row.appendChild(moderateButton("deny", "Deny", w.peer));
      waitingList.appendChild(row);
    });
    var removedList = document.getElementById("removed-list");
    removedList.innerHTML = removed.length ? "<h3>Removed</h3>" : "";
    removed.forEach(function (r) {
      var row = document.createElement("p");
      row.appendChild(document.createTextNode(r.name + " "));
      row.appendChild(moderateButton("readmit", "Let back in", r.invitation));
      removedList.appendChild(row);
    });
  }

  // --- tiles ---------------------------------------------------------------------------------------
  function ensureTile(code, name) {
    var tile = tiles.querySelector('[data-peer="' + code + '"]');
    if (!tile) {
      tile = document.createElement("div");
      tile.className = "tile";
      tile.dataset.peer = code;
      var video = document.createElement("video");
      video.autoplay = true;
      video.playsInline = true;
      tile.appendChild(video);
      var label = document.createElement("span");
      label.className = "label";
      tile.appendChild(label);
      var indicators = document.createElement("span");
      indicators.className = "indicators";
      tile.appendChild(indicators);
      tiles.appendChild(tile);
    }
    tile.querySelector(".label").textContent = name;
    tile.video = tile.querySelector("video");
    return tile;
  }

  function updateTile(code, info) {
    if (!info.can_publish && code !== (me && me.peer)) return;
    var tile = ensureTile(code, info.name + (me && code === me.peer ? " (you)" : ""));
    var indicators = tile.querySelector(".indicators");
    indicators.innerHTML = "";
    [[!info.audio, "muted"], [!info.video, "camera off"], [info.screen, "screen"], [info.hand, "✋"]]
      .forEach(function (pair) {
        if (!pair[0]) return;
        var span = document.createElement("span");
        span.textContent = pair[1];
        indicators.appendChild(span);
      });
  }

  // --- peer connections (perfect negotiation) ------------------------------------------------------
  function ensurePeer(info) {
    var existing = peers.get(info.peer);
    if (existing) return existing;
    var pc = new RTCPeerConnection({iceServers: iceServers});
    var p = {pc: pc, polite: me.peer < info.peer, makingOffer: false, ignoreOffer: false, info: info, heard: false};
    peers.set(info.peer, p);
    pc.onnegotiationneeded = function () {
      // Of two people who both send media, the polite one lets the other offer first: two first
      // offers crossing made the polite one's ICE candidates go with its rolled-back offer, and the
      // pair sometimes never connected. (Its own media follows in the next round, once stable.)
      if (p.polite && !p.heard && p.info.can_publish && me.can_publish) return;
      p.makingOffer = true;
      pc.setLocalDescription().then(function () {
        send({type: "signal", to: info.peer, data: {description: pc.localDescription}});
      }).catch(function (e) { console.warn("negotiation", e); }).finally(function () { p.makingOffer = false; });
    };
    pc.onicecandidate = function (event) {
      if (event.candidate) send({type: "signal", to: info.peer, data: {candidate: event.candidate}});
    };
    pc.ontrack = function (event) {
      var stream = event.streams[0] || new MediaStream([event.track]);
      var tile = ensureTile(info.peer, p.info.name);
      if (tile.video.srcObject !== stream) {
        tile.video.srcObject = stream;
        startPlaying(tile.video);
      }
      p.stream = stream;
      if (event.track.kind === "audio") watchSpeaking(info.peer, stream);
    };
    pc.onconnectionstatechange = function () {
      // The tile says when its media path is not up, so a frozen picture reads as "connecting".
      var tile = tiles.querySelector('[data-peer="' + info.peer + '"]');
      if (tile) tile.dataset.connection = pc.connectionState;
      if (pc.connectionState === "failed") pc.restartIce();  // recover a dropped path without a new join
    };
    // A pair that stays unwell for two checks in a row renegotiates, so a lost or crossed message
    // cannot leave two people unable to see each other. Unwell: not connected, an offer still
    // unanswered, or the other person's camera on (says the server) while no video arrives here.
    p.strikes = 0;
    p.watchdog = setInterval(function () {
      if (pc.signalingState === "closed") return;
      var shown = p.stream && tiles.querySelector('[data-peer="' + info.peer + '"] video');
      if (shown && shown.paused && shown.srcObject) startPlaying(shown);
      var videoMissing = p.info.video && !(p.stream && p.stream.getVideoTracks().some(function (t) {
        return t.readyState === "live";
      }));
      var unwell = pc.connectionState !== "connected" || pc.signalingState !== "stable" || videoMissing;
      p.strikes = unwell ? p.strikes + 1 : 0;
      // The impolite side restarts first, so the two restarts do not cross either.
      if (p.strikes < (p.polite ? 4 : 2)) return;
      p.strikes = 0;
      var rollback = pc.signalingState === "have-local-offer"
        ? pc.setLocalDescription({type: "rollback"}) : Promise.resolve();
      rollback.then(function () { pc.restartIce(); }).catch(function (e) { console.warn("watchdog", e); });
    }, 4000);
    addLocalTracks(p);
    return p;
  }

  // Play a remote tile's video. A browser that refuses sound without a click plays it muted and offers
  // to unmute; a play() that is interrupted (the stream changed under it) is tried again by the
  // watchdog, so a tile never stays frozen.
  function startPlaying(video) {
    return video.play().catch(function () {
      if (video.muted) return;
      video.muted = true;
      showMessage("Click anywhere to hear the others.");
      document.addEventListener("click", function () { video.muted = false; }, {once: true});
      return video.play().catch(function () {});
    });
  }

  function addLocalTracks(p) {
    if (!localStream || !me.can_publish || p.tracksAdded) return;
    p.tracksAdded = true;
    localStream.getTracks().forEach(function (track) { p.pc.addTrack(track, localStream); });
  }

  function onSignal(from, data) {
    if (!admitted) { earlySignals.push({from: from, data: data}); return; }  // the server relays only to the admitted
    var p = peers.get(from) || ensurePeer({peer: from, name: "…", can_publish: true});
    var pc = p.pc;
    if (data.description) {
      p.heard = true;
      var collision = data.description.type === "offer" && (p.makingOffer || pc.signalingState !== "stable");
      p.ignoreOffer = !p.polite && collision;
      if (p.ignoreOffer) return;
      pc.setRemoteDescription(data.description).then(function () {
        if (data.description.type !== "offer") return;
        return pc.setLocalDescription().then(function () {
          send({type: "signal", to: from, data: {description: pc.localDescription}});
        });
      }).catch(function (e) { console.warn("signal", e); });
    } else if (data.candidate) {
      pc.addIceCandidate(data.candidate).catch(function (e) { if (!p.ignoreOffer) console.warn("candidate", e); });
    }
  }

  function dropPeer(code) {
    var p = peers.get(code);
    if (p) { clearInterval(p.watchdog); p.pc.close(); }
    peers.delete(code);
    var tile = tiles.querySelector('[data-peer="' + code + '"]');
    if (tile) tile.remove();
  }

  // --- active speaker ------------------------------------------------------------------------------
  var levels = new Map();
  function watchSpeaking(code, stream) {
    if (!stream.getAudioTracks().length || levels.has(code)) return;
    audioContext = audioContext || new AudioContext();
    var analyser = audioContext.createAnalyser();
    analyser.fftSize = 512;
    audioContext.createMediaStreamSource(stream).connect(analyser);
    levels.set(code, analyser);
  }
  setInterval(function () {
    var loudest = null, best = 0.02;
    var samples = new Float32Array(512);
    levels.forEach(function (analyser, code) {
      analyser.getFloatTimeDomainData(samples);
      var sum = 0;
      for (var i = 0; i < samples.length; i++) sum += samples[i] * samples[i];
      var rms = Math.sqrt(sum / samples.length);
      if (rms > best) { best = rms; loudest = code; }
    });
    tiles.querySelectorAll(".tile").forEach(function (tile) {
      tile.classList.toggle("speaking", tile.dataset.peer === loudest);
    });
  }, 400);

  // --- own media -----------------------------------------------------------------------------------
  function track(kind) {
    return localStream && localStream.getTracks().find(function (t) { return t.kind === kind; });
  }

  function reportMedia() {
    var audio = track("audio"), video = track("video");
    send({type: "media", audio: !!(audio && audio.enabled), video: !!(video && video.enabled), screen: !!screenTrack});
    document.getElementById("toggle-mic").textContent = audio && audio.enabled ? "Mute" : "Unmute";
    document.getElementById("toggle-camera").textContent = video && video.enabled ? "Camera off" : "Camera on";
    document.getElementById("toggle-screen").textContent = screenTrack ? "Stop sharing" : "Share screen";
  }

  function toggle(kind, on) {
    var t = track(kind);
    if (!t) return;
    t.enabled = on === undefined ? !t.enabled : on;
    reportMedia();
  }

  function replaceTrack(kind, newTrack) {
    peers.forEach(function (p) {
      p.pc.getSenders().forEach(function (sender) {
        if (sender.track && sender.track.kind === kind) sender.replaceTrack(newTrack);
      });
    });
  }

  function switchDevice(kind, deviceId) {
    var constraints = {};
    constraints[kind] = {deviceId: {exact: deviceId}};
    navigator.mediaDevices.getUserMedia(constraints).then(function (stream) {
      var fresh = stream.getTracks()[0], old = track(kind);
      fresh.enabled = old ? old.enabled : true;
      replaceTrack(kind, fresh);
      if (old) { localStream.removeTrack(old); old.stop(); }
      localStream.addTrack(fresh);
    }).catch(function (error) { showMessage("Could not switch device: " + error.name); });
  }

  function toggleScreen() {
    if (screenTrack) {
      screenTrack.stop();
      screenTrack = null;
      replaceTrack("video", track("video"));
      return reportMedia();
    }
    navigator.mediaDevices.getDisplayMedia({video: true}).then(function (stream) {
      screenTrack = stream.getVideoTracks()[0];
      screenTrack.onended = function () { if (screenTrack) toggleScreen(); };
      replaceTrack("video", screenTrack);
      reportMedia();
    }).catch(function (error) { showMessage("Screen sharing did not start: " + error.name); });
  }

  function onForce(what) {
    if (what === "reload") return location.reload();  // a moderator changed my role: rejoin with it
    if (what === "mute") toggle("audio", false);
    if (what === "camera_off") toggle("video", false);
    if (what === "lower_hand") setHand(false);
    showMessage({mute: "A moderator muted you.", camera_off: "A moderator turned your camera off.",
                 lower_hand: "A moderator lowered your hand."}[what]);
  }

  function setHand(raised) {
    handRaised = raised;
    var button = document.getElementById("toggle-hand");
    if (button) button.textContent = raised ? "Lower hand" : "Raise hand";
    send({type: "hand", raised: raised});
  }

  // --- chat ----------------------------------------------------------------------------------------
  function onChat(message) {
    var log = document.getElementById("chat-log");
    if (!log) return;
    var li = document.createElement("li");
    var who = document.createElement("strong");
    who.textContent = message.name + ": ";
    li.appendChild(who);
    li.appendChild(document.createTextNode(message.text));
    log.appendChild(li);
    log.scrollTop = log.scrollHeight;
  }

  // --- leaving -------------------------------------------------------------------------------------
  function onEnded() {
    ended = true;
    stopRecording();
    if (localStream) localStream.getTracks().forEach(function (t) { t.stop(); });
    peers.forEach(function (p) { p.pc.close(); });
    if (socket) socket.close();
    location.assign(room.dataset.roomUrl);  // the server's page says why, with its status
  }

  function showMessage(text) {
    if (!text) return;
    messageBox.hidden = false;
    messageBox.textContent = text;
  }

  // --- recording -----------------------------------------------------------------------------------
  // The room is drawn onto a canvas and its sounds mixed; chunks upload one by one and are kept
  // until the server confirms the whole recording, so a dropped upload resumes.
  var recorder = null;
  var recording = null;   // {code, chunks: [], sent: Set, started, drawTimer, uploading}

  function startRecording() {
    fetch(room.dataset.recordingsUrl, {method: "POST", headers: {"X-CSRFToken": csrf}, credentials: "same-origin"})
      .then(function (r) { return r.json().then(function (body) { if (!r.ok) throw new Error(body.error); return body; }); })
      .then(function (body) {
        var canvas = document.createElement("canvas");
        canvas.width = 1280;
        canvas.height = 720;
        var context = canvas.getContext("2d");
        audioContext = audioContext || new AudioContext();
        var mix = audioContext.createMediaStreamDestination();
        var sources = [localStream].concat(Array.from(peers.values()).map(function (p) { return p.stream; }));
        sources.forEach(function (s) {
          if (s && s.getAudioTracks().length) audioContext.createMediaStreamSource(s).connect(mix);
        });
        recording = {code: body.recording, chunks: [], sent: new Set(), started: Date.now()};
        recording.drawTimer = setInterval(function () { drawRoom(context, canvas); }, 66);
        var stream = new MediaStream(canvas.captureStream(15).getVideoTracks().concat(mix.stream.getAudioTracks()));
        recorder = new MediaRecorder(stream, {mimeType: "video/webm"});
        recorder.ondataavailable = function (event) {
          if (!event.data.size || recording.full) return;
          recording.chunks.push(event.data);
          uploadPending();
        };
        recorder.onstop = finishRecording;
        recorder.start(1000);
        document.getElementById("toggle-record").textContent = "Stop recording";
        document.getElementById("toggle-record").setAttribute("aria-pressed", "true");
      }).catch(function (error) { showMessage("Recording did not start: " + error.message); });
  }

  function drawRoom(context, canvas) {
    var videos = Array.from(tiles.querySelectorAll("video")).filter(function (v) { return v.videoWidth; });
    context.fillStyle = "#111";
    context.fillRect(0, 0, canvas.width, canvas.height);
    var columns = Math.ceil(Math.sqrt(videos.length || 1)), rows = Math.ceil((videos.length || 1) / columns);
    var w = canvas.width / columns, h = canvas.height / rows;
    videos.forEach(function (video, i) {
      context.drawImage(video, (i % columns) * w, Math.floor(i / columns) * h, w, h);
    });
  }

  function uploadPending() {
    if (!recording || recording.uploading) return Promise.resolve();
    var index = recording.chunks.findIndex(function (_, i) { return !recording.sent.has(i); });
    if (index === -1) return Promise.resolve();
    recording.uploading = true;
    var url = room.dataset.recordingsUrl + recording.code + "/chunks/" + index;
    return fetch(url, {method: "POST", body: recording.chunks[index], credentials: "same-origin",
                       headers: {"X-CSRFToken": csrf, "Content-Type": "application/octet-stream"}})
      .then(function (r) {
        if (r.status === 400 || r.status === 413) return r.json().then(function (body) { stopAtLimit(index, body.error); });
        if (!r.ok) throw new Error("HTTP " + r.status);
        recording.sent.add(index);
      })
      .catch(function () { return new Promise(function (resolve) { setTimeout(resolve, 2000); }); })
      .finally(function () { recording.uploading = false; })
      .then(uploadPending);
  }

  // The server takes no more of this recording (its length or size limit): save what it has.
  function stopAtLimit(index, message) {
    recording.full = message;
    recording.chunks.length = index;
    showMessage(message);
    stopRecording();
  }

  function finishRecording() {
    var current = recording;
    if (!current) return;
    clearInterval(current.drawTimer);
    var duration = (Date.now() - current.started) / 1000;
    var statusUrl = room.dataset.recordingsUrl + current.code + "/";
    function attempt() {
      return uploadPending().then(function () {
        return fetch(statusUrl, {credentials: "same-origin"}).then(function (r) { return r.json(); });
      }).then(function (status) {
        current.sent = new Set(status.received);  // resend what the server does not have
        if (current.sent.size < current.chunks.length) return new Promise(function (r) { setTimeout(r, 1000); }).then(attempt);
        return fetch(statusUrl + "finish", {method: "POST", credentials: "same-origin",
          headers: {"X-CSRFToken": csrf, "Content-Type": "application/json"},
          body: JSON.stringify({chunks: current.chunks.length, duration: duration})});
      });
    }
    attempt().then(function (r) {
      if (r && r.ok) { showMessage((current.full ? current.full + " " : "") + "The recording is saved on the meeting's page."); recording = null; }
    });
    var button = document.getElementById("toggle-record");
    button.textContent = "Record";
    button.setAttribute("aria-pressed", "false");
  }

  function stopRecording() {
    if (recorder && recorder.state !== "inactive") recorder.stop();
  }

  // --- controls ------------------------------------------------------------------------------------
  document.getElementById("toggle-mic").addEventListener("click", function () { toggle("audio"); });
  document.getElementById("toggle-camera").addEventListener("click", function () { toggle("video"); });
  document.getElementById("toggle-screen").addEventListener("click", toggleScreen);
  document.getElementById("camera-select").addEventListener("change", function (e) { switchDevice("video", e.target.value); });
  document.getElementById("mic-select").addEventListener("change", function (e) { switchDevice("audio", e.target.value); });
  var handButton = document.getElementById("toggle-hand");
  if (handButton) handButton.addEventListener("click", function () { setHand(!handRaised); });
  document.getElementById("toggle-record").addEventListener("click", function () {
    if (recorder && recorder.state === "recording") stopRecording(); else startRecording();
  });
  document.getElementById("mute-all").addEventListener("click", function () { send({type: "moderate", action: "mute_all"}); });
  document.getElementById("end-all").addEventListener("click", function () {
    if (confirm("End the meeting for everyone?")) send({type: "moderate", action: "end"});
  });
  var chatForm = document.getElementById("chat-form");
  if (chatForm) chatForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var input = document.getElementById("chat-input");
    if (input.value.trim()) send({type: "chat", text: input.value});
    input.value = "";
  });
  setInterval(function () { send({type: "ping"}); }, 15000);  // the server takes a minute's silence for a drop

  connect();
})();
