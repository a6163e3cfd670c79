package org.rbench.llamacpp;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CppRuntimePreloadTest {
    @Test
    @EnabledOnOs(OS.LINUX)
    void putsLibstdcxxInTheGlobalScopeOnLinux() {
        assertTrue(NativeLibraries.preloadCppRuntime(), "libstdc++.so.6 (llama.cpp needs it) should load RTLD_GLOBAL");
    }

    @Test
    void canBeTurnedOff() {
        String before = System.getProperty(NativeLibraries.PRELOAD_PROPERTY);
        System.setProperty(NativeLibraries.PRELOAD_PROPERTY, "false");
        try {
            assertFalse(NativeLibraries.preloadCppRuntime());
        } finally {
            if (before == null) {
                System.clearProperty(NativeLibraries.PRELOAD_PROPERTY);
            } else {
                System.setProperty(NativeLibraries.PRELOAD_PROPERTY, before);
            }
        }
    }
}
