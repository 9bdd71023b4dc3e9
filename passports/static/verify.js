// Offline check of a Skills Passport token (docs/passport-token.md) with WebCrypto.
//
// The token is untagged COSE_Sign1 (ES256) over CWT claims, in upper-case unpadded base32.
// Decoding is as strict as passports/token.py: one set of signed claims has exactly one
// canonical token text, to which the damage chat apps and OCR do (lower case, spaces, line
// breaks) is first normalised (normaliseToken); anything else that is not the canonical
// encoding is refused before the signature is even looked at.

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const MAX_TOKEN_CHARS = 1024;
const MAX_LINK_CHARS = 4096;
const LINK_BREAKS = /%(?:20|09|0[aAdD])|[ \t\r\n]/g;
const COSE_ARRAY_HEAD = 0x84;
const P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

const HEADER_ALG = 1;
const HEADER_KID = 4;
const ALG_ES256 = -7;
const CLAIM_EXP = 4;
const CLAIM_IAT = 6;
const TEXT_CLAIMS = { number: -1, holderName: -2, competenceCode: -3 };
const INT_CLAIMS = { totalHundredths: -4, grade: -5, issuedAt: CLAIM_IAT };
const CLAIM_PROFILE = -6;
const REQUIRED_CLAIMS = [CLAIM_IAT, -1, -2, -3, -4, -5];
const OPTIONAL_CLAIMS = [CLAIM_EXP, CLAIM_PROFILE];
const MAX_PROFILE_SECTIONS = 32;

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const ascii = new TextEncoder();

class Invalid extends Error {
  constructor(reason, detail, endsEarly = false) {
    super(detail);
    this.reason = reason;
    this.endsEarly = endsEarly;
  }
}

const malformed = (detail) => new Invalid("malformed", detail);
const damaged = (detail) => new Invalid("damaged", detail);

/**
 * Undo what chat apps and OCR do to a link, and nothing else (as token.py's normalise_token):
 * refuse more than 4096 characters (before anything else); remove ASCII space, TAB, CR, LF and
 * %20 %09 %0A %0D; map ASCII a–z to A–Z. No Unicode case mapping ("ı", "ſ", "ß" stay).
 */
export function normaliseToken(text) {
  if (typeof text !== "string") throw malformed("token is not a string");
  // the cap counts characters (code points), as Python's len() does
  if (text.length > MAX_LINK_CHARS && (text.length > 2 * MAX_LINK_CHARS || [...text].length > MAX_LINK_CHARS)) {
    throw malformed("token is too long");
  }
  return text.replace(LINK_BREAKS, "").replace(/[a-z]/g, (letter) => letter.toUpperCase());
}

/**
 * Decode upper-case unpadded RFC 4648 base32 to {bytes, clean}: clean is false when the
 * unused trailing bits are not zero. A length base32 cannot have is a cut-off link.
 */
function base32Decode(text) {
  if (text.length === 0 || text.length > MAX_TOKEN_CHARS) throw malformed("token length");
  if (!/^[A-Z2-7]+$/.test(text)) throw malformed("not upper-case base32");
  if (![0, 2, 4, 5, 7].includes(text.length % 8)) throw damaged("a length base32 cannot have");
  const out = new Uint8Array(Math.floor((text.length * 5) / 8));
  let buffer = 0;
  let bits = 0;
  let at = 0;
  for (let i = 0; i < text.length; i++) {
    buffer = (buffer << 5) | ALPHABET.indexOf(text[i]);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = (buffer >> bits) & 0xff;
    }
    buffer &= (1 << bits) - 1;
  }
  return { bytes: out, clean: buffer === 0 };
}

/**
 * Read one CBOR item in deterministic encoding (RFC 8949 §4.2.1): shortest heads, definite
 * lengths, map keys in increasing bytewise order without duplicates. Only the types this
 * token uses exist here: unsigned and negative integers, byte and text strings, arrays, maps.
 */
class CborReader {
  constructor(bytes) {
    this.bytes = bytes;
    this.at = 0;
  }

  byte() {
    if (this.at >= this.bytes.length) throw new Invalid("malformed", "CBOR ends early", true);
    return this.bytes[this.at++];
  }

  head() {
    const initial = this.byte();
    const major = initial >> 5;
    const info = initial & 0x1f;
    let value;
    if (info < 24) {
      value = info;
    } else if (info === 24) {
      value = this.byte();
      if (value < 24) throw malformed("CBOR head not shortest");
    } else if (info === 25) {
      value = this.byte() * 0x100 + this.byte();
      if (value < 0x100) throw malformed("CBOR head not shortest");
    } else if (info === 26) {
      value = 0;
      for (let i = 0; i < 4; i++) value = value * 0x100 + this.byte();
      if (value < 0x10000) throw malformed("CBOR head not shortest");
    } else if (info === 27) {
      value = 0;
      for (let i = 0; i < 8; i++) value = value * 0x100 + this.byte();
      if (value < 0x100000000) throw malformed("CBOR head not shortest");
      if (value > Number.MAX_SAFE_INTEGER) throw malformed("CBOR integer too large");
    } else {
      throw malformed("CBOR indefinite length or reserved value");
    }
    return { major, value };
  }

