package org.rbench.harness.history;

import org.rbench.analysis.NightlyMeasurement;
import org.rbench.analysis.TrendSeries;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The nightly history: an SQLite file (sqlite-jdbc, its native library inside the jar) with one
 * table, {@code nightly}, one row per (night, suite commit, machine, backend, model, method,
 * length, metric), the way llama.cpp's compare-llama-bench keeps llama-bench's results in SQL.
 * Any SQLite client reads it:
 * <pre>
 * sqlite3 history.sqlite "SELECT night, method, length, value FROM nightly WHERE metric = 'latency.ms_per_token'"
 * </pre>
 * Adding a row that is already there (the same night's file added again) replaces it. The
 * schema's version is SQLite's {@code user_version}; a file that is not this history (another
 * database, or not SQLite) is refused untouched.
 */
public final class HistoryDatabase implements AutoCloseable {
    /** The schema this version writes and reads. */
    static final int SCHEMA_VERSION = 1;

    static final String TABLE = "nightly";

    private static final String CREATE = """
            CREATE TABLE IF NOT EXISTS nightly (
              night TEXT NOT NULL,
              suite_commit TEXT NOT NULL,
              machine TEXT NOT NULL,
              backend TEXT NOT NULL,
              model TEXT NOT NULL,
              method TEXT NOT NULL,
              length INTEGER NOT NULL,
              metric TEXT NOT NULL,
              value REAL NOT NULL,
              stddev REAL,
              samples INTEGER NOT NULL,
              source TEXT NOT NULL,
              added_at TEXT NOT NULL,
              PRIMARY KEY (night, suite_commit, machine, backend, model, method, length, metric)
            )""";

    private final Path file;
    private final Connection connection;

    private HistoryDatabase(Path file, Connection connection) {
        this.file = file;
        this.connection = connection;
    }

    /** How many rows an {@link #add} wrote, and how many of them replaced a row added before. */
    public record Added(int rows, int replaced) {
    }

    /**
     * Opens the history, creating the file (and its folder) when {@code create} is set.
     *
     * @throws HistoryException when the file is missing (and not to be created), is not SQLite,
     *     or is another database
     */
    public static HistoryDatabase open(Path file, boolean create) throws HistoryException {
        if (!Files.exists(file)) {
            if (!create) {
                throw new HistoryException(file + ": no such history (rbench history add creates it)");
            }
            try {
                Path parent = file.toAbsolutePath().getParent();
                if (parent != null) {
                    Files.createDirectories(parent);
                }
            } catch (IOException e) {
                throw new HistoryException("cannot create the folder of " + file + ": " + e.getMessage(), e);
            }
        } else if (!Files.isRegularFile(file)) {
            throw new HistoryException(file + ": not a regular file");
        }
        Connection connection;
        try {
            connection = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
        } catch (SQLException e) {
            throw new HistoryException(file + ": cannot open: " + e.getMessage(), e);
        }
        try {
            checkOrCreateSchema(file, connection);
            return new HistoryDatabase(file, connection);
        } catch (HistoryException | RuntimeException e) {
            closeQuietly(connection);
            throw e;
        }
    }

    private static void checkOrCreateSchema(Path file, Connection connection) throws HistoryException {
        try (Statement st = connection.createStatement()) {
            int version;
            List<String> tables = new ArrayList<>();
            try (ResultSet rs = st.executeQuery("PRAGMA user_version")) {
                version = rs.getInt(1);
            }
            try (ResultSet rs = st.executeQuery("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")) {
                while (rs.next()) {
                    tables.add(rs.getString(1));
                }
            }
            if (version == 0 && tables.isEmpty()) {
                st.executeUpdate(CREATE);
                st.executeUpdate("PRAGMA user_version = " + SCHEMA_VERSION);
            } else if (version != SCHEMA_VERSION || !tables.contains(TABLE)) {
                throw new HistoryException(file + ": not an rbench history (schema version " + version + ", tables "
                        + tables + "; expected version " + SCHEMA_VERSION + " with table " + TABLE + ")");
            }
        } catch (SQLException e) {
            // "file is not a database" and the like: the file is left as it was
            throw new HistoryException(file + ": not an SQLite database (" + e.getMessage() + ")", e);
        }
    }

    /** Adds a night's rows in one transaction: all of them or, on an error, none. */
    public Added add(List<NightlyMeasurement> rows, String source) throws HistoryException {
        String exists = "SELECT 1 FROM nightly WHERE night = ? AND suite_commit = ? AND machine = ? AND backend = ?"
                + " AND model = ? AND method = ? AND length = ? AND metric = ?";
        String insert = "INSERT OR REPLACE INTO nightly (night, suite_commit, machine, backend, model, method, length,"
                + " metric, value, stddev, samples, source, added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
        String addedAt = Instant.now().toString();
        int replaced = 0;
        try {
            connection.setAutoCommit(false);
            try (PreparedStatement check = connection.prepareStatement(exists);
                 PreparedStatement put = connection.prepareStatement(insert)) {
                for (NightlyMeasurement m : rows) {
                    bindKey(check, m);
                    try (ResultSet rs = check.executeQuery()) {
                        if (rs.next()) {
                            replaced++;
                        }
                    }
                    bindKey(put, m);
                    put.setDouble(9, m.value());
                    if (Double.isFinite(m.stddev())) {
                        put.setDouble(10, m.stddev());
                    } else {
                        put.setNull(10, Types.REAL);
                    }
                    put.setInt(11, m.samples());
                    put.setString(12, source);
                    put.setString(13, addedAt);
                    put.executeUpdate();
                }
            }
            connection.commit();
            return new Added(rows.size(), replaced);
        } catch (SQLException e) {
            try {
                connection.rollback();
            } catch (SQLException ignored) {
                // the connection is gone; nothing was committed
            }
            throw new HistoryException(file + ": cannot add rows: " + e.getMessage(), e);
        } finally {
            try {
                connection.setAutoCommit(true);
            } catch (SQLException ignored) {
                // closing follows
            }
        }
    }

    private static void bindKey(PreparedStatement st, NightlyMeasurement m) throws SQLException {
        TrendSeries s = m.series();
        st.setString(1, m.night());
        st.setString(2, m.suiteCommit());
        st.setString(3, s.machine());
        st.setString(4, s.backend());
        st.setString(5, s.model());
        st.setString(6, s.method());
        st.setInt(7, s.length());
        st.setString(8, s.metric());
    }

    /** Every row, in the order it was added (rowid): what {@link org.rbench.analysis.NightlyHistory} reads. */
    public List<NightlyMeasurement> all() throws HistoryException {
        List<NightlyMeasurement> rows = new ArrayList<>();
        try (Statement st = connection.createStatement();
             ResultSet rs = st.executeQuery("SELECT night, suite_commit, machine, backend, model, method, length, metric,"
                     + " value, stddev, samples FROM nightly ORDER BY rowid")) {
            while (rs.next()) {
                double stddev = rs.getDouble(10);
                if (rs.wasNull()) {
                    stddev = Double.NaN;
                }
                rows.add(new NightlyMeasurement(rs.getString(1), rs.getString(2),
                        new TrendSeries(rs.getString(3), rs.getString(4), rs.getString(5), rs.getString(6), rs.getInt(7),
                                rs.getString(8)), rs.getDouble(9), stddev, rs.getInt(11)));
            }
        } catch (SQLException e) {
            throw new HistoryException(file + ": cannot read: " + e.getMessage(), e);
        }
        return rows;
    }

    public Path file() {
        return file;
    }

    @Override
    public void close() {
        closeQuietly(connection);
    }

    private static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException ignored) {
            // nothing left to release
        }
    }
}
