# MAOTrade worker image: one image, the command picks the process (see docker-compose.yml):
#   npx tsx workers/session-worker.ts          npx tsx workers/broker-worker.ts <broker>
# Configured only by environment variables (config/env.ts).
FROM node:20-bookworm-slim

WORKDIR /app

# Dependencies first, for layer caching. Dev dependencies included: the workers run through tsx.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund && npm cache clean --force

COPY . .

# The session worker writes its workflow bundle to .run/ on first start.
RUN mkdir -p .run && chown node:node .run
USER node

CMD ["npx", "tsx", "workers/session-worker.ts"]
