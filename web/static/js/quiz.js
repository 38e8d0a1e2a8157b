// A quiz attempt: autosaves each answer as it changes and counts the time down. Progressive:
// without JavaScript the page's buttons save and submit, and the server enforces the time anyway.
(function () {
  var form = document.getElementById("attempt-form");
  if (!form) return;
  var status = document.getElementById("save-status");
  var token = form.querySelector("input[name=csrf_token]").value;
  var url = form.dataset.answersUrl;
  var timers = {};

  function say(key) { if (status) status.textContent = status.dataset[key] || ""; }

  function answerOf(box) {
    var pos = box.dataset.position, type = box.dataset.type, name = "q" + pos;
    if (type === "match") {
      var pairs = {};
      box.querySelectorAll("select").forEach(function (s) {
        pairs[s.name.slice(name.length + 1)] = s.value;
      });
      return pairs;
    }
    var inputs = box.querySelectorAll("[name='" + name + "']");
    if (type === "multichoice" && box.querySelector("input[type=checkbox]")) {
      var chosen = [];
      inputs.forEach(function (i) { if (i.checked) chosen.push(i.value); });
      return chosen;
    }
    if (inputs.length && (inputs[0].type === "radio")) {
      var picked = "";
      inputs.forEach(function (i) { if (i.checked) picked = i.value; });
      return picked;
    }
    return inputs.length ? inputs[0].value : "";
  }

  function save(box, tries) {
    var answers = {};
    answers[box.dataset.position] = answerOf(box);
    say("saving");
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token, Accept: "application/json" },
      body: JSON.stringify({ answers: answers })
    }).then(function (r) {
      if (r.ok) { say("saved"); return; }
      if (r.status === 409) { window.location.reload(); return; }
      throw new Error(String(r.status));
    }).catch(function () {
      say("failed");
      if ((tries || 0) < 5) setTimeout(function () { save(box, (tries || 0) + 1); }, 3000);
    });
  }

  form.querySelectorAll("fieldset.question").forEach(function (box) {
    if (box.disabled) return;
    function later() {
      clearTimeout(timers[box.id]);
      timers[box.id] = setTimeout(function () { save(box, 0); }, 400);
    }
    box.addEventListener("change", later);
    box.addEventListener("input", later);
  });

  var timer = document.getElementById("timer");
  if (!timer) return;
  var value = document.getElementById("timer-value");
  var ends = Date.now() + 1000 * parseInt(timer.dataset.remaining, 10);
  function tick() {
    var left = Math.max(0, Math.round((ends - Date.now()) / 1000));
    var s = left % 60;
    value.textContent = Math.floor(left / 60) + ":" + (s < 10 ? "0" : "") + s;
    if (left === 0) { say("over"); form.submit(); return; }
    setTimeout(tick, 1000);
  }
  tick();
  // Resume with the server's time: another tab, a sleep, a clock change.
  setInterval(function () {
    fetch(timer.dataset.stateUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) {
        if (!s) return;
        if (s.finished) { window.location.reload(); return; }
        if (s.remaining_seconds !== null) ends = Date.now() + 1000 * s.remaining_seconds;
      }).catch(function () {});
  }, 30000);
})();
