#!/usr/bin/env bash
# Debian packages the local stack and the checks need, installed only when missing:
# a JDK and Maven (to resolve and run the Kafka broker), PostgreSQL, and Prometheus (promtool).
set -euo pipefail
missing=()
command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
command -v mvn >/dev/null || missing+=(maven)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
command -v promtool >/dev/null || missing+=(prometheus)
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
echo "system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
sudo_cmd=""
[ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
$sudo_cmd apt-get update -qq
$sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The Debian packages start their own system services; the project runs private instances instead.
for svc in prometheus postgresql; do
  if command -v service >/dev/null && service "$svc" status >/dev/null 2>&1; then $sudo_cmd service "$svc" stop >/dev/null 2>&1 || true; fi
done
echo "system-deps: done"
