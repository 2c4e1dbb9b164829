# affinity-tester image: `affinity-tester server` by default; any other subcommand as arguments
# (docker run IMAGE client --target HOST:PORT). Runs as a numeric non-root user and writes
# nothing to its root filesystem, so it runs with readOnlyRootFilesystem (manifests/base/).
#   make build IMAGE=registry.example/affinity-tester TAG=0.1.0
ARG NODE_IMAGE=node:20-slim

# Build: all dependencies, then TypeScript to dist/. --ignore-scripts: the "prepare" script
# would build before the sources are copied.
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY common common
COPY server server
COPY client client
COPY kube kube
COPY demo demo
COPY report report
COPY cli cli
COPY bench bench
RUN npx tsc -p tsconfig.build.json

# Production dependencies only, without npm's cache.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && rm -rf /root/.npm

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules node_modules
COPY --from=build /src/dist dist
# package.json: the version (SOFTWARE attribute, --version); manifests/: deploy and scaleup read them.
COPY package.json ./
COPY manifests manifests
# Numeric, so that Kubernetes can check runAsNonRoot without an /etc/passwd lookup.
USER 10001:10001
EXPOSE 3478/udp 8080/tcp
ENTRYPOINT ["node", "/app/dist/cli/affinity-tester.js"]
CMD ["server"]
