// The Images tab's logic without a DOM: search and filters, sorting, the details drawer's
// groups, and the editor's change set (what the library's ImageEdit takes). Unit-tested by
// tests/ui/images.test.mjs.
import { bytes } from './format.js';
import { t } from './i18n.js';

/** Glance's statuses during which an image changes by itself (the list refreshes them). */
export const BUSY = ['queued', 'saving', 'uploading', 'importing', 'pending_delete'];

export function isBusy(img) {
  return BUSY.includes(img.status);
}

/** Glance's own attributes; anything else on an image is a property. */
export const CORE = ['checksum', 'container_format', 'created_at', 'disk_format', 'file', 'id', 'min_disk', 'min_ram', 'name',
  'owner', 'protected', 'schema', 'self', 'size', 'status', 'tags', 'updated_at', 'virtual_size', 'visibility'];
/** Glance-managed keys that look like properties but cannot be edited. */
export const MANAGED = ['os_hash_algo', 'os_hash_value', 'os_hidden', 'stores', 'direct_url', 'locations'];

/**
 * Does `img` pass the filters? `f`: { text, status, visibility, owner ('mine' | 'shared' |
 * 'public' | 'community' | ''), tag, diskFormat }, `me`: the project id of the session.
 */
export function matches(img, f, me) {
  const text = (f.text ?? '').trim().toLowerCase();
  if (text && !(img.name ?? '').toLowerCase().includes(text) && !img.id.startsWith(text)) return false;
  if (f.status && img.status !== f.status) return false;
  if (f.visibility && img.visibility !== f.visibility) return false;
  if (f.diskFormat && img.disk_format !== f.diskFormat) return false;
  if (f.tag && !(img.tags ?? []).includes(f.tag)) return false;
  switch (f.owner) {
    case 'mine': return img.owner === me;
    case 'shared': return img.owner !== me && img.visibility === 'shared';
    case 'public': return img.visibility === 'public';
    case 'community': return img.visibility === 'community';
    default: return true;
  }
}

/** A copy of `list` sorted by `key` ('name', 'status', 'size', 'disk_format', 'visibility', 'created_at'). */
export function sortImages(list, key, descending = false) {
  const value = (img) => (key === 'size' ? img.size ?? -1 : String(img[key] ?? '').toLowerCase());
  const sorted = [...list].sort((a, b) => {
    const [x, y] = [value(a), value(b)];
    const c = x < y ? -1 : x > y ? 1 : 0;
    return c || a.id.localeCompare(b.id);
  });
  return descending ? sorted.reverse() : sorted;
}

/** Every tag on the loaded images, sorted: the tag filter's choices. */
export function allTags(list) {
  return [...new Set(list.flatMap((i) => i.tags ?? []))].sort();
}

/** "2026-11-28T05:33:36Z" in the computer's time zone: "2026-11-28 14:33". */
export function localTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/**
 * The drawer's groups: [{ key, rows: [{ label, value, copy? }] }] — identity, data, boot,
 * sharing, then the custom properties. `ownerName` is the owner's project name when known.
 */
