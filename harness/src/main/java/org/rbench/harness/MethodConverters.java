package org.rbench.harness;

import org.rbench.harness.run.Method;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * picocli converters for options that take methods: the spec is parsed and validated while
 * the command line is read, and a bad one is a usage error that says what is wrong with it.
 */
final class MethodConverters {
    private MethodConverters() {
    }

    /** Any method, the llama.cpp reference included. */
    static final class Any implements ITypeConverter<Method> {
        @Override
        public Method convert(String value) {
            try {
                return Method.parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    /** Any method, or stock llama-bench (the program), which only rbench bench runs. */
    static final class Bench implements ITypeConverter<Method> {
        @Override
        public Method convert(String value) {
            try {
                return Method.parseForBench(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    /** A method the engine runs (refuses the llama.cpp reference); for commands that only run the engine. */
    static final class EngineOnly implements ITypeConverter<Method.EngineStrategy> {
        @Override
        public Method.EngineStrategy convert(String value) {
            try {
                return Method.parse(value).requireEngine("this command");
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }
}
