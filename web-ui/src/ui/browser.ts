// Browser bindings of the chat client: fetch for login, WebSocket to the serving node, storage.

import { ChatClient, LoginError, type SocketLike } from '../client/chat';
import type { LoginResult } from '../client/protocol';

const SESSION_KEY = 'pulse.session';

export interface StoredSession {
  user: string;
  token: string;
  expiresAt: string;
}

export async function login(user: string, password?: string): Promise<LoginResult> {
  const res = await fetch('api/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(password ? { user, password } : { user }),
  });
  let body: Record<string, unknown> = {};
  try {
    body = (await res.json()) as Record<string, unknown>;
  } catch {
    // not JSON
  }
  if (res.status >= 400 && res.status < 500) {
    throw new LoginError(res.status, String(body.code ?? res.status), String(body.message ?? 'sign-in refused'));
  }
  if (!res.ok) throw new Error(`sign-in failed (${res.status})`);
  // saved by the client (onSession) only if the login is still wanted when it answers
  return body as unknown as LoginResult;
}

export function wsUrl(token: string): string {
  const url = new URL('ws', location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  url.searchParams.set('token', token);
  return url.toString();
}

export function loadSession(): StoredSession | null {
  try {
    const raw = sessionStorage.getItem(SESSION_KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as StoredSession;
    if (!s.user || !s.token || Date.parse(s.expiresAt) < Date.now() + 60_000) return null;
    return s;
  } catch {
    return null;
  }
}

export function saveSession(s: StoredSession | null): void {
  try {
    if (s) sessionStorage.setItem(SESSION_KEY, JSON.stringify(s));
    else sessionStorage.removeItem(SESSION_KEY);
  } catch {
    // storage disabled
  }
}

export function browserClient(): ChatClient {
  const client = new ChatClient({
    login,
    openSocket: (token) => new WebSocket(wsUrl(token)) as unknown as SocketLike,
    onSession: (s) => saveSession(s && { user: s.user, token: s.token, expiresAt: s.expiresAt }),
    storage: (() => {
      try {
        return localStorage;
      } catch {
        return undefined;
      }
    })(),
  });
  addEventListener('online', () => client.retryNow());
  addEventListener('offline', () => client.networkLost());
  return client;
}
