import type { ServerResponse } from 'node:http';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { extractSpec, yamlBlocks } from '../../scripts/update-spec.js';
import { httpServer } from '../helpers/servers.js';
import {
  committed,
  edits,
  page,
  read,
  scratch,
  update,
  upstreamPage,
} from '../helpers/spec-scratch.js';

describe('extracting the spec from a docs page', () => {
  it('takes the ````yaml block of the upstream page byte for byte', async () => {
    const { yaml, doc } = extractSpec(upstreamPage, 'page');
    expect(yaml).toBe(await committed('spec/chatdash.yaml'));
    expect(doc['openapi']).toBe('3.0.1');
  });

  it('finds ``` and ```` fences, with or without an info string after yaml', () => {
    expect(yamlBlocks('a\n```yaml\nx: 1\n```\nb\n````yml get /x\ny: 2\n````\n')).toEqual([
      'x: 1\n',
      'y: 2\n',
    ]);
    expect(yamlBlocks('```json\n{}\n```\n')).toEqual([]);
  });
});

describe('npm run spec:update', () => {
  it('reports no change for the unchanged page and rewrites nothing', async () => {
    const root = await scratch();
    const before = await stat(join(root, 'spec/SOURCE.json'));
    const result = await update(root, await page(root));
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('No change to the operation or the Conversation schema.');
    expect(result.stdout).toContain('nothing rewritten');
    expect((await stat(join(root, 'spec/SOURCE.json'))).mtimeMs).toBe(before.mtimeMs);
    expect(await read(root, 'spec/chatdash.yaml')).toBe(await committed('spec/chatdash.yaml'));
  });

  it('marks a removed field BREAKING, exits 3, and vendors and regenerates', async () => {
    const root = await scratch();
    const result = await update(
      root,
      await page(root, (t) =>
        t.replace(/ {8}browser:\n {10}type: string\n {10}description: [^\n]+\n/, ''),
      ),
    );
    expect(result.code).toBe(3);
    expect(result.stdout).toMatch(/^BREAKING +Conversation\.browser: field removed$/m);
    expect(await read(root, 'spec/chatdash.yaml')).not.toContain('browser:');
    expect(await read(root, 'generated/chatdash.ts')).not.toContain('browser?:');
    const source = JSON.parse(await read(root, 'spec/SOURCE.json')) as Record<string, string>;
    expect(source['sha256']).not.toBe(
      'ff0be41039481c790b8dfb2bc2b5f32fd06bc1c58fbb036f54f9293fc0b4abc8',
    );
    expect(source['url']).toBe(
      'https://docs.chat-dash.com/api-reference/conversations/pages/get-conversation',
    );
  });

  it('marks a changed type BREAKING', async () => {
    const root = await scratch();
    const result = await update(root, await page(root, edits.costBecomesString));
    expect(result.code).toBe(3);
    expect(result.stdout).toMatch(
      /^BREAKING +Conversation\.cost: type changed from number to string$/m,
    );
    expect(await read(root, 'generated/chatdash.ts')).toMatch(/cost\?: string;/);
    expect(await read(root, 'generated/validate-conversation.js')).not.toBe(
      await committed('generated/validate-conversation.js'),
    );
  });

  it('marks an added enum value compatible and exits 0', async () => {
    const root = await scratch();
    const result = await update(root, await page(root, edits.closedStatusAdded));
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^compatible +Conversation\.status: enum value "closed" added$/m);
    expect(result.stdout).not.toContain('BREAKING');
    expect(await read(root, 'generated/chatdash.ts')).toContain("'closed'");
  });

  it('marks a new required query parameter BREAKING', async () => {
    const root = await scratch();
    const param = [
      '        - name: region',
      '          in: query',
      '          required: true',
      '          schema:',
      '            type: string',
      '',
    ].join('\n');
    const result = await update(
      root,
      await page(root, (t) => t.replace('      responses:\n', `${param}      responses:\n`)),
    );
    expect(result.code).toBe(3);
    expect(result.stdout).toMatch(
      /^BREAKING +GET \/agents\/\{agentId\}\/conversations\/\{conversationId\}: new required query parameter "region"$/m,
    );
  });

  it.each([
    ['text', 'Conversation.cost: type changed'],
    ['markdown', '`Conversation.cost`: type changed'],
    ['json', '"path": "Conversation.cost"'],
  ])(
    'with --check-only --format %s prints the report and changes nothing',
    async (format, line) => {
      const root = await scratch();
      const result = await update(
        root,
        await page(root, edits.costBecomesString),
        '--check-only',
        '--format',
        format,
      );
      expect(result.code).toBe(3);
      expect(result.stdout).toContain(line);
      for (const path of [
        'spec/chatdash.yaml',
        'spec/SOURCE.json',
        'generated/chatdash.ts',
        'CHANGELOG.md',
      ]) {
        expect(await read(root, path)).toBe(await committed(path));
      }
    },
  );

  it.each([
    [
      'a page without a yaml fence',
      (t: string) => t.replace(/````yaml[^\n]*\n/, '````text\n'),
      'found 0',
    ],
    [
      'a page with two yaml blocks',
      (t: string) => `${t}\n\`\`\`yaml\nopenapi: 3.0.1\n\`\`\`\n`,
      'found 2',
    ],
    [
      'YAML that is not OpenAPI 3.x',
      (t: string) => t.replace('openapi: 3.0.1', 'swagger: "2.0"'),
      'not an OpenAPI 3.x document',
    ],
  ])('refuses %s with a clear message and changes nothing', async (_, edit, message) => {
    const root = await scratch();
    const result = await update(root, await page(root, edit));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(message);
    expect(await read(root, 'spec/chatdash.yaml')).toBe(await committed('spec/chatdash.yaml'));
  });

  it('refuses a spec that does not lint and leaves spec/ as it was', async () => {
    const root = await scratch();
    const result = await update(
      root,
      await page(root, (t) =>
        t.replace("$ref: '#/components/schemas/Conversation'", "$ref: '#/components/schemas/Gone'"),
      ),
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('not vendored');
    expect(await read(root, 'spec/chatdash.yaml')).toBe(await committed('spec/chatdash.yaml'));
    expect(await read(root, 'spec/SOURCE.json')).toBe(await committed('spec/SOURCE.json'));
  });
});

