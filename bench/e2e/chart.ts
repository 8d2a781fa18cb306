/**
 * Draws the end-to-end benchmark's chart as SVG: for each dataset, horizontal bars of inputs/s
 * and of the client's peak RSS per tool.
 *
 * @module
 */
import type { Row } from "./report.ts";

const COLORS: Record<string, string> = {
  "upflow CLI → local API": "#2b7bb9",
  "upflow CLI → discard server": "#7fb3d9",
  "clarifai-nodejs SDK → local API": "#d9534f",
  "limit: pre-encoded requests → discard server": "#888888",
};

function escape(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

function fmt(value: number): string {
  if (!Number.isFinite(value)) return "—";
  return value >= 100 ? Math.round(value).toLocaleString("en-US") : value.toFixed(1);
}

/**
 * Renders the chart.
 *
 * @param rows The dataset runs (the `cat` rows are left out).
 * @returns An SVG document.
 */
export function renderChart(rows: Row[]): string {
  const shown = rows.filter((r) => !r.tool.startsWith("limit: cat"));
  const datasets = [...new Set(shown.map((r) => r.dataset))];
  const labelWidth = 330, barWidth = 260, gap = 40, barHeight = 18, rowGap = 6;
  const width = labelWidth + 2 * barWidth + gap + 120;
  const parts: string[] = [];
  let y = 30;
  parts.push(
    `<text x="${labelWidth}" y="20" font-weight="bold">inputs/s</text>`,
    `<text x="${
      labelWidth + barWidth + gap + 60
    }" y="20" font-weight="bold">client peak RSS (MiB)</text>`,
  );
  for (const dataset of datasets) {
    const group = shown.filter((r) => r.dataset === dataset);
    const maxRate = Math.max(...group.map((r) => r.inputsPerSecond).filter(Number.isFinite), 1e-9);
    const maxRss = Math.max(...group.map((r) => r.peakRssMiB).filter(Number.isFinite), 1e-9);
    y += 10;
    parts.push(`<text x="4" y="${y + 12}" font-weight="bold">${escape(dataset)}</text>`);
    y += 20;
    for (const r of group) {
      const key = `${r.tool} → ${r.target}`;
      const color = COLORS[key] ?? "#555";
      const rate = Number.isFinite(r.inputsPerSecond) ? r.inputsPerSecond / maxRate * barWidth : 0;
      const rss = Number.isFinite(r.peakRssMiB) ? r.peakRssMiB / maxRss * barWidth : 0;
      const x2 = labelWidth + barWidth + gap + 60;
      parts.push(
        `<text x="14" y="${y + 13}">${escape(key)}</text>`,
        `<rect x="${labelWidth}" y="${y}" width="${
          rate.toFixed(1)
        }" height="${barHeight}" fill="${color}"/>`,
        `<text x="${labelWidth + rate + 4}" y="${y + 13}">${fmt(r.inputsPerSecond)}</text>`,
        `<rect x="${x2}" y="${y}" width="${
          rss.toFixed(1)
        }" height="${barHeight}" fill="${color}"/>`,
        `<text x="${x2 + rss + 4}" y="${y + 13}">${fmt(r.peakRssMiB)}</text>`,
      );
      y += barHeight + rowGap;
    }
  }
  const height = y + 20;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...parts,
    "</svg>",
    "",
  ].join("\n");
}