  take(length) {
    if (length > this.bytes.length - this.at) {
      throw new Invalid("malformed", "CBOR ends early", true);
    }
    const slice = this.bytes.subarray(this.at, this.at + length);
    this.at += length;
    return slice;
  }

  item() {
    const { major, value } = this.head();
    switch (major) {
      case 0:
        return value;
      case 1:
        return -1 - value;
      case 2:
        return this.take(value).slice();
      case 3:
        try {
          return utf8.decode(this.take(value));
        } catch {
          throw malformed("CBOR text is not UTF-8");
        }
      case 4: {
        const items = [];
        for (let i = 0; i < value; i++) items.push(this.item());
        return items;
      }
      case 5: {
        const map = new Map();
        let previous = null;
        for (let i = 0; i < value; i++) {
          const start = this.at;
          const key = this.item();
          const encoded = this.bytes.subarray(start, this.at);
          if (previous !== null && compareBytes(previous, encoded) >= 0) {
            throw malformed("CBOR map keys unsorted or repeated");
          }
          if (typeof key !== "number") throw malformed("CBOR map key is not an integer");
          previous = encoded;
          map.set(key, this.item());
        }
        return map;
      }
      case 6:
        throw malformed("CBOR tags are not allowed");
      default:
        throw malformed("CBOR floats and simple values are not allowed");
    }
  }
}

function compareBytes(a, b) {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) return a[i] - b[i];
  }
  return a.length - b.length;
}

/** Decode bytes that must be exactly one CBOR item. */
function cborDecode(bytes) {
  const reader = new CborReader(bytes);
  const value = reader.item();
  if (reader.at !== bytes.length) throw malformed("bytes after the CBOR item");
  return value;
}

function bstrHead(length) {
  if (length < 24) return [0x40 | length];
  if (length < 0x100) return [0x58, length];
  return [0x59, length >> 8, length & 0xff];
}

/** RFC 9052 §4.4 Sig_structure: ["Signature1", protected, h'', payload]. */
function sigStructure(protectedBytes, payload) {
  const parts = [
    [0x84, 0x6a],
    ascii.encode("Signature1"),
    bstrHead(protectedBytes.length),
    protectedBytes,
    [0x40],
    bstrHead(payload.length),
    payload,
  ];
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

const isBytes = (value) => value instanceof Uint8Array;

function goodText(value) {
  return (
    typeof value === "string" &&
    value.length > 0 &&
    value.normalize("NFC") === value &&
    !/\p{Cc}/u.test(value)
  );
}

function parseToken(text) {
  const { bytes, clean } = base32Decode(text);
  let message;
  try {
    message = cborDecode(bytes);
  } catch (error) {
    // bytes that start a four-item COSE array and end inside it: a cut-off link
    if (error instanceof Invalid && error.endsEarly && bytes[0] === COSE_ARRAY_HEAD) {
      throw damaged("the token ends inside its COSE array");
    }
    throw error;
  }
  if (!clean) throw malformed("base32 trailing bits are not zero");
  if (!Array.isArray(message) || message.length !== 4) {
    throw malformed("not a COSE_Sign1 array of four items");
  }
  const [protectedBytes, unprotected, payload, signature] = message;
  if (!isBytes(protectedBytes) || !isBytes(payload)) {
    throw malformed("protected header and payload must be byte strings");
  }
  if (!(unprotected instanceof Map) || unprotected.size !== 0) {
    throw malformed("unprotected header must be empty");
  }
  if (!isBytes(signature) || signature.length !== 64) throw malformed("signature length");
  const header = cborDecode(protectedBytes);
  if (
    !(header instanceof Map) ||
    header.size !== 2 ||
    header.get(HEADER_ALG) !== ALG_ES256 ||
    !isBytes(header.get(HEADER_KID))
  ) {
    throw malformed("protected header must be exactly {1: -7, 4: kid}");
  }
  const kidBytes = header.get(HEADER_KID);
  let kid;
  try {
    kid = utf8.decode(kidBytes);
  } catch {
    throw malformed("kid is not UTF-8");
  }
  // A kid is any text of 1 to 64 UTF-8 bytes without control characters (as in token.py).
  if (kidBytes.length === 0 || kidBytes.length > 64 || /\p{Cc}/u.test(kid)) {
    throw malformed("kid is not a valid key id");
  }
  return { protectedBytes, kid, payload, signature };
}

/** The skills profile (claim -6): 1 to 32 whole percents 0–100, one per WSOS section. */
function readProfile(value) {
  if (!Array.isArray(value) || value.length < 1 || value.length > MAX_PROFILE_SECTIONS) {
    throw new Invalid("bad-claims", `profile must be an array of 1 to ${MAX_PROFILE_SECTIONS} percents`);
  }
  for (const percent of value) {
    if (!Number.isInteger(percent) || percent < 0 || percent > 100) {
      throw new Invalid("bad-claims", "profile percents must be integers from 0 to 100");
    }
  }
  return value;
}

function decodeClaims(payload) {
  const map = cborDecode(payload);
  if (!(map instanceof Map)) throw new Invalid("bad-claims", "claims are not a map");
  const optional = OPTIONAL_CLAIMS.filter((key) => map.has(key)).length;
  if (map.size !== REQUIRED_CLAIMS.length + optional || !REQUIRED_CLAIMS.every((key) => map.has(key))) {
    throw new Invalid("bad-claims", "claims must hold exactly the profile's keys");
  }
  const claims = {};
  for (const [name, key] of Object.entries(TEXT_CLAIMS)) {
    const value = map.get(key);
    if (!goodText(value)) throw new Invalid("bad-claims", `${name} is not valid text`);
    claims[name] = value;
  }
  const intNames = { ...INT_CLAIMS, ...(map.has(CLAIM_EXP) ? { expiresAt: CLAIM_EXP } : {}) };
  for (const [name, key] of Object.entries(intNames)) {
    const value = map.get(key);
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new Invalid("bad-claims", `${name} is not a non-negative integer`);
    }
    claims[name] = value;
  }
  claims.expiresAt ??= null;
  if (claims.expiresAt !== null && claims.expiresAt <= claims.issuedAt) {
    throw new Invalid("bad-claims", "expiry is not after issue");
  }
  claims.profile = map.has(CLAIM_PROFILE) ? readProfile(map.get(CLAIM_PROFILE)) : null;
  return claims;
}

