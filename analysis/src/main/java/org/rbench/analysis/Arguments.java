package org.rbench.analysis;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A minimal command-line parser for the analysis commands: positional arguments and
 * {@code --name value} / {@code --name=value} options. {@code --} ends the options;
 * {@code -h}/{@code --help} asks for usage. Anything else starting with "--" is an error rather
 * than a silently ignored typo, which matters for a CI gate's thresholds.
 */
final class Arguments {
    private final List<String> positional;
    private final Map<String, String> options;
    private final boolean help;

    private Arguments(List<String> positional, Map<String, String> options, boolean help) {
        this.positional = positional;
        this.options = options;
        this.help = help;
    }

    /** @param valueOptions option names (without "--") that take a value */
    static Arguments parse(String[] args, Set<String> valueOptions) throws UsageException {
        List<String> positional = new ArrayList<>();
        Map<String, String> options = new HashMap<>();
        boolean help = false;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (arg.equals("--")) {
                positional.addAll(List.of(args).subList(i + 1, args.length));
                break;
            }
            if (arg.equals("-h") || arg.equals("--help")) {
                help = true;
            } else if (arg.startsWith("--")) {
                int eq = arg.indexOf('=');
                String name = eq < 0 ? arg.substring(2) : arg.substring(2, eq);
                if (!valueOptions.contains(name)) {
                    throw new UsageException("unknown option --" + name);
                }
                String value;
                if (eq >= 0) {
                    value = arg.substring(eq + 1);
                } else if (i + 1 < args.length) {
                    value = args[++i];
                } else {
                    throw new UsageException("option --" + name + " needs a value");
                }
                options.put(name, value);
            } else {
                positional.add(arg);
            }
        }
        return new Arguments(List.copyOf(positional), Map.copyOf(options), help);
    }

    boolean help() {
        return help;
    }

    List<String> positional() {
        return positional;
    }

    /** The option's value, or null when it was not given. */
    String option(String name) {
        return options.get(name);
    }

    int intOption(String name, int fallback, int min) throws UsageException {
        String value = options.get(name);
        if (value == null) {
            return fallback;
        }
        try {
            int parsed = Integer.parseInt(value.trim());
            if (parsed < min) {
                throw new UsageException("--" + name + " must be at least " + min + ", got " + value);
            }
            return parsed;
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " expects an integer, got '" + value + "'");
        }
    }

    long longOption(String name, long fallback) throws UsageException {
        String value = options.get(name);
        if (value == null) {
            return fallback;
        }
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " expects an integer, got '" + value + "'");
        }
    }

    /** A number in [min, max]. */
    double doubleOption(String name, double fallback, double min, double max) throws UsageException {
        String value = options.get(name);
        if (value == null) {
            return fallback;
        }
        double parsed;
        try {
            parsed = Double.parseDouble(value.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " expects a number, got '" + value + "'");
        }
        if (!(parsed >= min && parsed <= max)) {
            throw new UsageException("--" + name + " must be between " + plain(min) + " and " + plain(max)
                    + ", got " + value);
        }
        return parsed;
    }

    private static String plain(double v) {
        if (Double.isInfinite(v)) {
            return "infinity";
        }
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }
}
