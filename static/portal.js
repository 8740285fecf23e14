// Small progressive enhancements: local times, the pre-join camera check, the room's live state.
(function () {
  "use strict";

  // Times rendered in the invitee's zone also show the browser's own zone when it differs.
  document.querySelectorAll("time[data-local]").forEach(function (el) {
    var when = new Date(el.getAttribute("datetime"));
    if (isNaN(when)) return;
    var local = new Intl.DateTimeFormat(document.documentElement.lang || undefined,
                                        {dateStyle: "full", timeStyle: "short"}).format(when);
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (el.textContent.indexOf(local) === -1) {
      var hint = document.createElement("small");
      hint.className = "local-time";
      hint.textContent = (el.getAttribute("data-local") || "Your time:") + " " + local + " (" + zone + ")";
      var line = el.closest("p") || el;
      line.appendChild(document.createElement("br"));
      line.appendChild(hint);
    }
  });

  // The zone this page's times are shown in (templates/accounts/timezone_notice.html), and the
  // device's. Every <time datetime> gets the device's local time after it when the two differ.
  var zoneNotice = document.getElementById("timezone-notice");
  var deviceZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  var pageZone = zoneNotice && zoneNotice.getAttribute("data-page-zone");
  var pageLanguage = document.documentElement.lang || undefined;
  function canonicalZone(name) {
    try { return new Intl.DateTimeFormat("en", {timeZone: name}).resolvedOptions().timeZone; }
    catch (error) { return null; }
  }
  if (pageZone && deviceZone && canonicalZone(pageZone) && canonicalZone(pageZone) !== canonicalZone(deviceZone)) {
    var yourTime = zoneNotice.getAttribute("data-your-time") || "({time})";
    var timeOnly = {hour: "numeric", minute: "2-digit"};
    var dayOnly = {year: "numeric", month: "numeric", day: "numeric"};
    document.querySelectorAll("time[datetime]:not([data-local])").forEach(function (el) {
      var value = el.getAttribute("datetime");
      if (value.indexOf("T") === -1 && value.indexOf(" ") === -1) return;  // a date without a time
      var when = new Date(value);
      if (isNaN(when)) return;
      function format(options, zone) {
        return new Intl.DateTimeFormat(pageLanguage, Object.assign({timeZone: zone}, options)).format(when);
      }
      var sameDay = format(dayOnly, pageZone) === format(dayOnly, deviceZone);
      var local = format(sameDay ? timeOnly : Object.assign({weekday: "short"}, dayOnly, timeOnly), deviceZone);
      if (format(timeOnly, pageZone) === format(timeOnly, deviceZone) && sameDay) return;
      var hint = document.createElement("small");
      hint.className = "local-time";
      hint.textContent = " " + yourTime.replace("{time}", local);
      el.insertAdjacentElement("afterend", hint);
    });

    // Someone without a zone of their own is offered the device's, until they dismiss the offer.
    var dismissedKey = "portal.timezoneNoticeDismissed";
    var saveUrl = zoneNotice.getAttribute("data-save-url");
    var dismissed = false;
    try { dismissed = window.localStorage.getItem(dismissedKey) === "1"; } catch (error) { /* private mode */ }
    if (saveUrl && !dismissed) {
      var fill = function (template) {
        return template.replace("{page}", pageZone.replace(/_/g, " ")).replace("{device}", deviceZone.replace(/_/g, " "));
      };
      zoneNotice.querySelector(".timezone-notice-text").textContent = fill(zoneNotice.getAttribute("data-message"));
      var use = zoneNotice.querySelector(".timezone-use");
      use.textContent = fill(zoneNotice.getAttribute("data-use-label"));
      zoneNotice.hidden = false;
      use.addEventListener("click", function () {
        use.disabled = true;
        var body = new URLSearchParams({timezone: deviceZone});
        fetch(saveUrl, {method: "POST", body: body, credentials: "same-origin",
                        headers: {"X-CSRFToken": csrfToken(zoneNotice)}}).then(function (response) {
          if (response.ok) { window.location.reload(); } else { use.disabled = false; }
        }, function () { use.disabled = false; });
      });
      zoneNotice.querySelector(".timezone-dismiss").addEventListener("click", function () {
        try { window.localStorage.setItem(dismissedKey, "1"); } catch (error) { /* private mode */ }
        zoneNotice.hidden = true;
      });
    }
  }

  // Copy buttons: data-copy-target names the input whose value goes to the clipboard.
  document.querySelectorAll("button[data-copy-target]").forEach(function (button) {
    var label = button.textContent;
    button.addEventListener("click", function () {
      var input = document.getElementById(button.getAttribute("data-copy-target"));
      if (!input) return;
      var done = function () {
        button.textContent = button.getAttribute("data-copied-text") || label;
        setTimeout(function () { button.textContent = label; }, 2000);
      };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(input.value).then(done, function () { input.select(); });
      } else {
        input.select();
      }
    });
  });

  // Group → role rows on the identity-provider page: add one from the <template>, remove any.
  var groupRows = document.querySelector("[data-group-rows]");
  var groupTemplate = document.getElementById("group-row-template");
  if (groupRows && groupTemplate) {
    groupRows.addEventListener("click", function (event) {
      var remove = event.target.closest("[data-remove-group-row]");
      if (remove) remove.closest("tr").remove();
    });
    document.querySelectorAll("[data-add-group-row]").forEach(function (button) {
      button.addEventListener("click", function () {
        groupRows.appendChild(groupTemplate.content.cloneNode(true));
        var inputs = groupRows.querySelectorAll("input[name=group_name]");
        inputs[inputs.length - 1].focus();
      });
    });
  }

  // Read-only fields with a link or address to copy select themselves when clicked.
  document.querySelectorAll("input.copy[readonly]").forEach(function (input) {
    input.addEventListener("click", function () { input.select(); });
  });

  // Forms whose fields depend on the provider: show only the fields, choices and notes the chosen
  // provider has (data-providers lists them), again whenever the choice changes. Without this
  // script every field shows, and the server ignores what the chosen provider does not use.
  document.querySelectorAll("form[data-provider-form]").forEach(function (form) {
    var select = form.querySelector("select[data-provider-select]");
    if (!select) return;
    function offered(el) {
      return el.getAttribute("data-providers").split(" ").indexOf(select.value) !== -1;
    }
    function apply() {
      form.querySelectorAll("[data-providers]").forEach(function (el) {
        var on = offered(el);
        el.hidden = !on;
        if (el.tagName === "OPTION") el.disabled = !on;
      });
      // A choice the provider does not offer gives way to the provider's default, or its first one.
      form.querySelectorAll("select").forEach(function (other) {
        var chosen = other.options[other.selectedIndex];
        if (!chosen || !chosen.disabled) return;
        var options = Array.prototype.filter.call(other.options, function (o) { return !o.disabled; });
        var preferred = options.filter(function (o) {
          return (o.getAttribute("data-default-for") || "").split(" ").indexOf(select.value) !== -1;
        });
        if (preferred.length || options.length) (preferred[0] || options[0]).selected = true;
      });
    }
    select.addEventListener("change", apply);
    apply();
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
        status.textContent = status.dataset.working;
        return navigator.mediaDevices.enumerateDevices();
      }).then(function (devices) {
        [[cameraSelect, "videoinput"], [micSelect, "audioinput"]].forEach(function (pair) {
          var select = pair[0], current = select.value;
          select.innerHTML = "";
          devices.filter(function (d) { return d.kind === pair[1]; }).forEach(function (d, i) {
            var option = new Option(d.label || (pair[1] === "videoinput" ? status.dataset.camera : status.dataset.microphone) + " " + (i + 1), d.deviceId);
            select.add(option);
          });
          if (current) select.value = current;
        });
      }).catch(function (error) {
        status.textContent = status.dataset.none.replace("{error}", error.name);
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
      status.textContent = status.dataset.unsupported;
    }
    joinForm.addEventListener("submit", function () {
      if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
    });
  }
})();

