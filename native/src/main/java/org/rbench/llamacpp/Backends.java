package org.rbench.llamacpp;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The compute backends available in the loaded llama.cpp build. The CPU backend lives
 * in separately built variants (libggml-cpu-haswell.so, ...) and the GPU backends in
 * their own libraries, so {@link #ensureLoaded()} first asks ggml to load every backend
 * library in the library directory (it picks the best CPU variant for this machine).
 *
 * <p>Backends are chosen by name: {@code cpu}, {@code cuda}, {@code metal}, or
 * {@code best} (the first GPU, else the CPU).
 */
public final class Backends {
    private static volatile boolean loaded;

    private Backends() {
    }

    public static synchronized void ensureLoaded() {
        if (loaded) {
            return;
        }
        NativeLibraries libs = NativeLibraries.load();
        try (Arena arena = Arena.ofConfined()) {
            GgmlBackend.ggml_backend_load_all_from_path(arena.allocateFrom(libs.location().directory().toString()));
        }
        loaded = true;
        if (GgmlBackend.ggml_backend_dev_count() == 0) {
            throw new NativeLibraryException("No ggml backend could be loaded from " + libs.location().directory()
                    + " (the CPU backend lives in libggml-cpu-*.so there)." + NativeLog.tail(5));
        }
    }

    public static List<DeviceInfo> devices() {
        ensureLoaded();
        List<DeviceInfo> out = new ArrayList<>();
        long n = GgmlBackend.ggml_backend_dev_count();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment free = arena.allocate(ValueLayout.JAVA_LONG);
            MemorySegment total = arena.allocate(ValueLayout.JAVA_LONG);
            for (long i = 0; i < n; i++) {
                MemorySegment dev = GgmlBackend.ggml_backend_dev_get(i);
                GgmlBackend.ggml_backend_dev_memory(dev, free, total);
                MemorySegment reg = GgmlBackend.ggml_backend_dev_backend_reg(dev);
                out.add(new DeviceInfo(
                        Bindings.string(GgmlBackend.ggml_backend_reg_name(reg)),
                        Bindings.string(GgmlBackend.ggml_backend_dev_name(dev)),
                        Bindings.string(GgmlBackend.ggml_backend_dev_description(dev)),
                        DeviceInfo.kindOf(GgmlBackend.ggml_backend_dev_type(dev)),
                        free.get(ValueLayout.JAVA_LONG, 0), total.get(ValueLayout.JAVA_LONG, 0)));
            }
        }
        return out;
    }

    /**
     * Opens a backend by name: "cpu", "cuda", "metal" (a registry name, case-insensitive,
     * first device of it), a device name such as "CUDA0", or "best".
     */
    public static Backend open(String name, int threads) {
        ensureLoaded();
        String wanted = name == null ? "best" : name.trim().toLowerCase(Locale.ROOT);
        long n = GgmlBackend.ggml_backend_dev_count();
        MemorySegment chosen = MemorySegment.NULL;
        if (wanted.equals("best")) {
            chosen = firstOfType(DeviceInfo.Kind.GPU);
            if (chosen.equals(MemorySegment.NULL)) {
                chosen = firstOfType(DeviceInfo.Kind.IGPU);
            }
            if (chosen.equals(MemorySegment.NULL)) {
                chosen = firstOfType(DeviceInfo.Kind.CPU);
            }
        } else {
            for (long i = 0; i < n && chosen.equals(MemorySegment.NULL); i++) {
                MemorySegment dev = GgmlBackend.ggml_backend_dev_get(i);
                String reg = Bindings.string(GgmlBackend.ggml_backend_reg_name(GgmlBackend.ggml_backend_dev_backend_reg(dev)));
                String devName = Bindings.string(GgmlBackend.ggml_backend_dev_name(dev));
                if (wanted.equalsIgnoreCase(reg) || wanted.equalsIgnoreCase(devName)) {
                    chosen = dev;
                }
            }
        }
        if (chosen.equals(MemorySegment.NULL)) {
            throw new IllegalArgumentException("No backend '" + name + "' in this llama.cpp build. Available: "
                    + devices().stream().map(d -> d.registry().toLowerCase(Locale.ROOT) + " (" + d.name() + ")").toList()
                    + ". CUDA and Metal need a build for them (native/scripts/build-llamacpp.sh).");
        }
        MemorySegment backend = GgmlBackend.ggml_backend_dev_init(chosen, MemorySegment.NULL);
        if (backend.equals(MemorySegment.NULL)) {
            throw new NativeCallException("Could not initialise backend '" + name + "'." + NativeLog.tail(5));
        }
        Backend b = new Backend(backend, chosen);
        if (!b.isCpu()) {
            HostScratch.usePinned(b.hostBufferType()); // reads from the GPU into page-locked memory
        }
        if (threads > 0) {
            b.setThreads(threads);
        }
        return b;
    }

    private static MemorySegment firstOfType(DeviceInfo.Kind kind) {
        long n = GgmlBackend.ggml_backend_dev_count();
        for (long i = 0; i < n; i++) {
            MemorySegment dev = GgmlBackend.ggml_backend_dev_get(i);
            if (DeviceInfo.kindOf(GgmlBackend.ggml_backend_dev_type(dev)) == kind) {
                return dev;
            }
        }
        return MemorySegment.NULL;
    }
}
