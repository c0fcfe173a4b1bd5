// What the browser tests need from Node, kept in plain JavaScript (with harness.d.mts) so that
// the type-checked specs import no Node module: the project type-checks without @types/node.
//
// Chromium is Debian's (apt-get install -y chromium), driven through playwright-core, which
// brings no browser of its own: no browser download can work here, and CI installs the package
// in .ci/run.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** A fresh profile, one page, and every console error and page error collected in `errors`. */
export async function launch(viewport = { width: 1280, height: 900 }) {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is missing at ${CHROMIUM}: install it with \`apt-get install -y chromium\` ` +
        '(.ci/run does this in CI) or point CHROMIUM_PATH at a Chromium binary',
    );
  }
  const profile = tempDir('wasm-cnn-chromium-');
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, args: ARGS, headless: true, viewport, acceptDownloads: true,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors = [];
  page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console error: ${message.text()}`);
  });
  return {
    context, page, errors,
    async close() {
      await context.close();
      removeDir(profile);
    },
  };
}

export const tempDir = (prefix) => mkdtempSync(join(tmpdir(), prefix));
export const removeDir = (dir) => rmSync(dir, { recursive: true, force: true });
export const readBytes = (file) => new Uint8Array(readFileSync(file));
export const pathJoin = join;
/** Every file under `dir`, as paths relative to it. */
export const listFiles = (dir) => readdirSync(dir, { recursive: true, withFileTypes: true })
  .filter((e) => e.isFile()).map((e) => join(e.parentPath ?? e.path, e.name).slice(dir.length + 1));
