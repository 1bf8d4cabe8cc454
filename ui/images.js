// The Images tab: a list that loads a page at a time (search, filters and sorting on what is
// loaded; visibility, status and tag also asked of Glance), multi-select with bulk actions,
// and a details drawer with edit, share, download, (de)activate, hide, copy to stores, delete.
import { bytes, percent, rate } from './lib/format.js';
import { allTags, detailGroups, editFrom, editableProperties, isBusy, localTime, matches, readOnlyKeys, sortImages } from './lib/images.js';
import { t } from './lib/i18n.js';
import { VISIBILITIES } from './lib/form.js';

const { invoke, Channel } = window.__TAURI__.core;
const $ = (sel, root = document) => root.querySelector(sel);

let getCloud = () => null;
let images = [];
let nextMarker = null;
let me = null;
let sort = { key: 'created_at', desc: true };
const selected = new Set();
let open = null; // the image in the drawer
let schema = null; // Glance's image schema (enums), per cloud
let pollTimer = null;

export function initImages({ cloud, clouds, copyToCloud }) {
  getCloud = cloud;
  initCopyDialog(clouds, copyToCloud);
  $('#refresh').addEventListener('click', () => refreshImages());
  $('#images-more').addEventListener('click', () => loadPage(true));
  for (const id of ['#img-search', '#img-owner', '#img-format', '#img-tag']) $(id).addEventListener('input', render);
  // Status is asked of Glance too: a long list is not all loaded.
  $('#img-status').addEventListener('change', () => refreshImages());
  for (const th of document.querySelectorAll('#images th[data-sort]')) {
    $('button', th).addEventListener('click', () => {
      const key = th.dataset.sort;
      sort = { key, desc: sort.key === key ? !sort.desc : key === 'created_at' };
      render();
    });
  }
  $('#select-all').addEventListener('change', (e) => {
    for (const img of shown()) e.target.checked ? selected.add(img.id) : selected.delete(img.id);
    render();
  });
  $('#bulk-delete').addEventListener('click', bulkDelete);
  $('#bulk-visibility-go').addEventListener('click', bulkVisibility);
  $('#details-close').addEventListener('click', closeDrawer);
  $('#d-edit').addEventListener('click', startEdit);
  $('#edit-cancel').addEventListener('click', () => { $('#edit-form').hidden = true; });
  $('#edit-form').addEventListener('submit', saveEdit);
  $('#prop-add').addEventListener('click', () => propRow('', ''));
  $('#d-download').addEventListener('click', download);
  $('#d-cancel').addEventListener('click', () => open && invoke('image_download_cancel', { id: open.id }));
  $('#d-activation').addEventListener('click', toggleActivation);
  $('#d-hidden').addEventListener('click', toggleHidden);
  $('#d-delete').addEventListener('click', () => open && confirmDelete([open]));
  $('#share-form').addEventListener('submit', share);
  $('#m-accept').addEventListener('click', () => memberStatus('accepted'));
  $('#m-reject').addEventListener('click', () => memberStatus('rejected'));
  $('#copy-go').addEventListener('click', copyToStores);
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && !$('#details').hidden && !document.querySelector('dialog[open]')) closeDrawer();
  });
}

// ---------------------------------------------------------------- the list
export async function refreshImages() {
  const cloud = getCloud();
  if (!cloud) return;
  schema = null;
  images = [];
  nextMarker = null;
  selected.clear();
  await loadPage(false);
  fillEnums();
}

async function loadPage(more) {
  const cloud = getCloud();
  const status = $('#images-status');
  status.textContent = t('ui.common.loading');
  const query = { status: $('#img-status').value || null, limit: 100, marker: more ? nextMarker : null };
  // Shared images are listed by Glance only when asked for (or accepted): ask for them when
  // the person wants to see what is shared with them.
  if ($('#img-owner').value === 'shared') { query.visibility = 'shared'; query.member_status = 'all'; }
  try {
    const page = await invoke('images_page', { cloud, query });
    if (getCloud() !== cloud) return;
    me = page.project_id;
    images = more ? images.concat(page.images) : page.images;
    nextMarker = page.next_marker;
  } catch (e) {
    status.textContent = String(e);
    return;
  }
  render();
  schedulePoll();
}

