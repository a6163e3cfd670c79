package org.rbench.core.generate;

/** Why generation ended. */
public enum StopReason {
    END_OF_GENERATION, STOP_STRING, TOKEN_LIMIT, CONTEXT_FULL
}
