import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.LlamaContext;
import org.rbench.llamacpp.LlamaModel;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Runs the exported GGUF in llama.cpp (libllama, CPU) for training/verify.py.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp 'harness/target/lib/*' training/VerifyGguf.java \
 *      argmax|greedy MODEL.gguf IN.txt OUT.txt [THREADS]
 * </pre>
 * IN.txt: one sequence of token ids per line (space-separated, BOS included where wanted);
 * for greedy the first number of a line is the generation budget. argmax writes, per line,
 * the argmax of llama_decode's logits at every position; greedy writes the ids generated
 * after the prompt until EOS or the budget.
 */
public final class VerifyGguf {
    public static void main(String[] args) throws IOException {
        String mode = args[0];
        Path model = Path.of(args[1]);
        List<int[]> lines = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of(args[2]))) {
            if (!line.isBlank()) {
                lines.add(Arrays.stream(line.trim().split("\\s+")).mapToInt(Integer::parseInt).toArray());
            }
        }
        int threads = args.length > 4 ? Integer.parseInt(args[4]) : Runtime.getRuntime().availableProcessors();
        int maxLen = lines.stream().mapToInt(a -> a.length).max().orElse(1) + 160;
        int ctxSize = (maxLen + 255) / 256 * 256;
        try (LlamaModel m = LlamaModel.load(model, LlamaModel.Options.full());
             LlamaContext ctx = new LlamaContext(m, new LlamaContext.Options(ctxSize, 512, threads, false, GgmlType.F32));
             PrintWriter out = new PrintWriter(Files.newBufferedWriter(Path.of(args[3])))) {
            int eos = m.vocabulary().eos();
            for (int[] seq : lines) {
                long t0 = System.nanoTime();
                ctx.reset();
                StringBuilder sb = new StringBuilder();
                if (mode.equals("argmax")) {
                    float[][] logits = ctx.decode(seq, true);
                    for (float[] row : logits) {
                        sb.append(argmax(row)).append(' ');
                    }
                } else {
                    int budget = seq[0];
                    int[] prompt = Arrays.copyOfRange(seq, 1, seq.length);
                    float[][] logits = ctx.decode(prompt, false);
                    for (int i = 0; i < budget; i++) {
                        int tok = argmax(logits[0]);
                        if (tok == eos) {
                            break;
                        }
                        sb.append(tok).append(' ');
                        logits = ctx.decode(new int[] {tok}, false);
                    }
                }
                out.println(sb.toString().trim());
                out.flush();
                System.err.printf("%s: %d tokens, %.1f s%n", mode, seq.length, (System.nanoTime() - t0) / 1e9);
            }
        }
    }

    private static int argmax(float[] row) {
        int best = 0;
        for (int i = 1; i < row.length; i++) {
            if (row[i] > row[best]) {
                best = i;
            }
        }
        return best;
    }
}
