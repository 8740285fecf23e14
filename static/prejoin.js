// Pre-join page: a live level meter for the chosen microphone. It follows whatever stream the camera
// check (portal.js) shows in the preview, so choosing another microphone moves the meter to it.
(function () {
  "use strict";

  var video = document.getElementById("preview");
  var meter = document.getElementById("mic-level");
  if (!video || !meter || !window.AudioContext) return;

  var context = null, analyser = null, source = null, samples = null;

  function listen() {
    var stream = video.srcObject;
    if (!stream || !stream.getAudioTracks().length) return;
    context = context || new AudioContext();
    if (context.state === "suspended") context.resume();
    if (!analyser) {
      analyser = context.createAnalyser();
      analyser.fftSize = 1024;
      samples = new Float32Array(analyser.fftSize);
    }
    if (source) source.disconnect();
    source = context.createMediaStreamSource(stream);
    source.connect(analyser);
  }

  function draw() {
    if (analyser) {
      analyser.getFloatTimeDomainData(samples);
      var sum = 0;
      for (var i = 0; i < samples.length; i++) sum += samples[i] * samples[i];
      // Speech sits around 0.02–0.2 RMS: scale it so a normal voice fills most of the bar.
      meter.value = Math.min(1, Math.sqrt(sum / samples.length) * 5);
    }
    requestAnimationFrame(draw);
  }

  video.addEventListener("loadedmetadata", listen);
  // A browser may keep audio suspended until the person touches the page.
  document.addEventListener("click", function () { if (context) context.resume(); });
  draw();
})();
