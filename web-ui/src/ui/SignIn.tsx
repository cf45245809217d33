import { useState } from 'preact/hooks';
import { LoginError } from '../client/chat';
import { isValidUser, normalizeName } from '../client/protocol';

/** What the node's refusal means to the person at the form. */
function refusal(err: unknown, creating: boolean, hadPassword: boolean): string {
  if (!(err instanceof LoginError)) return err instanceof Error ? err.message : String(err);
  switch (err.status) {
    case 401:
      return hadPassword ? 'Wrong name or password.' : 'Enter your password.';
    case 404:
      return creating ? 'This server has no accounts: sign in with just a name.' : err.message;
    case 409:
      return 'That name is taken. Pick another, or sign in if it is yours.';
    case 429:
      return 'Too many wrong passwords. Wait a minute and try again.';
    default:
      return err.message;
  }
}

/**
 * Sign in with a name and password, or create the account. A server in open mode (PULSE_AUTH=open)
 * takes a name alone; names are validated like the server does.
 */
export function SignIn({
  onSignIn,
  initialError,
}: {
  onSignIn: (user: string, password: string | undefined, create: boolean) => Promise<void>;
  initialError: string;
}) {
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState(initialError);
  const [busy, setBusy] = useState(false);
  const user = normalizeName(name);

  async function go(create: boolean) {
    if (!isValidUser(user)) {
      setError('Use 1–32 characters: a–z, 0–9, dot, dash or underscore.');
      return;
    }
    if (create && [...password].length < 8) {
      setError('Choose a password of at least 8 characters.');
      return;
    }
    setBusy(true);
    setError('');
    try {
      await onSignIn(user, password === '' ? undefined : password, create);
    } catch (err) {
      setError(refusal(err, create, password !== ''));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main class="signin">
      <form
        class="signin-card"
        onSubmit={(e) => {
          e.preventDefault();
          void go(false);
        }}
        aria-labelledby="signin-title"
      >
        <div class="logo" aria-hidden="true">●</div>
        <h1 id="signin-title">Pulse</h1>
        <p class="muted">Sign in, or create an account to start chatting.</p>
        <label for="signin-name">Your name</label>
        <input
          id="signin-name"
          name="user"
          autoComplete="username"
          autoFocus
          maxLength={32}
          value={name}
          onInput={(e) => setName((e.target as HTMLInputElement).value)}
          placeholder="e.g. alice"
        />
        <label for="signin-password">Password</label>
        <input
          id="signin-password"
          name="password"
          type="password"
          autoComplete="current-password"
          maxLength={256}
          value={password}
          onInput={(e) => setPassword((e.target as HTMLInputElement).value)}
        />
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy || name.trim() === ''}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <button type="button" id="signin-create" class="secondary" disabled={busy || name.trim() === ''} onClick={() => void go(true)}>
          Create account
        </button>
      </form>
    </main>
  );
}
