#!/usr/bin/env bash
# Validates docker-compose.yml against the Compose schema (docker-compose v1 from Debian; no engine needed).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v docker-compose >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null
fi
docker-compose -f docker-compose.yml config -q
services=$(docker-compose -f docker-compose.yml config --services | sort | tr '\n' ' ')
for s in postgres nats migrate gateway ingest routing sla notifications; do
  case " $services " in *" $s "*) ;; *) echo "docker-compose.yml lacks service $s"; exit 1;; esac
done
echo "docker-compose.yml valid: $services"
