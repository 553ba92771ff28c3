# syntax=docker/dockerfile:1
# Tessera's container image. Build: docker build -t tessera .   Run: see compose.yaml and the README's
# "Container image" section. test/packaging.test.ts runs the runtime stage's steps below (npm ci, ENV,
# USER, ENTRYPOINT/CMD, HEALTHCHECK) on the host, as an unprivileged user, on every `npm test`.

# ---- build: compile the workspace, pack the publishable packages, lock the deployment project ----
FROM node:20-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# npm ci runs the root `prepare` (the tsc -b build) once the dependencies are in.
RUN npm ci --no-audit --no-fund \
 && mkdir -p /pack \
 && npm pack --workspace @tessera/protocol --workspace @tessera/resource-server --workspace @tessera/server --pack-destination /pack \
 && node scripts/deploy-project.mjs /pack /deploy

# ---- runtime: only the packed packages and their production dependencies ----
FROM node:20-slim
WORKDIR /app
COPY --from=build /deploy/ /app/
# better-sqlite3 downloads its prebuilt addon or, failing that, builds it: the tools leave in the same layer.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
 && npm ci --omit=dev --no-audit --no-fund \
 && apt-get purge -y python3 make g++ && apt-get autoremove -y && rm -rf /var/lib/apt/lists/* /root/.npm \
 && ln -s /app/node_modules/@tessera/server/dist/cli/bin.js /usr/local/bin/tessera \
 && mkdir -p /data && chown node:node /data
ENV NODE_ENV=production HOST=0.0.0.0 PORT=9000 TESSERA_DATA_DIR=/data
USER node
VOLUME /data
EXPOSE 9000
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||9000)+'/readyz').then(r=>process.exit(r.status===200?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "/app/node_modules/@tessera/server/dist/cli/bin.js"]
CMD ["serve"]
