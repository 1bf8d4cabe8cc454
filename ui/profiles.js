// The profile manager: list, add/edit, duplicate, delete, import (picker and dropped files),
// test connection, and the secret prompt. Secrets go from here to Rust only: the page never
// receives one, and every password field is emptied as soon as it has been sent.
import { DISK_FORMATS } from './lib/form.js';
import { authTypeLabelKey, fieldLabel, fromProfile, secretLabel, secretState, shownFor, toProfile } from './lib/profile-form.js';
import { t } from './lib/i18n.js';

const { invoke, Channel } = window.__TAURI__.core;
const $ = (sel, root = document) => root.querySelector(sel);

let changed = async () => {};
let editing = null; // name of the profile being edited, '' for a new one
let offer = null; // a dropped or picked settings file waiting for "Import"
let shape = { fields: [], auth_types: [], interfaces: [] }; // the editor, as Rust describes it

export async function initProfiles({ onChanged }) {
  changed = onChanged;
  const form = $('#profile-editor');
  // Text inputs come from Rust's one list, so the form, its checks and the core agree.
  shape = await invoke('profile_fields');
  const grid = $('.grid', form);
  for (const { key } of shape.fields.slice().reverse()) {
    const l = document.createElement('label');
    l.dataset.field = key;
    const text = Object.assign(document.createElement('span'), { textContent: fieldLabel(key) });
    text.dataset.i18n = key === 'name' ? 'ui.pf.name' : `ui.pf.${key}`;
    l.append(text, ' ', Object.assign(document.createElement('input'), { name: key, autocomplete: 'off' }));
    grid.prepend(l);
  }
  // How it authenticates comes first: it decides which fields show.
  grid.prepend(form.elements.auth_type.closest('label'));
  form.elements.auth_type.replaceChildren(...shape.auth_types.map((v) => {
    const key = authTypeLabelKey(v);
    const o = new Option(t(key), v);
    o.dataset.i18n = key;
    return o;
  }));
  form.elements.interface.replaceChildren(...shape.interfaces.map((v) => new Option(v, v)));
  form.elements.disk_format.append(...DISK_FORMATS.map((v) => new Option(v, v)));
  form.elements.auth_type.addEventListener('change', () => showFieldsFor(form.elements.auth_type.value));
  form.addEventListener('submit', (e) => { e.preventDefault(); saveEditor(); });
  $('#editor-cancel').addEventListener('click', closeEditor);
  $('#profile-add').addEventListener('click', () => openEditor(null));
  $('#profile-import-pick').addEventListener('click', pickImport);
  $('#profile-import-standard').addEventListener('click', () => offerImport({ handle: null, file_name: t('ui.import.standard_file') }));
  $('#import-offer').addEventListener('submit', (e) => {
    e.preventDefault();
    const f = e.target.elements;
    runImport(offer?.handle ?? null, f.only.value || null, f.replace.checked, f.ask_each_time.checked);
  });
  $('#import-dismiss').addEventListener('click', () => { offer = null; $('#import-offer').hidden = true; });
  $('#test-close').addEventListener('click', () => { $('#profile-test').hidden = true; });
}

function showFieldsFor(authType) {
  for (const f of shape.fields) {
    $(`[data-field="${f.key}"]`).hidden = !shownFor(f, authType);
  }
  $('#profile-editor .secret-label').textContent = secretLabel(authType);
}

// The last listing asked for (a promise), so that opening the editor from the banner uses the
// listing that showing the tab just started instead of asking again.
let listing = null;

export async function refreshProfiles() {
  const status = $('#profiles-status');
  let view;
  try {
    listing = invoke('profiles_list');
    view = await listing;
  } catch (e) {
    status.textContent = String(e);
    return;
  }
  $('#profiles-file').textContent = t('ui.profiles.file', { file: view.file });
  const problem = $('#keyring-problem');
  problem.hidden = !view.keyring_problem;
  // In words first; what the OS said (a D-Bus error) behind a disclosure.
  $('#keyring-problem-detail').textContent = view.keyring_problem ?? '';
  $('#profiles tbody').replaceChildren(...view.profiles.map(profileRow));
  $('#profiles-empty').hidden = view.profiles.length > 0;
}

function profileRow(p) {
  const tr = document.createElement('tr');
  tr.dataset.name = p.name;
  const cells = [p.name, p.auth_url, p.username ?? p.user_id ?? p.application_credential_id ?? '',
    p.project_name ?? p.project_id ?? '', p.region_name ?? '', secretState(p.secret)];
  for (const c of cells) {
    const td = document.createElement('td');
    td.textContent = c;
    tr.append(td);
  }
  const td = document.createElement('td');
  td.className = 'row-actions';
  for (const [cls, label, fn] of [['test', 'ui.profiles.test', () => testProfile(p.name)], ['edit', 'ui.profiles.edit', () => openEditor(p)],
    ['duplicate', 'ui.profiles.duplicate', () => duplicate(p.name)], ['export', 'ui.profiles.export', () => showExport(p.name)],
    ['delete', 'ui.common.delete', () => confirmDelete(p.name)]]) {
    const b = Object.assign(document.createElement('button'), { type: 'button', className: cls, textContent: t(label) });
    b.addEventListener('click', fn);
    td.append(b, ' ');
  }
  tr.append(td);
  return tr;
}

