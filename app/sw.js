/* Skills Passport service worker: served at /sw.js (scope /) by app/offline.py.
 *
 * Two caches, nothing else kept:
 * - grid-v1: the marking grid pages an expert opened (answers the server marks
 *   "X-Offline-Cache: grid; owner=<key>": an editable grid of a signed-in marker) and the
 *   scripts, styles and fonts those pages use. The page is fetched from the network first,
 *   so online it always shows the current marks; only when the server cannot be reached
 *   (no connection, or a 5xx from a proxy in front of it) is the kept copy shown. The cache
 *   belongs to one user: another user's grid replaces it whole, and a page of nobody or of
 *   someone else (signed out, the sign-in page, the next person on a shared tablet) or the
 *   sign-out request itself deletes it.
 * - verify-v1: the verification page /V as a visitor gets it ("X-Offline-Cache: verify"),
 *   its scripts, styles and fonts, the trust list, the JWKS and the last signed status list,
 *   so a passport is verified with no network at all after one visit.
 * POST and PUT answers are never kept; no other page is ever kept.
 *
 * The pages tell the worker who they are for after loading (app/static/js/offline.js):
 * {type: "page", owner, page, controlled, assets}; the worker answers on the message's port
 * when it has kept what the page needs.
 */
"use strict";

const GRID = "grid-v1";
const VERIFY = "verify-v1";
const CURRENT = [GRID, VERIFY];
const OWNER = "/offline/grid-owner"; // a made-up entry in GRID: whose pages these are
const GRID_PAGE = /^\/exams\/\d+\/forms\/\d+$/;
const VERIFY_PAGE = /^\/[Vv]$/;
const VERIFY_KEY = "/V";
const VERIFY_DATA = [
  "/.well-known/jwks.json",
  "/.well-known/skills-passport/trust-list.jws",
  "/status/message",
];
const ASSET = /^\/(static|assets)\//;
const NAVIGATION_PATIENCE = 10000; // ms before a hanging server gives way to the kept copy
const DATA_REFRESH = 3600 * 1000; // a kept JWKS / trust list / status list is renewed hourly

self.addEventListener("install", () => {
  self.skipWaiting();
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (/^(grid|verify)-/.test(name) && !CURRENT.includes(name)) {
          await caches.delete(name);
        }
      }
      await self.clients.claim();
    })(),
  );
});

// ---- the grid cache and its owner ---------------------------------------------------

let gridQueue = Promise.resolve();

/* Run the grid-cache changes one after the other (an owner check and a put must not interleave). */
function withGrid(work) {
  const run = gridQueue.then(work, work);
  gridQueue = run.catch(() => undefined);
  return run;
}

async function clearGrid() {
  for (const name of await caches.keys()) {
    if (name.startsWith("grid-")) {
      await caches.delete(name);
    }
  }
}

// Reads go through caches.match(…, {cacheName}), which never creates a cache: a
// caches.open() racing a deletion would bring back an empty grid cache after sign-out.
async function gridOwner() {
  const stamp = await caches.match(OWNER, { cacheName: GRID });
  return stamp ? stamp.text() : null;
}

/* The grid cache for this owner: another owner's pages are deleted first. */
async function gridCacheOf(owner) {
  if ((await gridOwner()) !== owner) {
    await clearGrid();
    const cache = await caches.open(GRID);
    await cache.put(OWNER, new Response(owner));
    return cache;
  }
  return caches.open(GRID);
}

function keptGrid(key) {
  return caches.match(key, { cacheName: GRID });
}

function offlineMark(response) {
  const [kind, ...params] = (response.headers.get("X-Offline-Cache") || "").split(";");
  const owner = params.map((part) => part.trim()).find((part) => part.startsWith("owner="));
  return { kind: kind.trim(), owner: owner ? owner.slice("owner=".length) : "" };
}

