// The upload queue on the page: one compact row per file, a side panel that edits the settings
// of the selected rows at once, "Upload all", row actions, the batch's progress (header, OS
// taskbar, screen reader). The rules live in lib/queue.js (tested without a window).
import { bytes, describeFile, eta, percent, phaseLabel, rate } from './lib/format.js';
import { CONTAINER_FORMATS, DISK_FORMATS, VISIBILITIES, toSpec } from './lib/form.js';
import * as Q from './lib/queue.js';
import { t } from './lib/i18n.js';

const { invoke, Channel } = window.__TAURI__.core;
const $ = (sel, root = document) => root.querySelector(sel);

let ctx = null;
/** The items, in the order they were added. */
let queue = [];
let selected = new Set();
let anchor = null;
let announced = null;
/** The profile's remembered choices (filled by the page when it connects). */
let choices = {};
let profileDefaults = {};

/**
 * `cloud()` the connected cloud's name, `showImage(id)` opens an image in the Images tab,
 * `remember(cloud, choices)` keeps the choices for the next files.
 */
export function initQueue(c) {
  ctx = c;
  fillSelect($('#settings').elements.visibility, VISIBILITIES);
  fillSelect($('#settings').elements.disk_format, DISK_FORMATS);
  fillSelect($('#settings').elements.container_format, CONTAINER_FORMATS);
  $('#settings').addEventListener('input', onSettingsInput);
  $('#settings').addEventListener('change', onSettingsInput);
  $('#settings').addEventListener('submit', (e) => e.preventDefault());
  $('#s-also').addEventListener('change', onAlsoChange);
  $('#upload-all').addEventListener('click', uploadAll);
  initUrlDialog();
  $('#clear-finished').addEventListener('click', clearFinished);
  $('#q-select-all').addEventListener('change', (e) => {
    selected = e.target.checked ? new Set(queue.map((it) => it.key)) : new Set();
    drawAll();
  });
  $('#queue').addEventListener('keydown', (e) => {
    if (e.target.closest('.row-actions, .result')) return;
    if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'a') {
      e.preventDefault();
      selected = new Set(queue.map((it) => it.key));
      drawAll();
    } else if (e.key === 'Delete' && selected.size) {
      e.preventDefault();
      for (const it of queue.filter((i) => selected.has(i.key))) remove(it);
    }
  });
  drawAll();
}

/** The choices for files added from now on: the profile's defaults and its remembered ones. */
export function useProfile(defaults, remembered) {
  profileDefaults = defaults ?? {};
  choices = remembered ?? {};
  // "Also upload to" offers every cloud but the one now in use.
  if (ctx) drawSettings();
}

/** Files offered by the core join the queue; the new ones are selected. */
export function addFiles(files) {
  const added = files.map((f) => Q.newItem(f, choices, profileDefaults));
  queue.push(...added);
  selected = new Set(added.map((it) => it.key));
  anchor = added[0]?.key ?? anchor;
  drawAll();
  if (added.length === 1) $('#settings').elements.name.focus();
  else if (added.length) $('#upload-all').focus();
}

// ------------------------------------------------------------------ drawing
function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

function fillSelect(select, values) {
  select.replaceChildren(...values.map((v) => new Option(v, v)));
}

function rowOf(key) {
  return $(`#queue .row[data-key="${key}"]`);
}

/** After an event for one item: its row, the bar; when it ended, the panel and the end. */
function drawItem(it, finished = false) {
  const li = rowOf(it.key);
  if (li) drawRow(it, li);
  const sum = drawBar();
  if (finished) {
    drawSettings();
    ended(sum);
  }
  progressAnnouncement(sum);
}

function drawAll() {
  const list = $('#queue');
  const keep = new Set(queue.map((it) => it.key));
  for (const li of [...list.children]) if (!keep.has(li.dataset.key)) li.remove();
  for (const it of queue) {
    let li = rowOf(it.key);
    if (!li) {
      li = newRow(it);
      list.append(li);
    }
    drawRow(it, li);
  }
  drawBar();
  drawSettings();
}

