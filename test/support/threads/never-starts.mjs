// A sending thread whose module cannot load (sending-threads.spec.ts).
throw new Error('this thread cannot start');
