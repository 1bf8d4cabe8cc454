import { test } from 'node:test';
import assert from 'node:assert/strict';
import './english.mjs';
import { setFormats } from '../../ui/lib/form.js';
import {
  actions, blocked, edit, milestone, newItem, onEvent, remembered, reset, select, shared, specOf, startable, status, summary,
} from '../../ui/lib/queue.js';

setFormats({ disk: ['raw', 'qcow2', 'vmdk', 'iso'], container: ['bare', 'ovf'] });

const file = (n, extra = {}) => ({ handle: `h${n}`, file_name: `f${n}.qcow2`, image_name: `f${n}`, size: 100 * n, disk_format: 'qcow2', virtual_size: 3 * 2 ** 30 + 1, ...extra });

test('a new item: min disk filled from the virtual size, profile defaults win over remembered choices', () => {
  const it = newItem(file(1), { visibility: 'shared', tags: 'a b', method: 'glance-direct', protected: true }, { visibility: 'public' });
  assert.equal(it.settings.min_disk, '4');
  assert.equal(it.settings.visibility, 'public');
  assert.equal(it.settings.tags, 'a b');
  assert.equal(it.settings.method, 'glance-direct');
  assert.equal(it.settings.protected, true);
  assert.equal(it.settings.name, 'f1');
  assert.equal(status(it), 'waiting');
  const raw = newItem(file(2, { disk_format: 'raw', virtual_size: null }));
  assert.equal(raw.settings.min_disk, '');
  assert.equal(raw.settings.visibility, 'private');
  assert.notEqual(raw.key, it.key);
});

test('batch edit: every selected item but the running and active ones; the name only one at a time', () => {
  const q = [1, 2, 3, 4].map((n) => newItem(file(n)));
  onEvent(q[2], { event: 'progress', phase: 'uploading', sent: 1, total: 300, rate: 1 });
  onEvent(q[3], { event: 'done', image_id: 'i', size: 400 });
  assert.equal(edit(q, 'visibility', 'public'), 2);
  assert.deepEqual(q.map((it) => it.settings.visibility), ['public', 'public', 'private', 'private']);
  assert.equal(edit(q.slice(0, 2), 'name', 'same'), 0);
  assert.equal(edit(q.slice(0, 1), 'name', 'one'), 1);
  assert.deepEqual(shared(q.slice(0, 2), 'visibility'), { value: 'public', mixed: false });
  assert.deepEqual(shared(q, 'visibility'), { value: '', mixed: true });
  assert.equal(edit(q.slice(0, 2), 'visibility', 'public'), 0, 'unchanged values are not counted');
});

test('upload all starts only ready items with valid settings, and says why the others wait', () => {
  const q = [1, 2, 3].map((n) => newItem(file(n)));
  edit([q[1]], 'properties', 'no equals sign');
  onEvent(q[2], { event: 'progress', phase: 'queued', sent: 0, total: 0, rate: 0 });
  assert.deepEqual(startable(q).map((it) => it.key), [q[0].key]);
  const b = blocked(q);
  assert.equal(b.length, 1);
  assert.equal(b[0].item, q[1]);
  assert.match(b[0].errors[0], /line 1/);
});

test('the spec sent to the core, and glance-direct with stores', () => {
  const it = newItem(file(1));
  edit([it], 'tags', 'x, y x');
  edit([it], 'properties', 'os_distro=cirros\nhw_disk_bus=virtio');
  edit([it], 'method', 'glance-direct');
  edit([it], 'stores', 'fast, slow');
  const { spec, errors, importChoice } = specOf(it);
  assert.deepEqual(errors, []);
  assert.deepEqual(spec.tags, ['x', 'y']);
  assert.deepEqual(spec.properties, [['os_distro', 'cirros'], ['hw_disk_bus', 'virtio']]);
  assert.equal(spec.min_disk, 4);
  assert.deepEqual(importChoice.stores, ['fast', 'slow']);
  assert.equal(specOf(newItem(file(2))).importChoice, null);
});

