// An image with boxes drawn over it (faces, a crop), in the image's own pixel coordinates.
import { h, svg } from "./dom.js";

/** <figure> holding `src` and an SVG of `boxes` ({x, y, width, height, kind, label}). */
export function boxedImage(src, width, height, boxes, alt) {
  const layer = svg("svg", { class: "boxes", viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: "none", "aria-hidden": "true" });
  const stroke = Math.max(2, Math.round(Math.max(width, height) / 300));
  for (const box of boxes) {
    const rect = svg("rect", { x: box.x, y: box.y, width: box.width, height: box.height, class: `box ${box.kind}`, "stroke-width": stroke });
    if (box.label) rect.append(svg("title", {}, box.label));
    layer.append(rect);
  }
  return h("div", { class: "boxed" }, h("img", { src, alt, width, height }), layer);
}

export function faceBoxes(faces) {
  return faces.map((face, index) => ({ ...face, kind: "face", label: `face ${index + 1}, score ${face.score}` }));
}
