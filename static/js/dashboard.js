// The dashboard's only script of its own. No inline script or handlers: the CSP forbids them,
// so behaviour hangs off data-* attributes that can be grepped for.
(function () {
  "use strict";

  // Times are shown in the viewer's timezone: tell the server which one (ViewerTimezoneMiddleware).
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && document.cookie.indexOf("tz=" + zone) === -1) {
      document.cookie = "tz=" + zone + "; path=/; SameSite=Lax; max-age=31536000";
    }
    // A page rendered before the cookie said so (the first visit, a laptop moved across zones)
    // shows its times in another zone: say so where the page names its zone.
    document.addEventListener("DOMContentLoaded", function () {
      document.querySelectorAll("[data-audit-zone]").forEach(function (block) {
        var stale = block.querySelector("[data-zone-stale]");
        if (!stale || !zone || block.getAttribute("data-audit-zone") === zone) { return; }
        stale.querySelector("[data-zone-browser]").textContent = zone;
        stale.hidden = false;
      });
    });
  } catch (e) { /* an old browser keeps the server's default timezone */ }

  // Controls that only work with this script (".js-only") stay hidden without it.
  document.documentElement.classList.add("js");

  window.dashboard = window.dashboard || {};

  // Toasts: bottom left (dashboard.css), out of the way of the jobs panel's actions. Each has a
  // close button; Escape closes them all; a toast pointed at or focused stays until left. An
  // error stays until closed (it may need reading twice). One at a time: a new one replaces the
  // one shown (each was said by the announcer, and a job's outcome stays in the jobs panel).
  var TOAST_MS = 8000;
  var MAX_TOASTS = 1;

  function closeToast(toast) {
    window.clearTimeout(toast.dashboardTimer);
    toast.remove();
  }

  function armToast(toast) {
    if (toast.dataset.toastReady) { return; }
    toast.dataset.toastReady = "1";
    if (!toast.querySelector(".toast-text")) {
      var text = document.createElement("span");
      text.className = "toast-text";
      while (toast.firstChild) { text.appendChild(toast.firstChild); }
      toast.appendChild(text);
    }
    var close = document.createElement("button");
    close.type = "button";
    close.className = "toast-close";
    close.setAttribute("aria-label", "Dismiss this message");
    close.setAttribute("data-toast-close", "");
    close.textContent = "×";
    close.addEventListener("click", function () { closeToast(toast); });
    toast.appendChild(close);
    if (toast.classList.contains("toast-error")) { return; }
    var start = function () {
      window.clearTimeout(toast.dashboardTimer);
      toast.dashboardTimer = window.setTimeout(function () { closeToast(toast); }, TOAST_MS);
    };
    var hold = function () { window.clearTimeout(toast.dashboardTimer); };
    toast.addEventListener("mouseenter", hold);
    toast.addEventListener("focusin", hold);
    toast.addEventListener("mouseleave", start);
    toast.addEventListener("focusout", start);
    start();
  }

  // Announce a message to screen readers (and show it as a toast).
  window.dashboard.announce = function (text, kind) {
    var live = document.getElementById("announcer");
    if (live) { live.textContent = ""; window.setTimeout(function () { live.textContent = text; }, 50); }
    var toasts = document.getElementById("toasts");
    if (toasts) {
      var toast = document.createElement("div");
      toast.className = "toast toast-" + (kind || "info");
      toast.textContent = text;
      toasts.appendChild(toast);
      armToast(toast);
      var shown = toasts.querySelectorAll(".toast");
      for (var i = 0; i < shown.length - MAX_TOASTS; i++) { closeToast(shown[i]); }
    }
  };

  // Server-sent toasts: HX-Trigger {"toast": {"message": ..., "level": ...}}.
  document.addEventListener("toast", function (event) {
    var detail = event.detail || {};
    window.dashboard.announce(detail.message || "", detail.level || "info");
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || event.defaultPrevented) { return; }
    // An open dialog takes its own Escape first (the move dialog closes); the toasts go next.
    if (document.querySelector("dialog[open]")) { return; }
    document.querySelectorAll("#toasts .toast").forEach(closeToast);
  });

  // A "Dismiss" button removes the block its data-dismiss selector names (closest ancestor).
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-dismiss]");
    if (!button) { return; }
    var block = button.closest(button.getAttribute("data-dismiss"));
    if (block) { block.remove(); }
  });

  // Django messages rendered with the page: the same close button and timer.
  document.addEventListener("DOMContentLoaded", function () {
    var shown = document.querySelectorAll("#toasts .toast");
    shown.forEach(armToast);
    for (var i = 0; i < shown.length - MAX_TOASTS; i++) { closeToast(shown[i]); }
  });
})();
