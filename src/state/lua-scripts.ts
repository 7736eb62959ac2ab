import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Lua scripts, one file each, named `<name>-<numKeys>.lua` (BullMQ convention). ioredis'
 * defineCommand sends each once, then calls it by SHA (EVALSHA, falling back to EVAL
 * after a Redis restart flushed the script cache).
 */
export interface LuaScript {
  command: string;
  numberOfKeys: number;
  lua: string;
}

const LUA_DIR = new URL('../../src/state/lua/', import.meta.url);

function load(file: string, command: string): LuaScript {
  const numberOfKeys = Number(/-(\d+)\.lua$/.exec(file)?.[1]);
  // Works from src/ (vitest, tsx) and from dist/ (compiled): both resolve to src/state/lua.
  const lua = readFileSync(fileURLToPath(new URL(file, LUA_DIR)), 'utf8');
  return { command, numberOfKeys, lua };
}

export const LUA_SCRIPTS = {
  applySales: load('apply-sales-2.lua', 'fsApplySales'),
  applyPromotion: load('apply-promotion-1.lua', 'fsApplyPromotion'),
  applyWeather: load('apply-weather-1.lua', 'fsApplyWeather'),
  applyPrice: load('apply-price-1.lua', 'fsApplyPrice'),
} as const;
