// Stackdrop's page: wires the DOM to the Rust commands. Logic that can be tested without a
// window lives in lib/ (formatting, form validation, upload state).
import { bytes, describeFile, eta, percent, phaseLabel, rate, suggestedMinDisk } from './lib/format.js';
import { CONTAINER_FORMATS, DISK_FORMATS, VISIBILITIES, setFormats, toSpec } from './lib/form.js';
import { apply, initial } from './lib/upload-state.js';
import { askSecret, initProfiles, offerImport, refreshProfiles } from './profiles.js';
import { setEntries, t, translate } from './lib/i18n.js';
import { initImages, refreshImages } from './images.js';

const { invoke, Channel } = window.__TAURI__.core;
const $ = (sel, root = document) => root.querySelector(sel);

let cloud = null;
let cloudDefaults = {};
// The upload form's last choices, remembered between runs (a profile's defaults win).
let lastChoices = {};

// ---------------------------------------------------------------- clouds
async function loadClouds(want = null) {
  const status = $('#cloud-status');
  let view;
  try {
    view = await invoke('clouds_list');
  } catch (e) {
    status.textContent = String(e);
    status.className = 'bad';
    return;
  }
  lastChoices = view.upload ?? {};
  $('#parallel').value = view.parallel;
  const select = $('#cloud');
  const source = { profile: 'ui.source.profile', 'clouds.yaml': 'ui.source.clouds_yaml', environment: 'ui.source.environment' };
  select.replaceChildren(...view.clouds.map((c) => new Option(`${c.name} (${t(source[c.source] ?? c.source)})`, c.name)));
  if (!view.clouds.length) {
    $('#no-cloud').hidden = false;
    document.body.classList.add('no-cloud');
    status.textContent = t('ui.status.no_cloud');
    return;
  }
  leaveFirstScreen();
  const preferred = view.clouds.find((c) => c.name === want) ?? view.clouds.find((c) => c.name === cloud)
    ?? view.clouds.find((c) => c.name === view.preferred) ?? view.clouds[0];
  select.value = preferred.name;
  await connect(preferred.name);
}

function leaveFirstScreen() {
  $('#no-cloud').hidden = true;
  document.body.classList.remove('no-cloud');
}

async function connect(name) {
  cloud = name;
  const status = $('#cloud-status');
  status.className = '';
  status.textContent = t('ui.status.connecting', { name });
  try {
    let c = await invoke('cloud_connect', { cloud: name });
    if (cloud !== name) return;
    if (c.status === 'needs_secret') {
      status.textContent = t('ui.status.needs_secret', { name, what: c.what });
      if (!(await askSecret(name, c))) return;
      c = await invoke('cloud_connect', { cloud: name });
      if (cloud !== name) return;
      if (c.status !== 'connected') throw new Error(t('ui.status.needs_secret', { name, what: c.what }));
    }
    cloudDefaults = c.defaults ?? {};
    if (cloudDefaults.disk_format) $('#from-uri').elements.disk_format.value = cloudDefaults.disk_format;
    status.textContent = t('ui.status.connected', { user: c.user ?? '?', project: c.project ?? t('ui.common.none'), api: c.image_api });
    status.className = 'ok';
    if (c.warnings?.length) {
      status.textContent += ` — ⚠ ${c.warnings.join('; ')}`;
      status.className = 'warn';
    }
    document.body.dataset.connected = name;
  } catch (e) {
    if (cloud !== name) return;
    status.textContent = String(e);
    status.className = 'bad';
    cloudDefaults = {};
    delete document.body.dataset.connected;
  }
  if (!$('#images-view').hidden) refreshImages();
}

$('#cloud').addEventListener('change', (e) => connect(e.target.value));
$('#parallel').addEventListener('change', async (e) => {
  e.target.value = await invoke('uploads_set_parallel', { parallel: Number(e.target.value) || 1 });
});

// ---------------------------------------------------------------- tabs
function showTab(which) {
  for (const t of ['upload', 'images', 'profiles']) {
    const on = t === which;
    $(`#tab-${t}`).setAttribute('aria-selected', String(on));
    $(`#${t}-view`).hidden = !on;
  }
  if (which === 'images') refreshImages();
  if (which === 'profiles') refreshProfiles();
}
$('#tab-upload').addEventListener('click', () => showTab('upload'));
$('#tab-images').addEventListener('click', () => showTab('images'));
$('#tab-profiles').addEventListener('click', () => showTab('profiles'));

// ---------------------------------------------------------------- profiles
setFormats(await invoke('image_formats'));
initImages({ cloud: () => cloud });
await initProfiles({ onChanged: (name) => loadClouds(name) });
function toProfiles() {
  leaveFirstScreen();
  showTab('profiles');
}
$('#first-add').addEventListener('click', () => { toProfiles(); $('#profile-add').click(); });
$('#first-import').addEventListener('click', () => { toProfiles(); $('#profile-import-pick').click(); });
// A clouds.yaml or openrc dropped on the window is offered for import.
window.__TAURI__.event.listen('config-offered', (ev) => {
  toProfiles();
  offerImport(ev.payload);
});

