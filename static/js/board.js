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
  // From the press on a card to its release or drop: a drag may be about to begin (SortableJS
  // says so only once the pointer has moved, and a press may be held), so nothing may replace
  // or unmake the card meanwhile (held()).
  var pressing = false;
  var lastClicked = null;
  var anchorPick = null; // lastClicked's pick while its column is text (unmakeCards): made again, it is the anchor again
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
  function hasClass(el, word) { return hasWord(el.className, word); }
  function hasWord(text, word) { return (" " + text + " ").indexOf(" " + word + " ") !== -1; }

  // Per card, in the order of cards (all columns, one after another): the card (null while its
  // column is deferred, below), its column's place in columns, when its state began (epoch
  // seconds by the server's clock, NaN: unknown), the minute data-t shows, its search key
  // (folded when idle) and, for a deferred card, the text the key is folded from. byAgent:
  // agent id -> its card's place in cards, or the places when it is in several columns.
  // byPick: pick -> place, built once a card is selected (a checkbox's value is only needed then).
  function emptyModel() {
    return { columns: [], cards: [], colOf: [], since: [], minute: [], keys: [], texts: [], byAgent: new Map(), byPick: null };
  }
  function places(agentId) {
    var at = model.byAgent.get(agentId);
    return at === undefined ? [] : typeof at === "number" ? [at] : at;
  }
  function columnOf(at) { return model.columns[model.colOf[at]]; }
  function placeOfPick(value) {
    if (!model.byPick) {
      model.byPick = new Map();
      model.columns.forEach(function (entry) {
        for (var i = 0; i < entry.cards.length; i++) {
          model.byPick.set(entry.cards[i] ? pickOf(entry.cards[i]) : entry.picks[i], entry.start + i);
        }
      });
    }
    return model.byPick.get(value);
  }
  // A card's class attribute, from the page or from its deferred column's text.
  function classAt(at) {
    var card = model.cards[at];
    if (card) { return card.className; }
    var entry = columnOf(at);
    return entry.cls[at - entry.start];
  }
  function disabledAt(at) {
    var card = model.cards[at];
    if (card) { return boxOf(card).disabled; }
    var entry = columnOf(at);
    return entry.disabled[at - entry.start];
  }

  // -- deferred columns: cards made when the column comes on screen, unmade far off it -----------
  // Past the first screenful a column carries its cards as text, the raw-text content of a
  // hidden <noframes> (board_heads.DEFERRED): a card on the page costs the renderer about 3 KB,
  // its text a few hundred bytes. The filters, "select all", the totals and presence updates read and
  // keep what they need from the text (DEFERRED_CARD, the markup of board_cards.CARD); the cards
  // are made from it once the column is on screen, opened, focused or its link followed, and
  // take the filter, selection and presence the board has for them then; far off screen they go
  // back to the text (unmakeCards).
  var DEFERRED_CARD = /<li class="([^"]*)" data-agent-id="([^"]*)"(?: data-s="(\d+)")?([^>]*)><label><input type=checkbox name=pick value="([^"]*)"([^>]*)><a href="[^"]*">([^<]*)<\/a>/g;
  var ENTITIES = { amp: "&", lt: "<", gt: ">", quot: "\"" };
  // The text as the page would show it: html.escape's references and the non-ASCII ones.
  function unescapeHtml(text) {
    if (text.indexOf("&") === -1) { return text; }
    return text.replace(/&(#[xX][0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot);/g, function (all, ref) {
      if (ref.charAt(0) !== "#") { return ENTITIES[ref]; }
      var hex = ref.charAt(1) === "x" || ref.charAt(1) === "X";
      return String.fromCodePoint(parseInt(ref.slice(hex ? 2 : 1), hex ? 16 : 10));
    });
  }
  var patches = new Map();    // agent id -> the presence last patched into a card of theirs, since the render
  var madeColumns = new Set(); // campaign ids whose deferred cards are made: made again after a refresh
  var nearViewport = null;    // IntersectionObserver of the deferred columns: makes them on screen
  var farAway = null;         // IntersectionObserver of the made ones: unmakes them far off screen
  // A made list -> the nodes of its deferred form (its link and the text), to go back to: the
  // text is one string of a few KB, where the column's cards, once shown, hold about half a
  // megabyte of the renderer's objects (elements, styles, layout; memory-infra dump at 5,000
  // agents, 122 made columns against 32).
  var deferredForms = new WeakMap();

  function listOfDeferred(column) { return column.querySelector("ul[data-deferred]"); }
  // The cards from the text, in the list (replacing its link and the text, which are kept).
  function fillDeferred(list) {
    var text = list.querySelector("[data-deferred-cards]");
    deferredForms.set(list, Array.prototype.slice.call(list.childNodes));
    list.removeAttribute("data-deferred");
    list.innerHTML = text ? text.textContent : "";
  }

  function makeCards(entry) {
    if (!entry || !entry.deferred) { return; }
    var list = entry.deferred;
    entry.deferred = null;
    if (nearViewport) { nearViewport.unobserve(entry.el); }
    madeColumns.add(entry.el.dataset.campaignId);
    fillDeferred(list);
    entry.form = deferredForms.get(list);
    var made = list.querySelectorAll("li[data-agent-id]");
    if (made.length !== entry.cards.length) { // not the text that was read: read the board again
      index(); restoreSelection(); applyFilters(); tick(); return;
    }
    for (var i = 0; i < made.length; i++) {
      var card = made[i], at = entry.start + i;
      entry.cards[i] = card; model.cards[at] = card;
      if (card.hidden !== !entry.shown[i]) { card.hidden = !entry.shown[i]; }
      if (selected.has(entry.picks[i])) { setSelected(card, true); }
      if (anchorPick !== null && !lastClicked && entry.picks[i] === anchorPick) { lastClicked = card; anchorPick = null; }
      var patch = patches.get(card.getAttribute("data-agent-id"));
      if (patch) { patchCard(at, patch); }
    }
    entry.cls = entry.picks = entry.disabled = null;
    if (farAway) { farAway.observe(entry.el); }
    tick();
  }

  // What the board reads from a column's text, per card: class, pick, whether it can be picked,
  // whether the workgroup filter left it out, whether the server hid it, agent id, seconds in
  // state and the text its search key is folded from. fn(card) for each card, in order.
  function readDeferred(text, fn) {
    var m;
    DEFERRED_CARD.lastIndex = 0;
    while ((m = DEFERRED_CARD.exec(text))) {
      var agentId = unescapeHtml(m[2]);
      fn({ cls: m[1], pick: unescapeHtml(m[5]), disabled: /(^|\s)disabled(\s|$)/.test(m[6]),
        out: hasWord(m[1], "wg-out"), shown: !/(^|\s)hidden$/.test(m[4]), id: agentId, s: m[3],
        text: unescapeHtml(m[7]) + " " + agentId });
    }
  }

  // The column back to its deferred form, once far off screen: its cards' elements go (and
  // their style, layout and paint), what the board knows of them stays in the model (shown,
  // selected, the presence patched since the render, the time in state), as for a column not
  // made yet, and the cards are made again from the text when it comes back on screen. Not
  // under the user's hands: the column with keyboard focus, or any during a drag or an open
  // confirmation (unmakeWaiting() tries again once those end).
  var unmakeLater = new Set();
  function busy(entry) {
    var d = dialog();
    return held() || (d && d.open) || entry.el.contains(document.activeElement);
  }
  function unmakeCards(entry) {
    if (!entry || entry.deferred || !entry.form || !entry.el.isConnected) { return; } // swapped out
    if (busy(entry)) { unmakeLater.add(entry); return; }
    unmakeLater.delete(entry);
    var list = entry.cards.length ? entry.cards[0].parentNode : null;
    var holder = entry.form.filter(function (node) { return node.nodeType === 1 && node.hasAttribute("data-deferred-cards"); })[0];
    if (!list || !holder) { return; }
    var cls = [], picks = [], disabled = [];
    readDeferred(holder.textContent, function (card) {
      var patch = patches.get(card.id);
      cls.push(patch ? withPresence(card.cls, patch.presence) : card.cls);
      picks.push(card.pick); disabled.push(card.disabled);
    });
    if (cls.length !== entry.cards.length) { return; } // not the text it was made from: leave it
    for (var i = 0; i < entry.cards.length; i++) {
      var at = entry.start + i;
      searchKey(at); // folded from the card while there is one
      if (lastClicked === entry.cards[i]) { anchorPick = pickOf(lastClicked); lastClicked = null; }
      entry.cards[i] = null; model.cards[at] = null;
      model.minute[at] = -1; // the text's data-t is the render's: written again once made
    }
    entry.cls = cls; entry.picks = picks; entry.disabled = disabled;
    list.textContent = "";
    entry.form.forEach(function (node) { list.appendChild(node); });
    list.setAttribute("data-deferred", "");
    entry.deferred = list; entry.form = null;
    deferredForms.delete(list);
    madeColumns.delete(entry.el.dataset.campaignId);
    if (farAway) { farAway.unobserve(entry.el); }
    if (nearViewport) { nearViewport.observe(entry.el); }
  }
  function unmakeWaiting() {
    if (!unmakeLater.size) { return; }
    Array.from(unmakeLater).forEach(function (entry) {
      unmakeLater.delete(entry);
      if (farAway) { farAway.unobserve(entry.el); farAway.observe(entry.el); } // still far? it answers
    });
  }

  function entryOfColumn(column) {
    for (var i = 0; i < model.columns.length; i++) { if (model.columns[i].el === column) { return model.columns[i]; } }
    return null;
  }
  function makeCardsOf(column) { if (column && listOfDeferred(column)) { ensureIndex(); makeCards(entryOfColumn(column)); } }

  function onScreen(el) {
    var box = el.getBoundingClientRect();
    return box.bottom > 0 && box.top < window.innerHeight && box.width > 0;
  }

  // Half a screen above and below: a column scrolled further off is unmade, one scrolled back
  // short of that is still made (no remaking while the supervisor goes back and forth a little).
  // Renderer RSS 7 s after scrolling through all 200 columns and back at 5,000 agents (the
  // bench's scroll, A/B interleaved): never unmade 268-269 MB, two screens 217, one 210-215,
  // half of one 207, none 206-208 (at load 193-198); 5 s after (as the bench prints it, with the
  // dots as backgrounds, 3 + 3 + 3): one screen 209.3 MB, half of one 205.6, none 205.6. Fewer
  // columns made at once: the renderer keeps the heap the scroll's peak took (Blink's 29 MB for
  // 19 MB live after it), so what pays is a lower peak (one screen 352 MB, half of one 341).
  // What stays over the load's figure is that heap and the heads of the columns seen.
  var FAR = "50% 0px";

  function watchDeferred() {
    if (nearViewport) { nearViewport.disconnect(); nearViewport = null; }
    if (farAway) { farAway.disconnect(); farAway = null; }
    unmakeLater.clear();
    var waiting = model.columns.filter(function (entry) { return entry.deferred; });
    var made = model.columns.filter(function (entry) { return entry.form; });
    if (!waiting.length && !made.length) { return; }
    if (!window.IntersectionObserver) { waiting.forEach(makeCards); return; }
    // On screen, not ahead of it: with a margin the board at rest made the columns under the
    // first screen too (offscreen columns are 260 px tall by content-visibility, and close).
    // Not a column a filter folded to its head (none of its agents match): applyFilters()
    // shows it to the observer again once one does.
    nearViewport = new IntersectionObserver(function (seen) {
      seen.forEach(function (item) {
        var column = item.target;
        if (item.isIntersecting && column.open && !column.classList.contains("column-nomatch")) { makeCardsOf(column); }
      });
    }, { rootMargin: "0px" });
    farAway = new IntersectionObserver(function (seen) {
      seen.forEach(function (item) { if (!item.isIntersecting) { unmakeCards(entryOfColumn(item.target)); } });
    }, { rootMargin: FAR });
    waiting.forEach(function (entry) { nearViewport.observe(entry.el); });
    made.forEach(function (entry) { farAway.observe(entry.el); });
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
    patches.clear(); // the render shows the presence of its revision
    $all("details[data-campaign-id]", root).forEach(function (column) {
      var c = model.columns.length, deferred = listOfDeferred(column);
      // Per card, in step with cards: whether the server left it out (workgroup) and whether it
      // is shown, so a keystroke reads no attributes. start: its first card's place in cards.
      // A deferred column's also: its class attribute, pick and whether it can be picked.
      // form: a made deferred column's deferred form (fillDeferred), to go back to far off screen.
      var made = deferred ? null : $("ul[data-cards]", column);
      var entry = { el: column, start: model.cards.length, cards: [], out: [], shown: [],
        note: $("[data-shown-note]", column), lazy: Boolean($("[data-lazy]", column)), deferred: deferred,
        cls: deferred ? [] : null, picks: deferred ? [] : null, disabled: deferred ? [] : null,
        form: made && deferredForms.get(made) || null };
      function add(card, id, s, text) {
        var at = model.cards.length;
        entry.cards.push(card);
        model.cards.push(card); model.colOf.push(c); model.keys.push(undefined); model.texts.push(text);
        model.since.push(s === null || s === undefined ? NaN : renderedAt - Number(s));
        model.minute.push(s === null || s === undefined ? -1 : Math.floor(Number(s) / 60)); // what the server wrote
        var had = model.byAgent.get(id);
        if (had === undefined) { model.byAgent.set(id, at); } else if (typeof had === "number") { model.byAgent.set(id, [had, at]); } else { had.push(at); }
      }
      if (deferred) {
        var holder = deferred.querySelector("[data-deferred-cards]");
        readDeferred(holder ? holder.textContent : "", function (card) {
          entry.cls.push(card.cls); entry.picks.push(card.pick); entry.disabled.push(card.disabled);
          entry.out.push(card.out); entry.shown.push(card.shown);
          add(null, card.id, card.s, card.text);
        });
      } else {
        var list = column.querySelectorAll("li[data-agent-id]");
        for (var i = 0; i < list.length; i++) {
          var card = list[i];
          entry.out.push(hasClass(card, "wg-out")); entry.shown.push(!card.hidden);
          add(card, card.getAttribute("data-agent-id"), card.getAttribute("data-s"), undefined);
        }
      }
      model.columns.push(entry);
    });
    watchDeferred();
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
      if (since[i] !== since[i] || !cards[i]) { continue; } // NaN: no clock; null: not made yet
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

  // A card's class attribute with presence instead of the one it has.
  function withPresence(cls, presence) {
    return [presence].concat(cls.split(" ").filter(function (word) {
      return word && PRESENCES.indexOf(word) === -1;
    })).join(" ");
  }

  // Kept for every card patched (patches), not only the deferred ones: a made column can go
  // back to its text far off screen, and its cards are made from the text again.
  function patchCard(at, agent) {
    var card = model.cards[at];
    patches.set(agent.id, agent);
    if (!card) { // deferred: its class for the filters and totals now, the rest once it is made
      var entry = columnOf(at), i = at - entry.start;
      entry.cls[i] = withPresence(entry.cls[i], agent.presence);
      if (agent.since !== null && agent.since !== undefined) { model.since[at] = agent.since; model.minute[at] = -1; }
      return;
    }
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
    for (var at = entry.start; at < entry.start + entry.cards.length; at++) {
      var cls = classAt(at);
      for (var i = 0; i < PRESENCES.length; i++) {
        if (hasWord(cls, PRESENCES[i])) { counts[PRESENCES[i].replace("-", "_")] += 1; break; }
      }
    }
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
  // The same by place: a deferred card is selected by its pick (and ticked once made).
  function setSelectedAt(at, on) {
    var card = model.cards[at];
    if (card) { setSelected(card, on); return; }
    var entry = columnOf(at), i = at - entry.start;
    if (entry.disabled[i]) { return; }
    if (on) { selected.add(entry.picks[i]); } else { selected.delete(entry.picks[i]); }
  }

  function clearSelection() {
    selected.forEach(function (pick) { var at = placeOfPick(pick); if (at !== undefined) { setSelectedAt(at, false); } });
    selected.clear(); updateCount();
  }

  // A pick is "column/agent/version", each part URL-quoted: the agent part names the agent.
  function agentOf(pick) { return pick.split("/")[1]; }

  // Counts are in agents, as the move is: an agent picked in two columns moves once.
  function updateCount() {
    var agents = new Set(), onScreen = new Set();
    selected.forEach(function (pick) {
      agents.add(agentOf(pick));
      var at = placeOfPick(pick);
      if (at !== undefined && shownAt(at)) { onScreen.add(agentOf(pick)); }
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
      var at = placeOfPick(pick);
      if (at === undefined) { return; } // moved or vanished: no longer selected
      setSelectedAt(at, true);
      if (selected.has(pick) && !disabledAt(at)) { still.add(pick); }
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
      key = model.keys[at] = fold(card ? card.querySelector("a").textContent + " " + card.getAttribute("data-agent-id") : model.texts[at]);
    }
    return key;
  }
  // On screen: neither the card nor its column is hidden by a filter, its column is open; from
  // what the filters last decided (a deferred card has no element yet).
  function shownAt(at) {
    var entry = columnOf(at), column = entry.el;
    return entry.shown[at - entry.start] && !column.hidden && column.open && !column.classList.contains("column-nomatch");
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
          (!presence || hasWord(card ? card.className : column.cls[i], presence));
        if (shownNow[i] !== show) { if (card) { card.hidden = !show; } shownNow[i] = show; }
        if (show) { matched += 1; }
      }
      var el = column.el;
      // As on the server: Unassigned has no state and stays.
      var hide = Boolean(state) && el.dataset.campaignId !== "" && el.dataset.state !== state;
      if (el.hidden !== hide) { el.hidden = hide; }
      // A column none of whose agents match folds to its head, saying how many it holds.
      var nomatch = filtering && matched === 0 && total > 0;
      if (nomatch !== el.classList.contains("column-nomatch")) {
        el.classList.toggle("column-nomatch", nomatch);
        // Its cards are made if it is on screen now (the observer answers once for a new target).
        if (!nomatch && column.deferred && nearViewport) { nearViewport.unobserve(el); nearViewport.observe(el); }
      }
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
  var refreshAfterDrag = false; // a render of the columns was held back while a card was held
  var pollAfterRelease = false; // a presence delta was

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
    // Opened on screen (the observer has seen it there already). Not every open column: the
    // parser fires a toggle for each column it makes open, most of them far below.
    if (column.open && listOfDeferred(column) && onScreen(column)) { makeCardsOf(column); }
    if (!column.classList.contains("column-off")) { return; } // only these start collapsed
    // Kept rendered while open, empty or not: a move into it must show its new cards.
    setOpened(column.dataset.campaignId, column.open);
    if (column.open && $("[data-lazy]", column)) {
      if (held()) { refreshAfterDrag = true; return; } // a refresh now would end the drag
      forceRefresh = true;
      window.htmx.trigger(document.body, "boardRefresh");
    }
  }, true); // toggle does not bubble

  document.addEventListener("htmx:configRequest", function (event) {
    // Not while a card is held: beforeRequest cancels that request, and the render with it.
    if (forceRefresh && !held() && event.detail.elt && event.detail.elt.id === "board-columns") {
      forceRefresh = false;
      event.detail.parameters.rev = ""; // not "current": the server renders the opened column
    }
  });

  document.addEventListener("click", function (event) {
    // The link is the no-JavaScript way to the agents (the campaign's page); here, open the column.
    var link = event.target.closest("[data-lazy-link]");
    if (link) { event.preventDefault(); link.closest("details").open = true; }
    // A deferred column's link (the campaign's page without JavaScript): its cards, here.
    var deferredLink = event.target.closest("[data-deferred-link]");
    if (deferredLink) {
      event.preventDefault();
      var column = deferredLink.closest("details");
      makeCardsOf(column);
      var first = column.querySelector("[data-agent-id] input[name=pick]");
      if (first) { first.focus(); }
    }
  });

  // Keyboard: Tab onto a deferred column's head or link makes its cards, so the next Tab is on them.
  document.addEventListener("focusin", function (event) {
    var column = event.target.closest && event.target.closest("#board-columns details[data-campaign-id]");
    if (column) { makeCardsOf(column); }
    unmakeWaiting(); // the column focus left, if it is far off screen
  });
  // A confirmation closed (confirmed, cancelled, Escape): the columns left made for it may go.
  document.addEventListener("close", function (event) {
    if (event.target === dialog()) { unmakeWaiting(); }
  }, true); // close does not bubble

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
        onStart: function (evt) { dragging = true; evt.item.classList.add("dragging"); }, // the capture dragstart reset the rest
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
    if (!dragging && !cardDrag) { return; }
    var column = columnAt(event);
    markOver(column);
    if (!column) { hovered = null; return; }
    // A drop anywhere on a column is one (on its head too), so it ends with a drop event: a drag
    // that ends with none (Escape, let go outside the columns or the window) moves nothing.
    event.preventDefault();
    var closed = !column.open || column.classList.contains("column-nomatch") && !column.classList.contains("column-dropopen");
    if (!closed) { return; }
    if (hovered !== column) { hovered = column; hoveredSince = Date.now(); return; }
    if (Date.now() - hoveredSince < OPEN_AFTER_MS) { return; }
    if (!column.open) { column.open = true; closedColumns.set(column.dataset.campaignId, true); }
    column.classList.add("column-dropopen");
  }, true); // capture: SortableJS stops the dragovers of its lists from going further up

  function held() { return dragging || pressing; }
  // The card let go of (dropped, or released without a drag): what waited for it goes ahead,
  // after the drop's own work on the lists.
  function released() {
    pressing = false;
    if (dragging) { return; }
    window.setTimeout(unmakeWaiting, 0);
    if (refreshAfterDrag || pollAfterRelease) {
      if (refreshAfterDrag) { forceRefresh = true; }
      refreshAfterDrag = pollAfterRelease = false;
      window.setTimeout(function () { window.htmx.trigger(document.body, "boardRefresh"); }, 0);
    }
  }

  function onDrop(evt) {
    dragging = false;
    released();
    var card = evt.item;
    card.classList.remove("dragging");
    var from = evt.from, ended = evt.originalEvent;
    // Put the card back: the server renders where it goes, once the move is confirmed.
    from.insertBefore(card, from.children[evt.oldIndex] || null);
    // A native drag let go with no drop event: cancelled (Esc), or let go outside the columns.
    if (!ended || /^(dragend|pointercancel|touchcancel)$/.test(ended.type)) { clearDropOpen(); return; }
    // A touch drag is SortableJS's own, not a native one (no dragover, no drop): the column is
    // the one under the finger where it let go (its ghost takes no pointer events).
    if (ended.type !== "drop") { dropColumn = columnAtPoint(ended.changedTouches ? ended.changedTouches[0] : ended); }
    droppedOn(card, ended.altKey);
  }

  function columnAt(event) {
    return event.target.closest ? event.target.closest("#board-columns details[data-campaign-id]") : null;
  }
  function columnAtPoint(point) {
    var el = point && document.elementFromPoint(point.clientX, point.clientY);
    return el ? columnAt({ target: el }) : null;
  }
  // The column under the pointer during a drag, outlined: where a drop now would move the card.
  function markOver(column) {
    if (overColumn === column) { return; }
    if (overColumn) { overColumn.classList.remove("column-dropover"); }
    overColumn = column;
    if (column) { column.classList.add("column-dropover"); }
  }
  function clearDropOpen() {
    markOver(null);
    $all("#board-columns .column-dropopen").forEach(function (c) { c.classList.remove("column-dropopen"); });
  }

  // The move a drop asks for: to the column under the pointer where it was let go (its list or
  // its head), whichever list SortableJS last put the card in on the way (one crossed on the way,
  // as a quick drag leaves it, was taken for the target). "Unassigned" is the campaign id "".
  var dropColumn = null;
  function droppedOn(card, altKey) {
    var column = dropColumn;
    dropColumn = null;
    clearDropOpen();
    var from = card.closest("[data-cards]");
    if (!column || !from || column.dataset.campaignId === from.dataset.campaignId) { return; }
    var target = column.dataset.campaignId;
    var pick = pickOf(card);
    var picks = selected.has(pick) ? Array.from(selected) : [pick];
    openPreview(picks, target, altKey && picks.length === 1);
  }

  // SortableJS says a drag has begun (onStart) in a zero-delay timer after the browser's
  // dragstart, and reports a drop only after that: on a busy page, where Chromium runs input
  // before timers, a quick drag can be dropped first, and SortableJS then reports nothing. Such
  // a drop is taken here, where the pointer let go (dragover accepted it above).
  var cardDrag = null; // the card a native drag carries, from dragstart to its end, if it can move
  function cardDragged(event) {
    var card = event.target.closest && event.target.closest("#board-columns [data-agent-id]");
    var movable = sortableWired && window.Sortable && $("[data-move-open]");
    return card && movable && !hasClass(card, "pending") && !event.target.closest("input") ? card : null;
  }
  document.addEventListener("drop", function (event) {
    var card = cardDrag;
    cardDrag = null;
    if (!card) { return; }
    dropColumn = columnAt(event);
    if (dragging) { return; } // begun: SortableJS's onEnd (onDrop) follows, and takes dropColumn
    event.preventDefault(); // a link's drop would otherwise be followed
    droppedOn(card, event.altKey);
  }, true);

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

  // Before the new columns are painted: the deferred ones whose cards were on the page before
  // the refresh get them again now, not a frame later from the observer (a blink of links).
  document.addEventListener("htmx:afterSwap", function (event) {
    var root = document.getElementById("board-columns");
    if (!root || !event.detail.target || event.detail.target.id !== "board-columns") { return; }
    if (madeColumns.size) {
      $all("ul[data-deferred]", root).forEach(function (list) {
        if (madeColumns.has(list.dataset.campaignId)) { fillDeferred(list); }
      });
    }
    restoreView(root); // once the lists have their cards back: their scroll is in them
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr, target = event.detail.target;
    if (!target || target.id !== "board-columns") { return; }
    // A refresh sent just before a drag began (or a card was pressed), answered during it:
    // swapping now would pull the card from under the pointer and lose the drop. Fetch again
    // once the card is dropped or released.
    // (Not a 204: the board on screen is current, nothing to fetch again.)
    // A presence delta is not patched then either (a filter could hide the card pressed) nor
    // turned into a render of every column: once let go the board asks again with the rev it
    // shows, and the server's answer is that delta (or what has changed since), patched in place.
    var delta = xhr && xhr.getResponseHeader("X-Board-Delta") === "presence";
    if (held()) {
      if (event.detail.shouldSwap) {
        event.detail.shouldSwap = false;
        if (delta) { pollAfterRelease = true; } else { refreshAfterDrag = true; }
      }
      return;
    }
    if (delta) {
      event.detail.shouldSwap = false;
      try { applyPresence(JSON.parse(xhr.responseText)); } catch (err) { forceRefresh = true; } // the next poll re-renders
      return;
    }
    if (event.detail.shouldSwap) { keepView(target); }
  });

  // A refresh keeps the view where it was. The refreshed columns are new elements, with no size
  // remembered by content-visibility: each column off screen above the view would stand at
  // 260 px (contain-intrinsic-size) instead of its height, and the view jump down the board
  // (and unmake the columns it left); a list scrolled within its column would be back at its
  // top. So each new column stands at its predecessor's height until it is drawn, and each list
  // gets its scroll back.
  var keptView = null; // campaign id -> [height, list scroll] of the columns being replaced
  // And the keyboard's place: the new columns' same card (its checkbox or name) or column head
  // gets focus back, where the swap would leave it on <body> (a keyboard user's place lost on
  // every other supervisor's move).
  var keptFocus = null; // [campaign id, agent id or null, selector of the control]
  var FOCUSABLE = ["input[name=pick]", "label a", "summary"];
  function focusPlace(root) {
    var el = document.activeElement;
    var column = el && el !== document.body && root.contains(el) && el.closest("details[data-campaign-id]");
    if (!column) { return null; }
    var card = el.closest("[data-agent-id]");
    var what = FOCUSABLE.filter(function (selector) { return el.matches(selector); })[0];
    return what ? [column.dataset.campaignId, card ? card.getAttribute("data-agent-id") : null, what] : null;
  }
  function restoreFocus(root, place) {
    var column = $all("details[data-campaign-id]", root).filter(function (c) { return c.dataset.campaignId === place[0]; })[0];
    if (!column) { return; }
    var card = place[1] === null ? null : $all("[data-agent-id]", column).filter(function (c) { return c.getAttribute("data-agent-id") === place[1]; })[0];
    // The card gone from the column (moved): its column's head, nearest to where she was.
    var el = card ? $(place[2], card) : $("summary", column);
    if (el) { el.focus({ preventScroll: true }); }
  }
  function keepView(root) {
    keptFocus = focusPlace(root);
    keptView = new Map();
    $all("details[data-campaign-id]", root).forEach(function (column) {
      var list = $("ul[data-cards]", column);
      keptView.set(column.dataset.campaignId, [column.getBoundingClientRect().height, list ? list.scrollTop : 0]);
    });
  }
  function restoreView(root) {
    if (!keptView) { return; }
    var kept = keptView, scrolled = [], place = keptFocus;
    keptView = keptFocus = null;
    if (place && (document.activeElement === document.body || !document.activeElement)) { restoreFocus(root, place); }
    $all("details[data-campaign-id]", root).forEach(function (column) {
      var was = kept.get(column.dataset.campaignId);
      if (!was) { return; }
      if (was[0] > 0) { column.style.containIntrinsicHeight = "auto " + was[0] + "px"; }
      if (was[1] > 0) { scrolled.push([column, was[1]]); }
    });
    scrolled.forEach(function (item) {
      var list = $("ul[data-cards]", item[0]);
      if (list) { list.scrollTop = item[1]; }
    });
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    // A refresh in the middle of a drag would pull the card from under the pointer.
    if (elt && elt.id === "board-columns") {
      if (held()) { event.preventDefault(); return; }
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
      for (var at = 0; at < model.cards.length; at++) { if (shownAt(at)) { setSelectedAt(at, true); } }
      updateCount();
    }
    var columnButton = event.target.closest("[data-select-column]");
    if (columnButton) {
      ensureIndex();
      var entry = entryOfColumn(columnButton.closest("details"));
      if (entry) {
        for (var k = entry.start; k < entry.start + entry.cards.length; k++) { if (shownAt(k)) { setSelectedAt(k, true); } }
      }
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

  // A name or status cut short ("Away f…") says the whole of it where the pointer rests: set
  // then, not a title in every card's markup (5,000 attributes more on a big board), and taken
  // off once it fits (a presence patch may have shortened the status).
  document.addEventListener("mouseover", function (event) {
    var el = event.target.closest && event.target.closest("#board-columns [data-agent-id] label a, #board-columns [data-agent-id] small");
    if (!el) { return; }
    if (el.scrollWidth > el.clientWidth) { el.title = el.textContent; } else if (el.hasAttribute("title")) { el.removeAttribute("title"); }
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
    if (!event.button) { pressing = true; nativeDrag = false; } // SortableJS starts no drag from another button
    wireSortable();
    if (!card.dataset.pick) { card.dataset.pick = pickOf(card); }
  }
  document.addEventListener("pointerdown", pressed, true);
  document.addEventListener("mousedown", pressed, true);
  document.addEventListener("touchstart", pressed, { capture: true, passive: true });
  // Released without a drag (a click, a press on the checkbox), or the window lost while
  // pressed. A native drag ends with no pointerup: SortableJS's in onDrop, any other (a link's,
  // on a viewer's board or a pending card, which SortableJS leaves alone) in dragend.
  // pointercancel: a pen's press the browser took for a pan ends with no pointerup. Chromium
  // also sends one right after dragstart: that press goes on as a drag (dragend or the drop
  // ends it), so a pointercancel after a dragstart lets nothing go.
  var nativeDrag = false;
  document.addEventListener("dragstart", function (event) {
    if (pressing) { nativeDrag = true; cardDrag = cardDragged(event); }
    markOver(null); hovered = null; dropColumn = null; // the last drag's
  }, true);
  // A drag that never began for SortableJS and ended with no drop (Escape): nothing else
  // folds back a column it opened, nor takes its outline off. After the drop's own handlers.
  document.addEventListener("dragend", function () {
    if (cardDrag) { cardDrag = null; window.setTimeout(clearDropOpen, 0); }
  }, true);
  function releasedPress(event) {
    if (!pressing || (event.type === "pointercancel" && nativeDrag)) { return; }
    nativeDrag = false;
    released();
  }
  ["pointerup", "pointercancel", "mouseup", "touchend", "touchcancel", "dragend"].forEach(function (type) {
    document.addEventListener(type, releasedPress, { capture: true, passive: true });
  });
  window.addEventListener("blur", releasedPress);

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
    // "Save as plan…" is a form of its own: the reason typed in the dialog goes along with it.
    var planReason = event.target.querySelector("[data-plan-reason]"), typed = $("[data-move-reason]");
    if (planReason && typed) { planReason.value = typed.value; }
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

  // What activity.js tells other supervisors this one is selecting: deferred cards included.
  window.boardSelection = function () { return Array.from(selected); };

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
