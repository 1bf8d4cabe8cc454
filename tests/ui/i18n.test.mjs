// The one catalogue (src-tauri/i18n/catalog.json) against the page: every key the page uses
// exists in English and Korean, the page's English is the catalogue's, and no text on the page
// bypasses the catalogue.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setEntries, t } from '../../ui/lib/i18n.js';
import { PHASES } from '../../ui/lib/format.js';

const root = new URL('../../', import.meta.url).pathname;
const catalog = JSON.parse(readFileSync(join(root, 'src-tauri/i18n/catalog.json'), 'utf8'));
const html = readFileSync(join(root, 'ui/index.html'), 'utf8');
const scripts = [];
(function walk(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p); else if (p.endsWith('.js')) scripts.push([p, readFileSync(p, 'utf8')]);
  }
})(join(root, 'ui'));

const has = (key) => key in catalog && catalog[key].en?.trim() && catalog[key].ko?.trim();

test('every key the scripts name is in the catalogue, in both languages', () => {
  const keys = new Set();
  for (const [, src] of scripts) {
    for (const m of src.matchAll(/\bt\(\s*'([a-z0-9_.]+)'/g)) keys.add(m[1]);
    for (const m of src.matchAll(/'(ui\.[a-z0-9_.]+)'/g)) keys.add(m[1]);
  }
  // Keys built at run time from a list.
  for (const p of PHASES) keys.add(`ui.phase.${p}`);
  for (const g of ['identity', 'data', 'boot', 'sharing', 'properties']) keys.add(`ui.d.group.${g}`);
  for (const s of ['running', 'ok', 'failed', 'skipped']) keys.add(`ui.step.${s}`);
  for (const s of ['saved', 'session', 'missing', 'no_keyring']) keys.add(`ui.pf.state.${s}`);
  // The profile editor's field labels (`ui.pf.<key>`, keys from Rust) are checked by tests/i18n.rs.
  assert.ok(keys.size > 90, `${keys.size} keys found`);
  const missing = [...keys].filter((k) => !has(k));
  assert.deepEqual(missing, []);
});

test("the page's text is the catalogue's English, and every text has a key", () => {
  const norm = (s) => s.replace(/\s+/g, ' ').trim();
  const tagged = [...html.matchAll(/<(\w+)[^>]*\sdata-i18n(-html)?="([^"]+)"[^>]*>([\s\S]*?)<\/\1>/g)];
  assert.ok(tagged.length > 60, `${tagged.length} tagged elements`);
  for (const [, , , key, inner] of tagged) {
    assert.ok(has(key), `missing key ${key}`);
    assert.equal(norm(inner), norm(catalog[key].en), key);
  }
  for (const [, attr, key] of html.matchAll(/data-i18n-(placeholder|aria-label)="([^"]+)"/g)) {
    assert.ok(has(key), `missing key ${key} (${attr})`);
  }
  // Text outside tagged elements: strip the tagged ones, comments, scripts and tags, and what
  // is left must be names that are never translated.
  let rest = html.replace(/<!--[\s\S]*?-->/g, '').replace(/<title>[\s\S]*?<\/title>/, '');
  rest = rest.replace(/<(\w+)[^>]*\sdata-i18n(-html)?="[^"]+"[^>]*>[\s\S]*?<\/\1>/g, '');
  const words = rest.replace(/<[^>]+>/g, ' ').split(/\s+/).filter(Boolean);
  const untranslated = new Set(['Stackdrop', '✕', ':', 'English', '한국어', 'private', 'shared', 'community', 'public', 'active']);
  assert.deepEqual(words.filter((w) => !untranslated.has(w)), []);
});

test('t() fills placeholders, in the language it was given', () => {
  const ko = Object.fromEntries(Object.entries(catalog).map(([k, v]) => [k, v.ko]));
  setEntries(ko);
  assert.equal(t('ui.images.count_of', { shown: 2, n: 3, cloud: 'lab' }), 'lab의 이미지 3개 중 2개');
  setEntries(Object.fromEntries(Object.entries(catalog).map(([k, v]) => [k, v.en])));
  assert.equal(t('ui.images.count_of', { shown: 2, n: 3, cloud: 'lab' }), '2 of 3 image(s) in lab');
  assert.equal(t('no.such.key'), 'no.such.key');
});