/** The loaded images that pass the search and filters, sorted. */
function shown() {
  const f = { text: $('#img-search').value, owner: $('#img-owner').value, diskFormat: $('#img-format').value, tag: $('#img-tag').value };
  return sortImages(images.filter((i) => matches(i, f, me)), sort.key, sort.desc);
}

function render() {
  const list = shown();
  $('#images tbody').replaceChildren(...list.map(imageRow));
  $('#images-empty').hidden = list.length > 0;
  $('#images-more').hidden = !nextMarker;
  const more = nextMarker ? t('ui.images.more_available') : '';
  $('#images-status').textContent = t('ui.images.count_of', { shown: list.length, n: images.length, cloud: getCloud() }) + more;
  for (const th of document.querySelectorAll('#images th[data-sort]')) {
    th.setAttribute('aria-sort', th.dataset.sort === sort.key ? (sort.desc ? 'descending' : 'ascending') : 'none');
  }
  const tagSel = $('#img-tag');
  const tag = tagSel.value;
  tagSel.replaceChildren(new Option(t('ui.images.any_tag'), ''), ...allTags(images).map((x) => new Option(x, x)));
  tagSel.value = tag;
  for (const id of [...selected]) if (!images.some((i) => i.id === id)) selected.delete(id);
  $('#bulk').hidden = selected.size === 0;
  $('#bulk-count').textContent = t('ui.images.selected', { n: selected.size });
  $('#select-all').checked = list.length > 0 && list.every((i) => selected.has(i.id));
}

function imageRow(img) {
  const tr = document.createElement('tr');
  tr.dataset.id = img.id;
  if (open?.id === img.id) tr.setAttribute('aria-current', 'true');
  const box = Object.assign(document.createElement('input'), { type: 'checkbox', checked: selected.has(img.id) });
  box.setAttribute('aria-label', t('ui.images.select', { name: img.name ?? img.id }));
  box.addEventListener('change', () => { box.checked ? selected.add(img.id) : selected.delete(img.id); render(); });
  const cell = (content, cls = '') => {
    const td = document.createElement('td');
    if (cls) td.className = cls;
    td.append(content);
    return td;
  };
  const name = Object.assign(document.createElement('button'), { type: 'button', className: 'link details', textContent: img.name ?? t('ui.images.no_name') });
  name.addEventListener('click', () => showDetails(img.id));
  const badge = Object.assign(document.createElement('span'), { className: `badge s-${img.status}`, textContent: img.status });
  tr.append(cell(box), cell(name), cell(badge), cell(bytes(img.size ?? NaN), 'num'), cell(img.disk_format ?? ''), cell(img.visibility ?? ''), cell(localTime(img.created_at)));
  return tr;
}

/** Images that Glance is still working on are looked at again every few seconds. */
function schedulePoll() {
  clearTimeout(pollTimer);
  if (!images.some(isBusy) || $('#images-view').hidden) return;
  pollTimer = setTimeout(async () => {
    const cloud = getCloud();
    for (const img of images.filter(isBusy)) {
      try {
        const now = await invoke('image_get', { cloud, id: img.id });
        images = images.map((i) => (i.id === now.id ? now : i));
      } catch {
        images = images.filter((i) => i.id !== img.id); // deleted meanwhile
      }
    }
    if (getCloud() === cloud) { render(); schedulePoll(); }
  }, 3000);
}

function fillEnums() {
  // Glance's schema says which values exist; the cloud, not this app, decides.
  invoke('image_schema', { cloud: getCloud() }).then((s) => {
    schema = s;
    const vis = s?.properties?.visibility?.enum ?? ['public', 'private', 'shared', 'community'];
    $('#bulk-visibility').replaceChildren(...vis.map((v) => new Option(v, v)));
    $('#edit-form').elements.visibility.replaceChildren(...vis.map((v) => new Option(v, v)));
    const keep = (sel, values, any) => {
      const v = $(sel).value;
      $(sel).replaceChildren(new Option(t(any), ''), ...values.filter(Boolean).map((x) => new Option(x, x)));
      $(sel).value = v;
    };
    keep('#img-status', s?.properties?.status?.enum ?? [], 'ui.images.any_status');
    keep('#img-format', s?.properties?.disk_format?.enum ?? [], 'ui.images.any_format');
  }).catch(() => {});
}

