// Runs `npm ci` only when node_modules does not match package-lock.json, so that Maven builds after
// the first one need neither the network nor the time of a reinstall.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { execSync } from 'node:child_process';

const lock = readFileSync('package-lock.json');
const hash = createHash('sha256').update(lock).update(process.version).digest('hex');
const stamp = 'node_modules/.pulse-installed';
if (existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === hash) {
  console.log('[web-ui] node_modules is up to date with package-lock.json');
} else {
  console.log('[web-ui] npm ci');
  execSync('npm ci --no-audit --no-fund --prefer-offline', { stdio: 'inherit' });
  writeFileSync(stamp, hash + '\n');
}
