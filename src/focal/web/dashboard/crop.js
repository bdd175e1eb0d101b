// Where a cut of fit=cover (or crop) falls in the original: the published face algorithm
// (outer box of the faces, 1/zoom of it, grown to the output's aspect, centred and kept
// inside) and the cut by a point, as focal/pipeline/gravity.py and geometry.py do it.
// Drawn in the playground only; the server's answer is always the image itself.

const SIDES = { center: [0.5, 0.5], left: [0, 0.5], right: [1, 0.5], top: [0.5, 0], bottom: [0.5, 1] };

const roundOffset = (value) => Math.floor(value + 0.5);
const centerOn = (size, cut, center) => Math.max(0, Math.min(size - cut, roundOffset(center - cut / 2)));
const placeByFraction = (size, cut, fraction) => Math.max(0, Math.min(size - cut, roundOffset((size - cut) * fraction)));

export function outerBox(faces) {
  const left = Math.min(...faces.map((face) => face.x));
  const top = Math.min(...faces.map((face) => face.y));
  const right = Math.max(...faces.map((face) => face.x + face.width));
  const bottom = Math.max(...faces.map((face) => face.y + face.height));
  return { x: left, y: top, width: right - left, height: bottom - top };
}

/** The face region standing in for the image, and its focal point; null without faces. */
export function faceRegion(width, height, faces, zoom, aspect) {
  if (!faces.length) return null;
  const box = outerBox(faces);
  const focal = [box.x + box.width / 2, box.y + box.height / 2];
  let [regionW, regionH] = zoom > 0 ? [Math.min(box.width / zoom, width), Math.min(box.height / zoom, height)] : [width, height];
  if (aspect) {
    if (regionW / regionH < aspect) regionW = Math.min(regionH * aspect, width);
    else regionH = Math.min(regionW / aspect, height);
  }
  const cutW = Math.max(1, Math.round(regionW));
  const cutH = Math.max(1, Math.round(regionH));
  const x = centerOn(width, cutW, focal[0]);
  const y = centerOn(height, cutH, focal[1]);
  return { x, y, width: cutW, height: cutH, focal: [focal[0] - x, focal[1] - y] };
}

/**
 * The part of the original a cover-like fit keeps, in the original's pixels, or null when
 * the options cut nothing or gravity=auto decides it from the pixels (saliency).
 */
export function plannedCrop(width, height, faces, options) {
  const fit = options.fit || "scale-down";
  if (!["cover", "crop"].includes(fit) || !options.width || !options.height) return null;
  const gravity = options.gravity || "center";
  if (gravity === "auto") return null;
  const aspect = options.width / options.height;
  const region = gravity === "face" ? faceRegion(width, height, faces, options.zoom || 0, aspect) : null;
  const base = region || { x: 0, y: 0, width, height };
  if (fit === "crop" && base.width <= options.width && base.height <= options.height) return base;
  const scale = Math.max(options.width / base.width, options.height / base.height);
  const cutW = Math.min(base.width, options.width / scale);
  const cutH = Math.min(base.height, options.height / scale);
  let left;
  let top;
  if (region) {
    left = centerOn(base.width, cutW, region.focal[0]);
    top = centerOn(base.height, cutH, region.focal[1]);
  } else {
    const [fx, fy] = SIDES[gravity] || gravity.split("x").map(Number);
    left = placeByFraction(base.width, cutW, fx);
    top = placeByFraction(base.height, cutH, fy);
  }
  return { x: base.x + left, y: base.y + top, width: cutW, height: cutH };
}
