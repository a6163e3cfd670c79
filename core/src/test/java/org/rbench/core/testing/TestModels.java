package org.rbench.core.testing;

import org.rbench.gguf.GgufFile;
import org.rbench.gguf.GgufTensorInfo;
import org.rbench.gguf.GgufValue;
import org.rbench.gguf.GgufWriter;
import org.rbench.gguf.ModelSpec;
import org.rbench.gguf.RandomModelWriter;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.LlamaCpp;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Random-weight GGUF models for tests, written once per JVM into a temporary folder. */
public final class TestModels {
    private static final Map<String, Path> CACHE = new ConcurrentHashMap<>();
    private static Path dir;

    private TestModels() {
    }

    private static synchronized Path dir() {
        if (dir == null) {
            try {
                dir = Files.createTempDirectory("rbench-core-test");
                dir.toFile().deleteOnExit();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return dir;
    }

    /** A preset model (see {@link ModelSpec#preset}) with the given weight type. */
    public static Path preset(String name, GgmlType type) {
        return spec(name + "-" + type, ModelSpec.preset(name, type));
    }

    public static Path spec(String key, ModelSpec spec) {
        LlamaCpp.initialise();
        return CACHE.computeIfAbsent(key, k -> {
            Path file = dir().resolve(k + ".gguf");
            try {
                RandomModelWriter.write(spec, file);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            file.toFile().deleteOnExit();
            return file;
        });
    }

    /** Edits to a copy of a GGUF model, for bad-input tests. */
    public interface Edit {
        /** Metadata value to write instead, or null to drop the key. */
        default GgufValue metadata(String key, GgufValue value) {
            return value;
        }

        /** Keys to add. */
        default Map<String, GgufValue> added() {
            return Map.of();
        }

        /** Whether to keep a tensor (false drops it). */
        default boolean keep(GgufTensorInfo tensor) {
            return true;
        }

        /** A replacement shape and type, or null to copy the tensor as it is. */
        default Replacement replace(GgufTensorInfo tensor) {
            return null;
        }
    }

    public record Replacement(GgmlType type, long[] ne) {
    }

    /** Copies {@code source} into a new file with the edits applied (replaced tensors are zeros). */
    public static Path edited(Path source, String name, Edit edit) {
        Path out = dir().resolve(name + ".gguf");
        try (GgufFile in = GgufFile.open(source)) {
            GgufWriter w = new GgufWriter();
            for (Map.Entry<String, GgufValue> e : in.metadata().entrySet()) {
                GgufValue v = edit.metadata(e.getKey(), e.getValue());
                if (v != null && !e.getKey().equals("general.alignment")) {
                    w.put(e.getKey(), v);
                }
            }
            edit.added().forEach(w::put);
            for (GgufTensorInfo t : in.tensors()) {
                if (!edit.keep(t)) {
                    continue;
                }
                Replacement r = edit.replace(t);
                if (r != null) {
                    w.addTensor(t.name(), r.type(), r.ne(), seg -> seg.fill((byte) 0));
                } else {
                    MemorySegment data = in.data(t);
                    w.addTensor(t.name(), t.type(), t.ne(), seg -> seg.copyFrom(data));
                }
            }
            w.write(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        out.toFile().deleteOnExit();
        return out;
    }

}