function toBigInt(bytes) {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  return value;
}

function findJwk(jwks, kid) {
  const keys = jwks && Array.isArray(jwks.keys) ? jwks.keys : [];
  const jwk = keys.find((key) => key && key.kid === kid);
  if (!jwk) return null;
  if (
    jwk.kty !== "EC" ||
    jwk.crv !== "P-256" ||
    ("alg" in jwk && jwk.alg !== "ES256") ||
    ("use" in jwk && jwk.use !== "sig") ||
    ("key_ops" in jwk && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes("verify"))) ||
    "d" in jwk
  ) {
    throw new Invalid("unknown-key", "the published key is not an ES256 public key");
  }
  return { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y, ext: true };
}

/** Throw Invalid unless the token's ES256 signature (low-S, in range) verifies with the JWK. */
async function checkSignature(parts, jwk) {
  const r = toBigInt(parts.signature.subarray(0, 32));
  const s = toBigInt(parts.signature.subarray(32));
  if (r === 0n || r >= P256_ORDER || s === 0n || s > P256_ORDER / 2n) {
    throw new Invalid("bad-signature", "signature out of range or not low-S");
  }
  let key;
  try {
    key = await crypto.subtle.importKey("jwk", jwk, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
  } catch {
    throw new Invalid("unknown-key", "the published key cannot be imported");
  }
  const genuine = await crypto.subtle.verify(
    { name: "ECDSA", hash: "SHA-256" },
    key,
    parts.signature,
    sigStructure(parts.protectedBytes, parts.payload),
  );
  if (!genuine) throw new Invalid("bad-signature", "signature does not verify");
}

/** True when this page can verify signatures itself (WebCrypto needs a secure context). */
export function webCryptoAvailable() {
  return Boolean(globalThis.crypto && globalThis.crypto.subtle);
}

/**
 * Verify a passport token from a URL fragment ("#TOKEN" or "TOKEN") against a JWK Set.
 *
 * The fragment is normalised first (normaliseToken). Resolves to {ok, reason, claims, kid,
 * detail}. ok is true only for a genuine, unexpired token (its revocation is another
 * question). reason is null when ok, else one of "damaged" (a cut-off link: a length base32
 * cannot have, or the COSE array ends early), "malformed", "unknown-key", "bad-signature",
 * "bad-claims", "expired" (claims are then given: the token is genuine but out of date),
 * "no-webcrypto" (insecure context: ask the server instead) or "error" (unexpected failure). Pass options.now (unix seconds)
 * to check expiry at another moment than the device clock's.
 */
export async function verifyFragment(fragment, jwks, options = {}) {
  let kid = null;
  let claims = null;
  try {
    if (typeof fragment !== "string") throw malformed("fragment is not a string");
    const token = normaliseToken(fragment.startsWith("#") ? fragment.slice(1) : fragment);
    const parts = parseToken(token);
    kid = parts.kid;
    const jwk = findJwk(jwks, kid);
    if (!jwk) throw new Invalid("unknown-key", "no published key has this kid");
    if (!webCryptoAvailable()) throw new Invalid("no-webcrypto", "crypto.subtle is missing");
    await checkSignature(parts, jwk);
    claims = decodeClaims(parts.payload);
    const now = options.now ?? Math.floor(Date.now() / 1000);
    if (claims.expiresAt !== null && now >= claims.expiresAt) {
      return { ok: false, reason: "expired", claims, kid, detail: "passport has expired" };
    }
    return { ok: true, reason: null, claims, kid, detail: null };
  } catch (error) {
    if (error instanceof Invalid) {
      return { ok: false, reason: error.reason, claims: null, kid, detail: error.message };
    }
    // Never let a surprise turn into a rejected promise on the employer's screen.
    return { ok: false, reason: "error", claims: null, kid, detail: String(error) };
  }
}

// --- the signed status list (docs/passports.md "Status lists") ------------------------------

const STATUS_PURPOSES = { revocation: 1, message: 2 };
const STATUS_MESSAGES = ["valid", "revoked", "superseded"];
const MAX_STATUS_LIST_BYTES = 16 * 1024 * 1024;
const statusInvalid = (detail) => new Invalid("status-list", detail);

function base64urlBytes(text) {
  if (typeof text !== "string" || !/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) {
    throw statusInvalid("not base64url");
  }
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4));
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

