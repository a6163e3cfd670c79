package org.rbench.core.testing;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.rbench.llamacpp.Backend;
import org.rbench.llamacpp.Backends;
import org.rbench.llamacpp.LlamaCpp;

/**
 * A one-thread CPU backend shared by a test class's tests:
 * <pre>{@code @RegisterExtension static final CpuBackend CPU = new CpuBackend();}</pre>
 * opens before the class's first test and closes after its last. {@link CpuModel} adds a
 * model's weights on it.
 */
public class CpuBackend implements BeforeAllCallback, AfterAllCallback {
    private Backend backend;

    @Override
    public void beforeAll(ExtensionContext context) {
        LlamaCpp.initialise();
        backend = Backends.open("cpu", 1);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (backend != null) {
            backend.close();
        }
    }

    public Backend backend() {
        return backend;
    }
}