function newRow(it) {
  const li = $('#row').content.firstElementChild.cloneNode(true);
  li.dataset.key = it.key;
  li.tabIndex = -1;
  const name = it.file.file_name;
  $('.file-name', li).textContent = name;
  $('.file-meta', li).textContent = it.kind === 'url' ? t('ui.url.meta', { uri: it.uri })
    : it.kind === 'copy' ? t('ui.copycloud.meta', { from: it.copy.cloud, to: it.copy.to.join(', '), size: describeFile(it.file) }) : describeFile(it.file);
  // A copy's image lives in the other cloud: the Images tab shows the connected one.
  $('.show', li).hidden = it.kind === 'copy';
  $('.sel', li).setAttribute('aria-label', t('ui.row.select', { name }));
  $('progress', li).setAttribute('aria-label', t('ui.row.progress', { name }));
  $('.cancel', li).setAttribute('aria-label', t('ui.row.cancel', { name }));
  $('.retry', li).setAttribute('aria-label', t('ui.row.retry', { name }));
  $('.remove', li).setAttribute('aria-label', t('ui.row.remove', { name }));
  $('.copy', li).setAttribute('aria-label', t('ui.row.copy', { name }));
  $('.show', li).setAttribute('aria-label', t('ui.row.show', { name }));
  $('.sel', li).addEventListener('click', (e) => {
    e.stopPropagation();
    ({ selected, anchor } = Q.select(queue, selected, anchor, it.key, { toggle: true, extend: e.shiftKey }));
    drawAll();
  });
  li.addEventListener('click', (e) => {
    if (e.target.closest('button, summary, .sums, code')) return;
    ({ selected, anchor } = Q.select(queue, selected, anchor, it.key, { toggle: e.ctrlKey || e.metaKey, extend: e.shiftKey }));
    drawAll();
  });
  $('.cancel', li).addEventListener('click', () => cancel(it));
  $('.retry', li).addEventListener('click', () => {
    Q.reset(it);
    if (it.kind === 'url') runUrl(it);
    else if (it.kind === 'copy') runCopy(it);
    else start([it]);
  });
  $('.remove', li).addEventListener('click', () => remove(it));
  $('.copy', li).addEventListener('click', async (e) => {
    try { await navigator.clipboard.writeText(it.run.imageId); e.target.textContent = t('ui.copy.done'); } catch { e.target.textContent = t('ui.copy.failed'); }
  });
  $('.show', li).addEventListener('click', () => ctx.showImage(it.run.imageId));
  return li;
}

