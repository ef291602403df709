# syntax=docker/dockerfile:1
# dualgate: build with the dev toolchain, run with production dependencies only, as a
# non-root user. The image has no database of its own: set MONGODB_URI (see docker-compose.yml).

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.console.json ./
COPY src ./src
COPY console ./console
RUN npm run build

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=8080
WORKDIR /app
COPY package.json package-lock.json ./
# bcrypt ships prebuilt binaries for linux-x64/arm64 (glibc): nothing is compiled here.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY wsdl ./wsdl
# bcrypt's worker threads (plain JavaScript, loaded by dist/domain/bcryptPool.js).
COPY workers ./workers
COPY console/public ./console/public
USER node
EXPOSE 8080
# Liveness only (/healthz): a database outage is /readyz's business, and restarting the
# gateway would not bring the database back.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# SIGTERM drains: in-flight calls finish within SHUTDOWN_TIMEOUT_MS (10 s), buffers are flushed.
STOPSIGNAL SIGTERM
CMD ["node", "--max-old-space-size=160", "dist/server.js"]
