package org.rbench.harness;

import org.rbench.harness.run.CpuThreads;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/** {@code --threads N}, the same in every command that computes on the CPU (default, check, warning: {@link CpuThreads}). */
final class ThreadsOption {
    @Option(names = "--threads", paramLabel = "N", converter = Count.class, description = CpuThreads.DESCRIPTION)
    int count = CpuThreads.defaultCount();

    /** Refuses counts below 1 as a usage error; warns, once, when the count exceeds the cores. */
    static final class Count implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            int n;
            try {
                n = Integer.parseInt(value.strip());
            } catch (NumberFormatException e) {
                throw new TypeConversionException("'" + value + "' is not a whole number");
            }
            CpuThreads.invalid(n).ifPresent(why -> {
                throw new TypeConversionException(why);
            });
            CpuThreads.warnIfOversubscribed(n, System.err);
            return n;
        }
    }
}
