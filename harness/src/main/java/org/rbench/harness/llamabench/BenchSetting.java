package org.rbench.harness.llamabench;

import org.rbench.core.ModelSession;
import org.rbench.core.engine.EngineOptions;
import org.rbench.gguf.GgufFile;
import org.rbench.gguf.GgufTensorInfo;
import org.rbench.llamacpp.GgmlType;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;

/**
 * What one {@code rbench bench} run shares across its tests, in llama-bench's terms: the model
 * (file as given, llama.cpp's description, bytes and parameters of its tensors), the processor
 * and accelerator, and the engine's settings that llama-bench has fields for.
 *
 * @param modelType the model as llama-bench names it, "architecture size weights": "llama 8B Q8_0"
 *     (see {@link #modelType})
 * @param modelSize bytes of all tensors ({@code llama_model_size})
 * @param modelParams elements of all tensors ({@code llama_model_n_params})
 * @param cpuInfo the CPU's model name
 * @param gpuInfo the accelerator's description, empty on a CPU run
 * @param microBatch prefill tokens per graph (llama.cpp's n_ubatch; the engine has no larger logical batch)
 * @param cacheType the KV cache's element type, lower case ("f16")
 * @param gpuLayers layers on the accelerator: 0 on a CPU run, 99 (all) otherwise
 * @param flashAttention whether attention runs through ggml_flash_attn_ext
 */
public record BenchSetting(String modelFilename, String modelType, long modelSize, long modelParams, String cpuInfo,
                           String gpuInfo, int microBatch, String cacheType, int gpuLayers, boolean flashAttention) {

    public static BenchSetting of(Path model, ModelSession session, EngineOptions options) throws IOException {
        long bytes = 0;
        long params = 0;
        String type;
        try (GgufFile gguf = GgufFile.open(model)) {
            Map<GgmlType, Long> bytesByType = new EnumMap<>(GgmlType.class);
            for (GgufTensorInfo t : gguf.tensors()) {
                bytes += t.bytes();
                params += t.elements();
                if (t.dims() >= 2) {
                    bytesByType.merge(t.type(), t.bytes(), Long::sum);
                }
            }
            type = modelType(gguf.findString("general.architecture").orElse("?"),
                    gguf.findString("general.size_label").orElse(null), params, bytesByType);
        }
        boolean cpu = session.backend().isCpu();
        String device = session.backend().deviceDescription();
        return new BenchSetting(model.toString(), type, bytes, params,
                cpu ? device : hostCpuName(), cpu ? "" : device, options.microBatch(),
                options.cacheType().name().toLowerCase(Locale.ROOT), cpu ? 0 : 99, options.flashAttention());
    }

    /**
     * llama-bench's model column is libllama's {@code llama_model_desc}; the engine loads only the
     * vocabulary through libllama, whose description then lacks the size and type, so it is made
     * from the file the same way: the architecture, the size (the file's size label, else the
     * parameter count: "17M", "8.0B") and the type of most weight bytes ("Q8_0"; "all F32" as
     * llama.cpp names an all-F32 file).
     */
    static String modelType(String architecture, String sizeLabel, long params, Map<GgmlType, Long> weightBytesByType) {
        String size = sizeLabel != null && !sizeLabel.isBlank() ? sizeLabel
                : params < 1_000_000_000L ? Math.round(params / 1e6) + "M"
                : String.format(Locale.ROOT, "%.1fB", params / 1e9);
        String weights = weightBytesByType.entrySet().stream().max(Map.Entry.comparingByValue())
                .map(e -> e.getKey() == GgmlType.F32 ? "all F32" : e.getKey().name()).orElse("?");
        return architecture + " " + size + " " + weights;
    }

    /** The CPU's model name from /proc/cpuinfo (Linux), or "" where there is none. */
    static String hostCpuName() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or not readable: llama-bench leaves the field empty too
        }
        return "";
    }
}
