// <focal-usage>: daily charts of unique transformations, deliveries, images stored and cost,
// drawn with uPlot (vendored, web/vendor/uplot).
import uPlot from "./vendor/uplot/uPlot.esm.js";
import { get } from "./api.js";
import { h, statusLine } from "./dom.js";

const SERIES = [
  ["unique_transformations", "Unique transformations", "#2563eb"],
  ["deliveries", "Deliveries", "#059669"],
  ["images_stored", "Images stored", "#7c3aed"],
  ["cost", "Cost", "#d97706"],
];

const day = (date) => date.toISOString().slice(0, 10);

class FocalUsage extends HTMLElement {
  connectedCallback() {
    const today = new Date();
    this.from = h("input", { type: "date", id: "usage-from", value: day(new Date(today.getTime() - 29 * 86400e3)) });
    this.to = h("input", { type: "date", id: "usage-to", value: day(today) });
    this.status = statusLine();
    this.totals = h("dl", { class: "totals" });
    this.charts = h("div", { class: "charts" });
    const form = h(
      "form",
      { class: "toolbar" },
      h("label", { for: "usage-from" }, "From"),
      this.from,
      h("label", { for: "usage-to" }, "to"),
      this.to,
      h("button", { type: "submit" }, "Show"),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.load();
    });
    this.replaceChildren(h("header", { class: "screen-head" }, h("h1", {}, "Usage"), form), this.status, this.totals, this.charts);
    this.load();
  }

  disconnectedCallback() {
    for (const plot of this.plots || []) plot.destroy();
  }

  async load() {
    try {
      const report = await get("/usage", { from: this.from.value, to: this.to.value });
      this.render(report);
    } catch (error) {
      this.status.show(error.message, "error");
    }
  }

  render(report) {
    for (const plot of this.plots || []) plot.destroy();
    const days = report.days;
    const x = days.map((entry) => Date.parse(`${entry.date}T00:00:00Z`) / 1000);
    const total = (name) => days.reduce((sum, entry) => sum + entry[name], 0);
    const price = report.price_per_1000_transformations;
    this.totals.replaceChildren(
      h("dt", {}, "Unique transformations"), h("dd", {}, String(total("unique_transformations"))),
      h("dt", {}, "Deliveries"), h("dd", {}, String(total("deliveries"))),
      h("dt", {}, "Images stored (last day)"), h("dd", {}, String(days.at(-1)?.images_stored ?? 0)),
      h("dt", {}, "Cost"), h("dd", {}, `${total("cost").toFixed(2)} (at ${price} per 1,000 transformations)`),
    );
    this.status.show(`${report.from} to ${report.to}, UTC days.`);
    this.plots = SERIES.map(([name, label, color]) => {
      const box = h("figure", { class: "chart card", "data-series": name, "data-points": String(days.filter((entry) => entry[name]).length) });
      this.charts.append(box);
      const width = Math.max(280, box.clientWidth - 34); // the card's inside: padding and border
      const values = days.map((entry) => entry[name]);
      return new uPlot(
        {
          title: label,
          width,
          height: 220,
          scales: { x: { time: true }, y: { range: (_, min, max) => [0, Math.max(1, max * 1.1)] } },
          series: [{}, { label, stroke: color, fill: `${color}22`, width: 2, points: { show: days.length <= 31 } }],
          axes: [{}, { size: 60 }],
        },
        [x, values],
        box,
      );
    });
    this.charts.replaceChildren(...this.plots.map((plot) => plot.root.parentElement));
  }
}

customElements.define("focal-usage", FocalUsage);