/* Keep an answer for the grid when the server marked it as this owner's editable grid. */
async function keepGridPage(key, response, owner) {
  const mark = offlineMark(response);
  if (response.ok && mark.kind === "grid" && mark.owner && (!owner || mark.owner === owner)) {
    const copy = response.clone();
    await withGrid(async () => (await gridCacheOf(mark.owner)).put(key, copy));
    return true;
  }
  if (response.type === "opaqueredirect" || (response.status > 0 && response.status < 500)) {
    // no longer an editable grid of this user (locked, signed out, not theirs): drop the copy
    await withGrid(async () => {
      if (await keptGrid(key)) {
        await (await caches.open(GRID)).delete(key);
      }
    });
  }
  return false;
}

// ---- fetching -----------------------------------------------------------------------

function pathOf(url) {
  const parsed = new URL(url);
  return parsed.origin + parsed.pathname;
}

/* The network's answer; the kept copy instead when the network fails, answers 5xx, or
 * (with a copy at hand) takes longer than `patience` ms. */
async function networkFirst(request, kept, onAnswer, patience) {
  const network = fetch(request).then(async (response) => {
    if (onAnswer) {
      try {
        await onAnswer(response);
      } catch {
        // a full or blocked cache never costs the page its answer
      }
    }
    return response;
  });
  const copy = await kept();
  if (!copy) {
    return network;
  }
  let timer;
  const late = new Promise((resolve) => {
    timer = setTimeout(() => resolve(null), patience || 2147483647);
  });
  try {
    const response = await Promise.race([network, late]);
    if (response && response.status < 500) {
      return response;
    }
  } catch {
    // unreachable: the copy below
  } finally {
    clearTimeout(timer);
  }
  network.catch(() => undefined);
  return copy;
}

function keepIn(cacheName, key) {
  return async (response) => {
    if (response.ok) {
      await (await caches.open(cacheName)).put(key, response.clone());
    }
  };
}

async function keptAsset(request) {
  for (const name of CURRENT) {
    const found = await caches.match(request, { cacheName: name });
    if (found) {
      return found;
    }
  }
  return undefined;
}

async function renewIn(name, request, response) {
  if (await caches.match(request, { cacheName: name })) {
    await (await caches.open(name)).put(request, response.clone());
  }
}

/* An asset already kept is renewed in every cache holding it whenever it is fetched. */
async function renewAsset(request, response) {
  if (response.ok) {
    await withGrid(() => renewIn(GRID, request, response));
    await renewIn(VERIFY, request, response);
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  if (request.method === "POST" && url.pathname === "/logout") {
    // the cached grid holds names: it goes before the session does
    event.respondWith(withGrid(clearGrid).then(() => fetch(request)));
    return;
  }
  if (request.method !== "GET") {
    return;
  }
  if (request.mode === "navigate" && GRID_PAGE.test(url.pathname)) {
    const key = pathOf(request.url);
    event.respondWith(
      networkFirst(
        request,
        () => keptGrid(key),
        (response) => keepGridPage(key, response, null),
        NAVIGATION_PATIENCE,
      ),
    );
  } else if (request.mode === "navigate" && VERIFY_PAGE.test(url.pathname)) {
    event.respondWith(
      networkFirst(
        request,
        () => caches.match(VERIFY_KEY, { cacheName: VERIFY }),
        async (response) => {
          if (offlineMark(response).kind === "verify") {
            await keepIn(VERIFY, VERIFY_KEY)(response);
          }
        },
        NAVIGATION_PATIENCE,
      ),
    );
  } else if (VERIFY_DATA.includes(url.pathname)) {
    const key = pathOf(request.url);
    event.respondWith(
      networkFirst(request, () => caches.match(key, { cacheName: VERIFY }), keepIn(VERIFY, key)),
    );
  } else if (ASSET.test(url.pathname)) {
    event.respondWith(
      networkFirst(
        request,
        () => keptAsset(request),
        (response) => renewAsset(request, response),
      ),
    );
  }
});

