package hub;

import java.util.concurrent.CountDownLatch;

/**
 * Says when to stop: on Ctrl-C, on SIGTERM, or once the duration has passed. The JVM turns
 * both signals into its shutdown; the hook this installs lets the main thread detach
 * everything first, then ends the process with status 0, as a loader that stopped on request.
 */
public final class Stop {
    private final long deadline;
    private volatile boolean requested;
    private final CountDownLatch finished = new CountDownLatch(1);

    private Stop(double duration) {
        deadline = duration > 0 ? System.nanoTime() + (long) (duration * 1e9) : Long.MAX_VALUE;
    }

    public static Stop after(double duration) {
        Stop stop = new Stop(duration);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (stop.finished.getCount() == 0) {
                return; // an ordinary exit: keep its status
            }
            stop.requested = true;
            try {
                stop.finished.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            Runtime.getRuntime().halt(0);
        }));
        return stop;
    }

    public boolean stopped() {
        return requested || System.nanoTime() >= deadline;
    }

    /** Called once everything is detached: a signal's shutdown may now end the process. */
    public void finished() {
        finished.countDown();
    }
}
