package org.rbench.llamacpp;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Loads libggml-base, libggml and libllama (in dependency order) and resolves their
 * symbols. Loading happens once per JVM; the libraries stay loaded (global arena) because
 * native objects created through them may live as long as the JVM.
 *
 * <p>Raw binding classes ({@link Ggml}, {@link GgmlBackend}, {@link Llama}) ask this
 * class for their handles in their static initialisers, so callers must go through
 * {@link #load()} first: it throws a clear {@link NativeLibraryException} where a class
 * initialiser could only throw an opaque {@code ExceptionInInitializerError}.
 */
public final class NativeLibraries {
    private static final Linker LINKER = Linker.nativeLinker();
    private static volatile NativeLibraries instance;
    private static volatile NativeLibraryException failure;

    private final LibraryLocation location;
    private final List<Path> files;
    private final SymbolLookup lookup;

    private NativeLibraries(LibraryLocation location, List<Path> files, SymbolLookup lookup) {
        this.location = location;
        this.files = files;
        this.lookup = lookup;
    }

    /** Loads the libraries (once) or throws why not; later calls return the same instance. */
    public static NativeLibraries load() {
        NativeLibraries result = instance;
        if (result != null) {
            return result;
        }
        synchronized (NativeLibraries.class) {
            if (instance != null) {
                return instance;
            }
            if (failure != null) {
                throw failure;
            }
            try {
                instance = open(LibraryLocation.resolve());
                NativeLog.install(instance);
                return instance;
            } catch (NativeLibraryException e) {
                failure = e;
                throw e;
            }
        }
    }

    /** Loads from an explicit directory; for tests of the failure paths (does not cache). */
    static NativeLibraries openForTest(Path dir) {
        return open(new LibraryLocation(dir, "test", "unknown", "unknown"));
    }

    /** System property / environment variable that turns the libstdc++ preload off (false / 0). */
    static final String PRELOAD_PROPERTY = "rbench.preloadStdcxx";
    static final String PRELOAD_ENV = "RBENCH_PRELOAD_STDCXX";

    /**
     * Puts the C++ runtime in the process's global symbol scope before llama.cpp is loaded,
     * as it is in any C++ program. The JVM links its own C++ runtime statically, so without
     * this libstdc++ only enters the local scope of the libraries dlopen()ed here, and a
     * template instantiation that one of them exports (libggml built by GCC 13 exports some)
     * can win a lazy binding in another: with a GPU build, llama_model_load_from_file then
     * crashes the JVM inside libggml, called from std::stringstream code in libllama's
     * print_info. Returns whether the preload happened (Linux with glibc only).
     */
    static boolean preloadCppRuntime() {
        String prop = System.getProperty(PRELOAD_PROPERTY, System.getenv(PRELOAD_ENV));
        if (prop != null && (prop.equals("false") || prop.equals("0"))) {
            return false;
        }
        if (!System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("linux")) {
            return false;
        }
        Optional<MemorySegment> dlopen = LINKER.defaultLookup().find("dlopen");
        if (dlopen.isEmpty()) {
            return false;
        }
        MethodHandle open = LINKER.downcallHandle(dlopen.get(),
                FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
        final int rtldNow = 0x2;
        final int rtldGlobal = 0x100;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment handle = (MemorySegment) open.invokeExact(arena.allocateFrom("libstdc++.so.6"), rtldNow | rtldGlobal);
            return !handle.equals(MemorySegment.NULL);
        } catch (Throwable t) {
            return false;
        }
    }

    private static NativeLibraries open(LibraryLocation location) {
        Path dir = location.directory();
        preloadCppRuntime();
        List<Path> files = new ArrayList<>();
        files.add(find(dir, "ggml-base"));
        files.add(find(dir, "ggml"));
        files.add(find(dir, "llama"));
        SymbolLookup combined = null;
        for (Path file : files) {
            SymbolLookup one;
            try {
                one = SymbolLookup.libraryLookup(file, Arena.global());
            } catch (IllegalArgumentException e) {
                throw new NativeLibraryException("Cannot load " + file + ": " + e.getMessage()
                        + ". Is it a shared library for this platform (" + LibraryLocation.platform() + ")?", e);
            }
            combined = combined == null ? one : combined.or(one);
        }
        return new NativeLibraries(location, List.copyOf(files), combined);
    }

    /**
     * Finds lib{stem}.so / lib{stem}.v*.so / lib{stem}.so.N / lib{stem}.dylib in dir.
     * The npm builds carry the release in the file name (libllama.v0.4.0.so); a CMake build
     * names them libllama.so.
     */
    private static Path find(Path dir, String stem) {
        if (!Files.isDirectory(dir)) {
            throw new NativeLibraryException("llama.cpp library directory " + dir + " does not exist.");
        }
        String prefix = "lib" + stem;
        try (Stream<Path> entries = Files.list(dir)) {
            List<Path> candidates = entries.filter(p -> matches(p.getFileName().toString(), prefix))
                    .sorted().toList();
            if (candidates.isEmpty()) {
                throw new NativeLibraryException("No " + prefix + " shared library in " + dir
                        + " (expected " + prefix + ".so, " + prefix + ".v<version>.so or " + prefix + ".dylib)."
                        + " Re-run native/scripts/install-llamacpp.sh or check -D" + LibraryLocation.DIR_PROPERTY + ".");
            }
            return candidates.getFirst();
        } catch (IOException e) {
            throw new NativeLibraryException("Cannot list " + dir + ": " + e.getMessage(), e);
        }
    }

    private static boolean matches(String name, String prefix) {
        if (!name.startsWith(prefix)) {
            return false;
        }
        String rest = name.substring(prefix.length());
        return rest.equals(".so") || rest.equals(".dylib") || rest.matches("\\.v[0-9.]+\\.(so|dylib)")
                || rest.matches("\\.so\\.[0-9.]+") || rest.matches("\\.[0-9.]+\\.dylib");
    }

    public LibraryLocation location() {
        return location;
    }

    public List<Path> files() {
        return files;
    }

    public Optional<MemorySegment> find(String symbol) {
        return lookup.find(symbol);
    }

    /** A downcall handle for a C function, or a clear error if the symbol is absent. */
    public MethodHandle function(String name, FunctionDescriptor descriptor) {
        MemorySegment address = lookup.find(name).orElseThrow(() -> new NativeLibraryException(
                "Symbol " + name + " not found in " + files + ". The libraries are not the pinned llama.cpp "
                        + location.release() + " build these bindings were written for."));
        return LINKER.downcallHandle(address, descriptor);
    }

    /** A downcall handle for a function pointer obtained at run time. */
    public static MethodHandle functionAt(MemorySegment address, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(address, descriptor);
    }

    static Linker linker() {
        return LINKER;
    }
}
