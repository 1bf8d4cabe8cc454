// The one catalogue (src-tauri/i18n/catalog.json) as the page uses it: Rust hands over the
// entries of the chosen language, t() fills in {placeholders}, translate() does the page's
// static text (data-i18n, data-i18n-html, data-i18n-placeholder, data-i18n-aria-label).

let entries = {};

export function setEntries(e) {
  entries = e ?? {};
}

/** The text for `key` with {name} placeholders filled from `vars`; the key itself if unknown. */
export function t(key, vars = {}) {
  const s = entries[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
}

export function translate(root) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-html]')) el.innerHTML = t(el.dataset.i18nHtml);
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll('[data-i18n-aria-label]')) el.setAttribute('aria-label', t(el.dataset.i18nAriaLabel));
}
