// The board: selection, filters, drag and drop (SortableJS), the move dialog, job outcomes.
// Hooks are data-* attributes in templates/board/*.html; the server renders all state, this
// file only keeps what the user is doing (selection, open columns, density) across the board's
// refreshes, and counts each card's time in state between them.
(function () {
  "use strict";

  // htmx looks for hx-on:* attributes with one XPath, .//*[@*[starts-with(name(), "hx-on:")...]],
  // over the body at load and over every swapped-in board. Chromium answers an attribute step by
  // making an Attr node for every attribute it looks at, and keeps each on its element for the
  // element's life: 47,000 of them on a 5,000-agent board, renderer RSS 17 MB larger (bench/
  // board_render.py: 226 -> 209 MB, private 90 -> 71 MB). The same search by attribute names
  // (getAttributeNames() makes no nodes), in the same order. htmx's is the only XPath on these
  // pages (it calls evaluate(context) with no other argument); any other call is the browser's.
  var HX_ON = ["hx-on:", "data-hx-on:", "hx-on-", "data-hx-on-"];
  var xpathEvaluate = window.XPathExpression && XPathExpression.prototype.evaluate;
  function hasHxOn(el) {
    var names = el.getAttributeNames();
    for (var i = 0; i < names.length; i++) {
      for (var j = 0; j < HX_ON.length; j++) { if (names[i].lastIndexOf(HX_ON[j], 0) === 0) { return true; } }
    }
    return false;
  }
  // A column's markup is written by board_heads.py and board_cards.py, which put no hx-on:* on
  // it (tests/dashboard/board/test_board_heads.py checks): its subtree, nearly every element of
  // the board, is not walked. Each element a walk visits gets a JavaScript wrapper, and keeps it
  // as long as it lives: 50,000 of them on a 5,000-agent board.
  function skipColumns(el) {
    return el.tagName === "DETAILS" && el.hasAttribute("data-campaign-id") ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT;
  }
  if (xpathEvaluate) {
    XPathExpression.prototype.evaluate = function (context) {
      if (arguments.length !== 1 || !context) { return xpathEvaluate.apply(this, arguments); }
      var found = [], el, at = 0;
      var walker = document.createTreeWalker(context, NodeFilter.SHOW_ELEMENT, skipColumns);
      while ((el = walker.nextNode())) { if (hasHxOn(el)) { found.push(el); } }
      return { iterateNext: function () { return at < found.length ? found[at++] : null; } };
    };
  }

  var selected = new Set();      // pick values (checkbox values) of selected cards (an agent in two columns is two)
  var closedColumns = new Map(); // campaign id -> open?, as the user left it
  var dragging = false;
  var lastClicked = null;
  // Rebuilt from the DOM after every render of the columns (index()): 6,000 cards are too many
  // to query on every keystroke.
  var model = emptyModel();
  var clockOffset = 0;           // local clock minus the server's, seconds

  function $(selector, root) { return (root || document).querySelector(selector); }
  function $all(selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); }
  function dialog() { return document.getElementById("move-dialog"); }
  function boxOf(card) { return card.querySelector("input[name=pick]"); }
  function pickOf(card) { return boxOf(card).value; }
  // Class and data attributes are read with className and getAttribute, not classList and
  // dataset: those make each card two objects more (and their wrappers), kept as long as it
  // lives, 6,000 times (renderer about 7 MB larger at 5,000 agents, bench/board_render.py).
  function hasClass(el, word) { return (" " + el.className + " ").indexOf(" " + word + " ") !== -1; }

  // Per card, in the order of cards (all columns, one after another): its column's place in
  // columns, when its state began (epoch seconds by the server's clock, NaN: unknown), the
  // minute data-t shows and its search key (folded when idle). byAgent: agent id -> its card's
  // place in cards, or the places when it is in several columns. byPick: built once a card is
  // selected (a checkbox's value is only needed then).
  function emptyModel() {
    return { columns: [], cards: [], colOf: [], since: [], minute: [], keys: [], byAgent: new Map(), byPick: null };
  }
  function places(agentId) {
    var at = model.byAgent.get(agentId);
    return at === undefined ? [] : typeof at === "number" ? [at] : at;
  }
  function cardOfPick(value) {
    if (!model.byPick) {
      model.byPick = new Map();
      model.cards.forEach(function (card) { model.byPick.set(pickOf(card), card); });
    }
    return model.byPick.get(value);
  }

  // One query per column for its cards, and nothing but attributes read from each.
  function index() {
    var root = document.getElementById("board-columns");
    model = emptyModel();
    model.ready = true;
    if (!root) { return; }
    // The server's clock now (data-now) and when the columns were rendered (they may come
    // from the server's cache): cards say how long before that (data-s) their state began.
    var serverNow = Number(root.dataset.now || Date.now() / 1000);
    var stamp = $("[data-rendered-at]", root);
    var renderedAt = stamp ? Number(stamp.dataset.renderedAt) : serverNow;
    clockOffset = Date.now() / 1000 - serverNow;
    $all("details[data-campaign-id]", root).forEach(function (column) {
      var list = column.querySelectorAll("li[data-agent-id]"), n = list.length, c = model.columns.length;
      // Per card, in step with cards: whether the server left it out (workgroup) and whether it
      // is shown, so a keystroke reads no attributes. start: its first card's place in cards.
      var entry = { el: column, start: model.cards.length, cards: new Array(n), out: new Array(n),
        shown: new Array(n), note: $("[data-shown-note]", column), lazy: Boolean($("[data-lazy]", column)) };
      for (var i = 0; i < n; i++) {
        var card = list[i], at = model.cards.length;
        entry.cards[i] = card;
        entry.out[i] = hasClass(card, "wg-out");
        entry.shown[i] = !card.hidden;
        model.cards.push(card); model.colOf.push(c); model.keys.push(undefined);
        var s = card.getAttribute("data-s");
        model.since.push(s === null ? NaN : renderedAt - Number(s));
        model.minute.push(s === null ? -1 : Math.floor(Number(s) / 60)); // what the server wrote
        var id = card.getAttribute("data-agent-id"), had = model.byAgent.get(id);
        if (had === undefined) { model.byAgent.set(id, at); } else if (typeof had === "number") { model.byAgent.set(id, [had, at]); } else { had.push(at); }
      }
      model.columns.push(entry);
    });
  }
  function ensureIndex() { if (!model.ready) { index(); } }

  // -- time in state: counted here between renders, from the server's clock ---------------------
  // A card shows it from its data-t attribute (CSS ::after), not a child element: 12,000 nodes
  // fewer at 5,000 agents.

  // As the server formats it (templatetags/board_cards.py elapsed()).
  function elapsed(seconds) {
    if (seconds < 60) { return "<1m"; }
    var minutes = Math.floor(seconds / 60);
    if (minutes < 60) { return minutes + "m"; }
    var rest = minutes % 60;
    return Math.floor(minutes / 60) + "h" + (rest < 10 ? "0" : "") + rest;
  }

  function tick() {
    var now = Date.now() / 1000 - clockOffset;
    var cards = model.cards, since = model.since, minute = model.minute;
    for (var i = 0; i < cards.length; i++) {
      if (since[i] !== since[i]) { continue; } // NaN: no clock on this card
      var m = Math.floor(Math.max(0, Math.floor(now - since[i])) / 60);
      if (m !== minute[i]) { minute[i] = m; cards[i].setAttribute("data-t", elapsed(m * 60)); }
    }
  }

  // -- presence: patched in place when only presence changed (the poll's JSON answer) ------------
  // A presence-only change answers {rev, agents: [{id, presence, status, on_phone, since}]}
  // (views/board.py): every card of each agent, in every column, and those columns' totals are
  // updated here, so selection, focus and scroll stay as they are. The markup mirrors CARD in
  // templatetags/board_cards.py.

  var PRESENCES = ["available", "on-call", "away", "offline"];

  function patchCard(at, agent) {
    var card = model.cards[at];
    PRESENCES.forEach(function (word) { card.classList.toggle(word, word === agent.presence); });
    var status = $("small", card);
    if (status) { status.textContent = agent.status || ""; }
    var onCall = $(".oc", card);
    if (agent.on_phone && !onCall && status) {
      onCall = document.createElement("span");
      onCall.className = "oc"; onCall.setAttribute("role", "img");
      onCall.setAttribute("aria-label", "on a call"); onCall.title = "On a call"; onCall.textContent = "\u260e";
      status.after(onCall);
    } else if (!agent.on_phone && onCall) { onCall.remove(); }
    if (agent.since === null || agent.since === undefined) { return; }
    model.since[at] = agent.since; model.minute[at] = -1; // tick() writes data-t
  }

  function countTotals(entry) {
    var counts = { on_call: 0, available: 0, away: 0, offline: 0 };
    entry.cards.forEach(function (card) {
      for (var i = 0; i < PRESENCES.length; i++) {
        if (hasClass(card, PRESENCES[i])) { counts[PRESENCES[i].replace("-", "_")] += 1; break; }
      }
    });
    return counts;
  }

  // counts: as the server's Column.totals; a collapsed column's come from the delta (no cards here).
  function patchTotals(entry, counts) {
    var totals = $("[data-totals]", entry.el);
    if (totals) {
      var spans = totals.children;
      spans[0].textContent = counts.on_call; spans[1].textContent = counts.available; spans[2].textContent = counts.away;
      totals.setAttribute("aria-label", counts.on_call + " on a call, " + counts.available + " available, " + counts.away + " away");
    }
    var staffing = $("[data-staffing]", entry.el);
    if (staffing) {
      var target = Number(staffing.textContent.split("/")[1]);
      var headcount = counts.on_call + counts.available + counts.away + counts.offline;
      var loggedIn = headcount - counts.offline;
      staffing.textContent = loggedIn + "/" + target;
      staffing.classList.toggle("under", loggedIn < target);
      staffing.title = loggedIn + " logged in, staffing target " + target + " (set by an admin)";
    }
  }

  function applyPresence(delta) {
    var touched = new Set();
    (delta.agents || []).forEach(function (agent) {
      places(agent.id).forEach(function (at) { patchCard(at, agent); touched.add(model.columns[model.colOf[at]]); });
    });
    touched.forEach(function (entry) { patchTotals(entry, countTotals(entry)); });
    var counted = delta.columns || {};
    model.columns.forEach(function (entry) {
      if (entry.lazy && counted[entry.el.dataset.campaignId]) { patchTotals(entry, counted[entry.el.dataset.campaignId]); }
    });
    var root = document.getElementById("board-columns");
    if (root && delta.rev) { root.setAttribute("hx-vals", JSON.stringify({ rev: delta.rev })); }
    if (!touched.size) { return; }
    // Only the presence filter reads what was patched; the others need no pass over 6,000 cards.
    if (($("[data-filter=presence]") || {}).value) { applyFilters(); }
    tick();
  }

  // -- selection ---------------------------------------------------------------------------------

  function setSelected(card, on) {
    var box = boxOf(card);
    if (!box || box.disabled) { return; }
    box.checked = on;
    card.classList.toggle("selected", on);
    if (on) { selected.add(box.value); } else { selected.delete(box.value); }
  }

  function clearSelection() {
    selected.forEach(function (pick) { var card = cardOfPick(pick); if (card) { setSelected(card, false); } });
    selected.clear(); updateCount();
  }

  // A pick is "column/agent/version", each part URL-quoted: the agent part names the agent.
  function agentOf(pick) { return pick.split("/")[1]; }

  // Counts are in agents, as the move is: an agent picked in two columns moves once.
  function updateCount() {
    var agents = new Set(), onScreen = new Set();
    selected.forEach(function (pick) {
      agents.add(agentOf(pick));
      var card = cardOfPick(pick);
      if (card && shown(card)) { onScreen.add(agentOf(pick)); }
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
    selected.forEach(function (pick) {
      var card = cardOfPick(pick);
      if (!card) { return; } // moved or vanished: no longer selected
      setSelected(card, true);
      if (selected.has(pick) && !boxOf(card).disabled) { still.add(pick); }
    });
    selected = still;
    updateCount();
  }

  function onCardClick(event) {
    ensureIndex();
    var card = event.target.closest("[data-agent-id]");
    if (!card) { return; }
    // The name is a link to the agent's page, and most of a one-line card: a click selects,
    // a double click (or Enter on the link, or a middle click) opens the page.
    if (event.target.closest("a")) {
      if (event.detail === 0) { return; } // Enter on the focused link: follow it
      event.preventDefault();
    }
    var box = boxOf(card);
    if (!box || box.disabled) { return; }
    if (event.target === box) { // the checkbox toggles itself (mouse or Space): keep in step
      setSelected(card, box.checked); lastClicked = card; updateCount(); return;
    }
    if (event.target.closest("label") && !event.target.closest("a")) { // its label toggles too, like ctrl-click
      event.preventDefault(); setSelected(card, !box.checked); lastClicked = card; updateCount(); return;
    }
    if (event.shiftKey && lastClicked && lastClicked.parentNode === card.parentNode) {
      var list = $all("[data-agent-id]", card.parentNode).filter(visible);
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
  // Accent- and case-insensitive, as the server's fold() ("jose" finds "José").
  function fold(text) { return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase(); }
  // What the search matches, as on the server: name and id. Folded once per card and render.
  function searchKey(at) {
    var key = model.keys[at];
    if (key === undefined) {
      var card = model.cards[at];
      key = model.keys[at] = fold(card.querySelector("a").textContent + " " + card.getAttribute("data-agent-id"));
    }
    return key;
  }
  // On screen: neither the card nor its column is hidden by a filter, its column is open.
  function shown(card) {
    var column = card.closest("details");
    return !card.hidden && !column.hidden && column.open && !column.classList.contains("column-nomatch");
  }

  // What the last pass filtered by: typing on narrows the search, and a card that did not
  // match then cannot match now, so only the shown cards are looked at again.
  var lastFilter = null;

  function applyFilters() {
    ensureIndex();
    var q = ($("[data-filter=q]") || {}).value || "";
    var presence = ($("[data-filter=presence]") || {}).value || "";
    var state = ($("[data-filter=state]") || {}).value || "";
    q = fold(q.trim());
    // The workgroup filter is the server's (cards it leaves out are marked wg-out): changing it
    // asks for the board again.
    var filtering = Boolean(q || presence || ($("[data-filter=workgroup]") || {}).value);
    var narrowing = lastFilter !== null && lastFilter.model === model && lastFilter.presence === presence &&
      lastFilter.q !== null && q.indexOf(lastFilter.q) !== -1;
    // A presence patch may have changed what the presence filter matches: look at every card then.
    lastFilter = { model: model, q: presence ? null : q, presence: presence };
    model.columns.forEach(function (column) {
      var cards = column.cards, shownNow = column.shown, out = column.out;
      var total = cards.length, matched = 0;
      // Reads first, then only the writes that change something (no layout read in the loop).
      for (var i = 0; i < total; i++) {
        if (narrowing && !shownNow[i]) { continue; }
        var card = cards[i];
        var show = !out[i] && (!q || searchKey(column.start + i).indexOf(q) !== -1) &&
          (!presence || hasClass(card, presence));
        if (shownNow[i] !== show) { card.hidden = !show; shownNow[i] = show; }
        if (show) { matched += 1; }
      }
      var el = column.el;
      // As on the server: Unassigned has no state and stays.
      var hide = Boolean(state) && el.dataset.campaignId !== "" && el.dataset.state !== state;
      if (el.hidden !== hide) { el.hidden = hide; }
      // A column none of whose agents match folds to its head, saying how many it holds.
      el.classList.toggle("column-nomatch", filtering && matched === 0 && total > 0);
      var text = !filtering ? "" : column.lazy ? "closed: not searched" : matched + " of " + total + " shown";
      if (column.note && column.note.textContent !== text) { column.note.textContent = text; }
    });
    updateCount();
    keepFiltersInUrlSoon();
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

  // Once typing pauses: Chromium's replaceState costs tens of milliseconds on a 5,000-agent
  // board (measured 68 ms), more than the filtering itself. Leaving the page writes it at once.
  var urlTimer = null;
  function keepFiltersInUrlSoon() {
    if (urlTimer) { window.clearTimeout(urlTimer); }
    urlTimer = window.setTimeout(function () { urlTimer = null; keepFiltersInUrl(); }, 300);
  }
  window.addEventListener("pagehide", function () {
    if (urlTimer) { window.clearTimeout(urlTimer); urlTimer = null; keepFiltersInUrl(); }
  });

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

  // -- collapsed columns: rendered when opened -------------------------------------------------

  // Off and completed campaigns' cards are not on the page until their column is opened (they
  // would be a fifth of a 5,000-agent board). Opening one asks for the board with it rendered;
  // the hidden "open" field (sent with every refresh) keeps it rendered from then on.
  var forceRefresh = false;
  var refreshAfterDrag = false;

  function openedField() { return $("[data-filter=open]"); }

  function setOpened(id, on) {
    var field = openedField();
    if (!field) { return; }
    var ids = field.value ? field.value.split("\n") : [];
    var at = ids.indexOf(id);
    if (on && at === -1) { ids.push(id); } else if (!on && at !== -1) { ids.splice(at, 1); } else { return; }
    field.value = ids.join("\n");
    keepFiltersInUrl();
  }

  document.addEventListener("toggle", function (event) {
    var column = event.target;
    if (!column.matches || !column.matches("#board-columns details[data-campaign-id]")) { return; }
    if (!column.classList.contains("column-off")) { return; } // only these start collapsed
    // Kept rendered while open, empty or not: a move into it must show its new cards.
    setOpened(column.dataset.campaignId, column.open);
    if (column.open && $("[data-lazy]", column)) {
      if (dragging) { refreshAfterDrag = true; return; } // a refresh now would end the drag
      forceRefresh = true;
      window.htmx.trigger(document.body, "boardRefresh");
    }
  }, true); // toggle does not bubble

  document.addEventListener("htmx:configRequest", function (event) {
    if (forceRefresh && event.detail.elt && event.detail.elt.id === "board-columns") {
      forceRefresh = false;
      event.detail.parameters.rev = ""; // not "current": the server renders the opened column
    }
  });

  document.addEventListener("click", function (event) {
    // The link is the no-JavaScript way to the agents (the campaign's page); here, open the column.
    var link = event.target.closest("[data-lazy-link]");
    if (link) { event.preventDefault(); link.closest("details").open = true; }
  });

  // -- drag and drop -----------------------------------------------------------------------------

  var overColumn = null; // the column under the pointer during a drag (its head included)

  // SortableJS is wired to the lists when a pointer first goes down on a card, not at load and
  // after every refresh: its 200 instances hold about 5,000 bound functions and 1,400 listeners
  // (renderer about 2.5 MB at 5,000 agents, bench/board_render.py), which a board only watched,
  // or used from the keyboard, never needs. Wired in the capture phase of that pointerdown, so
  // SortableJS's own listener on the list still receives it and the drag starts as before.
  var sortableWired = false;
  function initSortable() { sortableWired = false; }
  function wireSortable() {
    if (sortableWired) { return; }
    sortableWired = true;
    if (!window.Sortable || !$("[data-move-open]")) { return; } // no mover role: nothing to drag
    $all("#board-columns [data-cards]").forEach(function (list) {
      window.Sortable.create(list, {
        group: "board",
        sort: false,
        draggable: "[data-agent-id]",
        filter: ".pending, input",
        preventOnFilter: false,
        onStart: function (evt) { dragging = true; overColumn = null; hovered = null; evt.item.classList.add("dragging"); },
        onEnd: onDrop
      });
    });
  }

  // A closed column (off, completed, folded by a filter, or closed by hand) shows no list to drop
  // into: a drop on its head counts as a drop on it, and holding a card over the head for a
  // moment opens it. Not at once: opening moves every column below, and the one aimed at with it.
  var OPEN_AFTER_MS = 600;
  var hovered = null, hoveredSince = 0;
  document.addEventListener("dragover", function (event) {
    if (!dragging) { return; }
    var column = event.target.closest && event.target.closest("#board-columns details[data-campaign-id]");
    overColumn = column;
    if (!column) { hovered = null; return; }
    var closed = !column.open || column.classList.contains("column-nomatch") && !column.classList.contains("column-dropopen");
    if (!closed) { return; }
    if (hovered !== column) { hovered = column; hoveredSince = Date.now(); return; }
    if (Date.now() - hoveredSince < OPEN_AFTER_MS) { return; }
    if (!column.open) { column.open = true; closedColumns.set(column.dataset.campaignId, true); }
    column.classList.add("column-dropopen");
  });

  function onDrop(evt) {
    dragging = false;
    if (refreshAfterDrag) {
      refreshAfterDrag = false; forceRefresh = true;
      window.setTimeout(function () { window.htmx.trigger(document.body, "boardRefresh"); }, 0);
    }
    var card = evt.item;
    card.classList.remove("dragging");
    $all("#board-columns .column-dropopen").forEach(function (c) { c.classList.remove("column-dropopen"); });
    var from = evt.from, to = evt.to;
    // Put the card back: the server renders where it goes, once the move is confirmed.
    from.insertBefore(card, from.children[evt.oldIndex] || null);
    var target;
    if (from !== to) {
      target = to.dataset.campaignId;
    } else if (overColumn && overColumn.dataset.campaignId !== from.dataset.campaignId) {
      target = overColumn.dataset.campaignId; // dropped on a column's head
    } else {
      return;
    }
    var pick = pickOf(card);
    var picks = selected.has(pick) ? Array.from(selected) : [pick];
    var quick = evt.originalEvent && evt.originalEvent.altKey && picks.length === 1;
    openPreview(picks, target, quick);
  }

  // -- card density: compact or comfortable, remembered (the server renders the page in it) ------

  function toggleDensity(button) {
    var layout = $(".board-layout");
    var comfortable = layout.dataset.density !== "comfortable";
    layout.dataset.density = comfortable ? "comfortable" : "compact";
    button.setAttribute("aria-pressed", comfortable ? "true" : "false");
    document.cookie = "board_density=" + layout.dataset.density + "; path=/; SameSite=Lax; max-age=31536000";
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
      index(); restoreColumns(); restoreSelection(); applyFilters(); initSortable(); tick(); foldKeysWhenIdle();
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

  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr, target = event.detail.target;
    if (!target || target.id !== "board-columns") { return; }
    // A refresh sent just before a drag began, answered during it: swapping now would pull the
    // card from under the pointer and lose the drop. Fetch again once the card is dropped.
    if (dragging) { event.detail.shouldSwap = false; refreshAfterDrag = true; return; }
    if (!xhr || xhr.getResponseHeader("X-Board-Delta") !== "presence") { return; }
    event.detail.shouldSwap = false;
    try { applyPresence(JSON.parse(xhr.responseText)); } catch (err) { forceRefresh = true; } // the next poll re-renders
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
      ensureIndex();
      model.cards.filter(shown).forEach(function (c) { setSelected(c, true); });
      updateCount();
    }
    var columnButton = event.target.closest("[data-select-column]");
    if (columnButton) {
      $all("[data-agent-id]", columnButton.closest("details")).filter(shown).forEach(function (c) { setSelected(c, true); });
      updateCount();
    }
    var densityButton = event.target.closest("[data-density-toggle]");
    if (densityButton) { toggleDensity(densityButton); }
    if (event.target.closest("[data-move-open]")) {
      event.preventDefault(); // the no-JavaScript GET; the selection is posted instead
      openPreview(Array.from(selected), ($("[data-move-target]") || {}).value || "", false);
    }
    if (event.target.closest("[data-select-none]")) { clearSelection(); }
    if (event.target.closest("#board-columns [data-agent-id]")) { onCardClick(event); }
  });

  document.addEventListener("dblclick", function (event) {
    var link = event.target.closest("#board-columns [data-agent-id] a");
    if (link) { window.location.assign(link.href); }
  });

  // activity.js reports a drag by the dragged card's data-pick: set it as the pointer goes
  // down, rather than on all 6,000 cards.
  function pressed(event) {
    var card = event.target.closest && event.target.closest("#board-columns [data-agent-id]");
    if (!card) { return; }
    wireSortable();
    if (!card.dataset.pick) { card.dataset.pick = pickOf(card); }
  }
  document.addEventListener("pointerdown", pressed, true);
  document.addEventListener("mousedown", pressed, true);
  document.addEventListener("touchstart", pressed, { capture: true, passive: true });

  document.addEventListener("change", function (event) {
    if (event.target.closest("[data-filter=workgroup]")) {
      keepFiltersInUrl(); forceRefresh = true; window.htmx.trigger(document.body, "boardRefresh");
    } else if (event.target.closest("[data-filter]")) { applyFilters(); }
  });
  document.addEventListener("input", function (event) {
    if (event.target.closest("[data-filter=q]")) { applyFilters(); }
  });

  // The filter form must not submit (and reload) when JavaScript filters in place; the
  // "Move…" button is handled by htmx.
  document.addEventListener("submit", function (event) {
    if (event.target.matches("[data-board-form]")) { event.preventDefault(); }
  });

  // Search keys for every card, folded while the page is idle, so the first keystroke does not
  // fold 6,000 names.
  function foldKeysWhenIdle() {
    var folding = model, at = 0;
    var idle = window.requestIdleCallback || function (fn) { return window.setTimeout(fn, 50); };
    function step() {
      if (folding !== model) { return; } // re-indexed since: that index folds its own
      var end = Math.min(at + 500, model.cards.length);
      for (; at < end; at += 1) { searchKey(at); }
      if (at < model.cards.length) { idle(step); }
    }
    idle(step);
  }

  document.addEventListener("DOMContentLoaded", function () {
    // After the first paint: the server rendered the board as it is (filters applied, times in
    // state counted), so indexing 6,000 cards and SortableJS on 200 lists need not hold it up.
    // Anything the user does before then indexes first (ensureIndex).
    window.requestAnimationFrame(function () {
      window.setTimeout(function () {
        ensureIndex(); applyFilters(); updateCount(); tick();
        initSortable(); foldKeysWhenIdle();
        window.__boardReadyMs = performance.now(); // bench/board_render.py reports it
        // A stable hook: cards can be dragged from here on (tests wait for it before a drag).
        document.body.dataset.boardReady = "";
      }, 0);
    });
    // Minutes are what the cards show: a tick every 10 s keeps them right within that.
    window.setInterval(tick, 10000);
  });
})();