function drawRow(it, li) {
  const s = it.run;
  const st = Q.status(it);
  li.dataset.state = s.state;
  li.classList.toggle('selected', selected.has(it.key));
  $('.sel', li).checked = selected.has(it.key);
  const pct = s.state === 'done' ? 100 : percent(s.sent, s.total);
  // Glance reports nothing while it downloads a URL: the bar is indeterminate then.
  if (it.kind === 'url' && s.state === 'running') $('progress', li).removeAttribute('value');
  else $('progress', li).value = pct;
  $('.bar', li).hidden = s.state === 'ready' || s.state === 'done';
  setText($('.pct', li), s.state === 'running' && it.kind !== 'url' ? `${pct} %` : '');
  const server = s.serverStatus && s.phase === 'verifying' ? t('ui.upload.glance_status', { status: s.serverStatus }) : '';
  const label = {
    waiting: t('ui.queue.status.waiting'), failed: t('ui.upload.failed'), cancelled: t('ui.upload.cancelled'),
    saving: phaseLabel('verifying') + server, importing: phaseLabel('verifying') + server,
  }[st] ?? phaseLabel(st);
  setText($('.phase', li), label);
  setText($('.rate', li), s.phase === 'uploading' && s.state === 'running' ? rate(s.rate) : '');
  setText($('.eta', li), s.phase === 'uploading' && s.state === 'running' && s.eta != null ? t('ui.upload.eta', { eta: eta(s.eta) }) : '');
  $('.state', li).hidden = s.state === 'done';
  drawTargets(it, $('.targets', li));
  const a = Q.actions(it);
  $('.cancel', li).hidden = !a.cancel;
  $('.retry', li).hidden = !a.retry;
  const warn = $('.warning', li);
  warn.hidden = !s.warning || s.state === 'done';
  setText(warn, s.warning ?? '');
  const err = $('.error', li);
  err.hidden = !s.message;
  setText(err, s.message ?? '');
  const result = $('.result', li);
  result.hidden = s.state !== 'done';
  if (s.state === 'done' && $('.image-id', li).textContent !== s.result.image_id) {
    $('.image-id', li).textContent = s.result.image_id;
    const verified = s.result.verified_os_hash ? t('ui.upload.verified_os_hash', { algo: s.result.verified_os_hash }) : t('ui.upload.verified_md5');
    const rows = s.result.already_there ? [['md5', s.result.md5], [t('ui.copycloud.outcome'), t('ui.copycloud.already_there', { to: it.targets?.[0]?.name ?? '' })]]
      : s.result.md5 ? [['md5', s.result.md5], ['sha256', s.result.sha256], ['sha512', s.result.sha512], [t('ui.upload.verified'), verified]]
      : [[t('ui.upload.verified'), t('ui.url.verified_by_glance')]];
    $('.sums', li).replaceChildren(...rows.flatMap(([k, v]) => {
      const dt = document.createElement('dt'); dt.textContent = k;
      const dd = document.createElement('dd'); dd.textContent = v;
      return [dt, dd];
    }));
  }
}

/** A file sent to several clouds: a line per cloud with its own state. */
function drawTargets(it, list) {
  list.hidden = !it.targets;
  if (!it.targets) return;
  while (list.children.length > it.targets.length) list.lastElementChild.remove();
  it.targets.forEach((tg, i) => {
    let li = list.children[i];
    if (!li) {
      li = document.createElement('li');
      li.append(Object.assign(document.createElement('span'), { className: 'target-name' }), Object.assign(document.createElement('span'), { className: 'target-state' }));
      list.append(li);
    }
    const r = tg.run;
    const state = {
      done: () => `✓ ${t('ui.queue.active_short')} · ${r.imageId}`,
      running: () => `${phaseLabel(r.phase)}${r.phase === 'uploading' ? ` ${percent(r.sent, r.total)} %` : ''}`,
      failed: () => `${t('ui.upload.failed')}: ${r.message}`,
      cancelled: () => t('ui.upload.cancelled'),
    }[r.state]?.() ?? t('ui.queue.status.waiting');
    li.dataset.state = r.state;
    li.dataset.target = tg.name;
    setText(li.firstChild, tg.name);
    setText(li.lastChild, state);
  });
}

function drawBar() {
  const sum = Q.summary(queue);
  const ready = Q.startable(queue).length;
  const all = $('#upload-all');
  all.hidden = !queue.length;
  all.disabled = ready === 0;
  // Text is only replaced when it changes: replacing a button's text between the mousedown
  // and the mouseup of a click (a field's change event fires in between) loses the click.
  setText(all, t('ui.queue.upload_all', { n: ready }));
  $('#clear-finished').hidden = !sum.done;
  $('#q-select-all-label').hidden = queue.length < 2;
  $('#q-select-all').checked = queue.length > 0 && selected.size === queue.length;
  $('#q-select-all').indeterminate = selected.size > 0 && selected.size < queue.length;
  $('#dropzone').classList.toggle('compact', queue.length > 0);
  const started = sum.running + sum.done + sum.failed + sum.cancelled;
  const text = started ? t('ui.queue.batch', { done: sum.done, n: started, pct: sum.percent }) : '';
  setText($('#batch-status'), text);
  ctx.onBatch?.(sum.running ? sum : null);
  return sum;
}

