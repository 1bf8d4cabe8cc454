// The profile manager: a list of profiles and the selected one's detail (Connect and Test
// first, the rest in a menu), the grouped editor, import (picker and dropped files), the test
// shown inline, and the secret prompt. Secrets go from here to Rust only: the page never
// receives one, and every password field is emptied as soon as it has been sent.
import { DISK_FORMATS } from './lib/form.js';
import { authTypeLabelKey, copyName, detailRows, fieldLabel, fromProfile, hostOf, secretLabel, secretState, shownFor, toProfile, whoOf } from './lib/profile-form.js';
import { t } from './lib/i18n.js';

const { invoke, Channel } = window.__TAURI__.core;
const $ = (sel, root = document) => root.querySelector(sel);

let changed = async () => {};
let connectTo = () => {};
let active = () => null;
let editing = null; // name of the profile being edited, '' for a new one
let offer = null; // a dropped or picked settings file waiting for "Import"
let shape = { fields: [], auth_types: [], interfaces: [] }; // the editor, as Rust describes it
let profiles = []; // the last listing's profiles
let selected = null; // the name of the profile whose detail shows

const say = (text) => { $('#profiles-status').textContent = text; };

export async function initProfiles({ onChanged, activeCloud, onConnect }) {
  changed = onChanged;
  active = activeCloud;
  connectTo = onConnect;
  const form = $('#profile-editor');
  // Text inputs come from Rust's one list (with their group), so the form, its checks and
  // the core agree. The secret sits right after who signs in; the interface after the region.
  shape = await invoke('profile_fields');
  for (const f of shape.fields) {
    const l = document.createElement('label');
    l.dataset.field = f.key;
    const text = Object.assign(document.createElement('span'), { textContent: fieldLabel(f.key) });
    text.dataset.i18n = f.key === 'name' ? 'ui.pf.name' : `ui.pf.${f.key}`;
    const input = Object.assign(document.createElement('input'), { name: f.key, autocomplete: 'off' });
    if (f.file) {
      // A path typed in or chosen with the system's file dialog.
      const row = Object.assign(document.createElement('span'), { className: 'with-button' });
      const browse = Object.assign(document.createElement('button'), { type: 'button', textContent: t('ui.editor.browse') });
      browse.dataset.i18n = 'ui.editor.browse';
      browse.setAttribute('aria-label', `${t('ui.editor.browse')} ${fieldLabel(f.key)}`);
      browse.addEventListener('click', async () => {
        const path = await invoke('profile_pick_file', { what: fieldLabel(f.key) });
        if (path) input.value = path;
        input.focus();
      });
      row.append(input, browse);
      l.append(text, ' ', row);
    } else {
      l.append(text, ' ', input);
    }
    $(`[data-group="${f.group}"] .grid`, form).append(l);
  }
  const identity = $('[data-group="identity"] .grid', form);
  // How it authenticates comes after where (it decides which fields show), the secret after who.
  form.elements.auth_url.closest('label').after(form.elements.auth_type.closest('label'));
  identity.append(form.elements.secret.closest('label'), form.elements.ask_each_time.closest('label'));
  $('[data-group="endpoint"] .grid', form).append(form.elements.interface.closest('label'));
  form.elements.region_name.closest('label').after(form.elements.interface.closest('label'));
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
  form.addEventListener('keydown', (e) => { if (e.key === 'Escape') { e.preventDefault(); closeEditor(); } });
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

  // The list: arrow keys move the selection, as in a file manager's sidebar.
  $('#profile-list').addEventListener('keydown', (e) => {
    const items = [...document.querySelectorAll('#profile-list button')];
    const at = items.indexOf(document.activeElement);
    if (at < 0) return;
    const to = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: items.length - 1 }[e.key];
    if (to === undefined || !items.length) return;
    e.preventDefault();
    const next = items[Math.max(0, Math.min(items.length - 1, to))];
    select(next.dataset.name);
    next.focus();
  });
  $('#detail-connect').addEventListener('click', () => selected && connectTo(selected));
  $('#detail-test').addEventListener('click', () => selected && testProfile(selected));
  $('#detail-edit').addEventListener('click', () => { const p = current(); if (p) openEditor(p); });
  $('#detail-duplicate').addEventListener('click', () => selected && duplicate(selected));
  $('#detail-export').addEventListener('click', () => selected && showExport(selected));
  $('#detail-rename').addEventListener('click', () => selected && askRename(selected));
  $('#detail-delete').addEventListener('click', () => selected && confirmDelete(selected));
  initMenu();
}