// ---------------------------------------------------------------- bulk actions
function confirmDelete(list) {
  const dialog = $('#confirm');
  const names = list.map((i) => i.name ?? i.id).join(', ');
  $('#confirm-text').textContent = list.length === 1
    ? t('ui.images.confirm_delete', { name: names, id: list[0].id, cloud: getCloud() })
    : t('ui.images.confirm_delete_many', { n: list.length, names, cloud: getCloud() });
  $('#confirm-yes').onclick = async () => {
    dialog.close();
    const failed = [];
    for (const img of list) {
      $('#images-status').textContent = t('ui.images.deleting', { name: img.name ?? img.id });
      try {
        await invoke('image_delete', { cloud: getCloud(), id: img.id });
        images = images.filter((i) => i.id !== img.id);
        selected.delete(img.id);
        if (open?.id === img.id) closeDrawer();
      } catch (e) {
        failed.push(String(e));
      }
    }
    render();
    if (failed.length) $('#images-status').textContent = failed.join(' · ');
  };
  $('#confirm-no').onclick = () => dialog.close();
  dialog.showModal();
  $('#confirm-no').focus();
}

function bulkDelete() {
  confirmDelete(images.filter((i) => selected.has(i.id)));
}

async function bulkVisibility() {
  const visibility = $('#bulk-visibility').value;
  const failed = [];
  for (const img of images.filter((i) => selected.has(i.id))) {
    try {
      const now = await invoke('image_update', { cloud: getCloud(), id: img.id, edit: { visibility } });
      images = images.map((i) => (i.id === now.id ? now : i));
    } catch (e) {
      failed.push(`${img.name ?? img.id}: ${e}`);
    }
  }
  render();
  $('#images-status').textContent = failed.length ? failed.join(' · ') : t('ui.images.visibility_set', { visibility });
}

// ---------------------------------------------------------------- the drawer
export async function showDetails(id) {
  const cloud = getCloud();
  // Nothing of the image shown before may be clicked while this one loads.
  for (const sel of ['#copy-to', '#share', '#edit-form', '#d-progress']) $(sel).hidden = true;
  $('#copy-stores').replaceChildren();
  $('#members').replaceChildren();
  let img;
  try {
    img = await invoke('image_get', { cloud, id });
  } catch (e) {
    $('#images-status').textContent = String(e);
    return;
  }
  open = img;
  $('#details').hidden = false;
  $('#edit-form').hidden = true;
  $('#d-status').textContent = '';
  drawDetails(img, null);
  render();
  $('#details-close').focus();
  if (img.owner) invoke('project_name', { cloud, id: img.owner }).then((n) => { if (open?.id === id && n) drawDetails(open, n); });
  loadSharing(img);
  loadStores(img);
}