function drawSettings() {
  const form = $('#settings');
  const items = queue.filter((it) => selected.has(it.key));
  form.hidden = !items.length;
  if (!items.length) return;
  const one = items.length === 1;
  setText($('#settings-title'), one ? t('ui.queue.settings_one', { name: items[0].file.file_name }) : t('ui.queue.settings_many', { n: items.length }));
  const locked = items.every((it) => !Q.editable(it));
  $('#settings-locked').hidden = !items.some((it) => !Q.editable(it));
  $('#s-name').hidden = !one;
  const el = form.elements;
  const active = document.activeElement;
  drawAlso(items, locked);
  drawConvert(items);
  for (const field of ['name', ...Q.SHARED_FIELDS]) {
    const input = el[field];
    if (!input) continue; // "also" is drawn by drawAlso
    input.disabled = locked;
    if (input === active) continue;
    const { value, mixed } = field === 'name' ? { value: one ? items[0].settings.name : '', mixed: false } : Q.shared(items, field);
    if (input.type === 'checkbox') {
      input.checked = Boolean(value);
      input.indeterminate = mixed;
    } else if (input.tagName === 'SELECT') {
      let m = $('option[data-mixed]', input);
      if (mixed && !m) { m = new Option(t('ui.queue.mixed'), ''); m.dataset.mixed = '1'; input.prepend(m); }
      if (!mixed && m) m.remove();
      input.value = mixed ? '' : value;
    } else {
      input.value = mixed ? '' : value;
      const hint = input.dataset.i18nPlaceholder ? t(input.dataset.i18nPlaceholder) : (input.dataset.hint ??= input.placeholder);
      input.placeholder = mixed ? t('ui.queue.mixed') : hint;
    }
  }
  const problems = Q.blocked(items).map((b) => (one ? b.errors.join('; ') : `${b.item.settings.name}: ${b.errors[0]}`));
  setText($('.form-errors', form), problems.join(' · '));
}

/** "Send as qcow2": offered when every selected file is a raw disk, with what it would save. */
function drawConvert(items) {
  const raw = items.length > 0 && items.every(Q.isRaw);
  $('#s-convert').hidden = !raw;
  if (!raw) return;
  const size = items.reduce((n, it) => n + it.file.size, 0);
  const data = items.reduce((n, it) => n + (it.file.allocated ?? it.file.size), 0);
  setText($('#s-convert-saving'), t('ui.card.convert_saving', { data: bytes(data), size: bytes(size) }));
}

/** "Also upload to": a box per other cloud, checked when every selected file goes there too. */
function drawAlso(items, locked) {
  // A URL or a copy says where it goes on its row.
  $('#s-also').hidden = items.some(Q.isJob);
  const box = $('#s-also .also-list');
  const current = ctx.cloud();
  const names = (ctx.clouds?.() ?? []).map((c) => c.name).filter((n) => n !== current);
  if (box.dataset.names !== names.join(',')) {
    box.dataset.names = names.join(',');
    box.replaceChildren(...names.map((n) => {
      const label = Object.assign(document.createElement('label'), { className: 'check' });
      const input = Object.assign(document.createElement('input'), { type: 'checkbox' });
      input.dataset.also = n;
      label.append(input, ` ${n}`);
      return label;
    }));
  }
  $('#s-also .also-none').hidden = names.length > 0;
  for (const input of box.querySelectorAll('input')) {
    const on = items.filter((it) => Q.alsoTo(it).includes(input.dataset.also)).length;
    input.checked = on > 0 && on === items.length;
    input.indeterminate = on > 0 && on < items.length;
    input.disabled = locked;
  }
}

function onAlsoChange(e) {
  const name = e.target.dataset?.also;
  if (!name) return;
  for (const it of queue.filter((i) => selected.has(i.key))) {
    const set = new Set(Q.alsoTo(it));
    if (e.target.checked) set.add(name);
    else set.delete(name);
    Q.edit([it], 'also', [...set].sort().join(','));
  }
  e.target.indeterminate = false;
  drawBar();
  drawSettings();
}

