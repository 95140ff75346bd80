/* Lists: "select all" checkbox for the rows of a bulk form. Progressive enhancement: without
   JavaScript its label stays hidden and each row is ticked by hand. Re-run after htmx swaps. */
(function () {
  "use strict";
  function setUp(root) {
    root.querySelectorAll("input[data-select-all]").forEach(function (all) {
      var form = document.getElementById(all.getAttribute("data-select-all"));
      if (!form || all.dataset.ready) return;
      all.dataset.ready = "1";
      var label = all.closest("label");
      if (label) label.hidden = false;
      var boxes = function () {
        return Array.prototype.slice.call(form.querySelectorAll('input[type="checkbox"][name]'));
      };
      all.addEventListener("change", function () {
        boxes().forEach(function (box) { box.checked = all.checked; });
      });
      form.addEventListener("change", function (event) {
        if (event.target === all) return;
        var list = boxes();
        var ticked = list.filter(function (box) { return box.checked; }).length;
        all.checked = list.length > 0 && ticked === list.length;
        all.indeterminate = ticked > 0 && ticked < list.length;
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { setUp(document); });
  // Tab counts refresh when the merchant comes back to the tab (htmx trigger filters would
  // need eval, which the Content-Security-Policy forbids).
  document.addEventListener("visibilitychange", function () {
    var tabs = document.getElementById("schedule-tabs");
    if (document.visibilityState === "visible" && tabs && window.htmx) {
      window.htmx.trigger(tabs, "tabs:refresh");
    }
  });
  document.addEventListener("htmx:afterSwap", function (event) { setUp(event.target); });
})();
