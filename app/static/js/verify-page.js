// The QR verification page (/V#TOKEN).
//
// The token is in the URL fragment, which the browser never sends to the server. This script
// 1. verifies the token's signature here, with WebCrypto, and whether the national trust list
//    (signed by the trust anchor) allows its key to certify this competence
//    (verifyPassport in passports/static/verify.js), and
// 2. asks the server for the live status (revoked, superseded, expired) by POSTing the token
//    to /api/v1/verify (a body, never a URL); when the server does not answer, the issuer's
//    signed status list (the 2-bit message list, no older than data-status-max-age seconds;
//    embedded in the page, fetched now or kept from an earlier visit) stands in for it,
// then shows one large verdict and the passport. The verdicts, their precedence and colours
// are docs/passport-token.md §8: "genuine" needs the signature, a key the trust list allows,
// AND a status answer; a genuine signature without a status answer is "unchecked" (amber),
// never green; a key the list does not allow is "untrusted" (red). The anchor JWK (a setting
// of this server), trust list, JWK Set and status list come embedded in the page
// (#verify-data); a list or key set missing there is fetched, else taken from an earlier
// visit. Every text comes from the page (data-i18n), translated on the server; nothing here
// is user-visible English.

import { normaliseToken, readStatusList, verifyPassport } from "/static/passports/verify.js";

const root = document.getElementById("verify");
const t = JSON.parse(root.dataset.i18n);
const locale = root.dataset.locale || "kk";
const timeZone = root.dataset.timezone || "Asia/Almaty";
const topGrade = root.dataset.topGrade || "5"; // the national scale's best grade: "4 of 5"

const VERDICT_CLASS = {
  pending: "info",
  empty: "info",
  damaged: "info",
  invalid: "bad",
  untrusted: "bad",
  revoked: "bad",
  superseded: "warn",
  expired: "warn",
  unchecked: "warn",
  genuine: "ok",
};
// what this browser keeps for the next check without a network
const KEPT_JWKS = "skills-passport:jwks";
const KEPT_LIST = "skills-passport:status-message";
const KEPT_SECTIONS = "skills-passport:sections"; // [{code, sections: [{key, name}]}], newest last
const KEPT_COMPETENCES = 100; // at most this many competences' section names are kept
const KEPT_TRUST_LIST = "skills-passport:trust-list";
const LIST_REFRESH_SECONDS = 3600;
// verifyPassport's reasons for "unchecked" that mean: no usable trust list
const TRUST_MISSING = new Set(["trust-list-expired", "no-trust-list", "wrong-anchor", "malformed", "format", "no-anchor"]);
// ... and the server's words for them (t["trust:" + code]); the others: t.trust_unavailable
const TRUST_PROBLEM = {
  "trust-list-expired": "expired",
  "wrong-anchor": "unreadable",
  malformed: "unreadable",
  format: "unreadable",
  "no-anchor": "no-anchor",
};
const MARK = { ok: "✓", bad: "✗", warn: "!", info: "?" };

function fill(template, params) {
  return template
    .replace(/%\((\w+)\)s/g, (_, name) => (name in params ? params[name] : ""))
    .replace(/%%/g, "%");
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined) continue;
    if (name === "class") node.className = value;
    else node.setAttribute(name, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === "") continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function pick(names) {
  if (!names || typeof names !== "object") return names || "";
  for (const code of [locale, "kk", "ru", "en"]) {
    if (names[code]) return names[code];
  }
  return "";
}

function num(text) {
  if (text === null || text === undefined) return "";
  const value = String(text);
  return locale === "en" ? value : value.replace(".", ",");
}

function formatDate(iso) {
  if (!iso) return "";
  const date = iso.length === 10 ? new Date(`${iso}T00:00:00Z`) : new Date(iso);
  const zone = iso.length === 10 ? "UTC" : timeZone;
  try {
    return new Intl.DateTimeFormat("ru-RU", {
      timeZone: zone,
      day: "2-digit",
      month: "2-digit",
      year: "numeric",
    }).format(date);
  } catch {
    return iso.slice(0, 10);
  }
}

function formatTime(iso) {
  try {
    return new Intl.DateTimeFormat("ru-RU", { timeZone, hour: "2-digit", minute: "2-digit" }).format(new Date(iso));
  } catch {
    return "";
  }
}

function hundredths(value) {
  return `${Math.floor(value / 100)}.${String(value % 100).padStart(2, "0")}`;
}

