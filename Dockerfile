# MAOTrade worker image: one image, the command picks the process (see docker-compose.yml):
#   node .run/dist/session-worker.js          node .run/dist/broker-worker.js <broker>
# (the workers are compiled at build time, so a restarted worker starts without compiling TypeScript; the
# gateway and CLI run through tsx).
# Configured only by environment variables (config/env.ts).
FROM node:20-bookworm-slim

WORKDIR /app

# Dependencies first, for layer caching. Dev dependencies included: the workers run through tsx.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund && npm cache clean --force

COPY . .

# Compiled workers in .run/dist; the session worker writes its workflow bundle to .run/ on first start.
RUN npm run build:workers && chown -R node:node .run
USER node

CMD ["node", ".run/dist/session-worker.js"]
