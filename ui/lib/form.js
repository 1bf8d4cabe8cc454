// The per-file form: parsing and validation into the ImageSpec the core expects.
import { t } from './i18n.js';

// Glance's formats come from Rust (the `image_formats` command) through setFormats, before
// any form is built; the lists stay the same objects so importers keep them.
export const DISK_FORMATS = [];
export const CONTAINER_FORMATS = [];

/** Fill the format lists from `{ disk: [...], container: [...] }`. */
export function setFormats({ disk, container }) {
  DISK_FORMATS.splice(0, DISK_FORMATS.length, ...disk);
  CONTAINER_FORMATS.splice(0, CONTAINER_FORMATS.length, ...container);
}
export const VISIBILITIES = ['private', 'shared', 'community', 'public'];
const RESERVED = /^(os_glance|location$|deleted$|deleted_at$)/;

/** "a, b  c" -> ["a", "b", "c"] (commas or spaces), de-duplicated. */
export function parseTags(text) {
  const tags = (text || '').split(/[\s,]+/).map((t) => t.trim()).filter(Boolean);
  return [...new Set(tags)];
}

/** One KEY=VALUE per line -> [[key, value], ...]; errors name the line. */
export function parseProperties(text) {
  const props = [];
  const errors = [];
  (text || '').split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line) return;
    const at = line.indexOf('=');
    if (at <= 0) { errors.push(t('ui.form.err.property', { line: i + 1 })); return; }
    const key = line.slice(0, at).trim();
    if (RESERVED.test(key)) { errors.push(t('ui.form.err.reserved', { line: i + 1, key })); return; }
    props.push([key, line.slice(at + 1).trim()]);
  });
  return { props, errors };
}

function count(v, label, errors) {
  if (v === '' || v === null || v === undefined) return null;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) { errors.push(t('ui.form.err.count', { label })); return null; }
  return n;
}

/**
 * Form values (strings and booleans, as read from the inputs) -> { spec, errors }.
 * `spec` matches the core's ImageSpec.
 */
export function toSpec(f) {
  const errors = [];
  const name = (f.name || '').trim();
  if (!name) errors.push(t('ui.form.err.name'));
  if (name.length > 255) errors.push(t('ui.form.err.name_long'));
  if (!DISK_FORMATS.includes(f.disk_format)) errors.push(t('ui.form.err.disk_format', { value: f.disk_format }));
  if (!CONTAINER_FORMATS.includes(f.container_format)) errors.push(t('ui.form.err.container_format', { value: f.container_format }));
  if (!VISIBILITIES.includes(f.visibility)) errors.push(t('ui.form.err.visibility', { value: f.visibility }));
  const min_disk = count(f.min_disk, t('ui.form.min_disk'), errors);
  const min_ram = count(f.min_ram, t('ui.form.min_ram'), errors);
  const tags = parseTags(f.tags);
  if (tags.some((tag) => tag.length > 255)) errors.push(t('ui.form.err.tag_long'));
  const { props, errors: perr } = parseProperties(f.properties);
  errors.push(...perr);
  const spec = {
    name,
    disk_format: f.disk_format,
    container_format: f.container_format,
    visibility: f.visibility,
    min_disk,
    min_ram,
    protected: Boolean(f.protected),
    tags,
    properties: props,
  };
  return { spec, errors };
}
