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
  } catch (e) { /* an old browser keeps the server's default timezone */ }

  // Controls that only work with this script (".js-only") stay hidden without it.
  document.documentElement.classList.add("js");

  window.dashboard = window.dashboard || {};

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
      window.setTimeout(function () { toast.remove(); }, 8000);
    }
  };

  // Server-sent toasts: HX-Trigger {"toast": {"message": ..., "level": ...}}.
  document.addEventListener("toast", function (event) {
    var detail = event.detail || {};
    window.dashboard.announce(detail.message || "", detail.level || "info");
  });

  // Django messages rendered with the page fade after a while.
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("#toasts .toast").forEach(function (toast) {
      window.setTimeout(function () { toast.remove(); }, 8000);
    });
  });
})();
