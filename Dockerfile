# Berth image: `docker build -t berth .`
# Two stages, so the runtime image holds only production dependencies and the compiled dist/.

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:24-bookworm-slim
ENV NODE_ENV=production
# One malloc arena, as `berth run` sets by restarting itself when it is missing (src/cli/serving-runtime.ts).
ENV MALLOC_ARENA_MAX=1
# /ping on the internal entry point (:8080) is what the HEALTHCHECK below asks.
ENV BERTH_PING=true
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY bin ./bin
COPY --from=build /app/dist ./dist

# Berth runs as root because it reads /var/run/docker.sock, which belongs to root and to a docker
# group whose id differs from host to host. To drop root, run the container with
# `--user node --group-add <gid of the socket on the host>`.
EXPOSE 80 8080

# `healthcheck` exits 0 when GET /ping on the internal entry point (default :8080) returns 200.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 CMD ["node", "bin/berth", "healthcheck"]
ENTRYPOINT ["node", "bin/berth"]
