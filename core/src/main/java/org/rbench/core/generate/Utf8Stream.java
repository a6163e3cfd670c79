package org.rbench.core.generate;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Turns token byte pieces into text as they come: a token may end in the middle of a
 * multi-byte UTF-8 character, so trailing incomplete bytes wait for the next piece.
 */
final class Utf8Stream {
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();

    /** Adds bytes, returns the newly completed text. */
    String append(byte[] bytes) {
        pending.writeBytes(bytes);
        byte[] all = pending.toByteArray();
        int complete = completePrefix(all);
        pending.reset();
        pending.write(all, complete, all.length - complete);
        return new String(all, 0, complete, StandardCharsets.UTF_8);
    }

    /** Length of the prefix that does not end inside a multi-byte sequence. */
    static int completePrefix(byte[] b) {
        int n = b.length;
        // Look back at most 3 bytes for the start of a sequence that is not finished.
        for (int back = 1; back <= Math.min(3, n); back++) {
            int c = b[n - back] & 0xFF;
            if ((c & 0xC0) == 0x80) {
                continue; // continuation byte: keep looking for the lead byte
            }
            int need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
            return need > back ? n - back : n;
        }
        return n;
    }
}