// "More": a menu button (WAI-ARIA menu button pattern): Enter, Space or Down opens it on its
// first item, arrows move, Escape or a click elsewhere closes it and focus goes back.
function initMenu() {
  const button = $('#detail-more');
  const menu = $('#detail-menu');
  const items = () => [...menu.querySelectorAll('[role=menuitem]')];
  const open = (focusAt = 0) => {
    menu.hidden = false;
    button.setAttribute('aria-expanded', 'true');
    items()[focusAt]?.focus();
  };
  const close = (refocus = true) => {
    if (menu.hidden) return;
    menu.hidden = true;
    button.setAttribute('aria-expanded', 'false');
    if (refocus) button.focus();
  };
  button.addEventListener('click', () => (menu.hidden ? open() : close()));
  button.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown') { e.preventDefault(); open(); }
    if (e.key === 'ArrowUp') { e.preventDefault(); open(items().length - 1); }
  });
  menu.addEventListener('keydown', (e) => {
    const list = items();
    const at = list.indexOf(document.activeElement);
    const to = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: list.length - 1 }[e.key];
    if (to !== undefined) { e.preventDefault(); list[(to + list.length) % list.length].focus(); }
    if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); close(); }
    if (e.key === 'Tab') close(false);
  });
  // Choosing an item closes the menu first (its dialog then takes the focus).
  menu.addEventListener('click', () => close(false));
  document.addEventListener('click', (e) => { if (!e.target.closest('.menu')) close(false); });
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
  let view;
  try {
    listing = invoke('profiles_list');
    view = await listing;
  } catch (e) {
    say(String(e));
    return;
  }
  profiles = view.profiles;
  $('#profiles-file').textContent = t('ui.profiles.file', { file: view.file });
  const problem = $('#keyring-problem');
  problem.hidden = !view.keyring_problem;
  // In words first; what the OS said (a D-Bus error) behind a disclosure.
  $('#keyring-problem-detail').textContent = view.keyring_problem ?? '';
  drawList();
  $('#profiles-empty').hidden = profiles.length > 0;
  $('.master-detail').hidden = profiles.length === 0 && editing === null;
  // The selection stays where it was; else the cloud in use, else the first.
  const keep = [selected, active(), profiles[0]?.name].find((n) => n && profiles.some((p) => p.name === n));
  select(keep ?? null);
}

// The list is updated in place: an item that stays keeps its element (and so the focus, when
// it has it); only what changed is touched.
function drawList() {
  const list = $('#profile-list');
  const have = new Map([...list.children].map((li) => [li.firstElementChild.dataset.name, li]));
  profiles.forEach((p, i) => {
    const li = have.get(p.name) ?? profileItem(p.name);
    have.delete(p.name);
    fillItem(li.firstElementChild, p);
    if (list.children[i] !== li) list.insertBefore(li, list.children[i] ?? null);
  });
  for (const li of have.values()) li.remove();
}

function profileItem(name) {
  const li = document.createElement('li');
  const b = Object.assign(document.createElement('button'), { type: 'button', className: 'profile-item' });
  b.dataset.name = name;
  b.addEventListener('click', () => select(name));
  li.append(b);
  return li;
}

