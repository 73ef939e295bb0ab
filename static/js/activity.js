// Other supervisors' activity on the board columns, and the open confirmation's freshness (issue 15).
//
// Reads: every second this board asks /board/activity what others are doing and writes it into
// each column head's [data-column-activity] (textContent: the lines carry user and ICWS text).
// Reports: while this supervisor has a move confirmation open, drags cards, or has aimed a
// selection at a campaign ("Move to" changed), it says so, again every heartbeat, and "stop" when
// that ends (also on leaving the page); the server forgets a report that is not renewed.
(function () {
  "use strict";

  var POLL_MS = 1000, HIDDEN_POLL_MS = 10000;
  var panel = null, lines = {}, sentAt = 0, heartbeatMs = 2000;
  var sent = JSON.stringify({ action: "stop" }); // nothing to stop at page load
  var dragging = null; // {count, sources} while a drag is under way
  var aimed = false;   // "Move to" was chosen for the current selection

  function $(selector, root) { return (root || document).querySelector(selector); }
  function $all(selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); }

  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; } catch (e) { return ""; }
  }

  // -- what others are doing --------------------------------------------------------------------

  function paint() {
    $all("#board-columns details[data-campaign-id]").forEach(function (column) {
      var slot = $("[data-column-activity]", column);
      if (!slot) { return; }
      var text = (lines[column.dataset.campaignId] || []).join("; ");
      if (slot.textContent !== text) { slot.textContent = text; }
      column.classList.toggle("column-busy", Boolean(text));
    });
  }

  function poll() {
    // redirect "manual": a session that ended answers with a redirect to the sign-in page; the
    // board's own poll turns that into the whole-page sign-in, this one just stops painting.
    fetch(panel.dataset.activityUrl, { credentials: "same-origin", redirect: "manual", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) {
        if (!body) { return; }
        lines = body.columns || {};
        heartbeatMs = (body.heartbeat_seconds || 2) * 1000;
        paint();
      })
      .catch(function () { /* the next poll tries again */ })
      .then(function () { window.setTimeout(poll, document.hidden ? HIDDEN_POLL_MS : POLL_MS); });
  }

  // -- what this supervisor is doing ------------------------------------------------------------

  // A pick is "column/agent/version", each part URL-quoted (board.js, board/moves.py).
  function summarise(picks) {
    var agents = new Set(), sources = new Set();
    picks.forEach(function (pick) {
      var parts = pick.split("/");
      if (parts.length !== 3) { return; }
      sources.add(decodeURIComponent(parts[0])); agents.add(parts[1]);
    });
    return { count: agents.size, sources: Array.from(sources) };
  }

  // board.js keeps the selection, cards of columns not made yet included (their boxes are not
  // on the page); the ticked boxes where it is not loaded.
  function selectedPicks() {
    if (window.boardSelection) { return window.boardSelection(); }
    return $all("#board-columns input[name=pick]:checked").map(function (box) { return box.value; });
  }

  function current() {
    var dialog = document.getElementById("move-dialog");
    var form = dialog && dialog.open && $("[data-move-confirm]", dialog);
    if (form) {
      var picks = ($("[data-move-picks]", form) || {}).value || "";
      var moving = summarise(picks.split(/\s+/).filter(Boolean));
      return { action: "moving", count: moving.count, sources: moving.sources, target: ($("[data-move-target-field]", form) || {}).value || "" };
    }
    if (dragging) { return { action: "dragging", count: dragging.count, sources: dragging.sources }; }
    var picked = selectedPicks();
    var select = $("[data-move-target]");
    if (aimed && picked.length && select) {
      var selection = summarise(picked);
      return { action: "selecting", count: selection.count, sources: selection.sources, target: select.value };
    }
    return { action: "stop" };
  }

  function send(state, leaving) {
    var body = new URLSearchParams();
    body.set("action", state.action);
    if (state.action !== "stop") {
      body.set("count", String(state.count));
      state.sources.slice(0, 50).forEach(function (s) { body.append("source", s); });
      if (state.target !== undefined) { body.set("target", state.target); }
    }
    // keepalive: the "stop" sent as the tab closes still reaches the server.
    fetch(panel.dataset.activityUrl, {
      method: "POST", body: body, credentials: "same-origin", redirect: "manual", keepalive: Boolean(leaving),
      headers: { "X-CSRFToken": csrfToken() }
    }).catch(function () { /* the heartbeat sends it again; a missed stop expires */ });
  }

  function report(leaving) {
    if (!panel || !$("[data-move-open]")) { return; } // a role that does not move reports nothing
    var state = current(), key = JSON.stringify(state), now = Date.now();
    if (key === sent && (state.action === "stop" || now - sentAt < heartbeatMs)) { return; }
    sent = key; sentAt = now;
    send(state, leaving);
  }

  // -- wiring -----------------------------------------------------------------------------------

  document.addEventListener("start", function (event) { // SortableJS: a drag began
    if (!event.target.matches || !event.target.matches("[data-cards]")) { return; }
    var card = event.item, picks = selectedPicks();
    var box = card && $("input[name=pick]", card);
    dragging = summarise(box && box.checked ? picks : [card ? card.dataset.pick : ""]);
    report();
  });
  document.addEventListener("end", function (event) {
    if (!event.target.matches || !event.target.matches("[data-cards]")) { return; }
    dragging = null;
    window.setTimeout(report, 0); // a drop opens the confirmation next: report that, not a stop
  });

  document.addEventListener("change", function (event) {
    if (event.target.closest("[data-move-target]")) { aimed = true; report(); }
    if (event.target.closest("#board-columns input[name=pick]")) {
      if (!selectedPicks().length) { aimed = false; }
      report();
    }
  });
  document.addEventListener("click", function () { window.setTimeout(report, 0); });

  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    if (!target) { return; }
    if (target.id === "board-columns") { paint(); } // the refresh rendered empty slots
    if (target.id === "move-dialog-body") { report(); }
  });

  // The open confirmation asks the server whether it is still current; a closed one does not.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (elt && elt.matches && elt.matches("[data-move-changes]")) {
      var dialog = elt.closest("dialog");
      if (dialog && !dialog.open) { event.preventDefault(); }
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    panel = $("[data-activity-url]");
    if (!panel) { return; }
    var dialog = document.getElementById("move-dialog");
    if (dialog) { dialog.addEventListener("close", function () { report(); }); }
    window.setInterval(report, 500); // heartbeats, and anything the events above missed
    window.addEventListener("pagehide", function () {
      if (sent && JSON.parse(sent).action !== "stop") { send({ action: "stop" }, true); }
    });
    poll();
  });
})();
