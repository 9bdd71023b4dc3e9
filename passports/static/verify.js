// Offline check of a Skills Passport token (docs/passport-token.md) with WebCrypto.
//
// The token is untagged COSE_Sign1 (ES256) over CWT claims, in upper-case unpadded base32.
// Decoding is as strict as passports/token.py: one set of signed claims has exactly one
// valid token text, so anything that is not the canonical encoding is refused before the
// signature is even looked at.

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const MAX_TOKEN_CHARS = 1024;
const P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

const HEADER_ALG = 1;
const HEADER_KID = 4;
const ALG_ES256 = -7;
const CLAIM_EXP = 4;
const CLAIM_IAT = 6;
const TEXT_CLAIMS = { number: -1, holderName: -2, competenceCode: -3 };
const INT_CLAIMS = { totalHundredths: -4, grade: -5, issuedAt: CLAIM_IAT };
const REQUIRED_CLAIMS = [CLAIM_IAT, -1, -2, -3, -4, -5];

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const ascii = new TextEncoder();

class Invalid extends Error {
  constructor(reason, detail) {
    super(detail);
    this.reason = reason;
  }
}

const malformed = (detail) => new Invalid("malformed", detail);

/** Decode upper-case unpadded RFC 4648 base32 whose unused trailing bits are zero. */
function base32Decode(text) {
  if (text.length === 0 || text.length > MAX_TOKEN_CHARS) throw malformed("token length");
  if (![0, 2, 4, 5, 7].includes(text.length % 8)) throw malformed("base32 length");
  const out = new Uint8Array(Math.floor((text.length * 5) / 8));
  let buffer = 0;
  let bits = 0;
  let at = 0;
  for (let i = 0; i < text.length; i++) {
    const value = ALPHABET.indexOf(text[i]);
    if (value < 0) throw malformed("not upper-case base32");
    buffer = (buffer << 5) | value;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = (buffer >> bits) & 0xff;
    }
    buffer &= (1 << bits) - 1;
  }
  if (buffer !== 0) throw malformed("base32 trailing bits are not zero");
  return out;
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
    if (this.at >= this.bytes.length) throw malformed("CBOR ends early");
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
    if (length > this.bytes.length - this.at) throw malformed("CBOR ends early");
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
  const message = cborDecode(base32Decode(text));
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

function decodeClaims(payload) {
  const map = cborDecode(payload);
  if (!(map instanceof Map)) throw new Invalid("bad-claims", "claims are not a map");
  const expected = map.has(CLAIM_EXP) ? REQUIRED_CLAIMS.length + 1 : REQUIRED_CLAIMS.length;
  if (map.size !== expected || !REQUIRED_CLAIMS.every((key) => map.has(key))) {
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

/** True when this page can verify signatures itself (WebCrypto needs a secure context). */
export function webCryptoAvailable() {
  return Boolean(globalThis.crypto && globalThis.crypto.subtle);
}

/**
 * Verify a passport token from a URL fragment ("#TOKEN" or "TOKEN") against a JWK Set.
 *
 * Resolves to {ok, reason, claims, kid, detail}. ok is true only for a genuine, unexpired
 * token. reason is null when ok, else one of "malformed", "unknown-key", "bad-signature",
 * "bad-claims", "expired" (claims are then given: the token is genuine but out of date),
 * "no-webcrypto" (insecure context: ask the server instead) or "error" (unexpected failure). Pass options.now (unix seconds)
 * to check expiry at another moment than the device clock's.
 */
export async function verifyFragment(fragment, jwks, options = {}) {
  let kid = null;
  let claims = null;
  try {
    if (typeof fragment !== "string") throw malformed("fragment is not a string");
    const token = fragment.startsWith("#") ? fragment.slice(1) : fragment;
    const parts = parseToken(token);
    kid = parts.kid;
    const jwk = findJwk(jwks, kid);
    if (!jwk) throw new Invalid("unknown-key", "no published key has this kid");
    if (!webCryptoAvailable()) throw new Invalid("no-webcrypto", "crypto.subtle is missing");
    const r = toBigInt(parts.signature.subarray(0, 32));
    const s = toBigInt(parts.signature.subarray(32));
    if (r === 0n || r >= P256_ORDER || s === 0n || s > P256_ORDER / 2n) {
      throw new Invalid("bad-signature", "signature out of range or not low-S");
    }
    let key;
    try {
      key = await crypto.subtle.importKey(
        "jwk",
        jwk,
        { name: "ECDSA", namedCurve: "P-256" },
        false,
        ["verify"],
      );
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