function fillItem(b, p) {
  const line = (cls, text) => Object.assign(document.createElement('span'), { className: cls, textContent: text });
  const name = line('p-name', p.name);
  if (p.name === active()) name.append(' ', line('mark', t('ui.profiles.active')));
  const secret = line('p-secret', secretState(p.secret));
  secret.dataset.state = p.secret;
  const fresh = [name, line('p-host', hostOf(p.auth_url)), line('p-who', whoOf(p)), secret];
  // Untouched when nothing changed (no flicker, nothing for a screen reader to re-read).
  if (b.innerHTML !== fresh.map((e) => e.outerHTML).join('')) b.replaceChildren(...fresh);
}

const current = () => profiles.find((p) => p.name === selected) ?? null;

/** Show `name`'s detail (and mark it in the list); the editor, if open, stays in front. */
function select(name) {
  selected = name;
  for (const b of document.querySelectorAll('#profile-list button')) {
    const on = b.dataset.name === name;
    b.setAttribute('aria-current', String(on));
    b.tabIndex = on || (!name && b === document.querySelector('#profile-list button')) ? 0 : -1;
  }
  const p = current();
  const detail = $('#profile-detail');
  if (!p) { detail.hidden = true; return; }
  if (editing === null) detail.hidden = false;
  $('#detail-name').textContent = p.name;
  $('#detail-active').hidden = p.name !== active();
  $('#detail-fields').replaceChildren(...detailRows(p).flatMap(([key, value]) => {
    const dt = Object.assign(document.createElement('dt'), { textContent: t(key) });
    const dd = Object.assign(document.createElement('dd'), { textContent: value });
    dd.dataset.key = key;
    return [dt, dd];
  }));
  // A test's results belong to the profile tested: they go when another one shows.
  if ($('#profile-test').dataset.name !== name) $('#profile-test').hidden = true;
}

/** Open the editor on the profile `name` (from the banner's "Edit profile"). */
export async function editProfile(name) {
  const view = await (listing ?? invoke('profiles_list'));
  const p = view.profiles.find((x) => x.name === name);
  if (p) { select(name); openEditor(p); }
}

function openEditor(p) {
  const form = $('#profile-editor');
  editing = p ? p.name : '';
  $('.master-detail').hidden = false;
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
  // The TLS settings open by themselves when the profile has any.
  $('[data-group="advanced"]', form).open = Boolean(values.cacert || values.cert || values.key || values.verify === false);
  $('.form-errors', form).textContent = '';
  showFieldsFor(values.auth_type);
  $('#profile-detail').hidden = true;
  form.hidden = false;
  form.elements.name.focus();
}

function closeEditor() {
  const form = $('#profile-editor');
  form.elements.secret.value = '';
  form.hidden = true;
  const was = editing;
  editing = null;
  $('#profile-detail').hidden = !current();
  $('.master-detail').hidden = profiles.length === 0;
  // Focus goes back where the editing began.
  (was ? $('#detail-edit') : $('#profile-add')).focus();
}

async function saveEditor() {
  const form = $('#profile-editor');
  const f = form.elements;
  const values = { auth_type: f.auth_type.value, interface: f.interface.value, verify: f.verify.checked,
    visibility: f.visibility.value, disk_format: f.disk_format.value, convert: f.convert.checked };
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
  // A new profile becomes the cloud in use (it was added to be used); an edited one stays in
  // use if it was, under its new name, and otherwise leaves the cloud in use alone.
  const use = editing === '' || editing === active() ? saved : null;
  selected = saved;
  form.hidden = true;
  editing = null;
  say(t(result.secret_forgotten ? 'ui.profiles.saved_forgot' : 'ui.profiles.saved', { name: saved }));
  await refreshProfiles();
  await changed(use);
  $(`#profile-list [data-name="${CSS.escape(saved)}"]`)?.focus();
}

