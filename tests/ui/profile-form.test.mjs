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
  assert.equal(secretLabel('v3applicationcredential'), 'Application credential secret');
});