// ---------------------------------------------------------------- files
function offered(list) {
  const refused = $('#refused');
  refused.replaceChildren();
  for (const f of list) {
    if (f.refused) {
      const li = document.createElement('li');
      li.textContent = `${f.file_name}: ${f.refused}`;
      refused.append(li);
    } else {
      addCard(f);
    }
  }
}

$('#pick').addEventListener('click', async () => offered(await invoke('files_pick')));
window.__TAURI__.event.listen('files-offered', (ev) => offered(ev.payload));

// ---------------------------------------------------------------- quitting
// Closing with uploads running asks first (Rust holds the close and sends the count); yes
// cancels them all, each deletes its half-made image, and the app exits when they are done.
window.__TAURI__.event.listen('quit-requested', (ev) => {
  const dialog = $('#quit-dialog');
  $('#quit-text').textContent = t(ev.payload === 1 ? 'ui.quit.ask_one' : 'ui.quit.ask', { n: ev.payload });
  $('#quit-yes').onclick = async () => {
    $('#quit-yes').disabled = true;
    $('#quit-text').textContent = t('ui.quit.cleaning');
    await invoke('app_quit');
  };
  $('#quit-no').onclick = () => dialog.close();
  if (!dialog.open) dialog.showModal();
  $('#quit-no').focus();
});
document.addEventListener('keydown', (e) => {
  if (e.ctrlKey && !e.altKey && !e.shiftKey && e.key.toLowerCase() === 'q') {
    e.preventDefault();
    invoke('app_close');
  }
});
window.__TAURI__.webview.getCurrentWebview().onDragDropEvent((ev) => {
  document.body.classList.toggle('dragging', ev.payload.type === 'enter' || ev.payload.type === 'over');
});

function options(select, values, chosen) {
  select.replaceChildren(...values.map((v) => new Option(v, v)));
  select.value = chosen;
}

function addCard(file) {
  const li = $('#card').content.firstElementChild.cloneNode(true);
  li.dataset.handle = file.handle;
  $('.file-name', li).textContent = file.file_name;
  $('.file-size', li).textContent = describeFile(file);
  const form = $('form', li);
  form.elements.name.value = file.image_name;
  options(form.elements.disk_format, DISK_FORMATS, file.disk_format);
  options(form.elements.container_format, CONTAINER_FORMATS, lastChoices.container_format ?? 'bare');
  options(form.elements.visibility, VISIBILITIES, cloudDefaults.visibility ?? lastChoices.visibility ?? 'private');
  if (lastChoices.method) form.elements.method.value = lastChoices.method;
  form.elements.protected.checked = Boolean(lastChoices.protected);
  const minDisk = suggestedMinDisk(file.virtual_size);
  if (minDisk) form.elements.min_disk.placeholder = t('ui.form.suggested', { n: minDisk });
  $('.remove', li).addEventListener('click', () => {
    invoke('files_forget', { handle: file.handle });
    li.remove();
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    startUpload(li, form);
  });
  $('#queue').append(li);
  form.elements.name.focus();
}

// ---------------------------------------------------------------- upload
function render(li, s) {
  li.dataset.state = s.state;
  const prog = $('.progress', li);
  prog.hidden = s.state === 'ready';
  $('progress', li).value = percent(s.sent, s.total);
  const ended = s.state === 'failed' || s.state === 'cancelled';
  const server = s.serverStatus && s.phase === 'verifying' ? t('ui.upload.glance_status', { status: s.serverStatus }) : '';
  $('.phase', li).textContent = ended ? t(s.state === 'failed' ? 'ui.upload.failed' : 'ui.upload.cancelled') : s.phase ? phaseLabel(s.phase) + server : '';
  const warn = $('.warning', li);
  warn.hidden = !s.warning;
  warn.textContent = s.warning ?? '';
  $('.pct', li).textContent = ended ? '' : `${percent(s.sent, s.total)} %`;
  $('.bytes', li).textContent = ended ? '' : `${bytes(s.sent)} / ${bytes(s.total)}`;
  $('.rate', li).textContent = s.phase === 'uploading' ? rate(s.rate) : '';
  $('.eta', li).textContent = s.phase === 'uploading' && s.eta != null ? t('ui.upload.eta', { eta: eta(s.eta) }) : '';
  $('.cancel', li).hidden = s.state !== 'running';
  const err = $('.error', li);
  err.hidden = !s.message;
  err.textContent = s.message ?? '';
  const result = $('.result', li);
  result.hidden = s.state !== 'done';
  if (s.state === 'done') {
    $('.image-id', li).textContent = s.result.image_id;
    const sums = $('.sums', li);
    sums.replaceChildren();
    const verified = s.result.verified_os_hash ? t('ui.upload.verified_os_hash', { algo: s.result.verified_os_hash }) : t('ui.upload.verified_md5');
    const rows = [['md5', s.result.md5], ['sha256', s.result.sha256], ['sha512', s.result.sha512], [t('ui.upload.verified'), verified]];
    for (const [k, v] of rows) {
      const dt = document.createElement('dt'); dt.textContent = k;
      const dd = document.createElement('dd'); dd.textContent = v;
      sums.append(dt, dd);
    }
  }
}

