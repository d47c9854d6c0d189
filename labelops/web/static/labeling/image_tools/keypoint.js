// KeyPointLabels / KeyPoint: one click places a point (x, y in percent, width from strokeWidth).
import { attr, round, s } from "../dom.js";
import { moveAnchor } from "./geometry.js";

export const keypoint = {
  type: "keypoint",
  tags: ["KeyPointLabels", "KeyPoint"],
  // The region is made on pointer down: no drag.
  instant: true,

  begin(_env, p, draft) {
    return { ...draft, start: p };
  },

  move() {},

  toValue(_env, draft) {
    const size = Number(attr(draft.control.attrs, "strokeWidth", "1")) || 1;
    return { x: round(draft.start[0]), y: round(draft.start[1]), width: size };
  },

  drawDraft() {
    return [];
  },

  draw(env, region, common, selected) {
    const [cx, cy] = env.px(region.value.x, region.value.y);
    const k = env.scale();
    const elements = [s("circle", { ...common, cx, cy, r: (selected ? 7 : 5) * k, "fill-opacity": 0.9 })];
    return { elements, labelAt: [cx + 6 * k, cy] };
  },

  edit(_env, drag, p) {
    if (drag.mode !== "move") return drag.value;
    return moveAnchor(drag.value, [p[0] - drag.start[0], p[1] - drag.start[1]]);
  },
};
