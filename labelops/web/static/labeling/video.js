// Video: the clip with a frame timeline; TimelineLabels segments are dragged on the timeline and
// stored as frame ranges {ranges: [{start, end}], timelinelabels: [...]} (frames count from 1).
import { dragRange, rangeBand } from "./axis_range.js";
import { attr, clamp, h, resolveValue } from "./dom.js";
import { mountVideoBoxes } from "./video_boxes.js";

const LABEL_TAGS = ["TimelineLabels"];

// Resolves the clip's duration, working around recordings whose header has none (Infinity).
function duration(video) {
  return new Promise((resolve, reject) => {
    const done = () => {
      if (Number.isFinite(video.duration) && video.duration > 0) {
        resolve(video.duration);
        return true;
      }
      return false;
    };
    video.addEventListener("error", () => reject(new Error("the video could not be loaded")), { once: true });
    video.addEventListener(
      "loadedmetadata",
      () => {
        if (done()) return;
        const onChange = () => {
          if (!done()) return;
          video.removeEventListener("durationchange", onChange);
          video.currentTime = 0;
        };
        video.addEventListener("durationchange", onChange);
        video.currentTime = 1e101;
      },
      { once: true },
    );
  });
}

// Frame rate assumed when the config sets none and the browser cannot measure it (Label Studio's).
const ASSUMED_FPS = 24;
const COMMON_RATES = [23.976, 24, 25, 29.97, 30, 48, 50, 59.94, 60];

// Resolves the clip's frame rate as the browser presents it: the median gap between the media
// times of a few frames played muted from the start (requestVideoFrameCallback), snapped to a
// common rate; null when the browser cannot tell (no frame callbacks, playback refused, too few
// frames in time).
export function measureFrameRate(video, { frames = 8, timeoutMs = 3000 } = {}) {
  if (typeof video.requestVideoFrameCallback !== "function") return Promise.resolve(null);
  return new Promise((resolve) => {
    const times = [];
    const wasMuted = video.muted;
    let handle = null;
    let timer = null;
    const finish = () => {
      clearTimeout(timer);
      video.cancelVideoFrameCallback(handle);
      video.removeEventListener("ended", finish);
      video.pause();
      video.muted = wasMuted;
      video.currentTime = 0;
      const gaps = times
        .slice(1)
        .map((t, i) => t - times[i])
        .filter((g) => g > 0)
        .sort((a, b) => a - b);
      if (gaps.length < 2) {
        resolve(null);
        return;
      }
      const rate = 1 / gaps[Math.floor(gaps.length / 2)];
      const common = COMMON_RATES.find((r) => Math.abs(r - rate) / r < 0.02);
      resolve(common || Math.round(rate));
    };
    const onFrame = (_now, metadata) => {
      times.push(metadata.mediaTime);
      if (times.length > frames) finish();
      else handle = video.requestVideoFrameCallback(onFrame);
    };
    handle = video.requestVideoFrameCallback(onFrame);
    timer = setTimeout(finish, timeoutMs);
    video.addEventListener("ended", finish);
    video.muted = true;
    video.currentTime = 0;
    video.play().catch(finish);
  });
}

