// Pdf: the document shown by the browser's own viewer in a frame, from an absolute http(s) address.
// Browsers refuse to show a PDF in a sandboxed frame, so the frame is not sandboxed; the address is
// checked instead (no javascript:, data: or blob: URL), and this site's own pages refuse framing.
import { h, resolveValue } from "./dom.js";
import { frameableUrl } from "./hypertext.js";

export function mountPdf(ctx, _node, obj) {
  const url = frameableUrl(resolveValue(obj.value, ctx.data));
  if (!url) {
    return h(
      "div",
      { class: "lo-unsupported", role: "alert", "data-object": obj.name },
      "The document in this task was not shown: only an absolute http(s) address can be shown.",
    );
  }
  return h("iframe", {
    class: "lo-pdf",
    "data-object": obj.name,
    title: `Document ${obj.name}`,
    referrerpolicy: "no-referrer",
    src: url,
  });
}