function drawDetails(img, ownerName) {
  $('#details-title').textContent = img.name ?? img.id;
  $('#d-activation').textContent = t(img.status === 'deactivated' ? 'ui.images.reactivate' : 'ui.images.deactivate');
  $('#d-activation').disabled = !['active', 'deactivated'].includes(img.status);
  $('#d-hidden').textContent = t(img.os_hidden ? 'ui.images.unhide' : 'ui.images.hide');
  $('#d-download').disabled = img.status !== 'active';
  $('#d-copy-cloud').disabled = img.status !== 'active';
  $('#d-delete').disabled = !!img.protected;
  $('#d-delete').title = img.protected ? t('ui.images.protected_why') : '';
  const groups = detailGroups(img, ownerName).filter((g) => g.rows.length);
  $('#d-groups').replaceChildren(...groups.map((g) => {
    const sec = document.createElement('section');
    sec.className = `group g-${g.key}`;
    const h = Object.assign(document.createElement('h4'), { textContent: t(`ui.d.group.${g.key}`) });
    const dl = document.createElement('dl');
    for (const r of g.rows) {
      const dt = Object.assign(document.createElement('dt'), { textContent: r.label });
      const dd = Object.assign(document.createElement('dd'), { textContent: r.value });
      if (r.copy && r.value) {
        const b = Object.assign(document.createElement('button'), { type: 'button', className: 'copy', textContent: t('ui.common.copy') });
        b.setAttribute('aria-label', t('ui.images.copy_value', { what: r.label }));
        b.addEventListener('click', () => navigator.clipboard.writeText(r.value));
        dd.append(' ', b);
      }
      dl.append(dt, dd);
    }
    sec.append(h, dl);
    return sec;
  }));
}

function closeDrawer() {
  open = null;
  $('#details').hidden = true;
  render();
}

async function reload() {
  const now = await invoke('image_get', { cloud: getCloud(), id: open.id });
  open = now;
  images = images.map((i) => (i.id === now.id ? now : i));
  drawDetails(now, null);
  render();
  // Visibility or status may have changed what can be shared or copied.
  loadSharing(now);
  loadStores(now);
  if (now.owner) invoke('project_name', { cloud: getCloud(), id: now.owner }).then((n) => { if (open?.id === now.id && n) drawDetails(open, n); });
}

async function act(what, f) {
  $('#d-status').textContent = t('ui.images.working');
  try {
    await f();
    await reload();
    $('#d-status').textContent = t(what);
  } catch (e) {
    $('#d-status').textContent = String(e);
  }
}

function toggleActivation() {
  const active = open.status === 'deactivated';
  act(active ? 'ui.images.reactivated' : 'ui.images.deactivated', () => invoke('image_activation', { cloud: getCloud(), id: open.id, active }));
}

function toggleHidden() {
  const hidden = !open.os_hidden;
  act('ui.images.saved', () => invoke('image_update', { cloud: getCloud(), id: open.id, edit: { hidden } }));
}

// ---------------------------------------------------------------- edit
function propRow(k, v) {
  const tr = document.createElement('tr');
  const key = Object.assign(document.createElement('input'), { value: k, className: 'prop-key' });
  key.setAttribute('aria-label', t('ui.edit.key'));
  const value = Object.assign(document.createElement('input'), { value: v, className: 'prop-value' });
  value.setAttribute('aria-label', t('ui.edit.value_of', { key: k || '…' }));
  const rm = Object.assign(document.createElement('button'), { type: 'button', textContent: t('ui.edit.remove') });
  rm.setAttribute('aria-label', t('ui.edit.remove_property', { key: k || '…' }));
  rm.addEventListener('click', () => tr.remove());
  const td = (el) => { const c = document.createElement('td'); c.append(el); return c; };
  tr.append(td(key), td(value), td(rm));
  $('#edit-form tbody').append(tr);
  key.focus();
}

function startEdit() {
  const f = $('#edit-form');
  f.elements.name.value = open.name ?? '';
  f.elements.visibility.value = open.visibility;
  f.elements.min_disk.value = open.min_disk ?? 0;
  f.elements.min_ram.value = open.min_ram ?? 0;
  f.elements.protected.checked = !!open.protected;
  f.elements.tags.value = (open.tags ?? []).join(', ');
  $('#edit-form tbody').replaceChildren();
  for (const [k, v] of editableProperties(open, readOnlyKeys(schema))) propRow(k, v);
  $('#edit-errors').textContent = '';
  f.hidden = false;
  f.elements.name.focus();
}

