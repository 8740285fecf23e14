// Recordings a provider keeps are HLS streams: Safari plays them natively, other browsers through
// hls.js (served by the portal from its pinned npm package). Without either, offer the link.
(function () {
  document.querySelectorAll("video[data-hls]").forEach(function (video) {
    var source = video.dataset.hls;
    if (video.canPlayType("application/vnd.apple.mpegurl")) {
      video.src = source;
    } else if (window.Hls && window.Hls.isSupported()) {
      var player = new window.Hls();
      player.loadSource(source);
      player.attachMedia(video);
      video.hlsPlayer = player;
    } else {
      var fallback = video.nextElementSibling;
      if (fallback && fallback.classList.contains("hls-fallback")) fallback.hidden = false;
    }
  });
})();
