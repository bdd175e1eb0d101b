// Building DOM from data without innerHTML: text stays text, whatever an image's metadata holds.

/** h("button", {class: "primary", onclick: fn}, "Save") -> an element. */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else if (name === "value" || (name in element && typeof value !== "string")) {
      element[name] = value; // properties: a textarea's value, a box's checked
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
  element.append(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
  return element;
}

const SVG = "http://www.w3.org/2000/svg";

export function svg(tag, attributes = {}, ...children) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  element.append(...children);
  return element;
}

/** A status line a screen reader announces: errors as alerts, the rest politely. */
export function statusLine() {
  const line = h("p", { class: "status", role: "status", "aria-live": "polite" });
  line.show = (text, kind = "info") => {
    line.textContent = text;
    line.dataset.kind = kind;
    line.setAttribute("role", kind === "error" ? "alert" : "status");
  };
  return line;
}

export function bytes(size) {
  if (size === null || size === undefined) return "—";
  const units = ["B", "KB", "MB", "GB"];
  let value = size;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(unit ? 1 : 0)} ${units[unit]}`;
}

/** Calls `run` once input has stopped for `wait` ms: one request per pause, not per key. */
export function debounce(run, wait = 250) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => run(...args), wait);
  };
}
