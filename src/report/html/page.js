// The host table's filters and sorting, with no framework. `#selftest` in the address
// clicks the "failed" filter and writes what it saw into the page, for drover's tests.
(function () {
  "use strict";
  var errors = [];
  window.addEventListener("error", function (e) { errors.push(String(e.message)); });
  document.addEventListener("securitypolicyviolation", function (e) {
    errors.push("blocked " + e.violatedDirective + " " + e.blockedURI);
  });
  function byId(id) { return document.getElementById(id); }
  var table = byId("hosts");
  if (!table) { return; }
  var bodies = Array.prototype.slice.call(table.tBodies);
  var f = { status: byId("f-status"), group: byId("f-group"), error: byId("f-error"), text: byId("f-text") };
  var shown = byId("shown");
  function text(b) {
    if (b.drText === undefined) { b.drText = b.textContent.toLowerCase(); }
    return b.drText;
  }
  function apply() {
    var s = f.status.value, g = f.group.value, e = f.error.value;
    var t = f.text.value.trim().toLowerCase(), n = 0;
    bodies.forEach(function (b) {
      var groups = " " + (b.getAttribute("data-groups") || "") + " ";
      var keep = (!s || b.getAttribute("data-status") === s)
        && (!g || groups.indexOf(" " + g + " ") >= 0)
        && (!e || b.getAttribute("data-error") === e)
        && (!t || text(b).indexOf(t) >= 0);
      b.hidden = !keep;
      if (keep) { n += 1; }
    });
    shown.textContent = n + " of " + bodies.length + " hosts shown";
    shown.setAttribute("data-rows", String(n));
    return n;
  }
  [f.status, f.group, f.error].forEach(function (el) { el.addEventListener("change", apply); });
  f.text.addEventListener("input", apply);
  Array.prototype.forEach.call(document.querySelectorAll("button[data-status]"), function (btn) {
    btn.addEventListener("click", function () {
      f.status.value = btn.getAttribute("data-status");
      apply();
    });
  });
  var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
  heads.forEach(function (th, col) {
    var btn = th.querySelector("button");
    if (!btn) { return; }
    btn.addEventListener("click", function () {
      var num = th.classList.contains("num");
      var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
      heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", dir > 0 ? "ascending" : "descending");
      function key(b) {
        var c = b.rows[0].cells[col];
        var v = c.hasAttribute("data-v") ? c.getAttribute("data-v") : c.textContent;
        return num ? parseFloat(v) : v.toLowerCase();
      }
      bodies.sort(function (a, b) {
        var x = key(a), y = key(b);
        return (x < y ? -1 : (x > y ? 1 : 0)) * dir;
      });
      bodies.forEach(function (b) { table.appendChild(b); });
    });
  });
  function reveal() {
    var target = location.hash.length > 1 ? byId(location.hash.slice(1)) : null;
    if (target && target.tagName === "TBODY") {
      target.hidden = false;
      var d = target.querySelector("details");
      if (d) { d.open = true; }
    }
  }
  window.addEventListener("hashchange", reveal);
  reveal();
  apply();
  if (location.hash === "#selftest") {
    var button = document.querySelector("button[data-status=failed]");
    if (button) { button.click(); }
    var out = document.createElement("output");
    out.id = "selftest";
    out.textContent = "rows=" + shown.getAttribute("data-rows") + " total=" + bodies.length
      + " scripts=" + document.scripts.length + " errors=" + errors.length + " " + errors.join("; ");
    document.body.appendChild(out);
  }
}());
