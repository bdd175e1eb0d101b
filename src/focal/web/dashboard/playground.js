// <focal-playground>: build options with controls and see the result, its URL and response
// headers live, with the faces and the planned crop drawn over the original.
import { call, get, imagePath, listImages, objectURL } from "./api.js";
import { plannedCrop } from "./crop.js";
import { debounce, h, statusLine } from "./dom.js";
import { boxedImage, faceBoxes } from "./overlay.js";

const FITS = ["scale-down", "contain", "cover", "crop", "aspect-crop", "pad", "squeeze", "scale-up"];
const GRAVITIES = ["auto", "face", "center", "left", "right", "top", "bottom"];
const FORMATS = ["auto", "webp", "avif", "jpeg", "png", "json"];
// name, label, min, max, step, neutral value (left out of the URL)
const ADJUSTMENTS = [
  ["brightness", "Brightness", 0, 2, 0.05, 1],
  ["contrast", "Contrast", 0, 2, 0.05, 1],
  ["gamma", "Gamma", 0.1, 3, 0.05, 1],
  ["saturation", "Saturation", 0, 2, 0.05, 1],
  ["sharpen", "Sharpen", 0, 10, 0.5, 0],
  ["blur", "Blur", 0, 50, 1, 0],
];
const SHOWN_HEADERS = ["content-type", "content-length", "cache-control", "etag", "vary", "focal-gravity", "focal-format", "cf-resized"];

function control(name, label, element) {
  element.id = `pg-${name}`;
  element.name = name;
  return h("div", { class: "field" }, h("label", { for: element.id }, label), element);
}

const select = (values, chosen) => h("select", {}, values.map((value) => h("option", { value, selected: value === chosen }, value)));

class FocalPlayground extends HTMLElement {
  async connectedCallback() {
    const c = (this.controls = {
      image: h("select", {}),
      path: h("input", { placeholder: "photo.jpg in the origin folder, or a URL" }),
      width: h("input", { type: "number", min: 1, max: 12000, value: "400" }),
      height: h("input", { type: "number", min: 1, max: 12000, value: "400" }),
      fit: select(FITS, "cover"),
      gravity: select(GRAVITIES, "face"),
      zoom: h("input", { type: "range", min: 0, max: 1, step: 0.05, value: "0.5" }),
      format: select(FORMATS, "auto"),
      quality: h("input", { type: "range", min: 1, max: 100, step: 1, value: "85" }),
    });
    for (const [name, , min, max, step, neutral] of ADJUSTMENTS) c[name] = h("input", { type: "range", min, max, step, value: String(neutral) });
    this.status = statusLine();
    this.url = h("output", { id: "playground-url" });
    this.result = h("img", { id: "playground-result", alt: "the result" });
    this.json = h("pre", { id: "playground-json", hidden: true });
    this.headers = h("table", { class: "list headers", id: "playground-headers" });
    this.original = h("div", { class: "original" });
    this.flexibleOff = h("button", { type: "button", hidden: true, onclick: () => this.switchFlexibleOn() }, "Switch flexible variants on");
    const form = h(
      "form",
      { class: "card controls", "aria-label": "Options" },
      control("image", "Hosted image", c.image),
      control("path", "…or an origin path", c.path),
      h("div", { class: "row" }, control("width", "Width", c.width), control("height", "Height", c.height)),
      control("fit", "Fit", c.fit),
      h("div", { class: "row" }, control("gravity", "Gravity", c.gravity), control("zoom", "Face zoom", c.zoom)),
      h("div", { class: "row" }, control("format", "Format", c.format), control("quality", "Quality", c.quality)),
      h("fieldset", {}, h("legend", {}, "Adjustments"), ADJUSTMENTS.map(([name, label]) => control(name, label, c[name]))),
    );
    form.addEventListener("input", debounce(() => this.update(), 200));
    form.addEventListener("submit", (event) => event.preventDefault());
    c.image.addEventListener("change", () => this.showOriginal());
    this.replaceChildren(
      h("header", { class: "screen-head" }, h("h1", {}, "Playground")),
      this.status,
      h(
        "div",
        { class: "playground" },
        form,
        h(
          "div",
          { class: "outcome" },
          h("section", { "aria-labelledby": "pg-url-title" }, h("h2", { id: "pg-url-title" }, "URL"), this.url, this.flexibleOff),
          h("div", { class: "columns" },
            h("section", { "aria-labelledby": "pg-result-title" }, h("h2", { id: "pg-result-title" }, "Result"), this.result, this.json),
            h("section", { "aria-labelledby": "pg-original-title" }, h("h2", { id: "pg-original-title" }, "Original, faces and crop"), this.original)),
          h("section", { "aria-labelledby": "pg-headers-title" }, h("h2", { id: "pg-headers-title" }, "Response headers"), this.headers),
        ),
      ),
    );
    try {
      const { images } = await listImages(undefined, 100);
      const usable = images.filter((image) => !image.draft);
      c.image.replaceChildren(...usable.map((image) => h("option", { value: image.id }, image.filename || image.id)));
      const wanted = new URLSearchParams(location.hash.split("?")[1] || "").get("image");
      if (wanted) c.image.value = wanted;
      this.images = new Map(usable.map((image) => [image.id, image]));
      if (!usable.length) this.status.show("No hosted image yet: upload one, or give an origin path.");
      await this.showOriginal();
    } catch (error) {
      this.status.show(error.message, "error");
    }
  }

