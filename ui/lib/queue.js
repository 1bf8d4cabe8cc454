// The upload queue as data (no DOM, no Tauri): one item per offered file, with its settings
// and its run. The page draws rows from this; tests/ui/queue.test.mjs checks the rules.
//
// - A file joins as `ready` with settings from the profile's defaults and the choices last
//   used with that profile; its min disk is filled from the virtual size.
// - Settings are edited for one or many selected items at once; an item that is running or
//   active is never changed; the name is only edited for one item at a time.
// - "Upload all" starts every ready item whose settings are valid.
// - A failed or cancelled item can be retried; an active one cannot be uploaded again from
//   the queue (no accidental duplicate).
import { suggestedMinDisk, percent } from './format.js';
import { toSpec } from './form.js';
import { apply, initial } from './upload-state.js';
import { t } from './i18n.js';

/** The settings a batch edit can change for several items (everything but the name). */
export const SHARED_FIELDS = ['visibility', 'disk_format', 'container_format', 'min_disk', 'min_ram', 'protected', 'tags', 'properties', 'method', 'stores', 'also', 'convert'];
/** The settings remembered per profile for the next files. */
export const REMEMBERED = ['visibility', 'container_format', 'method', 'protected', 'tags', 'properties', 'convert'];

let serial = 0;

/**
 * A queue item for a file offered by the core (`{ handle, file_name, size, disk_format,
 * virtual_size, image_name }`). `remembered` are the choices last used with this profile,
 * `profile` the profile's own upload defaults (they win).
 */
export function newItem(file, remembered = {}, profile = {}) {
  const minDisk = suggestedMinDisk(file.virtual_size);
  serial += 1;
  return {
    key: `q${serial}`,
    handle: file.handle,
    file,
    settings: {
      name: file.image_name,
      disk_format: file.disk_format,
      container_format: remembered.container_format ?? 'bare',
      visibility: profile.visibility ?? remembered.visibility ?? 'private',
      min_disk: minDisk == null ? '' : String(minDisk),
      min_ram: '',
      protected: Boolean(remembered.protected),
      tags: remembered.tags ?? '',
      properties: remembered.properties ?? '',
      method: remembered.method ?? 'put',
      stores: '',
      also: '',
      // Raw disks only: sent as qcow2, data only (the profile's default, or the last choice).
      convert: Boolean(remembered.convert ?? profile.convert === 'qcow2'),
    },
    run: initial(),
    upload: null,
  };
}

/**
 * A web-download job for the queue: Glance fetches `uri` itself. It starts at once (no
 * settings to edit afterwards); `spec` is the ImageSpec it is created with.
 */
export function newUrlItem(uri, spec) {
  serial += 1;
  return {
    key: `q${serial}`,
    kind: 'url',
    uri,
    handle: null,
    file: { file_name: spec.name, size: 0, disk_format: spec.disk_format, virtual_size: null },
    settings: { name: spec.name, disk_format: spec.disk_format, container_format: spec.container_format, visibility: spec.visibility,
      min_disk: '', min_ram: '', protected: false, tags: '', properties: '', method: 'web-download', stores: '' },
    spec,
    run: initial(),
    upload: null,
  };
}

/**
 * A copy of an image of one cloud into others (`job`: `{ cloud, image, to: [clouds], name,
 * visibility }`, `image` as Glance shows it). Like a URL job it starts at once and has no
 * settings to edit; it has a run per target cloud, as a file sent to several has.
 */
export function newCopyItem(job) {
  serial += 1;
  const img = job.image;
  const name = job.name || img.name || img.id;
  return {
    targets: job.to.map((cloud) => ({ name: cloud, run: initial() })),
    key: `q${serial}`,
    kind: 'copy',
    copy: job,
    handle: null,
    file: { file_name: name, size: img.size ?? 0, disk_format: img.disk_format, virtual_size: img.virtual_size ?? null },
    settings: { name, disk_format: img.disk_format, container_format: img.container_format, visibility: job.visibility || img.visibility,
      min_disk: '', min_ram: '', protected: false, tags: '', properties: '', method: 'put', stores: '', also: job.to.slice(1).join(',') },
    run: initial(),
    upload: null,
  };
}

/** A raw disk (which can be sent as qcow2, its data only). */
export function isRaw(item) {
  return !isJob(item) && item.file?.disk_format === 'raw';
}

/** A job the queue runs as it was asked (a URL, a copy), not a file with settings to edit. */
export function isJob(item) {
  return item.kind === 'url' || item.kind === 'copy';
}

/** The disk formats a URL's extension can name (`.img` names none). */
const FORMAT_EXTENSIONS = 'qcow2|raw|vmdk|vhdx|vhd|vdi|iso';

