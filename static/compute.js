/* Compute pages: small behaviours on top of htmx. The pages work without this file. */
(function () {
  "use strict";

  // Launch wizard, Source step: show the chooser of the selected boot source only.
  function showSource(root) {
    var chosen = root.querySelector('input[name="source_type"]:checked');
    if (!chosen) return;
    root.querySelectorAll("[data-source]").forEach(function (block) {
      var kinds = block.getAttribute("data-source").split(" ");
      block.hidden = kinds.indexOf(chosen.value) === -1;
    });
  }
  document.addEventListener("change", function (event) {
    if (event.target.name === "source_type") showSource(event.target.form || document);
  });
  document.addEventListener("DOMContentLoaded", function () { showSource(document); });
  document.addEventListener("htmx:afterSwap", function () { showSource(document); });

  // Plain forms with data-confirm (instance actions on the detail page) ask first.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });
})();
