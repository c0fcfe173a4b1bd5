import type { BrowserContext, Page } from 'playwright-core';

export const CHROMIUM: string;
export interface Browser { context: BrowserContext; page: Page; errors: string[]; close(): Promise<void> }
export function launch(viewport?: { width: number; height: number }): Promise<Browser>;
export function tempDir(prefix: string): string;
export function removeDir(dir: string): void;
export function readBytes(file: string): Uint8Array;
export function pathJoin(...parts: string[]): string;
export function listFiles(dir: string): string[];