function showVerdict(kind, title, text, extra) {
  const box = document.getElementById("verdict");
  const cls = VERDICT_CLASS[kind] || "warn";
  box.className = `verdict verdict-${cls}`;
  box.dataset.status = kind;
  box.replaceChildren(
    el("div", { class: "verdict-mark", "aria-hidden": "true" }, MARK[cls]),
    el("div", {}, el("p", { class: "verdict-title" }, title), text ? el("p", {}, text) : null, extra),
  );
}

function addCheck(kind, text) {
  document
    .getElementById("checks")
    .append(el("li", { class: `check check-${kind}`, "data-check": kind }, text));
}

function facts(rows) {
  const list = el("dl", { class: "facts" });
  for (const [label, value] of rows) {
    if (!value) continue;
    list.append(el("dt", {}, label), el("dd", {}, value));
  }
  return list;
}

function bar(label, share, value) {
  const fillBar = el("span", { class: "bar-fill" });
  fillBar.style.width = `${(Math.max(0, Math.min(1, share)) * 100).toFixed(1)}%`;
  return el(
    "li",
    {},
    el("span", { class: "bar-label" }, label),
    el("span", { class: "bar-track", "aria-hidden": "true" }, fillBar),
    el("span", { class: "bar-value" }, value),
  );
}

function bars(title, parts) {
  const list = el("ul", { class: "bars", "aria-label": title });
  for (const part of parts) {
    const max = Number(part.max);
    const share = max > 0 ? Number(part.mark) / max : 0;
    const label = pick(part.name) ? `${part.key}. ${pick(part.name)}` : String(part.key);
    list.append(bar(label, share, `${num(part.mark)} / ${num(part.max)}`));
  }
  return el("section", { class: "profile" }, el("h3", {}, title), list);
}

/** Keep the competence's section names from a server answer, to name a profile read offline. */
function keepSections(passport) {
  const code = passport && passport.competence && passport.competence.code;
  const sections = passport && passport.profile && passport.profile.sections;
  if (typeof code !== "string" || !Array.isArray(sections) || sections.length === 0) return;
  const known = kept(KEPT_SECTIONS);
  // an array, not an object: "17" and "05" would not keep their order as object keys
  const others = Array.isArray(known) ? known.filter((entry) => entry && entry.code !== code) : [];
  const entry = { code, sections: sections.map((section) => ({ key: String(section.key), name: section.name })) };
  keep(KEPT_SECTIONS, [...others, entry].slice(-KEPT_COMPETENCES));
}

/** The section names kept for a competence, or null. */
function keptSections(code) {
  const known = kept(KEPT_SECTIONS);
  const entry = Array.isArray(known) ? known.find((item) => item && item.code === code) : null;
  return entry && Array.isArray(entry.sections) ? entry.sections : null;
}

/**
 * The skills profile signed in the token (docs/passport-token.md §1.1): one whole percent per
 * WSOS section. Sections are named from an earlier server answer for the same competence with
 * as many sections, else numbered by position.
 */
function tokenProfile(claims) {
  if (!Array.isArray(claims.profile) || claims.profile.length === 0) return null;
  const sections = keptSections(claims.competenceCode);
  const named = sections && sections.length === claims.profile.length ? sections : null;
  const list = el("ul", { class: "bars", "aria-label": t.profile_sections });
  claims.profile.forEach((percent, i) => {
    const section = named ? named[i] : null;
    const label =
      section && pick(section.name) ? `${section.key}. ${pick(section.name)}` : fill(t.section_number, { n: String(i + 1) });
    list.append(bar(label, percent / 100, `${percent}\u00a0%`));
  });
  return el(
    "section",
    { class: "profile", "data-source": "token", "data-named": named ? "true" : "false" },
    el("h3", {}, t.profile_sections),
    list,
    el("p", { class: "muted small" }, t.profile_from_token),
  );
}