test('row actions: cancel while running, retry after failure or cancel, never upload again once active', () => {
  const it = newItem(file(1));
  assert.deepEqual(actions(it), { cancel: false, retry: false, remove: true });
  onEvent(it, { event: 'progress', phase: 'uploading', sent: 1, total: 100, rate: 1 });
  assert.deepEqual(actions(it), { cancel: true, retry: false, remove: true });
  onEvent(it, { event: 'failed', message: 'Glance said 413' });
  assert.deepEqual(actions(it), { cancel: false, retry: true, remove: true });
  assert.equal(status(it), 'failed');
  reset(it);
  assert.equal(status(it), 'waiting');
  onEvent(it, { event: 'done', image_id: 'i', size: 100 });
  assert.deepEqual(actions(it), { cancel: false, retry: false, remove: true });
  assert.equal(startable([it]).length, 0);
});

test('status follows Glance while verifying', () => {
  const it = newItem(file(1));
  onEvent(it, { event: 'progress', phase: 'verifying', server_status: 'importing', sent: 100, total: 100, rate: 0 });
  assert.equal(status(it), 'importing');
  onEvent(it, { event: 'progress', phase: 'verifying', server_status: 'saving', sent: 100, total: 100, rate: 0 });
  assert.equal(status(it), 'saving');
});

test('batch progress counts started items; failed ones drop out', () => {
  const q = [1, 2, 3, 4].map((n) => newItem(file(n)));
  onEvent(q[0], { event: 'done', image_id: 'a', size: 100 });
  onEvent(q[1], { event: 'progress', phase: 'uploading', sent: 100, total: 200, rate: 1 });
  onEvent(q[2], { event: 'failed', message: 'x' });
  const s = summary(q);
  assert.deepEqual([s.ready, s.running, s.done, s.failed], [1, 1, 1, 1]);
  assert.equal(s.sent, 200);
  assert.equal(s.total, 300);
  assert.equal(s.percent, 66);
});

test('announcements every 10 %, once each', () => {
  assert.equal(milestone(null, 5), null);
  assert.equal(milestone(null, 12), 10);
  assert.equal(milestone(10, 19), null);
  assert.equal(milestone(10, 35), 30);
  assert.equal(milestone(90, 100), null, 'the end is announced as done, not as 100 %');
});

test('remembered choices leave out the per-file ones', () => {
  const it = newItem(file(1), { tags: 't' });
  assert.deepEqual(Object.keys(remembered(it.settings)).sort(), ['container_format', 'convert', 'method', 'properties', 'protected', 'tags', 'visibility']);
});

test('a raw disk can go as qcow2: the profile\'s default, the last choice, never for other formats', async () => {
  const { isRaw } = await import('../../ui/lib/queue.js');
  const raw = newItem(file(1, { disk_format: 'raw', allocated: 10 }), {}, { convert: 'qcow2' });
  assert.ok(isRaw(raw));
  assert.equal(raw.settings.convert, true, 'the profile converts raw disks');
  assert.equal(specOf(raw).convert, 'qcow2');
  assert.equal(newItem(file(2, { disk_format: 'raw' }), { convert: false }, { convert: 'qcow2' }).settings.convert, false, 'the last choice with this cloud wins');
  const q = newItem(file(3), { convert: true });
  assert.equal(isRaw(q), false);
  assert.equal(specOf(q).convert, null, 'a qcow2 file goes as it is');
  edit([raw], 'method', 'glance-direct');
  assert.equal(specOf(raw).convert, null, 'glance-direct stages the file as it is');
});

test('selection: click, ctrl-click, shift-click', () => {
  const q = [1, 2, 3, 4].map((n) => newItem(file(n)));
  let s = select(q, new Set(), null, q[1].key);
  assert.deepEqual([...s.selected], [q[1].key]);
  s = select(q, s.selected, s.anchor, q[3].key, { extend: true });
  assert.deepEqual([...s.selected], [q[1].key, q[2].key, q[3].key]);
  s = select(q, s.selected, s.anchor, q[2].key, { toggle: true });
  assert.deepEqual([...s.selected], [q[1].key, q[3].key]);
});