async function saveEdit(e) {
  e.preventDefault();
  const f = $('#edit-form');
  const properties = [...f.querySelectorAll('tbody tr')].map((tr) => [$('.prop-key', tr).value, $('.prop-value', tr).value]);
  const { edit, errors } = editFrom(open, {
    name: f.elements.name.value, visibility: f.elements.visibility.value, min_disk: f.elements.min_disk.value,
    min_ram: f.elements.min_ram.value, protected: f.elements.protected.checked, tags: f.elements.tags.value, properties,
  }, readOnlyKeys(schema));
  if (errors.length) { $('#edit-errors').textContent = errors.join('; '); return; }
  if (!Object.keys(edit).length) { f.hidden = true; $('#d-status').textContent = t('ui.edit.nothing'); return; }
  try {
    await invoke('image_update', { cloud: getCloud(), id: open.id, edit });
  } catch (err) {
    $('#edit-errors').textContent = String(err);
    return;
  }
  f.hidden = true;
  await reload();
  $('#d-status').textContent = t('ui.images.saved');
}

// ---------------------------------------------------------------- sharing
async function loadSharing(img) {
  const mine = img.owner === me;
  $('#share').hidden = img.visibility !== 'shared';
  $('#share-form').hidden = !mine;
  $('#member-mine').hidden = true;
  $('#members').replaceChildren();
  if (img.visibility !== 'shared') return;
  if (!mine) {
    // Shared with this project: accept or reject it.
    $('#member-mine').hidden = false;
    $('#member-mine-text').textContent = t('ui.images.shared_with_you');
    return;
  }
  try {
    const members = await invoke('image_members', { cloud: getCloud(), id: img.id });
    $('#members').replaceChildren(...members.map((m) => {
      const li = document.createElement('li');
      li.dataset.member = m.member_id;
      li.append(`${m.member_id} — ${m.status} `);
      const rm = Object.assign(document.createElement('button'), { type: 'button', textContent: t('ui.images.unshare') });
      rm.setAttribute('aria-label', t('ui.images.unshare_from', { project: m.member_id }));
      rm.addEventListener('click', async () => {
        try { await invoke('image_unshare', { cloud: getCloud(), id: img.id, project: m.member_id }); } catch (e) { $('#d-status').textContent = String(e); }
        loadSharing(open);
      });
      li.append(rm);
      invoke('project_name', { cloud: getCloud(), id: m.member_id }).then((n) => { if (n) li.firstChild.textContent = `${n} (${m.member_id}) — ${m.status} `; });
      return li;
    }));
  } catch (e) {
    $('#d-status').textContent = String(e);
  }
}

async function share(e) {
  e.preventDefault();
  const project = e.target.elements.project.value;
  // A project name is unique only within its domain; the domain (name or id) narrows it.
  const domain = e.target.elements.domain.value.trim() || null;
  try {
    await invoke('image_share', { cloud: getCloud(), id: open.id, project, domain });
    e.target.reset();
    $('#d-status').textContent = t('ui.images.shared_now', { project });
  } catch (err) {
    $('#d-status').textContent = String(err);
  }
  loadSharing(open);
}

function memberStatus(status) {
  act('ui.images.saved', () => invoke('image_member_status', { cloud: getCloud(), id: open.id, status }));
}

// ---------------------------------------------------------------- copy to stores
async function loadStores(img) {
  $('#copy-to').hidden = true;
  $('#copy-stores').replaceChildren();
  let stores = [];
  try { stores = await invoke('image_stores', { cloud: getCloud() }); } catch { return; }
  const have = (img.stores ?? '').split(',').map((s) => s.trim());
  const offered = stores.filter((s) => !have.includes(s.id));
  if (!offered.length || img.status !== 'active') return;
  $('#copy-stores').replaceChildren(...offered.map((s) => {
    const l = document.createElement('label');
    l.className = 'check';
    const box = Object.assign(document.createElement('input'), { type: 'checkbox', value: s.id });
    l.append(box, ` ${s.id}${s.description ? ` — ${s.description}` : ''}`);
    return l;
  }));
  $('#copy-to').hidden = false;
}

