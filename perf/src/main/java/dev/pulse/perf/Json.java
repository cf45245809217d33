package dev.pulse.perf;

import java.util.Locale;

/** A flat JSON object, in insertion order; {@link #putRaw} nests JSON that is already written. */
final class Json {

    private final StringBuilder out = new StringBuilder("{");

    Json put(String key, Object value) {
        key(key);
        if (value == null) {
            out.append("null");
        } else if (value instanceof Number number) {
            double d = number.doubleValue();
            out.append(d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : String.format(Locale.ROOT, "%s", d));
        } else if (value instanceof Boolean bool) {
            out.append(bool);
        } else {
            out.append(quote(String.valueOf(value)));
        }
        return this;
    }

    /** {@code value} is written as it is: a JSON object, array or literal. */
    Json putRaw(String key, String json) {
        key(key);
        out.append(json);
        return this;
    }

    private void key(String key) {
        if (out.length() > 1) {
            out.append(',');
        }
        out.append(quote(key)).append(':');
    }

    static String quote(String s) {
        return '"' + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + '"';
    }

    @Override
    public String toString() {
        return out + "}";
    }
}
