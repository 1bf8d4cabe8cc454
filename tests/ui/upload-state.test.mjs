import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apply, initial } from '../../ui/lib/upload-state.js';

test('progress, then done, then nothing changes', () => {
  let s = apply(initial(), { event: 'progress', phase: 'uploading', image_id: 'i', sent: 5, total: 10, rate: 2, eta_secs: 2.5 });
  assert.equal(s.state, 'running');
  assert.equal(s.imageId, 'i');
  assert.equal(s.eta, 2.5);
  s = apply(s, { event: 'done', image_id: 'i', size: 10, md5: 'm' });
  assert.equal(s.state, 'done');
  assert.equal(s.sent, 10);
  const after = apply(s, { event: 'progress', phase: 'uploading', sent: 1, total: 10 });
  assert.equal(after, s);
});

test('server status and warnings are kept while running', () => {
  let s = apply(initial(), { event: 'progress', phase: 'verifying', server_status: 'saving', sent: 10, total: 10 });
  assert.equal(s.serverStatus, 'saving');
  s = apply(s, { event: 'warning', message: 'token may not last' });
  assert.equal(s.warning, 'token may not last');
  assert.equal(s.state, 'running');
});

test('failure and cancel keep the core message', () => {
  const f = apply(initial(), { event: 'failed', message: 'Glance rejected the data; image x was deleted' });
  assert.equal(f.state, 'failed');
  assert.equal(f.message, 'Glance rejected the data; image x was deleted');
  const c = apply(initial(), { event: 'cancelled', message: 'cancelled; image x was deleted' });
  assert.equal(c.state, 'cancelled');
});