function renderPassport(passport, claims) {
  const holder = document.getElementById("passport");
  if (passport) {
    const dates =
      passport.exam.start_date === passport.exam.end_date
        ? formatDate(passport.exam.start_date)
        : `${formatDate(passport.exam.start_date)} – ${formatDate(passport.exam.end_date)}`;
    const result = passport.result;
    holder.replaceChildren(
      el(
        "article",
        { class: "card passport-card" },
        el("p", { class: "muted label" }, t.holder),
        el("p", { class: "holder-name" }, passport.holder.name),
        el("p", { class: "muted" }, passport.holder.name_latin),
        facts([
          [t.number, passport.number],
          [t.competence, `${passport.competence.code} — ${pick(passport.competence.name)}`],
          [t.result, fill(t.total_of, { total: num(result.total), max: num(result.max), percent: num(result.percent) })],
          [t.grade, fill(t.grade_of, { grade: String(result.grade), top: topGrade })],
          [t.centre, pick(passport.centre.name)],
          [t.college, pick(passport.college.name)],
          [t.exam_dates, dates],
          [t.issued, formatDate(passport.issued_at)],
          [t.valid_until, passport.expires_at ? formatDate(passport.expires_at) : t.no_expiry],
          [t.issuer, pick(passport.issuer.name)],
        ]),
        passport.profile.sections.length ? bars(t.profile_sections, passport.profile.sections) : null,
        passport.profile.criteria.length ? bars(t.profile_modules, passport.profile.criteria) : null,
      ),
    );
  } else if (claims) {
    holder.replaceChildren(
      el(
        "article",
        { class: "card passport-card" },
        el("p", { class: "muted label" }, t.holder),
        el("p", { class: "holder-name" }, claims.holderName),
        facts([
          [t.number, claims.number],
          [t.competence, claims.competenceCode],
          [t.total, num(hundredths(claims.totalHundredths))],
          [t.grade, fill(t.grade_of, { grade: String(claims.grade), top: topGrade })],
          [t.issued, formatDate(new Date(claims.issuedAt * 1000).toISOString())],
          [
            t.valid_until,
            claims.expiresAt ? formatDate(new Date(claims.expiresAt * 1000).toISOString()) : t.no_expiry,
          ],
        ]),
        tokenProfile(claims),
      ),
    );
  }
}

function matches(claims, passport) {
  if (!claims || !passport) return true;
  return (
    claims.number === passport.number &&
    claims.holderName === passport.holder.name &&
    claims.competenceCode === passport.competence.code &&
    hundredths(claims.totalHundredths) === passport.result.total &&
    claims.grade === passport.result.grade
  );
}

async function fetchJson(url, options) {
  const response = await fetch(url, { credentials: "same-origin", ...options });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return response.json();
}

async function fetchText(url) {
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return response.text();
}

function keep(name, value) {
  try {
    localStorage.setItem(name, JSON.stringify(value));
  } catch {
    // private mode or a full store: the next offline check just has less to go on
  }
}

function kept(name) {
  try {
    return JSON.parse(localStorage.getItem(name));
  } catch {
    return null;
  }
}

/** What the page embeds for the verdict (#verify-data): anchor, trustList, jwks, statusList. */
function embedded() {
  try {
    const data = JSON.parse(document.getElementById("verify-data")?.textContent || "null");
    return data && typeof data === "object" ? data : {};
  } catch {
    return {};
  }
}

async function loadJwks(data) {
  if (data.jwks && Array.isArray(data.jwks.keys)) return data.jwks;
  try {
    const jwks = await fetchJson(root.dataset.jwks);
    keep(KEPT_JWKS, jwks);
    return jwks;
  } catch {
    const jwks = kept(KEPT_JWKS);
    return jwks && Array.isArray(jwks.keys) ? jwks : null;
  }
}

/** The trust list's JWS text: embedded, fetched now, else kept from an earlier visit. */
async function loadTrustList(data) {
  if (typeof data.trustList === "string") return data.trustList;
  try {
    const text = await fetchText(root.dataset.trustList);
    keep(KEPT_TRUST_LIST, text);
    return text;
  } catch {
    const text = kept(KEPT_TRUST_LIST);
    return typeof text === "string" ? text : null;
  }
}

// every status list text this visit had at hand, young or not (to say how old the newest is)
const listsSeen = [];
const nowSeconds = () => Math.floor(Date.now() / 1000);
const statusMaxAge = () => Number(root.dataset.statusMaxAge);

/**
 * The verdict with a status list standing in for the server: the first of the embedded,
 * fetched and kept lists that answers for this passport (verified, young enough), else null.
 */
