package org.rbench.harness.run;

import java.io.PrintStream;
import java.time.Duration;

/**
 * A one-line progress bar with an ETA on stderr (redrawn in place on a terminal, one line
 * per update otherwise, at most every few seconds so logs stay short).
 */
public final class Progress {
    private final PrintStream out;
    private final int total;
    private final long start = System.nanoTime();
    private final boolean terminal = System.console() != null;
    private long lastPrint;
    private int done;

    public Progress(PrintStream out, int total) {
        this.out = out;
        this.total = total;
    }

    public void advance(String what) {
        done++;
        long now = System.nanoTime();
        if (!terminal && now - lastPrint < 5_000_000_000L && done < total) {
            return;
        }
        lastPrint = now;
        double frac = total == 0 ? 1 : (double) done / total;
        int width = 24;
        int filled = (int) Math.round(frac * width);
        Duration elapsed = Duration.ofNanos(now - start);
        Duration eta = done == 0 ? Duration.ZERO : elapsed.multipliedBy(total - done).dividedBy(done);
        String line = String.format("[%s%s] %d/%d %3.0f%%  %s  eta %s", "#".repeat(filled), ".".repeat(width - filled),
                done, total, 100 * frac, what, format(eta));
        if (terminal) {
            out.print("\r" + line + "\u001b[K" + (done == total ? "\n" : ""));
        } else {
            out.println(line);
        }
        out.flush();
    }

    static String format(Duration d) {
        long s = d.toSeconds();
        return s >= 3600 ? String.format("%dh%02dm", s / 3600, s / 60 % 60) : String.format("%dm%02ds", s / 60, s % 60);
    }
}
