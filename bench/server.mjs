// The benchmark's server: node:http with keep-alive on 127.0.0.1, in its own
// process (so its CPU is not the client's), serving Prism's static answer for the spec.
// Prints its URL on stdout, then serves until killed.
import { createServer } from 'node:http';

// Prism's static example for Conversation (every field from the spec), 830 bytes.
const body = JSON.stringify({
  _id: 'string',
  agentId: 'string',
  platformId: 'string',
  leadId: 'string',
  campaignId: 'string',
  name: 'string',
  read: false,
  endedAt: '2019-08-24T14:15:22Z',
  browser: 'string',
  device: 'string',
  os: 'string',
  countryCode: 'string',
  ipAddress: 'string',
  record: false,
  interacted: false,
  channel: 'string',
  phone: 'string',
  phoneSecondary: 'string',
  instagramId: 'string',
  instagramUsername: 'string',
  cost: 0,
  duration: 0,
  url: 'string',
  endedReason: 'string',
  noAnswer: true,
  status: 'ai',
  liveAgentName: 'string',
  liveAgentId: 'string',
  isLive: false,
  note: 'string',
  topic: 'string',
  subtopic: 'string',
  summary: 'string',
  evaluation: { isSuccess: true, reason: 'string' },
  mistunderstoodQueries: [{ question: 'string' }],
  customAnalysis: {},
  metadata: {},
  createdAt: '2019-08-24T14:15:22Z',
  updatedAt: '2019-08-24T14:15:22Z',
});
const headers = {
  'content-type': 'application/json',
  'content-length': Buffer.byteLength(body),
  'x-request-id': 'bench',
};

const chunkedHeaders = Object.fromEntries(
  Object.entries(headers).filter(([name]) => name !== 'content-length'),
);

const server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  if (!req.headers.authorization) {
    res.writeHead(401).end();
    return;
  }
  if (req.url.startsWith('/agents/chunked/')) {
    // No Content-Length, two chunks: the client's bounded streaming reader, not its text() fast path.
    res.writeHead(200, chunkedHeaders);
    res.write(body.slice(0, 400));
    res.end(body.slice(400));
    return;
  }
  res.writeHead(200, headers).end(body);
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`http://127.0.0.1:${server.address().port} ${Buffer.byteLength(body)}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
process.on('disconnect', () => process.exit(0));
