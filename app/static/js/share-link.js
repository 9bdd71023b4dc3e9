// The graduate's private page: copy or share the one link to the passport.
// The clipboard API works only in a secure context (https, localhost); on a plain-http
// college server the link is selected instead, and the page says to copy it by hand.
// Texts come from the page's data-* attributes, so they are in the page's language.
(function () {
  "use strict";
  var box = document.querySelector("[data-share-link]");
  if (!box) {
    return;
  }
  var input = box.querySelector("input");
  var copy = box.querySelector("[data-copy]");
  var share = box.querySelector("[data-share]");
  var status = box.querySelector("[data-status]");

  function say(text) {
    status.textContent = text;
  }

  function selectForHand() {
    input.focus();
    input.select();
    input.setSelectionRange(0, input.value.length);
    say(box.dataset.manual);
  }

  copy.addEventListener("click", function () {
    if (window.isSecureContext && navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(input.value).then(
        function () {
          say(box.dataset.copied);
        },
        selectForHand
      );
    } else {
      selectForHand();
    }
  });

  if (navigator.share) {
    share.hidden = false;
    share.addEventListener("click", function () {
      navigator.share({ title: box.dataset.title, url: input.value }).catch(function () {
        // closed by the user: nothing to say
      });
    });
  }
})();