function jsonPart(text) {
  try {
    const value = JSON.parse(utf8.decode(base64urlBytes(text)));
    if (value && typeof value === "object" && !Array.isArray(value)) return value;
  } catch {
    // fall through: the same answer for every kind of garbage
  }
  throw statusInvalid("a JWS part is not a JSON object");
}

async function gunzip(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  const reader = stream.getReader();
  const chunks = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > MAX_STATUS_LIST_BYTES) throw statusInvalid("the list is too large");
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof Invalid) throw error;
    throw statusInvalid("encodedList is not GZIP data");
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/**
 * Verify a signed status list (a VC-JWT as /status/message serves it: ES256 with a key of the
 * JWK Set) and decode it. Resolves to {purpose, size, signedAt, expiresAt, bits} (times in
 * unix seconds) or rejects with an Invalid whose reason is "status-list".
 */
export async function readStatusList(jwt, jwks) {
  if (typeof jwt !== "string" || jwt.length > 2_000_000) throw statusInvalid("not a compact JWS");
  const parts = jwt.trim().split(".");
  if (parts.length !== 3) throw statusInvalid("a compact JWS has three parts");
  const header = jsonPart(parts[0]);
  if (header.alg !== "ES256" || header.crit) throw statusInvalid("alg must be ES256");
  let jwk;
  try {
    jwk = findJwk(jwks, header.kid);
  } catch {
    jwk = null;
  }
  if (!jwk) throw statusInvalid("no published key has this kid");
  if (!webCryptoAvailable()) throw statusInvalid("crypto.subtle is missing");
  const signature = base64urlBytes(parts[2]);
  if (signature.length !== 64) throw statusInvalid("ES256 signature must be 64 bytes");
  let genuine = false;
  try {
    const key = await crypto.subtle.importKey("jwk", jwk, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
    genuine = await crypto.subtle.verify(
      { name: "ECDSA", hash: "SHA-256" },
      key,
      signature,
      ascii.encode(`${parts[0]}.${parts[1]}`),
    );
  } catch {
    genuine = false;
  }
  if (!genuine) throw statusInvalid("signature does not verify");
  const payload = jsonPart(parts[1]);
  const subject = payload.credentialSubject;
  const types = Array.isArray(payload.type) ? payload.type : [];
  if (!types.includes("BitstringStatusListCredential") || !subject || typeof subject !== "object") {
    throw statusInvalid("not a BitstringStatusListCredential");
  }
  const purpose = subject.statusPurpose;
  if (!Object.hasOwn(STATUS_PURPOSES, purpose)) throw statusInvalid("unsupported statusPurpose");
  const size = STATUS_PURPOSES[purpose];
  if (purpose === "message" && subject.statusSize !== size) throw statusInvalid("statusSize");
  if (!Number.isSafeInteger(payload.iat) || !Number.isSafeInteger(payload.exp)) {
    throw statusInvalid("the list has no signing time (iat) or expiry (exp)");
  }
  const encoded = subject.encodedList;
  if (typeof encoded !== "string" || !encoded.startsWith("u")) throw statusInvalid("encodedList");
  const bits = await gunzip(base64urlBytes(encoded.slice(1)));
  return { purpose, size, signedAt: payload.iat, expiresAt: payload.exp, bits };
}

/** "valid", "revoked" or "superseded" for entry `index` of a list; null past its end. */
export function listedStatus(list, index) {
  const position = index * list.size;
  const byte = Math.floor(position / 8);
  if (!Number.isSafeInteger(index) || index < 0 || byte >= list.bits.length) return null;
  const value = (list.bits[byte] >> (8 - (position % 8) - list.size)) & ((1 << list.size) - 1);
  if (list.purpose === "revocation") return value ? "revoked" : "valid";
  return STATUS_MESSAGES[value] || "revoked";
}

// Damm's quasigroup, as passports/numbers.py.
const DAMM = [
  [0, 3, 1, 7, 5, 9, 8, 6, 4, 2],
  [7, 0, 9, 2, 1, 5, 4, 8, 6, 3],
  [4, 2, 0, 6, 8, 7, 1, 3, 5, 9],
  [1, 7, 5, 0, 9, 8, 3, 4, 2, 6],
  [6, 1, 2, 3, 0, 4, 5, 9, 7, 8],
  [3, 6, 7, 4, 2, 0, 9, 5, 8, 1],
  [5, 8, 6, 9, 7, 2, 0, 1, 3, 4],
  [8, 9, 4, 5, 3, 6, 2, 0, 1, 7],
  [9, 4, 3, 8, 6, 1, 7, 2, 0, 5],
  [2, 5, 8, 1, 4, 3, 6, 7, 9, 0],
];

/** The status-list index of a signed passport number (YY-NNNNNN-C, Damm-checked), else null. */
export function statusIndex(number) {
  const match = /^([0-9]{2})-([0-9]{6,12})-([0-9])$/.exec(typeof number === "string" ? number : "");
  if (!match) return null;
  let interim = 0;
  for (const digit of match[1] + match[2]) interim = DAMM[interim][digit.charCodeAt(0) - 48];
  return interim === Number(match[3]) ? Number(match[2]) : null;
}

// --- the national trust list (docs/trust-list.md) -------------------------------------------
//
// A compact JWS (ES256) signed by the trust anchor, whose payload lists the issuer keys and
// what each may certify. Read as strictly as passports/trust.py: anything that is not exactly
// the documented shape is no list at all.

const TRUST_LIST_TYPE = "skills-trust-list+jws";
const TRUST_LIST_FORMAT = 1;
const KEY_STATUSES = new Set(["active", "retired", "compromised"]);
const MAX_TRUST_LIST_CHARS = 2_000_000;
const DEFAULT_STATUS_MAX_AGE = 24 * 3600; // STATUS_LIST_MAX_AGE_HOURS' default

class TrustListInvalid extends Error {
  constructor(reason, detail) {
    super(detail);
    this.reason = reason;
  }
}

const badList = (detail) => new TrustListInvalid("malformed", detail);
const isObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value);
const isTime = (value) => Number.isSafeInteger(value) && value >= 0;
const hasExactly = (object, names) =>
  Object.keys(object).length === names.length && names.every((name) => Object.hasOwn(object, name));

