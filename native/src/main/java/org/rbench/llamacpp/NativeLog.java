package org.rbench.llamacpp;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayDeque;
import java.util.List;

/**
 * Receives ggml's and llama.cpp's log output through one upcall. Lines are kept in a
 * small ring buffer, so that an exception for a failed native call can say what the
 * library logged just before ({@link #recent()}); they are echoed to stderr only at or
 * above the level set by {@code -Drbench.native.log=debug|info|warn|error|none}
 * (default: error).
 *
 * <p>An exception escaping an upcall kills the JVM, so the callback catches everything.
 */
public final class NativeLog {
    public static final int LEVEL_NONE = 0;
    public static final int LEVEL_DEBUG = 1;
    public static final int LEVEL_INFO = 2;
    public static final int LEVEL_WARN = 3;
    public static final int LEVEL_ERROR = 4;
    public static final int LEVEL_CONT = 5;

    private static final int CAPACITY = 64;
    private static final ArrayDeque<String> RECENT = new ArrayDeque<>();
    private static final StringBuilder PARTIAL = new StringBuilder();
    private static volatile int echoLevel = parseLevel(System.getProperty("rbench.native.log", "error"));
    private static int lastLevel = LEVEL_INFO;

    private NativeLog() {
    }

    static void install(NativeLibraries libs) {
        try {
            MethodHandle target = MethodHandles.lookup().findStatic(NativeLog.class, "callback",
                    MethodType.methodType(void.class, int.class, MemorySegment.class, MemorySegment.class));
            FunctionDescriptor fd = FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS);
            MemorySegment stub = NativeLibraries.linker().upcallStub(target, fd, Arena.global());
            FunctionDescriptor setter = FunctionDescriptor.ofVoid(ValueLayout.ADDRESS, ValueLayout.ADDRESS);
            libs.function("ggml_log_set", setter).invokeExact(stub, MemorySegment.NULL);
            libs.function("llama_log_set", setter).invokeExact(stub, MemorySegment.NULL);
        } catch (NativeLibraryException e) {
            throw e;
        } catch (Throwable t) {
            throw new NativeLibraryException("Cannot install the native log callback: " + t, t);
        }
    }

    @SuppressWarnings("unused") // called from native code
    private static void callback(int level, MemorySegment text, MemorySegment userData) {
        try {
            String s = text.reinterpret(Long.MAX_VALUE).getString(0);
            int effective = level == LEVEL_CONT ? lastLevel : level;
            lastLevel = effective;
            synchronized (RECENT) {
                PARTIAL.append(s);
                int nl;
                while ((nl = PARTIAL.indexOf("\n")) >= 0) {
                    String line = PARTIAL.substring(0, nl);
                    PARTIAL.delete(0, nl + 1);
                    if (RECENT.size() == CAPACITY) {
                        RECENT.removeFirst();
                    }
                    RECENT.addLast(line);
                }
            }
            if (echoLevel != LEVEL_NONE && effective >= echoLevel) {
                System.err.print(s);
            }
        } catch (Throwable ignored) {
            // Never let an exception reach native code.
        }
    }

    /** The last lines logged by the native libraries, oldest first. */
    public static List<String> recent() {
        synchronized (RECENT) {
            return List.copyOf(RECENT);
        }
    }

    /** The last {@code n} lines, joined for an error message; empty if nothing was logged. */
    public static String tail(int n) {
        List<String> all = recent();
        List<String> last = all.subList(Math.max(0, all.size() - n), all.size());
        return last.isEmpty() ? "" : " Native log: " + String.join(" | ", last);
    }

    public static void clear() {
        synchronized (RECENT) {
            RECENT.clear();
            PARTIAL.setLength(0);
        }
    }

    public static void setEchoLevel(int level) {
        echoLevel = level;
    }

    static int parseLevel(String name) {
        return switch (name.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "none", "off" -> LEVEL_NONE;
            case "debug" -> LEVEL_DEBUG;
            case "info" -> LEVEL_INFO;
            case "warn", "warning" -> LEVEL_WARN;
            default -> LEVEL_ERROR;
        };
    }
}
