package org.rbench.datasets;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;

/**
 * Writes samples as JSONL, one object per line, in the reference's field order
 * ({@code index, input, outputs, length, answer_prefix}) followed by
 * {@code task, seed, target_length, tokens_to_generate, metric, answer_spans} (the
 * {@link Sample#answerSpans() answer spans} as {@code [start, end)} pairs of Unicode code
 * points of {@code input}, as Python indexes a str); and, for training, as token ids
 * ({@code input_ids}: the prompt with its answer prefix; {@code output_ids}: the
 * {@link Sample#referenceCompletion() reference completion}; {@code answer_token_spans}: the
 * answer spans as {@code [start, end)} pairs of indices into {@code input_ids}). UTF-8, '\n'
 * line ends, no timestamps: the same samples give byte-identical files.
 */
public final class SampleWriter {

    private static final JsonFactory JSON = new JsonFactory();

    private SampleWriter() {
    }

    /** Writes the samples' JSONL to {@code file}, replacing it. */
    public static void writeSamples(List<Sample> samples, Path file) {
        write(file, out -> {
            for (Sample sample : samples) {
                writeSample(sample, out);
            }
        });
    }

    /** Writes one sample as one line. */
    public static void writeSample(Sample sample, OutputStream out) throws IOException {
        try (JsonGenerator json = JSON.createGenerator(out, JsonEncoding.UTF8)) {
            json.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
            json.writeStartObject();
            json.writeNumberField("index", sample.index());
            json.writeStringField("input", sample.input());
            json.writeArrayFieldStart("outputs");
            for (String output : sample.outputs()) {
                json.writeString(output);
            }
            json.writeEndArray();
            json.writeNumberField("length", sample.length());
            json.writeStringField("answer_prefix", sample.answerPrefix());
            json.writeStringField("task", sample.task().id());
            json.writeNumberField("seed", sample.seed());
            json.writeNumberField("target_length", sample.targetLength());
            json.writeNumberField("tokens_to_generate", sample.tokensToGenerate());
            json.writeStringField("metric", sample.metric().id());
            json.writeArrayFieldStart("answer_spans");
            CodePoints codePoints = new CodePoints(sample.input());
            for (Span span : sample.answerSpans()) {
                // code points, not UTF-16 units: what a JSON reader's string indexes count
                writePair(json, codePoints.at(span.start()), codePoints.at(span.end()));
            }
            json.writeEndArray();
            json.writeEndObject();
        }
        out.write('\n');
    }

    /** Writes the samples' token ids as JSONL to {@code file}, replacing it. */
    public static void writeTokenIds(List<Sample> samples, Tokenizer tokenizer, Path file) {
        write(file, out -> {
            for (Sample sample : samples) {
                try (JsonGenerator json = JSON.createGenerator(out, JsonEncoding.UTF8)) {
                    json.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
                    json.writeStartObject();
                    json.writeNumberField("index", sample.index());
                    json.writeStringField("task", sample.task().id());
                    json.writeNumberField("seed", sample.seed());
                    json.writeNumberField("length", sample.length());
                    PromptTokens prompt = PromptTokens.of(sample, tokenizer);
                    writeIds(json, "input_ids", prompt.ids());
                    writeIds(json, "output_ids", tokenizer.encode(sample.referenceCompletion()));
                    json.writeArrayFieldStart("answer_token_spans");
                    for (Span span : prompt.answerSpans()) {
                        writePair(json, span.start(), span.end());
                    }
                    json.writeEndArray();
                    json.writeEndObject();
                }
                out.write('\n');
            }
        });
    }

    private static void writePair(JsonGenerator json, int start, int end) throws IOException {
        json.writeStartArray();
        json.writeNumber(start);
        json.writeNumber(end);
        json.writeEndArray();
    }

    private static void writeIds(JsonGenerator json, String field, int[] ids) throws IOException {
        json.writeFieldName(field);
        json.writeArray(ids, 0, ids.length);
    }

    /** Code points before a UTF-16 index, counted on from the last index asked (spans come in text order). */
    private static final class CodePoints {
        private final String text;
        private int index;
        private int count;

        CodePoints(String text) {
            this.text = text;
        }

        int at(int utf16Index) {
            if (utf16Index < index) {
                index = 0;
                count = 0;
            }
            count += text.codePointCount(index, utf16Index);
            index = utf16Index;
            return count;
        }
    }

    private interface Body {
        void write(OutputStream out) throws IOException;
    }

    private static void write(Path file, Body body) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 1 << 16)) {
                body.write(out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }
}