/** Open the editor on the profile `name` (from the banner's "Edit profile"). */
export async function editProfile(name) {
  const view = await (listing ?? invoke('profiles_list'));
  const p = view.profiles.find((x) => x.name === name);
  if (p) openEditor(p);
}

function openEditor(p) {
  const form = $('#profile-editor');
  editing = p ? p.name : '';
  $('#editor-title').textContent = p ? t('ui.profiles.edit_title', { name: p.name }) : t('ui.editor.new');
  const fresh = { auth_type: 'password', interface: 'public', user_domain_name: 'Default', project_domain_name: 'Default' };
  const values = fromProfile(p ?? fresh, shape.fields);
  for (const [k, v] of Object.entries(values)) {
    const el = form.elements[k];
    if (!el) continue;
    if (el.type === 'checkbox') el.checked = Boolean(v); else el.value = v;
  }
  form.elements.secret.value = '';
  form.elements.secret.placeholder = p && p.secret === 'saved' ? t('ui.profiles.unchanged') : '';
  form.elements.ask_each_time.checked = false;
  $('.form-errors', form).textContent = '';
  showFieldsFor(values.auth_type);
  form.hidden = false;
  form.elements.name.focus();
}

function closeEditor() {
  const form = $('#profile-editor');
  form.elements.secret.value = '';
  form.hidden = true;
  editing = null;
}

async function saveEditor() {
  const form = $('#profile-editor');
  const f = form.elements;
  const values = { auth_type: f.auth_type.value, interface: f.interface.value, verify: f.verify.checked,
    visibility: f.visibility.value, disk_format: f.disk_format.value };
  for (const { key } of shape.fields) values[key] = f[key].value;
  const { profile, errors } = toProfile(values, shape.fields);
  const errs = $('.form-errors', form);
  errs.textContent = errors.join('; ');
  if (errors.length) return;
  const secret = f.secret.value;
  f.secret.value = '';
  let result;
  try {
    result = await invoke('profile_save', { oldName: editing || null, profile, secret: secret || null, askEachTime: f.ask_each_time.checked });
  } catch (e) {
    errs.textContent = String(e);
    return;
  }
  const saved = profile.name;
  closeEditor();
  $('#profiles-status').textContent = t(result.secret_forgotten ? 'ui.profiles.saved_forgot' : 'ui.profiles.saved', { name: saved });
  await refreshProfiles();
  await changed(saved);
}

async function duplicate(name) {
  let n = 2;
  const taken = new Set([...document.querySelectorAll('#profiles tbody tr')].map((tr) => tr.dataset.name));
  while (taken.has(`${name}-${n}`)) n += 1;
  try {
    await invoke('profile_duplicate', { name, newName: `${name}-${n}` });
    $('#profiles-status').textContent = t('ui.profiles.copied', { name, copy: `${name}-${n}` });
  } catch (e) {
    $('#profiles-status').textContent = String(e);
  }
  await refreshProfiles();
  await changed(null);
}

async function showExport(name) {
  let text;
  try {
    text = await invoke('profile_export', { name });
  } catch (e) {
    $('#profiles-status').textContent = String(e);
    return;
  }
  const dialog = $('#export-dialog');
  $('#export-title').textContent = t('ui.export.title', { name });
  $('#export-text').textContent = text;
  $('#export-copy').onclick = async () => {
    try { await navigator.clipboard.writeText(text); $('#export-copy').textContent = t('ui.copy.done'); } catch { $('#export-copy').textContent = t('ui.copy.failed'); }
  };
  $('#export-close').onclick = () => { dialog.close(); $('#export-copy').textContent = t('ui.export.copy'); };
  dialog.showModal();
}

function confirmDelete(name) {
  const dialog = $('#confirm');
  $('#confirm-text').textContent = t('ui.profiles.confirm_delete', { name });
  $('#confirm-yes').onclick = async () => {
    dialog.close();
    try {
      const notes = await invoke('profile_delete', { name });
      $('#profiles-status').textContent = notes.length ? notes.join(' ') : t('ui.profiles.deleted', { name });
    } catch (e) {
      $('#profiles-status').textContent = String(e);
    }
    await refreshProfiles();
    await changed(null);
  };
  $('#confirm-no').onclick = () => dialog.close();
  dialog.showModal();
  $('#confirm-no').focus();
}

