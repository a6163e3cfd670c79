package org.rbench.harness.run;

import org.rbench.llamacpp.LibraryLocation;

import java.nio.file.Path;
import java.util.Optional;

/** The suite's checkout: from the working directory, else from the launcher's -Drbench.home. */
public final class Checkout {
    private Checkout() {
    }

    public static Optional<Path> root() {
        return LibraryLocation.repositoryRoot(Path.of("").toAbsolutePath())
                .or(() -> LibraryLocation.repositoryRoot(Path.of(System.getProperty("rbench.home", ".")).toAbsolutePath()));
    }
}
