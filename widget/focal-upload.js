/**
 * <focal-upload>: uploads images from a page straight to Focal, with one-time upload URLs.
 *
 * For each file the element POSTs (with the page's cookies) to its `authorize-url`, the
 * embedding application's own endpoint, which answers JSON `{uploadURL, id}` (the shape of
 * Focal's `POST /images/v2/direct_upload` result); the file is then POSTed to that URL as a
 * multipart `file` part. The application's API token never reaches the page.
 *
 * No build step: this file is the ES module; Focal serves a classic-script build of it at
 * /widget/v1/focal-upload.js (made by focal.server.classic_script, which rewrites only the
 * `import.meta.url` below and the export line at the end).
 */

const VERSION = "1.0.0";
// Where this script was loaded from: served by Focal, the server's limits sit beside it.
const SCRIPT_URL = import.meta.url;
const SERVED_PATH = /\/widget\/v1\/focal-upload(\.mjs|\.js)$/;
const PARALLEL_UPLOADS = 3; // files sent at once; the others wait their turn
const DEFAULT_RETRIES = 3;
const DEFAULT_RETRY_DELAY_MS = 1000; // doubled after each failed try
const DEFAULT_QUALITY = 0.9; // of a photo re-encoded after downscaling
const REENCODED_TYPES = ["image/jpeg", "image/webp", "image/png"]; // what a canvas writes

const STYLE = `
:host {
  display: block;
  font: var(--focal-upload-font, 14px/1.4 system-ui, sans-serif);
  color: var(--focal-upload-fg, #1f2328);
  --_accent: var(--focal-upload-accent, #0b6bcb);
  --_error: var(--focal-upload-error, #b42318);
  --_radius: var(--focal-upload-radius, 8px);
  --_preview: var(--focal-upload-preview-size, 56px);
}
:host([hidden]) { display: none; }
.zone {
  border: 2px dashed var(--focal-upload-border, #8c959f);
  border-radius: var(--_radius);
  background: var(--focal-upload-bg, #f6f8fa);
  padding: var(--focal-upload-padding, 20px);
  text-align: center;
  cursor: pointer;
}
.zone:focus-visible { outline: 3px solid var(--focal-upload-focus-ring, var(--_accent)); outline-offset: 2px; }
.zone.dragging { border-color: var(--_accent); background: var(--focal-upload-drag-bg, #e7f0fb); }
:host([disabled]) .zone { opacity: .5; cursor: not-allowed; }
.choose { color: var(--_accent); text-decoration: underline; }
.hint { display: block; margin-top: 4px; font-size: .85em; opacity: .75; }
ul { list-style: none; margin: 12px 0 0; padding: 0; display: grid; gap: 8px; }
li {
  display: grid;
  grid-template-columns: var(--_preview) 1fr auto;
  gap: 10px;
  align-items: center;
  padding: 6px;
  border-radius: var(--_radius);
  background: var(--focal-upload-item-bg, #fff);
  border: 1px solid var(--focal-upload-item-border, #d0d7de);
}
.preview {
  width: var(--_preview);
  height: var(--_preview);
  object-fit: cover;
  border-radius: calc(var(--_radius) / 2);
  background: #d0d7de;
}
.name { font-weight: 600; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.status { font-size: .85em; }
li[data-state="error"] .status, li[data-state="refused"] .status { color: var(--_error); }
li[data-state="done"] .status { color: var(--focal-upload-success, #1a7f37); }
progress { width: 100%; height: 8px; accent-color: var(--_accent); }
.actions { display: flex; gap: 6px; }
button {
  font: inherit;
  border: 1px solid var(--focal-upload-border, #8c959f);
  border-radius: calc(var(--_radius) / 2);
  background: var(--focal-upload-button-bg, #fff);
  color: inherit;
  padding: 4px 10px;
  cursor: pointer;
}
button:focus-visible { outline: 3px solid var(--focal-upload-focus-ring, var(--_accent)); outline-offset: 1px; }
.total { margin-top: 10px; }
.total[hidden] { display: none; }
.sr-only {
  position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px;
  overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0;
}
`;

