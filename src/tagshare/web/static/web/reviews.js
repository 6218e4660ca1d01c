// The review screen's "select all" boxes. Without this file the form still works: the server
// reads a ticked profile box as all of that profile's changes, the page box as all of them.
(function () {
  "use strict";
  // Loaded once per page; htmx swaps of the page must not add the listeners again.
  if (window.tagshareReviews) return;
  window.tagshareReviews = true;

  function fields(form, person) {
    var selector = 'input[name="ids"]' + (person ? '[data-profile="' + person + '"]' : "");
    return Array.prototype.slice.call(form.querySelectorAll(selector));
  }

  function ticked(boxes) {
    return boxes.filter(function (box) { return box.checked; }).length;
  }

  // Each "select all" box shows whether all, some or none of its fields are ticked.
  function show(box, boxes) {
    var n = ticked(boxes);
    box.checked = boxes.length > 0 && n === boxes.length;
    box.indeterminate = n > 0 && n < boxes.length;
  }

  function refresh(form) {
    form.querySelectorAll("[data-select-profile]").forEach(function (box) {
      show(box, fields(form, box.dataset.selectProfile));
    });
    var all = form.querySelector("[data-select-all]");
    var every = fields(form);
    if (all) show(all, every);
    var count = form.querySelector("[data-selected-count]");
    if (count) {
      var n = ticked(every);
      count.textContent = n ? n + " selected" : "";
    }
  }

  document.addEventListener("change", function (event) {
    var box = event.target;
    var form = box.closest && box.closest("[data-review-form]");
    if (!form) return;
    if (box.matches("[data-select-all]")) {
      fields(form).forEach(function (f) { f.checked = box.checked; });
    } else if (box.matches("[data-select-profile]")) {
      fields(form, box.dataset.selectProfile).forEach(function (f) { f.checked = box.checked; });
    }
    refresh(form);
  });

  // htmx leaves the page as it was when an answer is an error; a refused decision (an expired
  // form, a change that is not this nation's) must show its page, as it does without htmx.
  document.addEventListener("htmx:beforeSwap", function (event) {
    // The event fires on the swap target (the body); the form that asked is the request's elt.
    var from = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (event.detail.isError && from && from.closest && from.closest("[data-review-form]")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  function refreshAll() {
    document.querySelectorAll("[data-review-form]").forEach(refresh);
  }
  document.addEventListener("DOMContentLoaded", refreshAll);
  document.addEventListener("htmx:afterSettle", refreshAll);
  // Back/forward may restore ticks from the browser's cache.
  window.addEventListener("pageshow", refreshAll);
})();
