// Live updates of a ticket page: every 3 s, fetch what is new since the last poll and append it.
// Text goes in with textContent only, never innerHTML: customer messages are untrusted.
(function () {
  "use strict";
  var poller = document.getElementById("poller");
  var messages = document.getElementById("messages");
  var transcript = document.getElementById("transcript");
  if (!poller || !messages || !transcript) return;
  var url = poller.getAttribute("data-url");
  var last = parseInt(messages.getAttribute("data-last"), 10) || 0;
  var count = parseInt(transcript.getAttribute("data-count"), 10) || 0;

  function line(list, sender, text, at) {
    var item = document.createElement("li");
    item.className = "from-" + sender.replace(/[^a-z]/g, "");
    var who = document.createElement("span");
    who.className = "who";
    who.textContent = sender;
    var when = document.createElement("time");
    when.textContent = at ? new Date(at).toISOString().slice(0, 16).replace("T", " ") + " UTC" : "";
    var body = document.createElement("p");
    body.textContent = text;
    item.append(who, " ", when, body);
    list.appendChild(item);
  }

  function poll() {
    fetch(url + "?after=" + last + "&events_after=" + count, { credentials: "same-origin" })
      .then(function (answer) {
        if (answer.status === 401) { window.location = "/login"; return null; }
        return answer.ok ? answer.json() : null;
      })
      .then(function (data) {
        if (!data) return;
        data.messages.forEach(function (m) { line(messages, m.sender, m.text, m.at); last = m.id; });
        if (data.transcript) {
          data.transcript.forEach(function (m) { line(transcript, m.sender, m.text, m.at); });
          count = data.transcript_length;
        }
        var status = document.getElementById("status");
        if (status && status.textContent !== data.status) status.textContent = data.status;
      })
      .catch(function () { /* offline for a moment; the next poll retries */ })
      .finally(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 3000);
})();
