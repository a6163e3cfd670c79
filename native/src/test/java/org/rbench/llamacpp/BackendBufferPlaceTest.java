package org.rbench.llamacpp;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** A tensor placed in another's memory ({@link BackendBuffer#place}) reads and writes that memory, and only a fitting one is placed. */
class BackendBufferPlaceTest {
    @Test
    void aPlacedSliceSharesItsTensorsMemory() {
        LlamaCpp.initialise();
        try (Backend cpu = Backends.open("cpu", 1);
             GgmlContext whole = GgmlContext.forMetadata(1, 0);
             GgmlContext slices = GgmlContext.forMetadata(3, 0)) {
            Tensor all = whole.newTensor(GgmlType.F32, 2, 3, 1, 2); // two "layers" of 6 floats
            try (BackendBuffer buffer = BackendBuffer.allocate(whole, cpu)) {
                Tensor first = slices.newTensor(GgmlType.F32, 2, 3, 1);
                Tensor second = slices.newTensor(GgmlType.F32, 2, 3, 1);
                buffer.place(first, all, 0);
                buffer.place(second, all, all.nb(3));
                all.setFloats(new float[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
                assertArrayEquals(new float[] {6, 7, 8, 9, 10, 11}, second.getFloats());
                first.setFloats(new float[] {-1, -2, -3, -4, -5, -6});
                assertArrayEquals(new float[] {-1, -2, -3, -4, -5, -6, 6, 7, 8, 9, 10, 11}, all.getFloats());
                assertEquals(0, first.data().address() - all.data().address());
            }
        }
    }

    @Test
    void aSliceThatDoesNotFitIsRefused() {
        LlamaCpp.initialise();
        try (Backend cpu = Backends.open("cpu", 1);
             GgmlContext whole = GgmlContext.forMetadata(1, 0);
             GgmlContext slices = GgmlContext.forMetadata(4, 0)) {
            Tensor all = whole.newTensor(GgmlType.F32, 4, 2);
            try (BackendBuffer buffer = BackendBuffer.allocate(whole, cpu)) {
                Tensor row = slices.newTensor(GgmlType.F32, 4);
                assertThrows(IllegalArgumentException.class, () -> buffer.place(row, all, all.nb(1) + 4), "past the end");
                assertThrows(IllegalArgumentException.class, () -> buffer.place(row, all, -4), "before the start");
                assertThrows(IllegalArgumentException.class, () -> buffer.place(slices.newTensor(GgmlType.I32, 4), all, 0),
                        "another type");
                assertThrows(IllegalArgumentException.class, () -> buffer.placeSlices(slices, all, 0, "row"),
                        "slices along a dimension that is not the last");
                buffer.place(row, all, all.nb(1));
                assertThrows(IllegalArgumentException.class, () -> buffer.place(row, all, 0), "placed twice");
                try (GgmlContext other = GgmlContext.forMetadata(1, 0)) {
                    Tensor elsewhere = other.newTensor(GgmlType.F32, 4, 2);
                    try (BackendBuffer second = BackendBuffer.allocate(other, cpu)) {
                        assertThrows(IllegalArgumentException.class, () -> buffer.place(slices.newTensor(GgmlType.F32, 4),
                                elsewhere, 0), "in another buffer's tensor");
                    }
                }
            }
        }
    }
}
