#!/usr/bin/env bash
# Builds the real Dockerfile with buildah and checks the image as Kubernetes runs it
# (manifests/base/deployment.yaml, manifests/client/job.yaml):
#   make image-test      or      test/image/image-test.sh
# - every top-level folder with TypeScript the build compiles is COPYed by the Dockerfile;
# - the image's default command starts the server, as the numeric user 10001;
# - our client on the host gets replies naming the POD_NAME given in the container's environment,
#   and /healthz and /metrics answer;
# - the client, run from the image as the client Job runs it, gets the same replies, and the
#   Kubernetes subcommands load (discover against an unreachable API fails cleanly);
# - the containers wrote nothing to the root filesystem (readOnlyRootFilesystem: true);
# - the image holds no dev dependencies, TypeScript sources or tests; its size is printed.
# The base image is NODE_IMAGE when set (e.g. docker.io/library/node:20-slim), else a stand-in
# assembled from this machine's Node 20 (test/image/stand-in-base.sh), for where no registry is
# reachable. Needs root and buildah (and busybox-static for the stand-in); skips with one line
# without them. Prints "image-test: passed ..." or "image-test: FAILED: <what is wrong>" last.
# Everything it creates (containers, images, mounts, temporary files) is removed on exit.
set -uo pipefail
cd "$(dirname "$0")/../.."

say() { echo "image-test: $*"; }
skip() { say "skipped: $*"; exit 0; }
fail() { say "FAILED: $*"; exit 1; }

# The Dockerfile must COPY every top-level folder whose TypeScript the build compiles; a folder it
# misses fails the build far from the cause. test/ never enters the image; bench/ is optional.
missing=()
for dir in */; do
  dir=${dir%/}
  case "$dir" in test | bench | node_modules | dist | coverage) continue ;; esac
  [ -n "$(find "$dir" -name '*.ts' -print -quit)" ] || continue
  grep -qE "^COPY +$dir/? +$dir/?( |$)" Dockerfile || missing+=("$dir/")
done
[ ${#missing[@]} -eq 0 ] ||
  fail "the Dockerfile does not COPY ${missing[*]}, which holds TypeScript the build needs (add e.g. \"COPY ${missing[0]%/} ${missing[0]%/}\" beside the other COPY lines)"

[ "$(id -u)" = 0 ] || skip "not root (buildah needs root here)"
command -v buildah >/dev/null 2>&1 || skip "buildah is not installed (apt-get install buildah)"
if [ -z "${NODE_IMAGE:-}" ] && ! command -v busybox >/dev/null 2>&1; then
  skip "no NODE_IMAGE and no busybox for the stand-in base (apt-get install busybox-static)"
fi

id=affinity-tester-image-test-$$
image=localhost/$id:latest
base=${NODE_IMAGE:-}
own_base=
container=
mounted=
server_pid=
node_pid=
work=$(mktemp -d)
chmod 755 "$work"

cleanup() {
  local status=$?
  if [ -n "$server_pid" ]; then
    kill "$server_pid" $node_pid 2>/dev/null
    wait "$server_pid" 2>/dev/null
  fi
  [ -z "$mounted" ] || buildah umount "$container" >/dev/null 2>&1
  [ -z "$container" ] || buildah rm "$container" >/dev/null 2>&1
  buildah rmi "$image" >/dev/null 2>&1
  [ -z "$own_base" ] || buildah rmi "$own_base" >/dev/null 2>&1
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT TERM

# Reads one field of a JSON document on stdin: json '.User' prints it, JSON-encoded if not a string.
json() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{let v=JSON.parse(s);for(const k of process.argv[1].split(".").filter(Boolean))v=v?.[k];process.stdout.write(typeof v==="string"?v:JSON.stringify(v??null))})' "$1"; }

if [ -z "$base" ]; then
  own_base=localhost/$id-base:latest
  base=$own_base
  test/image/stand-in-base.sh "$own_base" || fail "could not assemble the stand-in base image"
  say "stand-in base $base from $(node --version) on this machine, $(buildah images --format '{{.Size}}' "$base")"
fi

say "building the Dockerfile on $base"
started=$SECONDS
if ! buildah build --isolation chroot --pull=false --build-arg "NODE_IMAGE=$base" -t "$image" -f Dockerfile . >"$work/build.log" 2>&1; then
  tail -n 30 "$work/build.log"
  fail "buildah build of the Dockerfile failed (its last lines above)"
fi
build_seconds=$((SECONDS - started))
size=$(buildah images --format '{{.Size}}' "$image")
say "built $image in ${build_seconds}s, size $size"

# The image as Kubernetes reads it: the user, the entrypoint and the default arguments.
config=$(buildah inspect --type image "$image" | json .OCIv1.config)
user=$(json .User <<<"$config")
case "$user" in 10001 | 10001:10001) ;; *) fail "the image's USER is '$user', not the numeric 10001 the manifests' runAsNonRoot and runAsUser rely on" ;; esac
mapfile -t command < <(json . <<<"$config" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const c=JSON.parse(s);for(const a of [...(c.Entrypoint??[]),...(c.Cmd??[])])console.log(a)})')
[ "${command[-1]:-}" = server ] || fail "the image's default command is '${command[*]}', which does not start the server"
entrypoint=("${command[@]:0:${#command[@]}-1}")

