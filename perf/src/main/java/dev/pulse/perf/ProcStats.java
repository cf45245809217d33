package dev.pulse.perf;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** CPU time and memory of processes, from Linux {@code /proc} (zero where it is not available). */
final class ProcStats {

    /** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
    private static final double TICKS = 100.0;

    private ProcStats() {}

    /** utime + stime of {@code pid} in seconds; with {@code children}, plus its waited-for children (cutime + cstime). */
    static double cpuSeconds(long pid, boolean children) {
        String[] f = statFields(pid);
        if (f == null) {
            return 0;
        }
        // f[0] is field 3 (state): utime is field 14, stime 15, cutime 16, cstime 17.
        long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
        if (children) {
            ticks += Long.parseLong(f[13]) + Long.parseLong(f[14]);
        }
        return ticks / TICKS;
    }

    /** Parent pid of {@code pid}, or -1. */
    static long parent(long pid) {
        String[] f = statFields(pid);
        return f == null ? -1 : Long.parseLong(f[1]);
    }

    /** Fields from the state on (field 3 onwards), skipping the command name, which may contain spaces. */
    private static String[] statFields(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            return stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** Resident set size of {@code pid} in MiB (VmRSS). */
    static double rssMb(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("\\D", "")) / 1024.0;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or the process is gone
        }
        return 0;
    }

    /** A process and its live descendants (PostgreSQL: the postmaster and its backends). */
    static List<Long> withDescendants(long root) {
        List<Long> all = new ArrayList<>();
        all.add(root);
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            List<Long> pids = procs.map(p -> p.getFileName().toString()).filter(n -> n.chars().allMatch(Character::isDigit))
                .map(Long::parseLong).toList();
            boolean grew = true;
            while (grew) {
                grew = false;
                for (long pid : pids) {
                    if (!all.contains(pid) && all.contains(parent(pid))) {
                        all.add(pid);
                        grew = true;
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return all;
    }

    /** CPU seconds of a process tree: the root with its reaped children, plus every live descendant. */
    static double treeCpuSeconds(long root) {
        double total = 0;
        for (long pid : withDescendants(root)) {
            total += cpuSeconds(pid, pid == root);
        }
        return total;
    }

    /** Busy CPU seconds of the whole machine (all cores, everything but idle and iowait) since boot. */
    static double machineBusySeconds() {
        try {
            String cpu = Files.readAllLines(Path.of("/proc/stat")).get(0);
            String[] f = cpu.trim().split("\\s+");
            long busy = 0;
            for (int i = 1; i < f.length && i <= 8; i++) {
                if (i != 4 && i != 5) { // idle, iowait
                    busy += Long.parseLong(f[i]);
                }
            }
            return busy / TICKS;
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }
}
