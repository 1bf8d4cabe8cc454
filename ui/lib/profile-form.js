// The profile editor: form fields <-> the Profile the core keeps, with the same checks the
// core makes (so the person hears about a missing domain before pressing Save). Which fields
// there are comes from Rust (the `profile_fields` command: `{ fields: [{ key, auth_types }],
// auth_types, interfaces }`); every function here takes that list.
import { t } from './i18n.js';

/** The catalogue key of an auth type's label. */
const AUTH_LABEL = { password: 'ui.pf.auth.password', v3applicationcredential: 'ui.pf.auth.appcred', token: 'ui.pf.auth.token' };
export const authTypeLabelKey = (authType) => AUTH_LABEL[authType] ?? 'ui.pf.auth.password';

/** Is field `f` (`{ key, auth_types }`) shown for `authType`? */
export const shownFor = (f, authType) => !f.auth_types || f.auth_types.includes(authType);

export const fieldLabel = (key) => t(key === 'name' ? 'ui.pf.name' : `ui.pf.${key}`);

const SECRET_LABEL = { password: 'ui.pf.secret.password', v3applicationcredential: 'ui.pf.secret.appcred', token: 'ui.pf.secret.token' };
export const secretLabel = (authType) => t(SECRET_LABEL[authType] ?? 'ui.pf.secret.other');

const trimmed = (v) => (typeof v === 'string' && v.trim() ? v.trim() : null);

/** Form values (strings, a checkbox for verify) -> { profile, errors }. */
export function toProfile(f, fields) {
  const errors = [];
  const p = { auth_type: f.auth_type || 'password', interface: f.interface || null, verify: f.verify === false ? false : null, defaults: {} };
  for (const { key } of fields) {
    p[key] = trimmed(f[key]);
  }
  p.name = p.name ?? '';
  p.auth_url = p.auth_url ?? '';
  for (const field of fields) if (!shownFor(field, p.auth_type)) p[field.key] = null;
  if (trimmed(f.visibility)) p.defaults.visibility = f.visibility;
  if (trimmed(f.disk_format)) p.defaults.disk_format = f.disk_format;
  if (f.convert === true) p.defaults.convert = 'qcow2';

  if (!p.name) errors.push(t('ui.pf.err.name'));
  if (!p.auth_url) errors.push(t('ui.pf.err.auth_url'));
  else if (!/^https?:\/\/[^\s/]+/.test(p.auth_url)) errors.push(t('ui.pf.err.auth_url_scheme'));
  if (p.auth_type === 'password') {
    if (!p.username && !p.user_id) errors.push(t('ui.pf.err.user'));
    if (p.username && !p.user_id && !p.user_domain_name) errors.push(t('ui.pf.err.user_domain'));
  }
  if (p.auth_type === 'v3applicationcredential') {
    if (!p.application_credential_id && !p.application_credential_name) errors.push(t('ui.pf.err.appcred'));
    if (!p.application_credential_id && p.application_credential_name && !p.username) {
      errors.push(t('ui.pf.err.appcred_user'));
    }
  }
  if (p.project_name && !p.project_id && !p.project_domain_name) errors.push(t('ui.pf.err.project_domain'));
  return { profile: p, errors };
}

/** A Profile from the core -> form values. */
export function fromProfile(p, fields) {
  const f = { auth_type: p.auth_type ?? 'password', interface: p.interface ?? 'public', verify: p.verify !== false,
    visibility: p.defaults?.visibility ?? '', disk_format: p.defaults?.disk_format ?? '', convert: p.defaults?.convert === 'qcow2' };
  for (const { key } of fields) f[key] = p[key] ?? '';
  if (!f.user_domain_name && p.user_domain_id) f.user_domain_name = '';
  return f;
}

/** One line about where a profile's secret is. */
export function secretState(state) {
  return ['saved', 'session', 'missing', 'no_keyring'].includes(state) ? t(`ui.pf.state.${state}`) : state;
}

/** Where a profile signs in, shortly: the Keystone host (and port), or the URL as given. */
export function hostOf(authUrl) {
  const m = /^https?:\/\/([^/?#]+)/.exec(authUrl ?? '');
  return m ? m[1] : (authUrl ?? '');
}

/** Who a profile signs in as, for the list: "user@project", or the credential or token. */
export function whoOf(p) {
  const user = p.username ?? p.user_id ?? (p.application_credential_name ?? p.application_credential_id);
  const project = p.project_name ?? p.project_id;
  if (p.auth_type === 'token') return project ? `${t('ui.pf.auth.token')}@${project}` : t('ui.pf.auth.token');
  if (user && project) return `${user}@${project}`;
  return user ?? project ?? '';
}

/**
 * The detail of a profile, as [label key, value] pairs: what is set, in the editor's order,
 * the domain next to what it qualifies; the secret's whereabouts last.
 */
export function detailRows(p) {
  const withDomain = (v, domain) => (v && domain ? `${v} (${domain})` : v);
  const rows = [
    ['ui.pf.auth_url', p.auth_url],
    ['ui.editor.auth', t(authTypeLabelKey(p.auth_type))],
    ['ui.pf.username', withDomain(p.username, p.user_domain_name ?? p.user_domain_id)],
    ['ui.pf.user_id', p.user_id],
    ['ui.pf.application_credential_id', p.application_credential_id],
    ['ui.pf.application_credential_name', p.application_credential_name],
    ['ui.pf.project_name', withDomain(p.project_name, p.project_domain_name ?? p.project_domain_id)],
    ['ui.pf.project_id', p.project_id],
    ['ui.pf.region_name', p.region_name],
    ['ui.editor.interface', p.interface],
    ['ui.pf.image_endpoint_override', p.image_endpoint_override],
    ['ui.pf.cacert', p.cacert],
    ['ui.pf.cert', p.cert],
    ['ui.pf.key', p.key],
    ['ui.editor.verify', p.verify === false ? t('ui.common.no') : null],
    ['ui.editor.default_visibility', p.defaults?.visibility],
    ['ui.editor.default_disk_format', p.defaults?.disk_format],
    ['ui.editor.convert', p.defaults?.convert === 'qcow2' ? t('ui.common.yes') : null],
    ['ui.col.secret', p.secret ? secretState(p.secret) : null],
  ];
  return rows.filter(([, v]) => v !== null && v !== undefined && v !== '');
}

/** The first free "name-2", "name-3", … for a copy of `name`. */
export function copyName(name, taken) {
  const have = new Set(taken);
  let n = 2;
  while (have.has(`${name}-${n}`)) n += 1;
  return `${name}-${n}`;
}
