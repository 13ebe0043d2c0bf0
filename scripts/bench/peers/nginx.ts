/**
 * nginx as the limit of a proxy hop: `proxy_pass` to the API with a fixed
 * `Authorization: Bearer <token>`, one worker, a keep-alive upstream pool, no
 * access log. Its own nginx.conf and prefix in a directory of the run, on
 * 127.0.0.1, in the foreground (`daemon off`: the pid we started is the
 * master's, which stops its worker on SIGTERM); never the system's service.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";

import { type Server, sbin, startProcess, waitFor } from "../processes.ts";

export interface NginxOptions {
  dir: string;
  port: number;
  /** The API's port on 127.0.0.1, and the Host header it expects. */
  apiPort: number;
  apiHost: string;
  token: string;
}

export function nginxConf(o: NginxOptions): string {
  const temp = (name: string) => `${name}_temp_path ${path.join(o.dir, "temp", name)};`;
  return `# The benchmark's nginx: written by scripts/bench/peers/nginx.ts, started with -p and -c.
daemon off;
worker_processes 1;
pid ${path.join(o.dir, "nginx.pid")};
error_log ${path.join(o.dir, "error.log")} warn;
events { worker_connections 1024; }
http {
  access_log off;
  ${temp("client_body")}
  ${temp("proxy")}
  ${temp("fastcgi")}
  ${temp("uwsgi")}
  ${temp("scgi")}
  upstream api {
    server 127.0.0.1:${o.apiPort};
    keepalive 32;
  }
  server {
    listen 127.0.0.1:${o.port};
    keepalive_requests 1000000;
    location / {
      proxy_pass http://api;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host ${o.apiHost};
      proxy_set_header Authorization "Bearer ${o.token}";
    }
  }
}
`;
}

export async function startNginx(o: NginxOptions): Promise<Server> {
  mkdirSync(path.join(o.dir, "temp"), { recursive: true });
  const conf = path.join(o.dir, "nginx.conf");
  writeFileSync(conf, nginxConf(o));
  // -e: the error log from the start, before nginx.conf is read (not /var/log/nginx).
  const nginx = startProcess("nginx", sbin("nginx"), [
    "-p",
    `${o.dir}/`,
    "-c",
    conf,
    "-e",
    path.join(o.dir, "error.log"),
  ]);
  await waitFor(`http://127.0.0.1:${o.port}/health`, nginx);
  return nginx;
}
