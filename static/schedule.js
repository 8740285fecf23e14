// The schedule form: repeat details only while a repeat is chosen (weekdays only for weekly), and
// picking a room fills the settings fields with that room's defaults. Without this script every
// field shows and the server applies the room's defaults to the settings left untouched.
(function () {
  "use strict";
  var form = document.querySelector("form[data-schedule-form]");
  if (!form) return;

  var frequency = form.querySelector("select[name=frequency]");
  var repeat = form.querySelector("[data-repeat-fields]");
  var weekdays = form.querySelector("[data-weekly-only]");
  function showRepeat() {
    if (!frequency || !repeat) return;
    repeat.hidden = !frequency.value;
    if (weekdays) weekdays.hidden = frequency.value !== "weekly";
  }
  if (frequency) frequency.addEventListener("change", showRepeat);
  showRepeat();

  // "Other" duration: the end field (under "More options") says when it ends; typing an end means "other".
  var duration = form.querySelector("select[name=duration]");
  var end = form.querySelector("input[name=end]");
  if (duration && end) {
    duration.addEventListener("change", function () {
      if (duration.value) return;
      var more = end.closest("details");
      if (more) more.open = true;
      end.focus();
    });
    end.addEventListener("input", function () { if (end.value) duration.value = ""; });
  }

  var defaultsNode = document.getElementById("room-defaults");
  var room = form.querySelector("select[name=room]");
  var shownRoom = form.querySelector("input[name=settings_from]");
  if (!defaultsNode || !room) return;
  var defaults = JSON.parse(defaultsNode.textContent);
  room.addEventListener("change", function () {
    var settings = defaults[room.value];
    if (!settings) return;
    Object.keys(settings).forEach(function (name) {
      var field = form.elements.namedItem(name);
      if (!field || !field.tagName) return;
      var value = settings[name];
      if (field.type === "checkbox") field.checked = Boolean(value);
      else field.value = value === null ? "" : String(value);
    });
    if (shownRoom) shownRoom.value = room.value;
    // portal.js shows the chosen provider's fields again.
    var provider = form.querySelector("select[data-provider-select]");
    if (provider) provider.dispatchEvent(new Event("change"));
  });
})();