function onSettingsInput(e) {
  const input = e.target;
  const field = input.name;
  if (!field) return;
  const items = queue.filter((it) => selected.has(it.key));
  if (input.tagName === 'SELECT' && input.value === '') return; // "(mixed)" chosen: no change
  const value = input.type === 'checkbox' ? input.checked : input.value;
  if (input.type === 'checkbox') input.indeterminate = false;
  Q.edit(items, field, value);
  if (input.tagName === 'SELECT') $('option[data-mixed]', input)?.remove();
  // The rows' buttons and the errors follow; the field being typed in keeps its caret.
  drawBar();
  drawSettings();
}

// ------------------------------------------------------------------ actions
async function uploadAll() {
  await start(Q.startable(queue));
}

async function start(items) {
  const cloud = ctx.cloud();
  if (!cloud) { $('#batch-status').textContent = t('ui.upload.choose_cloud'); return; }
  if (!items.length) return;
  announced = null;
  announce(t('ui.queue.announce_start', { n: items.length }));
  ctx.remember(cloud, Q.remembered(items[items.length - 1].settings));
  for (const it of items) {
    const { spec, errors, importChoice, convert } = Q.specOf(it);
    if (errors.length) continue;
    // The cloud in use and the ones ticked under "Also upload to" (on a retry: those that failed).
    const targets = Q.targetsToRun(it, cloud);
    Q.onEvent(it, { event: 'progress', phase: 'queued', sent: 0, total: it.file.size, rate: 0, eta_secs: null });
    const onEvent = new Channel();
    onEvent.onmessage = (ev) => {
      Q.onEvent(it, ev);
      drawItem(it, Q.isFinal(ev));
    };
    try {
      it.upload = await invoke('upload_start', { cloud: targets[0], handle: it.handle, spec, import: importChoice, also: targets.slice(1), convert, onEvent });
    } catch (e) {
      Q.onEvent(it, { event: 'failed', message: String(e) });
    }
  }
  drawAll();
  // Focus stays on something that still works (Upload all is disabled once nothing is ready).
  if (document.activeElement?.disabled || document.activeElement === document.body) $('#queue .row')?.focus();
}

function cancel(it) {
  it.cancelRequested = true;
  if (it.upload) invoke('upload_cancel', { upload: it.upload });
}

// ------------------------------------------------------------------ web-download
function initUrlDialog() {
  const dialog = $('#url-dialog');
  const form = $('#url-form');
  fillSelect(form.elements.disk_format, DISK_FORMATS);
  fillSelect(form.elements.visibility, VISIBILITIES);
  let named = false;
  form.elements.name.addEventListener('input', () => { named = form.elements.name.value !== ''; });
  form.elements.uri.addEventListener('input', () => {
    if (!named) form.elements.name.value = Q.nameFromUrl(form.elements.uri.value);
    const format = Q.formatFromUrl(form.elements.uri.value);
    if (format && DISK_FORMATS.includes(format)) form.elements.disk_format.value = format;
  });
  $('#add-url').addEventListener('click', () => {
    form.reset();
    named = false;
    form.elements.disk_format.value = profileDefaults.disk_format || 'qcow2';
    form.elements.visibility.value = profileDefaults.visibility ?? choices.visibility ?? 'private';
    $('#url-errors').textContent = '';
    dialog.showModal();
    form.elements.uri.focus();
  });
  $('#url-cancel').addEventListener('click', () => dialog.close());
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    // One job per opening of the dialog: a second submit (a double click, Enter twice) after
    // the first has closed it adds nothing.
    if (!dialog.open) return;
    const f = form.elements;
    const { spec, errors } = toSpec({ name: f.name.value, disk_format: f.disk_format.value, container_format: 'bare',
      visibility: f.visibility.value, min_disk: '', min_ram: '', protected: false, tags: '', properties: '' });
    if (!f.uri.checkValidity()) errors.unshift(t('ui.url.bad_url'));
    if (errors.length) { $('#url-errors').textContent = errors.join('; '); return; }
    dialog.close();
    const it = Q.newUrlItem(f.uri.value, spec);
    queue.push(it);
    selected = new Set([it.key]);
    drawAll();
    runUrl(it);
  });
}