/** Decode base64url without padding whose unused trailing bits are zero (one text per value). */
function strictBase64url(text, what) {
  if (typeof text !== "string" || !/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) {
    throw badList(`${what} is not base64url`);
  }
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4));
  const canonical = btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  if (canonical !== text) throw badList(`${what} is not canonical base64url`);
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

/** Whether valid JSON text repeats a member name in one object (JSON.parse keeps the last). */
function repeatsMember(text) {
  const objects = []; // per open bracket: {names, expectName} for an object, null for an array
  for (let at = 0; at < text.length; at++) {
    const char = text[at];
    const top = objects[objects.length - 1];
    if (char === '"') {
      let end = at + 1;
      while (text[end] !== '"') end += text[end] === "\\" ? 2 : 1;
      if (top && top.expectName) {
        const name = JSON.parse(text.slice(at, end + 1));
        if (top.names.has(name)) return true;
        top.names.add(name);
        top.expectName = false;
      }
      at = end;
    } else if (char === "{") objects.push({ names: new Set(), expectName: true });
    else if (char === "[") objects.push(null);
    else if (char === "}" || char === "]") objects.pop();
    else if (char === "," && top) top.expectName = true;
  }
  return false;
}

function jsonObject(text, what) {
  let value;
  try {
    const json = utf8.decode(strictBase64url(text, what));
    value = JSON.parse(json);
    if (repeatsMember(json)) throw badList(`${what} repeats a member name`);
  } catch (error) {
    if (error instanceof TrustListInvalid) throw error;
    throw badList(`${what} is not JSON`);
  }
  if (!isObject(value)) throw badList(`${what} is not a JSON object`);
  return value;
}

function isCoordinate(value) {
  return typeof value === "string" && /^[A-Za-z0-9_-]{43}$/.test(value);
}

/** A P-256 public JWK for WebCrypto, or null when the value is not exactly one. */
function p256PublicJwk(jwk) {
  if (
    !isObject(jwk) ||
    jwk.kty !== "EC" ||
    jwk.crv !== "P-256" ||
    !isCoordinate(jwk.x) ||
    !isCoordinate(jwk.y) ||
    "d" in jwk ||
    ("alg" in jwk && jwk.alg !== "ES256") ||
    ("use" in jwk && jwk.use !== "sig") ||
    ("key_ops" in jwk && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes("verify"))) ||
    ("kid" in jwk && typeof jwk.kid !== "string")
  ) {
    return null;
  }
  return { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y, ext: true };
}

function base32(bytes) {
  let out = "";
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(buffer >> bits) & 31];
    }
    buffer &= (1 << bits) - 1;
  }
  return bits ? out + ALPHABET[(buffer << (5 - bits)) & 31] : out;
}

/** The key's kid as token.py's key_id: the first 8 base32 characters of its RFC 7638 thumbprint. */
export async function keyId(jwk) {
  const members = `{"crv":"P-256","kty":"EC","x":"${jwk.x}","y":"${jwk.y}"}`;
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", ascii.encode(members)));
  return base32(digest).slice(0, 8);
}

async function es256Verifies(jwk, signature, data) {
  try {
    const key = await crypto.subtle.importKey("jwk", jwk, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
    return await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, signature, data);
  } catch {
    return false;
  }
}

/** Text that is not empty or only white space (as trust.py's _text). */
const isText = (value) => typeof value === "string" && value.trim() !== "";
const LANGUAGES = ["en", "kk", "ru"];

const ENTRY_MEMBERS = ["competences", "issuer", "jwk", "kid", "status", "valid_from", "valid_to"];
const COMPROMISE_MEMBERS = ["compromised_at", "issued_before_compromise"];

