# shellcheck shell=sh
# Helpers sourced by the CGI scripts of the frontend and backend images (busybox sh).
# busybox httpd passes the container's environment to CGI children unchanged, so the
# Deployment's env (BACKEND_URL, DB_*) is visible here without any file under /tmp.

# pod_name: the pod's hostname (Kubernetes sets it to the pod name), shown in every
# dynamic response so a client can tell which replica answered.
pod_name() {
  hostname
}

# json_string VALUE: VALUE as a JSON string literal, quotes included.  Control
# characters are dropped, tabs become spaces, newlines become \n.
json_string() {
  printf '%s' "$1" \
    | tr '\t' ' ' \
    | tr -d '\000-\010\013-\037' \
    | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' \
    | awk 'BEGIN { printf "\"" } { printf "%s%s", (NR > 1 ? "\\n" : ""), $0 } END { printf "\"" }'
}

# respond STATUS CONTENT-TYPE BODY: a complete CGI response.  busybox httpd only honours
# "Status:" as the very first header line, so it always comes first.
respond() {
  printf 'Status: %s\r\nContent-Type: %s\r\nCache-Control: no-store\r\nX-Served-By: %s\r\n\r\n%s\n' \
    "$1" "$2" "$(pod_name)" "$3"
}

# request_path: the URL path of this request without its query string.
request_path() {
  printf '%s' "${REQUEST_URI%%\?*}"
}
