# syntax=docker/dockerfile:1
#
# Spine Safety CDS as a container image.
#
#   docker build -t spine-safety-cds .
#   docker run --rm -p 3000:3000 \
#     -v "$PWD/trust.json:/run/config/trust.json:ro" -e CDS_TRUST_FILE=/run/config/trust.json \
#     -e PATIENT_HASH_SECRET=... -e CDS_PUBLIC_BASE_URL=https://cds.example.org \
#     -v spine-safety-data:/app/data spine-safety-cds
#
# The image runs in production mode and listens on 0.0.0.0, which the service only allows with
# caller authentication: without a mounted CDS_TRUST_FILE (and PATIENT_HASH_SECRET) it refuses to
# start and exits with status 78. Analytics go to SQLite in /app/data unless DATABASE_URL names a
# PostgreSQL database. WORKERS=<n> runs n worker processes (one per core).

ARG NODE_IMAGE=node:20-bookworm-slim

# Production dependencies only. better-sqlite3 is a native addon: its install script downloads a
# prebuilt binary or compiles one, hence the toolchain (which stays in this stage).
FROM ${NODE_IMAGE} AS prod-deps
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts skips the package's own `prepare` (a TypeScript build); the native addon is then built on its own.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm rebuild better-sqlite3 \
 && npm cache clean --force

# TypeScript build with the dev dependencies; no native addon is needed to compile.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts ./scripts
RUN npx tsc -p tsconfig.build.json

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/app/data
WORKDIR /app
COPY --chown=root:root package.json ./
COPY --chown=root:root --from=prod-deps /app/node_modules ./node_modules
COPY --chown=root:root --from=build /app/dist/src ./dist/src
# The analytics report for the terminal: docker exec <container> node dist/scripts/report.js
COPY --chown=root:root --from=build /app/dist/scripts/report.js ./dist/scripts/report.js
# Knowledge is data read at start-up: value sets, text rules, hook definitions, card templates.
COPY --chown=root:root knowledge ./knowledge
COPY --chown=root:root hooks ./hooks
COPY --chown=root:root cards ./cards
# The /try page and its sample patients (served only in development mode, without a trust file).
COPY --chown=root:root web ./web
RUN mkdir -p /app/data && chown node:node /app/data
USER node
VOLUME ["/app/data"]
EXPOSE 3000
# Slim images have no curl: Node's own fetch asks /healthz.
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM drains open requests (up to 10 s): give `docker stop` a little more, e.g. --stop-timeout 15.
CMD ["node", "dist/src/server.js"]