async function statusListAnswer(data, options) {
  const texts = [];
  if (typeof data.statusList === "string") texts.push([data.statusList, true]);
  try {
    texts.push([await fetchText(root.dataset.statusList), true]);
  } catch {
    // offline or refused: try the list kept from an earlier visit
  }
  const earlier = kept(KEPT_LIST);
  if (earlier && typeof earlier.text === "string") texts.push([earlier.text, false]);
  listsSeen.push(...texts.map(([text]) => text));
  for (const [text, fresh] of texts) {
    const result = await verifyPassport({ ...options, statusList: text });
    if (result.status === null) continue;
    if (fresh) keep(KEPT_LIST, { text, signedAt: result.status.signedAt });
    return result;
  }
  return null;
}

/** Keep a fresh list for the next check without a network (at most once an hour). */
async function refreshKeptList(jwks) {
  const earlier = kept(KEPT_LIST);
  if (earlier && nowSeconds() - Number(earlier.signedAt) < LIST_REFRESH_SECONDS) return;
  try {
    const text = await fetchText(root.dataset.statusList);
    const list = await readStatusList(text, jwks);
    const young = nowSeconds() - list.signedAt <= statusMaxAge() && nowSeconds() < list.expiresAt;
    // only the 2-bit list tells revoked from superseded
    if (list.purpose === "message" && young) keep(KEPT_LIST, { text, signedAt: list.signedAt });
  } catch {
    // nothing to keep this time
  }
}

/** "3 h ago" in the page's language (the page's own texts: Chromium has no Kazakh Intl ones). */
function ago(signedAt) {
  const seconds = Math.max(0, nowSeconds() - signedAt);
  const [value, unit] =
    seconds < 3600
      ? [Math.max(1, Math.floor(seconds / 60)), "minute"]
      : seconds < 2 * 86400
        ? [Math.floor(seconds / 3600), "hour"]
        : [Math.floor(seconds / 86400), "day"];
  return fill(t[`ago_${unit}`], { count: value });
}

function signedWhen(signedAt) {
  const signed = new Date(signedAt * 1000).toISOString();
  return `${formatDate(signed)} ${formatTime(signed)}`;
}

/** The newest verified message list among those this visit had, however old; else null. */
async function newestList(jwks) {
  let newest = null;
  for (const text of listsSeen) {
    try {
      const list = await readStatusList(text, jwks);
      if (list.purpose === "message" && (newest === null || list.signedAt > newest.signedAt)) newest = list;
    } catch {
      // a list that does not verify says nothing
    }
  }
  return newest;
}

function checkByNumberLink() {
  return el("p", {}, el("a", { href: root.dataset.check }, t.check_by_number));
}

function keepFragmentOnLanguageLinks() {
  for (const link of document.querySelectorAll(".langs a")) {
    link.href = link.href.split("#")[0] + location.hash;
  }
}