test('a web-download joins the queue as a job that is never edited, and a URL suggests a name', async () => {
  const { formatFromUrl, newUrlItem, nameFromUrl } = await import('../../ui/lib/queue.js');
  const it = newUrlItem('https://x/y/disk.qcow2', { name: 'disk', disk_format: 'qcow2', container_format: 'bare', visibility: 'private' });
  assert.equal(edit([it], 'visibility', 'public'), 0);
  assert.equal(startable([it]).length, 0, 'it starts when added, not with Upload all');
  assert.equal(nameFromUrl('https://cloud-images.ubuntu.com/noble/current/noble-server-cloudimg-amd64.img'), 'noble-server-cloudimg-amd64');
  assert.equal(nameFromUrl('http://h/a%20b.qcow2'), 'a b');
  assert.equal(nameFromUrl('not a url'), '');
  assert.equal(formatFromUrl('https://x/disk.raw.xz'), 'raw');
  assert.equal(formatFromUrl('https://x/d.QCOW2'), 'qcow2');
  assert.equal(formatFromUrl('https://x/noble.img'), null, '.img names no format');
});

test('a copy to another cloud is a job: never edited, not in Upload all, named as asked, and an outcome like an upload', async () => {
  const { isFinal, isJob, newCopyItem, targetsToRun } = await import('../../ui/lib/queue.js');
  const image = { id: 'i1', name: 'cirros', size: 4096, disk_format: 'qcow2', container_format: 'bare', visibility: 'public' };
  const it = newCopyItem({ cloud: 'lab', image, to: ['other'], name: '', visibility: '' });
  assert.ok(isJob(it));
  assert.equal(it.file.file_name, 'cirros', 'no name given: the source keeps its name');
  assert.equal(it.settings.visibility, 'public', 'no visibility given: the source\'s');
  assert.equal(edit([it], 'visibility', 'private'), 0);
  assert.equal(startable([it, newItem(file(1))]).length, 1, 'only the file waits for Upload all');
  assert.deepEqual(blocked([it]), []);
  const renamed = newCopyItem({ cloud: 'lab', image, to: ['other', 'far'], name: 'c2', visibility: 'private' });
  assert.equal(renamed.file.file_name, 'c2');
  assert.equal(renamed.settings.visibility, 'private');
  // A run per target cloud, as for a file sent to several: to done, or to failed and retried.
  assert.deepEqual(targetsToRun(it, 'other'), ['other']);
  onEvent(it, { event: 'target', target: 'other', inner: { event: 'progress', phase: 'uploading', sent: 1024, total: 4096, rate: 1, eta_secs: 3 } });
  assert.equal(status(it), 'uploading');
  assert.deepEqual(actions(it), { cancel: true, retry: false, remove: true });
  const done = { event: 'target', target: 'other', inner: { event: 'done', image_id: 'i9', size: 4096, md5: 'm', already_there: true } };
  assert.ok(isFinal(done));
  assert.ok(!isFinal({ event: 'target', target: 'other', inner: { event: 'progress' } }));
  onEvent(it, done);
  assert.equal(status(it), 'active');
  assert.equal(it.run.result.already_there, true);
  assert.deepEqual(targetsToRun(renamed, 'other'), ['other', 'far']);
  onEvent(renamed, { event: 'target', target: 'other', inner: { event: 'done', image_id: 'a', size: 1 } });
  onEvent(renamed, { event: 'target', target: 'far', inner: { event: 'failed', message: 'Glance refused the size' } });
  assert.deepEqual(actions(renamed), { cancel: false, retry: true, remove: true });
  reset(renamed);
  assert.deepEqual(targetsToRun(renamed, 'other'), ['far'], 'a retry copies only to the cloud that did not get it');
});

