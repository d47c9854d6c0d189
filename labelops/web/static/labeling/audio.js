// Audio: the waveform decoded by the browser itself (AudioContext.decodeAudioData) drawn on a
// canvas; Labels regions marked by dragging (start/end in seconds); play a region. The waveform
// zooms (buttons, ctrl+wheel around the pointer) and scrolls sideways; the canvas draws only the
// visible part, while regions keep their place as percentages of the whole duration.
import { dragRange, rangeBand } from "./axis_range.js";
import { clamp, h, resolveValue, round } from "./dom.js";

const LABEL_TAGS = ["Labels"];
const ZOOM_LEVELS = [1, 2, 4, 8, 16, 32, 64];

async function decode(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
  const bytes = await response.arrayBuffer();
  const Offline = window.OfflineAudioContext || window.webkitOfflineAudioContext;
  const context = new Offline(1, 1, 44100);
  return context.decodeAudioData(bytes);
}

// Min/max peaks of the first channel over samples [from, to), one pair per pixel column.
export function peaks(buffer, columns, from = 0, to = null) {
  const data = buffer.getChannelData(0);
  const last = to === null ? data.length : Math.min(data.length, to);
  const step = Math.max(1, (last - from) / columns);
  const out = [];
  for (let c = 0; c < columns; c += 1) {
    let [lo, hi] = [1, -1];
    const begin = Math.floor(from + c * step);
    const end = Math.min(last, Math.max(begin + 1, Math.floor(from + (c + 1) * step)));
    for (let i = begin; i < end; i += 1) {
      const v = data[i];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    out.push(lo <= hi ? [lo, hi] : [0, 0]);
  }
  return out;
}

export async function mountAudio(ctx, _node, obj) {
  const { store } = ctx;
  const src = resolveValue(obj.value, ctx.data);
  const audio = h("audio", { src, preload: "auto", controls: true, "aria-label": "Audio player" });
  const canvas = h("canvas", {});
  const bands = h("div", { class: "lo-bands" });
  const cursor = h("div", { class: "lo-cursor" });
  const wave = h("div", { class: "lo-wave", "data-object": obj.name, "data-zoom": "1" }, canvas, bands, cursor);
  const scroller = h("div", { class: "lo-wave-scroll" }, wave);
  const status = h("span", { class: "lo-audio-status" }, "Decoding audio…");
  let zoom = 1;
  const zoomButton = (label, title, step) =>
    h("button", { type: "button", class: "lo-icon", title, "aria-label": title, onclick: () => zoomStep(step) }, label);
  const el = h(
    "div",
    { class: "lo-audio" },
    scroller,
    h(
      "div",
      { class: "lo-media-row" },
      audio,
      zoomButton("−", "Zoom out the waveform", -1),
      zoomButton("+", "Zoom in the waveform", 1),
      status,
    ),
  );
  let duration = 0;
  let buffer = null;
  let stopAt = null;

  const play = (region) => {
    audio.currentTime = region.value.start;
    stopAt = region.value.end;
    audio.play().catch(() => ctx.notify("The browser did not allow playback."));
  };
  ctx.objectActions[obj.name] = (region) => [
    h(
      "button",
      {
        type: "button",
        class: "lo-icon",
        title: "Play region",
        "aria-label": "Play region",
        onclick: () => play(region),
      },
      "▶",
    ),
  ];
  audio.addEventListener("timeupdate", () => {
    if (stopAt !== null && audio.currentTime >= stopAt) {
      audio.pause();
      stopAt = null;
    }
    if (duration) cursor.style.left = `${(audio.currentTime / duration) * 100}%`;
  });

  // Draws the visible part of the waveform: the canvas spans the scroller's view, moved along
  // the wide wave as it scrolls.
  const draw = () => {
    const width = scroller.clientWidth || 800;
    const height = wave.clientHeight || 140;
    const full = width * zoom;
    const offset = Math.min(scroller.scrollLeft, full - width);
    canvas.style.left = `${offset}px`;
    canvas.style.width = `${width}px`;
    const ratio = window.devicePixelRatio || 1;
    canvas.width = width * ratio;
    canvas.height = height * ratio;
    const g = canvas.getContext("2d");
    g.scale(ratio, ratio);
    g.clearRect(0, 0, width, height);
    g.fillStyle = "#f6f7f9";
    g.fillRect(0, 0, width, height);
    g.strokeStyle = "#d0d5dd";
    g.beginPath();
    g.moveTo(0, height / 2);
    g.lineTo(width, height / 2);
    g.stroke();
    if (!buffer) return;
    g.fillStyle = "#1f6feb";
    const samples = buffer.getChannelData(0).length;
    const [from, to] = [(offset / full) * samples, ((offset + width) / full) * samples];
    peaks(buffer, width, from, to).forEach(([lo, hi], x) => {
      const top = ((1 - hi) / 2) * height;
      const bottom = ((1 - lo) / 2) * height;
      g.fillRect(x, top, 1, Math.max(1, bottom - top));
    });
    g.fillStyle = "#667085";
    g.font = "11px system-ui, sans-serif";
    const [shownFrom, shown] = [(offset / full) * duration, (width / full) * duration];
    const raw = shown / 6;
    const power = 10 ** Math.floor(Math.log10(raw));
    const stepSeconds = [1, 2, 5, 10].map((m) => m * power).find((v) => v >= raw);
    const digits = Math.max(0, -Math.floor(Math.log10(stepSeconds)));
    for (let t = Math.ceil(shownFrom / stepSeconds) * stepSeconds; t < shownFrom + shown; t += stepSeconds) {
      if (t <= 0) continue;
      const x = ((t - shownFrom) / shown) * width;
      g.fillRect(x, height - 6, 1, 6);
      g.fillText(`${t.toFixed(digits)}s`, x + 2, height - 8);
    }
  };

  // Zooms to `level` keeping the time at `anchor` (pixels from the scroller's left) in place.
  const zoomTo = (level, anchor = scroller.clientWidth / 2) => {
    const next = clamp(level, ZOOM_LEVELS[0], ZOOM_LEVELS[ZOOM_LEVELS.length - 1]);
    if (next === zoom) return;
    const share = (scroller.scrollLeft + anchor) / (scroller.clientWidth * zoom);
    zoom = next;
    wave.style.width = `${zoom * 100}%`;
    wave.dataset.zoom = String(zoom);
    scroller.scrollLeft = share * scroller.clientWidth * zoom - anchor;
    draw();
  };
  const zoomStep = (step, anchor) => {
    const at = ZOOM_LEVELS.indexOf(zoom);
    zoomTo(ZOOM_LEVELS[clamp(at + step, 0, ZOOM_LEVELS.length - 1)], anchor);
  };
  scroller.addEventListener(
    "wheel",
    (event) => {
      if (!event.ctrlKey && !event.metaKey) return;
      event.preventDefault();
      zoomStep(event.deltaY < 0 ? 1 : -1, event.clientX - scroller.getBoundingClientRect().left);
    },
    { passive: false },
  );
  scroller.addEventListener("scroll", () => requestAnimationFrame(draw));
  ctx.describeKey("ctrl+wheel", "Zoom the waveform");

  const pct = (seconds) => (seconds / duration) * 100;
  const redraw = () => {
    if (!duration) return;
    bands.replaceChildren(
      ...store.regionsOf(obj.name).map((region) =>
        rangeBand(store, {
          left: pct(region.value.start),
          width: pct(region.value.end - region.value.start),
          color: store.regionColor(region),
          region,
          title: `${region.labels.join(", ")} ${region.value.start.toFixed(2)}–${region.value.end.toFixed(2)} s`,
        }),
      ),
    );
    const draft = range.draft();
    if (draft)
      bands.append(
        rangeBand(store, { left: pct(draft.start), width: pct(draft.end - draft.start), color: draft.color }),
      );
  };
  ctx.onRedraw(redraw);

  const range = dragRange(ctx, wave, {
    objectName: obj.name,
    labelTags: LABEL_TAGS,
    redraw,
    ready: () => duration > 0,
    at: (event) => {
      const r = wave.getBoundingClientRect();
      return clamp(((event.clientX - r.left) / r.width) * duration, 0, duration);
    },
    onPress: (seconds) => {
      audio.currentTime = seconds;
    },
    tooShort: (start, end) => end - start < duration / (500 * zoom),
    region: (start, end) => ({ type: "labels", value: { start: round(start), end: round(end), channel: 0 } }),
  });

  decode(src)
    .then((decoded) => {
      buffer = decoded;
      duration = decoded.duration;
      status.textContent = `${round(duration, 2)} s · drag on the waveform to mark a region`;
      wave.dataset.duration = String(duration);
      draw();
      redraw();
    })
    .catch((error) => {
      status.textContent = "";
      el.prepend(
        h(
          "div",
          { class: "lo-unsupported", role: "alert" },
          `The audio could not be decoded (${error.message}): ${src}`,
        ),
      );
    });
  requestAnimationFrame(draw);
  ctx.listen(window, "resize", draw);
  return el;
}
