// <focal-variants>: the named variants (list, create, edit, delete) with a live preview, and
// the flexible variants switch.
import { call, flexibleVariants, listImages, variants } from "./api.js";
import { debounce, h, statusLine } from "./dom.js";

const FITS = ["scale-down", "contain", "cover", "crop", "aspect-crop", "pad", "squeeze", "scale-up"];
const METADATA = ["none", "copyright", "keep"];
const GRAVITIES = ["", "auto", "face", "center", "left", "right", "top", "bottom"];

/** The variant's options as the API takes them, from the form's fields (blank: unset). */
function optionsFrom(fields) {
  const options = {};
  for (const name of ["width", "height"]) {
    if (fields[name].value) options[name] = Number(fields[name].value);
  }
  options.fit = fields.fit.value;
  if (fields.gravity.value) options.gravity = fields.gravity.value;
  if (fields.gravity.value === "face" && fields.zoom.value) options.zoom = Number(fields.zoom.value);
  if (fields.quality.value) options.quality = Number(fields.quality.value);
  options.metadata = fields.metadata.value;
  return options;
}

/** The same options as a flexible variant's URL segment: width=200,height=200,fit=cover */
export function optionString(options) {
  return Object.entries(options)
    .filter(([name, value]) => value !== undefined && value !== "" && !(name === "metadata" && value === "none"))
    .map(([name, value]) => `${name}=${value}`)
    .join(",");
}

function field(name, label, control) {
  control.id = `variant-${name}`;
  control.name = name;
  return h("div", { class: "field" }, h("label", { for: control.id }, label), control);
}

const select = (values, chosen) => h("select", {}, values.map((value) => h("option", { value, selected: value === chosen }, value || "(none)")));

class FocalVariants extends HTMLElement {
  async connectedCallback() {
    this.status = statusLine();
    this.table = h("tbody");
    this.flexible = h("input", { type: "checkbox", id: "flexible-variants" });
    this.flexible.addEventListener("change", () => this.setFlexible(this.flexible.checked));
    this.preview = h("img", { class: "preview", alt: "live preview of the variant", hidden: true });
    this.previewNote = h("p", { class: "hint" });
    this.replaceChildren(
      h("header", { class: "screen-head" }, h("h1", {}, "Variants"), h("label", { class: "check" }, this.flexible, " Flexible variants (any options in place of a variant name)")),
      this.status,
      h("div", { class: "columns" }, h("div", {}, h("table", { class: "list" }, h("thead", {}, h("tr", {}, h("th", {}, "Name"), h("th", {}, "Options"), h("th", {}, "Signed URLs"), h("th", {}, ""))), this.table)), this.form()),
    );
    await this.refresh();
  }

  async refresh() {
    try {
      const [known, flexible, page] = await Promise.all([variants(), flexibleVariants(), listImages(undefined, 10)]);
      this.flexible.checked = flexible;
      this.sample = page.images.find((image) => !image.draft && !image.requireSignedURLs);
      this.table.replaceChildren(...known.map((variant) => this.row(variant)));
      if (!known.length) this.table.append(h("tr", {}, h("td", { colspan: 4 }, "No variants yet.")));
      this.updatePreview();
    } catch (error) {
      this.status.show(error.message, "error");
    }
  }

  row(variant) {
    return h(
      "tr",
      { "data-variant": variant.id },
      h("th", { scope: "row" }, variant.id),
      h("td", {}, h("code", {}, optionString(variant.options))),
      h("td", {}, variant.neverRequireSignedURLs ? "never required" : "as the image asks"),
      h(
        "td",
        { class: "actions" },
        h("button", { type: "button", onclick: () => this.edit(variant) }, "Edit"),
        h("button", { type: "button", class: "danger", onclick: () => this.remove(variant) }, "Delete"),
      ),
    );
  }

