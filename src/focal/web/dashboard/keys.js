// <focal-keys>: the signing keys (list, rotate) and a signed-URL maker for an image and a
// variant, signing in the page as focal/signing.py does.
import { call, listImages, signingKeys, variants } from "./api.js";
import { h, statusLine } from "./dom.js";
import { canSign, signedURL } from "./signing.js";

class FocalKeys extends HTMLElement {
  async connectedCallback() {
    this.status = statusLine();
    this.list = h("tbody");
    this.image = h("select", { id: "sign-image" });
    this.variant = h("select", { id: "sign-variant" });
    this.seconds = h("input", { id: "sign-seconds", type: "number", min: 1, value: "3600" });
    this.result = h("output", { id: "signed-url", for: "sign-image sign-variant sign-seconds" });
    this.check = h("p", { class: "hint", id: "signed-check" });
    const maker = h(
      "form",
      { class: "card", "aria-labelledby": "maker-title" },
      h("h2", { id: "maker-title" }, "Make a signed URL"),
      h("label", { for: "sign-image" }, "Image"),
      this.image,
      h("label", { for: "sign-variant" }, "Variant"),
      this.variant,
      h("label", { for: "sign-seconds" }, "Valid for (seconds)"),
      this.seconds,
      h("button", { type: "submit", class: "primary", disabled: !canSign() }, "Sign"),
      canSign() ? null : h("p", { class: "hint" }, "Signing needs a secure context: open the dashboard over https or on localhost."),
      this.result,
      this.check,
    );
    maker.addEventListener("submit", (event) => {
      event.preventDefault();
      this.sign();
    });
    this.replaceChildren(
      h("header", { class: "screen-head" }, h("h1", {}, "Signing keys"), h("button", { type: "button", id: "rotate", onclick: () => this.rotate() }, "Rotate keys")),
      h("p", { class: "hint" }, "URLs are signed with the newest key; the one before it stays valid until the next rotation."),
      this.status,
      h("div", { class: "columns" }, h("table", { class: "list keys" }, h("thead", {}, h("tr", {}, h("th", {}, "Name"), h("th", {}, "Secret"))), this.list), maker),
    );
    try {
      const [keys, known, page] = await Promise.all([signingKeys(), variants(), listImages(undefined, 100)]);
      this.show(keys);
      const images = page.images.filter((image) => !image.draft);
      this.image.replaceChildren(...images.map((image) => h("option", { value: image.id }, image.filename ? `${image.filename} (${image.id})` : image.id)));
      this.variant.replaceChildren(...known.map((variant) => h("option", { value: variant.id }, variant.id)));
    } catch (error) {
      this.status.show(error.message, "error");
    }
  }

  show(keys) {
    this.keys = keys;
    this.list.replaceChildren(
      ...keys.map((key, index) =>
        h("tr", { "data-key": key.name }, h("th", { scope: "row" }, key.name, index === 0 ? " (signs)" : ""), h("td", {}, h("code", { class: "secret" }, key.value))),
      ),
    );
  }

  async rotate() {
    try {
      this.show((await call("PUT", "/images/v1/keys/rotate")).keys);
      this.status.show(`Keys rotated: ${this.keys[0].name} signs now.`);
    } catch (error) {
      this.status.show(error.message, "error");
    }
  }

  async sign() {
    if (!this.image.value || !this.variant.value) {
      this.status.show("Choose an image and a variant first.", "error");
      return;
    }
    const expires = Math.floor(Date.now() / 1000) + Number(this.seconds.value || 3600);
    const path = `/images/${this.image.value}/${this.variant.value}`;
    const url = await signedURL(this.keys[0].value, path, expires);
    const absolute = new URL(url, location.origin).href;
    this.result.replaceChildren(h("a", { href: absolute, target: "_blank", rel: "noopener" }, absolute));
    const response = await fetch(url, { method: "HEAD" });
    this.check.textContent = response.ok ? `The server accepts it (HTTP ${response.status}).` : `The server refused it: HTTP ${response.status}.`;
    this.check.dataset.status = String(response.status);
  }
}

customElements.define("focal-keys", FocalKeys);
