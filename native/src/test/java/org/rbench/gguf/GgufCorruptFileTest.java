package org.rbench.gguf;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Corrupt and truncated files give a GgufFormatException that says what is wrong and where. */
class GgufCorruptFileTest {
    @TempDir
    Path dir;
    byte[] good;

    @BeforeEach
    void writeGoodFile() throws Exception {
        Path f = dir.resolve("good.gguf");
        new GgufWriter().putString("general.architecture", "llama")
                .addTensor("w", new long[] {8, 4}, new float[32]).write(f);
        good = Files.readAllBytes(f);
    }

    private String failure(byte[] bytes) throws Exception {
        Path f = dir.resolve("bad.gguf");
        Files.write(f, bytes);
        GgufFormatException e = assertThrows(GgufFormatException.class, () -> GgufFile.open(f).close());
        return e.getMessage();
    }

    @Test
    void wrongMagic() throws Exception {
        byte[] b = good.clone();
        b[0] = 'X';
        assertTrue(failure(b).contains("not a GGUF file"));
    }

    @Test
    void truncatedInTheData() throws Exception {
        String m = failure(Arrays.copyOf(good, good.length - 10));
        assertTrue(m.contains("outside the file") && m.contains("truncated"), m);
    }

    @Test
    void truncatedInTheHeader() throws Exception {
        String m = failure(Arrays.copyOf(good, 40));
        assertTrue(m.contains("truncated"), m);
    }

    @Test
    void emptyFile() throws Exception {
        assertTrue(failure(new byte[0]).contains("too short"));
    }

    @Test
    void unsupportedVersion() throws Exception {
        byte[] b = good.clone();
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(4, 99);
        assertTrue(failure(b).contains("unsupported GGUF version 99"));
    }

    @Test
    void implausibleCounts() throws Exception {
        byte[] b = good.clone();
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(16, Long.MAX_VALUE / 2);
        assertTrue(failure(b).contains("implausible counts"));
    }

    @Test
    void unknownTensorType() throws Exception {
        byte[] b = good.clone();
        // the tensor type sits 12 bytes before the end of the tensor info (u32 type, u64 offset)
        int infoEnd = indexOf(b, "w".getBytes()) + 1 + 4 + 16;
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(infoEnd, 77);
        assertTrue(failure(b).contains("unsupported ggml type id 77"), failure(b));
    }

    @Test
    void dimensionsWhoseProductOverflowsNameTheTensorAndWhy() throws Exception {
        byte[] b = good.clone();
        // the two u64 dimensions follow the name and the u32 dimension count
        int dims = indexOf(b, "w".getBytes()) + 1 + 4;
        ByteBuffer buf = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(dims, 1L << 40);
        buf.putLong(dims + 8, 1L << 40);
        String m = failure(b);
        assertTrue(m.contains("tensor 'w'") && m.contains("[1099511627776, 1099511627776]")
                && m.contains("more bytes than a file can hold"), m);
    }

    @Test
    void controlBytesInAKeyAreEscapedInMessages() throws Exception {
        Path f = dir.resolve("keys.gguf");
        new GgufWriter().putString("general.architecture", "llama").putU32("bad\u0001key\u001b[2J", 7)
                .addTensor("w", new long[] {8, 4}, new float[32]).write(f);
        byte[] b = Files.readAllBytes(f);
        // the u32 type id of the second key follows its name
        int type = endOfString(b, "bad\u0001key\u001b[2J");
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(type, 99);
        String m = failure(b);
        assertTrue(m.contains("unknown metadata type 99 for key 'bad\\x01key\\x1b[2J'"), m);
        assertTrue(m.chars().noneMatch(c -> c < 0x20), "no raw control byte in: " + m);
    }

    @Test
    void aDirectoryIsNamedAsOne() {
        GgufFormatException e = assertThrows(GgufFormatException.class, () -> GgufFile.open(dir));
        assertTrue(e.getMessage().equals(dir + " is a directory, not a GGUF file"), e.getMessage());
    }

    @Test
    void missingFile() {
        assertThrows(NoSuchFileException.class, () -> GgufFile.open(dir.resolve("nope.gguf")));
    }

    /** The offset just past the (ASCII) string {@code s} in the file. */
    private static int endOfString(byte[] hay, String s) {
        byte[] needle = s.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        for (int i = 0; i + needle.length <= hay.length; i++) {
            if (Arrays.equals(hay, i, i + needle.length, needle, 0, needle.length)) {
                return i + needle.length;
            }
        }
        throw new AssertionError("string not found: " + s);
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        // the tensor name "w" preceded by its u64 length 1
        for (int i = 8; i < hay.length; i++) {
            if (hay[i] == needle[0] && hay[i - 8] == 1 && hay[i - 7] == 0) {
                return i;
            }
        }
        throw new AssertionError("tensor name not found");
    }
}