async function runUrl(it) {
  const cloud = ctx.cloud();
  it.cancelRequested = false;
  Q.onEvent(it, { event: 'progress', phase: 'verifying', server_status: 'importing', sent: 0, total: 0, rate: 0, eta_secs: null });
  drawItem(it);
  if (!cloud) {
    Q.onEvent(it, { event: 'failed', message: t('ui.upload.choose_cloud') });
    drawItem(it, true);
    return;
  }
  const started = new Channel();
  started.onmessage = (ticket) => {
    it.upload = ticket;
    if (it.cancelRequested) invoke('upload_cancel', { upload: ticket });
  };
  try {
    const id = await invoke('upload_from_uri', { cloud, spec: it.spec, uri: it.uri, onStarted: started });
    Q.onEvent(it, { event: 'done', image_id: id, size: 0 });
  } catch (e) {
    Q.onEvent(it, { event: it.cancelRequested ? 'cancelled' : 'failed', message: String(e) });
  }
  drawItem(it, true);
}

// ------------------------------------------------------------------ copy to another cloud
/** A copy of an image into another cloud joins the queue and starts. */
export function addCopy(job) {
  const it = Q.newCopyItem(job);
  queue.push(it);
  selected = new Set([it.key]);
  drawAll();
  runCopy(it);
  rowOf(it.key)?.focus();
}

async function runCopy(it) {
  const j = it.copy;
  it.cancelRequested = false;
  const to = Q.targetsToRun(it, j.to[0]);
  Q.onEvent(it, { event: 'progress', phase: 'queued', sent: 0, total: it.file.size, rate: 0, eta_secs: null });
  drawItem(it);
  const onEvent = new Channel();
  onEvent.onmessage = (ev) => {
    Q.onEvent(it, ev);
    drawItem(it, Q.isFinal(ev));
  };
  // Every cloud at first; on a retry, those that did not get it (see targetsToRun above).
  try {
    it.upload = await invoke('image_copy_to_cloud', { cloud: j.cloud, id: j.image.id, to, name: j.name || null, visibility: j.visibility || null, onEvent });
    if (it.cancelRequested) invoke('upload_cancel', { upload: it.upload });
  } catch (e) {
    Q.onEvent(it, { event: 'failed', message: String(e) });
    drawItem(it, true);
  }
}

/** Remove a row; a running upload is cancelled first (its image deleted), then the row goes. */
async function remove(it) {
  if (it.run.state === 'running') {
    if (!it.upload) return;
    const li = rowOf(it.key);
    if (li) $('.remove', li).disabled = true;
    await new Promise((resolve) => {
      it.onEnd = resolve;
      cancel(it);
    });
  }
  if (it.handle) invoke('files_forget', { handle: it.handle });
  queue = queue.filter((q) => q !== it);
  selected.delete(it.key);
  drawAll();
}

function clearFinished() {
  for (const it of queue.filter((i) => i.run.state === 'done')) {
    if (it.handle) invoke('files_forget', { handle: it.handle });
    selected.delete(it.key);
  }
  queue = queue.filter((i) => i.run.state !== 'done');
  drawAll();
  $('#pick').focus();
}

function ended(sum) {
  for (const it of queue) {
    if (it.onEnd && it.run.state !== 'running') {
      const f = it.onEnd;
      it.onEnd = null;
      f();
    }
  }
  if (!sum.running) announce(t('ui.queue.announce_end', { done: sum.done, failed: sum.failed + sum.cancelled }));
}

function progressAnnouncement(sum) {
  if (!sum.running) return;
  const m = Q.milestone(announced, sum.percent);
  if (m != null) {
    announced = m;
    announce(t('ui.queue.announce_pct', { pct: m }));
  }
}

function announce(text) {
  $('#batch-announce').textContent = text;
}

/** Re-draw in a new language. */
export function redraw() {
  for (const li of [...$('#queue').children]) li.remove();
  drawAll();
}