async function startUpload(li, form) {
  const f = form.elements;
  const { spec, errors } = toSpec({
    name: f.name.value, disk_format: f.disk_format.value, container_format: f.container_format.value,
    visibility: f.visibility.value, min_disk: f.min_disk.value, min_ram: f.min_ram.value,
    protected: f.protected.checked, tags: f.tags.value, properties: f.properties.value,
  });
  $('.form-errors', li).textContent = errors.join('; ');
  if (errors.length) return;
  if (!cloud) { $('.form-errors', li).textContent = t('ui.upload.choose_cloud'); return; }
  lastChoices = { visibility: spec.visibility, container_format: spec.container_format, method: f.method.value, protected: spec.protected };
  invoke('upload_choices_save', { choices: lastChoices });
  for (const el of form.elements) el.disabled = true;
  let state = apply(initial(), { event: 'progress', phase: 'connecting', sent: 0, total: 0, rate: 0, eta_secs: null });
  render(li, state);
  const onEvent = new Channel();
  onEvent.onmessage = (ev) => {
    state = apply(state, ev);
    render(li, state);
    if (['done', 'failed', 'cancelled'].includes(state.state)) {
      for (const el of form.elements) el.disabled = false;
      $('.upload', li).textContent = t(state.state === 'done' ? 'ui.upload.again' : 'ui.upload.retry');
    }
  };
  try {
    const method = f.method.value;
    const stores = f.stores.value.split(/[\s,]+/).filter(Boolean);
    const importChoice = method === 'glance-direct' ? { method: { name: 'glance-direct' }, stores, all_stores: false, allow_failure: false } : null;
    const id = await invoke('upload_start', { cloud, handle: li.dataset.handle, spec, import: importChoice, onEvent });
    $('.cancel', li).onclick = () => invoke('upload_cancel', { upload: id });
  } catch (e) {
    state = apply(state, { event: 'failed', message: String(e) });
    render(li, state);
    for (const el of form.elements) el.disabled = false;
  }
}

document.addEventListener('click', async (e) => {
  if (e.target.matches('.copy')) {
    const id = $('.image-id', e.target.closest('.card')).textContent;
    try { await navigator.clipboard.writeText(id); e.target.textContent = t('ui.copy.done'); } catch { e.target.textContent = t('ui.copy.failed'); }
  }
});

// ---------------------------------------------------------------- web-download
options($('#from-uri').elements.disk_format, DISK_FORMATS, 'qcow2');
$('#from-uri').addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = e.target.elements;
  const status = $('#uri-status');
  const { spec, errors } = toSpec({ name: f.name.value, disk_format: f.disk_format.value, container_format: 'bare',
    visibility: cloudDefaults.visibility ?? 'private', min_disk: '', min_ram: '', protected: false, tags: '', properties: '' });
  if (errors.length) { status.textContent = errors.join('; '); return; }
  status.textContent = t('ui.uri.fetching');
  // One fetch at a time from this form (a double click must not make two images); Cancel
  // stops Glance's download and deletes the image it made.
  const fetchButton = $('#from-uri button[type=submit]');
  const cancel = $('#uri-cancel');
  fetchButton.disabled = true;
  const started = new Channel();
  started.onmessage = (ticket) => {
    cancel.hidden = false;
    cancel.onclick = () => { cancel.disabled = true; invoke('upload_cancel', { upload: ticket }); };
  };
  try {
    const id = await invoke('upload_from_uri', { cloud, spec, uri: f.uri.value, onStarted: started });
    status.textContent = t('ui.uri.active', { id });
  } catch (err) {
    status.textContent = String(err);
  } finally {
    fetchButton.disabled = false;
    cancel.hidden = true;
    cancel.disabled = false;
  }
});

// ---------------------------------------------------------------- language
// The catalogue comes from Rust (the same one the CLI and the error messages use). The
// language follows the OS locale until the person picks one (then it is remembered).
async function useLanguage(lang) {
  const c = await invoke('i18n_catalog', { lang });
  setEntries(c.entries);
  document.documentElement.lang = c.lang;
  $('#lang').value = c.lang;
  translate(document);
  translate($('#card').content);
  return c.lang;
}
$('#lang').addEventListener('change', async (e) => {
  await useLanguage(e.target.value);
  if (!$('#profiles-view').hidden) refreshProfiles();
  if (cloud) loadClouds(cloud);
});

await useLanguage(null);
loadClouds();
