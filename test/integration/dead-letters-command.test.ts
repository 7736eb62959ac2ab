import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { envFor } from '../support/child-processor.js';
import { StackDriver } from '../support/stack-driver.js';
import { scenarioCatalog, sale } from '../scenarios/scenario-data.js';
import { loadSchema } from '../../src/core/schemas.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

describe('dead-letters command', () => {
  it('lists rejected records with their reason and source offset', async () => {
    const driver = await StackDriver.create();
    try {
      const catalog = scenarioCatalog('dl');
      await driver.loadCatalog(catalog);
      await driver.sendRaw('sales', Buffer.from('junk'));
      await driver.sendRaw('sales', await driver.encodeWith('sales', loadSchema('sales'), { ...sale(catalog[0]!, 'dl-nan', 1), quantity: Number.NaN }));
      await driver.waitForDeadLetters(2);
      const { stdout } = await promisify(execFile)(process.execPath, [CLI, 'dead-letters', '--json'], { env: envFor(driver.config) });
      const rows = stdout.trim().split('\n').map((l) => JSON.parse(l) as { code: string; reason: string; field: string; source: string });
      expect(rows.map((r) => r.code)).toEqual(['DECODE_FAILED', 'VALIDATION_FAILED']);
      expect(rows[1]!.field).toBe('quantity');
      expect(rows[1]!.source).toMatch(new RegExp(`^${driver.config.topicSales}\\[\\d+\\]@\\d+$`));
      const dry = await promisify(execFile)(process.execPath, [CLI, 'dead-letters', 'replay', '--code', 'VALIDATION_FAILED', '--dry-run'], { env: envFor(driver.config) });
      expect(dry.stdout).toMatch(/would replay 1 dead letter\(s\) with code VALIDATION_FAILED/);
    } finally {
      await driver.close();
    }
  }, 120_000);
});