async function copyToStores() {
  const stores = [...document.querySelectorAll('#copy-stores input:checked')].map((b) => b.value);
  if (!stores.length) { $('#d-status').textContent = t('ui.images.choose_store'); return; }
  $('#d-status').textContent = t('ui.images.copying');
  try {
    const now = await invoke('image_copy', { cloud: getCloud(), id: open.id, stores });
    $('#d-status').textContent = t('ui.images.now_in', { stores: now });
    await reload();
  } catch (e) {
    $('#d-status').textContent = String(e);
  }
}

// ---------------------------------------------------------------- copy to another cloud
/**
 * "Copy to another cloud…": choose the clouds (any other profile or clouds.yaml cloud; several
 * get the data from one download), the copy's name and visibility; the copy joins the upload
 * queue (`copyToCloud(job)`).
 */
function initCopyDialog(clouds, copyToCloud) {
  const dialog = $('#copy-cloud-dialog');
  const form = $('#copy-cloud-form');
  let opener = null;
  $('#d-copy-cloud').addEventListener('click', () => {
    if (!open) return;
    opener = document.activeElement;
    const img = open;
    const others = clouds().filter((c) => c.name !== getCloud());
    $('#copy-cloud-to .also-list').replaceChildren(...others.map((c) => {
      const label = Object.assign(document.createElement('label'), { className: 'check' });
      const input = Object.assign(document.createElement('input'), { type: 'checkbox', name: 'to', value: c.name });
      label.append(input, ` ${c.label}`);
      return label;
    }));
    form.elements.name.value = img.name ?? '';
    form.elements.visibility.replaceChildren(
      new Option(t('ui.copycloud.same_visibility', { visibility: img.visibility ?? '' }), ''),
      ...VISIBILITIES.map((v) => new Option(v, v)),
    );
    $('#copy-cloud-what').textContent = t('ui.copycloud.what', { name: img.name ?? img.id, size: bytes(img.size ?? 0), cloud: getCloud() });
    $('#copy-cloud-errors').textContent = others.length ? '' : t('ui.copycloud.no_other');
    form.querySelector('[type=submit]').disabled = !others.length;
    dialog.showModal();
    form.querySelector('[name=to]')?.focus();
  });
  $('#copy-cloud-cancel').addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => opener?.focus());
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    // One job per opening of the dialog (a double click adds nothing more).
    if (!dialog.open || !open) return;
    const f = form.elements;
    const to = [...form.querySelectorAll('[name=to]:checked')].map((i) => i.value);
    if (!to.length) { $('#copy-cloud-errors').textContent = t('ui.copycloud.no_target'); return; }
    if (!f.name.value.trim()) { $('#copy-cloud-errors').textContent = t('ui.copycloud.no_name'); return; }
    const job = { cloud: getCloud(), image: open, to, name: f.name.value.trim(), visibility: f.visibility.value };
    opener = null;
    dialog.close();
    copyToCloud(job);
  });
}

// ---------------------------------------------------------------- download
async function download() {
  const img = open;
  const channel = new Channel();
  channel.onmessage = (ev) => {
    if (open?.id !== img.id) return;
    if (ev.event === 'progress') {
      $('#d-progress').hidden = false;
      $('#d-progress progress').value = percent(ev.sent, ev.total);
      $('#d-progress-text').textContent = `${percent(ev.sent, ev.total)}% · ${bytes(ev.sent)} / ${bytes(ev.total)} · ${rate(ev.rate)}`;
    } else if (ev.event === 'done') {
      $('#d-progress').hidden = true;
      $('#d-status').textContent = t('ui.images.downloaded', { path: ev.path, md5: ev.md5 });
      $('#d-download').disabled = false;
    } else {
      $('#d-progress').hidden = true;
      $('#d-status').textContent = ev.cancelled ? t('ui.images.download_cancelled', { why: ev.message }) : ev.message;
      $('#d-download').disabled = false;
    }
  };
  $('#d-download').disabled = true;
  try {
    const started = await invoke('image_download', { cloud: getCloud(), id: img.id, onEvent: channel });
    if (!started) $('#d-download').disabled = false;
    else $('#d-status').textContent = t('ui.images.downloading');
  } catch (e) {
    $('#d-status').textContent = String(e);
    $('#d-download').disabled = false;
  }
}
