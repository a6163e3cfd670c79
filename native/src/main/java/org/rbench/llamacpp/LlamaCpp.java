package org.rbench.llamacpp;

import java.util.List;

/**
 * Entry point to the native side: loads the libraries, runs the layout self-check,
 * initialises llama.cpp and the ggml backends, once per JVM. Every idiomatic class calls
 * {@link #initialise()} before its first native call.
 */
public final class LlamaCpp {
    private static volatile Info info;

    private LlamaCpp() {
    }

    /** What was loaded: version, files, layout check result, devices, CPU features. */
    public record Info(LibraryLocation location, List<java.nio.file.Path> files, String ggmlVersion, String ggmlCommit,
                       LayoutCheck.Result layout, List<DeviceInfo> devices, String systemInfo) {
    }

    public static Info initialise() {
        Info i = info;
        if (i != null) {
            return i;
        }
        synchronized (LlamaCpp.class) {
            if (info == null) {
                NativeLibraries libs = NativeLibraries.load();
                LayoutCheck.Result layout = LayoutCheck.verify();
                Backends.ensureLoaded();
                Llama.llama_backend_init();
                info = new Info(libs.location(), libs.files(), Bindings.string(Ggml.ggml_version()),
                        Bindings.string(Ggml.ggml_commit()), layout, Backends.devices(),
                        Bindings.string(Llama.llama_print_system_info()));
            }
            return info;
        }
    }
}
