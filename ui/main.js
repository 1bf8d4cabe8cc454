// Stackdrop's page: wires the DOM to the Rust commands. Logic that can be tested without a
// window lives in lib/ (formatting, form validation, upload state).
import { setFormats } from './lib/form.js';
import { askSecret, editProfile, initProfiles, offerImport, refreshProfiles, testProfile } from './profiles.js';
import { setEntries, t, translate } from './lib/i18n.js';
import { initImages, refreshImages, showDetails } from './images.js';
import { addCopy, addFiles, initQueue, redraw as redrawQueue, useProfile } from './queue.js';

const { invoke } = window.__TAURI__.core;
const $ = (sel, root = document) => root.querySelector(sel);

let cloud = null;
// The batch's progress last shown on the taskbar (a percentage, or null for none).
const appWindow = window.__TAURI__.window.getCurrentWindow();
let lastTaskbar = null;
// The upload choices last used, per cloud, remembered between runs (a profile's defaults win);
// `fallback` is for a cloud that has none yet.
let remembered = { fallback: {}, byCloud: {} };
const rememberedFor = (name) => remembered.byCloud[name] ?? remembered.fallback;
// Where each cloud comes from (profile, clouds.yaml, environment), by name.
let sources = {};

// ---------------------------------------------------------------- clouds
async function loadClouds(want = null) {
  let view;
  try {
    view = await invoke('clouds_list');
  } catch (e) {
    showStatus('bad', String(e));
    return;
  }
  remembered = { fallback: view.upload ?? {}, byCloud: view.upload_by_cloud ?? {} };
  $('#parallel').value = view.parallel;
  const select = $('#cloud');
  const source = { profile: 'ui.source.profile', 'clouds.yaml': 'ui.source.clouds_yaml', environment: 'ui.source.environment' };
  sources = Object.fromEntries(view.clouds.map((c) => [c.name, c.source]));
  select.replaceChildren(...view.clouds.map((c) => new Option(`${c.name} (${t(source[c.source] ?? c.source)})`, c.name)));
  if (!view.clouds.length) {
    $('#no-cloud').hidden = false;
    document.body.classList.add('no-cloud');
    showStatus('', t('ui.status.no_cloud'));
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

// The connection's state on the header (a dot and one line) and, when something is wrong,
// a banner with the message and the actions that fix it.
function showStatus(kind, text) {
  const status = $('#cloud-status');
  status.textContent = text;
  status.title = text;
  status.className = kind;
  $('#cloud-dot').className = `dot ${kind}`;
}

function banner(text, actions = [], kind = 'bad') {
  const el = $('#banner');
  el.hidden = !text;
  el.className = `banner ${kind}`;
  $('#banner-text').textContent = text ?? '';
  $('#banner-actions').replaceChildren(...actions.map(([label, run], i) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = label;
    if (i === 0) b.className = 'primary';
    b.addEventListener('click', run);
    return b;
  }));
}

/** The banner for a connection that failed: `fix` says which action comes first. */
function failedBanner(name, message, fix, what) {
  const profile = sources[name] === 'profile';
  const actions = [];
  if (fix === 'secret') {
    const secret = what ?? t('ui.pf.secret.password');
    actions.push([t('ui.banner.reenter', { what: secret }), async () => {
      if (await askSecret(name, { what: secret, why: t('ui.banner.refused_why'), keyring: true })) connect(name);
    }]);
  }
  if (profile) {
    actions.push([t('ui.banner.edit'), () => { showTab('profiles'); editProfile(name); }]);
    actions.push([t('ui.banner.test'), () => { showTab('profiles'); testProfile(name); }]);
  }
  actions.push([t('ui.banner.retry'), () => connect(name)]);
  if (fix === 'profile' && profile) actions.unshift(actions.splice(1, 1)[0]);
  banner(message, actions);
}

async function connect(name) {
  cloud = name;
  if (!$('#profiles-view').hidden) refreshProfiles();
  showStatus('', t('ui.status.connecting', { name }));
  banner(null);
  const notConnected = () => {
    useProfile({}, rememberedFor(name));
    delete document.body.dataset.connected;
  };
  try {
    let c = await invoke('cloud_connect', { cloud: name });
    if (cloud !== name) return;
    if (c.status === 'needs_secret') {
      showStatus('warn', t('ui.status.needs_secret', { name, what: c.what }));
      if (!(await askSecret(name, c))) {
        // Cancelled: say so plainly, and keep the way back one click away.
        notConnected();
        showStatus('warn', t('ui.status.not_connected', { name }));
        banner(t('ui.status.needs_secret', { name, what: c.what }), [[t('ui.banner.enter', { what: c.what }), () => connect(name)]], 'warn');
        return;
      }
      c = await invoke('cloud_connect', { cloud: name });
      if (cloud !== name) return;
      if (c.status === 'needs_secret') throw new Error(t('ui.status.needs_secret', { name, what: c.what }));
    }
    if (c.status === 'failed') {
      notConnected();
      showStatus('bad', t('ui.status.not_connected', { name }));
      failedBanner(name, c.message, c.fix, c.what);
    } else {
      useProfile(c.defaults ?? {}, rememberedFor(name));
      const text = t('ui.status.connected', { user: c.user ?? '?', project: c.project ?? t('ui.common.none'), api: c.image_api });
      showStatus(c.warnings?.length ? 'warn' : 'ok', text);
      if (c.warnings?.length) banner(`⚠ ${c.warnings.join('; ')}`, [], 'warn');
      document.body.dataset.connected = name;
    }
  } catch (e) {
    if (cloud !== name) return;
    notConnected();
    showStatus('bad', t('ui.status.not_connected', { name }));
    failedBanner(name, String(e), sources[name] === 'profile' ? 'profile' : 'retry');
  }
  if (!$('#images-view').hidden) refreshImages();
}

$('#cloud').addEventListener('change', (e) => connect(e.target.value));
// Preferences: parallel uploads and language (remembered by Rust in settings.json), theme
// (remembered by the page: it must apply before the first paint).
$('#prefs-open').addEventListener('click', () => $('#prefs-dialog').showModal());
function useTheme(theme) {
  if (theme) document.documentElement.dataset.theme = theme; else delete document.documentElement.dataset.theme;
  $('#theme').value = theme ?? '';
}
useTheme(localStorage.getItem('stackdrop.theme'));
$('#theme').addEventListener('change', (e) => {
  if (e.target.value) localStorage.setItem('stackdrop.theme', e.target.value); else localStorage.removeItem('stackdrop.theme');
  useTheme(e.target.value || null);
});
$('#parallel').addEventListener('change', async (e) => {
  e.target.value = await invoke('uploads_set_parallel', { parallel: Number(e.target.value) || 1 });
});

// The header, banner and tabs stay on screen; whatever is scrolled into view (by focus, by
// Find, by a test's click) lands below them.
new ResizeObserver(() => {
  document.documentElement.style.scrollPaddingTop = `${$('#top').offsetHeight + 8}px`;
}).observe($('#top'));

// ---------------------------------------------------------------- tabs
function showTab(which) {
  for (const t of ['upload', 'images', 'profiles']) {
    const on = t === which;
    $(`#tab-${t}`).setAttribute('aria-selected', String(on));
    $(`#tab-${t}`).tabIndex = on ? 0 : -1;
    $(`#${t}-view`).hidden = !on;
  }
  if (which === 'images') refreshImages();
  if (which === 'profiles') refreshProfiles();
}
// Arrow keys move between the tabs (the WAI-ARIA tabs pattern), Home/End to the ends.
$('nav[role=tablist]').addEventListener('keydown', (e) => {
  const tabs = ['upload', 'images', 'profiles'];
  const at = tabs.findIndex((n) => $(`#tab-${n}`) === document.activeElement);
  if (at < 0) return;
  const to = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: tabs.length - 1 }[e.key];
  if (to === undefined) return;
  e.preventDefault();
  const next = tabs[(to + tabs.length) % tabs.length];
  showTab(next);
  $(`#tab-${next}`).focus();
});
$('#tab-upload').addEventListener('click', () => showTab('upload'));
$('#tab-images').addEventListener('click', () => showTab('images'));
$('#tab-profiles').addEventListener('click', () => showTab('profiles'));

