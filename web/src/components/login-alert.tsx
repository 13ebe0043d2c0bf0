import { useLogin } from "../hooks/use-login.ts";

interface LoginAlertProps {
  message: string;
  action: "Log in" | "Log in again";
}

/** The page needs a session it does not have; logging in comes back to this same page. */
export function LoginAlert({ message, action }: LoginAlertProps) {
  const login = useLogin();
  return (
    <div role="alert" className="alert alert-info">
      <p>{message}</p>
      <button type="button" className="button" onClick={login}>
        {action}
      </button>
    </div>
  );
}
