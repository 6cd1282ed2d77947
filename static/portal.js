/* Stackdesk's only script: small behaviours htmx does not cover. No inline scripts anywhere. */
(function () {
  "use strict";

  // Swap error responses too: the server sends a message partial and retargets it
  // (HX-Retarget) to #flash-messages, so a refusal is shown instead of silently dropped.
  if (window.htmx) {
    htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "286", swap: true },
      { code: "[23]..", swap: true },
      { code: "[45]..", swap: true, error: true },
    ];
  }

  // <select data-autosubmit>: project and language switchers submit on change.
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches && el.matches("[data-autosubmit]") && el.form) {
      el.form.requestSubmit();
    }
  });

  // Sign-in: show the fields of the chosen method only.
  function showMethod() {
    var chosen = document.querySelector('input[name="method"]:checked');
    if (!chosen) return;
    document.querySelectorAll("[data-method]").forEach(function (block) {
      block.hidden = block.getAttribute("data-method") !== chosen.value;
    });
  }
  document.addEventListener("change", function (event) {
    if (event.target.name === "method") showMethod();
  });
  document.addEventListener("DOMContentLoaded", showMethod);

  // Forms loaded by htmx into #sd-modal-content open the shared modal; the server closes it
  // with the "sd:close-modal" event (HX-Trigger header) after a successful submit.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "sd-modal-content" && window.bootstrap) {
      bootstrap.Modal.getOrCreateInstance(document.getElementById("sd-modal")).show();
    }
  });
  document.addEventListener("sd:close-modal", function () {
    var modal = document.getElementById("sd-modal");
    if (modal && window.bootstrap) bootstrap.Modal.getOrCreateInstance(modal).hide();
  });
})();
