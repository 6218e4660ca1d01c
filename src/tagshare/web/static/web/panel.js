// Tagshare panel: small enhancements. Every form also works without this file.
(function () {
  "use strict";

  // A fieldset with data-enabled-by="<checkbox id>" is usable only while that box is ticked
  // (a disabled fieldset also keeps its inputs out of the POST); data-shown-by hides instead.
  function follow(root) {
    root.querySelectorAll("[data-enabled-by]").forEach(function (el) {
      var box = document.getElementById(el.dataset.enabledBy);
      if (box) el.disabled = !box.checked;
    });
    root.querySelectorAll("[data-shown-by]").forEach(function (el) {
      var box = document.getElementById(el.dataset.shownBy);
      if (box) {
        el.hidden = !box.checked;
        box.setAttribute("aria-expanded", String(box.checked));
      }
    });
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches('input[type="checkbox"]')) follow(document);
  });
  document.addEventListener("DOMContentLoaded", function () { follow(document); });
  document.addEventListener("htmx:afterSettle", function () { follow(document); });

  // Destructive buttons ask first: data-confirm on the form or on the button pressed.
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var text = (button && button.dataset.confirm) || event.target.dataset.confirm;
    if (text && !window.confirm(text)) event.preventDefault();
  });
})();
