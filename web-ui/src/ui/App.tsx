import { useEffect, useState } from 'preact/hooks';
import type { ChatClient } from '../client/chat';
import { loadSession } from './browser';
import { Chat } from './Chat';
import { useClient } from './hooks';
import { SignIn } from './SignIn';

/** The page: the sign-in form until signed in (or resumed from this tab's session), then the chat. */
export function App({ client }: { client: ChatClient }) {
  useClient(client);
  const [signedIn, setSignedIn] = useState(false);
  const [resumeError, setResumeError] = useState('');

  useEffect(() => {
    const s = loadSession();
    if (s) {
      setSignedIn(true);
      client.start(s.user, { token: s.token }).catch((e) => {
        setSignedIn(false);
        setResumeError(String(e instanceof Error ? e.message : e));
      });
    }
  }, [client]);

  if (!signedIn || client.authError) {
    return (
      <SignIn
        initialError={client.authError?.message ?? resumeError}
        onSignIn={async (user, password, create) => {
          await client.start(user, { password, register: create });
          setSignedIn(true);
        }}
      />
    );
  }
  return (
    <Chat
      client={client}
      onSignOut={() => {
        client.signOut(); // forgets the user, their stored rooms and this tab's session
        setSignedIn(false);
      }}
    />
  );
}
