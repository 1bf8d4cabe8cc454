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
    visibility: p.defaults?.visibility ?? '', disk_format: p.defaults?.disk_format ?? '' };
  for (const { key } of fields) f[key] = p[key] ?? '';
  if (!f.user_domain_name && p.user_domain_id) f.user_domain_name = '';
  return f;
}

/** One line about where a profile's secret is. */
export function secretState(state) {
  return ['saved', 'session', 'missing', 'no_keyring'].includes(state) ? t(`ui.pf.state.${state}`) : state;
}
