import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '../..');

describe('the vendored spec', () => {
  it('is the YAML of the upstream docs page byte for byte, as SOURCE.json records', async () => {
    const spec = await readFile(join(repo, 'spec/chatdash.yaml'));
    const source = JSON.parse(await readFile(join(repo, 'spec/SOURCE.json'), 'utf8')) as Record<
      string,
      string
    >;
    const sha256 = createHash('sha256').update(spec).digest('hex');
    expect(sha256).toBe('ff0be41039481c790b8dfb2bc2b5f32fd06bc1c58fbb036f54f9293fc0b4abc8');
    expect(source['sha256']).toBe(sha256);
    expect(source['url']).toBe(
      'https://docs.chat-dash.com/api-reference/conversations/pages/get-conversation',
    );
    expect(source['retrieved']).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it('keeps the upstream misspelling of mistunderstoodQueries', async () => {
    const spec = await readFile(join(repo, 'spec/chatdash.yaml'), 'utf8');
    expect(spec).toContain('mistunderstoodQueries:');
  });
});
