import { isUnauthenticated } from "@oidc-bff/client";
import { useLogout, useSession } from "@oidc-bff/client/react-query";
import { useEffect, useRef } from "react";
import { NavLink, Outlet, useLocation } from "react-router";
import { ErrorAlert } from "../components/error-alert.tsx";
import { InspectorNavLink } from "../features/inspector/inspector-nav-link.tsx";
import { useLogin } from "../hooks/use-login.ts";
import { describeError } from "../lib/errors.ts";
import { displayName } from "../lib/session.ts";

export function Layout() {
  const mainRef = useRef<HTMLElement>(null);
  const { pathname } = useLocation();
  const firstRender = useRef(true);

  // A client-side navigation changes the page without a load, so screen
  // readers hear nothing; moving focus to the new content announces it. Not
  // on the first render, where the browser's own page load already did.
  // biome-ignore lint/correctness/useExhaustiveDependencies: the effect must run on every path change.
  useEffect(() => {
    if (firstRender.current) {
      firstRender.current = false;
      return;
    }
    mainRef.current?.focus();
  }, [pathname]);

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="site-header">
        <div className="header-inner">
          <p className="site-title">OIDC BFF</p>
          <nav aria-label="Main">
            <ul className="nav-list">
              <li>
                <NavLink to="/" end>
                  Home
                </NavLink>
              </li>
              <li>
                <NavLink to="/contacts">Contacts</NavLink>
              </li>
              <li>
                <NavLink to="/session">Session</NavLink>
              </li>
              <InspectorNavLink />
            </ul>
          </nav>
          <SessionControls />
        </div>
      </header>
      <main id="main" ref={mainRef} tabIndex={-1}>
        <Outlet />
      </main>
    </>
  );
}

/** "Log in" or "Log out", and nothing at all until the session is known. */
function SessionControls() {
  const session = useSession();
  const login = useLogin();
  const logout = useLogout();

  // While loading (or if the BFF cannot be reached) a button would be a guess.
  if (!session.data) return <div className="session-controls" />;

  if (!session.data.authenticated) {
    return (
      <div className="session-controls">
        <button type="button" className="button" onClick={login}>
          Log in
        </button>
      </div>
    );
  }

  return (
    <div className="session-controls">
      <span className="who">{displayName(session.data.user)}</span>
      <button
        type="button"
        className="button button-secondary"
        onClick={() => logout.mutate()}
        disabled={logout.isPending || logout.isSuccess}
      >
        Log out
      </button>
      {logout.isError && !isUnauthenticated(logout.error) ? (
        <div className="header-error">
          <ErrorAlert view={describeError(logout.error)} onRetry={() => logout.mutate()} />
        </div>
      ) : null}
    </div>
  );
}
