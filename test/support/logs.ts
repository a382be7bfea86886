import { MongoClient } from 'mongodb';
import { TEST_ENV } from './env';

/** Log documents of one account in maologs, waiting up to `timeoutMs` for at least `min` of them (the sink batches). */
export async function logsOf(account: string, filter: Record<string, unknown> = {}, min = 1, timeoutMs = 10_000) {
  const client = new MongoClient(TEST_ENV.MONGO_URL, { serverSelectionTimeoutMS: 5_000 });
  try {
    const coll = client.db().collection('logs');
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const docs = await coll.find({ account, ...filter }).toArray();
      if (docs.length >= min || Date.now() > deadline) return docs;
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await client.close();
  }
}
