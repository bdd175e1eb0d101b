// The upload widget, <focal-upload>, embedded by its URL on this server: loaded once, when a
// screen first needs it. Resolves false when this server has no widget to give.

export const WIDGET_URL = "/widget/v1/focal-upload.js";
let loading;

export function loadUploadWidget() {
  if (customElements.get("focal-upload")) return Promise.resolve(true);
  loading ??= new Promise((resolve) => {
    const script = document.createElement("script");
    script.src = WIDGET_URL;
    script.onload = () => resolve(Boolean(customElements.get("focal-upload")));
    script.onerror = () => {
      loading = undefined; // try again next time
      resolve(false);
    };
    document.head.append(script);
  });
  return loading;
}
