/* Marking form: keyboard navigation and safe autosave through the JSON API.
 *
 * Nothing typed is lost: every keystroke's value is kept in localStorage (one item per
 * cell: "skills-passport:mark:<exam>:<form>:<enrolment>:<aspect>:<seat>") until the server
 * has confirmed it. Entries are sent one at a time with the version the expert last saw
 * (optimistic concurrency); a dropped connection or a server that cannot save right now
 * (5xx from the app or a proxy, 408, 429) is retried with growing pauses, never sooner than
 * its Retry-After, and a reload or crashed tab restores and re-sends whatever was not
 * confirmed. A refused value (other 4xx) is not retried: the cell shows why. A 409 answer
 * shows the current value and lets the expert keep theirs or take the other one.
 * When the session has ended (401: signed out elsewhere, idle too long, its lifetime
 * reached) the entries stay queued and the grid asks the expert to sign in again; the
 * sign-in page brings them back here, where the queued entries are sent. Signing in in
 * another tab works too: the grid tries again as soon as it is looked at again.
 */
(function () {
  "use strict";

  var grid = document.getElementById("marking-grid");
  if (!grid) {
    return;
  }
  var messages = JSON.parse(document.getElementById("marking-messages").textContent);
  var examId = grid.dataset.exam;
  var formId = grid.dataset.form;
  var putUrl = grid.dataset.putUrl;
  var historyUrl = grid.dataset.historyUrl || "";
  var spread = parseInt(grid.dataset.spread, 10);
  var editable = grid.dataset.editable === "true";
  var decimal = messages.decimal || ".";
  var prefix = "skills-passport:mark:" + examId + ":" + formId + ":";

  var statusEl = document.getElementById("save-status");
  var signInAgain = document.getElementById("sign-in-again");
  var conflictsEl = document.getElementById("conflicts");
  var panel = document.getElementById("cell-panel");
  var inputs = Array.prototype.slice.call(grid.querySelectorAll("input.mark"));
  var headers = Array.prototype.slice.call(grid.querySelectorAll("thead th.col-head"));
  var byPosition = {};
  var byKey = {};
  var rows = 0;
  var columns = headers.length;

  inputs.forEach(function (input) {
    byPosition[input.dataset.r + ":" + input.dataset.c] = input;
    byKey[keyOf(input)] = input;
    rows = Math.max(rows, parseInt(input.dataset.r, 10) + 1);
  });

  // ---- small helpers ---------------------------------------------------------------

  function keyOf(input) {
    return input.dataset.enrolment + ":" + input.dataset.aspect + ":" + input.dataset.seat;
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_match, name) {
      return values[name] === undefined ? "" : String(values[name]);
    });
  }

  function shown(kind, value) {
    if (value === null || value === undefined) {
      return "";
    }
    return kind === "M" ? String(value).replace(".", decimal) : String(value);
  }

  function hundredths(text) {
    var number = parseFloat(String(text).replace(",", "."));
    return isNaN(number) ? null : Math.round(number * 100);
  }

  var memory = {};
  var storage = {
    get: function (key) {
      try {
        var raw = window.localStorage.getItem(key);
        return raw ? JSON.parse(raw) : null;
      } catch (_error) {
        return memory[key] || null;
      }
    },
    set: function (key, value) {
      memory[key] = value;
      try {
        window.localStorage.setItem(key, JSON.stringify(value));
      } catch (_error) {
        /* storage full or blocked: the in-memory copy still retries */
      }
    },
    remove: function (key) {
      delete memory[key];
      try {
        window.localStorage.removeItem(key);
      } catch (_error) {
        /* nothing to do */
      }
    },
    keys: function (start) {
      var found = [];
      try {
        for (var i = 0; i < window.localStorage.length; i += 1) {
          var key = window.localStorage.key(i);
          if (key && key.indexOf(start) === 0) {
            found.push(key);
          }
        }
      } catch (_error) {
        return Object.keys(memory).filter(function (key) {
          return key.indexOf(start) === 0;
        });
      }
      return found;
    },
  };

  // ---- the queue of unsaved entries ----------------------------------------------

  var pending = {}; // cell key -> {value, reason, expected, conflict, error}
  var inFlight = null;
  var attempts = 0;
  var retryTimer = null;
  var signedOut = false;
  var serverTrouble = false; // the last answer was the server's "cannot save now" (5xx)
  var MAX_PAUSE = 60000;

  function remember(input, value, reason) {
    var key = keyOf(input);
    var entry = pending[key];
    if (!entry) {
      var version = input.dataset.version;
      entry = { expected: version ? parseInt(version, 10) : null };
      pending[key] = entry;
    }
    entry.value = value;
    entry.reason = reason;
    entry.error = null;
    storage.set(prefix + key, {
      value: entry.value,
      reason: entry.reason,
      expected: entry.expected,
      at: Date.now(),
    });
    cellOf(input).classList.add("pending");
    cellOf(input).classList.remove("saved");
  }

  function forget(input) {
    var key = keyOf(input);
    delete pending[key];
    storage.remove(prefix + key);
    cellOf(input).classList.remove("pending", "conflicted");
  }

  function cellOf(input) {
    return input.parentNode;
  }

  function currentReason(input) {
    var entry = pending[keyOf(input)];
    return entry ? entry.reason : input.dataset.reason || "";
  }

  /* Queue the cell when its text or reason differs from what the server holds. */
  function commit(input, reason) {
    if (input.disabled) {
      return;
    }
    var value = input.value.trim();
    var why = reason === undefined ? currentReason(input) : reason.trim();
    var entry = pending[keyOf(input)];
    if (!entry && value === input.dataset.saved && why === (input.dataset.reason || "")) {
      return;
    }
    if (!entry && input.dataset.refused === JSON.stringify([value, why])) {
      return; // the server refused exactly this; sending it again would not change that
    }
    if (entry && entry.conflict) {
      entry.value = value;
      entry.reason = why;
      return;
    }
    remember(input, value, why);
    flushSoon(0);
  }

  function flushSoon(delay) {
    if (retryTimer) {
      window.clearTimeout(retryTimer);
    }
    retryTimer = window.setTimeout(function () {
      retryTimer = null;
      flush();
    }, delay);
  }

  function nextEntry() {
    var keys = Object.keys(pending);
    for (var i = 0; i < keys.length; i += 1) {
      var entry = pending[keys[i]];
      if (!entry.conflict && !entry.error && byKey[keys[i]]) {
        return keys[i];
      }
    }
    return null;
  }

  function flush() {
    if (inFlight) {
      return;
    }
    var key = nextEntry();
    updateStatus();
    if (key === null) {
      return;
    }
    var input = byKey[key];
    var entry = pending[key];
    var sent = { value: entry.value, reason: entry.reason };
    inFlight = key;
    var body = {
      enrolment_id: parseInt(input.dataset.enrolment, 10),
      aspect: input.dataset.aspect,
      seat: parseInt(input.dataset.seat, 10),
      value: entry.value === "" ? null : entry.value,
      expected_version: entry.expected,
      reason: entry.reason || "",
    };
    window
      .fetch(putUrl, {
        method: "PUT",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "X-Requested-With": "XMLHttpRequest",
        },
        body: JSON.stringify(body),
      })
      .then(function (response) {
        return response
          .json()
          .catch(function () {
            return {};
          })
          .then(function (data) {
            return {
              status: response.status,
              data: data,
              retryAfter: response.headers.get("Retry-After"),
            };
          });
      })
      .then(function (answer) {
        inFlight = null;
        handle(input, key, sent, answer.status, answer.data, answer.retryAfter);
      })
      .catch(function () {
        inFlight = null;
        serverTrouble = false;
        retryLater(null);
      });
  }

  /* How long a Retry-After header (seconds or an HTTP date) asks to wait, in ms; else 0. */
  function retryAfterMs(header) {
    if (!header) {
      return 0;
    }
    var seconds = parseInt(header, 10);
    if (!isNaN(seconds) && /^\s*\d+\s*$/.test(header)) {
      return seconds * 1000;
    }
    var at = Date.parse(header);
    return isNaN(at) ? 0 : Math.max(0, at - Date.now());
  }

  function setSignedOut(value) {
    signedOut = value;
    if (signInAgain) {
      signInAgain.hidden = !value;
    }
  }

  function retryLater(retryAfter) {
    attempts += 1;
    var delay = Math.min(30000, 1000 * Math.pow(2, Math.min(attempts - 1, 5)));
    delay = Math.min(MAX_PAUSE, Math.max(delay, retryAfterMs(retryAfter)));
    flushSoon(delay + Math.floor(Math.random() * 500));
    updateStatus();
  }

  function handle(input, key, sent, status, data, retryAfter) {
    var entry = pending[key];
    if (status === 200) {
      attempts = 0;
      setSignedOut(false);
      serverTrouble = false;
      delete input.dataset.refused;
      clearRefusal(input);
      var before = input.dataset.version;
      input.dataset.version = data.version === null ? "" : String(data.version);
      input.dataset.saved = data.value === null ? "" : sent.value;
      input.dataset.reason = data.reason || "";
      noteSaved(input, before);
      if (entry && entry.value === sent.value && entry.reason === sent.reason) {
        forget(input);
        cellOf(input).classList.add("saved");
      } else if (entry) {
        entry.expected = data.version; // typed again meanwhile: send that on top
        remember(input, entry.value, entry.reason);
      }
      refreshCell(input);
      flushSoon(0);
      return;
    }
    if (status === 409 && data && data.current !== undefined) {
      if (entry) {
        entry.conflict = data.current;
        showConflict(input, key, data.current);
      }
      flushSoon(0);
      return;
    }
    if (status === 401) {
      setSignedOut(true);
      retryLater(null);
      return;
    }
    if (status === 0 || status === 408 || status === 429 || status >= 500) {
      // not saved yet (database restarting, proxy timeout, too many requests): kept and retried
      serverTrouble = status >= 500;
      retryLater(retryAfter);
      return;
    }
    // refused for good (invalid value, locked form, conflict of interest …)
    var message = (data && (data.errors && firstError(data.errors))) || (data && data.detail) || "";
    if (entry) {
      entry.error = message;
    }
    input.dataset.refused = JSON.stringify([sent.value, sent.reason]);
    storage.remove(prefix + key);
    delete pending[key];
    cellOf(input).classList.remove("pending");
    showRefusal(input, fill(messages.notSaved, { message: message }));
    showError(fill(messages.notSaved, { message: input.getAttribute("aria-label") + " — " + message }));
    flushSoon(0);
  }

  /* A refused value stays in its cell, marked, with the server's reason tied to the cell. */
  function showRefusal(input, text) {
    var cell = cellOf(input);
    var note = cell.querySelector(".cell-error");
    if (!note) {
      note = document.createElement("span");
      note.className = "cell-error";
      note.id = "cell-error-" + input.dataset.r + "-" + input.dataset.c;
      cell.appendChild(note);
    }
    note.textContent = text;
    cell.classList.add("invalid");
    input.title = text;
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", note.id);
  }

  function clearRefusal(input) {
    var cell = cellOf(input);
    var note = cell.querySelector(".cell-error");
    if (note) {
      note.remove();
    }
    cell.classList.remove("invalid");
    if (input.getAttribute("aria-invalid")) {
      input.removeAttribute("title");
    }
    input.removeAttribute("aria-invalid");
    input.removeAttribute("aria-describedby");
  }

  function firstError(errors) {
    var names = Object.keys(errors);
    if (!names.length) {
      return "";
    }
    var value = errors[names[0]];
    return Array.isArray(value) ? value.join(" ") : String(value);
  }

  // ---- what this device saved after the page was rendered ---------------------------

  // A grid opened from the device (the service worker's copy, server unreachable) is the
  // page of the last online visit. What this device saved since is laid over it with its
  // versions, so the form shows it and a change is sent on top of it. A page as new as the
  // record (every online visit) drops the record.
  var savedPrefix = "skills-passport:saved:" + examId + ":" + formId + ":";

  function noteSaved(input, before) {
    storage.set(savedPrefix + keyOf(input), {
      value: input.dataset.saved,
      reason: input.dataset.reason,
      version: input.dataset.version,
      before: before || "",
    });
  }

  function laySaved() {
    storage.keys(savedPrefix).forEach(function (storageKey) {
      var input = byKey[storageKey.slice(savedPrefix.length)];
      var saved = storage.get(storageKey);
      if (!input || !saved) {
        storage.remove(storageKey);
        return;
      }
      var shownVersion = input.dataset.version;
      var older =
        shownVersion === saved.before ||
        (saved.version !== "" && parseInt(shownVersion || "0", 10) < parseInt(saved.version, 10));
      if (!older) {
        storage.remove(storageKey);
        return;
      }
      input.value = saved.value;
      input.dataset.saved = saved.value;
      input.dataset.reason = saved.reason || "";
      input.dataset.version = saved.version;
      refreshCell(input);
    });
  }

  // ---- status and conflicts -----------------------------------------------------------

  var lastError = "";

  function showError(text) {
    lastError = text;
    updateStatus();
  }

  function updateStatus() {
    if (!statusEl) {
      return;
    }
    var waiting = Object.keys(pending).filter(function (key) {
      return !pending[key].conflict;
    }).length;
    var undecided = Object.keys(pending).length - waiting;
    var text;
    var state = "";
    if (undecided > 0) {
      text = fill(messages.undecided, { count: undecided });
      state = "error";
    } else if (waiting === 0) {
      text = lastError || messages.allSaved;
      state = lastError ? "error" : "";
    } else if (signedOut) {
      text = fill(messages.signedOut, { count: waiting });
      state = "error";
    } else if (!navigator.onLine) {
      text = fill(messages.offline, { count: waiting });
      state = "pending";
    } else if (attempts > 0 && serverTrouble) {
      text = fill(messages.serverBusy, { count: waiting });
      state = "pending";
    } else if (attempts > 0) {
      text = fill(messages.pending, { count: waiting });
      state = "pending";
    } else {
      text = fill(messages.unsaved, { count: waiting });
      state = "pending";
    }
    statusEl.textContent = text;
    statusEl.className = "save-status" + (state ? " " + state : "");
  }

  function showConflict(input, key, current) {
    cellOf(input).classList.add("conflicted");
    var box = document.createElement("div");
    box.className = "conflict";
    box.setAttribute("role", "alert");
    box.dataset.key = key;
    var text = document.createElement("p");
    var label = input.getAttribute("aria-label");
    if (current.value === null) {
      text.textContent = label + ": " + messages.conflictCleared;
    } else {
      text.textContent =
        label +
        ": " +
        fill(messages.conflict, {
          who: current.updated_by || "?",
          value: shown(input.dataset.kind, current.value),
          time: current.updated_at_display || "",
        });
    }
    var mine = document.createElement("button");
    mine.type = "button";
    mine.className = "button small";
    mine.textContent = messages.keepMine;
    var theirs = document.createElement("button");
    theirs.type = "button";
    theirs.className = "button secondary small";
    theirs.textContent = messages.takeTheirs;
    mine.addEventListener("click", function () {
      var entry = pending[key];
      box.remove();
      if (!entry) {
        return;
      }
      entry.expected = current.version;
      entry.conflict = null;
      storage.set(prefix + key, {
        value: entry.value,
        reason: entry.reason,
        expected: entry.expected,
        at: Date.now(),
      });
      cellOf(input).classList.remove("conflicted");
      input.value = entry.value;
      flushSoon(0);
      input.focus();
    });
    theirs.addEventListener("click", function () {
      box.remove();
      var text = shown(input.dataset.kind, current.value);
      input.value = text;
      input.dataset.saved = text;
      input.dataset.version = current.version === null ? "" : String(current.version);
      input.dataset.reason = current.reason || "";
      forget(input);
      refreshCell(input);
      updateStatus();
      input.focus();
    });
    box.appendChild(text);
    box.appendChild(mine);
    box.appendChild(theirs);
    var old = conflictsEl.querySelector('[data-key="' + key + '"]');
    if (old) {
      old.remove();
    }
    conflictsEl.appendChild(box);
    updateStatus();
  }

  // ---- what is missing, to re-score, or unexplained --------------------------------

  function refreshCell(input) {
    var cell = cellOf(input);
    cell.classList.toggle("missing", input.dataset.saved === "");
    if (input.dataset.kind === "M") {
      var value = hundredths(input.dataset.saved);
      var deduction = value !== null && value < parseInt(input.dataset.max, 10);
      cell.classList.toggle("no-reason", deduction && !input.dataset.reason);
    } else {
      refreshJudgement(input);
    }
    refreshCounts();
  }

  function judgementGroup(input) {
    var row = input.closest("tr");
    return Array.prototype.slice.call(
      row.querySelectorAll('input.mark[data-aspect-id="' + input.dataset.aspectId + '"]')
    );
  }

  function needsRescoring(group) {
    var scores = group.map(function (other) {
      return other.dataset.saved === "" ? null : parseInt(other.dataset.saved, 10);
    });
    if (scores.indexOf(null) !== -1) {
      return false;
    }
    return Math.max.apply(null, scores) - Math.min.apply(null, scores) > spread;
  }

  function refreshJudgement(input) {
    var group = judgementGroup(input);
    var rescore = needsRescoring(group);
    group.forEach(function (other) {
      cellOf(other).classList.toggle("rescore", rescore);
    });
  }

  function refreshCounts() {
    var missing = 0;
    var deductions = 0;
    var rescoreGroups = {};
    inputs.forEach(function (input) {
      if (input.dataset.saved === "") {
        missing += 1;
      }
      if (cellOf(input).classList.contains("no-reason")) {
        deductions += 1;
      }
      if (cellOf(input).classList.contains("rescore")) {
        rescoreGroups[input.dataset.enrolment + ":" + input.dataset.aspectId] = true;
      }
    });
    var rescore = Object.keys(rescoreGroups).length;
    setCount("count-missing", missing, missing ? fill(messages.missing, { count: missing }) : messages.complete);
    document.getElementById("count-missing").className = "badge " + (missing ? "warn" : "ok");
    setCount("count-rescore", rescore, fill(messages.rescore, { count: rescore }));
    setCount("count-deductions", deductions, fill(messages.deductions, { count: deductions }));
  }

  function setCount(id, count, text) {
    var element = document.getElementById(id);
    if (!element) {
      return;
    }
    element.textContent = text;
    element.hidden = id !== "count-missing" && count === 0;
  }

  // ---- the cell panel: aspect description, deduction reason, history ---------------

  var active = null;
  var reasonField = document.getElementById("panel-reason-field");
  var reasonInput = document.getElementById("panel-reason");
  var historyButton = document.getElementById("panel-history");
  var historyList = document.getElementById("panel-history-list");

  function showPanel(input) {
    if (!panel) {
      return;
    }
    var header = headers[parseInt(input.dataset.c, 10)];
    var seat = parseInt(input.dataset.seat, 10);
    document.getElementById("panel-title").textContent = input.getAttribute("aria-label");
    document.getElementById("panel-max").textContent =
      input.dataset.kind === "M" ? fill(messages.max, { max: header.dataset.max }) : messages.judged;
    document.getElementById("panel-description").textContent = header.dataset.description || "";
    var extra = document.getElementById("panel-extra");
    extra.textContent = header.dataset.extra || "";
    extra.hidden = !header.dataset.extra;
    var levels = document.getElementById("panel-levels");
    levels.textContent = "";
    if (input.dataset.kind === "J" && header.dataset.levels) {
      JSON.parse(header.dataset.levels).forEach(function (level, score) {
        var item = document.createElement("li");
        item.textContent = score + " — " + level;
        levels.appendChild(item);
      });
      levels.hidden = false;
    } else {
      levels.hidden = true;
    }
    // a deduction's reason, or the chief's reason for writing another judge's seat
    var seatReason = input.dataset.reasonRequired === "true";
    var canReason = (input.dataset.kind === "M" || seatReason) && !input.disabled;
    var reasonLabel = document.getElementById("panel-reason-label");
    if (reasonLabel) {
      reasonLabel.textContent = seatReason ? reasonLabel.dataset.seat : reasonLabel.dataset.deduction;
    }
    reasonField.hidden = !canReason;
    reasonInput.disabled = !canReason;
    reasonInput.value = currentReason(input);
    if (historyList) {
      historyList.hidden = true;
      historyList.textContent = "";
    }
    panel.hidden = false;
    panel.dataset.seat = String(seat);
  }

  function highlight(input, on) {
    var header = headers[parseInt(input.dataset.c, 10)];
    if (header) {
      header.classList.toggle("active", on);
    }
    input.closest("tr").classList.toggle("active", on);
  }

  if (reasonInput) {
    reasonInput.addEventListener("keydown", function (event) {
      if (!active) {
        return;
      }
      if (event.key === "Enter") {
        event.preventDefault();
        commit(active, reasonInput.value);
        active.focus();
        active.select();
      } else if (event.key === "Escape") {
        event.preventDefault();
        reasonInput.value = currentReason(active);
        active.focus();
        active.select();
      }
    });
    reasonInput.addEventListener("change", function () {
      if (active && active.value.trim() !== "") {
        commit(active, reasonInput.value);
      }
    });
  }

  if (historyButton && historyUrl) {
    historyButton.addEventListener("click", function () {
      if (!active) {
        return;
      }
      var query =
        "?enrolment_id=" +
        encodeURIComponent(active.dataset.enrolment) +
        "&aspect=" +
        encodeURIComponent(active.dataset.aspect) +
        "&seat=" +
        encodeURIComponent(active.dataset.seat);
      window
        .fetch(historyUrl + query, {
          credentials: "same-origin",
          headers: { Accept: "application/json" },
        })
        .then(function (response) {
          if (!response.ok) {
            throw new Error(String(response.status));
          }
          return response.json();
        })
        .then(function (data) {
          historyList.textContent = "";
          if (!data.entries.length) {
            var none = document.createElement("li");
            none.textContent = messages.noHistory;
            historyList.appendChild(none);
          }
          data.entries.forEach(function (entry) {
            var item = document.createElement("li");
            var change = (entry.old || "∅") + " → " + (entry.new || "∅");
            item.textContent =
              entry.at_display + " — " + entry.actor + ": " + change + (entry.reason ? " (" + entry.reason + ")" : "");
            historyList.appendChild(item);
          });
          historyList.hidden = false;
        })
        .catch(function () {
          historyList.textContent = messages.historyFailed;
          historyList.hidden = false;
        });
    });
  }

  // ---- keyboard --------------------------------------------------------------------

  function moveTo(r, c, dr, dc) {
    while (r >= 0 && r < rows && c >= 0 && c < columns) {
      var target = byPosition[r + ":" + c];
      if (target && !target.disabled) {
        target.focus();
        target.select(); // at once: a deferred select would swallow fast typing
        return true;
      }
      r += dr;
      c += dc;
    }
    return false;
  }

  grid.addEventListener("keydown", function (event) {
    var input = event.target;
    if (!input.classList || !input.classList.contains("mark")) {
      return;
    }
    var r = parseInt(input.dataset.r, 10);
    var c = parseInt(input.dataset.c, 10);
    var length = input.value.length;
    var atStart = input.selectionStart === 0;
    var atEnd = input.selectionEnd === length;
    if (event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    switch (event.key) {
      case "Enter":
        event.preventDefault();
        commit(input);
        if (event.shiftKey) {
          moveTo(r - 1, c, -1, 0);
        } else if (!moveTo(r + 1, c, 1, 0)) {
          moveTo(0, c + 1, 1, 0) || moveTo(0, c + 1, 0, 1);
        }
        return;
      case "ArrowDown":
        event.preventDefault();
        commit(input);
        moveTo(r + 1, c, 1, 0);
        return;
      case "ArrowUp":
        event.preventDefault();
        commit(input);
        moveTo(r - 1, c, -1, 0);
        return;
      case "ArrowLeft":
        if (atStart) {
          event.preventDefault();
          commit(input);
          moveTo(r, c - 1, 0, -1);
        }
        return;
      case "ArrowRight":
        if (atEnd) {
          event.preventDefault();
          commit(input);
          moveTo(r, c + 1, 0, 1);
        }
        return;
      case "Escape":
        event.preventDefault();
        input.value = input.dataset.saved;
        clearRefusal(input);
        delete input.dataset.refused;
        if (pending[keyOf(input)] && !pending[keyOf(input)].conflict) {
          forget(input);
          updateStatus();
        }
        input.select();
        return;
      case "r":
      case "R":
        if (input.dataset.kind === "M" && reasonInput && !reasonInput.disabled) {
          event.preventDefault();
          commit(input);
          reasonInput.focus();
        }
        return;
      // every other key types: a wrong value is refused on its cell, never dropped silently
    }
  });

  grid.addEventListener("focusin", function (event) {
    var input = event.target;
    if (!input.classList || !input.classList.contains("mark")) {
      return;
    }
    if (active && active !== input) {
      highlight(active, false);
    }
    active = input;
    highlight(input, true);
    showPanel(input);
  });

  grid.addEventListener("focusout", function (event) {
    var input = event.target;
    if (input.classList && input.classList.contains("mark")) {
      commit(input);
    }
  });

  /* A block copied from Excel or Google Sheets (tab-separated cells, one row per line),
   * placed from the focused cell right and down. Each value is queued like a typed one, so
   * the server checks it cell by cell (value, locked form, judge seat) and a refusal shows
   * on its own cell. Empty spreadsheet cells leave the grid's cell as it is; closed cells
   * and what falls beyond the grid are skipped and counted in the status bar. */
  grid.addEventListener("paste", function (event) {
    var start = event.target;
    if (!start.classList || !start.classList.contains("mark") || !event.clipboardData) {
      return;
    }
    var text = event.clipboardData.getData("text/plain").replace(/(\r?\n)+$/, "");
    if (!/[\t\r\n]/.test(text)) {
      return; // one value: the browser pastes it into the cell as usual
    }
    event.preventDefault();
    var r0 = parseInt(start.dataset.r, 10);
    var c0 = parseInt(start.dataset.c, 10);
    var skipped = 0;
    var placed = [];
    text.split(/\r?\n/).forEach(function (line, i) {
      line.split("\t").forEach(function (value, j) {
        value = value.trim();
        if (value === "") {
          return;
        }
        var target = byPosition[r0 + i + ":" + (c0 + j)];
        if (!target || target.disabled) {
          skipped += 1;
          return;
        }
        target.value = value;
        placed.push(target);
      });
    });
    placed.forEach(function (target) {
      commit(target);
    });
    showError(skipped ? fill(messages.pasteSkipped, { count: skipped }) : "");
    start.select();
  });

  grid.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.classList || !input.classList.contains("mark")) {
      return;
    }
    // keep every keystroke on this device at once; it is sent when the cell is left
    var entry = pending[keyOf(input)];
    if (entry && entry.conflict) {
      entry.value = input.value.trim();
      return;
    }
    remember(input, input.value.trim(), currentReason(input));
    updateStatus();
    scheduleIdleCommit(input);
  });

  var idleTimer = null;
  function scheduleIdleCommit(input) {
    if (idleTimer) {
      window.clearTimeout(idleTimer);
    }
    idleTimer = window.setTimeout(function () {
      idleTimer = null;
      commit(input);
    }, 1500);
  }

  // ---- judge seats (chief expert) -------------------------------------------------

  // Each seat is a small form the page posts without JavaScript; here the change is sent
  // at once through the API and the page updates in place (no reload, no lost focus).
  var csrfInput = document.querySelector('form.seat-form input[name="csrf_token"]');
  Array.prototype.forEach.call(document.querySelectorAll("form.seat-form"), function (seatForm) {
    var select = seatForm.querySelector("select.seat-select");
    var button = seatForm.querySelector(".seat-save");
    if (!select) {
      return;
    }
    if (button) {
      button.hidden = true;
    }
    seatForm.addEventListener("submit", function (event) {
      event.preventDefault();
    });
    select.addEventListener("change", function () {
      select.disabled = true;
      window
        .fetch(select.dataset.url, {
          method: "PUT",
          credentials: "same-origin",
          headers: {
            "Content-Type": "application/json",
            Accept: "application/json",
            "X-Requested-With": "XMLHttpRequest",
            "X-CSRFToken": csrfInput ? csrfInput.value : "",
          },
          body: JSON.stringify({ user_id: select.value ? parseInt(select.value, 10) : null }),
        })
        .then(function (response) {
          return response.json().then(function (data) {
            if (!response.ok) {
              throw new Error(data.detail || firstError(data.errors || {}) || String(response.status));
            }
            var seat = select.dataset.seat;
            select.dataset.saved = data.user_id === null ? "" : String(data.user_id);
            var option = select.options[select.selectedIndex];
            var short = data.user_id === null || !option ? "" : option.dataset.short || "";
            Array.prototype.forEach.call(
              document.querySelectorAll('.seat-name[data-seat="' + seat + '"]'),
              function (span) {
                span.textContent = short ? " · " + short : "";
              }
            );
            select.disabled = false;
            showError("");
            statusEl && (statusEl.textContent = fill(messages.seatSaved, { seat: seat }));
          });
        })
        .catch(function (error) {
          select.value = select.dataset.saved || "";
          select.disabled = false;
          showError(fill(messages.notSaved, { message: error.message }));
        });
    });
  });

  // ---- start: restore what this device still holds ---------------------------------

  function restore() {
    var restored = 0;
    storage.keys(prefix).forEach(function (storageKey) {
      var key = storageKey.slice(prefix.length);
      var input = byKey[key];
      var saved = storage.get(storageKey);
      if (!input || !saved) {
        return;
      }
      if (input.disabled) {
        return; // locked or closed now: kept on the device, not sent
      }
      if (saved.value === input.dataset.saved && (saved.reason || "") === (input.dataset.reason || "")) {
        storage.remove(storageKey);
        return;
      }
      pending[key] = { value: saved.value, reason: saved.reason || "", expected: saved.expected };
      input.value = saved.value;
      cellOf(input).classList.add("pending");
      restored += 1;
    });
    if (restored && statusEl) {
      statusEl.textContent = fill(messages.restored, { count: restored });
    }
    if (restored) {
      flushSoon(300);
    }
  }

  window.addEventListener("online", function () {
    attempts = 0;
    flushSoon(0);
  });
  window.addEventListener("offline", updateStatus);
  // signed in again in another tab: send the queue as soon as the expert is back here
  function retryIfSignedOut() {
    if (signedOut && !document.hidden) {
      attempts = 0;
      flushSoon(0);
    }
  }
  window.addEventListener("focus", retryIfSignedOut);
  document.addEventListener("visibilitychange", retryIfSignedOut);
  // leaving with entries the server does not have yet asks first (they stay on the device)
  window.addEventListener("beforeunload", function (event) {
    if (active) {
      commit(active);
    }
    if (Object.keys(pending).length > 0) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
  window.addEventListener("pagehide", function () {
    if (active) {
      commit(active);
    }
  });

  /* Where the expert starts: the first empty cell in entry order (down each column). */
  function focusFirstEmpty() {
    var ordered = inputs.slice().sort(function (a, b) {
      return a.dataset.c - b.dataset.c || a.dataset.r - b.dataset.r;
    });
    var first = ordered.filter(function (input) {
      return !input.disabled && input.value.trim() === "";
    })[0];
    if (!first) {
      return;
    }
    var wrap = grid.closest(".marking-wrap");
    // the grid fills the screen below the sticky status bar, the cell inside the grid
    if (wrap && wrap.getBoundingClientRect().bottom > window.innerHeight) {
      wrap.scrollIntoView({ block: "end" });
    }
    first.focus();
    first.select();
  }

  if (editable) {
    laySaved();
    restore();
    focusFirstEmpty();
  }
  refreshCounts();
})();
