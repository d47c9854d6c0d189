// The shape tools of the image object. Each tool is an object with:
//   type            result type without "labels" ("rectangle")
//   tags            the control tags it serves (["RectangleLabels", "Rectangle"])
//   aliases         optional: other result types it draws (["ocrlabels"])
//   begin(env, p, draft) -> draft | null   pointer down on the image: start drawing (null: nothing)
//   move(env, draft, p)                    pointer moves while drawing
//   toValue(env, draft) -> value | null    the region value the draft makes (null: too small/empty)
//   drawDraft(env, draft, attrs) -> [svg]  what is being drawn
//   draw(env, region, common, selected) -> {elements, labelAt}   a stored region (and its handles)
//   edit(env, drag, p, event) -> value     the value after dragging the body ("move") or a handle
//   hitTest(env, region, p) -> bool        optional: whether a point is on a region drawn without
//                                          pointer events (brush masks)
//   cursor(env, p) -> circle attributes    optional: an outline that follows the pointer
// and optional flags: instant (the region is made on pointer down), multiClick (the draft stays
// open across clicks; click(env, draft, p) -> true closes it), paintsOver (drawing over a region
// draws, it does not select). `env` is the image's viewport: W, H, px(), pixel(), scale(), store.
import { brush } from "./brush.js";
import { ellipse } from "./ellipse.js";
import { keypoint } from "./keypoint.js";
import { polygon } from "./polygon.js";
import { rectangle } from "./rectangle.js";

export const IMAGE_TOOLS = [rectangle, polygon, ellipse, keypoint, brush];
// Control tag -> its tool.
export const TOOL_FOR_TAG = Object.fromEntries(IMAGE_TOOLS.flatMap((tool) => tool.tags.map((tag) => [tag, tool])));
// Result type ("rectanglelabels" or "rectangle") -> its tool.
export const TOOL_FOR_TYPE = Object.fromEntries(
  IMAGE_TOOLS.flatMap((tool) => [
    [tool.type, tool],
    [`${tool.type}labels`, tool],
    ...(tool.aliases || []).map((type) => [type, tool]),
  ]),
);
// The label controls that pick the label of a new image region.
export const IMAGE_LABEL_TAGS = IMAGE_TOOLS.flatMap((tool) => tool.tags.filter((tag) => tag.endsWith("Labels")));