describe('npm run spec:update usage', () => {
  const usage = 'usage: npm run spec:update -- <page.md | https://...>';
  it.each([
    ['no page', [], usage],
    ['two pages', ['a.md', 'b.md'], usage],
    ['a timeout that is not a positive number', ['page.md', '--timeout-ms', 'soon'], usage],
    ['an unknown flag', ['page.md', '--force'], "spec:update: Unknown option '--force'"],
  ])('exits 2 for %s, says how to call it, and changes nothing', async (_, args, message) => {
    const root = await scratch();
    const result = await update(root, ...args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stdout).toBe('');
    expect(await read(root, 'spec/chatdash.yaml')).toBe(await committed('spec/chatdash.yaml'));
  });
});

describe('npm run spec:update with a URL', () => {
  it('fetches the page over HTTP and records the URL', async () => {
    const root = await scratch();
    const edited = edits.closedStatusAdded(upstreamPage);
    const server = await httpServer((_, res) => {
      res.writeHead(200, { 'content-type': 'text/markdown; charset=utf-8' });
      res.end(edited);
    });
    const url = `${server.baseUrl}/api-reference/conversations/pages/get-conversation`;
    const result = await update(root, url);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('enum value "closed" added');
    expect(JSON.parse(await read(root, 'spec/SOURCE.json'))).toMatchObject({ url });
  });

  // A short --timeout-ms only where the timeout is the subject: on a loaded machine a
  // 404 can take longer than 300 ms to reach the script, and would then read as a timeout.
  it.each([
    ['a 404', (res: ServerResponse) => res.writeHead(404).end('gone'), 'HTTP 404', '10000'],
    [
      'a body that is not a page',
      (res: ServerResponse) =>
        res.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.from([0x89, 0x50])),
      'not a docs page',
      '10000',
    ],
    ['a server that never answers', () => {}, 'no answer within 300 ms', '300'],
  ])('refuses %s with a clear message and changes nothing', async (_, respond, message, ms) => {
    const root = await scratch();
    const server = await httpServer((_req, res) => respond(res));
    const result = await update(root, `${server.baseUrl}/page`, '--timeout-ms', ms);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(message);
    expect(await read(root, 'spec/chatdash.yaml')).toBe(await committed('spec/chatdash.yaml'));
  });
});
