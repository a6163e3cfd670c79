package org.rbench.harness.results;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** A results CSV's bytes: where its last complete record ends, and its text, checked to be UTF-8. */
final class CsvText {
    private CsvText() {
    }

    /**
     * The length of the file up to the end of its last complete record. Quote-aware: a
     * prediction may hold newlines inside a quoted field, so a record ends only at a newline
     * outside quotes (an escaped quote "" toggles twice and leaves the state unchanged).
     * Anything after it is a record torn by a killed writer.
     */
    static int completeLength(byte[] bytes, int length) {
        boolean inQuotes = false;
        int lastEnd = 0;
        for (int i = 0; i < length; i++) {
            if (bytes[i] == '"') {
                inQuotes = !inQuotes;
            } else if (bytes[i] == '\n' && !inQuotes) {
                lastEnd = i + 1;
            }
        }
        return lastEnd;
    }

    /**
     * The first {@code length} bytes as UTF-8 text, or an IOException naming the file and the
     * first byte that is not UTF-8 (the JDK's own message is only "Input length = 1").
     */
    static String utf8(Path file, byte[] bytes, int length) throws IOException {
        ByteBuffer in = ByteBuffer.wrap(bytes, 0, length);
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(in).toString();
        } catch (MalformedInputException e) {
            throw new IOException(file + " is not a results CSV: byte " + in.position() + " is not UTF-8 text"
                    + " (a binary file, or another encoding?)", e);
        } catch (CharacterCodingException e) {
            throw new IOException(file + " is not a results CSV: it is not UTF-8 text", e);
        }
    }
}