/** The image name a URL suggests: its last path segment without the extension. */
export function nameFromUrl(uri) {
  let last = '';
  try { last = decodeURIComponent(new URL(uri).pathname.split('/').filter(Boolean).pop() ?? ''); } catch { return ''; }
  return last.replace(/\.(gz|xz|bz2|zst)$/i, '').replace(new RegExp(`\\.(${FORMAT_EXTENSIONS}|img)$`, 'i'), '');
}

/** The disk format a URL's extension names (`disk.qcow2`, `disk.raw.xz`), or null. */
export function formatFromUrl(uri) {
  return uri.match(new RegExp(`\\.(${FORMAT_EXTENSIONS})(\\.|$)`, 'i'))?.[1]?.toLowerCase() ?? null;
}

/** Whether an item's settings may change: not while it runs, not once it is active. */
export function editable(item) {
  return !isJob(item) && item.run.state !== 'running' && item.run.state !== 'done';
}

/** `{ value, mixed }` of one setting over `items` (mixed when they differ). */
export function shared(items, field) {
  if (!items.length) return { value: '', mixed: false };
  const first = items[0].settings[field];
  const mixed = items.some((it) => it.settings[field] !== first);
  return { value: mixed ? '' : first, mixed };
}

/**
 * Set `field` to `value` on every editable item among `items`; returns how many changed.
 * The name is only set when one item is given (each file keeps its own name otherwise).
 */
export function edit(items, field, value) {
  if (field === 'name' && items.length !== 1) return 0;
  let n = 0;
  for (const it of items) {
    if (!editable(it) || it.settings[field] === value) continue;
    it.settings = { ...it.settings, [field]: value };
    n += 1;
  }
  return n;
}

/** `{ spec, errors, importChoice }` for an item, as `upload_start` takes them. */
export function specOf(item) {
  const s = item.settings;
  const { spec, errors } = toSpec(s);
  const stores = String(s.stores ?? '').split(/[\s,]+/).filter(Boolean);
  const importChoice = s.method === 'glance-direct' ? { method: { name: 'glance-direct' }, stores, all_stores: false, allow_failure: false } : null;
  if (importChoice && alsoTo(item).length) errors.push(t('ui.form.err.import_one_cloud'));
  const convert = s.convert && isRaw(item) && !importChoice ? 'qcow2' : null;
  return { spec, errors, importChoice, convert };
}

/** Items "Upload all" would start now: never started, with valid settings. */
export function startable(queue) {
  return queue.filter((it) => !isJob(it) && it.run.state === 'ready' && !specOf(it).errors.length);
}

/** Items not started whose settings are invalid, with the first reason each. */
export function blocked(queue) {
  return queue.filter((it) => !isJob(it) && it.run.state === 'ready').map((it) => ({ item: it, errors: specOf(it).errors })).filter((b) => b.errors.length);
}

/** Which of a row's buttons apply. Remove always does (a running upload is cancelled first). */
export function actions(item) {
  const s = item.run.state;
  return { cancel: s === 'running', retry: s === 'failed' || s === 'cancelled', remove: true };
}

/**
 * The item after an event from the core (see upload-state.js). An item sent to several clouds
 * has a run per cloud (`targets`): a `target` event is that cloud's; any other event goes to
 * each cloud not yet ended; the item's own run sums them up (see `overall`).
 */
export function onEvent(item, ev) {
  if (!item.targets) {
    item.run = apply(item.run, ev);
    return item;
  }
  for (const t of item.targets) {
    if (ev.event === 'target') {
      if (t.name === ev.target) t.run = apply(t.run, ev.inner);
    } else if (!['done', 'failed', 'cancelled'].includes(t.run.state)) {
      t.run = apply(t.run, ev);
    }
  }
  item.run = overall(item.targets, item.run);
  return item;
}

/** Whether an event from the core ends an upload (or one cloud's part of it). */
export function isFinal(ev) {
  return ev.event === 'target' ? isFinal(ev.inner) : !['progress', 'warning'].includes(ev.event);
}

/** The clouds a file goes to besides the one in use (`settings.also`, comma-separated). */
export function alsoTo(item) {
  return String(item.settings?.also ?? '').split(',').filter(Boolean);
}

/**
 * Before a start: an item going to several clouds gets a run per cloud (`cloud` first), or,
 * when it ran before, its failed and cancelled clouds start again and the active ones stay.
 * Returns the clouds to send to now.
 */
