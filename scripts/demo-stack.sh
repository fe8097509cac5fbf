#!/usr/bin/env bash
# The demo stack as containers, with the docker CLI only (no Compose needed): a user network and
# three containers of chaosdeck-demo:local (API, database, cache), labelled as Compose would label
# them, so experiments can target them by container name or by Compose service and project.
#
#   scripts/demo-stack.sh up|down|status [OPTIONS]
#
#   --project NAME               Compose project (default chaosdeck-demo)
#   --api-port N                 API published on 127.0.0.1:N (default 8000)
#   --api-service NAME           service names (defaults api, database, cache)
#   --database-service NAME
#   --cache-service NAME
#   --api-container NAME         container names (default PROJECT-SERVICE-1, as Compose v2)
#   --database-container NAME
#   --cache-container NAME
#   --network NAME               user network (default PROJECT_default, as Compose names it)
#   --image IMAGE                (default chaosdeck-demo:local, built offline when missing)
#   --users LIST                 accounts of the login, email:password[,...]
#   --health-ignores-database    /health answers 200 whatever the database does
#   --wait SECONDS               up: how long to wait for /health 200 (default 60)
#
# Every option also reads from the environment: CHAOSDECK_DEMO_PROJECT, CHAOSDECK_DEMO_API_PORT...
# `up` always brings the project down first (Compose 1.29 cannot recreate containers on current
# engines either), `down` removes exactly the containers and network `up` created.
#
# The guide's stack from the same image:
#   scripts/demo-stack.sh up --project voiceassist --api-service voiceassist-server \
#     --api-container voiceassist-server --database-service postgres \
#     --database-container voiceassist-postgres --cache-service redis \
#     --cache-container voiceassist-redis
set -Eeuo pipefail
cd "$(dirname "$0")/.."

command=${1:-}
[ $# -gt 0 ] && shift
project=${CHAOSDECK_DEMO_PROJECT:-chaosdeck-demo}
api_port=${CHAOSDECK_DEMO_API_PORT:-8000}
api_service=${CHAOSDECK_DEMO_API_SERVICE:-api}
database_service=${CHAOSDECK_DEMO_DATABASE_SERVICE:-database}
cache_service=${CHAOSDECK_DEMO_CACHE_SERVICE:-cache}
api_container=${CHAOSDECK_DEMO_API_CONTAINER:-}
database_container=${CHAOSDECK_DEMO_DATABASE_CONTAINER:-}
cache_container=${CHAOSDECK_DEMO_CACHE_CONTAINER:-}
network=${CHAOSDECK_DEMO_NETWORK:-}
image=${CHAOSDECK_DEMO_IMAGE:-chaosdeck-demo:local}
users=${CHAOSDECK_DEMO_USERS:-test@example.com:testpass}
ignores_database=${CHAOSDECK_DEMO_HEALTH_IGNORES_DATABASE:-false}
wait_seconds=${CHAOSDECK_DEMO_WAIT:-60}

usage() {
  sed -n '2,/^set -Eeuo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
  exit 2
}

while [ $# -gt 0 ]; do
  case "$1" in
    --project) project=$2; shift ;;
    --api-port) api_port=$2; shift ;;
    --api-service) api_service=$2; shift ;;
    --database-service) database_service=$2; shift ;;
    --cache-service) cache_service=$2; shift ;;
    --api-container) api_container=$2; shift ;;
    --database-container) database_container=$2; shift ;;
    --cache-container) cache_container=$2; shift ;;
    --network) network=$2; shift ;;
    --image) image=$2; shift ;;
    --users) users=$2; shift ;;
    --health-ignores-database) ignores_database=true ;;
    --wait) wait_seconds=$2; shift ;;
    -h|--help) usage ;;
    *) echo "error: unknown option '$1'" >&2; usage ;;
  esac
  shift
done

case "$api_port" in
  ''|*[!0-9]*) echo "error: --api-port must be a port number, not '$api_port'" >&2; exit 2 ;;
esac
api_container=${api_container:-$project-$api_service-1}
database_container=${database_container:-$project-$database_service-1}
cache_container=${cache_container:-$project-$cache_service-1}
network=${network:-${project}_default}
# Our own mark on everything `up` creates, so `down` never touches anything else.
owner_label="dev.chaosdeck.demo.project=$project"

