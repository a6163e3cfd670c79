package org.rbench.harness.run;

import org.rbench.core.model.HyperParameters;
import org.rbench.gguf.GgufFile;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A model file checked before a run creates its results CSV: a readable GGUF of an
 * architecture the engine runs, and the context it was trained for. A run that would fail
 * on its model fails here, having written nothing.
 */
public record ModelCheck(Path path, int trainedContext) {

    /** Reads the file's header (not its weights); a bad file is a clear error naming it. */
    public static ModelCheck of(Path path) throws IOException {
        try (GgufFile gguf = GgufFile.open(path)) {
            return new ModelCheck(path, HyperParameters.from(gguf).contextLength());
        }
    }

    /**
     * The cache rows for sequences of up to {@code length} tokens (the prompt and what is
     * generated or scored, before the BOS token), with {@code spare} rows of slack where the
     * trained context leaves room for them. A length up to the trained context fits without
     * the slack: the BOS takes one row, and the last generated token is never fed back, so
     * it takes none. A longer length is refused in the user's terms.
     *
     * @param what the setting that gave the length, for the message (e.g. "length")
     */
    public int contextRows(int length, int spare, String what) {
        if (length > trainedContext) {
            throw new IllegalArgumentException(what + " " + length + " is longer than the " + trainedContext
                    + " tokens " + path.getFileName() + " was trained for (lengths up to " + trainedContext + " run)");
        }
        return (int) Math.min((long) length + spare, trainedContext);
    }
}
