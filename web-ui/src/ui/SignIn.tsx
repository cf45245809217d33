import { useState } from 'preact/hooks';
import { LoginError } from '../client/chat';
import { isValidUser, normalizeName } from '../client/protocol';

/** Name (and password once the node asks for one), validated like the server does. */
export function SignIn({ onSignIn, initialError }: { onSignIn: (user: string, password?: string) => Promise<void>; initialError: string }) {
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [needPassword, setNeedPassword] = useState(false);
  const [error, setError] = useState(initialError);
  const [busy, setBusy] = useState(false);
  const user = normalizeName(name);

  async function submit(e: Event) {
    e.preventDefault();
    if (!isValidUser(user)) {
      setError('Use 1–32 characters: a–z, 0–9, dot, dash or underscore.');
      return;
    }
    setBusy(true);
    setError('');
    try {
      await onSignIn(user, needPassword ? password : undefined);
    } catch (err) {
      if (err instanceof LoginError && err.status === 401) {
        setNeedPassword(true);
        setError(needPassword ? 'Wrong password.' : 'This server needs a password.');
      } else {
        setError(err instanceof Error ? err.message : String(err));
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <main class="signin">
      <form class="signin-card" onSubmit={submit} aria-labelledby="signin-title">
        <div class="logo" aria-hidden="true">●</div>
        <h1 id="signin-title">Pulse</h1>
        <p class="muted">Pick a name to start chatting.</p>
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
        {needPassword && (
          <>
            <label for="signin-password">Password</label>
            <input
              id="signin-password"
              type="password"
              autoComplete="current-password"
              value={password}
              onInput={(e) => setPassword((e.target as HTMLInputElement).value)}
            />
          </>
        )}
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy || name.trim() === ''}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
