// The built-in provider's room: a full mesh of WebRTC peer connections between people who may send
// media, signalled over the portal's WebSocket. The server decides who is admitted, who may publish
// and who moderates; this page only follows what the server says. The page is a full-viewport app:
// a stage that fits the tiles to the window (grid or speaker view), a control bar, and a panel with
// the people, the chat and the devices. Every text it shows comes translated from the template.
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
  var stage = document.getElementById("stage");
  var panel = document.getElementById("panel");
  var strings = JSON.parse(document.getElementById("room-strings").textContent);

  // The socket server speaks no language: a role is named here, in the page's.
  function roleName(key, fallback) {
    return (strings.roles && strings.roles[key]) || fallback;
  }

  // A translated text, with its {placeholders} filled in.
  function t(key, values) {
    return (strings[key] || key).replace(/\{(\w+)\}/g, function (_, name) {
      return values && name in values ? values[name] : "";
    });
  }

  // The visible text of a control-bar button (its icon stays).
  function setLabel(id, text) {
    var button = document.getElementById(id);
    if (button) (button.querySelector(".control-label") || button).textContent = text;
  }

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
      connectionBadge.textContent = t("reconnecting");
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
    connectionBadge.textContent = t("connected");
    connectionBadge.className = "badge live";
    me = message.me;
    settings = message.room;
    iceServers = message.ice_servers || [];
    // Which controls show is the server's business (the template renders only what this role may use).
    if (message.admitted) onAdmitted(); else waitingBox.hidden = false;
  }

  function onAdmitted() {
    admitted = true;
    waitingBox.hidden = true;
    var ready = me.can_publish && !localStream ? startLocalMedia() : Promise.resolve();
    ready.then(function () {
      if (room.dataset.joinMuted && track("audio")) {
        delete room.dataset.joinMuted;  // chosen on the pre-join page: only for the first arrival
        track("audio").enabled = false;
      }
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
      var tile = ensureTile(me.peer, me.name + " " + t("you"));
      tile.video.srcObject = stream;
      tile.video.muted = true;
      watchSpeaking(me.peer, stream);
      return listDevices();
    }).catch(function (error) {
      showMessage(t("no_devices", {error: error.name}));
    });
  }

  function listDevices() {
    return navigator.mediaDevices.enumerateDevices().then(function (devices) {
      [["camera-select", "videoinput"], ["mic-select", "audioinput"]].forEach(function (pair) {
        var select = document.getElementById(pair[0]);
        if (!select) return;
        var current = localStream && localStream.getTracks().find(function (t) {
          return t.kind === (pair[1] === "videoinput" ? "video" : "audio");
        });
        select.innerHTML = "";
        devices.filter(function (d) { return d.kind === pair[1]; }).forEach(function (d, i) {
          select.add(new Option(d.label || t(pair[1] === "videoinput" ? "camera_n" : "microphone_n", {n: i + 1}),
                                d.deviceId));
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
      small.textContent = [roleName(info.role_key, info.role), me && info.peer === me.peer ? t("you_short") : "", info.hand ? "✋" : "",
                           info.audio ? "" : t("muted"), info.connected ? "" : t("reconnecting_person")]
        .filter(Boolean).join(" · ");
      li.appendChild(small);
      if (me && me.moderator && info.peer !== me.peer) {
        var actions = document.createElement("span");
        actions.className = "mod-actions";
        [["mute", t("mute")], ["camera_off", t("camera_off")], ["lower_hand", t("lower_hand")], ["remove", t("remove")]]
          .forEach(function (pair) { actions.appendChild(moderateButton(pair[0], pair[1], info.peer, info.name)); });
        if (info.role_key !== "host") actions.appendChild(roleChooser(info));  // the server refuses it anyway
        li.appendChild(actions);
      }
      peopleList.appendChild(li);
    });
  }

  function moderateButton(action, label, peer, name) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = action === "remove" || action === "deny" ? "danger" : "secondary";
    button.textContent = label;
    button.dataset.action = action;
    button.addEventListener("click", function () {
      if (action === "remove" && !confirm(t("confirm_remove", {name: name}))) return;
      send({type: "moderate", action: action, peer: peer});
    });
    return button;
  }

  var renderedModeration = "";
  function roleChooser(info) {
    var select = document.createElement("select");
    select.setAttribute("aria-label", t("role_of", {name: info.name}));
    (settings.roles || []).forEach(function (pair) {  // the roles a room may give: never host
      select.add(new Option(roleName(pair[0], pair[1]), pair[0], false, pair[0] === info.role_key));
    });
    select.addEventListener("change", function () {
      var language = select.value === "interpreter" ? prompt(t("language_prompt"), "en") : "";
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
    // Someone waiting shows on the People button too, so a moderator notices with the panel closed.
    var peopleButton = document.getElementById("show-people");
    if (queue.length) peopleButton.dataset.unread = queue.length; else delete peopleButton.dataset.unread;
    var waitingList = document.getElementById("waiting-list");
    waitingList.innerHTML = "";
    if (queue.length) waitingList.appendChild(heading(t("waiting")));
    queue.forEach(function (w) {
      var row = document.createElement("p");
      row.dataset.waiting = w.peer;
      row.appendChild(document.createTextNode(w.name + " "));
      row.appendChild(moderateButton("admit", t("admit"), w.peer, w.name));
      row.appendChild(moderateButton("deny", t("deny"), w.peer, w.name));
      waitingList.appendChild(row);
    });
    var removedList = document.getElementById("removed-list");
    removedList.innerHTML = "";
    if (removed.length) removedList.appendChild(heading(t("removed")));
    removed.forEach(function (r) {
      var row = document.createElement("p");
      row.appendChild(document.createTextNode(r.name + " "));
      row.appendChild(moderateButton("readmit", t("let_back_in"), r.invitation, r.name));
      removedList.appendChild(row);
    });
  }

  function heading(text) {
    var h = document.createElement("h3");
    h.textContent = text;
    return h;
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
      var avatar = document.createElement("span");  // shown instead of the picture while the camera is off
      avatar.className = "avatar";
      avatar.setAttribute("aria-hidden", "true");
      tile.appendChild(avatar);
      tile.dataset.connectingText = t("connecting");
      var label = document.createElement("span");
      label.className = "label";
      tile.appendChild(label);
      var indicators = document.createElement("span");
      indicators.className = "indicators";
      tile.appendChild(indicators);
      if (!me || code !== me.peer) {  // one pins someone else, never oneself
        var pin = document.createElement("button");
        pin.type = "button";
        pin.className = "pin";
        pin.setAttribute("aria-pressed", "false");
        pin.addEventListener("click", function () { setPinned(pinned === code ? null : code); });
        tile.appendChild(pin);
      }
      if (me && code === me.peer) tiles.prepend(tile); else tiles.appendChild(tile);
    }
    tile.querySelector(".label").textContent = name;
    var pinButton = tile.querySelector(".pin");
    if (pinButton) pinButton.textContent = t(pinned === code ? "unpin" : "pin", {name: name});
    tile.video = tile.querySelector("video");
    return tile;
  }

  function initials(name) {
    var words = name.trim().split(/\s+/).filter(Boolean);
    var letters = words.length > 1 ? [words[0], words[words.length - 1]] : words;
    return letters.map(function (word) { return Array.from(word)[0]; }).join("").toUpperCase();
  }

  function updateTile(code, info) {
    if (!info.can_publish) return;  // a webinar viewer has no tile, not even their own
    var tile = ensureTile(code, info.name + (me && code === me.peer ? " " + t("you") : ""));
    tile.dataset.camera = info.video ? "on" : "off";
    tile.querySelector(".avatar").textContent = initials(info.name);
    var indicators = tile.querySelector(".indicators");
    indicators.innerHTML = "";
    [[!info.audio, t("muted")], [!info.video, t("camera_off_badge")], [info.screen, t("screen")], [info.hand, "✋"]]
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
      showMessage(t("click_to_hear"));
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
    if (pinned === code) setPinned(null);
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
    // The speaker view follows whoever last spoke, other than oneself.
    if (loudest && loudest !== (me && me.peer) && loudest !== activeSpeaker) {
      activeSpeaker = loudest;
      if (stage.dataset.view === "speaker") layout();
    }
  }, 400);

  // --- own media -----------------------------------------------------------------------------------
  function track(kind) {
    return localStream && localStream.getTracks().find(function (t) { return t.kind === kind; });
  }

  function reportMedia() {
    var audio = track("audio"), video = track("video");
    send({type: "media", audio: !!(audio && audio.enabled), video: !!(video && video.enabled), screen: !!screenTrack});
    setLabel("toggle-mic", audio && audio.enabled ? t("mute") : t("unmute"));
    setLabel("toggle-camera", video && video.enabled ? t("camera_off") : t("camera_on"));
    setLabel("toggle-screen", screenTrack ? t("stop_sharing") : t("share"));
    pressed("toggle-mic", !(audio && audio.enabled));
    pressed("toggle-camera", !(video && video.enabled));
    pressed("toggle-screen", !!screenTrack);
  }

  function pressed(id, on) {
    var button = document.getElementById(id);
    if (button) button.setAttribute("aria-pressed", on ? "true" : "false");
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
    }).catch(function (error) { showMessage(t("switch_failed", {error: error.name})); });
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
    }).catch(function (error) { showMessage(t("share_failed", {error: error.name})); });
  }

  function onForce(what) {
    if (what === "reload") return location.reload();  // a moderator changed my role: rejoin with it
    if (what === "mute") toggle("audio", false);
    if (what === "camera_off") toggle("video", false);
    if (what === "lower_hand") setHand(false);
    var told = {mute: "forced_mute", camera_off: "forced_camera_off", lower_hand: "forced_lower_hand"}[what];
    if (told) showMessage(t(told));
  }

  function setHand(raised) {
    handRaised = raised;
    setLabel("toggle-hand", raised ? t("lower_hand") : t("raise_hand"));
    pressed("toggle-hand", raised);
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
    if (!chatInView()) {
      var button = document.getElementById("show-chat");
      button.dataset.unread = Number(button.dataset.unread || 0) + 1;
    }
  }

  function chatInView() {
    return !panel.hidden && (panel.dataset.show === "chat" || !phone.matches && panel.dataset.show === "people");
  }

  // --- leaving -------------------------------------------------------------------------------------
  function onEnded() {
    stopEverything();
    location.assign(room.dataset.roomUrl);  // the server's page says why, with its status
  }

  // Camera, microphone, screen and connections off: before leaving, whichever way.
  function stopEverything() {
    ended = true;
    stopRecording();
    if (localStream) localStream.getTracks().forEach(function (track) { track.stop(); });
    if (screenTrack) screenTrack.stop();
    peers.forEach(function (p) { clearInterval(p.watchdog); p.pc.close(); });
    if (socket) socket.close();
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
        setLabel("toggle-record", t("stop_recording"));
        document.getElementById("toggle-record").setAttribute("aria-pressed", "true");
      }).catch(function (error) { showMessage(t("recording_failed", {error: error.message})); });
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
      if (r && r.ok) { showMessage((current.full ? current.full + " " : "") + t("recording_saved")); recording = null; }
    });
    setLabel("toggle-record", t("record"));
    pressed("toggle-record", false);
  }

  function stopRecording() {
    if (recorder && recorder.state !== "inactive") recorder.stop();
  }

  // --- stage layout ------------------------------------------------------------------------------
  // Tiles are placed absolutely inside the stage: the grid view picks the columns (and the tiles'
  // shape) that make the tiles largest; the speaker view gives one tile (pinned, else the last
  // speaker) the stage above a strip of the others. Both always fit the window.
  var GAP = 8;
  var SHAPES = [16 / 9, 4 / 3, 1];
  var pinned = null;         // the peer code a person pinned
  var activeSpeaker = null;  // the last remote person who spoke

  function place(tile, x, y, w, h) {
    var arriving = !tile.style.width;  // a new tile appears in its place; placed tiles glide
    if (arriving) tile.style.transition = "none";
    tile.style.left = x + "px";
    tile.style.top = y + "px";
    tile.style.width = w + "px";
    tile.style.height = h + "px";
    if (arriving) { tile.getBoundingClientRect(); tile.style.transition = ""; }
  }

  function gridFit(count, width, height) {
    var best = {w: 0};
    SHAPES.forEach(function (shape) {
      for (var columns = 1; columns <= count; columns++) {
        var rows = Math.ceil(count / columns);
        var w = Math.min((width - GAP * (columns - 1)) / columns, ((height - GAP * (rows - 1)) / rows) * shape);
        if (w * w / shape > best.w * best.w / (best.shape || 1)) best = {w: w, h: w / shape, shape: shape, columns: columns, rows: rows};
      }
    });
    return best;
  }

  function featuredTile(list) {
    var find = function (code) { return code && list.find(function (tile) { return tile.dataset.peer === code; }); };
    var sharing = Array.from(roster.values()).find(function (info) { return info.screen; });
    return find(pinned) || find(sharing && sharing.peer) || find(activeSpeaker) || list.find(function (tile) {
      return !me || tile.dataset.peer !== me.peer;
    }) || list[0];
  }

  function layout() {
    var list = Array.from(tiles.querySelectorAll(".tile"));
    document.getElementById("stage-empty").hidden = list.length > 0;
    var width = tiles.clientWidth, height = tiles.clientHeight;
    if (!list.length || !width || !height) return;
    var speaker = stage.dataset.view === "speaker" && list.length > 1;
    var featured = speaker ? featuredTile(list) : null;
    list.forEach(function (tile) { tile.classList.toggle("featured", tile === featured); });
    if (speaker) {
      var others = list.filter(function (tile) { return tile !== featured; });
      var stripHeight = Math.max(60, Math.min(140, height * 0.22));
      var stripWidth = Math.min(stripHeight * 16 / 9, (width - GAP * (others.length - 1)) / others.length);
      stripHeight = Math.min(stripHeight, stripWidth * 9 / 16 * 1.2);
      var mainHeight = height - stripHeight - GAP;
      var mainWidth = Math.min(width, mainHeight * 16 / 9);
      place(featured, (width - mainWidth) / 2, 0, mainWidth, mainHeight);
      var stripLeft = (width - (others.length * stripWidth + GAP * (others.length - 1))) / 2;
      others.forEach(function (tile, i) {
        place(tile, stripLeft + i * (stripWidth + GAP), height - stripHeight, stripWidth, stripHeight);
      });
      return;
    }
    var fit = gridFit(list.length, width, height);
    var top = (height - (fit.rows * fit.h + GAP * (fit.rows - 1))) / 2;
    list.forEach(function (tile, i) {
      var row = Math.floor(i / fit.columns);
      var inRow = Math.min(fit.columns, list.length - row * fit.columns);  // the last row is centred too
      var left = (width - (inRow * fit.w + GAP * (inRow - 1))) / 2;
      place(tile, left + (i % fit.columns) * (fit.w + GAP), top + row * (fit.h + GAP), fit.w, fit.h);
    });
  }

  function setView(view) {
    stage.dataset.view = view;
    setLabel("toggle-view", view === "speaker" ? t("grid_view") : t("speaker_view"));
    layout();
  }

  function setPinned(code) {
    pinned = code;
    tiles.querySelectorAll(".tile").forEach(function (tile) {
      var name = tile.querySelector(".label").textContent;
      var button = tile.querySelector(".pin");
      if (!button) return;
      button.setAttribute("aria-pressed", tile.dataset.peer === code ? "true" : "false");
      button.textContent = t(tile.dataset.peer === code ? "unpin" : "pin", {name: name});
    });
    if (code) setView("speaker"); else layout();
  }

  new ResizeObserver(layout).observe(tiles);
  new MutationObserver(layout).observe(tiles, {childList: true});

  // --- panel: people, chat, devices -----------------------------------------------------------------
  // On a wide screen the panel starts open beside the stage (people and chat together); on a phone
  // it is a sheet over the stage that shows one of them, opened from the control bar.
  var phone = window.matchMedia("(max-width: 700px)");
  var panelButtons = Array.from(document.querySelectorAll("[data-panel]"));

  function showPanel(which) {
    var open = which !== null;
    panel.hidden = !open;
    if (open) panel.dataset.show = which;
    panelButtons.forEach(function (button) {
      button.setAttribute("aria-expanded", open && button.dataset.panel === which ? "true" : "false");
    });
    var chatButton = document.getElementById("show-chat");
    if (chatButton && chatInView()) delete chatButton.dataset.unread;
  }

  function togglePanel(which) {
    showPanel(!panel.hidden && panel.dataset.show === which ? null : which);
    if (!panel.hidden && which === "chat" && !phone.matches) document.getElementById("chat-input").focus();
  }

  panelButtons.forEach(function (button) {
    button.addEventListener("click", function () { togglePanel(button.dataset.panel); });
  });
  document.getElementById("panel-close").addEventListener("click", function () { showPanel(null); });
  showPanel(phone.matches ? null : "people");

  // --- keyboard shortcuts ---------------------------------------------------------------------------
  var help = document.getElementById("shortcuts-help");
  document.getElementById("shortcuts-button").addEventListener("click", function () { help.showModal(); });

  function click(id) {
    var button = document.getElementById(id);
    if (button) button.click();
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || help.open) return;
    if (event.key === "Escape") {
      // Leave no focus in the closed panel: a focused chat box would swallow the next shortcut.
      if (panel.contains(document.activeElement)) document.activeElement.blur();
      if (!panel.hidden) showPanel(null);
      return;
    }
    var target = event.target;
    if (target.closest && target.closest("input, textarea, select, [contenteditable]")) return;
    var action = {m: "toggle-mic", v: "toggle-camera", h: "toggle-hand", g: "toggle-view"}[event.key.toLowerCase()];
    if (action) { event.preventDefault(); return click(action); }
    if (event.key.toLowerCase() === "p") { event.preventDefault(); return togglePanel("people"); }
    if (event.key.toLowerCase() === "c" && document.getElementById("chat-section")) {
      event.preventDefault();
      return togglePanel("chat");
    }
    if (event.key === "?") { event.preventDefault(); help.showModal(); }
  });

  // --- controls ------------------------------------------------------------------------------------
  function on(id, type, handler) {
    var element = document.getElementById(id);
    if (element) element.addEventListener(type, handler);
  }

  on("toggle-mic", "click", function () { toggle("audio"); });
  on("toggle-camera", "click", function () { toggle("video"); });
  on("toggle-screen", "click", toggleScreen);
  on("camera-select", "change", function (e) { switchDevice("video", e.target.value); });
  on("mic-select", "change", function (e) { switchDevice("audio", e.target.value); });
  on("toggle-hand", "click", function () { setHand(!handRaised); });
  on("toggle-record", "click", function () {
    if (recorder && recorder.state === "recording") stopRecording(); else startRecording();
  });
  on("toggle-view", "click", function () { setView(stage.dataset.view === "speaker" ? "grid" : "speaker"); });
  on("mute-all", "click", function () { send({type: "moderate", action: "mute_all"}); });
  on("end-all", "click", function () {
    if (confirm(t("confirm_end"))) send({type: "moderate", action: "end"});
  });
  on("leave-form", "submit", stopEverything);  // the form goes on to the server, which ends the stay
  on("chat-form", "submit", function (event) {
    event.preventDefault();
    var input = document.getElementById("chat-input");
    if (input.value.trim()) send({type: "chat", text: input.value});
    input.value = "";
  });
  setInterval(function () { send({type: "ping"}); }, 15000);  // the server takes a minute's silence for a drop

  connect();
})();
