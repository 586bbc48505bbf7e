/**
 * The local process's event log (`npm start` prints a line per lifecycle event and per
 * notification), written once per turn of the event loop rather than once per line: a write to a
 * pipe or a terminal is a system call each, and under `npm run bench -- load` the lines of a
 * request's creation (its event, its approvers' notifications), one write each, were about 4% of
 * the server's CPU. Lines keep their order; what a turn logged is written before the next turn's
 * timers and I/O, and at exit. A process killed outright loses at most the lines of the turn it
 * was in (the trail and the notification centre hold what they say).
 */
export function batchedLines(
  write: (text: string) => void = (text) => void process.stdout.write(text),
  onExit: (flush: () => void) => void = (flush) => void process.on('exit', flush),
): (line: string) => void {
  let pending: string[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (pending.length === 0) return;
    const text = `${pending.join('\n')}\n`;
    pending = [];
    write(text);
  };
  let hooked = false;
  return (line) => {
    if (!hooked) {
      hooked = true;
      onExit(flush);
    }
    pending.push(line);
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
}
