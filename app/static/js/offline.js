/* Offline support: register the service worker (/sw.js, app/sw.js) and tell it whose page
 * this is and what the page uses, so it keeps a marking grid or the verification page for a
 * reload without a network, and drops a kept grid when no one or someone else is signed in.
 *
 * Service workers exist only in secure contexts (https, localhost): on plain http this does
 * nothing and says nothing; the pages work online as before. When the worker has handled
 * this page, <html> gets data-offline="ready".
 */
(function () {
  "use strict";

  if (!window.isSecureContext || !("serviceWorker" in navigator)) {
    return;
  }
  var root = document.documentElement;
  var script = document.currentScript;
  var owner = (script && script.dataset.owner) || "";
  var controlled = Boolean(navigator.serviceWorker.controller);

  if (!owner) {
    // signed out: what this device noted of saved marks goes with the cached grid
    try {
      for (var i = window.localStorage.length - 1; i >= 0; i -= 1) {
        var key = window.localStorage.key(i);
        if (key && key.indexOf("skills-passport:saved:") === 0) {
          window.localStorage.removeItem(key);
        }
      }
    } catch (_error) {
      /* storage blocked: nothing was noted */
    }
  }

  function assets() {
    try {
      return performance.getEntriesByType("resource").map(function (entry) {
        return entry.name;
      });
    } catch (_error) {
      return [];
    }
  }

  function tellWorker(registration) {
    var channel = new MessageChannel();
    channel.port1.onmessage = function () {
      root.dataset.offline = "ready";
    };
    registration.active.postMessage(
      { type: "page", owner: owner, page: location.pathname, controlled: controlled, assets: assets() },
      [channel.port2]
    );
  }

  function start() {
    navigator.serviceWorker
      .register("/sw.js", { scope: "/" })
      .catch(function () {
        return null; // its update check failed (server unreachable): the worker in place serves
      })
      .then(function () {
        return navigator.serviceWorker.ready;
      })
      .then(tellWorker)
      .catch(function () {
        /* no offline copy this time; the page works online as before */
      });
  }

  /* After the page is loaded and (on the verification page) its verdict shown: the worker's
   * downloads never compete with what the visitor is waiting for. */
  function whenSettled(callback) {
    var verify = document.getElementById("verify");
    if (!verify || verify.dataset.done === "true") {
      callback();
      return;
    }
    var observer = new MutationObserver(function () {
      if (verify.dataset.done === "true") {
        observer.disconnect();
        callback();
      }
    });
    observer.observe(verify, { attributes: true, attributeFilter: ["data-done"] });
  }

  if (document.readyState === "complete") {
    whenSettled(start);
  } else {
    window.addEventListener("load", function () {
      whenSettled(start);
    });
  }
})();