  /** The options as the URL writes them, neutral adjustments left out. */
  options() {
    const c = this.controls;
    const parts = [];
    if (c.width.value) parts.push(`width=${c.width.value}`);
    if (c.height.value) parts.push(`height=${c.height.value}`);
    parts.push(`fit=${c.fit.value}`);
    parts.push(`gravity=${c.gravity.value}`);
    if (c.gravity.value === "face" && Number(c.zoom.value) > 0) parts.push(`zoom=${c.zoom.value}`);
    if (c.format.value !== "auto") parts.push(`format=${c.format.value}`);
    parts.push(`quality=${c.quality.value}`);
    for (const [name, , , , , neutral] of ADJUSTMENTS) {
      if (Number(c[name].value) !== neutral) parts.push(`${name}=${c[name].value}`);
    }
    return parts.join(",");
  }

  /** The hosted image's flexible-variant URL, or the URL form for an origin path. */
  address() {
    const path = this.controls.path.value.trim();
    if (path) return `/cdn-cgi/image/${this.options()}/${path}`;
    if (!this.controls.image.value) return null;
    return `/images/${this.controls.image.value}/${this.options()}`;
  }

  async showOriginal() {
    const image = this.images?.get(this.controls.image.value);
    this.faces = [];
    if (!image || this.controls.path.value.trim()) {
      this.original.replaceChildren(h("p", { class: "hint" }, "Faces are shown for hosted images."));
      this.originalImage = undefined;
    } else {
      try {
        const [src, found] = await Promise.all([objectURL(`${imagePath(image.id)}/blob`), get(`${imagePath(image.id)}/faces`)]);
        this.originalImage = { src, width: found.width, height: found.height };
        this.faces = found.faces;
      } catch (error) {
        this.status.show(error.message, "error");
      }
    }
    await this.update();
  }

  drawOriginal() {
    const image = this.originalImage;
    if (!image) return;
    const c = this.controls;
    const options = { width: Number(c.width.value), height: Number(c.height.value), fit: c.fit.value, gravity: c.gravity.value, zoom: Number(c.zoom.value) };
    const crop = plannedCrop(image.width, image.height, this.faces, options);
    const boxes = faceBoxes(this.faces);
    if (crop) boxes.push({ ...crop, kind: "crop", label: "the part kept" });
    const figure = boxedImage(image.src, image.width, image.height, boxes, "the original");
    figure.dataset.faces = String(this.faces.length);
    figure.dataset.crop = crop ? [crop.x, crop.y, crop.width, crop.height].map(Math.round).join(",") : "";
    const note = `${this.faces.length} face${this.faces.length === 1 ? "" : "s"}${crop ? "; the frame is the part the crop keeps" : c.gravity.value === "auto" ? "; gravity=auto finds the crop from the pixels" : ""}.`;
    this.original.replaceChildren(figure, h("p", { class: "hint" }, note));
  }

  async update() {
    this.drawOriginal();
    const address = this.address();
    if (!address) return;
    const absolute = new URL(address, location.origin).href;
    this.url.replaceChildren(h("a", { href: absolute, target: "_blank", rel: "noopener" }, absolute));
    this.url.dataset.url = address;
    const asked = (this.asked = address);
    let response;
    try {
      response = await fetch(address);
    } catch (error) {
      this.status.show(error.message, "error");
      return;
    }
    if (asked !== this.asked) return; // a newer request is on its way
    this.headers.replaceChildren(
      h("tr", {}, h("th", { scope: "row" }, "status"), h("td", {}, String(response.status))),
      ...SHOWN_HEADERS.filter((name) => response.headers.has(name)).map((name) => h("tr", { "data-header": name }, h("th", { scope: "row" }, name), h("td", {}, response.headers.get(name)))),
    );
    const type = response.headers.get("content-type") || "";
    this.flexibleOff.hidden = true;
    if (!response.ok) {
      const body = type.includes("json") ? (await response.json()).errors?.map((error) => error.message).join("; ") : (await response.text()).trim();
      this.flexibleOff.hidden = !/flexible variants are off/.test(body || "");
      this.status.show(`HTTP ${response.status}: ${body}`, "error");
      this.result.hidden = true;
      return;
    }
    this.status.show(`HTTP ${response.status}, ${type}.`);
    if (type.includes("json")) {
      this.json.textContent = JSON.stringify(await response.json(), null, 2);
      this.json.hidden = false;
      this.result.hidden = true;
    } else {
      if (this.result.src.startsWith("blob:")) URL.revokeObjectURL(this.result.src);
      this.result.src = URL.createObjectURL(await response.blob());
      this.result.dataset.url = address;
      this.result.hidden = false;
      this.json.hidden = true;
    }
  }

  async switchFlexibleOn() {
    try {
      await call("PATCH", "/images/v1/config", { json: { flexible_variants: true } });
      await this.update();
    } catch (error) {
      this.status.show(error.message, "error");
    }
  }
}

customElements.define("focal-playground", FocalPlayground);