container=$(buildah from --pull=false --name "$id" "$image") || fail "buildah from $image failed"
root=$(buildah mount "$container") || fail "buildah mount failed"
mounted=1

# What the image holds: no dev dependencies, no TypeScript sources, no tests. A dev dependency is
# what the lockfile marks "dev": needed by devDependencies only (@types/node, for one, is not:
# @kubernetes/client-node depends on it).
mapfile -t dev_deps < <(json .packages <package-lock.json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{for(const [p,v] of Object.entries(JSON.parse(s)))if(v.dev&&p)console.log(p)})')
[ ${#dev_deps[@]} -gt 0 ] || fail "package-lock.json lists no dev dependencies to check"
found=()
for dep in "${dev_deps[@]}"; do [ ! -e "$root/app/$dep" ] || found+=("${dep#node_modules/}"); done
[ ${#found[@]} -eq 0 ] || fail "the image holds ${#found[@]} dev dependencies in /app/node_modules: ${found[*]:0:5}"
sources=$(cd "$root" && find . -path ./app/node_modules -prune -o -path ./proc -prune -o -path ./sys -prune -o \
  -type f \( -name '*.ts' -o -name '*.mts' -o -name '*.cts' \) ! -name '*.d.ts' ! -name '*.d.mts' ! -name '*.d.cts' -print | head -n 5 | paste -sd ' ')
[ -z "$sources" ] || fail "the image holds TypeScript sources: $sources"
for path in app/test app/dist/test src; do
  [ ! -e "$root/$path" ] || fail "the image holds /$path (tests or the build stage's sources)"
done
say "no dev dependencies (${#dev_deps[@]} checked), no TypeScript sources, no tests"

# Runs a command in the container as the pods do: numeric user 10001, emptyDirs on /tmp and (the
# client Job's) /reports. Every run mounts both, so their mount points exist from the first run on.
mkdir -m 1777 "$work/tmp" "$work/reports"
run() { buildah run --isolation chroot --user 10001:10001 --volume "$work/tmp:/tmp" --volume "$work/reports:/reports" "$@"; }

version=$(run "$container" -- "${entrypoint[@]}" --version 2>&1) ||
  fail "'${entrypoint[*]} --version' failed in the container: $version"
[ "$version" = "$(json .version <package.json)" ] || fail "the image says version '$version', package.json $(json .version <package.json)"
run "$container" -- /bin/sleep 0 || fail "the Deployment's preStop hook /bin/sleep does not run in the image"

# The root filesystem as the server and client find it; buildah run has already created its mount
# points (/tmp, /reports, /proc, ...), so any difference later is the programs' own writing. Only
# the time of /run is left out: buildah run adds and removes its own files there on every run.
listing() { (cd "$root" && find . -xdev -printf '%p %y %m %U %s %T@\n' | awk '$1 == "./run" { $6 = "-" } 1' | sort); }
listing >"$work/root.before"

pod=image-test-pod-$$
run --env POD_NAME="$pod" --env NODE_NAME=image-test-node --env PORT=0 --env HTTP_PORT=0 \
  --env BIND_HOST=127.0.0.1 "$container" -- "${command[@]}" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  grep -q '"server started"' "$work/server.log" && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.2
done
started_line=$(grep '"server started"' "$work/server.log") || {
  cat "$work/server.log"
  fail "the image's default command '${command[*]}' did not start the server (its output above)"
}
udp_port=$(json .udp.port <<<"$started_line")
http_port=$(json .http.port <<<"$started_line")

# The server's own process (a child of buildah run): found by the POD_NAME only it was given.
for environ in /proc/[0-9]*/environ; do
  if { tr '\0' '\n' <"$environ"; } 2>/dev/null | grep -qx "POD_NAME=$pod"; then
    proc=${environ%/environ}
    [ "$(readlink "$proc/exe" 2>/dev/null)" = /usr/bin/buildah ] || node_pid=${proc#/proc/}
  fi
done
[ -n "$node_pid" ] || fail "could not find the server's process"
uids=$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$node_pid/status")
[ "$uids" = "10001 10001 10001 10001" ] || fail "the server runs with uids $uids, not 10001"
say "'${command[*]}' started the server as uid 10001 (UDP 127.0.0.1:$udp_port, HTTP $http_port)"

# Checks a client report names the container's POD_NAME as the only pod that answered.
report_names_pod() {
  local pods
  pods=$(json .pods <"$1" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).map(p=>`${p.pod}:${p.replies}`).join(" ")))')
  [[ "$pods" =~ ^$pod:[1-9][0-9]*$ ]] || fail "$2 got replies from '$pods', expected only $pod"
}

client_args=(--target "127.0.0.1:$udp_port" --sessions 3 --ramp 0s --interval 500ms --no-watch)
[ -f dist/cli/affinity-tester.js ] || npm run build --silent || fail "npm run build failed (the host client)"
NO_COLOR=1 node dist/cli/affinity-tester.js client "${client_args[@]}" --duration 3s --report "$work/host-report.json" \
  >"$work/host-client.log" 2>&1 || { cat "$work/host-client.log"; fail "the client on the host failed against the container's server"; }
report_names_pod "$work/host-report.json" "the client on the host"
say "the client on the host got replies from $pod"

healthz=$(node -e 'fetch(process.argv[1]).then(async r=>console.log(r.status, (await r.text()).trim()),e=>console.log(e.message))' "http://127.0.0.1:$http_port/healthz")
[ "$healthz" = "200 ok" ] || fail "/healthz answered '$healthz', not '200 ok'"
replies=$(node -e 'fetch(process.argv[1]).then(r=>r.text()).then(t=>console.log(/^affinity_tester_server_replies_total (\d+)/m.exec(t)?.[1]??"none"),e=>console.log(e.message))' "http://127.0.0.1:$http_port/metrics")
[[ "$replies" =~ ^[1-9][0-9]*$ ]] || fail "/metrics has no affinity_tester_server_replies_total above 0 ('$replies')"
say "/healthz answered 200 ok, /metrics counts $replies replies"

# The client Job's way (manifests/client/job.yaml): /bin/sh -c, the report on an emptyDir.
run --env NO_COLOR=1 "$container" -- /bin/sh -c \
  "node /app/dist/cli/affinity-tester.js client ${client_args[*]} --duration 2s --report /reports/report.json" \
  >"$work/image-client.log" 2>&1 || { cat "$work/image-client.log"; fail "the client run from the image failed"; }
report_names_pod "$work/reports/report.json" "the client in the image"
say "the client in the image got replies from $pod"

for sub in client deploy discover scaleup scaledown clean; do
  help=$(run "$container" -- "${entrypoint[@]}" "$sub" --help 2>&1) && [[ "$help" == "Usage: affinity-tester $sub"* ]] ||
    fail "'$sub --help' does not run in the image: $(head -n 3 <<<"$help")"
done
# --help loads none of the Kubernetes modules; discover against an API that refuses connections does.
cat >"$work/tmp/kubeconfig" <<'EOF'
apiVersion: v1
kind: Config
clusters: [{ name: none, cluster: { server: "https://127.0.0.1:9" } }]
users: [{ name: none, user: { token: none } }]
contexts: [{ name: none, context: { cluster: none, user: none, namespace: none } }]
current-context: none
EOF
discover=$(run --env KUBECONFIG=/tmp/kubeconfig "$container" -- "${entrypoint[@]}" discover --timeout 2s 2>&1)
[[ "$discover" == *"cannot reach the Kubernetes API"* ]] ||
  fail "discover in the image did not reach the point of calling the API: $(tail -n 3 <<<"$discover")"
say "client, deploy, discover, scaleup, scaledown, clean run from the image (discover loads the Kubernetes client)"

# SIGTERM, as the kubelet stops a pod; the server exits 0.
kill -TERM "$node_pid"
wait "$server_pid"
status=$?
server_pid=
[ "$status" -eq 0 ] || { tail -n 5 "$work/server.log"; fail "the server exited with $status on SIGTERM"; }

listing >"$work/root.after"
if ! written=$(diff "$work/root.before" "$work/root.after"); then
  echo "$written" | head -n 20
  fail "the containers wrote to their root filesystem, which readOnlyRootFilesystem: true refuses: $(grep -E '^[<>]' <<<"$written" | awk '{ print substr($2, 2) }' | sort -u | head -n 5 | paste -sd ' ')"
fi
say "nothing written to the root filesystem"

say "passed (build ${build_seconds}s, image $size, base $base)"
