package org.rbench.harness.results;

import java.util.List;

/** The results CSV columns, in file order (docs/CSV.md is the reference). */
public final class ResultColumns {
    private ResultColumns() {
    }

    public static final List<String> ALL = List.of(
            "run_id", "timestamp", "kind", "suite_commit", "llamacpp_version", "backend", "device", "threads",
            "model_file", "model_sha256", "method", "method_name", "seed", "task", "length", "sample_index",
            "metric", "score", "prediction", "answers", "prompt_tokens", "prefill_ms", "decode_ms_mean",
            "decode_ms_p50", "decode_ms_p90", "tokens_generated", "attended_rows_mean", "full_steps", "nll_sum",
            "tokens_scored", "attention_mass_recall", "kv_fill", "bound_speedup", "device_mem_used_mb",
            "answer_tokens", "answer_coverage_mean", "answer_coverage_min", "answer_coverage_min_step",
            "answer_mass_recall", "focus_layer", "focus_lost_step", "start_ms", "steps_queued_ahead",
            "flash_scores", "fa_tensor_core_from");

    /** The columns that identify one unit of work: a resumed run skips rows with a known key. */
    public static final List<String> KEY = List.of("kind", "model_sha256", "method", "seed", "task", "length", "sample_index");
}
