# syntax=docker/dockerfile:1
# One image for `fireline api` and `fireline worker`. The build stage compiles TypeScript and bundles the
# workflow code; the runtime stage has only production packages and compiled JavaScript (no TypeScript, no tsx,
# no test packages).

FROM node:20-bookworm-slim AS build
WORKDIR /app
# Compilers only in the build stages: better-sqlite3 falls back to node-gyp when no prebuilt binary matches.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ ca-certificates \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
RUN npm run build

FROM build AS production-deps
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

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
COPY package.json package-lock.json ./
COPY --from=production-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin/fireline.cjs ./bin/fireline.cjs
COPY runbooks ./runbooks
COPY config ./config
RUN rm -f dist/.tsbuildinfo && mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 3000
CMD ["node", "bin/fireline.cjs", "api"]
