// The board: selection, filters, drag and drop (SortableJS), the move dialog, job outcomes.
// Hooks are data-* attributes in templates/board/*.html; the server renders all state, this
// file only keeps what the user is doing (selection, open columns) across the board's refreshes.
(function () {
  "use strict";

  var selected = new Set();      // data-pick values of selected cards (an agent in two columns is two)
  var closedColumns = new Map(); // campaign id -> open?, as the user left it
  var dragging = false;
  var lastClicked = null;

  function $(selector, root) { return (root || document).querySelector(selector); }
  function $all(selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); }
  function cards() { return $all("#board-columns [data-pick]"); }
  function dialog() { return document.getElementById("move-dialog"); }

  // -- selection ---------------------------------------------------------------------------------

  function setSelected(card, on) {
    var box = $("input[name=pick]", card);
    if (!box || box.disabled) { return; }
    box.checked = on;
    card.classList.toggle("selected", on);
    card.setAttribute("aria-selected", on ? "true" : "false");
    if (on) { selected.add(card.dataset.pick); } else { selected.delete(card.dataset.pick); }
  }

  function clearSelection() { cards().forEach(function (c) { setSelected(c, false); }); selected.clear(); updateCount(); }

  // A pick is "column/agent/version", each part URL-quoted: the agent part names the agent.
  function agentOf(pick) { return pick.split("/")[1]; }

  // Counts are in agents, as the move is: an agent picked in two columns moves once.
  function updateCount() {
    var agents = new Set(), onScreen = new Set();
    cards().forEach(function (c) {
      if (!selected.has(c.dataset.pick)) { return; }
      agents.add(agentOf(c.dataset.pick));
      if (shown(c)) { onScreen.add(agentOf(c.dataset.pick)); }
    });
    var n = agents.size;
    // Selected agents out of sight (filtered out, or in a closed column) still move with the
    // selection: say how many there are.
    var notes = [];
    if (selected.size !== n) { notes.push(selected.size + " cards"); }
    if (n - onScreen.size) { notes.push((n - onScreen.size) + " not shown"); }
    var label = $("[data-selection-count]");
    if (label) {
      label.textContent = n === 0 ? "No agents selected" :
        n + " selected" + (notes.length ? " (" + notes.join(", ") + ")" : "");
    }
  }

  function restoreSelection() {
    var still = new Set();
    cards().forEach(function (card) {
      var on = selected.has(card.dataset.pick);
      setSelected(card, on);
      if (on) { still.add(card.dataset.pick); }
    });
    selected = still; // cards that moved or vanished are no longer selected
    updateCount();
  }

  function onCardClick(event) {
    var card = event.target.closest("[data-pick]");
    if (!card || event.target.closest("a")) { return; }
    var box = $("input[name=pick]", card);
    if (!box || box.disabled) { return; }
    if (event.target === box) { // the checkbox toggles itself (mouse or Space): keep in step
      setSelected(card, box.checked); lastClicked = card; updateCount(); return;
    }
    if (event.target.closest("label")) { // its label toggles too, like ctrl-click
      event.preventDefault(); setSelected(card, !box.checked); lastClicked = card; updateCount(); return;
    }
    if (event.shiftKey && lastClicked && lastClicked.parentNode === card.parentNode) {
      var list = $all("[data-pick]", card.parentNode).filter(visible);
      var a = list.indexOf(lastClicked), b = list.indexOf(card);
      list.slice(Math.min(a, b), Math.max(a, b) + 1).forEach(function (c) { setSelected(c, true); });
    } else if (event.ctrlKey || event.metaKey) {
      setSelected(card, !box.checked);
    } else {
      var only = !(box.checked && selected.size === 1);
      clearSelection();
      setSelected(card, only);
    }
    lastClicked = card;
    updateCount();
  }

  // -- filters (instant, client-side; the server applies the same ones without JavaScript) -----

  function visible(card) { return !card.hidden; }
  // Accent- and case-insensitive, as the server's data-name ("jose" finds "José").
  function fold(text) { return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase(); }
  // On screen: neither the card nor its column is hidden by a filter, its column is open.
  function shown(card) { return !card.closest("[hidden]") && !card.closest("details:not([open])"); }

  function applyFilters() {
    var q = ($("[data-filter=q]") || {}).value || "";
    var group = ($("[data-filter=workgroup]") || {}).value || "";
    var presence = ($("[data-filter=presence]") || {}).value || "";
    var state = ($("[data-filter=state]") || {}).value || "";
    q = fold(q.trim());
    var filtering = Boolean(q || group || presence);
    $all("#board-columns details[data-campaign-id]").forEach(function (column) {
      var total = 0, matched = 0;
      $all("[data-pick]", column).forEach(function (card) {
        var show = (!q || card.dataset.name.indexOf(q) !== -1) &&
          (!group || card.dataset.workgroups.split("|").indexOf(group) !== -1) &&
          (!presence || card.dataset.presence === presence);
        if (card.hidden === show) { card.hidden = !show; }  // no style work for unchanged cards
        total += 1;
        if (show) { matched += 1; }
      });
      // As on the server: Unassigned has no state and stays.
      column.hidden = Boolean(state) && column.dataset.campaignId !== "" && column.dataset.state !== state;
      // A column none of whose agents match folds to its head, saying how many it holds.
      column.classList.toggle("column-nomatch", filtering && matched === 0 && total > 0);
      var note = $("[data-shown-note]", column);
      if (note) { note.textContent = filtering ? matched + " of " + total + " shown" : ""; }
    });
    updateCount();
    keepFiltersInUrl();
  }

  // The URL carries the filters (as the no-JavaScript form does), so a reload or a shared link
  // shows the same board; replaceState, not pushState: typing is not navigation.
  function keepFiltersInUrl() {
    var params = new URLSearchParams();
    $all("[data-filter]").forEach(function (el) { if (el.name && el.value) { params.set(el.name, el.value); } });
    var query = params.toString();
    var url = window.location.pathname + (query ? "?" + query : "");
    if (url !== window.location.pathname + window.location.search) {
      window.history.replaceState(window.history.state, "", url);
    }
  }

  // -- columns: keep the user's open/closed choice across refreshes -----------------------------

  function rememberColumns() {
    $all("#board-columns details[data-campaign-id]").forEach(function (d) {
      closedColumns.set(d.dataset.campaignId, d.open);
    });
  }

  function restoreColumns() {
    $all("#board-columns details[data-campaign-id]").forEach(function (d) {
      if (closedColumns.has(d.dataset.campaignId)) { d.open = closedColumns.get(d.dataset.campaignId); }
    });
  }

  // -- drag and drop -----------------------------------------------------------------------------

  function initSortable() {
    if (!window.Sortable || !$("[data-move-open]")) { return; } // no mover role: nothing to drag
    $all("#board-columns [data-cards]").forEach(function (list) {
      window.Sortable.create(list, {
        group: "board",
        sort: false,
        draggable: "[data-pick]",
        filter: ".pending, input",
        preventOnFilter: false,
        onStart: function (evt) { dragging = true; evt.item.classList.add("dragging"); },
        onEnd: onDrop
      });
    });
  }

  function onDrop(evt) {
    dragging = false;
    var card = evt.item;
    card.classList.remove("dragging");
    var from = evt.from, to = evt.to;
    // Put the card back: the server renders where it goes, once the move is confirmed.
    from.insertBefore(card, from.children[evt.oldIndex] || null);
    if (from === to) { return; }
    var picks = selected.has(card.dataset.pick) ? Array.from(selected) : [card.dataset.pick];
    var target = to.dataset.campaignId;
    var quick = evt.originalEvent && evt.originalEvent.altKey && picks.length === 1;
    openPreview(picks, target, quick);
  }

  var quickSubmit = false; // a drop with Alt held: submit a single move without confirming

  // A POST with the picks in one field: a GET of 1,000 picks is a 414 from gunicorn, and one
  // field per pick meets Django's 1,000-field limit. The CSRF header comes from <body hx-headers>.
  function openPreview(picks, target, quick) {
    quickSubmit = quick;
    window.htmx.ajax("POST", $("[data-move-open]").getAttribute("formaction"), {
      target: "#move-dialog-body", swap: "innerHTML", values: { picks: picks.join("\n"), target: target }
    });
  }

  // -- the move dialog ---------------------------------------------------------------------------

  function showDialog() {
    var d = dialog();
    if (!d.open) { d.showModal(); }
    var focus = $("#move-dialog-body [autofocus]") || $("#move-dialog-body [data-dialog-close]");
    if (focus) { focus.focus(); }
  }

  function closeDialog() { var d = dialog(); if (d && d.open) { d.close(); } }

  // After settling, not swapping: htmx wires up hx-* attributes of new content in the settle
  // step, and an Enter pressed before that would submit the dialog's form without htmx.
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    if (!target) { return; }
    if (target.id === "board-columns") {
      restoreColumns(); restoreSelection(); applyFilters(); initSortable();
    }
    if (target.id === "move-dialog-body") {
      var form = $("#move-dialog-body [data-move-confirm]");
      if (quickSubmit && form) { quickSubmit = false; window.htmx.trigger(form, "submit"); return; }
      showDialog();
    }
    if (target.id === "jobs-live") {
      var empty = $("[data-jobs-empty]"); if (empty) { empty.remove(); }
    }
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    // A refresh in the middle of a drag would pull the card from under the pointer.
    if (elt && elt.id === "board-columns") {
      if (dragging) { event.preventDefault(); return; }
      rememberColumns();
    }
  });

  document.body.addEventListener("jobSubmitted", function (event) {
    closeDialog();
    var detail = event.detail || {};
    window.dashboard.announce(detail.created === false ? "That move was already submitted." : "Move submitted; waiting for ICWS.", "info");
    selected.clear(); updateCount();
    window.htmx.trigger(document.body, "boardRefresh");
  });

  document.body.addEventListener("jobFinished", function (event) {
    var detail = event.detail || {};
    window.dashboard.announce(detail.message || "A move finished.", detail.status === "succeeded" ? "success" : "error");
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-dialog-close]") && dialog() && dialog().open) {
      event.preventDefault(); closeDialog();
    }
    if (event.target.closest("[data-select-all]")) {
      cards().filter(shown).forEach(function (c) { setSelected(c, true); });
      updateCount();
    }
    var columnButton = event.target.closest("[data-select-column]");
    if (columnButton) {
      $all("[data-pick]", columnButton.closest("details")).filter(shown).forEach(function (c) { setSelected(c, true); });
      updateCount();
    }
    if (event.target.closest("[data-move-open]")) {
      event.preventDefault(); // the no-JavaScript GET; the selection is posted instead
      openPreview(Array.from(selected), ($("[data-move-target]") || {}).value || "", false);
    }
    if (event.target.closest("[data-select-none]")) { clearSelection(); }
    if (event.target.closest("#board-columns [data-pick]")) { onCardClick(event); }
  });

  document.addEventListener("change", function (event) {
    if (event.target.closest("[data-filter]")) { applyFilters(); }
  });
  document.addEventListener("input", function (event) {
    if (event.target.closest("[data-filter=q]")) { applyFilters(); }
  });

  // The filter form must not submit (and reload) when JavaScript filters in place; the
  // "Move…" button is handled by htmx.
  document.addEventListener("submit", function (event) {
    if (event.target.matches("[data-board-form]")) { event.preventDefault(); }
  });

  document.addEventListener("DOMContentLoaded", function () {
    applyFilters(); initSortable(); updateCount();
  });
})();
