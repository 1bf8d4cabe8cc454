import { test } from 'node:test';
import './english.mjs';
import assert from 'node:assert/strict';
import { bytes, describeFile, eta, percent, phaseLabel, rate, suggestedMinDisk } from '../../ui/lib/format.js';

test('sizes in binary units', () => {
  assert.equal(bytes(0), '0 B');
  assert.equal(bytes(512), '512 B');
  assert.equal(bytes(1536), '1.5 KiB');
  assert.equal(bytes(21233664), '20.3 MiB');
  assert.equal(bytes(1 << 30), '1.0 GiB');
  assert.equal(bytes(NaN), '–');
});

test('rates and ETAs', () => {
  assert.equal(rate(0), '–');
  assert.equal(rate(80 * 1048576), '80.0 MiB/s');
  assert.equal(eta(null), '–');
  assert.equal(eta(6.6), '0:07');
  assert.equal(eta(3723), '1:02:03');
});

test('percent is bounded and whole', () => {
  assert.equal(percent(0, 0), 0);
  assert.equal(percent(1, 3), 33);
  assert.equal(percent(5, 4), 100);
});

test('labels and dates', () => {
  assert.equal(phaseLabel('verifying'), 'Verifying checksums');
  assert.equal(phaseLabel('queued'), 'Waiting for a free slot');
  assert.equal(phaseLabel('weird'), 'weird');
});

test('offered files and the min disk suggestion', () => {
  assert.equal(describeFile({ size: 8704000, disk_format: 'qcow2', virtual_size: 67108864 }), '8.3 MiB · qcow2, 64.0 MiB virtual');
  assert.equal(describeFile({ size: 1024, disk_format: 'raw', virtual_size: 1024 }), '1.0 KiB · raw');
  assert.equal(suggestedMinDisk(null), null);
  assert.equal(suggestedMinDisk(67108864), 1);
  assert.equal(suggestedMinDisk(2 ** 31 + 1), 3);
});
