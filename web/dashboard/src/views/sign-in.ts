import { session } from '../api';
import { el, field, formText } from '../dom';

/** The token form: the token is kept in this tab's sessionStorage only, and sent as a header. */
export function signInView(onSignedIn: () => void, reason?: HTMLElement): HTMLElement {
  const form = el(
    'form',
    { className: 'inline', attributes: { id: 'sign-in-form', autocomplete: 'off' } },
    field('Admin API token', 'token', { type: 'password', required: true }),
    el('button', { attributes: { type: 'submit' } }, 'Sign in'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const token = formText(form, 'token');
    if (!token) return;
    session.signIn(token);
    form.reset();
    onSignedIn();
  });
  return el(
    'section',
    { className: 'panel sign-in' },
    el('h1', null, 'Sign in'),
    reason,
    el(
      'p',
      null,
      'Paste a token of the admin API (a reader token is enough). It stays in this browser tab until you sign out or close it.',
    ),
    form,
  );
}