  form() {
    const fields = (this.fields = {
      id: h("input", { required: true, pattern: "[A-Za-z0-9_\\-]+", placeholder: "thumbnail" }),
      width: h("input", { type: "number", min: 1, max: 12000 }),
      height: h("input", { type: "number", min: 1, max: 12000 }),
      fit: select(FITS, "scale-down"),
      gravity: select(GRAVITIES, ""),
      zoom: h("input", { type: "number", min: 0, max: 1, step: 0.05 }),
      quality: h("input", { type: "number", min: 1, max: 100 }),
      metadata: select(METADATA, "none"),
      never: h("input", { type: "checkbox" }),
    });
    this.heading = h("h2", { id: "variant-form-title" }, "New variant");
    const form = h(
      "form",
      { class: "card variant-form", "aria-labelledby": "variant-form-title" },
      this.heading,
      field("id", "Name", fields.id),
      h("div", { class: "row" }, field("width", "Width", fields.width), field("height", "Height", fields.height)),
      field("fit", "Fit", fields.fit),
      h("div", { class: "row" }, field("gravity", "Gravity", fields.gravity), field("zoom", "Face zoom", fields.zoom)),
      h("div", { class: "row" }, field("quality", "Quality", fields.quality), field("metadata", "Metadata kept", fields.metadata)),
      h("label", { class: "check" }, fields.never, " Never require signed URLs"),
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Save variant"), h("button", { type: "reset" }, "New")),
      h("figure", {}, this.preview, h("figcaption", {}, this.previewNote)),
    );
    form.addEventListener("input", debounce(() => this.updatePreview(), 300));
    form.addEventListener("reset", () => {
      this.editing = undefined;
      fields.id.disabled = false;
      this.heading.textContent = "New variant";
      setTimeout(() => this.updatePreview());
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.save();
    });
    return form;
  }

  edit(variant) {
    const { fields } = this;
    this.editing = variant.id;
    this.heading.textContent = `Edit ${variant.id}`;
    fields.id.value = variant.id;
    fields.id.disabled = true;
    for (const name of ["width", "height", "quality", "zoom"]) fields[name].value = variant.options[name] ?? "";
    fields.fit.value = variant.options.fit;
    fields.metadata.value = variant.options.metadata;
    fields.gravity.value = typeof variant.options.gravity === "string" ? variant.options.gravity : "";
    fields.never.checked = variant.neverRequireSignedURLs;
    this.updatePreview();
    fields.width.focus();
  }

  async save() {
    const body = { options: optionsFrom(this.fields), neverRequireSignedURLs: this.fields.never.checked };
    try {
      if (this.editing) {
        await call("PATCH", `/images/v1/variants/${encodeURIComponent(this.editing)}`, { json: body });
      } else {
        await call("POST", "/images/v1/variants", { json: { id: this.fields.id.value.trim(), ...body } });
      }
      this.status.show(`Variant ${this.editing || this.fields.id.value} saved.`);
      await this.refresh();
    } catch (error) {
      this.status.show(error.message, "error");
    }
  }

  async remove(variant) {
    if (!confirm(`Delete the variant ${variant.id}? Its URLs will stop working.`)) return;
    try {
      await call("DELETE", `/images/v1/variants/${encodeURIComponent(variant.id)}`);
      this.status.show(`Variant ${variant.id} deleted.`);
      await this.refresh();
    } catch (error) {
      this.status.show(error.message, "error");
    }
  }

  async setFlexible(on) {
    try {
      await call("PATCH", "/images/v1/config", { json: { flexible_variants: on } });
      this.status.show(`Flexible variants are ${on ? "on" : "off"}.`);
      this.updatePreview();
    } catch (error) {
      this.flexible.checked = !on;
      this.status.show(error.message, "error");
    }
  }

  /** The form's options applied to a sample image: as flexible options, or the saved variant. */
  updatePreview() {
    if (!this.sample) {
      this.preview.hidden = true;
      this.previewNote.textContent = "Upload an image to preview variants.";
      return;
    }
    let segment;
    if (this.flexible.checked) segment = optionString(optionsFrom(this.fields));
    else if (this.editing) segment = this.editing;
    if (!segment) {
      this.preview.hidden = true;
      this.previewNote.textContent = "Switch flexible variants on for a live preview before saving.";
      return;
    }
    this.preview.src = `/images/${this.sample.id}/${segment}`;
    this.preview.hidden = false;
    this.previewNote.textContent = `${this.sample.filename || this.sample.id}: /images/${this.sample.id}/${segment}`;
  }
}

customElements.define("focal-variants", FocalVariants);
