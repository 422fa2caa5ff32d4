// A sending thread that starts, then dies as a job arrives (sending-threads.spec.ts): what it had is lost.
import { parentPort } from 'node:worker_threads';
parentPort.postMessage({ ready: true });
parentPort.on('message', (message) => {
  if ('jobs' in message) process.exit(3);
});
