// On a narrow screen the menu is one line that scrolls sideways: bring the current page's
// item into view, so the user sees where they are.
(function () {
  "use strict";
  var current = document.querySelector('.nav a[aria-current="page"]');
  var menu = current && current.closest(".nav");
  if (menu && menu.scrollWidth > menu.clientWidth) {
    menu.scrollLeft = current.offsetLeft - (menu.clientWidth - current.offsetWidth) / 2;
  }
})();