const MARKUP = `
<div class="zone" part="dropzone" role="button" tabindex="0" aria-describedby="hint">
  <slot name="label">Drop images here, paste, or <span class="choose">choose files</span></slot>
  <span class="hint" id="hint" part="hint"></span>
</div>
<input type="file" hidden tabindex="-1" aria-hidden="true">
<ul part="list" aria-label="Uploads"></ul>
<div class="total" part="total" hidden>
  <progress max="1" value="0" aria-label="Total upload progress"></progress>
  <span class="summary"></span>
</div>
<div class="sr-only" role="status" aria-live="polite" aria-atomic="true"></div>
`;

/** A refusal or failure a person can act on; `retryable` when trying again may help. */
class UploadError extends Error {
  constructor(message, { status = 0, code = null, retryable = false } = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryable = retryable;
  }
}

/** `10485760` -> "10 MB": sizes as people read them. */
function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KB", "MB", "GB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${Number.isInteger(value) ? value : value.toFixed(1)} ${units[unit]}`;
}

/** Whether `file` matches an `accept` list ("image/*,.heic,image/png"); empty takes all. */
function accepts(accept, file) {
  const patterns = accept.split(",").map((part) => part.trim().toLowerCase()).filter(Boolean);
  if (patterns.length === 0) return true;
  const type = (file.type || "").toLowerCase();
  const name = (file.name || "").toLowerCase();
  return patterns.some((pattern) => {
    if (pattern.startsWith(".")) return name.endsWith(pattern);
    if (pattern.endsWith("/*")) return type.startsWith(pattern.slice(0, -1));
    return type === pattern;
  });
}

/** The message of a Focal envelope (`{errors: [{message}]}`), or of any JSON or text. */
function messageOf(body, fallback) {
  if (body && typeof body === "object") {
    if (Array.isArray(body.errors) && body.errors.length && body.errors[0].message) {
      return body.errors[0].message;
    }
    if (typeof body.message === "string") return body.message;
    if (typeof body.error === "string") return body.error;
  }
  if (typeof body === "string" && body.trim()) return body.trim().slice(0, 300);
  return fallback;
}

function parseJSON(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Whether trying the same request again may succeed: no answer, a 5xx, 408 or 429. */
function retryableStatus(status) {
  return status === 0 || status === 408 || status === 429 || status >= 500;
}

function wait(ms, signal) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });
}

/** The pixel size of an image file, upright (EXIF orientation applied), or null when this
 * browser cannot decode it (HEIC, TIFF): the server then judges it alone. */
async function decode(file) {
  try {
    return await createImageBitmap(file, { imageOrientation: "from-image" });
  } catch {
    return null;
  }
}

/** The scale (<= 1) that brings `width` x `height` within a side and a pixel budget. */
function fitScale(width, height, maxSide, maxPixels) {
  let scale = 1;
  if (maxSide) scale = Math.min(scale, maxSide / Math.max(width, height));
  if (maxPixels) scale = Math.min(scale, Math.sqrt(maxPixels / (width * height)));
  return scale;
}

/** `bitmap` drawn at `width` x `height` and encoded: the photo's own type when a canvas can
 * write it, else JPEG. The bitmap is already upright, so the result needs no EXIF. */
async function reencode(bitmap, width, height, type, quality) {
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext("2d");
  context.imageSmoothingQuality = "high";
  context.drawImage(bitmap, 0, 0, width, height);
  const outType = REENCODED_TYPES.includes(type) ? type : "image/jpeg";
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, outType, quality));
  if (!blob) throw new UploadError("this browser could not shrink the image");
  return blob;
}

function renamed(name, type) {
  const extension = { "image/jpeg": ".jpg", "image/webp": ".webp", "image/png": ".png" }[type];
  const stem = name.includes(".") ? name.slice(0, name.lastIndexOf(".")) : name;
  return extension && !name.toLowerCase().endsWith(extension) ? stem + extension : name;
}

let nextKey = 1;

/** The `<focal-upload>` element. Attributes: authorize-url (required), accept, max-size,
 * max-files, multiple, downscale, quality, retries, retry-delay, limits-url, disabled. */
class FocalUploadElement extends HTMLElement {
  static observedAttributes = ["accept", "max-size", "multiple", "disabled", "label"];

  #root;
  #zone;
  #input;
  #list;
  #total;
  #live;
  #items = [];
  #limits = null; // a promise of the server's limits, or of null when none are known
  #limitsFrom = null;
  #running = 0; // uploads being sent; `#slots` says when one ends
  #slots = new EventTarget();
  #known = null; // the server's limits once fetched, for the hint

  constructor() {
    super();
    this.#root = this.attachShadow({ mode: "open" });
    this.#root.innerHTML = `<style>${STYLE}</style>${MARKUP}`;
    this.#zone = this.#root.querySelector(".zone");
    this.#input = this.#root.querySelector("input");
    this.#list = this.#root.querySelector("ul");
    this.#total = this.#root.querySelector(".total");
    this.#live = this.#root.querySelector("[role=status]");
    this.#zone.addEventListener("click", () => this.open());
    this.#zone.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        this.open();
      }
    });
    this.#input.addEventListener("change", () => {
      this.addFiles(this.#input.files);
      this.#input.value = "";
    });
    for (const name of ["dragenter", "dragover"]) {
      this.#zone.addEventListener(name, (event) => {
        event.preventDefault();
        if (!this.disabled) this.#zone.classList.add("dragging");
      });
    }
    this.#zone.addEventListener("dragleave", () => this.#zone.classList.remove("dragging"));
    this.#zone.addEventListener("drop", (event) => {
      event.preventDefault();
      this.#zone.classList.remove("dragging");
      if (event.dataTransfer) this.addFiles(event.dataTransfer.files);
    });
    // Paste reaches the element while it (or anything inside it) has the focus.
    this.addEventListener("paste", (event) => {
      const files = event.clipboardData ? [...event.clipboardData.files] : [];
      if (files.length) {
        event.preventDefault();
        this.addFiles(files);
      }
    });
  }

  connectedCallback() {
    this.#render();
    this.#serverLimits(null).then((limits) => {
      this.#known = limits;
      this.#render();
    });
  }

  attributeChangedCallback() {
    this.#render();
  }

  get authorizeUrl() {
    return this.getAttribute("authorize-url") || "";
  }

  get disabled() {
    return this.hasAttribute("disabled");
  }

  /** The uploads of this element, oldest first: `{key, filename, state, id, result}`. */
  get uploads() {
    return this.#items.map(({ key, file, state, id, result, message }) => ({
      key,
      filename: file.name,
      state,
      id,
      result,
      message,
    }));
  }

  /** Opens the file picker. */
  open() {
    if (!this.disabled) this.#input.click();
  }

  /** Takes files (a FileList or an array), checks them and starts their uploads. */
  addFiles(files) {
    if (this.disabled) return;
    let incoming = [...files];
    if (!this.hasAttribute("multiple") && incoming.length > 1) {
      this.#announce(`Only one file at a time: ${incoming.length - 1} left out.`);
      incoming = incoming.slice(0, 1);
    }
    for (const file of incoming) {
      const item = this.#add(file);
      const taken = this.#items.filter((other) => !["refused", "cancelled"].includes(other.state));
      const maxFiles = this.#number("max-files");
      if (maxFiles && taken.length > maxFiles) {
        this.#refuse(item, new UploadError(`at most ${maxFiles} file${maxFiles === 1 ? "" : "s"} can be uploaded here`));
        continue;
      }
      this.#start(item);
    }
  }

  /** Cancels an upload by its key (all unfinished ones without a key). */
  cancel(key) {
    for (const item of this.#items) {
      if ((key === undefined || item.key === key) && ["waiting", "checking", "uploading", "retrying"].includes(item.state)) {
        item.controller.abort(new UploadError("cancelled"));
        this.#set(item, "cancelled", "Cancelled");
        this.#announce(`${item.file.name}: upload cancelled.`);
      }
    }
    this.#progress(null);
  }

  /** Starts a failed or cancelled upload again, by its key. */
  retry(key) {
    const item = this.#items.find((candidate) => candidate.key === key);
    if (item && ["error", "cancelled"].includes(item.state)) {
      item.uploadURL = null; // a new try asks for a new one-time URL
      this.#start(item);
    }
  }

  // --- one file ---------------------------------------------------------------------

  #add(file) {
    const item = { key: nextKey++, file, body: file, state: "waiting", loaded: 0, id: null };
    item.element = document.createElement("li");
    item.element.setAttribute("part", "item");
    item.element.innerHTML = `
      <img class="preview" part="preview" alt="">
      <div>
        <div class="name"></div>
        <progress max="1" value="0"></progress>
        <div class="status"></div>
      </div>
      <div class="actions">
        <button type="button" class="retry" hidden>Retry</button>
        <button type="button" class="cancel">Cancel</button>
      </div>`;
    item.element.querySelector(".name").textContent = file.name;
    item.element.querySelector("progress").setAttribute("aria-label", `Upload progress of ${file.name}`);
    item.element.querySelector(".retry").setAttribute("aria-label", `Retry upload of ${file.name}`);
    const cancel = item.element.querySelector(".cancel");
    cancel.setAttribute("aria-label", `Cancel upload of ${file.name}`);
    cancel.addEventListener("click", () => {
      if (["done", "refused", "error", "cancelled"].includes(item.state)) this.#remove(item);
      else this.cancel(item.key);
    });
    item.element.querySelector(".retry").addEventListener("click", () => this.retry(item.key));
    const preview = item.element.querySelector(".preview");
    if (file.type.startsWith("image/")) {
      item.previewURL = URL.createObjectURL(file);
      preview.src = item.previewURL;
      preview.alt = `Preview of ${file.name}`;
      preview.addEventListener("error", () => preview.removeAttribute("src"), { once: true });
    }
    this.#items.push(item);
    this.#list.append(item.element);
    return item;
  }

  #remove(item) {
    if (item.previewURL) URL.revokeObjectURL(item.previewURL);
    item.element.remove();
    this.#items = this.#items.filter((other) => other !== item);
    this.#progress(null);
    this.#zone.focus();
  }

  async #start(item) {
    item.controller = new AbortController();
    item.loaded = 0;
    item.body = item.file;
    this.#set(item, "checking", "Checking…");
    try {
      await this.#check(item, await this.#serverLimits(null));
    } catch (error) {
      if (!item.controller.signal.aborted) this.#refuse(item, error);
      return;
    }
    if (item.controller.signal.aborted) return; // cancelled while being checked
    this.#set(item, "waiting", "Waiting…");
    this.#progress(item);
    while (this.#running >= PARALLEL_UPLOADS) {
      await new Promise((resolve) => this.#slots.addEventListener("free", resolve, { once: true }));
    }
    if (item.controller.signal.aborted) return;
    this.#running += 1;
    try {
      await this.#send(item);
    } finally {
      this.#running -= 1;
      this.#slots.dispatchEvent(new Event("free"));
    }
  }

  /** Refuses what the server would refuse, before a byte is sent; shrinks a photo that is
   * too large when the element may (`downscale`). */
  async #check(item, limits) {
    const file = item.file;
    item.limitsChecked = Boolean(limits);
    const accept = this.getAttribute("accept") || "image/*";
    if (!accepts(accept, file) || (limits && limits.types && file.type && !limits.types.includes(file.type))) {
      const kinds = limits && limits.types ? limits.types.map((type) => type.split("/")[1].toUpperCase()).join(", ") : accept;
      throw new UploadError(`${file.type || "this kind of file"} is not taken here: send ${kinds}`);
    }
    const bitmap = await decode(file);
    if (bitmap) {
      item.width = bitmap.width;
      item.height = bitmap.height;
      const downscale = this.#number("downscale");
      const maxSide = Math.min(...[downscale, limits && limits.maxSide].filter(Boolean));
      const maxPixels = limits && limits.maxPixels;
      const scale = fitScale(bitmap.width, bitmap.height, Number.isFinite(maxSide) ? maxSide : 0, maxPixels);
      if (scale < 1 && this.hasAttribute("downscale")) {
        const width = Math.max(1, Math.round(bitmap.width * scale));
        const height = Math.max(1, Math.round(bitmap.height * scale));
        const quality = this.#number("quality") || DEFAULT_QUALITY;
        const blob = await reencode(bitmap, width, height, file.type, quality);
        item.body = new File([blob], renamed(file.name, blob.type), { type: blob.type });
        item.width = width;
        item.height = height;
      } else if (limits && (item.width * item.height > limits.maxPixels || Math.max(item.width, item.height) > limits.maxSide)) {
        bitmap.close();
        throw new UploadError(
          `${item.width}×${item.height} pixels is over the limit ` +
            `(${limits.maxPixels.toLocaleString("en")} pixels, ${limits.maxSide.toLocaleString("en")} per side)`,
        );
      }
      bitmap.close();
    }
    const ownLimit = this.#number("max-size");
    const limit = Math.min(...[ownLimit, limits && limits.maxBytes].filter(Boolean));
    if (Number.isFinite(limit) && item.body.size > limit) {
      throw new UploadError(`${formatBytes(item.body.size)} is over the ${formatBytes(limit)} limit`);
    }
  }

  /** Authorizes, then uploads; each step tried again after a failure that may pass. */
  async #send(item) {
    const retries = this.hasAttribute("retries") ? this.#number("retries") : DEFAULT_RETRIES;
    const delay = this.hasAttribute("retry-delay") ? this.#number("retry-delay") : DEFAULT_RETRY_DELAY_MS;
    const signal = item.controller.signal;
    for (let attempt = 0; ; attempt += 1) {
      try {
        this.#set(item, "uploading", attempt ? `Uploading (try ${attempt + 1})…` : "Uploading…");
        if (!item.uploadURL) {
          const grant = await this.#authorize(item, signal);
          item.uploadURL = grant.uploadURL;
          item.id = grant.id || null;
          if (!item.limitsChecked) {
            // The server's limits learned only now, from where the URL points: checked
            // before the bytes go.
            const limits = await this.#serverLimits(new URL(grant.uploadURL, location.href).origin);
            try {
              if (limits) await this.#check(item, limits);
            } catch (refusal) {
              this.#refuse(item, refusal); // the unused URL expires on its own
              return;
            }
          }
        }
        const result = await this.#upload(item, signal);
        item.result = result;
        item.id = result.id || item.id;
        this.#set(item, "done", "Uploaded");
        item.element.querySelector("progress").value = 1;
        this.#announce(`${item.file.name} uploaded.`);
        this.#progress(item);
        this.#emit("focal-upload-success", {
          key: item.key,
          id: item.id,
          filename: item.file.name,
          variants: result.variants || [],
          width: result.width ?? item.width,
          height: result.height ?? item.height,
          result,
        });
        return;
      } catch (error) {
        if (signal.aborted) return;
        const failure = error instanceof UploadError ? error : new UploadError(String(error));
        if (!failure.retryable || attempt >= retries) {
          this.#fail(item, failure, attempt + 1);
          return;
        }
        const pause = delay * 2 ** attempt;
        this.#set(item, "retrying", `${failure.message}; trying again in ${Math.ceil(pause / 1000)} s`);
        this.#emit("focal-upload-error", this.#errorDetail(item, failure, attempt + 1, true));
        try {
          await wait(pause, signal);
        } catch {
          return;
        }
      }
    }
  }

  async #authorize(item, signal) {
    if (!this.authorizeUrl) throw new UploadError("the element has no authorize-url");
    let response;
    try {
      response = await fetch(this.authorizeUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ filename: item.body.name, type: item.body.type, size: item.body.size }),
        signal,
      });
    } catch (error) {
      if (signal.aborted) throw error;
      throw new UploadError("the upload could not be authorized: no answer", { retryable: true });
    }
    const body = parseJSON(await response.text());
    if (!response.ok) {
      throw new UploadError(messageOf(body, `the upload was not authorized (${response.status})`), {
        status: response.status,
        retryable: retryableStatus(response.status),
      });
    }
    // `{uploadURL, id}`, or Focal's own envelope `{result: {uploadURL, id}}` passed on.
    const grant = body && typeof body === "object" && body.result ? body.result : body;
    if (!grant || typeof grant.uploadURL !== "string") {
      throw new UploadError("the authorize-url answered without an uploadURL");
    }
    return grant;
  }

  /** The upload itself: XMLHttpRequest, whose upload reports progress (fetch's does not). */
  #upload(item, signal) {
    return new Promise((resolve, reject) => {
      const request = new XMLHttpRequest();
      request.open("POST", item.uploadURL);
      request.responseType = "text";
      request.upload.addEventListener("progress", (event) => {
        item.loaded = event.lengthComputable ? (event.loaded / event.total) * item.body.size : 0;
        item.element.querySelector("progress").value = item.loaded / item.body.size;
        this.#progress(item);
      });
      request.addEventListener("load", () => {
        const body = parseJSON(request.responseText);
        if (request.status >= 200 && request.status < 300 && body && body.result) {
          resolve(body.result);
          return;
        }
        const code = body && Array.isArray(body.errors) && body.errors[0] ? body.errors[0].code : null;
        reject(
          new UploadError(messageOf(body, `the upload failed (${request.status})`), {
            status: request.status,
            code,
            retryable: retryableStatus(request.status),
          }),
        );
      });
      request.addEventListener("error", () =>
        reject(new UploadError("the upload was interrupted: no answer from the server", { retryable: true })),
      );
      request.addEventListener("abort", () => reject(signal.reason));
      signal.addEventListener("abort", () => request.abort());
      const form = new FormData();
      form.append("file", item.body, item.body.name);
      item.loaded = 0;
      request.send(form);
    });
  }

  /** The server's limits ({maxBytes, maxPixels, maxSide, types}), from `limits-url`, from
   * beside this script when Focal served it, or from `origin` (that of an upload URL). */
  #serverLimits(origin) {
    let url = this.getAttribute("limits-url");
    if (!url && SCRIPT_URL && SERVED_PATH.test(new URL(SCRIPT_URL).pathname)) url = new URL("limits", SCRIPT_URL).href;
    if (!url && !origin && this.#limitsFrom) return this.#limits; // learned from an upload URL
    if (!url && origin) url = `${origin}/widget/v1/limits`;
    if (!url) return Promise.resolve(null);
    if (this.#limitsFrom !== url) {
      this.#limitsFrom = url;
      this.#limits = fetch(url, { credentials: "omit" })
        .then((response) => (response.ok ? response.json() : null))
        .catch(() => null); // unknown limits: the server still checks
    }
    return this.#limits;
  }

  // --- state and what it shows ------------------------------------------------------

  #set(item, state, text) {
    item.state = state;
    item.element.dataset.state = state;
    item.element.querySelector(".status").textContent = text;
    const ended = ["done", "refused", "error", "cancelled"].includes(state);
    const cancel = item.element.querySelector(".cancel");
    cancel.textContent = ended ? "Remove" : "Cancel";
    cancel.setAttribute("aria-label", `${ended ? "Remove" : "Cancel upload of"} ${item.file.name}`);
    item.element.querySelector(".retry").hidden = !["error", "cancelled"].includes(state);
    this.#list.setAttribute("aria-busy", String(this.#items.some((other) => !["done", "refused", "error", "cancelled"].includes(other.state))));
  }

  #refuse(item, error) {
    const failure = error instanceof UploadError ? error : new UploadError(String(error));
    this.#set(item, "refused", failure.message);
    this.#announce(`${item.file.name} not uploaded: ${failure.message}.`);
    this.#emit("focal-upload-error", this.#errorDetail(item, failure, 0, false));
    this.#progress(null);
  }

  #fail(item, error, attempts) {
    item.message = error.message;
    this.#set(item, "error", error.message);
    this.#announce(`${item.file.name} failed: ${error.message}.`);
    this.#emit("focal-upload-error", this.#errorDetail(item, error, attempts, false));
    this.#progress(null);
  }

  #errorDetail(item, error, attempts, willRetry) {
    return {
      key: item.key,
      id: item.id,
      filename: item.file.name,
      message: error.message,
      status: error.status,
      code: error.code,
      attempts,
      willRetry,
      refused: attempts === 0,
    };
  }

  /** Per-file and total progress, on screen and as a `focal-upload-progress` event. */
  #progress(item) {
    const counted = this.#items.filter((other) => ["waiting", "uploading", "retrying", "done"].includes(other.state));
    const total = counted.reduce((sum, other) => sum + other.body.size, 0);
    const loaded = counted.reduce((sum, other) => sum + (other.state === "done" ? other.body.size : other.loaded), 0);
    const done = counted.filter((other) => other.state === "done").length;
    this.#total.hidden = counted.length === 0;
    this.#total.querySelector("progress").value = total ? loaded / total : 0;
    this.#total.querySelector(".summary").textContent = `${done} of ${counted.length} uploaded`;
    if (!item) return;
    this.#emit("focal-upload-progress", {
      key: item.key,
      id: item.id,
      filename: item.file.name,
      loaded: item.state === "done" ? item.body.size : Math.round(item.loaded),
      total: item.body.size,
      totalLoaded: Math.round(loaded),
      totalBytes: total,
      progress: total ? loaded / total : 0,
    });
    if (counted.length && done === counted.length) this.#announce(`${done} of ${counted.length} uploaded.`);
  }

  #render() {
    const hint = [];
    const accept = this.getAttribute("accept");
    const limits = this.#known;
    if (accept && accept !== "image/*") hint.push(accept.replaceAll(",", ", "));
    else if (limits && limits.types) hint.push(limits.types.map((type) => type.split("/")[1].toUpperCase()).join(", "));
    const maxSize = Math.min(...[this.#number("max-size"), limits && limits.maxBytes].filter(Boolean));
    if (Number.isFinite(maxSize)) hint.push(`up to ${formatBytes(maxSize)} each`);
    this.#root.querySelector(".hint").textContent = hint.join(" · ");
    this.#input.accept = accept || "image/*";
    this.#input.multiple = this.hasAttribute("multiple");
    this.#zone.setAttribute("aria-label", this.getAttribute("label") || "Upload images: drop, paste, or press Enter to choose files");
    this.#zone.setAttribute("aria-disabled", String(this.disabled));
    this.#zone.tabIndex = this.disabled ? -1 : 0;
  }

  #number(name) {
    const value = Number(this.getAttribute(name));
    return Number.isFinite(value) && value > 0 ? value : 0;
  }

  #announce(text) {
    this.#live.textContent = text;
  }

  #emit(name, detail) {
    this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true }));
  }
}

if (!customElements.get("focal-upload")) customElements.define("focal-upload", FocalUploadElement);

export { FocalUploadElement, VERSION };
