// Version 1.1 accounts in the client: register once, sockets opened with single-use tickets, and a
// sign-out that revokes the token on the server.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ChatClient, LoginError } from '../src/client/chat';
import type { LoginResult } from '../src/client/protocol';
import { flush, harness } from './fakes';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('accounts', () => {
  it('registers once, then logs in again with the same password when the token is refused', async () => {
    const registered: string[] = [];
    const passwords: (string | undefined)[] = [];
    const h = harness({
      register: async (user: string, password: string): Promise<LoginResult> => {
        registered.push(`${user}:${password}`);
        return { user, token: 'registered', expiresAt: '2999-01-01T00:00:00Z' };
      },
      login: async (user: string, password?: string): Promise<LoginResult> => {
        passwords.push(password);
        return { user, token: 'again', expiresAt: '2999-01-01T00:00:00Z' };
      },
    });
    const client = new ChatClient(h.deps);
    await client.start('alice', { password: 'secret password', register: true });
    expect(registered).toEqual(['alice:secret password']);
    expect(h.socket().token).toBe('registered');

    h.socket().drop(); // refused before welcome: the token may be gone
    await vi.advanceTimersByTimeAsync(60_000);
    expect(registered).toHaveLength(1);
    expect(passwords).toEqual(['secret password']);
    expect(h.socket().token).toBe('again');
  });

  it('opens each socket with a fresh ticket, never the token in the URL', async () => {
    const tickets: string[] = [];
    const opened: (string | undefined)[] = [];
    let n = 0;
    const h = harness({
      ticket: async (token: string) => {
        tickets.push(token);
        return `ticket-${++n}`;
      },
    });
    const open = h.deps.openSocket;
    h.deps.openSocket = (token, ticket) => {
      opened.push(ticket);
      return open(token, ticket);
    };
    const client = new ChatClient(h.deps);
    await client.start('alice');
    await flush();
    h.socket().open();
    h.socket().drop();
    await vi.advanceTimersByTimeAsync(1000);
    await flush();
    expect(tickets).toEqual(['t1', 't1']);
    expect(opened).toEqual(['ticket-1', 'ticket-2']);
  });

  it('does not log in again when a socket opened with a fresh ticket closes before welcome', async () => {
    const h = harness({ ticket: async () => 'ticket' });
    const client = new ChatClient(h.deps);
    await client.start('alice', { token: 'stored' }); // resumed: no password to log in with
    await flush();
    h.socket().drop(); // the network, not the token: the ticket was just issued for it
    await vi.advanceTimersByTimeAsync(1000);
    expect(h.logins).toEqual([]);
    expect(h.sockets).toHaveLength(2);
    expect(h.sockets[1].token).toBe('stored');
  });

  it('gives the socket up without doubting the token when the browser goes offline while connecting', async () => {
    const h = harness();
    const client = new ChatClient(h.deps);
    await client.start('alice', { token: 'stored' });
    client.networkLost();
    client.networkBack();
    await flush();
    expect(h.logins).toEqual([]);
    expect(h.sockets).toHaveLength(2);
  });

  it('logs in again when the ticket is refused (signed out elsewhere, or expired)', async () => {
    let refuse = true;
    const h = harness({
      ticket: async (token: string) => {
        if (refuse) {
          refuse = false;
          throw new LoginError(401, 'unauthorized', 'this token was signed out');
        }
        return `ticket-for-${token}`;
      },
    });
    const client = new ChatClient(h.deps);
    await client.start('alice', { token: 'stale' });
    await flush();
    expect(h.sockets).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(60_000);
    await flush();
    expect(h.logins).toEqual(['alice']);
    expect(h.socket().token).toBe('t1');
  });

  it('revokes the token on sign-out', async () => {
    const revoked: string[] = [];
    const h = harness({ logout: (token: string) => void revoked.push(token) });
    const client = new ChatClient(h.deps);
    await client.start('alice');
    h.socket().open();
    client.signOut();
    expect(revoked).toEqual(['t1']);
    client.signOut(); // nothing left to revoke
    expect(revoked).toEqual(['t1']);
  });
});
