// Signed URLs, as focal/signing.py makes and checks them:
// <path>?exp=<unix time>&sig=<hex HMAC-SHA256 of "<path>?exp=<unix time>">, keyed by the
// signing key's text (its hex string's bytes, as the server uses it).

const encoder = new TextEncoder();

function hex(buffer) {
  return Array.from(new Uint8Array(buffer), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

export function canSign() {
  return Boolean(globalThis.crypto && crypto.subtle);
}

export function signedMessage(path, expires) {
  return `${path}${path.includes("?") ? "&" : "?"}exp=${expires}`;
}

export async function signedURL(key, path, expires) {
  if (!canSign()) {
    throw new Error("this page is not in a secure context (https or localhost): the browser offers no HMAC here");
  }
  const secret = await crypto.subtle.importKey("raw", encoder.encode(key), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const message = signedMessage(path, expires);
  const signature = await crypto.subtle.sign("HMAC", secret, encoder.encode(message));
  return `${message}&sig=${hex(signature)}`;
}

/** A hosted image's delivery URL; signed with the newest key when the image asks for it. */
export async function deliveryURL(image, variant, keys, seconds = 3600) {
  const path = `/images/${image.id}/${variant}`;
  if (!image.requireSignedURLs || !keys?.length) return path;
  return signedURL(keys[0].value, path, Math.floor(Date.now() / 1000) + seconds);
}
