import { test } from 'node:test';
import './english.mjs';
import assert from 'node:assert/strict';
import { parseProperties, parseTags, setFormats, toSpec } from '../../ui/lib/form.js';

// In the app the lists come from Rust (`image_formats`); here, enough of them to check with.
setFormats({ disk: ['qcow2', 'raw', 'vmdk'], container: ['bare', 'ovf'] });

const base = { name: 'cirros', disk_format: 'qcow2', container_format: 'bare', visibility: 'private',
  min_disk: '', min_ram: '', protected: false, tags: '', properties: '' };

test('a filled form becomes the core ImageSpec', () => {
  const { spec, errors } = toSpec({ ...base, min_disk: '2', protected: true, tags: 'a, b a', properties: 'os_distro=cirros\n\nhw_disk_bus = virtio' });
  assert.deepEqual(errors, []);
  assert.deepEqual(spec, { name: 'cirros', disk_format: 'qcow2', container_format: 'bare', visibility: 'private',
    min_disk: 2, min_ram: null, protected: true, tags: ['a', 'b'], properties: [['os_distro', 'cirros'], ['hw_disk_bus', 'virtio']] });
});

test('bad input is named', () => {
  const { errors } = toSpec({ ...base, name: '  ', min_ram: '-1', disk_format: 'qcow3', properties: 'novalue\nos_glance_x=1' });
  assert.deepEqual(errors, [
    'the image needs a name',
    "unknown disk format 'qcow3'",
    'min RAM must be a whole number of GiB/MiB, 0 or more',
    'property line 1: write KEY=VALUE',
    "property line 2: 'os_glance_x' is reserved by Glance",
  ]);
});

test('tags and properties parse on their own', () => {
  assert.deepEqual(parseTags(''), []);
  assert.deepEqual(parseTags(' x  y,z '), ['x', 'y', 'z']);
  assert.deepEqual(parseProperties('a=b=c').props, [['a', 'b=c']]);
});