async function duplicate(name) {
  const copy = copyName(name, profiles.map((p) => p.name));
  try {
    await invoke('profile_duplicate', { name, newName: copy });
    say(t('ui.profiles.copied', { name, copy }));
    selected = copy;
  } catch (e) {
    say(String(e));
  }
  await refreshProfiles();
  await changed(null);
}

function askRename(name) {
  const dialog = $('#rename-dialog');
  const form = $('#rename-form');
  const input = form.elements.name;
  const error = $('#rename-error');
  $('#rename-title').textContent = t('ui.profiles.rename_title', { name });
  input.value = name;
  error.hidden = true;
  form.onsubmit = async (e) => {
    e.preventDefault();
    const to = input.value.trim();
    if (!to || to === name) { dialog.close(); return; }
    try {
      await invoke('profile_rename', { name, newName: to });
    } catch (err) {
      error.textContent = String(err);
      error.hidden = false;
      input.focus();
      return;
    }
    dialog.close();
    selected = to;
    say(t('ui.profiles.renamed', { name, to }));
    await refreshProfiles();
    await changed(active() === name ? to : null);
    $(`#profile-list [data-name="${CSS.escape(to)}"]`)?.focus();
  };
  $('#rename-cancel').onclick = () => dialog.close();
  dialog.onclose = () => { if (!dialog.returnValue) $('#detail-more').focus(); };
  dialog.showModal();
  input.select();
}

async function showExport(name) {
  let text;
  try {
    text = await invoke('profile_export', { name });
  } catch (e) {
    say(String(e));
    return;
  }
  const dialog = $('#export-dialog');
  $('#export-title').textContent = t('ui.export.title', { name });
  $('#export-text').textContent = text;
  $('#export-copy').onclick = async () => {
    try { await navigator.clipboard.writeText(text); $('#export-copy').textContent = t('ui.copy.done'); } catch { $('#export-copy').textContent = t('ui.copy.failed'); }
  };
  $('#export-close').onclick = () => dialog.close();
  dialog.onclose = () => { $('#export-copy').textContent = t('ui.export.copy'); $('#detail-more').focus(); };
  dialog.showModal();
  $('#export-close').focus();
}

function confirmDelete(name) {
  const dialog = $('#confirm');
  $('#confirm-text').textContent = t('ui.profiles.confirm_delete', { name });
  $('#confirm-yes').onclick = async () => {
    dialog.close();
    try {
      const notes = await invoke('profile_delete', { name });
      say(notes.length ? notes.join(' ') : t('ui.profiles.deleted', { name }));
    } catch (e) {
      say(String(e));
    }
    if (selected === name) selected = null;
    await refreshProfiles();
    await changed(null);
    ($('#profile-list button[aria-current="true"]') ?? $('#profile-add')).focus();
  };
  $('#confirm-no').onclick = () => { dialog.close(); $('#detail-more').focus(); };
  dialog.showModal();
  $('#confirm-no').focus();
}

// ------------------------------------------------------------ test connection
export async function testProfile(name) {
  if (editing !== null) closeEditor();
  if (profiles.some((p) => p.name === name)) select(name);
  const panel = $('#profile-test');
  panel.dataset.name = name;
  const list = $('#test-steps');
  list.replaceChildren();
  $('#test-title').textContent = t('ui.profiles.testing', { name });
  $('#test-result').textContent = '';
  panel.hidden = false;
  const onStep = new Channel();
  onStep.onmessage = (step) => {
    if (panel.dataset.name !== name) return;
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
    if (panel.dataset.name !== name) return;
    $('#test-result').textContent = t('ui.profiles.all_passed');
    panel.dataset.result = 'ok';
  } catch (e) {
    if (panel.dataset.name !== name) return;
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
  // What the OS said (no keyring: a D-Bus error) only behind a disclosure.
  $('#secret-detail').hidden = !need.detail;
  $('#secret-detail code').textContent = need.detail ?? '';
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
