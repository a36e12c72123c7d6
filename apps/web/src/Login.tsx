import { useEffect, useState, type FormEvent } from 'react';
import { ApiError, login } from './lib/api';
import type { WebConfig } from './lib/types';

/** Sign-in; shows the demo logins when the gateway seeded the demo organisation. */
export function Login({ onSignedIn, notice }: { onSignedIn: () => void; notice?: string | null }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [config, setConfig] = useState<WebConfig | null>(null);

  useEffect(() => {
    fetch('/api/v1/web/config')
      .then((r) => (r.ok ? r.json() : null))
      .then(setConfig)
      .catch(() => setConfig(null));
  }, []);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await login(email.trim(), password);
      onSignedIn();
    } catch (err) {
      setError(err instanceof ApiError ? (err.status === 401 ? 'Wrong email or password.' : err.message) : 'The server cannot be reached. Try again.');
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="login">
      <form className="card login-card" onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">
          <span className="logo" aria-hidden="true">☎</span> Switchboard
        </h1>
        <p className="muted">The shared WhatsApp inbox for your team.</p>
        {notice && <p className="banner info" role="status">{notice}</p>}
        <label>
          Email
          <input type="email" autoComplete="username" value={email} onChange={(e) => setEmail(e.target.value)} required autoFocus />
        </label>
        <label>
          Password
          <input type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
        </label>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <button className="primary" type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        {config?.demo && (
          <section className="demo" aria-label="Demo logins">
            <h2>Demo organisation</h2>
            <p className="muted">
              Password for every demo user: <code>{config.demo.password}</code>
            </p>
            <ul>
              {config.demo.users.map((u) => (
                <li key={u.email}>
                  <button
                    type="button"
                    className="link"
                    onClick={() => {
                      setEmail(u.email);
                      setPassword(config.demo!.password);
                    }}
                  >
                    {u.email}
                  </button>{' '}
                  <span className="muted">
                    {u.name} · {u.role}
                  </span>
                </li>
              ))}
            </ul>
            {config.sandboxUrl && (
              <p className="muted">
                Then write as a WhatsApp customer on the{' '}
                <a href={onThisHost(config.sandboxUrl)} target="_blank" rel="noreferrer">
                  sandbox's customer page
                </a>
                : the message waits in <strong>Unassigned</strong> (Sales team) for someone to claim it.
              </p>
            )}
          </section>
        )}
      </form>
    </main>
  );
}

/** The sandbox runs beside the gateway: a browser on another machine reaches it by the host it used for this page. */
function onThisHost(url: string): string {
  const u = new URL(url);
  if (['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname)) u.hostname = window.location.hostname;
  return u.toString();
}
