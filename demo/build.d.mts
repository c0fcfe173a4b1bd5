export const root: string;
export const demoDir: string;
export const DIGITS_FILE: string;
export function extractDigits(outFile: string): number;
export function buildDemo(options?: { outdir?: string; from?: 'dist' | 'src' }): Promise<string>;
export function buildKernelTests(options?: { outdir?: string; from?: 'dist' | 'src' }): Promise<string>;
