// The global rates of the last minutes, drawn on a canvas: one sample a
// second, the download rate filled, the upload rate as a line.
import * as fmt from "./format.js";

export class RateChart {
  /** new RateChart(canvas, seconds) keeps the last `seconds` samples. */
  constructor(canvas, seconds = 300) {
    this.canvas = canvas;
    this.seconds = seconds;
    this.down = [];
    this.up = [];
    canvas.setAttribute("role", "img");
    new ResizeObserver(() => this.draw()).observe(canvas);
    matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => this.draw());
  }

  /** push adds a sample and redraws. */
  push(down, up) {
    this.down.push(down || 0);
    this.up.push(up || 0);
    if (this.down.length > this.seconds) {
      this.down.shift();
      this.up.shift();
    }
    this.draw();
  }

  draw() {
    const c = this.canvas;
    const dpr = globalThis.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(c.clientWidth * dpr));
    const ht = Math.max(1, Math.round(c.clientHeight * dpr));
    if (c.width !== w || c.height !== ht) {
      c.width = w;
      c.height = ht;
    }
    const ctx = c.getContext("2d");
    ctx.clearRect(0, 0, w, ht);
    const css = getComputedStyle(c);
    const max = Math.max(1024, ...this.down, ...this.up);
    const n = this.seconds;
    const x = (i, len) => w - ((len - 1 - i) / (n - 1)) * w;
    const y = (v) => ht - (v / max) * (ht - 2 * dpr) - dpr;
    const path = (vals) => {
      ctx.beginPath();
      vals.forEach((v, i) => (i ? ctx.lineTo(x(i, vals.length), y(v)) : ctx.moveTo(x(i, vals.length), y(v))));
    };
    if (this.down.length > 1) {
      path(this.down);
      ctx.lineTo(w, ht);
      ctx.lineTo(x(0, this.down.length), ht);
      ctx.closePath();
      ctx.fillStyle = css.textDecorationColor;
      ctx.fill();
      path(this.down);
      ctx.strokeStyle = css.color;
      ctx.lineWidth = 1.5 * dpr;
      ctx.stroke();
      path(this.up);
      ctx.strokeStyle = css.outlineColor;
      ctx.stroke();
    }
    ctx.fillStyle = css.columnRuleColor;
    ctx.font = `${10 * dpr}px system-ui, sans-serif`;
    ctx.textBaseline = "top";
    ctx.fillText(`${Math.round(n / 60)} min · peak ${fmt.rate(max > 1024 ? max : 0) || "0 B/s"}`, 4 * dpr, 3 * dpr);
    const peakDown = Math.max(0, ...this.down);
    const peakUp = Math.max(0, ...this.up);
    c.setAttribute("aria-label", `Rates over the last ${Math.round(n / 60)} minutes: download peak ${fmt.rate(peakDown) || "0 B/s"}, upload peak ${fmt.rate(peakUp) || "0 B/s"}`);
  }
}
