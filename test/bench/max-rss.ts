/**
 * Preloaded into a process the benchmark measures (`node --require out/test/bench/max-rss.js …`): when the process
 * exits it writes its peak resident set size to stderr, worker threads included (they share the process).
 */
import { writeSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

if (isMainThread) {
  process.on('exit', () => {
    writeSync(2, `\nbench-max-rss-kib ${process.resourceUsage().maxRSS}\n`);
  });
}
