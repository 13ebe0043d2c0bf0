#!/usr/bin/env bash
# Install (Debian package `glewlwyd`), configure from scratch and start a
# Glewlwyd OpenID Connect provider on 127.0.0.1 only. Prints the issuer URL.
#
# Everything lives under $GLEWLWYD_STATE (default /tmp/oidc-peers/glewlwyd):
# config, SQLite database, RSA signing key, log, pid file. Every start wipes
# that directory and builds a fresh database, so runs are reproducible.
#
# Tunables (environment):
#   GLEWLWYD_PORT     (4444)     listening port, bound to 127.0.0.1 only
#   GLEWLWYD_STATE    (/tmp/oidc-peers/glewlwyd)
#   OIDC_CLIENT_ID    (bff-client)
#   OIDC_CLIENT_SECRET(bff-client-secret-0123456789)
#   OIDC_REDIRECT_URI (http://localhost:5173/bff/callback)
#   OIDC_POST_LOGOUT_REDIRECT_URI (http://localhost:5173/)
#   OIDC_BACKCHANNEL_LOGOUT_URI (http://127.0.0.1:4447/backchannel-logout; smoke.sh
#                                listens there to catch the logout_token)
#   OIDC_TEST_USER    (alice)    OIDC_TEST_PASSWORD (alice-password-1)
#   RP_PORT (4446) RP_CLIENT_ID (apache-rp) RP_CLIENT_SECRET: second client, for
#                  the mod_auth_openidc relying party in ../mod-auth-openidc
#   GLEWLWYD_ACCESS_TOKEN_TTL (3600) GLEWLWYD_REFRESH_TOKEN_ONE_USE (always|never)
#   GLEWLWYD_RESOURCE (unset) an API's RFC 8707 resource indicator: switches on
#                  Glewlwyd's resource support (admin API) so access tokens asked
#                  for with resource=<it> carry aud=<it>; without it, aud is the
#                  scope string, which no API should accept as an audience
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib/common.sh
. "$HERE/../lib/common.sh"

