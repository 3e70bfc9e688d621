// The operator console's only script: the live part of a page (an element with
// data-live="<url>") is fetched again every few seconds and replaced.
(function () {
  "use strict";
  var live = document.querySelector("[data-live]");
  if (!live) return;
  var url = live.getAttribute("data-live");
  function refresh() {
    fetch(url, { credentials: "same-origin", redirect: "manual" })
      .then(function (r) {
        if (r.type === "opaqueredirect" || r.status === 303) { location.reload(); return null; }
        return r.ok ? r.text() : null;
      })
      .then(function (html) {
        if (html === null) return;
        live.innerHTML = html;
        live.setAttribute("data-refreshed", String(Date.now()));
      })
      .catch(function () { /* the next tick tries again */ });
  }
  setInterval(refresh, 3000);
})();
