/**
 * Reads that the extension's events ask for again and again (a training job's files change
 * twice a second): one at a time, and none of the asks dropped. Pure: no DOM.
 */

/**
 * `task` wrapped so that at most one run is in flight: a call while it runs does not start
 * another but queues one more run after it (however many calls came meanwhile), so what
 * changed during a read is read once more and never dropped. `wanted()` says whether the
 * queued run is still wanted when its turn comes (the view it was for is still shown).
 * Each call's promise settles when the run in flight, and the one queued behind it, are done.
 */
export function oneAtATime(task: () => Promise<void>, wanted: () => boolean = () => true): () => Promise<void> {
  let running: Promise<void> | undefined;
  let again = false;
  return () => {
    if (running !== undefined) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          await task();
        } while (again && wanted());
      } finally {
        running = undefined;
      }
    })();
    return running;
  };
}
