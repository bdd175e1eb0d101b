// <focal-image-details image-id>: one image: its facts, metadata, signing, every variant,
// the faces found in it, and deletion.
import { call, get, imagePath, objectURL, signingKeys, variants } from "./api.js";
import { bytes, h, statusLine } from "./dom.js";
import { boxedImage, faceBoxes } from "./overlay.js";
import { deliveryURL } from "./signing.js";

class FocalImageDetails extends HTMLElement {
  async connectedCallback() {
    this.imageId = this.getAttribute("image-id");
    this.status = statusLine();
    this.replaceChildren(h("p", {}, "Loading…"));
    try {
      const [image, known, keys] = await Promise.all([get(imagePath(this.imageId)), variants(), signingKeys()]);
      this.render(image, known, keys);
    } catch (error) {
      this.replaceChildren(h("h1", {}, "Image"), this.status, h("a", { href: "#/images" }, "Back to images"));
      this.status.show(error.message, "error");
    }
  }

  render(image, known, keys) {
    this.faces = h("section", { class: "faces", "aria-labelledby": "faces-title" }, h("h2", { id: "faces-title" }, "Faces"), h("p", {}, "Finding faces…"));
    this.replaceChildren(
      h("header", { class: "screen-head" }, h("a", { href: "#/images" }, "← Images"), h("h1", {}, image.filename || image.id)),
      this.status,
      h("div", { class: "columns" }, this.faces, h("div", {}, this.facts(image), this.editor(image), this.deletion(image))),
      this.variantPreviews(image, known, keys),
    );
    if (!image.draft) this.showFaces(image);
  }

  facts(image) {
    const rows = [
      ["Id", image.id],
      ["File name", image.filename || "—"],
      ["Format", image.format || "—"],
      ["Size", image.width ? `${image.width} × ${image.height} px` : "—"],
      ["File size", bytes(image.size)],
      ["Uploaded", new Date(image.uploaded).toLocaleString()],
      ["State", image.draft ? "draft: waiting for its upload" : "stored"],
    ];
    return h(
      "section",
      { "aria-labelledby": "facts-title" },
      h("h2", { id: "facts-title" }, "Original"),
      h("dl", { class: "facts-list" }, rows.flatMap(([name, value]) => [h("dt", {}, name), h("dd", {}, value)])),
    );
  }

  editor(image) {
    const metadata = h("textarea", { id: "metadata", rows: 6, spellcheck: false, value: JSON.stringify(image.metadata, null, 2) });
    const signed = h("input", { id: "require-signed", type: "checkbox", checked: image.requireSignedURLs });
    const form = h(
      "form",
      { class: "card", "aria-labelledby": "edit-title" },
      h("h2", { id: "edit-title" }, "Settings"),
      h("label", { for: "metadata" }, "Metadata (a JSON object)"),
      metadata,
      h("label", { class: "check" }, signed, " Require signed URLs"),
      h("button", { type: "submit", class: "primary" }, "Save"),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      let parsed;
      try {
        parsed = JSON.parse(metadata.value || "{}");
      } catch (error) {
        this.status.show(`The metadata is not JSON: ${error.message}`, "error");
        return;
      }
      try {
        await call("PATCH", imagePath(image.id), { json: { metadata: parsed, requireSignedURLs: signed.checked } });
        this.status.show("Saved.");
      } catch (error) {
        this.status.show(error.message, "error");
      }
    });
    return form;
  }

  deletion(image) {
    const dialog = h(
      "dialog",
      { class: "confirm", "aria-labelledby": "delete-title" },
      h("h2", { id: "delete-title" }, "Delete this image?"),
      h("p", {}, `“${image.filename || image.id}” and all its variants will be gone for good.`),
      h(
        "form",
        { method: "dialog" },
        h("button", { value: "cancel", autofocus: true }, "Cancel"),
        h("button", { value: "delete", class: "danger" }, "Delete"),
      ),
    );
    dialog.addEventListener("close", async () => {
      if (dialog.returnValue !== "delete") return;
      try {
        await call("DELETE", imagePath(image.id));
        location.hash = "#/images";
      } catch (error) {
        this.status.show(error.message, "error");
      }
    });
    return h("div", {}, h("button", { type: "button", class: "danger", onclick: () => dialog.showModal() }, "Delete image…"), dialog);
  }

  variantPreviews(image, known, keys) {
    const list = h("ul", { class: "grid variants-grid", "aria-label": "Variants" });
    if (image.draft) list.append(h("li", {}, "No variants of a draft."));
    else if (!known.length) list.append(h("li", {}, h("a", { href: "#/variants" }, "Create a variant"), " to see it here."));
    for (const variant of image.draft ? [] : known) {
      const item = h("li", { class: "card", "data-variant": variant.id });
      deliveryURL(image, variant.id, keys).then((src) => {
        item.append(
          h("img", { src, alt: `variant ${variant.id}` }),
          h("span", { class: "caption" }, variant.id),
          h("a", { href: src, target: "_blank", rel: "noopener" }, "open"),
        );
      });
      list.append(item);
    }
    return h("section", { "aria-labelledby": "variants-title" }, h("h2", { id: "variants-title" }, "Variants"), list);
  }

  async showFaces(image) {
    try {
      const [src, found] = await Promise.all([objectURL(`${imagePath(image.id)}/blob`), get(`${imagePath(image.id)}/faces`)]);
      const note =
        found.detection === "unavailable"
          ? `Face detection is unavailable: ${found.reason}`
          : `${found.faces.length} face${found.faces.length === 1 ? "" : "s"} found.`;
      const figure = boxedImage(src, found.width, found.height, faceBoxes(found.faces), image.filename || image.id);
      figure.dataset.faces = String(found.faces.length);
      this.faces.replaceChildren(this.faces.firstChild, figure, h("p", { class: "hint" }, note));
    } catch (error) {
      this.faces.replaceChildren(this.faces.firstChild, h("p", { role: "alert" }, error.message));
    }
  }
}

customElements.define("focal-image-details", FocalImageDetails);