// ---- what a page asks to keep ---------------------------------------------------------

function sameOriginAssets(urls) {
  return (Array.isArray(urls) ? urls : [])
    .map((url) => {
      try {
        return new URL(url, self.location.origin);
      } catch {
        return null;
      }
    })
    .filter((url) => url && url.origin === self.location.origin && ASSET.test(url.pathname))
    .map((url) => url.href);
}

/* Fetch and store what `name` lacks of `urls`; `store` puts one answer (it may refuse). */
async function addMissing(name, urls, store) {
  await Promise.allSettled(
    urls.map(async (url) => {
      if (!(await caches.match(url, { cacheName: name }))) {
        const response = await fetch(url, { credentials: "same-origin" });
        if (response.ok) {
          await store(url, response);
        }
      }
    }),
  );
}

async function keepGrid(message, page) {
  const key = pathOf(page.href);
  if (!message.controlled) {
    // the first visit went past the worker: fetch the page again to keep it
    try {
      const response = await fetch(key, { credentials: "same-origin", redirect: "manual" });
      await keepGridPage(key, response, message.owner);
    } catch {
      return; // unreachable now: kept on the next visit
    }
  }
  if ((await gridOwner()) === message.owner && (await keptGrid(key))) {
    // stored only while the grid is still this owner's (a sign-out may come in between)
    await addMissing(GRID, sameOriginAssets(message.assets), (url, response) =>
      withGrid(async () => {
        if ((await gridOwner()) === message.owner) {
          await (await caches.open(GRID)).put(url, response);
        }
      }),
    );
  }
}

async function stale(cache, url) {
  const kept = await cache.match(url);
  if (!kept) {
    return true;
  }
  const date = Date.parse(kept.headers.get("Date") || "");
  return isNaN(date) || Date.now() - date > DATA_REFRESH;
}

async function keepVerify(message) {
  const cache = await caches.open(VERIFY);
  if (!message.controlled || !(await cache.match(VERIFY_KEY))) {
    try {
      let response = await fetch(VERIFY_KEY, { credentials: "same-origin" });
      if (offlineMark(response).kind !== "verify") {
        // the signed-in copy names its user: keep the visitor's page instead
        response = await fetch(VERIFY_KEY, { credentials: "omit" });
      }
      if (response.ok && offlineMark(response).kind === "verify") {
        await cache.put(VERIFY_KEY, response);
      }
    } catch {
      // unreachable now: kept on the next visit
    }
  }
  await Promise.allSettled(
    VERIFY_DATA.map(async (path) => {
      const url = new URL(path, self.location.origin).href;
      if (await stale(cache, url)) {
        const response = await fetch(url, { credentials: "same-origin" });
        if (response.ok) {
          await cache.put(url, response);
        }
      }
    }),
  );
  await addMissing(VERIFY, sameOriginAssets(message.assets), (url, response) =>
    cache.put(url, response),
  );
}

async function pageLoaded(message) {
  const owner = typeof message.owner === "string" ? message.owner : "";
  const kept = await gridOwner();
  if (kept !== null && kept !== owner) {
    // signed out, or someone else on this device: the names in the grid go
    await withGrid(clearGrid);
  }
  const page = new URL(String(message.page || "/"), self.location.origin);
  if (page.origin !== self.location.origin) {
    return;
  }
  if (owner && GRID_PAGE.test(page.pathname)) {
    await keepGrid({ ...message, owner }, page);
  } else if (VERIFY_PAGE.test(page.pathname)) {
    await keepVerify(message);
  }
}

self.addEventListener("message", (event) => {
  const message = event.data || {};
  if (message.type !== "page") {
    return;
  }
  const port = event.ports && event.ports[0];
  event.waitUntil(
    pageLoaded(message).then(
      () => port && port.postMessage({ kept: true }),
      (error) => port && port.postMessage({ kept: false, error: String(error) }),
    ),
  );
});
