// Pure formatting helpers (no DOM, no Tauri): unit-tested by tests/ui/*.test.mjs.
import { t } from './i18n.js';

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** 1536 -> "1.5 KiB"; 512 -> "512 B". */
export function bytes(n) {
  if (!Number.isFinite(n) || n < 0) return '–';
  let v = n;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) { v /= 1024; u += 1; }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${UNITS[u]}`;
}

/** Bytes per second -> "78.2 MiB/s" ("–" until measurable). */
export function rate(bps) {
  return bps > 0 ? `${bytes(Math.round(bps))}/s` : '–';
}

/** Seconds -> "0:07" / "1:02:03"; unknown -> "–". */
export function eta(secs) {
  if (secs === null || secs === undefined || !Number.isFinite(secs) || secs < 0) return '–';
  const s = Math.round(secs);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** Whole percent of sent/total, 0–100. */
export function percent(sent, total) {
  if (!total) return 0;
  return Math.max(0, Math.min(100, Math.floor((100 * sent) / total)));
}

export const PHASES = ['queued', 'connecting', 'creating', 'uploading', 'verifying', 'active', 'cleaning_up', 'downloading'];

export function phaseLabel(phase) {
  return PHASES.includes(phase) ? t(`ui.phase.${phase}`) : phase;
}

/** "8.3 MiB · qcow2, 64.0 MiB virtual" for a file offered by the core. */
export function describeFile(f) {
  const virtual = f.virtual_size != null && f.virtual_size !== f.size ? t('ui.file.virtual', { size: bytes(f.virtual_size) }) : '';
  // A raw disk mostly made of holes: how much of it is data.
  const data = f.allocated != null && f.allocated < f.size / 2 ? t('ui.file.data', { size: bytes(f.allocated) }) : '';
  return `${bytes(f.size)} · ${f.disk_format}${virtual}${data}`;
}

/** Whole GiB that hold the virtual disk (Glance's min_disk unit), or null. */
export function suggestedMinDisk(virtualSize) {
  if (!virtualSize || virtualSize <= 0) return null;
  return Math.ceil(virtualSize / 2 ** 30);
}
