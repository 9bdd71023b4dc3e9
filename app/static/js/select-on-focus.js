// A read-only field holding a link to pass on (the expert's invitation): focusing it
// selects the whole link, ready to copy. Inline handlers are refused by the page's
// Content-Security-Policy (script-src 'self'), so this file does it.
(function () {
  "use strict";
  document.querySelectorAll("input[data-select-on-focus]").forEach(function (input) {
    input.addEventListener("focus", function () {
      input.select();
    });
  });
})();
