# syntax=docker/dockerfile:1
# The scale-bot service image: `scale-bot serve` (README, "Deployment").
# Stage 1 builds the package exactly as `npm pack` publishes it (package.json "files": no tests, no
# fake GitLab, no demo); stage 2 installs its production dependencies from the lockfile; the final
# image holds only those, and runs as a non-root user. test/pack/smoke.mjs checks the same package
# and install in CI (the image itself cannot be built there).
ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# Only the compiler is needed here: no install scripts (better-sqlite3 is built in the next stage).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bin ./bin
COPY templates ./templates
COPY .gitlab/scale-bot.yml ./.gitlab/scale-bot.yml
COPY README.md LICENSE ./
RUN npm run build && npm pack --ignore-scripts --pack-destination /pkg && mkdir /app && tar -xzf /pkg/scale-bot-*.tgz -C /app --strip-components=1

FROM ${NODE_IMAGE} AS deps
# better-sqlite3 compiles from source when no prebuilt binary matches the platform.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app ./
COPY package-lock.json ./
# --ignore-scripts skips the package's own `prepare` (a build, already done); better-sqlite3's
# native module is then built by `npm rebuild`.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm rebuild better-sqlite3 && rm package-lock.json

FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    SCALE_BOT_DATA=/data
WORKDIR /app
COPY --from=deps /app ./
# The webhook inbox (SQLite): one running instance per data directory. The image's `node` user
# (uid 1000) owns it; a bind-mounted directory must be writable by that uid.
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
USER node
EXPOSE 8080
# /healthz: the process answers (/readyz also checks the inbox and GitLab: use it for traffic).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM: stop taking deliveries, finish passes in flight, exit 0 — within 30 s (README,
# "Deployment"); give the container that long (`docker stop -t 30`, Compose `stop_grace_period: 30s`;
# Kubernetes' default terminationGracePeriodSeconds is 30). Node runs as PID 1 and handles SIGTERM
# itself; the service starts no child processes.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "/app/bin/scale-bot.js"]
CMD ["serve"]
