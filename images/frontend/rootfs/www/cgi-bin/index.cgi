#!/bin/sh
# The frontend's dynamic routes.  busybox httpd runs cgi-bin/index.cgi for every directory
# URL that has no index.html, and answers /api/status with a redirect to /api/status/
# (a directory in /www), so both routes land here:
#   /             the sample page, naming the pod that served it
#   /api/status/  the backend's /api/status, fetched with wget (502 when it fails)
set -u
# shellcheck source=images/httpd/rootfs/usr/lib/threetier/cgi.sh
. /usr/lib/threetier/cgi.sh

page() {
  # substitute literally (no sed: the values could contain its metacharacters) and HTML-escape
  pod="$(pod_name)" backend="${BACKEND_URL:-unset}" awk '
    function html(s) { gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); gsub(/>/, "\\&gt;", s); gsub(/"/, "\\&quot;", s); return s }
    function put(s, from, to,   out, i) {
      out = ""
      while ((i = index(s, from)) > 0) { out = out substr(s, 1, i - 1) to; s = substr(s, i + length(from)) }
      return out s
    }
    { $0 = put($0, "@POD@", html(ENVIRON["pod"])); print put($0, "@BACKEND_URL@", html(ENVIRON["backend"])) }
  ' /usr/share/threetier/index.html
}

backend_url() {
  if [ -n "${BACKEND_URL:-}" ]; then
    printf '%s' "${BACKEND_URL%/}"
  elif [ -n "${BACKEND_HOST:-}" ]; then
    printf 'http://%s:8080' "$BACKEND_HOST"
  fi
}

api_status() {
  url="$(backend_url)"
  if [ -z "$url" ]; then
    respond "502 Bad Gateway" application/json \
      "{\"tier\":\"frontend\",\"pod\":$(json_string "$(pod_name)"),\"backend\":\"unconfigured\",\"error\":\"neither BACKEND_URL nor BACKEND_HOST is set\"}"
    return
  fi
  # timeout(1) bounds the whole call, DNS included.  (Not wget -T: Debian's busybox-static
  # 1.35 wget segfaults whenever -T is given.)  wget follows the backend's redirect from
  # /api/status to /api/status/.
  rc=0
  out="$(timeout 8 wget -q -O - "$url/api/status" 2>&1)" || rc=$?
  if [ "$rc" = 0 ]; then
    respond "200 OK" application/json "$out"
  else
    [ "$rc" != 143 ] || out="no answer within 8 s"
    [ -n "$out" ] || out="wget failed with exit status $rc"
    respond "502 Bad Gateway" application/json \
      "{\"tier\":\"frontend\",\"pod\":$(json_string "$(pod_name)"),\"backend\":\"unreachable\",\"backendUrl\":$(json_string "$url"),\"error\":$(json_string "$out")}"
  fi
}

case "$(request_path)" in
  /) respond "200 OK" "text/html; charset=utf-8" "$(page)" ;;
  /api/status/) api_status ;;
  *) respond "404 Not Found" text/plain "not found" ;;
esac