export function targetsToRun(item, cloud) {
  if (!item.targets) {
    const also = alsoTo(item).filter((n) => n !== cloud);
    if (!also.length) return [cloud];
    item.targets = [cloud, ...also].map((name) => ({ name, run: initial() }));
  } else {
    // Edited since: a cloud no longer ticked is not tried again, a newly ticked one is added.
    const wanted = [item.targets[0].name, ...alsoTo(item)];
    item.targets = item.targets.filter((t) => t.run.state === 'done' || wanted.includes(t.name));
    for (const name of wanted) if (!item.targets.some((t) => t.name === name)) item.targets.push({ name, run: initial() });
  }
  for (const t of item.targets) if (t.run.state === 'failed' || t.run.state === 'cancelled') t.run = initial();
  return item.targets.filter((t) => t.run.state === 'ready').map((t) => t.name);
}

/**
 * One run for several clouds: running while any is; active when all are (the first one's
 * result); else failed (or cancelled when none failed), naming each cloud that did not make it.
 */
export function overall(targets, before = initial()) {
  const runs = targets.map((t) => t.run);
  const running = runs.filter((r) => r.state === 'running' || r.state === 'ready');
  const sum = (k) => runs.reduce((n, r) => n + (r[k] || 0), 0);
  if (running.some((r) => r.state === 'running')) {
    const lead = running.find((r) => r.state === 'running');
    const rates = running.map((r) => r.rate).filter((r) => r > 0);
    const etas = running.map((r) => r.eta).filter((e) => e != null);
    return { ...initial(), state: 'running', phase: lead.phase, serverStatus: lead.serverStatus, sent: sum('sent'), total: sum('total'),
      rate: rates.length ? Math.min(...rates) : 0, eta: etas.length ? Math.max(...etas) : null, warning: before.warning };
  }
  if (running.length) return before.state === 'running' ? before : initial();
  if (runs.every((r) => r.state === 'done')) {
    return { ...runs[0], sent: sum('sent'), total: sum('total') };
  }
  // Each cloud's line says why; the row says how many.
  const ended = targets.filter((t) => t.run.state !== 'done');
  const state = ended.some((t) => t.run.state === 'failed') ? 'failed' : 'cancelled';
  return { ...initial(), state, message: t('ui.queue.targets_failed', { n: ended.length, total: targets.length, names: ended.map((x) => x.name).join(', ') }) };
}

/** Back to `ready` for a retry (same file, same settings). */
export function reset(item) {
  item.run = initial();
  item.upload = null;
  return item;
}

/** One status word for a row: waiting, queued, connecting, …, active, failed, cancelled. */
export function status(item) {
  const r = item.run;
  if (r.state === 'ready') return 'waiting';
  if (r.state === 'done') return 'active';
  if (r.state === 'failed' || r.state === 'cancelled') return r.state;
  if (r.phase === 'verifying' && r.serverStatus === 'importing') return 'importing';
  if (r.phase === 'verifying' && r.serverStatus === 'saving') return 'saving';
  return r.phase ?? 'queued';
}

/**
 * The batch's progress: the items started (running or ended), bytes sent of their total,
 * and counts. An active item counts as all sent; a failed or cancelled one drops out of the
 * byte total (its bytes will not arrive).
 */
export function summary(queue) {
  const out = { ready: 0, running: 0, done: 0, failed: 0, cancelled: 0, sent: 0, total: 0, percent: 0 };
  for (const it of queue) {
    const r = it.run;
    out[r.state === 'done' ? 'done' : r.state] += 1;
    if (r.state === 'running') {
      const total = r.total || it.file.size;
      out.total += total;
      out.sent += Math.min(r.sent, total);
    } else if (r.state === 'done') {
      out.total += it.file.size;
      out.sent += it.file.size;
    }
  }
  out.percent = percent(out.sent, out.total);
  return out;
}

/**
 * The next percentage worth announcing to a screen reader, given the last one announced:
 * every 10 %, once each (null when nothing new).
 */
export function milestone(lastAnnounced, pct) {
  const step = Math.floor(pct / 10) * 10;
  return step > (lastAnnounced ?? -1) && step > 0 && step < 100 ? step : null;
}

/** The choices to remember for this profile from the settings of an upload just started. */
export function remembered(settings) {
  return Object.fromEntries(REMEMBERED.map((k) => [k, settings[k]]));
}

/**
 * Selection with a click: plain replaces, Ctrl/Cmd toggles one, Shift extends from the
 * anchor. Returns `{ selected: Set of keys, anchor }`.
 */
export function select(queue, current, anchor, key, { toggle = false, extend = false } = {}) {
  const keys = queue.map((it) => it.key);
  if (extend && anchor && keys.includes(anchor)) {
    const [a, b] = [keys.indexOf(anchor), keys.indexOf(key)].sort((x, y) => x - y);
    return { selected: new Set(keys.slice(a, b + 1)), anchor };
  }
  if (toggle) {
    const next = new Set(current);
    if (next.has(key)) next.delete(key); else next.add(key);
    return { selected: next, anchor: key };
  }
  return { selected: new Set([key]), anchor: key };
}
