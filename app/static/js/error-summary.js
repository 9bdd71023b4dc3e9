// A refused form's error summary sits at the top of the page: move the focus (and so the
// screen reader and the scroll position) there when the page loads.
(function () {
  "use strict";
  var summary = document.querySelector("[data-error-summary]");
  if (summary) {
    summary.focus();
  }
})();
