package org.rbench.harness.run;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ProvenanceTest {
    /** A build's commit is its own checkout's: the one holding its jar, wherever it is run from. */
    @Test
    void theRunningCodesCheckoutIsTheOneHoldingItsJar(@TempDir Path dir) throws Exception {
        Path other = dir.resolve("other-checkout");
        Files.createDirectories(other.resolve("native"));
        Files.createFile(other.resolve("mvnw"));
        Path jar = Files.createDirectories(other.resolve("harness/target")).resolve("rbench.jar");
        Files.createFile(jar);
        assertEquals(Optional.of(other), Provenance.runningCheckout(jar));
        assertEquals(Optional.empty(), Provenance.runningCheckout(dir.resolve("rbench.jar")), "a jar outside any checkout");
        assertEquals(Optional.empty(), Provenance.runningCheckout(null));
    }

    /** A device bundle's jar carries its commit beside it: that, not whatever checkout it runs in. */
    @Test
    void aBundlesCommitFileBesideTheJarNamesIt(@TempDir Path dir) throws Exception {
        Path jar = Files.createDirectories(dir.resolve("rbench")).resolve("rbench.jar");
        Files.createFile(jar);
        assertEquals(null, Provenance.bundledCommit(jar));
        Files.writeString(jar.resolveSibling("COMMIT"), "fe557b1fd444\n");
        assertEquals("fe557b1fd444", Provenance.bundledCommit(jar));
        assertEquals(null, Provenance.bundledCommit(null));
    }
}