function readKeyEntry(entry, at) {
  const where = `keys[${at}]`;
  if (!isObject(entry)) throw badList(`${where} is not an object`);
  const compromised = entry.status === "compromised";
  if (!hasExactly(entry, compromised ? [...ENTRY_MEMBERS, ...COMPROMISE_MEMBERS] : ENTRY_MEMBERS)) {
    throw badList(`${where} must hold exactly the documented members`);
  }
  if (!isText(entry.kid) || ascii.encode(entry.kid).length > 64) throw badList(`${where}.kid is not a key id`);
  const jwk = p256PublicJwk(entry.jwk);
  if (jwk === null || ("kid" in entry.jwk && entry.jwk.kid !== entry.kid)) {
    throw badList(`${where}.jwk is not the P-256 public key of this kid`);
  }
  const issuer = entry.issuer;
  if (
    !isObject(issuer) ||
    !hasExactly(issuer, ["id", "name", "status_list"]) ||
    !isText(issuer.id) ||
    !(issuer.status_list === null || (typeof issuer.status_list === "string" && /^https?:\/\//.test(issuer.status_list))) ||
    !isObject(issuer.name) ||
    !hasExactly(issuer.name, LANGUAGES) ||
    !Object.values(issuer.name).every(isText)
  ) {
    throw badList(`${where}.issuer must be {id, name: {kk, ru, en}, status_list: an http(s) URL or null}`);
  }
  const competences = entry.competences;
  if (
    !Array.isArray(competences) ||
    competences.length === 0 ||
    !competences.every(isText) ||
    new Set(competences).size !== competences.length
  ) {
    throw badList(`${where}.competences must be distinct competence codes`);
  }
  if (!isTime(entry.valid_from)) throw badList(`${where}.valid_from is not a time`);
  if (entry.valid_to !== null && !(isTime(entry.valid_to) && entry.valid_to > entry.valid_from)) {
    throw badList(`${where}.valid_to is not null or a time after valid_from`);
  }
  if (!KEY_STATUSES.has(entry.status)) throw badList(`${where}.status is not active, retired or compromised`);
  if (compromised) {
    const numbers = entry.issued_before_compromise;
    if (!isTime(entry.compromised_at)) throw badList(`${where}.compromised_at is not a time`);
    if (!Array.isArray(numbers) || !numbers.every(isText)) {
      throw badList(`${where}.issued_before_compromise must be passport numbers`);
    }
  }
  return {
    kid: entry.kid,
    jwk,
    issuer: { id: issuer.id, name: { ...issuer.name }, statusList: issuer.status_list },
    competences: [...competences],
    validFrom: entry.valid_from,
    validTo: entry.valid_to,
    status: entry.status,
    compromisedAt: compromised ? entry.compromised_at : null,
    issuedBeforeCompromise: new Set(compromised ? entry.issued_before_compromise : []),
  };
}

function readTrustPayload(payload) {
  if (payload.format !== TRUST_LIST_FORMAT) throw new TrustListInvalid("format", "format must be 1");
  if (!hasExactly(payload, ["anchor", "development", "exp", "format", "iat", "keys", "seq"])) {
    throw badList("the list must hold exactly the documented members");
  }
  if (!isText(payload.anchor)) throw badList("anchor is not text");
  if (typeof payload.development !== "boolean") throw badList("development is not true or false");
  if (!isTime(payload.seq)) throw badList("seq is not a non-negative integer");
  if (!isTime(payload.iat) || !isTime(payload.exp) || payload.exp <= payload.iat) {
    throw badList("iat and exp must be times, exp after iat");
  }
  if (!Array.isArray(payload.keys)) throw badList("keys is not an array");
  const keys = new Map();
  payload.keys.forEach((entry, at) => {
    const key = readKeyEntry(entry, at);
    if (keys.has(key.kid)) throw badList(`kid ${key.kid} is listed twice`);
    keys.set(key.kid, key);
  });
  return {
    anchor: payload.anchor,
    development: payload.development,
    seq: payload.seq,
    issuedAt: payload.iat,
    expiresAt: payload.exp,
    keys,
  };
}

/**
 * Read a trust list (compact JWS) signed by the anchor whose public JWK is given.
 *
 * Resolves to {ok, reason, list, detail}: ok with the list, or reason "no-anchor" (the anchor
 * JWK is not a P-256 public key), "malformed" (not a JWS of the documented shape),
 * "wrong-anchor" (another key's kid, or the signature does not verify with the anchor),
 * "format" (a format this verifier does not know) or "no-webcrypto". Expiry is not judged
 * here: list.expiresAt against the moment of verification (verifyPassport) decides.
 */
export async function readTrustList(jws, anchorJwk) {
  try {
    const anchor = p256PublicJwk(anchorJwk);
    if (anchor === null) throw new TrustListInvalid("no-anchor", "the anchor is not a P-256 public JWK");
    if (!webCryptoAvailable()) throw new TrustListInvalid("no-webcrypto", "crypto.subtle is missing");
    const anchorKid = await keyId(anchor);
    if ("kid" in anchorJwk && anchorJwk.kid !== anchorKid) {
      throw new TrustListInvalid("no-anchor", "the anchor JWK's kid is not its thumbprint");
    }
    if (typeof jws !== "string" || jws.length > MAX_TRUST_LIST_CHARS) throw badList("not a compact JWS");
    const parts = jws.trim().split(".");
    if (parts.length !== 3) throw badList("a compact JWS has three parts");
    const header = jsonObject(parts[0], "the header");
    if (
      !hasExactly(header, ["alg", "kid", "typ"]) ||
      header.alg !== "ES256" ||
      header.typ !== TRUST_LIST_TYPE ||
      typeof header.kid !== "string"
    ) {
      throw badList(`the header must be exactly {"alg":"ES256","kid":…,"typ":"${TRUST_LIST_TYPE}"}`);
    }
    if (header.kid !== anchorKid) {
      throw new TrustListInvalid("wrong-anchor", "the list is not signed by the configured anchor");
    }
    const signature = strictBase64url(parts[2], "the signature");
    const signed = ascii.encode(`${parts[0]}.${parts[1]}`);
    if (signature.length !== 64 || !(await es256Verifies(anchor, signature, signed))) {
      throw new TrustListInvalid("wrong-anchor", "the list's signature does not verify with the anchor");
    }
    const list = readTrustPayload(jsonObject(parts[1], "the payload"));
    await Promise.all(
      [...list.keys.values()].map(async (key) => {
        try {
          await crypto.subtle.importKey("jwk", key.jwk, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
        } catch {
          throw badList(`key ${key.kid}: jwk is not a point of P-256`);
        }
      }),
    );
    return { ok: true, reason: null, list, detail: null };
  } catch (error) {
    if (error instanceof TrustListInvalid) return { ok: false, reason: error.reason, list: null, detail: error.message };
    return { ok: false, reason: "malformed", list: null, detail: String(error) };
  }
}

/**
 * Judge whether the list allows key `kid` to have signed this passport: null when it does,
 * else the first broken rule, in trust.py's judge_key order: "unknown-key" (not in the list),
 * "compromised" (a compromised key, unless the number is listed as issued before the
 * compromise), "out-of-scope" (the competence is not among the key's competences, nor "*"),
 * "outside-validity" (issuedAt < valid_from, or >= valid_to). Active and retired keys both
 * verify what they signed inside their validity.
 */
export function judgeKey(list, kid, { number, competenceCode, issuedAt }) {
  const key = list && list.keys instanceof Map ? list.keys.get(kid) : undefined;
  if (!key) return "unknown-key";
  if (key.status === "compromised" && !key.issuedBeforeCompromise.has(number)) return "compromised";
  if (!key.competences.includes("*") && !key.competences.includes(competenceCode)) return "out-of-scope";
  if (issuedAt < key.validFrom || (key.validTo !== null && issuedAt >= key.validTo)) return "outside-validity";
  return null;
}

// --- one verdict from everything a verifier has (docs/passport-token.md §8) ------------------

const TRUST_LIST_PROBLEMS = {
  "no-anchor": "no trust anchor is configured, so the trust list cannot be checked",
  "wrong-anchor": "the trust list is not signed by the configured anchor",
  malformed: "the trust list cannot be read",
  format: "the trust list has a format this verifier does not know",
};
const UNTRUSTED_DETAILS = {
  "unknown-key": "the signing key is not in the trust list",
  "out-of-scope": "the signing key may not certify this competence",
  "outside-validity": "the passport was issued outside the signing key's validity",
  compromised: "the signing key is compromised",
};

/** The status answer of a signed status list for these claims: {listed, signedAt} or {detail}. */
async function statusAnswer(statusList, keys, claims, at, maxAge) {
  let list;
  try {
    list = await readStatusList(statusList, keys);
  } catch {
    return { detail: "the status list does not verify (revocation not checked)" };
  }
  if (at >= list.expiresAt) return { detail: "the status list has expired (revocation not checked)" };
  if (maxAge !== null && at - list.signedAt > maxAge) {
    return { detail: "the status list is too old (revocation not checked)" };
  }
  const index = statusIndex(claims.number);
  if (index === null) return { detail: "the passport number has no status-list index" };
  const listed = listedStatus(list, index);
  if (listed === null) return { detail: "the status list is older than this passport" };
  return { listed, signedAt: list.signedAt };
}

/**
 * The keys that may sign the status list of a passport signed by `entry` (docs/trust-list.md
 * §5.1, offline.may_sign_status): listed, not compromised, of its issuer or of an issuer
 * the list gives the same status-list URL.
 */
function issuerKeys(list, entry) {
  const publishes = (key) =>
    key.issuer.id === entry.issuer.id ||
    (entry.issuer.statusList !== null && key.issuer.statusList === entry.issuer.statusList);
  const keys = [...list.keys.values()]
    .filter((key) => publishes(key) && key.status !== "compromised")
    .map((key) => ({ ...key.jwk, kid: key.kid }));
  return { keys };
}

/**
 * Judge a passport link with what a verifier has, at moment `at` (unix seconds; default now).
 *
 * fragment: "#TOKEN" or "TOKEN" (normalised first); anchorJwk: the trust anchor's public JWK;
 * trustList: the trust list's compact JWS (or null); statusList: the issuer's signed status
 * list JWT (or null); jwks: the issuer's JWK Set, used only without a usable trust list, to
 * tell a forgery (invalid) from what cannot be checked; statusMaxAge: seconds a status list
 * may be old (default 24 h; null: any age before its exp).
 *
 * Resolves to {verdict, reason, claims, kid, detail, issuer, trustList, status}. verdict is
 * "empty" or "damaged" (alone), else by precedence "invalid" > "untrusted" > "revoked" >
 * "superseded" > "expired" > "unchecked" > "genuine". "genuine" needs the key allowed by a
 * trust list signed by the anchor and not expired at `at`, and a status answer; without a
 * usable list the best verdict is "unchecked". reason: the token's failure for "invalid",
 * judgeKey's reason for "untrusted", for "unchecked" what was missing ("no-trust-list",
 * "trust-list-expired", "wrong-anchor", "malformed", "format", "no-anchor", "no-status",
 * "unknown-key" without any published key, "no-webcrypto"), else null. issuer is the signing
 * key's issuer from the list ({id, name, statusList}) when listed; trustList {seq, expiresAt,
 * development, expired} when usable; status {listed, signedAt} when a status list answered.
 */
export async function verifyPassport({
  fragment,
  anchorJwk = null,
  trustList = null,
  statusList = null,
  jwks = null,
  at = null,
  statusMaxAge = DEFAULT_STATUS_MAX_AGE,
} = {}) {
  const now = at ?? Math.floor(Date.now() / 1000);
  const out = { verdict: "invalid", reason: null, claims: null, kid: null, detail: null, issuer: null, trustList: null, status: null };
  const answer = (verdict, reason, detail) => Object.assign(out, { verdict, reason, detail });
  try {
    let token;
    try {
      if (typeof fragment !== "string") throw malformed("fragment is not a string");
      token = normaliseToken(fragment.startsWith("#") ? fragment.slice(1) : fragment);
    } catch (error) {
      return answer("invalid", "malformed", error.message);
    }
    if (!token) return answer("empty", null, "the link holds no token");
    let parts;
    try {
      parts = parseToken(token);
    } catch (error) {
      if (!(error instanceof Invalid)) throw error;
      return answer(error.reason === "damaged" ? "damaged" : "invalid", error.reason, error.message);
    }
    out.kid = parts.kid;
    if (!webCryptoAvailable()) return answer("unchecked", "no-webcrypto", "this browser cannot verify signatures here");

    // the trust list, when there is one the anchor signed
    let list = null;
    let missing = { reason: "no-trust-list", detail: "no trust list, so nobody can say the key may certify" };
    if (trustList !== null && trustList !== undefined) {
      const read = await readTrustList(trustList, anchorJwk);
      if (read.ok) list = read.list;
      else missing = { reason: read.reason, detail: TRUST_LIST_PROBLEMS[read.reason] || read.detail };
    }
    let jwk;
    let entry = null;
    if (list) {
      out.trustList = {
        seq: list.seq,
        expiresAt: list.expiresAt,
        development: list.development,
        expired: now >= list.expiresAt,
      };
      entry = list.keys.get(parts.kid) || null;
      if (!entry) {
        // a key only the issuer publishes: a forgery under it is still invalid (as offline.py)
        let published = null;
        try {
          published = findJwk(jwks, parts.kid);
        } catch {
          published = null;
        }
        if (published) {
          try {
            await checkSignature(parts, published);
          } catch (error) {
            if (!(error instanceof Invalid)) throw error;
            return answer("invalid", error.reason, error.message);
          }
        }
        return answer("untrusted", "unknown-key", UNTRUSTED_DETAILS["unknown-key"]);
      }
      out.issuer = entry.issuer;
      jwk = entry.jwk;
    } else {
      try {
        jwk = findJwk(jwks, parts.kid);
      } catch (error) {
        return answer("invalid", error.reason, error.message);
      }
      if (!jwk && jwks) return answer("invalid", "unknown-key", "no published key has this kid");
      if (!jwk) return answer("unchecked", missing.reason, `${missing.detail}; no key to check the signature`);
    }

    try {
      await checkSignature(parts, jwk);
      out.claims = decodeClaims(parts.payload);
    } catch (error) {
      if (!(error instanceof Invalid)) throw error;
      return answer("invalid", error.reason, error.message);
    }
    const claims = out.claims;
    if (list) {
      const why = judgeKey(list, parts.kid, claims);
      if (why) return answer("untrusted", why, UNTRUSTED_DETAILS[why]);
    }

    let status = { detail: "no status list given (revocation not checked)" };
    if (statusList !== null && statusList !== undefined) {
      const keys = list ? issuerKeys(list, entry) : jwks;
      status = await statusAnswer(statusList, keys, claims, now, statusMaxAge);
    }
    if (status.listed) out.status = { listed: status.listed, signedAt: status.signedAt };
    if (status.listed === "revoked") return answer("revoked", null, "the passport is revoked");
    if (status.listed === "superseded") return answer("superseded", null, "the passport is replaced by a newer one");
    if (claims.expiresAt !== null && now >= claims.expiresAt) return answer("expired", null, "the passport has expired");
    if (!list) return answer("unchecked", missing.reason, missing.detail);
    if (out.trustList.expired) return answer("unchecked", "trust-list-expired", "the trust list has expired");
    if (!status.listed) return answer("unchecked", "no-status", status.detail);
    return answer("genuine", null, null);
  } catch (error) {
    // never let a surprise turn into a rejected promise on the employer's screen
    return answer("unchecked", "error", String(error));
  }
}
