// <focal-images>: the image grid, paged by continuation token, search by id, and uploads.
import { ApiError, flexibleVariants, get, imagePath, listImages, objectURL, signingKeys, variants } from "./api.js";
import { bytes, h, statusLine } from "./dom.js";
import { deliveryURL } from "./signing.js";
import { loadUploadWidget } from "./widget.js";

const THUMBNAIL = "width=240,height=240,fit=cover,gravity=auto";

/** A small picture of an image: a flexible thumbnail, else its first variant, else the original. */
export async function thumbnailURL(image, context) {
  if (context.flexible && !image.requireSignedURLs) return `/images/${image.id}/${THUMBNAIL}`;
  if (context.variants.length) return deliveryURL(image, context.variants[0].id, context.keys);
  return objectURL(`${imagePath(image.id)}/blob`);
}

export async function thumbnailContext() {
  const [flexible, known, keys] = await Promise.all([flexibleVariants(), variants(), signingKeys()]);
  return { flexible, variants: known, keys };
}

class FocalImages extends HTMLElement {
  async connectedCallback() {
    this.status = statusLine();
    this.grid = h("ul", { class: "grid", "aria-label": "Images" });
    this.count = h("p", { class: "hint", "aria-live": "polite" });
    this.more = h("button", { type: "button", hidden: true, onclick: () => this.page() }, "Load more");
    const search = h("input", { id: "image-search", type: "search", placeholder: "an image id", "aria-label": "Image id" });
    const searchForm = h(
      "form",
      { class: "toolbar", role: "search" },
      search,
      h("button", { type: "submit" }, "Open"),
    );
    searchForm.addEventListener("submit", (event) => {
      event.preventDefault();
      this.open(search.value.trim());
    });
    this.uploads = h("section", { class: "uploads", "aria-label": "Upload" });
    this.replaceChildren(
      h("header", { class: "screen-head" }, h("h1", {}, "Images"), searchForm),
      this.uploads,
      this.status,
      this.grid,
      this.count,
      this.more,
    );
    this.context = await thumbnailContext().catch((error) => this.status.show(error.message, "error"));
    this.uploader();
    this.page();
  }

  async uploader() {
    if (!(await loadUploadWidget())) {
      this.uploads.replaceChildren(h("p", { class: "hint" }, "The upload widget is not served here; upload with POST /images/v1."));
      return;
    }
    const widget = h("focal-upload", { "authorize-url": "/dashboard/authorize-upload", accept: "image/*", multiple: true });
    widget.addEventListener("focal-upload-success", () => this.reload());
    widget.addEventListener("focal-upload-error", (event) => {
      if (event.detail?.willRetry) return; // the widget tries again by itself
      this.status.show(`Upload of ${event.detail?.filename || "a file"} failed: ${event.detail?.message || "error"}`, "error");
    });
    this.uploads.replaceChildren(widget);
  }

  reload() {
    this.grid.replaceChildren();
    this.token = undefined;
    this.page();
  }

  async open(id) {
    if (!id) return;
    try {
      await get(imagePath(id));
      location.hash = `#/images/${encodeURIComponent(id)}`;
    } catch (error) {
      this.status.show(error instanceof ApiError && error.status === 404 ? `No image with id "${id}".` : error.message, "error");
    }
  }

  async page() {
    this.more.disabled = true;
    try {
      const { images, continuation_token: next } = await listImages(this.token);
      this.token = next;
      for (const image of images) this.grid.append(await this.card(image));
      this.more.hidden = !next;
      this.count.textContent = this.grid.children.length ? `${this.grid.children.length} shown${next ? ", more to load" : ""}` : "No images yet: upload one.";
    } catch (error) {
      this.status.show(error.message, "error");
    } finally {
      this.more.disabled = false;
    }
  }

  async card(image) {
    const link = h("a", { href: `#/images/${encodeURIComponent(image.id)}`, class: "card image-card", "data-id": image.id });
    if (image.draft) {
      link.append(h("div", { class: "placeholder" }, "waiting for upload"));
    } else {
      const src = await thumbnailURL(image, this.context).catch(() => "");
      link.append(h("img", { src, alt: image.filename || image.id, loading: "lazy" }));
    }
    link.append(h("span", { class: "caption" }, image.filename || image.id), h("span", { class: "facts" }, image.draft ? "draft" : `${image.width}×${image.height} · ${bytes(image.size)}`));
    return h("li", {}, link);
  }
}

customElements.define("focal-images", FocalImages);
