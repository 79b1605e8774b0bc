// Formatting of the page's numbers, pure functions (tested in Node).

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/** bytes formats a size in IEC units: 0 B, 999 B, 1.5 KiB, 12.3 MiB, 456 GiB. */
export function bytes(n) {
  if (!Number.isFinite(n) || n < 0) return "";
  let i = 0;
  while (n >= 1024 && i < UNITS.length - 1) {
    n /= 1024;
    i++;
  }
  const digits = i === 0 || n >= 100 ? 0 : n >= 10 ? 1 : 2;
  return `${n.toFixed(digits)} ${UNITS[i]}`;
}

/** rate formats bytes per second; 0 is "" (nothing moving shows nothing). */
export function rate(n) {
  return n > 0 ? `${bytes(n)}/s` : "";
}

/** duration formats seconds as the two largest units: 45s, 3m 20s, 2h 5m, 3d 4h; Infinity is ∞. */
export function duration(s) {
  if (s === Infinity) return "∞";
  if (!Number.isFinite(s) || s < 0) return "";
  s = Math.round(s);
  const parts = [[86400, "d"], [3600, "h"], [60, "m"], [1, "s"]];
  const out = [];
  for (const [size, unit] of parts) {
    if (s >= size || (unit === "s" && out.length === 0)) {
      out.push(`${Math.floor(s / size)}${unit}`);
      s %= size;
    }
    if (out.length === 2) break;
  }
  return out.join(" ");
}

/** percent formats a fraction 0–1: 0%, 42.5%, 100% (99.95% stays 99.9%). */
export function percent(f) {
  if (!Number.isFinite(f)) return "";
  const p = Math.floor(f * 1000) / 10;
  return `${p === 100 || p === 0 ? p.toFixed(0) : p.toFixed(1)}%`;
}

/** ratio formats a share ratio with two decimals. */
export function ratio(r) {
  return Number.isFinite(r) ? r.toFixed(2) : "";
}

/** date formats Unix seconds as a local date and time; 0 is "". */
export function date(sec, locale) {
  if (!sec) return "";
  return new Date(sec * 1000).toLocaleString(locale, { dateStyle: "short", timeStyle: "short" });
}