// ------------------------------------------------------------ test connection
export async function testProfile(name) {
  const panel = $('#profile-test');
  const list = $('#test-steps');
  list.replaceChildren();
  $('#test-title').textContent = t('ui.profiles.testing', { name });
  $('#test-result').textContent = '';
  panel.hidden = false;
  const onStep = new Channel();
  onStep.onmessage = (step) => {
    let li = list.querySelector(`[data-step="${step.id}"]`);
    if (!li) {
      li = document.createElement('li');
      li.dataset.step = step.id;
      li.innerHTML = '<strong class="title"></strong> <span class="state"></span><span class="detail"></span>';
      list.append(li);
    }
    li.dataset.state = step.state;
    $('.title', li).textContent = t(`step.${step.id}`);
    $('.state', li).textContent = t(`ui.step.${step.state}`);
    $('.detail', li).textContent = step.detail;
  };
  try {
    await invoke('profile_test', { name, onStep });
    $('#test-result').textContent = t('ui.profiles.all_passed');
    panel.dataset.result = 'ok';
  } catch (e) {
    $('#test-result').textContent = String(e);
    panel.dataset.result = 'failed';
  }
}

// ------------------------------------------------------------ import
/** Show what a file would import (all its clouds, or one), or why it cannot be imported. */
export async function offerImport(o) {
  offer = o;
  $('#import-file').textContent = o.file_name;
  const form = $('#import-offer');
  form.reset();
  const problem = $('#import-problem');
  problem.hidden = true;
  form.hidden = false;
  let names = [];
  try {
    names = await invoke('profiles_import_preview', { handle: o.handle });
  } catch (e) {
    problem.textContent = String(e);
    problem.hidden = false;
  }
  const only = form.elements.only;
  only.replaceChildren(...(names.length > 1 ? [new Option(t('ui.import.all', { n: names.length }), '')] : []),
    ...names.map((n) => new Option(n, n)));
  only.hidden = names.length === 0;
  $('button[type=submit]', form).disabled = names.length === 0;
}

async function pickImport() {
  const o = await invoke('profiles_import_pick');
  if (o) offerImport(o);
}

async function runImport(handle, only, replace, askEachTime) {
  const status = $('#profiles-status');
  status.textContent = t('ui.import.importing');
  let r;
  try {
    r = await invoke('profiles_import', { handle, only, replace, askEachTime });
  } catch (e) {
    status.textContent = '';
    $('#import-problem').textContent = String(e);
    $('#import-problem').hidden = false;
    return;
  }
  offer = null;
  $('#import-offer').hidden = true;
  status.textContent = t('ui.import.imported', { names: r.imported.join(', ') });
  await refreshProfiles();
  for (const a of r.ask) {
    // An openrc asks for its password when sourced; ask now, once.
    await askSecret(a.name, { what: a.what, why: t('ui.import.asks'), keyring: !askEachTime });
  }
  await changed(r.imported[0] ?? null);
}

// ------------------------------------------------------------ secret prompt
/** Ask for a profile's secret; resolves true when one was given (and sent to Rust). */
export function askSecret(name, need) {
  const dialog = $('#secret-dialog');
  const form = $('#secret-form');
  const input = form.elements.secret;
  const error = $('#secret-error');
  $('#secret-text').textContent = t('ui.secret.text', { name, what: need.what, why: need.why });
  $('#secret-what').textContent = need.what.charAt(0).toUpperCase() + need.what.slice(1);
  input.value = '';
  input.type = 'password';
  form.elements.show.checked = false;
  form.elements.show.onchange = () => { input.type = form.elements.show.checked ? 'text' : 'password'; input.focus(); };
  form.elements.remember.checked = need.keyring;
  form.elements.remember.disabled = !need.keyring;
  error.hidden = true;
  const submit = $('button[type=submit]', form);
  return new Promise((resolve) => {
    const finish = (ok) => {
      input.value = '';
      input.type = 'password';
      dialog.onclose = null;
      if (dialog.open) dialog.close();
      resolve(ok);
    };
    // The secret is checked with Keystone before it is kept: a refusal is said here, the
    // prompt stays open with what was typed, and nothing is stored.
    form.onsubmit = async (e) => {
      e.preventDefault();
      const secret = input.value;
      if (!secret) return;
      submit.disabled = true;
      error.hidden = false;
      error.className = 'muted';
      error.textContent = t('ui.secret.checking');
      try {
        await invoke('profile_unlock', { name, secret, remember: form.elements.remember.checked });
        finish(true);
      } catch (err) {
        error.className = 'error';
        error.textContent = String(err);
        input.select();
        input.focus();
      } finally {
        submit.disabled = false;
      }
    };
    $('#secret-cancel').onclick = () => finish(false);
    // Escape (the dialog's own cancel) ends it the same way as Cancel.
    dialog.onclose = () => finish(false);
    dialog.showModal();
    input.focus();
  });
}
