import type { Server } from 'node:http';
export function startServer(options: { mounts: Record<string, string>; port?: number; host?: string }): Promise<{ server: Server; url: string }>;
export function startDemo(options?: { port?: number; from?: 'dist' | 'src'; outdir?: string }): Promise<{ server: Server; url: string }>;
