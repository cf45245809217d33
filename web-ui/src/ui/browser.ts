// Browser bindings of the chat client: fetch for login, WebSocket to the serving node, storage.

import { ChatClient, LoginError, type SocketLike } from '../client/chat';
import type { LoginResult } from '../client/protocol';

const SESSION_KEY = 'pulse.session';

export interface StoredSession {
  user: string;
  token: string;
  expiresAt: string;
}

/** POSTs to an /api endpoint; 4xx answers reject with LoginError (code and message from the body). */
async function postJson(path: string, init: RequestInit): Promise<Record<string, unknown>> {
  const res = await fetch(path, { method: 'POST', ...init });
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
  return body;
}

function credentials(user: string, password?: string): RequestInit {
  return {
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(password ? { user, password } : { user }),
  };
}

// Saved by the client (onSession) only if the login is still wanted when it answers.
export async function login(user: string, password?: string): Promise<LoginResult> {
  return (await postJson('api/login', credentials(user, password))) as unknown as LoginResult;
}

/** Creates the account (PULSE_AUTH=accounts) and signs in. */
export async function register(user: string, password: string): Promise<LoginResult> {
  return (await postJson('api/register', credentials(user, password))) as unknown as LoginResult;
}

/** A single-use ticket, so the long-lived token never goes into a URL. */
export async function ticket(token: string): Promise<string> {
  const body = await postJson('api/ticket', { headers: { authorization: `Bearer ${token}` } });
  return String(body.ticket);
}

/** Revokes the token on every node; sent even while the page unloads, and nobody waits for it. */
export function logout(token: string): void {
  fetch('api/logout', { method: 'POST', headers: { authorization: `Bearer ${token}` }, keepalive: true }).catch(
    () => undefined,
  );
}

export function wsUrl(ticketOrToken: { ticket: string } | { token: string }): string {
  const url = new URL('ws', location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  if ('ticket' in ticketOrToken) url.searchParams.set('ticket', ticketOrToken.ticket);
  else url.searchParams.set('token', ticketOrToken.token);
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
    register,
    ticket,
    logout,
    openSocket: (token, oneTime) =>
      new WebSocket(wsUrl(oneTime ? { ticket: oneTime } : { token })) as unknown as SocketLike,
    onSession: (s) => saveSession(s && { user: s.user, token: s.token, expiresAt: s.expiresAt }),
    storage: (() => {
      try {
        return localStorage;
      } catch {
        return undefined;
      }
    })(),
    visible: () => document.visibilityState === 'visible',
    notify: desktopNotification,
  });
  addEventListener('online', () => client.networkBack());
  addEventListener('offline', () => client.networkLost());
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') client.pageShown();
  });
  return client;
}

/**
 * A desktop notification for a DM or a mention while the tab is hidden. Permission is asked for once,
 * on the first such message; a refusal is remembered by the browser and never asked again.
 */
function desktopNotification(title: string, body: string, room: string): void {
  if (typeof Notification === 'undefined') return;
  const show = () => {
    const note = new Notification(title, { body: body.slice(0, 200), tag: room });
    note.onclick = () => {
      window.focus();
      note.close();
    };
  };
  if (Notification.permission === 'granted') show();
  else if (Notification.permission === 'default') void Notification.requestPermission().then((p) => p === 'granted' && show());
}
