import hub.BpfObject;
import hub.Json;
import hub.LoaderError;
import hub.Options;
import hub.Stop;
import java.io.IOException;
import java.io.Reader;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.Yaml;

/**
 * {{name}}: the user-space side, in Java over libbpf (JNA). Loads build/{{name}}.bpf.o
 * (`ebpf-hub build ..` makes it), sets its parameters, attaches every program, and prints each
 * event and, every interval, the output maps ebpf-hub.yaml lists, as JSON lines, until Ctrl-C,
 * SIGTERM or -d SECONDS. This file is yours to change.
 */
public final class Main {
    private Main() {}

    static void emit(Object record) {
        System.out.println(Json.of(record));
    }

    public static void main(String[] args) throws IOException, InterruptedException {
        try {
            run(Options.parse(args));
        } catch (LoaderError e) {
            System.err.println("{{name}}: " + e.getMessage());
            System.exit(1);
        }
    }

    static void run(Options options) throws IOException, InterruptedException {
        Path pkg = packageDirectory();
        Map<String, Object> output = manifestOutput(pkg.resolve("ebpf-hub.yaml"));
        List<String> maps = new ArrayList<>();
        if (output.get("maps") instanceof List<?> listed) {
            for (Object entry : listed) {
                if (entry instanceof Map<?, ?> map) {
                    maps.add(String.valueOf(map.get("map")));
                }
            }
        }
        Stop stop = Stop.after(options.duration());
        try (BpfObject obj = BpfObject.open(pkg.resolve("build/{{name}}.bpf.o").toString())) {
            options.params().forEach(obj::setParameter);
            obj.load();
            obj.attachAll(options.ifindex());
            BpfObject.Poller events = Boolean.TRUE.equals(output.get("events"))
                    ? obj.events("events", Main::emit) : null;
            long interval = (long) (options.interval() * 1e9);
            long next = System.nanoTime() + interval;
            while (!stop.stopped()) {
                if (events != null) {
                    events.poll(100);
                } else {
                    Thread.sleep(100);
                }
                if (System.nanoTime() >= next) {
                    showMaps(obj, maps);
                    next += interval;
                }
            }
            showMaps(obj, maps);
        } finally {
            System.out.flush();
            stop.finished();
        }
    }

    static void showMaps(BpfObject obj, List<String> maps) {
        for (String map : maps) {
            for (Map.Entry<Object, Object> entry : obj.entries(map)) {
                Map<String, Object> record = new LinkedHashMap<>();
                record.put("map", map);
                record.put("key", entry.getKey());
                record.put("value", entry.getValue());
                emit(record);
            }
        }
    }

    /** The package: this class runs from java/classes/. */
    static Path packageDirectory() {
        try {
            Path classes = Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation()
                    .toURI());
            return classes.getParent().getParent();
        } catch (URISyntaxException e) {
            throw new LoaderError("cannot find the package directory: " + e.getMessage());
        }
    }

    /** The `output` section of the manifest: `events: true` and the `maps` to print. */
    static Map<String, Object> manifestOutput(Path manifest) throws IOException {
        try (Reader reader = Files.newBufferedReader(manifest)) {
            if (new Yaml().load(reader) instanceof Map<?, ?> top
                    && top.get("output") instanceof Map<?, ?> output) {
                Map<String, Object> found = new LinkedHashMap<>();
                output.forEach((k, v) -> found.put(String.valueOf(k), v));
                return found;
            }
        }
        return Map.of();
    }
}