down() {
  local ids
  ids=$(docker ps -aq --filter "label=$owner_label")
  if [ -n "$ids" ]; then
    # shellcheck disable=SC2086
    docker rm -f $ids >/dev/null
  fi
  if docker network ls -q --filter "label=$owner_label" | grep -q .; then
    docker network ls -q --filter "label=$owner_label" | xargs docker network rm >/dev/null
  fi
}

# docker run with the labels Compose would set for SERVICE, on the project network, reachable
# there by its service name as under Compose.
run_service() {
  local service=$1 container=$2
  shift 2
  docker run -d --name "$container" --network "$network" --network-alias "$service" \
    --label "$owner_label" \
    --label "com.docker.compose.project=$project" \
    --label "com.docker.compose.service=$service" \
    --label "com.docker.compose.container-number=1" \
    --label "com.docker.compose.oneoff=False" \
    "$@" >/dev/null
}

# The HTTP status of GET PATH on the published API port ("000" when nothing answers).
http_status() {
  local reply=000
  if exec 3<>"/dev/tcp/127.0.0.1/$api_port" 2>/dev/null; then
    printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$1" >&3
    read -r -t 2 _ reply _ <&3 || reply=000
    exec 3<&-
  fi
  echo "$reply"
}

up() {
  if ! docker image inspect "$image" >/dev/null 2>&1; then
    [ "$image" = chaosdeck-demo:local ] || { echo "error: image $image not found" >&2; exit 1; }
    scripts/build-images.sh demo
  fi
  down
  # Half a stack helps nobody: whatever fails from here on takes the rest down again.
  trap 'echo "error: the stack did not come up; removing what was started" >&2; down' ERR
  docker network create \
    --label "$owner_label" \
    --label "com.docker.compose.project=$project" \
    --label "com.docker.compose.network=default" \
    "$network" >/dev/null
  run_service "$database_service" "$database_container" \
    --health-cmd 'echo PING | nc -w 1 127.0.0.1 5432 | grep -q PONG' \
    --health-interval 2s --health-timeout 2s --health-retries 3 \
    "$image" chaosdeck demo-service database --listen 0.0.0.0:5432
  run_service "$cache_service" "$cache_container" \
    --health-cmd 'echo PING | nc -w 1 127.0.0.1 6379 | grep -q PONG' \
    --health-interval 2s --health-timeout 2s --health-retries 3 \
    "$image" chaosdeck demo-service cache --listen 0.0.0.0:6379
  run_service "$api_service" "$api_container" \
    --publish "127.0.0.1:$api_port:8000" \
    --env "CHAOSDECK_DEMO_USERS=$users" \
    --env "CHAOSDECK_DEMO_HEALTH_IGNORES_DATABASE=$ignores_database" \
    --health-cmd 'wget -q -O /dev/null http://127.0.0.1:8000/health' \
    --health-interval 2s --health-timeout 2s --health-retries 3 \
    "$image" chaosdeck demo-service api --listen 0.0.0.0:8000 \
    --database "$database_service:5432" --cache "$cache_service:6379"
  local deadline=$((SECONDS + wait_seconds))
  until [ "$(http_status /ready)" = 200 ]; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "error: the API did not become ready on 127.0.0.1:$api_port within ${wait_seconds}s" >&2
      docker logs --tail 20 "$api_container" >&2 || true
      down
      exit 1
    fi
    sleep 0.2
  done
  trap - ERR
  echo "demo stack '$project' is up: API on http://127.0.0.1:$api_port"
  echo "containers: $api_container, $database_container, $cache_container (network $network)"
}

status() {
  docker ps -a --filter "label=$owner_label" \
    --format 'table {{.Names}}\t{{.Label "com.docker.compose.service"}}\t{{.Status}}\t{{.Ports}}'
  local path
  for path in /health /ready; do
    echo "GET http://127.0.0.1:$api_port$path -> $(http_status "$path")"
  done
}

case "$command" in
  up) up ;;
  down) down; echo "demo stack '$project' is down" ;;
  status) status ;;
  *) usage ;;
esac
