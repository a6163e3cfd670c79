package org.rbench.core.testing;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.rbench.core.model.ModelWeights;
import org.rbench.llamacpp.GgmlType;

import java.nio.file.Path;
import java.util.function.Supplier;

/**
 * A tiny random model's weights on a one-thread CPU backend ({@link CpuBackend}), shared by a
 * test class's tests:
 * <pre>{@code @RegisterExtension static final CpuModel MODEL = CpuModel.preset("tiny-llama", GgmlType.F32);}</pre>
 * opens before the class's first test and closes after its last.
 */
public final class CpuModel extends CpuBackend {
    private final Supplier<Path> model;
    private ModelWeights weights;

    private CpuModel(Supplier<Path> model) {
        this.model = model;
    }

    /** A {@link TestModels#preset} model. */
    public static CpuModel preset(String name, GgmlType type) {
        return new CpuModel(() -> TestModels.preset(name, type));
    }

    /** Any model file, made when the class starts (e.g. with {@link TestModels#spec}). */
    public static CpuModel of(Supplier<Path> model) {
        return new CpuModel(model);
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        super.beforeAll(context);
        weights = ModelWeights.load(model.get(), backend());
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (weights != null) {
            weights.close();
        }
        super.afterAll(context);
    }

    public ModelWeights weights() {
        return weights;
    }
}