export function detailGroups(img, ownerName = null) {
  const row = (label, value, copy = false) => ({ label, value: value ?? '', copy });
  const yes = (b) => t(b ? 'ui.common.yes' : 'ui.common.no');
  const props = Object.entries(img)
    .filter(([k]) => !CORE.includes(k) && !MANAGED.includes(k) && !k.startsWith('os_glance_'))
    .sort(([a], [b]) => a.localeCompare(b));
  const boot = ['os_distro', 'os_version', 'architecture'];
  return [
    { key: 'identity', rows: [
      row(t('ui.d.name'), img.name ?? ''),
      row(t('ui.d.id'), img.id, true),
      row(t('ui.d.status'), img.status),
      row(t('ui.d.owner'), ownerName ? `${ownerName} (${img.owner})` : img.owner ?? ''),
      row(t('ui.d.created'), localTime(img.created_at)),
      row(t('ui.d.updated'), localTime(img.updated_at)),
    ] },
    { key: 'data', rows: [
      row(t('ui.d.size'), img.size == null ? '' : `${bytes(img.size)} (${img.size})`),
      row(t('ui.d.virtual_size'), img.virtual_size == null ? '' : bytes(img.virtual_size)),
      row(t('ui.d.formats'), `${img.disk_format ?? '–'} / ${img.container_format ?? '–'}`),
      row('md5', img.checksum ?? '', !!img.checksum),
      row(img.os_hash_algo ?? t('ui.d.hash'), img.os_hash_value ?? '', !!img.os_hash_value),
      row(t('ui.d.stores'), img.stores ?? ''),
    ] },
    { key: 'boot', rows: [
      row(t('ui.d.min_disk'), `${img.min_disk ?? 0} GiB`),
      row(t('ui.d.min_ram'), `${img.min_ram ?? 0} MiB`),
      ...boot.map((k) => row(k, img[k] ?? '')),
    ] },
    { key: 'sharing', rows: [
      row(t('ui.d.visibility'), img.visibility ?? ''),
      row(t('ui.d.protected'), yes(img.protected)),
      row(t('ui.d.hidden'), yes(img.os_hidden)),
      row(t('ui.d.tags'), (img.tags ?? []).join(', ')),
    ] },
    { key: 'properties', rows: props.filter(([k]) => !boot.includes(k)).map(([k, v]) => row(k, typeof v === 'string' ? v : JSON.stringify(v))) },
  ];
}

/** The attributes Glance's image schema marks read-only (`readOnly: true`), as a list. */
export function readOnlyKeys(schema) {
  return Object.entries(schema?.properties ?? {}).filter(([, p]) => p?.readOnly === true).map(([k]) => k);
}

const reserved = (k, readOnly) => CORE.includes(k) || MANAGED.includes(k) || k.startsWith('os_glance_') || readOnly.includes(k);

/**
 * The editable custom properties of `img` as [key, value] pairs (for the editor's table): not
 * Glance's own, nor any the cloud's schema calls read-only (`readOnly`, from readOnlyKeys).
 */
export function editableProperties(img, readOnly = []) {
  return Object.entries(img)
    .filter(([k, v]) => !reserved(k, readOnly) && typeof v === 'string')
    .sort(([a], [b]) => a.localeCompare(b));
}

/**
 * The editor's form against the image: { edit, errors }. `form`: { name, visibility, min_disk,
 * min_ram, protected, tags (comma-separated), properties: [[key, value], …] }. `edit` holds
 * only what changed, in the shape of the library's ImageEdit. `readOnly`: the schema's
 * read-only attributes, refused as property keys like Glance's own.
 */
export function editFrom(img, form, readOnly = []) {
  const errors = [];
  const edit = {};
  const name = form.name.trim();
  if (name !== (img.name ?? '')) edit.name = name;
  if (form.visibility !== img.visibility) edit.visibility = form.visibility;
  for (const k of ['min_disk', 'min_ram']) {
    const s = String(form[k]).trim();
    const n = s === '' ? 0 : Number(s);
    if (!Number.isInteger(n) || n < 0) errors.push(t('ui.edit.bad_number', { field: t(`ui.d.${k}`) }));
    else if (n !== (img[k] ?? 0)) edit[k] = n;
  }
  if (!!form.protected !== !!img.protected) edit.protected = !!form.protected;
  const tags = [...new Set(form.tags.split(',').map((s) => s.trim()).filter(Boolean))];
  const had = img.tags ?? [];
  const add = tags.filter((x) => !had.includes(x));
  const remove = had.filter((x) => !tags.includes(x));
  if (add.length) edit.add_tags = add;
  if (remove.length) edit.remove_tags = remove;
  const old = Object.fromEntries(editableProperties(img, readOnly));
  const now = {};
  for (const [k0, v] of form.properties) {
    const k = k0.trim();
    if (!k && !v) continue;
    if (!k) { errors.push(t('ui.edit.no_key')); continue; }
    if (reserved(k, readOnly)) { errors.push(t('ui.edit.reserved', { key: k })); continue; }
    if (k in now) { errors.push(t('ui.edit.twice', { key: k })); continue; }
    now[k] = v;
  }
  const set = Object.entries(now).filter(([k, v]) => old[k] !== v);
  const gone = Object.keys(old).filter((k) => !(k in now));
  if (set.length) edit.properties = set;
  if (gone.length) edit.remove_properties = gone;
  return { edit, errors };
}