// ---------------------------------------------------------------- profiles
setFormats(await invoke('image_formats'));
initImages({
  cloud: () => cloud,
  clouds: () => [...$('#cloud').options].map((o) => ({ name: o.value, label: o.text })),
  // A copy to another cloud joins the queue, where its progress shows.
  copyToCloud: (job) => { showTab('upload'); addCopy(job); },
});
initQueue({
  cloud: () => cloud,
  clouds: () => [...$('#cloud').options].map((o) => ({ name: o.value, label: o.text })),
  showImage: (id) => { showTab('images'); showDetails(id); },
  remember: (name, choices) => {
    remembered.byCloud[name] = choices;
    invoke('upload_choices_save', { cloud: name, choices });
  },
  onBatch: batchProgress,
});
await initProfiles({
  onChanged: (name) => loadClouds(name),
  activeCloud: () => cloud,
  // Connect from a profile's detail: it becomes the cloud in use, and the upload tab shows.
  onConnect: (name) => {
    $('#cloud').value = name;
    showTab('upload');
    connect(name);
  },
});
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
  for (const f of list.filter((f) => f.refused)) {
    const li = document.createElement('li');
    li.textContent = `${f.file_name}: ${f.refused}`;
    refused.append(li);
  }
  addFiles(list.filter((f) => !f.refused));
  showTab('upload');
}