async function main() {
  const fragment = location.hash.replace(/^#/, "");
  let token = fragment;
  try {
    token = normaliseToken(fragment);
  } catch {
    // too long: verifyFragment and the server refuse it
  }
  if (!token) {
    showVerdict("empty", t.empty_title, t.empty_text);
    root.dataset.done = "true";
    return;
  }
  keepFragmentOnLanguageLinks();

  const data = embedded();
  const [jwks, trustList] = await Promise.all([loadJwks(data), loadTrustList(data)]);
  const options = { fragment, anchorJwk: data.anchor || null, trustList, jwks, statusMaxAge: statusMaxAge() };
  const local = await verifyPassport(options);
  if (local.verdict === "damaged") {
    // a cut-off link says nothing about the passport: neither forged nor genuine
    showVerdict("damaged", t.damaged_title, t.damaged_text, checkByNumberLink());
    document.getElementById("passport").replaceChildren();
    root.dataset.done = "true";
    return;
  }

  let server = null;
  try {
    server = await fetchJson(root.dataset.api, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ token }),
    });
    if (!server || typeof server.status !== "string") server = null;
  } catch {
    server = null;
  }

  const browserVerified = local.claims !== null;
  const refused = local.verdict === "invalid" || local.verdict === "untrusted";
  const passport = server && server.passport ? server.passport : null;
  if (passport) keepSections(passport);
  const claims = local.claims;

  // the status answer when the server gave none: a signed status list, if young enough
  let listed = null;
  let listAnswer = null;
  if (!server && browserVerified && !refused) {
    listAnswer = await statusListAnswer(data, options);
    listed = listAnswer ? listAnswer.status : null;
  }

  // precedence: invalid, untrusted, revoked, superseded, expired, unchecked, genuine
  let status;
  if (refused) status = local.verdict;
  else if (server && server.status === "genuine" && local.reason === "trust-list-expired") status = "unchecked";
  else if (server) status = server.status;
  else status = (listAnswer || local).verdict;

  // what was checked, and where
  if (browserVerified) addCheck("ok", fill(t.sig_browser, { kid: local.kid || "" }));
  else if (local.reason === "no-webcrypto") addCheck("warn", t.sig_no_webcrypto);
  else if (local.verdict === "invalid") addCheck("bad", t.sig_failed);
  else if (local.verdict !== "untrusted") addCheck("warn", t.sig_unavailable);
  const issuerName = local.issuer ? pick(local.issuer.name) : "";
  if (local.verdict === "untrusted") {
    addCheck("bad", t[`trust:${local.reason}`] || t.untrusted_text);
  } else if (local.issuer && local.verdict !== "invalid" && local.reason !== "trust-list-expired") {
    addCheck("ok", fill(t.trust_allowed, { issuer: issuerName }));
  } else if (browserVerified) {
    const code = TRUST_PROBLEM[local.reason];
    addCheck("warn", code ? t[`trust:${code}`] : t.trust_unavailable);
  }
  if (server && server.status === "invalid") addCheck("bad", t.server_invalid);
  else if (server) addCheck("ok", t.server_checked);
  else addCheck("warn", t.server_unreachable);
  if (listed !== null) {
    const age = fill(t.list_age, { ago: ago(listed.signedAt) });
    addCheck("ok", `${fill(t.list_checked, { date: signedWhen(listed.signedAt) })} ${age}`);
  } else if (!server && browserVerified && !refused) {
    // say how old the list it has is: offline, "genuine" waits for a young one
    const older = await newestList(jwks);
    const when = older ? { date: signedWhen(older.signedAt), ago: ago(older.signedAt) } : null;
    addCheck("warn", when ? fill(t.list_too_old, when) : t.list_unavailable);
  }
  const consistent = matches(claims, passport) && (!passport || passport.matches_token !== false);
  if (!consistent && status !== "invalid") addCheck("bad", t.mismatch);

  if (status === "genuine") {
    showVerdict("genuine", t.genuine_title, t.genuine_text);
  } else if (status === "untrusted") {
    const signer = issuerName ? el("p", {}, fill(t.signed_by, { issuer: issuerName })) : null;
    showVerdict("untrusted", t.untrusted_title, t.untrusted_text, signer);
  } else if (status === "revoked") {
    const reason = passport && passport.revocation_reason ? el("p", {}, `${t.reason}: ${passport.revocation_reason}`) : null;
    const text = passport ? fill(t.revoked_text, { date: formatDate(passport.revoked_at) }) : t.revoked_list_text;
    showVerdict("revoked", t.revoked_title, text, reason);
  } else if (status === "superseded") {
    const newer = passport && passport.superseded_by;
    const link = newer ? el("p", {}, el("a", { href: newer.url }, fill(t.superseded_link, { number: newer.number }))) : null;
    showVerdict("superseded", t.superseded_title, t.superseded_text, link);
  } else if (status === "expired") {
    const when = passport ? passport.expires_at : claims && claims.expiresAt ? new Date(claims.expiresAt * 1000).toISOString() : null;
    showVerdict("expired", t.expired_title, fill(t.expired_text, { date: formatDate(when) }));
  } else if (status === "invalid") {
    showVerdict("invalid", t.invalid_title, t.invalid_text);
  } else if (status === "damaged") {
    showVerdict("damaged", t.damaged_title, t.damaged_text, checkByNumberLink());
  } else if (browserVerified && TRUST_MISSING.has(local.reason) && (server || listed !== null)) {
    // the status is known, whether the key may certify is not
    showVerdict("unchecked", t.trust_unchecked_title, t.trust_unchecked_text, checkByNumberLink());
  } else if (browserVerified) {
    showVerdict("unchecked", t.unchecked_title, t.unchecked_text, checkByNumberLink());
  } else {
    // neither the signature nor the status could be checked here
    showVerdict("unchecked", t.unknown_title, t.unknown_text, checkByNumberLink());
  }
  if (!["invalid", "untrusted", "damaged"].includes(status)) renderPassport(passport, claims);
  else document.getElementById("passport").replaceChildren();
  root.dataset.done = "true";
  if (server && jwks) refreshKeptList(jwks);
}

window.addEventListener("hashchange", () => location.reload());
main();
