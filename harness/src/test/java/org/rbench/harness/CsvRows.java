package org.rbench.harness;

import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVRecord;

import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** A results CSV's rows as column maps, in file order, for tests. */
public final class CsvRows {
    private CsvRows() {
    }

    public static List<Map<String, String>> read(Path csv) throws Exception {
        List<Map<String, String>> out = new ArrayList<>();
        try (Reader r = Files.newBufferedReader(csv)) {
            for (CSVRecord rec : CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get().parse(r)) {
                out.add(rec.toMap());
            }
        }
        return out;
    }
}
