// A select marked data-narrowed-by="<id of another select>" shows only the options whose
// data-parent (space-separated values) holds that select's value: the competences of the
// chosen centre, the schemes of the chosen competence. Without JavaScript every option
// stays and the server refuses a mismatch with a message that names both.
(function () {
  "use strict";
  document.querySelectorAll("select[data-narrowed-by]").forEach(function (select) {
    var parent = document.getElementById(select.getAttribute("data-narrowed-by"));
    if (!parent) {
      return;
    }
    function narrow() {
      var firstFit = null;
      var keep = false;
      Array.prototype.forEach.call(select.options, function (option) {
        var parents = option.getAttribute("data-parent");
        var fits = parents === null || parents.split(" ").indexOf(parent.value) !== -1;
        option.hidden = !fits;
        option.disabled = !fits;
        if (fits && firstFit === null) {
          firstFit = option;
        }
        if (fits && option.selected) {
          keep = true;
        }
      });
      if (!keep) {
        if (firstFit) {
          firstFit.selected = true;
        } else {
          select.value = "";
        }
      }
      select.dispatchEvent(new Event("change"));
    }
    parent.addEventListener("change", narrow);
    narrow();
  });
})();
