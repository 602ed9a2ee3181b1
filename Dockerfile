# syntax=docker/dockerfile:1
# One image for `fireline api` and `fireline worker`; TypeScript runs through tsx, so there is no build step.

FROM node:20-bookworm-slim AS deps
WORKDIR /app
# Compilers only in this stage: better-sqlite3 falls back to node-gyp when no prebuilt binary matches.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ ca-certificates \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund && npm cache clean --force

FROM node:20-bookworm-slim
WORKDIR /app
# pg_dump / pg_restore for postgres backup steps (the client must not be older than the server it dumps).
RUN apt-get update \
  && apt-get install -y --no-install-recommends postgresql-client ca-certificates \
  && rm -rf /var/lib/apt/lists/*
# The HTTP server listens on 127.0.0.1 by default; in a container it must accept other containers.
ENV NODE_ENV=production \
    FIRELINE_HOST=0.0.0.0 \
    FIRELINE_PORT=3000 \
    FIRELINE_DATA_DIR=/data
COPY --from=deps /app/node_modules ./node_modules
COPY . .
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 3000
CMD ["node", "bin/fireline.cjs", "api"]
