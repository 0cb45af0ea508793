import { ApiProblem, session } from './api';
import { show } from './dom';
import { problemBox } from './problems';
import { experimentListView } from './views/experiment-list';
import { experimentPage } from './views/experiment-page';
import { learnerPage } from './views/learner-page';
import { signInView } from './views/sign-in';

// Routes live in the hash (#/, #/experiment/NAME, #/learner/ID, #/learner?username=U), so the
// server serves one page and nothing about a learner goes to it in a URL path it logs.

const root = document.getElementById('app')!;
const signOut = document.getElementById('sign-out')!;

signOut.addEventListener('click', () => {
  session.signOut();
  void route();
});
window.addEventListener('hashchange', () => void route());
void route();

async function route(): Promise<void> {
  signOut.hidden = session.token() === null;
  if (session.token() === null)
    return show(
      root,
      signInView(() => void route()),
    );
  const [path = '', search = ''] = location.hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const query = new URLSearchParams(search);
  try {
    if (parts[0] === 'experiment' && parts[1]) await experimentPage(root, parts[1]);
    else if (parts[0] === 'learner')
      await learnerPage(root, { userId: parts[1], username: query.get('username') ?? undefined });
    else await experimentListView(root);
  } catch (error) {
    if (error instanceof ApiProblem && error.status === 401) {
      // A token the API does not know (or none): sign in again, saying why.
      session.signOut();
      signOut.hidden = true;
      show(
        root,
        signInView(() => void route(), problemBox(error)),
      );
    } else show(root, problemBox(error));
  }
}
