import type { ChildProcessWithoutNullStreams } from 'node:child_process';

/** Resolves when the process ends, with its exit code and everything it wrote to stderr. */
export function exitOf(child: ChildProcessWithoutNullStreams): Promise<{ code: number | null; stderr: string }> {
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
}
