// <focal-dashboard>: sign-in, then one screen at a time, chosen by the address's #fragment.
import { forgetToken, signIn, signOut, storedToken } from "./api.js";
import { h, statusLine } from "./dom.js";
import "./images.js";
import "./image-details.js";
import "./variants.js";
import "./keys.js";
import "./usage.js";
import "./playground.js";

const SCREENS = [
  ["images", "Images", "focal-images"],
  ["variants", "Variants", "focal-variants"],
  ["keys", "Signing keys", "focal-keys"],
  ["usage", "Usage", "focal-usage"],
  ["playground", "Playground", "focal-playground"],
];

/** "#/images/abc?x=1" -> {screen: "images", rest: "abc", params} */
export function route() {
  const [path, search = ""] = location.hash.replace(/^#\/?/, "").split("?");
  const [screen, ...rest] = path.split("/");
  return { screen: screen || "images", rest: rest.map(decodeURIComponent).join("/"), params: new URLSearchParams(search) };
}

export function go(hash) {
  location.hash = hash;
}

class FocalDashboard extends HTMLElement {
  connectedCallback() {
    this.onRoute = () => this.render();
    window.addEventListener("hashchange", this.onRoute);
    this.render();
  }

  disconnectedCallback() {
    window.removeEventListener("hashchange", this.onRoute);
  }

  render() {
    this.replaceChildren(storedToken() ? this.shell() : this.signInForm());
  }

  signInForm() {
    const status = statusLine();
    const input = h("input", { id: "token", name: "token", type: "password", autocomplete: "off", required: true });
    const form = h(
      "form",
      { class: "sign-in card", "aria-labelledby": "sign-in-title" },
      h("h1", { id: "sign-in-title" }, "Focal"),
      h("p", {}, "Sign in with an API token (", h("code", {}, "focal token create NAME"), " or one of FOCAL_API_TOKENS). It is kept in this tab only."),
      h("label", { for: "token" }, "API token"),
      input,
      h("button", { type: "submit", class: "primary" }, "Sign in"),
      status,
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      status.show("Checking the token…");
      try {
        await signIn(input.value.trim());
        this.render();
      } catch (error) {
        forgetToken();
        status.show(`Not signed in: ${error.message}`, "error");
        input.focus();
      }
    });
    queueMicrotask(() => input.focus());
    return form;
  }

  shell() {
    const { screen, rest } = route();
    const known = SCREENS.find(([name]) => name === screen) || SCREENS[0];
    const nav = h(
      "nav",
      { "aria-label": "Dashboard" },
      h("strong", { class: "brand" }, "Focal"),
      SCREENS.map(([name, label]) => h("a", { href: `#/${name}`, "aria-current": name === known[0] ? "page" : false }, label)),
      h("button", { type: "button", class: "sign-out", onclick: async () => { await signOut(); go("#/images"); this.render(); } }, "Sign out"),
    );
    const tag = known[0] === "images" && rest ? "focal-image-details" : known[2];
    const view = h(tag, rest ? { "image-id": rest } : {});
    return h("div", { class: "shell" }, nav, h("main", { id: "main" }, view));
  }
}

customElements.define("focal-dashboard", FocalDashboard);