// The batch's progress in the header and on the OS taskbar / dock (null: nothing running).
function batchProgress(sum) {
  $('#batch').hidden = !sum;
  const pct = sum ? sum.percent : null;
  if (sum) {
    $('#batch progress').value = pct;
    $('#batch-text').textContent = t('ui.header.batch', { running: sum.running, pct });
  }
  if (pct === lastTaskbar) return;
  lastTaskbar = pct;
  appWindow.setProgressBar(sum ? { status: 'normal', progress: pct } : { status: 'none' }).catch(() => {});
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
  // F5 refreshes what is shown (never reloads the page: the queue would be lost).
  if (e.key === 'F5' || (e.ctrlKey && e.key.toLowerCase() === 'r')) {
    e.preventDefault();
    if (!$('#images-view').hidden) refreshImages();
    else if (!$('#profiles-view').hidden) refreshProfiles();
    else if (cloud) connect(cloud);
    return;
  }
  if (!e.ctrlKey || e.altKey || e.shiftKey) return;
  const key = e.key.toLowerCase();
  // Ctrl+Enter starts what is ready in the queue, from anywhere on the upload tab.
  if (key === 'enter' && !$('#upload-view').hidden && !$('#upload-all').hidden && !$('#upload-all').disabled) {
    e.preventDefault();
    $('#upload-all').click();
    return;
  }
  if (key === 'f') {
    e.preventDefault();
    showTab('images');
    $('#img-search').focus();
  } else if (key === 'q') {
    e.preventDefault();
    invoke('app_close');
  } else if (key === 'o') {
    e.preventDefault();
    $('#pick').click();
  }
});
window.__TAURI__.webview.getCurrentWebview().onDragDropEvent((ev) => {
  document.body.classList.toggle('dragging', ev.payload.type === 'enter' || ev.payload.type === 'over');
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
  translate($('#row').content);
  redrawQueue();
  return c.lang;
}
$('#lang').addEventListener('change', async (e) => {
  await useLanguage(e.target.value);
  if (!$('#profiles-view').hidden) refreshProfiles();
  if (cloud) loadClouds(cloud);
});

await useLanguage(null);
loadClouds();