export async function mountVideo(ctx, _node, obj) {
  const { store } = ctx;
  const src = resolveValue(obj.value, ctx.data);
  const configured = Number(attr(obj.attrs, "frameRate")) || null;
  // Where the frame rate comes from: the config, the browser's measurement, or an assumption.
  let fps = configured || ASSUMED_FPS;
  let fpsSource = configured ? "config" : "assumed";
  const hasBoxes = Object.values(store.description.controls).some(
    (c) => c.tag === "VideoRectangle" && c.to_names.includes(obj.name),
  );
  const video = h("video", { src, preload: "auto", controls: !hasBoxes, muted: true, playsinline: true });
  const holder = h("div", { class: "lo-video-holder" }, video);
  const ticks = h("div", { class: "lo-ticks" });
  const bands = h("div", { class: "lo-bands" });
  const cursor = h("div", { class: "lo-cursor" });
  const timeline = h(
    "div",
    { class: "lo-timeline", "data-object": obj.name, role: "slider", "aria-label": "Frames" },
    ticks,
    bands,
    cursor,
  );
  const status = h("span", {}, "Loading video…");
  const step = (n) => {
    video.pause();
    video.currentTime = clamp((frameNow() - 1 + n) / fps, 0, (frames - 1) / fps) + 0.001;
  };
  const playButton = h(
    "button",
    { type: "button", class: "lo-small", onclick: () => (video.paused ? video.play() : video.pause()) },
    "Play",
  );
  video.addEventListener("play", () => {
    playButton.textContent = "Pause";
  });
  video.addEventListener("pause", () => {
    playButton.textContent = "Play";
  });
  const transport = hasBoxes
    ? [
        playButton,
        h(
          "button",
          {
            type: "button",
            class: "lo-small",
            title: "Previous frame",
            "aria-label": "Previous frame",
            onclick: () => step(-1),
          },
          "◀",
        ),
        h(
          "button",
          {
            type: "button",
            class: "lo-small",
            title: "Next frame",
            "aria-label": "Next frame",
            onclick: () => step(1),
          },
          "▶",
        ),
      ]
    : [];
  const el = h(
    "div",
    { class: "lo-video" },
    holder,
    timeline,
    h("div", { class: "lo-media-row" }, ...transport, status),
  );
  const hasTimeline = Object.values(store.description.controls).some(
    (c) => (c.tag === "TimelineLabels" || c.tag === "VideoRectangle") && c.to_names.includes(obj.name),
  );
  timeline.hidden = !hasTimeline;
  let frames = 0;
  const clip = { fps, frames: 0, duration: 0, frame: () => frameNow() };
  const rateNote = {
    config: "",
    measured: " (measured: the config sets no frameRate)",
    assumed: " (assumed: the config sets no frameRate and the browser could not measure it)",
  };
  if (hasBoxes) mountVideoBoxes(ctx, obj, video, holder, clip);

  const frameNow = () => clamp(Math.floor(video.currentTime * fps + 1e-6) + 1, 1, frames || 1);
  const pct = (frame) => ((frame - 1) / (frames || 1)) * 100;
  const frameAt = (event) => {
    const r = timeline.getBoundingClientRect();
    return clamp(Math.floor(((event.clientX - r.left) / r.width) * frames) + 1, 1, frames);
  };
  const showTime = () => {
    if (!frames) return;
    cursor.style.left = `${pct(frameNow())}%`;
    status.textContent = `Frame ${frameNow()} / ${frames} · ${fps} fps${rateNote[fpsSource]} · drag on the timeline to mark a segment`;
  };
  video.addEventListener("timeupdate", showTime);
  video.addEventListener("seeked", showTime);

  const band = (start, end, color, region = null) =>
    rangeBand(store, { left: pct(start), width: ((end - start + 1) / frames) * 100, color, region });
  const redraw = () => {
    if (!frames) return;
    const out = [];
    for (const region of store.regionsOf(obj.name)) {
      for (const r of region.value.ranges || []) out.push(band(r.start, r.end, store.regionColor(region), region));
      const keys = (region.value.sequence || []).map((k) => k.frame);
      if (keys.length) out.push(band(Math.min(...keys), Math.max(...keys), store.regionColor(region), region));
    }
    const draft = range.draft();
    if (draft) out.push(band(draft.start, draft.end, draft.color));
    bands.replaceChildren(...out);
  };
  ctx.onRedraw(redraw);
  const range = dragRange(ctx, timeline, {
    objectName: obj.name,
    labelTags: LABEL_TAGS,
    at: frameAt,
    redraw,
    ready: () => frames > 0,
    onPress: (frame) => {
      video.currentTime = (frame - 1) / fps;
    },
    tooShort: () => false, // one frame is a segment
    region: (start, end) => ({ type: "timelinelabels", value: { ranges: [{ start, end }] } }),
  });

  duration(video)
    .then(async (seconds) => {
      if (!configured) {
        status.textContent = "Measuring the frame rate…";
        const measured = await measureFrameRate(video);
        if (measured) [fps, fpsSource] = [measured, "measured"];
      }
      el.dataset.frameRate = String(fps);
      el.dataset.frameRateSource = fpsSource;
      frames = Math.max(1, Math.round(seconds * fps));
      Object.assign(clip, { fps, frames, duration: seconds });
      timeline.dataset.frames = String(frames);
      const step = [1, 5, 10, 25, 50, 100, 250, 500, 1000].find((v) => frames / v <= 12) || 1000;
      const marks = [1];
      for (let f = step; f <= frames; f += step) if (f > 1) marks.push(f);
      ticks.replaceChildren(
        ...marks.map((f) => {
          const t = h("span", {}, String(f));
          t.style.left = `${pct(f)}%`;
          return t;
        }),
      );
      showTime();
      redraw();
    })
    .catch((error) => {
      status.textContent = "";
      el.prepend(h("div", { class: "lo-unsupported", role: "alert" }, `${error.message}: ${src}`));
    });
  return el;
}