// The meeting page's forms: copy buttons, the interpreter's language only beside the interpreter role,
// and the filter over the members to invite.
(function () {
  "use strict";

  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var label = button.textContent;
    button.addEventListener("click", function () {
      var input = document.getElementById(button.getAttribute("data-copy"));
      if (!input) return;
      function copied() {
        button.textContent = button.getAttribute("data-copied");
        setTimeout(function () { button.textContent = label; }, 2000);
      }
      function byHand() { input.select(); document.execCommand("copy"); copied(); }
      if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(input.value).then(copied, byHand);
      else byHand();
    });
  });

  document.querySelectorAll("select[data-role-select]").forEach(function (role) {
    var form = role.form;
    function apply() {
      form.querySelectorAll("[data-show-when-role]").forEach(function (el) {
        (el.closest(".field") || el).hidden = el.getAttribute("data-show-when-role") !== role.value;
      });
    }
    role.addEventListener("change", apply);
    apply();
  });

  document.querySelectorAll("input[data-filter-list]").forEach(function (filter) {
    var list = document.getElementById(filter.getAttribute("data-filter-list"));
    var count = document.getElementById(filter.getAttribute("data-filter-count"));
    var selectShown = document.querySelector("button[data-select-shown='" + list.id + "']");
    function shown() {
      return Array.prototype.filter.call(list.querySelectorAll("label"), function (l) { return !l.parentNode.hidden; });
    }
    filter.addEventListener("input", function () {
      var words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
      list.querySelectorAll("label").forEach(function (label) {
        var text = label.textContent.toLowerCase();
        label.parentNode.hidden = !words.every(function (w) { return text.indexOf(w) !== -1; });
      });
      if (count) count.textContent = count.getAttribute("data-template").replace("{n}", shown().length);
    });
    if (selectShown) selectShown.addEventListener("click", function () {
      shown().forEach(function (label) { label.querySelector("input").checked = true; });
    });
  });
})();
