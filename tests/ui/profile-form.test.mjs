import { test } from 'node:test';
import './english.mjs';
import assert from 'node:assert/strict';
import { fromProfile, secretLabel, toProfile } from '../../ui/lib/profile-form.js';

// Test data in the shape Rust's `profile_fields` sends (config::profiles::EDITOR_FIELDS).
const FIELDS = [
  { key: 'name', auth_types: null },
  { key: 'auth_url', auth_types: null },
  { key: 'username', auth_types: ['password'] },
  { key: 'user_id', auth_types: ['password'] },
  { key: 'user_domain_name', auth_types: ['password', 'v3applicationcredential'] },
  { key: 'application_credential_id', auth_types: ['v3applicationcredential'] },
  { key: 'application_credential_name', auth_types: ['v3applicationcredential'] },
  { key: 'project_name', auth_types: ['password', 'token'] },
  { key: 'project_domain_name', auth_types: ['password', 'token'] },
  { key: 'region_name', auth_types: null },
];

const lab = { name: 'lab', auth_type: 'password', auth_url: 'http://127.0.0.1:5000/v3', username: 'admin',
  user_domain_name: 'Default', project_name: 'admin', project_domain_name: 'Default', interface: 'public', verify: true,
  visibility: 'shared', disk_format: '' };

test('a filled form becomes the profile the core keeps', () => {
  const { profile, errors } = toProfile({ ...lab, region_name: '  RegionOne ' }, FIELDS);
  assert.deepEqual(errors, []);
  assert.equal(profile.region_name, 'RegionOne');
  assert.equal(profile.verify, null);
  assert.deepEqual(profile.defaults, { visibility: 'shared' });
  assert.equal(profile.application_credential_id, null);
});

test('missing parts are named, as the core would', () => {
  const { errors } = toProfile({ ...lab, name: ' ', auth_url: 'keystone:5000', user_domain_name: '', project_domain_name: '' }, FIELDS);
  assert.deepEqual(errors, [
    'the profile needs a name',
    'the auth URL must start with http:// or https://',
    'a user name needs its domain (often "Default")',
    'a project name needs its domain (often "Default")',
  ]);
  const ac = toProfile({ name: 'ci', auth_type: 'v3applicationcredential', auth_url: 'https://k', username: 'leftover' }, FIELDS);
  assert.deepEqual(ac.errors, ['give the application credential id (or its name)']);
  assert.equal(ac.profile.username, null, 'fields of another auth type are dropped');
});

test('profiles round-trip through the form', () => {
  const { profile } = toProfile({ ...lab, verify: false }, FIELDS);
  const again = toProfile(fromProfile(profile, FIELDS), FIELDS).profile;
  assert.deepEqual(again, profile);
  // The upload defaults too: raw disks sent as qcow2.
  const converting = toProfile({ ...lab, convert: true, visibility: 'shared' }, FIELDS).profile;
  assert.deepEqual(converting.defaults, { visibility: 'shared', convert: 'qcow2' });
  assert.deepEqual(toProfile(fromProfile(converting, FIELDS), FIELDS).profile, converting);
  assert.equal(toProfile({ ...lab, convert: false }, FIELDS).profile.defaults.convert, undefined);
  assert.equal(secretLabel('v3applicationcredential'), 'Application credential secret');
});

test('the list says where and as whom, in one short line each', async () => {
  const { hostOf, whoOf } = await import('../../ui/lib/profile-form.js');
  assert.equal(hostOf('https://keystone.example.com:5000/v3'), 'keystone.example.com:5000');
  assert.equal(hostOf('not a url'), 'not a url');
  assert.equal(whoOf(lab), 'admin@admin');
  assert.equal(whoOf({ auth_type: 'v3applicationcredential', application_credential_id: 'ac1' }), 'ac1');
  assert.equal(whoOf({ auth_type: 'token', project_id: 'p1' }), 'Token@p1');
  assert.equal(whoOf({ auth_type: 'password', user_id: 'u1', project_id: 'p1' }), 'u1@p1');
});

test('the detail shows what is set, domains beside what they qualify, the secret last', async () => {
  const { detailRows } = await import('../../ui/lib/profile-form.js');
  const rows = detailRows({ ...lab, region_name: 'RegionOne', verify: false, cacert: '/etc/ca.pem', secret: 'saved', defaults: { visibility: 'shared' } });
  const keys = rows.map(([k]) => k);
  assert.deepEqual(keys, ['ui.pf.auth_url', 'ui.editor.auth', 'ui.pf.username', 'ui.pf.project_name', 'ui.pf.region_name',
    'ui.editor.interface', 'ui.pf.cacert', 'ui.editor.verify', 'ui.editor.default_visibility', 'ui.col.secret']);
  assert.equal(rows[2][1], 'admin (Default)');
  assert.equal(rows.at(-1)[1], 'in the OS keyring');
  // Nothing unset shows: no empty "User id", no "Verify TLS" when it is on.
  assert.ok(!detailRows(lab).some(([k]) => k === 'ui.pf.user_id' || k === 'ui.editor.verify'));
});

test('a copy takes the first free -N name', async () => {
  const { copyName } = await import('../../ui/lib/profile-form.js');
  assert.equal(copyName('lab', ['lab']), 'lab-2');
  assert.equal(copyName('lab', ['lab', 'lab-2', 'lab-3']), 'lab-4');
});
