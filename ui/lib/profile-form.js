// The profile editor: form fields <-> the Profile the core keeps, with the same checks the
// core makes (so the person hears about a missing domain before pressing Save).

export const AUTH_TYPES = [
  ['password', 'Password'],
  ['v3applicationcredential', 'Application credential'],
  ['token', 'Token'],
];
export const INTERFACES = ['public', 'internal', 'admin'];

/** Text fields of a profile, in the editor's order: [key, label, which auth types show it]. */
export const TEXT_FIELDS = [
  ['name', 'Profile name', null],
  ['auth_url', 'Auth URL', null],
  ['username', 'User name', ['password']],
  ['user_id', 'User id', ['password']],
  ['user_domain_name', 'User domain', ['password', 'v3applicationcredential']],
  ['application_credential_id', 'Application credential id', ['v3applicationcredential']],
  ['application_credential_name', 'Application credential name', ['v3applicationcredential']],
  ['project_name', 'Project', ['password', 'token']],
  ['project_id', 'Project id', ['password', 'token']],
  ['project_domain_name', 'Project domain', ['password', 'token']],
  ['region_name', 'Region', null],
  ['image_endpoint_override', 'Image endpoint override', null],
  ['cacert', 'CA bundle (file)', null],
];

const SECRET_LABEL = { password: 'Password', v3applicationcredential: 'Application credential secret', token: 'Token' };
export const secretLabel = (authType) => SECRET_LABEL[authType] ?? 'Secret';

const trimmed = (v) => (typeof v === 'string' && v.trim() ? v.trim() : null);

/** Form values (strings, a checkbox for verify) -> { profile, errors }. */
export function toProfile(f) {
  const errors = [];
  const p = { auth_type: f.auth_type || 'password', interface: f.interface || null, verify: f.verify === false ? false : null, defaults: {} };
  for (const [key] of TEXT_FIELDS) {
    p[key] = trimmed(f[key]);
  }
  p.name = p.name ?? '';
  p.auth_url = p.auth_url ?? '';
  const shown = new Set(TEXT_FIELDS.filter(([, , only]) => !only || only.includes(p.auth_type)).map(([k]) => k));
  for (const [key] of TEXT_FIELDS) if (!shown.has(key)) p[key] = null;
  if (trimmed(f.visibility)) p.defaults.visibility = f.visibility;
  if (trimmed(f.disk_format)) p.defaults.disk_format = f.disk_format;

  if (!p.name) errors.push('the profile needs a name');
  if (!p.auth_url) errors.push('the auth URL is missing');
  else if (!/^https?:\/\/[^\s/]+/.test(p.auth_url)) errors.push('the auth URL must start with http:// or https://');
  if (p.auth_type === 'password') {
    if (!p.username && !p.user_id) errors.push('give a user name or a user id');
    if (p.username && !p.user_id && !p.user_domain_name) errors.push('a user name needs its domain (often "Default")');
  }
  if (p.auth_type === 'v3applicationcredential') {
    if (!p.application_credential_id && !p.application_credential_name) errors.push('give the application credential id (or its name)');
    if (!p.application_credential_id && p.application_credential_name && !p.username) {
      errors.push('an application credential given by name needs the user name');
    }
  }
  if (p.project_name && !p.project_id && !p.project_domain_name) errors.push('a project name needs its domain (often "Default")');
  return { profile: p, errors };
}

/** A Profile from the core -> form values. */
export function fromProfile(p) {
  const f = { auth_type: p.auth_type ?? 'password', interface: p.interface ?? 'public', verify: p.verify !== false,
    visibility: p.defaults?.visibility ?? '', disk_format: p.defaults?.disk_format ?? '' };
  for (const [key] of TEXT_FIELDS) f[key] = p[key] ?? '';
  if (!f.user_domain_name && p.user_domain_id) f.user_domain_name = '';
  return f;
}

/** One line about where a profile's secret is. */
export function secretState(state) {
  return {
    saved: 'in the OS keyring',
    session: 'this session only',
    missing: 'asked for when needed',
    no_keyring: 'no keyring: asked for when needed',
  }[state] ?? state;
}
