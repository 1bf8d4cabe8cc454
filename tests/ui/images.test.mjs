import { test } from 'node:test';
import './english.mjs';
import assert from 'node:assert/strict';
import { allTags, detailGroups, editFrom, isBusy, localTime, matches, sortImages } from '../../ui/lib/images.js';

const me = 'p-me';
const imgs = [
  { id: 'a1', name: 'cirros', status: 'active', visibility: 'private', owner: me, disk_format: 'qcow2', size: 20, tags: ['x'], created_at: '2026-11-01T00:00:00Z' },
  { id: 'b2', name: 'Ubuntu 24.04', status: 'queued', visibility: 'shared', owner: 'p-other', disk_format: 'raw', size: null, tags: [] },
  { id: 'c3', name: null, status: 'active', visibility: 'public', owner: 'p-admin', disk_format: 'raw', size: 3, tags: ['x', 'y'] },
  { id: 'd4', name: 'win', status: 'active', visibility: 'community', owner: me, disk_format: 'vhdx', size: 1000, tags: [] },
];
const ids = (l) => l.map((i) => i.id);

test('search and filters combine', () => {
  const f = (x) => ids(imgs.filter((i) => matches(i, x, me)));
  assert.deepEqual(f({ text: 'UBU' }), ['b2']);
  assert.deepEqual(f({ text: 'c3' }), ['c3'], 'an id prefix finds the image');
  assert.deepEqual(f({ owner: 'mine' }), ['a1', 'd4']);
  assert.deepEqual(f({ owner: 'shared' }), ['b2']);
  assert.deepEqual(f({ owner: 'public' }), ['c3']);
  assert.deepEqual(f({ owner: 'community' }), ['d4']);
  assert.deepEqual(f({ tag: 'x', diskFormat: 'raw' }), ['c3']);
  assert.deepEqual(f({ status: 'active', visibility: 'private' }), ['a1']);
  assert.deepEqual(f({}), ['a1', 'b2', 'c3', 'd4']);
});

test('sorting by each column, sizes as numbers, ties by id', () => {
  assert.deepEqual(ids(sortImages(imgs, 'name')), ['c3', 'a1', 'b2', 'd4']);
  assert.deepEqual(ids(sortImages(imgs, 'size')), ['b2', 'c3', 'a1', 'd4']);
  assert.deepEqual(ids(sortImages(imgs, 'size', true)), ['d4', 'a1', 'c3', 'b2']);
  assert.deepEqual(ids(imgs), ['a1', 'b2', 'c3', 'd4'], 'the list itself is not changed');
  assert.deepEqual(allTags(imgs), ['x', 'y']);
  assert.ok(isBusy(imgs[1]) && !isBusy(imgs[0]));
});

test('times are shown in the local time zone', () => {
  const d = new Date('2026-11-28T05:33:36Z');
  const p = (n) => String(n).padStart(2, '0');
  assert.equal(localTime('2026-11-28T05:33:36Z'), `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`);
  assert.equal(localTime(null), '');
});

test('the drawer groups what Glance says', () => {
  const img = { ...imgs[0], checksum: 'abc', os_hash_algo: 'sha512', os_hash_value: 'def', stores: 'fs,fs2',
    min_disk: 1, min_ram: 0, os_distro: 'cirros', os_hidden: false, protected: true, hw_disk_bus: 'scsi', os_glance_x: '1' };
  const g = detailGroups(img, 'demo');
  assert.deepEqual(g.map((x) => x.key), ['identity', 'data', 'boot', 'sharing', 'properties']);
  const row = (k, label) => g.find((x) => x.key === k).rows.find((r) => r.label === label);
  assert.equal(row('identity', 'Owner').value, 'demo (p-me)');
  assert.equal(row('data', 'md5').copy, true);
  assert.equal(row('data', 'sha512').value, 'def');
  assert.equal(row('boot', 'os_distro').value, 'cirros');
  assert.equal(row('sharing', 'Protected').value, 'yes');
  assert.deepEqual(g[4].rows.map((r) => r.label), ['hw_disk_bus']);
});

test('the editor sends only what changed, and says what is wrong', () => {
  const img = { id: 'i', name: 'old', visibility: 'private', min_disk: 0, min_ram: 0, protected: false, tags: ['a', 'b'],
    os_distro: 'cirros', hw_x: '1', stores: 'fs', os_hash_algo: 'sha512' };
  const same = { name: 'old', visibility: 'private', min_disk: '', min_ram: '0', protected: false, tags: 'a, b',
    properties: [['os_distro', 'cirros'], ['hw_x', '1']] };
  assert.deepEqual(editFrom(img, same), { edit: {}, errors: [] });
  const changed = { ...same, name: 'new', visibility: 'public', min_disk: '2', protected: true, tags: 'b, c',
    properties: [['os_distro', 'ubuntu'], ['', ''], ['new_key', 'v']] };
  assert.deepEqual(editFrom(img, changed).edit, {
    name: 'new', visibility: 'public', min_disk: 2, protected: true, add_tags: ['c'], remove_tags: ['a'],
    properties: [['os_distro', 'ubuntu'], ['new_key', 'v']], remove_properties: ['hw_x'],
  });
  const bad = { ...same, min_ram: '-1', properties: [['stores', 'x'], ['', 'v'], ['k', '1'], ['k', '2']] };
  const { errors } = editFrom(img, bad);
  assert.equal(errors.length, 4, errors.join(' | '));
});

test("the cloud's schema decides what else is read-only", async () => {
  const { editableProperties, readOnlyKeys } = await import('../../ui/lib/images.js');
  // A cloud whose schema marks an extra attribute read-only (as a deployer's own plugin may).
  const schema = { properties: { name: { type: 'string' }, site_lock: { type: 'string', readOnly: true }, size: { readOnly: true } } };
  assert.deepEqual(readOnlyKeys(schema), ['site_lock', 'size']);
  assert.deepEqual(readOnlyKeys(null), []);
  const img = { id: 'i', name: 'n', visibility: 'private', tags: [], site_lock: 'yes', os_distro: 'cirros' };
  assert.deepEqual(editableProperties(img, readOnlyKeys(schema)), [['os_distro', 'cirros']]);
  assert.deepEqual(editableProperties(img).map(([k]) => k), ['os_distro', 'site_lock']);
  const form = { name: 'n', visibility: 'private', min_disk: '', min_ram: '', protected: false, tags: '',
    properties: [['os_distro', 'cirros'], ['site_lock', 'no']] };
  const { errors } = editFrom(img, form, readOnlyKeys(schema));
  assert.equal(errors.length, 1, errors.join(' | '));
  assert.match(errors[0], /site_lock/);
});