test('a file to several clouds: a run per cloud, the row sums them up, and a retry sends only to those that failed', async () => {
  const { alsoTo, targetsToRun } = await import('../../ui/lib/queue.js');
  const it = newItem(file(1));
  assert.deepEqual(targetsToRun(it, 'lab'), ['lab'], 'nothing ticked: the cloud in use only');
  assert.equal(it.targets, undefined);
  edit([it], 'also', 'lab-demo,other');
  assert.deepEqual(alsoTo(it), ['lab-demo', 'other']);
  assert.deepEqual(targetsToRun(it, 'lab'), ['lab', 'lab-demo', 'other']);
  onEvent(it, { event: 'progress', phase: 'queued', sent: 0, total: 100, rate: 0, eta_secs: null });
  assert.deepEqual(it.targets.map((t) => t.run.state), ['running', 'running', 'running']);
  const target = (name, inner) => onEvent(it, { event: 'target', target: name, inner });
  target('lab', { event: 'progress', phase: 'uploading', sent: 50, total: 100, rate: 10, eta_secs: 5 });
  target('lab-demo', { event: 'progress', phase: 'uploading', sent: 20, total: 100, rate: 4, eta_secs: 20 });
  assert.equal(it.run.state, 'running');
  assert.equal(it.run.sent, 70, 'the bytes of every cloud');
  assert.equal(it.run.total, 300);
  assert.equal(it.run.rate, 4, 'the slowest sets the pace');
  assert.equal(it.run.eta, 20);
  target('lab', { event: 'done', image_id: 'a', size: 100, md5: 'm' });
  target('other', { event: 'done', image_id: 'c', size: 100, md5: 'm' });
  assert.equal(it.run.state, 'running', 'one cloud still sends');
  target('lab-demo', { event: 'failed', message: 'Glance refused the size' });
  assert.equal(it.run.state, 'failed');
  assert.equal(it.run.message, '1 of 3 clouds did not get it: lab-demo');
  assert.equal(it.targets[1].run.message, 'Glance refused the size', 'the cloud\'s own line says why');
  assert.deepEqual(actions(it), { cancel: false, retry: true, remove: true });
  // Retry: only lab-demo again; the active ones stay as they are.
  reset(it);
  assert.deepEqual(targetsToRun(it, 'somewhere-else'), ['lab-demo']);
  onEvent(it, { event: 'progress', phase: 'queued', sent: 0, total: 100, rate: 0, eta_secs: null });
  assert.deepEqual(it.targets.map((t) => t.run.state), ['done', 'running', 'done']);
  target('lab-demo', { event: 'done', image_id: 'b', size: 100, md5: 'm' });
  assert.equal(it.run.state, 'done');
  assert.equal(it.run.imageId, 'a', 'the row shows the first cloud\'s image');
  // Unticked after a failure: not tried again; ticked: added.
  const edited = newItem(file(3));
  edit([edited], 'also', 'bad,lab-demo');
  targetsToRun(edited, 'lab');
  onEvent(edited, { event: 'target', target: 'bad', inner: { event: 'failed', message: 'no' } });
  onEvent(edited, { event: 'target', target: 'lab', inner: { event: 'done', image_id: 'a', size: 1 } });
  onEvent(edited, { event: 'target', target: 'lab-demo', inner: { event: 'done', image_id: 'b', size: 1 } });
  assert.equal(edited.run.state, 'failed');
  edit([edited], 'also', 'lab-demo,other');
  assert.deepEqual(targetsToRun(edited, 'lab'), ['other']);
  assert.deepEqual(edited.targets.map((t) => t.name), ['lab', 'lab-demo', 'other']);
  // glance-direct goes to one cloud at a time.
  edit([it], 'method', 'glance-direct');
  const other = newItem(file(2));
  edit([other], 'also', 'lab-demo');
  edit([other], 'method', 'glance-direct');
  assert.match(specOf(other).errors.join(), /one cloud at a time/);
});