PORT=${GLEWLWYD_PORT:-4444}
STATE=${GLEWLWYD_STATE:-/tmp/oidc-peers/glewlwyd}
BASE="http://127.0.0.1:$PORT"
PLUGIN=oidc
ISSUER="$BASE/api/$PLUGIN"
CLIENT_ID=${OIDC_CLIENT_ID:-bff-client}
CLIENT_SECRET=${OIDC_CLIENT_SECRET:-bff-client-secret-0123456789}
REDIRECT_URI=${OIDC_REDIRECT_URI:-http://localhost:5173/bff/callback}
POST_LOGOUT_URI=${OIDC_POST_LOGOUT_REDIRECT_URI:-http://localhost:5173/}
BCL_URI=${OIDC_BACKCHANNEL_LOGOUT_URI:-http://127.0.0.1:4447/backchannel-logout}
TEST_USER=${OIDC_TEST_USER:-alice}
TEST_PASSWORD=${OIDC_TEST_PASSWORD:-alice-password-1}
AT_TTL=${GLEWLWYD_ACCESS_TOKEN_TTL:-3600}
RT_ONE_USE=${GLEWLWYD_REFRESH_TOKEN_ONE_USE:-always}
RESOURCE=${GLEWLWYD_RESOURCE:-}
ADMIN_PASSWORD=password   # the stock glewlwyd schema ships admin/password

# 1. install ------------------------------------------------------------------
# The package's postinst sets up a system database through dbconfig-common:
# with dbconfig-no-thanks it fails ("can't read /etc/glewlwyd/glewlwyd-db.conf"),
# so let it create its (unused) SQLite database. We use our own database.
if ! dpkg-query -W -f='${Status}' glewlwyd 2>/dev/null | grep -q 'install ok installed'; then
  echo "glewlwyd glewlwyd/database-type select sqlite3" | { [ "$(id -u)" -eq 0 ] && debconf-set-selections || sudo debconf-set-selections; }
  peer_apt_install glewlwyd dbconfig-sqlite3
fi
peer_apt_install sqlite3 curl jq openssl ca-certificates

# 2. fresh state --------------------------------------------------------------
if [ -f "$STATE/glewlwyd.pid" ]; then "$HERE/stop.sh" || true; fi
peer_port_free "$PORT"
rm -rf "$STATE"
mkdir -p "$STATE/webapp"

# database: the stock core schema (admin user, openid/g_admin/g_profile scopes,
# database user and client backends)
SQL=/usr/share/doc/glewlwyd/database/init.sqlite3.sql.gz
[ -f "$SQL" ] || SQL=/usr/share/dbconfig-common/data/glewlwyd/install/sqlite3
if [[ $SQL == *.gz ]]; then zcat "$SQL"; else cat "$SQL"; fi | sqlite3 "$STATE/glewlwyd.db"
# Quirk: the OIDC plugin's end_session reads the client property
# `post_logout_redirect_uris` (plural) but the stock client backend only
# declares `post_logout_redirect_uri`; declare the plural one so it is stored.
sqlite3 "$STATE/glewlwyd.db" "UPDATE g_client_module_instance SET gcmi_parameters =
  json_set(gcmi_parameters, '\$.\"data-format\".post_logout_redirect_uris',
           json('{\"multiple\":true,\"read\":true,\"write\":true}'))
  WHERE gcmi_name = 'database'"

# web front-end (login page). The Debian package's webapp/config.json is a
# dangling symlink to a directory, and glewlwyd's static file server refuses
# symlinks (its CSS/JS are symlinks to Debian's shared bootstrap/jquery), so
# make a private dereferenced copy (a few MB).
cp -rL /usr/share/glewlwyd/webapp/. "$STATE/webapp/" 2>/dev/null || true
rm -rf "$STATE/webapp/config.json"
WEBCFG=/etc/glewlwyd/config-2.7.json
[ -d "$WEBCFG" ] && WEBCFG="$WEBCFG/config.json"
cp "$WEBCFG" "$STATE/webapp/config.json"

# RSA key pair for RS256 ID tokens / JWT access tokens
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$STATE/key.pem" 2>/dev/null
openssl pkey -in "$STATE/key.pem" -pubout -out "$STATE/pub.pem"

cat > "$STATE/glewlwyd.conf" <<EOF
port=$PORT
bind_address="127.0.0.1"
external_url="$BASE"
login_url="login.html"
api_prefix="api"
static_files_path="$STATE/webapp/"
allow_origin="*"
log_mode="file"
log_level="INFO"
log_file="$STATE/glewlwyd.log"
cookie_secure=0
cookie_same_site="empty"
session_expiration=2419200
session_key="GLEWLWYD2_SESSION_ID"
admin_session_authentication="cookie"
profile_session_authentication="cookie"
allow_multiple_user_per_session=true
login_api_enabled=true
plugin_api_run_enabled=""
add_x_frame_option_header_deny=true
admin_scope="g_admin"
profile_scope="g_profile"
user_module_path="/usr/lib/glewlwyd/user"
client_module_path="/usr/lib/glewlwyd/client"
user_auth_scheme_module_path="/usr/lib/glewlwyd/scheme"
plugin_module_path="/usr/lib/glewlwyd/plugin"
hash_algorithm="SHA512"
database = {
  type = "sqlite3"
  path = "$STATE/glewlwyd.db"
}
static_files_mime_types = (
  { extension = ".html"  mime_type = "text/html" },
  { extension = ".css"   mime_type = "text/css" },
  { extension = ".js"    mime_type = "application/javascript" },
  { extension = ".json"  mime_type = "application/json" },
  { extension = ".png"   mime_type = "image/png" },
  { extension = ".ico"   mime_type = "image/x-icon" },
  { extension = ".woff"  mime_type = "font/woff" },
  { extension = ".woff2" mime_type = "font/woff2" },
  { extension = ".ttf"   mime_type = "font/ttf" }
)
EOF

# 3. start --------------------------------------------------------------------
# glewlwyd stays in the foreground; we background it and keep its pid.
setsid /usr/bin/glewlwyd --config-file="$STATE/glewlwyd.conf" </dev/null \
  >"$STATE/stdout.log" 2>&1 &
echo $! > "$STATE/glewlwyd.pid"
trap 'echo "start failed, stopping" >&2; "$HERE/stop.sh"' ERR
peer_wait_http "$BASE/api/" 30 "$(cat "$STATE/glewlwyd.pid")" || {
  cat "$STATE/stdout.log" "$STATE/glewlwyd.log" >&2 2>/dev/null; exit 1; }

# 4. configure through the admin API -------------------------------------------
ADMIN_JAR="$STATE/admin.cookies"
api() { # METHOD PATH [JSON]
  local out code
  out=$(curl -sS -b "$ADMIN_JAR" -c "$ADMIN_JAR" -X "$1" "$BASE/api$2" \
        -H 'Content-Type: application/json' ${3:+--data "$3"} -w '\n%{http_code}')
  code=${out##*$'\n'}
  if [ "${code:0:1}" != 2 ]; then
    echo "admin API $1 $2 -> HTTP $code: ${out%$'\n'*}" >&2
    return 1
  fi
}
api POST /auth/ '{"username":"admin","password":"'"$ADMIN_PASSWORD"'"}'

# scopes: openid already exists; profile/email/offline_access need the password
api PUT /scope/openid '{"display_name":"OpenID","description":"OpenID Connect","password_required":true,"password_max_age":0,"scheme":{}}'
for s in profile email offline_access; do
  api POST /scope/ '{"name":"'$s'","display_name":"'$s'","description":"'$s'","password_required":true,"password_max_age":0,"scheme":{}}'
done

# OIDC plugin instance -> endpoints under $ISSUER
PLUGIN_JSON=$(jq -n \
  --arg iss "$ISSUER" --arg key "$(cat "$STATE/key.pem")" --arg cert "$(cat "$STATE/pub.pem")" \
  --argjson at "$AT_TTL" --arg oneuse "$RT_ONE_USE" '{
  module: "oidc", name: "oidc", display_name: "OpenID Connect", enabled: true,
  parameters: {
    iss: $iss,
    "jwt-type": "rsa", "jwt-key-size": "256", key: $key, cert: $cert,
    "access-token-duration": $at, "refresh-token-duration": 1209600, "code-duration": 600,
    "refresh-token-rolling": true, "refresh-token-one-use": $oneuse,
    "allow-non-oidc": false,
    "auth-type-code-enabled": true, "auth-type-token-enabled": false,
    "auth-type-id-token-enabled": true, "auth-type-none-enabled": false,
    "auth-type-password-enabled": false, "auth-type-client-enabled": true,
    "auth-type-refresh-enabled": true, "auth-type-device-enabled": true,
    "auth-type-code-revoke-replayed": true,
    "device-authorization-expiration": 600, "device-authorization-interval": 5,
    "subject-type": "public",
    "scope": [], "allowed-scope": ["openid","profile","email","offline_access"],
    "name-claim": "on-demand", "name-claim-scope": ["profile"],
    "email-claim": "on-demand", "email-claim-scope": ["email"],
    "scope-claim": "no", "claims": [],
    "pkce-allowed": true, "pkce-method-plain-allowed": false,
    "pkce-required": true, "pkce-required-public-client": true,
    "introspection-revocation-allowed": true, "introspection-revocation-auth-scope": [],
    "introspection-revocation-allow-target-client": true,
    "session-management-allowed": true, "session-cookie-name": "GLEWLWYD_OIDC_SID",
    "session-cookie-expiration": 2419200,
    "front-channel-logout-allowed": true, "back-channel-logout-allowed": true,
    "oauth-as-iss-id": true,
    "oauth-par-allowed": true, "oauth-par-required": false,
    "oauth-par-request_uri-prefix": "urn:ietf:params:oauth:request_uri:", "oauth-par-duration": 90,
    "oauth-dpop-allowed": true, "oauth-dpop-iat-duration": 10,
    "request-parameter-allow": true, "request-maximum-exp": 3600,
    "register-client-allowed": false,
    "jwks-show": true
  }}')
api POST /mod/plugin/ "$PLUGIN_JSON"

# RFC 8707 resource indicators, switched on the way an operator does it on a
# running Glewlwyd: update the plugin instance, then reset it. Each scope may
# name the resource; a token asked for with resource=<it> then has aud=<it>.
if [ -n "$RESOURCE" ]; then
  RESOURCE_JSON=$(jq --arg r "$RESOURCE" '.parameters += {
    "resource-allowed": true,
    "resource-scope": {openid: [$r], profile: [$r], email: [$r], offline_access: [$r]},
    "resource-scope-and-client-property": false,
    "resource-client-property": ""
  }' <<<"$PLUGIN_JSON")
  api PUT /mod/plugin/oidc "$RESOURCE_JSON"
  api PUT /mod/plugin/oidc/reset/
fi

# test user
api POST /user/ "$(jq -n --arg u "$TEST_USER" --arg p "$TEST_PASSWORD" '{
  username: $u, password: $p, name: "Alice Example", email: ($u + "@example.test"),
  enabled: true, scope: ["openid","profile","email","offline_access"]}')"

# confidential client: client_secret_basic / client_secret_post, code + refresh
add_client() { # ID SECRET REDIRECT_URI POST_LOGOUT_URI BACKCHANNEL_LOGOUT_URI NAME
  api POST /client/ "$(jq -n --arg id "$1" --arg s "$2" --arg r "$3" --arg pl "$4" --arg bcl "$5" \
    --arg n "$6" '{
    client_id: $id, name: $n, description: $n,
    confidential: true, client_secret: $s, enabled: true,
    redirect_uri: [$r],
    authorization_type: ["code","refresh_token","id_token","device_authorization","client_credentials","delete_token"],
    token_endpoint_auth_method: ["client_secret_basic","client_secret_post"],
    post_logout_redirect_uris: [$pl],
    backchannel_logout_uri: $bcl, backchannel_logout_session_required: "true",
    scope: []}')"
}
add_client "$CLIENT_ID" "$CLIENT_SECRET" "$REDIRECT_URI" "$POST_LOGOUT_URI" "$BCL_URI" "BFF test client"
# second client for the Apache mod_auth_openidc relying party (peers/mod-auth-openidc)
RP_BASE=http://127.0.0.1:${RP_PORT:-4446}
add_client "${RP_CLIENT_ID:-apache-rp}" "${RP_CLIENT_SECRET:-apache-rp-secret-0123456789}" \
  "$RP_BASE/protected/redirect_uri" "$RP_BASE/loggedout.html" \
  "$RP_BASE/protected/redirect_uri?logout=backchannel" "Apache mod_auth_openidc"

rm -f "$ADMIN_JAR"
# sanity: discovery answers with our issuer
got=$(curl -sf "$ISSUER/.well-known/openid-configuration" | jq -r .issuer)
if [ "$got" != "$ISSUER" ]; then
  echo "discovery returned issuer '$got', expected '$ISSUER'" >&2
  exit 1
fi
cat > "$STATE/env" <<EOF
ISSUER=$ISSUER
CLIENT_ID=$CLIENT_ID
CLIENT_SECRET=$CLIENT_SECRET
REDIRECT_URI=$REDIRECT_URI
POST_LOGOUT_REDIRECT_URI=$POST_LOGOUT_URI
BACKCHANNEL_LOGOUT_URI=$BCL_URI
BASE_URL=$BASE
TEST_USER=$TEST_USER
TEST_PASSWORD=$TEST_PASSWORD
EOF
echo "glewlwyd pid $(cat "$STATE/glewlwyd.pid"), log $STATE/glewlwyd.log" >&2
echo "$ISSUER"
