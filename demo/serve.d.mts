/** The part of node:http's Server the callers use (the project type-checks without @types/node). */
export interface Server { close(): void }
export function startServer(options: { mounts: Record<string, string>; port?: number; host?: string }): Promise<{ server: Server; url: string }>;
export function startDemo(options?: { port?: number; from?: 'dist' | 'src'; outdir?: string }): Promise<{ server: Server; url: string }>;
